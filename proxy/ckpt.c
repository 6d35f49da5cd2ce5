// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checkpoint loop's core: the event queue into the protocol machine,
 * timers, the peer link's and the VM driver's callbacks, failover, and the
 * poll half shared by the comparator loop (primary) and colo_ckpt__run()
 * (secondary). What each side does with the machine's actions is in
 * ckpt_primary.c and ckpt_secondary.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt_int.h"
#include "log.h"
#include "loop.h"

void colo_ckpt_opts_default(struct colo_ckpt_opts *o)
{
	memset(o, 0, sizeof(*o));
	colo_policy_cfg_default(&o->policy);
	o->heartbeat_ns = COLO_CKPT_HEARTBEAT_MS * NSEC_PER_MSEC_U64;
	o->heartbeat_timeout_ns = COLO_CKPT_HB_TIMEOUT_MS * NSEC_PER_MSEC_U64;
}

const char *colo_ckpt_phase_name(enum colo_ckpt_phase p)
{
	static const char *const names[] = {
		[COLO_CK_WAITING] = "waiting-for-peer",
		[COLO_CK_COLO] = "colo",
		[COLO_CK_FAILED_OVER] = "failed-over",
		[COLO_CK_STOOD_DOWN] = "stood-down",
	};

	return (unsigned int)p <= COLO_CK_STOOD_DOWN ? names[p] : "?";
}

const struct colo_proto_base *ck_base(const struct colo_ckpt *c)
{
	return ck_primary(c) ? &c->pm.b : &c->sm.b;
}

static int in_colo(const struct colo_ckpt *c)
{
	return c->phase == COLO_CK_COLO;
}

/* --- the machine --- */

static void log_answer(struct colo_ckpt *c, const struct colo_event *ev,
		       int ret, const struct colo_actions *out)
{
	if (ret == -ESTALE || ret == -ESHUTDOWN) {
		pr_debug("protocol: %s", out->text);
		return;
	}
	if (ret == -EPROTO) {
		pr_warn("protocol: the %s's proxy: %s", ck_peer_name(c),
			out->text);
		return;
	}
	if (ret < 0) {
		pr_warn("protocol (internal): %s", out->text);
		return;
	}
	if (!out->text[0])
		return;
	if (out->outcome == COLO_OUT_ABORTED ||
	    out->outcome == COLO_OUT_FAILOVER ||
	    out->outcome == COLO_OUT_FAILOVER_PENDING ||
	    out->outcome == COLO_OUT_STAND_DOWN)
		pr_warn("protocol: %s", out->text);
	else
		pr_info("protocol: %s", out->text);
}

static void act(struct colo_ckpt *c, const struct colo_action *a)
{
	if (ck_common_act(c, a))
		return;
	if (ck_primary(c))
		ckp_act(c, a);
	else
		cks_act(c, a);
}

static void handle(struct colo_ckpt *c, const struct colo_event *ev)
{
	struct colo_actions out;
	unsigned int i;
	int ret;

	if (ck_primary(c))
		ret = colo_primary__handle(&c->pm, ev, &out);
	else
		ret = colo_secondary__handle(&c->sm, ev, &out);
	log_answer(c, ev, ret, &out);
	c->ev_now = ev->now_ns;
	for (i = 0; i < out.n; i++)
		act(c, &out.a[i]);
	if (ck_primary(c))
		ckp_after_event(c);
}

static void run_queue(struct colo_ckpt *c)
{
	struct colo_event ev;

	c->busy = 1;
	while (c->qn) {
		ev = c->q[c->qh];
		c->qh = (c->qh + 1) % COLO_CK_QLEN;
		c->qn--;
		handle(c, &ev);
	}
	c->busy = 0;
}

static void post(struct colo_ckpt *c, const struct colo_event *ev)
{
	if (c->qn == COLO_CK_QLEN) {
		pr_err("checkpoint loop: event queue full; event %d lost (a bug)",
		       ev->type);
		return;
	}
	c->q[(c->qh + c->qn++) % COLO_CK_QLEN] = *ev;
	if (!c->busy)
		run_queue(c);
}

void ck_post(struct colo_ckpt *c, enum colo_ev_type type, uint64_t value,
	     uint64_t seq)
{
	struct colo_event ev = {
		.type = type,
		.now_ns = colo_now_ns(),
		.value = value,
		.seq = seq,
	};

	post(c, &ev);
}

