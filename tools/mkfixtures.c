// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkfixtures DIR: write the fixture captures used by the tests into DIR.
 *
 * Each scenario is a pair NAME-primary.pcap / NAME-secondary.pcap holding what
 * the primary VM and the secondary VM sent. The two sides differ in IP ID,
 * TTL, TCP window, TCP timestamps, ISNs and checksums (which must not count)
 * and, in the diverge-* scenarios, in one thing that must. Output is fully
 * deterministic: fixed addresses, fixed timestamps from 1700000000 s.
 * tests/data/README.md lists the scenarios and their expected verdicts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pktbuild.h"

#define BASE_SEC	1700000000ull
#define SEC_SKEW_US	200	/* secondary lags the primary by this much */
#define FRAME_GAP_US	10	/* between frames of one side in one step */
#define SNAPLEN		65535
#define FRAME_MAX	2048

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10

#define VM4		"192.0.2.10"
#define CLIENT4		"192.0.2.1"
#define VM6		"2001:db8::10"
#define CLIENT6		"2001:db8::1"

enum { PRI = 0, SEC = 1 };

/* VM MAC 02:00:00:00:00:10, client MAC 02:00:00:00:00:01 (see spec4/6) */

/* --- capture writers: libpcap for .pcap, a small pcapng writer --- */

struct capw {
	pcap_t *pd;		/* .pcap */
	pcap_dumper_t *dump;
	FILE *ng;		/* .pcapng */
};

static int ng_block(FILE *f, uint32_t type, const void *body, size_t len)
{
	static const uint8_t zero[4];
	uint32_t total = 12 + ((len + 3) & ~(size_t)3);

	if (fwrite(&type, 4, 1, f) != 1 || fwrite(&total, 4, 1, f) != 1 ||
	    (len && fwrite(body, len, 1, f) != 1) ||
	    (total - 12 - len && fwrite(zero, total - 12 - len, 1, f) != 1) ||
	    fwrite(&total, 4, 1, f) != 1)
		return -EIO;
	return 0;
}

/* Section header and one Ethernet interface, microsecond timestamps. */
static int ng_open(struct capw *w, const char *path)
{
	uint8_t shb[16], idb[8];
	uint32_t magic = 0x1a2b3c4d, snap = SNAPLEN;
	uint16_t major = 1, minor = 0, link = DLT_EN10MB, rsv = 0;
	int64_t section_len = -1;

	w->ng = fopen(path, "wb");
	if (!w->ng)
		return -errno;
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, &major, 2);
	memcpy(shb + 6, &minor, 2);
	memcpy(shb + 8, &section_len, 8);
	memcpy(idb, &link, 2);
	memcpy(idb + 2, &rsv, 2);
	memcpy(idb + 4, &snap, 4);
	if (ng_block(w->ng, 0x0a0d0d0a, shb, sizeof(shb)) ||
	    ng_block(w->ng, 1, idb, sizeof(idb)))
		return -EIO;
	return 0;
}

static int ng_write(struct capw *w, uint64_t ts_us, const uint8_t *frame,
		    uint32_t len)
{
	uint8_t epb[20 + FRAME_MAX];
	uint32_t ifid = 0, hi = ts_us >> 32, lo = ts_us & 0xffffffff;

	if (len > FRAME_MAX)
		return -EINVAL;
	memcpy(epb, &ifid, 4);
	memcpy(epb + 4, &hi, 4);
	memcpy(epb + 8, &lo, 4);
	memcpy(epb + 12, &len, 4);	/* captured */
	memcpy(epb + 16, &len, 4);	/* on the wire */
	memcpy(epb + 20, frame, len);
	return ng_block(w->ng, 6, epb, 20 + len);
}

static int capw_open(struct capw *w, const char *path, int pcapng)
{
	memset(w, 0, sizeof(*w));
	if (pcapng)
		return ng_open(w, path);
	w->pd = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (!w->pd)
		return -ENOMEM;
	w->dump = pcap_dump_open(w->pd, path);
	if (!w->dump) {
		fprintf(stderr, "mkfixtures: %s\n", pcap_geterr(w->pd));
		return -EIO;
	}
	return 0;
}

