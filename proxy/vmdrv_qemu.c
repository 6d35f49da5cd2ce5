// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The qemu VM driver: QEMU's COLO over QMP.
 *
 * QEMU has no "checkpoint now" command; setting x-checkpoint-delay while in
 * COLO state wakes the checkpoint thread at once and re-arms its timer, so a
 * demand sets it to the configured delay. A checkpoint shows on QMP as STOP
 * (the VM stops to be copied) then RESUME (the secondary has loaded the
 * state): in COLO state those two are the start and the end of a checkpoint.
 * MIGRATION events (with the "events" capability) say when COLO state is
 * reached; COLO_EXIT when it ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "qmp.h"
#include "vmdrv.h"

#define QEMU_TIMEOUT_MS		3000
#define QEMU_CKPT_TIMEOUT_MS	10000

struct vmdrv_qemu {
	struct vmdrv d;
	struct qmp *q;
	enum vmdrv_mode mode;		/* our side, once known */
	int colo;			/* in COLO state */
	int in_ckpt;
	int lost;			/* the monitor is gone, reported */
	int failing_over;		/* its STOP is no checkpoint */
	int closing;
	uint64_t started, done;		/* checkpoints */
	int64_t demand_deadline;	/* ns; 0: none */
	int64_t ckpt_deadline;		/* ns; 0: none */
	unsigned int delay_ms;		/* x-checkpoint-delay to keep */
	int64_t last_pass;		/* MIGRATION_PASS */
};

