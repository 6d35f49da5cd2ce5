/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One attached instance, from the process's side: pin root and lock, the
 * loaded XDP object, programs on interfaces, AF_XDP sockets, the client
 * socket and the comparator loop. setup() builds it step by step and
 * teardown() undoes exactly what was done, from any point.
 */
#ifndef COLO_PROXY_ATTACH_H
#define COLO_PROXY_ATTACH_H

#include <stdint.h>

#include "bpfobj.h"
#include "ckpt.h"
#include "instance.h"
#include "loop.h"
#include "xdp_if.h"
#include "xsk.h"

enum colo_if {
	COLO_IF_CLIENT,
	COLO_IF_PVM,
	COLO_IF_SVM,
	COLO_IF_LINK,
	COLO_IF_MAX,
};

/* "client", "pvm", "svm", "link": the option names. */
const char *colo_if_opt(enum colo_if i);

struct colo_attach_opts {
	const char *instance;
	unsigned int role;		/* COLO_ROLE_* */
	uint8_t vm_mac[6];
	uint16_t vlan;			/* 0: untagged */
	const char *ifname[COLO_IF_MAX];	/* NULL: not given */
	enum xdp_attach_mode mode;
	int no_rewrite;
	uint64_t timeout_ns;		/* 0: engine default */
	const char *pcap_out;
	unsigned int queue;
	int ckpt;			/* --listen or --peer: run the checkpoint loop */
	struct colo_ckpt_opts ck;
	unsigned int ck_given;		/* bit (COLO_OPT_* - COLO_OPT_LISTEN) */
};

struct colo_attach {
	struct colo_attach_opts opt;
	int ifindex[COLO_IF_MAX];	/* 0: not used */
	struct colo_inst inst;
	struct colo_obj obj;
	unsigned int cfg_map_id;
	struct colo_config cfg;
	int pinned;
	enum colo_prog prog[COLO_IF_MAX];	/* which program on which interface */
	int attached[COLO_IF_MAX];
	struct colo_xdp_info xdp[COLO_IF_MAX];
	struct colo_xsk *xsk[2];	/* [COLO_PRIMARY], [COLO_SECONDARY] */
	int xsk_if[2];			/* the interface each is bound to */
	int tx_fd;
	int sig_fd;
	struct colo_loop loop;
	int loop_ready;
	struct colo_ckpt *ckpt;		/* NULL: no checkpoint loop */
};

/* --NAME VALUE as a whole number in [min, max]. 0, or -EINVAL printed. */
int colo_parse_uint(const char *opt, const char *s, unsigned long min,
		    unsigned long max, unsigned long *out);

/* Checkpoint-loop options of attach (long only), parsed in
 * cmd_attach_ckpt.c. */
enum {
	COLO_OPT_LISTEN = 0x100,
	COLO_OPT_PEER,
	COLO_OPT_DRIVER,
	COLO_OPT_VM,
	COLO_OPT_CHECKPOINT,
	COLO_OPT_INTERVAL,
	COLO_OPT_PERIOD,
	COLO_OPT_MIN_GAP,
	COLO_OPT_HEARTBEAT,
	COLO_OPT_HB_TIMEOUT,
	COLO_OPT_ADAPTIVE_HIGH,
	COLO_OPT_ADAPTIVE_LOW,
	COLO_OPT_NO_DATAPATH,
	COLO_OPT_CKPT_END,
};

/* One of them into o: 0, or -EINVAL (message printed). */
int colo_attach_ckpt_opt(struct colo_attach_opts *o, int opt, const char *arg);
/* Once all options are in: are they consistent? 0, or -EINVAL printed. */
int colo_attach_ckpt_check(struct colo_attach_opts *o);

/* Zero a and mark every resource as not held. */
void colo_attach__init(struct colo_attach *a, const struct colo_attach_opts *o,
		       int sig_fd);
/* Everything up to running the loop. -errno, message printed. */
int colo_attach__setup(struct colo_attach *a);
/* Primary: run the comparator until a signal; secondary: wait for one.
 * 0 or -errno. */
int colo_attach__serve(struct colo_attach *a);
/* Undo whatever setup did, in reverse. */
void colo_attach__teardown(struct colo_attach *a);

#endif
