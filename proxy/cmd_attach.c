// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `colo-proxy attach`: put the XDP datapath on the interfaces of one
 * instance and run its comparator (primary host) or wait (secondary host)
 * until SIGINT/SIGTERM, then take everything down again.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "attach.h"
#include "engine.h"
#include "live.h"
#include "log.h"

#define COLO_XSTR_(x)	#x
#define COLO_XSTR(x)	COLO_XSTR_(x)

/* --- option values --- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char sep[5], end;
	int i;

	if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep[0], &b[1],
		   &sep[1], &b[2], &sep[2], &b[3], &sep[3], &b[4], &sep[4],
		   &b[5], &end) != 11 || strlen(s) != 17)
		goto bad;
	for (i = 0; i < 5; i++)
		if (sep[i] != ':' && sep[i] != '-')
			goto bad;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	if (mac[0] & 1) {
		pr_err("--vm-mac %s is a multicast/broadcast address; give the VM's unicast MAC",
		       s);
		return -EINVAL;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		pr_err("--vm-mac %s is all zero; give the VM's MAC", s);
		return -EINVAL;
	}
	return 0;
bad:
	pr_err("--vm-mac '%s' is not a MAC address; write six hex bytes like 52:54:00:12:34:56",
	       s);
	return -EINVAL;
}

int colo_parse_uint(const char *opt, const char *s, unsigned long min,
		    unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || v < min || v > max) {
		pr_err("--%s '%s' must be a whole number from %lu to %lu", opt,
		       s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_mode(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "skb") || !strcmp(s, "generic"))
		*mode = XDP_MODE_SKB;
	else {
		pr_err("--mode '%s': use native (in the driver) or skb (generic, works on any device)",
		       s);
		return -EINVAL;
	}
	return 0;
}

static int parse_role(const char *s, unsigned int *role)
{
	if (!strcmp(s, "primary"))
		*role = COLO_ROLE_PRIMARY;
	else if (!strcmp(s, "secondary"))
		*role = COLO_ROLE_SECONDARY;
	else {
		pr_err("--role '%s': use primary (PVM host, runs the comparator) or secondary (SVM host of the two-host layout)",
		       s);
		return -EINVAL;
	}
	return 0;
}

/* --- interfaces --- */

static int if_flags(const char *ifname, short *flags)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	else
		*flags = ifr.ifr_flags;
	close(fd);
	return err;
}

/* Receive queues of ifname per ethtool, 0 when the driver does not say. */
static unsigned int if_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	unsigned int n = 0;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		n = ch.rx_count + ch.combined_count;
	close(fd);
	return n;
}

static int resolve_if(struct colo_attach_opts *o, int ifindex[], enum colo_if i)
{
	const char *name = o->ifname[i];
	short flags = 0;
	int j;

	if (!name)
		return 0;
	if (strlen(name) >= IF_NAMESIZE || !(ifindex[i] = if_nametoindex(name))) {
		pr_err("--%s %s: no such interface in this network namespace (see 'ip link')",
		       colo_if_opt(i), name);
		return -ENODEV;
	}
	for (j = 0; j < (int)i; j++)
		if (ifindex[j] == ifindex[i]) {
			pr_err("--%s and --%s both name %s; each role needs its own interface",
			       colo_if_opt(j), colo_if_opt(i), name);
			return -EINVAL;
		}
	if (!if_flags(name, &flags)) {
		if (flags & IFF_LOOPBACK) {
			pr_err("--%s %s is the loopback interface; give an Ethernet device, veth or tap",
			       colo_if_opt(i), name);
			return -EINVAL;
		}
		if (!(flags & IFF_UP))
			pr_warn("%s (--%s) is down; nothing flows until 'ip link set dev %s up'",
				name, colo_if_opt(i), name);
	}
	return 0;
}

