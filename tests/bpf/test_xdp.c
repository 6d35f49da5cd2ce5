// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The XDP programs of bpf/colo.bpf.c under BPF_PROG_TEST_RUN, table-driven:
 * each fixture names a program, a configuration, the connection entry before
 * the run, an input frame (tools/pktbuild.h), and what must come out: the
 * verdict, the output bytes (rewritten frames are compared with a frame
 * pktbuild built with the shifted numbers, i.e. with a fully recomputed TCP
 * checksum), the counters and the connection entry after the run.
 * Flows chain fixtures over one connection without resetting it in between.
 *
 * Needs root (every test skips otherwise). `--repeat N` (or COLO_BPF_REPEAT=N)
 * also runs each fixture N more times in the kernel and prints ns/run: a
 * micro-benchmark, no pass/fail on speed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "colo_shared.h"
#include "colo.skel.h"
#include "conns.h"
#include "pktbuild.h"
#include "xdp_fixture.h"

static struct colo_bpf *skel;
static int load_err;
static unsigned int repeat;	/* 0: no benchmark */

/* --- frames and fixtures --- */

#define SYN 0x02
#define RST 0x04
#define ACK 0x10
#define FIN 0x01

#define OPTS(a) .opts = a, .optlen = sizeof(a)

/* NOP NOP SACK with two blocks, in the PVM's space and shifted by 4000 */
static const uint8_t sack2[] = { 1, 1, 5, 18, B32(2001), B32(3001), B32(4001), B32(5001) };
static const uint8_t sack2_s[] = { 1, 1, 5, 18, B32(6001), B32(7001), B32(8001), B32(9001) };
/* NOP SACK NOP: the block edges sit at odd offsets in the TCP header */
static const uint8_t sack_odd[] = { 1, 5, 10, B32(0x12345678), B32(0x2345abcd), 1 };
static const uint8_t sack_odd_s[] = { 1, 5, 10, B32(0x12345678 + 4000), B32(0x2345abcd + 4000), 1 };
/* timestamps then three blocks: 40 bytes, the most TCP allows */
static const uint8_t ts_sack3[] = { 1, 1, 8, 10, B32(111), B32(222), 1, 1, 5, 26,
	B32(1101), B32(1201), B32(1301), B32(1401), B32(1501), B32(1601) };
static const uint8_t ts_sack3_s[] = { 1, 1, 8, 10, B32(111), B32(222), 1, 1, 5, 26,
	B32(5101), B32(5201), B32(5301), B32(5401), B32(5501), B32(5601) };
/* across 2^32: pvm_isn 0xfffffff0, svm_isn 0x10, offset 0x20 */
static const uint8_t sack_wrap[] = { 1, 1, 5, 10, B32(0xfffffff8), B32(0x8) };
static const uint8_t sack_wrap_s[] = { 1, 1, 5, 10, B32(0x18), B32(0x28) };
/* 28 NOPs before the SACK: the walk covers all 40 option bytes */
static const uint8_t sack_deep[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 5, 10, B32(3001), B32(4001), 0, 0 };
static const uint8_t sack_deep_s[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 5, 10, B32(7001), B32(8001), 0, 0 };
/* a SACK option with a bad length (11): left alone */
static const uint8_t sack_bad[] = { 1, 5, 11, B32(2001), B32(3001), 0 };

/*
 * TCP timestamps. The PVM's clock says 700000 at the handshake, the SVM's
 * 900000: ts_offset 200000. SYN and SYN/ACK options as Linux sends them: MSS,
 * SACK permitted, timestamps (TSval, TSecr), NOP, window scale.
 */
