// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checkpoint protocol, table-driven.
 *
 * 1. Wire codec: byte strings in, (consumed, command, value) out.
 * 2. Conversations: a primary and a secondary machine wired to each other
 *    through a fake link (every message encoded and decoded), fake VMs that
 *    answer STOP/SAVE/LOAD after fixed delays, fake timers, one fake clock.
 *    Each case is a script (demand a checkpoint, kill a host, cut the link,
 *    inject bytes...) and the exact log of what both sides did.
 * 3. Invalid input: every state of each machine x every command, then
 *    stale, repeated and out-of-order sequence numbers, stale local events,
 *    bad calls, and a random event storm that must never break a machine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "protocol.h"

#define MS 1000000ULL
#define ULL(x) ((unsigned long long)(x))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- 1. wire codec ---- */

struct wcase {
	const char *name;
	uint8_t in[16];
	size_t len;
	int ret;
	uint32_t cmd;
	uint64_t value;
};

static const struct wcase wcases[] = {
	{ "decode checkpoint-ready", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	  12, 12, COLO_CMD_CHECKPOINT_READY, 0 },
	{ "decode checkpoint-request with pause flag",
	  { 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 7 }, 12, 12,
	  COLO_CMD_CHECKPOINT_REQUEST, COLO_REQ_PAUSE | 7 },
	{ "decode vmstate-size is big-endian",
	  { 0, 0, 0, 4, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, 12,
	  12, COLO_CMD_VMSTATE_SIZE, 0x0102030405060708ULL },
	{ "decode failover", { 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2 }, 12, 12,
	  COLO_CMD_FAILOVER, COLO_FO_SENDER_RUNS | COLO_PR_CONN_LOST },
	{ "decode takes one message of two", { 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 6 },
	  16, 12, COLO_CMD_HEARTBEAT, 9 },
	{ "decode empty buffer needs more", { 0 }, 0, 0, 0, 0 },
	{ "decode 1 byte needs more", { 0 }, 1, 0, 0, 0 },
	{ "decode 4 bytes (command only) needs more", { 0, 0, 0, 6 }, 4, 0, 0, 0 },
	{ "decode 11 bytes needs more", { 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0 },
	  11, 0, 0, 0 },
	{ "decode unknown command 9", { 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3 },
	  12, -EPROTO, 9, 3 },
	{ "decode garbage", { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8 },
	  12, -EPROTO, 0xdeadbeef, 0x0102030405060708ULL },
	{ "decode ASCII text", { 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1' },
	  12, -EPROTO, 0x47455420, 0x2f20485454502f31ULL },
};

static void test_wire_case(void **state)
{
	const struct wcase *c = *state;
	struct colo_msg m = { 0xffff, 0xffff };
	int ret = colo_msg_decode(c->in, c->len, &m);

	if (ret != c->ret)
		fail_msg("%s: returned %d, expected %d", c->name, ret, c->ret);
	if (ret == COLO_MSG_LEN || ret == -EPROTO) {
		assert_int_equal(m.cmd, c->cmd);
		assert_int_equal(m.value, c->value);
	}
}

static void test_wire_round_trip(void **state)
{
	uint8_t buf[COLO_MSG_LEN + 4];
	struct colo_msg m;
	uint32_t cmd;
	size_t cut;

	(void)state;
	for (cmd = 0; cmd < COLO_CMD_MAX; cmd++) {
		uint64_t v = 0x8000000000000000ULL >> cmd | cmd;

		assert_int_equal(colo_msg_encode(cmd, v, buf, sizeof(buf)),
				 COLO_MSG_LEN);
		assert_int_equal(buf[3], cmd);
		for (cut = 0; cut < COLO_MSG_LEN; cut++)
			assert_int_equal(colo_msg_decode(buf, cut, &m), 0);
		assert_int_equal(colo_msg_decode(buf, COLO_MSG_LEN, &m),
				 COLO_MSG_LEN);
		assert_int_equal(m.cmd, cmd);
		assert_int_equal(m.value, v);
	}
	assert_int_equal(colo_msg_encode(0, 0, buf, 11), -ENOSPC);
	assert_int_equal(colo_msg_encode(COLO_CMD_MAX, 0, buf, 12), -EINVAL);
	assert_int_equal(colo_msg_encode(0, 0, NULL, 12), -EINVAL);
	assert_int_equal(colo_msg_decode(NULL, 12, &m), -EINVAL);
	assert_int_equal(colo_msg_decode(buf, 12, NULL), -EINVAL);
	assert_int_equal(colo_msg_decode(NULL, 0, &m), 0);
}

static void test_wire_names(void **state)
{
	static const char *const want[] = {
		"checkpoint-ready", "checkpoint-request", "checkpoint-reply",
		"vmstate-send", "vmstate-size", "vmstate-received",
		"vmstate-loaded", "heartbeat", "failover",
	};
	uint32_t i;

	(void)state;
	assert_int_equal(ARRAY_SIZE(want), COLO_CMD_MAX);
	for (i = 0; i < COLO_CMD_MAX; i++)
		assert_string_equal(colo_cmd_name(i), want[i]);
	assert_string_equal(colo_cmd_name(COLO_CMD_MAX), "unknown");
	assert_string_equal(colo_cmd_name(0xffffffffu), "unknown");
	assert_string_equal(colo_proto_reason_name(COLO_PR_HEARTBEAT), "heartbeat-lost");
	assert_string_equal(colo_proto_reason_name(COLO_PR_MAX), "unknown");
	assert_string_equal(colo_perr_name(COLO_PERR_STALE_SEQ), "stale-seq");
	assert_string_equal(colo_outcome_name(COLO_OUT_STAND_DOWN), "stand-down");
	assert_string_equal(colo_pstate_name(COLO_P_WAIT_REPLY), "wait-reply");
	assert_string_equal(colo_sstate_name(COLO_S_RECV_STATE), "recv-state");
	assert_string_equal(colo_act_name(COLO_ACT_RELEASE_OUTPUT), "release-output");
	assert_string_equal(colo_timer_name(COLO_TIMER_PEER), "peer");
	assert_string_equal(colo_timer_name(9), "unknown");
}

/* ---- 2. the fake world ---- */

enum { PRI = 0, SEC = 1 };
enum item_kind { IT_BYTES, IT_STATE, IT_LOCAL };

struct item {
	uint64_t t, order;
	int to;			/* side that receives it */
	int from;
	enum item_kind kind;
	uint8_t bytes[COLO_MSG_LEN];
	size_t len;
	struct colo_event ev;
};

struct world {
	struct colo_primary p;
	struct colo_secondary s;
	uint64_t now;
	struct item q[256];
	unsigned int nq;
	uint64_t order;
	uint64_t timer[2][COLO_TIMER_MAX];
	uint8_t rx[2][64];
	size_t rxlen[2];
	bool recv_armed;
	uint64_t recv_seq;
	bool down[2], dead[2], closed;
	int fail_save, fail_load;
	bool hang_stop, hang_load;	/* secondary's stop / load never end */
	uint64_t lat, stop_d[2], save_d, xfer_d, load_d, size;
	unsigned int max_actions;
	char log[4096];
	size_t used;
};

static void wlog(struct world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void wlog(struct world *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->used)
		w->log[w->used++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(w->log + w->used, sizeof(w->log) - w->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->used += (size_t)n;
	assert_true(w->used < sizeof(w->log) - 1);
}

static void enqueue(struct world *w, int from, int to, uint64_t t,
		    enum item_kind kind, const struct colo_event *ev,
		    const uint8_t *bytes, size_t len)
{
	struct item *it;

	assert_true(w->nq < ARRAY_SIZE(w->q));
	it = &w->q[w->nq++];
	memset(it, 0, sizeof(*it));
	it->t = t;
	it->order = w->order++;
	it->from = from;
	it->to = to;
	it->kind = kind;
	if (ev)
		it->ev = *ev;
	if (bytes)
		memcpy(it->bytes, bytes, len);
	it->len = len;
}

static void local(struct world *w, int side, uint64_t delay,
		  enum colo_ev_type type, uint64_t value, uint64_t seq)
{
	struct colo_event ev = { .type = type, .value = value, .seq = seq };

	enqueue(w, side, side, w->now + delay, IT_LOCAL, &ev, NULL, 0);
}

static bool link_ok(const struct world *w, int from)
{
	return !w->dead[from] && !w->down[from] && !w->closed;
}

static const char *const short_cmd[COLO_CMD_MAX] = {
	"ready", "req", "rep", "send", "size", "rcvd", "loaded", "hb", "fo",
};

static void w_send(struct world *w, int side, const struct colo_action *a)
{
	char c = side ? 'S' : 'P';
	uint8_t buf[COLO_MSG_LEN];

	if (a->cmd == COLO_CMD_CHECKPOINT_REQUEST)
		wlog(w, "%c>req%llu%s", c, ULL(a->value & COLO_SEQ_MASK),
		     a->value & COLO_REQ_PAUSE ? "p" : "");
	else if (a->cmd == COLO_CMD_FAILOVER)
		wlog(w, "%c>fo:%s%s", c,
		     colo_proto_reason_name(a->value & COLO_FO_REASON_MASK),
		     a->value & COLO_FO_SENDER_RUNS ? "+runs" : "");
	else if (a->cmd == COLO_CMD_CHECKPOINT_READY)
		wlog(w, "%c>ready", c);
	else if (a->cmd != COLO_CMD_HEARTBEAT)
		wlog(w, "%c>%s%llu", c, short_cmd[a->cmd], ULL(a->value));
	assert_int_equal(colo_msg_encode(a->cmd, a->value, buf, sizeof(buf)),
			 COLO_MSG_LEN);
	if (link_ok(w, side))
		enqueue(w, side, !side, w->now + w->lat, IT_BYTES, NULL, buf,
			sizeof(buf));
}

static void w_apply(struct world *w, int side, const struct colo_action *a)
{
	char c = side ? 'S' : 'P';
	uint64_t ms = w->now / MS;

	switch (a->type) {
	case COLO_ACT_SEND:
		w_send(w, side, a);
		break;
	case COLO_ACT_SEND_STATE:
		wlog(w, "%c:state", c);
		if (link_ok(w, side))
			enqueue(w, side, !side, w->now + w->lat + w->xfer_d,
				IT_STATE, NULL, NULL, 0);
		break;
	case COLO_ACT_RECV_STATE:
		wlog(w, "%c:recv", c);
		w->recv_armed = true;
		w->recv_seq = a->seq;
		break;
	case COLO_ACT_STOP_VM:
		wlog(w, "%c:stop", c);
		if (!(side == SEC && w->hang_stop))
			local(w, side, w->stop_d[side], COLO_EV_VM_STOPPED, 0, a->seq);
		break;
	case COLO_ACT_RESUME_VM:
		wlog(w, "%c:run", c);
		break;
	case COLO_ACT_SAVE_STATE:
		wlog(w, "%c:save", c);
		if (w->fail_save > 0) {
			w->fail_save--;
			local(w, side, w->save_d, COLO_EV_SAVE_FAILED, 0, a->seq);
		} else {
			local(w, side, w->save_d, COLO_EV_STATE_SAVED, w->size, a->seq);
		}
		break;
	case COLO_ACT_LOAD_STATE:
		wlog(w, "%c:load", c);
		if (w->hang_load)
			break;
		if (w->fail_load > 0) {
			w->fail_load--;
			local(w, side, w->load_d, COLO_EV_LOAD_FAILED, 0, a->seq);
		} else {
			local(w, side, w->load_d, COLO_EV_STATE_LOADED, 0, a->seq);
		}
		break;
	case COLO_ACT_RELEASE_OUTPUT:
		wlog(w, "%c:release", c);
		break;
	case COLO_ACT_RESET_REWRITE:
		wlog(w, "%c:reset", c);
		break;
	case COLO_ACT_ARM_TIMER:
		assert_true(a->timer < COLO_TIMER_MAX);
		assert_true(a->value > 0);
		w->timer[side][a->timer] = w->now + a->value;
		break;
	case COLO_ACT_CANCEL_TIMER:
		w->timer[side][a->timer] = 0;
		break;
	case COLO_ACT_CHECKPOINT_DONE:
		wlog(w, "%c:done%llu@%llu", c, ULL(a->seq), ULL(ms));
		break;
	case COLO_ACT_ABORT_CHECKPOINT:
		wlog(w, "%c:abort%llu(%s)@%llu", c, ULL(a->seq),
		     colo_proto_reason_name(a->value), ULL(ms));
		break;
	case COLO_ACT_FAILOVER:
		wlog(w, "%c:FAILOVER(%s)@%llu", c,
		     colo_proto_reason_name(a->value), ULL(ms));
		break;
	case COLO_ACT_STAND_DOWN:
		wlog(w, "%c:STANDDOWN(%s)@%llu", c,
		     colo_proto_reason_name(a->value), ULL(ms));
		break;
	default:
		fail_msg("unknown action %d", a->type);
	}
}

static int w_feed(struct world *w, int side, struct colo_event ev)
{
	struct colo_actions out;
	char c = side ? 'S' : 'P';
	unsigned int i;
	int ret;

	if (w->dead[side])
		return 0;
	ev.now_ns = w->now;
	ret = side ? colo_secondary__handle(&w->s, &ev, &out) :
		     colo_primary__handle(&w->p, &ev, &out);
	assert_false(out.overflow);
	assert_true(out.n <= COLO_MAX_ACTIONS);
	if (out.n > w->max_actions)
		w->max_actions = out.n;
	/* after the end only a checkpoint message is news: not a leftover
	 * heartbeat, nor the fake VM answering the last STOP */
	if (out.err == COLO_PERR_AFTER_END &&
	    (ev.type != COLO_EV_MSG || ev.cmd == COLO_CMD_HEARTBEAT))
		return ret;
	if (out.err != COLO_PERR_NONE)
		wlog(w, "%c!%s", c, colo_perr_name(out.err));
	else if (out.outcome == COLO_OUT_IGNORED)
		wlog(w, "%c~ignored", c);
	else if (out.outcome == COLO_OUT_FAILOVER_PENDING)
		wlog(w, "%c:pending@%llu", c, ULL(w->now / MS));
	for (i = 0; i < out.n; i++)
		w_apply(w, side, &out.a[i]);
	return ret;
}

static void w_msg(struct world *w, int side, uint32_t cmd, uint64_t value)
{
	w_feed(w, side, (struct colo_event){ .type = COLO_EV_MSG, .cmd = cmd,
					     .value = value });
}

/* Bytes reach a side: decode every whole message, as the proxy would. */
static void w_bytes(struct world *w, int side, const uint8_t *b, size_t len)
{
	struct colo_msg m;
	int n;

	assert_true(w->rxlen[side] + len <= sizeof(w->rx[side]));
	memcpy(w->rx[side] + w->rxlen[side], b, len);
	w->rxlen[side] += len;
	while ((n = colo_msg_decode(w->rx[side], w->rxlen[side], &m)) != 0) {
		if (n < 0) {	/* unknown command: the stream is lost */
			w->rxlen[side] = 0;
			w_msg(w, side, m.cmd, m.value);
			return;
		}
		memmove(w->rx[side], w->rx[side] + n, w->rxlen[side] - n);
		w->rxlen[side] -= n;
		w_msg(w, side, m.cmd, m.value);
	}
}

static bool side_ended(const struct world *w, int side)
{
	return side ? w->s.state >= COLO_S_TOOK_OVER :
		      w->p.state >= COLO_P_FAILED_OVER;
}

static void w_item(struct world *w, const struct item *it)
{
	if (w->dead[it->to])
		return;
	switch (it->kind) {
	case IT_BYTES:
		w_bytes(w, it->to, it->bytes, it->len);
		break;
	case IT_STATE:
		if (w->recv_armed) {
			w->recv_armed = false;
			w_feed(w, it->to, (struct colo_event){
				.type = COLO_EV_STATE_RECEIVED,
				.seq = w->recv_seq });
		} else if (!side_ended(w, it->to)) {
			wlog(w, "%c!state-unexpected", it->to ? 'S' : 'P');
		}
		break;
	case IT_LOCAL:
		w_feed(w, it->to, it->ev);
		break;
	}
}

/* Run everything due up to t: link and local items first, then timers. */
static void w_run(struct world *w, uint64_t t)
{
	for (;;) {
		uint64_t best = UINT64_MAX;
		int bi = -1, bs = -1, bt = -1;
		unsigned int i;
		int s, k;

		for (i = 0; i < w->nq; i++) {
			if (w->q[i].t > t)
				continue;
			if (bi < 0 || w->q[i].t < best ||
			    (w->q[i].t == best && w->q[i].order < w->q[bi].order)) {
				bi = (int)i;
				best = w->q[i].t;
			}
		}
		for (s = 0; s < 2; s++) {
			for (k = 0; k < COLO_TIMER_MAX; k++) {
				uint64_t d = w->timer[s][k];

				if (!d || d > t || w->dead[s] || d >= best)
					continue;
				best = d;
				bs = s;
				bt = k;
			}
		}
		if (best == UINT64_MAX)
			break;
		w->now = best;
		if (bs >= 0) {
			w->timer[bs][bt] = 0;
			w_feed(w, bs, (struct colo_event){ .type = COLO_EV_TIMER,
							   .value = (uint64_t)bt });
		} else {
			struct item it = w->q[bi];

			w->q[bi] = w->q[--w->nq];
			w_item(w, &it);
		}
	}
	w->now = t;
}

/* ---- conversation scripts ---- */

enum op {
	END = 0,
	RUN,		/* just let time pass */
	START,		/* start both machines */
	DEMAND,		/* checkpoint demanded on the primary, a = flags */
	KILL,		/* host of side dies: bytes on the wire still arrive */
	CUT,		/* side's outgoing link silently drops everything */
	CLOSE,		/* the connection closes: both sides see it */
	INJECT,		/* message (a, b) reaches side as if from the peer */
	RAW,		/* 12 garbage bytes (command a) reach side */
	PARTIAL,	/* a bytes of a message reach side */
	FAIL_SAVE,	/* the next a saves fail */
	FAIL_LOAD,	/* the next a loads fail */
	HANG_STOP,	/* the secondary's VM never reports stopped */
	HANG_LOAD,	/* the secondary's load never ends */
	SET_STOP,	/* side's VM takes a ms to stop */
	SET_LOAD,	/* loads take a ms */
	SET_XFER,	/* the state takes a ms on the link */
	OPERATOR,	/* failover requested on side */
};

struct step {
	enum op op;
	uint32_t ms;
	int side;
	uint64_t a, b;
};

#define F_PAUSED	1u	/* the secondary starts paused (periodic) */
#define F_REWRITE	2u	/* the secondary resets rewrite offsets */
#define F_MAXSTATE	4u	/* the secondary accepts at most 1024 bytes */

struct ccase {
	const char *name;
	unsigned int flags;
	struct step steps[12];
	const char *expect;
};

static void w_cfg(struct colo_proto_cfg *cfg, unsigned int flags)
{
	colo_proto_cfg_default(cfg);
	cfg->heartbeat_interval_ns = 100 * MS;
	cfg->heartbeat_timeout_ns = 350 * MS;
	cfg->step_timeout_ns = 200 * MS;
	cfg->max_aborts = 3;
	cfg->start_paused = flags & F_PAUSED;
	cfg->reset_rewrite = flags & F_REWRITE;
	cfg->max_state_size = flags & F_MAXSTATE ? 1024 : 0;
}

static struct world *w_new(unsigned int flags)
{
	struct world *w = calloc(1, sizeof(*w));
	struct colo_proto_cfg cfg;

	assert_non_null(w);
	w_cfg(&cfg, flags);
	assert_int_equal(colo_primary__init(&w->p, &cfg), 0);
	assert_int_equal(colo_secondary__init(&w->s, &cfg), 0);
	w->lat = 1 * MS;
	w->stop_d[PRI] = w->stop_d[SEC] = 1 * MS;
	w->save_d = 5 * MS;
	w->xfer_d = 4 * MS;
	w->load_d = 3 * MS;
	w->size = 4096;
	return w;
}

static void w_kill(struct world *w, int side)
{
	unsigned int i;

	w->dead[side] = true;
	/* what is already on the wire arrives; nothing else leaves */
	for (i = 0; i < w->nq; i++) {
		if (w->q[i].from == side && w->q[i].t > w->now + w->lat) {
			w->q[i--] = w->q[--w->nq];
		}
	}
}

static void w_close(struct world *w)
{
	unsigned int i;
	int s;

	w->closed = true;
	for (i = 0; i < w->nq; i++)
		if (w->q[i].kind != IT_LOCAL)
			w->q[i--] = w->q[--w->nq];
	for (s = 0; s < 2; s++)
		w_feed(w, s, (struct colo_event){ .type = COLO_EV_PEER_LOST,
						  .value = w->rxlen[s] });
}

static void w_step(struct world *w, const struct step *st)
{
	uint8_t buf[COLO_MSG_LEN];

	w_run(w, (uint64_t)st->ms * MS);
	switch (st->op) {
	case START:
		w_feed(w, PRI, (struct colo_event){ .type = COLO_EV_START });
		w_feed(w, SEC, (struct colo_event){ .type = COLO_EV_START });
		break;
	case DEMAND:
		w_feed(w, PRI, (struct colo_event){ .type = COLO_EV_CHECKPOINT,
						    .value = st->a });
		break;
	case KILL:
		w_kill(w, st->side);
		break;
	case CUT:
		w->down[st->side] = true;
		break;
	case CLOSE:
		w_close(w);
		break;
	case INJECT:
		assert_int_equal(colo_msg_encode(st->a, st->b, buf, sizeof(buf)), 12);
		w_bytes(w, st->side, buf, sizeof(buf));
		break;
	case RAW:
	case PARTIAL:
		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t)(st->a >> 24);
		buf[3] = (uint8_t)st->a;
		buf[11] = 0x5a;
		w_bytes(w, st->side, buf, st->op == RAW ? sizeof(buf) : st->b);
		break;
	case FAIL_SAVE:
		w->fail_save = (int)st->a;
		break;
	case FAIL_LOAD:
		w->fail_load = (int)st->a;
		break;
	case HANG_STOP:
		w->hang_stop = true;
		break;
	case HANG_LOAD:
		w->hang_load = true;
		break;
	case SET_STOP:
		w->stop_d[st->side] = st->a * MS;
		break;
	case SET_LOAD:
		w->load_d = st->a * MS;
		break;
	case SET_XFER:
		w->xfer_d = st->a * MS;
		break;
	case OPERATOR:
		w_feed(w, st->side, (struct colo_event){
			.type = COLO_EV_FAILOVER_REQUEST });
		break;
	default:
		break;
	}
}

static struct world *w_script(unsigned int flags, const struct step *steps)
{
	struct world *w = w_new(flags);
	const struct step *st;

	for (st = steps; st->op != END; st++)
		w_step(w, st);
	return w;
}

#define BOOT "S>ready S:run P:run"
#define CKPT1 "P>req1 S:stop S>rep1 P:stop P:save P>send1 P>size4096 " \
	      "P:state S:recv S>rcvd1 S:load P:release"
#define DONE1 "S>loaded1 S:run S:done1@27 P:run P:done1@28"

static const struct ccase ccases[] = {
	{ "startup: checkpoint-ready starts the primary's VM", 0,
	  { { START, 0 }, { RUN, 50 } },
	  BOOT },
	{ "startup periodic: the secondary stays paused", F_PAUSED,
	  { { START, 0 }, { RUN, 50 } },
	  "S>ready P:run" },
	{ "hybrid checkpoint, message by message", 0,
	  { { START, 0 }, { DEMAND, 10 }, { RUN, 50 } },
	  BOOT " " CKPT1 " " DONE1 },
	{ "periodic checkpoint: the secondary's VM never runs", F_PAUSED,
	  { { START, 0 }, { DEMAND, 10, 0, COLO_CKPT_PAUSE }, { RUN, 50 } },
	  "S>ready P:run P>req1p S>rep1 P:stop P:save P>send1 P>size4096 "
	  "P:state S:recv S>rcvd1 S:load P:release S>loaded1 S:done1@26 "
	  "P:run P:done1@27" },
	{ "hybrid -> periodic: the pause flag keeps the secondary stopped", 0,
	  { { START, 0 }, { DEMAND, 10, 0, COLO_CKPT_PAUSE }, { RUN, 50 } },
	  BOOT " P>req1p S:stop S>rep1 P:stop P:save P>send1 P>size4096 "
	  "P:state S:recv S>rcvd1 S:load P:release S>loaded1 S:done1@27 "
	  "P:run P:done1@28" },
	{ "periodic -> hybrid: a request without the flag resumes the secondary",
	  F_PAUSED, { { START, 0 }, { DEMAND, 10 }, { RUN, 50 } },
	  "S>ready P:run P>req1 S>rep1 P:stop P:save P>send1 P>size4096 "
	  "P:state S:recv S>rcvd1 S:load P:release S>loaded1 S:run S:done1@26 "
	  "P:run P:done1@27" },
	{ "two checkpoints are numbered 1 and 2", 0,
	  { { START, 0 }, { DEMAND, 10 }, { DEMAND, 40 }, { RUN, 100 } },
	  BOOT " " CKPT1 " " DONE1 " P>req2 S:stop S>rep2 P:stop P:save "
	  "P>send2 P>size4096 P:state S:recv S>rcvd2 S:load P:release "
	  "S>loaded2 S:run S:done2@57 P:run P:done2@58" },
	{ "demands during a checkpoint coalesce into one more", 0,
	  { { START, 0 }, { DEMAND, 10 }, { DEMAND, 12 }, { DEMAND, 15 },
	    { DEMAND, 20 }, { RUN, 200 } },
	  BOOT " " CKPT1 " " DONE1 " P>req2 S:stop S>rep2 P:stop P:save "
	  "P>send2 P>size4096 P:state S:recv S>rcvd2 S:load P:release "
	  "S>loaded2 S:run S:done2@45 P:run P:done2@46" },
	{ "a demand before checkpoint-ready waits for it", 0,
	  { { START, 0 }, { DEMAND, 0 }, { RUN, 50 } },
	  BOOT " P>req1 S:stop S>rep1 P:stop P:save P>send1 P>size4096 "
	  "P:state S:recv S>rcvd1 S:load P:release S>loaded1 S:run "
	  "S:done1@18 P:run P:done1@19" },
	{ "heartbeats keep an idle pair together", 0,
	  { { START, 0 }, { RUN, 5000 } },
	  BOOT },
	{ "primary host dies: secondary takes over 350 ms after the last heartbeat",
	  0, { { START, 0 }, { KILL, 1000, PRI }, { RUN, 2000 } },
	  BOOT " S>fo:heartbeat-lost+runs S:FAILOVER(heartbeat-lost)@1351" },
	{ "secondary host dies: primary goes on alone", 0,
	  { { START, 0 }, { KILL, 1000, SEC }, { RUN, 2000 } },
	  BOOT " P>fo:heartbeat-lost+runs P:release P:FAILOVER(heartbeat-lost)@1351" },
	{ "link cut one way: secondary takes over, primary stands down", 0,
	  { { START, 0 }, { CUT, 1000, PRI }, { RUN, 2000 } },
	  BOOT " S>fo:heartbeat-lost+runs S:FAILOVER(heartbeat-lost)@1351 "
	  "P:stop P:STANDDOWN(peer-failover)@1352" },
	{ "connection closed: each side decides alone (split brain, no arbiter)",
	  0, { { START, 0 }, { CLOSE, 500 }, { RUN, 2000 } },
	  BOOT " P:release P:FAILOVER(connection-lost)@500 "
	  "S:FAILOVER(connection-lost)@500" },
	{ "primary dies during the load: the takeover waits for the load", 0,
	  { { START, 0 }, { SET_LOAD, 0, 0, 1000 }, { DEMAND, 10 },
	    { KILL, 30, PRI }, { RUN, 2000 } },
	  BOOT " " CKPT1 " S:pending@374 S:done1@1024 "
	  "S>fo:heartbeat-lost+runs S:run S:FAILOVER(heartbeat-lost)@1024" },
	{ "primary dies during the state transfer: the secondary drops it", 0,
	  { { START, 0 }, { SET_XFER, 0, 0, 1000 }, { DEMAND, 10 },
	    { KILL, 30, PRI }, { RUN, 2000 } },
	  BOOT " P>req1 S:stop S>rep1 P:stop P:save P>send1 P>size4096 "
	  "P:state S:recv S:abort1(heartbeat-lost)@370 "
	  "S>fo:heartbeat-lost+runs S:run S:FAILOVER(heartbeat-lost)@370" },
	{ "garbage from the secondary: primary alone, secondary stands down", 0,
	  { { START, 0 }, { RAW, 50, PRI, 99 }, { RUN, 100 } },
	  BOOT " P!unknown-command P>fo:unknown-command+runs P:release "
	  "P:FAILOVER(unknown-command)@50 S:stop S:STANDDOWN(peer-failover)@51" },
	{ "garbage to the secondary: it stands down, the primary goes on", 0,
	  { { START, 0 }, { RAW, 50, SEC, 0x47455420 }, { RUN, 100 } },
	  BOOT " S!unknown-command S>fo:unknown-command S:stop "
	  "S:STANDDOWN(unknown-command)@50 P:release P:FAILOVER(peer-failover)@51" },
	{ "connection closes in the middle of a message", 0,
	  { { START, 0 }, { PARTIAL, 50, SEC, 1, 5 }, { CLOSE, 60 }, { RUN, 100 } },
	  BOOT " P:release P:FAILOVER(connection-lost)@60 S!truncated "
	  "S:FAILOVER(truncated-message)@60" },
	{ "a save fails once: the checkpoint is retried with the next number", 0,
	  { { START, 0 }, { FAIL_SAVE, 0, 0, 1 }, { DEMAND, 10 }, { RUN, 100 } },
	  BOOT " P>req1 S:stop S>rep1 P:stop P:save P:abort1(save-failed)@19 "
	  "P:run P>req2 S:abort1(superseded)@20 S>rep2 P:stop P:save P>send2 "
	  "P>size4096 P:state S:recv S>rcvd2 S:load P:release S>loaded2 S:run "
	  "S:done2@35 P:run P:done2@36" },
	{ "saves keep failing: failover after three aborts", 0,
	  { { START, 0 }, { FAIL_SAVE, 0, 0, 5 }, { DEMAND, 10 }, { RUN, 100 } },
	  BOOT " P>req1 S:stop S>rep1 P:stop P:save P:abort1(save-failed)@19 "
	  "P:run P>req2 S:abort1(superseded)@20 S>rep2 P:stop P:save "
	  "P:abort2(save-failed)@27 P:run P>req3 S:abort2(superseded)@28 "
	  "S>rep3 P:stop P:save P:abort3(save-failed)@35 P:run "
	  "P>fo:too-many-aborts+runs P:release P:FAILOVER(too-many-aborts)@35 "
	  "S:abort3(peer-failover)@36 S:STANDDOWN(peer-failover)@36" },
	{ "a load fails: the secondary stands down, the primary goes on", 0,
	  { { START, 0 }, { FAIL_LOAD, 0, 0, 1 }, { DEMAND, 10 }, { RUN, 100 } },
	  BOOT " " CKPT1 " S:abort1(load-failed)@27 S>fo:load-failed "
	  "S:STANDDOWN(load-failed)@27 P:release P:run P:FAILOVER(peer-failover)@28" },
	{ "the secondary's VM never stops: step timeouts, retries, failover", 0,
	  { { START, 0 }, { HANG_STOP, 0 }, { DEMAND, 10 }, { RUN, 1000 } },
	  BOOT " P>req1 S:stop P:abort1(step-timeout)@210 P>req2 "
	  "S:abort1(superseded)@211 P:abort2(step-timeout)@410 P>req3 "
	  "S:abort2(superseded)@411 P:abort3(step-timeout)@610 "
	  "P>fo:too-many-aborts+runs P:release P:FAILOVER(too-many-aborts)@610 "
	  "S:abort3(peer-failover)@611 S:STANDDOWN(peer-failover)@611" },
	{ "a reply overtaken by the step timeout is ignored", 0,
	  { { START, 0 }, { SET_STOP, 0, SEC, 199 }, { DEMAND, 10 }, { RUN, 300 } },
	  BOOT " P>req1 S:stop S>rep1 P:abort1(step-timeout)@210 P>req2 "
	  "P~ignored S:abort1(superseded)@211 S>rep2 P:stop P:save P>send2 "
	  "P>size4096 P:state S:recv S>rcvd2 S:load P:release S>loaded2 S:run "
	  "S:done2@226 P:run P:done2@227" },
	{ "the load never ends: primary fails over, secondary stands down", 0,
	  { { START, 0 }, { HANG_LOAD, 0 }, { DEMAND, 10 }, { RUN, 1000 } },
	  BOOT " " CKPT1 " P>fo:step-timeout+runs P:release P:run "
	  "P:FAILOVER(step-timeout)@225 S:abort1(peer-failover)@226 "
	  "S:STANDDOWN(peer-failover)@226" },
	{ "operator fails over to the secondary: the primary stands down", 0,
	  { { START, 0 }, { OPERATOR, 50, SEC }, { RUN, 100 } },
	  BOOT " S>fo:operator+runs S:FAILOVER(operator)@50 P:stop "
	  "P:STANDDOWN(peer-failover)@51" },
	{ "stale reply while waiting for a reply: abort and retry", 0,
	  { { START, 0 }, { DEMAND, 10 }, { DEMAND, 40 },
	    { INJECT, 41, PRI, COLO_CMD_CHECKPOINT_REPLY, 1 }, { RUN, 100 } },
	  BOOT " " CKPT1 " " DONE1 " P>req2 S:stop P!stale-seq "
	  "P:abort2(protocol-error)@41 P>req3 S>rep2 S:abort2(superseded)@42 "
	  "S>rep3 P~ignored P:stop P:save P>send3 P>size4096 P:state S:recv "
	  "S>rcvd3 S:load P:release S>loaded3 S:run S:done3@57 P:run P:done3@58" },
	{ "vmstate-loaded repeated after a checkpoint: primary fails over", 0,
	  { { START, 0 }, { DEMAND, 10 },
	    { INJECT, 40, PRI, COLO_CMD_VMSTATE_LOADED, 1 }, { RUN, 100 } },
	  BOOT " " CKPT1 " " DONE1 " P!duplicate P>fo:protocol-error+runs "
	  "P:release P:FAILOVER(protocol-error)@40 S:stop "
	  "S:STANDDOWN(peer-failover)@41" },
	{ "a request from the future: the secondary stands down", 0,
	  { { START, 0 }, { INJECT, 40, SEC, COLO_CMD_CHECKPOINT_REQUEST, 5 },
	    { RUN, 100 } },
	  BOOT " S!future-seq S>fo:protocol-error S:stop "
	  "S:STANDDOWN(protocol-error)@40 P:release P:FAILOVER(peer-failover)@41" },
	{ "qemu driver: rewrite offsets reset after each load", F_REWRITE,
	  { { START, 0 }, { DEMAND, 10 }, { RUN, 50 } },
	  BOOT " " CKPT1 " S:reset " DONE1 },
	{ "messages after failover are ignored", 0,
	  { { START, 0 }, { OPERATOR, 50, PRI },
	    { INJECT, 60, PRI, COLO_CMD_CHECKPOINT_REPLY, 1 },
	    { INJECT, 60, SEC, COLO_CMD_CHECKPOINT_REQUEST, 1 }, { RUN, 100 } },
	  BOOT " P>fo:operator+runs P:release P:FAILOVER(operator)@50 S:stop "
	  "S:STANDDOWN(peer-failover)@51 P!after-end S!after-end" },
	{ "vmstate-size above the secondary's limit", F_MAXSTATE,
	  { { START, 0 }, { DEMAND, 10 }, { RUN, 100 } },
	  BOOT " P>req1 S:stop S>rep1 P:stop P:save P>send1 P>size4096 P:state "
	  "S!bad-value S:abort1(protocol-error)@20 S>fo:protocol-error "
	  "S:STANDDOWN(protocol-error)@20 P:release P:run "
	  "P:FAILOVER(peer-failover)@21" },
};

static void test_conversation(void **state)
{
	const struct ccase *c = *state;
	struct world *w = w_script(c->flags, c->steps);

	if (strcmp(w->log, c->expect))
		fail_msg("case %s:\n  expected: %s\n  got:      %s", c->name,
			 c->expect, w->log);
	free(w);
}

/* ---- timing and counters recorded along a conversation ---- */

static void test_protocol_checkpoint_timing(void **state)
{
	static const struct step steps[] = {
		{ START, 0 }, { DEMAND, 8 }, { DEMAND, 10 }, { DEMAND, 12 },
		{ DEMAND, 13 }, { RUN, 100 }, { END }
	};
	struct world *w = w_script(0, steps);
	const struct colo_ckpt_timing *p = &w->p.b.stats.last;
	const struct colo_ckpt_timing *s = &w->s.b.stats.last;

	(void)state;
	/* 1 at 8..26, then 2 absorbing the demands at 10, 12 and 13 */
	assert_int_equal(w->p.b.stats.checkpoints, 2);
	assert_int_equal(w->s.b.stats.checkpoints, 2);
	assert_int_equal(w->p.b.stats.coalesced, 2);
	assert_int_equal(p->seq, 2);
	assert_int_equal(p->coalesced, 2);
	assert_int_equal(p->demand_ns, 10 * MS);
	assert_int_equal(p->start_ns, 26 * MS);
	assert_int_equal(p->reply_ns, 29 * MS);
	assert_int_equal(p->stopped_ns, 30 * MS);
	assert_int_equal(p->saved_ns, 35 * MS);
	assert_int_equal(p->received_ns, 41 * MS);
	assert_int_equal(p->loaded_ns, 44 * MS);
	assert_int_equal(p->size, 4096);
	/* duration 18 ms, VM down 14 ms, output held 31 ms after the demand */
	assert_int_equal(p->loaded_ns - p->start_ns, 18 * MS);
	assert_int_equal(p->loaded_ns - p->stopped_ns, 14 * MS);
	assert_int_equal(p->received_ns - p->demand_ns, 31 * MS);
	assert_int_equal(s->seq, 2);
	assert_int_equal(s->start_ns, 27 * MS);
	assert_int_equal(s->stopped_ns, 28 * MS);
	assert_int_equal(s->send_ns, 36 * MS);
	assert_int_equal(s->received_ns, 40 * MS);
	assert_int_equal(s->loaded_ns, 43 * MS);
	assert_int_equal(s->size, 4096);
	assert_true(w->max_actions < COLO_MAX_ACTIONS);
	free(w);
}

static void test_protocol_failover_timing(void **state)
{
	static const struct step steps[] = {
		{ START, 0 }, { SET_LOAD, 0, 0, 1000 }, { DEMAND, 10 },
		{ KILL, 30, PRI }, { RUN, 2000 }, { END }
	};
	struct world *w = w_script(0, steps);
	const struct colo_failover_info *fo = &w->s.b.stats.failover;

	(void)state;
	assert_int_equal(w->s.state, COLO_S_TOOK_OVER);
	assert_int_equal(fo->reason, COLO_PR_HEARTBEAT);
	assert_int_equal(fo->outcome, COLO_OUT_FAILOVER);
	assert_int_equal(fo->last_rx_ns, 24 * MS);	/* last state byte */
	assert_int_equal(fo->detected_ns, 374 * MS);
	assert_int_equal(fo->done_ns, 1024 * MS);	/* after the load */
	assert_int_equal(fo->seq, 1);
	free(w);
}

static void test_protocol_heartbeat_counts(void **state)
{
	static const struct step steps[] = {
		{ START, 0 }, { RUN, 1050 }, { END }
	};
	struct world *w = w_script(0, steps);

	(void)state;
	assert_int_equal(w->p.b.stats.heartbeats_tx, 10);
	assert_int_equal(w->s.b.stats.heartbeats_tx, 10);
	assert_int_equal(w->p.b.stats.heartbeats_rx, 10);
	assert_int_equal(w->s.b.stats.heartbeats_rx, 10);
	assert_int_equal(w->p.state, COLO_P_RUNNING);
	assert_int_equal(w->s.state, COLO_S_IDLE);
	free(w);
}

/* ---- 3. invalid input, one machine at a time ---- */

struct rig {
	struct colo_primary p;
	struct colo_secondary s;
	struct colo_actions out;
	uint64_t now;
};

static int rfeed(struct rig *r, int side, enum colo_ev_type type,
		 uint32_t cmd, uint64_t value, uint64_t seq)
{
	struct colo_event ev = { .type = type, .now_ns = r->now, .cmd = cmd,
				 .value = value, .seq = seq };

	r->now += MS;
	return side ? colo_secondary__handle(&r->s, &ev, &r->out) :
		      colo_primary__handle(&r->p, &ev, &r->out);
}

static void rig_init(struct rig *r)
{
	struct colo_proto_cfg cfg;

	memset(r, 0, sizeof(*r));
	w_cfg(&cfg, 0);
	cfg.max_state_size = 1 << 20;
	assert_int_equal(colo_primary__init(&r->p, &cfg), 0);
	assert_int_equal(colo_secondary__init(&r->s, &cfg), 0);
}

/* Drive the primary into state st; wait states belong to checkpoint 2. */
static void p_goto(struct rig *r, enum colo_pstate st)
{
	static const struct { enum colo_ev_type t; uint32_t cmd; uint64_t v, seq; } path[] = {
		{ COLO_EV_START }, { COLO_EV_MSG, COLO_CMD_CHECKPOINT_READY },
		{ COLO_EV_CHECKPOINT }, { COLO_EV_MSG, COLO_CMD_CHECKPOINT_REPLY, 1 },
		{ COLO_EV_VM_STOPPED, 0, 0, 1 }, { COLO_EV_STATE_SAVED, 0, 100, 1 },
		{ COLO_EV_MSG, COLO_CMD_VMSTATE_RECEIVED, 1 },
		{ COLO_EV_MSG, COLO_CMD_VMSTATE_LOADED, 1 },
		{ COLO_EV_CHECKPOINT }, { COLO_EV_MSG, COLO_CMD_CHECKPOINT_REPLY, 2 },
		{ COLO_EV_VM_STOPPED, 0, 0, 2 }, { COLO_EV_STATE_SAVED, 0, 100, 2 },
		{ COLO_EV_MSG, COLO_CMD_VMSTATE_RECEIVED, 2 },
	};
	size_t i;

	rig_init(r);
	for (i = 0; i < ARRAY_SIZE(path); i++) {
		assert_int_equal(rfeed(r, PRI, path[i].t, path[i].cmd, path[i].v,
				       path[i].seq), 0);
		if (r->p.state == st && (st == COLO_P_WAIT_READY || r->p.b.done == 1))
			return;
		if (st == COLO_P_FAILED_OVER && r->p.b.done == 1) {
			assert_int_equal(rfeed(r, PRI, COLO_EV_FAILOVER_REQUEST, 0, 0, 0), 0);
			return;
		}
		if (st == COLO_P_STOOD_DOWN && r->p.b.done == 1) {
			assert_int_equal(rfeed(r, PRI, COLO_EV_MSG, COLO_CMD_FAILOVER,
					       COLO_FO_SENDER_RUNS, 0), 0);
			return;
		}
	}
	fail_msg("could not reach primary state %s", colo_pstate_name(st));
}

/* Drive the secondary into state st; wait states belong to checkpoint 2. */
static void s_goto(struct rig *r, enum colo_sstate st)
{
	static const struct { enum colo_ev_type t; uint32_t cmd; uint64_t v, seq; } path[] = {
		{ COLO_EV_START }, { COLO_EV_MSG, COLO_CMD_CHECKPOINT_REQUEST, 1 },
		{ COLO_EV_VM_STOPPED, 0, 0, 1 }, { COLO_EV_MSG, COLO_CMD_VMSTATE_SEND, 1 },
		{ COLO_EV_MSG, COLO_CMD_VMSTATE_SIZE, 100 },
		{ COLO_EV_STATE_RECEIVED, 0, 0, 1 }, { COLO_EV_STATE_LOADED, 0, 0, 1 },
		{ COLO_EV_MSG, COLO_CMD_CHECKPOINT_REQUEST, 2 },
		{ COLO_EV_VM_STOPPED, 0, 0, 2 }, { COLO_EV_MSG, COLO_CMD_VMSTATE_SEND, 2 },
		{ COLO_EV_MSG, COLO_CMD_VMSTATE_SIZE, 100 },
		{ COLO_EV_STATE_RECEIVED, 0, 0, 2 },
	};
	size_t i;

	rig_init(r);
	for (i = 0; i < ARRAY_SIZE(path); i++) {
		assert_int_equal(rfeed(r, SEC, path[i].t, path[i].cmd, path[i].v,
				       path[i].seq), 0);
		if (r->s.state == st && r->s.b.done == 1)
			return;
		if (st == COLO_S_TOOK_OVER && r->s.b.done == 1) {
			assert_int_equal(rfeed(r, SEC, COLO_EV_FAILOVER_REQUEST, 0, 0, 0), 0);
			return;
		}
		if (st == COLO_S_STOOD_DOWN && r->s.b.done == 1) {
			assert_int_equal(rfeed(r, SEC, COLO_EV_MSG, COLO_CMD_FAILOVER,
					       COLO_FO_SENDER_RUNS, 0), 0);
			return;
		}
	}
	fail_msg("could not reach secondary state %s", colo_sstate_name(st));
}

static void rig_goto(struct rig *r, int side, int st)
{
	if (side)
		s_goto(r, st);
	else
		p_goto(r, st);
	assert_int_equal(side ? (int)r->s.state : (int)r->p.state, st);
}

/* Commands tried in every state; the last is not a command at all. */
static const uint32_t tcmds[] = {
	COLO_CMD_CHECKPOINT_READY, COLO_CMD_CHECKPOINT_REQUEST,
	COLO_CMD_CHECKPOINT_REPLY, COLO_CMD_VMSTATE_SEND, COLO_CMD_VMSTATE_SIZE,
	COLO_CMD_VMSTATE_RECEIVED, COLO_CMD_VMSTATE_LOADED, COLO_CMD_HEARTBEAT,
	COLO_CMD_FAILOVER, 99,
};
#define NCMDS ARRAY_SIZE(tcmds)

/* The value a well-meaning peer would put in each command here. */
static uint64_t tvalue(const struct colo_proto_base *b, uint32_t cmd)
{
	switch (cmd) {
	case COLO_CMD_CHECKPOINT_READY:
		return 0;
	case COLO_CMD_CHECKPOINT_REQUEST:
		return b->seq + 1;
	case COLO_CMD_VMSTATE_SIZE:
		return 100;
	case COLO_CMD_HEARTBEAT:
		return b->done;
	case COLO_CMD_FAILOVER:
		return COLO_PR_PROTOCOL;	/* the peer stopped */
	default:
		return b->seq;
	}
}

/*
 * One letter per command of tcmds[]: o ok, a aborted (-EPROTO), A aborted
 * by a newer request (0), f failover (-EPROTO), F failover (0), s stand
 * down (-EPROTO), S stand down (0), p takeover pending (0), i ignored after
 * the end (-ESHUTDOWN).
 */
struct tcase {
	int side;
	int state;
	const char *expect;
};

static const struct tcase tcases[] = {
	{ PRI, COLO_P_WAIT_READY,    "offffffoFf" },
	{ PRI, COLO_P_RUNNING,       "fffffffoFf" },
	{ PRI, COLO_P_WAIT_REPLY,    "aaoaaaaoFf" },
	{ PRI, COLO_P_WAIT_STOPPED,  "aaaaaaaoFf" },
	{ PRI, COLO_P_WAIT_SAVED,    "aaaaaaaoFf" },
	{ PRI, COLO_P_WAIT_RECEIVED, "fffffofoFf" },
	{ PRI, COLO_P_WAIT_LOADED,   "ffffffooFf" },
	{ PRI, COLO_P_FAILED_OVER,   "iiiiiiiiii" },
	{ PRI, COLO_P_STOOD_DOWN,    "iiiiiiiiii" },
	{ SEC, COLO_S_IDLE,          "sosssssoFs" },
	{ SEC, COLO_S_WAIT_STOPPED,  "sAsssssoFs" },
	{ SEC, COLO_S_WAIT_SEND,     "sAsosssoFs" },
	{ SEC, COLO_S_WAIT_SIZE,     "ssssossoFs" },
	{ SEC, COLO_S_RECV_STATE,    "ssssssssss" },
	{ SEC, COLO_S_LOADING,       "sssssssops" },
	{ SEC, COLO_S_TOOK_OVER,     "iiiiiiiiii" },
	{ SEC, COLO_S_STOOD_DOWN,    "iiiiiiiiii" },
};

struct tcell {
	const struct tcase *row;
	unsigned int col;
	char name[96];
};

static bool has_action(const struct colo_actions *out, enum colo_act_type t)
{
	unsigned int i;

	for (i = 0; i < out->n; i++)
		if (out->a[i].type == t)
			return true;
	return false;
}

static void check_letter(const struct colo_actions *out, int ret, char want,
			 const char *name)
{
	static const struct { char c; int ret; enum colo_outcome o; } map[] = {
		{ 'o', 0, COLO_OUT_OK }, { 'a', -EPROTO, COLO_OUT_ABORTED },
		{ 'A', 0, COLO_OUT_ABORTED }, { 'f', -EPROTO, COLO_OUT_FAILOVER },
		{ 'F', 0, COLO_OUT_FAILOVER }, { 's', -EPROTO, COLO_OUT_STAND_DOWN },
		{ 'S', 0, COLO_OUT_STAND_DOWN },
		{ 'p', 0, COLO_OUT_FAILOVER_PENDING },
		{ 'i', -ESHUTDOWN, COLO_OUT_IGNORED },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].c == want)
			break;
	assert_true(i < ARRAY_SIZE(map));
	if (ret != map[i].ret || out->outcome != map[i].o)
		fail_msg("%s: got %d/%s, expected %d/%s (%s)", name, ret,
			 colo_outcome_name(out->outcome), map[i].ret,
			 colo_outcome_name(map[i].o), out->text);
	/* every refusal explains itself */
	if (ret < 0 && (out->err == COLO_PERR_NONE || !out->text[0]))
		fail_msg("%s: no error class or text", name);
	if ((want == 'f' || want == 'F') && !has_action(out, COLO_ACT_FAILOVER))
		fail_msg("%s: no failover action", name);
	if ((want == 's' || want == 'S') && !has_action(out, COLO_ACT_STAND_DOWN))
		fail_msg("%s: no stand-down action", name);
	if ((want == 'a' || want == 'A') &&
	    !has_action(out, COLO_ACT_ABORT_CHECKPOINT))
		fail_msg("%s: no abort action", name);
	if (want == 'i' && out->n)
		fail_msg("%s: actions after the end", name);
}

static void test_transition(void **state)
{
	const struct tcell *cell = *state;
	const struct tcase *row = cell->row;
	uint32_t cmd = tcmds[cell->col];
	struct rig *r = calloc(1, sizeof(*r));
	const struct colo_proto_base *b;
	int ret;

	assert_non_null(r);
	rig_goto(r, row->side, row->state);
	b = row->side ? &r->s.b : &r->p.b;
	ret = rfeed(r, row->side, COLO_EV_MSG, cmd, tvalue(b, cmd), 0);
	check_letter(&r->out, ret, row->expect[cell->col], cell->name);
	if (cmd == 99 && row->expect[cell->col] != 'i')
		assert_int_equal(r->out.err, COLO_PERR_UNKNOWN_CMD);
	free(r);
}

/* ---- sequence numbers, values, special cases ---- */

struct scase {
	const char *name;
	int side;
	int state;
	uint32_t cmd;
	uint64_t value;
	int ret;
	enum colo_outcome outcome;
	enum colo_perr err;
};

static const struct scase scases[] = {
	{ "primary wait-reply: reply for the checkpoint already done", PRI,
	  COLO_P_WAIT_REPLY, COLO_CMD_CHECKPOINT_REPLY, 1, -EPROTO,
	  COLO_OUT_ABORTED, COLO_PERR_STALE_SEQ },
	{ "primary wait-reply: reply 0", PRI, COLO_P_WAIT_REPLY,
	  COLO_CMD_CHECKPOINT_REPLY, 0, -EPROTO, COLO_OUT_ABORTED,
	  COLO_PERR_STALE_SEQ },
	{ "primary wait-reply: reply from the future", PRI, COLO_P_WAIT_REPLY,
	  COLO_CMD_CHECKPOINT_REPLY, 3, -EPROTO, COLO_OUT_ABORTED,
	  COLO_PERR_FUTURE_SEQ },
	{ "primary wait-reply: any heartbeat value is fine", PRI,
	  COLO_P_WAIT_REPLY, COLO_CMD_HEARTBEAT, 12345, 0, COLO_OUT_OK,
	  COLO_PERR_NONE },
	{ "primary wait-stopped: reply repeated", PRI, COLO_P_WAIT_STOPPED,
	  COLO_CMD_CHECKPOINT_REPLY, 2, -EPROTO, COLO_OUT_ABORTED,
	  COLO_PERR_DUPLICATE },
	{ "primary wait-saved: received before any state", PRI,
	  COLO_P_WAIT_SAVED, COLO_CMD_VMSTATE_RECEIVED, 2, -EPROTO,
	  COLO_OUT_ABORTED, COLO_PERR_WRONG_CMD },
	{ "primary wait-received: stale received", PRI, COLO_P_WAIT_RECEIVED,
	  COLO_CMD_VMSTATE_RECEIVED, 1, -EPROTO, COLO_OUT_FAILOVER,
	  COLO_PERR_STALE_SEQ },
	{ "primary wait-received: received from the future", PRI,
	  COLO_P_WAIT_RECEIVED, COLO_CMD_VMSTATE_RECEIVED, 3, -EPROTO,
	  COLO_OUT_FAILOVER, COLO_PERR_FUTURE_SEQ },
	{ "primary wait-received: loaded before received", PRI,
	  COLO_P_WAIT_RECEIVED, COLO_CMD_VMSTATE_LOADED, 2, -EPROTO,
	  COLO_OUT_FAILOVER, COLO_PERR_WRONG_CMD },
	{ "primary wait-loaded: stale loaded", PRI, COLO_P_WAIT_LOADED,
	  COLO_CMD_VMSTATE_LOADED, 1, -EPROTO, COLO_OUT_FAILOVER,
	  COLO_PERR_STALE_SEQ },
	{ "primary wait-loaded: loaded from the future", PRI,
	  COLO_P_WAIT_LOADED, COLO_CMD_VMSTATE_LOADED, 7, -EPROTO,
	  COLO_OUT_FAILOVER, COLO_PERR_FUTURE_SEQ },
	{ "primary wait-loaded: received repeated", PRI, COLO_P_WAIT_LOADED,
	  COLO_CMD_VMSTATE_RECEIVED, 2, -EPROTO, COLO_OUT_FAILOVER,
	  COLO_PERR_DUPLICATE },
	{ "primary running: loaded repeated", PRI, COLO_P_RUNNING,
	  COLO_CMD_VMSTATE_LOADED, 1, -EPROTO, COLO_OUT_FAILOVER,
	  COLO_PERR_DUPLICATE },
	{ "primary running: reply nobody asked for", PRI, COLO_P_RUNNING,
	  COLO_CMD_CHECKPOINT_REPLY, 2, -EPROTO, COLO_OUT_FAILOVER,
	  COLO_PERR_WRONG_CMD },
	{ "primary wait-ready: ready with a sequence number", PRI,
	  COLO_P_WAIT_READY, COLO_CMD_CHECKPOINT_READY, 5, -EPROTO,
	  COLO_OUT_FAILOVER, COLO_PERR_FUTURE_SEQ },
	{ "primary: failover saying the secondary runs", PRI, COLO_P_RUNNING,
	  COLO_CMD_FAILOVER, COLO_FO_SENDER_RUNS | COLO_PR_OPERATOR, 0,
	  COLO_OUT_STAND_DOWN, COLO_PERR_NONE },
	{ "secondary idle: request for the checkpoint just done", SEC,
	  COLO_S_IDLE, COLO_CMD_CHECKPOINT_REQUEST, 1, -EPROTO,
	  COLO_OUT_STAND_DOWN, COLO_PERR_STALE_SEQ },
	{ "secondary idle: request 0", SEC, COLO_S_IDLE,
	  COLO_CMD_CHECKPOINT_REQUEST, 0, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_STALE_SEQ },
	{ "secondary idle: request skipping a number", SEC, COLO_S_IDLE,
	  COLO_CMD_CHECKPOINT_REQUEST, 3, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_FUTURE_SEQ },
	{ "secondary idle: stale request with the pause flag", SEC, COLO_S_IDLE,
	  COLO_CMD_CHECKPOINT_REQUEST, COLO_REQ_PAUSE | 1, -EPROTO,
	  COLO_OUT_STAND_DOWN, COLO_PERR_STALE_SEQ },
	{ "secondary idle: next request with the pause flag", SEC, COLO_S_IDLE,
	  COLO_CMD_CHECKPOINT_REQUEST, COLO_REQ_PAUSE | 2, 0, COLO_OUT_OK,
	  COLO_PERR_NONE },
	{ "secondary wait-send: stale send", SEC, COLO_S_WAIT_SEND,
	  COLO_CMD_VMSTATE_SEND, 1, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_STALE_SEQ },
	{ "secondary wait-send: send from the future", SEC, COLO_S_WAIT_SEND,
	  COLO_CMD_VMSTATE_SEND, 3, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_FUTURE_SEQ },
	{ "secondary wait-stopped: request repeated", SEC, COLO_S_WAIT_STOPPED,
	  COLO_CMD_CHECKPOINT_REQUEST, 2, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_DUPLICATE },
	{ "secondary wait-send: request two ahead", SEC, COLO_S_WAIT_SEND,
	  COLO_CMD_CHECKPOINT_REQUEST, 4, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_WRONG_CMD },
	{ "secondary wait-size: size 0", SEC, COLO_S_WAIT_SIZE,
	  COLO_CMD_VMSTATE_SIZE, 0, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_BAD_VALUE },
	{ "secondary wait-size: size above the limit", SEC, COLO_S_WAIT_SIZE,
	  COLO_CMD_VMSTATE_SIZE, 2 << 20, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_BAD_VALUE },
	{ "secondary wait-size: size at the limit", SEC, COLO_S_WAIT_SIZE,
	  COLO_CMD_VMSTATE_SIZE, 1 << 20, 0, COLO_OUT_OK, COLO_PERR_NONE },
	{ "secondary wait-size: send repeated", SEC, COLO_S_WAIT_SIZE,
	  COLO_CMD_VMSTATE_SEND, 2, -EPROTO, COLO_OUT_STAND_DOWN,
	  COLO_PERR_DUPLICATE },
	{ "secondary recv-state: heartbeat where state bytes belong", SEC,
	  COLO_S_RECV_STATE, COLO_CMD_HEARTBEAT, 1, -EPROTO,
	  COLO_OUT_STAND_DOWN, COLO_PERR_WRONG_CMD },
	{ "secondary loading: failover saying the primary runs", SEC,
	  COLO_S_LOADING, COLO_CMD_FAILOVER,
	  COLO_FO_SENDER_RUNS | COLO_PR_HEARTBEAT, 0, COLO_OUT_STAND_DOWN,
	  COLO_PERR_NONE },
};

static void test_seq_case(void **state)
{
	const struct scase *c = *state;
	struct rig *r = calloc(1, sizeof(*r));
	int ret;

	assert_non_null(r);
	rig_goto(r, c->side, c->state);
	ret = rfeed(r, c->side, COLO_EV_MSG, c->cmd, c->value, 0);
	if (ret != c->ret || r->out.outcome != c->outcome ||
	    r->out.err != c->err)
		fail_msg("%s: got %d/%s/%s, expected %d/%s/%s (%s)", c->name,
			 ret, colo_outcome_name(r->out.outcome),
			 colo_perr_name(r->out.err), c->ret,
			 colo_outcome_name(c->outcome), colo_perr_name(c->err),
			 r->out.text);
	free(r);
}

/* A reply overtaken by a step timeout is ignored once, not twice. */
static void test_protocol_late_reply(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	uint64_t t;

	(void)state;
	assert_non_null(r);
	p_goto(r, COLO_P_WAIT_REPLY);	/* checkpoint 2 */
	t = r->p.b.deadline[COLO_TIMER_STEP];
	r->now = t;
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_STEP, 0), 0);
	assert_int_equal(r->out.outcome, COLO_OUT_ABORTED);
	assert_int_equal(r->p.b.seq, 3);
	assert_int_equal(r->p.b.stats.aborted, 1);
	assert_int_equal(rfeed(r, PRI, COLO_EV_MSG, COLO_CMD_CHECKPOINT_REPLY, 2, 0), 0);
	assert_int_equal(r->out.outcome, COLO_OUT_IGNORED);
	assert_int_equal(r->out.n, 0);
	assert_int_equal(rfeed(r, PRI, COLO_EV_MSG, COLO_CMD_CHECKPOINT_REPLY, 2, 0),
			 -EPROTO);
	assert_int_equal(r->out.err, COLO_PERR_DUPLICATE);
	assert_int_equal(r->out.outcome, COLO_OUT_ABORTED);
	assert_int_equal(r->p.b.seq, 4);
	free(r);
}

