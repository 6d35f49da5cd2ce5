// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench: how fast the engine compares, on one core, with no I/O.
 *
 * Every frame of both sides is built in memory first (benchlib.h); only the
 * loop of colo_engine__push() calls is timed, with callbacks that just count.
 * A run counts only if every primary frame was released by a match and every
 * secondary frame dropped by one, with no checkpoint: a benchmark of a broken
 * run would be worthless.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchlib.h"
#include "engine.h"

#define BENCH_MAX_RUNS	21
#define TICK_EVERY	1024	/* frames between colo_engine__tick() calls */
#define FRAME_GAP_NS	10	/* frame timestamps: far below any timeout */

struct opts {
	uint64_t frames;	/* 0: per-case default */
	uint32_t flows;
	unsigned int runs;
	unsigned int prefetch;	/* prefetch the frame this far ahead, 0: none */
	unsigned int hot;	/* frames per untimed cache warm-up window, 0: none */
	int cases;		/* bit per enum bench_case */
	int json;
};

/* The stream as the engine takes it, built before the clock starts. */
struct input {
	struct bench_stream s;
	struct colo_frame *f;
	uint8_t *side;
};

struct counters {
	uint64_t released, dropped, checkpoints;
	enum colo_reason first_reason;
};

struct result {
	enum bench_case kind;
	const struct input *in;
	unsigned int runs, bad_runs;
	double wall_s;		/* median */
	double frames_s, pairs_s, bytes_s;
	uint64_t compared_bytes;	/* the engine's count, last run */
	unsigned int prefetch;
	unsigned int hot;
};

static void on_release(void *ctx, const struct colo_frame *f)
{
	((struct counters *)ctx)->released++;
}

static void on_drop(void *ctx, const struct colo_frame *f)
{
	((struct counters *)ctx)->dropped++;
}

static void on_checkpoint(void *ctx, const struct colo_divergence *d)
{
	struct counters *c = ctx;

	if (!c->checkpoints++)
		c->first_reason = d->reason;
}

static const struct colo_engine_ops ops = {
	.release = on_release,
	.drop = on_drop,
	.checkpoint = on_checkpoint,
};

static int input_build(struct input *in, enum bench_case kind,
		       uint64_t frames, uint32_t flows)
{
	struct bench_cfg cfg = { .kind = kind, .frames = frames, .flows = flows };
	size_t i;
	int err;

	memset(in, 0, sizeof(*in));
	err = bench_stream_build(&in->s, &cfg);
	if (err)
		return err;
	in->f = calloc(in->s.n, sizeof(*in->f));
	in->side = malloc(in->s.n);
	if (!in->f || !in->side)
		return -ENOMEM;
	for (i = 0; i < in->s.n; i++) {
		in->f[i].data = in->s.f[i].data;
		in->f[i].len = in->s.f[i].len;
		in->f[i].ts_ns = (uint64_t)i * FRAME_GAP_NS;
		in->f[i].cookie = i;
		in->side[i] = in->s.f[i].side;
	}
	return 0;
}

static void input_free(struct input *in)
{
	bench_stream_free(&in->s);
	free(in->f);
	free(in->side);
}

/*
 * What a caller holding a batch of received frames can do: ask for every
 * cache line of a frame a few pushes before the engine reads it.
 */
static void prefetch_frame(const struct colo_frame *f)
{
	uint32_t off;

	for (off = 0; off < f->len; off += 64)
		__builtin_prefetch(f->data + off);
}

/* Push frames [from, to). */
static int push_range(struct colo_engine *e, const struct input *in,
		      size_t from, size_t to, unsigned int ahead)
{
	size_t i, n = in->s.n;
	int err = 0;

	for (i = from; i < to; i++) {
		if (ahead && i + ahead < n)
			prefetch_frame(&in->f[i + ahead]);
		err |= colo_engine__push(e, in->side[i], &in->f[i]);
		if (i % TICK_EVERY == TICK_EVERY - 1)
			colo_engine__tick(e, in->f[i].ts_ns);
	}
	return err;
}

/* Read every cache line of frames [from, to): they arrive as the kernel's
 * AF_XDP copy leaves them, in cache. Not timed. */
static uint8_t warm(const struct input *in, size_t from, size_t to)
{
	uint8_t acc = 0;
	size_t i;

	for (i = from; i < to; i++) {
		uint32_t off;

		for (off = 0; off < in->f[i].len; off += 64)
			acc ^= in->f[i].data[off];
	}
	return acc;
}

/*
 * The timed part; returns the time in ns through *ns. With hot windows only
 * the pushes are timed, the warm-up before each window is not.
 */
