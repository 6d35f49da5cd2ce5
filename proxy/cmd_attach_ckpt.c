// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `colo-proxy attach`: the options of the checkpoint loop (peer link, VM
 * driver, checkpoint mode and timing, heartbeat, failover) and the checks
 * that they fit together and with the role.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "live.h"
#include "log.h"
#include "peer.h"

#define GIVEN(o, opt)	((o)->ck_given & (1u << ((opt) - COLO_OPT_LISTEN)))
#define MS_MAX		3600000UL	/* an hour */

static const char *const opt_names[] = {
	"listen", "peer", "driver", "vm", "checkpoint", "interval", "period",
	"min-gap", "heartbeat", "heartbeat-timeout", "adaptive-high",
	"adaptive-low", "no-datapath",
};

static const char *name_of(int opt)
{
	return opt_names[opt - COLO_OPT_LISTEN];
}

static int parse_ms(int opt, const char *arg, unsigned long min,
		    uint64_t *ns)
{
	unsigned long v;
	int err;

	err = colo_parse_uint(name_of(opt), arg, min, MS_MAX, &v);
	if (!err)
		*ns = v * NSEC_PER_MSEC_U64;
	return err;
}

/* "N/MS": a count and a time. */
static int parse_rate(int opt, const char *arg, unsigned long max_n,
		      unsigned long *n, uint64_t *ns)
{
	unsigned long a, b;
	char *end;

	errno = 0;
	a = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '/' || errno)
		goto bad;
	b = strtoul(end + 1, &end, 10);
	if (end[0] || errno || !b || b > MS_MAX || a > max_n)
		goto bad;
	*n = a;
	*ns = b * NSEC_PER_MSEC_U64;
	return 0;
bad:
	pr_err("--%s '%s' must be COUNT/MS: a count (at most %lu) and milliseconds (1 to %lu), like 10/1000",
	       name_of(opt), arg, max_n, MS_MAX);
	return -EINVAL;
}

static int parse_driver(struct colo_attach_opts *o, const char *arg)
{
	o->ck.drv = vmdrv_find(arg);
	if (o->ck.drv)
		return 0;
	pr_err("--driver '%s': use qemu (QEMU's own COLO, --vm is its QMP socket)%s",
	       arg, vmdrv_find("process") ?
	       " or process (a stand-in VM, --vm is its control socket)" :
	       "; this build has no other driver");
	return -EINVAL;
}

static int parse_mode(struct colo_attach_opts *o, const char *arg)
{
	if (!colo_mode_parse(arg, &o->ck.policy.mode)) {
		o->ck.mode_given = 1;
		return 0;
	}
	pr_err("--checkpoint '%s': use periodic (output held until each periodic checkpoint), hybrid (compare, checkpoint on divergence) or adaptive (hybrid, periodic while divergences are frequent)",
	       arg);
	return -EINVAL;
}

static int parse_addr(struct colo_attach_opts *o, int opt, const char *arg)
{
	if (o->ck.listen || o->ck.peer) {
		pr_err("give one of --listen (primary) and --peer (secondary), once");
		return -EINVAL;
	}
	if (colo_peer_parse_addr(opt == COLO_OPT_LISTEN ? "--listen" : "--peer",
				 arg, &o->ck.addr, &o->ck.addrlen))
		return -EINVAL;
	if (opt == COLO_OPT_LISTEN)
		o->ck.listen = arg;
	else
		o->ck.peer = arg;
	o->ckpt = 1;
	return 0;
}

int colo_attach_ckpt_opt(struct colo_attach_opts *o, int opt, const char *arg)
{
	struct colo_policy_cfg *p = &o->ck.policy;
	unsigned long n;

	if (opt < COLO_OPT_LISTEN || opt >= COLO_OPT_CKPT_END)
		return -EINVAL;
	o->ck_given |= 1u << (opt - COLO_OPT_LISTEN);
	switch (opt) {
	case COLO_OPT_LISTEN:
	case COLO_OPT_PEER:
		return parse_addr(o, opt, arg);
	case COLO_OPT_DRIVER:
		return parse_driver(o, arg);
	case COLO_OPT_VM:
		o->ck.vm = arg;
		return 0;
	case COLO_OPT_CHECKPOINT:
		return parse_mode(o, arg);
	case COLO_OPT_INTERVAL:
		return parse_ms(opt, arg, 1, &p->max_interval_ns);
	case COLO_OPT_PERIOD:
		return parse_ms(opt, arg, 1, &p->period_ns);
	case COLO_OPT_MIN_GAP:
		return parse_ms(opt, arg, 0, &p->min_gap_ns);
	case COLO_OPT_HEARTBEAT:
		return parse_ms(opt, arg, 1, &o->ck.heartbeat_ns);
	case COLO_OPT_HB_TIMEOUT:
		return parse_ms(opt, arg, 2, &o->ck.heartbeat_timeout_ns);
	case COLO_OPT_ADAPTIVE_HIGH:
		if (parse_rate(opt, arg, COLO_POLICY_MARKS - 1, &n, &p->window_ns))
			return -EINVAL;
		p->high = n;
		return 0;
	case COLO_OPT_ADAPTIVE_LOW:
		if (parse_rate(opt, arg, COLO_POLICY_MARKS - 2, &n, &p->calm_ns))
			return -EINVAL;
		p->low = n;
		return 0;
	default:
		o->ck.no_datapath = 1;
		return 0;
	}
}

