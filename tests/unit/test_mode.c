// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Checkpoint policy, table-driven.
 *
 * 1. Scripts: divergences, completions, ticks and urgent demands at given
 *    times, and the exact answer to each ("div50:now(divergence)",
 *    "done60:at1060(interval)", "div52:-" while a checkpoint is in flight,
 *    "!periodic" when the mode switched), then the counters.
 * 2. Simulations: the test plays the caller (starts a checkpoint when told,
 *    completes it ckpt_ms later, ticks when asked) with divergence sources
 *    switched on and off; the log lists each checkpoint start by cause
 *    (d divergence, i interval, p period, s mode switch, u urgent) and each
 *    mode switch. This is where adaptive switching and hysteresis show.
 * 3. Configuration, flags per mode, switch reports, bad calls.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mode.h"

#define MS 1000000ULL
#define ULL(x) ((unsigned long long)(x))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct log {
	char buf[2048];
	size_t used;
};

static void logf_(struct log *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->used, sizeof(l->buf) - l->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->used += (size_t)n;
	assert_true(l->used < sizeof(l->buf) - 1);
}

/* Small numbers so that scripts stay readable. */
static void test_cfg(struct colo_policy_cfg *cfg, enum colo_mode mode)
{
	colo_policy_cfg_default(cfg);
	cfg->mode = mode;
	cfg->period_ns = 100 * MS;
	cfg->min_gap_ns = 20 * MS;
	cfg->max_interval_ns = 1000 * MS;
	cfg->window_ns = 1000 * MS;
	cfg->high = 5;
	cfg->low = 1;
	cfg->calm_ns = 2000 * MS;
}

static uint64_t total_checkpoints(const struct colo_policy *p)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < COLO_CAUSE_MAX; i++)
		n += p->stats.checkpoints[i];
	return n;
}

/* ---- 1. scripts ---- */

enum pop { P_END = 0, P_DIV, P_DONE, P_TICK, P_URGENT };

struct pstep {
	enum pop op;
	uint32_t ms;
};

struct mcase {
	const char *name;
	enum colo_mode mode;
	struct pstep steps[24];
	const char *expect;
};

static void log_answer(struct log *l, const struct colo_policy_answer *a)
{
	if (a->when == COLO_WHEN_NOW)
		logf_(l, "now(%s)", colo_cause_name(a->cause));
	else if (a->when == COLO_WHEN_AT)
		logf_(l, "at%llu(%s)", ULL(a->at_ns / MS), colo_cause_name(a->cause));
	else
		logf_(l, "-");
	if (a->changed)
		logf_(l, "!%s", colo_mode_name(a->sw.to));
}

static void test_script(void **state)
{
	static const char *const opname[] = { "", "div", "done", "tick", "urgent" };
	const struct mcase *c = *state;
	struct colo_policy_cfg cfg;
	struct colo_policy p;
	struct colo_policy_answer a;
	const struct pstep *s;
	struct log l = { .used = 0 };

	test_cfg(&cfg, c->mode);
	assert_int_equal(colo_policy__init(&p, &cfg, 0, &a), 0);
	logf_(&l, "init:");
	log_answer(&l, &a);
	for (s = c->steps; s->op != P_END; s++) {
		uint64_t t = s->ms * MS;
		int ret;

		switch (s->op) {
		case P_DIV:
			ret = colo_policy__divergence(&p, t, &a);
			break;
		case P_DONE:
			ret = colo_policy__checkpoint_done(&p, t, &a);
			break;
		case P_TICK:
			ret = colo_policy__tick(&p, t, &a);
			break;
		default:
			ret = colo_policy__urgent(&p, t, &a);
			break;
		}
		assert_int_equal(ret, 0);
		logf_(&l, " %s%u:", opname[s->op], s->ms);
		log_answer(&l, &a);
	}
	logf_(&l, " [%s div=%llu co=%llu ck=%llu]", colo_mode_name(p.mode),
	      ULL(p.stats.divergences), ULL(p.stats.coalesced),
	      ULL(total_checkpoints(&p)));
	if (strcmp(l.buf, c->expect))
		fail_msg("case %s:\n  expected: %s\n  got:      %s", c->name,
			 c->expect, l.buf);
}

