/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixture machinery for tests/bpf/test_xdp.c: a fixture describes one run of
 * one XDP program of bpf/colo.bpf.c under BPF_PROG_TEST_RUN (frames as
 * descriptions that pktbuild turns into bytes, the configuration, the
 * connection entry before and after, the counters); fx_run() sets the maps
 * up, runs the program and checks everything, failing with a message that
 * names what differed.
 */
#ifndef COLO_TEST_XDP_FIXTURE_H
#define COLO_TEST_XDP_FIXTURE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "colo_shared.h"
#include "colo.skel.h"
#include "pktbuild.h"

#define FX_CAP		2048

/* A 32-bit value as four big-endian bytes, for option arrays. */
#define B32(v) (uint8_t)((uint32_t)(v) >> 24), (uint8_t)((uint32_t)(v) >> 16), \
	       (uint8_t)((uint32_t)(v) >> 8), (uint8_t)(v)

/* Made-up ifindexes: a test run of a redirect does not send anything. */
#define IF_CLIENT	2
#define IF_PVM		3
#define IF_SVM		4
#define IF_LINK		5

#define FX_VM_MAC	{ 0x52, 0x54, 0x00, 0xc0, 0x10, 0x01 }

#define CFG(fl, vl, link) { .vm_mac = FX_VM_MAC, .vlan = (vl), \
	.role = COLO_ROLE_PRIMARY, .flags = (fl), .client_ifindex = IF_CLIENT, \
	.pvm_ifindex = IF_PVM, .svm_ifindex = IF_SVM, .link_ifindex = (link) }

enum fx_prog { P_CLIENT_IN, P_SVM_COPY, P_PVM_OUT, P_SVM_OUT, P_SEC_LINK_IN, P_SEC_SVM_OUT };
/* F_SAME: out = in; F_SHORT: cut inside its VLAN tag */
enum fx_kind { F_SAME = 0, F_TCP, F_UDP, F_ARP, F_ND, F_SHORT };
enum fx_dir { TO_VM, FROM_VM };
enum fx_mac { M_DEFAULT = 0, M_VM, M_PEER, M_OTHER, M_BCAST, M_MCAST };

/* A frame: TCP between the VM (port 80) and a peer (port 40000) unless kind says. */
struct fdesc {
	uint8_t kind;			/* enum fx_kind */
	uint8_t family;			/* 4 or 6 */
	uint8_t dir;			/* enum fx_dir: which end is the VM */
	uint8_t tcpflags;
	uint32_t seq, ack;
	const uint8_t *opts;		/* TCP options, multiple of 4 bytes */
	size_t optlen;
	const char *data;		/* TCP payload */
	uint16_t vlan;			/* one 802.1Q tag */
	uint8_t dmac, smac;		/* enum fx_mac; default by dir */
	uint8_t ipv4_opts;		/* 4-byte NOP words */
	uint8_t ipv6_ext;		/* extension headers before TCP */
};

/* A connection entry (the key comes from the fixture's input frame). */
struct cstate {
	int present;
	uint32_t pvm_isn, svm_isn, offset, flags;
	uint32_t pvm_tsval, svm_tsval, ts_offset;
};

struct fixture {
	const char *name;
	enum fx_prog prog;
	struct colo_config cfg;
	struct cstate pre;		/* entry before the run (last_ns = 1) */
	struct fdesc in;
	uint32_t retval;		/* XDP_* verdict */
	struct fdesc out;		/* kind F_SAME: the input, unchanged */
	struct colo_counters cnt;	/* every counter, exactly */
	struct cstate post;		/* entry after; !present: none */
	int idle;			/* the run must not touch last_ns */
	int xsk;			/* an AF_XDP socket in colo_xsks */
};

struct flow {
	const char *name;
	const struct fixture *steps;
	size_t n;
};

/* --- frames --- */

static const uint8_t fx_macs[][6] = {
	[M_VM] = FX_VM_MAC,
	[M_PEER] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x07 },
	[M_OTHER] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 },
	[M_BCAST] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	[M_MCAST] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x10 },
};

