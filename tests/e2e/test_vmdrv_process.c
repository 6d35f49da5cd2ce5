// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process VM driver against real colo-service processes (built by the
 * project: $BUILD/tools/colo-service, --control in a private temp dir,
 * TCP and UDP on 127.0.0.1 ports the kernel picks), and against fake
 * control sockets for what a real service cannot be made to do (stay
 * silent, talk nonsense). No root, no network beyond loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qemu_harness.h"
#include "svcctl.h"
#include "vmdrv.h"

#define SVC_MAX		4
#define QUIET_MS	300	/* "no answer" means none within this */

struct svc {
	pid_t pid;
	char dir[64];
	char ctl[96];		/* control socket */
	char target[104];	/* "unix:" + ctl */
	int tcp_port, udp_port;
	int tcp;		/* a client connection, or -1 */
};

struct fixture {
	struct svc svc[SVC_MAX];
	struct vmdrv *drv[SVC_MAX];
	int nevents;
	struct vmdrv_event ev[16];
	char evmsg[16][256];
};

/* Every service started, for teardowns after a failed assertion. */
static pid_t started[16];

static const char *svc_binary(void)
{
	static char path[256];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/tools/colo-service",
		 build && *build ? build : "build");
	return path;
}

/* ---- talking to a service directly ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One line from FD within MS, without the newline: 0, or -ETIMEDOUT,
 * -ECONNRESET. Reads byte by byte: nothing after the line is taken. */
static int read_line(int fd, char *buf, size_t len, int ms)
{
	int64_t until = harness_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	char c;

	for (;;) {
		int left = (int)(until - harness_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		if (read(fd, &c, 1) != 1)
			return -ECONNRESET;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = 0;
	return 0;
}

/* A control request on a connection of its own; the reply line. */
static void ctl_request(const struct svc *s, const char *req, char *reply,
			size_t len)
{
	int fd = unix_connect(s->ctl);

	assert_true(fd >= 0);
	harness_fake_write(fd, req);
	harness_fake_write(fd, "\n");
	assert_int_equal(read_line(fd, reply, len, 2000), 0);
	close(fd);
}

/* A number from the service's status line, after "NAME ". */
static unsigned long long status_field(const struct svc *s, const char *name)
{
	char reply[512], key[40];
	const char *p;

	ctl_request(s, "status", reply, sizeof(reply));
	snprintf(key, sizeof(key), " %s ", name);
	p = strstr(reply, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, strcmp(name, "hash") ? 10 : 16);
}

/* One TCP request line on the service's client connection. */
static int tcp_request(struct svc *s, const char *req, char *reply,
		       size_t len, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(s->tcp_port) };

	if (s->tcp < 0) {
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(s->tcp >= 0);
		assert_int_equal(connect(s->tcp, (struct sockaddr *)&sa,
					 sizeof(sa)), 0);
	}
	harness_fake_write(s->tcp, req);
	harness_fake_write(s->tcp, "\n");
	return read_line(s->tcp, reply, len, ms);
}

/* The reply must come, within 2 s. */
static void tcp_ask(struct svc *s, const char *req, char *reply, size_t len)
{
	int err = tcp_request(s, req, reply, len, 2000);

	if (err)
		fail_msg("no reply to '%s': %s", req, strerror(-err));
}

/* ---- starting and stopping services ---- */

static void svc_start(struct svc *s)
{
	int64_t until = harness_ms() + 5000;
	char log[128];
	int fd, i;

	memset(s, 0, sizeof(*s));
	s->tcp = -1;
	strcpy(s->dir, "/tmp/colo-svc-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->ctl, sizeof(s->ctl), "%s/ctl", s->dir);
	snprintf(s->target, sizeof(s->target), "unix:%s", s->ctl);
	snprintf(log, sizeof(log), "%s/log", s->dir);
	if (access(svc_binary(), X_OK))
		fail_msg("%s is missing: run make", svc_binary());
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (!s->pid) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(svc_binary(), "colo-service", "--tcp", "0", "--udp", "0",
		      "--bind", "127.0.0.1", "--control", s->ctl, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 16 && started[i]; i++)
		;
	assert_true(i < 16);
	started[i] = s->pid;
	while ((fd = unix_connect(s->ctl)) < 0) {
		if (harness_ms() > until ||
		    waitpid(s->pid, NULL, WNOHANG) == s->pid)
			fail_msg("colo-service did not start; see %s", log);
		harness_sleep_ms(10);
	}
	close(fd);
	s->tcp_port = (int)status_field(s, "tcp_port");
	s->udp_port = (int)status_field(s, "udp_port");
	assert_true(s->tcp_port > 0 && s->udp_port > 0);
}

static void forget(pid_t pid)
{
	int i;

	for (i = 0; i < 16; i++)
		if (started[i] == pid)
			started[i] = 0;
}

/* Kills the service (by its PID) and removes its directory. */
static void svc_stop(struct svc *s)
{
	char path[128];

	if (s->tcp >= 0)
		close(s->tcp);
	s->tcp = -1;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		forget(s->pid);
		s->pid = 0;
	}
	if (!s->dir[0])
		return;
	snprintf(path, sizeof(path), "%s/log", s->dir);
	unlink(path);
	unlink(s->ctl);
	rmdir(s->dir);
	s->dir[0] = 0;
}

static void record_event(void *arg, const struct vmdrv_event *ev)
{
	struct fixture *fx = arg;

	if (fx->nevents >= 16)
		return;
	fx->ev[fx->nevents] = *ev;
	snprintf(fx->evmsg[fx->nevents], 256, "%s", ev->msg ? ev->msg : "");
	fx->nevents++;
}

static int count_events(const struct fixture *fx, enum vmdrv_event_type t)
{
	int i, n = 0;

	for (i = 0; i < fx->nevents; i++)
		n += fx->ev[i].type == t;
	return n;
}

/* Service I, and the driver on it in ROLE with TIMEOUT_MS. */
static struct vmdrv *open_drv(struct fixture *fx, int i, enum vmdrv_mode role,
			      int timeout_ms)
{
	struct vmdrv_config cfg = {
		.target = fx->svc[i].target, .role = role,
		.timeout_ms = timeout_ms, .on_event = record_event, .arg = fx,
	};
	char err[256] = "";

	if (!fx->svc[i].pid)
		svc_start(&fx->svc[i]);
	fx->drv[i] = vmdrv_open(vmdrv_find("process"), &cfg, err, sizeof(err));
	if (!fx->drv[i])
		fail_msg("open %s: %s", cfg.target, err);
	return fx->drv[i];
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int i;

	for (i = 0; i < SVC_MAX; i++)
		fx->svc[i].tcp = -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < SVC_MAX; i++) {
		vmdrv__close(fx->drv[i]);
		svc_stop(&fx->svc[i]);
	}
	for (i = 0; i < 16; i++) {
		if (!started[i])
			continue;
		kill(started[i], SIGKILL);
		waitpid(started[i], NULL, 0);
		started[i] = 0;
	}
	free(fx);
	return 0;
}

