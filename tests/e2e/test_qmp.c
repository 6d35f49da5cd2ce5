// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QMP client and the qemu VM driver against a real QEMU (-machine none,
 * no guest) and against fake QMP servers for what QEMU cannot be made to
 * do on purpose (stay silent, split and batch its messages, talk nonsense).
 * Tests that need QEMU skip when qemu-system-x86_64 is not installed.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "qmp.h"
#include "qemu_harness.h"
#include "vmdrv.h"

#define TMO 3000	/* ms for commands that QEMU answers at once */

struct fixture {
	struct harness_qemu qemu;
	struct qmp *q;
	/* events seen by the callback */
	char events[16][32];
	int nevents;
};

static void record_event(void *arg, const struct qmp_event *ev)
{
	struct fixture *fx = arg;

	assert_non_null(ev->name);
	assert_true(ev->sec > 0);
	assert_true(ev->usec >= 0 && ev->usec < 1000000);
	if (fx->nevents < 16)
		snprintf(fx->events[fx->nevents++], 32, "%s", ev->name);
}

static int has_event(const struct fixture *fx, const char *name)
{
	int i;

	for (i = 0; i < fx->nevents; i++)
		if (!strcmp(fx->events[i], name))
			return i + 1;
	return 0;
}

/* A fresh QEMU for each test, connected. */
static int setup_qemu(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct qmp_config cfg = { .on_event = record_event };
	char err[256];
	int i;

	*state = fx;
	if (!harness_have(HARNESS_QEMU))
		return 0;
	if (harness_qemu_start(&fx->qemu, 1, NULL)) {
		harness_qemu_stop_all();
		fail_msg("cannot start %s", HARNESS_QEMU);
	}
	cfg.addr = fx->qemu.addr;
	cfg.arg = fx;
	/* QEMU creates the socket file a moment before it listens. */
	for (i = 0; i < 100; i++) {
		fx->q = qmp__connect(&cfg, err, sizeof(err));
		if (fx->q || errno != ECONNREFUSED)
			break;
		harness_sleep_ms(20);
	}
	if (!fx->q) {
		harness_qemu_stop(&fx->qemu);
		fail_msg("connect: %s", err);
	}
	return 0;
}

static int teardown_qemu(void **state)
{
	struct fixture *fx = *state;

	qmp__close(fx->q);
	harness_qemu_stop(&fx->qemu);
	harness_qemu_stop_all();
	free(fx);
	return 0;
}

/* Tests that start their own QEMUs: kill what a failure left behind. */
static int teardown_stop_all(void **state)
{
	(void)state;
	harness_qemu_stop_all();
	return 0;
}

#define NEED_QEMU(fx) do { if (!(fx)->q) skip(); } while (0)

static void test_qmp_negotiation(void **state)
{
	struct fixture *fx = *state;
	int major, minor, micro;

	NEED_QEMU(fx);
	assert_true(qmp__ready(fx->q));
	assert_int_equal(qmp__version(fx->q, &major, &minor, &micro), 0);
	assert_true(major >= 7);
	/* QEMU has offered OOB since 3.0, and we take it. */
	assert_true(qmp__oob(fx->q));
	assert_string_equal(qmp__strerror(fx->q), "");
}

static void test_qmp_query(void **state)
{
	struct fixture *fx = *state;
	json_t *r;
	int major;

	NEED_QEMU(fx);
	assert_int_equal(qmp__call(fx->q, "query-status", NULL, TMO, &r, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
			    "running");
	json_decref(r);
	assert_int_equal(qmp__call(fx->q, "query-version", NULL, TMO, &r, NULL), 0);
	qmp__version(fx->q, &major, NULL, NULL);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(r, "qemu"), "major")), major);
	json_decref(r);
}

static void test_qmp_error_unknown_command(void **state)
{
	struct fixture *fx = *state;
	struct qmp_error e;
	json_t *r;

	NEED_QEMU(fx);
	assert_int_equal(qmp__call(fx->q, "no-such-command", NULL, TMO, &r, &e),
			 -EREMOTEIO);
	assert_null(r);
	assert_string_equal(e.eclass, "CommandNotFound");
	assert_non_null(strstr(e.desc, "no-such-command"));
	/* The connection is still fine. */
	assert_int_equal(qmp__call(fx->q, "query-status", NULL, TMO, NULL, NULL), 0);
}

static void test_qmp_error_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	struct qmp_error e;

	NEED_QEMU(fx);
	assert_int_equal(qmp__call(fx->q, "migrate-set-parameters",
				   json_pack("{s:s}", "x-checkpoint-delay", "soon"),
				   TMO, NULL, &e), -EREMOTEIO);
	assert_string_equal(e.eclass, "GenericError");
	/* "Parameter 'x-checkpoint-delay' expects uint64" */
	assert_non_null(strstr(e.desc, "x-checkpoint-delay"));
}

struct replies {
	int n;
	char cmd[8][32];
	int err[8];
	char status[8][16];	/* query-status's answer */
};

static void record_reply(void *arg, const struct qmp_reply *r)
{
	struct replies *rs = arg;
	const char *st = json_string_value(json_object_get(r->ret, "status"));

	assert_true(rs->n < 8);
	snprintf(rs->cmd[rs->n], 32, "%s", r->cmd);
	snprintf(rs->status[rs->n], 16, "%s", st ? st : "");
	rs->err[rs->n++] = r->err;
}

