/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Receive-only AF_XDP sockets in copy mode through libxdp's xsk API: one
 * umem per socket, every frame handed to a callback and its umem buffer put
 * straight back on the fill ring (the callback copies what it keeps).
 */
#ifndef COLO_PROXY_XSK_H
#define COLO_PROXY_XSK_H

#include <stdint.h>

struct colo_xsk;

/*
 * Bind a receive-only socket (XDP_COPY) to ifname's queue without letting
 * libxdp load its own program. NULL with errno set, message printed.
 */
struct colo_xsk *colo_xsk__open(const char *ifname, unsigned int queue);
/* The same, transmit-only, with its own buffers; NULL with errno set, no
 * message. */
struct colo_xsk *colo_xsk__open_tx(const char *ifname, unsigned int queue);
void colo_xsk__close(struct colo_xsk *x);	/* NULL-safe */
int colo_xsk__fd(const struct colo_xsk *x);
const char *colo_xsk__ifname(const struct colo_xsk *x);
uint64_t colo_xsk__frames(const struct colo_xsk *x);	/* received so far */

/* What the kernel counted for the socket (getsockopt XDP_STATISTICS): frames
 * it could not put on the rx ring, and why. */
struct colo_xsk_stats {
	uint64_t rx;			/* frames handed up by colo_xsk__rx() */
	uint64_t rx_dropped;		/* no buffer (fill ring empty), too long */
	uint64_t rx_invalid_descs;
	uint64_t rx_ring_full;		/* the rx ring was full: we read too late */
	uint64_t rx_fill_ring_empty;	/* times the fill ring had no buffer */
};

/* 0, or -errno (the kernel's counters then read 0). */
int colo_xsk__stats(const struct colo_xsk *x, struct colo_xsk_stats *s);

typedef void (*colo_xsk_rx_fn)(void *ctx, const uint8_t *data, uint32_t len);

/* Hand up to max received frames to fn, give their buffers back to the
 * kernel. Returns the number of frames handled. */
unsigned int colo_xsk__rx(struct colo_xsk *x, unsigned int max,
			  colo_xsk_rx_fn fn, void *ctx);

/*
 * Transmit: _tx_put() copies a frame into a free buffer and onto the tx
 * ring (-ENOBUFS: no buffer or no room, -EMSGSIZE: longer than a buffer);
 * _tx_kick() hands what was put to the kernel and collects the buffers it
 * is done with (-errno when the device refuses: down, gone).
 */
int colo_xsk__tx_put(struct colo_xsk *x, const uint8_t *data, uint32_t len);
int colo_xsk__tx_kick(struct colo_xsk *x);
uint64_t colo_xsk__tx_done(const struct colo_xsk *x);	/* frames completed */
uint64_t colo_xsk__tx_kicks(const struct colo_xsk *x);	/* sendto() calls */

#endif
