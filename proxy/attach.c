// SPDX-License-Identifier: GPL-2.0-or-later
/* Bring an instance up on its interfaces, serve it, take it down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "live.h"
#include "log.h"

#define TX_SNDBUF	(4 << 20)

const char *colo_if_opt(enum colo_if i)
{
	static const char *const names[COLO_IF_MAX] = {
		[COLO_IF_CLIENT] = "client",
		[COLO_IF_PVM] = "pvm",
		[COLO_IF_SVM] = "svm",
		[COLO_IF_LINK] = "link",
	};

	return i < COLO_IF_MAX ? names[i] : "?";
}

void colo_attach__init(struct colo_attach *a, const struct colo_attach_opts *o,
		       int sig_fd)
{
	memset(a, 0, sizeof(*a));
	a->opt = *o;
	a->inst.dir_fd = -1;
	a->tx_fd = -1;
	a->sig_fd = sig_fd;
	a->xsk_if[0] = a->xsk_if[1] = -1;
}

/* --- before anything is loaded: is every interface ours to take? --- */

/* The lock is ours, so whatever is pinned was left by a process that died. */
static void clean_leftovers(struct colo_attach *a)
{
	struct colo_config cfg;

	if (colo_inst__config(&a->inst, &cfg) == 0)
		pr_warn("instance %s: removing what pid %u left behind (it exited without detaching)",
			a->inst.name, cfg.pid);
	colo_inst__teardown(&a->inst, 0);
}

static int names_if(const struct colo_config *cfg, int ifindex)
{
	return ifindex && (cfg->client_ifindex == (__u32)ifindex ||
			   cfg->pvm_ifindex == (__u32)ifindex ||
			   cfg->svm_ifindex == (__u32)ifindex ||
			   cfg->link_ifindex == (__u32)ifindex);
}

/* -EBUSY when a dead instance's programs are still on our interfaces. */
static int check_stale(struct colo_attach *a, struct colo_inst *other)
{
	unsigned int id = colo_inst__config_id(other);
	struct colo_xdp_info info;
	int i;

	for (i = 0; i < COLO_IF_MAX && id; i++) {
		if (!a->ifindex[i] || colo_xdp_query(a->ifindex[i], id, &info) ||
		    !info.ours)
			continue;
		pr_err("%s (--%s) still carries the XDP program of instance %s, whose process is gone; remove it with: colo-proxy detach --instance %s",
		       a->opt.ifname[i], colo_if_opt(i), other->name,
		       other->name);
		return -EBUSY;
	}
	return 0;
}

/* -EBUSY when a live instance in our netns uses one of our interfaces. */
static int check_instance(struct colo_attach *a, const char *name)
{
	struct colo_config cfg;
	struct colo_inst other;
	int i, err = 0;

	if (!strcmp(name, a->inst.name) || colo_inst__open(&other, name))
		return 0;
	if (!colo_inst__alive(&other)) {
		err = check_stale(a, &other);
		goto out;
	}
	if (colo_inst__config(&other, &cfg) || !colo_pid_same_netns(cfg.pid))
		goto out;
	for (i = 0; i < COLO_IF_MAX && !err; i++) {
		if (!names_if(&cfg, a->ifindex[i]))
			continue;
		pr_err("%s (--%s) is already used by instance %s (pid %u); detach it first (colo-proxy detach --instance %s) or use another interface",
		       a->opt.ifname[i], colo_if_opt(i), name, cfg.pid, name);
		err = -EBUSY;
	}
out:
	colo_inst__close(&other);
	return err;
}

static int check_xdp_free(struct colo_attach *a, enum colo_if i)
{
	struct colo_xdp_info info;
	int err;

	err = colo_xdp_query(a->ifindex[i], 0, &info);
	if (err) {
		pr_err("%s (--%s): cannot query its XDP state: %s",
		       a->opt.ifname[i], colo_if_opt(i), strerror(-err));
		return err;
	}
	if (!info.prog_id)
		return 0;
	pr_err("%s (--%s) already has an XDP program (id %u%s%s%s); one instance per interface: remove it first%s",
	       a->opt.ifname[i], colo_if_opt(i), info.prog_id,
	       info.prog_name[0] ? ", " : "", info.prog_name,
	       info.dispatcher ? ", libxdp dispatcher" : "",
	       !strncmp(info.prog_name, "colo_", 5) ?
	       " (a colo-proxy leftover? colo-proxy detach --all)" :
	       " (ip link set dev IF xdp off)");
	return -EBUSY;
}