#define SYN_TS(val, ecr) 2, 4, 0x05, 0xb4, 4, 2, 8, 10, B32(val), B32(ecr), 1, 3, 3, 7
static const uint8_t syn_ts_pvm[] = { SYN_TS(700000, 0) };
static const uint8_t syn_ts_svm[] = { SYN_TS(900000, 0) };
static const uint8_t syn_ts_later[] = { SYN_TS(701000, 0) };	/* retransmission */
static const uint8_t syn_ts_new[] = { SYN_TS(777, 0) };
static const uint8_t synack_ts_pvm[] = { SYN_TS(700000, 5555) };
static const uint8_t synack_ts_svm[] = { SYN_TS(900000, 5555) };
static const uint8_t syn_ts_client[] = { SYN_TS(5555, 0) };
/* the peer's SYN/ACK to a guest-opened connection echoes the PVM's TSval */
static const uint8_t synack_ts_peer[] = { SYN_TS(3333, 700000) };
static const uint8_t synack_ts_peer_s[] = { SYN_TS(3333, 900000) };
/* a SYN without timestamps: MSS, NOP, window scale */
static const uint8_t syn_nots[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
/* NOP then timestamps: TSval at an odd offset */
static const uint8_t syn_ts_odd[] = { 1, 8, 10, B32(700000), B32(0), 1 };
/* 28 NOPs, timestamps, EOL: the walk covers all 40 option bytes */
#define NOP28 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, \
	1, 1, 1, 1
static const uint8_t syn_ts_deep[] = { NOP28, 8, 10, B32(900000), B32(0), 0, 0 };
/* kind 8 with length 8: not a timestamps option */
static const uint8_t syn_ts_badlen[] = { 8, 8, B32(700000), 0, 0, 1, 1, 1, 1 };

/* The client's timestamps echo the PVM's clock; the SVM's copy its own. */
static const uint8_t ack_ts[] = { 1, 1, 8, 10, B32(5600), B32(700010) };
static const uint8_t ack_ts_s[] = { 1, 1, 8, 10, B32(5600), B32(900010) };
/* the handshake ACK echoes the SYN/ACK's TSval exactly */
static const uint8_t ack_ts_hs[] = { 1, 1, 8, 10, B32(5556), B32(700000) };
static const uint8_t ack_ts_hs_s[] = { 1, 1, 8, 10, B32(5556), B32(900000) };
/* NOP, timestamps, NOP: TSecr at an odd offset */
static const uint8_t ack_ts_odd[] = { 1, 8, 10, B32(5600), B32(700010), 1 };
static const uint8_t ack_ts_odd_s[] = { 1, 8, 10, B32(5600), B32(900010), 1 };
/* timestamps first: TSecr 2 bytes off a 4-byte boundary */
static const uint8_t ack_ts_first[] = { 8, 10, B32(5600), B32(700010), 1, 1 };
static const uint8_t ack_ts_first_s[] = { 8, 10, B32(5600), B32(900010), 1, 1 };
/* timestamps and three SACK blocks (40 bytes): both shifted */
static const uint8_t ts_sack3_t[] = { 1, 1, 8, 10, B32(111), B32(700222), 1, 1, 5, 26,
	B32(1101), B32(1201), B32(1301), B32(1401), B32(1501), B32(1601) };
static const uint8_t ts_sack3_t_s[] = { 1, 1, 8, 10, B32(111), B32(900222), 1, 1, 5, 26,
	B32(5101), B32(5201), B32(5301), B32(5401), B32(5501), B32(5601) };
/* NOP, SACK, timestamps: block edges and TSecr all at odd offsets */
static const uint8_t sack_ts_odd[] = { 1, 5, 10, B32(2001), B32(3001),
	8, 10, B32(5600), B32(700010), 1, 1, 1 };
static const uint8_t sack_ts_odd_s[] = { 1, 5, 10, B32(6001), B32(7001),
	8, 10, B32(5600), B32(900010), 1, 1, 1 };
static const uint8_t ack_ts_deep[] = { NOP28, 8, 10, B32(5600), B32(700010), 0, 0 };
static const uint8_t ack_ts_deep_s[] = { NOP28, 8, 10, B32(5600), B32(900010), 0, 0 };
/* across 2^32: pvm_tsval 0xfffff000, svm_tsval 0x1000, ts_offset 0x2000 */
static const uint8_t ack_ts_wrap[] = { 1, 1, 8, 10, B32(5600), B32(0xfffff800) };
static const uint8_t ack_ts_wrap_s[] = { 1, 1, 8, 10, B32(5600), B32(0x1800) };
/* kind 8 with length 11: left alone */
static const uint8_t ack_ts_badlen[] = { 1, 8, 11, B32(5600), B32(700010), 0 };

#define TCP(fam, d, fl, sq, ak) .kind = F_TCP, .family = fam, .dir = d, \
	.tcpflags = fl, .seq = sq, .ack = ak
#define CONN(p, s, o, f) { .present = 1, .pvm_isn = p, .svm_isn = s, .offset = o, .flags = f }

#define BOTH (COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN)
#define RW COLO_CFG_REWRITE
#define PT COLO_CFG_PASSTHROUGH
#define C_BOTH CONN(1000, 5000, 4000, BOTH)
#define CONNTS(p, s, o, f, pt, st, to) { .present = 1, .pvm_isn = p, .svm_isn = s, \
	.offset = o, .flags = f, .pvm_tsval = pt, .svm_tsval = st, .ts_offset = to }
#define TSB (COLO_CONN_PVM_TS | COLO_CONN_SVM_TS)
#define PVM_SYN_TS CONNTS(1000, 0, 0, COLO_CONN_PVM_ISN | COLO_CONN_PVM_TS, 700000, 0, 0)
#define SVM_SYN_TS CONNTS(0, 5000, 0, COLO_CONN_SVM_ISN | COLO_CONN_SVM_RAW | \
	COLO_CONN_SVM_TS, 0, 900000, 0)
/* both ISNs and both TSvals known */
#define C_TS CONNTS(1000, 5000, 4000, BOTH | TSB, 700000, 900000, 200000)
#define FINS (COLO_CONN_PVM_FIN | COLO_CONN_SVM_FIN | COLO_CONN_PEER_FIN)

