/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The comparator loop: frames from the two AF_XDP sockets into the colo-core
 * engine, released frames out to the client, divergences logged, recorded
 * and handed to a checkpoint hook; a 10 ms timer drives the engine's clock,
 * publishes its state into colo_engine and reaps colo_conns.
 *
 * What happens to output depends on the mode the checkpoint loop sets
 * (enum colo_loop_mode); in the holding modes the primary's frames wait in
 * a queue until the checkpoint that covers them is acknowledged (output
 * commit): colo_loop__boundary() marks what the stopped VM sent,
 * colo_loop__release() sends it.
 */
#ifndef COLO_PROXY_LOOP_H
#define COLO_PROXY_LOOP_H

#include <poll.h>
#include <stdint.h>

#include "engine.h"
#include "tx.h"

struct colo_xsk;
struct pcap_out;

#define COLO_LOOP_BATCH		64	/* frames per RX ring visit */
#define COLO_LOOP_TICK_NS	(10ULL * 1000000ULL)
#define COLO_LOOP_PUBLISH_NS	(200ULL * 1000000ULL)
#define COLO_LOOP_REAP_NS	(1000ULL * 1000000ULL)

/*
 * Called after the engine demanded a checkpoint, once per demand, outside
 * the engine's callbacks. d->primary and d->secondary are NULL. Return 0
 * when the checkpoint is done (the loop flushes the engine at once), 1 when
 * it is under way (call colo_loop__checkpoint_done() when it is), or -errno
 * when it failed (logged; the loop flushes anyway, so the client is served).
 */
typedef int (*colo_checkpoint_fn)(void *ctx, const struct colo_divergence *d);

enum colo_loop_mode {
	COLO_LOOP_COMPARE = 0,	/* hybrid: a matched primary frame leaves at once */
	COLO_LOOP_COMMIT,	/* periodic: primary frames wait for the checkpoint
				 * that covers them; secondary frames dropped */
	COLO_LOOP_OBSERVE,	/* adaptive's periodic phase: compared (divergences
				 * counted), matched frames wait as in COMMIT */
	COLO_LOOP_PASSTHROUGH,	/* failed over: primary frames leave at once,
				 * secondary frames dropped, nothing compared */
	COLO_LOOP_SECONDARY,	/* stood down, the secondary VM serves: its
				 * frames go to the client, the primary's
				 * are dropped */
	COLO_LOOP_MODE_MAX,
};

const char *colo_loop_mode_name(enum colo_loop_mode m);

/*
 * More descriptors in the loop's poll(), for the checkpoint loop: fill()
 * adds up to max entries and may lower *timeout_ms (-1: none); done() runs
 * after every wakeup with the same entries and their revents; a negative
 * return stops the loop with that error.
 */
#define COLO_LOOP_AUX_MAX	6

struct colo_loop_aux {
	int (*fill)(void *ctx, struct pollfd *pfd, int max, int *timeout_ms);
	int (*done)(void *ctx, const struct pollfd *pfd, int n);
};

/* A frame waiting for its checkpoint (holding modes). */
struct loop_frame;

struct colo_loop_opts {
	struct colo_engine_cfg engine;
	struct colo_xsk *xsk[2];	/* [COLO_PRIMARY], [COLO_SECONDARY] */
	int tx_fd;			/* AF_PACKET socket bound to the client NIC */
	const char *tx_ifname;		/* the client NIC: send through AF_XDP
					 * there if it can, else tx_fd; NULL: tx_fd */
	unsigned int tx_queue;
	int sig_fd;			/* signalfd: any signal stops the loop */
	int engine_map_fd;		/* colo_engine, -1: do not publish */
	int divlog_map_fd;		/* colo_divlog, -1: none */
	int conns_map_fd;		/* colo_conns, -1: no reaping */
	const char *pcap_path;		/* frames of each divergence, NULL: none */
};

struct colo_loop {
	struct colo_loop_opts o;
	struct colo_engine *engine;
	struct colo_tx tx;		/* released frames, sent in batches */
	struct colo_xsk *tx_xsk;	/* AF_XDP on the client NIC, or NULL */
	int timer_fd;
	struct pcap_out *pcap;		/* NULL: no --pcap-out */
	uint64_t wall_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */

	colo_checkpoint_fn checkpoint;	/* default: done at once */
	void *checkpoint_ctx;
	const struct colo_loop_aux *aux;	/* NULL: none */
	void *aux_ctx;

	enum colo_loop_mode mode;
	struct loop_frame *hold_head;	/* primary frames waiting, oldest first */
	struct loop_frame **hold_tail;
	uint64_t hold_frames, hold_bytes;
	uint64_t hold_mark;		/* the first this many are covered */
	uint64_t hold_limit;		/* bytes; past it new frames are lost */
	uint64_t committed;		/* frames sent by colo_loop__release() */

	int demand;			/* engine demanded; hook not called yet */
	int in_progress;		/* hook said 1; waiting for _done() */
	int closing;			/* shutting down: release frees only */
	struct colo_divergence div;	/* the demand's divergence */

	uint64_t now_ns;		/* CLOCK_MONOTONIC, once per wakeup */
	uint64_t next_publish_ns;
	uint64_t next_reap_ns;
	uint64_t divseq;		/* divergences recorded */
	uint64_t tx_frames;
	uint64_t tx_errors;
	uint64_t lost;			/* frames refused by the engine, or no memory */
	uint64_t reaped;		/* colo_conns entries reaped */
	int signo;			/* the signal that stopped the loop */
};

/* Create the engine, the timer and the pcap writer; nothing is read yet.
 * -errno, message printed; colo_loop__fini() undoes a partial init. */
int colo_loop__init(struct colo_loop *l, const struct colo_loop_opts *o);
/* Run until a signal arrives on o->sig_fd (0) or a fatal error (-errno). */
int colo_loop__run(struct colo_loop *l);
/* The checkpoint the hook reported under way completed. */
void colo_loop__checkpoint_done(struct colo_loop *l);
/* Change what happens to output (see enum colo_loop_mode). Frames held
 * for a checkpoint go out when leaving for PASSTHROUGH, are dropped for
 * SECONDARY, and are compared when entering COMPARE after a release. */
void colo_loop__set_mode(struct colo_loop *l, enum colo_loop_mode m);
/* The VM stopped for a checkpoint: read everything both sockets hold and
 * mark what the checkpoint covers. Returns the frames covered. */
uint64_t colo_loop__boundary(struct colo_loop *l);
/* The checkpoint is acknowledged (vmstate-received): COMPARE flushes the
 * engine, the holding modes send the frames up to the boundary. */
void colo_loop__release(struct colo_loop *l);
/* Write the engine's state into colo_engine now. */
void colo_loop__publish(struct colo_loop *l);
/* Free the engine (held frames are freed, not sent), the timer, the pcap
 * writer. */
void colo_loop__fini(struct colo_loop *l);

#endif
