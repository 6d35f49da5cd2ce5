// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A bare devmap broadcast, for tools/bench-datapath.sh only: every frame
 * goes to every device in colo_bench_devs except the one it came in on.
 * No parsing, no counters, no devmap program: the cost of the broadcast
 * itself, against which colo_client_in (bpf/colo.bpf.c) is measured. Not
 * part of colo-proxy.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* The same map type and value as colo_mirror. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);			/* ifindex */
	__type(value, struct bpf_devmap_val);
} colo_bench_devs SEC(".maps");

SEC("xdp")
int bench_bcast(struct xdp_md *ctx)
{
	return bpf_redirect_map(&colo_bench_devs, 0,
				BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}
