// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qemu-colo-bench: feeds QEMU's colo-compare (no VM, -machine none) the same
 * frame streams tools/bench.c feeds our engine, over its chardev sockets, and
 * measures what it releases.
 *
 * QEMU runs from a private temporary folder with QMP on a unix socket there;
 * its four chardevs (primary_in, secondary_in, outdev, notify_dev) listen on
 * loopback ports it picks, read back with query-chardev. Frames go in and
 * come out as be32 length + frame. Writes are windowed (at most --window
 * primary frames unreleased) so colo-compare's 1024-per-queue limit never
 * drops a frame silently.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"

#define QCB_MAX_RUNS	15
#define QCB_STALL_NS	(5 * 1000000000ull)	/* > compare_timeout (3 s) */
#define QCB_BATCH	128			/* primary frames per write */
#define QCB_WBUF	(128 * 1024)
#define QCB_MAX_FRAME	(65536 + 4096)

struct opts {
	struct bench_cfg cfg;
	unsigned int runs;
	unsigned int window;
	int sec_mss_set;
	int json;
	const char *qemu_bin;
};

struct run_result {
	double wall_s;		/* first write -> last primary frame out */
	double cpu_s;		/* QEMU's utime + stime over that time */
	double self_cpu_s;	/* ours (writer and reader) */
	uint64_t released;
	uint64_t checkpoints;
	uint64_t other_ntf;
	uint64_t not_released;
	int died;
};

/* Shared by the writer (main thread) and the reader thread. */
struct link {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd_out, fd_ntf;
	uint64_t want;		/* primary frames expected on out */
	uint64_t released;
	uint64_t checkpoints;
	uint64_t other_ntf;
	uint64_t t_last;	/* when the last frame came out */
	uint64_t wake_at;	/* writer waits for this many released, or 0 */
	int eof;		/* QEMU closed a socket or the stream broke */
	int stop;
};

/* Length-prefixed stream parser. */
struct lp {
	uint8_t hdr[4];
	uint32_t hdr_have;
	uint32_t len, have;
	uint8_t keep[32];	/* start of the message, for notify_dev */
};

/* For the signal handler only: the QEMU to kill if we are interrupted. */
static struct bench_qemu *volatile active_qemu;

static void on_signal(int sig)
{
	struct bench_qemu *q = active_qemu;

	if (q)
		bench_qemu_kill(q);
	_exit(128 + sig);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- reading what colo-compare sends ---- */

/*
 * Feed n bytes; for each complete message call done(). -EPROTO when a length
 * is beyond what colo-compare could send.
 */
static int lp_feed(struct lp *r, const uint8_t *p, size_t n,
		   void (*done)(struct link *l, const struct lp *r),
		   struct link *l)
{
	while (n) {
		size_t take;

		if (r->hdr_have < 4) {
			r->hdr[r->hdr_have++] = *p++;
			n--;
			if (r->hdr_have < 4)
				continue;
			r->len = (uint32_t)r->hdr[0] << 24 | r->hdr[1] << 16 |
				 r->hdr[2] << 8 | r->hdr[3];
			r->have = 0;
			if (r->len > QCB_MAX_FRAME)
				return -EPROTO;
		}
		take = r->len - r->have < n ? r->len - r->have : n;
		if (r->have < sizeof(r->keep)) {
			size_t k = sizeof(r->keep) - r->have;

			memcpy(r->keep + r->have, p, take < k ? take : k);
		}
		r->have += take;
		p += take;
		n -= take;
		if (r->have == r->len) {
			done(l, r);
			r->hdr_have = 0;
		}
	}
	return 0;
}

/* Called with l->lock held. */
static void on_out(struct link *l, const struct lp *r)
{
	l->released++;
	l->t_last = bench_now_ns();
}

static void on_ntf(struct link *l, const struct lp *r)
{
	static const char cp[] = "DO_CHECKPOINT";

	if (r->len == sizeof(cp) - 1 && !memcmp(r->keep, cp, r->len))
		l->checkpoints++;
	else
		l->other_ntf++;
}

static void *reader_main(void *arg)
{
	struct link *l = arg;
	struct pollfd pfd[2] = {
		{ .fd = l->fd_out, .events = POLLIN },
		{ .fd = l->fd_ntf, .events = POLLIN },
	};
	struct lp rs[2] = { 0 };
	size_t cap = 256 * 1024;
	int one = 1;
	uint8_t *buf = malloc(cap);
	int stop = !buf, i;

	if (!buf) {
		pthread_mutex_lock(&l->lock);
		l->eof = 1;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->lock);
	}
	while (!stop) {
		if (poll(pfd, 2, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n;
			int err;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, cap);
			if (n < 0 && errno == EINTR)
				continue;
			/*
			 * ACK at once: QEMU's sockets keep Nagle on, and a
			 * delayed ACK here would hold its next write back.
			 */
			setsockopt(pfd[i].fd, IPPROTO_TCP, TCP_QUICKACK, &one,
				   sizeof(one));
			pthread_mutex_lock(&l->lock);
			err = n <= 0 ? -EPIPE :
			      lp_feed(&rs[i], buf, n, i ? on_ntf : on_out, l);
			if (err)
				l->eof = 1;
			if (l->eof || (l->wake_at && l->released >= l->wake_at))
				pthread_cond_broadcast(&l->cond);
			pthread_mutex_unlock(&l->lock);
		}
		pthread_mutex_lock(&l->lock);
		stop = l->stop || l->eof;
		pthread_mutex_unlock(&l->lock);
	}
	free(buf);
	return NULL;
}