static struct vmdrv_qemu *to_qemu(struct vmdrv *d)
{
	return (struct vmdrv_qemu *)d;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum vmdrv_mode parse_mode(const char *s)
{
	if (s && !strcmp(s, "primary"))
		return VMDRV_MODE_PRIMARY;
	if (s && !strcmp(s, "secondary"))
		return VMDRV_MODE_SECONDARY;
	return VMDRV_MODE_NONE;
}

static enum vmdrv_reason parse_reason(const char *s)
{
	if (!s || !strcmp(s, "none"))
		return VMDRV_REASON_NONE;
	if (!strcmp(s, "request"))
		return VMDRV_REASON_REQUEST;
	if (!strcmp(s, "processing"))
		return VMDRV_REASON_PROCESSING;
	return VMDRV_REASON_ERROR;
}

static void emit(struct vmdrv_qemu *qd, struct vmdrv_event *ev)
{
	if (qd->closing || !qd->d.cfg.on_event)
		return;
	ev->ts_ns = now_ns();
	qd->d.cfg.on_event(qd->d.cfg.arg, ev);
}

static void emit_error(struct vmdrv_qemu *qd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emit_error(struct vmdrv_qemu *qd, int err, const char *fmt, ...)
{
	struct vmdrv_event ev = { .type = VMDRV_EV_ERROR, .err = err };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_debug("qemu driver: %s", msg);
	ev.msg = msg;
	emit(qd, &ev);
}

/* The monitor connection is gone: say so once. */
static int lost(struct vmdrv_qemu *qd, int err)
{
	if (!qd->lost) {
		qd->lost = 1;
		qd->colo = 0;
		qd->in_ckpt = 0;
		qd->demand_deadline = qd->ckpt_deadline = 0;
		snprintf(qd->d.errmsg, sizeof(qd->d.errmsg),
			 "lost QEMU's monitor at %s: %s", qd->d.cfg.target,
			 qmp__strerror(qd->q));
		emit_error(qd, err, "%s", qd->d.errmsg);
	}
	return err;
}

/* ---- QMP events ---- */

static void on_stop(struct vmdrv_qemu *qd)
{
	struct vmdrv_event ev = { .type = VMDRV_EV_VM_STOPPED };

	if (qd->colo && !qd->in_ckpt && !qd->failing_over) {
		qd->in_ckpt = 1;
		qd->started++;
		qd->demand_deadline = 0;
		qd->ckpt_deadline = now_ns() +
			(int64_t)qd->d.cfg.checkpoint_timeout_ms * 1000000;
		ev.type = VMDRV_EV_CHECKPOINT_START;
		ev.checkpoint = qd->started;
	}
	emit(qd, &ev);
}

static void on_resume(struct vmdrv_qemu *qd)
{
	struct vmdrv_event ev = { .type = VMDRV_EV_VM_RESUMED };

	if (qd->in_ckpt) {
		qd->in_ckpt = 0;
		qd->done = qd->started;
		qd->ckpt_deadline = 0;
		ev.type = VMDRV_EV_CHECKPOINT_DONE;
		ev.checkpoint = qd->done;
	}
	emit(qd, &ev);
}

static void on_migration(struct vmdrv_qemu *qd, json_t *data)
{
	const char *st = json_string_value(json_object_get(data, "status"));
	struct vmdrv_event ev = { .type = VMDRV_EV_COLO_ENTER };

	pr_debug("qemu driver: migration status %s", st ? st : "?");
	if (!st || strcmp(st, "colo") || qd->colo)
		return;
	qd->colo = 1;
	if (qd->mode == VMDRV_MODE_NONE)
		qd->mode = qd->d.cfg.role;
	ev.mode = qd->mode;
	emit(qd, &ev);
}

static void on_colo_exit(struct vmdrv_qemu *qd, json_t *data)
{
	struct vmdrv_event ev = { .type = VMDRV_EV_COLO_EXIT };

	ev.mode = parse_mode(json_string_value(json_object_get(data, "mode")));
	ev.reason = parse_reason(json_string_value(json_object_get(data,
								   "reason")));
	qd->colo = 0;
	qd->in_ckpt = 0;
	qd->failing_over = 0;
	qd->demand_deadline = qd->ckpt_deadline = 0;
	emit(qd, &ev);
}

static void on_qmp_event(void *arg, const struct qmp_event *e)
{
	struct vmdrv_qemu *qd = arg;

	if (!strcmp(e->name, "STOP"))
		on_stop(qd);
	else if (!strcmp(e->name, "RESUME"))
		on_resume(qd);
	else if (!strcmp(e->name, "MIGRATION"))
		on_migration(qd, e->data);
	else if (!strcmp(e->name, "COLO_EXIT"))
		on_colo_exit(qd, e->data);
	else if (!strcmp(e->name, "MIGRATION_PASS"))
		json_unpack(e->data, "{s:I}", "pass", &qd->last_pass);
}

/* ---- blocking exchanges ---- */

/* One command, waited for; on failure errmsg says what happened. */
static int call(struct vmdrv_qemu *qd, const char *cmd, json_t *args,
		json_t **ret)
{
	struct qmp_error e;
	int err;

	if (qd->lost) {
		json_decref(args);
		return -ENOTCONN;
	}
	err = qmp__call(qd->q, cmd, args, qd->d.cfg.timeout_ms, ret, &e);
	if (!err)
		return 0;
	if (*qmp__strerror(qd->q))	/* the connection is gone */
		return lost(qd, err);
	if (err == -EREMOTEIO)
		snprintf(qd->d.errmsg, sizeof(qd->d.errmsg),
			 "QEMU refused %s: %.180s (%.40s)", cmd, e.desc,
			 e.eclass);
	else if (err == -ETIMEDOUT)
		snprintf(qd->d.errmsg, sizeof(qd->d.errmsg),
			 "QEMU did not answer %s within %d ms: its main loop may be stuck",
			 cmd, qd->d.cfg.timeout_ms);
	else
		snprintf(qd->d.errmsg, sizeof(qd->d.errmsg), "%s failed: %.200s",
			 cmd, e.desc);
	return err;
}

/* query-colo-status; -ENOENT when this QEMU lacks it (no replication). */
static int colo_status(struct vmdrv_qemu *qd, struct vmdrv_status *st)
{
	const char *mode = NULL, *last = NULL, *reason = NULL;
	json_t *r;
	int err;

	err = call(qd, "query-colo-status", NULL, &r);
	if (err == -EREMOTEIO && strstr(qd->d.errmsg, "CommandNotFound"))
		return -ENOENT;
	if (err)
		return err;
	json_unpack(r, "{s?s, s?s, s?s}", "mode", &mode, "last-mode", &last,
		    "reason", &reason);
	st->mode = parse_mode(mode);
	st->last_mode = parse_mode(last);
	st->reason = parse_reason(reason);
	json_decref(r);
	return 0;
}

static int capability(struct vmdrv_qemu *qd, const char *name)
{
	json_t *r, *c;
	size_t i;
	int on = 0, err;

	err = call(qd, "query-migrate-capabilities", NULL, &r);
	if (err)
		return err;
	json_array_foreach(r, i, c) {
		const char *n = json_string_value(json_object_get(c, "capability"));

		if (n && !strcmp(n, name))
			on = json_is_true(json_object_get(c, "state"));
	}
	json_decref(r);
	return on;
}

/* query-migrate's status ("" when no migration has run). */
static int migrate_status(struct vmdrv_qemu *qd, char *buf, size_t len)
{
	const char *s;
	json_t *r;
	int err;

	err = call(qd, "query-migrate", NULL, &r);
	if (err)
		return err;
	s = json_string_value(json_object_get(r, "status"));
	snprintf(buf, len, "%s", s ? s : "");
	json_decref(r);
	return 0;
}

static void fill_local(struct vmdrv_qemu *qd, struct vmdrv_status *st)
{
	st->checkpoints = qd->done;
	st->in_checkpoint = qd->in_ckpt;
}

static int qemu_status(struct vmdrv *d, struct vmdrv_status *st)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	int err;

	memset(st, 0, sizeof(*st));
	err = colo_status(qd, st);
	if (err == -ENOENT) {
		st->mode = qd->colo ? qd->mode : VMDRV_MODE_NONE;
		err = 0;
	}
	fill_local(qd, st);
	return err;
}

/* In COLO state by query-migrate alone, for a QEMU without
 * query-colo-status: only the primary can be told this way. */
static int check_by_migrate(struct vmdrv_qemu *qd, struct vmdrv_status *st)
{
	char ms[32];
	int err;

	err = migrate_status(qd, ms, sizeof(ms));
	if (err)
		return err;
	if (strcmp(ms, "colo")) {
		snprintf(qd->d.errmsg, sizeof(qd->d.errmsg),
			 "not in COLO state yet: migration status is '%s'",
			 *ms ? ms : "none");
		return -EAGAIN;
	}
	st->mode = VMDRV_MODE_PRIMARY;
	return 0;
}

static int qemu_check(struct vmdrv *d, struct vmdrv_status *out)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	struct vmdrv_status st = { 0 };
	char ms[32];
	int err, on;