/* Drive the client the way a poll loop would, until n replies are in. */
static void pump(struct qmp *q, struct replies *rs, int n, int limit_ms)
{
	int64_t until = harness_ms() + limit_ms;
	struct pollfd p;

	while (rs->n < n) {
		assert_true(harness_ms() < until);
		p.fd = qmp__fd(q);
		p.events = qmp__poll_events(q);
		poll(&p, 1, 100);
		assert_int_equal(qmp__process(q), 0);
	}
}

static void test_qmp_events_between_replies(void **state)
{
	struct fixture *fx = *state;
	struct replies rs = { 0 };

	NEED_QEMU(fx);
	/* Three commands in flight at once; QEMU answers stop and cont with
	 * STOP and RESUME events in between the replies. */
	assert_true(qmp__send(fx->q, "stop", NULL, 0, TMO, record_reply, &rs) > 0);
	assert_true(qmp__send(fx->q, "cont", NULL, 0, TMO, record_reply, &rs) > 0);
	assert_true(qmp__send(fx->q, "query-status", NULL, 0, TMO, record_reply,
			      &rs) > 0);
	pump(fx->q, &rs, 3, TMO);
	assert_string_equal(rs.cmd[0], "stop");
	assert_string_equal(rs.cmd[1], "cont");
	assert_string_equal(rs.cmd[2], "query-status");
	assert_int_equal(rs.err[0] | rs.err[1] | rs.err[2], 0);
	assert_string_equal(rs.status[2], "running");
	assert_true(has_event(fx, "STOP"));
	assert_true(has_event(fx, "RESUME"));
	assert_true(has_event(fx, "STOP") < has_event(fx, "RESUME"));
}

static void test_qmp_checkpoint_delay(void **state)
{
	struct fixture *fx = *state;
	json_t *r;

	NEED_QEMU(fx);
	assert_int_equal(qmp__call(fx->q, "query-migrate-parameters", NULL, TMO,
				   &r, NULL), 0);
	/* QEMU's default */
	assert_int_equal(json_integer_value(json_object_get(r, "x-checkpoint-delay")),
			 20000);
	json_decref(r);
	assert_int_equal(qmp__call(fx->q, "migrate-set-parameters",
				   json_pack("{s:i}", "x-checkpoint-delay", 1234),
				   TMO, NULL, NULL), 0);
	assert_int_equal(qmp__call(fx->q, "query-migrate-parameters", NULL, TMO,
				   &r, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "x-checkpoint-delay")),
			 1234);
	json_decref(r);
}

static void test_qmp_colo_status_not_colo(void **state)
{
	struct fixture *fx = *state;
	json_t *r;

	NEED_QEMU(fx);
	/* QEMU 7.2 answers, with everything "none". */
	assert_int_equal(qmp__call(fx->q, "query-colo-status", NULL, TMO, &r,
				   NULL), 0);
	assert_string_equal(json_string_value(json_object_get(r, "mode")), "none");
	assert_string_equal(json_string_value(json_object_get(r, "last-mode")),
			    "none");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "none");
	json_decref(r);
}

static void test_qmp_lost_heartbeat_not_colo(void **state)
{
	struct fixture *fx = *state;
	struct qmp_error e;

	NEED_QEMU(fx);
	assert_int_equal(qmp__call(fx->q, "x-colo-lost-heartbeat", NULL, TMO, NULL,
				   &e), -EREMOTEIO);
	assert_string_equal(e.eclass, "GenericError");
	/* "The feature 'colo' is not enabled" */
	assert_non_null(strstr(e.desc, "colo"));
}

static void *kill_later(void *arg)
{
	struct harness_qemu *h = arg;

	harness_sleep_ms(200);
	kill(h->pid, SIGKILL);
	return NULL;
}

static void test_qmp_qemu_killed_mid_command(void **state)
{
	struct fixture *fx = *state;
	struct qmp_error e;
	pthread_t t;
	int64_t t0;

	NEED_QEMU(fx);
	/* Frozen, QEMU cannot answer; it dies while we wait for it. */
	kill(fx->qemu.pid, SIGSTOP);
	pthread_create(&t, NULL, kill_later, &fx->qemu);
	t0 = harness_ms();
	assert_int_equal(qmp__call(fx->q, "query-status", NULL, 10000, NULL, &e),
			 -ECONNRESET);
	assert_true(harness_ms() - t0 < 2000);
	pthread_join(t, NULL);
	assert_non_null(strstr(e.desc, "closed"));
	assert_int_equal(qmp__fd(fx->q), -1);
	assert_int_equal(qmp__poll_events(fx->q), 0);
	/* Later commands fail at once with the same error. */
	assert_int_equal(qmp__send(fx->q, "query-status", NULL, 0, TMO, NULL, NULL),
			 -ECONNRESET);
	assert_int_equal(qmp__process(fx->q), -ECONNRESET);
}

