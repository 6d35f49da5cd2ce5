// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Frame streams for the benchmarks, see benchlib.h.
 *
 * Flows: the VM (10.0.0.2) talks to one client per flow (198.18.x.y). The
 * secondary's frames differ from the primary's only where two real VMs differ:
 * IP ID, TTL and so the checksums; for TCP also the ISN (unless same_seq),
 * the timestamp values and the segmentation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "benchlib.h"
#include "pktbuild.h"

#define PATTERN_LEN	65536u
#define UDP_FRAME	(14 + 20 + 8 + BENCH_UDP_PAYLOAD)
#define TCP_HDRS	(14 + 20 + 20 + 12)	/* timestamps option */
#define SYN_FRAME	(14 + 20 + 20 + 16)	/* MSS + timestamps */
#define MAX_FLOWS	65536u

struct bench_flow {
	struct pkt_spec spec;
	char dst[24];
	uint32_t isn[2];	/* of the SYN-ACK; data starts at isn + 1 */
	uint32_t ack;
	uint32_t ip_id;
	uint32_t segs;		/* primary segments of this flow */
	uint64_t total;		/* payload bytes of this flow */
	uint64_t pos[2];	/* payload bytes emitted, per side */
	uint64_t dgrams;	/* UDP datagrams emitted */
};

struct bench_builder {
	struct bench_stream *s;
	const struct bench_cfg *c;
	struct bench_flow *flows;
	uint8_t *pattern;	/* PATTERN_LEN bytes + BENCH_TCP_MSS wrapped */
	uint8_t *cur, *end;
};

static size_t align_up(size_t n)
{
	return (n + BENCH_FRAME_ALIGN - 1) & ~(size_t)(BENCH_FRAME_ALIGN - 1);
}

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static uint8_t *pattern_new(void)
{
	uint8_t *p = malloc(PATTERN_LEN + BENCH_TCP_MSS);
	uint32_t i;

	if (!p)
		return NULL;
	for (i = 0; i < PATTERN_LEN; i++)
		p[i] = (uint8_t)mix32(i + 1);
	memcpy(p + PATTERN_LEN, p, BENCH_TCP_MSS);
	return p;
}

static const uint8_t *pattern_at(const struct bench_builder *b, uint32_t flow,
				 uint64_t off)
{
	return b->pattern + (flow * 7919u + off) % PATTERN_LEN;
}

static void flows_init(struct bench_builder *b, uint32_t nflows)
{
	const struct bench_cfg *c = b->c;
	uint32_t f;

	for (f = 0; f < nflows; f++) {
		struct bench_flow *fl = &b->flows[f];

		snprintf(fl->dst, sizeof(fl->dst), "198.18.%u.%u",
			 (f >> 8) & 0xff, f & 0xff);
		fl->spec.family = 4;
		fl->spec.src = "10.0.0.2";
		fl->spec.dst = fl->dst;
		fl->spec.sport = c->kind == BENCH_TCP ? 80 : 4000;
		fl->spec.dport = 10000 + f % 50000;
		fl->isn[0] = mix32(f * 2 + 101);
		fl->isn[1] = c->same_seq ? fl->isn[0] : mix32(f * 2 + 102);
		fl->ack = mix32(f + 77777);
		fl->ip_id = mix32(f) & 0xffff;
		fl->segs = c->frames / nflows + (f < c->frames % nflows);
		fl->total = (uint64_t)fl->segs * BENCH_TCP_MSS;
	}
}

static int emit(struct bench_builder *b, int side, size_t len, size_t payload)
{
	struct bench_stream *s = b->s;
	struct bench_frame *fr = &s->f[s->n++];

	if (!len)
		return -EINVAL;
	fr->data = b->cur;
	fr->len = len;
	fr->side = side;
	fr->payload = payload;
	s->count[side]++;
	if (payload) {
		s->data[side]++;
		s->payload[side] += payload;
	}
	b->cur += align_up(len);
	return 0;
}

/* One side's copy of the flow's spec: IP ID and TTL differ per side. */
static struct pkt_spec side_spec(struct bench_flow *fl, int side)
{
	struct pkt_spec sp = fl->spec;