static inline size_t fx_build(const struct fdesc *d, uint8_t *buf, size_t cap)
{
	static const uint8_t ns_body[20] = { [4] = 0x20, [5] = 0x01, [6] = 0x0d, [7] = 0xb8,
					     [19] = 0x10 };
	int v6 = d->family == 6;
	const char *vm = v6 ? "2001:db8::10" : "192.0.2.10";
	const char *peer = v6 ? "2001:db8:1::7" : "198.51.100.7";
	int from_vm = d->dir == FROM_VM;
	struct pkt_spec s = {
		.family = d->family, .src = from_vm ? vm : peer, .dst = from_vm ? peer : vm,
		.sport = from_vm ? 80 : 40000, .dport = from_vm ? 40000 : 80,
		.vlan_outer = d->vlan, .ipv4_opts = d->ipv4_opts, .ipv6_ext = d->ipv6_ext,
	};

	memcpy(s.dmac, fx_macs[d->dmac ? d->dmac : from_vm ? M_PEER : M_VM], 6);
	memcpy(s.smac, fx_macs[d->smac ? d->smac : from_vm ? M_VM : M_PEER], 6);
	switch (d->kind) {
	case F_TCP:
		return pkt_tcp(buf, cap, &s, d->seq, d->ack, d->tcpflags, 512, d->opts,
			       d->optlen, d->data, d->data ? strlen(d->data) : 0);
	case F_UDP:
		return pkt_udp(buf, cap, &s, "ping", 4);
	case F_ARP:
		return pkt_arp(buf, cap, &s, 1);
	case F_ND:
		s.dst = "ff02::1:ff00:10";
		return pkt_icmp(buf, cap, &s, 135, 0, ns_body, sizeof(ns_body));
	case F_SHORT:	/* a VLAN ethertype and half a tag (test runs need >= 14 bytes) */
		memcpy(buf, fx_macs[M_VM], 6);
		memcpy(buf + 6, fx_macs[M_PEER], 6);
		buf[12] = 0x81;
		buf[13] = 0x00;
		buf[14] = 0x00;
		buf[15] = 0x64;
		return 16;
	}
	return 0;
}

/* The entry's key, from the VM's side, for the frame's addresses and tag. */
static inline void fx_key(const struct fdesc *d, struct colo_conn_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = d->family;
	k->vlan = d->vlan;
	k->vm_port = htons(80);
	k->peer_port = htons(40000);
	if (d->family == 6) {
		inet_pton(AF_INET6, "2001:db8::10", k->vm_addr);
		inet_pton(AF_INET6, "2001:db8:1::7", k->peer_addr);
	} else {
		inet_pton(AF_INET, "192.0.2.10", k->vm_addr);
		inet_pton(AF_INET, "198.51.100.7", k->peer_addr);
	}
}

/* --- maps --- */

static inline struct bpf_program *fx_prog(struct colo_bpf *skel, enum fx_prog p)
{
	struct bpf_program *progs[] = {
		[P_CLIENT_IN] = skel->progs.colo_client_in,
		[P_SVM_COPY] = skel->progs.colo_svm_copy,
		[P_PVM_OUT] = skel->progs.colo_pvm_out,
		[P_SVM_OUT] = skel->progs.colo_svm_out,
		[P_SEC_LINK_IN] = skel->progs.colo_sec_link_in,
		[P_SEC_SVM_OUT] = skel->progs.colo_sec_svm_out,
	};

	return progs[p];
}

static inline void fx_set_config(struct colo_bpf *skel, const struct colo_config *cfg)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map__update_elem(skel->maps.colo_config, &zero, sizeof(zero),
					      cfg, sizeof(*cfg), BPF_ANY), 0);
}

static inline void fx_zero_counters(struct colo_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct colo_counters *v = calloc(ncpu, sizeof(*v));
	__u32 zero = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map__update_elem(skel->maps.colo_counters, &zero, sizeof(zero),
					      v, ncpu * sizeof(*v), BPF_ANY), 0);
	free(v);
}

