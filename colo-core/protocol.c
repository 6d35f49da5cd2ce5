// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checkpoint protocol: wire codec, the primary's and the secondary's
 * state machines. The sequence follows QEMU's migration/colo.c (the COLO-Frame
 * series); sequence numbers on every message, heartbeats, failover messages,
 * timeouts and the invalid-input rules are ours (docs/protocol.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define NS_PER_MS 1000000ULL
#define ULL(x) ((unsigned long long)(x))

/* ---- names ---- */

static const char *const cmd_names[COLO_CMD_MAX] = {
	[COLO_CMD_CHECKPOINT_READY] = "checkpoint-ready",
	[COLO_CMD_CHECKPOINT_REQUEST] = "checkpoint-request",
	[COLO_CMD_CHECKPOINT_REPLY] = "checkpoint-reply",
	[COLO_CMD_VMSTATE_SEND] = "vmstate-send",
	[COLO_CMD_VMSTATE_SIZE] = "vmstate-size",
	[COLO_CMD_VMSTATE_RECEIVED] = "vmstate-received",
	[COLO_CMD_VMSTATE_LOADED] = "vmstate-loaded",
	[COLO_CMD_HEARTBEAT] = "heartbeat",
	[COLO_CMD_FAILOVER] = "failover",
};

static const char *const reason_names[COLO_PR_MAX] = {
	[COLO_PR_NONE] = "none",
	[COLO_PR_HEARTBEAT] = "heartbeat-lost",
	[COLO_PR_CONN_LOST] = "connection-lost",
	[COLO_PR_TRUNCATED] = "truncated-message",
	[COLO_PR_UNKNOWN_CMD] = "unknown-command",
	[COLO_PR_PROTOCOL] = "protocol-error",
	[COLO_PR_STEP_TIMEOUT] = "step-timeout",
	[COLO_PR_SAVE_FAILED] = "save-failed",
	[COLO_PR_LOAD_FAILED] = "load-failed",
	[COLO_PR_ABORTS] = "too-many-aborts",
	[COLO_PR_SUPERSEDED] = "superseded",
	[COLO_PR_PEER_FAILOVER] = "peer-failover",
	[COLO_PR_OPERATOR] = "operator",
};

static const char *const perr_names[COLO_PERR_MAX] = {
	[COLO_PERR_NONE] = "none",
	[COLO_PERR_UNKNOWN_CMD] = "unknown-command",
	[COLO_PERR_WRONG_CMD] = "wrong-command",
	[COLO_PERR_STALE_SEQ] = "stale-seq",
	[COLO_PERR_DUPLICATE] = "duplicate",
	[COLO_PERR_FUTURE_SEQ] = "future-seq",
	[COLO_PERR_BAD_VALUE] = "bad-value",
	[COLO_PERR_TRUNCATED] = "truncated",
	[COLO_PERR_AFTER_END] = "after-end",
	[COLO_PERR_STALE_LOCAL] = "stale-local",
	[COLO_PERR_BAD_EVENT] = "bad-event",
};

static const char *const timer_names[COLO_TIMER_MAX] = {
	[COLO_TIMER_HEARTBEAT] = "heartbeat",
	[COLO_TIMER_PEER] = "peer",
	[COLO_TIMER_STEP] = "step",
};

static const char *const ev_names[COLO_EV_MAX] = {
	[COLO_EV_START] = "start",
	[COLO_EV_MSG] = "message",
	[COLO_EV_TIMER] = "timer",
	[COLO_EV_CHECKPOINT] = "checkpoint demand",
	[COLO_EV_VM_STOPPED] = "vm-stopped",
	[COLO_EV_STATE_SAVED] = "state-saved",
	[COLO_EV_SAVE_FAILED] = "save-failed",
	[COLO_EV_STATE_PROGRESS] = "state-progress",
	[COLO_EV_STATE_RECEIVED] = "state-received",
	[COLO_EV_STATE_LOADED] = "state-loaded",
	[COLO_EV_LOAD_FAILED] = "load-failed",
	[COLO_EV_PEER_LOST] = "peer-lost",
	[COLO_EV_FAILOVER_REQUEST] = "failover-request",
};

static const char *const act_names[COLO_ACT_MAX] = {
	[COLO_ACT_SEND] = "send",
	[COLO_ACT_SEND_STATE] = "send-state",
	[COLO_ACT_RECV_STATE] = "recv-state",
	[COLO_ACT_STOP_VM] = "stop-vm",
	[COLO_ACT_RESUME_VM] = "resume-vm",
	[COLO_ACT_SAVE_STATE] = "save-state",
	[COLO_ACT_LOAD_STATE] = "load-state",
	[COLO_ACT_RELEASE_OUTPUT] = "release-output",
	[COLO_ACT_RESET_REWRITE] = "reset-rewrite",
	[COLO_ACT_ARM_TIMER] = "arm-timer",
	[COLO_ACT_CANCEL_TIMER] = "cancel-timer",
	[COLO_ACT_CHECKPOINT_DONE] = "checkpoint-done",
	[COLO_ACT_ABORT_CHECKPOINT] = "abort-checkpoint",
	[COLO_ACT_FAILOVER] = "failover",
	[COLO_ACT_STAND_DOWN] = "stand-down",
};

static const char *const outcome_names[COLO_OUT_MAX] = {
	[COLO_OUT_OK] = "ok",
	[COLO_OUT_IGNORED] = "ignored",
	[COLO_OUT_ABORTED] = "aborted",
	[COLO_OUT_FAILOVER] = "failover",
	[COLO_OUT_FAILOVER_PENDING] = "failover-pending",
	[COLO_OUT_STAND_DOWN] = "stand-down",
};

static const char *const pstate_names[COLO_P_MAX] = {
	[COLO_P_INIT] = "init",
	[COLO_P_WAIT_READY] = "wait-ready",
	[COLO_P_RUNNING] = "running",
	[COLO_P_WAIT_REPLY] = "wait-reply",
	[COLO_P_WAIT_STOPPED] = "wait-stopped",
	[COLO_P_WAIT_SAVED] = "wait-saved",
	[COLO_P_WAIT_RECEIVED] = "wait-received",
	[COLO_P_WAIT_LOADED] = "wait-loaded",
	[COLO_P_FAILED_OVER] = "failed-over",
	[COLO_P_STOOD_DOWN] = "stood-down",
};

static const char *const sstate_names[COLO_S_MAX] = {
	[COLO_S_INIT] = "init",
	[COLO_S_IDLE] = "idle",
	[COLO_S_WAIT_STOPPED] = "wait-stopped",
	[COLO_S_WAIT_SEND] = "wait-send",
	[COLO_S_WAIT_SIZE] = "wait-size",
	[COLO_S_RECV_STATE] = "recv-state",
	[COLO_S_LOADING] = "loading",
	[COLO_S_TOOK_OVER] = "took-over",
	[COLO_S_STOOD_DOWN] = "stood-down",
};

#define NAME(tab, i) ((unsigned int)(i) < sizeof(tab) / sizeof(tab[0]) && \
		      tab[i] ? tab[i] : "unknown")

