/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one header shared by the XDP programs (bpf/colo.bpf.c) and userspace
 * (proxy/). Map names, structs of map keys and values, counter layout.
 * Fixed-width __u types, explicit padding, no bool/enum/pointers in values,
 * so that `bpftool map dump pinned /sys/fs/bpf/colo/<instance>/<map>` prints
 * every field by name (BTF).
 */
#ifndef COLO_SHARED_H
#define COLO_SHARED_H

#include <linux/types.h>

#define COLO_PIN_ROOT		"/sys/fs/bpf/colo"

/* Map names: at most 15 characters, all start with colo_. */
#define COLO_MAP_CONFIG		colo_config	/* array[1] of struct colo_config */
#define COLO_MAP_COUNTERS	colo_counters	/* percpu array[1] of struct colo_counters */
#define COLO_MAP_CONNS		colo_conns	/* LRU hash colo_conn_key -> colo_conn */
#define COLO_MAP_MIRROR		colo_mirror	/* devmap hash: broadcast targets */
#define COLO_MAP_XSKS		colo_xsks	/* xskmap: COLO_XSK_* -> AF_XDP socket */
#define COLO_MAP_ENGINE		colo_engine	/* array[1] of struct colo_engine_pub */
#define COLO_MAP_DIVLOG		colo_divlog	/* array[COLO_DIVLOG_LEN] of struct colo_divrec */

#define COLO_CONNS_MAX		65536
#define COLO_MIRROR_MAX		8
#define COLO_DIVLOG_LEN		64

/* Keys of colo_xsks */
#define COLO_XSK_PRIMARY	0	/* what the PVM sent */
#define COLO_XSK_SECONDARY	1	/* what the SVM sent */
#define COLO_XSK_MAX		2

/* struct colo_config.role */
#define COLO_ROLE_PRIMARY	1	/* host of the PVM and the comparator */
#define COLO_ROLE_SECONDARY	2	/* host of the SVM (two-host layout) */

/* struct colo_config.flags */
#define COLO_CFG_REWRITE	0x1	/* shift TCP seq/ack for the SVM */
#define COLO_CFG_PASSTHROUGH	0x2	/* failover: VM output straight out */

/*
 * Written by userspace before attaching; read by every program.
 * Single-host layout: client, pvm and svm ifindexes set, link 0.
 * Two-host layout, primary host: client, pvm and link set (the SVM's copy of
 * client frames leaves through the link, its output comes back on it).
 * Two-host layout, secondary host: svm and link set.
 */
struct colo_config {
	__u8 vm_mac[6];		/* the protected VM's MAC (PVM and SVM share it) */
	__u16 vlan;		/* 0: untagged; else only this VLAN id is protected */
	__u32 role;		/* COLO_ROLE_* */
	__u32 flags;		/* COLO_CFG_* */
	__u32 client_ifindex;	/* client-facing NIC */
	__u32 pvm_ifindex;	/* PVM tap */
	__u32 svm_ifindex;	/* SVM tap */
	__u32 link_ifindex;	/* replication link, 0 in the single-host layout */
	__u32 pid;		/* the colo-proxy process serving this instance */
	__u32 pad;
};

/* Per-CPU counters: one struct, summed over CPUs by userspace. */
struct colo_counters {
	__u64 mirrored;		/* client frames sent to both VMs */
	__u64 passed;		/* frames left to the host stack untouched */
	__u64 captured_primary;	/* PVM output redirected to the comparator */
	__u64 captured_secondary; /* SVM output redirected to the comparator */
	__u64 injected;		/* mirrored frames injected into the SVM tap */
	__u64 forwarded;	/* SVM output sent back over the link */
	__u64 passthrough;	/* VM output sent straight out (failover) */
	__u64 rewritten;	/* TCP frames whose seq/ack/SACK/TSecr were shifted */
	__u64 conns_learned;	/* ISNs learned */
	__u64 conns_closed;	/* connection entries forgotten */
	__u64 drop_no_socket;	/* capture redirect failed: no AF_XDP socket */
	__u64 drop_redirect;	/* mirror / inject redirect failed */
	__u64 drop_malformed;	/* frame too short for its headers */
	__u64 pad;
};

/* Connection key, from the VM's side: vm = the VM's address and port. */
struct colo_conn_key {
	__u8 vm_addr[16];	/* IPv4 in the first 4 bytes */
	__u8 peer_addr[16];
	__u16 vm_port;		/* network byte order */
	__u16 peer_port;	/* network byte order */
	__u16 vlan;
	__u8 family;		/* 4 or 6 */
	__u8 pad;
};

