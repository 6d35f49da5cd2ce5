// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The primary's checkpoint state machine (see protocol.h, docs/protocol.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol_int.h"

int colo_primary__init(struct colo_primary *p, const struct colo_proto_cfg *cfg)
{
	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	return colo_pt_base_init(&p->b, cfg);
}

static void p_failover(struct colo_primary *p, enum colo_proto_reason why,
		       bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	colo_pt_cancel_all(b, out);
	if (tell)
		colo_pt_send(out, COLO_CMD_FAILOVER, why | COLO_FO_SENDER_RUNS, b->seq);
	colo_pt_push(out, COLO_ACT_RELEASE_OUTPUT, 0, b->seq);
	if (!b->vm_running) {
		colo_pt_push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	colo_pt_push(out, COLO_ACT_FAILOVER, why, b->seq);
	p->state = COLO_P_FAILED_OVER;
	colo_pt_note_end(b, why, COLO_OUT_FAILOVER, out);
	colo_pt_textf(out, "failing over (%s): the primary runs alone",
	      colo_proto_reason_name(why));
}

static void p_stand_down(struct colo_primary *p, enum colo_proto_reason why,
			 struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	colo_pt_cancel_all(b, out);
	if (b->vm_running) {
		colo_pt_push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
	}
	colo_pt_push(out, COLO_ACT_STAND_DOWN, why, b->seq);
	p->state = COLO_P_STOOD_DOWN;
	colo_pt_note_end(b, why, COLO_OUT_STAND_DOWN, out);
	colo_pt_textf(out, "standing down (%s): the secondary runs the service, drop held output",
	      colo_proto_reason_name(why));
}

static void p_start(struct colo_primary *p, uint32_t flags, uint64_t since,
		    uint32_t merged, uint32_t attempts, struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	struct colo_ckpt_timing *c = &b->cur;

	b->seq++;
	memset(c, 0, sizeof(*c));
	c->seq = b->seq;
	c->demand_ns = since;
	c->start_ns = b->now;
	c->coalesced = merged;
	c->attempts = attempts;
	c->pause = flags & COLO_CKPT_PAUSE;
	colo_pt_send(out, COLO_CMD_CHECKPOINT_REQUEST,
	     b->seq | (c->pause ? COLO_REQ_PAUSE : 0), b->seq);
	colo_pt_arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
	p->state = COLO_P_WAIT_REPLY;
}

static void p_start_wanted(struct colo_primary *p, struct colo_actions *out)
{
	if (!p->want)
		return;
	p->want = false;
	p_start(p, p->want_flags, p->want_since, p->want_merged, 0, out);
}

/* Before vmstate-send nothing irreversible happened: resume and retry. */
static void p_abort(struct colo_primary *p, enum colo_proto_reason why,
		    struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	struct colo_ckpt_timing c = b->cur;

	colo_pt_push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
	colo_pt_cancel(b, out, COLO_TIMER_STEP);
	if (!b->vm_running) {
		colo_pt_push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	b->stats.aborted++;
	p->aborts++;
	if (p->aborts >= b->cfg.max_aborts) {
		colo_pt_textf(out, "checkpoint %llu aborted (%s), %u in a row",
		      ULL(b->seq), colo_proto_reason_name(why), p->aborts);
		p_failover(p, COLO_PR_ABORTS, true, out);
		return;
	}
	colo_pt_textf(out, "checkpoint %llu aborted (%s), retrying as %llu",
	      ULL(b->seq), colo_proto_reason_name(why), ULL(b->seq + 1));
	p_start(p, c.pause ? COLO_CKPT_PAUSE : 0, c.demand_ns, c.coalesced,
		c.attempts + 1, out);
	out->outcome = COLO_OUT_ABORTED;
}

static void p_done(struct colo_primary *p, struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	colo_pt_cancel(b, out, COLO_TIMER_STEP);
	colo_pt_push(out, COLO_ACT_RESUME_VM, 0, b->seq);
	b->vm_running = true;
	b->cur.loaded_ns = b->now;
	b->done = b->seq;
	b->stats.checkpoints++;
	b->stats.last = b->cur;
	p->aborts = 0;
	colo_pt_push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
	p->state = COLO_P_RUNNING;
	p_start_wanted(p, out);
}

/* Waiting for checkpoint-reply: a late reply to an aborted checkpoint is
 * harmless; anything else aborts this one (nothing is sent yet). */
static int p_wait_reply(struct colo_primary *p, uint32_t cmd, uint64_t v,
			struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	bool repeat = b->have_last && b->last_cmd == cmd && b->last_val == v;
	int ret;

	if (cmd == COLO_CMD_CHECKPOINT_REPLY && v == b->seq) {
		colo_pt_cancel(b, out, COLO_TIMER_STEP);
		b->cur.reply_ns = b->now;
		colo_pt_push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
		p->state = COLO_P_WAIT_STOPPED;
		return 0;
	}
	if (cmd == COLO_CMD_CHECKPOINT_REPLY && v > b->done && v < b->seq &&
	    !repeat) {
		out->outcome = COLO_OUT_IGNORED;
		colo_pt_textf(out, "late checkpoint-reply(%llu) for an aborted checkpoint ignored",
		      ULL(v));
		return 0;
	}
	ret = colo_pt_bad_msg(b, "secondary", cmd, v, COLO_CMD_CHECKPOINT_REPLY, b->seq,
		      colo_pstate_name(p->state), out);
	p_abort(p, COLO_PR_PROTOCOL, out);
	return ret;
}

/* A checkpoint message from the secondary, by state. */
static int p_step(struct colo_primary *p, uint32_t cmd, uint64_t v,
		  struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	uint32_t exp = COLO_CMD_MAX;
	uint64_t want = b->seq;
	int ret;

	switch (p->state) {
	case COLO_P_WAIT_READY:
		if (cmd == COLO_CMD_CHECKPOINT_READY && v == 0) {
			colo_pt_cancel(b, out, COLO_TIMER_STEP);
			colo_pt_push(out, COLO_ACT_RESUME_VM, 0, 0);
			b->vm_running = true;
			p->state = COLO_P_RUNNING;
			p_start_wanted(p, out);
			return 0;
		}
		exp = COLO_CMD_CHECKPOINT_READY;
		want = 0;
		break;
	case COLO_P_WAIT_REPLY:
		return p_wait_reply(p, cmd, v, out);
	case COLO_P_WAIT_STOPPED:
	case COLO_P_WAIT_SAVED:
		ret = colo_pt_bad_msg(b, "secondary", cmd, v, COLO_CMD_MAX, 0,
			      colo_pstate_name(p->state), out);
		p_abort(p, COLO_PR_PROTOCOL, out);
		return ret;
	case COLO_P_WAIT_RECEIVED:
		if (cmd == COLO_CMD_VMSTATE_RECEIVED && v == b->seq) {
			b->cur.received_ns = b->now;
			colo_pt_push(out, COLO_ACT_RELEASE_OUTPUT, 0, b->seq);
			colo_pt_arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
			p->state = COLO_P_WAIT_LOADED;
			return 0;
		}
		exp = COLO_CMD_VMSTATE_RECEIVED;
		break;
	case COLO_P_WAIT_LOADED:
		if (cmd == COLO_CMD_VMSTATE_LOADED && v == b->seq) {
			p_done(p, out);
			return 0;
		}
		exp = COLO_CMD_VMSTATE_LOADED;
		break;
	default:	/* running: the secondary has nothing to say */
		break;
	}
	/* committed, or no checkpoint to abort: the pair cannot go on */
	ret = colo_pt_bad_msg(b, "secondary", cmd, v, exp, want,
		      colo_pstate_name(p->state), out);
	p_failover(p, COLO_PR_PROTOCOL, true, out);
	return ret;
}

static int p_msg(struct colo_primary *p, const struct colo_event *ev,
		 struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	int ret;

	b->last_rx_ns = b->now;
	if (ev->cmd >= COLO_CMD_MAX) {
		ret = colo_pt_bad_msg(b, "secondary", ev->cmd, ev->value, COLO_CMD_MAX,
			      0, colo_pstate_name(p->state), out);
		p_failover(p, COLO_PR_UNKNOWN_CMD, true, out);
		return ret;
	}
	if (ev->cmd == COLO_CMD_HEARTBEAT) {
		b->stats.heartbeats_rx++;
		return 0;
	}
	if (ev->cmd == COLO_CMD_FAILOVER) {
		colo_pt_textf(out, "the secondary left COLO (%s)",
		      colo_proto_reason_name(ev->value & COLO_FO_REASON_MASK));
		if (ev->value & COLO_FO_SENDER_RUNS)
			p_stand_down(p, COLO_PR_PEER_FAILOVER, out);
		else
			p_failover(p, COLO_PR_PEER_FAILOVER, false, out);
		return 0;
	}
	ret = p_step(p, ev->cmd, ev->value, out);
	colo_pt_note_last(b, ev->cmd, ev->value);
	return ret;
}

static int p_timer(struct colo_primary *p, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	uint64_t ms = b->cfg.step_timeout_ns / NS_PER_MS;

	if (ev->value >= COLO_TIMER_MAX)
		return colo_pt_bad_event(out, "unknown timer");
	if (!colo_pt_timer_due(b, ev->value))
		return colo_pt_local_mismatch(b, ev, true, colo_pstate_name(p->state), out);
	switch (ev->value) {
	case COLO_TIMER_HEARTBEAT:
		colo_pt_heartbeat(b, out);
		return 0;
	case COLO_TIMER_PEER:
		if (!colo_pt_peer_silent(b, out))
			return 0;
		colo_pt_textf(out, "nothing from the secondary for %llu ms",
		      ULL((b->now - b->last_rx_ns) / NS_PER_MS));
		p_failover(p, COLO_PR_HEARTBEAT, true, out);
		return 0;
	}
	switch (p->state) {
	case COLO_P_WAIT_REPLY:
		colo_pt_textf(out, "no checkpoint-reply(%llu) within %llu ms",
		      ULL(b->seq), ULL(ms));
		p_abort(p, COLO_PR_STEP_TIMEOUT, out);
		return 0;
	case COLO_P_WAIT_READY:
	case COLO_P_WAIT_RECEIVED:
	case COLO_P_WAIT_LOADED:
		colo_pt_textf(out, "the secondary did not answer within %llu ms (state %s)",
		      ULL(ms), colo_pstate_name(p->state));
		p_failover(p, COLO_PR_STEP_TIMEOUT, true, out);
		return 0;
	default:
		return colo_pt_local_mismatch(b, ev, true, colo_pstate_name(p->state), out);
	}
}

static int p_local(struct colo_primary *p, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	bool stale = ev->seq != b->seq;

	if (!stale && ev->type == COLO_EV_VM_STOPPED &&
	    p->state == COLO_P_WAIT_STOPPED) {
		b->cur.stopped_ns = b->now;
		colo_pt_push(out, COLO_ACT_SAVE_STATE, 0, b->seq);
		p->state = COLO_P_WAIT_SAVED;
		return 0;
	}
	if (!stale && ev->type == COLO_EV_STATE_SAVED &&
	    p->state == COLO_P_WAIT_SAVED && ev->value) {
		b->cur.saved_ns = b->now;
		b->cur.size = ev->value;
		colo_pt_send(out, COLO_CMD_VMSTATE_SEND, b->seq, b->seq);
		colo_pt_send(out, COLO_CMD_VMSTATE_SIZE, ev->value, b->seq);
		colo_pt_push(out, COLO_ACT_SEND_STATE, ev->value, b->seq);
		colo_pt_arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
		p->state = COLO_P_WAIT_RECEIVED;
		return 0;
	}
	if (!stale && ((ev->type == COLO_EV_SAVE_FAILED &&
			p->state == COLO_P_WAIT_STOPPED) ||
		       ((ev->type == COLO_EV_SAVE_FAILED ||
			 ev->type == COLO_EV_STATE_SAVED) &&
			p->state == COLO_P_WAIT_SAVED))) {
		colo_pt_textf(out, "checkpoint %llu: %s", ULL(b->seq),
		      ev->type == COLO_EV_STATE_SAVED ? "the saved state is empty" :
		      "the VM could not be stopped or saved");
		p_abort(p, COLO_PR_SAVE_FAILED, out);
		return 0;
	}
	return colo_pt_local_mismatch(b, ev, stale, colo_pstate_name(p->state), out);
}

static int p_demand(struct colo_primary *p, const struct colo_event *ev,
		    struct colo_actions *out)
{
	uint32_t flags = (uint32_t)ev->value;

	if (ev->value & ~(uint64_t)COLO_CKPT_PAUSE)
		return colo_pt_bad_event(out, "unknown checkpoint flags");
	if (p->state == COLO_P_RUNNING) {
		p_start(p, flags, p->b.now, 0, 0, out);
		return 0;
	}
	if (p->want) {
		p->want_merged++;
		p->b.stats.coalesced++;
	} else {
		p->want = true;
		p->want_since = p->b.now;
		p->want_merged = 0;
	}
	p->want_flags = flags;
	return 0;
}

static int p_lost(struct colo_primary *p, const struct colo_event *ev,
		  struct colo_actions *out)
{
	if (!ev->value) {
		colo_pt_textf(out, "connection to the secondary lost");
		p_failover(p, COLO_PR_CONN_LOST, false, out);
		return 0;
	}
	out->err = COLO_PERR_TRUNCATED;
	p->b.stats.errors++;
	colo_pt_textf(out, "connection to the secondary closed after %llu bytes of a %d-byte message",
	      ULL(ev->value), COLO_MSG_LEN);
	p_failover(p, COLO_PR_TRUNCATED, false, out);
	return -EPROTO;
}

static int p_dispatch(struct colo_primary *p, const struct colo_event *ev,
		      struct colo_actions *out)
{
	switch (ev->type) {
	case COLO_EV_START:
		colo_pt_start_base(&p->b, out);
		colo_pt_arm(&p->b, out, COLO_TIMER_STEP, p->b.cfg.step_timeout_ns);
		p->state = COLO_P_WAIT_READY;
		return 0;
	case COLO_EV_MSG:
		return p_msg(p, ev, out);
	case COLO_EV_TIMER:
		return p_timer(p, ev, out);
	case COLO_EV_CHECKPOINT:
		return p_demand(p, ev, out);
	case COLO_EV_VM_STOPPED:
	case COLO_EV_STATE_SAVED:
	case COLO_EV_SAVE_FAILED:
		return p_local(p, ev, out);
	case COLO_EV_PEER_LOST:
		return p_lost(p, ev, out);
	case COLO_EV_FAILOVER_REQUEST:
		colo_pt_textf(out, "failover requested");
		p_failover(p, COLO_PR_OPERATOR, true, out);
		return 0;
	default:
		return colo_pt_bad_event(out, "event not meant for the primary");
	}
}

int colo_primary__handle(struct colo_primary *p, const struct colo_event *ev,
			 struct colo_actions *out)
{
	int ret;

	if (!p || !ev || !out)
		return -EINVAL;
	ret = colo_pt_begin(&p->b, ev, out);
	if (ret)
		return ret;
	if (p->state == COLO_P_FAILED_OVER || p->state == COLO_P_STOOD_DOWN)
		return colo_pt_after_end(ev, "primary", out);
	ret = p_dispatch(p, ev, out);
	return out->overflow ? -ENOBUFS : ret;
}