static void post_msg(struct colo_ckpt *c, uint32_t cmd, uint64_t value)
{
	struct colo_event ev = {
		.type = COLO_EV_MSG,
		.now_ns = colo_now_ns(),
		.cmd = cmd,
		.value = value,
	};

	post(c, &ev);
}

int ck_common_act(struct colo_ckpt *c, const struct colo_action *a)
{
	int err;

	switch (a->type) {
	case COLO_ACT_SEND:
		err = colo_peer__send(&c->peer, a->cmd, a->value);
		if (err)
			pr_debug("cannot send %s(%" PRIu64 ") to the %s's proxy: %s",
				 colo_cmd_name(a->cmd), a->value,
				 ck_peer_name(c), strerror(-err));
		return 1;
	case COLO_ACT_ARM_TIMER:
		if (a->timer < COLO_TIMER_MAX)
			c->tdl[a->timer] = c->ev_now + a->value;
		return 1;
	case COLO_ACT_CANCEL_TIMER:
		if (a->timer < COLO_TIMER_MAX)
			c->tdl[a->timer] = 0;
		return 1;
	default:
		return 0;
	}
}

static void fire_timers(struct colo_ckpt *c, uint64_t now)
{
	int t;

	if (!in_colo(c))
		return;
	for (t = 0; t < COLO_TIMER_MAX; t++) {
		if (!c->tdl[t] || now < c->tdl[t])
			continue;
		c->tdl[t] = 0;
		ck_post(c, COLO_EV_TIMER, t, 0);
	}
}

/* --- the peer link --- */

static void on_up(void *ctx)
{
	struct colo_ckpt *c = ctx;

	if (c->phase != COLO_CK_WAITING)
		return;
	c->phase = COLO_CK_COLO;
	pr_info("starting the checkpoint protocol with the %s's proxy",
		ck_peer_name(c));
	/* The machine takes the secondary VM as paused until it resumes it;
	 * a stand-in runs from its start, so pause it when it must wait. */
	if (!ck_primary(c) && c->sm.b.cfg.start_paused && !c->self &&
	    vmdrv__stop(c->drv))
		pr_warn("cannot pause the secondary VM until the first checkpoint: %s",
			vmdrv__strerror(c->drv));
	ck_post(c, COLO_EV_START, 0, 0);
}

static void on_down(void *ctx, size_t partial, const char *why)
{
	struct colo_ckpt *c = ctx;

	/* Once COLO runs, a lost connection is a dead peer: the protocol
	 * decides (fail over, take over); no reconnect. */
	colo_peer__close(&c->peer, 1);
	if (!in_colo(c))
		return;
	pr_warn("link to the %s's proxy lost (%s)", ck_peer_name(c), why);
	ck_post(c, COLO_EV_PEER_LOST, partial, 0);
}

static void on_msg(void *ctx, const struct colo_msg *m, int err)
{
	struct colo_ckpt *c = ctx;

	if (!in_colo(c))
		return;
	pr_debug("<- %s(%" PRIu64 ")", colo_cmd_name(m->cmd), m->value);
	post_msg(c, m->cmd, m->value);
	if (err)	/* no framing to trust after an unknown command */
		colo_peer__close(&c->peer, 1);
}

static void on_state(void *ctx, size_t got, int done)
{
	struct colo_ckpt *c = ctx;

	if (in_colo(c) && !ck_primary(c))
		cks_state(c, got, done);
}

static const struct colo_peer_ops peer_ops = {
	.up = on_up,
	.down = on_down,
	.msg = on_msg,
	.state = on_state,
};

/* --- the VM driver --- */

/* Events are looked at after the driver call that delivered them, never
 * in the middle of an action. */
static void on_drv_event(void *arg, const struct vmdrv_event *ev)
{
	struct colo_ckpt *c = arg;
	unsigned int i;

	if (c->dqn == COLO_CK_QLEN) {
		pr_warn("VM driver event %d dropped: too many at once", ev->type);
		return;
	}
	i = (c->dqh + c->dqn++) % COLO_CK_QLEN;
	c->dq[i] = *ev;
	snprintf(c->dq_msg[i], sizeof(c->dq_msg[i]), "%s", ev->msg ? ev->msg : "");
	c->dq[i].msg = c->dq_msg[i];
}

