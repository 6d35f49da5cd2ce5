/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frame builder for tests, fixtures and benchmarks: writes well-formed
 * Ethernet frames (optional 802.1Q/802.1ad tags, IPv4 or IPv6, TCP/UDP/ICMP
 * with correct checksums) into a caller's buffer. Not used by the proxy.
 */
#ifndef COLO_PKTBUILD_H
#define COLO_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

struct pkt_spec {
	int family;			/* 4 or 6 */
	const char *src;		/* "192.0.2.10", "2001:db8::10" */
	const char *dst;
	uint16_t sport, dport;		/* TCP/UDP */
	uint8_t smac[6], dmac[6];	/* zero -> 02:00:00:00:00:01 / :02 */
	uint16_t vlan_outer;		/* 0 = none; tag 0x88a8 if vlan_inner set, else 0x8100 */
	uint16_t vlan_inner;		/* 0 = none; tag 0x8100 */
	uint8_t ttl;			/* 0 -> 64 */
	uint16_t ip_id;			/* IPv4 identification */
	uint8_t ipv4_opts;		/* number of 4-byte IPv4 option words (NOPs) */
	uint8_t ipv6_ext;		/* number of IPv6 ext headers to insert:
					 * hop-by-hop then destination options */
};

/*
 * Each builder returns the frame length written to buf, or 0 when cap is too
 * small or the spec is invalid. Frames shorter than 60 bytes are padded with
 * zeros to 60 (as a NIC would), so L4 lengths come from the headers.
 */
size_t pkt_tcp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	       uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
	       const void *opts, size_t optlen,	/* TCP options, multiple of 4 */
	       const void *payload, size_t len);
size_t pkt_udp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	       const void *payload, size_t len);
/* ICMP for family 4, ICMPv6 for family 6; body follows the 4-byte header. */
size_t pkt_icmp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
		uint8_t type, uint8_t code, const void *body, size_t len);
/* IP packet with an arbitrary protocol number and payload. */
size_t pkt_ip(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	      uint8_t proto, const void *payload, size_t len);
/* One fragment of a UDP datagram: IPv4 (MF/offset) or IPv6 (fragment header);
 * offset in bytes (multiple of 8), more = MF flag, frag_id = IP ID or
 * IPv6 identification. payload is the fragment's bytes. */
size_t pkt_frag(uint8_t *buf, size_t cap, const struct pkt_spec *s,
		uint32_t frag_id, uint16_t offset, int more,
		const void *payload, size_t len);
/* ARP request (op 1) or reply (op 2) for IPv4 addresses in s->src/s->dst. */
size_t pkt_arp(uint8_t *buf, size_t cap, const struct pkt_spec *s, uint16_t op);

#endif
