// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The secondary's checkpoint state machine (see protocol.h, docs/protocol.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol_int.h"

int colo_secondary__init(struct colo_secondary *s,
			 const struct colo_proto_cfg *cfg)
{
	if (!s)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	return colo_pt_base_init(&s->b, cfg);
}

/* A checkpoint is under way: its partial state must be thrown away. */
static bool s_mid_checkpoint(const struct colo_secondary *s)
{
	return s->state >= COLO_S_WAIT_STOPPED && s->state <= COLO_S_LOADING;
}

static void s_stand_down(struct colo_secondary *s, enum colo_proto_reason why,
			 bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	colo_pt_cancel_all(b, out);
	if (s_mid_checkpoint(s))
		colo_pt_push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
	if (tell)
		colo_pt_send(out, COLO_CMD_FAILOVER, why, b->seq);
	if (b->vm_running) {
		colo_pt_push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
	}
	colo_pt_push(out, COLO_ACT_STAND_DOWN, why, b->seq);
	s->state = COLO_S_STOOD_DOWN;
	colo_pt_note_end(b, why, COLO_OUT_STAND_DOWN, out);
	colo_pt_textf(out, "standing down (%s): the primary runs alone",
	      colo_proto_reason_name(why));
}

static void s_takeover(struct colo_secondary *s, enum colo_proto_reason why,
		       bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	colo_pt_cancel_all(b, out);
	if (s_mid_checkpoint(s)) {
		colo_pt_push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
		b->stats.aborted++;
	}
	if (tell)
		colo_pt_send(out, COLO_CMD_FAILOVER, why | COLO_FO_SENDER_RUNS, b->seq);
	if (!b->vm_running) {
		colo_pt_push(out, COLO_ACT_RESUME_VM, 0, b->done);
		b->vm_running = true;
	}
	colo_pt_push(out, COLO_ACT_FAILOVER, why, b->done);
	s->state = COLO_S_TOOK_OVER;
	colo_pt_note_end(b, why, COLO_OUT_FAILOVER, out);
	colo_pt_textf(out, "taking over (%s) from checkpoint %llu",
	      colo_proto_reason_name(why), ULL(b->done));
}

/* The primary is gone. While a load is under way the takeover waits for it:
 * the received state is complete, the VM's memory is not. */
static void s_lost(struct colo_secondary *s, enum colo_proto_reason why,
		   bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	if (s->state != COLO_S_LOADING) {
		s_takeover(s, why, tell, out);
		return;
	}
	colo_pt_cancel_all(b, out);
	s->takeover = why;
	s->takeover_tell = tell;
	b->stats.failover.reason = why;
	b->stats.failover.detected_ns = b->now;
	b->stats.failover.last_rx_ns = b->last_rx_ns;
	out->outcome = COLO_OUT_FAILOVER_PENDING;
	colo_pt_textf(out, "primary lost (%s): taking over once checkpoint %llu is loaded",
	      colo_proto_reason_name(why), ULL(b->seq));
}

static void s_reply(struct colo_secondary *s, struct colo_actions *out)
{
	s->b.cur.stopped_ns = s->b.now;
	colo_pt_send(out, COLO_CMD_CHECKPOINT_REPLY, s->b.seq, s->b.seq);
	s->state = COLO_S_WAIT_SEND;
}

static void s_new_checkpoint(struct colo_secondary *s, uint64_t v)
{
	struct colo_proto_base *b = &s->b;

	b->seq = v & COLO_SEQ_MASK;
	s->pause = v & COLO_REQ_PAUSE;
	memset(&b->cur, 0, sizeof(b->cur));
	b->cur.seq = b->seq;
	b->cur.start_ns = b->now;
	b->cur.pause = s->pause;
}

static void s_request(struct colo_secondary *s, uint64_t v,
		      struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	s_new_checkpoint(s, v);
	if (!b->vm_running) {
		s_reply(s, out);
		return;
	}
	colo_pt_push(out, COLO_ACT_STOP_VM, 0, b->seq);
	b->vm_running = false;
	s->op_seq = b->seq;
	s->state = COLO_S_WAIT_STOPPED;
}

/* The primary aborted checkpoint seq and asks for seq + 1. */
static void s_supersede(struct colo_secondary *s, uint64_t v,
			struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	colo_pt_push(out, COLO_ACT_ABORT_CHECKPOINT, COLO_PR_SUPERSEDED, b->seq);
	b->stats.aborted++;
	out->outcome = COLO_OUT_ABORTED;
	colo_pt_textf(out, "checkpoint %llu abandoned by the primary for %llu",
	      ULL(b->seq), ULL(v & COLO_SEQ_MASK));
	s_new_checkpoint(s, v);
	if (s->state == COLO_S_WAIT_SEND)
		s_reply(s, out);
	/* else the VM is still stopping: reply when it has */
}

