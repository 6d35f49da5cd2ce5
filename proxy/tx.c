// SPDX-License-Identifier: GPL-2.0-or-later
/* Batched transmit to the client: AF_XDP, or sendmmsg() on AF_PACKET. */
#define _GNU_SOURCE	/* sendmmsg() */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "tx.h"
#include "xsk.h"

void colo_tx__init(struct colo_tx *t, struct colo_xsk *xsk, int fd,
		   colo_tx_done_fn done, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->xsk = xsk;
	t->fd = fd;
	t->done = done;
	t->ctx = ctx;
}

static void flush_xsk(struct colo_tx *t)
{
	uint64_t kicks = colo_xsk__tx_kicks(t->xsk);

	colo_xsk__tx_kick(t->xsk);
	t->calls += colo_xsk__tx_kicks(t->xsk) - kicks;
	t->frames = colo_xsk__tx_done(t->xsk);
	t->n = 0;
}

/* One try per frame, as one send() each would: a frame the socket refuses
 * (buffer full, device down) is counted and skipped. */
static void flush_packet(struct colo_tx *t)
{
	struct mmsghdr msg[COLO_TX_BATCH];
	struct iovec iov[COLO_TX_BATCH];
	unsigned int i = 0, k;
	int r;

	memset(msg, 0, t->n * sizeof(msg[0]));
	for (k = 0; k < t->n; k++) {
		iov[k].iov_base = (void *)t->f[k]->data;
		iov[k].iov_len = t->f[k]->len;
		msg[k].msg_hdr.msg_iov = &iov[k];
		msg[k].msg_hdr.msg_iovlen = 1;
	}
	while (i < t->n) {
		r = sendmmsg(t->fd, &msg[i], t->n - i, MSG_DONTWAIT);
		t->calls++;
		if (r > 0) {
			for (k = i; k < i + (unsigned int)r; k++)
				if (msg[k].msg_len == t->f[k]->len)
					t->frames++;
				else
					t->errors++;
			i += r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			t->errors++;
			i++;
		}
	}
	for (k = 0; k < t->n; k++)
		t->done(t->ctx, t->f[k]);
	t->n = 0;
}

void colo_tx__flush(struct colo_tx *t)
{
	if (!t->n)
		return;
	if (t->xsk)
		flush_xsk(t);
	else
		flush_packet(t);
}

/* AF_XDP: the bytes are copied now, the frame is done at once. A full
 * ring is kicked once to make room. */
static void queue_xsk(struct colo_tx *t, const struct colo_frame *f)
{
	int err;

	err = colo_xsk__tx_put(t->xsk, f->data, f->len);
	if (err == -ENOBUFS) {
		flush_xsk(t);
		err = colo_xsk__tx_put(t->xsk, f->data, f->len);
	}
	if (err)
		t->errors++;
	else
		t->n++;
	t->done(t->ctx, f);
}

void colo_tx__queue(struct colo_tx *t, const struct colo_frame *f)
{
	if (t->xsk)
		queue_xsk(t, f);
	else
		t->f[t->n++] = f;
	if (t->n == COLO_TX_BATCH)
		colo_tx__flush(t);
}