	sp.ttl = side ? 63 : 64;
	sp.ip_id = (fl->ip_id + (side ? 0x4321 : 0)) & 0xffff;
	return sp;
}

static int emit_udp(struct bench_builder *b, uint32_t f, int side)
{
	struct bench_flow *fl = &b->flows[f];
	struct pkt_spec sp = side_spec(fl, side);
	uint8_t pl[BENCH_UDP_PAYLOAD];
	uint64_t seq = fl->dgrams;
	size_t len;
	int i;

	for (i = 0; i < 4; i++)
		pl[i] = f >> (24 - 8 * i);
	for (i = 0; i < 8; i++)
		pl[4 + i] = seq >> (56 - 8 * i);
	memcpy(pl + 12, pattern_at(b, f, seq), BENCH_UDP_PAYLOAD - 12);
	len = pkt_udp(b->cur, b->end - b->cur, &sp, pl, sizeof(pl));
	return emit(b, side, len, sizeof(pl));
}

static int build_udp(struct bench_builder *b, uint32_t nflows)
{
	uint64_t k;
	int err;

	for (k = 0; k < b->c->frames; k++) {
		uint32_t f = k % nflows;

		err = emit_udp(b, f, 0);
		if (!err)
			err = emit_udp(b, f, 1);
		if (err)
			return err;
		b->flows[f].ip_id++;
		b->flows[f].dgrams++;
	}
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int emit_syn(struct bench_builder *b, uint32_t f, int side)
{
	struct bench_flow *fl = &b->flows[f];
	struct pkt_spec sp = side_spec(fl, side);
	uint8_t opt[16] = { 2, 4, BENCH_TCP_MSS >> 8, BENCH_TCP_MSS & 0xff,
			    1, 1, 8, 10 };
	size_t len;

	put_be32(opt + 8, side ? 900000 : 100);
	put_be32(opt + 12, 1);
	len = pkt_tcp(b->cur, b->end - b->cur, &sp, fl->isn[side], fl->ack,
		      0x12 /* SYN|ACK */, 65535, opt, sizeof(opt), NULL, 0);
	return emit(b, side, len, 0);
}

/* The next segment of up to mss bytes on one side of flow f. */
static int emit_seg(struct bench_builder *b, uint32_t f, int side,
		    uint32_t mss)
{
	struct bench_flow *fl = &b->flows[f];
	struct pkt_spec sp = side_spec(fl, side);
	uint64_t off = fl->pos[side];
	uint32_t n = fl->total - off < mss ? fl->total - off : mss;
	uint32_t seq = fl->isn[side] + 1 + (uint32_t)off;
	uint8_t opt[12] = { 1, 1, 8, 10 };
	size_t len;

	put_be32(opt + 4, (side ? 900000 : 100) + (uint32_t)(off >> 16));
	put_be32(opt + 8, 1);
	len = pkt_tcp(b->cur, b->end - b->cur, &sp, seq, fl->ack,
		      0x18 /* PSH|ACK */, 65535, opt, sizeof(opt),
		      pattern_at(b, f, off), n);
	fl->pos[side] += n;
	fl->ip_id++;
	return emit(b, side, len, n);
}

/*
 * Round robin over the flows, one primary segment at a time; after each, the
 * secondary segments that reach the primary's position, so the secondary's
 * differently cut stream arrives alongside.
 */
static int build_tcp(struct bench_builder *b, uint32_t nflows)
{
	uint32_t sec_mss = b->c->sec_mss;
	uint64_t k;
	int err;

	for (k = 0; k < b->c->frames; k++) {
		uint32_t f = k % nflows;
		struct bench_flow *fl = &b->flows[f];

		if (k < nflows) {
			err = emit_syn(b, f, 0);
			if (!err)
				err = emit_syn(b, f, 1);
			if (err)
				return err;
		}
		err = emit_seg(b, f, 0, BENCH_TCP_MSS);
		while (!err && fl->pos[1] < fl->pos[0])
			err = emit_seg(b, f, 1, sec_mss);
		if (err)
			return err;
	}
	return 0;
}

/* Frames and arena bytes the stream needs. */
static void stream_size(const struct bench_builder *b, uint32_t nflows,
			size_t *frames, size_t *bytes)
{
	const struct bench_cfg *c = b->c;
	uint32_t f;

	if (c->kind == BENCH_UDP) {
		*frames = 2 * c->frames;
		*bytes = *frames * align_up(UDP_FRAME);
		return;
	}
	*frames = 0;
	*bytes = 0;
	for (f = 0; f < nflows; f++) {
		const struct bench_flow *fl = &b->flows[f];
		uint64_t ssegs = (fl->total + c->sec_mss - 1) / c->sec_mss;

		*frames += 2 + fl->segs + ssegs;
		*bytes += 2 * align_up(SYN_FRAME) +
			  fl->segs * align_up(TCP_HDRS + BENCH_TCP_MSS) +
			  ssegs * align_up(TCP_HDRS + c->sec_mss);
	}
}

static int cfg_check(const struct bench_cfg *c)
{
	if (c->kind >= BENCH_CASE_MAX || !c->frames || !c->flows ||
	    c->flows > MAX_FLOWS)
		return -EINVAL;
	if (c->kind == BENCH_TCP &&
	    (c->sec_mss < 64 || c->sec_mss > BENCH_TCP_MSS))
		return -EINVAL;
	return 0;
}

int bench_stream_build(struct bench_stream *s, const struct bench_cfg *cfg)
{
	struct bench_cfg c = *cfg;
	struct bench_builder b = { .s = s, .c = &c };
	uint32_t nflows;
	size_t frames, bytes;
	int err;

	memset(s, 0, sizeof(*s));
	if (c.kind == BENCH_TCP && !c.sec_mss)
		c.sec_mss = BENCH_TCP_SEC_MSS;
	err = cfg_check(&c);
	if (err)
		return err;
	nflows = c.frames < c.flows ? c.frames : c.flows;
	s->flows = nflows;

	err = -ENOMEM;
	b.flows = calloc(nflows, sizeof(*b.flows));
	b.pattern = pattern_new();
	if (!b.flows || !b.pattern)
		goto out;
	flows_init(&b, nflows);
	stream_size(&b, nflows, &frames, &bytes);
	s->f = calloc(frames, sizeof(*s->f));
	s->arena = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
	if (!s->f || !s->arena)
		goto out;
	s->arena_size = bytes;
	b.cur = s->arena;
	b.end = s->arena + bytes;

	err = c.kind == BENCH_UDP ? build_udp(&b, nflows) : build_tcp(&b, nflows);
out:
	free(b.pattern);
	free(b.flows);
	if (err)
		bench_stream_free(s);
	return err;
}

void bench_stream_free(struct bench_stream *s)
{
	free(s->f);
	free(s->arena);
	memset(s, 0, sizeof(*s));
}

static const char *const case_names[BENCH_CASE_MAX] = {
	[BENCH_UDP] = "udp",
	[BENCH_TCP] = "tcp",
};

const char *bench_case_name(enum bench_case c)
{
	return c < BENCH_CASE_MAX ? case_names[c] : "?";
}

int bench_case_parse(const char *name, enum bench_case *out)
{
	int i;

	for (i = 0; i < BENCH_CASE_MAX; i++) {
		if (!strcmp(name, case_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int bench_parse_count(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *arg == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1000;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1000000;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_opt_count(const char *prog, const char *opt, const char *arg,
		    uint64_t max, uint64_t *out)
{
	if (bench_parse_count(arg, out) || !*out || *out > max) {
		fprintf(stderr, "%s: --%s takes a count from 1 to %llu (k and M suffixes allowed), not '%s'\n",
			prog, opt, (unsigned long long)max, arg);
		return -EINVAL;
	}
	return 0;
}

void bench_print_json(const char *prog, json_t *j)
{
	if (!j) {
		fprintf(stderr, "%s: cannot format JSON\n", prog);
		return;
	}
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(j);
}
