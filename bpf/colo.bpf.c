// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * colo-proxy XDP programs: mirror client frames to both VMs, hand each VM's
 * output to the comparator over AF_XDP, keep the secondary VM's TCP sequence
 * numbers in step with the primary's. See docs/datapath.md.
 *
 * All maps live in this one object; userspace fills config, mirror and xsks
 * and pins the maps (nothing here sets pinning).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "colo_shared.h"

char LICENSE[] SEC("license") = "GPL";

/* --- maps (names from colo_shared.h) --- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct colo_config);
} COLO_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct colo_counters);
} COLO_MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, COLO_CONNS_MAX);
	__type(key, struct colo_conn_key);
	__type(value, struct colo_conn);
} COLO_MAP_CONNS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, COLO_MIRROR_MAX);
	__type(key, __u32);			/* ifindex */
	__type(value, struct bpf_devmap_val);
} COLO_MAP_MIRROR SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, COLO_XSK_MAX);
	__type(key, __u32);			/* COLO_XSK_* */
	__type(value, __u32);			/* AF_XDP socket fd */
} COLO_MAP_XSKS SEC(".maps");

/* Written by userspace only; here so that they exist with BTF. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct colo_engine_pub);
} COLO_MAP_ENGINE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COLO_DIVLOG_LEN);
	__type(key, __u32);
	__type(value, struct colo_divrec);
} COLO_MAP_DIVLOG SEC(".maps");

/* --- small helpers --- */

#define ETH_P_8021AD_	0x88A8
#define VLAN_HLEN_	4
#define TCP_OPT_MAX	40	/* bytes of options a TCP header can carry */
#define TCP_OPT_MASK	63
#define TCPOPT_EOL_	0
#define TCPOPT_NOP_	1
#define TCPOPT_SACK_	5
#define TCPOPT_TS_	8
#define TCPOLEN_TS_	10	/* kind, length, TSval, TSecr (both be32) */
#define SACK_BLOCKS_MAX	4

#define COUNT(cnt, field) do { if (cnt) (cnt)->field++; } while (0)

static __always_inline struct colo_config *colo_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&COLO_MAP_CONFIG, &zero);
}

static __always_inline struct colo_counters *colo_cnt(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&COLO_MAP_COUNTERS, &zero);
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

/* Frames for the VM: its MAC, broadcast or multicast (ARP, ND), not from it. */
static __always_inline int for_vm(const struct ethhdr *eth, const __u8 *vm_mac)
{
	if (mac_eq(eth->h_source, vm_mac))
		return 0;
	return mac_eq(eth->h_dest, vm_mac) || (eth->h_dest[0] & 1);
}

/* --- parser: Ethernet, one optional VLAN tag, IPv4/IPv6, TCP --- */

struct colo_pkt {
	void *end;
	struct ethhdr *eth;
	void *l3;
	struct iphdr *ip4;	/* set for IPv4 */
	struct ipv6hdr *ip6;	/* set for IPv6 */
	struct tcphdr *tcp;	/* set when TCP and the whole header is there */
	__u16 proto;		/* ethertype after the tag, network order */
	__u16 vlan;		/* VLAN id (host order), 0 if untagged */
	__u8 tagged;
};

/* Returns 0 when the Ethernet header (and the tag, if any) is in the frame. */
static __always_inline int colo_parse_eth(struct xdp_md *ctx, struct colo_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	p->end = (void *)(long)ctx->data_end;
	p->eth = eth;
	p->ip4 = NULL;
	p->ip6 = NULL;
	p->tcp = NULL;
	p->vlan = 0;
	p->tagged = 0;
	if ((void *)(eth + 1) > p->end)
		return -1;
	p->proto = eth->h_proto;
	p->l3 = eth + 1;
	if (p->proto == bpf_htons(ETH_P_8021Q) ||
	    p->proto == bpf_htons(ETH_P_8021AD_)) {
		__be16 *tag = p->l3;	/* TCI, then the inner ethertype */

		if ((void *)(tag + 2) > p->end)
			return -1;
		p->vlan = bpf_ntohs(tag[0]) & 0x0fff;
		p->proto = tag[1];
		p->tagged = 1;
		p->l3 = tag + 2;
	}
	return 0;
}