/* Completions and timers of an earlier step are ignored, not obeyed. */
static void test_protocol_stale_local_events(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	p_goto(r, COLO_P_WAIT_STOPPED);	/* checkpoint 2 */
	assert_int_equal(rfeed(r, PRI, COLO_EV_VM_STOPPED, 0, 0, 1), -ESTALE);
	assert_int_equal(r->out.err, COLO_PERR_STALE_LOCAL);
	assert_int_equal(r->out.n, 0);
	assert_int_equal(rfeed(r, PRI, COLO_EV_STATE_SAVED, 0, 100, 2), -EINVAL);
	assert_int_equal(r->out.err, COLO_PERR_BAD_EVENT);
	assert_int_equal(r->p.state, COLO_P_WAIT_STOPPED);
	/* no step timer while the primary's own VM stops */
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_STEP, 0), -ESTALE);
	/* a heartbeat timer fired before it is due */
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_HEARTBEAT, 0),
			 -ESTALE);
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, 7, 0), -EINVAL);
	/* an empty state aborts like a failed save */
	assert_int_equal(rfeed(r, PRI, COLO_EV_VM_STOPPED, 0, 0, 2), 0);
	assert_int_equal(rfeed(r, PRI, COLO_EV_STATE_SAVED, 0, 0, 2), 0);
	assert_int_equal(r->out.outcome, COLO_OUT_ABORTED);
	/* the aborted checkpoint's save reports late */
	assert_int_equal(rfeed(r, PRI, COLO_EV_STATE_SAVED, 0, 100, 2), -ESTALE);
	assert_int_equal(r->p.state, COLO_P_WAIT_REPLY);

	s_goto(r, COLO_S_LOADING);
	assert_int_equal(rfeed(r, SEC, COLO_EV_STATE_LOADED, 0, 0, 1), -ESTALE);
	assert_int_equal(rfeed(r, SEC, COLO_EV_STATE_PROGRESS, 0, 10, 2), -ESTALE);
	assert_int_equal(rfeed(r, SEC, COLO_EV_STATE_RECEIVED, 0, 0, 2), -EINVAL);
	assert_int_equal(rfeed(r, SEC, COLO_EV_TIMER, 0, COLO_TIMER_STEP, 0), -ESTALE);
	assert_int_equal(r->s.state, COLO_S_LOADING);
	assert_int_equal(rfeed(r, SEC, COLO_EV_STATE_LOADED, 0, 0, 2), 0);
	assert_int_equal(r->s.state, COLO_S_IDLE);
	free(r);
}