static const struct mcase mcases[] = {
	{ "hybrid: a divergence checkpoints at once, then the interval rules",
	  COLO_MODE_HYBRID,
	  { { P_DIV, 50 }, { P_DONE, 60 } },
	  "init:at1000(interval) div50:now(divergence) done60:at1060(interval) "
	  "[hybrid div=1 co=0 ck=1]" },
	{ "hybrid: a divergence right after a checkpoint waits for the gap",
	  COLO_MODE_HYBRID,
	  { { P_DIV, 50 }, { P_DONE, 60 }, { P_DIV, 70 }, { P_TICK, 79 },
	    { P_TICK, 80 }, { P_DONE, 90 } },
	  "init:at1000(interval) div50:now(divergence) done60:at1060(interval) "
	  "div70:at80(divergence) tick79:at80(divergence) tick80:now(divergence) "
	  "done90:at1090(interval) [hybrid div=2 co=0 ck=2]" },
	{ "hybrid: a burst during a checkpoint makes one more, after the gap",
	  COLO_MODE_HYBRID,
	  { { P_DIV, 50 }, { P_DIV, 52 }, { P_DIV, 55 }, { P_DONE, 60 },
	    { P_DIV, 65 }, { P_TICK, 80 }, { P_DIV, 85 }, { P_DONE, 90 },
	    { P_TICK, 110 }, { P_DONE, 120 } },
	  "init:at1000(interval) div50:now(divergence) div52:- div55:- "
	  "done60:at80(divergence) div65:at80(divergence) tick80:now(divergence) "
	  "div85:- done90:at110(divergence) tick110:now(divergence) "
	  "done120:at1120(interval) [hybrid div=5 co=2 ck=3]" },
	{ "hybrid: the maximum interval forces a checkpoint", COLO_MODE_HYBRID,
	  { { P_TICK, 500 }, { P_TICK, 999 }, { P_TICK, 1000 }, { P_DONE, 1010 },
	    { P_TICK, 1500 }, { P_TICK, 2010 } },
	  "init:at1000(interval) tick500:at1000(interval) tick999:at1000(interval) "
	  "tick1000:now(interval) done1010:at2010(interval) "
	  "tick1500:at2010(interval) tick2010:now(interval) "
	  "[hybrid div=0 co=0 ck=2]" },
	{ "hybrid: a late tick starts the overdue checkpoint", COLO_MODE_HYBRID,
	  { { P_TICK, 1700 }, { P_DONE, 1710 } },
	  "init:at1000(interval) tick1700:now(interval) done1710:at2710(interval) "
	  "[hybrid div=0 co=0 ck=1]" },
	{ "hybrid: a divergence at the interval's deadline is one checkpoint",
	  COLO_MODE_HYBRID,
	  { { P_DIV, 1000 }, { P_TICK, 1000 }, { P_DONE, 1010 } },
	  "init:at1000(interval) div1000:now(divergence) tick1000:- "
	  "done1010:at2010(interval) [hybrid div=1 co=0 ck=1]" },
	{ "hybrid: an urgent demand respects the gap too", COLO_MODE_HYBRID,
	  { { P_DIV, 50 }, { P_DONE, 60 }, { P_URGENT, 70 }, { P_DIV, 75 },
	    { P_TICK, 80 }, { P_DONE, 85 } },
	  "init:at1000(interval) div50:now(divergence) done60:at1060(interval) "
	  "urgent70:at80(urgent) div75:at80(urgent) tick80:now(urgent) "
	  "done85:at1085(interval) [hybrid div=2 co=1 ck=2]" },
	{ "hybrid: a checkpoint the policy did not start still counts as done",
	  COLO_MODE_HYBRID,
	  { { P_DONE, 300 }, { P_DIV, 310 } },
	  "init:at1000(interval) done300:at1300(interval) "
	  "div310:at320(divergence) [hybrid div=1 co=0 ck=0]" },
	{ "periodic: a checkpoint every period after the last one ends",
	  COLO_MODE_PERIODIC,
	  { { P_TICK, 100 }, { P_DONE, 130 }, { P_DIV, 150 }, { P_TICK, 229 },
	    { P_TICK, 230 }, { P_DONE, 235 } },
	  "init:at100(period) tick100:now(period) done130:at230(period) "
	  "div150:at230(period) tick229:at230(period) tick230:now(period) "
	  "done235:at335(period) [periodic div=1 co=0 ck=2]" },
	{ "periodic: divergences never demand a checkpoint", COLO_MODE_PERIODIC,
	  { { P_DIV, 10 }, { P_DIV, 20 }, { P_DIV, 30 } },
	  "init:at100(period) div10:at100(period) div20:at100(period) "
	  "div30:at100(period) [periodic div=3 co=0 ck=0]" },
	{ "periodic: an urgent demand comes before the period", COLO_MODE_PERIODIC,
	  { { P_URGENT, 40 }, { P_DONE, 50 } },
	  "init:at100(period) urgent40:now(urgent) done50:at150(period) "
	  "[periodic div=0 co=0 ck=1]" },
	{ "periodic: an urgent demand during a checkpoint follows after the gap",
	  COLO_MODE_PERIODIC,
	  { { P_TICK, 100 }, { P_URGENT, 110 }, { P_URGENT, 115 }, { P_DONE, 120 },
	    { P_TICK, 140 } },
	  "init:at100(period) tick100:now(period) urgent110:- urgent115:- "
	  "done120:at140(urgent) tick140:now(urgent) [periodic div=0 co=0 ck=2]" },
	{ "adaptive: the sixth divergence checkpoint in a window -> periodic",
	  COLO_MODE_ADAPTIVE,
	  { { P_DIV, 100 }, { P_DONE, 110 }, { P_DIV, 200 }, { P_DONE, 210 },
	    { P_DIV, 300 }, { P_DONE, 310 }, { P_DIV, 400 }, { P_DONE, 410 },
	    { P_DIV, 500 }, { P_DONE, 510 }, { P_DIV, 600 }, { P_DONE, 610 },
	    { P_DIV, 650 }, { P_TICK, 710 } },
	  "init:at1000(interval) div100:now(divergence) done110:at1110(interval) "
	  "div200:now(divergence) done210:at1210(interval) div300:now(divergence) "
	  "done310:at1310(interval) div400:now(divergence) done410:at1410(interval) "
	  "div500:now(divergence) done510:at1510(interval) "
	  "div600:now(divergence)!periodic done610:at710(period) "
	  "div650:at710(period) tick710:now(period) [periodic div=7 co=0 ck=7]" },
	{ "adaptive: five divergence checkpoints in a window stay hybrid",
	  COLO_MODE_ADAPTIVE,
	  { { P_DIV, 100 }, { P_DONE, 110 }, { P_DIV, 200 }, { P_DONE, 210 },
	    { P_DIV, 300 }, { P_DONE, 310 }, { P_DIV, 400 }, { P_DONE, 410 },
	    { P_DIV, 500 }, { P_DONE, 510 }, { P_DIV, 1100 }, { P_DONE, 1110 } },
	  "init:at1000(interval) div100:now(divergence) done110:at1110(interval) "
	  "div200:now(divergence) done210:at1210(interval) div300:now(divergence) "
	  "done310:at1310(interval) div400:now(divergence) done410:at1410(interval) "
	  "div500:now(divergence) done510:at1510(interval) "
	  "div1100:now(divergence) done1110:at2110(interval) "
	  "[hybrid div=6 co=0 ck=6]" },
	{ "adaptive: coalesced divergences count once toward the rate",
	  COLO_MODE_ADAPTIVE,
	  { { P_DIV, 100 }, { P_DIV, 101 }, { P_DIV, 102 }, { P_DIV, 103 },
	    { P_DIV, 104 }, { P_DIV, 105 }, { P_DIV, 106 }, { P_DONE, 110 },
	    { P_TICK, 130 }, { P_DONE, 140 } },
	  "init:at1000(interval) div100:now(divergence) div101:- div102:- "
	  "div103:- div104:- div105:- div106:- done110:at130(divergence) "
	  "tick130:now(divergence) done140:at1140(interval) "
	  "[hybrid div=7 co=5 ck=2]" },
};

