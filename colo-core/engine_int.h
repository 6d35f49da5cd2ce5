/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the comparison engine: shared by engine.c (frames, flows, limits,
 * time), flowtab.c (the flow table), tcp.c and dgram.c (the comparators).
 */
#ifndef COLO_ENGINE_INT_H
#define COLO_ENGINE_INT_H

#include "engine.h"
#include "packet.h"

#define COLO_POS_NONE UINT64_MAX

/* One frame the engine holds. */
struct colo_held {
	struct colo_held *next, *prev;		/* flow queue of its side */
	struct colo_held *anext, *aprev;	/* engine age list */
	struct colo_flow *flow;
	struct colo_frame f;
	uint32_t cmp_off, cmp_len;		/* bytes compared (packet.h) */
	/* TCP positions: the SYN sits at position 0 (the ISN), data byte k
	 * (stream offset k) at position k + 1. [start, end) is what the frame
	 * occupies in sequence space; the frame is done once the compared
	 * position reaches need. */
	uint64_t start, end, need;
	uint8_t side;
	uint8_t syn, fin, rst;
	uint8_t icmp_type, icmp_code;
};

struct colo_queue {
	struct colo_held *head, *tail;
	uint32_t frames;
};

struct colo_tcp_side {
	uint32_t base;		/* sequence number of position 0 */
	uint8_t synced;		/* base known */
	uint64_t high;		/* highest end position seen */
	uint64_t rst_pos;	/* position of this side's RST, or NONE */
};

struct colo_flow {
	struct colo_flow_key key;
	struct colo_flow *hnext;	/* hash chain */
	uint64_t hash;
	struct colo_queue q[2];
	uint64_t bytes;			/* held bytes, both sides */
	uint64_t last_ts;
	uint64_t index;			/* datagrams matched since the last flush */
	/* TCP */
	struct colo_tcp_side tcp[2];
	uint64_t cmp;			/* positions below this are compared */
	uint8_t closed;			/* FIN or RST matched */
	uint8_t rst_matched;
	uint8_t fresh;			/* TCP: nothing aligned yet */
	uint8_t reported;		/* colo_engine__finish() bookkeeping */
};

struct colo_flowtab {
	struct colo_flow **buckets;
	uint32_t nbuckets;		/* power of two */
	uint32_t count;
};

struct colo_slab;

struct colo_engine {
	struct colo_engine_cfg cfg;
	struct colo_engine_ops ops;
	void *ctx;
	struct colo_flowtab tab;
	struct colo_held *aging_head, *aging_tail;	/* oldest first */
	struct colo_held *free_nodes;
	struct colo_slab *slabs;
	uint64_t now;
	uint64_t next_sweep;
	int pending;
	struct colo_engine_stats st;
};

/* flowtab.c */
int colo_flowtab_init(struct colo_flowtab *t, uint32_t nbuckets);
void colo_flowtab_fini(struct colo_flowtab *t);
uint64_t colo_flow_hash(const struct colo_flow_key *k);
struct colo_flow *colo_flowtab_find(struct colo_flowtab *t,
				    const struct colo_flow_key *k, uint64_t hash);
void colo_flowtab_insert(struct colo_flowtab *t, struct colo_flow *f);
void colo_flowtab_remove(struct colo_flowtab *t, struct colo_flow *f);
/* Grow or shrink to fit count; keeps the table as it is on ENOMEM. */
void colo_flowtab_resize(struct colo_flowtab *t);
#define colo_flowtab_for_each(t, i, f, tmp)				\
	for ((i) = 0; (i) < (t)->nbuckets; (i)++)			\
		for ((f) = (t)->buckets[(i)];				\
		     (f) && ((tmp) = (f)->hnext, 1); (f) = (tmp))

/* engine.c: services for the comparators */
struct colo_held *colo_engine__hold(struct colo_engine *e, struct colo_flow *fl,
				    int side, const struct colo_frame *f,
				    const struct colo_parsed *p);
/* Hand a held frame back (release or drop by its side) and free it. */
void colo_engine__done(struct colo_engine *e, struct colo_held *h);
/* Hand back a matched frame that was never held. */
void colo_engine__give(struct colo_engine *e, int side, const struct colo_frame *f);
/* Report a divergence unless one is already pending. */
void colo_engine__diverge(struct colo_engine *e, const struct colo_flow_key *key,
			  enum colo_reason why, uint64_t offset, int64_t byte,
			  const struct colo_frame *pf, const struct colo_frame *sf,
			  int side);

/* tcp.c */
void colo_tcp_push(struct colo_engine *e, struct colo_flow *fl, int side,
		   const struct colo_frame *f, const struct colo_parsed *p);
void colo_tcp_flush(struct colo_flow *fl);
uint64_t colo_tcp_offset(const struct colo_flow *fl);

/* dgram.c: FIFO comparison for every class but TCP */
void colo_dgram_push(struct colo_engine *e, struct colo_flow *fl, int side,
		     const struct colo_frame *f, const struct colo_parsed *p);

#endif