static void test_qmp_connect_no_socket(void **state)
{
	struct qmp_config cfg = { .addr = "unix:/nonexistent/colo-qmp.sock" };
	char err[256];

	(void)state;
	assert_null(qmp__connect(&cfg, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/colo-qmp.sock"));
	cfg.addr = "tcp:nocolon";
	assert_null(qmp__open(&cfg));
	assert_int_equal(errno, EINVAL);
}

/* The TCP transport: QEMU picks a port, its unix monitor tells us which. */
static void test_qmp_tcp(void **state)
{
	static const char *const extra[] = {
		"-qmp", "tcp:127.0.0.1:0,server=on,wait=off", NULL,
	};
	struct harness_qemu h;
	struct qmp_config cfg = { 0 };
	struct qmp *uq, *tq;
	const char *fn, *p;
	char addr[64];
	json_t *r, *c;
	size_t i;

	(void)state;
	if (!harness_have(HARNESS_QEMU))
		skip();
	assert_int_equal(harness_qemu_start(&h, 0, extra), 0);
	cfg.addr = h.addr;
	for (i = 0; i < 100 && !(uq = qmp__connect(&cfg, NULL, 0)); i++)
		harness_sleep_ms(20);
	assert_non_null(uq);
	assert_int_equal(qmp__call(uq, "query-chardev", NULL, TMO, &r, NULL), 0);
	addr[0] = '\0';
	json_array_foreach(r, i, c) {
		/* "disconnected:tcp:127.0.0.1:34683,server=on" */
		fn = json_string_value(json_object_get(c, "filename"));
		p = fn ? strstr(fn, "tcp:") : NULL;
		if (p)
			snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(p, ","), p);
	}
	json_decref(r);
	assert_true(addr[0]);
	cfg.addr = addr;
	tq = qmp__connect(&cfg, NULL, 0);
	assert_non_null(tq);
	assert_int_equal(qmp__call(tq, "query-status", NULL, TMO, NULL, NULL), 0);
	qmp__close(tq);
	qmp__close(uq);
	harness_qemu_stop(&h);
}

/* ---- fake servers ---- */

static void script_greeting_then_silence(struct harness_fake *f, int fd)
{
	harness_fake_write(fd, HARNESS_GREETING);
	harness_fake_hold(f);
}

static void test_qmp_silent_handshake(void **state)
{
	struct harness_fake f;
	struct qmp_config cfg = { .handshake_ms = 300 };
	char err[256];
	int64_t t0;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_greeting_then_silence,
					    NULL), 0);
	cfg.addr = f.addr;
	t0 = harness_ms();
	assert_null(qmp__connect(&cfg, err, sizeof(err)));
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(harness_ms() - t0 >= 290 && harness_ms() - t0 < 1500);
	assert_non_null(strstr(err, "300 ms"));
	harness_fake_stop(&f);
}

/* Negotiate, then answer nothing. */
static void script_negotiate_then_silence(struct harness_fake *f, int fd)
{
	char line[512], id[32], buf[600];

	harness_fake_write(fd, HARNESS_GREETING);
	if (harness_fake_readline(fd, line, sizeof(line)) == 0) {
		harness_fake_id(line, id, sizeof(id));
		snprintf(buf, sizeof(buf), "{\"return\": {}, \"id\": %s}\r\n", id);
		harness_fake_write(fd, buf);
	}
	harness_fake_hold(f);
}

static void test_qmp_silent_command(void **state)
{
	struct harness_fake f;
	struct qmp_config cfg = { 0 };
	struct qmp_error e;
	struct qmp *q;
	int64_t t0;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_negotiate_then_silence,
					    NULL), 0);
	cfg.addr = f.addr;
	q = qmp__connect(&cfg, NULL, 0);
	assert_non_null(q);
	assert_false(qmp__oob(q));	/* not offered */
	t0 = harness_ms();
	assert_int_equal(qmp__call(q, "query-status", NULL, 250, NULL, &e),
			 -ETIMEDOUT);
	assert_true(harness_ms() - t0 >= 240 && harness_ms() - t0 < 1500);
	assert_non_null(strstr(e.desc, "query-status"));
	/* A timeout is not the end of the connection. */
	assert_true(qmp__ready(q));
	assert_int_equal(qmp__timeout_ms(q), -1);
	qmp__close(q);
	harness_fake_stop(&f);
}

/*
 * Split and batch: the greeting in three writes; the negotiation reply and
 * an event in one; for commands A, B, C: B's reply, an event and A's reply
 * in one write, then C's reply a few bytes at a time with an event glued
 * to its end.
 */