/* --- checks --- */

static int need_peer(const struct colo_attach_opts *o)
{
	int i;

	for (i = COLO_OPT_DRIVER; i < COLO_OPT_CKPT_END; i++) {
		if (!GIVEN(o, i))
			continue;
		pr_err("--%s concerns the checkpoint loop: give --listen ADDR:PORT (primary) or --peer ADDR:PORT (secondary) too",
		       name_of(i));
		return -EINVAL;
	}
	return 0;
}

static int check_role(const struct colo_attach_opts *o)
{
	int sec = o->role == COLO_ROLE_SECONDARY, i;

	if (sec && o->ck.listen) {
		pr_err("--listen is the primary's; the secondary connects to it with --peer ADDR:PORT");
		return -EINVAL;
	}
	if (!sec && o->ck.peer) {
		pr_err("--peer is the secondary's (with --role secondary); the primary listens with --listen ADDR:PORT");
		return -EINVAL;
	}
	if (o->ck.no_datapath && !sec) {
		pr_err("--no-datapath is for --role secondary in the single-host layout (the primary host's XDP serves the SVM's tap)");
		return -EINVAL;
	}
	if (o->ck.no_datapath && (o->ifname[COLO_IF_SVM] || o->ifname[COLO_IF_LINK] ||
				  o->ifname[COLO_IF_CLIENT])) {
		pr_err("--no-datapath takes no interfaces: the primary's colo-proxy attaches to the SVM's tap");
		return -EINVAL;
	}
	if (!sec)
		return 0;
	for (i = COLO_OPT_INTERVAL; i <= COLO_OPT_ADAPTIVE_LOW; i++)
		if (GIVEN(o, i) && i != COLO_OPT_HEARTBEAT && i != COLO_OPT_HB_TIMEOUT)
			pr_warn("--%s is ignored on the secondary: the primary decides when to checkpoint",
				name_of(i));
	return 0;
}

static int check_times(struct colo_attach_opts *o)
{
	struct colo_policy_cfg *p = &o->ck.policy;

	if (o->ck.heartbeat_timeout_ns <= o->ck.heartbeat_ns) {
		pr_err("--heartbeat-timeout (%llu ms) must be longer than --heartbeat (%llu ms)",
		       (unsigned long long)(o->ck.heartbeat_timeout_ns / NSEC_PER_MSEC_U64),
		       (unsigned long long)(o->ck.heartbeat_ns / NSEC_PER_MSEC_U64));
		return -EINVAL;
	}
	if (p->mode == COLO_MODE_PERIODIC) {
		if (GIVEN(o, COLO_OPT_INTERVAL) && GIVEN(o, COLO_OPT_PERIOD)) {
			pr_err("--checkpoint periodic: --interval is the period; give --interval or --period, not both");
			return -EINVAL;
		}
		if (GIVEN(o, COLO_OPT_INTERVAL))
			p->period_ns = p->max_interval_ns;
	} else if (p->mode == COLO_MODE_HYBRID && GIVEN(o, COLO_OPT_PERIOD)) {
		pr_err("--period is the checkpoint period of periodic and adaptive mode; in hybrid mode use --interval (the longest time between checkpoints)");
		return -EINVAL;
	}
	if (p->min_gap_ns > p->max_interval_ns) {
		pr_err("--min-gap (%llu ms) must not exceed --interval (%llu ms)",
		       (unsigned long long)(p->min_gap_ns / NSEC_PER_MSEC_U64),
		       (unsigned long long)(p->max_interval_ns / NSEC_PER_MSEC_U64));
		return -EINVAL;
	}
	return 0;
}

static int check_adaptive(const struct colo_attach_opts *o)
{
	const struct colo_policy_cfg *p = &o->ck.policy;

	if ((GIVEN(o, COLO_OPT_ADAPTIVE_HIGH) || GIVEN(o, COLO_OPT_ADAPTIVE_LOW)) &&
	    p->mode != COLO_MODE_ADAPTIVE && o->role == COLO_ROLE_PRIMARY) {
		pr_err("--adaptive-high and --adaptive-low need --checkpoint adaptive");
		return -EINVAL;
	}
	if (p->high < 1 || p->low >= p->high) {
		pr_err("--adaptive-low's count (%u) must be below --adaptive-high's (%u), which must be at least 1",
		       p->low, p->high);
		return -EINVAL;
	}
	return 0;
}

int colo_attach_ckpt_check(struct colo_attach_opts *o)
{
	if (!o->ckpt)
		return need_peer(o);
	if (check_role(o))
		return -EINVAL;
	if (!o->ck.drv || !o->ck.vm) {
		pr_err("the checkpoint loop needs --driver qemu|process and --vm TARGET (the QMP socket, or the stand-in's control socket)");
		return -EINVAL;
	}
	if (check_times(o) || check_adaptive(o))
		return -EINVAL;
	return 0;
}
