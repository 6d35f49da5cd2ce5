/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint policy: when to checkpoint, and in which mode.
 *
 *   periodic  the secondary VM does not run between checkpoints and is not
 *             compared; the primary's output is held and released when the
 *             checkpoint covering it is acknowledged (vmstate-received).
 *   hybrid    both VMs run, their outputs are compared; a divergence
 *             demands a checkpoint. Demands coalesce, a minimum gap
 *             separates checkpoints, a maximum interval forces one.
 *   adaptive  hybrid, switching to periodic while divergence-driven
 *             checkpoints come too often, and back once divergences stay
 *             rare for a while (hysteresis). In its periodic phase the
 *             secondary still runs and is compared, only to count
 *             divergences ("observe"); output waits for the checkpoint.
 *
 * Pure: no I/O, no clock, no globals. The caller feeds divergences,
 * checkpoint completions and ticks with the time; every call answers what
 * to do next and which mode is in force. See docs/protocol.md.
 */
#ifndef COLO_MODE_H
#define COLO_MODE_H

#include <stdbool.h>
#include <stdint.h>

enum colo_mode {
	COLO_MODE_PERIODIC = 0,
	COLO_MODE_HYBRID,
	COLO_MODE_ADAPTIVE,	/* configured only; in force is one of the two */
	COLO_MODE_MAX,
};

const char *colo_mode_name(enum colo_mode m);
/* 0 and *m set for "periodic", "hybrid", "adaptive"; -EINVAL otherwise. */
int colo_mode_parse(const char *s, enum colo_mode *m);

/* Why a checkpoint is asked for. */
enum colo_ckpt_cause {
	COLO_CAUSE_NONE = 0,
	COLO_CAUSE_DIVERGENCE,	/* hybrid: outputs diverged */
	COLO_CAUSE_INTERVAL,	/* hybrid: max_interval since the last one */
	COLO_CAUSE_PERIOD,	/* periodic: period since the last one */
	COLO_CAUSE_SWITCH,	/* adaptive: back to hybrid starts equal */
	COLO_CAUSE_URGENT,	/* colo_policy__urgent() */
	COLO_CAUSE_MAX,
};

const char *colo_cause_name(enum colo_ckpt_cause c);

enum colo_switch_reason {
	COLO_SWITCH_NONE = 0,
	COLO_SWITCH_TOO_MANY,	/* hybrid -> periodic: rate above high */
	COLO_SWITCH_CALM,	/* periodic -> hybrid: rate at most low for calm_ns */
	COLO_SWITCH_MAX,
};

const char *colo_switch_reason_name(enum colo_switch_reason r);

struct colo_policy_cfg {
	enum colo_mode mode;		/* configured mode (hybrid) */
	uint64_t period_ns;		/* periodic: end of one checkpoint to the next (50 ms) */
	uint64_t min_gap_ns;		/* end of one checkpoint to the start of a demanded one (10 ms) */
	uint64_t max_interval_ns;	/* hybrid: a checkpoint at least this long after the last (20 s) */
	uint64_t window_ns;		/* adaptive: rates are counted over this window (1 s) */
	uint32_t high;			/* adaptive: more divergence checkpoints than this in a window -> periodic (10) */
	uint32_t low;			/* adaptive: at most this many divergences in a window ... (2) */
	uint64_t calm_ns;		/* ... continuously for this long -> hybrid (5 s) */
};

void colo_policy_cfg_default(struct colo_policy_cfg *cfg);

enum colo_when {
	COLO_WHEN_NONE = 0,	/* nothing: a checkpoint is in flight, wait for done */
	COLO_WHEN_NOW,		/* start a checkpoint now (it is taken as in flight) */
	COLO_WHEN_AT,		/* call colo_policy__tick() at at_ns */
};

struct colo_mode_switch {
	enum colo_mode from, to;
	enum colo_switch_reason why;
	uint64_t at_ns;
	char text[128];		/* for the log and the status */
};

struct colo_policy_answer {
	enum colo_when when;
	uint64_t at_ns;			/* COLO_WHEN_AT */
	enum colo_ckpt_cause cause;	/* of the checkpoint now, or planned at at_ns */
	enum colo_mode mode;		/* in force: PERIODIC or HYBRID */
	bool compare;	/* matched output leaves at once; a divergence demands a checkpoint */
	bool observe;	/* compare only to report divergences; output waits */
	bool svm_runs;	/* secondary VM runs between checkpoints (no COLO_CKPT_PAUSE) */
	uint32_t rate;	/* divergence marks in the last window */
	bool changed;	/* the mode changed during this call: see sw */
	struct colo_mode_switch sw;
};

#define COLO_POLICY_MARKS 64

struct colo_policy_stats {
	uint64_t divergences;		/* fed in */
	uint64_t coalesced;		/* divergences absorbed by a planned checkpoint */
	uint64_t checkpoints[COLO_CAUSE_MAX];	/* started, by cause */
	uint64_t switches;
	struct colo_mode_switch last_switch;
};

/* Fields are read-only for callers. */
struct colo_policy {
	struct colo_policy_cfg cfg;
	enum colo_mode mode;		/* in force */
	uint64_t now;
	uint64_t last_end_ns;		/* end of the last checkpoint, or init */
	uint64_t switched_ns;		/* last mode change, or init */
	bool in_flight;
	bool pending;			/* a checkpoint is owed after the gap */
	enum colo_ckpt_cause pending_cause;
	/* times of divergence-driven checkpoints (hybrid) and of observed
	 * divergences (adaptive periodic), oldest first from head */
	uint64_t marks[COLO_POLICY_MARKS];
	uint32_t head, nmarks;
	struct colo_policy_stats stats;
};

/* 0, or -EINVAL for NULL or a bad cfg (NULL cfg: defaults); ans may be NULL. */
int colo_policy__init(struct colo_policy *p, const struct colo_policy_cfg *cfg,
		      uint64_t now_ns, struct colo_policy_answer *ans);

/*
 * Each returns 0 and fills ans, or -EINVAL (NULL arguments, time going
 * back; the policy is unchanged and ans describes it as it is).
 */
/* The comparator found the outputs diverging. */
int colo_policy__divergence(struct colo_policy *p, uint64_t now_ns,
			    struct colo_policy_answer *ans);
/* A checkpoint must happen whatever the mode (held output at its limit,
 * operator); coalesces like a divergence, not counted as one. */
int colo_policy__urgent(struct colo_policy *p, uint64_t now_ns,
			struct colo_policy_answer *ans);
/* The checkpoint completed (COLO_ACT_CHECKPOINT_DONE). */
int colo_policy__checkpoint_done(struct colo_policy *p, uint64_t now_ns,
				 struct colo_policy_answer *ans);
/* Time passed: at the at_ns of an answer, or whenever. */
int colo_policy__tick(struct colo_policy *p, uint64_t now_ns,
		      struct colo_policy_answer *ans);

#endif
