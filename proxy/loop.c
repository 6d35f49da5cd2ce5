// SPDX-License-Identifier: GPL-2.0-or-later
/* The comparator's event loop: AF_XDP in, engine, AF_PACKET out. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "colo_shared.h"
#include "conns.h"
#include "live.h"
#include "log.h"
#include "loop.h"
#include "mapio.h"
#include "packet.h"
#include "pcap_file.h"
#include "tx.h"
#include "xsk.h"

#define RX_VISITS	4	/* batches per socket per wakeup, for fairness */

static const char *const side_name[2] = { "primary", "secondary" };

/* A frame and its bytes in one allocation; the engine or the hold queue
 * holds it. */
struct loop_frame {
	struct colo_frame f;
	struct loop_frame *next;	/* hold queue */
	uint8_t data[];
};

const char *colo_loop_mode_name(enum colo_loop_mode m)
{
	static const char *const names[COLO_LOOP_MODE_MAX] = {
		[COLO_LOOP_COMPARE] = "compare",
		[COLO_LOOP_COMMIT] = "commit",
		[COLO_LOOP_OBSERVE] = "observe",
		[COLO_LOOP_PASSTHROUGH] = "passthrough",
		[COLO_LOOP_SECONDARY] = "secondary",
	};

	return (unsigned int)m < COLO_LOOP_MODE_MAX ? names[m] : "?";
}

static struct loop_frame *frame_of(const struct colo_frame *f)
{
	return (struct loop_frame *)((uint8_t *)f->data -
				     offsetof(struct loop_frame, data));
}

static void frame_free(const struct colo_frame *f)
{
	free(frame_of(f));
}

/* The frame leaves with the next batch, then is freed. */
static void send_frame(struct colo_loop *l, struct loop_frame *lf)
{
	colo_tx__queue(&l->tx, &lf->f);
}

static void tx_done(void *ctx, const struct colo_frame *f)
{
	frame_free(f);
}

static void tx_flush(struct colo_loop *l)
{
	colo_tx__flush(&l->tx);
	l->tx_frames = l->tx.frames;
	l->tx_errors = l->tx.errors;
}

static int holding(const struct colo_loop *l)
{
	return l->mode == COLO_LOOP_COMMIT || l->mode == COLO_LOOP_OBSERVE;
}

/* --- output commit: primary frames wait for their checkpoint --- */

static void hold(struct colo_loop *l, struct loop_frame *lf)
{
	if (l->hold_bytes + lf->f.len > l->hold_limit) {
		l->lost++;
		free(lf);
		return;
	}
	lf->next = NULL;
	*l->hold_tail = lf;
	l->hold_tail = &lf->next;
	l->hold_frames++;
	l->hold_bytes += lf->f.len;
}

static struct loop_frame *unhold(struct colo_loop *l)
{
	struct loop_frame *lf = l->hold_head;

	if (!lf)
		return NULL;
	l->hold_head = lf->next;
	if (!l->hold_head)
		l->hold_tail = &l->hold_head;
	l->hold_frames--;
	l->hold_bytes -= lf->f.len;
	if (l->hold_mark)
		l->hold_mark--;
	return lf;
}

/* Send the n oldest held frames (drop them when send is 0). */
static void unhold_n(struct colo_loop *l, uint64_t n, int send)
{
	struct loop_frame *lf;

	while (n-- && (lf = unhold(l))) {
		if (send && !l->closing) {
			send_frame(l, lf);
			l->committed++;
		} else {
			free(lf);
		}
	}
}

/* --- engine callbacks --- */

static void on_release(void *ctx, const struct colo_frame *f)
{
	struct colo_loop *l = ctx;

	if (!l->closing && holding(l)) {
		hold(l, frame_of(f));
		return;
	}
	if (!l->closing && l->mode != COLO_LOOP_SECONDARY)
		send_frame(l, frame_of(f));
	else
		frame_free(f);
}

static void on_drop(void *ctx, const struct colo_frame *f)
{
	frame_free(f);
}

static void record_div(struct colo_loop *l, const struct colo_divergence *d,
		       const char *flow)
{
	struct colo_divrec rec;
	int err;

	l->divseq++;
	if (l->o.divlog_map_fd < 0)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.seq = l->divseq;
	rec.ts_ns = l->now_ns;
	rec.offset = d->offset;
	rec.reason = d->reason;
	snprintf(rec.flow, sizeof(rec.flow), "%s", flow);
	err = colo_map_set(l->o.divlog_map_fd, l->divseq % COLO_DIVLOG_LEN, &rec);
	if (err)
		pr_debug("cannot record divergence %" PRIu64 " in %s: %s",
			 l->divseq, COLO_DIVLOG_NAME, strerror(-err));
}