/* ---- writing the stream ---- */

struct wbuf {
	int fd;
	size_t len;
	uint8_t buf[QCB_WBUF];
};

static int wbuf_flush(struct wbuf *w)
{
	int err = bench_write_all(w->fd, w->buf, w->len);

	w->len = 0;
	return err;
}

static int wbuf_add(struct wbuf *w, const struct bench_frame *fr)
{
	int err;

	if (w->len + 4 + fr->len > sizeof(w->buf)) {
		err = wbuf_flush(w);
		if (err)
			return err;
	}
	w->buf[w->len++] = fr->len >> 24;
	w->buf[w->len++] = fr->len >> 16;
	w->buf[w->len++] = fr->len >> 8;
	w->buf[w->len++] = fr->len;
	memcpy(w->buf + w->len, fr->data, fr->len);
	w->len += fr->len;
	return 0;
}

static int wbuf_flush_both(struct wbuf *w)
{
	int err = wbuf_flush(&w[0]);

	return err ? err : wbuf_flush(&w[1]);
}

/*
 * Wait (lock held) until target primary frames have come out, QEMU is gone,
 * or nothing came out for QCB_STALL_NS. 0, -EPIPE or -ETIMEDOUT.
 */
static int wait_released(struct link *l, uint64_t target)
{
	uint64_t seen = l->released, since = bench_now_ns();
	int err = 0;

	l->wake_at = target;
	while (l->released < target && !l->eof) {
		struct timespec ts;

		if (l->released != seen) {
			seen = l->released;
			since = bench_now_ns();
		} else if (bench_now_ns() - since > QCB_STALL_NS) {
			err = -ETIMEDOUT;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	l->wake_at = 0;
	if (!err && l->released < target)
		err = -EPIPE;
	return err;
}

static int write_stream(const struct bench_stream *s, struct wbuf *w,
			struct link *l, unsigned int window)
{
	uint64_t sent = 0, batch = 0;
	size_t i;
	int err = 0;

	for (i = 0; i < s->n && !err; i++) {
		const struct bench_frame *fr = &s->f[i];

		if (!fr->side) {
			pthread_mutex_lock(&l->lock);
			if (sent - l->released >= window) {
				pthread_mutex_unlock(&l->lock);
				err = wbuf_flush_both(w);
				batch = 0;
				pthread_mutex_lock(&l->lock);
				/* refill by half a window at a time */
				if (!err)
					err = wait_released(l, sent - window / 2);
			}
			pthread_mutex_unlock(&l->lock);
			if (!err && batch++ == QCB_BATCH) {
				err = wbuf_flush_both(w);
				batch = 1;
			}
			sent++;
		}
		if (!err)
			err = wbuf_add(&w[fr->side], fr);
	}
	if (!err)
		err = wbuf_flush_both(w);
	if (!err) {
		pthread_mutex_lock(&l->lock);
		err = wait_released(l, sent);
		pthread_mutex_unlock(&l->lock);
	}
	return err;
}

static void link_init(struct link *l, const struct bench_qemu *q)
{
	pthread_condattr_t ca;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	l->fd_out = q->fd[BQ_OUT];
	l->fd_ntf = q->fd[BQ_NTF];
}

/* Stop the reader and take its counts; t0 is when the first write began. */
static void link_finish(struct link *l, pthread_t reader, uint64_t t0,
			struct run_result *res)
{
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	res->released = l->released;
	res->checkpoints = l->checkpoints;
	res->other_ntf = l->other_ntf;
	res->wall_s = l->t_last > t0 ? (l->t_last - t0) / 1e9 : 0;
	res->died = l->eof;
	pthread_mutex_unlock(&l->lock);
	pthread_join(reader, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
}

/* One run against a fresh QEMU. 0 also when QEMU misbehaved: see res. */
static int run_once(const struct opts *o, const struct bench_stream *s,
		    struct run_result *res)
{
	static struct wbuf w[2];
	struct bench_qemu q;
	struct link l;
	pthread_t th;
	uint64_t t0;
	double cpu0, self0;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&q, 0, sizeof(q));
	active_qemu = &q;
	err = bench_qemu_start(&q, o->qemu_bin);
	if (err)
		goto out;
	link_init(&l, &q);
	w[0].fd = q.fd[BQ_PIN];
	w[1].fd = q.fd[BQ_SIN];
	w[0].len = w[1].len = 0;
	err = -pthread_create(&th, NULL, reader_main, &l);
	if (err) {
		pthread_cond_destroy(&l.cond);
		pthread_mutex_destroy(&l.lock);
		goto out;
	}

	cpu0 = bench_qemu_cpu_s(&q);
	self0 = self_cpu_s();
	t0 = bench_now_ns();
	err = write_stream(s, w, &l, o->window);
	res->cpu_s = cpu0 >= 0 ? bench_qemu_cpu_s(&q) - cpu0 : -1;
	res->self_cpu_s = self_cpu_s() - self0;
	link_finish(&l, th, t0, res);
	res->died |= bench_qemu_exited(&q);
	res->not_released = s->count[0] > res->released ?
			    s->count[0] - res->released : 0;
	if (res->died)
		bench_qemu_show_log(&q);
	if (err == -ETIMEDOUT || err == -EPIPE)
		err = 0;	/* reported through res */
out:
	bench_qemu_stop(&q);
	active_qemu = NULL;
	return err;
}

/* ---- runs, fallback, report ---- */

struct summary {
	struct bench_cfg cfg;
	const struct bench_stream *s;
	unsigned int runs;
	double wall_s, pairs_s, frames_s, bytes_s, cpu_s;
	uint64_t checkpoints, other_ntf, not_released;
	unsigned int died;
	int valid;		/* every run clean: all released, no request */
	const char *fallback;	/* why identical segmentation was used */
};

static int run_clean(const struct run_result *r)
{
	return !r->died && !r->checkpoints && !r->not_released &&
	       !r->other_ntf;
}

static void summarise(struct summary *sm, const struct run_result *r,
		      unsigned int n)
{
	double wall[QCB_MAX_RUNS], cpu[QCB_MAX_RUNS];
	const struct bench_stream *s = sm->s;
	unsigned int i;

	sm->runs = n;
	for (i = 0; i < n; i++) {
		wall[i] = r[i].wall_s;
		cpu[i] = r[i].cpu_s;
		sm->checkpoints += r[i].checkpoints;
		sm->other_ntf += r[i].other_ntf;
		if (r[i].not_released > sm->not_released)
			sm->not_released = r[i].not_released;
		sm->died += r[i].died;
	}
	sm->wall_s = bench_median(wall, n);
	sm->cpu_s = bench_median(cpu, n);
	if (sm->wall_s > 0) {
		sm->pairs_s = s->count[0] / sm->wall_s;
		sm->frames_s = (s->count[0] + s->count[1]) / sm->wall_s;
		sm->bytes_s = s->payload[0] / sm->wall_s;
	}
}

/*
 * Build the stream for cfg and run it up to o->runs times; stops after the
 * first run that was not clean (that one is still counted). 1 when every run
 * was clean, 0 when not, -errno on error.
 */
static int measure(const struct opts *o, const struct bench_cfg *cfg,
		   struct bench_stream *s, struct summary *sm)
{
	struct run_result r[QCB_MAX_RUNS];
	unsigned int n;
	int err, clean = 1;

	err = bench_stream_build(s, cfg);
	if (err) {
		fprintf(stderr, "qemu-colo-bench: cannot build frames: %s\n",
			strerror(-err));
		return err;
	}
	for (n = 0; n < o->runs && clean; n++) {
		err = run_once(o, s, &r[n]);
		if (err)
			return err;
		clean = run_clean(&r[n]);
		fprintf(stderr, "qemu-colo-bench: %s run %u: %.3f s, QEMU CPU %.2f s, ours %.2f s, %llu of %llu released, %llu checkpoint requests%s\n",
			bench_case_name(cfg->kind), n + 1, r[n].wall_s,
			r[n].cpu_s, r[n].self_cpu_s,
			(unsigned long long)r[n].released,
			(unsigned long long)s->count[0],
			(unsigned long long)r[n].checkpoints,
			r[n].died ? ", QEMU died" : "");
	}
	memset(sm, 0, sizeof(*sm));
	sm->cfg = *cfg;
	sm->s = s;
	summarise(sm, r, n);
	sm->valid = clean;
	return clean;
}

static const char *unclean_reason(const struct summary *sm)
{
	if (sm->died)
		return "QEMU died";
	if (sm->checkpoints)
		return "QEMU requested checkpoints (miscompare)";
	return "QEMU did not release every primary frame";
}

static void print_text(const struct summary *sm)
{
	const struct bench_stream *s = sm->s;
	uint64_t frames = s->count[0] + s->count[1];

	printf("qemu colo-compare, case %s: %u flows, %llu primary + %llu secondary frames, median of %u run%s\n",
	       bench_case_name(sm->cfg.kind), s->flows,
	       (unsigned long long)s->count[0], (unsigned long long)s->count[1],
	       sm->runs, sm->runs == 1 ? "" : "s");
	if (sm->cfg.kind == BENCH_TCP)
		printf("  segmentation: primary %u, secondary %u bytes%s; secondary sequence numbers pre-shifted onto the primary's (as filter-rewriter does)\n",
		       BENCH_TCP_MSS, sm->cfg.sec_mss,
		       sm->cfg.sec_mss == BENCH_TCP_MSS ? " (identical)" : "");
	if (sm->fallback)
		printf("  FALLBACK to identical segmentation: with a different split %s\n",
		       sm->fallback);
	if (!sm->valid)
		printf("  NOT VALID: %s; the rates below assume every frame came out\n",
		       unclean_reason(sm));
	printf("  %.0f pairs/s, %.0f frames/s, %.3f GB/s payload, %.0f ns per frame (wall, %.3f s)\n",
	       sm->pairs_s, sm->frames_s, sm->bytes_s / 1e9,
	       sm->frames_s > 0 ? 1e9 / sm->frames_s : 0, sm->wall_s);
	if (sm->cpu_s >= 0)
		printf("  QEMU CPU %.3f s: %.2f us per frame, %.2f us per pair\n",
		       sm->cpu_s, sm->cpu_s * 1e6 / frames,
		       sm->cpu_s * 1e6 / s->count[0]);
	printf("  checkpoint requests %llu, primary frames not released %llu%s\n",
	       (unsigned long long)sm->checkpoints,
	       (unsigned long long)sm->not_released,
	       sm->died ? ", QEMU DIED" : "");
}

static void print_json(const struct summary *sm)
{
	const struct bench_stream *s = sm->s;
	uint64_t frames = s->count[0] + s->count[1];
	json_t *j;

	j = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:i, s:i, s:i, s:b, s:o, s:b,"
		      " s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:i}",
		      "engine", "qemu-colo-compare",
		      "case", bench_case_name(sm->cfg.kind),
		      "flows", (int)s->flows,
		      "primary_frames", (json_int_t)s->count[0],
		      "secondary_frames", (json_int_t)s->count[1],
		      "payload_bytes", (json_int_t)s->payload[0],
		      "runs", (int)sm->runs,
		      "primary_mss", sm->cfg.kind == BENCH_TCP ? BENCH_TCP_MSS : 0,
		      "secondary_mss", sm->cfg.kind == BENCH_TCP ? (int)sm->cfg.sec_mss : 0,
		      "same_seq", sm->cfg.kind == BENCH_TCP,
		      "fallback", sm->fallback ? json_string(sm->fallback) : json_null(),
		      "valid", sm->valid,
		      "wall_s", sm->wall_s,
		      "pairs_per_s", sm->pairs_s,
		      "frames_per_s", sm->frames_s,
		      "payload_bytes_per_s", sm->bytes_s,
		      "ns_per_frame", sm->frames_s > 0 ? 1e9 / sm->frames_s : 0,
		      "qemu_cpu_s", sm->cpu_s,
		      "qemu_cpu_us_per_frame", sm->cpu_s * 1e6 / frames,
		      "qemu_cpu_us_per_pair", sm->cpu_s * 1e6 / s->count[0],
		      "checkpoints", (json_int_t)sm->checkpoints,
		      "not_released", (json_int_t)sm->not_released,
		      "qemu_died", (int)sm->died);
	bench_print_json("qemu-colo-bench", j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qemu-colo-bench [--frames N] [--flows F] [--case udp|tcp] [--runs R]\n"
		"                       [--window W] [--sec-mss M] [--qemu PATH] [--json]\n"
		"  --frames N   primary frames: UDP datagrams or TCP segments (200k)\n"
		"  --flows F    flows, round robin (1000)\n"
		"  --runs R     runs, each with a fresh QEMU; the median is printed (3)\n"
		"  --window W   most primary frames written and not yet released\n"
		"               (1000, at most --flows: see below)\n"
		"  --sec-mss M  TCP: secondary segment size; without it %d is tried and,\n"
		"               if QEMU misbehaves, identical segmentation (%d) is used\n"
		"  --qemu PATH  QEMU binary (qemu-system-x86_64)\n"
		"colo-compare drops frames silently past 1024 per queue, and matches UDP\n"
		"newest first, so the window keeps at most one frame per flow unreleased.\n",
		BENCH_TCP_SEC_MSS, BENCH_TCP_MSS);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "flows", required_argument, NULL, 'f' },
		{ "case", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "sec-mss", required_argument, NULL, 'm' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *me = "qemu-colo-bench";
	uint64_t v;
	int c, i, err = 0;

	while (!err && (c = getopt_long(argc, argv, "h", lo, &i)) != -1) {
		const char *name = c == '?' ? "" : lo[i].name;

		switch (c) {
		case 'n':
			err = bench_opt_count(me, name, optarg, 100000000, &v);
			o->cfg.frames = v;
			break;
		case 'f':
			err = bench_opt_count(me, name, optarg, 65536, &v);
			o->cfg.flows = v;
			break;
		case 'r':
			err = bench_opt_count(me, name, optarg, QCB_MAX_RUNS, &v);
			o->runs = v;
			break;
		case 'w':
			err = bench_opt_count(me, name, optarg, 1000, &v);
			o->window = v;
			break;
		case 'm':
			err = bench_opt_count(me, name, optarg, BENCH_TCP_MSS, &v);
			o->cfg.sec_mss = v;
			o->sec_mss_set = 1;
			break;
		case 'c':
			err = bench_case_parse(optarg, &o->cfg.kind);
			if (err)
				fprintf(stderr, "%s: --case is udp or tcp, not '%s'\n",
					me, optarg);
			break;
		case 'q':
			o->qemu_bin = optarg;
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
		fprintf(stderr, "%s: unexpected argument '%s'\n", me, argv[optind]);
		err = -EINVAL;
	}
	if (err)
		usage(stderr);
	return err;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.cfg = { .kind = BENCH_UDP, .frames = 200000, .flows = 1000,
			 .same_seq = 1 },
		.runs = 3,
		.window = 1000,
		.qemu_bin = "qemu-system-x86_64",
	};
	struct bench_stream s;
	struct summary sm;
	const char *why;
	int ret;

	if (parse_opts(argc, argv, &o))
		return 2;
	if (o.cfg.kind == BENCH_TCP && !o.sec_mss_set)
		o.cfg.sec_mss = BENCH_TCP_SEC_MSS;
	if (o.window > o.cfg.flows)
		o.window = o.cfg.flows;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);

	ret = measure(&o, &o.cfg, &s, &sm);
	if (ret == 0 && o.cfg.kind == BENCH_TCP && !o.sec_mss_set &&
	    o.cfg.sec_mss != BENCH_TCP_MSS) {
		why = unclean_reason(&sm);
		fprintf(stderr, "qemu-colo-bench: with secondary segments of %u bytes %s; falling back to identical segmentation\n",
			sm.cfg.sec_mss, why);
		bench_stream_free(&s);
		o.cfg.sec_mss = BENCH_TCP_MSS;
		ret = measure(&o, &o.cfg, &s, &sm);
		sm.fallback = why;
	}
	if (ret < 0)
		return 1;
	if (o.json)
		print_json(&sm);
	else
		print_text(&sm);
	bench_stream_free(&s);
	return ret ? 0 : 1;
}