static const struct fixture fixtures[] = {
	/* colo_client_in */
	{ "client_in: TCP to the VM MAC is mirrored", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, SYN, 77, 0) }, XDP_REDIRECT, {}, { .mirrored = 1 } },
	{ "client_in: broadcast ARP is mirrored", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { .kind = F_ARP, .family = 4, .dir = TO_VM, .dmac = M_BCAST }, XDP_REDIRECT, {},
	  { .mirrored = 1 } },
	{ "client_in: IPv6 multicast (neighbour solicitation) is mirrored", P_CLIENT_IN,
	  CFG(RW, 0, 0), {}, { .kind = F_ND, .family = 6, .dir = TO_VM, .dmac = M_MCAST },
	  XDP_REDIRECT, {}, { .mirrored = 1 } },
	{ "client_in: unicast to another MAC passes", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK, 77, 1001), .dmac = M_OTHER }, XDP_PASS, {}, { .passed = 1 } },
	{ "client_in: broadcast from the VM's own MAC passes", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { .kind = F_ARP, .family = 4, .dir = FROM_VM, .dmac = M_BCAST }, XDP_PASS, {},
	  { .passed = 1 } },
	{ "client_in: frame cut inside its VLAN tag passes", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { .kind = F_SHORT }, XDP_PASS, {}, { .passed = 1 } },
	{ "client_in: VLAN 100 configured, tagged 100: mirrored", P_CLIENT_IN, CFG(RW, 100, 0),
	  {}, { TCP(4, TO_VM, ACK, 77, 1001), .vlan = 100 }, XDP_REDIRECT, {}, { .mirrored = 1 } },
	{ "client_in: VLAN 100 configured, tagged 200: passes", P_CLIENT_IN, CFG(RW, 100, 0),
	  {}, { TCP(4, TO_VM, ACK, 77, 1001), .vlan = 200 }, XDP_PASS, {}, { .passed = 1 } },
	{ "client_in: VLAN 100 configured, untagged broadcast: passes", P_CLIENT_IN,
	  CFG(RW, 100, 0), {}, { .kind = F_ARP, .family = 4, .dir = TO_VM, .dmac = M_BCAST },
	  XDP_PASS, {}, { .passed = 1 } },
	{ "client_in: no VLAN configured, tagged frame: mirrored", P_CLIENT_IN, CFG(RW, 0, 0),
	  {}, { TCP(6, TO_VM, ACK, 77, 1001), .vlan = 200 }, XDP_REDIRECT, {}, { .mirrored = 1 } },

	/* colo_svm_copy: ack and SACK into the SVM's space */
	{ "svm_copy: IPv4 ack shifted", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, TO_VM, ACK, 77, 1001), .data = "GET /" }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), .data = "GET /" }, { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: IPv4 with IP options, ack and two SACK blocks shifted", P_SVM_COPY,
	  CFG(RW, 0, 0), C_BOTH, { TCP(4, TO_VM, ACK, 77, 1501), OPTS(sack2), .ipv4_opts = 2 },
	  XDP_PASS, { TCP(4, TO_VM, ACK, 77, 5501), OPTS(sack2_s), .ipv4_opts = 2 },
	  { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: SACK block edges at odd offsets", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, TO_VM, ACK, 77, 0x12345001), OPTS(sack_odd) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 0x12345001 + 4000), OPTS(sack_odd_s) },
	  { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: IPv6, timestamps and three SACK blocks shifted", P_SVM_COPY, CFG(RW, 0, 0),
	  C_BOTH, { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ts_sack3), .data = "x" }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), OPTS(ts_sack3_s), .data = "x" },
	  { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: VLAN-tagged IPv6 ack shifted", P_SVM_COPY, CFG(RW, 10, 0), C_BOTH,
	  { TCP(6, TO_VM, ACK, 77, 1001), .vlan = 10 }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), .vlan = 10 }, { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: ack and SACK across 2^32", P_SVM_COPY, CFG(RW, 0, 0),
	  CONN(0xfffffff0, 0x10, 0x20, BOTH),
	  { TCP(4, TO_VM, ACK, 77, 0xfffffff1), OPTS(sack_wrap) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 0x11), OPTS(sack_wrap_s) }, { .rewritten = 1 },
	  CONN(0xfffffff0, 0x10, 0x20, BOTH) },
	{ "svm_copy: SACK after 28 NOPs shifted", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(6, TO_VM, ACK, 77, 1001), OPTS(sack_deep) }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), OPTS(sack_deep_s) }, { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: malformed SACK length: ack shifted, option untouched", P_SVM_COPY,
	  CFG(RW, 0, 0), C_BOTH, { TCP(4, TO_VM, ACK, 77, 1001), OPTS(sack_bad) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(sack_bad) }, { .rewritten = 1 }, C_BOTH },
	{ "svm_copy: peer FIN recorded, ack shifted", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, TO_VM, FIN | ACK, 90, 1001) }, XDP_PASS,
	  { TCP(4, TO_VM, FIN | ACK, 90, 5001) }, { .rewritten = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PEER_FIN) },
	{ "svm_copy: peer RST recorded", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, TO_VM, RST, 90, 0) }, XDP_PASS, {}, {},
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PEER_RST) },
	{ "svm_copy: SVM's ISN unknown: untouched", P_SVM_COPY, CFG(RW, 0, 0),
	  CONN(1000, 0, 0, COLO_CONN_PVM_ISN), { TCP(4, TO_VM, ACK, 77, 1001) }, XDP_PASS, {},
	  {}, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "svm_copy: rewrite off: untouched", P_SVM_COPY, CFG(0, 0, 0), C_BOTH,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(sack2) }, XDP_PASS, {}, {}, C_BOTH },
	{ "svm_copy: offset 0 (after a checkpoint): untouched", P_SVM_COPY, CFG(RW, 0, 0),
	  CONN(1000, 1000, 0, BOTH), { TCP(4, TO_VM, ACK, 77, 1001) }, XDP_PASS, {}, {},
	  CONN(1000, 1000, 0, BOTH) },
	{ "svm_copy: unknown connection: untouched, no entry", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK, 77, 1001) }, XDP_PASS, {}, {}, {} },
	{ "svm_copy: IPv6 extension header: untouched", P_SVM_COPY, CFG(RW, 0, 0), C_BOTH,
	  { TCP(6, TO_VM, ACK, 77, 1001), .ipv6_ext = 1 }, XDP_PASS, {}, {}, C_BOTH, .idle = 1 },
	{ "svm_copy: UDP: untouched", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { .kind = F_UDP, .family = 4, .dir = TO_VM }, XDP_PASS, {}, {}, {} },

	/* colo_svm_copy: TSecr into the SVM's clock */
	{ "svm_copy: TSecr into the SVM's clock, ack shifted", P_SVM_COPY, CFG(RW, 0, 0), C_TS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts), .data = "GET /" }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts_s), .data = "GET /" },
	  { .rewritten = 1 }, C_TS },
	{ "svm_copy: TSecr at an odd offset", P_SVM_COPY, CFG(RW, 0, 0), C_TS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts_odd) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts_odd_s) }, { .rewritten = 1 }, C_TS },
	{ "svm_copy: IPv6, timestamps first (TSecr 2 bytes off a 4-byte boundary)",
	  P_SVM_COPY, CFG(RW, 0, 0), C_TS,
	  { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ack_ts_first), .data = "x" }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), OPTS(ack_ts_first_s), .data = "x" },
	  { .rewritten = 1 }, C_TS },
	{ "svm_copy: IPv6, TSecr and three SACK blocks shifted", P_SVM_COPY, CFG(RW, 0, 0),
	  C_TS, { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ts_sack3_t) }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), OPTS(ts_sack3_t_s) }, { .rewritten = 1 }, C_TS },
	{ "svm_copy: SACK then timestamps, all at odd offsets, IP options", P_SVM_COPY,
	  CFG(RW, 0, 0), C_TS, { TCP(4, TO_VM, ACK, 77, 1501), OPTS(sack_ts_odd), .ipv4_opts = 1 },
	  XDP_PASS, { TCP(4, TO_VM, ACK, 77, 5501), OPTS(sack_ts_odd_s), .ipv4_opts = 1 },
	  { .rewritten = 1 }, C_TS },
	{ "svm_copy: VLAN, timestamps after 28 NOPs", P_SVM_COPY, CFG(RW, 0, 0), C_TS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts_deep), .vlan = 9 }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts_deep_s), .vlan = 9 },
	  { .rewritten = 1 }, C_TS },
	{ "svm_copy: TSecr across 2^32", P_SVM_COPY, CFG(RW, 0, 0),
	  CONNTS(1000, 5000, 4000, BOTH | TSB, 0xfffff000, 0x1000, 0x2000),
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts_wrap) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts_wrap_s) }, { .rewritten = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | TSB, 0xfffff000, 0x1000, 0x2000) },
	{ "svm_copy: equal ISNs, clocks differ: only TSecr shifted", P_SVM_COPY, CFG(RW, 0, 0),
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 900000, 200000),
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts_s) }, { .rewritten = 1 },
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 900000, 200000) },
	{ "svm_copy: SVM's TSval unknown: ack shifted, TSecr untouched", P_SVM_COPY,
	  CFG(RW, 0, 0), CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_PVM_TS, 700000, 0, 0),
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts) }, { .rewritten = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_PVM_TS, 700000, 0, 0) },
	{ "svm_copy: PVM's TSval unknown: ack shifted, TSecr untouched", P_SVM_COPY,
	  CFG(RW, 0, 0), CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_TS, 0, 900000, 0),
	  { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ts_sack3) }, XDP_PASS,
	  { TCP(6, TO_VM, ACK, 77, 5001), OPTS(ts_sack3_s) }, { .rewritten = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_TS, 0, 900000, 0) },
	{ "svm_copy: offsets 0 (after a checkpoint): untouched", P_SVM_COPY, CFG(RW, 0, 0),
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 700000, 0),
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS, {}, {},
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 700000, 0) },
	{ "svm_copy: rewrite off: TSecr untouched", P_SVM_COPY, CFG(0, 0, 0), C_TS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS, {}, {}, C_TS },
	{ "svm_copy: client SYN (no ACK) with timestamps: untouched", P_SVM_COPY,
	  CFG(RW, 0, 0), C_TS, { TCP(4, TO_VM, SYN, 77, 0), OPTS(syn_ts_client) }, XDP_PASS,
	  {}, {}, C_TS },
	{ "svm_copy: timestamps with a bad length: ack shifted, option untouched", P_SVM_COPY,
	  CFG(RW, 0, 0), C_TS, { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts_badlen) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 77, 5001), OPTS(ack_ts_badlen) }, { .rewritten = 1 }, C_TS },

	/* colo_pvm_out: the PVM's ISN, FIN, RST; capture */
	{ "pvm_out: guest-opened SYN learns pvm_isn", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN, 1000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "pvm_out: IPv6 SYN/ACK after the SVM's computes the offset", P_PVM_OUT,
	  CFG(RW, 0, 0), CONN(0, 5000, 0, COLO_CONN_SVM_ISN | COLO_CONN_SVM_RAW),
	  { TCP(6, FROM_VM, SYN | ACK, 1000, 78) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW) },
	{ "pvm_out: retransmitted SYN learns nothing new", P_PVM_OUT, CFG(RW, 0, 0),
	  CONN(1000, 0, 0, COLO_CONN_PVM_ISN), { TCP(4, FROM_VM, SYN, 1000, 0) }, XDP_DROP, {},
	  { .drop_no_socket = 1 }, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "pvm_out: data is not rewritten", P_PVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, ACK, 1001, 78), .data = "200 OK" }, XDP_DROP, {},
	  { .drop_no_socket = 1 }, C_BOTH },
	{ "pvm_out: FIN recorded", P_PVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, FIN | ACK, 1001, 78) }, XDP_DROP, {}, { .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PVM_FIN) },
	{ "pvm_out: first RST keeps the entry for the SVM's", P_PVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, RST, 1001, 0) }, XDP_DROP, {}, { .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PVM_RST) },
	{ "pvm_out: RST after the SVM's deletes the entry", P_PVM_OUT, CFG(RW, 0, 0),
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RST), { TCP(4, FROM_VM, RST, 1001, 0) },
	  XDP_DROP, {}, { .conns_closed = 1, .drop_no_socket = 1 }, {} },
	{ "pvm_out: new SYN on a closed 4-tuple starts over", P_PVM_OUT, CFG(RW, 0, 0),
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PVM_FIN | COLO_CONN_SVM_FIN | COLO_CONN_PEER_FIN),
	  { TCP(4, FROM_VM, SYN, 9000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(9000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "pvm_out: passthrough sends to the client NIC, learns nothing", P_PVM_OUT,
	  CFG(RW | PT, 0, 0), {}, { TCP(4, FROM_VM, SYN, 1000, 0) }, XDP_REDIRECT, {},
	  { .passthrough = 1 }, {} },
	{ "pvm_out: UDP goes to the comparator", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { .kind = F_UDP, .family = 6, .dir = FROM_VM }, XDP_DROP, {},
	  { .drop_no_socket = 1 }, {} },
	{ "pvm_out: captured by the primary AF_XDP socket", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN, 1000, 0) }, XDP_REDIRECT, {},
	  { .captured_primary = 1, .conns_learned = 1 },
	  CONN(1000, 0, 0, COLO_CONN_PVM_ISN), .xsk = 1 },

	/* colo_pvm_out, colo_svm_out: TSvals of SYNs and SYN/ACKs */
	{ "pvm_out: SYN with timestamps learns pvm_isn and pvm_tsval", P_PVM_OUT,
	  CFG(RW, 0, 0), {}, { TCP(4, FROM_VM, SYN, 1000, 0), OPTS(syn_ts_pvm) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, PVM_SYN_TS },
	{ "pvm_out: IPv6 SYN/ACK with timestamps after the SVM's: both offsets", P_PVM_OUT,
	  CFG(RW, 0, 0), SVM_SYN_TS, { TCP(6, FROM_VM, SYN | ACK, 1000, 78), OPTS(synack_ts_pvm) },
	  XDP_DROP, {}, { .conns_learned = 1, .drop_no_socket = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW | TSB, 700000, 900000, 200000) },
	{ "pvm_out: timestamps at an odd offset learned", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, SYN, 1000, 0), OPTS(syn_ts_odd), .vlan = 3 }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, PVM_SYN_TS },
	{ "pvm_out: SYN without timestamps: no TSval", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN, 1000, 0), OPTS(syn_nots) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "pvm_out: kind 8 with a bad length: no TSval", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN, 1000, 0), OPTS(syn_ts_badlen) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "pvm_out: retransmitted SYN with a later TSval changes nothing", P_PVM_OUT,
	  CFG(RW, 0, 0), PVM_SYN_TS, { TCP(4, FROM_VM, SYN, 1000, 0), OPTS(syn_ts_later) },
	  XDP_DROP, {}, { .drop_no_socket = 1 }, PVM_SYN_TS },
	{ "pvm_out: new SYN with timestamps on a closed 4-tuple starts over", P_PVM_OUT,
	  CFG(RW, 0, 0), CONNTS(1000, 5000, 4000, BOTH | TSB | FINS, 700000, 900000, 200000),
	  { TCP(4, FROM_VM, SYN, 9000, 0), OPTS(syn_ts_new) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONNTS(9000, 0, 0, COLO_CONN_PVM_ISN | COLO_CONN_PVM_TS, 777, 0, 0) },
	{ "pvm_out: new SYN without timestamps on a closed 4-tuple forgets them", P_PVM_OUT,
	  CFG(RW, 0, 0), CONNTS(1000, 5000, 4000, BOTH | TSB | FINS, 700000, 900000, 200000),
	  { TCP(4, FROM_VM, SYN, 9000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(9000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "svm_out: SYN/ACK with timestamps after the PVM's: ts_offset, TSval as sent",
	  P_SVM_OUT, CFG(RW, 0, 0), PVM_SYN_TS,
	  { TCP(4, FROM_VM, SYN | ACK, 5000, 78), OPTS(synack_ts_svm) }, XDP_DROP,
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78), OPTS(synack_ts_svm) },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 }, C_TS },
	{ "svm_out: IPv6 SYN with timestamps before the PVM's learns svm_tsval", P_SVM_OUT,
	  CFG(RW, 0, 0), {}, { TCP(6, FROM_VM, SYN, 5000, 0), OPTS(syn_ts_svm) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, SVM_SYN_TS },
	{ "svm_out: IPv6 VLAN, SVM's clock behind the PVM's: ts_offset wraps", P_SVM_OUT,
	  CFG(RW, 0, 0), CONNTS(1000, 0, 0, COLO_CONN_PVM_ISN | COLO_CONN_PVM_TS, 900000, 0, 0),
	  { TCP(6, FROM_VM, SYN | ACK, 5000, 78), OPTS(synack_ts_pvm), .vlan = 12 }, XDP_DROP,
	  { TCP(6, FROM_VM, SYN | ACK, 1000, 78), OPTS(synack_ts_pvm), .vlan = 12 },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | TSB, 900000, 700000, (uint32_t)-200000) },
	{ "svm_out: timestamps after 28 NOPs learned", P_SVM_OUT, CFG(RW, 0, 0), PVM_SYN_TS,
	  { TCP(4, FROM_VM, SYN | ACK, 5000, 78), OPTS(syn_ts_deep) }, XDP_DROP,
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78), OPTS(syn_ts_deep) },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 }, C_TS },

	/* colo_svm_out: the SVM's ISN, seq into the PVM's space */
	{ "svm_out: SYN/ACK after the PVM's: offset learned, seq shifted", P_SVM_OUT,
	  CFG(RW, 0, 0), CONN(1000, 0, 0, COLO_CONN_PVM_ISN),
	  { TCP(4, FROM_VM, SYN | ACK, 5000, 78) }, XDP_DROP,
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78) },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 }, C_BOTH },
	{ "svm_out: SYN before the PVM's: not shifted, connection stays raw", P_SVM_OUT,
	  CFG(RW, 0, 0), {}, { TCP(4, FROM_VM, SYN, 5000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONN(0, 5000, 0, COLO_CONN_SVM_ISN | COLO_CONN_SVM_RAW) },
	{ "svm_out: data of a raw connection is not shifted", P_SVM_OUT, CFG(RW, 0, 0),
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW),
	  { TCP(4, FROM_VM, ACK, 5001, 78), .data = "abc" }, XDP_DROP, {},
	  { .drop_no_socket = 1 }, CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW) },
	{ "svm_out: IPv6 VLAN data seq shifted", P_SVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(6, FROM_VM, ACK, 5001, 78), .vlan = 7, OPTS(sack2), .data = "abc" }, XDP_DROP,
	  { TCP(6, FROM_VM, ACK, 1001, 78), .vlan = 7, OPTS(sack2), .data = "abc" },
	  { .rewritten = 1, .drop_no_socket = 1 }, C_BOTH },
	{ "svm_out: seq across 2^32", P_SVM_OUT, CFG(RW, 0, 0),
	  CONN(0x10, 0xfffffff0, 0xffffffe0, BOTH), { TCP(4, FROM_VM, ACK, 0xfffffff5, 78) },
	  XDP_DROP, { TCP(4, FROM_VM, ACK, 0x15, 78) }, { .rewritten = 1, .drop_no_socket = 1 },
	  CONN(0x10, 0xfffffff0, 0xffffffe0, BOTH) },
	{ "svm_out: rewrite off: not shifted", P_SVM_OUT, CFG(0, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_DROP, {}, { .drop_no_socket = 1 }, C_BOTH },
	{ "svm_out: FIN recorded, seq shifted", P_SVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, FIN | ACK, 5001, 78) }, XDP_DROP,
	  { TCP(4, FROM_VM, FIN | ACK, 1001, 78) }, { .rewritten = 1, .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_FIN) },
	{ "svm_out: first RST shifted, entry kept", P_SVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, RST, 5001, 0) }, XDP_DROP, { TCP(4, FROM_VM, RST, 1001, 0) },
	  { .rewritten = 1, .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RST) },
	{ "svm_out: RST after the PVM's: shifted, entry deleted", P_SVM_OUT, CFG(RW, 0, 0),
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_PVM_RST), { TCP(4, FROM_VM, RST, 5001, 0) },
	  XDP_DROP, { TCP(4, FROM_VM, RST, 1001, 0) },
	  { .rewritten = 1, .conns_closed = 1, .drop_no_socket = 1 }, {} },
	{ "svm_out: two hosts: host traffic on the link passes", P_SVM_OUT, CFG(RW, 0, IF_LINK),
	  C_BOTH, { TCP(4, FROM_VM, ACK, 5001, 78), .smac = M_OTHER }, XDP_PASS, {},
	  { .passed = 1 }, C_BOTH, .idle = 1 },
	{ "svm_out: two hosts: SVM output on the link is shifted", P_SVM_OUT,
	  CFG(RW, 0, IF_LINK), C_BOTH, { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_DROP,
	  { TCP(4, FROM_VM, ACK, 1001, 78) }, { .rewritten = 1, .drop_no_socket = 1 }, C_BOTH },
	{ "svm_out: captured by the secondary AF_XDP socket", P_SVM_OUT, CFG(RW, 0, 0), C_BOTH,
	  { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_REDIRECT, { TCP(4, FROM_VM, ACK, 1001, 78) },
	  { .captured_secondary = 1, .rewritten = 1 }, C_BOTH, .xsk = 1 },

	/* secondary host */
	{ "sec_link_in: frame for the VM MAC is injected", P_SEC_LINK_IN, CFG(RW, 0, IF_LINK),
	  {}, { TCP(4, TO_VM, ACK, 77, 5001) }, XDP_REDIRECT, {}, { .injected = 1 } },
	{ "sec_link_in: broadcast is injected", P_SEC_LINK_IN, CFG(RW, 0, IF_LINK), {},
	  { .kind = F_ARP, .family = 4, .dir = TO_VM, .dmac = M_BCAST }, XDP_REDIRECT, {},
	  { .injected = 1 } },
	{ "sec_link_in: frame from the VM passes", P_SEC_LINK_IN, CFG(RW, 0, IF_LINK), {},
	  { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_PASS, {}, { .passed = 1 } },
	{ "sec_link_in: host traffic passes", P_SEC_LINK_IN, CFG(RW, 0, IF_LINK), {},
	  { TCP(4, TO_VM, ACK, 77, 5001), .dmac = M_OTHER }, XDP_PASS, {}, { .passed = 1 } },
	{ "sec_svm_out: SVM output forwarded over the link", P_SEC_SVM_OUT,
	  CFG(RW, 0, IF_LINK), {}, { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_REDIRECT, {},
	  { .forwarded = 1 } },
	{ "sec_svm_out: passthrough after promotion", P_SEC_SVM_OUT, CFG(RW | PT, 0, IF_LINK),
	  {}, { TCP(4, FROM_VM, ACK, 5001, 78) }, XDP_REDIRECT, {}, { .passthrough = 1 } },
};

/*
 * Flows: the programs in the order a real connection crosses them; the entry
 * carries over from step to step (each step's pre is ignored).
 */
static const struct fixture flow_client_opened[] = {
	{ "client SYN mirrored", P_CLIENT_IN, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, SYN, 77, 0) }, XDP_REDIRECT, {}, { .mirrored = 1 }, {} },
	{ "SVM copy of the SYN: no entry yet", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, SYN, 77, 0) }, XDP_PASS, {}, {}, {} },
	{ "PVM SYN/ACK", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, CONN(1000, 0, 0, COLO_CONN_PVM_ISN) },
	{ "SVM SYN/ACK shifted onto the PVM's ISN", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN | ACK, 5000, 78) }, XDP_DROP,
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78) },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 }, C_BOTH },
	{ "client ACK: SVM copy acks the SVM's ISN", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK, 78, 1001), .data = "GET /" }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 78, 5001), .data = "GET /" }, { .rewritten = 1 }, C_BOTH },
	{ "SVM data shifted", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, ACK | FIN, 5001, 83), .data = "200 OK" }, XDP_DROP,
	  { TCP(4, FROM_VM, ACK | FIN, 1001, 83), .data = "200 OK" },
	  { .rewritten = 1, .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_FIN) },
	{ "PVM data", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, ACK | FIN, 1001, 83), .data = "200 OK" }, XDP_DROP, {},
	  { .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_FIN | COLO_CONN_PVM_FIN) },
	{ "client FIN/ACK with SACK", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK | FIN, 83, 1008), OPTS(sack2) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK | FIN, 83, 5008), OPTS(sack2_s) }, { .rewritten = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_FIN | COLO_CONN_PVM_FIN |
	       COLO_CONN_PEER_FIN) },
};

