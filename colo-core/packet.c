// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Frame classification for the comparator. See packet.h.
 *
 * Every reader below checks its bounds against the end of what it may look
 * at (the frame, or the end of the IP packet) before touching a byte; a
 * header that does not fit turns the frame into COLO_CLASS_RAW.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "packet.h"

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IPV6_MAX_EXT	8
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	4

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_QINQ1	0x9100
#define ETH_P_IPV6	0x86dd

#define PROTO_HOPOPT	0
#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ROUTING	43
#define PROTO_FRAG6	44
#define PROTO_AH	51
#define PROTO_ICMPV6	58
#define PROTO_NONE6	59
#define PROTO_DSTOPTS	60

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Malformed or truncated: compare the whole frame and keep only the link
 * fields (VLAN tags, ethertype) in the key, so same-shape junk shares a flow.
 */
static int parse_raw(struct colo_parsed *out, size_t len)
{
	struct colo_flow_key *k = &out->key;

	memset(k->src, 0, sizeof(k->src));
	memset(k->dst, 0, sizeof(k->dst));
	k->sport = 0;
	k->dport = 0;
	k->proto = 0;
	k->family = 0;
	k->cls = COLO_CLASS_RAW;
	out->cmp_off = 0;
	out->cmp_len = (uint32_t)len;
	out->l3_off = 0;
	out->l4_off = 0;
	out->seq = 0;
	out->ack = 0;
	out->tcp_flags = 0;
	out->icmp_type = 0;
	out->icmp_code = 0;
	return COLO_CLASS_RAW;
}

/* A class whose compared bytes are the whole frame (OTHER, FRAG). */
static int parse_whole(struct colo_parsed *out, size_t len, enum colo_class cls)
{
	out->key.cls = cls;
	out->cmp_off = 0;
	out->cmp_len = (uint32_t)len;
	out->l4_off = 0;
	return cls;
}

static void set_cmp(struct colo_parsed *out, size_t off, size_t end)
{
	out->cmp_off = (uint32_t)off;
	out->cmp_len = (uint32_t)(end - off);
}

/* L4 header at f[l4 .. end), end being the end of the IP packet. */
static int parse_l4(const uint8_t *f, size_t l4, size_t end, size_t len,
		    struct colo_parsed *out)
{
	struct colo_flow_key *k = &out->key;
	size_t avail = end - l4;
	const uint8_t *p = f + l4;
	size_t doff, ulen;

	switch (k->proto) {
	case PROTO_TCP:
		if (avail < TCP_HLEN)
			return parse_raw(out, len);
		doff = (size_t)(p[12] >> 4) * 4;
		if (doff < TCP_HLEN || doff > avail)
			return parse_raw(out, len);
		k->sport = rd16(p);
		k->dport = rd16(p + 2);
		out->seq = rd32(p + 4);
		out->ack = rd32(p + 8);
		out->tcp_flags = p[13];
		out->l4_off = (uint16_t)l4;
		set_cmp(out, l4 + doff, end);
		k->cls = COLO_CLASS_TCP;
		return COLO_CLASS_TCP;
	case PROTO_UDP:
		if (avail < UDP_HLEN)
			return parse_raw(out, len);
		ulen = rd16(p + 4);
		if (ulen < UDP_HLEN || ulen > avail)
			return parse_raw(out, len);
		k->sport = rd16(p);
		k->dport = rd16(p + 2);
		out->l4_off = (uint16_t)l4;
		set_cmp(out, l4 + UDP_HLEN, l4 + ulen);
		k->cls = COLO_CLASS_UDP;
		return COLO_CLASS_UDP;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		/* ICMP belongs to IPv4, ICMPv6 to IPv6 */
		if ((k->proto == PROTO_ICMP) != (k->family == 4))
			break;
		if (avail < ICMP_HLEN)
			return parse_raw(out, len);
		out->icmp_type = p[0];
		out->icmp_code = p[1];
		out->l4_off = (uint16_t)l4;
		set_cmp(out, l4 + ICMP_HLEN, end);
		k->cls = COLO_CLASS_ICMP;
		return COLO_CLASS_ICMP;
	}
	set_cmp(out, l4, end);
	k->cls = COLO_CLASS_IP;
	return COLO_CLASS_IP;
}