/* struct colo_conn.flags */
#define COLO_CONN_PVM_ISN	0x01	/* pvm_isn learned */
#define COLO_CONN_SVM_ISN	0x02	/* svm_isn learned */
#define COLO_CONN_PVM_FIN	0x04
#define COLO_CONN_SVM_FIN	0x08
#define COLO_CONN_PEER_FIN	0x10
#define COLO_CONN_PVM_RST	0x20	/* the PVM reset the connection */
#define COLO_CONN_SVM_RST	0x40	/* the SVM reset it (entry deleted once both did) */
#define COLO_CONN_PEER_RST	0x80	/* the peer reset it */
/*
 * The SVM's SYN or SYN/ACK left before the PVM's, so it went to the
 * comparator unshifted: the SVM's output of this connection is never shifted,
 * keeping it in one sequence space (the comparator counts from each side's ISN).
 */
#define COLO_CONN_SVM_RAW	0x100
#define COLO_CONN_PVM_TS	0x200	/* pvm_tsval learned */
#define COLO_CONN_SVM_TS	0x400	/* svm_tsval learned */

struct colo_conn {
	__u32 pvm_isn;		/* ISN of the PVM's SYN or SYN/ACK */
	__u32 svm_isn;		/* ISN of the SVM's SYN or SYN/ACK */
	__u32 offset;		/* svm_isn - pvm_isn once both are known */
	__u32 flags;		/* COLO_CONN_* */
	__u64 last_ns;		/* bpf_ktime_get_ns() of the last frame */
	/* TCP timestamps (RFC 7323): each VM's clock runs on its own */
	__u32 pvm_tsval;	/* TSval of the PVM's SYN or SYN/ACK */
	__u32 svm_tsval;	/* TSval of the SVM's SYN or SYN/ACK */
	__u32 ts_offset;	/* svm_tsval - pvm_tsval once both are known */
	__u32 pad;
};

/*
 * Published by the colo-proxy process (userspace writes, bpftool reads): the
 * comparator's state, refreshed a few times a second.
 */
struct colo_engine_pub {
	__u64 updated_ns;	/* CLOCK_MONOTONIC of the last refresh */
	__u64 pushed_primary;
	__u64 pushed_secondary;
	__u64 released;		/* primary frames released after a match */
	__u64 dropped;		/* secondary frames dropped after a match */
	__u64 flushed_released;
	__u64 flushed_dropped;
	__u64 compared_bytes;
	__u64 checkpoints;
	__u64 coalesced;
	__u64 refused;
	__u64 held_primary;
	__u64 held_secondary;
	__u64 held_bytes;
	__u64 flows;
	__u64 tx_frames;	/* frames sent to the client */
	__u64 tx_errors;
	__u64 by_reason[16];	/* indexed by enum colo_reason */
	/*
	 * The comparator's two AF_XDP sockets: frames read, and the kernel's
	 * XDP_STATISTICS (frames it could not queue for the comparator, lost
	 * before the engine saw them).
	 */
	__u64 xsk_rx_primary;		/* frames read from the PVM's socket */
	__u64 xsk_rx_secondary;
	__u64 xsk_ring_full_primary;	/* rx ring full: the loop read too late */
	__u64 xsk_ring_full_secondary;
	__u64 xsk_fill_empty_primary;	/* no buffer on the fill ring */
	__u64 xsk_fill_empty_secondary;
	__u64 xsk_dropped_primary;	/* rx_dropped: no buffer, or too long */
	__u64 xsk_dropped_secondary;
	__u64 xsk_invalid_primary;	/* rx_invalid_descs */
	__u64 xsk_invalid_secondary;
	__u64 lost;		/* read, then lost in the loop: engine refused,
				 * no memory, hold limit */
	/* How released frames leave: tx_frames took tx_calls system calls */
	__u64 tx_af_xdp;	/* 1: an AF_XDP socket on the client NIC, 0: AF_PACKET */
	__u64 tx_calls;		/* sendto() kicks (AF_XDP) or sendmmsg() calls */
};

/* One recent divergence (ring, slot = seq % COLO_DIVLOG_LEN). */
struct colo_divrec {
	__u64 seq;		/* 1-based; 0 = empty slot */
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 offset;
	__u32 reason;		/* enum colo_reason */
	__u32 pad;
	char flow[96];		/* colo_flow_key_format() */
};

#endif