static const struct fixture flow_svm_first[] = {
	{ "SVM SYN first: raw", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, SYN, 5000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONN(0, 5000, 0, COLO_CONN_SVM_ISN | COLO_CONN_SVM_RAW) },
	{ "PVM SYN: offset known", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, SYN, 1000, 0) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW) },
	{ "peer SYN/ACK: SVM copy acks the SVM's ISN", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(6, TO_VM, SYN | ACK, 300, 1001) }, XDP_PASS,
	  { TCP(6, TO_VM, SYN | ACK, 300, 5001) }, { .rewritten = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW) },
	{ "SVM data stays in the SVM's space", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, ACK, 5001, 301), .data = "hi" }, XDP_DROP, {},
	  { .drop_no_socket = 1 }, CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW) },
	{ "SVM RST", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, RST, 5003, 0) }, XDP_DROP, {}, { .drop_no_socket = 1 },
	  CONN(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW | COLO_CONN_SVM_RST) },
	{ "PVM RST: entry gone", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, RST, 1003, 0) }, XDP_DROP, {},
	  { .conns_closed = 1, .drop_no_socket = 1 }, {} },
};

/* The failing case of tests/integration: the VMs' TCP clocks differ. */
static const struct fixture flow_client_opened_ts[] = {
	{ "client SYN with timestamps: no entry yet", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, SYN, 77, 0), OPTS(syn_ts_client) }, XDP_PASS, {}, {}, {} },
	{ "PVM SYN/ACK with timestamps", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(4, FROM_VM, SYN | ACK, 1000, 78), OPTS(synack_ts_pvm) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, PVM_SYN_TS },
	{ "SVM SYN/ACK with timestamps: seq shifted, ts_offset known", P_SVM_OUT,
	  CFG(RW, 0, 0), {}, { TCP(4, FROM_VM, SYN | ACK, 5000, 78), OPTS(synack_ts_svm) },
	  XDP_DROP, { TCP(4, FROM_VM, SYN | ACK, 1000, 78), OPTS(synack_ts_svm) },
	  { .rewritten = 1, .conns_learned = 1, .drop_no_socket = 1 }, C_TS },
	{ "handshake ACK: the SVM gets back the TSval it sent", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK, 78, 1001), OPTS(ack_ts_hs) }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 78, 5001), OPTS(ack_ts_hs_s) }, { .rewritten = 1 }, C_TS },
	{ "client data, a later echo", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(4, TO_VM, ACK, 78, 1001), OPTS(ack_ts), .data = "GET /" }, XDP_PASS,
	  { TCP(4, TO_VM, ACK, 78, 5001), OPTS(ack_ts_s), .data = "GET /" },
	  { .rewritten = 1 }, C_TS },
};