static int parse_ipv4(const uint8_t *f, size_t off, size_t len,
		      struct colo_parsed *out)
{
	struct colo_flow_key *k = &out->key;
	const uint8_t *ip = f + off;
	size_t avail = len - off;
	size_t hlen, tot;

	if (avail < IPV4_HLEN || ip[0] >> 4 != 4)
		return parse_raw(out, len);
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tot = rd16(ip + 2);
	/* anything past the total length is Ethernet padding */
	if (hlen < IPV4_HLEN || tot < hlen || tot > avail)
		return parse_raw(out, len);
	k->family = 4;
	k->proto = ip[9];
	memcpy(k->src, ip + 12, 4);
	memcpy(k->dst, ip + 16, 4);
	out->l3_off = (uint16_t)off;
	if (rd16(ip + 6) & 0x3fff)	/* MF or fragment offset */
		return parse_whole(out, len, COLO_CLASS_FRAG);
	return parse_l4(f, off + hlen, off + tot, len, out);
}

static int ipv6_is_ext(uint8_t nh)
{
	return nh == PROTO_HOPOPT || nh == PROTO_ROUTING ||
	       nh == PROTO_DSTOPTS || nh == PROTO_AH;
}

static int parse_ipv6(const uint8_t *f, size_t off, size_t len,
		      struct colo_parsed *out)
{
	struct colo_flow_key *k = &out->key;
	const uint8_t *ip = f + off;
	size_t p, end, hl;
	unsigned int i;
	uint8_t nh;

	if (len - off < IPV6_HLEN || ip[0] >> 4 != 6)
		return parse_raw(out, len);
	end = off + IPV6_HLEN + rd16(ip + 4);
	if (end > len)
		return parse_raw(out, len);
	nh = ip[6];
	p = off + IPV6_HLEN;
	for (i = 0; i < IPV6_MAX_EXT && ipv6_is_ext(nh); i++) {
		if (end - p < 2)
			return parse_raw(out, len);
		if (nh == PROTO_AH)
			hl = ((size_t)f[p + 1] + 2) * 4;
		else
			hl = ((size_t)f[p + 1] + 1) * 8;
		if (hl > end - p)
			return parse_raw(out, len);
		nh = f[p];
		p += hl;
	}
	if (ipv6_is_ext(nh))	/* chain longer than we walk */
		return parse_raw(out, len);
	if (nh == PROTO_FRAG6 && end - p < 8)
		return parse_raw(out, len);

	k->family = 6;
	memcpy(k->src, ip + 8, 16);
	memcpy(k->dst, ip + 24, 16);
	out->l3_off = (uint16_t)off;
	if (nh == PROTO_FRAG6) {
		k->proto = f[p];	/* what the fragments carry */
		return parse_whole(out, len, COLO_CLASS_FRAG);
	}
	k->proto = nh;
	if (nh == PROTO_NONE6) {
		set_cmp(out, p, p);
		k->cls = COLO_CLASS_IP;
		return COLO_CLASS_IP;
	}
	return parse_l4(f, p, end, len, out);
}

static int is_vlan_tpid(uint16_t et)
{
	return et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ1;
}

/*
 * One VLAN tag at *off when *et is a tag TPID: fills key->vlan[slot] and moves
 * *off and *et past it. -1 when the tag does not fit.
 */
static inline int parse_vlan(const uint8_t *frame, size_t len, size_t *off,
			     uint16_t *et, struct colo_flow_key *k, int slot)
{
	uint16_t tpid = *et;

	if (!is_vlan_tpid(tpid))
		return 0;
	if (len - *off < VLAN_HLEN)
		return -1;
	k->vlan[slot] = (rd16(frame + *off) & COLO_VLAN_ID_MASK) |
			COLO_VLAN_PRESENT;
	if (tpid != ETH_P_8021Q)
		k->vlan[slot] |= COLO_VLAN_SVLAN;
	*et = rd16(frame + *off + 2);
	*off += VLAN_HLEN;
	return 0;
}