/* ---- the tests ---- */

static void test_vmdrv_process_registered(void **state)
{
	const struct vmdrv_ops *ops = vmdrv_find("process");
	struct fixture *fx = *state;
	struct vmdrv *d;

	assert_non_null(ops);
	assert_string_equal(ops->name, "process");
	assert_int_equal(ops->self_checkpointing, 0);
	assert_non_null(ops->stop);
	assert_non_null(ops->resume);
	assert_non_null(ops->save);
	assert_non_null(ops->load);
	assert_non_null(ops->inject);
	d = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 0);
	/* The proxies run the protocol; the driver only carries it out. */
	assert_int_equal(vmdrv__demand_checkpoint(d), -EOPNOTSUPP);
	assert_non_null(strstr(vmdrv__strerror(d), "proxies run the protocol"));
	assert_int_equal(vmdrv__timeout_ms(d), -1);
	assert_true(vmdrv__fd(d) >= 0);
	assert_int_equal(vmdrv__poll_events(d), POLLIN);
	assert_int_equal(vmdrv__process(d), 0);
	assert_int_equal(fx->nevents, 0);
}

static void test_vmdrv_process_check_status(void **state)
{
	struct fixture *fx = *state;
	struct vmdrv_status st;
	struct vmdrv *d;

	d = open_drv(fx, 0, VMDRV_MODE_SECONDARY, 0);
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(vmdrv__check(d, &st), 0);
	assert_int_equal(st.mode, VMDRV_MODE_SECONDARY);
	assert_int_equal(st.reason, VMDRV_REASON_NONE);
	assert_int_equal(st.in_checkpoint, 0);
	assert_int_equal(st.checkpoints, 0);
	assert_int_equal(vmdrv__check(d, NULL), 0);
	assert_int_equal(vmdrv__stop(d), 0);
	assert_int_equal(vmdrv__status(d, &st), 0);
	assert_int_equal(st.in_checkpoint, 1);	/* paused */
	assert_int_equal(vmdrv__resume(d), 0);
	assert_int_equal(vmdrv__status(d, &st), 0);
	assert_int_equal(st.in_checkpoint, 0);
}