/* ---- 2. simulations ---- */

struct source {
	uint32_t from, to, every;	/* divergences at from, from+every, ... < to */
};

struct scase {
	const char *name;
	enum colo_mode mode;
	uint32_t ckpt_ms;
	struct source src[4];
	uint32_t until;
	const char *expect;
};

/* The first divergence at or after t. */
static uint64_t next_div(const struct scase *c, uint64_t t)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c->src) && c->src[i].every; i++) {
		const struct source *s = &c->src[i];
		uint64_t d = s->from;

		if (t > d)
			d += (t - d + s->every - 1) / s->every * s->every;
		if (d < s->to && d < best)
			best = d;
	}
	return best;
}

/* Log a checkpoint start and a switch; note when to complete or tick. */
static void sim_answer(struct log *l, const struct colo_policy_answer *a,
		       uint64_t now_ms, uint32_t ckpt_ms, uint64_t *done_at,
		       uint64_t *tick_at)
{
	static const char letter[COLO_CAUSE_MAX] = { '?', 'd', 'i', 'p', 's', 'u' };

	*tick_at = a->when == COLO_WHEN_AT ? a->at_ns / MS : UINT64_MAX;
	if (a->when == COLO_WHEN_NOW) {
		logf_(l, "%s%c%llu", l->used ? " " : "", letter[a->cause],
		      ULL(now_ms));
		*done_at = now_ms + ckpt_ms;
	}
	if (a->changed)
		logf_(l, "[->%s]", colo_mode_name(a->sw.to));
}

