// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `colo-proxy compare PRIMARY SECONDARY`: replay what the primary and the
 * secondary VM sent, merged by timestamp, through the comparison engine, and
 * report every divergence. The replay treats each checkpoint as completing at
 * once: after a demand it flushes the engine and goes on.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "compare.h"
#include "log.h"
#include "packet.h"

#define COLO_XSTR(x) #x
#define COLO_STR(x) COLO_XSTR(x)

#define NSEC_PER_MSEC	UINT64_C(1000000)
#define NSEC_PER_SEC	UINT64_C(1000000000)
#define PROGRESS_EVERY	4096	/* frames between looks at the wall clock */

static const char *const role[2] = { "primary", "secondary" };

/* --- engine callbacks --- */

static void on_release(void *ctx, const struct colo_frame *f)
{
	struct compare *c = ctx;

	c->handed_back[COLO_PRIMARY]++;
	c->held--;
	pcap_frame_free(f);
}

static void on_drop(void *ctx, const struct colo_frame *f)
{
	struct compare *c = ctx;

	c->handed_back[COLO_SECONDARY]++;
	c->held--;
	pcap_frame_free(f);
}

static void keep_div(struct compare *c, const struct compare_div *d)
{
	struct compare_div *n;
	uint64_t cap;

	if (!c->opt.json || c->n_kept >= COMPARE_MAX_RECORDS)
		return;
	if (c->n_kept == c->cap_kept) {
		cap = c->cap_kept ? c->cap_kept * 2 : 64;
		n = realloc(c->divs, cap * sizeof(*n));
		if (!n)
			return;	/* counted, not kept: JSON says how many */
		c->divs = n;
		c->cap_kept = cap;
	}
	c->divs[c->n_kept++] = *d;
}

static void record_div(struct compare *c, unsigned int reason,
		       const struct colo_flow_key *key, uint64_t offset,
		       int64_t byte, const struct colo_frame *pf,
		       const struct colo_frame *sf)
{
	struct compare_div d = {
		.key = *key,
		.reason = reason < COMPARE_N_REASONS ? reason : COLO_DIV_NONE,
		.offset = offset,
		.byte = byte,
		.frame = { pf ? pf->cookie : 0, sf ? sf->cookie : 0 },
		.ts_ns = c->now_ns,
	};

	c->n_divs++;
	c->by_reason[d.reason]++;
	c->demand = 1;
	keep_div(c, &d);
	if (c->out.dumper) {
		if (pf)
			pcap_out__write(&c->out, pf);
		if (sf)
			pcap_out__write(&c->out, sf);
	}
	if (!c->opt.json && !c->opt.quiet)
		compare_print_div(c, &d, c->n_divs);
}

static void on_checkpoint(void *ctx, const struct colo_divergence *d)
{
	record_div(ctx, d->reason, &d->key, d->offset, d->byte,
		   d->primary, d->secondary);
}

static const struct colo_engine_ops compare_ops = {
	.release = on_release,
	.drop = on_drop,
	.checkpoint = on_checkpoint,
};

/* --- replay --- */

/* A demand is outstanding: the offline checkpoint completes at once. */
static void settle(struct compare *c)
{
	if (!c->demand && !colo_engine__pending(c->engine))
		return;
	colo_engine__flush(c->engine);
	c->checkpoints++;
	c->demand = 0;
	pr_debug("checkpoint %" PRIu64 " at replay time %" PRIu64 " ns: engine flushed",
		 c->checkpoints, c->now_ns);
}

static void refused_div(struct compare *c, enum colo_side side,
			const struct colo_frame *f)
{
	struct colo_parsed parsed;

	colo_parse(f->data, f->len, &parsed);
	record_div(c, COMPARE_REFUSED, &parsed.key, 0, -1,
		   side == COLO_PRIMARY ? f : NULL,
		   side == COLO_SECONDARY ? f : NULL);
}

/*
 * Hand one frame to the engine. A push refused at the hard limit counts as a
 * divergence: flush and try once more. 0, or -ENOBUFS when even that fails;
 * the frame is freed here unless the engine took it.
 */
static int push_frame(struct compare *c, enum colo_side side,
		      struct colo_frame *f)
{
	const struct pcap_in *in = &c->in[side];
	int err;

	if (!c->started) {
		c->started = 1;
		c->start_ns = c->now_ns = f->ts_ns;
	}
	if (f->ts_ns > c->now_ns)
		c->now_ns = f->ts_ns;
	colo_engine__tick(c->engine, c->now_ns);
	settle(c);

