// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The comparison engine: frames in, verdicts out. This file owns the frames
 * the engine holds (a node pool, the per-flow queues and one age list), the
 * flow table's life cycle, limits, time and checkpoint demands. The
 * per-protocol rules live in tcp.c and dgram.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define SLAB_NODES 256
#define NS_PER_MS 1000000ULL

struct colo_slab {
	struct colo_slab *next;
	struct colo_held nodes[SLAB_NODES];
};

static const char *const reason_names[COLO_DIV_MAX] = {
	[COLO_DIV_NONE] = "none",
	[COLO_DIV_PAYLOAD] = "payload",
	[COLO_DIV_TCP_SYN] = "tcp-syn",
	[COLO_DIV_TCP_FIN] = "tcp-fin",
	[COLO_DIV_TCP_RST] = "tcp-rst",
	[COLO_DIV_DATAGRAM] = "datagram",
	[COLO_DIV_LENGTH] = "length",
	[COLO_DIV_FRAME] = "frame",
	[COLO_DIV_TIMEOUT] = "timeout",
	[COLO_DIV_FLOW_LIMIT] = "flow-limit",
	[COLO_DIV_MEM_LIMIT] = "memory-limit",
	[COLO_DIV_TABLE_LIMIT] = "table-limit",
};

const char *colo_reason_name(enum colo_reason r)
{
	if ((unsigned int)r >= COLO_DIV_MAX)
		return "unknown";
	return reason_names[r];
}

void colo_engine_cfg_default(struct colo_engine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ns = COLO_DEFAULT_TIMEOUT_MS * NS_PER_MS;
	cfg->idle_ns = 60000 * NS_PER_MS;
	cfg->linger_ns = 2000 * NS_PER_MS;
	cfg->max_flows = 65536;
	cfg->flow_max_frames = 4096;
	cfg->flow_max_bytes = 16ULL << 20;
	cfg->total_max_bytes = 256ULL << 20;
}

static int cfg_valid(const struct colo_engine_cfg *c)
{
	return c->timeout_ns && c->idle_ns && c->linger_ns && c->max_flows &&
	       c->flow_max_frames && c->flow_max_bytes && c->total_max_bytes;
}