static const struct fixture flow_guest_opened_ts[] = {
	{ "SVM SYN with timestamps first", P_SVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, SYN, 5000, 0), OPTS(syn_ts_svm) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 }, SVM_SYN_TS },
	{ "PVM SYN with timestamps", P_PVM_OUT, CFG(RW, 0, 0), {},
	  { TCP(6, FROM_VM, SYN, 1000, 0), OPTS(syn_ts_pvm) }, XDP_DROP, {},
	  { .conns_learned = 1, .drop_no_socket = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW | TSB, 700000, 900000, 200000) },
	{ "peer SYN/ACK: the SVM gets back the TSval it sent", P_SVM_COPY, CFG(RW, 0, 0), {},
	  { TCP(6, TO_VM, SYN | ACK, 300, 1001), OPTS(synack_ts_peer) }, XDP_PASS,
	  { TCP(6, TO_VM, SYN | ACK, 300, 5001), OPTS(synack_ts_peer_s) }, { .rewritten = 1 },
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_RAW | TSB, 700000, 900000, 200000) },
};

static const struct flow flows[] = {
	{ "flow: client-opened IPv4 connection", flow_client_opened,
	  sizeof(flow_client_opened) / sizeof(flow_client_opened[0]) },
	{ "flow: guest-opened IPv6 connection, SVM first", flow_svm_first,
	  sizeof(flow_svm_first) / sizeof(flow_svm_first[0]) },
	{ "flow: client-opened IPv4 connection, TCP clocks differ", flow_client_opened_ts,
	  sizeof(flow_client_opened_ts) / sizeof(flow_client_opened_ts[0]) },
	{ "flow: guest-opened IPv6 connection, SVM first, TCP clocks differ",
	  flow_guest_opened_ts, sizeof(flow_guest_opened_ts) / sizeof(flow_guest_opened_ts[0]) },
};