static void test_vmdrv_process_open_errors(void **state)
{
	struct vmdrv_config cfg = { .timeout_ms = 500 };
	const struct vmdrv_ops *ops = vmdrv_find("process");
	char err[256];
	int64_t t0;
	int fd;

	(void)state;
	cfg.target = NULL;
	assert_null(vmdrv_open(ops, &cfg, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "control socket"));

	cfg.target = "unix:/nonexistent/colo-test/ctl";
	t0 = harness_ms();
	assert_null(vmdrv_open(ops, &cfg, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/colo-test/ctl"));
	assert_non_null(strstr(err, "--control"));
	assert_true(harness_ms() - t0 < 100);

	/* A plain file where the socket should be. */
	cfg.target = "/tmp/colo-vmdrv-notasocket";
	fd = open(cfg.target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(vmdrv_open(ops, &cfg, err, sizeof(err)));
	assert_int_equal(errno, ECONNREFUSED);
	assert_non_null(strstr(err, "nothing listens"));
	unlink(cfg.target);
}

/* A killed service leaves its socket file; nothing listens there. */
static void test_vmdrv_process_open_dead_service(void **state)
{
	struct fixture *fx = *state;
	struct vmdrv_config cfg = { .timeout_ms = 500 };
	char err[256];

	svc_start(&fx->svc[0]);
	kill(fx->svc[0].pid, SIGKILL);
	waitpid(fx->svc[0].pid, NULL, 0);
	forget(fx->svc[0].pid);
	fx->svc[0].pid = 0;
	cfg.target = fx->svc[0].ctl;
	assert_null(vmdrv_open(vmdrv_find("process"), &cfg, err, sizeof(err)));
	assert_int_equal(errno, ECONNREFUSED);
	assert_non_null(strstr(err, "has exited"));
}

static void test_vmdrv_process_pause_resume(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct svc *s = &fx->svc[0];
	struct pollfd p;
	char reply[256];
	struct vmdrv *d;
	int u;

	d = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 0);
	tcp_ask(s, "set k v1", reply, sizeof(reply));
	assert_string_equal(reply, "set k v1");

	assert_int_equal(vmdrv__stop(d), 0);
	/* TCP: a request on an open connection waits. */
	assert_int_equal(tcp_request(s, "get k", reply, sizeof(reply), QUIET_MS),
			 -ETIMEDOUT);
	/* UDP too. */
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons(s->udp_port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(u, "get k", 5, 0), 5);
	p = (struct pollfd){ .fd = u, .events = POLLIN };
	assert_int_equal(poll(&p, 1, QUIET_MS), 0);
	/* Stopping twice is harmless. */
	assert_int_equal(vmdrv__stop(d), 0);
	assert_int_equal(status_field(s, "tcp_requests"), 1);

	assert_int_equal(vmdrv__resume(d), 0);
	/* The waiting requests are answered now, in order. */
	assert_int_equal(read_line(s->tcp, reply, sizeof(reply), 2000), 0);
	assert_string_equal(reply, "get k v1");
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(u, reply, sizeof(reply) - 1, 0), 9);
	assert_memory_equal(reply, "get k v1\n", 9);
	close(u);
}

/* A checkpoint by hand: stop both, save the primary, load the secondary. */
static void checkpoint(struct vmdrv *pri, struct vmdrv *sec)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(vmdrv__stop(sec), 0);
	assert_int_equal(vmdrv__stop(pri), 0);
	assert_int_equal(vmdrv__save(pri, &buf, &len), 0);
	assert_true(len > 0);
	assert_int_equal(vmdrv__load(sec, buf, len), 0);
	free(buf);
	assert_int_equal(vmdrv__resume(pri), 0);
	assert_int_equal(vmdrv__resume(sec), 0);
}

