// SPDX-License-Identifier: GPL-2.0-or-later
/* `colo-proxy status`: what every instance (or one) is doing, for people or
 * as one JSON object. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bpfobj.h"
#include "ckpt.h"
#include "engine.h"
#include "live.h"
#include "log.h"
#include "status.h"

#define MAX_SHOWN_DIVS	10	/* human output; JSON has them all */

static const char *role_name(unsigned int role)
{
	return role == COLO_ROLE_PRIMARY ? "primary" :
	       role == COLO_ROLE_SECONDARY ? "secondary" : "unknown";
}

static const char *attach_kind(const struct colo_status_if *s)
{
	if (!s->xdp.prog_id)
		return "none";
	return s->xdp.dispatcher ? "dispatcher" : "single-program";
}

static double age_s(const struct colo_status *st, unsigned long long ts)
{
	unsigned long long now = colo_now_ns();

	return now > ts ? (double)(now - ts) / 1e9 : 0.0;
}

/* --- the checkpoint loop's status file --- */

/* The loop's state as the serving process last wrote it, NULL when there
 * is none (no --listen/--peer) or it belongs to another process. */
static json_t *read_ckpt(const struct colo_status *st)
{
	char path[160];
	json_t *o;

	if (!st->alive || colo_ckpt_status_path(st->name, path, sizeof(path)))
		return NULL;
	o = json_load_file(path, 0, NULL);
	if (!o)
		return NULL;
	if (!json_is_object(o) || (st->have_config &&
	    json_integer_value(json_object_get(o, "pid")) != st->cfg.pid)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

static long long jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static double jnum(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void print_ckpt_mode(json_t *c)
{
	json_t *m = json_object_get(c, "mode"), *sw;

	printf("    mode %s", jstr(m, "configured"));
	if (!json_object_get(m, "in_force")) {
		putchar('\n');
		return;
	}
	printf(", in force %s, %lld switches", jstr(m, "in_force"),
	       jint(m, "switches"));
	sw = json_object_get(m, "last_switch");
	if (sw)
		printf(" (last %.1f s ago: %s)", jint(sw, "ago_ms") / 1e3,
		       jstr(sw, "text"));
	putchar('\n');
}

static void print_ckpt_counts(json_t *c)
{
	json_t *k = json_object_get(c, "checkpoints"), *l;

	printf("    checkpoints %lld done, %lld aborted", jint(k, "done"),
	       jint(k, "aborted"));
	if (json_object_get(k, "coalesced"))
		printf(", %lld demands coalesced", jint(k, "coalesced"));
	l = json_object_get(k, "last");
	if (l)
		printf("; last #%lld (%s) %.1f ms, %s VM stopped %.1f ms, %lld state bytes, %.1f s ago",
		       jint(l, "seq"), jstr(l, "cause"), jnum(l, "duration_ms"),
		       jstr(c, "role"), jnum(l, "downtime_ms"), jint(l, "size"),
		       jint(l, "ago_ms") / 1e3);
	putchar('\n');
}

static void print_ckpt_peer(json_t *c)
{
	json_t *p = json_object_get(c, "peer");

	printf("    peer %s (%s): %s", jstr(p, "address"), jstr(p, "side"),
	       jstr(p, "state"));
	if (json_object_get(p, "last_heard_ms_ago"))
		printf(", last heard %.2f s ago", jint(p, "last_heard_ms_ago") / 1e3);
	printf(", %lld connection%s", jint(p, "connects"),
	       jint(p, "connects") == 1 ? "" : "s");
	if (json_object_get(p, "last_error"))
		printf(", last error: %s", jstr(p, "last_error"));
	putchar('\n');
}

static void print_ckpt(json_t *c)
{
	json_t *f = json_object_get(c, "failover"), *o;

	printf("  checkpoint loop (driver %s, vm %s, published %.1f s ago): %s, protocol %s\n",
	       jstr(c, "driver"), jstr(c, "vm"),
	       (double)(colo_now_ns() - jint(c, "updated_ns")) / 1e9,
	       jstr(c, "phase"), jstr(c, "protocol"));
	print_ckpt_mode(c);
	print_ckpt_counts(c);
	print_ckpt_peer(c);
	o = json_object_get(c, "output");
	if (o)
		printf("    output %s: %lld frames (%lld bytes) held for a checkpoint, %lld released by checkpoints\n",
		       jstr(o, "mode"), jint(o, "held_frames"), jint(o, "held_bytes"),
		       jint(o, "committed"));
	if (!strcmp(jstr(f, "state"), "none")) {
		printf("    failover: none\n");
		return;
	}
	printf("    failover: %s at %s (%s): %s; loss to failover %.1f ms (detection %.1f ms, action %.1f ms)\n",
	       jstr(f, "state"), jstr(f, "at"), jstr(f, "reason"), jstr(f, "text"),
	       jnum(f, "loss_to_failover_ms"), jnum(f, "detection_ms"),
	       jnum(f, "action_ms"));
}

/* --- people --- */

static void print_ifs(const struct colo_status *st)
{
	const struct colo_status_if *s;
	int i;

	for (i = 0; i < st->n_if; i++) {
		s = &st->ifs[i];
		printf("    %-7s %-15s ifindex %-4u ", s->role,
		       s->name[0] ? s->name : "(gone)", s->ifindex);
		if (s->query_err)
			printf("XDP state unknown: %s\n", strerror(-s->query_err));
		else if (!s->xdp.prog_id)
			printf("no XDP program\n");
		else
			printf("%-17s prog %-5u %-6s %s%s\n",
			       colo_prog_full_name(s->xdp.prog_name),
			       s->xdp.ours ? s->xdp.our_id : s->xdp.prog_id,
			       colo_xdp_mode_name(s->xdp.mode),
			       s->xdp.dispatcher ? "libxdp dispatcher" : "single program",
			       s->xdp.ours ? "" : " (NOT this instance's)");
	}
}

/* The fields before offset end, three a line. */
static void print_fields(const void *base, const struct colo_u64_field *f,
			 size_t end)
{
	int n;

	for (n = 0; f->name && f->off < end; f++) {
		printf("%s%-20s %12llu", n % 3 ? "  " : "    ", f->name,
		       colo_u64_at(base, f));
		if (++n % 3 == 0)
			putchar('\n');
	}
	if (n % 3)
		putchar('\n');
}

/* Where frames were lost before the engine saw them. */
static void print_xsk(const struct colo_status *st)
{
	const struct colo_engine_pub *e = &st->eng;

	printf("    AF_XDP primary:   %llu read; not queued by the kernel: rx ring full %llu, fill ring empty %llu, dropped %llu, invalid %llu\n",
	       e->xsk_rx_primary, e->xsk_ring_full_primary,
	       e->xsk_fill_empty_primary, e->xsk_dropped_primary,
	       e->xsk_invalid_primary);
	printf("    AF_XDP secondary: %llu read; not queued by the kernel: rx ring full %llu, fill ring empty %llu, dropped %llu, invalid %llu\n",
	       e->xsk_rx_secondary, e->xsk_ring_full_secondary,
	       e->xsk_fill_empty_secondary, e->xsk_dropped_secondary,
	       e->xsk_invalid_secondary);
	printf("    frames lost after reading (engine refused, no memory, hold limit): %llu\n",
	       e->lost);
	printf("    frames to the client leave through %s: %llu system calls for %llu frames\n",
	       e->tx_af_xdp ? "AF_XDP" : "a packet socket", e->tx_calls,
	       e->tx_frames);
}

static void print_engine(const struct colo_status *st)
{
	unsigned long long total = 0;
	int i, any = 0;

	printf("  comparator (published %.1f s ago):\n",
	       (double)st->eng_age_ns / 1e9);
	print_fields(&st->eng, colo_engine_fields,
		     offsetof(struct colo_engine_pub, by_reason));
	for (i = 1; i < COLO_DIV_MAX; i++)
		total += st->eng.by_reason[i];
	printf("    divergences by reason: %llu", total);
	for (i = 1; i < COLO_DIV_MAX; i++) {
		if (!st->eng.by_reason[i])
			continue;
		printf("%s%s %llu", any++ ? ", " : " (", colo_reason_name(i),
		       st->eng.by_reason[i]);
	}
	printf("%s\n", any ? ")" : "");
	print_xsk(st);
}

static void print_divs(const struct colo_status *st)
{
	const struct colo_divrec *d;
	int i;

	if (!st->n_div)
		return;
	printf("  last divergences (newest first):\n");
	for (i = 0; i < st->n_div && i < MAX_SHOWN_DIVS; i++) {
		d = &st->div[i];
		printf("    #%-4llu %7.1f s ago  %-12s %s  offset %llu\n",
		       d->seq, age_s(st, d->ts_ns), colo_reason_name(d->reason),
		       d->flow, d->offset);
	}
	if (st->n_div > MAX_SHOWN_DIVS)
		printf("    ... %d more (--json lists them all)\n",
		       st->n_div - MAX_SHOWN_DIVS);
}

static void print_human(const struct colo_status *st)
{
	const struct colo_config *c = &st->cfg;
	json_t *ck = read_ckpt(st);
	int no_dp = ck && json_is_false(json_object_get(ck, "datapath"));

	printf("instance %s: %s", st->name, colo_state_name(st->state));
	if (st->have_config)
		printf(", %s, %s layout, pid %u (%s)\n", role_name(c->role),
		       c->link_ifindex ? "two-host" : "single-host", c->pid,
		       st->alive ? "alive" : "gone: run 'colo-proxy detach' to clean up");
	else
		printf(", no configuration pinned%s\n",
		       st->alive ? " yet" : " (leftover: run 'colo-proxy detach')");
	if (no_dp)
		printf("  no datapath on this host (--no-datapath): the primary's colo-proxy serves the SVM's tap\n");
	else if (st->have_config) {
		printf("  vm mac %02x:%02x:%02x:%02x:%02x:%02x, ",
		       c->vm_mac[0], c->vm_mac[1], c->vm_mac[2], c->vm_mac[3],
		       c->vm_mac[4], c->vm_mac[5]);
		if (c->vlan)
			printf("vlan %u", c->vlan);
		else
			printf("untagged");
		printf(", rewrite %s, passthrough %s\n",
		       c->flags & COLO_CFG_REWRITE ? "on" : "off",
		       c->flags & COLO_CFG_PASSTHROUGH ? "ON" : "off");
		printf("  interfaces:\n");
		print_ifs(st);
	}
	if (st->have_counters && !no_dp) {
		printf("  datapath counters (all CPUs):\n");
		print_fields(&st->cnt, colo_counter_fields,
			     sizeof(st->cnt));
	}
	if (st->have_engine && st->cfg.role != COLO_ROLE_SECONDARY)
		print_engine(st);
	if (ck) {
		print_ckpt(ck);
		json_decref(ck);
	}
	if (st->conns >= 0 && !no_dp)
		printf("  connections tracked: %ld\n", st->conns);
	print_divs(st);
}

/* --- machines --- */

static json_t *json_fields(const void *base, const struct colo_u64_field *f)
{
	json_t *o = json_object();

	for (; f->name; f++)
		json_object_set_new(o, f->name, json_integer(colo_u64_at(base, f)));
	return o;
}

static json_t *json_ifs(const struct colo_status *st)
{
	const struct colo_status_if *s;
	json_t *a = json_array(), *o;
	int i;

	for (i = 0; i < st->n_if; i++) {
		s = &st->ifs[i];
		o = json_pack("{s:s, s:s?, s:i, s:i, s:s, s:s, s:s, s:b}",
			      "role", s->role,
			      "name", s->name[0] ? s->name : NULL,
			      "ifindex", (json_int_t)s->ifindex,
			      "prog_id", (json_int_t)(s->xdp.ours ? s->xdp.our_id :
						      s->xdp.prog_id),
			      "prog_name", colo_prog_full_name(s->xdp.prog_name),
			      "mode", s->xdp.prog_id ? colo_xdp_mode_name(s->xdp.mode) : "none",
			      "attach", attach_kind(s),
			      "ours", s->xdp.ours);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_engine(const struct colo_status *st)
{
	json_t *o = json_fields(&st->eng, colo_engine_fields);
	json_t *r = json_object();
	int i;

	for (i = 1; i < COLO_DIV_MAX; i++)
		json_object_set_new(r, colo_reason_name(i),
				    json_integer(st->eng.by_reason[i]));
	json_object_set_new(o, "by_reason", r);
	json_object_set_new(o, "published_ms_ago",
			    json_integer(st->eng_age_ns / NSEC_PER_MSEC_U64));
	return o;
}

static json_t *json_divs(const struct colo_status *st)
{
	const struct colo_divrec *d;
	json_t *a = json_array();
	int i;

	for (i = 0; i < st->n_div; i++) {
		d = &st->div[i];
		json_array_append_new(a, json_pack("{s:I, s:I, s:s, s:s, s:I}",
			"seq", (json_int_t)d->seq,
			"age_ms", (json_int_t)(age_s(st, d->ts_ns) * 1000),
			"reason", colo_reason_name(d->reason),
			"flow", d->flow,
			"offset", (json_int_t)d->offset));
	}
	return a;
}

static json_t *json_status(const struct colo_status *st)
{
	const struct colo_config *c = &st->cfg;
	json_t *o = json_object(), *ck;
	char mac[18];

	json_object_set_new(o, "name", json_string(st->name));
	json_object_set_new(o, "path", json_string(st->path));
	json_object_set_new(o, "state", json_string(colo_state_name(st->state)));
	json_object_set_new(o, "alive", json_boolean(st->alive));
	if (st->have_config) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 c->vm_mac[0], c->vm_mac[1], c->vm_mac[2], c->vm_mac[3],
			 c->vm_mac[4], c->vm_mac[5]);
		json_object_set_new(o, "role", json_string(role_name(c->role)));
		json_object_set_new(o, "layout", json_string(c->link_ifindex ?
						"two-host" : "single-host"));
		json_object_set_new(o, "pid", json_integer(c->pid));
		json_object_set_new(o, "vm_mac", json_string(mac));
		json_object_set_new(o, "vlan", json_integer(c->vlan));
		json_object_set_new(o, "rewrite", json_boolean(c->flags & COLO_CFG_REWRITE));
		json_object_set_new(o, "passthrough",
				    json_boolean(c->flags & COLO_CFG_PASSTHROUGH));
		json_object_set_new(o, "interfaces", json_ifs(st));
	}
	if (st->have_counters)
		json_object_set_new(o, "counters", json_fields(&st->cnt,
							       colo_counter_fields));
	if (st->have_engine && c->role != COLO_ROLE_SECONDARY)
		json_object_set_new(o, "engine", json_engine(st));
	if (st->conns >= 0)
		json_object_set_new(o, "conns", json_integer(st->conns));
	ck = read_ckpt(st);
	if (ck)
		json_object_set_new(o, "checkpoint", ck);
	json_object_set_new(o, "divergences", json_divs(st));
	return o;
}

static int print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (!s) {
		pr_err("out of memory building the JSON report");
		return COLO_EXIT_FAILED;
	}
	puts(s);
	free(s);
	return COLO_EXIT_OK;
}

/* --- the command --- */

static int status_one(const char *name, int json)
{
	struct colo_status *st = malloc(sizeof(*st));
	int err, status;

	if (!st) {
		pr_err("out of memory");
		return COLO_EXIT_FAILED;
	}
	err = colo_status_read(name, st);
	if (err) {
		if (err == -ENOENT)
			pr_err("instance %s is not attached (no %s/%s)", name,
			       COLO_PIN_ROOT, name);
		else
			pr_err("instance %s: cannot read %s/%s: %s", name,
			       COLO_PIN_ROOT, name, strerror(-err));
		free(st);
		return err == -ENOENT ? COLO_EXIT_NOT_ATTACHED : COLO_EXIT_FAILED;
	}
	status = st->state == COLO_STATE_RUNNING ? COLO_EXIT_OK :
		 COLO_EXIT_NOT_RUNNING;
	if (json)
		print_json(json_status(st));
	else
		print_human(st);
	free(st);
	return status;
}

static int status_all(int json)
{
	struct colo_status *st = malloc(sizeof(*st));
	json_t *arr = json_array();
	char **names;
	int i, n;

	n = colo_inst_list(&names);
	if (!st || n < 0) {
		pr_err("cannot list instances: %s", strerror(st ? -n : ENOMEM));
		free(st);
		json_decref(arr);
		return COLO_EXIT_FAILED;
	}
	if (!n && !json)
		printf("no instances attached%s\n",
		       colo_bpffs_mounted() ? "" : " (bpffs is not mounted on /sys/fs/bpf)");
	for (i = 0; i < n; i++) {
		if (colo_status_read(names[i], st))
			continue;	/* detached meanwhile */
		if (json)
			json_array_append_new(arr, json_status(st));
		else
			print_human(st);
	}
	colo_inst_list_free(names, n);
	free(st);
	if (json)
		return print_json(json_pack("{s:o}", "instances", arr));
	json_decref(arr);
	return COLO_EXIT_OK;
}

static int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, "i:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			name = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'v':
			colo_log_more();
			break;
		case 'h':
			colo_cmd_usage(&colo_cmd_status, stdout);
			return COLO_EXIT_OK;
		default:
			return colo_cmd_bad_usage(&colo_cmd_status);
		}
	}
	if (optind < argc) {
		pr_err("status takes no arguments besides options (got '%s'); use --instance NAME",
		       argv[optind]);
		return colo_cmd_bad_usage(&colo_cmd_status);
	}
	if (name && colo_inst_name_check(name))
		return colo_cmd_bad_usage(&colo_cmd_status);
	colo_bpf_log_init();
	return name ? status_one(name, json) : status_all(json);
}

const struct colo_cmd colo_cmd_status = {
	.name = "status",
	.summary = "show attached instances: interfaces, counters, comparator, divergences",
	.run = status_main,
	.usage =
	"Usage: colo-proxy status [--instance NAME] [--json]\n"
	"\n"
	"For every instance under " COLO_PIN_ROOT " (or the one named): its state\n"
	"(running, starting, or stale: the process is gone and 'colo-proxy detach'\n"
	"should clean up), role, pid, each interface with its XDP program, mode\n"
	"and whether libxdp's dispatcher or a single plain program runs there, the\n"
	"datapath counters summed over CPUs, the comparator's published state, the\n"
	"number of tracked TCP connections and the last divergences, newest first.\n"
	"\n"
	"Options:\n"
	"  -i, --instance NAME  only this instance\n"
	"      --json           one JSON object on the last line of stdout: the\n"
	"                       instance's object with --instance, else\n"
	"                       {\"instances\": [...]}\n"
	"  -v, --verbose        more diagnostics on stderr\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 shown (with --instance: the instance is running), 1 an\n"
	"error, 2 bad options, 3 with --instance: no such instance is attached,\n"
	"4 with --instance: it exists but is not running (starting, or its process\n"
	"is gone).\n",
};
