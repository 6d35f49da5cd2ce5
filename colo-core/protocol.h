/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checkpoint protocol between the primary (PVM side) and the secondary
 * (SVM side): the wire messages, and one state machine per side.
 *
 * Pure: no I/O, no clock, no globals. A machine is fed events (a message
 * from the peer, a timer that expired, a local completion such as "VM
 * stopped") with the time they happened, and answers with a list of actions
 * for the caller to carry out in order (send this message, stop the VM, arm
 * that timer, fail over...). Every event gets a defined outcome; invalid
 * input is explained in plain words in the answer. See docs/protocol.md.
 */
#ifndef COLO_PROTOCOL_H
#define COLO_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- wire: be32 command, be64 value; 12 bytes, no padding ---- */

enum colo_cmd {
	COLO_CMD_CHECKPOINT_READY = 0,	/* S->P: ready; value 0 */
	COLO_CMD_CHECKPOINT_REQUEST = 1,	/* P->S: seq (| COLO_REQ_PAUSE) */
	COLO_CMD_CHECKPOINT_REPLY = 2,	/* S->P: seq */
	COLO_CMD_VMSTATE_SEND = 3,	/* P->S: seq */
	COLO_CMD_VMSTATE_SIZE = 4,	/* P->S: bytes of state that follow */
	COLO_CMD_VMSTATE_RECEIVED = 5,	/* S->P: seq */
	COLO_CMD_VMSTATE_LOADED = 6,	/* S->P: seq */
	COLO_CMD_HEARTBEAT = 7,		/* both: last completed seq */
	COLO_CMD_FAILOVER = 8,		/* both: reason | COLO_FO_SENDER_RUNS */
	COLO_CMD_MAX,
};

#define COLO_MSG_LEN 12
/* checkpoint-request: the secondary's VM stays paused after this checkpoint
 * (periodic mode); clear: it runs (hybrid). */
#define COLO_REQ_PAUSE (1ULL << 63)
#define COLO_SEQ_MASK (COLO_REQ_PAUSE - 1)
/* failover: the sender keeps (or takes) the service; clear: it stopped. */
#define COLO_FO_SENDER_RUNS (1ULL << 32)
#define COLO_FO_REASON_MASK 0xffffffffULL

struct colo_msg {
	uint32_t cmd;
	uint64_t value;
};

/* Writes 12 bytes: COLO_MSG_LEN, -ENOSPC if cap is smaller, -EINVAL for an
 * unknown command or a NULL buffer. */
int colo_msg_encode(uint32_t cmd, uint64_t value, uint8_t *buf, size_t cap);
/*
 * Reads one message from the start of buf: COLO_MSG_LEN consumed, 0 when
 * fewer than 12 bytes are there (wait for more), -EPROTO for an unknown
 * command (m is still filled, for the log; the link can no longer be
 * trusted), -EINVAL for NULL arguments.
 */
int colo_msg_decode(const uint8_t *buf, size_t len, struct colo_msg *m);
/* "checkpoint-ready" ... "failover"; "unknown" out of range. */
const char *colo_cmd_name(uint32_t cmd);

/* ---- why a checkpoint was aborted, or a side left COLO ---- */

enum colo_proto_reason {
	COLO_PR_NONE = 0,
	COLO_PR_HEARTBEAT,	/* nothing heard from the peer for the timeout */
	COLO_PR_CONN_LOST,	/* the connection closed or was reset */
	COLO_PR_TRUNCATED,	/* it closed in the middle of a message */
	COLO_PR_UNKNOWN_CMD,	/* the peer sent a command number we lack */
	COLO_PR_PROTOCOL,	/* the peer sent a message not allowed here */
	COLO_PR_STEP_TIMEOUT,	/* the peer did not answer a step in time */
	COLO_PR_SAVE_FAILED,	/* the primary could not stop or save its VM */
	COLO_PR_LOAD_FAILED,	/* the secondary could not load the state */
	COLO_PR_ABORTS,		/* too many checkpoints aborted in a row */
	COLO_PR_SUPERSEDED,	/* the primary started a newer checkpoint */
	COLO_PR_PEER_FAILOVER,	/* the peer said it left COLO */
	COLO_PR_OPERATOR,	/* failover requested locally */
	COLO_PR_MAX,
};

const char *colo_proto_reason_name(enum colo_proto_reason r);

/* ---- what was wrong with an input ---- */

enum colo_perr {
	COLO_PERR_NONE = 0,
	COLO_PERR_UNKNOWN_CMD,	/* command number out of range */
	COLO_PERR_WRONG_CMD,	/* a command the state does not allow */
	COLO_PERR_STALE_SEQ,	/* expected command, older sequence number */
	COLO_PERR_DUPLICATE,	/* the previous message, again */
	COLO_PERR_FUTURE_SEQ,	/* expected command, newer sequence number */
	COLO_PERR_BAD_VALUE,	/* a value the command cannot carry */
	COLO_PERR_TRUNCATED,	/* connection closed inside a message */
	COLO_PERR_AFTER_END,	/* anything after this side left COLO */
	COLO_PERR_STALE_LOCAL,	/* timer or completion of an earlier step */
	COLO_PERR_BAD_EVENT,	/* caller error: bad event or argument */
	COLO_PERR_MAX,
};

const char *colo_perr_name(enum colo_perr e);

/* ---- events in ---- */

enum colo_timer {
	COLO_TIMER_HEARTBEAT = 0,	/* time to send a heartbeat */
	COLO_TIMER_PEER,		/* the peer may have gone silent */
	COLO_TIMER_STEP,		/* primary: the peer is late with a step */
	COLO_TIMER_MAX,
};

const char *colo_timer_name(enum colo_timer t);

enum colo_ev_type {
	COLO_EV_START = 0,	/* first event: the machine starts */
	COLO_EV_MSG,		/* message from the peer: cmd, value */
	COLO_EV_TIMER,		/* value = enum colo_timer that expired */
	COLO_EV_CHECKPOINT,	/* primary: checkpoint demanded; value = COLO_CKPT_* */
	COLO_EV_VM_STOPPED,	/* the VM stopped (seq of the STOP_VM action) */
	COLO_EV_STATE_SAVED,	/* primary: saved (seq); value = bytes of state */
	COLO_EV_SAVE_FAILED,	/* primary: stopping or saving failed (seq) */
	COLO_EV_STATE_PROGRESS,	/* secondary: state bytes arriving (liveness) */
	COLO_EV_STATE_RECEIVED,	/* secondary: all RECV_STATE bytes read (seq) */
	COLO_EV_STATE_LOADED,	/* secondary: state loaded (seq) */
	COLO_EV_LOAD_FAILED,	/* secondary: loading failed (seq) */
	COLO_EV_PEER_LOST,	/* link closed; value = bytes of an unfinished message */
	COLO_EV_FAILOVER_REQUEST, /* operator: leave COLO and run alone */
	COLO_EV_MAX,
};

/* COLO_EV_CHECKPOINT value: keep the secondary's VM paused afterwards. */
#define COLO_CKPT_PAUSE 1u

struct colo_event {
	enum colo_ev_type type;
	uint64_t now_ns;	/* when it happened; never goes back */
	uint32_t cmd;		/* COLO_EV_MSG */
	uint64_t value;
	uint64_t seq;		/* local completions: the seq of the action answered */
};

/* ---- actions out ---- */

enum colo_act_type {
	COLO_ACT_SEND = 0,	/* send message cmd with value */
	COLO_ACT_SEND_STATE,	/* primary: send the saved state (value bytes) */
	COLO_ACT_RECV_STATE,	/* secondary: read value raw state bytes next */
	COLO_ACT_STOP_VM,	/* answer with COLO_EV_VM_STOPPED(seq) */
	COLO_ACT_RESUME_VM,
	COLO_ACT_SAVE_STATE,	/* primary: answer STATE_SAVED / SAVE_FAILED */
	COLO_ACT_LOAD_STATE,	/* secondary: answer STATE_LOADED / LOAD_FAILED */
	COLO_ACT_RELEASE_OUTPUT, /* primary: release held output (flush comparator) */
	COLO_ACT_RESET_REWRITE,	/* secondary: reset TCP rewrite offsets */
	COLO_ACT_ARM_TIMER,	/* timer fires value ns from now (re-arms) */
	COLO_ACT_CANCEL_TIMER,
	COLO_ACT_CHECKPOINT_DONE, /* report: checkpoint seq complete, see stats.last */
	COLO_ACT_ABORT_CHECKPOINT, /* checkpoint seq abandoned; value = reason */
	COLO_ACT_FAILOVER,	/* leave COLO, run the service alone; value = reason */
	COLO_ACT_STAND_DOWN,	/* leave COLO, stop; the peer runs; value = reason */
	COLO_ACT_MAX,
};

const char *colo_act_name(enum colo_act_type a);

struct colo_action {
	enum colo_act_type type;
	uint32_t cmd;		/* SEND */
	enum colo_timer timer;	/* ARM_TIMER, CANCEL_TIMER */
	uint64_t value;		/* see enum colo_act_type */
	uint64_t seq;		/* the checkpoint the action belongs to */
};

enum colo_outcome {
	COLO_OUT_OK = 0,	/* the event moved the protocol on, or was harmless */
	COLO_OUT_IGNORED,	/* the event was dropped and changed nothing */
	COLO_OUT_ABORTED,	/* the checkpoint was abandoned; COLO goes on */
	COLO_OUT_FAILOVER,	/* this side left COLO and runs the service alone */
	COLO_OUT_FAILOVER_PENDING, /* secondary: takes over once its load ends */
	COLO_OUT_STAND_DOWN,	/* this side left COLO and stopped */
	COLO_OUT_MAX,
};

const char *colo_outcome_name(enum colo_outcome o);

#define COLO_MAX_ACTIONS 16
#define COLO_MSG_TEXT 192

struct colo_actions {
	unsigned int n;
	struct colo_action a[COLO_MAX_ACTIONS];
	enum colo_outcome outcome;
	enum colo_perr err;		/* what was wrong with the input */
	bool overflow;			/* more than COLO_MAX_ACTIONS (a bug) */
	char text[COLO_MSG_TEXT];	/* for the log; "" when nothing to say */
};

/* ---- configuration, timing, statistics ---- */

struct colo_proto_cfg {
	uint64_t heartbeat_interval_ns;	/* send a heartbeat this often (100 ms) */
	uint64_t heartbeat_timeout_ns;	/* silent peer -> lost (1 s), > interval */
	uint64_t step_timeout_ns;	/* primary: each wait on the peer (10 s) */
	uint32_t max_aborts;		/* primary: aborts in a row, then failover (3) */
	uint64_t max_state_size;	/* secondary: largest vmstate-size (0: any) */
	bool start_paused;		/* secondary: VM paused after ready (periodic) */
	bool reset_rewrite;		/* secondary: RESET_REWRITE after loads (qemu driver) */
};

void colo_proto_cfg_default(struct colo_proto_cfg *cfg);

/*
 * One checkpoint, times as passed in with the events (0: not reached).
 * Primary: duration = loaded_ns - start_ns; VM downtime = loaded_ns -
 * stopped_ns; output held back = received_ns - demand_ns.
 * Secondary: start_ns = request received, stopped_ns = reply sent, send_ns =
 * vmstate-send received, received_ns = all state in, loaded_ns = loaded.
 */
struct colo_ckpt_timing {
	uint64_t seq;
	uint64_t demand_ns;	/* primary: first demand this checkpoint serves */
	uint64_t start_ns;
	uint64_t reply_ns;	/* primary: checkpoint-reply received */
	uint64_t stopped_ns;
	uint64_t saved_ns;	/* primary: state saved and sent */
	uint64_t send_ns;
	uint64_t received_ns;	/* primary: output released */
	uint64_t loaded_ns;	/* primary: VM resumed */
	uint64_t size;		/* bytes of state */
	uint32_t coalesced;	/* primary: extra demands it absorbed */
	uint32_t attempts;	/* primary: aborted attempts before it */
	bool pause;		/* the secondary's VM stays paused after it */
};

/* Failover time = done_ns - detected_ns; detection time for a silent
 * peer = detected_ns - last_rx_ns. */
struct colo_failover_info {
	enum colo_proto_reason reason;
	enum colo_outcome outcome;	/* FAILOVER or STAND_DOWN */
	uint64_t last_rx_ns;	/* last time anything came from the peer */
	uint64_t detected_ns;	/* loss or fault noticed */
	uint64_t done_ns;	/* FAILOVER / STAND_DOWN action given */
	uint64_t seq;		/* last completed checkpoint at the time */
};

struct colo_proto_stats {
	uint64_t checkpoints;	/* completed */
	uint64_t aborted;
	uint64_t coalesced;	/* demands merged into a pending one */
	uint64_t errors;	/* invalid inputs */
	uint64_t heartbeats_tx;
	uint64_t heartbeats_rx;
	struct colo_ckpt_timing last;	/* last completed checkpoint */
	struct colo_failover_info failover;
};

/* ---- the machines; fields are read-only for callers ---- */

struct colo_proto_base {
	struct colo_proto_cfg cfg;
	uint64_t now;
	uint64_t deadline[COLO_TIMER_MAX];	/* 0: not armed */
	uint64_t last_rx_ns;
	uint64_t seq;		/* checkpoint in progress, or last started */
	uint64_t done;		/* last completed checkpoint */
	uint32_t last_cmd;	/* previous checkpoint message, to spot repeats */
	uint64_t last_val;
	bool have_last;
	bool started;
	bool vm_running;
	struct colo_ckpt_timing cur;
	struct colo_proto_stats stats;
};

enum colo_pstate {
	COLO_P_INIT = 0,
	COLO_P_WAIT_READY,	/* VM stopped until checkpoint-ready */
	COLO_P_RUNNING,		/* between checkpoints */
	COLO_P_WAIT_REPLY,
	COLO_P_WAIT_STOPPED,
	COLO_P_WAIT_SAVED,
	COLO_P_WAIT_RECEIVED,	/* committed: state bytes are on the link */
	COLO_P_WAIT_LOADED,
	COLO_P_FAILED_OVER,	/* runs alone */
	COLO_P_STOOD_DOWN,
	COLO_P_MAX,
};

enum colo_sstate {
	COLO_S_INIT = 0,
	COLO_S_IDLE,		/* between checkpoints */
	COLO_S_WAIT_STOPPED,
	COLO_S_WAIT_SEND,
	COLO_S_WAIT_SIZE,
	COLO_S_RECV_STATE,	/* raw state bytes on the link */
	COLO_S_LOADING,
	COLO_S_TOOK_OVER,	/* runs the service */
	COLO_S_STOOD_DOWN,
	COLO_S_MAX,
};

const char *colo_pstate_name(enum colo_pstate s);
const char *colo_sstate_name(enum colo_sstate s);

struct colo_primary {
	struct colo_proto_base b;
	enum colo_pstate state;
	uint32_t aborts;	/* in a row */
	bool want;		/* a checkpoint is demanded after this one */
	uint32_t want_flags;
	uint64_t want_since;
	uint32_t want_merged;
};

struct colo_secondary {
	struct colo_proto_base b;
	enum colo_sstate state;
	bool pause;		/* keep the VM paused after this checkpoint */
	uint64_t op_seq;	/* seq of the STOP_VM still outstanding */
	enum colo_proto_reason takeover;	/* pending until the load ends */
	bool takeover_tell;
};

/* 0, or -EINVAL for NULL or a bad cfg (NULL cfg: defaults). */
int colo_primary__init(struct colo_primary *p, const struct colo_proto_cfg *cfg);
int colo_secondary__init(struct colo_secondary *s, const struct colo_proto_cfg *cfg);

/*
 * Feed one event; out is reset and filled. Returns 0 when the event was
 * valid (out->outcome says what it led to, failover included), -EPROTO when
 * the peer broke the protocol, -ESTALE for a timer or completion of an
 * earlier step (ignored), -ESHUTDOWN after this side left COLO (ignored),
 * -EINVAL for caller errors (ignored), -ENOBUFS if out overflowed (a bug).
 */
int colo_primary__handle(struct colo_primary *p, const struct colo_event *ev,
			 struct colo_actions *out);
int colo_secondary__handle(struct colo_secondary *s,
			   const struct colo_event *ev, struct colo_actions *out);

#endif
