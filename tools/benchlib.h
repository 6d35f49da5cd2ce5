/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frame streams shared by the benchmarks (tools/bench.c drives our engine,
 * tools/qemu-colo-bench.c drives QEMU's colo-compare): both feed the very same
 * bytes, in the same order, so their figures can be compared.
 *
 * A stream is every frame of both sides, pre-built in one arena, in the order
 * live traffic would bring them: primary frame k, then the secondary frames
 * that cover the same output.
 */
#ifndef COLO_BENCHLIB_H
#define COLO_BENCHLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 60-byte frame, 64 bytes on the wire with the FCS: 14 + 20 + 8 + 18. */
#define BENCH_UDP_PAYLOAD	18
/* Payload of a full segment at MTU 1500 with TCP timestamps. */
#define BENCH_TCP_MSS		1448
/* Secondary's segment size in the TCP case unless told otherwise. */
#define BENCH_TCP_SEC_MSS	1000
#define BENCH_FRAME_ALIGN	64

enum bench_case {
	BENCH_UDP = 0,
	BENCH_TCP,
	BENCH_CASE_MAX,
};

struct bench_cfg {
	enum bench_case kind;
	uint64_t frames;	/* primary data frames: datagrams or segments */
	uint32_t flows;
	/*
	 * TCP: the secondary cuts the same byte stream into segments of this
	 * size (counted from the first payload byte, so its boundaries fall
	 * anywhere inside the primary's segments); BENCH_TCP_MSS means
	 * identical segmentation. 0 -> BENCH_TCP_SEC_MSS.
	 */
	uint32_t sec_mss;
	/*
	 * TCP: the secondary uses the primary's sequence numbers (as QEMU's
	 * filter-rewriter would have made them) instead of its own ISN.
	 */
	int same_seq;
};

struct bench_frame {
	const uint8_t *data;
	uint32_t len;
	uint16_t side;		/* 0 primary, 1 secondary */
	uint16_t payload;	/* L4 payload bytes in the frame */
};

struct bench_stream {
	struct bench_frame *f;	/* push order, both sides */
	size_t n;
	uint64_t count[2];	/* frames per side */
	uint64_t data[2];	/* frames carrying payload, per side */
	uint64_t payload[2];	/* payload bytes per side */
	uint32_t flows;		/* flows actually used */
	uint8_t *arena;
	size_t arena_size;
};

/* 0, or -errno (-EINVAL for a bad cfg, -ENOMEM). */
int bench_stream_build(struct bench_stream *s, const struct bench_cfg *c);
void bench_stream_free(struct bench_stream *s);

const char *bench_case_name(enum bench_case c);
/* 0 and *out set, or -EINVAL. */
int bench_case_parse(const char *name, enum bench_case *out);

struct json_t;
/* Print j (from json_pack; NULL when that failed) as one compact line on
 * stdout, then drop it; a NULL j is said on stderr, naming prog. */
void bench_print_json(const char *prog, struct json_t *j);

/* Median of v[0..n) (sorts v in place); 0 when n is 0. */
double bench_median(double *v, unsigned int n);
uint64_t bench_now_ns(void);
/* Parse a count such as 200000, 200k or 2M; 0 and *out set, or -EINVAL. */
int bench_parse_count(const char *arg, uint64_t *out);
/* The same for option --opt, in [1, max]; says what is wrong on stderr. */
int bench_opt_count(const char *prog, const char *opt, const char *arg,
		    uint64_t max, uint64_t *out);

/* 0, or -errno (-EPIPE when the peer is gone). */
int bench_write_all(int fd, const void *buf, size_t n);

/*
 * QEMU's colo-compare, run standalone as the reference (libbenchqemu.c):
 * colo-compare with primary_in, secondary_in, outdev and notify_dev on
 * loopback sockets, QMP on a unix socket in a private temporary folder.
 */
enum { BQ_PIN, BQ_SIN, BQ_OUT, BQ_NTF, BQ_MAX };

struct bench_qemu {
	pid_t pid;
	char dir[64];
	char qmp_path[96];
	char log_path[96];	/* QEMU's stderr */
	int qmp;
	char qbuf[65536];	/* QMP input not yet consumed */
	size_t qlen;
	int port[BQ_MAX];
	int fd[BQ_MAX];		/* connected: outdev first, then the others */
};

/* Start bin (qemu-system-x86_64) and connect to all four chardevs. 0 or
 * -errno, with what went wrong on stderr and nothing left behind. */
int bench_qemu_start(struct bench_qemu *q, const char *bin);
/* Kill QEMU (by its PID), wait for it, remove the folder. */
void bench_qemu_stop(struct bench_qemu *q);
/* Async-signal-safe part of bench_qemu_stop(), for signal handlers. */
void bench_qemu_kill(struct bench_qemu *q);
void bench_qemu_show_log(const struct bench_qemu *q);
/* 1 when QEMU has exited (and is reaped: pid becomes 0), else 0. */
int bench_qemu_exited(struct bench_qemu *q);
/* QEMU's CPU time so far (utime + stime, all threads) in seconds, or -1. */
double bench_qemu_cpu_s(const struct bench_qemu *q);

#endif