static int check_conflicts(struct colo_attach *a)
{
	char **names;
	int i, n, err = 0;

	n = colo_inst_list(&names);
	for (i = 0; i < n && !err; i++)
		err = check_instance(a, names[i]);
	colo_inst_list_free(names, n > 0 ? n : 0);
	for (i = 0; i < COLO_IF_MAX && !err; i++)
		if (a->ifindex[i] && a->prog[i] != COLO_PROG_MAX)
			err = check_xdp_free(a, i);
	return err;
}

/* --- the XDP object and its maps --- */

static void plan_programs(struct colo_attach *a)
{
	int i;

	for (i = 0; i < COLO_IF_MAX; i++)
		a->prog[i] = COLO_PROG_MAX;	/* nothing to attach */
	if (a->opt.role == COLO_ROLE_SECONDARY) {
		a->prog[COLO_IF_SVM] = COLO_PROG_SEC_SVM_OUT;
		a->prog[COLO_IF_LINK] = COLO_PROG_SEC_LINK_IN;
		return;
	}
	a->prog[COLO_IF_CLIENT] = COLO_PROG_CLIENT_IN;
	a->prog[COLO_IF_PVM] = COLO_PROG_PVM_OUT;
	if (a->ifindex[COLO_IF_SVM])
		a->prog[COLO_IF_SVM] = COLO_PROG_SVM_OUT;
	else
		a->prog[COLO_IF_LINK] = COLO_PROG_SVM_OUT;
}

/* Where the SVM's copy of client frames goes, and its output comes from. */
static enum colo_if svm_path(const struct colo_attach *a)
{
	return a->ifindex[COLO_IF_SVM] ? COLO_IF_SVM : COLO_IF_LINK;
}

static int fill_maps(struct colo_attach *a)
{
	struct colo_config *c = &a->cfg;
	enum colo_if s = svm_path(a);
	int err;

	memset(c, 0, sizeof(*c));
	memcpy(c->vm_mac, a->opt.vm_mac, sizeof(c->vm_mac));
	c->vlan = a->opt.vlan;
	c->role = a->opt.role;
	if (a->opt.role == COLO_ROLE_PRIMARY && !a->opt.no_rewrite)
		c->flags = COLO_CFG_REWRITE;
	c->client_ifindex = a->ifindex[COLO_IF_CLIENT];
	c->pvm_ifindex = a->ifindex[COLO_IF_PVM];
	c->svm_ifindex = a->ifindex[COLO_IF_SVM];
	c->link_ifindex = a->ifindex[COLO_IF_LINK];
	c->pid = getpid();
	err = colo_obj__set_config(&a->obj, c);
	if (err || a->opt.role != COLO_ROLE_PRIMARY)
		return err;
	err = colo_obj__add_mirror(&a->obj, a->ifindex[COLO_IF_PVM], -1,
				   a->opt.ifname[COLO_IF_PVM]);
	if (err)
		return err;
	return colo_obj__add_mirror(&a->obj, a->ifindex[s],
				    colo_obj__prog_fd(&a->obj, COLO_PROG_SVM_COPY),
				    a->opt.ifname[s]);
}

static int load_and_pin(struct colo_attach *a)
{
	int err;

	err = colo_obj__load(&a->obj);
	if (err)
		return err;
	a->cfg_map_id = colo_obj__map_id(&a->obj, COLO_M_CONFIG);
	err = fill_maps(a);
	if (err)
		return err;
	err = colo_obj__pin(&a->obj, a->inst.path);
	if (err < 0)
		return err;
	a->pinned = 1;
	pr_info("pinned %d maps under %s", err, a->inst.path);
	return 0;
}

/* --- sockets --- */

static int open_xsk(struct colo_attach *a, enum colo_side side, enum colo_if i)
{
	a->xsk[side] = colo_xsk__open(a->opt.ifname[i], a->opt.queue);
	if (!a->xsk[side])
		return -errno;
	a->xsk_if[side] = i;
	return colo_obj__set_xsk(&a->obj, side == COLO_PRIMARY ?
				 COLO_XSK_PRIMARY : COLO_XSK_SECONDARY,
				 colo_xsk__fd(a->xsk[side]));
}