/* The peer timer re-arms for the rest of the timeout while traffic flows. */
static void test_protocol_peer_timer(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	rig_init(r);
	assert_int_equal(rfeed(r, PRI, COLO_EV_START, 0, 0, 0), 0);	/* t=0 */
	r->now = 100 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_MSG, COLO_CMD_HEARTBEAT, 0, 0), 0);
	r->now = 350 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_PEER, 0), 0);
	assert_int_equal(r->out.n, 1);
	assert_int_equal(r->out.a[0].type, COLO_ACT_ARM_TIMER);
	assert_int_equal(r->out.a[0].timer, COLO_TIMER_PEER);
	assert_int_equal(r->out.a[0].value, 100 * MS);
	r->now = 449 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_PEER, 0), -ESTALE);
	r->now = 450 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_PEER, 0), 0);
	assert_int_equal(r->out.outcome, COLO_OUT_FAILOVER);
	assert_int_equal(r->p.b.stats.failover.reason, COLO_PR_HEARTBEAT);
	assert_int_equal(r->p.b.stats.failover.last_rx_ns, 100 * MS);
	assert_int_equal(r->p.b.stats.failover.detected_ns, 450 * MS);
	assert_int_equal(r->p.b.stats.failover.done_ns, 450 * MS);
	assert_non_null(strstr(r->out.text, "nothing from the secondary for 350 ms"));
	free(r);
}