	c->held++;
	err = colo_engine__push(c->engine, side, f);
	if (err == -ENOBUFS) {
		c->refused++;
		pr_info("engine refused %s frame %" PRIu64 " (hard limit); checkpoint and retry",
			role[side], f->cookie);
		if (!c->demand)
			refused_div(c, side, f);
		settle(c);
		err = colo_engine__push(c->engine, side, f);
	}
	if (!err) {
		settle(c);
		return 0;
	}
	c->held--;
	if (err == -EINVAL) {
		c->skipped++;
		pr_warn("the engine rejected %s frame %" PRIu64 " of '%s' (%u bytes) as invalid; skipped",
			role[side], f->cookie, in->path, f->len);
		err = 0;
	} else if (err == -ENOBUFS) {
		pr_err("the engine refused %s frame %" PRIu64 " of '%s' even right after a checkpoint: the capture needs more flows or held bytes than twice the engine's limits allow",
		       role[side], f->cookie, in->path);
	} else {
		pr_err("the engine could not take %s frame %" PRIu64 " of '%s': %s",
		       role[side], f->cookie, in->path, strerror(-err));
	}
	pcap_frame_free(f);
	return err;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void progress(struct compare *c)
{
	uint64_t now, pos, size;

	if (++c->progress_tick % PROGRESS_EVERY || !colo_log_progress_enabled())
		return;
	now = wall_ns();
	if (!c->next_progress_ns) {
		c->next_progress_ns = now + NSEC_PER_SEC;
		return;
	}
	if (now < c->next_progress_ns)
		return;
	c->next_progress_ns = now + NSEC_PER_SEC;
	pos = pcap_in__pos(&c->in[0]) + pcap_in__pos(&c->in[1]);
	size = c->in[0].size + c->in[1].size;
	if (size && c->in[0].size && c->in[1].size)
		colo_log_progress("compare: %" PRIu64 " frames, %" PRIu64 " divergences, %" PRIu64 "%%",
				  c->in[0].frames + c->in[1].frames, c->n_divs,
				  pos * 100 / size);
	else
		colo_log_progress("compare: %" PRIu64 " frames, %" PRIu64 " divergences",
				  c->in[0].frames + c->in[1].frames, c->n_divs);
}

/* Streaming merge by timestamp, primary first on ties. 0 or -errno. */
static int replay(struct compare *c)
{
	struct colo_frame *head[2] = { NULL, NULL };
	enum colo_side side;
	int err, i;

	for (i = 0; i < 2; i++) {
		err = pcap_in__next(&c->in[i], &head[i]);
		if (err < 0)
			goto out;
	}
	while (head[0] || head[1]) {
		if (!head[1] || (head[0] && head[0]->ts_ns <= head[1]->ts_ns))
			side = COLO_PRIMARY;
		else
			side = COLO_SECONDARY;
		err = push_frame(c, side, head[side]);
		head[side] = NULL;
		if (err)
			goto out;
		err = pcap_in__next(&c->in[side], &head[side]);
		if (err < 0)
			goto out;
		progress(c);
	}
	err = 0;
out:
	colo_log_progress_end();
	pcap_frame_free(head[0]);
	pcap_frame_free(head[1]);
	return err;
}

/* Both inputs ended: what is still held diverged. */
static void finish(struct compare *c)
{
	colo_engine__finish(c->engine);
	settle(c);
	c->stats = *colo_engine__stats(c->engine);
}

static int compare_files(struct compare *c)
{
	int err, i, status = COLO_EXIT_USAGE;
	uint64_t t0;

	for (i = 0; i < 2; i++)
		if (pcap_in__open(&c->in[i], c->opt.path[i], role[i]))
			goto out_close;
	if (c->opt.pcap_out && pcap_out__open(&c->out, c->opt.pcap_out))
		goto out_close;

	colo_engine_cfg_default(&c->cfg);
	if (c->opt.timeout_ns)
		c->cfg.timeout_ns = c->opt.timeout_ns;
	c->engine = colo_engine__new(&c->cfg, &compare_ops, c);
	if (!c->engine) {
		pr_err("cannot create the comparison engine: %s", strerror(errno));
		goto out_close;
	}

	t0 = wall_ns();
	err = replay(c);
	if (!err) {
		t0 = wall_ns() - t0;
		pr_info("replayed %" PRIu64 " + %" PRIu64 " frames in %" PRIu64 ".%03" PRIu64 " s",
			c->in[0].frames, c->in[1].frames, t0 / NSEC_PER_SEC,
			t0 % NSEC_PER_SEC / NSEC_PER_MSEC);
		finish(c);
		status = c->n_divs ? COLO_EXIT_DIVERGE : COLO_EXIT_OK;
	}
	colo_engine__free(c->engine);
	if (c->held)
		pr_warn("the engine did not hand back %" PRIu64 " frames", c->held);
	if (pcap_out__close(&c->out, status == COLO_EXIT_USAGE))
		status = COLO_EXIT_USAGE;
	if (status == COLO_EXIT_USAGE)
		goto out_close;

	if (c->opt.json)
		compare_print_json(c);
	else
		compare_print_summary(c);
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("cannot write the report to stdout: %s", strerror(errno));
		status = COLO_EXIT_USAGE;
	}
out_close:
	pcap_out__close(&c->out, 1);
	for (i = 0; i < 2; i++)
		pcap_in__close(&c->in[i]);
	free(c->divs);
	return status;
}