static void script_split(struct harness_fake *f, int fd)
{
	const char *g = HARNESS_GREETING;
	char line[512], id[3][32], buf[1024];
	size_t i, n = strlen(g);
	int k;

	snprintf(buf, sizeof(buf), "%.*s", 10, g);
	harness_fake_write(fd, buf);
	harness_sleep_ms(20);
	snprintf(buf, sizeof(buf), "%.*s", (int)(n - 10 - 3), g + 10);
	harness_fake_write(fd, buf);
	harness_sleep_ms(20);
	harness_fake_write(fd, g + n - 3);
	if (harness_fake_readline(fd, line, sizeof(line)))
		return;
	harness_fake_id(line, id[0], sizeof(id[0]));
	snprintf(buf, sizeof(buf),
		 "{\"return\": {}, \"id\": %s}\r\n"
		 "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"E0\"}\r\n",
		 id[0]);
	harness_fake_write(fd, buf);
	for (k = 0; k < 3; k++) {
		if (harness_fake_readline(fd, line, sizeof(line)))
			return;
		harness_fake_id(line, id[k], sizeof(id[k]));
	}
	snprintf(buf, sizeof(buf),
		 "{\"return\": {\"who\": \"B\"}, \"id\": %s}\r\n"
		 "{\"timestamp\": {\"seconds\": 3, \"microseconds\": 4}, \"event\": \"E1\", \"data\": {\"x\": 1}}\r\n"
		 "{\"id\": %s, \"return\": {\"who\": \"A\"}}\r\n",
		 id[1], id[0]);
	harness_fake_write(fd, buf);
	snprintf(buf, sizeof(buf),
		 "{\"return\": {\"who\": \"C\\nwith a newline\"}, \"id\": %s}\r\n"
		 "{\"timestamp\": {\"seconds\": 5, \"microseconds\": 6}, \"event\": \"E2\"}\r\n",
		 id[2]);
	for (i = 0, n = strlen(buf); i < n; i += 7) {
		char piece[8];

		snprintf(piece, sizeof(piece), "%.7s", buf + i);
		harness_fake_write(fd, piece);
		harness_sleep_ms(1);
	}
	harness_fake_hold(f);
}

struct who {
	int n;
	char who[3][32];
	int64_t id[3];
};

static void record_who(void *arg, const struct qmp_reply *r)
{
	struct who *w = arg;
	const char *s = json_string_value(json_object_get(r->ret, "who"));

	assert_int_equal(r->err, 0);
	snprintf(w->who[w->n++], 32, "%s", s ? s : "?");
}

static void test_qmp_split_and_batched(void **state)
{
	struct fixture fx = { 0 };
	struct qmp_config cfg = { .on_event = record_event, .arg = &fx };
	struct harness_fake f;
	struct who w[3] = { { 0 } };
	struct qmp *q;
	int k;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_split, NULL), 0);
	cfg.addr = f.addr;
	q = qmp__connect(&cfg, NULL, 0);
	assert_non_null(q);
	for (k = 0; k < 3; k++)
		assert_true(qmp__send(q, "x", NULL, 0, TMO, record_who, &w[k]) > 0);
	/* The last send's callback is the one we wait on for the pump. */
	while (w[2].n == 0) {
		struct pollfd p = { qmp__fd(q), qmp__poll_events(q), 0 };

		poll(&p, 1, 100);
		assert_int_equal(qmp__process(q), 0);
	}
	assert_string_equal(w[0].who[0], "A");
	assert_string_equal(w[1].who[0], "B");
	assert_string_equal(w[2].who[0], "C\nwith a newline");
	/* The event glued after C's reply is in the same chunks. */
	for (k = 0; k < 50 && fx.nevents < 3; k++) {
		struct pollfd p = { qmp__fd(q), qmp__poll_events(q), 0 };

		poll(&p, 1, 20);
		qmp__process(q);
	}
	assert_int_equal(fx.nevents, 3);
	assert_string_equal(fx.events[0], "E0");
	assert_string_equal(fx.events[1], "E1");
	assert_string_equal(fx.events[2], "E2");
	qmp__close(q);
	harness_fake_stop(&f);
}

static void script_garbage(struct harness_fake *f, int fd)
{
	harness_fake_write(fd, HARNESS_GREETING);
	harness_fake_write(fd, "{\"return\": {}, \"id\": 1}\r\n{\"event\": tru\r\n");
	harness_fake_hold(f);
}

static void test_qmp_bad_json(void **state)
{
	struct harness_fake f;
	struct qmp_config cfg = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_garbage, NULL), 0);
	cfg.addr = f.addr;
	assert_null(qmp__connect(&cfg, err, sizeof(err)));
	/* The first reply completes the negotiation; the next line is bad. */
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(err, "bad JSON"));
	harness_fake_stop(&f);
}

/* ---- the qemu VM driver ---- */

struct drv_log {
	int n;
	struct vmdrv_event ev[16];
	char msg[16][256];
};

static void record_drv(void *arg, const struct vmdrv_event *ev)
{
	struct drv_log *l = arg;

	if (l->n >= 16)
		return;
	l->ev[l->n] = *ev;
	snprintf(l->msg[l->n], 256, "%s", ev->msg ? ev->msg : "");
	l->ev[l->n].msg = l->msg[l->n];
	l->n++;
}

/* The poll loop: until `want` events are in or limit_ms has passed. */
static void drv_pump(struct vmdrv *d, struct drv_log *l, int want, int limit_ms)
{
	int64_t until = harness_ms() + limit_ms;
	struct pollfd p;
	int ms;

	while (l->n < want && harness_ms() < until) {
		ms = vmdrv__timeout_ms(d);
		p.fd = vmdrv__fd(d);
		p.events = vmdrv__poll_events(d);
		poll(&p, 1, ms < 0 || ms > 50 ? 50 : ms);
		if (vmdrv__process(d))
			break;
	}
}

static struct vmdrv *drv_open(const char *addr, struct vmdrv_config *cfg,
			      struct drv_log *l)
{
	struct vmdrv *d = NULL;
	char err[256];
	int i;