/*
 * This side's VM is gone for good: nothing can be checkpointed from or
 * into it. Hand the service to the peer (a failover message without
 * SENDER_RUNS: "I stopped, run alone") and stop.
 */
static void vm_lost(struct colo_ckpt *c, const char *why)
{
	if (c->drv_lost)
		return;
	c->drv_lost = 1;
	pr_err("the %s VM is gone (%s)%s", ck_primary(c) ? "primary" : "secondary",
	       why, in_colo(c) ? "; handing the service to the peer" : "");
	if (!in_colo(c))
		return;
	colo_peer__send(&c->peer, COLO_CMD_FAILOVER, COLO_PR_OPERATOR);
	c->fo.last_rx_ns = ck_base(c)->last_rx_ns;
	c->fo.detected_ns = colo_now_ns();
	ck_stand_down(c, COLO_PR_OPERATOR);
	snprintf(c->fo.text, sizeof(c->fo.text), "own VM lost: %s", why);
}

static void drain_drv(struct colo_ckpt *c)
{
	struct vmdrv_event ev;

	while (c->dqn && !c->busy) {
		ev = c->dq[c->dqh];
		c->dqh = (c->dqh + 1) % COLO_CK_QLEN;
		c->dqn--;
		if (ev.type == VMDRV_EV_ERROR &&
		    (ev.err == -ECONNRESET || ev.err == -ENOTCONN)) {
			vm_lost(c, ev.msg);
			continue;
		}
		if (ck_primary(c))
			ckp_drv_event(c, &ev);
		else
			cks_drv_event(c, &ev);
	}
}

static int open_driver(struct colo_ckpt *c)
{
	struct vmdrv_config cfg = {
		.target = c->o.vm,
		.role = ck_primary(c) ? VMDRV_MODE_PRIMARY : VMDRV_MODE_SECONDARY,
		.on_event = on_drv_event,
		.arg = c,
	};
	const struct colo_policy_cfg *p = &c->o.policy;
	char err[256] = "";
	int rc;

	cfg.checkpoint_delay_ms = (p->mode == COLO_MODE_PERIODIC ?
				   p->period_ns : p->max_interval_ns) /
				  NSEC_PER_MSEC_U64;
	if (!ck_primary(c))
		cfg.checkpoint_delay_ms = 0;
	c->drv = vmdrv_open(c->o.drv, &cfg, err, sizeof(err));
	if (!c->drv) {
		pr_err("--driver %s --vm %s: %s", c->o.drv->name, c->o.vm,
		       err[0] ? err : strerror(errno));
		return errno ? -errno : -EIO;
	}
	c->self = c->o.drv->self_checkpointing;
	rc = vmdrv__check(c->drv, NULL);
	if (rc == -EAGAIN) {
		pr_warn("--vm %s: %s; checkpoints wait until it is",
			c->o.vm, vmdrv__strerror(c->drv)[0] ?
			vmdrv__strerror(c->drv) : "the VM is not replicating yet");
		rc = 0;
	} else if (rc) {
		pr_err("--vm %s: %s", c->o.vm, vmdrv__strerror(c->drv)[0] ?
		       vmdrv__strerror(c->drv) : strerror(-rc));
	}
	drain_drv(c);
	return rc;
}

/* --- leaving COLO --- */

static const char *reason_text(enum colo_proto_reason why)
{
	return colo_proto_reason_name(why);
}

static void note_end(struct colo_ckpt *c, enum colo_proto_reason why,
		     enum colo_ckpt_phase phase)
{
	const struct colo_failover_info *fi = &ck_base(c)->stats.failover;

	c->phase = phase;
	c->fo.reason = why;
	if (!c->fo.detected_ns) {
		c->fo.last_rx_ns = fi->last_rx_ns ? fi->last_rx_ns :
				   ck_base(c)->last_rx_ns;
		c->fo.detected_ns = fi->detected_ns ? fi->detected_ns :
				    colo_now_ns();
	}
	c->fo.seq = c->self ? c->q_count : ck_base(c)->done;
	/* Tell the peer (the machine queued it) and then let go. */
	c->peer.accepting = 0;
	c->close_when_flushed = 1;
	c->close_deadline_ns = colo_now_ns() + NSEC_PER_SEC_U64;
	memset(c->tdl, 0, sizeof(c->tdl));
	c->pol_at = 0;
}