/* Frames carry CLOCK_MONOTONIC; a capture wants the time of day. */
static void write_pcap(struct colo_loop *l, const struct colo_frame *f)
{
	struct colo_frame wall;

	if (!l->pcap || !f)
		return;
	wall = *f;
	wall.ts_ns += l->wall_offset_ns;
	pcap_out__write(l->pcap, &wall);
}

static void on_checkpoint(void *ctx, const struct colo_divergence *d)
{
	struct colo_loop *l = ctx;
	char flow[96];

	colo_flow_key_format(&d->key, flow, sizeof(flow));
	record_div(l, d, flow);
	if (d->reason == COLO_DIV_TIMEOUT)
		pr_warn("divergence %" PRIu64 ": %s on %s at offset %" PRIu64 " (%s frame unmatched); checkpoint demanded",
			l->divseq, colo_reason_name(d->reason), flow, d->offset,
			side_name[d->side == COLO_SECONDARY]);
	else
		pr_warn("divergence %" PRIu64 ": %s on %s at offset %" PRIu64 "; checkpoint demanded",
			l->divseq, colo_reason_name(d->reason), flow, d->offset);
	write_pcap(l, d->primary);
	write_pcap(l, d->secondary);
	l->div = *d;
	l->div.primary = NULL;
	l->div.secondary = NULL;
	l->demand = 1;
}

static const struct colo_engine_ops loop_ops = {
	.release = on_release,
	.drop = on_drop,
	.checkpoint = on_checkpoint,
};

/* --- checkpoints --- */

static int checkpoint_none(void *ctx, const struct colo_divergence *d)
{
	return 0;
}

void colo_loop__checkpoint_done(struct colo_loop *l)
{
	l->in_progress = 0;
	colo_engine__flush(l->engine);
}

/* A demand is outstanding: hand it to the hook, flush when it is done. */
static void settle(struct colo_loop *l)
{
	int rc;

	if (!l->demand)
		return;
	l->demand = 0;
	tx_flush(l);	/* what was released before need not wait for it */
	rc = l->checkpoint(l->checkpoint_ctx, &l->div);
	if (rc < 0)
		pr_err("checkpoint after divergence %" PRIu64 " failed: %s; releasing the held output anyway",
		       l->divseq, strerror(-rc));
	if (rc > 0)
		l->in_progress = 1;
	else
		colo_loop__checkpoint_done(l);
	/* Divergences are rare: publish at once, so that the counters agree
	 * with colo_divlog. */
	colo_loop__publish(l);
}

/* --- frames in --- */

struct rx_ctx {
	struct colo_loop *l;
	enum colo_side side;
};

static void push_frame(struct colo_loop *l, enum colo_side side,
		       struct loop_frame *lf)
{
	int err;

	err = colo_engine__push(l->engine, side, &lf->f);
	if (err == -ENOBUFS && l->demand) {
		settle(l);	/* a hard limit: the checkpoint frees room */
		err = colo_engine__push(l->engine, side, &lf->f);
	}
	if (err) {
		l->lost++;
		pr_debug("the engine refused a %s frame of %u bytes: %s",
			 side_name[side], lf->f.len, strerror(-err));
		free(lf);
	}
	settle(l);
}

/* A frame read from a socket, by mode. */
static void take_frame(struct colo_loop *l, enum colo_side side,
		       struct loop_frame *lf)
{
	switch (l->mode) {
	case COLO_LOOP_COMPARE:
	case COLO_LOOP_OBSERVE:
		push_frame(l, side, lf);
		return;
	case COLO_LOOP_COMMIT:
		if (side == COLO_PRIMARY) {
			hold(l, lf);
			return;
		}
		break;
	case COLO_LOOP_PASSTHROUGH:
		if (side == COLO_PRIMARY && !l->closing) {
			send_frame(l, lf);
			return;
		}
		break;
	case COLO_LOOP_SECONDARY:
		if (side == COLO_SECONDARY && !l->closing) {
			send_frame(l, lf);
			return;
		}
		break;
	default:
		break;
	}
	free(lf);
}