	cfg->target = addr;
	cfg->on_event = record_drv;
	cfg->arg = l;
	for (i = 0; i < 100 && !d; i++) {
		d = vmdrv_open(vmdrv_find("qemu"), cfg, err, sizeof(err));
		if (!d && errno != ECONNREFUSED)
			break;
		if (!d)
			harness_sleep_ms(20);
	}
	if (!d)
		fail_msg("vmdrv open: %s", err);
	return d;
}

static json_t *mig_param(struct qmp *q, const char *name)
{
	json_t *r, *v;

	assert_int_equal(qmp__call(q, "query-migrate-parameters", NULL, TMO, &r,
				   NULL), 0);
	v = json_incref(json_object_get(r, name));
	json_decref(r);
	return v;
}

/* A QEMU that is not replicating: what each driver op says. */
static void test_vmdrv_qemu_not_colo(void **state)
{
	struct fixture *fx = *state;
	struct vmdrv_config cfg = {
		.role = VMDRV_MODE_PRIMARY, .checkpoint_delay_ms = 777,
	};
	struct drv_log l = { 0 };
	struct vmdrv_status st;
	struct vmdrv *d;
	json_t *v;

	NEED_QEMU(fx);
	d = drv_open(fx->qemu.addr2, &cfg, &l);
	/* The configured delay is applied at open. */
	v = mig_param(fx->q, "x-checkpoint-delay");
	assert_int_equal(json_integer_value(v), 777);
	json_decref(v);

	assert_int_equal(vmdrv__check(d, &st), -EOPNOTSUPP);
	assert_non_null(strstr(vmdrv__strerror(d), "x-colo"));
	assert_int_equal(qmp__call(fx->q, "migrate-set-capabilities",
				   json_pack("{s:[{s:s, s:b}]}", "capabilities",
					     "capability", "x-colo", "state", 1),
				   TMO, NULL, NULL), 0);
	assert_int_equal(vmdrv__check(d, &st), -EAGAIN);
	assert_non_null(strstr(vmdrv__strerror(d), "'none'"));

	assert_int_equal(vmdrv__status(d, &st), 0);
	assert_int_equal(st.mode, VMDRV_MODE_NONE);
	assert_int_equal(st.last_mode, VMDRV_MODE_NONE);
	assert_int_equal(st.reason, VMDRV_REASON_NONE);
	assert_int_equal(vmdrv__demand_checkpoint(d), -EAGAIN);
	assert_int_equal(vmdrv__failover(d, "test"), -EREMOTEIO);
	assert_non_null(strstr(vmdrv__strerror(d), "x-colo-lost-heartbeat"));

	/* Outside COLO, stop and cont are plain VM events. */
	assert_int_equal(qmp__call(fx->q, "stop", NULL, TMO, NULL, NULL), 0);
	assert_int_equal(qmp__call(fx->q, "cont", NULL, TMO, NULL, NULL), 0);
	drv_pump(d, &l, 2, TMO);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].type, VMDRV_EV_VM_STOPPED);
	assert_int_equal(l.ev[1].type, VMDRV_EV_VM_RESUMED);
	assert_true(l.ev[0].ts_ns <= l.ev[1].ts_ns);
	vmdrv__close(d);
}

static void test_vmdrv_qemu_killed(void **state)
{
	struct fixture *fx = *state;
	struct vmdrv_config cfg = { 0 };
	struct drv_log l = { 0 };
	struct vmdrv *d;

	NEED_QEMU(fx);
	d = drv_open(fx->qemu.addr2, &cfg, &l);
	kill(fx->qemu.pid, SIGKILL);
	drv_pump(d, &l, 1, TMO);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].type, VMDRV_EV_ERROR);
	assert_int_equal(l.ev[0].err, -ECONNRESET);
	assert_non_null(strstr(l.msg[0], "lost QEMU's monitor"));
	assert_int_equal(vmdrv__fd(d), -1);
	assert_int_equal(vmdrv__process(d), -ENOTCONN);
	assert_int_equal(vmdrv__demand_checkpoint(d), -ENOTCONN);
	vmdrv__close(d);
}

/*
 * A fake COLO primary. Each demanded checkpoint (migrate-set-parameters)
 * is answered, then STOP and RESUME follow, as QEMU does; from checkpoint
 * number stuck_at on, only STOP comes and every later command goes
 * unanswered, like QEMU 7.2's primary after its first checkpoint.
 */
struct fake_colo {
	int stuck_at;		/* 0: never */
	int no_checkpoint;	/* answer demands, start nothing */
	int checkpoints;
};

static void fake_reply(int fd, json_t *id, json_t *ret)
{
	json_t *m = json_pack("{s:o, s:O}", "return", ret, "id", id);
	char *t = json_dumps(m, JSON_COMPACT);

	harness_fake_write(fd, t);
	harness_fake_write(fd, "\r\n");
	free(t);
	json_decref(m);
}

static void fake_event(int fd, const char *name, const char *data)
{
	char buf[256];

	snprintf(buf, sizeof(buf),
		 "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, "
		 "\"event\": \"%s\"%s%s}\r\n", name, data ? ", \"data\": " : "",
		 data ? data : "");
	harness_fake_write(fd, buf);
}

