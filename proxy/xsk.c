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
#define XSK_NUM_FRAMES	4096	/* all of them sit on the fill ring */
#define XSK_RX_SIZE	2048
#define XSK_COMP_SIZE	64	/* unused: we never transmit on it */

struct colo_xsk {
	const char *ifname;
	unsigned int queue;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
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

struct colo_xsk *colo_xsk__open(const char *ifname, unsigned int queue)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_NUM_FRAMES,
		.comp_size = XSK_COMP_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RX_SIZE,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_COPY,
	};
	struct colo_xsk *x;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x) {
		pr_err("out of memory");
		return NULL;
	}
	x->ifname = ifname;
	x->queue = queue;
	x->area_size = (uint64_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE;
	x->area = mmap(NULL, x->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		x->area = NULL;
		pr_err("%s: cannot allocate %llu bytes for the AF_XDP umem: %s",
		       ifname, (unsigned long long)x->area_size, strerror(-err));
		goto fail;
	}
	err = xsk_umem__create(&x->umem, x->area, x->area_size, &x->fill,
			       &x->comp, &ucfg);
	if (err) {
		x->umem = NULL;
		pr_err("%s: cannot register the AF_XDP umem: %s", ifname,
		       strerror(-err));
		goto fail;
	}
	err = xsk_socket__create(&x->sock, ifname, queue, x->umem, &x->rx, NULL,
				 &scfg);
	if (err) {
		x->sock = NULL;
		open_error(ifname, queue, err);
		goto fail;
	}
	err = fill_all(x);
	if (err) {
		pr_err("%s: cannot fill the AF_XDP fill ring", ifname);
		goto fail;
	}
	return x;
fail:
	colo_xsk__close(x);
	errno = -err;
	return NULL;
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

unsigned int colo_xsk__rx(struct colo_xsk *x, unsigned int max,
			  colo_xsk_rx_fn fn, void *ctx)
{
	const struct xdp_desc *d;
	__u32 idx, fidx, n, got, i;

	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	if (!n)
		return 0;
	/* As many frames left the rx ring as the fill ring lacks: the
	 * reservation cannot fail while every frame belongs to the two. */
	got = xsk_ring_prod__reserve(&x->fill, n, &fidx);
	for (i = 0; i < n; i++) {
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