struct colo_engine *colo_engine__new(const struct colo_engine_cfg *cfg,
				     const struct colo_engine_ops *ops, void *ctx)
{
	struct colo_engine *e;

	if (!cfg || !ops || !ops->release || !ops->drop || !ops->checkpoint ||
	    !cfg_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->cfg = *cfg;
	e->ops = *ops;
	e->ctx = ctx;
	if (colo_flowtab_init(&e->tab, 0)) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

static int slab_grow(struct colo_engine *e)
{
	struct colo_slab *s = malloc(sizeof(*s));
	int i;

	if (!s)
		return -ENOMEM;
	s->next = e->slabs;
	e->slabs = s;
	for (i = SLAB_NODES - 1; i >= 0; i--) {
		s->nodes[i].next = e->free_nodes;
		e->free_nodes = &s->nodes[i];
	}
	return 0;
}

struct colo_held *colo_engine__hold(struct colo_engine *e, struct colo_flow *fl,
				    int side, const struct colo_frame *f,
				    const struct colo_parsed *p)
{
	struct colo_held *h = e->free_nodes;	/* push() made sure of one */
	struct colo_queue *q = &fl->q[side];

	e->free_nodes = h->next;
	memset(h, 0, sizeof(*h));
	h->flow = fl;
	h->f = *f;
	h->side = side;
	h->cmp_off = p->cmp_off;
	h->cmp_len = p->cmp_len;
	h->icmp_type = p->icmp_type;
	h->icmp_code = p->icmp_code;

	h->prev = q->tail;
	if (q->tail)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
	q->frames++;

	h->aprev = e->aging_tail;
	if (e->aging_tail)
		e->aging_tail->anext = h;
	else
		e->aging_head = h;
	e->aging_tail = h;

	fl->bytes += f->len;
	e->st.held_frames[side]++;
	e->st.held_bytes += f->len;
	return h;
}

static void unhold(struct colo_engine *e, struct colo_held *h)
{
	struct colo_flow *fl = h->flow;
	struct colo_queue *q = &fl->q[h->side];

	if (h->prev)
		h->prev->next = h->next;
	else
		q->head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		q->tail = h->prev;
	q->frames--;

	if (h->aprev)
		h->aprev->anext = h->anext;
	else
		e->aging_head = h->anext;
	if (h->anext)
		h->anext->aprev = h->aprev;
	else
		e->aging_tail = h->aprev;

	fl->bytes -= h->f.len;
	e->st.held_frames[h->side]--;
	e->st.held_bytes -= h->f.len;
}

static void hand_back(struct colo_engine *e, int side, const struct colo_frame *f)
{
	if (side == COLO_PRIMARY)
		e->ops.release(e->ctx, f);
	else
		e->ops.drop(e->ctx, f);
}

void colo_engine__give(struct colo_engine *e, int side, const struct colo_frame *f)
{
	if (side == COLO_PRIMARY)
		e->st.released++;
	else
		e->st.dropped++;
	hand_back(e, side, f);
}

void colo_engine__done(struct colo_engine *e, struct colo_held *h)
{
	unhold(e, h);
	colo_engine__give(e, h->side, &h->f);
	h->next = e->free_nodes;
	e->free_nodes = h;
}

void colo_engine__diverge(struct colo_engine *e, const struct colo_flow_key *key,
			  enum colo_reason why, uint64_t offset, int64_t byte,
			  const struct colo_frame *pf, const struct colo_frame *sf,
			  int side)
{
	struct colo_divergence d = {
		.reason = why,
		.key = *key,
		.offset = offset,
		.byte = byte,
		.primary = pf,
		.secondary = sf,
		.side = side,
	};

	if (e->pending) {
		e->st.coalesced++;
		return;
	}
	e->pending = 1;
	e->st.checkpoints++;
	e->st.by_reason[why]++;
	e->ops.checkpoint(e->ctx, &d);
}

static uint64_t flow_offset(const struct colo_flow *fl)
{
	return fl->key.cls == COLO_CLASS_TCP ? colo_tcp_offset(fl) : fl->index;
}

static const struct colo_frame *head_frame(const struct colo_flow *fl, int side)
{
	return fl->q[side].head ? &fl->q[side].head->f : NULL;
}

static void flow_free(struct colo_engine *e, struct colo_flow *fl)
{
	colo_flowtab_remove(&e->tab, fl);
	free(fl);
	e->st.flows_removed++;
	e->st.flows = e->tab.count;
}

/* Remove flows that hold nothing and have had their time (or all, if force). */
static unsigned int sweep(struct colo_engine *e, uint64_t now, int force)
{
	struct colo_flow *fl, *tmp;
	unsigned int n = 0;
	uint32_t i;

	colo_flowtab_for_each(&e->tab, i, fl, tmp) {
		uint64_t idle = now > fl->last_ts ? now - fl->last_ts : 0;

		if (fl->q[0].head || fl->q[1].head)
			continue;
		if (force || idle >= e->cfg.idle_ns ||
		    (fl->closed && idle >= e->cfg.linger_ns)) {
			flow_free(e, fl);
			n++;
		}
	}
	colo_flowtab_resize(&e->tab);
	return n;
}

/* Free slots when the table is full: empty non-TCP flows and closed TCP
 * flows can go at once; open TCP flows keep their alignment. */
static void reclaim(struct colo_engine *e)
{
	struct colo_flow *fl, *tmp;
	uint32_t i;

	colo_flowtab_for_each(&e->tab, i, fl, tmp) {
		if (fl->q[0].head || fl->q[1].head)
			continue;
		if (fl->key.cls != COLO_CLASS_TCP || fl->closed)
			flow_free(e, fl);
	}
	colo_flowtab_resize(&e->tab);
}

static struct colo_flow *flow_get(struct colo_engine *e,
				  const struct colo_parsed *p, int *refuse)
{
	uint64_t hash = colo_flow_hash(&p->key);
	struct colo_flow *fl = colo_flowtab_find(&e->tab, &p->key, hash);
	uint64_t max = e->cfg.max_flows;

	*refuse = 0;
	if (fl)
		return fl;
	if (e->tab.count >= max && !e->pending)
		reclaim(e);
	if (e->tab.count >= max * COLO_HARD_LIMIT_FACTOR) {
		*refuse = 1;
		return NULL;
	}
	if (e->tab.count >= max)
		colo_engine__diverge(e, &p->key, COLO_DIV_TABLE_LIMIT, 0, -1,
				     NULL, NULL, 0);
	fl = calloc(1, sizeof(*fl));
	if (!fl)
		return NULL;
	fl->key = p->key;
	fl->hash = hash;
	fl->fresh = 1;
	fl->tcp[0].rst_pos = COLO_POS_NONE;
	fl->tcp[1].rst_pos = COLO_POS_NONE;
	colo_flowtab_insert(&e->tab, fl);
	colo_flowtab_resize(&e->tab);
	e->st.flows_created++;
	e->st.flows = e->tab.count;
	return fl;
}

static int over_hard_limit(const struct colo_engine *e,
			   const struct colo_flow *fl, uint32_t len)
{
	const struct colo_engine_cfg *c = &e->cfg;
	uint64_t k = COLO_HARD_LIMIT_FACTOR;

	return fl->q[0].frames + fl->q[1].frames >= k * c->flow_max_frames ||
	       fl->bytes + len > k * c->flow_max_bytes ||
	       e->st.held_bytes + len > k * c->total_max_bytes;
}

static void check_soft_limits(struct colo_engine *e, struct colo_flow *fl)
{
	const struct colo_engine_cfg *c = &e->cfg;
	enum colo_reason why = COLO_DIV_NONE;
	int side = fl->q[0].frames >= fl->q[1].frames ? 0 : 1;

	if (fl->q[0].frames + fl->q[1].frames > c->flow_max_frames ||
	    fl->bytes > c->flow_max_bytes)
		why = COLO_DIV_FLOW_LIMIT;
	else if (e->st.held_bytes > c->total_max_bytes)
		why = COLO_DIV_MEM_LIMIT;
	if (why != COLO_DIV_NONE)
		colo_engine__diverge(e, &fl->key, why, flow_offset(fl), -1,
				     head_frame(fl, 0), head_frame(fl, 1), side);
}

int colo_engine__push(struct colo_engine *e, enum colo_side side,
		      const struct colo_frame *f)
{
	struct colo_parsed p;
	struct colo_flow *fl;
	int refuse;

	if (!e || !f || !f->data || (side != COLO_PRIMARY && side != COLO_SECONDARY))
		return -EINVAL;
	if (!e->free_nodes && slab_grow(e))
		return -ENOMEM;
	colo_parse(f->data, f->len, &p);
	fl = flow_get(e, &p, &refuse);
	if (!fl || over_hard_limit(e, fl, f->len)) {
		e->st.refused++;
		return refuse || fl ? -ENOBUFS : -ENOMEM;
	}
	fl->last_ts = f->ts_ns;
	e->st.pushed[side]++;
	e->st.pushed_bytes[side] += f->len;

	if (p.key.cls == COLO_CLASS_TCP)
		colo_tcp_push(e, fl, side, f, &p);
	else
		colo_dgram_push(e, fl, side, f, &p);

	if (fl->q[0].head || fl->q[1].head)
		check_soft_limits(e, fl);
	return 0;
}

void colo_engine__tick(struct colo_engine *e, uint64_t now)
{
	const struct colo_held *h = e->aging_head;

	if (now > e->now)
		e->now = now;
	now = e->now;
	if (!e->pending && h && now > h->f.ts_ns &&
	    now - h->f.ts_ns > e->cfg.timeout_ns) {
		const struct colo_flow *fl = h->flow;

		colo_engine__diverge(e, &fl->key, COLO_DIV_TIMEOUT,
				     flow_offset(fl), -1, head_frame(fl, 0),
				     head_frame(fl, 1), h->side);
	}
	if (now >= e->next_sweep) {
		uint64_t every = e->cfg.linger_ns < e->cfg.idle_ns ?
				 e->cfg.linger_ns : e->cfg.idle_ns;

		sweep(e, now, 0);
		e->next_sweep = now + every / 2;
	}
}

void colo_engine__flush(struct colo_engine *e)
{
	struct colo_flow *fl, *tmp;
	struct colo_held *h;
	uint32_t i;

	/* Hand frames back oldest first, so the client sees the primary's
	 * output in the order the primary sent it. */
	while ((h = e->aging_head)) {
		unhold(e, h);
		if (h->side == COLO_PRIMARY)
			e->st.flushed_released++;
		else
			e->st.flushed_dropped++;
		hand_back(e, h->side, &h->f);
		h->next = e->free_nodes;
		e->free_nodes = h;
	}
	colo_flowtab_for_each(&e->tab, i, fl, tmp) {
		memset(fl->q, 0, sizeof(fl->q));
		fl->bytes = 0;
		fl->index = 0;
		if (fl->key.cls == COLO_CLASS_TCP)
			colo_tcp_flush(fl);
	}
	e->pending = 0;
	if (e->tab.count >= e->cfg.max_flows)
		sweep(e, e->now, 1);
}

int colo_engine__pending(const struct colo_engine *e)
{
	return e->pending;
}

unsigned int colo_engine__finish(struct colo_engine *e)
{
	struct colo_held *h;
	unsigned int n = 0;
	int was_pending = e->pending;

	for (h = e->aging_head; h; h = h->anext) {
		struct colo_flow *fl = h->flow;
		struct colo_divergence d = {
			.reason = COLO_DIV_TIMEOUT,
			.byte = -1,
			.side = h->side,
		};

		if (fl->reported)
			continue;
		fl->reported = 1;
		d.key = fl->key;
		d.offset = flow_offset(fl);
		d.primary = head_frame(fl, 0);
		d.secondary = head_frame(fl, 1);
		e->st.by_reason[COLO_DIV_TIMEOUT]++;
		e->ops.checkpoint(e->ctx, &d);
		n++;
	}
	for (h = e->aging_head; h; h = h->anext)
		h->flow->reported = 0;
	if (n && !was_pending) {
		e->pending = 1;
		e->st.checkpoints++;
	}
	return n;
}

const struct colo_engine_stats *colo_engine__stats(const struct colo_engine *e)
{
	return &e->st;
}

void colo_engine__free(struct colo_engine *e)
{
	struct colo_flow *fl, *tmp;
	uint32_t i;

	if (!e)
		return;
	colo_engine__flush(e);
	colo_flowtab_for_each(&e->tab, i, fl, tmp)
		free(fl);
	colo_flowtab_fini(&e->tab);
	while (e->slabs) {
		struct colo_slab *s = e->slabs;

		e->slabs = s->next;
		free(s);
	}
	free(e);
}