static int check_queue(const struct colo_attach_opts *o, enum colo_if i)
{
	const char *name = o->ifname[i];
	unsigned int n = if_rx_queues(name);

	if (n && o->queue >= n) {
		pr_err("--queue %u: %s has %u receive queue%s (numbered from 0; see 'ethtool -l %s')",
		       o->queue, name, n, n == 1 ? "" : "s", name);
		return -EINVAL;
	}
	if (n > 1)
		pr_warn("%s has %u receive queues but only queue %u is read: output on the others is lost; run 'ethtool -L %s combined 1' or steer the VM's traffic to queue %u",
			name, n, o->queue, name, o->queue);
	return 0;
}

static int check_roles(const struct colo_attach_opts *o)
{
	const char *const *n = o->ifname;

	if (o->role == COLO_ROLE_SECONDARY) {
		if (n[COLO_IF_PVM]) {
			pr_err("attach --role secondary takes no --pvm: the PVM runs on the primary host");
			return -EINVAL;
		}
		if (!o->ck.no_datapath && (!n[COLO_IF_SVM] || !n[COLO_IF_LINK])) {
			pr_err("attach --role secondary needs --svm IF (the SVM's tap) and --link IF (the replication link); in the single-host layout give --no-datapath instead");
			return -EINVAL;
		}
		return 0;
	}
	if (!n[COLO_IF_CLIENT] || !n[COLO_IF_PVM]) {
		pr_err("attach needs --client IF (client-facing NIC) and --pvm IF (the PVM's tap)");
		return -EINVAL;
	}
	if (!n[COLO_IF_SVM] == !n[COLO_IF_LINK]) {
		pr_err("attach needs exactly one of --svm IF (single-host layout: the SVM's tap) or --link IF (two-host layout: the replication link)");
		return -EINVAL;
	}
	return 0;
}

static void warn_unused(const struct colo_attach_opts *o)
{
	if (o->pcap_out || o->timeout_ns || o->queue || o->no_rewrite)
		pr_warn("--pcap-out, --timeout, --queue and --no-rewrite concern the comparator on the primary host; ignored with --role secondary");
}

static int validate(struct colo_attach_opts *o, int ifindex[])
{
	int i, err;

	if (!o->instance) {
		pr_err("attach needs --instance NAME (names the pin root %s/NAME)",
		       COLO_PIN_ROOT);
		return -EINVAL;
	}
	err = colo_inst_name_check(o->instance);
	if (!err)
		err = check_roles(o);
	for (i = 0; i < COLO_IF_MAX && !err; i++)
		err = resolve_if(o, ifindex, i);
	if (!err && o->role == COLO_ROLE_SECONDARY)
		warn_unused(o);
	if (err || o->role != COLO_ROLE_PRIMARY)
		return err;
	err = check_queue(o, COLO_IF_PVM);
	if (!err)
		err = check_queue(o, o->ifname[COLO_IF_SVM] ? COLO_IF_SVM : COLO_IF_LINK);
	return err;
}

/* --- report --- */

static void report_if(const struct colo_attach *a, enum colo_if i)
{
	const struct colo_xdp_info *x = &a->xdp[i];

	if (!a->ifindex[i])
		return;
	if (!a->attached[i]) {
		printf("  %-7s %-15s ifindex %-4d (recorded, nothing attached)\n",
		       colo_if_opt(i), a->opt.ifname[i], a->ifindex[i]);
		return;
	}
	printf("  %-7s %-15s ifindex %-4d %-17s prog %-5u %-6s %s\n",
	       colo_if_opt(i), a->opt.ifname[i], a->ifindex[i],
	       colo_prog_name(a->prog[i]), x->our_id, colo_xdp_mode_name(x->mode),
	       x->dispatcher ? "libxdp dispatcher" : "single program");
}