/* --- options --- */

static int parse_timeout(const char *s, uint64_t *ns)
{
	unsigned long long ms;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	ms = strtoull(s, &end, 10);
	if (errno || *end || ms == 0 || ms > UINT64_MAX / NSEC_PER_MSEC)
		goto bad;
	*ns = ms * NSEC_PER_MSEC;
	return 0;
bad:
	pr_err("compare: --timeout '%s' is not a positive whole number of milliseconds (e.g. --timeout 3000)",
	       s);
	return -EINVAL;
}

static int compare_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pcap-out", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct compare c;
	int opt;

	memset(&c, 0, sizeof(c));
	while ((opt = getopt_long(argc, argv, "t:w:qvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.opt.json = 1;
			break;
		case 't':
			if (parse_timeout(optarg, &c.opt.timeout_ns))
				return colo_cmd_bad_usage(&colo_cmd_compare);
			break;
		case 'w':
			c.opt.pcap_out = optarg;
			break;
		case 'q':
			c.opt.quiet = 1;
			colo_log_set_level(COLO_LOG_ERROR);
			break;
		case 'v':
			colo_log_more();
			break;
		case 'h':
			colo_cmd_usage(&colo_cmd_compare, stdout);
			return COLO_EXIT_OK;
		default:
			return colo_cmd_bad_usage(&colo_cmd_compare);
		}
	}
	if (argc - optind != 2) {
		pr_err("compare: need two captures, PRIMARY and SECONDARY (got %d)",
		       argc - optind);
		return colo_cmd_bad_usage(&colo_cmd_compare);
	}
	c.opt.path[0] = argv[optind];
	c.opt.path[1] = argv[optind + 1];
	if (!strcmp(c.opt.path[0], "-") && !strcmp(c.opt.path[1], "-")) {
		pr_err("compare: only one capture can come from stdin ('-')");
		return colo_cmd_bad_usage(&colo_cmd_compare);
	}
	return compare_files(&c);
}

const struct colo_cmd colo_cmd_compare = {
	.name = "compare",
	.summary = "replay two captures through the comparator, report divergences",
	.run = compare_main,
	.usage =
	"Usage: colo-proxy compare [OPTIONS] PRIMARY SECONDARY\n"
	"\n"
	"Replay what the primary VM and the secondary VM sent (pcap or pcapng,\n"
	"Ethernet), merged by timestamp, through the comparator. Every checkpoint\n"
	"the comparator demands is taken as completing at once. Prints each\n"
	"divergence as it is found, then a summary.\n"
	"\n"
	"Options:\n"
	"      --json          print one JSON object as the only line on stdout\n"
	"  -t, --timeout MS    an unmatched frame diverges after MS milliseconds\n"
	"                      (default " COLO_STR(COLO_DEFAULT_TIMEOUT_MS) ")\n"
	"  -w, --pcap-out FILE write the frames of every divergence to FILE (pcap)\n"
	"  -q, --quiet         no per-divergence lines, no warnings, no progress\n"
	"  -v, --verbose       more diagnostics on stderr\n"
	"  -h, --help          show this help\n"
	"\n"
	"Exit status: 0 the outputs are the same, 1 they diverged,\n"
	"2 bad options or unusable input.\n",
};
