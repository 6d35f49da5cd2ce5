// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP comparison: each side's output is a byte stream, compared by position
 * from that side's own initial sequence number, so the two VMs may choose
 * different ISNs and segment the same bytes differently.
 *
 * Positions: the SYN occupies position 0 (the ISN), payload byte k (stream
 * offset k) position k + 1, a FIN the position after the last byte. flow->cmp
 * is the first position not yet found equal on both sides. A held frame is
 * done, and handed back, once cmp has passed everything it occupies (a frame
 * without payload: once cmp has reached its sequence number), in the order
 * the side sent them. Retransmissions need no special case: bytes below cmp
 * are never compared twice, so a resent segment is trimmed to its new part.
 * See docs/comparison.md for the rules.
 */
#include <stdint.h>
#include <string.h>

#include "engine_int.h"

enum tcp_token {
	TOK_DATA,
	TOK_SYN,
	TOK_FIN,
};

uint64_t colo_tcp_offset(const struct colo_flow *fl)
{
	return fl->cmp ? fl->cmp - 1 : 0;
}

static void tcp_reset(struct colo_flow *fl)
{
	memset(fl->tcp, 0, sizeof(fl->tcp));
	fl->tcp[0].rst_pos = COLO_POS_NONE;
	fl->tcp[1].rst_pos = COLO_POS_NONE;
	fl->cmp = 0;
	fl->closed = 0;
	fl->rst_matched = 0;
	fl->fresh = 1;
}

/* A SYN that starts a new connection on a known 4-tuple (port reuse). */
static int tcp_is_new_connection(const struct colo_flow *fl, int side,
				 const struct colo_parsed *p)
{
	const struct colo_tcp_side *ts = &fl->tcp[side];

	if (fl->q[0].head || fl->q[1].head || fl->fresh)
		return 0;
	return fl->closed || (ts->synced && p->seq != ts->base);
}

/*
 * Learn where this side's sequence space starts. A SYN puts its ISN at
 * position 0. Otherwise (a flow first seen mid-stream, or the first frame
 * after a checkpoint) the frame's sequence number is taken to be at the
 * position the comparison has reached: both VMs continue from the same point.
 */
static void tcp_sync(struct colo_flow *fl, int side, const struct colo_parsed *p)
{
	struct colo_tcp_side *ts = &fl->tcp[side];

	if (fl->fresh) {
		fl->cmp = (p->tcp_flags & COLO_TCP_SYN) ? 0 : 1;
		fl->fresh = 0;
	}
	ts->base = p->seq - (uint32_t)fl->cmp;
	ts->high = fl->cmp;
	ts->synced = 1;
}

static void tcp_place(struct colo_flow *fl, struct colo_held *h,
		      const struct colo_parsed *p)
{
	struct colo_tcp_side *ts = &fl->tcp[h->side];
	uint32_t rel = p->seq - ts->base;
	int64_t pos = (int64_t)ts->high + (int32_t)(rel - (uint32_t)ts->high);

	h->syn = !!(p->tcp_flags & COLO_TCP_SYN);
	h->fin = !!(p->tcp_flags & COLO_TCP_FIN);
	h->rst = !!(p->tcp_flags & COLO_TCP_RST);
	if (pos < 0) {
		/* From before the alignment point: nothing left to compare. */
		h->start = h->end = h->need = 0;
		return;
	}
	h->start = pos;
	h->end = pos + h->syn + h->cmp_len + h->fin;
	h->need = h->end;
	if (h->rst && ts->rst_pos == COLO_POS_NONE)
		ts->rst_pos = pos;
	if (h->end > ts->high)
		ts->high = h->end;
}

/* The side's frame that occupies position pos, in the order it was sent. */
static struct colo_held *tcp_cover(const struct colo_queue *q, uint64_t pos)
{
	struct colo_held *h;

	for (h = q->head; h; h = h->next)
		if (h->start <= pos && pos < h->end)
			return h;
	return NULL;
}

static enum tcp_token tcp_token(const struct colo_held *h, uint64_t pos)
{
	if (h->syn && pos == h->start)
		return TOK_SYN;
	if (h->fin && pos == h->end - 1)
		return TOK_FIN;
	return TOK_DATA;
}

static void tcp_diverge(struct colo_engine *e, struct colo_flow *fl,
			enum colo_reason why, uint64_t pos, int64_t byte,
			const struct colo_held *hp, const struct colo_held *hs)
{
	colo_engine__diverge(e, &fl->key, why, pos ? pos - 1 : 0, byte,
			     hp ? &hp->f : NULL, hs ? &hs->f : NULL, 0);
}