/* Answer one command; 1 when the fake is stuck from now on. */
static int fake_colo_answer(struct fake_colo *c, int fd, const char *cmd,
			    json_t *id)
{
	if (!strcmp(cmd, "query-migrate-parameters")) {
		fake_reply(fd, id, json_pack("{s:i}", "x-checkpoint-delay", 20000));
	} else if (!strcmp(cmd, "query-migrate-capabilities")) {
		fake_reply(fd, id, json_pack("[{s:s, s:b}, {s:s, s:b}]",
					     "capability", "x-colo", "state", 1,
					     "capability", "events", "state", 1));
	} else if (!strcmp(cmd, "query-colo-status")) {
		fake_reply(fd, id, json_pack("{s:s, s:s, s:s}", "mode", "primary",
					     "last-mode", "none", "reason", "none"));
	} else if (!strcmp(cmd, "migrate-set-parameters")) {
		fake_reply(fd, id, json_object());
		if (c->no_checkpoint)
			return 0;
		fake_event(fd, "STOP", NULL);
		fake_event(fd, "MIGRATION_PASS", "{\"pass\": 3}");
		if (++c->checkpoints == c->stuck_at)
			return 1;
		harness_sleep_ms(20);
		fake_event(fd, "RESUME", NULL);
	} else if (!strcmp(cmd, "x-colo-lost-heartbeat")) {
		fake_reply(fd, id, json_object());
		fake_event(fd, "COLO_EXIT",
			   "{\"mode\": \"primary\", \"reason\": \"request\"}");
	} else {
		fake_reply(fd, id, json_object());
	}
	return 0;
}

static void script_colo_primary(struct harness_fake *f, int fd)
{
	struct fake_colo *c = f->ctx;
	char line[1024];
	json_t *m;
	int stuck = 0;

	harness_fake_write(fd, HARNESS_GREETING);
	while (!stuck && harness_fake_readline(fd, line, sizeof(line)) == 0) {
		m = json_loads(line, 0, NULL);
		stuck = fake_colo_answer(c, fd, json_string_value(
			json_object_get(m, "execute")), json_object_get(m, "id"));
		json_decref(m);
	}
	harness_fake_hold(f);
}

static void test_vmdrv_qemu_checkpoints(void **state)
{
	struct fake_colo colo = { .stuck_at = 2 };
	struct vmdrv_config cfg = {
		.role = VMDRV_MODE_PRIMARY, .timeout_ms = 300,
		.checkpoint_timeout_ms = 300,
	};
	struct drv_log l = { 0 };
	struct harness_fake f;
	struct vmdrv_status st;
	struct vmdrv *d;
	int64_t t0;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_colo_primary, &colo), 0);
	d = drv_open(f.addr, &cfg, &l);
	assert_int_equal(vmdrv__check(d, &st), 0);
	assert_int_equal(st.mode, VMDRV_MODE_PRIMARY);

	/* One checkpoint: start and done, numbered. */
	assert_int_equal(vmdrv__demand_checkpoint(d), 0);
	drv_pump(d, &l, 2, TMO);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].type, VMDRV_EV_CHECKPOINT_START);
	assert_int_equal(l.ev[0].checkpoint, 1);
	assert_int_equal(l.ev[1].type, VMDRV_EV_CHECKPOINT_DONE);
	assert_int_equal(l.ev[1].checkpoint, 1);

	/* The second starts and never ends: an error after the timeout. */
	t0 = harness_ms();
	assert_int_equal(vmdrv__demand_checkpoint(d), 0);
	drv_pump(d, &l, 4, TMO);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[2].type, VMDRV_EV_CHECKPOINT_START);
	assert_int_equal(l.ev[2].checkpoint, 2);
	assert_int_equal(l.ev[3].type, VMDRV_EV_ERROR);
	assert_int_equal(l.ev[3].err, -ETIMEDOUT);
	assert_non_null(strstr(l.msg[3], "checkpoint 2"));
	assert_true(harness_ms() - t0 >= 290);

	/* And the stuck monitor no longer answers. */
	t0 = harness_ms();
	assert_int_equal(vmdrv__status(d, &st), -ETIMEDOUT);
	assert_true(harness_ms() - t0 < 1500);
	assert_non_null(strstr(vmdrv__strerror(d), "did not answer"));
	vmdrv__close(d);
	harness_fake_stop(&f);
}

static void test_vmdrv_qemu_failover(void **state)
{
	struct fake_colo colo = { 0 };
	struct vmdrv_config cfg = { 0 };
	struct drv_log l = { 0 };
	struct harness_fake f;
	struct vmdrv_status st;
	struct vmdrv *d;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_colo_primary, &colo), 0);
	d = drv_open(f.addr, &cfg, &l);
	assert_int_equal(vmdrv__check(d, NULL), 0);
	assert_int_equal(vmdrv__failover(d, "test"), 0);
	drv_pump(d, &l, 1, TMO);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].type, VMDRV_EV_COLO_EXIT);
	assert_int_equal(l.ev[0].mode, VMDRV_MODE_PRIMARY);
	assert_int_equal(l.ev[0].reason, VMDRV_REASON_REQUEST);
	/* No longer replicating: nothing to demand. */
	assert_int_equal(vmdrv__demand_checkpoint(d), -EAGAIN);
	assert_int_equal(vmdrv__status(d, &st), 0);
	assert_int_equal(st.checkpoints, 0);
	vmdrv__close(d);
	harness_fake_stop(&f);
}

