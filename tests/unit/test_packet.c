// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for colo-core/packet.c: a table of frames (built with pktbuild,
 * sometimes patched into something malformed) and what colo_parse() must say
 * about each, plus truncation sweeps and flow key formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"
#include "pktbuild.h"

#define BUF_CAP		2048
#define WHOLE		-1	/* expected cmp_len: the whole frame */
#define V_PRES		COLO_VLAN_PRESENT
#define V_SVLAN		COLO_VLAN_SVLAN

static const struct pkt_spec s4 = {
	.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
	.sport = 80, .dport = 40000,
};

static const struct pkt_spec s6 = {
	.family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
	.sport = 53, .dport = 5353,
};

/* NOP, NOP, timestamp (10 bytes) */
static const uint8_t tcp_ts_opt[12] = {
	1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2
};

static const uint8_t icmp_body[12] = {
	0, 1, 0, 7, 'p', 'i', 'n', 'g', 'd', 'a', 't', 'a'
};

/* --- frame builders, one per shape --- */

static size_t b_tcp4(uint8_t *b)
{
	return pkt_tcp(b, BUF_CAP, &s4, 1000, 2000, COLO_TCP_PSH | COLO_TCP_ACK,
		       512, tcp_ts_opt, sizeof(tcp_ts_opt), "hello", 5);
}

static size_t b_tcp4_synack(uint8_t *b)
{
	return pkt_tcp(b, BUF_CAP, &s4, 7, 8, COLO_TCP_SYN | COLO_TCP_ACK,
		       512, NULL, 0, NULL, 0);
}

/* CWR | ECE | ACK: the whole low byte of the flags comes through */
static size_t b_tcp4_ecn(uint8_t *b)
{
	return pkt_tcp(b, BUF_CAP, &s4, 5, 6, 0xc0 | COLO_TCP_ACK, 512,
		       NULL, 0, "x", 1);
}

static size_t b_tcp4_ipopts(uint8_t *b)
{
	struct pkt_spec s = s4;

	s.ipv4_opts = 3;
	return pkt_tcp(b, BUF_CAP, &s, 1, 2, COLO_TCP_ACK, 512, NULL, 0,
		       "0123456789", 10);
}

static size_t b_udp4_pad(uint8_t *b)
{
	return pkt_udp(b, BUF_CAP, &s4, "abc", 3);
}

static size_t b_udp6(uint8_t *b)
{
	return pkt_udp(b, BUF_CAP, &s6, "0123456789", 10);
}

static size_t b_udp6_vlan(uint8_t *b)
{
	struct pkt_spec s = s6;

	s.vlan_outer = 10;
	return pkt_udp(b, BUF_CAP, &s, "dns", 3);
}

static size_t b_udp4_qinq(uint8_t *b)
{
	struct pkt_spec s = s4;

	s.vlan_outer = 10;
	s.vlan_inner = 20;
	return pkt_udp(b, BUF_CAP, &s, "abc", 3);
}

static size_t b_tcp6_ext(uint8_t *b)
{
	struct pkt_spec s = s6;

	s.ipv6_ext = 2;
	return pkt_tcp(b, BUF_CAP, &s, 0x80000001u, 0xfffffff0u,
		       COLO_TCP_FIN | COLO_TCP_ACK, 512, NULL, 0, "hello", 5);
}

static size_t b_udp6_ext8(uint8_t *b)
{
	struct pkt_spec s = s6;

	s.ipv6_ext = 8;
	return pkt_udp(b, BUF_CAP, &s, "abc", 3);
}

static size_t b_udp6_ext9(uint8_t *b)
{
	struct pkt_spec s = s6;

	s.ipv6_ext = 9;
	return pkt_udp(b, BUF_CAP, &s, "abc", 3);
}

