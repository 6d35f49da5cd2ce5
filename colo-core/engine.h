/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The comparison engine: takes the frames the primary VM and the secondary VM
 * sent, decides when a primary frame may go to the client, and demands a
 * checkpoint when the two outputs diverge.
 *
 * Pure: no I/O, no clock, no globals. Time comes in with each call. The engine
 * does not copy frame bytes: it copies the small struct colo_frame (data
 * pointer, length, time, cookie), and the bytes at data must stay valid until
 * the engine hands the frame back through ops->release (primary) or ops->drop
 * (secondary), with a pointer to its copy of the struct. Every frame pushed is
 * handed back exactly once, at the latest by colo_engine__flush() or
 * colo_engine__free().
 */
#ifndef COLO_ENGINE_H
#define COLO_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

enum colo_side {
	COLO_PRIMARY = 0,
	COLO_SECONDARY = 1,
};

struct colo_frame {
	const uint8_t *data;
	uint32_t len;
	uint64_t ts_ns;		/* when the frame was seen */
	uint64_t cookie;	/* caller's handle (frame number, umem address) */
};

enum colo_reason {
	COLO_DIV_NONE = 0,
	COLO_DIV_PAYLOAD,	/* TCP payload bytes differ at offset */
	COLO_DIV_TCP_SYN,	/* SYN on one side only, or at different positions */
	COLO_DIV_TCP_FIN,	/* FIN on one side only, or at different positions */
	COLO_DIV_TCP_RST,	/* RST on one side only, or at different positions */
	COLO_DIV_DATAGRAM,	/* UDP/ICMP/IP datagram contents differ */
	COLO_DIV_LENGTH,	/* datagram or frame lengths differ */
	COLO_DIV_FRAME,		/* whole-frame compare (ARP, fragments, raw) differs */
	COLO_DIV_TIMEOUT,	/* a frame stayed unmatched longer than the timeout */
	COLO_DIV_FLOW_LIMIT,	/* a flow holds more than its share */
	COLO_DIV_MEM_LIMIT,	/* all flows together hold more than allowed */
	COLO_DIV_TABLE_LIMIT,	/* more flows than allowed */
	COLO_DIV_MAX,
};

struct colo_divergence {
	enum colo_reason reason;
	struct colo_flow_key key;
	/* TCP: stream offset (payload bytes from the ISN, first byte = 0) of the
	 * first disagreement. Datagram classes: index of the datagram in the
	 * flow (0 = first since the flow or the last checkpoint). */
	uint64_t offset;
	/* Offset of the first differing byte inside the compared bytes of the
	 * two frames, or -1 when the frames were not compared byte by byte. */
	int64_t byte;
	/* The frames involved, NULL when a side has none. Valid only during the
	 * callback. */
	const struct colo_frame *primary;
	const struct colo_frame *secondary;
	enum colo_side side;	/* for TIMEOUT/limits: the side of the frame */
};

struct colo_engine_ops {
	/* Primary frame may go to the client (matched, or flushed). */
	void (*release)(void *ctx, const struct colo_frame *f);
	/* Secondary frame is done with (matched, or flushed). */
	void (*drop)(void *ctx, const struct colo_frame *f);
	/* Outputs diverged: a checkpoint is needed. Called once per checkpoint
	 * cycle: until colo_engine__flush() the engine only holds frames. Do not
	 * call back into the engine from here. */
	void (*checkpoint)(void *ctx, const struct colo_divergence *d);
};

#define COLO_DEFAULT_TIMEOUT_MS 3000

struct colo_engine_cfg {
	uint64_t timeout_ns;		/* unmatched frame -> divergence (3 s) */
	uint64_t idle_ns;		/* idle empty flow leaves the table (60 s) */
	uint64_t linger_ns;		/* closed empty TCP flow leaves (2 s) */
	uint32_t max_flows;		/* flows before TABLE_LIMIT (65536) */
	uint32_t flow_max_frames;	/* held frames per flow (4096) */
	uint64_t flow_max_bytes;	/* held bytes per flow (16 MiB) */
	uint64_t total_max_bytes;	/* held bytes in all (256 MiB) */
};

/*
 * Hard stop: past twice any limit, colo_engine__push() refuses the frame with
 * -ENOBUFS (the caller keeps it) instead of growing without bound while the
 * caller ignores the checkpoint demand.
 */
#define COLO_HARD_LIMIT_FACTOR 2

struct colo_engine_stats {
	uint64_t pushed[2];		/* frames in, per side */
	uint64_t pushed_bytes[2];
	uint64_t released;		/* primary frames released after a match */
	uint64_t dropped;		/* secondary frames dropped after a match */
	uint64_t flushed_released;	/* primary frames released by a flush */
	uint64_t flushed_dropped;	/* secondary frames dropped by a flush */
	uint64_t compared_bytes;	/* payload bytes found equal */
	uint64_t checkpoints;		/* checkpoint demands made */
	uint64_t coalesced;		/* divergences seen while one was pending */
	uint64_t refused;		/* pushes refused with -ENOBUFS */
	uint64_t by_reason[COLO_DIV_MAX];
	uint64_t held_frames[2];	/* right now */
	uint64_t held_bytes;
	uint64_t flows;
	uint64_t flows_created;
	uint64_t flows_removed;
};

struct colo_engine;

/* Fill cfg with the defaults documented above. */
void colo_engine_cfg_default(struct colo_engine_cfg *cfg);

/* NULL on error with errno set (EINVAL for a bad cfg, ENOMEM). */
struct colo_engine *colo_engine__new(const struct colo_engine_cfg *cfg,
				     const struct colo_engine_ops *ops, void *ctx);
/* Hands every held frame back (release/drop, as a flush) and frees. */
void colo_engine__free(struct colo_engine *e);

/*
 * Take one frame from one side. 0 on success (the engine now owns the frame
 * until it hands it back, possibly before this returns). On error the caller
 * still owns the frame: -ENOBUFS when a hard limit refuses it, -ENOMEM when
 * the engine cannot allocate a flow or its frame pool, -EINVAL on bad
 * arguments.
 */
int colo_engine__push(struct colo_engine *e, enum colo_side side,
		      const struct colo_frame *f);

/* Advance time: timeouts and idle-flow removal. Cheap; call often. */
void colo_engine__tick(struct colo_engine *e, uint64_t now_ns);

/*
 * The checkpoint completed: release every held primary frame, drop every held
 * secondary frame, restart alignment from the current positions.
 */
void colo_engine__flush(struct colo_engine *e);

/* True while a checkpoint demand is outstanding. */
int colo_engine__pending(const struct colo_engine *e);

/*
 * Input ended (offline replay): every frame still held is reported through
 * ops->checkpoint as a COLO_DIV_TIMEOUT divergence (one per flow with held
 * frames, even while a demand is pending), then nothing else changes.
 * Returns the number of flows reported.
 */
unsigned int colo_engine__finish(struct colo_engine *e);

const struct colo_engine_stats *colo_engine__stats(const struct colo_engine *e);

const char *colo_reason_name(enum colo_reason r);

#endif