static void test_vmdrv_process_save_load(void **state)
{
	struct fixture *fx = *state;
	struct svc *a = &fx->svc[0], *b = &fx->svc[1];
	struct vmdrv *pri, *sec;
	char ra[256], rb[256];
	uint8_t *sa, *sb;
	size_t la, lb;
	struct vmdrv_status st;

	pri = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 0);
	sec = open_drv(fx, 1, VMDRV_MODE_SECONDARY, 0);
	tcp_ask(a, "set k1 v1", ra, sizeof(ra));
	tcp_ask(a, "set k2 two words", ra, sizeof(ra));
	tcp_ask(a, "tcp r1 hello", ra, sizeof(ra));
	tcp_ask(b, "get k1", rb, sizeof(rb));
	assert_string_equal(rb, "none k1");
	assert_true(status_field(a, "hash") != status_field(b, "hash"));

	checkpoint(pri, sec);
	/* The state moved: B answers like A, request for request. */
	assert_int_equal(status_field(a, "hash"), status_field(b, "hash"));
	tcp_ask(a, "get k1", ra, sizeof(ra));
	tcp_ask(b, "get k1", rb, sizeof(rb));
	assert_string_equal(ra, "get k1 v1");
	assert_string_equal(rb, ra);
	tcp_ask(a, "get k2", ra, sizeof(ra));
	tcp_ask(b, "get k2", rb, sizeof(rb));
	assert_string_equal(ra, "get k2 two words");
	assert_string_equal(rb, ra);
	tcp_ask(a, "count", ra, sizeof(ra));
	tcp_ask(b, "count", rb, sizeof(rb));
	assert_string_equal(ra, "count 6");
	assert_string_equal(rb, ra);
	/* Same state, same bytes. */
	assert_int_equal(vmdrv__save(pri, &sa, &la), 0);
	assert_int_equal(vmdrv__save(sec, &sb, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	free(sa);
	free(sb);
	assert_int_equal(vmdrv__status(sec, &st), 0);
	assert_int_equal(st.checkpoints, 2);	/* one load, one save */
}

static void test_vmdrv_process_load_refused(void **state)
{
	static const uint8_t junk[] = "not a state\n";
	struct fixture *fx = *state;
	uint8_t *before, *after;
	size_t lb, la;
	char reply[256];
	struct vmdrv *d;

	d = open_drv(fx, 0, VMDRV_MODE_SECONDARY, 0);
	tcp_ask(&fx->svc[0], "set k v", reply, sizeof(reply));
	assert_int_equal(vmdrv__save(d, &before, &lb), 0);
	assert_int_equal(vmdrv__load(d, junk, sizeof(junk) - 1), -EREMOTEIO);
	assert_non_null(strstr(vmdrv__strerror(d), "refused 'load 12'"));
	assert_non_null(strstr(vmdrv__strerror(d), "unchanged"));
	assert_int_equal(vmdrv__load(d, junk, 0), -EINVAL);
	/* Nothing changed, and the connection still serves. */
	assert_int_equal(vmdrv__save(d, &after, &la), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, la);
	free(before);
	free(after);
	assert_int_equal(vmdrv__check(d, NULL), 0);
	assert_int_equal(fx->nevents, 0);
}

static void test_vmdrv_process_inject_diverge(void **state)
{
	struct fixture *fx = *state;
	struct svc *a = &fx->svc[0], *b = &fx->svc[1];
	struct vmdrv *pri, *sec;
	char ra[256], rb[256];

	pri = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 0);
	sec = open_drv(fx, 1, VMDRV_MODE_SECONDARY, 0);
	tcp_ask(a, "tcp r1 same", ra, sizeof(ra));
	tcp_ask(b, "tcp r1 same", rb, sizeof(rb));
	assert_string_equal(ra, rb);

	assert_int_equal(vmdrv__inject(sec, "diverge on"), 0);
	tcp_ask(a, "tcp r2 same", ra, sizeof(ra));
	tcp_ask(b, "tcp r2 same", rb, sizeof(rb));
	assert_int_equal(strlen(ra), strlen(rb));	/* same length */
	assert_string_not_equal(ra, rb);
	/* The state diverges too, not only the replies. */
	tcp_ask(a, "set k value", ra, sizeof(ra));
	tcp_ask(b, "set k value", rb, sizeof(rb));
	assert_int_equal(vmdrv__inject(sec, "diverge off"), 0);
	tcp_ask(a, "get k", ra, sizeof(ra));
	tcp_ask(b, "get k", rb, sizeof(rb));
	assert_string_equal(ra, "get k value");
	assert_string_not_equal(rb, ra);
	tcp_ask(a, "tcp r3 same", ra, sizeof(ra));
	tcp_ask(b, "tcp r3 same", rb, sizeof(rb));
	assert_string_equal(ra, rb);		/* replies agree again */

	/* A checkpoint mends the state. */
	checkpoint(pri, sec);
	tcp_ask(a, "get k", ra, sizeof(ra));
	tcp_ask(b, "get k", rb, sizeof(rb));
	assert_string_equal(rb, ra);

	/* "diverge N": the next N replies only. */
	assert_int_equal(vmdrv__inject(sec, "diverge 1"), 0);
	tcp_ask(a, "tcp r4 same", ra, sizeof(ra));
	tcp_ask(b, "tcp r4 same", rb, sizeof(rb));
	assert_string_not_equal(ra, rb);
	tcp_ask(a, "tcp r5 same", ra, sizeof(ra));
	tcp_ask(b, "tcp r5 same", rb, sizeof(rb));
	assert_string_equal(ra, rb);
	assert_int_equal(status_field(b, "diverged"), 3);

	assert_int_equal(vmdrv__inject(sec, "crash"), -EINVAL);
	assert_non_null(strstr(vmdrv__strerror(sec), "'diverge on'"));
	assert_int_equal(vmdrv__inject(sec, NULL), -EINVAL);
	assert_int_equal(vmdrv__inject(sec, "diverge sometimes"), -EREMOTEIO);
	assert_non_null(strstr(vmdrv__strerror(sec), "refused 'diverge sometimes'"));
	assert_int_equal(vmdrv__check(sec, NULL), 0);
}

