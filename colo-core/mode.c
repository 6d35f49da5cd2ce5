// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Checkpoint policy: periodic, hybrid and adaptive modes (mode.h).
 *
 * Everything is decided in decide(): first whether the mode changes (only
 * periodic -> hybrid is decided by time; hybrid -> periodic happens when a
 * divergence-driven checkpoint starts), then whether a checkpoint starts now
 * or when the policy wants to be asked again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mode.h"

#define NS_PER_MS 1000000ULL
#define ULL(x) ((unsigned long long)(x))

static const char *const mode_names[COLO_MODE_MAX] = {
	[COLO_MODE_PERIODIC] = "periodic",
	[COLO_MODE_HYBRID] = "hybrid",
	[COLO_MODE_ADAPTIVE] = "adaptive",
};

static const char *const cause_names[COLO_CAUSE_MAX] = {
	[COLO_CAUSE_NONE] = "none",
	[COLO_CAUSE_DIVERGENCE] = "divergence",
	[COLO_CAUSE_INTERVAL] = "interval",
	[COLO_CAUSE_PERIOD] = "period",
	[COLO_CAUSE_SWITCH] = "mode-switch",
	[COLO_CAUSE_URGENT] = "urgent",
};

static const char *const switch_names[COLO_SWITCH_MAX] = {
	[COLO_SWITCH_NONE] = "none",
	[COLO_SWITCH_TOO_MANY] = "too-many-divergences",
	[COLO_SWITCH_CALM] = "divergence-subsided",
};

const char *colo_mode_name(enum colo_mode m)
{
	return (unsigned int)m < COLO_MODE_MAX ? mode_names[m] : "unknown";
}

const char *colo_cause_name(enum colo_ckpt_cause c)
{
	return (unsigned int)c < COLO_CAUSE_MAX ? cause_names[c] : "unknown";
}

const char *colo_switch_reason_name(enum colo_switch_reason r)
{
	return (unsigned int)r < COLO_SWITCH_MAX ? switch_names[r] : "unknown";
}

int colo_mode_parse(const char *s, enum colo_mode *m)
{
	int i;

	if (!s || !m)
		return -EINVAL;
	for (i = 0; i < COLO_MODE_MAX; i++) {
		if (!strcmp(s, mode_names[i])) {
			*m = i;
			return 0;
		}
	}
	return -EINVAL;
}

void colo_policy_cfg_default(struct colo_policy_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = COLO_MODE_HYBRID;
	cfg->period_ns = 50 * NS_PER_MS;
	cfg->min_gap_ns = 10 * NS_PER_MS;
	cfg->max_interval_ns = 20000 * NS_PER_MS;
	cfg->window_ns = 1000 * NS_PER_MS;
	cfg->high = 10;
	cfg->low = 2;
	cfg->calm_ns = 5000 * NS_PER_MS;
}

static bool cfg_valid(const struct colo_policy_cfg *c)
{
	return (unsigned int)c->mode < COLO_MODE_MAX && c->period_ns &&
	       c->max_interval_ns && c->min_gap_ns <= c->max_interval_ns &&
	       c->window_ns && c->calm_ns && c->low < c->high &&
	       c->high < COLO_POLICY_MARKS;
}

static uint64_t mark_at(const struct colo_policy *p, uint32_t i)
{
	return p->marks[(p->head + i) % COLO_POLICY_MARKS];
}

static void add_mark(struct colo_policy *p)
{
	if (p->nmarks < COLO_POLICY_MARKS) {
		p->marks[(p->head + p->nmarks++) % COLO_POLICY_MARKS] = p->now;
		return;
	}
	p->marks[p->head] = p->now;
	p->head = (p->head + 1) % COLO_POLICY_MARKS;
}

/* Marks in (now - window, now]. */
static uint32_t rate(const struct colo_policy *p)
{
	uint32_t n = 0;

	while (n < p->nmarks &&
	       mark_at(p, p->nmarks - 1 - n) + p->cfg.window_ns > p->now)
		n++;
	return n;
}

/*
 * Since when the rate has been at most low: the (low+1)-th newest mark
 * leaving the window, and not before the last switch.
 */
static uint64_t calm_since(const struct colo_policy *p)
{
	uint64_t t = 0;

	if (p->nmarks > p->cfg.low)
		t = mark_at(p, p->nmarks - 1 - p->cfg.low) + p->cfg.window_ns;
	return t > p->switched_ns ? t : p->switched_ns;
}

static bool adaptive(const struct colo_policy *p)
{
	return p->cfg.mode == COLO_MODE_ADAPTIVE;
}

static void switch_mode(struct colo_policy *p, enum colo_mode to,
			enum colo_switch_reason why, uint32_t r,
			struct colo_policy_answer *ans)
{
	struct colo_mode_switch *sw = &p->stats.last_switch;

	sw->from = p->mode;
	sw->to = to;
	sw->why = why;
	sw->at_ns = p->now;
	if (why == COLO_SWITCH_TOO_MANY)
		snprintf(sw->text, sizeof(sw->text),
			 "hybrid -> periodic: %u divergence checkpoints within %llu ms (more than %u)",
			 r, ULL(p->cfg.window_ns / NS_PER_MS), p->cfg.high);
	else
		snprintf(sw->text, sizeof(sw->text),
			 "periodic -> hybrid: at most %u divergences per %llu ms for %llu ms",
			 p->cfg.low, ULL(p->cfg.window_ns / NS_PER_MS),
			 ULL(p->cfg.calm_ns / NS_PER_MS));
	p->mode = to;
	p->switched_ns = p->now;
	p->stats.switches++;
	ans->changed = true;
	ans->sw = *sw;
}

