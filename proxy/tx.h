/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frames to the client in batches. Two ways out:
 *  - an AF_XDP socket (copy mode) on the client NIC: each frame is copied
 *    into the socket's buffers at once, and one batch costs one kick;
 *  - else an AF_PACKET socket: frames wait in the batch and leave with one
 *    sendmmsg().
 * Either way each queued frame is handed back through the done callback
 * exactly once, sent or not.
 */
#ifndef COLO_PROXY_TX_H
#define COLO_PROXY_TX_H

#include <stdint.h>

#include "engine.h"

struct colo_xsk;

#define COLO_TX_BATCH	64

typedef void (*colo_tx_done_fn)(void *ctx, const struct colo_frame *f);

struct colo_tx {
	struct colo_xsk *xsk;		/* AF_XDP on the client NIC, or NULL */
	int fd;				/* else AF_PACKET, bound to the client NIC */
	unsigned int n;			/* frames queued since the last flush */
	const struct colo_frame *f[COLO_TX_BATCH];	/* AF_PACKET only */
	colo_tx_done_fn done;
	void *ctx;
	uint64_t frames;		/* sent */
	uint64_t errors;		/* refused: no room, device down */
	uint64_t calls;			/* sendmmsg() or kicks */
};

/* xsk (owned by the caller) may be NULL: fd is used. */
void colo_tx__init(struct colo_tx *t, struct colo_xsk *xsk, int fd,
		   colo_tx_done_fn done, void *ctx);
/* Queue f (its bytes must stay valid until done); sends the batch when
 * it is full. */
void colo_tx__queue(struct colo_tx *t, const struct colo_frame *f);
/* Send what is queued. */
void colo_tx__flush(struct colo_tx *t);

#endif