static int s_step(struct colo_secondary *s, uint32_t cmd, uint64_t v,
		  struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;
	const char *st = colo_sstate_name(s->state);
	uint64_t seq = cmd == COLO_CMD_CHECKPOINT_REQUEST ? v & COLO_SEQ_MASK : v;
	bool next = cmd == COLO_CMD_CHECKPOINT_REQUEST && seq == b->seq + 1;
	uint32_t exp = COLO_CMD_MAX;
	uint64_t want = 0;

	switch (s->state) {
	case COLO_S_IDLE:
		if (next) {
			s_request(s, v, out);
			return 0;
		}
		exp = COLO_CMD_CHECKPOINT_REQUEST;
		want = b->seq + 1;
		break;
	case COLO_S_WAIT_SEND:
		if (cmd == COLO_CMD_VMSTATE_SEND && v == b->seq) {
			b->cur.send_ns = b->now;
			s->state = COLO_S_WAIT_SIZE;
			return 0;
		}
		exp = COLO_CMD_VMSTATE_SEND;
		want = b->seq;
		/* fall through */
	case COLO_S_WAIT_STOPPED:
		if (next) {
			s_supersede(s, v, out);
			return 0;
		}
		break;
	case COLO_S_WAIT_SIZE:
		if (cmd != COLO_CMD_VMSTATE_SIZE)
			break;
		if (v && (!b->cfg.max_state_size || v <= b->cfg.max_state_size)) {
			b->cur.size = v;
			colo_pt_push(out, COLO_ACT_RECV_STATE, v, b->seq);
			s->state = COLO_S_RECV_STATE;
			return 0;
		}
		b->stats.errors++;
		out->err = COLO_PERR_BAD_VALUE;
		colo_pt_textf(out, "vmstate-size(%llu) from the primary out of range (1..%llu)",
		      ULL(v), ULL(b->cfg.max_state_size ? b->cfg.max_state_size :
				  UINT64_MAX));
		s_stand_down(s, COLO_PR_PROTOCOL, true, out);
		return -EPROTO;
	default:	/* loading: the primary waits for us */
		break;
	}
	colo_pt_bad_msg(b, "primary", cmd, seq, exp, want, st, out);
	s_stand_down(s, COLO_PR_PROTOCOL, true, out);
	return -EPROTO;
}

static int s_msg(struct colo_secondary *s, const struct colo_event *ev,
		 struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;
	int ret;

	b->last_rx_ns = b->now;
	if (ev->cmd >= COLO_CMD_MAX || s->state == COLO_S_RECV_STATE) {
		/* unknown, or a message where raw state bytes belong */
		ret = colo_pt_bad_msg(b, "primary", ev->cmd, ev->value, COLO_CMD_MAX, 0,
			      colo_sstate_name(s->state), out);
		s_stand_down(s, ev->cmd >= COLO_CMD_MAX ? COLO_PR_UNKNOWN_CMD :
			     COLO_PR_PROTOCOL, true, out);
		return ret;
	}
	if (ev->cmd == COLO_CMD_HEARTBEAT) {
		b->stats.heartbeats_rx++;
		return 0;
	}
	if (ev->cmd == COLO_CMD_FAILOVER) {
		colo_pt_textf(out, "the primary left COLO (%s)",
		      colo_proto_reason_name(ev->value & COLO_FO_REASON_MASK));
		if (ev->value & COLO_FO_SENDER_RUNS)
			s_stand_down(s, COLO_PR_PEER_FAILOVER, false, out);
		else
			s_lost(s, COLO_PR_PEER_FAILOVER, false, out);
		return 0;
	}
	ret = s_step(s, ev->cmd, ev->value, out);
	colo_pt_note_last(b, ev->cmd, ev->cmd == COLO_CMD_CHECKPOINT_REQUEST ?
		  ev->value & COLO_SEQ_MASK : ev->value);
	return ret;
}