static void log_end(struct colo_ckpt *c, const char *what)
{
	const struct colo_ckpt_fo *f = &c->fo;
	int loss = f->reason == COLO_PR_HEARTBEAT ||
		   f->reason == COLO_PR_CONN_LOST ||
		   f->reason == COLO_PR_TRUNCATED;

	if (!loss) {
		pr_warn("%s (%s) after checkpoint %" PRIu64 ", %.1f ms after the cause was detected",
			what, reason_text(f->reason), f->seq,
			ck_ms(f->done_ns - f->detected_ns));
		return;
	}
	pr_warn("%s (%s) after checkpoint %" PRIu64 ": the %s's proxy was last heard %.1f ms before the loss was detected; loss to failover %.1f ms (detection %.1f ms, action %.1f ms)",
		what, reason_text(f->reason), f->seq, ck_peer_name(c),
		ck_ms(f->detected_ns - f->last_rx_ns),
		ck_ms(f->done_ns - f->last_rx_ns),
		ck_ms(f->detected_ns - f->last_rx_ns),
		ck_ms(f->done_ns - f->detected_ns));
}

void ck_failover(struct colo_ckpt *c, enum colo_proto_reason why)
{
	int err;

	note_end(c, why, COLO_CK_FAILED_OVER);
	snprintf(c->fo.text, sizeof(c->fo.text), "%s",
		 ck_primary(c) ? "the primary serves alone: its output goes straight to the clients" :
		 "the secondary took over: its VM serves the clients");
	if (ck_primary(c) && c->env.loop)
		colo_loop__set_mode(c->env.loop, COLO_LOOP_PASSTHROUGH);
	if (c->env.datapath_failover) {
		err = c->env.datapath_failover(c->env.dp_ctx);
		if (err)
			pr_err("failover: the datapath could not be switched to pass-through: %s",
			       strerror(-err));
	}
	if (c->drv && !c->drv_lost) {
		err = vmdrv__failover(c->drv, reason_text(why));
		if (err)
			pr_warn("failover: the VM driver: %s",
				vmdrv__strerror(c->drv)[0] ?
				vmdrv__strerror(c->drv) : strerror(-err));
	}
	c->fo.done_ns = colo_now_ns();
	clock_gettime(CLOCK_REALTIME, &c->fo.wall);
	log_end(c, ck_primary(c) ? "FAILOVER: the primary runs alone" :
		"FAILOVER: the secondary took over");
	colo_ckpt__write_status(c);
}

void ck_stand_down(struct colo_ckpt *c, enum colo_proto_reason why)
{
	note_end(c, why, COLO_CK_STOOD_DOWN);
	snprintf(c->fo.text, sizeof(c->fo.text), "%s",
		 ck_primary(c) ? "stood down: the secondary VM serves; its output reaching this host goes to the clients, the primary VM's is dropped" :
		 "stood down: the primary VM serves; this side's VM is stopped");
	if (ck_primary(c) && c->env.loop)
		colo_loop__set_mode(c->env.loop, COLO_LOOP_SECONDARY);
	c->fo.done_ns = colo_now_ns();
	clock_gettime(CLOCK_REALTIME, &c->fo.wall);
	log_end(c, ck_primary(c) ? "STAND DOWN: the secondary serves" :
		"STAND DOWN: the primary serves");
	colo_ckpt__write_status(c);
}

/* --- setup --- */

static int init_machine(struct colo_ckpt *c)
{
	struct colo_proto_cfg pc;

	colo_proto_cfg_default(&pc);
	pc.heartbeat_interval_ns = c->o.heartbeat_ns;
	pc.heartbeat_timeout_ns = c->o.heartbeat_timeout_ns;
	if (ck_primary(c))
		return colo_primary__init(&c->pm, &pc);
	pc.max_state_size = COLO_CKPT_MAX_STATE;
	/* periodic: the secondary VM waits paused for the first checkpoint */
	pc.start_paused = c->o.mode_given && !c->self &&
			  c->o.policy.mode == COLO_MODE_PERIODIC;
	return colo_secondary__init(&c->sm, &pc);
}