int colo_parse(const uint8_t *frame, size_t len, struct colo_parsed *out)
{
	struct colo_flow_key *k = &out->key;
	size_t off = ETH_HLEN;
	uint16_t et;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN)
		return parse_raw(out, len);
	et = rd16(frame + 12);
	/* up to MAX_VLAN_TAGS tags; a truncated tag keeps its TPID as the
	 * ethertype of the raw key */
	if (parse_vlan(frame, len, &off, &et, k, 0) ||
	    parse_vlan(frame, len, &off, &et, k, 1)) {
		k->ethertype = et;
		return parse_raw(out, len);
	}
	k->ethertype = et;
	if (et == ETH_P_IP)
		return parse_ipv4(frame, off, len, out);
	if (et == ETH_P_IPV6)
		return parse_ipv6(frame, off, len, out);
	return parse_whole(out, len, COLO_CLASS_OTHER);
}

static const char *const class_names[COLO_CLASS_MAX] = {
	[COLO_CLASS_RAW] = "raw",
	[COLO_CLASS_OTHER] = "other",
	[COLO_CLASS_FRAG] = "frag",
	[COLO_CLASS_IP] = "ip",
	[COLO_CLASS_TCP] = "tcp",
	[COLO_CLASS_UDP] = "udp",
	[COLO_CLASS_ICMP] = "icmp",
};

const char *colo_class_name(enum colo_class cls)
{
	if ((unsigned int)cls >= COLO_CLASS_MAX)
		return "unknown";
	return class_names[cls];
}

/* snprintf that appends at *n and keeps counting past the end of buf. */
static void appendf(char *buf, size_t size, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void appendf(char *buf, size_t size, int *n, const char *fmt, ...)
{
	size_t at = *n < 0 ? 0 : (size_t)*n;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (at < size)
		r = vsnprintf(buf + at, size - at, fmt, ap);
	else
		r = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n += r;
}

/* "192.0.2.10", "[2001:db8::1]" when a port follows, "2001:db8::1" else. */
static void append_addr(char *buf, size_t size, int *n,
			const struct colo_flow_key *k, const uint8_t *addr,
			int with_port, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];
	int af = k->family == 6 ? AF_INET6 : AF_INET;

	if (!inet_ntop(af, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (!with_port)
		appendf(buf, size, n, "%s", a);
	else if (af == AF_INET6)
		appendf(buf, size, n, "[%s]:%u", a, port);
	else
		appendf(buf, size, n, "%s:%u", a, port);
}

static void append_ends(char *buf, size_t size, int *n,
			const struct colo_flow_key *k, int ports)
{
	appendf(buf, size, n, " ");
	append_addr(buf, size, n, k, k->src, ports, k->sport);
	appendf(buf, size, n, " > ");
	append_addr(buf, size, n, k, k->dst, ports, k->dport);
}

int colo_flow_key_format(const struct colo_flow_key *key, char *buf, size_t size)
{
	int n = 0;

	if (size)
		buf[0] = '\0';
	switch (key->cls) {
	case COLO_CLASS_TCP:
	case COLO_CLASS_UDP:
		appendf(buf, size, &n, "%s", colo_class_name(key->cls));
		append_ends(buf, size, &n, key, 1);
		break;
	case COLO_CLASS_ICMP:
		appendf(buf, size, &n, "icmp");
		append_ends(buf, size, &n, key, 0);
		break;
	case COLO_CLASS_IP:
	case COLO_CLASS_FRAG:
		appendf(buf, size, &n, "%s proto %u",
			key->cls == COLO_CLASS_IP ? "ip" : "frag", key->proto);
		append_ends(buf, size, &n, key, 0);
		break;
	case COLO_CLASS_OTHER:
		if (key->ethertype == ETH_P_ARP)
			appendf(buf, size, &n, "arp");
		else
			appendf(buf, size, &n, "ether 0x%04x", key->ethertype);
		break;
	default:
		appendf(buf, size, &n, "raw");
		if (key->ethertype)
			appendf(buf, size, &n, " ether 0x%04x", key->ethertype);
		break;
	}
	if (key->vlan[0] & COLO_VLAN_PRESENT) {
		appendf(buf, size, &n, " vlan %u", key->vlan[0] & COLO_VLAN_ID_MASK);
		if (key->vlan[1] & COLO_VLAN_PRESENT)
			appendf(buf, size, &n, ".%u",
				key->vlan[1] & COLO_VLAN_ID_MASK);
	}
	return n;
}