static inline void fx_sum_counters(struct colo_bpf *skel, struct colo_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct colo_counters *v = calloc(ncpu, sizeof(*v));
	__u32 zero = 0;
	size_t j;

	assert_non_null(v);
	assert_int_equal(bpf_map__lookup_elem(skel->maps.colo_counters, &zero, sizeof(zero),
					      v, ncpu * sizeof(*v), 0), 0);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < ncpu; i++)
		for (j = 0; j < sizeof(*sum) / sizeof(__u64); j++)
			((__u64 *)sum)[j] += ((__u64 *)&v[i])[j];
	free(v);
}

/* Empty colo_conns, zero the counters, no AF_XDP socket. */
static inline void fx_reset(struct colo_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.colo_conns);
	struct colo_conn_key k;
	__u32 i;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	for (i = 0; i < COLO_XSK_MAX; i++)
		bpf_map_delete_elem(bpf_map__fd(skel->maps.colo_xsks), &i);
	fx_zero_counters(skel);
}

/*
 * One AF_XDP socket (copy mode, on lo, no program loaded by libxdp) put in
 * colo_xsks under both keys, created on first use. Returns 0 or -errno.
 */
static inline int fx_xsk_install(struct colo_bpf *skel)
{
	static struct xsk_socket *xsk;
	static struct xsk_umem *umem;
	static struct xsk_ring_prod fill, tx;
	static struct xsk_ring_cons comp, rx;
	static void *area;
	static int err;
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t size = 4096 * XSK_UMEM__DEFAULT_FRAME_SIZE;
	int fd;
	__u32 i;

	if (!xsk && !err) {
		if (posix_memalign(&area, getpagesize(), size))
			return err = -ENOMEM;
		err = xsk_umem__create(&umem, area, size, &fill, &comp, NULL);
		if (!err)
			err = xsk_socket__create(&xsk, "lo", 0, umem, &rx, &tx, &cfg);
		if (err)
			return err;
	}
	if (err)
		return err;
	fd = xsk_socket__fd(xsk);
	for (i = 0; i < COLO_XSK_MAX; i++) {
		int e = bpf_map_update_elem(bpf_map__fd(skel->maps.colo_xsks), &i, &fd, 0);

		if (e)
			return -errno;
	}
	return 0;
}

/* --- load --- */

/*
 * BPF_PROG_TEST_RUN refuses devmap programs, so the fixtures' copy of the
 * object loads colo_svm_copy as a plain XDP program: same code, same maps.
 * test_xdp_object_loads checks the object as built.
 */
