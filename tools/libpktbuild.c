// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Frame builder: well-formed Ethernet frames for tests, fixtures and
 * benchmarks. See pktbuild.h.
 *
 * Every builder works the same way: frame_begin() writes the Ethernet header,
 * VLAN tags and the IP header (with IPv4 options or IPv6 extension headers)
 * for an L4 part of a known length and says where the L4 part starts; the
 * builder writes its L4 header and payload there; frame_end() fills in the L4
 * checksum when asked and pads the frame to the Ethernet minimum.
 */
#include <arpa/inet.h>
#include <string.h>

#include "pktbuild.h"

#define ETH_HLEN	14
#define ETH_ZLEN	60	/* minimum frame without FCS */
#define VLAN_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IPV6_EXT_LEN	8	/* each inserted extension header */
#define IPV6_FRAG_LEN	8
#define IPV4_MAX_OPTS	10	/* IHL is 4 bits: 15 words, 5 of them fixed */
#define IPV6_MAX_EXT	16

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_IPV6	0x86dd

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_FRAG6	44
#define PROTO_ICMPV6	58
#define PROTO_HOPOPT	0
#define PROTO_DSTOPTS	60

static const uint8_t def_smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t def_dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* Where the pieces of a frame being built are. */
struct frame {
	uint8_t *buf;
	size_t cap;
	size_t l3_off;
	size_t l4_off;
	size_t end;		/* frame length before padding */
	int family;
	uint8_t proto;		/* final L4 protocol (for the pseudo-header) */
	uint8_t src[16];
	uint8_t dst[16];
};