static void report_ckpt(const struct colo_attach_opts *o)
{
	const struct colo_policy_cfg *p = &o->ck.policy;

	printf("  checkpoint loop: driver %s, vm %s, %s %s, heartbeat %llu ms, timeout %llu ms\n",
	       o->ck.drv->name, o->ck.vm, o->ck.listen ? "listening on" :
	       "primary's proxy at", o->ck.listen ? o->ck.listen : o->ck.peer,
	       (unsigned long long)(o->ck.heartbeat_ns / NSEC_PER_MSEC_U64),
	       (unsigned long long)(o->ck.heartbeat_timeout_ns / NSEC_PER_MSEC_U64));
	if (o->role != COLO_ROLE_PRIMARY)
		return;
	printf("  checkpoint mode %s: ", colo_mode_name(p->mode));
	if (p->mode == COLO_MODE_PERIODIC)
		printf("every %llu ms, output held until acknowledged\n",
		       (unsigned long long)(p->period_ns / NSEC_PER_MSEC_U64));
	else
		printf("on divergence, at least %llu ms apart, at most %llu ms apart",
		       (unsigned long long)(p->min_gap_ns / NSEC_PER_MSEC_U64),
		       (unsigned long long)(p->max_interval_ns / NSEC_PER_MSEC_U64));
	if (p->mode == COLO_MODE_ADAPTIVE)
		printf("; periodic (every %llu ms) above %u per %llu ms, back at most %u for %llu ms",
		       (unsigned long long)(p->period_ns / NSEC_PER_MSEC_U64),
		       p->high, (unsigned long long)(p->window_ns / NSEC_PER_MSEC_U64),
		       p->low, (unsigned long long)(p->calm_ns / NSEC_PER_MSEC_U64));
	if (p->mode != COLO_MODE_PERIODIC)
		putchar('\n');
}

static void report(const struct colo_attach *a)
{
	const char *reason = colo_xdp_fallback_reason();
	int i, fallback = 0;

	printf("instance %s attached (pid %d), role %s, %s layout\n",
	       a->inst.name, (int)getpid(),
	       a->opt.role == COLO_ROLE_PRIMARY ? "primary" : "secondary",
	       a->ifindex[COLO_IF_LINK] ? "two-host" : "single-host");
	for (i = 0; i < COLO_IF_MAX; i++) {
		report_if(a, i);
		if (a->attached[i] && !a->xdp[i].dispatcher)
			fallback = 1;
	}
	if (fallback)
		printf("  note: libxdp could not use its multi-program dispatcher%s%s%s; each interface runs one plain XDP program and no other program can share it\n",
		       reason[0] ? " (" : "", reason, reason[0] ? ")" : "");
	for (i = 0; i < 2 && a->opt.role == COLO_ROLE_PRIMARY; i++)
		printf("  AF_XDP  %-15s queue %u, copy mode -> %s\n",
		       a->opt.ifname[a->xsk_if[i]], a->opt.queue,
		       i ? "secondary" : "primary");
	if (a->opt.role == COLO_ROLE_PRIMARY)
		printf("  released frames leave through %s\n",
		       a->opt.ifname[COLO_IF_CLIENT]);
	if (a->opt.ck.no_datapath)
		printf("  no datapath on this host (--no-datapath): protocol and VM driver only\n");
	if (a->opt.ckpt)
		report_ckpt(&a->opt);
	printf("maps pinned under %s; stop with SIGINT/SIGTERM or 'colo-proxy detach --instance %s'\n",
	       a->inst.path, a->inst.name);
	fflush(stdout);
}

static void report_end(const struct colo_attach *a)
{
	const struct colo_loop *l = &a->loop;
	const struct colo_engine_stats *s;

	if (!a->loop_ready)
		return;
	s = colo_engine__stats(l->engine);
	pr_info("comparator: %" PRIu64 " + %" PRIu64 " frames in, %" PRIu64 " released, %" PRIu64 " divergences, %" PRIu64 " frames sent, %" PRIu64 " send errors, %" PRIu64 " frames lost",
		s->pushed[COLO_PRIMARY], s->pushed[COLO_SECONDARY],
		s->released + s->flushed_released, s->checkpoints,
		l->tx_frames, l->tx_errors, l->lost);
}