	err = colo_status(qd, &st);
	if (err == -ENOENT)
		err = check_by_migrate(qd, &st);
	if (err == -EAGAIN || (!err && st.mode == VMDRV_MODE_NONE)) {
		/* Not replicating: say whether it can, and how far it got. */
		on = capability(qd, "x-colo");
		if (on < 0)
			return on;
		if (!on && d->cfg.role != VMDRV_MODE_SECONDARY) {
			snprintf(d->errmsg, sizeof(d->errmsg),
				 "COLO is not enabled on %s: set the x-colo migration capability before migrate",
				 d->cfg.target);
			return -EOPNOTSUPP;
		}
		err = migrate_status(qd, ms, sizeof(ms));
		if (err)
			return err;
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "not in COLO state yet (migration status '%s'): try again once the first migration has finished",
			 *ms ? ms : "none");
		return -EAGAIN;
	}
	if (err)
		return err;
	if (d->cfg.role != VMDRV_MODE_NONE && st.mode != d->cfg.role) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "%s is the COLO %s, not the %s", d->cfg.target,
			 vmdrv_mode_str(st.mode), vmdrv_mode_str(d->cfg.role));
		return -EINVAL;
	}
	qd->mode = st.mode;
	qd->colo = 1;
	fill_local(qd, &st);
	if (out)
		*out = st;
	return 0;
}

