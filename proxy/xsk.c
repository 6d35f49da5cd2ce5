// SPDX-License-Identifier: GPL-2.0-or-later
/* AF_XDP adapter: receive-only copy-mode sockets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include <xdp/xsk.h>

#include "log.h"
#include "xsk.h"

#define XSK_FRAME_SIZE	XSK_UMEM__DEFAULT_FRAME_SIZE	/* 4096 */
/* The rx ring absorbs what arrives while the loop is busy (sending, or off
 * the CPU): 4096 frames are 4 ms at 1 M frames/s. The fill ring holds every
 * buffer, twice the rx ring, so it cannot run dry while the rx ring is full:
 * 32 MiB of umem per socket. */
#define XSK_RX_SIZE	4096
#define XSK_NUM_FRAMES	(2 * XSK_RX_SIZE)	/* all of them sit on the fill ring */
#define XSK_COMP_SIZE	64	/* unused: rx sockets never transmit */
/* Transmit-only sockets: every buffer is free, on the tx ring, or in flight
 * until the completion ring gives it back. */
#define XSK_TX_FRAMES	2048
#define XSK_TX_FILL	64	/* unused: tx sockets receive nothing */
#define XSK_PREFETCH	4	/* frames ahead of the one handed up */

struct colo_xsk {
	const char *ifname;
	unsigned int queue;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;	/* transmit-only sockets */
	__u64 *tx_free;			/* free buffers (umem addresses) */
	__u32 n_free;
	__u32 tx_queued;		/* on the tx ring, not yet kicked */
	uint64_t tx_done;		/* completed by the kernel */
	uint64_t tx_kicks;
	void *area;
	uint64_t area_size;
	uint64_t frames;	/* received */
	uint64_t bytes;
	uint64_t fill_short;	/* fill ring had no room: buffer lost */
};

static int fill_all(struct colo_xsk *x)
{
	__u32 idx, i;

	if (xsk_ring_prod__reserve(&x->fill, XSK_NUM_FRAMES, &idx) !=
	    XSK_NUM_FRAMES)
		return -ENOSPC;
	for (i = 0; i < XSK_NUM_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
			(__u64)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, XSK_NUM_FRAMES);
	return 0;
}

static void open_error(const char *ifname, unsigned int queue, int err)
{
	switch (-err) {
	case EINVAL:
		pr_err("%s: cannot bind an AF_XDP socket to queue %u (%s); the queue must exist (see 'ethtool -l %s') and the device must support XDP",
		       ifname, queue, strerror(-err), ifname);
		break;
	case EBUSY:
		pr_err("%s: queue %u already has an AF_XDP socket (another colo-proxy or AF_XDP program?)",
		       ifname, queue);
		break;
	case EPERM:
	case EACCES:
		pr_err("%s: not allowed to open an AF_XDP socket (%s); run as root",
		       ifname, strerror(-err));
		break;
	default:
		pr_err("%s: cannot open an AF_XDP socket on queue %u: %s",
		       ifname, queue, strerror(-err));
	}
}

/* A socket with its own umem of nframes buffers; rx or tx side. Failures
 * of a tx socket are left to the caller to report (it has a way around). */
static struct colo_xsk *xsk_new(const char *ifname, unsigned int queue,
				uint32_t nframes, int tx)
{
	struct xsk_umem_config ucfg = {
		.fill_size = tx ? XSK_TX_FILL : XSK_NUM_FRAMES,
		.comp_size = tx ? XSK_TX_FRAMES : XSK_COMP_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = tx ? 0 : XSK_RX_SIZE,
		.tx_size = tx ? XSK_TX_FRAMES : XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_COPY,
	};
	struct colo_xsk *x;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x) {
		if (!tx)
			pr_err("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	x->ifname = ifname;
	x->queue = queue;
	x->area_size = (uint64_t)nframes * XSK_FRAME_SIZE;
	x->area = mmap(NULL, x->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		x->area = NULL;
		if (!tx)
			pr_err("%s: cannot allocate %llu bytes for the AF_XDP umem: %s",
		       ifname, (unsigned long long)x->area_size, strerror(-err));
		goto fail;
	}
	err = xsk_umem__create(&x->umem, x->area, x->area_size, &x->fill,
			       &x->comp, &ucfg);
	if (err) {
		x->umem = NULL;
		if (!tx)
			pr_err("%s: cannot register the AF_XDP umem: %s",
			       ifname, strerror(-err));
		goto fail;
	}
	err = xsk_socket__create(&x->sock, ifname, queue, x->umem,
				 tx ? NULL : &x->rx, tx ? &x->tx : NULL, &scfg);
	if (err) {
		x->sock = NULL;
		if (!tx)
			open_error(ifname, queue, err);
		goto fail;
	}
	return x;
fail:
	colo_xsk__close(x);
	errno = -err;
	return NULL;
}

struct colo_xsk *colo_xsk__open(const char *ifname, unsigned int queue)
{
	struct colo_xsk *x = xsk_new(ifname, queue, XSK_NUM_FRAMES, 0);

	if (x && fill_all(x)) {
		pr_err("%s: cannot fill the AF_XDP fill ring", ifname);
		colo_xsk__close(x);
		errno = ENOSPC;
		return NULL;
	}
	return x;
}

struct colo_xsk *colo_xsk__open_tx(const char *ifname, unsigned int queue)
{
	struct colo_xsk *x = xsk_new(ifname, queue, XSK_TX_FRAMES, 1);
	__u32 i;

	if (!x)
		return NULL;
	x->tx_free = calloc(XSK_TX_FRAMES, sizeof(*x->tx_free));
	if (!x->tx_free) {
		colo_xsk__close(x);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < XSK_TX_FRAMES; i++)
		x->tx_free[i] = (__u64)i * XSK_FRAME_SIZE;
	x->n_free = XSK_TX_FRAMES;
	return x;
}

void colo_xsk__close(struct colo_xsk *x)
{
	if (!x)
		return;
	if (x->sock)
		xsk_socket__delete(x->sock);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_size);
	free(x->tx_free);
	free(x);
}