static void owe(struct colo_policy *p, enum colo_ckpt_cause cause)
{
	if (p->pending) {
		p->stats.coalesced += cause == COLO_CAUSE_DIVERGENCE;
		return;
	}
	p->pending = true;
	p->pending_cause = cause;
}

static void start(struct colo_policy *p, enum colo_ckpt_cause cause,
		  struct colo_policy_answer *ans)
{
	uint32_t r;

	p->in_flight = true;
	p->pending = false;
	p->stats.checkpoints[cause]++;
	ans->when = COLO_WHEN_NOW;
	ans->cause = cause;
	if (cause != COLO_CAUSE_DIVERGENCE || !adaptive(p) ||
	    p->mode != COLO_MODE_HYBRID)
		return;
	add_mark(p);
	r = rate(p);
	if (r > p->cfg.high)
		switch_mode(p, COLO_MODE_PERIODIC, COLO_SWITCH_TOO_MANY, r, ans);
}

static void describe(const struct colo_policy *p, struct colo_policy_answer *ans)
{
	ans->mode = p->mode;
	ans->compare = p->mode == COLO_MODE_HYBRID;
	ans->observe = adaptive(p) && p->mode == COLO_MODE_PERIODIC;
	ans->svm_runs = p->cfg.mode != COLO_MODE_PERIODIC;
	ans->rate = rate(p);
}

static void decide(struct colo_policy *p, struct colo_policy_answer *ans)
{
	uint64_t gap_due = p->last_end_ns + p->cfg.min_gap_ns;
	uint64_t due = p->last_end_ns + (p->mode == COLO_MODE_HYBRID ?
					 p->cfg.max_interval_ns : p->cfg.period_ns);
	uint64_t calm_due;

	if (adaptive(p) && p->mode == COLO_MODE_PERIODIC &&
	    p->now >= calm_since(p) + p->cfg.calm_ns) {
		switch_mode(p, COLO_MODE_HYBRID, COLO_SWITCH_CALM, rate(p), ans);
		owe(p, COLO_CAUSE_SWITCH);
		due = p->last_end_ns + p->cfg.max_interval_ns;
	}
	if (p->in_flight) {
		ans->when = COLO_WHEN_NONE;
	} else if (p->pending && p->now >= gap_due) {
		start(p, p->pending_cause, ans);
	} else if (p->now >= due) {
		start(p, p->mode == COLO_MODE_HYBRID ? COLO_CAUSE_INTERVAL :
		      COLO_CAUSE_PERIOD, ans);
	} else {
		ans->when = COLO_WHEN_AT;
		ans->at_ns = due;
		ans->cause = p->mode == COLO_MODE_HYBRID ? COLO_CAUSE_INTERVAL :
			     COLO_CAUSE_PERIOD;
		if (p->pending && gap_due < ans->at_ns) {
			ans->at_ns = gap_due;
			ans->cause = p->pending_cause;
		}
		calm_due = calm_since(p) + p->cfg.calm_ns;
		if (adaptive(p) && p->mode == COLO_MODE_PERIODIC &&
		    calm_due < ans->at_ns) {
			ans->at_ns = calm_due;
			ans->cause = COLO_CAUSE_SWITCH;
		}
	}
	describe(p, ans);
}

/* Common entry: arguments and the clock. */
static int enter(struct colo_policy *p, uint64_t now,
		 struct colo_policy_answer *ans)
{
	if (!p || !ans)
		return -EINVAL;
	memset(ans, 0, sizeof(*ans));
	if (now < p->now) {
		describe(p, ans);
		return -EINVAL;
	}
	p->now = now;
	return 0;
}

int colo_policy__init(struct colo_policy *p, const struct colo_policy_cfg *cfg,
		      uint64_t now_ns, struct colo_policy_answer *ans)
{
	struct colo_policy_cfg def;
	struct colo_policy_answer tmp;

	if (!p)
		return -EINVAL;
	if (!cfg) {
		colo_policy_cfg_default(&def);
		cfg = &def;
	}
	if (!cfg_valid(cfg))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->mode = cfg->mode == COLO_MODE_PERIODIC ? COLO_MODE_PERIODIC :
		  COLO_MODE_HYBRID;
	p->now = p->last_end_ns = p->switched_ns = now_ns;
	if (!ans)
		ans = &tmp;
	memset(ans, 0, sizeof(*ans));
	decide(p, ans);
	return 0;
}

int colo_policy__divergence(struct colo_policy *p, uint64_t now_ns,
			    struct colo_policy_answer *ans)
{
	int ret = enter(p, now_ns, ans);

	if (ret)
		return ret;
	p->stats.divergences++;
	if (p->mode == COLO_MODE_HYBRID)
		owe(p, COLO_CAUSE_DIVERGENCE);
	else if (adaptive(p))
		add_mark(p);	/* observed, not acted on */
	decide(p, ans);
	return 0;
}

int colo_policy__urgent(struct colo_policy *p, uint64_t now_ns,
			struct colo_policy_answer *ans)
{
	int ret = enter(p, now_ns, ans);

	if (ret)
		return ret;
	owe(p, COLO_CAUSE_URGENT);
	decide(p, ans);
	return 0;
}

int colo_policy__checkpoint_done(struct colo_policy *p, uint64_t now_ns,
				 struct colo_policy_answer *ans)
{
	int ret = enter(p, now_ns, ans);

	if (ret)
		return ret;
	p->in_flight = false;
	p->last_end_ns = now_ns;
	decide(p, ans);
	return 0;
}

int colo_policy__tick(struct colo_policy *p, uint64_t now_ns,
		      struct colo_policy_answer *ans)
{
	int ret = enter(p, now_ns, ans);

	if (ret)
		return ret;
	decide(p, ans);
	return 0;
}