/* No checkpoint-ready within the step timeout: the primary runs alone. */
static void test_protocol_ready_timeout(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	rig_init(r);
	assert_int_equal(rfeed(r, PRI, COLO_EV_START, 0, 0, 0), 0);
	r->now = 150 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_MSG, COLO_CMD_HEARTBEAT, 0, 0), 0);
	r->now = 200 * MS;
	assert_int_equal(rfeed(r, PRI, COLO_EV_TIMER, 0, COLO_TIMER_STEP, 0), 0);
	assert_int_equal(r->out.outcome, COLO_OUT_FAILOVER);
	assert_int_equal(r->p.b.stats.failover.reason, COLO_PR_STEP_TIMEOUT);
	assert_true(has_action(&r->out, COLO_ACT_RESUME_VM));
	free(r);
}

static void test_protocol_bad_calls(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct colo_proto_cfg cfg;
	struct colo_event ev = { .type = COLO_EV_START };

	(void)state;
	assert_non_null(r);
	colo_proto_cfg_default(&cfg);
	assert_int_equal(colo_primary__init(NULL, &cfg), -EINVAL);
	assert_int_equal(colo_primary__init(&r->p, NULL), 0);
	assert_int_equal(r->p.b.cfg.heartbeat_timeout_ns, 1000 * MS);
	cfg.heartbeat_timeout_ns = cfg.heartbeat_interval_ns;
	assert_int_equal(colo_secondary__init(&r->s, &cfg), -EINVAL);
	colo_proto_cfg_default(&cfg);
	cfg.step_timeout_ns = 0;
	assert_int_equal(colo_primary__init(&r->p, &cfg), -EINVAL);
	colo_proto_cfg_default(&cfg);
	cfg.max_aborts = 0;
	assert_int_equal(colo_primary__init(&r->p, &cfg), -EINVAL);
	assert_int_equal(colo_primary__handle(NULL, &ev, &r->out), -EINVAL);
	assert_int_equal(colo_secondary__handle(&r->s, NULL, &r->out), -EINVAL);

	rig_init(r);
	assert_int_equal(rfeed(r, PRI, COLO_EV_CHECKPOINT, 0, 0, 0), -EINVAL);
	assert_string_equal(r->out.text, "event before start");
	assert_int_equal(rfeed(r, PRI, COLO_EV_START, 0, 0, 0), 0);
	assert_int_equal(rfeed(r, PRI, COLO_EV_START, 0, 0, 0), -EINVAL);
	assert_int_equal(rfeed(r, PRI, COLO_EV_MAX, 0, 0, 0), -EINVAL);
	assert_int_equal(rfeed(r, PRI, COLO_EV_CHECKPOINT, 0, 6, 0), -EINVAL);
	assert_int_equal(rfeed(r, PRI, COLO_EV_STATE_RECEIVED, 0, 0, 0), -EINVAL);
	r->now = 0;
	assert_int_equal(rfeed(r, PRI, COLO_EV_CHECKPOINT, 0, 0, 0), -EINVAL);
	assert_string_equal(r->out.text, "time went backwards");
	assert_int_equal(r->p.state, COLO_P_WAIT_READY);
	r->now = 100 * MS;
	assert_int_equal(rfeed(r, SEC, COLO_EV_START, 0, 0, 0), 0);
	assert_int_equal(rfeed(r, SEC, COLO_EV_CHECKPOINT, 0, 0, 0), -EINVAL);
	assert_int_equal(rfeed(r, SEC, COLO_EV_SAVE_FAILED, 0, 0, 0), -EINVAL);
	assert_int_equal(r->s.state, COLO_S_IDLE);
	free(r);
}

