// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The primary's side of the checkpoint loop: the policy decides when, the
 * protocol machine (process driver) or QEMU (qemu driver) runs the
 * checkpoint, and the comparator's output is released at the boundary
 * both proxies agreed on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_int.h"
#include "conns.h"
#include "log.h"
#include "loop.h"

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static enum colo_loop_mode loop_mode_for(const struct colo_policy_answer *a)
{
	if (a->compare)
		return COLO_LOOP_COMPARE;
	return a->observe ? COLO_LOOP_OBSERVE : COLO_LOOP_COMMIT;
}

/* --- the policy --- */

static void qemu_demand(struct colo_ckpt *c);

static void start_checkpoint(struct colo_ckpt *c)
{
	c->cause = c->ans.cause;
	pr_debug("checkpoint demanded (%s%s)", colo_cause_name(c->cause),
		 c->ans.svm_runs ? "" : ", secondary stays paused");
	if (c->self)
		qemu_demand(c);
	else
		ck_post(c, COLO_EV_CHECKPOINT, c->ans.svm_runs ? 0 : COLO_CKPT_PAUSE,
			0);
}

static void apply(struct colo_ckpt *c, int ret,
		  const struct colo_policy_answer *a)
{
	if (ret) {
		pr_debug("checkpoint policy refused an input (%s)", strerror(-ret));
		return;
	}
	c->ans = *a;
	if (a->changed)
		pr_info("checkpoint mode switch: %s", a->sw.text);
	c->want_mode = loop_mode_for(a);
	c->pol_at = a->when == COLO_WHEN_AT ? a->at_ns : 0;
	if (a->when == COLO_WHEN_NOW && c->phase == COLO_CK_COLO)
		start_checkpoint(c);
}

/* checkpoint-ready arrived: protection starts. */
static void ready(struct colo_ckpt *c)
{
	struct colo_policy_answer ans;
	uint64_t now = colo_now_ns();
	int err;

	err = colo_policy__init(&c->pol, &c->o.policy, now, &ans);
	if (err) {
		pr_err("bad checkpoint policy settings; checkpoints only on QEMU's timer");
		return;
	}
	c->pol_ready = 1;
	pr_info("the secondary is ready: checkpoint mode %s (in force: %s), output %s",
		colo_mode_name(c->o.policy.mode), colo_mode_name(ans.mode),
		ans.compare ? "released when both VMs agree" :
		"held until the checkpoint covering it is acknowledged");
	apply(c, 0, &ans);
	if (c->env.loop)
		colo_loop__set_mode(c->env.loop, c->want_mode);
	if (c->self)
		return;
	/* The secondary VM starts from its own state: copy ours first. */
	apply(c, colo_policy__urgent(&c->pol, now, &ans), &ans);
}

void ckp_after_event(struct colo_ckpt *c)
{
	if (!c->pol_ready && c->phase == COLO_CK_COLO &&
	    c->pm.state == COLO_P_RUNNING)
		ready(c);
}

/* The comparator's checkpoint hook. */
static int on_divergence(void *ctx, const struct colo_divergence *d)
{
	struct colo_ckpt *c = ctx;
	struct colo_policy_answer ans;

	if (c->phase != COLO_CK_COLO || !c->pol_ready)
		return 0;	/* not protected: release at once */
	apply(c, colo_policy__divergence(&c->pol, colo_now_ns(), &ans), &ans);
	return 1;
}

static void held_too_much(struct colo_ckpt *c, uint64_t now)
{
	struct colo_loop *l = c->env.loop;
	struct colo_policy_answer ans;

	if (!l || c->urgent_sent || l->hold_bytes <= l->hold_limit / 2)
		return;
	c->urgent_sent = 1;
	pr_warn("%" PRIu64 " bytes of output held for the next checkpoint: demanding it now",
		l->hold_bytes);
	apply(c, colo_policy__urgent(&c->pol, now, &ans), &ans);
}

void ckp_tick(struct colo_ckpt *c, uint64_t now)
{
	struct colo_policy_answer ans;

	if (c->phase != COLO_CK_COLO || !c->pol_ready)
		return;
	/* The policy refuses a time before one it saw: read the clock now. */
	now = colo_now_ns();
	held_too_much(c, now);
	if (!c->pol_at || now < c->pol_at)
		return;
	c->pol_at = 0;
	apply(c, colo_policy__tick(&c->pol, now, &ans), &ans);
}

uint64_t ckp_deadline(const struct colo_ckpt *c)
{
	return c->phase == COLO_CK_COLO ? c->pol_at : 0;
}

/* --- the boundary and the release --- */

/* reset: the SVM resumes with the PVM's TCP state (qemu, a checkpoint
 * that completed), so it uses the PVM's sequence numbers. */