/* Killed by its PID: the next exchange fails at once, no hang. */
static void test_vmdrv_process_dead_service(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	struct vmdrv_status st;
	struct vmdrv *d;
	uint8_t *buf;
	size_t len;
	int64_t t0;

	d = open_drv(fx, 0, VMDRV_MODE_SECONDARY, 3000);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	forget(s->pid);
	s->pid = 0;
	t0 = harness_ms();
	assert_int_equal(vmdrv__stop(d), -ECONNRESET);
	assert_true(harness_ms() - t0 < 500);
	assert_non_null(strstr(vmdrv__strerror(d), s->ctl));
	assert_non_null(strstr(vmdrv__strerror(d), "has exited"));
	/* Reported once, then every call says -ENOTCONN at once. */
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 1);
	assert_non_null(strstr(fx->evmsg[0], "has exited"));
	assert_int_equal(vmdrv__resume(d), -ENOTCONN);
	assert_int_equal(vmdrv__save(d, &buf, &len), -ENOTCONN);
	assert_int_equal(vmdrv__load(d, (const uint8_t *)"x", 1), -ENOTCONN);
	assert_int_equal(vmdrv__check(d, &st), -ENOTCONN);
	assert_int_equal(vmdrv__status(d, &st), -ENOTCONN);
	assert_int_equal(vmdrv__failover(d, "test"), -ENOTCONN);
	assert_int_equal(vmdrv__process(d), -ENOTCONN);
	assert_int_equal(vmdrv__fd(d), -1);
	assert_true(harness_ms() - t0 < 500);
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 1);
}

/* Between exchanges: the connection turns readable, process() says so. */
static void test_vmdrv_process_dead_service_polled(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	struct pollfd p;
	struct vmdrv *d;

	d = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 3000);
	p = (struct pollfd){ .fd = vmdrv__fd(d), .events = vmdrv__poll_events(d) };
	assert_int_equal(poll(&p, 1, 50), 0);	/* quiet while alive */
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	forget(s->pid);
	s->pid = 0;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(vmdrv__process(d), -ENOTCONN);
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 1);
	assert_int_equal(fx->ev[0].err, -ENOTCONN);
	assert_non_null(strstr(fx->evmsg[0], "has exited"));
	assert_int_equal(vmdrv__fd(d), -1);
	assert_int_equal(vmdrv__process(d), -ENOTCONN);
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 1);
}

/* A stopped (SIGSTOP) service: each exchange gives up after timeout_ms;
 * once it runs again the driver reconnects. */
