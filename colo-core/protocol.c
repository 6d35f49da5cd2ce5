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

#include "protocol_int.h"

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

int colo_pt_base_init(struct colo_proto_base *b, const struct colo_proto_cfg *cfg)
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

void colo_pt_textf(struct colo_actions *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append to out->text, "; " between parts; cut at the buffer's end. */
void colo_pt_textf(struct colo_actions *out, const char *fmt, ...)
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

void colo_pt_push(struct colo_actions *out, enum colo_act_type type,
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

void colo_pt_send(struct colo_actions *out, uint32_t cmd, uint64_t value,
		 uint64_t seq)
{
	colo_pt_push(out, COLO_ACT_SEND, value, seq);
	if (!out->overflow)
		out->a[out->n - 1].cmd = cmd;
}

void colo_pt_arm(struct colo_proto_base *b, struct colo_actions *out,
		enum colo_timer t, uint64_t dur)
{
	b->deadline[t] = b->now + dur;
	colo_pt_push(out, COLO_ACT_ARM_TIMER, dur, b->seq);
	if (!out->overflow)
		out->a[out->n - 1].timer = t;
}

void colo_pt_cancel(struct colo_proto_base *b, struct colo_actions *out,
		   enum colo_timer t)
{
	if (!b->deadline[t])
		return;
	b->deadline[t] = 0;
	colo_pt_push(out, COLO_ACT_CANCEL_TIMER, 0, b->seq);
	if (!out->overflow)
		out->a[out->n - 1].timer = t;
}

void colo_pt_cancel_all(struct colo_proto_base *b, struct colo_actions *out)
{
	int t;

	for (t = 0; t < COLO_TIMER_MAX; t++)
		colo_pt_cancel(b, out, t);
}

int colo_pt_bad_event(struct colo_actions *out, const char *what)
{
	out->err = COLO_PERR_BAD_EVENT;
	out->outcome = COLO_OUT_IGNORED;
	colo_pt_textf(out, "%s", what);
	return -EINVAL;
}

/* Checks common to every event; sets the clock. */
int colo_pt_begin(struct colo_proto_base *b, const struct colo_event *ev,
		 struct colo_actions *out)
{
	memset(out, 0, sizeof(*out));
	if ((unsigned int)ev->type >= COLO_EV_MAX)
		return colo_pt_bad_event(out, "unknown event type");
	if (ev->now_ns < b->now)
		return colo_pt_bad_event(out, "time went backwards");
	if (!b->started && ev->type != COLO_EV_START)
		return colo_pt_bad_event(out, "event before start");
	if (b->started && ev->type == COLO_EV_START)
		return colo_pt_bad_event(out, "started twice");
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

int colo_pt_after_end(const struct colo_event *ev, const char *who,
		     struct colo_actions *out)
{
	char what[64];

	describe(ev, what, sizeof(what));
	out->err = COLO_PERR_AFTER_END;
	out->outcome = COLO_OUT_IGNORED;
	colo_pt_textf(out, "%s ignored: the %s already left COLO", what, who);
	return -ESHUTDOWN;
}

/* A timer or completion that belongs to an earlier step, or none. */
int colo_pt_local_mismatch(const struct colo_proto_base *b,
			  const struct colo_event *ev, bool stale,
			  const char *state, struct colo_actions *out)
{
	char what[64];

	describe(ev, what, sizeof(what));
	out->outcome = COLO_OUT_IGNORED;
	if (stale) {
		out->err = COLO_PERR_STALE_LOCAL;
		colo_pt_textf(out, "%s for checkpoint %llu ignored: checkpoint %llu is current",
		      what, ULL(ev->seq), ULL(b->seq));
		return -ESTALE;
	}
	out->err = COLO_PERR_BAD_EVENT;
	colo_pt_textf(out, "%s unexpected in state %s", what, state);
	return -EINVAL;
}

/*
 * Explain a message the state does not allow. exp: the command expected
 * (COLO_CMD_MAX: none), want: its value. Returns -EPROTO.
 */
int colo_pt_bad_msg(struct colo_proto_base *b, const char *peer, uint32_t cmd,
		   uint64_t val, uint32_t exp, uint64_t want, const char *state,
		   struct colo_actions *out)
{
	const char *name = colo_cmd_name(cmd);

	b->stats.errors++;
	if (cmd >= COLO_CMD_MAX) {
		out->err = COLO_PERR_UNKNOWN_CMD;
		colo_pt_textf(out, "unknown command %u (value %llu) from the %s",
		      cmd, ULL(val), peer);
	} else if (b->have_last && cmd == b->last_cmd && val == b->last_val) {
		out->err = COLO_PERR_DUPLICATE;
		colo_pt_textf(out, "%s(%llu) from the %s repeated (state %s)", name,
		      ULL(val), peer, state);
	} else if (cmd != exp) {
		out->err = COLO_PERR_WRONG_CMD;
		colo_pt_textf(out, "%s(%llu) from the %s not allowed in state %s", name,
		      ULL(val), peer, state);
	} else {
		out->err = val < want ? COLO_PERR_STALE_SEQ : COLO_PERR_FUTURE_SEQ;
		colo_pt_textf(out, "%s(%llu) from the %s is %s: expecting %s(%llu)",
		      name, ULL(val), peer,
		      val < want ? "stale" : "out of order", name, ULL(want));
	}
	return -EPROTO;
}

void colo_pt_note_last(struct colo_proto_base *b, uint32_t cmd, uint64_t val)
{
	b->have_last = true;
	b->last_cmd = cmd;
	b->last_val = val;
}

bool colo_pt_timer_due(struct colo_proto_base *b, enum colo_timer t)
{
	if (!b->deadline[t] || b->now < b->deadline[t])
		return false;
	b->deadline[t] = 0;
	return true;
}

/* Peer timer expired: true when the peer has been silent too long,
 * otherwise re-armed for the rest of the timeout. */
bool colo_pt_peer_silent(struct colo_proto_base *b, struct colo_actions *out)
{
	uint64_t silent = b->now - b->last_rx_ns;

	if (silent >= b->cfg.heartbeat_timeout_ns)
		return true;
	colo_pt_arm(b, out, COLO_TIMER_PEER, b->cfg.heartbeat_timeout_ns - silent);
	return false;
}

void colo_pt_heartbeat(struct colo_proto_base *b, struct colo_actions *out)
{
	colo_pt_send(out, COLO_CMD_HEARTBEAT, b->done, b->seq);
	b->stats.heartbeats_tx++;
	colo_pt_arm(b, out, COLO_TIMER_HEARTBEAT, b->cfg.heartbeat_interval_ns);
}

void colo_pt_start_base(struct colo_proto_base *b, struct colo_actions *out)
{
	b->started = true;
	b->last_rx_ns = b->now;
	colo_pt_arm(b, out, COLO_TIMER_HEARTBEAT, b->cfg.heartbeat_interval_ns);
	colo_pt_arm(b, out, COLO_TIMER_PEER, b->cfg.heartbeat_timeout_ns);
}

/* Record how and when this side left COLO. */
void colo_pt_note_end(struct colo_proto_base *b, enum colo_proto_reason why,
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