static int open_tx(struct colo_attach *a)
{
	struct sockaddr_ll sll;
	int sndbuf = TX_SNDBUF, err;

	/* Protocol 0: this socket sends only, it never receives a frame. */
	a->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->tx_fd < 0) {
		err = -errno;
		pr_err("cannot open a packet socket to send to the client: %s",
		       strerror(-err));
		return err;
	}
	setsockopt(a->tx_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = a->ifindex[COLO_IF_CLIENT];
	if (bind(a->tx_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		pr_err("cannot bind a packet socket to %s: %s",
		       a->opt.ifname[COLO_IF_CLIENT], strerror(-err));
		return err;
	}
	return 0;
}

static int open_sockets(struct colo_attach *a)
{
	int err;

	err = open_xsk(a, COLO_PRIMARY, COLO_IF_PVM);
	if (!err)
		err = open_xsk(a, COLO_SECONDARY, svm_path(a));
	if (!err)
		err = open_tx(a);
	return err;
}

static int init_loop(struct colo_attach *a)
{
	struct colo_loop_opts o = {
		.xsk = { a->xsk[COLO_PRIMARY], a->xsk[COLO_SECONDARY] },
		.tx_fd = a->tx_fd,
		.tx_ifname = a->opt.ifname[COLO_IF_CLIENT],
		.tx_queue = a->opt.queue,
		.sig_fd = a->sig_fd,
		.engine_map_fd = colo_obj__map_fd(&a->obj, COLO_M_ENGINE),
		.divlog_map_fd = colo_obj__map_fd(&a->obj, COLO_M_DIVLOG),
		.conns_map_fd = colo_obj__map_fd(&a->obj, COLO_M_CONNS),
		.pcap_path = a->opt.pcap_out,
	};
	int err;

	colo_engine_cfg_default(&o.engine);
	if (a->opt.timeout_ns)
		o.engine.timeout_ns = a->opt.timeout_ns;
	err = colo_loop__init(&a->loop, &o);
	a->loop_ready = 1;	/* fini undoes a partial init too */
	return err;
}

/* --- programs on interfaces --- */

static int attach_one(struct colo_attach *a, enum colo_if i)
{
	int err;

	if (!a->ifindex[i] || a->prog[i] == COLO_PROG_MAX)
		return 0;
	err = colo_xdp_attach(a->opt.ifname[i], a->ifindex[i],
			      colo_obj__prog_fd(&a->obj, a->prog[i]),
			      a->opt.mode, &a->xdp[i]);
	if (err)
		return err;
	a->attached[i] = 1;
	return 0;
}

/* Outputs first, the client NIC (or the link, on the secondary host) last:
 * mirroring starts once the paths it feeds exist. */
static int attach_programs(struct colo_attach *a)
{
	static const enum colo_if order[] = {
		COLO_IF_PVM, COLO_IF_SVM, COLO_IF_LINK, COLO_IF_CLIENT,
	};
	size_t k;
	int err;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		err = attach_one(a, order[k]);
		if (err)
			return err;
	}
	return 0;
}

/* --- the checkpoint loop --- */

/* Failover on this host: the VM's output goes straight to the clients. */
static int datapath_failover(void *ctx)
{
	struct colo_attach *a = ctx;
	int err;

	if (a->opt.ck.no_datapath) {
		pr_warn("single-host layout: this secondary proxy has no datapath; the SVM's output reaches the clients only through the primary's colo-proxy, if it still runs (it forwards it once it stood down)");
		return 0;
	}
	a->cfg.flags |= COLO_CFG_PASSTHROUGH;
	err = colo_obj__set_config(&a->obj, &a->cfg);
	if (err)
		return err;
	pr_info("%s set in %s", "COLO_CFG_PASSTHROUGH", COLO_CONFIG_NAME);
	if (a->opt.role != COLO_ROLE_SECONDARY || !a->attached[COLO_IF_LINK])
		return 0;
	/* Stop injecting the primary host's mirrored frames. */
	err = colo_xdp_detach_ours(a->ifindex[COLO_IF_LINK], a->cfg_map_id);
	if (err < 0)
		return err;
	a->attached[COLO_IF_LINK] = 0;
	pr_info("detached %s from %s", colo_prog_name(COLO_PROG_SEC_LINK_IN),
		a->opt.ifname[COLO_IF_LINK]);
	return 0;
}