/* routing header (8 bytes) -> AH (24 bytes) -> UDP with 4 bytes of data */
static size_t b_udp6_rt_ah(uint8_t *b)
{
	uint8_t l4[8 + 24 + 12] = { 0 };

	l4[0] = 51;		/* routing: next is AH, length 0 */
	l4[8] = 17;		/* AH: next is UDP, (4 + 2) * 4 = 24 bytes */
	l4[9] = 4;
	l4[32] = 0;		/* UDP: ports 53 -> 5353, length 12 */
	l4[33] = 53;
	l4[34] = 5353 >> 8;
	l4[35] = 5353 & 0xff;
	l4[37] = 12;
	memcpy(l4 + 40, "wxyz", 4);
	return pkt_ip(b, BUF_CAP, &s6, 43, l4, sizeof(l4));
}

static size_t b_ip6_nonext(uint8_t *b)
{
	return pkt_ip(b, BUF_CAP, &s6, 59, "junk", 4);
}

static size_t b_frag4_first(uint8_t *b)
{
	return pkt_frag(b, BUF_CAP, &s4, 0x1234, 0, 1, "0123456789abcdef", 16);
}

static size_t b_frag4_last(uint8_t *b)
{
	return pkt_frag(b, BUF_CAP, &s4, 0x1234, 16, 0, "tail", 4);
}

static size_t b_frag6(uint8_t *b)
{
	struct pkt_spec s = s6;

	s.ipv6_ext = 1;
	return pkt_frag(b, BUF_CAP, &s, 0xabcdef, 8, 1, "0123456789abcdef", 16);
}

static size_t b_ip4_gre(uint8_t *b)
{
	return pkt_ip(b, BUF_CAP, &s4, 47, "gre!", 4);
}

static size_t b_icmp4(uint8_t *b)
{
	return pkt_icmp(b, BUF_CAP, &s4, 0, 0, icmp_body, sizeof(icmp_body));
}

static size_t b_icmp6(uint8_t *b)
{
	return pkt_icmp(b, BUF_CAP, &s6, 129, 0, icmp_body, sizeof(icmp_body));
}

static size_t b_icmp4_short(uint8_t *b)
{
	return pkt_ip(b, BUF_CAP, &s4, 1, "\x08\x00", 2);
}

static size_t b_icmpv6_in_ipv4(uint8_t *b)
{
	return pkt_ip(b, BUF_CAP, &s4, 58, "\x80\x00\x00\x00xy", 6);
}

static size_t b_arp(uint8_t *b)
{
	return pkt_arp(b, BUF_CAP, &s4, 2);
}

static size_t b_arp_qinq(uint8_t *b)
{
	struct pkt_spec s = s4;

	s.vlan_outer = 10;
	s.vlan_inner = 20;
	return pkt_arp(b, BUF_CAP, &s, 1);
}

static size_t b_lldp(uint8_t *b)
{
	memset(b, 0x5a, 60);
	b[12] = 0x88;
	b[13] = 0xcc;
	return 60;
}

static size_t b_runt(uint8_t *b)
{
	memset(b, 0x11, 10);
	return 10;
}

/* Ethernet header announcing a tag, then only half the tag */
static size_t b_vlan_cut(uint8_t *b)
{
	memset(b, 0x22, 16);
	b[12] = 0x81;
	b[13] = 0x00;
	return 16;
}

/* --- the table --- */

struct patch {
	uint16_t off;		/* 0 = unused (never patch the dst MAC) */
	uint8_t val;
};

struct pcase {
	const char *name;	/* test_packet_<name> */
	size_t (*build)(uint8_t *buf);
	struct patch patch[2];
	enum colo_class cls;
	uint8_t family;
	uint8_t proto;
	uint16_t ethertype;
	uint16_t sport, dport;
	uint16_t vlan[2];
	uint16_t l3_off, l4_off;
	uint32_t cmp_off;
	int32_t cmp_len;	/* WHOLE = frame length */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint8_t icmp_type;
	const char *fmt;	/* expected colo_flow_key_format(), or NULL */
};