/*
 * After colo_parse_eth: returns 0 and sets p->tcp when the frame is TCP over
 * IPv4 (options allowed, not a fragment) or IPv6 (no extension headers) with
 * its whole TCP header, options included, inside the frame.
 */
static __always_inline int colo_parse_tcp(struct colo_pkt *p)
{
	struct tcphdr *tcp;

	if (p->proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p->l3;

		if ((void *)(ip + 1) > p->end || ip->ihl < 5 ||
		    ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return -1;
		tcp = (void *)ip + ip->ihl * 4;
		p->ip4 = ip;
	} else if (p->proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p->l3;

		if ((void *)(ip6 + 1) > p->end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		tcp = (void *)(ip6 + 1);
		p->ip6 = ip6;
	} else {
		return -1;
	}
	if ((void *)(tcp + 1) > p->end || tcp->doff < 5 ||
	    (void *)tcp + tcp->doff * 4 > p->end)
		return -1;
	p->tcp = tcp;
	return 0;
}

/* The connection key, from the VM's side: vm_is_src for the VM's output. */
static __always_inline void colo_key(const struct colo_pkt *p, int vm_is_src,
				     struct colo_conn_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->vlan = p->vlan;
	if (p->ip4) {
		k->family = 4;
		__builtin_memcpy(k->vm_addr, vm_is_src ? &p->ip4->saddr : &p->ip4->daddr, 4);
		__builtin_memcpy(k->peer_addr, vm_is_src ? &p->ip4->daddr : &p->ip4->saddr, 4);
	} else if (p->ip6) {
		k->family = 6;
		__builtin_memcpy(k->vm_addr, vm_is_src ? &p->ip6->saddr : &p->ip6->daddr, 16);
		__builtin_memcpy(k->peer_addr, vm_is_src ? &p->ip6->daddr : &p->ip6->saddr, 16);
	}
	k->vm_port = vm_is_src ? p->tcp->source : p->tcp->dest;
	k->peer_port = vm_is_src ? p->tcp->dest : p->tcp->source;
}

/* --- TCP rewriting with an incremental checksum (RFC 1624, eqn. 3) --- */

/*
 * Replace the 32-bit field at *f by its value + delta and return acc plus the
 * one's complement difference (~old + new). Values are summed as loaded (a
 * one's complement sum does not care about byte order). A field at an odd
 * offset in the TCP header straddles 16-bit words: its contribution is the
 * byte-swapped one, hence the rotation by 8 bits (branch-free, which keeps
 * the verifier's path count down in the option walk).
 */
static __always_inline __u32 shift32(__be32 *f, __u32 delta, __u32 odd, __u32 acc)
{
	__u32 from = *f;
	__u32 to = bpf_htonl(bpf_ntohl(from) + delta);
	__u32 d, rot = (odd & 1) * 8;

	*f = to;
	from = ~from;
	d = (from >> 16) + (from & 0xffff) + (to >> 16) + (to & 0xffff);
	d = (d & 0xffff) + (d >> 16);
	d = (d & 0xffff) + (d >> 16);
	return acc + (((d << rot) | (d >> rot)) & 0xffff);
}

static __always_inline void csum_apply(struct tcphdr *tcp, __u32 acc)
{
	acc += (__u16)~tcp->check;
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	tcp->check = (__u16)~acc;
}

/*
 * The walk over TCP options. At most TCP_OPT_WALK options are looked at (real
 * stacks send fewer than ten: NOP, NOP, timestamps, NOP, NOP, SACK); it stops
 * at EOL, at a malformed length and at the end of the header or the frame.
 */
#define TCP_OPT_WALK	TCP_OPT_MAX

/*
 * The option at *off (bytes into the option area of optlen bytes), its length
 * in *len; NULL where the walk stops. A lone EOL/NOP at the end changes
 * nothing, so an option must have at least 2 bytes left. *off is masked to
 * 0..63 (a no-op, it is below 40): the bounds keep the verifier's states
 * few, the walk would not pass the verifier without them.
 */
static __always_inline __u8 *tcp_opt_at(__u8 *opts, __u32 *off, __u32 optlen,
					void *end, __u32 *len)
{
	__u8 *p;

	if (*off + 2 > optlen)
		return NULL;
	*off &= TCP_OPT_MASK;
	p = opts + *off;
	if ((void *)(p + 2) > end || p[0] == TCPOPT_EOL_)
		return NULL;
	*len = p[0] == TCPOPT_NOP_ ? 1 : p[1];
	if (*len < 1 || (*len == 1 && p[0] != TCPOPT_NOP_) || *off + *len > optlen)
		return NULL;
	return p;
}

/* Returns 0 and the TSval of the timestamps option if the header has one. */
static __always_inline int tcp_tsval(struct tcphdr *tcp, void *end, __u32 *tsval)
{
	__u8 *opts = (__u8 *)(tcp + 1);
	__u32 optlen = tcp->doff * 4 - sizeof(*tcp);
	__u32 off = 0, len = 0;
	int i;

	for (i = 0; i < TCP_OPT_WALK; i++) {
		__u8 *p = tcp_opt_at(opts, &off, optlen, end, &len);
		__be32 *val;

		if (!p)
			break;
		if (p[0] == TCPOPT_TS_ && len == TCPOLEN_TS_) {
			val = (void *)(p + 2);
			if ((void *)(val + 1) > end)
				break;
			*tsval = bpf_ntohl(*val);
			return 0;
		}
		off += len;
	}
	return -1;
}

/*
 * Shift both edges of every SACK block (kind 5, length 2 + 8n) by delta and
 * the TSecr of the timestamps option (kind 8, length 10) by ts_delta. A zero
 * delta rewrites the field with its own value, which leaves the checksum as
 * it was (its contribution is 0xffff, one's complement zero).
 */
static __always_inline __u32 shift_opts(struct tcphdr *tcp, void *end, __u32 delta,
					__u32 ts_delta, __u32 acc)
{
	__u8 *opts = (__u8 *)(tcp + 1);
	__u32 optlen = tcp->doff * 4 - sizeof(*tcp);
	__u32 off = 0, len = 0, n, j;
	int i;

	for (i = 0; i < TCP_OPT_WALK; i++) {
		__u8 *p = tcp_opt_at(opts, &off, optlen, end, &len);

		if (!p)
			break;
		if (p[0] == TCPOPT_SACK_ && len >= 10 && !((len - 2) & 7)) {
			n = (len - 2) / 8;
			for (j = 0; j < SACK_BLOCKS_MAX && j < n; j++) {
				__be32 *edge = (void *)(p + 2 + 8 * j);

				if ((void *)(edge + 2) > end)
					break;
				acc = shift32(&edge[0], delta, off, acc);
				acc = shift32(&edge[1], delta, off, acc);
			}
		} else if (p[0] == TCPOPT_TS_ && len == TCPOLEN_TS_) {
			__be32 *ecr = (void *)(p + 6);

			if ((void *)(ecr + 1) > end)
				break;
			acc = shift32(ecr, ts_delta, off, acc);
		}
		off += len;
	}
	return acc;
}

/* --- connection learning --- */

static __always_inline void conn_set(struct colo_conn *c, __u32 bits)
{
	if ((c->flags & bits) != bits)
		__sync_fetch_and_add(&c->flags, bits & ~c->flags);
}

/* The TSval of one VM's SYN or SYN/ACK; ts_offset once both are known. */
static __always_inline void conn_learn_ts(struct colo_conn *c, __u32 tsval, int svm)
{
	__u32 both = COLO_CONN_PVM_TS | COLO_CONN_SVM_TS;

	if (svm)
		c->svm_tsval = tsval;
	else
		c->pvm_tsval = tsval;
	conn_set(c, svm ? COLO_CONN_SVM_TS : COLO_CONN_PVM_TS);
	if ((c->flags & both) == both)
		c->ts_offset = c->svm_tsval - c->pvm_tsval;
}

/*
 * A SYN or SYN/ACK from one VM: remember its ISN, and its TSval if it carries
 * timestamps (has_ts); once both VMs' are known the offsets are svm - pvm.
 * A SYN with a new ISN on a connection that was closing starts a new
 * incarnation: forget the old one's state.
 */
static __always_inline void conn_learn(const struct colo_conn_key *k,
				       __u32 isn, int has_ts, __u32 tsval, int svm,
				       __u64 now, struct colo_counters *cnt)
{
	__u32 mine = svm ? COLO_CONN_SVM_ISN : COLO_CONN_PVM_ISN;
	__u32 both = COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN;
	__u32 closing = COLO_CONN_PVM_FIN | COLO_CONN_SVM_FIN | COLO_CONN_PEER_FIN |
			COLO_CONN_PVM_RST | COLO_CONN_SVM_RST | COLO_CONN_PEER_RST;
	struct colo_conn *c = bpf_map_lookup_elem(&COLO_MAP_CONNS, k);
	__u32 *slot;

	if (!c) {
		struct colo_conn n = { .flags = mine, .last_ns = now };

		if (svm) {
			n.svm_isn = isn;
			n.svm_tsval = tsval;
			n.flags |= COLO_CONN_SVM_RAW;	/* the PVM's SYN is not known yet */
		} else {
			n.pvm_isn = isn;
			n.pvm_tsval = tsval;
		}
		if (has_ts)
			n.flags |= svm ? COLO_CONN_SVM_TS : COLO_CONN_PVM_TS;
		if (!bpf_map_update_elem(&COLO_MAP_CONNS, k, &n, BPF_NOEXIST)) {
			COUNT(cnt, conns_learned);
			return;
		}
		c = bpf_map_lookup_elem(&COLO_MAP_CONNS, k);	/* lost a race */
		if (!c)
			return;
	}
	slot = svm ? &c->svm_isn : &c->pvm_isn;
	if ((c->flags & mine) && *slot == isn) {
		c->last_ns = now;	/* retransmitted SYN */
		return;
	}
	if ((c->flags & mine) && (c->flags & closing)) {
		c->flags = 0;		/* new incarnation of the 4-tuple */
		c->pvm_isn = 0;
		c->svm_isn = 0;
		c->offset = 0;
		c->pvm_tsval = 0;
		c->svm_tsval = 0;
		c->ts_offset = 0;
	}
	*slot = isn;
	if (svm && !(c->flags & COLO_CONN_PVM_ISN))
		conn_set(c, COLO_CONN_SVM_RAW);
	conn_set(c, mine);
	if ((c->flags & both) == both)
		c->offset = c->svm_isn - c->pvm_isn;
	if (has_ts)
		conn_learn_ts(c, tsval, svm);
	c->last_ns = now;
	COUNT(cnt, conns_learned);
}

/*
 * A RST from one VM: the entry goes once both VMs have reset (the second
 * RST still needs the entry to be shifted like the rest of its stream).
 */
static __always_inline void conn_reset(const struct colo_conn_key *k,
				       struct colo_conn *c, int svm,
				       struct colo_counters *cnt)
{
	__u32 both = COLO_CONN_PVM_RST | COLO_CONN_SVM_RST;

	conn_set(c, svm ? COLO_CONN_SVM_RST : COLO_CONN_PVM_RST);
	if ((c->flags & both) == both &&
	    !bpf_map_delete_elem(&COLO_MAP_CONNS, k))
		COUNT(cnt, conns_closed);
}

/*
 * What one VM sent on a TCP connection: learn, record FIN/RST, and for the
 * SVM shift seq into the PVM's sequence space. Returns 0 (frame unchanged)
 * or 1 (rewritten).
 */
static __always_inline int conn_vm_out(struct colo_pkt *p, int svm,
				       const struct colo_config *cfg,
				       struct colo_counters *cnt)
{
	struct tcphdr *tcp = p->tcp;
	struct colo_conn_key k;
	struct colo_conn *c;
	__u64 now = bpf_ktime_get_ns();
	__u32 tsval = 0;
	int rewritten = 0;

	colo_key(p, 1, &k);
	if (tcp->syn)
		conn_learn(&k, bpf_ntohl(tcp->seq), !tcp_tsval(tcp, p->end, &tsval),
			   tsval, svm, now, cnt);
	c = bpf_map_lookup_elem(&COLO_MAP_CONNS, &k);
	if (!c)
		return 0;
	c->last_ns = now;
	if (svm && (cfg->flags & COLO_CFG_REWRITE) &&
	    (c->flags & (COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN | COLO_CONN_SVM_RAW)) ==
	    (COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN) && c->offset) {
		csum_apply(tcp, shift32(&tcp->seq, -c->offset, 0, 0));
		rewritten = 1;
	}
	if (tcp->fin)
		conn_set(c, svm ? COLO_CONN_SVM_FIN : COLO_CONN_PVM_FIN);
	if (tcp->rst)
		conn_reset(&k, c, svm, cnt);
	return rewritten;
}

/* Hand a VM's output to the comparator's AF_XDP socket (key COLO_XSK_*). */
static __always_inline int to_comparator(__u32 key, struct colo_counters *cnt)
{
	int ret = bpf_redirect_map(&COLO_MAP_XSKS, key, XDP_DROP);

	if (ret != XDP_REDIRECT) {
		COUNT(cnt, drop_no_socket);
		return ret;
	}
	if (key == COLO_XSK_PRIMARY)
		COUNT(cnt, captured_primary);
	else
		COUNT(cnt, captured_secondary);
	return ret;
}

/* --- programs --- */

/* Client-facing NIC, primary host: mirror the VM's input to both VMs. */
SEC("xdp")
int colo_client_in(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();
	struct colo_pkt p;
	int ret;

	if (!cfg || colo_parse_eth(ctx, &p) || !for_vm(p.eth, cfg->vm_mac) ||
	    (cfg->vlan && (!p.tagged || p.vlan != cfg->vlan))) {
		COUNT(cnt, passed);
		return XDP_PASS;
	}
	ret = bpf_redirect_map(&COLO_MAP_MIRROR, 0,
			       BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	if (ret == XDP_REDIRECT)
		COUNT(cnt, mirrored);
	else
		COUNT(cnt, drop_redirect);
	return ret;
}

/*
 * What colo_svm_copy adds to a field of the client's: the entry's offset
 * (or ts_offset) once both VMs' values are known (`known` bits), else 0.
 */
static __always_inline __u32 conn_delta(const struct colo_conn *c, __u32 known,
					__u32 delta)
{
	return (c->flags & known) == known ? delta : 0;
}

/*
 * Devmap program of the SVM's mirror entry: runs on the SVM's copy only.
 * Shifts ack and SACK edges from the PVM's sequence space to the SVM's, and
 * the timestamp echo (TSecr) from the PVM's clock to the SVM's.
 */
SEC("xdp/devmap")
int colo_svm_copy(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();
	struct colo_conn_key k;
	struct colo_conn *c;
	struct colo_pkt p;
	struct tcphdr *tcp;
	__u32 delta, ts_delta, acc = 0;

	if (!cfg || colo_parse_eth(ctx, &p) || colo_parse_tcp(&p))
		return XDP_PASS;
	tcp = p.tcp;
	colo_key(&p, 0, &k);
	c = bpf_map_lookup_elem(&COLO_MAP_CONNS, &k);
	if (!c)
		return XDP_PASS;
	c->last_ns = bpf_ktime_get_ns();
	if (tcp->fin)
		conn_set(c, COLO_CONN_PEER_FIN);
	if (tcp->rst)
		conn_set(c, COLO_CONN_PEER_RST);
	if (!(cfg->flags & COLO_CFG_REWRITE) || !tcp->ack)
		return XDP_PASS;
	delta = conn_delta(c, COLO_CONN_PVM_ISN | COLO_CONN_SVM_ISN, c->offset);
	ts_delta = conn_delta(c, COLO_CONN_PVM_TS | COLO_CONN_SVM_TS, c->ts_offset);
	if (!delta && !ts_delta)
		return XDP_PASS;
	if (delta)
		acc = shift32(&tcp->ack_seq, delta, 0, 0);
	if (tcp->doff > 5)
		acc = shift_opts(tcp, p.end, delta, ts_delta, acc);
	csum_apply(tcp, acc);
	COUNT(cnt, rewritten);
	return XDP_PASS;
}

/* PVM tap, primary host: the PVM's output goes to the comparator. */
SEC("xdp")
int colo_pvm_out(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();
	struct colo_pkt p;

	if (!cfg)
		return XDP_PASS;
	if (cfg->flags & COLO_CFG_PASSTHROUGH) {
		COUNT(cnt, passthrough);
		return bpf_redirect(cfg->client_ifindex, 0);
	}
	if (!colo_parse_eth(ctx, &p) && !colo_parse_tcp(&p))
		conn_vm_out(&p, 0, cfg, cnt);
	return to_comparator(COLO_XSK_PRIMARY, cnt);
}

/*
 * SVM output, primary host: on the SVM tap (single host) or on the
 * replication link (two hosts; there only frames from the VM's MAC are SVM
 * output, the rest is the hosts' own traffic).
 */
SEC("xdp")
int colo_svm_out(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();
	struct colo_pkt p;
	int parsed;

	if (!cfg)
		return XDP_PASS;
	parsed = !colo_parse_eth(ctx, &p);
	if (cfg->link_ifindex && (!parsed || !mac_eq(p.eth->h_source, cfg->vm_mac))) {
		COUNT(cnt, passed);
		return XDP_PASS;
	}
	if (parsed && !colo_parse_tcp(&p) && conn_vm_out(&p, 1, cfg, cnt))
		COUNT(cnt, rewritten);
	return to_comparator(COLO_XSK_SECONDARY, cnt);
}

/* Replication link, secondary host: the SVM's copy of client frames. */
SEC("xdp")
int colo_sec_link_in(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();
	struct colo_pkt p;

	if (!cfg || colo_parse_eth(ctx, &p) || !for_vm(p.eth, cfg->vm_mac)) {
		COUNT(cnt, passed);
		return XDP_PASS;
	}
	COUNT(cnt, injected);
	return bpf_redirect(cfg->svm_ifindex, 0);
}

/* SVM tap, secondary host: the SVM's output goes back over the link. */
SEC("xdp")
int colo_sec_svm_out(struct xdp_md *ctx)
{
	struct colo_config *cfg = colo_cfg();
	struct colo_counters *cnt = colo_cnt();

	if (!cfg)
		return XDP_PASS;
	if (cfg->flags & COLO_CFG_PASSTHROUGH) {
		COUNT(cnt, passthrough);
		return bpf_redirect(cfg->client_ifindex ? cfg->client_ifindex :
				    cfg->link_ifindex, 0);
	}
	COUNT(cnt, forwarded);
	return bpf_redirect(cfg->link_ifindex, 0);
}
