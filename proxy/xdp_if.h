/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * XDP programs on interfaces through libxdp: attach, see what is attached,
 * detach only what belongs to an instance. A program belongs to an instance
 * when it uses the instance's colo_config map (by kernel map id), so a
 * detach never removes somebody else's program, even after a crash.
 */
#ifndef COLO_PROXY_XDP_IF_H
#define COLO_PROXY_XDP_IF_H

#include <xdp/libxdp.h>

struct colo_xdp_info {
	unsigned int prog_id;		/* the attached program (the dispatcher
					 * when there is one), 0: none */
	enum xdp_attach_mode mode;	/* XDP_MODE_NATIVE, _SKB, _HW */
	int dispatcher;			/* 1: libxdp dispatcher; 0: one plain
					 * program */
	int n_progs;			/* programs run on the interface */
	int ours;			/* one of them uses the given map id */
	unsigned int our_id;		/* id of that program */
	char prog_name[16];		/* name of ours, else of the main one */
};

/* Route libbpf's and libxdp's messages into the proxy's log. Idempotent. */
void colo_bpf_log_init(void);

const char *colo_xdp_mode_name(enum xdp_attach_mode mode);

/*
 * What runs on ifindex. cfg_map_id (0: none) decides info->ours. 0, or
 * -errno (-ENODEV: no such interface). No program is 0 with prog_id 0.
 */
int colo_xdp_query(int ifindex, unsigned int cfg_map_id,
		   struct colo_xdp_info *info);

/*
 * Attach prog_fd to ifname in mode. On success fills info (mode used,
 * dispatcher or the single-program fallback). On failure prints a message
 * that names the interface and says what to try, and returns -errno.
 */
int colo_xdp_attach(const char *ifname, int ifindex, int prog_fd,
		    enum xdp_attach_mode mode, struct colo_xdp_info *info);

/*
 * Detach from ifindex the program that uses cfg_map_id. 1 when one was
 * detached, 0 when none of ours is there, -errno.
 */
int colo_xdp_detach_ours(int ifindex, unsigned int cfg_map_id);

/* Why libxdp could not use its dispatcher, from its last message ("" if
 * none was seen). */
const char *colo_xdp_fallback_reason(void);

#endif