/* --- tests --- */

static void test_xdp_fixture(void **state)
{
	const struct fixture *f = *state;

	fx_require(skel, load_err);
	fx_reset(skel);
	fx_run(skel, f, 1, repeat);
}

static void test_xdp_flow(void **state)
{
	const struct flow *fl = *state;
	size_t i;

	fx_require(skel, load_err);
	fx_reset(skel);
	for (i = 0; i < fl->n; i++)
		fx_run(skel, &fl->steps[i], 0, 0);
}

/* The object as built (colo_svm_copy a devmap program) passes the verifier. */
static void test_xdp_object_loads(void **state)
{
	struct colo_bpf *s;

	(void)state;
	if (geteuid() != 0)
		skip();
	s = colo_bpf__open_and_load();
	assert_non_null(s);
	colo_bpf__destroy(s);
}

/*
 * colo_conns_reset (proxy/conns.c, run at a checkpoint) on entries in
 * several states: the SVM takes the PVM's ISN, TSval and bits, both offsets
 * become 0, and colo_svm_copy leaves the client's frames alone afterwards.
 * Each fixture's pre is the entry before the reset, its post the one after
 * it and after the run.
 */
static const struct fixture reset_cases[] = {
	{ "reset: shifted connection, clocks differ", P_SVM_COPY, CFG(RW, 0, 0),
	  CONNTS(1000, 5000, 4000, BOTH | TSB | COLO_CONN_SVM_RAW, 700000, 900000, 200000),
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS, {}, {},
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 700000, 0) },
	{ "reset: only the PVM's SYN seen", P_SVM_COPY, CFG(RW, 0, 0), PVM_SYN_TS,
	  { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ack_ts) }, XDP_PASS, {}, {},
	  CONNTS(1000, 1000, 0, BOTH | TSB, 700000, 700000, 0) },
	{ "reset: only the SVM's SYN seen", P_SVM_COPY, CFG(RW, 0, 0), SVM_SYN_TS,
	  { TCP(4, TO_VM, ACK, 77, 1001), OPTS(ack_ts), .vlan = 5 }, XDP_PASS, {}, {},
	  CONNTS(0, 0, 0, 0, 0, 0, 0) },
	{ "reset: PVM without timestamps, SVM with", P_SVM_COPY, CFG(RW, 0, 0),
	  CONNTS(1000, 5000, 4000, BOTH | COLO_CONN_SVM_TS | COLO_CONN_PVM_FIN, 0, 900000, 0),
	  { TCP(6, TO_VM, ACK, 77, 1001), OPTS(ack_ts), .vlan = 5 }, XDP_PASS, {}, {},
	  CONNTS(1000, 1000, 0, BOTH | COLO_CONN_PVM_FIN | COLO_CONN_SVM_FIN, 0, 0, 0) },
};

