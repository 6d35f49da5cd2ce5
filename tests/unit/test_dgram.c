// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Datagram and whole-frame comparison, table-driven: per-flow FIFO matching
 * for UDP, ICMP/ICMPv6 and other IP protocols (header fields that are not
 * output are ignored), whole-frame comparison for ARP, fragments and frames
 * the parser cannot classify.
 */
#include <stdlib.h>

#include "harness.h"

enum op { END = 0, P, S, FLUSH, FINISH };
enum kind { UDP4, UDP6, ICMP4, ICMP6, GRE, ARP, FRAG4, FRAG6, JUNK };

struct step {
	enum op op;
	enum kind kind;
	int flow;		/* selects ports / addresses / vlan */
	const char *data;
	uint8_t type;		/* ICMP type; ARP op; IP ID for fragments */
	uint8_t ttl;		/* 0: side's default (differs per side) */
	int pad;		/* fill Ethernet padding with garbage */
	int vlan;
};

struct dcase {
	const char *name;
	struct step steps[16];
	const char *expect;
};

static size_t build(uint8_t *buf, const struct step *s, int side, uint16_t id)
{
	struct pkt_spec spec = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = (uint16_t)(53 + s->flow), .dport = 5353,
		.ttl = s->ttl ? s->ttl : (side ? 61 : 64),
		.ip_id = id, .vlan_outer = (uint16_t)s->vlan,
	};
	const char *d = s->data ? s->data : "";
	size_t n = strlen(d), len = 0;

	if (s->kind == UDP6 || s->kind == ICMP6 || s->kind == FRAG6) {
		spec.family = 6;
		spec.src = "2001:db8::10";
		spec.dst = s->flow ? "2001:db8::2" : "2001:db8::1";
	}
	switch (s->kind) {
	case UDP4:
	case UDP6:
		len = pkt_udp(buf, H_FRAME_CAP, &spec, d, n);
		break;
	case ICMP4:
	case ICMP6:
		len = pkt_icmp(buf, H_FRAME_CAP, &spec, s->type, 0, d, n);
		break;
	case GRE:
		len = pkt_ip(buf, H_FRAME_CAP, &spec, 47, d, n);
		break;
	case ARP:
		len = pkt_arp(buf, H_FRAME_CAP, &spec, s->type);
		break;
	case FRAG4:
	case FRAG6:
		spec.ip_id = s->type;
		len = pkt_frag(buf, H_FRAME_CAP, &spec, s->type, 8, 0, d, n);
		break;
	case JUNK:
		memset(buf, 0xee, 12);
		buf[12] = 0x08;	/* IPv4 ethertype, then a truncated header */
		buf[13] = 0x00;
		memcpy(buf + 14, d, n);
		len = 14 + n;
		break;
	}
	if (s->pad && len == 60)
		memset(buf + len - 4, 0xa5 + side, 4);
	return len;
}

static void run_case(const struct dcase *c)
{
	struct harness *h = h_new(NULL);
	const struct step *s;

	for (s = c->steps; s->op != END; s++) {
		if (s->op == P || s->op == S) {
			int side = s->op == P ? COLO_PRIMARY : COLO_SECONDARY;
			size_t len = build(h_slot(h), s, side,
					   (uint16_t)(h->nframes * 13 + side));

			assert_true(len > 0);
			assert_int_equal(h_push(h, side, len, 1 * MS), 0);
		} else if (s->op == FLUSH) {
			h_flush(h);
		} else if (s->op == FINISH) {
			colo_engine__finish(h->e);
		}
	}
	h_end_case(h, c->name, c->expect);
}