/* --- the command --- */

/* Block the signals that stop us and read them from a signalfd, from the
 * very start: a SIGTERM during setup then still ends in a clean teardown. */
static int signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int pending_stop(int sig_fd)
{
	struct signalfd_siginfo si;
	sigset_t set;

	sigpending(&set);
	if (!sigismember(&set, SIGINT) && !sigismember(&set, SIGTERM) &&
	    !sigismember(&set, SIGHUP))
		return 0;
	return read(sig_fd, &si, sizeof(si)) == sizeof(si);
}

static int attach_run(struct colo_attach_opts *o)
{
	int ifindex[COLO_IF_MAX] = { 0 };
	struct colo_attach *a;
	int sig_fd, err, i;

	if (validate(o, ifindex))
		return COLO_EXIT_USAGE;
	sig_fd = signals_fd();
	if (sig_fd < 0) {
		pr_err("cannot set up signal handling: %s", strerror(-sig_fd));
		return COLO_EXIT_FAILED;
	}
	a = malloc(sizeof(*a));
	if (!a) {
		pr_err("out of memory");
		close(sig_fd);
		return COLO_EXIT_FAILED;
	}
	colo_bpf_log_init();
	colo_attach__init(a, o, sig_fd);
	for (i = 0; i < COLO_IF_MAX; i++)
		a->ifindex[i] = ifindex[i];
	err = colo_attach__setup(a);
	if (!err && pending_stop(sig_fd))
		pr_info("stopped during setup");
	else if (!err) {
		report(a);
		err = colo_attach__serve(a);
		report_end(a);
	}
	colo_attach__teardown(a);
	if (!err)
		pr_info("instance %s detached", o->instance);
	free(a);
	close(sig_fd);
	return err ? COLO_EXIT_FAILED : COLO_EXIT_OK;
}

/* One option into o: 0, -EINVAL (message printed). */
static int attach_opt(struct colo_attach_opts *o, int opt, const char *arg)
{
	unsigned long v = 0;
	int err = 0;

	switch (opt) {
	case 'i':
		o->instance = arg;
		break;
	case 'r':
		return parse_role(arg, &o->role);
	case 'm':
		return parse_mac(arg, o->vm_mac);
	case 'V':
		err = colo_parse_uint("vlan", arg, 1, 4094, &v);
		o->vlan = v;
		break;
	case 'c':
	case 'p':
	case 's':
	case 'l':
		o->ifname[opt == 'c' ? COLO_IF_CLIENT : opt == 'p' ? COLO_IF_PVM :
			  opt == 's' ? COLO_IF_SVM : COLO_IF_LINK] = arg;
		break;
	case 'M':
		return parse_mode(arg, &o->mode);
	case 'R':
		o->no_rewrite = 1;
		break;
	case 't':
		err = colo_parse_uint("timeout", arg, 1, 3600000, &v);
		o->timeout_ns = v * NSEC_PER_MSEC_U64;
		break;
	case 'w':
		o->pcap_out = arg;
		break;
	case 'q':
		err = colo_parse_uint("queue", arg, 0, 65535, &v);
		o->queue = v;
		break;
	case 'v':
		colo_log_more();
		break;
	default:
		return colo_attach_ckpt_opt(o, opt, arg);
	}
	return err;
}