static void test_xdp_conns_reset(void **state)
{
	const size_t n = sizeof(reset_cases) / sizeof(reset_cases[0]);
	struct colo_conn_key k;
	size_t i;

	(void)state;
	fx_require(skel, load_err);
	fx_reset(skel);
	for (i = 0; i < n; i++) {	/* four keys: IPv4/IPv6, untagged/VLAN 5 */
		fx_key(&reset_cases[i].in, &k);
		fx_put_conn(skel, &k, &reset_cases[i].pre);
	}
	assert_int_equal(colo_conns_reset(bpf_map__fd(skel->maps.colo_conns)), (int)n);
	for (i = 0; i < n; i++)
		fx_run(skel, &reset_cases[i], 0, 0);
}

/* Random ack/SACK values and offsets: the incremental checksum update must
 * always equal a full recomputation (pktbuild's). */
static void test_xdp_random_rewrites(void **state)
{
	(void)state;
	fx_require(skel, load_err);
	fx_random_rewrites(skel, 500);
}

/*
 * Maps pinned on a private bpffs and dumped by bpftool print every field by
 * name (BTF-typed keys and values). COLO_BPF_DUMP=1 prints the dumps.
 */
static void test_xdp_pinned_dump(void **state)
{
	static const struct fixture *const steps[] = { &flow_client_opened[0],
		&flow_client_opened_ts[1], &flow_client_opened_ts[2], &flow_client_opened_ts[3] };
	const char *maps[] = { "colo_counters", "colo_conns", "colo_config" };
	char dir[] = "/tmp/colo-bpffs-XXXXXX", path[128], cmd[256], out[8192];
	size_t i, n;
	FILE *p;

	(void)state;
	fx_require(skel, load_err);
	fx_reset(skel);
	assert_non_null(mkdtemp(dir));
	if (mount("bpf", dir, "bpf", 0, NULL)) {
		rmdir(dir);
		skip();
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		fx_run_keep_counters(skel, steps[i]);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, maps[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, maps[i]);
		assert_int_equal(bpf_map__pin(m, path), 0);
		snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s 2>&1", path);
		p = popen(cmd, "r");
		assert_non_null(p);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		pclose(p);
		bpf_map__unpin(m, path);
		if (getenv("COLO_BPF_DUMP"))
			printf("# bpftool map dump pinned .../%s\n%s", maps[i], out);
		if (!strstr(out, i == 0 ? "\"mirrored\": 1" :
			    i == 1 ? "\"ts_offset\": 200000" : "\"vm_mac\""))
			fail_msg("bpftool dump of %s lacks BTF field names:\n%s", maps[i], out);
	}
	umount(dir);
	rmdir(dir);
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	skel = fx_load(&load_err);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fx_unload(skel);
	skel = NULL;
	return 0;
}

