/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `colo-proxy compare`: offline replay of two captures through the engine.
 * Shared between the replay (cmd_compare.c) and its report (compare_report.c).
 */
#ifndef COLO_PROXY_COMPARE_H
#define COLO_PROXY_COMPARE_H

#include <stdint.h>

#include "engine.h"
#include "pcap_file.h"

/* Our own reason, past the engine's: a push refused at the hard limit. */
#define COMPARE_REFUSED		COLO_DIV_MAX
#define COMPARE_N_REASONS	(COLO_DIV_MAX + 1)

/* Divergences kept for --json; past this only counted. */
#define COMPARE_MAX_RECORDS	100000

struct compare_opts {
	const char *path[2];		/* primary, secondary */
	const char *pcap_out;		/* NULL: none */
	uint64_t timeout_ns;		/* 0: engine default */
	int json;
	int quiet;
};

struct compare_div {
	struct colo_flow_key key;
	unsigned int reason;		/* enum colo_reason or COMPARE_REFUSED */
	uint64_t offset;
	int64_t byte;			/* -1: not compared byte by byte */
	uint64_t frame[2];		/* frame numbers per side, 0: none */
	uint64_t ts_ns;			/* replay time when it was seen */
};

struct compare {
	struct compare_opts opt;
	struct pcap_in in[2];
	struct pcap_out out;
	struct colo_engine *engine;
	struct colo_engine_cfg cfg;
	struct colo_engine_stats stats;	/* copied before the engine goes */

	uint64_t start_ns;		/* timestamp of the first frame */
	uint64_t now_ns;		/* replay clock, never goes back */
	int started;
	int demand;			/* checkpoint called since last flush */

	uint64_t checkpoints;		/* flushes after a demand */
	uint64_t handed_back[2];	/* release / drop callbacks */
	uint64_t held;			/* frames pushed, not yet handed back */
	uint64_t skipped;		/* frames the engine rejected as invalid */
	uint64_t refused;		/* -ENOBUFS pushes */

	uint64_t n_divs;
	uint64_t by_reason[COMPARE_N_REASONS];
	struct compare_div *divs;	/* kept for --json */
	uint64_t n_kept, cap_kept;

	uint64_t next_progress_ns;	/* wall clock */
	uint64_t progress_tick;
};

const char *compare_reason_name(unsigned int reason);

/* One divergence as it happens (human mode, not quiet). */
void compare_print_div(const struct compare *c, const struct compare_div *d,
		       uint64_t index);
/* The result: summary block, or the JSON line. */
void compare_print_summary(const struct compare *c);
void compare_print_json(const struct compare *c);

#endif