/* Random events and messages near the current sequence numbers: every
 * answer is one of the defined ones, and nothing overflows or crashes. */
static void test_protocol_storm(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	uint64_t x = 0x243f6a8885a308d3ULL;
	unsigned int run, i;

	(void)state;
	assert_non_null(r);
	for (run = 0; run < 300; run++) {
		rig_init(r);
		assert_int_equal(rfeed(r, PRI, COLO_EV_START, 0, 0, 0), 0);
		assert_int_equal(rfeed(r, SEC, COLO_EV_START, 0, 0, 0), 0);
		for (i = 0; i < 60; i++) {
			int side, ret;
			const struct colo_proto_base *b;
			enum colo_ev_type t;
			uint32_t cmd;
			uint64_t v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			side = x & 1;
			b = side ? &r->s.b : &r->p.b;
			t = (x >> 1) % COLO_EV_MAX;
			if (t == COLO_EV_START)
				t = COLO_EV_MSG;
			cmd = (x >> 8) % (COLO_CMD_MAX + 1);
			v = b->seq + (x >> 16) % 3 - 1;
			if (t == COLO_EV_TIMER)
				v = (x >> 16) % COLO_TIMER_MAX;
			if (cmd == COLO_CMD_FAILOVER)
				v = (x >> 20) & 1 ? COLO_FO_SENDER_RUNS : 0;
			r->now += (x >> 24) % 300 * MS;
			ret = rfeed(r, side, t, cmd, v, b->seq + (x >> 40) % 2 - 1);
			assert_false(r->out.overflow);
			assert_true(ret == 0 || ret == -EPROTO || ret == -ESTALE ||
				    ret == -ESHUTDOWN || ret == -EINVAL);
			assert_true(r->out.outcome < COLO_OUT_MAX);
			if (ret < 0)
				assert_true(r->out.err != COLO_PERR_NONE &&
					    r->out.text[0]);
		}
	}
	free(r);
}