static int capw_write(struct capw *w, uint64_t ts_us, const uint8_t *frame,
		      uint32_t len)
{
	struct pcap_pkthdr h = {
		.ts.tv_sec = ts_us / 1000000,
		.ts.tv_usec = ts_us % 1000000,
		.caplen = len,
		.len = len,
	};

	if (w->ng)
		return ng_write(w, ts_us, frame, len);
	if (!w->dump)
		return -EBADF;
	pcap_dump((u_char *)w->dump, &h, frame);
	return 0;
}

static int capw_close(struct capw *w)
{
	int err = 0;

	if (w->ng && fclose(w->ng))
		err = -errno;
	if (w->dump) {
		if (pcap_dump_flush(w->dump))
			err = -EIO;
		pcap_dump_close(w->dump);
	}
	if (w->pd)
		pcap_close(w->pd);
	memset(w, 0, sizeof(*w));
	return err;
}

/* --- a scenario: two captures, per-side clocks and header variations --- */

struct side_var {
	uint16_t ip_id;		/* next IPv4 identification */
	uint8_t ttl;
	uint16_t win;
	uint32_t tsval;		/* TCP timestamp option value */
};

struct fx {
	struct capw w[2];
	uint64_t t_us[2];
	size_t last_len[2];	/* length of each side's last frame */
	struct side_var var[2];
	int err;
};

static const struct side_var var_init[2] = {
	{ .ip_id = 0x1000, .ttl = 64, .win = 502, .tsval = 100000 },
	{ .ip_id = 0x7a00, .ttl = 63, .win = 501, .tsval = 900000 },
};