static void release(struct colo_ckpt *c, int reset)
{
	long n;

	if (c->env.loop)
		colo_loop__release(c->env.loop);
	if (reset && c->env.conns_map_fd >= 0) {
		n = colo_conns_reset(c->env.conns_map_fd);
		if (n < 0)
			pr_warn("cannot reset the TCP rewrite offsets in colo_conns: %s",
				strerror(-n));
		else
			pr_debug("TCP rewrite reset for %ld connections", n);
	}
	if (c->env.loop && c->want_mode >= 0)
		colo_loop__set_mode(c->env.loop, c->want_mode);
	c->urgent_sent = 0;
}

static void log_done(struct colo_ckpt *c)
{
	const struct colo_ckpt_last *l = &c->last;
	int quiet = l->cause == COLO_CAUSE_PERIOD ||
		    l->cause == COLO_CAUSE_INTERVAL;

	colo_log(quiet ? COLO_LOG_DEBUG : COLO_LOG_INFO,
		 "checkpoint %" PRIu64 " (%s) done in %.1f ms: primary VM stopped %.1f ms, %" PRIu64 " state bytes, output held %.1f ms",
		 l->seq, colo_cause_name(l->cause), ck_ms(l->end_ns - l->start_ns),
		 ck_ms(l->downtime_ns), l->size, ck_ms(l->held_ns));
}

static void policy_done(struct colo_ckpt *c)
{
	struct colo_policy_answer ans;

	if (c->pol_ready && c->pol.in_flight)
		apply(c, colo_policy__checkpoint_done(&c->pol, colo_now_ns(),
						      &ans), &ans);
}

static void machine_done(struct colo_ckpt *c, uint64_t seq)
{
	const struct colo_ckpt_timing *t = &c->pm.b.stats.last;

	c->done++;
	c->last.seq = seq;
	c->last.cause = c->cause;
	c->last.start_ns = t->start_ns;
	c->last.end_ns = t->loaded_ns;
	c->last.downtime_ns = diff(t->loaded_ns, t->stopped_ns);
	c->last.held_ns = diff(t->received_ns, t->demand_ns);
	c->last.size = t->size;
	log_done(c);
	policy_done(c);
}

/* --- the qemu driver: QEMU runs the checkpoint, we follow it --- */

static void qemu_finish(struct colo_ckpt *c, int ok, uint64_t now)
{
	release(c, ok);
	if (ok) {
		c->done++;
		c->last.seq = c->q_count;
		c->last.cause = c->q_demanded ? c->cause : COLO_CAUSE_INTERVAL;
		c->last.start_ns = c->q_start_ns;
		c->last.end_ns = now;
		c->last.downtime_ns = diff(now, c->q_start_ns);
		c->last.held_ns = diff(now, c->q_demand_ns);
		c->last.size = 0;
		log_done(c);
	} else {
		c->aborted++;
	}
	c->q_demanded = c->q_started = 0;
	policy_done(c);
}

static void qemu_demand(struct colo_ckpt *c)
{
	int err;

	if (c->q_demanded || c->q_started)
		return;
	c->q_demand_ns = colo_now_ns();
	err = vmdrv__demand_checkpoint(c->drv);
	if (err) {
		pr_warn("QEMU refused the checkpoint: %s; releasing the held output without one",
			vmdrv__strerror(c->drv)[0] ? vmdrv__strerror(c->drv) :
			strerror(-err));
		qemu_finish(c, 0, colo_now_ns());
		return;
	}
	c->q_demanded = 1;
}

void ckp_drv_event(struct colo_ckpt *c, const struct vmdrv_event *ev)
{
	int live = c->phase == COLO_CK_COLO || c->phase == COLO_CK_WAITING;

	switch (ev->type) {
	case VMDRV_EV_CHECKPOINT_START:
		c->q_count = ev->checkpoint;
		if (!live || !c->self)
			break;
		c->q_started = 1;
		c->q_start_ns = ev->ts_ns;
		if (!c->q_demanded)
			c->q_demand_ns = ev->ts_ns;
		if (c->env.loop)
			colo_loop__boundary(c->env.loop);
		break;
	case VMDRV_EV_CHECKPOINT_DONE:
		if (live && c->self)
			qemu_finish(c, 1, ev->ts_ns > 0 ? (uint64_t)ev->ts_ns :
				    colo_now_ns());
		break;
	case VMDRV_EV_ERROR:
		pr_warn("VM driver: %s", ev->msg);
		if (live && (c->q_demanded || c->q_started))
			qemu_finish(c, 0, colo_now_ns());
		break;
	case VMDRV_EV_COLO_EXIT:
		if (c->phase != COLO_CK_COLO)
			break;
		pr_warn("the primary VM left replication on its own: failing over");
		ck_post(c, COLO_EV_FAILOVER_REQUEST, 0, 0);
		break;
	case VMDRV_EV_COLO_ENTER:
		pr_info("the primary VM is replicating");
		break;
	default:
		pr_debug("VM driver event %d", ev->type);
		break;
	}
}

