// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process VM driver: a stand-in VM run as a local process, colo-service
 * with --control PATH (tools/svcctl.h, docs/vm-drivers.md).
 *
 * The proxies run the checkpoint protocol themselves (self_checkpointing 0):
 * stop, save, load and resume are requests on the service's control socket,
 * one line each, answered by one line. Only the service's state moves; its
 * TCP connections stay in each process, so the rewrite offsets stay too.
 *
 * Every exchange is synchronous and bounded by cfg.timeout_ms. A timed-out
 * exchange drops the connection (its late answer could not be told from
 * the next one's) and the next request connects again; the request may
 * still take effect once the service gets to it. A service that closed the
 * connection, or whose socket nobody listens on, is lost for good: one
 * ERROR event, then -ENOTCONN.
 *
 * vmdrv__fd() is the control connection while there is one (-1 otherwise,
 * so ask before each poll): it turns readable only when the service exits,
 * and vmdrv__process() then reports the loss at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vmdrv.h"

#define PROC_TIMEOUT_MS		3000
#define PROC_LINE_MAX		512
#define PROC_STATE_MAX		(256u << 20)	/* sanity bound on "state N" */

struct vmdrv_process {
	struct vmdrv d;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;			/* control connection; -1: none now */
	int opened;		/* events only after open() succeeded */
	int lost;		/* the service is gone, reported */
	int failed_over;
	uint64_t saves, loads;
	int64_t deadline;	/* ms, of the exchange under way */
	char rbuf[PROC_LINE_MAX];
	size_t rlen;		/* bytes received, not yet consumed */
};

static struct vmdrv_process *to_proc(struct vmdrv *d)
{
	return (struct vmdrv_process *)d;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(struct vmdrv_process *pd, struct vmdrv_event *ev)
{
	struct timespec ts;

	if (!pd->opened || !pd->d.cfg.on_event)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev->ts_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	pd->d.cfg.on_event(pd->d.cfg.arg, ev);
}

static int say(struct vmdrv_process *pd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int say(struct vmdrv_process *pd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pd->d.errmsg, sizeof(pd->d.errmsg), fmt, ap);
	va_end(ap);
	return err;
}

static void drop(struct vmdrv_process *pd)
{
	if (pd->fd >= 0)
		close(pd->fd);
	pd->fd = -1;
	pd->rlen = 0;
}

/* The service is gone: errmsg says how; one ERROR event. */
static int lost(struct vmdrv_process *pd, int err)
{
	struct vmdrv_event ev = { .type = VMDRV_EV_ERROR, .err = err };

	drop(pd);
	if (pd->lost)
		return err;
	pd->lost = 1;
	pr_debug("process driver: %s", pd->d.errmsg);
	ev.msg = pd->d.errmsg;
	emit(pd, &ev);
	return err;
}

static int ctl_connect(struct vmdrv_process *pd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return say(pd, -errno, "cannot make a unix socket: %s",
			   strerror(errno));
	strcpy(sa.sun_path, pd->path);
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		pd->fd = fd;
		pd->rlen = 0;
		return 0;
	}
	err = -errno;
	close(fd);
	if (err == -EAGAIN)	/* listening, its backlog full */
		return say(pd, -EBUSY,
			   "colo-service at %s accepts no connection (backlog full): is it stuck?",
			   pd->path);
	if (err == -ENOENT)
		say(pd, err, "no control socket at %s: start colo-service with --control %s",
		    pd->path, pd->path);
	else if (err == -ECONNREFUSED)
		say(pd, err, "nothing listens on %s: the colo-service that made it has exited",
		    pd->path);
	else
		say(pd, err, "cannot connect to %s: %s", pd->path,
		    strerror(-err));
	return lost(pd, err);
}

/* Waits for EV on the connection until pd->deadline. */
static int wait_fd(struct vmdrv_process *pd, short ev)
{
	struct pollfd p = { .fd = pd->fd, .events = ev };
	int64_t left;
	int n;

	for (;;) {
		left = pd->deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(struct vmdrv_process *pd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;
	int err;

	while (len) {
		n = send(pd->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(pd, POLLOUT);
		if (err)
			return err;
	}
	return 0;
}

/* Up to LEN bytes into BUF: >0, or -errno (-ECONNRESET at the end). */
static ssize_t recv_some(struct vmdrv_process *pd, void *buf, size_t len)
{
	ssize_t n;
	int err;

	for (;;) {
		n = recv(pd->fd, buf, len, MSG_DONTWAIT);
		if (n > 0)
			return n;
		if (!n)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(pd, POLLIN);
		if (err)
			return err;
	}
}

static int read_line(struct vmdrv_process *pd, char *line, size_t cap)
{
	char *nl;
	size_t len;
	ssize_t n;

	while (!(nl = memchr(pd->rbuf, '\n', pd->rlen))) {
		if (pd->rlen == sizeof(pd->rbuf))
			return -EPROTO;
		n = recv_some(pd, pd->rbuf + pd->rlen, sizeof(pd->rbuf) - pd->rlen);
		if (n < 0)
			return n;
		pd->rlen += n;
	}
	len = nl - pd->rbuf;
	snprintf(line, cap, "%.*s", (int)len, pd->rbuf);
	pd->rlen -= len + 1;
	memmove(pd->rbuf, nl + 1, pd->rlen);
	return 0;
}

static int read_exact(struct vmdrv_process *pd, uint8_t *buf, size_t len)
{
	size_t k = pd->rlen < len ? pd->rlen : len;
	ssize_t n;

	memcpy(buf, pd->rbuf, k);
	pd->rlen -= k;
	memmove(pd->rbuf, pd->rbuf + k, pd->rlen);
	while (k < len) {
		n = recv_some(pd, buf + k, len - k);
		if (n < 0)
			return n;
		k += n;
	}
	return 0;
}

/*
 * An exchange failed with ERR: say so, and give up the connection.
 * -ETIMEDOUT and -EPROTO as they are; anything else means the service
 * is gone: -ECONNRESET.
 */
static int failed(struct vmdrv_process *pd, const char *req, int err)
{
	if (err == -ETIMEDOUT) {
		drop(pd);
		return say(pd, err, "colo-service at %s did not answer '%s' within %d ms: is it stopped or stuck?",
			   pd->path, req, pd->d.cfg.timeout_ms);
	}
	if (err == -EPROTO) {
		drop(pd);
		return err;	/* errmsg set by the caller */
	}
	say(pd, -ECONNRESET, "colo-service at %s closed the control connection during '%s' (%s): it has exited",
	    pd->path, req, strerror(-err));
	return lost(pd, -ECONNRESET);
}

/*
 * Sends REQ (a line) and DATA, reads the reply line into REPLY: 0 when it
 * starts with EXPECT, -EREMOTEIO for "error ..." (the service refused),
 * -EPROTO for anything else. Sets pd->deadline, for data that follows.
 */
static int call(struct vmdrv_process *pd, const char *req, const void *data,
		size_t dlen, const char *expect, char *reply, size_t cap)
{
	char line[PROC_LINE_MAX];
	int n, err;

	if (pd->lost)
		return -ENOTCONN;
	if (pd->fd < 0 && (err = ctl_connect(pd)))
		return err;
	pd->deadline = now_ms() + pd->d.cfg.timeout_ms;
	n = snprintf(line, sizeof(line), "%s\n", req);
	err = send_all(pd, line, n);
	if (!err && dlen)
		err = send_all(pd, data, dlen);
	if (!err)
		err = read_line(pd, reply, cap);
	if (err == -EPROTO)
		say(pd, err, "colo-service at %s answered '%s' with a line over %d bytes",
		    pd->path, req, PROC_LINE_MAX);
	if (err)
		return failed(pd, req, err);
	if (!strncmp(reply, "error ", 6))
		return say(pd, -EREMOTEIO, "colo-service at %s refused '%s': %.180s",
			   pd->path, req, reply + 6);
	if (strncmp(reply, expect, strlen(expect))) {
		say(pd, -EPROTO, "%s answered '%s' with '%.80s', not '%s...': is it colo-service's control socket?",
		    pd->path, req, reply, expect);
		return failed(pd, req, -EPROTO);
	}
	return 0;
}

/* "status": is the service paused? */
static int query(struct vmdrv_process *pd, int *paused)
{
	char reply[PROC_LINE_MAX];
	int err;

	err = call(pd, "status", NULL, 0, "status paused ", reply, sizeof(reply));
	if (!err && sscanf(reply, "status paused %d", paused) != 1)
		err = failed(pd, "status", say(pd, -EPROTO,
				"colo-service at %s answered 'status' with '%.80s'",
				pd->path, reply));
	return err;
}

static void fill_status(struct vmdrv_process *pd, int paused,
			struct vmdrv_status *st)
{
	memset(st, 0, sizeof(*st));
	st->mode = pd->failed_over ? VMDRV_MODE_NONE : pd->d.cfg.role;
	if (pd->failed_over) {
		st->last_mode = pd->d.cfg.role;
		st->reason = VMDRV_REASON_REQUEST;
	}
	st->checkpoints = pd->saves + pd->loads;
	st->in_checkpoint = paused;
}

/* ---- the ops ---- */

static int proc_check(struct vmdrv *d, struct vmdrv_status *st)
{
	struct vmdrv_process *pd = to_proc(d);
	int paused, err;

	err = query(pd, &paused);
	if (err)
		return err;
	if (pd->failed_over)
		return say(pd, -EAGAIN, "replication has ended: the service at %s runs alone since the failover",
			   pd->path);
	if (st)
		fill_status(pd, paused, st);
	return 0;
}

static int proc_status(struct vmdrv *d, struct vmdrv_status *st)
{
	struct vmdrv_process *pd = to_proc(d);
	int paused = 0, err;

	err = query(pd, &paused);
	fill_status(pd, paused, st);
	return err;
}

static int proc_demand_checkpoint(struct vmdrv *d)
{
	return say(to_proc(d), -EOPNOTSUPP,
		   "the process driver does not checkpoint by itself: the proxies run the protocol (stop, save, load, resume)");
}

static int proc_stop(struct vmdrv *d)
{
	char reply[PROC_LINE_MAX];

	return call(to_proc(d), "pause", NULL, 0, "ok", reply, sizeof(reply));
}

static int proc_resume(struct vmdrv *d)
{
	char reply[PROC_LINE_MAX];

	return call(to_proc(d), "resume", NULL, 0, "ok", reply, sizeof(reply));
}

static int proc_failover(struct vmdrv *d, const char *reason)
{
	struct vmdrv_process *pd = to_proc(d);
	struct vmdrv_event ev = { .type = VMDRV_EV_COLO_EXIT,
				  .mode = d->cfg.role,
				  .reason = VMDRV_REASON_REQUEST };
	int err;

	pr_info("failing over on %s: %s", pd->path,
		reason ? reason : "no reason given");
	err = proc_resume(d);
	if (err)
		return err;
	if (!pd->failed_over) {
		pd->failed_over = 1;
		emit(pd, &ev);
	}
	return 0;
}

static int proc_save(struct vmdrv *d, uint8_t **buf, size_t *len)
{
	struct vmdrv_process *pd = to_proc(d);
	char reply[PROC_LINE_MAX];
	unsigned long long n;
	uint8_t *p;
	int end = 0, err;

	err = call(pd, "dump", NULL, 0, "state ", reply, sizeof(reply));
	if (err)
		return err;
	if (sscanf(reply, "state %llu%n", &n, &end) != 1 || reply[end] ||
	    !n || n > PROC_STATE_MAX)
		return failed(pd, "dump", say(pd, -EPROTO,
				"colo-service at %s answered 'dump' with '%.80s': not a size of 1..%u bytes",
				pd->path, reply, PROC_STATE_MAX));
	p = malloc(n);
	if (!p) {
		drop(pd);	/* the bytes are on their way: resync */
		return say(pd, -ENOMEM, "no memory for %llu bytes of state", n);
	}
	err = read_exact(pd, p, n);
	if (err) {
		free(p);
		return failed(pd, "dump", err);
	}
	pd->saves++;
	*buf = p;
	*len = n;
	return 0;
}

static int proc_load(struct vmdrv *d, const uint8_t *buf, size_t len)
{
	struct vmdrv_process *pd = to_proc(d);
	char req[32], reply[PROC_LINE_MAX];
	int err;

	if (!len)
		return say(pd, -EINVAL, "no state to load (0 bytes)");
	snprintf(req, sizeof(req), "load %zu", len);
	err = call(pd, req, buf, len, "ok", reply, sizeof(reply));
	pd->loads += !err;
	return err;
}

static int proc_inject(struct vmdrv *d, const char *what)
{
	struct vmdrv_process *pd = to_proc(d);
	char reply[PROC_LINE_MAX];

	if (!what || strncmp(what, "diverge ", 8) || strchr(what, '\n') ||
	    strlen(what) > 64)
		return say(pd, -EINVAL,
			   "the process driver injects 'diverge on', 'diverge off' or 'diverge N' (the next N replies), not '%.64s'",
			   what ? what : "(null)");
	return call(pd, what, NULL, 0, "ok", reply, sizeof(reply));
}

static int proc_fd(struct vmdrv *d)
{
	return to_proc(d)->fd;
}

static short proc_poll_events(struct vmdrv *d)
{
	return to_proc(d)->fd >= 0 ? POLLIN : 0;
}

static int proc_timeout_ms(struct vmdrv *d)
{
	return -1;
}

/* Between exchanges the service sends nothing: readable means gone. */
static int proc_process(struct vmdrv *d)
{
	struct vmdrv_process *pd = to_proc(d);
	char buf[64];
	ssize_t n;

	if (pd->lost)
		return -ENOTCONN;
	if (pd->fd < 0)
		return 0;
	n = recv(pd->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0) {
		pr_debug("process driver: %zd unasked bytes from %s; reconnecting",
			 n, pd->path);
		drop(pd);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	say(pd, -ENOTCONN, "colo-service at %s closed its control connection (%s): it has exited",
	    pd->path, n ? strerror(errno) : "end of stream");
	return lost(pd, -ENOTCONN);
}

/* ---- life cycle ---- */

static struct vmdrv *proc_open(const struct vmdrv_config *cfg, char *errbuf,
			       size_t errlen)
{
	const char *path = cfg->target;
	struct vmdrv_process *pd;
	int paused, err;

	if (path && !strncmp(path, "unix:", 5))
		path += 5;
	if (!path || !*path || strlen(path) >= sizeof(pd->path)) {
		if (errbuf)
			snprintf(errbuf, errlen, "the process driver needs the path of colo-service's control socket (under %zu bytes), not '%s'",
				 sizeof(pd->path), cfg->target ? cfg->target : "");
		errno = EINVAL;
		return NULL;
	}
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	pd->d.ops = &vmdrv_process_ops;
	pd->d.cfg = *cfg;
	if (pd->d.cfg.timeout_ms <= 0)
		pd->d.cfg.timeout_ms = PROC_TIMEOUT_MS;
	strcpy(pd->path, path);
	pd->fd = -1;
	err = query(pd, &paused);
	if (err) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", pd->d.errmsg);
		drop(pd);
		free(pd);
		errno = -err;
		return NULL;
	}
	pd->opened = 1;
	return &pd->d;
}

static void proc_close(struct vmdrv *d)
{
	struct vmdrv_process *pd = to_proc(d);

	drop(pd);
	free(pd);
}

const struct vmdrv_ops vmdrv_process_ops = {
	.name = "process",
	.self_checkpointing = 0,
	.open = proc_open,
	.close = proc_close,
	.check = proc_check,
	.demand_checkpoint = proc_demand_checkpoint,
	.failover = proc_failover,
	.status = proc_status,
	.fd = proc_fd,
	.poll_events = proc_poll_events,
	.timeout_ms = proc_timeout_ms,
	.process = proc_process,
	.stop = proc_stop,
	.resume = proc_resume,
	.save = proc_save,
	.load = proc_load,
	.inject = proc_inject,
};