static int qemu_failover(struct vmdrv *d, const char *reason)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	int err;

	pr_info("failing over on %s: %s", d->cfg.target,
		reason ? reason : "no reason given");
	/* The secondary stops and restarts its VM on the way out, before
	 * the reply: STOP, MIGRATION completed, COLO_EXIT, RESUME. */
	qd->failing_over = 1;
	err = call(qd, "x-colo-lost-heartbeat", NULL, NULL);
	if (err)
		qd->failing_over = 0;
	return err;
}

/* ---- checkpoints on demand ---- */

static void on_demand_reply(void *arg, const struct qmp_reply *r)
{
	struct vmdrv_qemu *qd = arg;

	/* A lost connection is reported once, by qemu_process(). */
	if (!r->err || *qmp__strerror(qd->q))
		return;
	qd->demand_deadline = 0;
	if (r->err == -EREMOTEIO)
		emit_error(qd, r->err, "QEMU refused the checkpoint request: %s (%s)",
			   r->desc, r->eclass);
	else if (r->err != -ECANCELED)
		emit_error(qd, r->err, "checkpoint request failed: %s", r->desc);
}

static int qemu_demand_checkpoint(struct vmdrv *d)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	int64_t id;

	if (qd->lost)
		return -ENOTCONN;
	if (qd->mode == VMDRV_MODE_SECONDARY) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "checkpoints are demanded from the primary, and %s is the secondary",
			 d->cfg.target);
		return -EOPNOTSUPP;
	}
	if (!qd->colo) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "%s is not in COLO state: no checkpoint to demand",
			 d->cfg.target);
		return -EAGAIN;
	}
	id = qmp__send(qd->q, "migrate-set-parameters",
		       json_pack("{s:I}", "x-checkpoint-delay",
				 (json_int_t)qd->delay_ms),
		       0, d->cfg.timeout_ms, on_demand_reply, qd);
	if (id < 0) {
		snprintf(d->errmsg, sizeof(d->errmsg),
			 "cannot send the checkpoint request: %s",
			 *qmp__strerror(qd->q) ? qmp__strerror(qd->q) :
			 strerror((int)-id));
		return (int)id;
	}
	/* A checkpoint under way may absorb the demand: only the running
	 * one's deadline is watched then. */
	if (!qd->in_ckpt && !qd->demand_deadline)
		qd->demand_deadline = now_ns() +
			(int64_t)d->cfg.checkpoint_timeout_ms * 1000000;
	return 0;
}

/* ---- polling ---- */

static int qemu_fd(struct vmdrv *d)
{
	return qmp__fd(to_qemu(d)->q);
}

static short qemu_poll_events(struct vmdrv *d)
{
	return qmp__poll_events(to_qemu(d)->q);
}

static int min_timeout(int a, int64_t deadline, int64_t now)
{
	int ms;

	if (!deadline)
		return a;
	ms = deadline <= now ? 0 : (int)((deadline - now + 999999) / 1000000);
	return a < 0 || ms < a ? ms : a;
}

static int qemu_timeout_ms(struct vmdrv *d)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	int64_t now = now_ns();
	int ms = qmp__timeout_ms(qd->q);

	ms = min_timeout(ms, qd->demand_deadline, now);
	return min_timeout(ms, qd->ckpt_deadline, now);
}