/* The caller's loop; at equal times: completion, then tick, then divergence. */
static void run_sim(const struct scase *c, struct colo_policy *p, struct log *l)
{
	struct colo_policy_cfg cfg;
	struct colo_policy_answer a;
	uint64_t done_at = UINT64_MAX, tick_at, div_at, now, cursor = 0;

	colo_policy_cfg_default(&cfg);
	cfg.mode = c->mode;
	cfg.period_ns = 500 * MS;
	cfg.min_gap_ns = 20 * MS;
	cfg.max_interval_ns = 5000 * MS;
	cfg.window_ns = 1000 * MS;
	cfg.high = 3;
	cfg.low = 1;
	cfg.calm_ns = 2000 * MS;
	assert_int_equal(colo_policy__init(p, &cfg, 0, &a), 0);
	tick_at = a.at_ns / MS;
	for (;;) {
		div_at = next_div(c, cursor);
		now = done_at < tick_at ? done_at : tick_at;
		if (div_at < now)
			now = div_at;
		if (now > c->until)
			break;
		if (now == done_at) {
			done_at = UINT64_MAX;
			assert_int_equal(colo_policy__checkpoint_done(p, now * MS, &a), 0);
		} else if (now == tick_at) {
			assert_int_equal(colo_policy__tick(p, now * MS, &a), 0);
		} else {
			assert_int_equal(colo_policy__divergence(p, now * MS, &a), 0);
			cursor = now + 1;
		}
		sim_answer(l, &a, now, c->ckpt_ms, &done_at, &tick_at);
	}
}