static void on_rx(void *ctx, const uint8_t *data, uint32_t len)
{
	struct rx_ctx *rc = ctx;
	struct colo_loop *l = rc->l;
	struct loop_frame *lf;

	lf = malloc(sizeof(*lf) + len);
	if (!lf) {
		l->lost++;
		return;
	}
	memcpy(lf->data, data, len);
	lf->f.data = lf->data;
	lf->f.len = len;
	lf->f.ts_ns = l->now_ns;
	lf->f.cookie = colo_xsk__frames(l->o.xsk[rc->side]);
	lf->next = NULL;
	take_frame(l, rc->side, lf);
}

static void drain(struct colo_loop *l, enum colo_side side)
{
	struct rx_ctx rc = { .l = l, .side = side };
	int i;

	for (i = 0; i < RX_VISITS; i++)
		if (colo_xsk__rx(l->o.xsk[side], COLO_LOOP_BATCH, on_rx, &rc) <
		    COLO_LOOP_BATCH)
			break;
}

/* Everything a socket holds, for an exact checkpoint boundary. */
static void drain_all(struct colo_loop *l, enum colo_side side)
{
	struct rx_ctx rc = { .l = l, .side = side };
	int i;

	for (i = 0; i < 1024; i++)
		if (colo_xsk__rx(l->o.xsk[side], COLO_LOOP_BATCH, on_rx, &rc) <
		    COLO_LOOP_BATCH)
			break;
}

/* --- modes and the checkpoint boundary --- */

static void engine_flush(struct colo_loop *l)
{
	l->demand = 0;
	l->in_progress = 0;
	colo_engine__flush(l->engine);
}

/* Frames held back, in order, go through the engine (back to COMPARE). */
static void requeue(struct colo_loop *l)
{
	struct loop_frame *lf;

	l->hold_mark = 0;
	while ((lf = unhold(l)))
		push_frame(l, COLO_PRIMARY, lf);
}

void colo_loop__set_mode(struct colo_loop *l, enum colo_loop_mode m)
{
	enum colo_loop_mode old = l->mode;

	if (m == old)
		return;
	l->mode = m;
	switch (m) {
	case COLO_LOOP_PASSTHROUGH:
		unhold_n(l, l->hold_frames, 1);
		engine_flush(l);
		break;
	case COLO_LOOP_SECONDARY:
		unhold_n(l, l->hold_frames, 0);
		engine_flush(l);
		break;
	case COLO_LOOP_COMMIT:
		engine_flush(l);	/* what the engine held joins the queue */
		break;
	case COLO_LOOP_COMPARE:
		requeue(l);
		break;
	default:
		break;
	}
	colo_loop__publish(l);
}

uint64_t colo_loop__boundary(struct colo_loop *l)
{
	drain_all(l, COLO_PRIMARY);
	drain_all(l, COLO_SECONDARY);
	if (l->mode == COLO_LOOP_OBSERVE)
		engine_flush(l);	/* compared or not, it is covered */
	l->hold_mark = l->hold_frames;
	return l->hold_mark;
}

void colo_loop__release(struct colo_loop *l)
{
	switch (l->mode) {
	case COLO_LOOP_COMPARE:
		colo_loop__checkpoint_done(l);
		break;
	case COLO_LOOP_COMMIT:
	case COLO_LOOP_OBSERVE:
		unhold_n(l, l->hold_mark, 1);
		l->hold_mark = 0;
		break;
	default:
		break;
	}
	colo_loop__publish(l);
}

/* --- timer --- */

static void publish_xsk(struct colo_loop *l, struct colo_engine_pub *pub)
{
	struct colo_xsk_stats x[2];
	int i;

	for (i = COLO_PRIMARY; i <= COLO_SECONDARY; i++)
		if (l->o.xsk[i])
			colo_xsk__stats(l->o.xsk[i], &x[i]);
		else
			memset(&x[i], 0, sizeof(x[i]));
	pub->xsk_rx_primary = x[COLO_PRIMARY].rx;
	pub->xsk_rx_secondary = x[COLO_SECONDARY].rx;
	pub->xsk_ring_full_primary = x[COLO_PRIMARY].rx_ring_full;
	pub->xsk_ring_full_secondary = x[COLO_SECONDARY].rx_ring_full;
	pub->xsk_fill_empty_primary = x[COLO_PRIMARY].rx_fill_ring_empty;
	pub->xsk_fill_empty_secondary = x[COLO_SECONDARY].rx_fill_ring_empty;
	pub->xsk_dropped_primary = x[COLO_PRIMARY].rx_dropped;
	pub->xsk_dropped_secondary = x[COLO_SECONDARY].rx_dropped;
	pub->xsk_invalid_primary = x[COLO_PRIMARY].rx_invalid_descs;
	pub->xsk_invalid_secondary = x[COLO_SECONDARY].rx_invalid_descs;
	pub->lost = l->lost;
	pub->tx_af_xdp = l->tx.xsk != NULL;
	pub->tx_calls = l->tx.calls;
}

