/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live datapath commands (attach, detach, status): their command structs,
 * exit statuses beyond cli.h's, and the map names as strings.
 */
#ifndef COLO_PROXY_LIVE_H
#define COLO_PROXY_LIVE_H

#include "cli.h"
#include "colo_shared.h"

/* Exit statuses of attach, detach and status (0 and 2 as in cli.h). */
#define COLO_EXIT_FAILED	1	/* the operation failed (message printed) */
#define COLO_EXIT_NOT_ATTACHED	3	/* status --instance NAME: no such instance */
#define COLO_EXIT_NOT_RUNNING	4	/* status --instance NAME: exists, not running */

extern const struct colo_cmd colo_cmd_attach;
extern const struct colo_cmd colo_cmd_detach;
extern const struct colo_cmd colo_cmd_status;

/* "colo_config" from COLO_MAP_CONFIG, and so on. */
#define COLO_MAPSTR_(x)		#x
#define COLO_MAPSTR(x)		COLO_MAPSTR_(x)
#define COLO_CONFIG_NAME	COLO_MAPSTR(COLO_MAP_CONFIG)
#define COLO_COUNTERS_NAME	COLO_MAPSTR(COLO_MAP_COUNTERS)
#define COLO_CONNS_NAME		COLO_MAPSTR(COLO_MAP_CONNS)
#define COLO_MIRROR_NAME	COLO_MAPSTR(COLO_MAP_MIRROR)
#define COLO_XSKS_NAME		COLO_MAPSTR(COLO_MAP_XSKS)
#define COLO_ENGINE_NAME	COLO_MAPSTR(COLO_MAP_ENGINE)
#define COLO_DIVLOG_NAME	COLO_MAPSTR(COLO_MAP_DIVLOG)

#define NSEC_PER_MSEC_U64	1000000ULL
#define NSEC_PER_SEC_U64	1000000000ULL

/* CLOCK_MONOTONIC in ns (the clock bpf_ktime_get_ns() reads). */
unsigned long long colo_now_ns(void);

#endif
