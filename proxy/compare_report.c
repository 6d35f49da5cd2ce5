// SPDX-License-Identifier: GPL-2.0-or-later
/* The report of `colo-proxy compare`: lines for people, one JSON object. */
#include <inttypes.h>
#include <stdio.h>

#include "compare.h"
#include "json.h"
#include "log.h"
#include "packet.h"

#define NSEC_PER_SEC UINT64_C(1000000000)
#define FLOW_BUF 160

const char *compare_reason_name(unsigned int reason)
{
	const char *name;

	if (reason == COMPARE_REFUSED)
		return "refused";
	name = colo_reason_name(reason);
	return name ? name : "unknown";
}

static uint64_t rel_ns(const struct compare *c, uint64_t ts_ns)
{
	return ts_ns > c->start_ns ? ts_ns - c->start_ns : 0;
}

static void print_frame_no(FILE *out, uint64_t n, const char *none)
{
	if (n)
		fprintf(out, "%" PRIu64, n);
	else
		fputs(none, out);
}

void compare_print_div(const struct compare *c, const struct compare_div *d,
		       uint64_t index)
{
	uint64_t t = rel_ns(c, d->ts_ns);
	char flow[FLOW_BUF];

	colo_flow_key_format(&d->key, flow, sizeof(flow));
	colo_log_progress_end();
	printf("divergence #%" PRIu64 " at %" PRIu64 ".%06" PRIu64 "s: %s %s offset %" PRIu64,
	       index, t / NSEC_PER_SEC, t % NSEC_PER_SEC / 1000,
	       compare_reason_name(d->reason), flow, d->offset);
	if (d->byte >= 0)
		printf(" byte %" PRId64, d->byte);
	else
		fputs(" byte -", stdout);
	fputs(" primary frame ", stdout);
	print_frame_no(stdout, d->frame[COLO_PRIMARY], "-");
	fputs(" secondary frame ", stdout);
	print_frame_no(stdout, d->frame[COLO_SECONDARY], "-");
	putchar('\n');
}

static void print_by_reason(const struct compare *c)
{
	const char *sep = " (";
	unsigned int r;

	printf("divergences:      %" PRIu64, c->n_divs);
	for (r = 0; r < COMPARE_N_REASONS; r++) {
		if (!c->by_reason[r])
			continue;
		printf("%s%s %" PRIu64, sep, compare_reason_name(r),
		       c->by_reason[r]);
		sep = ", ";
	}
	puts(*sep == ',' ? ")" : "");
}

void compare_print_summary(const struct compare *c)
{
	const struct colo_engine_stats *st = &c->stats;

	if (c->n_divs && !c->opt.quiet)
		putchar('\n');
	printf("verdict:          %s\n", c->n_divs ? "diverge" : "same");
	printf("primary frames:   %" PRIu64 "\n", c->in[COLO_PRIMARY].frames);
	printf("secondary frames: %" PRIu64 "\n", c->in[COLO_SECONDARY].frames);
	printf("released:         %" PRIu64 " (%" PRIu64 " matched, %" PRIu64 " by flush)\n",
	       c->handed_back[COLO_PRIMARY], st->released, st->flushed_released);
	printf("dropped:          %" PRIu64 " (%" PRIu64 " matched, %" PRIu64 " by flush)\n",
	       c->handed_back[COLO_SECONDARY], st->dropped, st->flushed_dropped);
	printf("compared bytes:   %" PRIu64 "\n", st->compared_bytes);
	printf("checkpoints:      %" PRIu64 "\n", c->checkpoints);
	printf("flows:            %" PRIu64 "\n", st->flows_created);
	print_by_reason(c);
	if (c->skipped)
		printf("skipped frames:   %" PRIu64 "\n", c->skipped);
	if (c->opt.pcap_out)
		printf("pcap-out:         %" PRIu64 " frame%s written to %s\n",
		       c->out.frames, c->out.frames == 1 ? "" : "s",
		       c->opt.pcap_out);
}

/* "key":value pairs; every one but the first is preceded by a comma. */
static void json_key(const char *key)
{
	printf(",\"%s\":", key);
}

static void json_u64(const char *key, uint64_t v)
{
	json_key(key);
	printf("%" PRIu64, v);
}

static void json_frame_no(const char *key, uint64_t n)
{
	json_key(key);
	if (n)
		printf("%" PRIu64, n);
	else
		fputs("null", stdout);
}

static void json_div(const struct compare *c, const struct compare_div *d)
{
	uint64_t t = rel_ns(c, d->ts_ns);
	char flow[FLOW_BUF];

	colo_flow_key_format(&d->key, flow, sizeof(flow));
	fputs("{\"flow\":", stdout);
	json_str(stdout, flow);
	json_key("reason");
	json_str(stdout, compare_reason_name(d->reason));
	json_u64("offset", d->offset);
	json_key("byte");
	if (d->byte >= 0)
		printf("%" PRId64, d->byte);
	else
		fputs("null", stdout);
	json_frame_no("primary_frame", d->frame[COLO_PRIMARY]);
	json_frame_no("secondary_frame", d->frame[COLO_SECONDARY]);
	json_key("time");
	printf("%" PRIu64 ".%09" PRIu64, t / NSEC_PER_SEC, t % NSEC_PER_SEC);
	json_u64("ts_ns", d->ts_ns);
	putchar('}');
}

static void json_divs(const struct compare *c)
{
	const char *sep = "{";
	unsigned int r;
	uint64_t i;

	json_key("by_reason");
	for (r = 0; r < COMPARE_N_REASONS; r++) {
		if (!c->by_reason[r])
			continue;
		fputs(sep, stdout);
		json_str(stdout, compare_reason_name(r));
		printf(":%" PRIu64, c->by_reason[r]);
		sep = ",";
	}
	fputs(*sep == '{' ? "{}" : "}", stdout);

	json_key("divergences");
	putchar('[');
	for (i = 0; i < c->n_kept; i++) {
		if (i)
			putchar(',');
		json_div(c, &c->divs[i]);
	}
	putchar(']');
	json_u64("divergences_omitted", c->n_divs - c->n_kept);
}

void compare_print_json(const struct compare *c)
{
	const struct colo_engine_stats *st = &c->stats;

	printf("{\"verdict\":\"%s\"", c->n_divs ? "diverge" : "same");
	json_key("primary_file");
	json_str(stdout, c->opt.path[COLO_PRIMARY]);
	json_key("secondary_file");
	json_str(stdout, c->opt.path[COLO_SECONDARY]);
	json_u64("primary_packets", c->in[COLO_PRIMARY].frames);
	json_u64("secondary_packets", c->in[COLO_SECONDARY].frames);
	json_u64("released", c->handed_back[COLO_PRIMARY]);
	json_u64("released_matched", st->released);
	json_u64("released_flushed", st->flushed_released);
	json_u64("dropped", c->handed_back[COLO_SECONDARY]);
	json_u64("dropped_matched", st->dropped);
	json_u64("dropped_flushed", st->flushed_dropped);
	json_u64("compared_bytes", st->compared_bytes);
	json_u64("checkpoints", c->checkpoints);
	json_u64("coalesced", st->coalesced);
	json_u64("flows", st->flows_created);
	json_u64("timeout_ms", c->cfg.timeout_ns / 1000000);
	json_u64("skipped", c->skipped);
	json_u64("refused", c->refused);
	json_u64("divergence_count", c->n_divs);
	json_divs(c);
	json_key("pcap_out");
	if (c->opt.pcap_out) {
		fputs("{\"file\":", stdout);
		json_str(stdout, c->opt.pcap_out);
		json_u64("frames", c->out.frames);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	puts("}");
}