void colo_loop__publish(struct colo_loop *l)
{
	const struct colo_engine_stats *s = colo_engine__stats(l->engine);
	struct colo_engine_pub pub;
	int i, err;

	if (l->o.engine_map_fd < 0)
		return;
	tx_flush(l);
	memset(&pub, 0, sizeof(pub));
	pub.updated_ns = l->now_ns ? l->now_ns : colo_now_ns();
	pub.pushed_primary = s->pushed[COLO_PRIMARY];
	pub.pushed_secondary = s->pushed[COLO_SECONDARY];
	pub.released = s->released;
	pub.dropped = s->dropped;
	pub.flushed_released = s->flushed_released;
	pub.flushed_dropped = s->flushed_dropped;
	pub.compared_bytes = s->compared_bytes;
	pub.checkpoints = s->checkpoints;
	pub.coalesced = s->coalesced;
	pub.refused = s->refused;
	pub.held_primary = s->held_frames[COLO_PRIMARY] + l->hold_frames;
	pub.held_secondary = s->held_frames[COLO_SECONDARY];
	pub.held_bytes = s->held_bytes + l->hold_bytes;
	pub.flows = s->flows;
	pub.tx_frames = l->tx_frames;
	pub.tx_errors = l->tx_errors;
	for (i = 0; i < COLO_DIV_MAX && i < 16; i++)
		pub.by_reason[i] = s->by_reason[i];
	publish_xsk(l, &pub);
	err = colo_map_set(l->o.engine_map_fd, 0, &pub);
	if (err)
		pr_debug("cannot publish into %s: %s", COLO_ENGINE_NAME,
			 strerror(-err));
}

static void reap(struct colo_loop *l)
{
	long n;

	if (l->o.conns_map_fd < 0)
		return;
	n = colo_conns_reap(l->o.conns_map_fd, l->now_ns, COLO_CONNS_REAP_AGE_NS);
	if (n > 0) {
		l->reaped += n;
		pr_debug("reaped %ld closed connections from %s", n,
			 COLO_CONNS_NAME);
	} else if (n < 0) {
		pr_debug("cannot walk %s: %s", COLO_CONNS_NAME, strerror(-n));
	}
}