static int init(struct colo_ckpt *c, const struct colo_ckpt_opts *o,
		const struct colo_ckpt_env *env)
{
	int err;

	c->o = *o;
	c->env = *env;
	c->start_ns = colo_now_ns();
	c->want_mode = -1;
	colo_peer__init(&c->peer, ck_primary(c), ck_primary(c) ? o->listen : o->peer,
			&o->addr, o->addrlen, &peer_ops, c);
	colo_ckpt_status_path(env->instance, c->status_path,
			      sizeof(c->status_path));
	err = open_driver(c);
	if (err)
		return err;
	err = init_machine(c);
	if (err) {
		pr_err("bad checkpoint protocol settings (heartbeat %.0f ms, timeout %.0f ms)",
		       ck_ms(o->heartbeat_ns), ck_ms(o->heartbeat_timeout_ns));
		return err;
	}
	err = colo_peer__start(&c->peer, colo_now_ns());
	if (err)
		return err;
	if (ck_primary(c))
		pr_info("until the secondary's proxy connects, output is compared but not protected (divergences only flush)");
	colo_ckpt__write_status(c);
	return 0;
}

struct colo_ckpt *colo_ckpt__new(const struct colo_ckpt_opts *o,
				 const struct colo_ckpt_env *env)
{
	struct colo_ckpt *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		pr_err("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	err = init(c, o, env);
	if (err) {
		colo_ckpt__free(c);
		errno = -err;
		return NULL;
	}
	return c;
}

void colo_ckpt__free(struct colo_ckpt *c)
{
	if (!c)
		return;
	colo_peer__fini(&c->peer);
	vmdrv__close(c->drv);
	free(c->state);
	if (c->status_path[0])
		unlink(c->status_path);
	free(c);
}

/* --- the poll half --- */

static uint64_t nearest(const struct colo_ckpt *c, uint64_t now)
{
	uint64_t t = c->next_status_ns ? c->next_status_ns : now;
	int i;

	for (i = 0; i < COLO_TIMER_MAX && in_colo(c); i++)
		if (c->tdl[i] && c->tdl[i] < t)
			t = c->tdl[i];
	if (ck_primary(c) && ckp_deadline(c) && ckp_deadline(c) < t)
		t = ckp_deadline(c);
	if (c->close_when_flushed && c->close_deadline_ns < t)
		t = c->close_deadline_ns;
	return t;
}

static void lower(int *timeout_ms, int ms)
{
	if (ms >= 0 && (*timeout_ms < 0 || ms < *timeout_ms))
		*timeout_ms = ms;
}

int colo_ckpt__fill(struct colo_ckpt *c, struct pollfd *pfd, int max,
		    int *timeout_ms)
{
	uint64_t now = colo_now_ns(), t;
	int n = 0, i;

	if (max >= COLO_PEER_POLLFDS)
		n = colo_peer__pollfd(&c->peer, pfd);
	lower(timeout_ms, colo_peer__timeout_ms(&c->peer, now));
	if (c->drv && !c->drv_lost && n < max && vmdrv__fd(c->drv) >= 0) {
		pfd[n].fd = vmdrv__fd(c->drv);
		pfd[n++].events = vmdrv__poll_events(c->drv);
	}
	if (c->drv && !c->drv_lost)
		lower(timeout_ms, vmdrv__timeout_ms(c->drv));
	t = nearest(c, now);
	lower(timeout_ms, t > now ? (int)((t - now + 999999) / 1000000) : 0);
	for (i = 0; i < n; i++)
		pfd[i].revents = 0;
	return n;
}

static void check_close(struct colo_ckpt *c, uint64_t now)
{
	if (!c->close_when_flushed)
		return;
	if (colo_peer__pending(&c->peer) && now < c->close_deadline_ns &&
	    c->peer.fd >= 0)
		return;
	c->close_when_flushed = 0;
	colo_peer__close(&c->peer, 1);
}

int colo_ckpt__done(struct colo_ckpt *c, const struct pollfd *pfd, int n)
{
	uint64_t now = colo_now_ns();
	int err;

	colo_peer__process(&c->peer, pfd, n, now);
	if (c->drv && !c->drv_lost) {
		err = vmdrv__process(c->drv);
		drain_drv(c);
		if (err)
			vm_lost(c, vmdrv__strerror(c->drv)[0] ?
				vmdrv__strerror(c->drv) : strerror(-err));
	}
	now = colo_now_ns();
	fire_timers(c, now);
	if (ck_primary(c))
		ckp_tick(c, now);
	check_close(c, now);
	if (now >= c->next_status_ns) {
		colo_ckpt__write_status(c);
		c->next_status_ns = now + COLO_CKPT_STATUS_NS;
	}
	return 0;
}