static void test_vmdrv_process_timeout(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	char reply[256];
	struct vmdrv *d;
	uint8_t *buf;
	size_t len;
	int64_t t0, dt;

	d = open_drv(fx, 0, VMDRV_MODE_PRIMARY, 300);
	kill(s->pid, SIGSTOP);
	t0 = harness_ms();
	assert_int_equal(vmdrv__stop(d), -ETIMEDOUT);
	dt = harness_ms() - t0;
	assert_true(dt >= 290 && dt < 1000);
	assert_non_null(strstr(vmdrv__strerror(d), "did not answer 'pause' within 300 ms"));
	assert_int_equal(vmdrv__fd(d), -1);
	/* Reconnecting works (the kernel accepts), the answer never comes. */
	t0 = harness_ms();
	assert_int_equal(vmdrv__save(d, &buf, &len), -ETIMEDOUT);
	assert_true(harness_ms() - t0 < 1000);
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 0);

	kill(s->pid, SIGCONT);
	/* The late requests may still be served; then all is as asked. */
	assert_int_equal(vmdrv__check(d, NULL), 0);
	assert_int_equal(vmdrv__resume(d), 0);
	tcp_ask(s, "count", reply, sizeof(reply));
	assert_string_equal(reply, "count 1");
	assert_int_equal(count_events(fx, VMDRV_EV_ERROR), 0);
}

static void test_vmdrv_process_failover(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	struct vmdrv_status st;
	char reply[256];
	struct vmdrv *d;

	d = open_drv(fx, 0, VMDRV_MODE_SECONDARY, 0);
	tcp_ask(s, "set k v", reply, sizeof(reply));
	assert_int_equal(vmdrv__stop(d), 0);
	assert_int_equal(tcp_request(s, "get k", reply, sizeof(reply), QUIET_MS),
			 -ETIMEDOUT);
	assert_int_equal(vmdrv__failover(d, "test: primary lost"), 0);
	/* It runs alone: the waiting request is answered. */
	assert_int_equal(read_line(s->tcp, reply, sizeof(reply), 2000), 0);
	assert_string_equal(reply, "get k v");
	assert_int_equal(count_events(fx, VMDRV_EV_COLO_EXIT), 1);
	assert_int_equal(fx->ev[0].mode, VMDRV_MODE_SECONDARY);
	assert_int_equal(fx->ev[0].reason, VMDRV_REASON_REQUEST);
	assert_int_equal(vmdrv__status(d, &st), 0);
	assert_int_equal(st.mode, VMDRV_MODE_NONE);
	assert_int_equal(st.last_mode, VMDRV_MODE_SECONDARY);
	assert_int_equal(st.reason, VMDRV_REASON_REQUEST);
	assert_int_equal(st.in_checkpoint, 0);
	assert_int_equal(vmdrv__check(d, NULL), -EAGAIN);
	assert_non_null(strstr(vmdrv__strerror(d), "runs alone"));
	/* Again: harmless, no second event. */
	assert_int_equal(vmdrv__failover(d, "again"), 0);
	assert_int_equal(count_events(fx, VMDRV_EV_COLO_EXIT), 1);
}

/* ---- fake control sockets ---- */

static void script_nonsense(struct harness_fake *f, int fd)
{
	char line[256];

	while (!harness_fake_readline(fd, line, sizeof(line)))
		harness_fake_write(fd, "hello there\n");
}

static void script_silent(struct harness_fake *f, int fd)
{
	harness_fake_hold(f);
}

static void test_vmdrv_process_not_a_service(void **state)
{
	struct vmdrv_config cfg = { .timeout_ms = 200 };
	const struct vmdrv_ops *ops = vmdrv_find("process");
	struct harness_fake f;
	char err[256];
	int64_t t0;

	(void)state;
	assert_int_equal(harness_fake_start(&f, script_nonsense, NULL), 0);
	cfg.target = f.addr;
	assert_null(vmdrv_open(ops, &cfg, err, sizeof(err)));
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(err, "'hello there'"));
	assert_non_null(strstr(err, "control socket"));
	harness_fake_stop(&f);

	assert_int_equal(harness_fake_start(&f, script_silent, NULL), 0);
	cfg.target = f.addr;
	t0 = harness_ms();
	assert_null(vmdrv_open(ops, &cfg, err, sizeof(err)));
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(harness_ms() - t0 < 1000);
	assert_non_null(strstr(err, "within 200 ms"));
	harness_fake_stop(&f);
}

