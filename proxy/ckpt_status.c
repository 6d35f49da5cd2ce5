// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checkpoint loop's state for `colo-proxy status`: one JSON object in
 * COLO_CKPT_STATUS_DIR/NAME.json, written to a temporary file and renamed
 * over the old one, so a reader sees a whole version or the previous one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ckpt_int.h"
#include "log.h"
#include "loop.h"

int colo_ckpt_status_path(const char *instance, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.json", COLO_CKPT_STATUS_DIR, instance);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static json_int_t ms_ago(uint64_t now, uint64_t t)
{
	return t && now > t ? (json_int_t)((now - t) / NSEC_PER_MSEC_U64) : 0;
}

static double ms(uint64_t ns)
{
	return (double)(ns / 1000) / 1000.0;
}

static json_t *j_mode(const struct colo_ckpt *c, uint64_t now)
{
	const struct colo_policy_stats *s = &c->pol.stats;
	json_t *o = json_object();

	json_object_set_new(o, "configured",
			    json_string(colo_mode_name(c->o.policy.mode)));
	if (!ck_primary(c))
		return o;
	json_object_set_new(o, "in_force", json_string(c->pol_ready ?
				colo_mode_name(c->pol.mode) : "none"));
	json_object_set_new(o, "switches", json_integer(s->switches));
	json_object_set_new(o, "divergences", json_integer(s->divergences));
	if (s->switches)
		json_object_set_new(o, "last_switch", json_pack("{s:s, s:s, s:I}",
			"text", s->last_switch.text,
			"reason", colo_switch_reason_name(s->last_switch.why),
			"ago_ms", ms_ago(now, s->last_switch.at_ns)));
	return o;
}

static json_t *j_by_cause(const struct colo_ckpt *c)
{
	json_t *o = json_object();
	int i;

	for (i = 1; i < COLO_CAUSE_MAX; i++)
		json_object_set_new(o, colo_cause_name(i),
				    json_integer(c->pol.stats.checkpoints[i]));
	return o;
}

static json_t *j_checkpoints(const struct colo_ckpt *c, uint64_t now)
{
	const struct colo_ckpt_last *l = &c->last;
	json_t *o = json_object();

	json_object_set_new(o, "done", json_integer(c->done));
	json_object_set_new(o, "aborted", json_integer(c->aborted));
	if (ck_primary(c) && c->pol_ready) {
		json_object_set_new(o, "coalesced",
				    json_integer(c->pol.stats.coalesced +
						 c->pm.b.stats.coalesced));
		json_object_set_new(o, "by_cause", j_by_cause(c));
	}
	if (!l->seq && !c->done)
		return o;
	json_object_set_new(o, "last", json_pack("{s:I, s:s, s:f, s:f, s:f, s:I, s:I}",
		"seq", (json_int_t)l->seq,
		"cause", ck_primary(c) ? colo_cause_name(l->cause) : "request",
		"duration_ms", ms(l->end_ns > l->start_ns ? l->end_ns - l->start_ns : 0),
		"downtime_ms", ms(l->downtime_ns),
		"held_ms", ms(l->held_ns),
		"size", (json_int_t)l->size,
		"ago_ms", ms_ago(now, l->end_ns)));
	return o;
}

static json_t *j_peer(const struct colo_ckpt *c, uint64_t now)
{
	const struct colo_peer *p = &c->peer;
	const struct colo_proto_base *b = ck_base(c);
	json_t *o = json_object();

	json_object_set_new(o, "address", json_string(p->name));
	json_object_set_new(o, "side", json_string(p->listen ? "listen" : "connect"));
	json_object_set_new(o, "state", json_string(colo_peer_state_name(p->state)));
	json_object_set_new(o, "connected", json_boolean(p->state == COLO_PEER_CONNECTED));
	json_object_set_new(o, "connects", json_integer(p->connects));
	json_object_set_new(o, "drops", json_integer(p->drops));
	if (b->started) {
		json_object_set_new(o, "last_heard_ms_ago",
				    json_integer(ms_ago(now, b->last_rx_ns)));
		json_object_set_new(o, "heartbeats_tx", json_integer(b->stats.heartbeats_tx));
		json_object_set_new(o, "heartbeats_rx", json_integer(b->stats.heartbeats_rx));
	}
	if (p->last_err[0])
		json_object_set_new(o, "last_error", json_string(p->last_err));
	return o;
}

static json_t *j_failover(const struct colo_ckpt *c)
{
	const struct colo_ckpt_fo *f = &c->fo;
	char at[40];
	struct tm tm;
	json_t *o;

	if (c->phase != COLO_CK_FAILED_OVER && c->phase != COLO_CK_STOOD_DOWN)
		return json_pack("{s:s}", "state", "none");
	gmtime_r(&f->wall.tv_sec, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(at + strlen(at), sizeof(at) - strlen(at), ".%03ldZ",
		 f->wall.tv_nsec / 1000000);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:f, s:I}",
		"state", colo_ckpt_phase_name(c->phase),
		"reason", colo_proto_reason_name(f->reason),
		"text", f->text,
		"at", at,
		"at_ns", (json_int_t)f->done_ns,
		"detection_ms", ms(f->detected_ns - f->last_rx_ns),
		"action_ms", ms(f->done_ns - f->detected_ns),
		"loss_to_failover_ms", ms(f->done_ns - f->last_rx_ns),
		"after_checkpoint", (json_int_t)f->seq);
	return o;
}