/* --- the machine's actions (process driver: the proxies move the state) --- */

static void stop_vm(struct colo_ckpt *c, uint64_t seq)
{
	uint64_t t0 = colo_now_ns(), n = 0;
	int err;

	if (c->self) {
		if (c->phase == COLO_CK_STOOD_DOWN)
			pr_warn("the secondary serves now: stop the primary QEMU");
		return;
	}
	err = vmdrv__stop(c->drv);
	if (err) {
		pr_warn("checkpoint %" PRIu64 ": cannot stop the primary VM: %s",
			seq, vmdrv__strerror(c->drv));
		ck_post(c, COLO_EV_SAVE_FAILED, 0, seq);
		return;
	}
	if (c->env.loop && c->phase == COLO_CK_COLO)
		n = colo_loop__boundary(c->env.loop);
	pr_debug("checkpoint %" PRIu64 ": primary VM stopped in %.2f ms, %" PRIu64 " frames wait for it",
		 seq, ck_ms(colo_now_ns() - t0), n);
	ck_post(c, COLO_EV_VM_STOPPED, 0, seq);
}

static void save_state(struct colo_ckpt *c, uint64_t seq)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	err = vmdrv__save(c->drv, &buf, &len);
	if (err || !len) {
		pr_warn("checkpoint %" PRIu64 ": cannot save the primary VM's state: %s",
			seq, err ? vmdrv__strerror(c->drv) : "it is empty");
		free(buf);
		ck_post(c, COLO_EV_SAVE_FAILED, 0, seq);
		return;
	}
	free(c->state);
	c->state = buf;
	c->state_len = len;
	ck_post(c, COLO_EV_STATE_SAVED, len, seq);
}

static void send_state(struct colo_ckpt *c, const struct colo_action *a)
{
	int err;

	if (!c->state || c->state_len != a->value) {
		pr_err("checkpoint %" PRIu64 ": no saved state of %" PRIu64 " bytes to send (a bug)",
		       a->seq, a->value);
		return;
	}
	err = colo_peer__send_raw(&c->peer, c->state, c->state_len);
	if (err)
		pr_warn("checkpoint %" PRIu64 ": cannot send the state: %s",
			a->seq, strerror(-err));
	free(c->state);
	c->state = NULL;
	c->state_len = 0;
}

static void resume_vm(struct colo_ckpt *c)
{
	int err;

	if (c->self)
		return;
	err = vmdrv__resume(c->drv);
	if (err)
		pr_err("cannot resume the primary VM: %s", vmdrv__strerror(c->drv));
}

void ckp_act(struct colo_ckpt *c, const struct colo_action *a)
{
	switch (a->type) {
	case COLO_ACT_STOP_VM:
		stop_vm(c, a->seq);
		break;
	case COLO_ACT_SAVE_STATE:
		save_state(c, a->seq);
		break;
	case COLO_ACT_SEND_STATE:
		send_state(c, a);
		break;
	case COLO_ACT_RESUME_VM:
		resume_vm(c);
		break;
	case COLO_ACT_RELEASE_OUTPUT:
		if (c->phase == COLO_CK_COLO)
			release(c, 0);	/* only service state moved */
		break;
	case COLO_ACT_CHECKPOINT_DONE:
		machine_done(c, a->seq);
		break;
	case COLO_ACT_ABORT_CHECKPOINT:
		c->aborted++;
		free(c->state);
		c->state = NULL;
		break;
	case COLO_ACT_FAILOVER:
		ck_failover(c, a->value);
		break;
	case COLO_ACT_STAND_DOWN:
		ck_stand_down(c, a->value);
		break;
	default:
		pr_debug("primary: action %s ignored", colo_act_name(a->type));
		break;
	}
}

static int aux_fill(void *ctx, struct pollfd *pfd, int max, int *timeout_ms)
{
	return colo_ckpt__fill(ctx, pfd, max, timeout_ms);
}

static int aux_done(void *ctx, const struct pollfd *pfd, int n)
{
	return colo_ckpt__done(ctx, pfd, n);
}

void colo_ckpt__attach_loop(struct colo_ckpt *c)
{
	static const struct colo_loop_aux aux = {
		.fill = aux_fill,
		.done = aux_done,
	};
	struct colo_loop *l = c->env.loop;

	l->checkpoint = on_divergence;
	l->checkpoint_ctx = c;
	l->aux = &aux;
	l->aux_ctx = c;
}