static void s_loaded(struct colo_secondary *s, struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	b->cur.loaded_ns = b->now;
	b->done = b->seq;
	b->stats.checkpoints++;
	b->stats.last = b->cur;
	s->state = COLO_S_IDLE;
	if (b->cfg.reset_rewrite)
		colo_pt_push(out, COLO_ACT_RESET_REWRITE, 0, b->seq);
	if (s->takeover) {
		colo_pt_push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
		s_takeover(s, s->takeover, s->takeover_tell, out);
		return;
	}
	colo_pt_send(out, COLO_CMD_VMSTATE_LOADED, b->seq, b->seq);
	if (!s->pause) {
		colo_pt_push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	colo_pt_push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
}

static int s_local(struct colo_secondary *s, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;
	uint64_t cur = ev->type == COLO_EV_VM_STOPPED ? s->op_seq : b->seq;
	bool stale = ev->seq != cur || ev->type == COLO_EV_STATE_PROGRESS;

	if (s->state == COLO_S_RECV_STATE && ev->type == COLO_EV_STATE_PROGRESS) {
		b->last_rx_ns = b->now;
		return 0;
	}
	if (stale)
		goto mismatch;
	if (ev->type == COLO_EV_VM_STOPPED && s->state == COLO_S_WAIT_STOPPED) {
		s_reply(s, out);
		return 0;
	}
	if (ev->type == COLO_EV_STATE_RECEIVED && s->state == COLO_S_RECV_STATE) {
		b->last_rx_ns = b->now;
		b->cur.received_ns = b->now;
		colo_pt_send(out, COLO_CMD_VMSTATE_RECEIVED, b->seq, b->seq);
		colo_pt_push(out, COLO_ACT_LOAD_STATE, b->cur.size, b->seq);
		s->state = COLO_S_LOADING;
		return 0;
	}
	if (ev->type == COLO_EV_STATE_LOADED && s->state == COLO_S_LOADING) {
		s_loaded(s, out);
		return 0;
	}
	if (ev->type == COLO_EV_LOAD_FAILED && s->state == COLO_S_LOADING) {
		colo_pt_textf(out, "checkpoint %llu could not be loaded%s", ULL(b->seq),
		      s->takeover ? " and the primary is gone: no VM can go on" : "");
		s_stand_down(s, COLO_PR_LOAD_FAILED, !s->takeover, out);
		return 0;
	}
mismatch:
	return colo_pt_local_mismatch(b, ev, stale, colo_sstate_name(s->state), out);
}

static int s_timer(struct colo_secondary *s, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	if (ev->value >= COLO_TIMER_MAX)
		return colo_pt_bad_event(out, "unknown timer");
	if (!colo_pt_timer_due(b, ev->value))
		return colo_pt_local_mismatch(b, ev, true, colo_sstate_name(s->state), out);
	if (ev->value == COLO_TIMER_HEARTBEAT) {
		colo_pt_heartbeat(b, out);
		return 0;
	}
	/* the peer timer: the step timer is never armed here */
	if (!colo_pt_peer_silent(b, out))
		return 0;
	colo_pt_textf(out, "nothing from the primary for %llu ms",
	      ULL((b->now - b->last_rx_ns) / NS_PER_MS));
	s_lost(s, COLO_PR_HEARTBEAT, true, out);
	return 0;
}

static int s_dispatch(struct colo_secondary *s, const struct colo_event *ev,
		      struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	switch (ev->type) {
	case COLO_EV_START:
		colo_pt_start_base(b, out);
		colo_pt_send(out, COLO_CMD_CHECKPOINT_READY, 0, 0);
		if (!b->cfg.start_paused) {
			colo_pt_push(out, COLO_ACT_RESUME_VM, 0, 0);
			b->vm_running = true;
		}
		s->state = COLO_S_IDLE;
		return 0;
	case COLO_EV_MSG:
		return s_msg(s, ev, out);
	case COLO_EV_TIMER:
		return s_timer(s, ev, out);
	case COLO_EV_VM_STOPPED:
	case COLO_EV_STATE_PROGRESS:
	case COLO_EV_STATE_RECEIVED:
	case COLO_EV_STATE_LOADED:
	case COLO_EV_LOAD_FAILED:
		return s_local(s, ev, out);
	case COLO_EV_PEER_LOST:
		if (!ev->value) {
			colo_pt_textf(out, "connection to the primary lost");
			s_lost(s, COLO_PR_CONN_LOST, false, out);
			return 0;
		}
		out->err = COLO_PERR_TRUNCATED;
		b->stats.errors++;
		colo_pt_textf(out, "connection to the primary closed after %llu bytes of a %d-byte message",
		      ULL(ev->value), COLO_MSG_LEN);
		s_lost(s, COLO_PR_TRUNCATED, false, out);
		return -EPROTO;
	case COLO_EV_FAILOVER_REQUEST:
		colo_pt_textf(out, "failover requested");
		s_lost(s, COLO_PR_OPERATOR, true, out);
		return 0;
	default:
		return colo_pt_bad_event(out, "event not meant for the secondary");
	}
}

int colo_secondary__handle(struct colo_secondary *s,
			   const struct colo_event *ev, struct colo_actions *out)
{
	int ret;

	if (!s || !ev || !out)
		return -EINVAL;
	ret = colo_pt_begin(&s->b, ev, out);
	if (ret)
		return ret;
	if (s->state == COLO_S_TOOK_OVER || s->state == COLO_S_STOOD_DOWN ||
	    (s->takeover && ev->type != COLO_EV_STATE_LOADED &&
	     ev->type != COLO_EV_LOAD_FAILED))
		return colo_pt_after_end(ev, "secondary", out);
	ret = s_dispatch(s, ev, out);
	return out->overflow ? -ENOBUFS : ret;
}