int main(void)
{
	enum {
		NW = ARRAY_SIZE(wcases), NC = ARRAY_SIZE(ccases),
		NT = ARRAY_SIZE(tcases) * NCMDS, NS = ARRAY_SIZE(scases),
	};
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_wire_round_trip),
		cmocka_unit_test(test_wire_names),
		cmocka_unit_test(test_protocol_checkpoint_timing),
		cmocka_unit_test(test_protocol_failover_timing),
		cmocka_unit_test(test_protocol_heartbeat_counts),
		cmocka_unit_test(test_protocol_late_reply),
		cmocka_unit_test(test_protocol_stale_local_events),
		cmocka_unit_test(test_protocol_peer_timer),
		cmocka_unit_test(test_protocol_ready_timeout),
		cmocka_unit_test(test_protocol_bad_calls),
		cmocka_unit_test(test_protocol_storm),
	};
	static struct tcell cells[NT];
	static struct CMUnitTest tests[NW + NC + NT + NS + ARRAY_SIZE(fixed)];
	size_t i, n = 0;

	for (i = 0; i < NW; i++)
		tests[n++] = (struct CMUnitTest){ .name = wcases[i].name,
			.test_func = test_wire_case, .initial_state = (void *)&wcases[i] };
	for (i = 0; i < NC; i++)
		tests[n++] = (struct CMUnitTest){ .name = ccases[i].name,
			.test_func = test_conversation, .initial_state = (void *)&ccases[i] };
	for (i = 0; i < NT; i++) {
		const struct tcase *row = &tcases[i / NCMDS];
		uint32_t cmd = tcmds[i % NCMDS];

		if (strlen(row->expect) != NCMDS) {
			fprintf(stderr, "transition row %zu: %zu letters\n",
				i / NCMDS, strlen(row->expect));
			return 1;
		}
		cells[i].row = row;
		cells[i].col = i % NCMDS;
		snprintf(cells[i].name, sizeof(cells[i].name), "%s %s + %s",
			 row->side ? "secondary" : "primary",
			 row->side ? colo_sstate_name(row->state) :
				     colo_pstate_name(row->state),
			 cmd < COLO_CMD_MAX ? colo_cmd_name(cmd) : "command 99");
		tests[n++] = (struct CMUnitTest){ .name = cells[i].name,
			.test_func = test_transition, .initial_state = &cells[i] };
	}
	for (i = 0; i < NS; i++)
		tests[n++] = (struct CMUnitTest){ .name = scases[i].name,
			.test_func = test_seq_case, .initial_state = (void *)&scases[i] };
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("protocol", tests, n, NULL, NULL);
}