static int push_all(struct colo_engine *e, const struct input *in,
		    unsigned int ahead, unsigned int hot, uint64_t *ns)
{
	size_t from, n = in->s.n;
	uint64_t t0;
	int err = 0;

	if (!hot) {
		t0 = bench_now_ns();
		err = push_range(e, in, 0, n, ahead);
		*ns = bench_now_ns() - t0;
		return err;
	}
	*ns = 0;
	for (from = 0; from < n; from += hot) {
		size_t to = from + hot < n ? from + hot : n;
		uint8_t acc = warm(in, from, to);

		__asm__ volatile("" : : "r"(acc));	/* keep the reads */
		t0 = bench_now_ns();
		err |= push_range(e, in, from, to, ahead);
		*ns += bench_now_ns() - t0;
	}
	return err;
}

/* Says on stderr what was wrong with the run; 0 when nothing. */
static int run_check(enum bench_case kind, const struct input *in,
		     const struct colo_engine_stats *st,
		     const struct counters *c, int push_err)
{
	if (!push_err && !c->checkpoints && st->released == in->s.count[0] &&
	    st->dropped == in->s.count[1] && c->released == st->released &&
	    c->dropped == st->dropped)
		return 0;
	fprintf(stderr, "bench: ERROR: %s run is broken: %llu of %llu primary frames released and %llu of %llu secondary dropped by a match, %llu checkpoint demands (first: %s)%s\n",
		bench_case_name(kind), (unsigned long long)st->released,
		(unsigned long long)in->s.count[0],
		(unsigned long long)st->dropped,
		(unsigned long long)in->s.count[1],
		(unsigned long long)c->checkpoints,
		c->checkpoints ? colo_reason_name(c->first_reason) : "none",
		push_err ? ", a push failed" : "");
	return -EPROTO;
}

/* One run: a fresh engine, the timed push loop, the check. */
static int run_once(enum bench_case kind, const struct input *in,
		    const struct opts *o, double *wall_s, uint64_t *compared)
{
	struct colo_engine_cfg cfg;
	struct counters c = { 0 };
	struct colo_engine *e;
	uint64_t ns;
	int push_err, err;

	colo_engine_cfg_default(&cfg);
	e = colo_engine__new(&cfg, &ops, &c);
	if (!e) {
		fprintf(stderr, "bench: cannot create the engine: %s\n",
			strerror(errno));
		return -errno;
	}
	push_err = push_all(e, in, o->prefetch, o->hot, &ns);
	*wall_s = ns / 1e9;
	*compared = colo_engine__stats(e)->compared_bytes;
	err = run_check(kind, in, colo_engine__stats(e), &c, push_err);
	colo_engine__free(e);
	return err;
}

static void measure(enum bench_case kind, const struct input *in,
		    const struct opts *o, struct result *r)
{
	double wall[BENCH_MAX_RUNS];
	unsigned int i, good = 0;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->in = in;
	r->prefetch = o->prefetch;
	r->hot = o->hot;
	for (i = 0; i < o->runs; i++) {
		if (run_once(kind, in, o, &wall[good],
			     &r->compared_bytes))
			r->bad_runs++;
		else
			good++;
	}
	r->runs = good;
	r->wall_s = bench_median(wall, good);
	if (r->wall_s > 0) {
		r->frames_s = (in->s.count[0] + in->s.count[1]) / r->wall_s;
		r->pairs_s = in->s.count[0] / r->wall_s;
		r->bytes_s = in->s.payload[0] / r->wall_s;
	}
}

static void print_text(const struct result *r)
{
	const struct bench_stream *s = &r->in->s;

	printf("colo engine, case %s: %u flows, %llu primary + %llu secondary frames, %llu payload bytes, median of %u valid run%s on one CPU\n",
	       bench_case_name(r->kind), s->flows,
	       (unsigned long long)s->count[0], (unsigned long long)s->count[1],
	       (unsigned long long)s->payload[0], r->runs,
	       r->runs == 1 ? "" : "s");
	if (r->kind == BENCH_TCP)
		printf("  segmentation: primary %u, secondary %u bytes; different ISNs\n",
		       BENCH_TCP_MSS, BENCH_TCP_SEC_MSS);
	if (r->prefetch)
		printf("  the loop prefetches frame i+%u before pushing frame i\n",
		       r->prefetch);
	if (r->hot)
		printf("  frames arrive in cache: each window of %u frames is read (untimed) before it is pushed\n",
		       r->hot);
	if (r->bad_runs) {
		printf("  ERROR: %u run%s did not release every frame by a match (see stderr): no figures\n",
		       r->bad_runs, r->bad_runs == 1 ? "" : "s");
		return;
	}
	printf("  %.2f Mframes/s, %.2f Mpairs/s, %.3f GB/s payload compared, %.1f ns per frame (%.3f s)\n",
	       r->frames_s / 1e6, r->pairs_s / 1e6, r->bytes_s / 1e9,
	       r->frames_s > 0 ? 1e9 / r->frames_s : 0, r->wall_s);
}

