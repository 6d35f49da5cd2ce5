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
void colo_xsk__close(struct colo_xsk *x);	/* NULL-safe */
int colo_xsk__fd(const struct colo_xsk *x);
const char *colo_xsk__ifname(const struct colo_xsk *x);
uint64_t colo_xsk__frames(const struct colo_xsk *x);	/* received so far */

typedef void (*colo_xsk_rx_fn)(void *ctx, const uint8_t *data, uint32_t len);

/* Hand up to max received frames to fn, give their buffers back to the
 * kernel. Returns the number of frames handled. */
unsigned int colo_xsk__rx(struct colo_xsk *x, unsigned int max,
			  colo_xsk_rx_fn fn, void *ctx);

#endif