/* An RST sits between positions: both sides must reset at the same one. */
static int tcp_check_rst(struct colo_engine *e, struct colo_flow *fl,
			 const struct colo_held *hp, const struct colo_held *hs)
{
	int pr = fl->tcp[0].rst_pos == fl->cmp;
	int sr = fl->tcp[1].rst_pos == fl->cmp;

	if (!pr && !sr)
		return 0;
	if (pr && sr) {
		fl->rst_matched = 1;
		fl->closed = 1;
	} else if ((pr && hs) || (sr && hp)) {
		tcp_diverge(e, fl, COLO_DIV_TCP_RST, fl->cmp, -1, hp, hs);
	}
	return 1;
}

/* Advance fl->cmp as far as both sides agree. */
static void tcp_compare(struct colo_engine *e, struct colo_flow *fl)
{
	if (!fl->tcp[0].synced || !fl->tcp[1].synced || fl->rst_matched)
		return;
	for (;;) {
		struct colo_held *hp = tcp_cover(&fl->q[0], fl->cmp);
		struct colo_held *hs = tcp_cover(&fl->q[1], fl->cmp);
		enum tcp_token tp, ts;

		if (tcp_check_rst(e, fl, hp, hs) || !hp || !hs)
			return;
		tp = tcp_token(hp, fl->cmp);
		ts = tcp_token(hs, fl->cmp);
		if (tp != ts) {
			tcp_diverge(e, fl, tp == TOK_SYN || ts == TOK_SYN ?
				    COLO_DIV_TCP_SYN : COLO_DIV_TCP_FIN,
				    fl->cmp, -1, hp, hs);
			return;
		}
		if (tp == TOK_DATA) {
			uint64_t pd = hp->start + hp->syn, sd = hs->start + hs->syn;
			uint64_t pend = hp->end - hp->fin, send = hs->end - hs->fin;
			uint64_t n = (pend < send ? pend : send) - fl->cmp;
			const uint8_t *a = hp->f.data + hp->cmp_off + (fl->cmp - pd);
			const uint8_t *b = hs->f.data + hs->cmp_off + (fl->cmp - sd);

			if (memcmp(a, b, n)) {
				uint64_t i = 0;

				while (a[i] == b[i])
					i++;
				tcp_diverge(e, fl, COLO_DIV_PAYLOAD, fl->cmp + i,
					    (int64_t)(fl->cmp + i - pd), hp, hs);
				return;
			}
			fl->cmp += n;
			e->st.compared_bytes += n;
		} else {
			fl->cmp++;
			if (tp == TOK_FIN)
				fl->closed = 1;
		}
	}
}

static int tcp_done(const struct colo_flow *fl, const struct colo_held *h)
{
	return h->need <= fl->cmp && (!h->rst || fl->rst_matched);
}

/* Hand back, in sending order, every frame the comparison has passed. */
static void tcp_retire(struct colo_engine *e, struct colo_flow *fl)
{
	int side;

	if (!fl->tcp[0].synced || !fl->tcp[1].synced)
		return;
	for (side = 0; side < 2; side++) {
		struct colo_held *h;

		while ((h = fl->q[side].head) && tcp_done(fl, h))
			colo_engine__done(e, h);
	}
}

void colo_tcp_push(struct colo_engine *e, struct colo_flow *fl, int side,
		   const struct colo_frame *f, const struct colo_parsed *p)
{
	struct colo_held *h;

	if ((p->tcp_flags & COLO_TCP_SYN) && tcp_is_new_connection(fl, side, p))
		tcp_reset(fl);
	if (!fl->tcp[side].synced)
		tcp_sync(fl, side, p);
	h = colo_engine__hold(e, fl, side, f, p);
	tcp_place(fl, h, p);
	if (e->pending)
		return;
	tcp_compare(e, fl);
	if (!e->pending)
		tcp_retire(e, fl);
}

/*
 * After a checkpoint both VMs share the primary's state: the secondary's next
 * byte is the primary's next byte. Keep the primary's sequence space, forget
 * the secondary's and realign it on its next frame.
 */
void colo_tcp_flush(struct colo_flow *fl)
{
	if (fl->tcp[0].synced && fl->tcp[0].high > fl->cmp)
		fl->cmp = fl->tcp[0].high;
	fl->tcp[1].synced = 0;
	fl->tcp[0].rst_pos = COLO_POS_NONE;
	fl->tcp[1].rst_pos = COLO_POS_NONE;
	fl->rst_matched = 0;
}