static int init_ckpt(struct colo_attach *a)
{
	struct colo_ckpt_env env = {
		.instance = a->inst.name,
		.role = a->opt.role,
		.conns_map_fd = -1,
		.datapath_failover = datapath_failover,
		.dp_ctx = a,
	};

	if (!a->opt.ckpt)
		return 0;
	if (a->opt.role == COLO_ROLE_PRIMARY) {
		env.loop = &a->loop;
		env.conns_map_fd = colo_obj__map_fd(&a->obj, COLO_M_CONNS);
	}
	a->ckpt = colo_ckpt__new(&a->opt.ck, &env);
	if (!a->ckpt)
		return -errno;
	if (env.loop)
		colo_ckpt__attach_loop(a->ckpt);
	return 0;
}

int colo_attach__setup(struct colo_attach *a)
{
	int err;

	plan_programs(a);
	err = colo_bpffs_ensure();
	if (err)
		return err;
	err = colo_inst__create(&a->inst, a->opt.instance);
	if (err)
		return err;
	clean_leftovers(a);
	err = check_conflicts(a);
	if (err)
		return err;
	err = load_and_pin(a);
	if (err)
		return err;
	if (a->opt.role == COLO_ROLE_PRIMARY) {
		err = open_sockets(a);
		if (!err)
			err = init_loop(a);
		if (err)
			return err;
	}
	err = init_ckpt(a);
	if (err)
		return err;
	return attach_programs(a);
}

/* --- serving --- */

/* The secondary host has no comparator: mark it up, then run the
 * checkpoint loop or wait for a signal. */
static int serve_secondary(struct colo_attach *a)
{
	struct colo_engine_pub pub;
	__u32 key = 0;
	char buf[128];
	ssize_t n;

	memset(&pub, 0, sizeof(pub));
	pub.updated_ns = colo_now_ns();
	bpf_map_update_elem(colo_obj__map_fd(&a->obj, COLO_M_ENGINE), &key,
			    &pub, BPF_ANY);
	if (a->ckpt)
		return colo_ckpt__run(a->ckpt, a->sig_fd);
	do
		n = read(a->sig_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int colo_attach__serve(struct colo_attach *a)
{
	if (a->opt.role == COLO_ROLE_SECONDARY)
		return serve_secondary(a);
	return colo_loop__run(&a->loop);
}

/* --- teardown --- */

static void detach_programs(struct colo_attach *a)
{
	static const enum colo_if order[] = {
		COLO_IF_CLIENT, COLO_IF_LINK, COLO_IF_PVM, COLO_IF_SVM,
	};
	size_t k;
	int i, err;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		i = order[k];
		if (!a->attached[i])
			continue;
		err = colo_xdp_detach_ours(a->ifindex[i], a->cfg_map_id);
		if (err < 0)
			pr_warn("cannot detach %s from %s: %s; remove it with 'ip link set dev %s xdp off'",
				colo_prog_name(a->prog[i]), a->opt.ifname[i],
				strerror(-err), a->opt.ifname[i]);
		else
			pr_info("detached %s from %s", colo_prog_name(a->prog[i]),
				a->opt.ifname[i]);
		a->attached[i] = 0;
	}
}

void colo_attach__teardown(struct colo_attach *a)
{
	int i;

	detach_programs(a);
	colo_ckpt__free(a->ckpt);	/* before the loop it hooks into */
	a->ckpt = NULL;
	if (a->loop_ready)
		colo_loop__fini(&a->loop);
	a->loop_ready = 0;
	for (i = 0; i < 2; i++) {
		colo_xsk__close(a->xsk[i]);
		a->xsk[i] = NULL;
		a->xsk_if[i] = -1;
	}
	if (a->tx_fd >= 0)
		close(a->tx_fd);
	a->tx_fd = -1;
	if (a->inst.locked) {
		colo_inst__unpin_all(&a->inst);
		if (rmdir(a->inst.path) && errno != ENOENT)
			pr_warn("cannot remove %s: %s", a->inst.path,
				strerror(errno));
	}
	a->pinned = 0;
	colo_obj__destroy(&a->obj);
	colo_inst__close(&a->inst);
}