static const struct pcase cases[] = {
	{ "tcp4", b_tcp4, {}, COLO_CLASS_TCP, 4, 6, 0x0800, 80, 40000, {},
	  14, 34, 66, 5, COLO_TCP_PSH | COLO_TCP_ACK, 1000, 2000, 0,
	  "tcp 192.0.2.10:80 > 192.0.2.1:40000" },
	{ "tcp4_padding_excluded", b_tcp4_synack, {}, COLO_CLASS_TCP, 4, 6,
	  0x0800, 80, 40000, {}, 14, 34, 54, 0, COLO_TCP_SYN | COLO_TCP_ACK,
	  7, 8, 0, NULL },
	{ "tcp_flags_low_byte", b_tcp4_ecn, {}, COLO_CLASS_TCP, 4, 6, 0x0800,
	  80, 40000, {}, 14, 34, 54, 1, 0xc0 | COLO_TCP_ACK, 5, 6, 0, NULL },
	{ "ipv4_options", b_tcp4_ipopts, {}, COLO_CLASS_TCP, 4, 6, 0x0800,
	  80, 40000, {}, 14, 46, 66, 10, COLO_TCP_ACK, 1, 2, 0, NULL },
	{ "udp4_padding_excluded", b_udp4_pad, {}, COLO_CLASS_UDP, 4, 17,
	  0x0800, 80, 40000, {}, 14, 34, 42, 3, 0, 0, 0, 0,
	  "udp 192.0.2.10:80 > 192.0.2.1:40000" },
	{ "udp6", b_udp6, {}, COLO_CLASS_UDP, 6, 17, 0x86dd, 53, 5353, {},
	  14, 54, 62, 10, 0, 0, 0, 0,
	  "udp [2001:db8::1]:53 > [2001:db8::2]:5353" },
	{ "vlan_single", b_udp6_vlan, {}, COLO_CLASS_UDP, 6, 17, 0x86dd,
	  53, 5353, { 10 | V_PRES, 0 }, 18, 58, 66, 3, 0, 0, 0, 0,
	  "udp [2001:db8::1]:53 > [2001:db8::2]:5353 vlan 10" },
	{ "vlan_double", b_udp4_qinq, {}, COLO_CLASS_UDP, 4, 17, 0x0800,
	  80, 40000, { 10 | V_PRES | V_SVLAN, 20 | V_PRES }, 22, 42, 50, 3,
	  0, 0, 0, 0, "udp 192.0.2.10:80 > 192.0.2.1:40000 vlan 10.20" },
	{ "vlan_double_9100", b_udp4_qinq, { { 12, 0x91 }, { 13, 0x00 } },
	  COLO_CLASS_UDP, 4, 17, 0x0800, 80, 40000,
	  { 10 | V_PRES | V_SVLAN, 20 | V_PRES }, 22, 42, 50, 3, 0, 0, 0, 0,
	  NULL },
	{ "vlan_double_8021q", b_udp4_qinq, { { 12, 0x81 }, { 13, 0x00 } },
	  COLO_CLASS_UDP, 4, 17, 0x0800, 80, 40000,
	  { 10 | V_PRES, 20 | V_PRES }, 22, 42, 50, 3, 0, 0, 0, 0, NULL },
	{ "ipv6_hbh_dstopts", b_tcp6_ext, {}, COLO_CLASS_TCP, 6, 6, 0x86dd,
	  53, 5353, {}, 14, 70, 90, 5, COLO_TCP_FIN | COLO_TCP_ACK,
	  0x80000001u, 0xfffffff0u, 0,
	  "tcp [2001:db8::1]:53 > [2001:db8::2]:5353" },
	{ "ipv6_ext_8", b_udp6_ext8, {}, COLO_CLASS_UDP, 6, 17, 0x86dd,
	  53, 5353, {}, 14, 118, 126, 3, 0, 0, 0, 0, NULL },
	{ "ipv6_ext_9_raw", b_udp6_ext9, {}, COLO_CLASS_RAW, 0, 0, 0x86dd,
	  0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, "raw ether 0x86dd" },
	{ "ipv6_routing_ah", b_udp6_rt_ah, {}, COLO_CLASS_UDP, 6, 17, 0x86dd,
	  53, 5353, {}, 14, 86, 94, 4, 0, 0, 0, 0, NULL },
	{ "ipv6_ah_beyond_packet", b_udp6_rt_ah, { { 63, 200 } },
	  COLO_CLASS_RAW, 0, 0, 0x86dd, 0, 0, {}, 0, 0, 0, WHOLE,
	  0, 0, 0, 0, NULL },
	{ "ipv6_no_next_header", b_ip6_nonext, {}, COLO_CLASS_IP, 6, 59,
	  0x86dd, 0, 0, {}, 14, 0, 54, 0, 0, 0, 0, 0,
	  "ip proto 59 2001:db8::1 > 2001:db8::2" },
	{ "frag4_first", b_frag4_first, {}, COLO_CLASS_FRAG, 4, 17, 0x0800,
	  0, 0, {}, 14, 0, 0, WHOLE, 0, 0, 0, 0,
	  "frag proto 17 192.0.2.10 > 192.0.2.1" },
	{ "frag4_last", b_frag4_last, {}, COLO_CLASS_FRAG, 4, 17, 0x0800,
	  0, 0, {}, 14, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "frag6", b_frag6, {}, COLO_CLASS_FRAG, 6, 17, 0x86dd,
	  0, 0, {}, 14, 0, 0, WHOLE, 0, 0, 0, 0,
	  "frag proto 17 2001:db8::1 > 2001:db8::2" },
	{ "unknown_proto", b_ip4_gre, {}, COLO_CLASS_IP, 4, 47, 0x0800,
	  0, 0, {}, 14, 0, 34, 4, 0, 0, 0, 0,
	  "ip proto 47 192.0.2.10 > 192.0.2.1" },
	{ "icmp4", b_icmp4, {}, COLO_CLASS_ICMP, 4, 1, 0x0800, 0, 0, {},
	  14, 34, 38, 12, 0, 0, 0, 0, "icmp 192.0.2.10 > 192.0.2.1" },
	{ "icmp6", b_icmp6, {}, COLO_CLASS_ICMP, 6, 58, 0x86dd, 0, 0, {},
	  14, 54, 58, 12, 0, 0, 0, 129, "icmp 2001:db8::1 > 2001:db8::2" },
	{ "icmp4_short_raw", b_icmp4_short, {}, COLO_CLASS_RAW, 0, 0, 0x0800,
	  0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "icmpv6_in_ipv4_is_ip", b_icmpv6_in_ipv4, {}, COLO_CLASS_IP, 4, 58,
	  0x0800, 0, 0, {}, 14, 0, 34, 6, 0, 0, 0, 0, NULL },
	{ "arp", b_arp, {}, COLO_CLASS_OTHER, 0, 0, 0x0806, 0, 0, {},
	  0, 0, 0, WHOLE, 0, 0, 0, 0, "arp" },
	{ "arp_vlan_double", b_arp_qinq, {}, COLO_CLASS_OTHER, 0, 0, 0x0806,
	  0, 0, { 10 | V_PRES | V_SVLAN, 20 | V_PRES }, 0, 0, 0, WHOLE,
	  0, 0, 0, 0, "arp vlan 10.20" },
	{ "lldp", b_lldp, {}, COLO_CLASS_OTHER, 0, 0, 0x88cc, 0, 0, {},
	  0, 0, 0, WHOLE, 0, 0, 0, 0, "ether 0x88cc" },
	{ "runt", b_runt, {}, COLO_CLASS_RAW, 0, 0, 0, 0, 0, {},
	  0, 0, 0, WHOLE, 0, 0, 0, 0, "raw" },
	{ "vlan_tag_cut", b_vlan_cut, {}, COLO_CLASS_RAW, 0, 0, 0x8100, 0, 0,
	  {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, "raw ether 0x8100" },
	{ "ipv4_bad_version", b_udp4_pad, { { 14, 0x55 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0,
	  "raw ether 0x0800" },
	{ "ipv4_ihl_small", b_udp4_pad, { { 14, 0x44 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "ipv4_ihl_beyond_total", b_udp4_pad, { { 14, 0x4f } },
	  COLO_CLASS_RAW, 0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE,
	  0, 0, 0, 0, NULL },
	{ "ipv4_total_beyond_frame", b_udp4_pad, { { 16, 0x01 } },
	  COLO_CLASS_RAW, 0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE,
	  0, 0, 0, 0, NULL },
	{ "ipv4_total_below_ihl", b_udp4_pad, { { 17, 19 } },
	  COLO_CLASS_RAW, 0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE,
	  0, 0, 0, 0, NULL },
	{ "udp_len_beyond_ip", b_udp4_pad, { { 39, 12 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "udp_len_below_header", b_udp4_pad, { { 39, 7 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	/* UDP length shorter than the IP payload: trailing bytes not compared */
	{ "udp_len_shorter_than_ip", b_udp4_pad, { { 39, 9 } },
	  COLO_CLASS_UDP, 4, 17, 0x0800, 80, 40000, {}, 14, 34, 42, 1,
	  0, 0, 0, 0, NULL },
	{ "tcp_doff_small", b_tcp4, { { 46, 0x40 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "tcp_doff_beyond_ip", b_tcp4, { { 46, 0xf0 } }, COLO_CLASS_RAW,
	  0, 0, 0x0800, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "ipv6_bad_version", b_udp6, { { 14, 0x40 } }, COLO_CLASS_RAW,
	  0, 0, 0x86dd, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
	{ "ipv6_plen_beyond_frame", b_udp6, { { 18, 0x10 } }, COLO_CLASS_RAW,
	  0, 0, 0x86dd, 0, 0, {}, 0, 0, 0, WHOLE, 0, 0, 0, 0, NULL },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static size_t build_case(const struct pcase *c, uint8_t *buf)
{
	size_t len = c->build(buf);
	unsigned int i;

	assert_true(len > 0);
	for (i = 0; i < 2; i++) {
		if (c->patch[i].off) {
			assert_true(c->patch[i].off < len);
			buf[c->patch[i].off] = c->patch[i].val;
		}
	}
	return len;
}

static void test_packet_case(void **state)
{
	const struct pcase *c = *state;
	uint8_t buf[BUF_CAP];
	struct colo_parsed p;
	uint8_t *frame;
	size_t len;
	char s[128];
	int r;

	len = build_case(c, buf);
	/* exact-size copy so valgrind sees any read past the end */
	frame = malloc(len);
	assert_non_null(frame);
	memcpy(frame, buf, len);
	memset(&p, 0xa5, sizeof(p));
	r = colo_parse(frame, len, &p);
	free(frame);

	assert_int_equal(r, c->cls);
	assert_int_equal(p.key.cls, c->cls);
	assert_int_equal(p.key.family, c->family);
	assert_int_equal(p.key.proto, c->proto);
	assert_int_equal(p.key.ethertype, c->ethertype);
	assert_int_equal(p.key.sport, c->sport);
	assert_int_equal(p.key.dport, c->dport);
	assert_int_equal(p.key.vlan[0], c->vlan[0]);
	assert_int_equal(p.key.vlan[1], c->vlan[1]);
	assert_int_equal(p.l3_off, c->l3_off);
	assert_int_equal(p.l4_off, c->l4_off);
	assert_int_equal(p.cmp_off, c->cmp_off);
	assert_int_equal(p.cmp_len, c->cmp_len == WHOLE ? len : (size_t)c->cmp_len);
	assert_true(p.cmp_off + p.cmp_len <= len);
	assert_int_equal(p.tcp_flags, c->tcp_flags);
	assert_int_equal(p.seq, c->seq);
	assert_int_equal(p.ack, c->ack);
	assert_int_equal(p.icmp_type, c->icmp_type);
	assert_int_equal(p.icmp_code, 0);
	assert_memory_equal(p.key.pad, "\0\0\0", 3);
	if (c->family == 4) {
		static const uint8_t zero[12];

		assert_memory_equal(p.key.src + 4, zero, 12);
		assert_memory_equal(p.key.dst + 4, zero, 12);
	}
	if (c->fmt) {
		r = colo_flow_key_format(&p.key, s, sizeof(s));
		assert_string_equal(s, c->fmt);
		assert_int_equal(r, strlen(c->fmt));
	}
}

/* Addresses land where the key says, IPv4 in the first 4 bytes. */
static void test_packet_addresses(void **state)
{
	static const uint8_t a4[4] = { 192, 0, 2, 10 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	uint8_t buf[BUF_CAP];
	struct colo_parsed p;
	size_t len;

	len = b_tcp4(buf);
	colo_parse(buf, len, &p);
	assert_memory_equal(p.key.src, a4, 4);
	assert_int_equal(p.key.dst[3], 1);
	len = b_udp6(buf);
	colo_parse(buf, len, &p);
	assert_memory_equal(p.key.dst, a6, 16);
	assert_memory_equal(p.cmp_off + buf, "0123456789", 10);
}

/*
 * Parse every prefix of a frame, each in an exact-size allocation: the result
 * must be RAW over the whole prefix, or the frame's own class and key with
 * the compared bytes inside the prefix (only when just padding was cut).
 */
static void sweep_prefixes(size_t (*build)(uint8_t *), int expect_nonraw)
{
	struct colo_parsed full, p;
	uint8_t buf[BUF_CAP];
	size_t len, n;
	int nonraw = 0;

	len = build(buf);
	assert_true(len > 0);
	colo_parse(buf, len, &full);
	assert_int_not_equal(full.key.cls, COLO_CLASS_RAW);
	for (n = 0; n < len; n++) {
		uint8_t *f = malloc(n ? n : 1);

		assert_non_null(f);
		memcpy(f, buf, n);
		colo_parse(f, n, &p);
		free(f);
		if (p.key.cls == COLO_CLASS_RAW) {
			assert_int_equal(p.cmp_off, 0);
			assert_int_equal(p.cmp_len, n);
			assert_int_equal(p.key.family, 0);
			continue;
		}
		nonraw++;
		assert_int_equal(p.key.cls, full.key.cls);
		assert_memory_equal(&p.key, &full.key, sizeof(p.key));
		assert_true(p.cmp_off + p.cmp_len <= n);
		if (full.key.cls != COLO_CLASS_OTHER &&
		    full.key.cls != COLO_CLASS_FRAG) {
			assert_int_equal(p.cmp_off, full.cmp_off);
			assert_int_equal(p.cmp_len, full.cmp_len);
		}
	}
	if (expect_nonraw >= 0)
		assert_int_equal(nonraw, expect_nonraw);
}

static size_t b_tcp4_vlan_opts(uint8_t *b)
{
	struct pkt_spec s = s4;

	s.vlan_outer = 7;
	s.ipv4_opts = 2;
	return pkt_tcp(b, BUF_CAP, &s, 1, 2, COLO_TCP_ACK, 9, tcp_ts_opt,
		       sizeof(tcp_ts_opt), "payload bytes", 13);
}

static void test_packet_truncated_tcp4(void **state)
{
	/* no padding: every strict prefix is truncated, hence RAW */
	sweep_prefixes(b_tcp4, 0);
	sweep_prefixes(b_tcp4_vlan_opts, 0);
}

static void test_packet_truncated_tcp6(void **state)
{
	sweep_prefixes(b_tcp6_ext, 0);
}

static void test_packet_truncated_padded(void **state)
{
	/* 45-byte UDP frame padded to 60: prefixes 45..59 still parse */
	sweep_prefixes(b_udp4_pad, 60 - 45);
	sweep_prefixes(b_tcp4_synack, 60 - 54);
	sweep_prefixes(b_udp6_rt_ah, 0);
	sweep_prefixes(b_icmp6, 0);
	sweep_prefixes(b_frag6, 0);
}

/* Malformed frames of one shape share a key, so they share a flow. */
static void test_packet_raw_same_shape_same_key(void **state)
{
	uint8_t a[BUF_CAP], b[BUF_CAP];
	struct colo_parsed pa, pb;
	size_t la, lb;

	la = b_udp4_qinq(a);
	lb = b_udp4_qinq(b);
	a[22] = 0x35;		/* bad IP version, different junk after */
	b[22] = 0x35;
	b[40] ^= 0xff;
	memset(&pa, 0x11, sizeof(pa));
	memset(&pb, 0x77, sizeof(pb));
	colo_parse(a, la, &pa);
	colo_parse(b, lb, &pb);
	assert_int_equal(pa.key.cls, COLO_CLASS_RAW);
	assert_int_equal(pa.key.vlan[1], 20 | V_PRES);
	assert_memory_equal(&pa.key, &pb.key, sizeof(pa.key));
}

/* Two frames of one flow have byte-identical keys whatever was in *out. */
static void test_packet_key_zeroed(void **state)
{
	struct colo_parsed pa, pb;
	uint8_t buf[BUF_CAP];
	size_t len;

	len = b_tcp4(buf);
	memset(&pa, 0x00, sizeof(pa));
	memset(&pb, 0xff, sizeof(pb));
	colo_parse(buf, len, &pa);
	colo_parse(buf, len, &pb);
	assert_memory_equal(&pa.key, &pb.key, sizeof(pa.key));
	assert_memory_equal(&pa, &pb, sizeof(pa));
}

static void test_packet_class_name(void **state)
{
	assert_string_equal(colo_class_name(COLO_CLASS_RAW), "raw");
	assert_string_equal(colo_class_name(COLO_CLASS_OTHER), "other");
	assert_string_equal(colo_class_name(COLO_CLASS_FRAG), "frag");
	assert_string_equal(colo_class_name(COLO_CLASS_IP), "ip");
	assert_string_equal(colo_class_name(COLO_CLASS_TCP), "tcp");
	assert_string_equal(colo_class_name(COLO_CLASS_UDP), "udp");
	assert_string_equal(colo_class_name(COLO_CLASS_ICMP), "icmp");
	assert_string_equal(colo_class_name(COLO_CLASS_MAX), "unknown");
	assert_string_equal(colo_class_name((enum colo_class)-1), "unknown");
}

/* Short buffers: truncated but terminated, full length returned. */
static void test_packet_flow_key_format_short_buffer(void **state)
{
	static const char want[] = "tcp 192.0.2.10:80 > 192.0.2.1:40000";
	uint8_t buf[BUF_CAP];
	struct colo_parsed p;
	char s[10];
	size_t len;
	int r;

	len = b_tcp4(buf);
	colo_parse(buf, len, &p);
	memset(s, 'x', sizeof(s));
	r = colo_flow_key_format(&p.key, s, sizeof(s));
	assert_int_equal(r, strlen(want));
	assert_string_equal(s, "tcp 192.0");
	r = colo_flow_key_format(&p.key, s, 0);
	assert_int_equal(r, strlen(want));
	assert_int_equal(s[0], 't');
	r = colo_flow_key_format(&p.key, s, 1);
	assert_int_equal(r, strlen(want));
	assert_int_equal(s[0], '\0');
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_packet_addresses),
		cmocka_unit_test(test_packet_truncated_tcp4),
		cmocka_unit_test(test_packet_truncated_tcp6),
		cmocka_unit_test(test_packet_truncated_padded),
		cmocka_unit_test(test_packet_raw_same_shape_same_key),
		cmocka_unit_test(test_packet_key_zeroed),
		cmocka_unit_test(test_packet_class_name),
		cmocka_unit_test(test_packet_flow_key_format_short_buffer),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[NCASES + sizeof(fixed) / sizeof(fixed[0])];
	static char names[NCASES][64];
	size_t i;

	for (i = 0; i < NCASES; i++) {
		snprintf(names[i], sizeof(names[i]), "test_packet_%s",
			 cases[i].name);
		tests[i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = test_packet_case,
			.initial_state = (void *)&cases[i],
		};
	}
	for (i = 0; i < nfixed; i++)
		tests[NCASES + i] = fixed[i];
	return _cmocka_run_group_tests("packet", tests, NCASES + nfixed,
				       NULL, NULL);
}