static const struct dcase cases[] = {
	{ "udp pair matches though IP ID and TTL differ",
	  { { P, UDP4, 0, "answer" }, { S, UDP4, 0, "answer" } }, "R1 D2" },
	{ "udp secondary first",
	  { { S, UDP4, 0, "answer" }, { P, UDP4, 0, "answer" } }, "R2 D1" },
	{ "udp FIFO within a flow",
	  { { P, UDP4, 0, "one" }, { P, UDP4, 0, "two" }, { S, UDP4, 0, "one" },
	    { S, UDP4, 0, "two" } }, "R1 D3 R2 D4" },
	{ "udp order across flows does not matter",
	  { { P, UDP4, 0, "a" }, { P, UDP4, 1, "b" }, { S, UDP4, 1, "b" },
	    { S, UDP4, 0, "a" } }, "R2 D3 R1 D4" },
	{ "udp payload differs: datagram index and byte",
	  { { P, UDP4, 0, "one" }, { S, UDP4, 0, "one" }, { P, UDP4, 0, "two" },
	    { S, UDP4, 0, "twX" } }, "R1 D2 C:datagram@1" },
	{ "udp length differs",
	  { { P, UDP4, 0, "abc" }, { S, UDP4, 0, "abcd" } }, "C:length@0" },
	{ "udp Ethernet padding is not output",
	  { { P, UDP4, 0, "x", 0, 0, 1 }, { S, UDP4, 0, "x", 0, 0, 1 } },
	  "R1 D2" },
	{ "udp over IPv6",
	  { { P, UDP6, 0, "v6" }, { S, UDP6, 0, "v6" } }, "R1 D2" },
	{ "icmp echo reply matches",
	  { { P, ICMP4, 0, "ping", 0 }, { S, ICMP4, 0, "ping", 0 } }, "R1 D2" },
	{ "icmp type differs",
	  { { P, ICMP4, 0, "ping", 0 }, { S, ICMP4, 0, "ping", 3 } },
	  "C:datagram@0" },
	{ "icmpv6 body differs",
	  { { P, ICMP6, 0, "ping", 129 }, { S, ICMP6, 0, "pong", 129 } },
	  "C:datagram@0" },
	{ "other IP protocol compares the L3 payload, not TTL",
	  { { P, GRE, 0, "tunnel" }, { S, GRE, 0, "tunnel" } }, "R1 D2" },
	{ "arp compared whole",
	  { { P, ARP, 0, NULL, 2 }, { S, ARP, 0, NULL, 2 } }, "R1 D2" },
	{ "arp differs",
	  { { P, ARP, 0, NULL, 2 }, { S, ARP, 0, NULL, 1 } }, "C:frame@0" },
	{ "ipv4 fragments compared whole (same IP ID and TTL)",
	  { { P, FRAG4, 0, "fragment", 9, 64 }, { S, FRAG4, 0, "fragment", 9, 64 } },
	  "R1 D2" },
	{ "ipv4 fragments differing in IP ID diverge (compared whole)",
	  { { P, FRAG4, 0, "fragment", 9, 64 }, { S, FRAG4, 0, "fragment", 10, 64 },
	    { FINISH } }, "C:frame@0 C:timeout@0" },
	{ "ipv6 fragments compared whole",
	  { { P, FRAG6, 0, "fragment", 9, 64 }, { S, FRAG6, 0, "fragment", 9, 64 } },
	  "R1 D2" },
	{ "unclassifiable frames compared whole",
	  { { P, JUNK, 0, "garbage" }, { S, JUNK, 0, "garbage" },
	    { P, JUNK, 0, "garbage" }, { S, JUNK, 0, "garbagf" } },
	  "R1 D2 C:frame@1" },
	{ "vlan is part of the flow",
	  { { P, UDP4, 0, "x", 0, 0, 0, 10 }, { S, UDP4, 0, "x", 0, 0, 0, 20 },
	    { FINISH } }, "C:timeout@0 C:timeout@0" },
	{ "held while pending, all handed back by flush",
	  { { P, UDP4, 0, "a" }, { S, UDP4, 0, "b" }, { P, UDP4, 1, "c" },
	    { S, UDP4, 1, "c" }, { FLUSH }, { P, UDP4, 0, "d" },
	    { S, UDP4, 0, "d" } },
	  "C:datagram@0 | R1 D2 R3 D4 R5 D6" },
	{ "unmatched at end of input, one report per flow",
	  { { P, UDP4, 0, "a" }, { P, UDP4, 0, "b" }, { P, UDP4, 1, "c" },
	    { FINISH } }, "C:timeout@0 C:timeout@0" },
};

static void test_dgram_case(void **state)
{
	run_case(*state);
}

int main(void)
{
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[NCASES];
	size_t i;

	for (i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_dgram_case,
			.initial_state = (void *)&cases[i],
		};
	return _cmocka_run_group_tests("dgram", tests, NCASES, NULL, NULL);
}