static int fx_open(struct fx *fx, const char *dir, const char *name,
		   int pcapng)
{
	static const char *const side_name[2] = { "primary", "secondary" };
	char path[4096];
	int s, err;

	memset(fx, 0, sizeof(*fx));
	memcpy(fx->var, var_init, sizeof(fx->var));
	for (s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "%s/%s-%s.%s", dir, name,
			 side_name[s], pcapng ? "pcapng" : "pcap");
		err = capw_open(&fx->w[s], path, pcapng);
		if (err) {
			fprintf(stderr, "mkfixtures: cannot write %s: %s\n",
				path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int fx_close(struct fx *fx)
{
	int e0 = capw_close(&fx->w[PRI]);
	int e1 = capw_close(&fx->w[SEC]);

	return fx->err ? fx->err : e0 ? e0 : e1;
}

/* Start a step ms milliseconds into the scenario: both sides send in it. */
static void fx_at(struct fx *fx, unsigned int ms)
{
	uint64_t t = BASE_SEC * 1000000 + (uint64_t)ms * 1000;

	fx->t_us[PRI] = t;
	fx->t_us[SEC] = t + SEC_SKEW_US;
}

static void emit(struct fx *fx, int side, const uint8_t *frame, size_t len)
{
	int err;

	if (!len) {
		fx->err = fx->err ? fx->err : -EINVAL;
		return;
	}
	err = capw_write(&fx->w[side], fx->t_us[side], frame, len);
	if (err && !fx->err)
		fx->err = err;
	fx->t_us[side] += FRAME_GAP_US;
	fx->last_len[side] = len;
}

/* The spec a side uses: its own TTL and IP ID. */
static struct pkt_spec side_spec(struct fx *fx, int side,
				 const struct pkt_spec *base)
{
	struct pkt_spec s = *base;

	s.ttl = fx->var[side].ttl;
	s.ip_id = fx->var[side].ip_id++;
	return s;
}

static void send_udp(struct fx *fx, int side, const struct pkt_spec *base,
		     const void *data, size_t len)
{
	struct pkt_spec s = side_spec(fx, side, base);
	uint8_t f[FRAME_MAX];

	emit(fx, side, f, pkt_udp(f, sizeof(f), &s, data, len));
}

static void send_udp_both(struct fx *fx, const struct pkt_spec *base,
			  const void *data, size_t len)
{
	send_udp(fx, PRI, base, data, len);
	send_udp(fx, SEC, base, data, len);
}

/* --- TCP --- */

struct tcpc {
	struct pkt_spec spec;	/* VM -> client */
	uint32_t isn[2];	/* each side's own ISN */
	uint32_t rcv;		/* what the VM acknowledges */
};

static void tcp_seg(struct fx *fx, int side, struct tcpc *c, uint8_t flags,
		    uint32_t off, const uint8_t *data, size_t len)
{
	struct pkt_spec s = side_spec(fx, side, &c->spec);
	struct side_var *v = &fx->var[side];
	uint32_t seq = flags & TCP_SYN ? c->isn[side] : c->isn[side] + 1 + off;
	uint32_t ack = flags & TCP_ACK ? c->rcv : 0;
	uint32_t tsecr = flags & TCP_ACK ? 77777 : 0;
	uint8_t opt[20], f[FRAME_MAX];
	size_t optlen = 12, n = 0;

	if (flags & TCP_SYN) {	/* MSS 1460, SACK permitted, TS, WS 7 */
		static const uint8_t syn_head[6] = { 2, 4, 0x05, 0xb4, 4, 2 };

		memcpy(opt, syn_head, 6);
		n = 6;
		optlen = 20;
	} else {
		opt[n++] = 1;
		opt[n++] = 1;
	}
	opt[n++] = 8;
	opt[n++] = 10;
	opt[n++] = v->tsval >> 24;
	opt[n++] = v->tsval >> 16;
	opt[n++] = v->tsval >> 8;
	opt[n++] = v->tsval;
	opt[n++] = tsecr >> 24;
	opt[n++] = tsecr >> 16;
	opt[n++] = tsecr >> 8;
	opt[n++] = tsecr;
	if (flags & TCP_SYN) {
		opt[n++] = 1;
		opt[n++] = 3;
		opt[n++] = 3;
		opt[n++] = 7;
	}
	v->tsval += 3;
	emit(fx, side, f, pkt_tcp(f, sizeof(f), &s, seq, ack, flags, v->win,
				  opt, optlen, data, len));
}

/* Send data[off .. off + sum(segs)) as segments of the given sizes. */
static uint32_t tcp_data(struct fx *fx, int side, struct tcpc *c,
			 const uint8_t *data, uint32_t off,
			 const uint16_t *segs, unsigned int nsegs)
{
	unsigned int i;

	for (i = 0; i < nsegs; i++) {
		uint8_t flags = TCP_ACK | (i + 1 == nsegs ? TCP_PSH : 0);

		tcp_seg(fx, side, c, flags, off, data + off, segs[i]);
		off += segs[i];
	}
	return off;
}

/* --- payloads --- */

#define RESP_LEN	3000

#define HTTP_HEAD "HTTP/1.1 200 OK\r\nServer: colo-fixture\r\n" \
		  "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n"

/* An HTTP-like response of exactly len bytes (len > 200): header, then lines
 * of 63 printable characters. */
static void http_response(uint8_t *buf, size_t len)
{
	size_t hl = snprintf(NULL, 0, HTTP_HEAD, len);
	char head[128];
	size_t i;

	/* the body is len - hl long; same digit count for our sizes */
	hl = snprintf(head, sizeof(head), HTTP_HEAD, len - hl);
	memcpy(buf, head, hl);
	for (i = hl; i < len; i++) {
		size_t col = (i - hl) % 64, line = (i - hl) / 64;

		buf[i] = col == 63 ? '\n' :
			 "0123456789abcdefghijklmnopqrstuvwxyz"[(col + line) % 36];
	}
}

/* A DNS-like answer for one A or AAAA record. */
static size_t dns_reply(uint8_t *buf, uint16_t id, const char *name, int v6,
			uint8_t host)
{
	static const uint8_t a[4] = { 192, 0, 2, 0 };
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	size_t n = 12, rdlen = v6 ? 16 : 4;
	const char *p = name, *dot;
	size_t l;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id;
	buf[2] = 0x81;		/* response, recursion desired/available */
	buf[3] = 0x80;
	buf[5] = 1;		/* one question, one answer */
	buf[7] = 1;
	do {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);

		buf[n++] = l;
		memcpy(buf + n, p, l);
		n += l;
		p = dot + 1;
	} while (dot);
	buf[n++] = 0;
	memcpy(buf + n, (uint8_t[]){ 0, v6 ? 28 : 1, 0, 1, 0xc0, 12,
				     0, v6 ? 28 : 1, 0, 1, 0, 0, 0x0e, 0x10,
				     0, rdlen }, 16);
	n += 16;
	memcpy(buf + n, v6 ? aaaa : a, rdlen);
	buf[n + rdlen - 1] = host;
	return n + rdlen;
}

static size_t telemetry(uint8_t *buf, unsigned int i)
{
	return snprintf((char *)buf, 64, "telemetry seq=%u temp=%u.%u", i,
			40 + i, i * 7 % 10);
}

/* --- building blocks shared by scenarios --- */

static const struct pkt_spec spec4 = {
	.family = 4, .src = VM4, .dst = CLIENT4,
	.smac = { 0x02, 0, 0, 0, 0, 0x10 }, .dmac = { 0x02, 0, 0, 0, 0, 0x01 },
};

static const struct pkt_spec spec6 = {
	.family = 6, .src = VM6, .dst = CLIENT6,
	.smac = { 0x02, 0, 0, 0, 0, 0x10 }, .dmac = { 0x02, 0, 0, 0, 0, 0x01 },
};

/* Client-opened HTTP-like connection 192.0.2.10:80 > 192.0.2.1:40000. */
static struct tcpc conn_http(void)
{
	struct tcpc c = { .spec = spec4, .isn = { 0x1a2b3c4d, 0x99887766 },
			  .rcv = 0x50000001 + 78 };

	c.spec.sport = 80;
	c.spec.dport = 40000;
	return c;
}

static const uint16_t segs_pri[] = { 1448, 1448, 104 };
static const uint16_t segs_sec[] = { 1000, 1000, 1000 };

/* SYN/ACK on both sides at ms. */
static void http_open(struct fx *fx, struct tcpc *c, unsigned int ms)
{
	uint32_t rcv = c->rcv;

	c->rcv = 0x50000001;	/* only the client's SYN seen so far */
	fx_at(fx, ms);
	tcp_seg(fx, PRI, c, TCP_SYN | TCP_ACK, 0, NULL, 0);
	tcp_seg(fx, SEC, c, TCP_SYN | TCP_ACK, 0, NULL, 0);
	c->rcv = rcv;		/* the 78-byte request arrived */
}

/* Pure ACK of 50 more client bytes, then FIN, each side at its offset. */
static void http_close(struct fx *fx, struct tcpc *c, unsigned int ms,
		       uint32_t fin_pri, uint32_t fin_sec)
{
	fx_at(fx, ms);
	c->rcv += 50;
	tcp_seg(fx, PRI, c, TCP_ACK, fin_pri, NULL, 0);
	tcp_seg(fx, SEC, c, TCP_ACK, fin_sec, NULL, 0);
	fx_at(fx, ms + 1);
	tcp_seg(fx, PRI, c, TCP_FIN | TCP_ACK, fin_pri, NULL, 0);
	tcp_seg(fx, SEC, c, TCP_FIN | TCP_ACK, fin_sec, NULL, 0);
}

/* The demo's first connection, outputs the same on both sides. */
static void http_same(struct fx *fx, unsigned int ms)
{
	uint8_t resp[RESP_LEN];
	struct tcpc c = conn_http();

	http_response(resp, sizeof(resp));
	http_open(fx, &c, ms);
	fx_at(fx, ms + 2);
	tcp_data(fx, PRI, &c, resp, 0, segs_pri, 3);
	tcp_data(fx, SEC, &c, resp, 0, segs_sec, 3);
	http_close(fx, &c, ms + 4, RESP_LEN, RESP_LEN);
}

/* Guest-opened connection 192.0.2.10:51000 > 192.0.2.1:5432: SYN, data, FIN. */
static void guest_conn(struct fx *fx, unsigned int ms)
{
	struct tcpc c = { .spec = spec4, .isn = { 0x0badf00d, 0x5eed5eed } };
	uint8_t req[200];
	unsigned int i;
	int s;

	c.spec.sport = 51000;
	c.spec.dport = 5432;
	for (i = 0; i < sizeof(req); i++)
		req[i] = "SELECT * FROM t WHERE id = 42; "[i % 31];
	fx_at(fx, ms);
	for (s = PRI; s <= SEC; s++)
		tcp_seg(fx, s, &c, TCP_SYN, 0, NULL, 0);
	c.rcv = 0x70000001;	/* the server's SYN/ACK arrived */
	fx_at(fx, ms + 1);
	for (s = PRI; s <= SEC; s++)
		tcp_seg(fx, s, &c, TCP_ACK | TCP_PSH, 0, req, sizeof(req));
	fx_at(fx, ms + 2);
	for (s = PRI; s <= SEC; s++)
		tcp_seg(fx, s, &c, TCP_FIN | TCP_ACK, sizeof(req), NULL, 0);
}

/*
 * DNS-like replies on three flows (two IPv4, one IPv6), three each,
 * interleaved from ms. One reply may be changed on the secondary (flow
 * bad_flow, index bad_idx) or left out of it (the very last one).
 */
static void dns_flows(struct fx *fx, unsigned int ms, int bad_flow,
		      int bad_idx, int drop_last)
{
	struct pkt_spec flows[3] = { spec4, spec4, spec6 };
	static const char *const names[3] = {
		"www.example.com", "mail.example.org", "v6.example.net"
	};
	uint8_t msg[128];
	int i, f;

	for (f = 0; f < 3; f++) {
		flows[f].sport = 53;
		flows[f].dport = 33001 + f;
	}
	for (i = 0; i < 3; i++) {
		for (f = 0; f < 3; f++) {
			size_t n = dns_reply(msg, 0x4000 + 16 * f + i,
					     names[f], f == 2, 80 + i);

			fx_at(fx, ms + 3 * i + f);
			send_udp(fx, PRI, &flows[f], msg, n);
			if (drop_last && i == 2 && f == 2)
				continue;
			if (f == bad_flow && i == bad_idx)
				msg[n - 1] ^= 0x01;	/* other answer */
			send_udp(fx, SEC, &flows[f], msg, n);
		}
	}
}

static void icmp_echo(struct fx *fx, unsigned int ms)
{
	uint8_t body[4 + 56];
	unsigned int i, j;
	int s;

	for (i = 1; i <= 3; i++) {
		body[0] = 0x12;
		body[1] = 0x34;
		body[2] = 0;
		body[3] = i;
		for (j = 0; j < 56; j++)
			body[4 + j] = 0x10 + j;
		fx_at(fx, ms + i);
		for (s = PRI; s <= SEC; s++) {
			const struct pkt_spec *base = i == 3 ? &spec6 : &spec4;
			struct pkt_spec sp = side_spec(fx, s, base);
			uint8_t f[FRAME_MAX];

			/* echo reply: 0 for ICMP, 129 for ICMPv6 */
			emit(fx, s, f, pkt_icmp(f, sizeof(f), &sp,
						i == 3 ? 129 : 0, 0, body,
						sizeof(body)));
		}
	}
}

static void arp_reply(struct fx *fx, unsigned int ms)
{
	uint8_t f[FRAME_MAX];
	int s;

	fx_at(fx, ms);
	for (s = PRI; s <= SEC; s++)
		emit(fx, s, f, pkt_arp(f, sizeof(f), &spec4, 2));
}

/* UDP 192.0.2.10:5000 > 192.0.2.1:5001 on VLAN vlan_pri / vlan_sec. */
static void vlan_udp(struct fx *fx, unsigned int ms, unsigned int count,
		     uint16_t vlan_pri, uint16_t vlan_sec)
{
	struct pkt_spec sp = spec4, ss;
	uint8_t msg[64];
	unsigned int i;
	size_t n;

	sp.sport = 5000;
	sp.dport = 5001;
	sp.vlan_outer = vlan_pri;
	ss = sp;
	ss.vlan_outer = vlan_sec;
	for (i = 0; i < count; i++) {
		n = telemetry(msg, i);
		fx_at(fx, ms + i);
		send_udp(fx, PRI, &sp, msg, n);
		send_udp(fx, SEC, &ss, msg, n);
	}
}

/* --- scenarios --- */

static void sc_demo(struct fx *fx)
{
	arp_reply(fx, 0);
	http_same(fx, 10);
	dns_flows(fx, 30, -1, -1, 0);
	icmp_echo(fx, 50);
	guest_conn(fx, 60);
	vlan_udp(fx, 70, 2, 10, 10);
}

/* Primary resends bytes 1000..2500 after 0..2896; secondary resends a
 * whole segment verbatim. */
static void sc_same_tcp(struct fx *fx)
{
	static const uint16_t pri_a[] = { 1448, 1448 }, pri_b[] = { 104 };
	static const uint16_t pri_re[] = { 1500 }, sec_re[] = { 1000 };
	uint8_t resp[RESP_LEN];
	struct tcpc c = conn_http();

	http_response(resp, sizeof(resp));
	http_open(fx, &c, 0);
	fx_at(fx, 2);
	tcp_data(fx, PRI, &c, resp, 0, pri_a, 2);
	tcp_data(fx, SEC, &c, resp, 0, segs_sec, 3);
	fx_at(fx, 3);
	tcp_data(fx, PRI, &c, resp, 1000, pri_re, 1);
	tcp_data(fx, SEC, &c, resp, 1000, sec_re, 1);
	fx_at(fx, 4);
	tcp_data(fx, PRI, &c, resp, 2896, pri_b, 1);
	http_close(fx, &c, 6, RESP_LEN, RESP_LEN);
}

/* The secondary's response differs in one byte at stream offset 2000. */
static void sc_diverge_tcp(struct fx *fx)
{
	uint8_t resp[RESP_LEN], other[RESP_LEN];
	struct tcpc c = conn_http();

	http_response(resp, sizeof(resp));
	memcpy(other, resp, sizeof(other));
	other[2000] ^= 0x20;
	http_open(fx, &c, 0);
	fx_at(fx, 2);
	tcp_data(fx, PRI, &c, resp, 0, segs_pri, 3);
	tcp_data(fx, SEC, &c, other, 0, segs_sec, 3);
	http_close(fx, &c, 4, RESP_LEN, RESP_LEN);
}

static void sc_diverge_udp(struct fx *fx)
{
	dns_flows(fx, 0, 1, 2, 0);
}

/* The secondary's response is 10 bytes shorter: FIN at 2990, not 3000. */
static void sc_diverge_fin(struct fx *fx)
{
	static const uint16_t sec_short[] = { 1000, 1000, 990 };
	uint8_t resp[RESP_LEN];
	struct tcpc c = conn_http();

	http_response(resp, sizeof(resp));
	http_open(fx, &c, 0);
	fx_at(fx, 2);
	tcp_data(fx, PRI, &c, resp, 0, segs_pri, 3);
	tcp_data(fx, SEC, &c, resp, 0, sec_short, 3);
	http_close(fx, &c, 4, RESP_LEN, RESP_LEN - 10);
}

static void sc_missing(struct fx *fx)
{
	dns_flows(fx, 0, -1, -1, 1);
}

/* IPv6 TCP and UDP with hop-by-hop + destination options headers. */
static void sc_same_ipv6(struct fx *fx)
{
	static const uint16_t pri[] = { 1200, 800 }, sec[] = { 1000, 1000 };
	struct tcpc c = { .spec = spec6, .isn = { 0x01020304, 0xa0b0c0d0 },
			  .rcv = 0x60000001 };
	struct pkt_spec u = spec6;
	uint8_t resp[2000], msg[128];
	unsigned int i;
	size_t n;

	c.spec.sport = 443;
	c.spec.dport = 40001;
	c.spec.ipv6_ext = 2;
	http_response(resp, sizeof(resp));
	fx_at(fx, 0);
	tcp_seg(fx, PRI, &c, TCP_SYN | TCP_ACK, 0, NULL, 0);
	tcp_seg(fx, SEC, &c, TCP_SYN | TCP_ACK, 0, NULL, 0);
	c.rcv += 90;
	fx_at(fx, 2);
	tcp_data(fx, PRI, &c, resp, 0, pri, 2);
	tcp_data(fx, SEC, &c, resp, 0, sec, 2);
	fx_at(fx, 4);
	tcp_seg(fx, PRI, &c, TCP_FIN | TCP_ACK, sizeof(resp), NULL, 0);
	tcp_seg(fx, SEC, &c, TCP_FIN | TCP_ACK, sizeof(resp), NULL, 0);

	u.sport = 53;
	u.dport = 33010;
	u.ipv6_ext = 2;
	for (i = 0; i < 3; i++) {
		n = dns_reply(msg, 0x6000 + i, "v6.example.net", 1, 90 + i);
		fx_at(fx, 10 + i);
		send_udp_both(fx, &u, msg, n);
	}
}

static void sc_vlan_diverge(struct fx *fx)
{
	vlan_udp(fx, 0, 1, 10, 20);
}

struct scenario {
	const char *name;
	int pcapng;
	void (*run)(struct fx *fx);
};

static const struct scenario scenarios[] = {
	{ "demo", 0, sc_demo },
	{ "same-tcp", 0, sc_same_tcp },
	{ "diverge-tcp", 0, sc_diverge_tcp },
	{ "diverge-udp", 0, sc_diverge_udp },
	{ "diverge-fin", 0, sc_diverge_fin },
	{ "missing", 0, sc_missing },
	{ "same-ipv6", 1, sc_same_ipv6 },
	{ "vlan-diverge", 0, sc_vlan_diverge },
};

/* --- broken inputs --- */

/* truncated-primary.pcap: demo's primary cut 5 bytes into its last record's
 * data; truncated-secondary.pcap: demo's secondary, intact. */
static int write_truncated(const char *dir)
{
	char path[4096];
	struct fx fx;
	struct stat st;
	size_t last;
	int err;

	err = fx_open(&fx, dir, "truncated", 0);
	if (err)
		return err;
	sc_demo(&fx);
	last = fx.last_len[PRI];
	err = fx_close(&fx);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/truncated-primary.pcap", dir);
	if (stat(path, &st))
		return -errno;
	if ((size_t)st.st_size < last + 16 + 24)
		return -EINVAL;
	if (truncate(path, st.st_size - last + 5))
		return -errno;
	return 0;
}

static int write_text(const char *dir)
{
	static const char text[] =
		"This is not a packet capture.\n"
		"It is a text file named like one, for testing how readers\n"
		"report a file they cannot use.\n";
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/notacapture.pcap", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	const char *dir;
	struct fx fx;
	size_t i;
	int err;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s DIR\n"
			"Writes the fixture captures (tests/data) into DIR.\n",
			argv[0]);
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "mkfixtures: cannot create %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		err = fx_open(&fx, dir, scenarios[i].name, scenarios[i].pcapng);
		if (!err) {
			scenarios[i].run(&fx);
			err = fx_close(&fx);
		}
		if (err) {
			fprintf(stderr, "mkfixtures: scenario %s failed: %s\n",
				scenarios[i].name, strerror(-err));
			return 1;
		}
	}
	err = write_truncated(dir);
	if (!err)
		err = write_text(dir);
	if (err) {
		fprintf(stderr, "mkfixtures: writing broken inputs into %s failed: %s\n",
			dir, strerror(-err));
		return 1;
	}
	return 0;
}