struct frag_info {
	uint32_t id;
	uint16_t offset;
	int more;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static int mac_is_zero(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

/* One's complement sum of a byte range, big-endian words. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static size_t eth_write(uint8_t *p, const struct pkt_spec *s, uint16_t ethertype)
{
	size_t off = 12;

	memcpy(p, mac_is_zero(s->dmac) ? def_dmac : s->dmac, 6);
	memcpy(p + 6, mac_is_zero(s->smac) ? def_smac : s->smac, 6);
	if (s->vlan_outer) {
		put16(p + off, s->vlan_inner ? ETH_P_8021AD : ETH_P_8021Q);
		put16(p + off + 2, s->vlan_outer & 0x0fff);
		off += VLAN_HLEN;
	}
	if (s->vlan_inner) {
		put16(p + off, ETH_P_8021Q);
		put16(p + off + 2, s->vlan_inner & 0x0fff);
		off += VLAN_HLEN;
	}
	put16(p + off, ethertype);
	return off + 2;
}

static size_t eth_len(const struct pkt_spec *s)
{
	return ETH_HLEN + (s->vlan_outer ? VLAN_HLEN : 0) +
	       (s->vlan_inner ? VLAN_HLEN : 0);
}

static void ipv4_write(struct frame *f, const struct pkt_spec *s,
		       size_t l4len, const struct frag_info *frag)
{
	uint8_t *ip = f->buf + f->l3_off;
	size_t hlen = IPV4_HLEN + 4 * (size_t)s->ipv4_opts;
	uint16_t frag_field = 0;

	ip[0] = 0x40 | (hlen / 4);
	ip[1] = 0;
	put16(ip + 2, hlen + l4len);
	if (frag) {
		put16(ip + 4, frag->id & 0xffff);
		frag_field = (frag->offset / 8) | (frag->more ? 0x2000 : 0);
	} else {
		put16(ip + 4, s->ip_id);
	}
	put16(ip + 6, frag_field);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = f->proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, f->src, 4);
	memcpy(ip + 16, f->dst, 4);
	memset(ip + IPV4_HLEN, 0x01, hlen - IPV4_HLEN);	/* NOP options */
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

static void ipv6_write(struct frame *f, const struct pkt_spec *s,
		       size_t l4len, const struct frag_info *frag)
{
	uint8_t *ip = f->buf + f->l3_off;
	uint8_t *nh = ip + 6;	/* where the next "next header" goes */
	uint8_t *p = ip + IPV6_HLEN;
	unsigned int i;

	put32(ip, 0x60000000);
	put16(ip + 4, f->end - f->l3_off - IPV6_HLEN);
	ip[7] = s->ttl ? s->ttl : 64;
	memcpy(ip + 8, f->src, 16);
	memcpy(ip + 24, f->dst, 16);
	(void)l4len;

	/* hop-by-hop first, then destination options; each 8 bytes: next
	 * header, length 0, one PadN option covering the other 4 bytes */
	for (i = 0; i < s->ipv6_ext; i++) {
		*nh = i == 0 ? PROTO_HOPOPT : PROTO_DSTOPTS;
		nh = p;
		p[1] = 0;
		p[2] = 1;	/* PadN */
		p[3] = 4;
		memset(p + 4, 0, 4);
		p += IPV6_EXT_LEN;
	}
	if (frag) {
		*nh = PROTO_FRAG6;
		nh = p;
		p[1] = 0;
		put16(p + 2, (frag->offset & 0xfff8) | (frag->more ? 1 : 0));
		put32(p + 4, frag->id);
		p += IPV6_FRAG_LEN;
	}
	*nh = f->proto;
}

/*
 * Lay out headers for an L4 part of l4len bytes carrying protocol proto.
 * Returns 0 and fills *f, or -1 when the spec is invalid or cap too small.
 */
static int frame_begin(struct frame *f, uint8_t *buf, size_t cap,
		       const struct pkt_spec *s, uint8_t proto, size_t l4len,
		       const struct frag_info *frag)
{
	size_t l3len;
	int af;

	if (!buf || !s || !s->src || !s->dst)
		return -1;
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->cap = cap;
	f->family = s->family;
	f->proto = proto;
	if (s->family == 4) {
		if (s->ipv4_opts > IPV4_MAX_OPTS)
			return -1;
		af = AF_INET;
		l3len = IPV4_HLEN + 4 * (size_t)s->ipv4_opts;
	} else if (s->family == 6) {
		if (s->ipv6_ext > IPV6_MAX_EXT)
			return -1;
		af = AF_INET6;
		l3len = IPV6_HLEN + IPV6_EXT_LEN * (size_t)s->ipv6_ext +
			(frag ? IPV6_FRAG_LEN : 0);
	} else {
		return -1;
	}
	if (inet_pton(af, s->src, f->src) != 1 ||
	    inet_pton(af, s->dst, f->dst) != 1)
		return -1;
	if (l3len + l4len > 0xffff + (s->family == 6 ? IPV6_HLEN : 0))
		return -1;
	f->l3_off = eth_len(s);
	f->l4_off = f->l3_off + l3len;
	f->end = f->l4_off + l4len;
	if (cap < f->end || cap < ETH_ZLEN)
		return -1;
	eth_write(buf, s, s->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (s->family == 4)
		ipv4_write(f, s, l4len, frag);
	else
		ipv6_write(f, s, l4len, frag);
	return 0;
}

/* Pseudo-header checksum over the L4 part; csum_off is where it goes. */
static void l4_csum(struct frame *f, size_t csum_off, int zero_is_ffff)
{
	uint8_t *l4 = f->buf + f->l4_off;
	size_t l4len = f->end - f->l4_off;
	uint8_t tail[8] = { 0 };
	uint32_t sum = 0;
	uint16_t c;

	put16(l4 + csum_off, 0);
	if (f->family == 4) {
		sum = csum_add(sum, f->src, 4);
		sum = csum_add(sum, f->dst, 4);
		tail[1] = f->proto;
		put16(tail + 2, l4len);
		sum = csum_add(sum, tail, 4);
	} else {
		sum = csum_add(sum, f->src, 16);
		sum = csum_add(sum, f->dst, 16);
		put32(tail, l4len);
		tail[7] = f->proto;
		sum = csum_add(sum, tail, 8);
	}
	c = csum_fold(csum_add(sum, l4, l4len));
	if (c == 0 && zero_is_ffff)
		c = 0xffff;
	put16(l4 + csum_off, c);
}

static size_t frame_end(struct frame *f)
{
	if (f->end < ETH_ZLEN) {
		memset(f->buf + f->end, 0, ETH_ZLEN - f->end);
		return ETH_ZLEN;
	}
	return f->end;
}

static void copy_payload(uint8_t *dst, const void *src, size_t len)
{
	if (len)
		memcpy(dst, src, len);
}

size_t pkt_tcp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	       uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
	       const void *opts, size_t optlen,
	       const void *payload, size_t len)
{
	size_t hlen = 20 + optlen;
	struct frame f;
	uint8_t *th;

	if (optlen % 4 || optlen > 40 || (optlen && !opts) || (len && !payload))
		return 0;
	if (frame_begin(&f, buf, cap, s, PROTO_TCP, hlen + len, NULL))
		return 0;
	th = buf + f.l4_off;
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (hlen / 4) << 4;
	th[13] = flags;
	put16(th + 14, win);
	put16(th + 16, 0);
	put16(th + 18, 0);	/* urgent pointer */
	copy_payload(th + 20, opts, optlen);
	copy_payload(th + hlen, payload, len);
	l4_csum(&f, 16, 0);
	return frame_end(&f);
}

size_t pkt_udp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	       const void *payload, size_t len)
{
	struct frame f;
	uint8_t *uh;

	if ((len && !payload) || len > 0xffff - 8)
		return 0;
	if (frame_begin(&f, buf, cap, s, PROTO_UDP, 8 + len, NULL))
		return 0;
	uh = buf + f.l4_off;
	put16(uh, s->sport);
	put16(uh + 2, s->dport);
	put16(uh + 4, 8 + len);
	copy_payload(uh + 8, payload, len);
	l4_csum(&f, 6, 1);
	return frame_end(&f);
}

size_t pkt_icmp(uint8_t *buf, size_t cap, const struct pkt_spec *s,
		uint8_t type, uint8_t code, const void *body, size_t len)
{
	uint8_t proto = s && s->family == 6 ? PROTO_ICMPV6 : PROTO_ICMP;
	struct frame f;
	uint8_t *ih;

	if (len && !body)
		return 0;
	if (frame_begin(&f, buf, cap, s, proto, 4 + len, NULL))
		return 0;
	ih = buf + f.l4_off;
	ih[0] = type;
	ih[1] = code;
	copy_payload(ih + 4, body, len);
	if (f.family == 6) {
		l4_csum(&f, 2, 0);
	} else {
		put16(ih + 2, 0);
		put16(ih + 2, csum_fold(csum_add(0, ih, 4 + len)));
	}
	return frame_end(&f);
}

size_t pkt_ip(uint8_t *buf, size_t cap, const struct pkt_spec *s,
	      uint8_t proto, const void *payload, size_t len)
{
	struct frame f;

	if (len && !payload)
		return 0;
	if (frame_begin(&f, buf, cap, s, proto, len, NULL))
		return 0;
	copy_payload(buf + f.l4_off, payload, len);
	return frame_end(&f);
}

size_t pkt_frag(uint8_t *buf, size_t cap, const struct pkt_spec *s,
		uint32_t frag_id, uint16_t offset, int more,
		const void *payload, size_t len)
{
	struct frag_info fi = { .id = frag_id, .offset = offset, .more = more };
	struct frame f;

	if (offset % 8 || (len && !payload))
		return 0;
	if (frame_begin(&f, buf, cap, s, PROTO_UDP, len, &fi))
		return 0;
	copy_payload(buf + f.l4_off, payload, len);
	return frame_end(&f);
}

size_t pkt_arp(uint8_t *buf, size_t cap, const struct pkt_spec *s, uint16_t op)
{
	uint8_t spa[4], tpa[4];
	const uint8_t *smac, *dmac;
	uint8_t *a;
	size_t off;

	if (!buf || !s || !s->src || !s->dst || cap < ETH_ZLEN ||
	    cap < eth_len(s) + 28)
		return 0;
	if (inet_pton(AF_INET, s->src, spa) != 1 ||
	    inet_pton(AF_INET, s->dst, tpa) != 1)
		return 0;
	smac = mac_is_zero(s->smac) ? def_smac : s->smac;
	dmac = mac_is_zero(s->dmac) ? def_dmac : s->dmac;
	off = eth_write(buf, s, ETH_P_ARP);
	a = buf + off;
	put16(a, 1);		/* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, smac, 6);
	memcpy(a + 14, spa, 4);
	if (op == 1)
		memset(a + 18, 0, 6);	/* target MAC unknown in a request */
	else
		memcpy(a + 18, dmac, 6);
	memcpy(a + 24, tpa, 4);
	off += 28;
	if (off < ETH_ZLEN) {
		memset(buf + off, 0, ETH_ZLEN - off);
		off = ETH_ZLEN;
	}
	return off;
}