static int attach_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "role", required_argument, NULL, 'r' },
		{ "vm-mac", required_argument, NULL, 'm' },
		{ "vlan", required_argument, NULL, 'V' },
		{ "client", required_argument, NULL, 'c' },
		{ "pvm", required_argument, NULL, 'p' },
		{ "svm", required_argument, NULL, 's' },
		{ "link", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'M' },
		{ "no-rewrite", no_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pcap-out", required_argument, NULL, 'w' },
		{ "queue", required_argument, NULL, 'q' },
		{ "listen", required_argument, NULL, COLO_OPT_LISTEN },
		{ "peer", required_argument, NULL, COLO_OPT_PEER },
		{ "driver", required_argument, NULL, COLO_OPT_DRIVER },
		{ "vm", required_argument, NULL, COLO_OPT_VM },
		{ "checkpoint", required_argument, NULL, COLO_OPT_CHECKPOINT },
		{ "interval", required_argument, NULL, COLO_OPT_INTERVAL },
		{ "period", required_argument, NULL, COLO_OPT_PERIOD },
		{ "min-gap", required_argument, NULL, COLO_OPT_MIN_GAP },
		{ "heartbeat", required_argument, NULL, COLO_OPT_HEARTBEAT },
		{ "heartbeat-timeout", required_argument, NULL, COLO_OPT_HB_TIMEOUT },
		{ "adaptive-high", required_argument, NULL, COLO_OPT_ADAPTIVE_HIGH },
		{ "adaptive-low", required_argument, NULL, COLO_OPT_ADAPTIVE_LOW },
		{ "no-datapath", no_argument, NULL, COLO_OPT_NO_DATAPATH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct colo_attach_opts o;
	int opt, have_mac = 0;

	memset(&o, 0, sizeof(o));
	o.role = COLO_ROLE_PRIMARY;
	o.mode = XDP_MODE_NATIVE;
	colo_ckpt_opts_default(&o.ck);
	while ((opt = getopt_long(argc, argv, "i:m:c:p:s:l:t:w:q:vh", opts,
				  NULL)) != -1) {
		if (opt == 'h') {
			colo_cmd_usage(&colo_cmd_attach, stdout);
			return COLO_EXIT_OK;
		}
		if (attach_opt(&o, opt, optarg))
			return colo_cmd_bad_usage(&colo_cmd_attach);
		have_mac |= opt == 'm';
	}
	if (optind < argc) {
		pr_err("attach takes no arguments besides options (got '%s')",
		       argv[optind]);
		return colo_cmd_bad_usage(&colo_cmd_attach);
	}
	if (!have_mac && !o.ck.no_datapath) {
		pr_err("attach needs --vm-mac MAC, the MAC address the PVM and the SVM share");
		return colo_cmd_bad_usage(&colo_cmd_attach);
	}
	if (colo_attach_ckpt_check(&o))
		return colo_cmd_bad_usage(&colo_cmd_attach);
	return attach_run(&o);
}

const struct colo_cmd colo_cmd_attach = {
	.name = "attach",
	.summary = "put the XDP datapath on the interfaces and run the comparator",
	.run = attach_main,
	.usage =
	"Usage: colo-proxy attach --instance NAME --vm-mac MAC --client IF --pvm IF\n"
	"                         (--svm IF | --link IF) [OPTIONS]\n"
	"                         [--listen ADDR:PORT --driver DRV --vm TARGET [LOOP]]\n"
	"       colo-proxy attach --role secondary --instance NAME --vm-mac MAC\n"
	"                         --svm IF --link IF [--client IF] [--mode MODE]\n"
	"                         [--peer ADDR:PORT --driver DRV --vm TARGET]\n"
	"       colo-proxy attach --role secondary --instance NAME --no-datapath\n"
	"                         --peer ADDR:PORT --driver DRV --vm TARGET\n"
	"\n"
	"Primary host (default role): mirror every frame the client NIC receives for\n"
	"the VM to the PVM's tap and to the SVM (its tap with --svm, single-host\n"
	"layout; the replication link with --link, two-host layout), capture both\n"
	"VMs' output over AF_XDP, compare it, and send the PVM's output to the client\n"
	"once the SVM sent the same. Secondary host (two-host layout): inject what\n"
	"arrives on the link into the SVM's tap and send the SVM's output back.\n"
	"With --listen (primary) and --peer (secondary) the two colo-proxy processes\n"
	"run the checkpoint loop between them: checkpoints on divergence or period,\n"
	"output commit, heartbeats and failover. Without them a divergence only\n"
	"releases the held output (no checkpoint).\n"
	"Runs in the foreground until SIGINT or SIGTERM, then removes everything it\n"
	"attached and pinned. Maps are pinned under " COLO_PIN_ROOT "/NAME.\n"
	"\n"
	"Options:\n"
	"  -i, --instance NAME  name of this instance (letters, digits, - _ .)\n"
	"      --role ROLE      primary (default) or secondary\n"
	"  -m, --vm-mac MAC     the MAC address the PVM and the SVM share\n"
	"      --vlan ID        protect only this VLAN (1-4094); default untagged\n"
	"  -c, --client IF      client-facing NIC\n"
	"  -p, --pvm IF         the PVM's tap\n"
	"  -s, --svm IF         the SVM's tap\n"
	"  -l, --link IF        replication link to the other host\n"
	"      --mode MODE      native (default: XDP in the driver) or skb (generic)\n"
	"      --no-rewrite     do not shift TCP sequence numbers for the SVM\n"
	"  -t, --timeout MS     an unmatched frame diverges after MS milliseconds\n"
	"                       (default " COLO_XSTR(COLO_DEFAULT_TIMEOUT_MS) ")\n"
	"  -w, --pcap-out FILE  write the frames of every divergence to FILE (pcap)\n"
	"  -q, --queue N        AF_XDP queue on the PVM tap and the SVM path (default 0)\n"
	"  -v, --verbose        more diagnostics on stderr (-vv: libbpf/libxdp debug)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Checkpoint loop:\n"
	"      --listen ADDR:PORT  primary: wait for the secondary's colo-proxy here\n"
	"      --peer ADDR:PORT    secondary: connect to the primary's colo-proxy\n"
	"                          (retried every 0.1 s, backing off to 2 s)\n"
	"      --driver DRV        qemu (QEMU runs COLO; --vm is its QMP socket,\n"
	"                          unix:/path or tcp:HOST:PORT) or process (a\n"
	"                          stand-in VM; --vm is its control socket)\n"
	"      --vm TARGET         how to reach this host's VM (see --driver)\n"
	"      --checkpoint MODE   hybrid (default: compare, checkpoint on\n"
	"                          divergence), periodic (no comparison: output\n"
	"                          held until each periodic checkpoint is\n"
	"                          acknowledged) or adaptive (hybrid, switching to\n"
	"                          periodic while divergences are frequent). On the\n"
	"                          secondary only 'periodic' matters: its VM waits\n"
	"                          paused for the first checkpoint\n"
	"      --interval MS       hybrid, adaptive: longest time between two\n"
	"                          checkpoints (default 20000); periodic: the period\n"
	"      --period MS         periodic, adaptive's periodic phase: time from the\n"
	"                          end of one checkpoint to the next (default 50)\n"
	"      --min-gap MS        shortest time from the end of one checkpoint to a\n"
	"                          demanded one; demands meanwhile coalesce (default 10)\n"
	"      --heartbeat MS      send a heartbeat this often (default 100)\n"
	"      --heartbeat-timeout MS  fail over when the peer is silent this long\n"
	"                          (default 1000)\n"
	"      --adaptive-high N/MS  adaptive: more than N divergence checkpoints\n"
	"                          within MS -> periodic (default 10/1000)\n"
	"      --adaptive-low N/MS   adaptive: at most N divergences per window,\n"
	"                          continuously for MS -> hybrid (default 2/5000)\n"
	"      --no-datapath       secondary, single-host layout: no XDP here (the\n"
	"                          primary's colo-proxy serves the SVM's tap); run\n"
	"                          only the protocol and the VM driver\n"
	"\n"
	"Exit status: 0 stopped by a signal after a clean teardown, 1 attaching or\n"
	"serving failed (message on stderr), 2 bad options.\n",
};
