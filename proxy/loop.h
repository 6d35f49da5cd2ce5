/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The comparator loop: frames from the two AF_XDP sockets into the colo-core
 * engine, released frames out to the client, divergences logged, recorded
 * and handed to a checkpoint hook; a 10 ms timer drives the engine's clock,
 * publishes its state into colo_engine and reaps colo_conns.
 */
#ifndef COLO_PROXY_LOOP_H
#define COLO_PROXY_LOOP_H

#include <stdint.h>

#include "engine.h"

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

struct colo_loop_opts {
	struct colo_engine_cfg engine;
	struct colo_xsk *xsk[2];	/* [COLO_PRIMARY], [COLO_SECONDARY] */
	int tx_fd;			/* AF_PACKET socket bound to the client NIC */
	int sig_fd;			/* signalfd: any signal stops the loop */
	int engine_map_fd;		/* colo_engine, -1: do not publish */
	int divlog_map_fd;		/* colo_divlog, -1: none */
	int conns_map_fd;		/* colo_conns, -1: no reaping */
	const char *pcap_path;		/* frames of each divergence, NULL: none */
};

struct colo_loop {
	struct colo_loop_opts o;
	struct colo_engine *engine;
	int timer_fd;
	struct pcap_out *pcap;		/* NULL: no --pcap-out */
	uint64_t wall_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */

	colo_checkpoint_fn checkpoint;	/* default: done at once */
	void *checkpoint_ctx;

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
/* Write the engine's state into colo_engine now. */
void colo_loop__publish(struct colo_loop *l);
/* Free the engine (held frames are freed, not sent), the timer, the pcap
 * writer. */
void colo_loop__fini(struct colo_loop *l);

#endif