static unsigned int parse_repeat(int argc, char **argv)
{
	const char *v = getenv("COLO_BPF_REPEAT");
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--repeat=", 9))
			v = argv[i] + 9;
		else {
			fprintf(stderr, "usage: %s [--repeat N]  (or COLO_BPF_REPEAT=N)\n",
				argv[0]);
			exit(2);
		}
	}
	return v ? (unsigned int)strtoul(v, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	enum {
		NFIX = sizeof(fixtures) / sizeof(fixtures[0]),
		NFLOW = sizeof(flows) / sizeof(flows[0]),
		NTESTS = NFIX + NFLOW + 4,
	};
	struct CMUnitTest tests[NTESTS];
	size_t i, n = 0;

	repeat = parse_repeat(argc, argv);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_xdp_object_loads);
	for (i = 0; i < NFIX; i++)
		tests[n++] = (struct CMUnitTest){
			.name = fixtures[i].name,
			.test_func = test_xdp_fixture,
			.initial_state = (void *)&fixtures[i],
		};
	for (i = 0; i < NFLOW; i++)
		tests[n++] = (struct CMUnitTest){
			.name = flows[i].name,
			.test_func = test_xdp_flow,
			.initial_state = (void *)&flows[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_xdp_conns_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_xdp_random_rewrites);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_xdp_pinned_dump);
	return _cmocka_run_group_tests("xdp", tests, n, group_setup, group_teardown);
}