static const struct scase scases[] = {
	{ "sim hybrid: every divergence a checkpoint, never a switch",
	  COLO_MODE_HYBRID, 10, { { 1000, 1400, 100 } }, 7000,
	  "d1000 d1100 d1200 d1300 i6310" },
	{ "sim hybrid: a storm faster than checkpoints, one per gap",
	  COLO_MODE_HYBRID, 10, { { 1000, 1100, 5 } }, 2000,
	  "d1000 d1030 d1060 d1090 d1120" },
	{ "sim periodic: divergences change nothing", COLO_MODE_PERIODIC, 10,
	  { { 1000, 2000, 100 } }, 2500,
	  "p500 p1010 p1520 p2030" },
	{ "sim adaptive: a storm -> periodic, calm -> hybrid with a checkpoint",
	  COLO_MODE_ADAPTIVE, 10, { { 1000, 3000, 100 } }, 7000,
	  "d1000 d1100 d1200 d1300[->periodic] p1810 p2320 p2830 p3340 p3850 "
	  "p4360 p4870 p5380 s5800[->hybrid]" },
	{ "sim adaptive: two divergences in a window restart the calm wait",
	  COLO_MODE_ADAPTIVE, 10, { { 1000, 1400, 100 }, { 3000, 3200, 100 } },
	  7000,
	  "d1000 d1100 d1200 d1300[->periodic] p1810 p2320 p2830 p3340 p3850 "
	  "p4360 p4870 p5380 p5890 s6000[->hybrid]" },
	{ "sim adaptive: one divergence in a window does not",
	  COLO_MODE_ADAPTIVE, 10, { { 1000, 1400, 100 }, { 3000, 3001, 100 } },
	  7000,
	  "d1000 d1100 d1200 d1300[->periodic] p1810 p2320 p2830 p3340 p3850 "
	  "s4300[->hybrid]" },
	{ "sim adaptive: back in hybrid, a new storm switches again",
	  COLO_MODE_ADAPTIVE, 10, { { 1000, 1400, 100 }, { 5000, 5400, 100 } },
	  6000,
	  "d1000 d1100 d1200 d1300[->periodic] p1810 p2320 p2830 p3340 p3850 "
	  "s4200[->hybrid] d5000 d5100 d5200 d5300[->periodic] p5810" },
	{ "sim adaptive: a steady trickle below the limit stays hybrid",
	  COLO_MODE_ADAPTIVE, 10, { { 1000, 4000, 400 } }, 4000,
	  "d1000 d1400 d1800 d2200 d2600 d3000 d3400 d3800" },
};

static void test_sim(void **state)
{
	const struct scase *c = *state;
	struct colo_policy p;
	struct log l = { .used = 0 };

	run_sim(c, &p, &l);
	if (strcmp(l.buf, c->expect))
		fail_msg("case %s:\n  expected: %s\n  got:      %s", c->name,
			 c->expect, l.buf);
}

/* ---- 3. configuration, flags, reports, bad calls ---- */

struct ccase {
	const char *name;
	void (*edit)(struct colo_policy_cfg *c);
};

static void e_none(struct colo_policy_cfg *c) { (void)c; }
static void e_mode(struct colo_policy_cfg *c) { c->mode = COLO_MODE_MAX; }
static void e_period(struct colo_policy_cfg *c) { c->period_ns = 0; }
static void e_interval(struct colo_policy_cfg *c) { c->max_interval_ns = 0; }
static void e_gap(struct colo_policy_cfg *c) { c->min_gap_ns = c->max_interval_ns + 1; }
static void e_window(struct colo_policy_cfg *c) { c->window_ns = 0; }
static void e_calm(struct colo_policy_cfg *c) { c->calm_ns = 0; }
static void e_low(struct colo_policy_cfg *c) { c->low = c->high; }
static void e_high(struct colo_policy_cfg *c) { c->high = COLO_POLICY_MARKS; c->low = 1; }
static void e_edge(struct colo_policy_cfg *c) { c->high = COLO_POLICY_MARKS - 1; c->low = 0; c->min_gap_ns = c->max_interval_ns; }

static const struct ccase ccases[] = {
	{ "cfg: defaults are valid", e_none },
	{ "cfg: unknown mode", e_mode },
	{ "cfg: zero period", e_period },
	{ "cfg: zero maximum interval", e_interval },
	{ "cfg: gap above the maximum interval", e_gap },
	{ "cfg: zero window", e_window },
	{ "cfg: zero calm time", e_calm },
	{ "cfg: low not below high", e_low },
	{ "cfg: high beyond the mark ring", e_high },
	{ "cfg: largest high, low 0, gap equal to the interval", e_edge },
};