static void print_json(const struct result *r)
{
	const struct bench_stream *s = &r->in->s;
	json_t *j;

	j = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:i,"
		      " s:i, s:b, s:f, s:f, s:f, s:f, s:f}",
		      "engine", "colo-core",
		      "case", bench_case_name(r->kind),
		      "flows", (int)s->flows,
		      "primary_frames", (json_int_t)s->count[0],
		      "secondary_frames", (json_int_t)s->count[1],
		      "payload_bytes", (json_int_t)s->payload[0],
		      "compared_bytes", (json_int_t)r->compared_bytes,
		      "runs", (int)r->runs,
		      "primary_mss", r->kind == BENCH_TCP ? BENCH_TCP_MSS : 0,
		      "secondary_mss", r->kind == BENCH_TCP ? BENCH_TCP_SEC_MSS : 0,
		      "prefetch", (int)r->prefetch,
		      "hot_window", (int)r->hot,
		      "valid", !r->bad_runs && r->runs,
		      "wall_s", r->wall_s,
		      "pairs_per_s", r->pairs_s,
		      "frames_per_s", r->frames_s,
		      "payload_bytes_per_s", r->bytes_s,
		      "ns_per_frame", r->frames_s > 0 ? 1e9 / r->frames_s : 0.0);
	bench_print_json("bench", j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [--frames N] [--flows F] [--case udp|tcp|all] [--runs R]\n"
		"             [--prefetch D] [--hot W] [--json]\n"
		"  --frames N    primary frames per case: UDP datagrams (1M) or TCP\n"
		"                segments (300k)\n"
		"  --flows F     flows, round robin (1000)\n"
		"  --case C      udp: 64-byte frame pairs; tcp: 1448-byte segments, the\n"
		"                secondary cut into %u-byte segments with its own ISN (all)\n"
		"  --runs R      runs per case; the median is printed (5)\n"
		"  --prefetch D  before pushing frame i, prefetch frame i+D, as a caller\n"
		"                holding a batch of received frames could (off)\n"
		"  --hot W       before each window of W frames, read them untimed, so\n"
		"                they are in cache as frames just copied in by the\n"
		"                kernel (AF_XDP copy mode) are; only pushes are timed (off)\n"
		"Pinned to CPU 0; only the colo_engine__push() loop is timed.\n",
		BENCH_TCP_SEC_MSS);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "flows", required_argument, NULL, 'f' },
		{ "case", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "hot", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum bench_case kind;
	uint64_t v;
	int c, i, err = 0;

	while (!err && (c = getopt_long(argc, argv, "h", lo, &i)) != -1) {
		switch (c) {
		case 'n':
			err = bench_opt_count("bench", lo[i].name, optarg,
					      100000000, &o->frames);
			break;
		case 'f':
			err = bench_opt_count("bench", lo[i].name, optarg,
					      65536, &v);
			o->flows = v;
			break;
		case 'r':
			err = bench_opt_count("bench", lo[i].name, optarg,
					      BENCH_MAX_RUNS, &v);
			o->runs = v;
			break;
		case 'p':
			err = bench_opt_count("bench", lo[i].name, optarg, 64,
					      &v);
			o->prefetch = v;
			break;
		case 'H':
			err = bench_opt_count("bench", lo[i].name, optarg, 65536,
					      &v);
			o->hot = v;
			break;
		case 'c':
			if (!strcmp(optarg, "all")) {
				o->cases = (1 << BENCH_CASE_MAX) - 1;
			} else if (!bench_case_parse(optarg, &kind)) {
				o->cases = 1 << kind;
			} else {
				fprintf(stderr, "bench: --case is udp, tcp or all, not '%s'\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			err = -EINVAL;
		}
	}
	if (!err && optind < argc) {
		fprintf(stderr, "bench: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (err)
		usage(stderr);
	return err;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "bench: cannot pin to CPU 0 (%s); measuring unpinned\n",
			strerror(errno));
}

static const uint64_t default_frames[BENCH_CASE_MAX] = {
	[BENCH_UDP] = 1000000,
	[BENCH_TCP] = 300000,
};

/* Build, measure and print one case; 0, or 1 when a run was broken. */
static int bench_case(const struct opts *o, enum bench_case kind)
{
	struct input in;
	struct result r;
	int err;

	err = input_build(&in, kind, o->frames ? o->frames : default_frames[kind],
			  o->flows);
	if (err) {
		fprintf(stderr, "bench: cannot build the %s frames: %s\n",
			bench_case_name(kind), strerror(-err));
		input_free(&in);
		return 1;
	}
	measure(kind, &in, o, &r);
	if (o->json)
		print_json(&r);
	else
		print_text(&r);
	fflush(stdout);
	input_free(&in);
	return r.bad_runs || !r.runs;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.flows = 1000,
		.runs = 5,
		.cases = (1 << BENCH_CASE_MAX) - 1,
	};
	int kind, ret = 0;

	if (parse_opts(argc, argv, &o))
		return 2;
	pin_cpu0();
	for (kind = 0; kind < BENCH_CASE_MAX; kind++)
		if (o.cases & (1 << kind))
			ret |= bench_case(&o, kind);
	return ret;
}