/* A demanded checkpoint that never starts is reported too. */
static void test_vmdrv_qemu_demand_never_starts(void **state)
{
	struct fake_colo colo = { .no_checkpoint = 1 };
	struct vmdrv_config cfg = { .checkpoint_timeout_ms = 200 };
	struct drv_log l = { 0 };
	struct harness_fake f;
	struct vmdrv *d;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_colo_primary, &colo), 0);
	d = drv_open(f.addr, &cfg, &l);
	assert_int_equal(vmdrv__check(d, NULL), 0);
	assert_int_equal(vmdrv__demand_checkpoint(d), 0);
	drv_pump(d, &l, 1, TMO);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].type, VMDRV_EV_ERROR);
	assert_int_equal(l.ev[0].err, -ETIMEDOUT);
	assert_non_null(strstr(l.msg[0], "has not started"));
	vmdrv__close(d);
	harness_fake_stop(&f);
}

/* ---- QEMU's own COLO, two QEMUs without a guest ---- */

struct colo_pair {
	struct harness_qemu pri, sec;
	struct qmp *pq, *sq;	/* our own monitors */
};

static struct qmp *connect_retry(const char *addr)
{
	struct qmp_config cfg = { .addr = addr };
	struct qmp *q = NULL;
	int i;

	for (i = 0; i < 100 && !q; i++) {
		q = qmp__connect(&cfg, NULL, 0);
		if (!q)
			harness_sleep_ms(20);
	}
	assert_non_null(q);
	return q;
}

static void set_caps(struct qmp *q)
{
	assert_int_equal(qmp__call(q, "migrate-set-capabilities",
				   json_pack("{s:[{s:s, s:b}]}", "capabilities",
					     "capability", "x-colo", "state", 1),
				   TMO, NULL, NULL), 0);
}

/* Secondary waiting on -incoming (port chosen by QEMU), primary ready. */
static void colo_pair_start(struct colo_pair *cp, char *uri, size_t len)
{
	static const char *const sec_args[] = {
		"-machine", "pc,accel=tcg", "-m", "32",
		"-incoming", "tcp:127.0.0.1:0", NULL,
	};
	static const char *const pri_args[] = {
		"-machine", "pc,accel=tcg", "-m", "32", NULL,
	};
	json_t *r;
	const char *port;

	assert_int_equal(harness_qemu_start(&cp->sec, 1, sec_args), 0);
	assert_int_equal(harness_qemu_start(&cp->pri, 1, pri_args), 0);
	cp->sq = connect_retry(cp->sec.addr);
	cp->pq = connect_retry(cp->pri.addr);
	set_caps(cp->sq);
	set_caps(cp->pq);
	assert_int_equal(qmp__call(cp->sq, "query-migrate", NULL, TMO, &r, NULL), 0);
	port = json_string_value(json_object_get(json_array_get(
		json_object_get(r, "socket-address"), 0), "port"));
	assert_non_null(port);
	snprintf(uri, len, "tcp:127.0.0.1:%s", port);
	json_decref(r);
}

static void colo_pair_stop(struct colo_pair *cp)
{
	qmp__close(cp->pq);
	qmp__close(cp->sq);
	harness_qemu_stop(&cp->pri);
	harness_qemu_stop(&cp->sec);
}

static void wait_colo(struct vmdrv *d, struct drv_log *l)
{
	struct vmdrv_status st;
	int64_t until = harness_ms() + 10000;
	int err;

	while ((err = vmdrv__check(d, &st)) == -EAGAIN && harness_ms() < until)
		drv_pump(d, l, l->n + 1, 100);
	if (err)
		fail_msg("check: %s", vmdrv__strerror(d));
}

static int find_ev(const struct drv_log *l, enum vmdrv_event_type t)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->ev[i].type == t)
			return i;
	return -1;
}

/* The poll loop, until an event of type a or b has arrived. */
static void pump_until(struct vmdrv *d, struct drv_log *l,
		       enum vmdrv_event_type a, enum vmdrv_event_type b,
		       int limit_ms)
{
	int64_t until = harness_ms() + limit_ms;

	while (find_ev(l, a) < 0 && find_ev(l, b) < 0 && l->n < 16 &&
	       harness_ms() < until)
		drv_pump(d, l, l->n + 1, until - harness_ms());
}

/*
 * Both sides reach COLO state and a demanded checkpoint starts on both;
 * the secondary completes it. QEMU 7.2's primary then deadlocks (its
 * migration thread waits for the BQL it holds): the driver reports an
 * ERROR after checkpoint_timeout_ms and its queries time out, where a
 * healthy QEMU would report CHECKPOINT_DONE. Either passes; which one
 * happened is printed. The secondary then fails over on request.
 */
