/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frame classification for the comparator.
 *
 * colo_parse() reads one Ethernet frame and says which flow it belongs to and
 * which bytes of it are "output" that the primary and the secondary must agree
 * on. It never reads past the frame and never fails: a frame it cannot make
 * sense of is classified COLO_CLASS_RAW and compared whole.
 */
#ifndef COLO_PACKET_H
#define COLO_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* How a flow's frames are compared. */
enum colo_class {
	COLO_CLASS_RAW = 0,	/* unparseable Ethernet payload: whole frame, FIFO */
	COLO_CLASS_OTHER,	/* non-IP ethertype (ARP, ...): whole frame, FIFO */
	COLO_CLASS_FRAG,	/* IPv4/IPv6 fragment: whole frame, FIFO */
	COLO_CLASS_IP,		/* IP with an L4 protocol we do not parse: L3 payload */
	COLO_CLASS_TCP,		/* TCP: byte stream by sequence offset */
	COLO_CLASS_UDP,		/* UDP: L4 payload, FIFO */
	COLO_CLASS_ICMP,	/* ICMP/ICMPv6: type, code, body, FIFO */
	COLO_CLASS_MAX,
};

/* VLAN tag slot: 12-bit id plus these marker bits (0 = no tag). */
#define COLO_VLAN_PRESENT	0x8000	/* tag present */
#define COLO_VLAN_SVLAN		0x4000	/* TPID was 802.1ad (0x88a8) or 0x9100 */
#define COLO_VLAN_ID_MASK	0x0fff

#define COLO_TCP_FIN	0x01
#define COLO_TCP_SYN	0x02
#define COLO_TCP_RST	0x04
#define COLO_TCP_PSH	0x08
#define COLO_TCP_ACK	0x10

/*
 * Flow key, as seen from the VM: src is the VM. 48 bytes, no holes, so it can
 * be hashed and compared as memory. Unused fields are zero.
 */
struct colo_flow_key {
	uint8_t src[16];	/* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport;		/* TCP/UDP ports; 0 otherwise */
	uint16_t dport;
	uint16_t vlan[2];	/* outer, inner: id | COLO_VLAN_* markers */
	uint16_t ethertype;	/* innermost ethertype */
	uint8_t proto;		/* IP protocol (final next-header for IPv6) */
	uint8_t family;		/* 4, 6 or 0 */
	uint8_t cls;		/* enum colo_class */
	uint8_t pad[3];
};

struct colo_parsed {
	struct colo_flow_key key;
	/* Bytes compared for this frame: [cmp_off, cmp_off + cmp_len). For TCP
	 * this is the segment payload; for UDP the datagram payload (from the
	 * UDP length, so Ethernet padding is excluded); for ICMP type, code and
	 * everything after the checksum is compared (see icmp_* below); for IP
	 * the L3 payload; for RAW/OTHER/FRAG the whole frame. */
	uint32_t cmp_off;
	uint32_t cmp_len;
	uint16_t l3_off;	/* 0 when there is no IP header */
	uint16_t l4_off;	/* 0 when there is no parsed L4 header */
	/* TCP only */
	uint32_t seq;
	uint32_t ack;
	uint8_t tcp_flags;	/* COLO_TCP_* */
	/* ICMP only: type and code; cmp_off/len then cover the body after the
	 * 4-byte header (checksum excluded). */
	uint8_t icmp_type;
	uint8_t icmp_code;
};

/* Classify frame[0..len). Always fills *out; returns out->key.cls. */
int colo_parse(const uint8_t *frame, size_t len, struct colo_parsed *out);

const char *colo_class_name(enum colo_class cls);

/*
 * Format a flow key for people, e.g. "tcp 192.0.2.10:80 > 192.0.2.1:40000",
 * "udp [2001:db8::1]:53 > [2001:db8::2]:5353 vlan 10", "arp vlan 10.20".
 * Returns the length snprintf would; buf is always terminated.
 */
int colo_flow_key_format(const struct colo_flow_key *key, char *buf, size_t size);

#endif