/* ---- the control protocol itself ---- */

static void test_vmdrv_process_control_protocol(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	char reply[512], state_buf[128];
	int fd[SVCCTL_CLIENTS + 1], i, n;
	ssize_t got, k;

	svc_start(s);
	ctl_request(s, "jump", reply, sizeof(reply));
	assert_non_null(strstr(reply, "error unknown request 'jump'"));
	ctl_request(s, "load 0", reply, sizeof(reply));
	assert_true(!strncmp(reply, "error load:", 11));
	ctl_request(s, "diverge 2", reply, sizeof(reply));
	assert_string_equal(reply, "ok diverge 2");
	ctl_request(s, "status", reply, sizeof(reply));
	assert_non_null(strstr(reply, "status paused 0 diverge 2 hash "));

	/* dump: "state N", then exactly N bytes. */
	fd[0] = unix_connect(s->ctl);
	harness_fake_write(fd[0], "dump\n");
	assert_int_equal(read_line(fd[0], reply, sizeof(reply), 2000), 0);
	assert_int_equal(sscanf(reply, "state %d", &n), 1);
	assert_true(n > 0 && n < (int)sizeof(state_buf));
	for (got = 0; got < n; got += k) {
		struct pollfd p = { .fd = fd[0], .events = POLLIN };

		assert_int_equal(poll(&p, 1, 2000), 1);
		k = recv(fd[0], state_buf + got, n - got, 0);
		assert_true(k > 0);
	}
	state_buf[n] = 0;
	assert_string_equal(state_buf, "colo-service-state 1 requests 0 keys 0\n");
	/* A load replaces it, and the next dump gives it back. */
	harness_fake_write(fd[0], "load 46\ncolo-service-state 1 requests 7 keys 1\nzz top\n");
	assert_int_equal(read_line(fd[0], reply, sizeof(reply), 2000), 0);
	assert_string_equal(reply, "ok loaded 46");
	tcp_ask(s, "get zz", reply, sizeof(reply));
	assert_string_not_equal(reply, "get zz top");	/* diverge 2 */
	tcp_ask(s, "count", reply, sizeof(reply));
	assert_string_not_equal(reply, "count 9");
	tcp_ask(s, "count", reply, sizeof(reply));
	assert_string_equal(reply, "count 10");

	/* Only so many control connections at once. */
	for (i = 1; i <= SVCCTL_CLIENTS; i++)
		fd[i] = unix_connect(s->ctl);
	assert_int_equal(read_line(fd[SVCCTL_CLIENTS], reply,
				   sizeof(reply), 2000), 0);
	assert_true(!strncmp(reply, "error busy", 10));
	for (i = 0; i <= SVCCTL_CLIENTS; i++)
		close(fd[i]);
}

/* A second service on the same control path refuses to start. */
static void test_vmdrv_process_control_path_taken(void **state)
{
	struct fixture *fx = *state;
	struct svc *s = &fx->svc[0];
	char cmd[512];
	int rc;

	svc_start(s);
	snprintf(cmd, sizeof(cmd), "%s --tcp 0 --bind 127.0.0.1 --control %s 2>%s/log2",
		 svc_binary(), s->ctl, s->dir);
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
	snprintf(cmd, sizeof(cmd), "grep -q 'another process listens on' %s/log2", s->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/log2", s->dir);
	unlink(cmd);
	/* The first one still serves. */
	ctl_request(s, "status", cmd, sizeof(cmd));
	assert_true(!strncmp(cmd, "status ", 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_vmdrv_process_registered),
		T(test_vmdrv_process_check_status),
		T(test_vmdrv_process_open_errors),
		T(test_vmdrv_process_open_dead_service),
		T(test_vmdrv_process_pause_resume),
		T(test_vmdrv_process_save_load),
		T(test_vmdrv_process_load_refused),
		T(test_vmdrv_process_inject_diverge),
		T(test_vmdrv_process_dead_service),
		T(test_vmdrv_process_dead_service_polled),
		T(test_vmdrv_process_timeout),
		T(test_vmdrv_process_failover),
		T(test_vmdrv_process_not_a_service),
		T(test_vmdrv_process_control_protocol),
		T(test_vmdrv_process_control_path_taken),
#undef T
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