int colo_xsk__fd(const struct colo_xsk *x)
{
	return x->sock ? xsk_socket__fd(x->sock) : -1;
}

const char *colo_xsk__ifname(const struct colo_xsk *x)
{
	return x->ifname;
}

uint64_t colo_xsk__frames(const struct colo_xsk *x)
{
	return x->frames;
}

int colo_xsk__stats(const struct colo_xsk *x, struct colo_xsk_stats *s)
{
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	memset(s, 0, sizeof(*s));
	s->rx = x->frames;
	memset(&xs, 0, sizeof(xs));
	if (getsockopt(colo_xsk__fd(x), SOL_XDP, XDP_STATISTICS, &xs, &len))
		return -errno;
	s->rx_dropped = xs.rx_dropped;
	s->rx_invalid_descs = xs.rx_invalid_descs;
	s->rx_ring_full = xs.rx_ring_full;
	s->rx_fill_ring_empty = xs.rx_fill_ring_empty_descs;
	return 0;
}

static const void *rx_data(struct colo_xsk *x, __u32 idx)
{
	return xsk_umem__get_data(x->area,
				  xsk_ring_cons__rx_desc(&x->rx, idx)->addr);
}

unsigned int colo_xsk__rx(struct colo_xsk *x, unsigned int max,
			  colo_xsk_rx_fn fn, void *ctx)
{
	const struct xdp_desc *d;
	__u32 idx, fidx = 0, n, got, i;

	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	if (!n)
		return 0;
	/* As many frames left the rx ring as the fill ring lacks: the
	 * reservation cannot fail while every frame belongs to the two. */
	got = xsk_ring_prod__reserve(&x->fill, n, &fidx);
	/* The kernel wrote the frames on another CPU: fetch a few ahead of
	 * the one handed up. */
	for (i = 0; i < n && i < XSK_PREFETCH; i++)
		__builtin_prefetch(rx_data(x, idx + i));
	for (i = 0; i < n; i++) {
		if (i + XSK_PREFETCH < n)
			__builtin_prefetch(rx_data(x, idx + i + XSK_PREFETCH));
		d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		fn(ctx, xsk_umem__get_data(x->area, d->addr), d->len);
		x->bytes += d->len;
		if (got)
			*xsk_ring_prod__fill_addr(&x->fill, fidx + i) =
				xsk_umem__extract_addr(d->addr) &
				~(__u64)(XSK_FRAME_SIZE - 1);
	}
	if (got)
		xsk_ring_prod__submit(&x->fill, n);
	else
		x->fill_short += n;
	xsk_ring_cons__release(&x->rx, n);
	x->frames += n;
	return n;
}

/* --- transmit --- */

/* Buffers the kernel is done with go back to the free list. */
static void tx_reap(struct colo_xsk *x)
{
	__u32 idx, n, i;

	n = xsk_ring_cons__peek(&x->comp, XSK_TX_FRAMES, &idx);
	for (i = 0; i < n; i++)
		x->tx_free[x->n_free++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	xsk_ring_cons__release(&x->comp, n);
	x->tx_done += n;
}

int colo_xsk__tx_put(struct colo_xsk *x, const uint8_t *data, uint32_t len)
{
	struct xdp_desc *d;
	__u32 idx;

	if (len > XSK_FRAME_SIZE - XSK_UMEM__DEFAULT_FRAME_HEADROOM)
		return -EMSGSIZE;
	if (!x->n_free)
		tx_reap(x);
	if (!x->n_free || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return -ENOBUFS;
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = x->tx_free[--x->n_free];
	d->len = len;
	d->options = 0;
	memcpy(xsk_umem__get_data(x->area, d->addr), data, len);
	x->tx_queued++;
	return 0;
}

/*
 * Copy mode sends from sendto(): the kernel takes a budget of descriptors
 * per call (32 by default) and says EAGAIN while more wait, or while the
 * socket's send buffer is full; each retry first collects completions.
 */
#define XSK_TX_KICKS	64

int colo_xsk__tx_kick(struct colo_xsk *x)
{
	int i, err = 0;

	if (!x->tx_queued)
		goto out;
	xsk_ring_prod__submit(&x->tx, x->tx_queued);
	x->tx_queued = 0;
	for (i = 0; i < XSK_TX_KICKS; i++) {
		x->tx_kicks++;
		err = 0;
		if (sendto(colo_xsk__fd(x), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0)
			err = -errno;
		tx_reap(x);
		if (err != -EAGAIN && err != -EBUSY && err != -ENOBUFS)
			break;
		if (xsk_prod_nb_free(&x->tx, XSK_TX_FRAMES) == XSK_TX_FRAMES)
			break;	/* the kernel took every descriptor */
	}
out:
	tx_reap(x);
	return err == -EAGAIN || err == -EBUSY || err == -ENOBUFS ? 0 : err;
}

uint64_t colo_xsk__tx_done(const struct colo_xsk *x)
{
	return x->tx_done;
}

uint64_t colo_xsk__tx_kicks(const struct colo_xsk *x)
{
	return x->tx_kicks;
}
