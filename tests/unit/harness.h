/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the engine tests: an engine whose callbacks write a log of what
 * happened ("R3" primary frame 3 released, "D4" secondary frame 4 dropped,
 * "C:payload@3" checkpoint demanded for a payload divergence at offset 3),
 * so a test compares the whole story with one string, and frame storage that
 * outlives the engine's hold on a frame.
 */
#ifndef COLO_TEST_HARNESS_H
#define COLO_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine.h"
#include "pktbuild.h"

#define H_MAX_FRAMES 512
#define H_FRAME_CAP 2048
#define MS 1000000ULL

struct harness {
	struct colo_engine *e;
	char log[8192];
	size_t used;
	uint8_t buf[H_MAX_FRAMES][H_FRAME_CAP];
	struct colo_frame frames[H_MAX_FRAMES];
	int handed[H_MAX_FRAMES];	/* times each cookie came back */
	unsigned int nframes;
	struct colo_divergence last;	/* key/offset/byte of the last demand */
	int flush_on_checkpoint;	/* act as the offline replay does */
	int want_flush;
};

static inline void h_logf(struct harness *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->used)
		h->log[h->used++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(h->log + h->used, sizeof(h->log) - h->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		h->used += (size_t)n;
}

static inline void h_release(void *ctx, const struct colo_frame *f)
{
	struct harness *h = ctx;

	h->handed[f->cookie]++;
	h_logf(h, "R%llu", (unsigned long long)f->cookie);
}

static inline void h_drop(void *ctx, const struct colo_frame *f)
{
	struct harness *h = ctx;

	h->handed[f->cookie]++;
	h_logf(h, "D%llu", (unsigned long long)f->cookie);
}

static inline void h_checkpoint(void *ctx, const struct colo_divergence *d)
{
	struct harness *h = ctx;

	h->last = *d;
	h->last.primary = NULL;
	h->last.secondary = NULL;
	h_logf(h, "C:%s@%llu", colo_reason_name(d->reason),
	       (unsigned long long)d->offset);
	h->want_flush = h->flush_on_checkpoint;
}

static const struct colo_engine_ops h_ops = {
	.release = h_release,
	.drop = h_drop,
	.checkpoint = h_checkpoint,
};

static inline struct harness *h_new(const struct colo_engine_cfg *cfg)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct colo_engine_cfg def;

	assert_non_null(h);
	if (!cfg) {
		colo_engine_cfg_default(&def);
		cfg = &def;
	}
	h->e = colo_engine__new(cfg, &h_ops, h);
	assert_non_null(h->e);
	h->nframes = 1;		/* cookies start at 1 */
	return h;
}

/* Every frame pushed came back exactly once. */
static inline void h_assert_all_handed_once(const struct harness *h)
{
	unsigned int i;

	for (i = 1; i < h->nframes; i++)
		if (h->handed[i] != 1)
			fail_msg("frame %u handed back %d times", i, h->handed[i]);
}

static inline void h_free(struct harness *h)
{
	colo_engine__free(h->e);
	h_assert_all_handed_once(h);
	free(h);
}

/* Reserve the next frame slot; the caller builds into the returned buffer. */
static inline uint8_t *h_slot(struct harness *h)
{
	assert_true(h->nframes < H_MAX_FRAMES);
	return h->buf[h->nframes];
}

static inline void h_flush(struct harness *h);

/* Push the frame just built in h_slot(); returns push's result. */
static inline int h_push(struct harness *h, enum colo_side side, size_t len,
			 uint64_t ts)
{
	struct colo_frame *f = &h->frames[h->nframes];
	int ret;

	assert_true(len > 0);
	f->data = h->buf[h->nframes];
	f->len = (uint32_t)len;
	f->ts_ns = ts;
	f->cookie = h->nframes++;
	colo_engine__tick(h->e, ts);
	ret = colo_engine__push(h->e, side, f);
	if (h->want_flush) {
		h->want_flush = 0;
		h_flush(h);
	}
	return ret;
}

static inline const char *h_log(const struct harness *h)
{
	return h->used ? h->log : "";
}

/* A checkpoint completed: mark it in the log and flush. */
static inline void h_flush(struct harness *h)
{
	h_logf(h, "|");
	colo_engine__flush(h->e);
}

/* End of a scripted case: the log must read exactly as expected. */
static inline void h_end_case(struct harness *h, const char *name,
			      const char *expect)
{
	if (strcmp(h_log(h), expect))
		fail_msg("case %s:\n  expected: %s\n  got:      %s", name,
			 expect, h_log(h));
	h_free(h);
}

#endif