static void on_timer(struct colo_loop *l)
{
	uint64_t expirations;

	if (read(l->timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		pr_debug("timerfd read: %s", strerror(errno));
	colo_engine__tick(l->engine, l->now_ns);
	settle(l);
	if (l->now_ns >= l->next_publish_ns) {
		colo_loop__publish(l);
		l->next_publish_ns = l->now_ns + COLO_LOOP_PUBLISH_NS;
	}
	if (l->now_ns >= l->next_reap_ns) {
		reap(l);
		l->next_reap_ns = l->now_ns + COLO_LOOP_REAP_NS;
	}
}

/* --- setup and the loop --- */

int colo_loop__init(struct colo_loop *l, const struct colo_loop_opts *o)
{
	struct itimerspec its = {
		.it_interval = { 0, COLO_LOOP_TICK_NS },
		.it_value = { 0, COLO_LOOP_TICK_NS },
	};
	struct timespec rt;
	int err;

	memset(l, 0, sizeof(*l));
	l->o = *o;
	l->checkpoint = checkpoint_none;
	l->hold_tail = &l->hold_head;
	l->hold_limit = COLO_HARD_LIMIT_FACTOR * o->engine.total_max_bytes;
	colo_tx__init(&l->tx, NULL, o->tx_fd, tx_done, l);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_fd < 0 || timerfd_settime(l->timer_fd, 0, &its, NULL)) {
		err = -errno;
		pr_err("cannot create the comparator's timer: %s", strerror(-err));
		goto fail;
	}
	if (o->tx_ifname) {
		l->tx_xsk = colo_xsk__open_tx(o->tx_ifname, o->tx_queue);
		if (l->tx_xsk)
			colo_tx__init(&l->tx, l->tx_xsk, o->tx_fd, tx_done, l);
		else
			pr_warn("%s: cannot open an AF_XDP socket to send on queue %u (%s); released frames leave through a packet socket (slower)",
				o->tx_ifname, o->tx_queue, strerror(errno));
	}
	l->engine = colo_engine__new(&o->engine, &loop_ops, l);
	if (!l->engine) {
		err = -errno;
		pr_err("cannot create the comparison engine: %s", strerror(-err));
		goto fail;
	}
	if (o->pcap_path) {
		l->pcap = calloc(1, sizeof(*l->pcap));
		if (!l->pcap) {
			err = -ENOMEM;
			pr_err("out of memory");
			goto fail;
		}
		err = pcap_out__open(l->pcap, o->pcap_path);
		if (err)
			goto fail;
		clock_gettime(CLOCK_REALTIME, &rt);
		l->wall_offset_ns = (uint64_t)rt.tv_sec * NSEC_PER_SEC_U64 +
				    rt.tv_nsec - colo_now_ns();
	}
	return 0;
fail:
	colo_loop__fini(l);
	return err;
}

static int read_signal(struct colo_loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->o.sig_fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	l->signo = si.ssi_signo;
	return 1;
}

static int xsk_failed(struct colo_loop *l, enum colo_side side, short revents)
{
	if (!(revents & (POLLERR | POLLHUP | POLLNVAL)))
		return 0;
	pr_err("the %s AF_XDP socket on %s failed (interface gone or down?); stopping",
	       side_name[side], colo_xsk__ifname(l->o.xsk[side]));
	return 1;
}

static int wait(struct colo_loop *l, struct pollfd *pfd, int *n_aux)
{
	int timeout = -1;

	*n_aux = 0;
	if (l->aux)
		*n_aux = l->aux->fill(l->aux_ctx, pfd + 4, COLO_LOOP_AUX_MAX,
				      &timeout);
	if (poll(pfd, 4 + *n_aux, timeout) >= 0 || errno == EINTR)
		return 0;
	pr_err("poll: %s", strerror(errno));
	return -errno;
}

int colo_loop__run(struct colo_loop *l)
{
	struct pollfd pfd[4 + COLO_LOOP_AUX_MAX];
	int i, n_aux, err;

	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = colo_xsk__fd(l->o.xsk[COLO_PRIMARY]);
	pfd[1].fd = colo_xsk__fd(l->o.xsk[COLO_SECONDARY]);
	pfd[2].fd = l->o.sig_fd;
	pfd[3].fd = l->timer_fd;
	for (i = 0; i < 4; i++)
		pfd[i].events = POLLIN;

	l->now_ns = colo_now_ns();
	colo_loop__publish(l);
	l->next_publish_ns = l->now_ns + COLO_LOOP_PUBLISH_NS;
	l->next_reap_ns = l->now_ns + COLO_LOOP_REAP_NS;
	for (;;) {
		for (i = 0; i < 4; i++)
			pfd[i].revents = 0;
		err = wait(l, pfd, &n_aux);
		if (err)
			break;
		l->now_ns = colo_now_ns();
		for (i = COLO_PRIMARY; i <= COLO_SECONDARY && !err; i++) {
			if (xsk_failed(l, i, pfd[i].revents))
				err = -ENETDOWN;
			else if (pfd[i].revents & POLLIN)
				drain(l, i);
		}
		if (err)
			break;
		if (pfd[3].revents & POLLIN)
			on_timer(l);
		if (l->aux) {
			err = l->aux->done(l->aux_ctx, pfd + 4, n_aux);
			if (err < 0)
				break;
			err = 0;
		}
		tx_flush(l);
		if ((pfd[2].revents & POLLIN) && read_signal(l))
			break;
	}
	tx_flush(l);
	return err;
}

void colo_loop__fini(struct colo_loop *l)
{
	tx_flush(l);	/* released before: they go */
	l->closing = 1;
	if (l->hold_tail)
		unhold_n(l, l->hold_frames, 0);
	if (l->engine)
		colo_engine__free(l->engine);
	l->engine = NULL;
	colo_xsk__close(l->tx_xsk);
	l->tx_xsk = NULL;
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	l->timer_fd = -1;
	if (l->pcap) {
		pcap_out__close(l->pcap, 0);
		free(l->pcap);
	}
	l->pcap = NULL;
}