static inline struct colo_bpf *fx_load(int *err)
{
	struct colo_bpf *skel = colo_bpf__open();

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	bpf_program__set_expected_attach_type(skel->progs.colo_svm_copy, BPF_XDP);
	*err = colo_bpf__load(skel);
	if (*err) {
		colo_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static inline void fx_unload(struct colo_bpf *skel)
{
	colo_bpf__destroy(skel);
}

static inline void fx_require(struct colo_bpf *skel, int load_err)
{
	if (geteuid() != 0)
		skip();
	if (!skel)
		fail_msg("bpf/colo.bpf.c did not load: %s (run as root; libbpf's log above)",
			 strerror(-load_err));
}

/* --- checks --- */

static const char *const fx_verdicts[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };

static inline const char *fx_verdict(uint32_t v)
{
	return v < 5 ? fx_verdicts[v] : "?";
}

static const struct { const char *name; size_t off; } fx_counter_fields[] = {
#define FX_C(f) { #f, offsetof(struct colo_counters, f) }
	FX_C(mirrored), FX_C(passed), FX_C(captured_primary), FX_C(captured_secondary),
	FX_C(injected), FX_C(forwarded), FX_C(passthrough), FX_C(rewritten),
	FX_C(conns_learned), FX_C(conns_closed), FX_C(drop_no_socket), FX_C(drop_redirect),
	FX_C(drop_malformed),
#undef FX_C
};

static inline void fx_check_bytes(const char *name, const uint8_t *got, size_t got_len,
				  const uint8_t *want, size_t want_len)
{
	size_t i;

	if (got_len != want_len)
		fail_msg("%s: output is %zu bytes, expected %zu", name, got_len, want_len);
	for (i = 0; i < want_len; i++)
		if (got[i] != want[i])
			fail_msg("%s: output byte %zu is 0x%02x, expected 0x%02x", name, i,
				 got[i], want[i]);
}

static inline void fx_check_counters(struct colo_bpf *skel, const char *name,
				     const struct colo_counters *want)
{
	struct colo_counters got;
	size_t i;

	fx_sum_counters(skel, &got);
	for (i = 0; i < sizeof(fx_counter_fields) / sizeof(fx_counter_fields[0]); i++) {
		__u64 g = *(__u64 *)((char *)&got + fx_counter_fields[i].off);
		__u64 w = *(__u64 *)((char *)want + fx_counter_fields[i].off);

		if (g != w)
			fail_msg("%s: counter %s is %llu, expected %llu", name,
				 fx_counter_fields[i].name, (unsigned long long)g,
				 (unsigned long long)w);
	}
}

static inline void fx_check_conn(struct colo_bpf *skel, const struct fixture *f,
				 const struct colo_conn_key *k, __u64 t0, __u64 t1)
{
	const struct cstate *w = &f->post;
	struct colo_conn c;
	int err = bpf_map__lookup_elem(skel->maps.colo_conns, k, sizeof(*k), &c, sizeof(c), 0);

	if (!w->present) {
		if (!err)
			fail_msg("%s: connection entry exists (flags 0x%x), expected none",
				 f->name, c.flags);
		return;
	}
	if (err)
		fail_msg("%s: no connection entry, expected one", f->name);
	if (c.pvm_isn != w->pvm_isn || c.svm_isn != w->svm_isn || c.offset != w->offset ||
	    c.flags != w->flags)
		fail_msg("%s: entry pvm_isn %u svm_isn %u offset %u flags 0x%x, expected "
			 "%u %u %u 0x%x", f->name, c.pvm_isn, c.svm_isn, c.offset, c.flags,
			 w->pvm_isn, w->svm_isn, w->offset, w->flags);
	if (c.pvm_tsval != w->pvm_tsval || c.svm_tsval != w->svm_tsval ||
	    c.ts_offset != w->ts_offset || c.pad)
		fail_msg("%s: entry pvm_tsval %u svm_tsval %u ts_offset %u pad %u, expected "
			 "%u %u %u 0", f->name, c.pvm_tsval, c.svm_tsval, c.ts_offset, c.pad,
			 w->pvm_tsval, w->svm_tsval, w->ts_offset);
	if (f->idle ? c.last_ns > t0 : c.last_ns < t0 || c.last_ns > t1)
		fail_msg("%s: last_ns %llu, expected %s [%llu, %llu]", f->name,
			 (unsigned long long)c.last_ns, f->idle ? "before" : "within",
			 (unsigned long long)t0, (unsigned long long)t1);
}

static inline __u64 fx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void fx_put_conn(struct colo_bpf *skel, const struct colo_conn_key *k,
			       const struct cstate *s)
{
	struct colo_conn c = {
		.pvm_isn = s->pvm_isn, .svm_isn = s->svm_isn, .offset = s->offset,
		.flags = s->flags, .last_ns = 1, .pvm_tsval = s->pvm_tsval,
		.svm_tsval = s->svm_tsval, .ts_offset = s->ts_offset,
	};

	assert_int_equal(bpf_map__update_elem(skel->maps.colo_conns, k, sizeof(*k), &c,
					      sizeof(c), BPF_ANY), 0);
}

/* Runs the program on a fresh copy of the input `repeat` times; prints ns/run. */
static inline void fx_bench(struct colo_bpf *skel, const struct fixture *f,
			    const uint8_t *in, size_t len, unsigned int repeat)
{
	uint8_t buf[FX_CAP], out[FX_CAP];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	memcpy(buf, in, len);
	if (bpf_prog_test_run_opts(bpf_program__fd(fx_prog(skel, f->prog)), &o))
		fail_msg("%s: repeat run failed: %s", f->name, strerror(errno));
	printf("bench  %-66s %6u ns/run (%u runs)\n", f->name, o.duration, repeat);
}

/*
 * Runs one fixture: config, counters zeroed, pre entry (use_pre; a flow keeps
 * the entry of the step before), run once, check verdict, bytes, counters,
 * entry. With repeat, then runs it `repeat` times more for the timing.
 */
static inline void fx_run(struct colo_bpf *skel, const struct fixture *f, int use_pre,
			  unsigned int repeat)
{
	uint8_t in[FX_CAP], out[FX_CAP], want[FX_CAP];
	size_t in_len, want_len;
	struct colo_conn_key k;
	__u64 t0, t1;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	fx_set_config(skel, &f->cfg);
	fx_zero_counters(skel);
	fx_key(&f->in, &k);
	if (use_pre && f->pre.present)
		fx_put_conn(skel, &k, &f->pre);
	if (f->xsk) {
		int err = fx_xsk_install(skel);

		if (err) {
			print_message("AF_XDP socket on lo: %s\n", strerror(-err));
			skip();
		}
	}
	in_len = fx_build(&f->in, in, sizeof(in));
	assert_true(in_len > 0);
	if (f->out.kind == F_SAME) {
		memcpy(want, in, in_len);
		want_len = in_len;
	} else {
		want_len = fx_build(&f->out, want, sizeof(want));
		assert_true(want_len > 0);
	}
	o.data_size_in = in_len;
	t0 = fx_now();
	if (bpf_prog_test_run_opts(bpf_program__fd(fx_prog(skel, f->prog)), &o))
		fail_msg("%s: test run failed: %s", f->name, strerror(errno));
	t1 = fx_now();
	if (o.retval != f->retval)
		fail_msg("%s: verdict %s, expected %s", f->name, fx_verdict(o.retval),
			 fx_verdict(f->retval));
	fx_check_bytes(f->name, out, o.data_size_out, want, want_len);
	fx_check_counters(skel, f->name, &f->cnt);
	fx_check_conn(skel, f, &k, t0, t1);
	if (repeat)
		fx_bench(skel, f, in, in_len, repeat);
}

/* Runs a fixture on the maps as they are (entry and counters carried over). */
static inline void fx_run_keep_counters(struct colo_bpf *skel, const struct fixture *f)
{
	uint8_t in[FX_CAP], out[FX_CAP];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	fx_set_config(skel, &f->cfg);
	o.data_size_in = fx_build(&f->in, in, sizeof(in));
	if (bpf_prog_test_run_opts(bpf_program__fd(fx_prog(skel, f->prog)), &o))
		fail_msg("%s: test run failed: %s", f->name, strerror(errno));
	assert_int_equal(o.retval, f->retval);
}

/* --- random rewrites: incremental checksum vs full recomputation --- */

static inline uint32_t fx_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/* A random 32-bit value into in and, plus delta, into out (big-endian). */
static inline void fx_rand_be32(uint64_t *s, uint8_t *in, uint8_t *out, uint32_t delta)
{
	uint32_t v = fx_rand(s), v2 = v + delta;
	uint8_t be[4] = { B32(v) }, be2[4] = { B32(v2) };

	memcpy(in, be, 4);
	memcpy(out, be2, 4);
}

/* k NOPs at n in both in and out; returns the new n. */
static inline size_t fx_nops(uint8_t *in, uint8_t *out, size_t n, int k)
{
	for (; k > 0; k--, n++)
		in[n] = out[n] = 1;
	return n;
}

/*
 * Options: up to 3 NOPs, then timestamps (TSecr + ts_delta in out) and a
 * SACK of b blocks (edges + delta) in either order, or only one of the two,
 * up to 2 NOPs between them, NOP padding: every alignment of either option.
 */
static inline size_t fx_rand_opts(uint64_t *s, uint8_t *in, uint8_t *out, uint32_t delta,
				  uint32_t ts_delta)
{
	int which = fx_rand(s) % 4;	/* 0: SACK, 1: TS, 2: TS SACK, 3: SACK TS */
	int ts_first = which == 1 || which == 2;
	int nts = which != 0, nsack = which != 1;
	int b = 1 + fx_rand(s) % (nts ? 2 : 4), j, step;
	size_t n = 0;

	n = fx_nops(in, out, n, fx_rand(s) % 4);
	for (step = 0; step < 2; step++) {
		if (step == 1)
			n = fx_nops(in, out, n, fx_rand(s) % 3);
		if (step == (ts_first ? 0 : 1) && nts) {
			in[n] = out[n] = 8;
			in[n + 1] = out[n + 1] = 10;
			fx_rand_be32(s, in + n + 2, out + n + 2, 0);	/* TSval */
			fx_rand_be32(s, in + n + 6, out + n + 6, ts_delta);
			n += 10;
		}
		if (step == (ts_first ? 1 : 0) && nsack) {
			in[n] = out[n] = 5;
			in[n + 1] = out[n + 1] = 2 + 8 * b;
			for (j = 0, n += 2; j < 2 * b; j++, n += 4)
				fx_rand_be32(s, in + n, out + n, delta);
		}
	}
	return fx_nops(in, out, n, (4 - n % 4) % 4);
}

/*
 * One random rewrite by colo_svm_copy: random ISNs, ack, options, layout;
 * half the time the TSvals are known too (then the TSecr moves by ts_offset).
 */
static inline void fx_random_rewrite(struct colo_bpf *skel, uint64_t *seed, int r)
{
	uint8_t oin[40], oout[40];
	uint32_t pvm = fx_rand(seed), svm = fx_rand(seed), ack = fx_rand(seed);
	uint32_t pts = fx_rand(seed), sts = fx_rand(seed);
	int ts = fx_rand(seed) % 2;
	uint32_t flags = COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN |
			 (ts ? COLO_CONN_PVM_TS | COLO_CONN_SVM_TS : 0);
	size_t optlen = fx_rand(seed) % 4 ?
		fx_rand_opts(seed, oin, oout, svm - pvm, ts ? sts - pts : 0) : 0;
	struct cstate c = { 1, pvm, svm, svm - pvm, flags, ts ? pts : 0, ts ? sts : 0,
			    ts ? sts - pts : 0 };
	struct fixture f = {
		.name = "random rewrite", .prog = P_SVM_COPY, .cfg = CFG(COLO_CFG_REWRITE, 0, 0),
		.pre = c,
		.in = { .kind = F_TCP, .family = fx_rand(seed) % 2 ? 6 : 4, .dir = TO_VM,
			.tcpflags = 0x10, .seq = fx_rand(seed), .ack = ack,
			.opts = oin, .optlen = optlen, .vlan = fx_rand(seed) % 3 ? 0 : 42,
			.data = fx_rand(seed) % 2 ? "odd" : NULL },
		.retval = XDP_PASS,
		.cnt = { .rewritten = svm != pvm || (ts && sts != pts) },
		.post = c,
	};
	char name[128];

	f.out = f.in;
	f.out.ack = ack + (svm - pvm);
	f.out.opts = oout;
	f.in.ipv4_opts = f.out.ipv4_opts = f.in.family == 4 ? fx_rand(seed) % 3 : 0;
	snprintf(name, sizeof(name), "random rewrite %d (ack %u, offset %u, ts_offset %u, "
		 "%zu option bytes)", r, ack, svm - pvm, c.ts_offset, optlen);
	f.name = name;
	fx_reset(skel);
	fx_run(skel, &f, 1, 0);
}

static inline void fx_random_rewrites(struct colo_bpf *skel, int runs)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int r;

	for (r = 0; r < runs; r++)
		fx_random_rewrite(skel, &seed, r);
}

#endif