static const char *proto_state(const struct colo_ckpt *c)
{
	if (ck_primary(c))
		return colo_pstate_name(c->pm.state);
	return colo_sstate_name(c->sm.state);
}

static json_t *j_status(const struct colo_ckpt *c)
{
	uint64_t now = colo_now_ns();
	json_t *o = json_object();

	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "instance", json_string(c->env.instance));
	json_object_set_new(o, "role", json_string(ck_primary(c) ? "primary" : "secondary"));
	json_object_set_new(o, "updated_ns", json_integer(now));
	json_object_set_new(o, "driver", json_string(c->o.drv->name));
	json_object_set_new(o, "vm", json_string(c->o.vm));
	json_object_set_new(o, "datapath", json_boolean(!c->o.no_datapath));
	json_object_set_new(o, "phase", json_string(colo_ckpt_phase_name(c->phase)));
	json_object_set_new(o, "protocol", json_string(proto_state(c)));
	json_object_set_new(o, "seq", json_integer(ck_base(c)->done));
	json_object_set_new(o, "heartbeat_ms", json_integer(c->o.heartbeat_ns / NSEC_PER_MSEC_U64));
	json_object_set_new(o, "heartbeat_timeout_ms",
			    json_integer(c->o.heartbeat_timeout_ns / NSEC_PER_MSEC_U64));
	json_object_set_new(o, "mode", j_mode(c, now));
	json_object_set_new(o, "checkpoints", j_checkpoints(c, now));
	json_object_set_new(o, "peer", j_peer(c, now));
	json_object_set_new(o, "failover", j_failover(c));
	if (ck_primary(c) && c->env.loop)
		json_object_set_new(o, "output", json_pack("{s:s, s:I, s:I, s:I}",
			"mode", colo_loop_mode_name(c->env.loop->mode),
			"held_frames", (json_int_t)c->env.loop->hold_frames,
			"held_bytes", (json_int_t)c->env.loop->hold_bytes,
			"committed", (json_int_t)c->env.loop->committed));
	return o;
}

void colo_ckpt__write_status(struct colo_ckpt *c)
{
	char tmp[sizeof(c->status_path) + 16];
	json_t *o;
	int err;

	if (!c->status_path[0])
		return;
	if (mkdir(COLO_CKPT_STATUS_DIR, 0755) && errno != EEXIST) {
		pr_debug("cannot create %s: %s", COLO_CKPT_STATUS_DIR, strerror(errno));
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", c->status_path, (int)getpid());
	o = j_status(c);
	err = json_dump_file(o, tmp, JSON_COMPACT);
	json_decref(o);
	if (err || rename(tmp, c->status_path)) {
		pr_debug("cannot write %s: %s", c->status_path, strerror(errno));
		unlink(tmp);
	}
}
