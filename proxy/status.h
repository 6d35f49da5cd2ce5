/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An instance's state as `colo-proxy status` shows it, read from its pinned
 * maps and from the interfaces: gathered here, printed by cmd_status.c.
 */
#ifndef COLO_PROXY_STATUS_H
#define COLO_PROXY_STATUS_H

#include <net/if.h>

#include "colo_shared.h"
#include "instance.h"
#include "xdp_if.h"

enum colo_state {
	COLO_STATE_RUNNING,	/* process alive, datapath up */
	COLO_STATE_STARTING,	/* process alive, still setting up */
	COLO_STATE_STALE,	/* no process: leftovers, run detach */
};

struct colo_status_if {
	const char *role;		/* "client", "pvm", "svm", "link" */
	unsigned int ifindex;
	char name[IF_NAMESIZE];		/* "" when not found in this netns */
	int query_err;			/* -errno from the XDP query, 0 */
	struct colo_xdp_info xdp;
};

struct colo_status {
	char name[COLO_INST_NAME_MAX + 1];
	char path[96];
	enum colo_state state;
	int alive;
	int have_config;
	struct colo_config cfg;
	int n_if;
	struct colo_status_if ifs[4];
	int have_counters;
	struct colo_counters cnt;	/* summed over CPUs */
	int have_engine;
	struct colo_engine_pub eng;
	unsigned long long eng_age_ns;	/* since eng.updated_ns */
	long conns;			/* entries, -errno when unreadable */
	int n_div;
	struct colo_divrec div[COLO_DIVLOG_LEN];	/* newest first */
};

/* Read everything about instance name. 0, or -ENOENT when it does not
 * exist; other problems leave the parts unset. */
int colo_status_read(const char *name, struct colo_status *st);

const char *colo_state_name(enum colo_state s);

/* Field names and offsets of struct colo_counters and colo_engine_pub, in
 * declaration order (padding left out), for printing. */
struct colo_u64_field {
	const char *name;
	unsigned int off;
};
extern const struct colo_u64_field colo_counter_fields[];
extern const struct colo_u64_field colo_engine_fields[];

static inline unsigned long long colo_u64_at(const void *base,
					      const struct colo_u64_field *f)
{
	return *(const unsigned long long *)((const char *)base + f->off);
}

#endif