static void test_vmdrv_qemu_real_colo(void **state)
{
	struct vmdrv_config pcfg = {
		.role = VMDRV_MODE_PRIMARY, .timeout_ms = 1000,
		.checkpoint_timeout_ms = 2000,
	};
	struct vmdrv_config scfg = { .role = VMDRV_MODE_SECONDARY };
	struct drv_log pl = { 0 }, sl = { 0 };
	struct colo_pair cp;
	struct vmdrv *pd, *sd;
	struct vmdrv_status st;
	char uri[64];
	int i, done;

	(void)state;
	if (!harness_have(HARNESS_QEMU))
		skip();
	colo_pair_start(&cp, uri, sizeof(uri));
	sd = drv_open(cp.sec.addr2, &scfg, &sl);
	pd = drv_open(cp.pri.addr2, &pcfg, &pl);
	assert_int_equal(vmdrv__check(pd, NULL), -EAGAIN);
	assert_int_equal(qmp__call(cp.pq, "migrate", json_pack("{s:s}", "uri", uri),
				   TMO, NULL, NULL), 0);
	wait_colo(pd, &pl);
	wait_colo(sd, &sl);
	assert_true(find_ev(&pl, VMDRV_EV_COLO_ENTER) >= 0);

	pl.n = sl.n = 0;
	assert_int_equal(vmdrv__demand_checkpoint(pd), 0);
	pump_until(pd, &pl, VMDRV_EV_CHECKPOINT_DONE, VMDRV_EV_ERROR, 4000);
	pump_until(sd, &sl, VMDRV_EV_CHECKPOINT_DONE, VMDRV_EV_ERROR, 2000);
	/* Both sides stop for it (the primary may first report the resume
	 * that ended the initial migration). */
	i = find_ev(&pl, VMDRV_EV_CHECKPOINT_START);
	assert_true(i >= 0);
	assert_int_equal(pl.ev[i].checkpoint, 1);
	assert_true(find_ev(&sl, VMDRV_EV_CHECKPOINT_START) >= 0);
	assert_true(find_ev(&sl, VMDRV_EV_CHECKPOINT_DONE) >
		    find_ev(&sl, VMDRV_EV_CHECKPOINT_START));
	done = find_ev(&pl, VMDRV_EV_CHECKPOINT_DONE) > i;
	if (!done) {
		i = find_ev(&pl, VMDRV_EV_ERROR);
		assert_true(i >= 0);
		assert_int_equal(pl.ev[i].err, -ETIMEDOUT);
		assert_non_null(strstr(pl.msg[i], "checkpoint 1 has not completed"));
		assert_int_equal(vmdrv__status(pd, &st), -ETIMEDOUT);
		print_message("primary stuck in checkpoint 1 (QEMU 7.2 deadlock): %s\n",
			      pl.msg[i]);
	} else {
		print_message("primary completed checkpoint 1\n");
	}

	/* The secondary takes over. */
	sl.n = 0;
	assert_int_equal(vmdrv__failover(sd, "test: primary stuck"), 0);
	pump_until(sd, &sl, VMDRV_EV_COLO_EXIT, VMDRV_EV_ERROR, 2000);
	i = find_ev(&sl, VMDRV_EV_COLO_EXIT);
	assert_true(i >= 0);
	assert_int_equal(sl.ev[i].mode, VMDRV_MODE_SECONDARY);
	assert_int_equal(sl.ev[i].reason, VMDRV_REASON_REQUEST);
	assert_int_equal(find_ev(&sl, VMDRV_EV_CHECKPOINT_START), -1);
	assert_int_equal(vmdrv__status(sd, &st), 0);
	assert_int_equal(st.mode, VMDRV_MODE_NONE);
	assert_int_equal(st.last_mode, VMDRV_MODE_SECONDARY);
	assert_int_equal(st.reason, VMDRV_REASON_REQUEST);
	vmdrv__close(pd);
	vmdrv__close(sd);
	colo_pair_stop(&cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define QT(t) cmocka_unit_test_setup_teardown(t, setup_qemu, teardown_qemu)
		QT(test_qmp_negotiation),
		QT(test_qmp_query),
		QT(test_qmp_error_unknown_command),
		QT(test_qmp_error_bad_arguments),
		QT(test_qmp_events_between_replies),
		QT(test_qmp_checkpoint_delay),
		QT(test_qmp_colo_status_not_colo),
		QT(test_qmp_lost_heartbeat_not_colo),
		QT(test_qmp_qemu_killed_mid_command),
		cmocka_unit_test_teardown(test_qmp_tcp, teardown_stop_all),
		cmocka_unit_test(test_qmp_connect_no_socket),
		cmocka_unit_test(test_qmp_silent_handshake),
		cmocka_unit_test(test_qmp_silent_command),
		cmocka_unit_test(test_qmp_split_and_batched),
		cmocka_unit_test(test_qmp_bad_json),
		QT(test_vmdrv_qemu_not_colo),
		QT(test_vmdrv_qemu_killed),
		cmocka_unit_test(test_vmdrv_qemu_checkpoints),
		cmocka_unit_test(test_vmdrv_qemu_failover),
		cmocka_unit_test(test_vmdrv_qemu_demand_never_starts),
		cmocka_unit_test_teardown(test_vmdrv_qemu_real_colo,
					  teardown_stop_all),
	};

	if (getenv("COLO_QMP_DEBUG"))
		colo_log_set_level(COLO_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