const char *colo_cmd_name(uint32_t cmd) { return NAME(cmd_names, cmd); }
const char *colo_proto_reason_name(enum colo_proto_reason r) { return NAME(reason_names, r); }
const char *colo_perr_name(enum colo_perr e) { return NAME(perr_names, e); }
const char *colo_timer_name(enum colo_timer t) { return NAME(timer_names, t); }
const char *colo_act_name(enum colo_act_type a) { return NAME(act_names, a); }
const char *colo_outcome_name(enum colo_outcome o) { return NAME(outcome_names, o); }
const char *colo_pstate_name(enum colo_pstate s) { return NAME(pstate_names, s); }
const char *colo_sstate_name(enum colo_sstate s) { return NAME(sstate_names, s); }

/* ---- wire ---- */

int colo_msg_encode(uint32_t cmd, uint64_t value, uint8_t *buf, size_t cap)
{
	int i;

	if (!buf || cmd >= COLO_CMD_MAX)
		return -EINVAL;
	if (cap < COLO_MSG_LEN)
		return -ENOSPC;
	for (i = 0; i < 4; i++)
		buf[i] = (uint8_t)(cmd >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		buf[4 + i] = (uint8_t)(value >> (56 - 8 * i));
	return COLO_MSG_LEN;
}

int colo_msg_decode(const uint8_t *buf, size_t len, struct colo_msg *m)
{
	int i;

	if (!m || (!buf && len))
		return -EINVAL;
	if (len < COLO_MSG_LEN)
		return 0;
	m->cmd = 0;
	m->value = 0;
	for (i = 0; i < 4; i++)
		m->cmd = m->cmd << 8 | buf[i];
	for (i = 0; i < 8; i++)
		m->value = m->value << 8 | buf[4 + i];
	return m->cmd < COLO_CMD_MAX ? COLO_MSG_LEN : -EPROTO;
}

/* ---- shared by both machines ---- */

void colo_proto_cfg_default(struct colo_proto_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->heartbeat_interval_ns = 100 * NS_PER_MS;
	cfg->heartbeat_timeout_ns = 1000 * NS_PER_MS;
	cfg->step_timeout_ns = 10000 * NS_PER_MS;
	cfg->max_aborts = 3;
}

static int base_init(struct colo_proto_base *b, const struct colo_proto_cfg *cfg)
{
	struct colo_proto_cfg def;

	if (!cfg) {
		colo_proto_cfg_default(&def);
		cfg = &def;
	}
	if (!cfg->heartbeat_interval_ns || !cfg->step_timeout_ns ||
	    cfg->heartbeat_timeout_ns <= cfg->heartbeat_interval_ns ||
	    !cfg->max_aborts)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	return 0;
}

static void textf(struct colo_actions *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append to out->text, "; " between parts; cut at the buffer's end. */
static void textf(struct colo_actions *out, const char *fmt, ...)
{
	size_t used = strlen(out->text);
	va_list ap;

	if (used && used + 2 < sizeof(out->text)) {
		memcpy(out->text + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(out->text + used, sizeof(out->text) - used, fmt, ap);
	va_end(ap);
}

static void push(struct colo_actions *out, enum colo_act_type type,
		 uint64_t value, uint64_t seq)
{
	struct colo_action *a;

	if (out->n >= COLO_MAX_ACTIONS) {
		out->overflow = true;
		return;
	}
	a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->value = value;
	a->seq = seq;
}

static void send(struct colo_actions *out, uint32_t cmd, uint64_t value,
		 uint64_t seq)
{
	push(out, COLO_ACT_SEND, value, seq);
	if (!out->overflow)
		out->a[out->n - 1].cmd = cmd;
}

static void arm(struct colo_proto_base *b, struct colo_actions *out,
		enum colo_timer t, uint64_t dur)
{
	b->deadline[t] = b->now + dur;
	push(out, COLO_ACT_ARM_TIMER, dur, b->seq);
	if (!out->overflow)
		out->a[out->n - 1].timer = t;
}

static void cancel(struct colo_proto_base *b, struct colo_actions *out,
		   enum colo_timer t)
{
	if (!b->deadline[t])
		return;
	b->deadline[t] = 0;
	push(out, COLO_ACT_CANCEL_TIMER, 0, b->seq);
	if (!out->overflow)
		out->a[out->n - 1].timer = t;
}

static void cancel_all(struct colo_proto_base *b, struct colo_actions *out)
{
	int t;

	for (t = 0; t < COLO_TIMER_MAX; t++)
		cancel(b, out, t);
}

static int bad_event(struct colo_actions *out, const char *what)
{
	out->err = COLO_PERR_BAD_EVENT;
	out->outcome = COLO_OUT_IGNORED;
	textf(out, "%s", what);
	return -EINVAL;
}

/* Checks common to every event; sets the clock. */
static int begin(struct colo_proto_base *b, const struct colo_event *ev,
		 struct colo_actions *out)
{
	memset(out, 0, sizeof(*out));
	if ((unsigned int)ev->type >= COLO_EV_MAX)
		return bad_event(out, "unknown event type");
	if (ev->now_ns < b->now)
		return bad_event(out, "time went backwards");
	if (!b->started && ev->type != COLO_EV_START)
		return bad_event(out, "event before start");
	if (b->started && ev->type == COLO_EV_START)
		return bad_event(out, "started twice");
	b->now = ev->now_ns;
	return 0;
}

static void describe(const struct colo_event *ev, char *buf, size_t len)
{
	if (ev->type == COLO_EV_MSG)
		snprintf(buf, len, "%s(%llu)", colo_cmd_name(ev->cmd),
			 ULL(ev->value));
	else if (ev->type == COLO_EV_TIMER)
		snprintf(buf, len, "%s timer", colo_timer_name(ev->value));
	else
		snprintf(buf, len, "%s", NAME(ev_names, ev->type));
}

static int after_end(const struct colo_event *ev, const char *who,
		     struct colo_actions *out)
{
	char what[64];

	describe(ev, what, sizeof(what));
	out->err = COLO_PERR_AFTER_END;
	out->outcome = COLO_OUT_IGNORED;
	textf(out, "%s ignored: the %s already left COLO", what, who);
	return -ESHUTDOWN;
}

/* A timer or completion that belongs to an earlier step, or none. */
static int local_mismatch(const struct colo_proto_base *b,
			  const struct colo_event *ev, bool stale,
			  const char *state, struct colo_actions *out)
{
	char what[64];

	describe(ev, what, sizeof(what));
	out->outcome = COLO_OUT_IGNORED;
	if (stale) {
		out->err = COLO_PERR_STALE_LOCAL;
		textf(out, "%s for checkpoint %llu ignored: checkpoint %llu is current",
		      what, ULL(ev->seq), ULL(b->seq));
		return -ESTALE;
	}
	out->err = COLO_PERR_BAD_EVENT;
	textf(out, "%s unexpected in state %s", what, state);
	return -EINVAL;
}

/*
 * Explain a message the state does not allow. exp: the command expected
 * (COLO_CMD_MAX: none), want: its value. Returns -EPROTO.
 */
static int bad_msg(struct colo_proto_base *b, const char *peer, uint32_t cmd,
		   uint64_t val, uint32_t exp, uint64_t want, const char *state,
		   struct colo_actions *out)
{
	const char *name = colo_cmd_name(cmd);

	b->stats.errors++;
	if (cmd >= COLO_CMD_MAX) {
		out->err = COLO_PERR_UNKNOWN_CMD;
		textf(out, "unknown command %u (value %llu) from the %s",
		      cmd, ULL(val), peer);
	} else if (b->have_last && cmd == b->last_cmd && val == b->last_val) {
		out->err = COLO_PERR_DUPLICATE;
		textf(out, "%s(%llu) from the %s repeated (state %s)", name,
		      ULL(val), peer, state);
	} else if (cmd != exp) {
		out->err = COLO_PERR_WRONG_CMD;
		textf(out, "%s(%llu) from the %s not allowed in state %s", name,
		      ULL(val), peer, state);
	} else {
		out->err = val < want ? COLO_PERR_STALE_SEQ : COLO_PERR_FUTURE_SEQ;
		textf(out, "%s(%llu) from the %s is %s: expecting %s(%llu)",
		      name, ULL(val), peer,
		      val < want ? "stale" : "out of order", name, ULL(want));
	}
	return -EPROTO;
}

static void note_last(struct colo_proto_base *b, uint32_t cmd, uint64_t val)
{
	b->have_last = true;
	b->last_cmd = cmd;
	b->last_val = val;
}

static bool timer_due(struct colo_proto_base *b, enum colo_timer t)
{
	if (!b->deadline[t] || b->now < b->deadline[t])
		return false;
	b->deadline[t] = 0;
	return true;
}

/* Peer timer expired: true when the peer has been silent too long,
 * otherwise re-armed for the rest of the timeout. */
static bool peer_silent(struct colo_proto_base *b, struct colo_actions *out)
{
	uint64_t silent = b->now - b->last_rx_ns;

	if (silent >= b->cfg.heartbeat_timeout_ns)
		return true;
	arm(b, out, COLO_TIMER_PEER, b->cfg.heartbeat_timeout_ns - silent);
	return false;
}

static void heartbeat(struct colo_proto_base *b, struct colo_actions *out)
{
	send(out, COLO_CMD_HEARTBEAT, b->done, b->seq);
	b->stats.heartbeats_tx++;
	arm(b, out, COLO_TIMER_HEARTBEAT, b->cfg.heartbeat_interval_ns);
}

static void start_base(struct colo_proto_base *b, struct colo_actions *out)
{
	b->started = true;
	b->last_rx_ns = b->now;
	arm(b, out, COLO_TIMER_HEARTBEAT, b->cfg.heartbeat_interval_ns);
	arm(b, out, COLO_TIMER_PEER, b->cfg.heartbeat_timeout_ns);
}

/* Record how and when this side left COLO. */
static void note_end(struct colo_proto_base *b, enum colo_proto_reason why,
		     enum colo_outcome outcome, struct colo_actions *out)
{
	struct colo_failover_info *fo = &b->stats.failover;

	if (fo->reason == COLO_PR_NONE) {
		fo->detected_ns = b->now;
		fo->last_rx_ns = b->last_rx_ns;
	}
	fo->reason = why;
	fo->outcome = outcome;
	fo->done_ns = b->now;
	fo->seq = b->done;
	out->outcome = outcome;
}

/* ---- primary ---- */

int colo_primary__init(struct colo_primary *p, const struct colo_proto_cfg *cfg)
{
	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	return base_init(&p->b, cfg);
}

static void p_failover(struct colo_primary *p, enum colo_proto_reason why,
		       bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	cancel_all(b, out);
	if (tell)
		send(out, COLO_CMD_FAILOVER, why | COLO_FO_SENDER_RUNS, b->seq);
	push(out, COLO_ACT_RELEASE_OUTPUT, 0, b->seq);
	if (!b->vm_running) {
		push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	push(out, COLO_ACT_FAILOVER, why, b->seq);
	p->state = COLO_P_FAILED_OVER;
	note_end(b, why, COLO_OUT_FAILOVER, out);
	textf(out, "failing over (%s): the primary runs alone",
	      colo_proto_reason_name(why));
}

static void p_stand_down(struct colo_primary *p, enum colo_proto_reason why,
			 struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	cancel_all(b, out);
	if (b->vm_running) {
		push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
	}
	push(out, COLO_ACT_STAND_DOWN, why, b->seq);
	p->state = COLO_P_STOOD_DOWN;
	note_end(b, why, COLO_OUT_STAND_DOWN, out);
	textf(out, "standing down (%s): the secondary runs the service, drop held output",
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
	send(out, COLO_CMD_CHECKPOINT_REQUEST,
	     b->seq | (c->pause ? COLO_REQ_PAUSE : 0), b->seq);
	arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
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

	push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
	cancel(b, out, COLO_TIMER_STEP);
	if (!b->vm_running) {
		push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	b->stats.aborted++;
	p->aborts++;
	if (p->aborts >= b->cfg.max_aborts) {
		textf(out, "checkpoint %llu aborted (%s), %u in a row",
		      ULL(b->seq), colo_proto_reason_name(why), p->aborts);
		p_failover(p, COLO_PR_ABORTS, true, out);
		return;
	}
	textf(out, "checkpoint %llu aborted (%s), retrying as %llu",
	      ULL(b->seq), colo_proto_reason_name(why), ULL(b->seq + 1));
	p_start(p, c.pause ? COLO_CKPT_PAUSE : 0, c.demand_ns, c.coalesced,
		c.attempts + 1, out);
	out->outcome = COLO_OUT_ABORTED;
}

static void p_done(struct colo_primary *p, struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;

	cancel(b, out, COLO_TIMER_STEP);
	push(out, COLO_ACT_RESUME_VM, 0, b->seq);
	b->vm_running = true;
	b->cur.loaded_ns = b->now;
	b->done = b->seq;
	b->stats.checkpoints++;
	b->stats.last = b->cur;
	p->aborts = 0;
	push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
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
		cancel(b, out, COLO_TIMER_STEP);
		b->cur.reply_ns = b->now;
		push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
		p->state = COLO_P_WAIT_STOPPED;
		return 0;
	}
	if (cmd == COLO_CMD_CHECKPOINT_REPLY && v > b->done && v < b->seq &&
	    !repeat) {
		out->outcome = COLO_OUT_IGNORED;
		textf(out, "late checkpoint-reply(%llu) for an aborted checkpoint ignored",
		      ULL(v));
		return 0;
	}
	ret = bad_msg(b, "secondary", cmd, v, COLO_CMD_CHECKPOINT_REPLY, b->seq,
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
			cancel(b, out, COLO_TIMER_STEP);
			push(out, COLO_ACT_RESUME_VM, 0, 0);
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
		ret = bad_msg(b, "secondary", cmd, v, COLO_CMD_MAX, 0,
			      colo_pstate_name(p->state), out);
		p_abort(p, COLO_PR_PROTOCOL, out);
		return ret;
	case COLO_P_WAIT_RECEIVED:
		if (cmd == COLO_CMD_VMSTATE_RECEIVED && v == b->seq) {
			b->cur.received_ns = b->now;
			push(out, COLO_ACT_RELEASE_OUTPUT, 0, b->seq);
			arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
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
	ret = bad_msg(b, "secondary", cmd, v, exp, want,
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
		ret = bad_msg(b, "secondary", ev->cmd, ev->value, COLO_CMD_MAX,
			      0, colo_pstate_name(p->state), out);
		p_failover(p, COLO_PR_UNKNOWN_CMD, true, out);
		return ret;
	}
	if (ev->cmd == COLO_CMD_HEARTBEAT) {
		b->stats.heartbeats_rx++;
		return 0;
	}
	if (ev->cmd == COLO_CMD_FAILOVER) {
		textf(out, "the secondary left COLO (%s)",
		      colo_proto_reason_name(ev->value & COLO_FO_REASON_MASK));
		if (ev->value & COLO_FO_SENDER_RUNS)
			p_stand_down(p, COLO_PR_PEER_FAILOVER, out);
		else
			p_failover(p, COLO_PR_PEER_FAILOVER, false, out);
		return 0;
	}
	ret = p_step(p, ev->cmd, ev->value, out);
	note_last(b, ev->cmd, ev->value);
	return ret;
}

static int p_timer(struct colo_primary *p, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &p->b;
	uint64_t ms = b->cfg.step_timeout_ns / NS_PER_MS;

	if (ev->value >= COLO_TIMER_MAX)
		return bad_event(out, "unknown timer");
	if (!timer_due(b, ev->value))
		return local_mismatch(b, ev, true, colo_pstate_name(p->state), out);
	switch (ev->value) {
	case COLO_TIMER_HEARTBEAT:
		heartbeat(b, out);
		return 0;
	case COLO_TIMER_PEER:
		if (!peer_silent(b, out))
			return 0;
		textf(out, "nothing from the secondary for %llu ms",
		      ULL((b->now - b->last_rx_ns) / NS_PER_MS));
		p_failover(p, COLO_PR_HEARTBEAT, true, out);
		return 0;
	}
	switch (p->state) {
	case COLO_P_WAIT_REPLY:
		textf(out, "no checkpoint-reply(%llu) within %llu ms",
		      ULL(b->seq), ULL(ms));
		p_abort(p, COLO_PR_STEP_TIMEOUT, out);
		return 0;
	case COLO_P_WAIT_READY:
	case COLO_P_WAIT_RECEIVED:
	case COLO_P_WAIT_LOADED:
		textf(out, "the secondary did not answer within %llu ms (state %s)",
		      ULL(ms), colo_pstate_name(p->state));
		p_failover(p, COLO_PR_STEP_TIMEOUT, true, out);
		return 0;
	default:
		return local_mismatch(b, ev, true, colo_pstate_name(p->state), out);
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
		push(out, COLO_ACT_SAVE_STATE, 0, b->seq);
		p->state = COLO_P_WAIT_SAVED;
		return 0;
	}
	if (!stale && ev->type == COLO_EV_STATE_SAVED &&
	    p->state == COLO_P_WAIT_SAVED && ev->value) {
		b->cur.saved_ns = b->now;
		b->cur.size = ev->value;
		send(out, COLO_CMD_VMSTATE_SEND, b->seq, b->seq);
		send(out, COLO_CMD_VMSTATE_SIZE, ev->value, b->seq);
		push(out, COLO_ACT_SEND_STATE, ev->value, b->seq);
		arm(b, out, COLO_TIMER_STEP, b->cfg.step_timeout_ns);
		p->state = COLO_P_WAIT_RECEIVED;
		return 0;
	}
	if (!stale && ((ev->type == COLO_EV_SAVE_FAILED &&
			p->state == COLO_P_WAIT_STOPPED) ||
		       ((ev->type == COLO_EV_SAVE_FAILED ||
			 ev->type == COLO_EV_STATE_SAVED) &&
			p->state == COLO_P_WAIT_SAVED))) {
		textf(out, "checkpoint %llu: %s", ULL(b->seq),
		      ev->type == COLO_EV_STATE_SAVED ? "the saved state is empty" :
		      "the VM could not be stopped or saved");
		p_abort(p, COLO_PR_SAVE_FAILED, out);
		return 0;
	}
	return local_mismatch(b, ev, stale, colo_pstate_name(p->state), out);
}

static int p_demand(struct colo_primary *p, const struct colo_event *ev,
		    struct colo_actions *out)
{
	uint32_t flags = (uint32_t)ev->value;

	if (ev->value & ~(uint64_t)COLO_CKPT_PAUSE)
		return bad_event(out, "unknown checkpoint flags");
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
		textf(out, "connection to the secondary lost");
		p_failover(p, COLO_PR_CONN_LOST, false, out);
		return 0;
	}
	out->err = COLO_PERR_TRUNCATED;
	p->b.stats.errors++;
	textf(out, "connection to the secondary closed after %llu bytes of a %d-byte message",
	      ULL(ev->value), COLO_MSG_LEN);
	p_failover(p, COLO_PR_TRUNCATED, false, out);
	return -EPROTO;
}

static int p_dispatch(struct colo_primary *p, const struct colo_event *ev,
		      struct colo_actions *out)
{
	switch (ev->type) {
	case COLO_EV_START:
		start_base(&p->b, out);
		arm(&p->b, out, COLO_TIMER_STEP, p->b.cfg.step_timeout_ns);
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
		textf(out, "failover requested");
		p_failover(p, COLO_PR_OPERATOR, true, out);
		return 0;
	default:
		return bad_event(out, "event not meant for the primary");
	}
}

int colo_primary__handle(struct colo_primary *p, const struct colo_event *ev,
			 struct colo_actions *out)
{
	int ret;

	if (!p || !ev || !out)
		return -EINVAL;
	ret = begin(&p->b, ev, out);
	if (ret)
		return ret;
	if (p->state == COLO_P_FAILED_OVER || p->state == COLO_P_STOOD_DOWN)
		return after_end(ev, "primary", out);
	ret = p_dispatch(p, ev, out);
	return out->overflow ? -ENOBUFS : ret;
}

/* ---- secondary ---- */

int colo_secondary__init(struct colo_secondary *s,
			 const struct colo_proto_cfg *cfg)
{
	if (!s)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	return base_init(&s->b, cfg);
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

	cancel_all(b, out);
	if (s_mid_checkpoint(s))
		push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
	if (tell)
		send(out, COLO_CMD_FAILOVER, why, b->seq);
	if (b->vm_running) {
		push(out, COLO_ACT_STOP_VM, 0, b->seq);
		b->vm_running = false;
	}
	push(out, COLO_ACT_STAND_DOWN, why, b->seq);
	s->state = COLO_S_STOOD_DOWN;
	note_end(b, why, COLO_OUT_STAND_DOWN, out);
	textf(out, "standing down (%s): the primary runs alone",
	      colo_proto_reason_name(why));
}

static void s_takeover(struct colo_secondary *s, enum colo_proto_reason why,
		       bool tell, struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	cancel_all(b, out);
	if (s_mid_checkpoint(s)) {
		push(out, COLO_ACT_ABORT_CHECKPOINT, why, b->seq);
		b->stats.aborted++;
	}
	if (tell)
		send(out, COLO_CMD_FAILOVER, why | COLO_FO_SENDER_RUNS, b->seq);
	if (!b->vm_running) {
		push(out, COLO_ACT_RESUME_VM, 0, b->done);
		b->vm_running = true;
	}
	push(out, COLO_ACT_FAILOVER, why, b->done);
	s->state = COLO_S_TOOK_OVER;
	note_end(b, why, COLO_OUT_FAILOVER, out);
	textf(out, "taking over (%s) from checkpoint %llu",
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
	cancel_all(b, out);
	s->takeover = why;
	s->takeover_tell = tell;
	b->stats.failover.reason = why;
	b->stats.failover.detected_ns = b->now;
	b->stats.failover.last_rx_ns = b->last_rx_ns;
	out->outcome = COLO_OUT_FAILOVER_PENDING;
	textf(out, "primary lost (%s): taking over once checkpoint %llu is loaded",
	      colo_proto_reason_name(why), ULL(b->seq));
}

static void s_reply(struct colo_secondary *s, struct colo_actions *out)
{
	s->b.cur.stopped_ns = s->b.now;
	send(out, COLO_CMD_CHECKPOINT_REPLY, s->b.seq, s->b.seq);
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
	push(out, COLO_ACT_STOP_VM, 0, b->seq);
	b->vm_running = false;
	s->op_seq = b->seq;
	s->state = COLO_S_WAIT_STOPPED;
}

/* The primary aborted checkpoint seq and asks for seq + 1. */
static void s_supersede(struct colo_secondary *s, uint64_t v,
			struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	push(out, COLO_ACT_ABORT_CHECKPOINT, COLO_PR_SUPERSEDED, b->seq);
	b->stats.aborted++;
	out->outcome = COLO_OUT_ABORTED;
	textf(out, "checkpoint %llu abandoned by the primary for %llu",
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
			push(out, COLO_ACT_RECV_STATE, v, b->seq);
			s->state = COLO_S_RECV_STATE;
			return 0;
		}
		b->stats.errors++;
		out->err = COLO_PERR_BAD_VALUE;
		textf(out, "vmstate-size(%llu) from the primary out of range (1..%llu)",
		      ULL(v), ULL(b->cfg.max_state_size ? b->cfg.max_state_size :
				  UINT64_MAX));
		s_stand_down(s, COLO_PR_PROTOCOL, true, out);
		return -EPROTO;
	default:	/* loading: the primary waits for us */
		break;
	}
	bad_msg(b, "primary", cmd, seq, exp, want, st, out);
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
		ret = bad_msg(b, "primary", ev->cmd, ev->value, COLO_CMD_MAX, 0,
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
		textf(out, "the primary left COLO (%s)",
		      colo_proto_reason_name(ev->value & COLO_FO_REASON_MASK));
		if (ev->value & COLO_FO_SENDER_RUNS)
			s_stand_down(s, COLO_PR_PEER_FAILOVER, false, out);
		else
			s_lost(s, COLO_PR_PEER_FAILOVER, false, out);
		return 0;
	}
	ret = s_step(s, ev->cmd, ev->value, out);
	note_last(b, ev->cmd, ev->cmd == COLO_CMD_CHECKPOINT_REQUEST ?
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
		push(out, COLO_ACT_RESET_REWRITE, 0, b->seq);
	if (s->takeover) {
		push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
		s_takeover(s, s->takeover, s->takeover_tell, out);
		return;
	}
	send(out, COLO_CMD_VMSTATE_LOADED, b->seq, b->seq);
	if (!s->pause) {
		push(out, COLO_ACT_RESUME_VM, 0, b->seq);
		b->vm_running = true;
	}
	push(out, COLO_ACT_CHECKPOINT_DONE, 0, b->seq);
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
		send(out, COLO_CMD_VMSTATE_RECEIVED, b->seq, b->seq);
		push(out, COLO_ACT_LOAD_STATE, b->cur.size, b->seq);
		s->state = COLO_S_LOADING;
		return 0;
	}
	if (ev->type == COLO_EV_STATE_LOADED && s->state == COLO_S_LOADING) {
		s_loaded(s, out);
		return 0;
	}
	if (ev->type == COLO_EV_LOAD_FAILED && s->state == COLO_S_LOADING) {
		textf(out, "checkpoint %llu could not be loaded%s", ULL(b->seq),
		      s->takeover ? " and the primary is gone: no VM can go on" : "");
		s_stand_down(s, COLO_PR_LOAD_FAILED, !s->takeover, out);
		return 0;
	}
mismatch:
	return local_mismatch(b, ev, stale, colo_sstate_name(s->state), out);
}

static int s_timer(struct colo_secondary *s, const struct colo_event *ev,
		   struct colo_actions *out)
{
	struct colo_proto_base *b = &s->b;

	if (ev->value >= COLO_TIMER_MAX)
		return bad_event(out, "unknown timer");
	if (!timer_due(b, ev->value))
		return local_mismatch(b, ev, true, colo_sstate_name(s->state), out);
	if (ev->value == COLO_TIMER_HEARTBEAT) {
		heartbeat(b, out);
		return 0;
	}
	/* the peer timer: the step timer is never armed here */
	if (!peer_silent(b, out))
		return 0;
	textf(out, "nothing from the primary for %llu ms",
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
		start_base(b, out);
		send(out, COLO_CMD_CHECKPOINT_READY, 0, 0);
		if (!b->cfg.start_paused) {
			push(out, COLO_ACT_RESUME_VM, 0, 0);
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
			textf(out, "connection to the primary lost");
			s_lost(s, COLO_PR_CONN_LOST, false, out);
			return 0;
		}
		out->err = COLO_PERR_TRUNCATED;
		b->stats.errors++;
		textf(out, "connection to the primary closed after %llu bytes of a %d-byte message",
		      ULL(ev->value), COLO_MSG_LEN);
		s_lost(s, COLO_PR_TRUNCATED, false, out);
		return -EPROTO;
	case COLO_EV_FAILOVER_REQUEST:
		textf(out, "failover requested");
		s_lost(s, COLO_PR_OPERATOR, true, out);
		return 0;
	default:
		return bad_event(out, "event not meant for the secondary");
	}
}

int colo_secondary__handle(struct colo_secondary *s,
			   const struct colo_event *ev, struct colo_actions *out)
{
	int ret;

	if (!s || !ev || !out)
		return -EINVAL;
	ret = begin(&s->b, ev, out);
	if (ret)
		return ret;
	if (s->state == COLO_S_TOOK_OVER || s->state == COLO_S_STOOD_DOWN ||
	    (s->takeover && ev->type != COLO_EV_STATE_LOADED &&
	     ev->type != COLO_EV_LOAD_FAILED))
		return after_end(ev, "secondary", out);
	ret = s_dispatch(s, ev, out);
	return out->overflow ? -ENOBUFS : ret;
}