static void test_cfg_case(void **state)
{
	const struct ccase *c = *state;
	struct colo_policy_cfg cfg;
	struct colo_policy p;
	int want = c->edit == e_none || c->edit == e_edge ? 0 : -EINVAL;

	colo_policy_cfg_default(&cfg);
	c->edit(&cfg);
	assert_int_equal(colo_policy__init(&p, &cfg, 0, NULL), want);
}

static void test_mode_flags(void **state)
{
	static const struct {
		enum colo_mode cfg;
		int storm;	/* drive adaptive into periodic first */
		enum colo_mode mode;
		bool compare, observe, svm_runs;
	} rows[] = {
		{ COLO_MODE_PERIODIC, 0, COLO_MODE_PERIODIC, false, false, false },
		{ COLO_MODE_HYBRID, 0, COLO_MODE_HYBRID, true, false, true },
		{ COLO_MODE_ADAPTIVE, 0, COLO_MODE_HYBRID, true, false, true },
		{ COLO_MODE_ADAPTIVE, 1, COLO_MODE_PERIODIC, false, true, true },
	};
	struct colo_policy_cfg cfg;
	struct colo_policy p;
	struct colo_policy_answer a;
	size_t i;
	uint32_t k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		test_cfg(&cfg, rows[i].cfg);
		assert_int_equal(colo_policy__init(&p, &cfg, 0, &a), 0);
		for (k = 0; rows[i].storm && k < 6; k++) {
			assert_int_equal(colo_policy__divergence(&p, (100 + 50 * k) * MS, &a), 0);
			assert_int_equal(colo_policy__checkpoint_done(&p, (110 + 50 * k) * MS, &a), 0);
		}
		assert_int_equal(a.mode, rows[i].mode);
		assert_int_equal(a.compare, rows[i].compare);
		assert_int_equal(a.observe, rows[i].observe);
		assert_int_equal(a.svm_runs, rows[i].svm_runs);
	}
}

static void test_mode_switch_report(void **state)
{
	struct colo_policy_cfg cfg;
	struct colo_policy p;
	struct colo_policy_answer a;
	uint32_t k;

	(void)state;
	test_cfg(&cfg, COLO_MODE_ADAPTIVE);
	assert_int_equal(colo_policy__init(&p, &cfg, 0, &a), 0);
	assert_false(a.changed);
	for (k = 0; k < 6; k++) {
		assert_int_equal(colo_policy__divergence(&p, (100 + 50 * k) * MS, &a), 0);
		assert_int_equal(a.when, COLO_WHEN_NOW);
		assert_int_equal(a.changed, k == 5);
		assert_int_equal(a.rate, k + 1);
		assert_int_equal(colo_policy__checkpoint_done(&p, (110 + 50 * k) * MS, &a), 0);
		assert_false(a.changed);
	}
	assert_int_equal(p.stats.switches, 1);
	assert_int_equal(p.stats.last_switch.from, COLO_MODE_HYBRID);
	assert_int_equal(p.stats.last_switch.to, COLO_MODE_PERIODIC);
	assert_int_equal(p.stats.last_switch.why, COLO_SWITCH_TOO_MANY);
	assert_int_equal(p.stats.last_switch.at_ns, 350 * MS);
	assert_string_equal(p.stats.last_switch.text,
			    "hybrid -> periodic: 6 divergence checkpoints within 1000 ms (more than 5)");
	/* marks at 100..350; the second newest leaves the window at 1300:
	 * calm from 1300, back to hybrid at 3300. A late tick at 3299 finds
	 * a periodic checkpoint overdue; it ends at once. */
	assert_int_equal(colo_policy__tick(&p, 3299 * MS, &a), 0);
	assert_false(a.changed);
	assert_int_equal(a.when, COLO_WHEN_NOW);
	assert_int_equal(a.cause, COLO_CAUSE_PERIOD);
	assert_int_equal(colo_policy__checkpoint_done(&p, 3299 * MS, &a), 0);
	assert_int_equal(a.when, COLO_WHEN_AT);
	assert_int_equal(a.at_ns, 3300 * MS);
	assert_int_equal(a.cause, COLO_CAUSE_SWITCH);
	assert_int_equal(colo_policy__tick(&p, 3300 * MS, &a), 0);
	assert_true(a.changed);
	assert_int_equal(a.sw.why, COLO_SWITCH_CALM);
	assert_int_equal(a.sw.at_ns, 3300 * MS);
	assert_true(a.compare);
	assert_string_equal(a.sw.text,
			    "periodic -> hybrid: at most 1 divergences per 1000 ms for 2000 ms");
	/* the checkpoint that restarts comparison waits for the gap */
	assert_int_equal(a.when, COLO_WHEN_AT);
	assert_int_equal(a.at_ns, 3319 * MS);
	assert_int_equal(a.cause, COLO_CAUSE_SWITCH);
	assert_int_equal(colo_policy__tick(&p, 3319 * MS, &a), 0);
	assert_false(a.changed);
	assert_int_equal(a.when, COLO_WHEN_NOW);
	assert_int_equal(a.cause, COLO_CAUSE_SWITCH);
	assert_int_equal(p.stats.switches, 2);
	assert_int_equal(p.mode, COLO_MODE_HYBRID);
}