static int qemu_process(struct vmdrv *d)
{
	struct vmdrv_qemu *qd = to_qemu(d);
	int64_t now;
	int err;

	if (qd->lost)
		return -ENOTCONN;
	err = qmp__process(qd->q);
	if (err)
		return lost(qd, err);
	now = now_ns();
	if (qd->demand_deadline && now >= qd->demand_deadline) {
		qd->demand_deadline = 0;
		emit_error(qd, -ETIMEDOUT,
			   "a checkpoint demanded %d ms ago has not started: QEMU's COLO thread may be stuck (fail over?)",
			   d->cfg.checkpoint_timeout_ms);
	}
	if (qd->ckpt_deadline && now >= qd->ckpt_deadline) {
		qd->ckpt_deadline = 0;
		emit_error(qd, -ETIMEDOUT,
			   "checkpoint %llu has not completed in %d ms: the pair may be stuck (fail over?)",
			   (unsigned long long)qd->started,
			   d->cfg.checkpoint_timeout_ms);
	}
	return 0;
}

/* ---- life cycle ---- */

/* The delay to restore after a demand: the configured one, applied now,
 * or QEMU's own. Also turn on MIGRATION events when QEMU allows it. */
static int setup_params(struct vmdrv_qemu *qd)
{
	json_t *r;
	json_int_t cur = 0;
	int err;

	err = call(qd, "query-migrate-parameters", NULL, &r);
	if (err)
		return err;
	json_unpack(r, "{s:I}", "x-checkpoint-delay", &cur);
	json_decref(r);
	qd->delay_ms = qd->d.cfg.checkpoint_delay_ms ?: (unsigned int)cur;
	if (qd->delay_ms != cur) {
		err = call(qd, "migrate-set-parameters",
			   json_pack("{s:I}", "x-checkpoint-delay",
				     (json_int_t)qd->delay_ms), NULL);
		if (err)
			return err;
	}
	/* Refused while a migration runs: then STOP/RESUME and check() do. */
	if (capability(qd, "events") == 0 &&
	    call(qd, "migrate-set-capabilities",
		 json_pack("{s:[{s:s, s:b}]}", "capabilities",
			   "capability", "events", "state", 1), NULL))
		pr_debug("qemu driver: no MIGRATION events: %s", qd->d.errmsg);
	return 0;
}

static struct vmdrv *qemu_open(const struct vmdrv_config *cfg, char *errbuf,
			       size_t errlen)
{
	struct vmdrv_qemu *qd;
	struct qmp_config qc = { 0 };
	int err;

	qd = calloc(1, sizeof(*qd));
	if (!qd)
		return NULL;
	qd->d.ops = &vmdrv_qemu_ops;
	qd->d.cfg = *cfg;
	if (qd->d.cfg.timeout_ms <= 0)
		qd->d.cfg.timeout_ms = QEMU_TIMEOUT_MS;
	if (qd->d.cfg.checkpoint_timeout_ms <= 0)
		qd->d.cfg.checkpoint_timeout_ms = QEMU_CKPT_TIMEOUT_MS;
	qc.addr = cfg->target;
	qc.handshake_ms = qd->d.cfg.timeout_ms;
	qc.on_event = on_qmp_event;
	qc.arg = qd;
	qd->q = qmp__connect(&qc, errbuf, errlen);
	if (!qd->q) {
		err = errno;
		free(qd);
		errno = err;
		return NULL;
	}
	err = setup_params(qd);
	if (err) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", qd->d.errmsg);
		qd->closing = 1;
		qmp__close(qd->q);
		free(qd);
		errno = -err;
		return NULL;
	}
	return &qd->d;
}

static void qemu_close(struct vmdrv *d)
{
	struct vmdrv_qemu *qd = to_qemu(d);

	qd->closing = 1;
	qmp__close(qd->q);
	free(qd);
}

const struct vmdrv_ops vmdrv_qemu_ops = {
	.name = "qemu",
	.self_checkpointing = 1,
	.open = qemu_open,
	.close = qemu_close,
	.check = qemu_check,
	.demand_checkpoint = qemu_demand_checkpoint,
	.failover = qemu_failover,
	.status = qemu_status,
	.fd = qemu_fd,
	.poll_events = qemu_poll_events,
	.timeout_ms = qemu_timeout_ms,
	.process = qemu_process,
};