static void test_mode_bad_calls(void **state)
{
	struct colo_policy p;
	struct colo_policy_answer a;
	enum colo_mode m;

	(void)state;
	assert_int_equal(colo_policy__init(NULL, NULL, 0, NULL), -EINVAL);
	assert_int_equal(colo_policy__init(&p, NULL, 1000 * MS, NULL), 0);
	assert_int_equal(p.cfg.period_ns, 50 * MS);
	assert_int_equal(p.mode, COLO_MODE_HYBRID);
	assert_int_equal(colo_policy__tick(&p, 999 * MS, &a), -EINVAL);
	assert_int_equal(a.mode, COLO_MODE_HYBRID);
	assert_int_equal(colo_policy__divergence(&p, 500 * MS, &a), -EINVAL);
	assert_int_equal(p.stats.divergences, 0);
	assert_int_equal(colo_policy__divergence(NULL, 0, &a), -EINVAL);
	assert_int_equal(colo_policy__checkpoint_done(&p, 2000 * MS, NULL), -EINVAL);
	assert_int_equal(colo_policy__urgent(&p, 2000 * MS, &a), 0);
	assert_int_equal(a.when, COLO_WHEN_NOW);
	assert_int_equal(colo_mode_parse("adaptive", &m), 0);
	assert_int_equal(m, COLO_MODE_ADAPTIVE);
	assert_int_equal(colo_mode_parse("Hybrid", &m), -EINVAL);
	assert_int_equal(colo_mode_parse(NULL, &m), -EINVAL);
	assert_string_equal(colo_mode_name(COLO_MODE_PERIODIC), "periodic");
	assert_string_equal(colo_mode_name(COLO_MODE_MAX), "unknown");
	assert_string_equal(colo_cause_name(COLO_CAUSE_SWITCH), "mode-switch");
	assert_string_equal(colo_switch_reason_name(COLO_SWITCH_CALM),
			    "divergence-subsided");
}

int main(void)
{
	enum { NM = ARRAY_SIZE(mcases), NS = ARRAY_SIZE(scases),
	       NC = ARRAY_SIZE(ccases) };
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_mode_flags),
		cmocka_unit_test(test_mode_switch_report),
		cmocka_unit_test(test_mode_bad_calls),
	};
	static struct CMUnitTest tests[NM + NS + NC + ARRAY_SIZE(fixed)];
	size_t i, n = 0;

	for (i = 0; i < NM; i++)
		tests[n++] = (struct CMUnitTest){ .name = mcases[i].name,
			.test_func = test_script, .initial_state = (void *)&mcases[i] };
	for (i = 0; i < NS; i++)
		tests[n++] = (struct CMUnitTest){ .name = scases[i].name,
			.test_func = test_sim, .initial_state = (void *)&scases[i] };
	for (i = 0; i < NC; i++)
		tests[n++] = (struct CMUnitTest){ .name = ccases[i].name,
			.test_func = test_cfg_case, .initial_state = (void *)&ccases[i] };
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("mode", tests, n, NULL, NULL);
}
