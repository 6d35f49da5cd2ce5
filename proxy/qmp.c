// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QMP client: a byte-buffer state machine around one stream socket. QEMU
 * ends every message with CRLF and escapes newlines inside strings, so a
 * message is one line; each line is parsed on its own with jansson.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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
#include "qmp.h"

#define QMP_MAX_LINE		(16u << 20)	/* query-qmp-schema is ~200 KB */
#define QMP_READS_PER_CALL	64		/* then let the loop breathe */
#define QMP_DEFAULT_MS		5000

enum qmp_state {
	QMP_CONNECTING,		/* TCP connect in progress */
	QMP_GREETING,		/* waiting for {"QMP": ...} */
	QMP_NEGOTIATING,	/* qmp_capabilities sent */
	QMP_READY,
	QMP_DEAD,		/* connection lost: err and errmsg say why */
};

struct qmp_buf {
	char *p;
	size_t len;
	size_t cap;
};

struct qmp_cmd {
	struct qmp_cmd *next;
	int64_t id;
	int64_t deadline;	/* ns, CLOCK_MONOTONIC; 0: none */
	int timeout_ms;		/* for the message */
	qmp_reply_fn cb;
	void *arg;
	char name[];
};

struct qmp {
	int fd;
	enum qmp_state state;
	struct qmp_config cfg;
	char *addr;		/* cfg.addr points here */
	int64_t hs_deadline;	/* ns */
	struct qmp_buf in;
	struct qmp_buf out;	/* bytes for the socket */
	struct qmp_buf held;	/* commands queued before negotiation */
	struct qmp_cmd *cmds;	/* pending, oldest first */
	int64_t next_id;
	int version[3];
	int oob_offered;
	int oob;
	int err;
	int in_dispatch;
	char errmsg[256];
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_in(int ms)
{
	return ms > 0 ? mono_ns() + (int64_t)ms * 1000000 : 0;
}

static int buf_add(struct qmp_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_drop(struct qmp_buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void buf_free(struct qmp_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- address and socket ---- */

static int open_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* "host:port" or "[v6]:port" into host and port, in place. */
static int split_host_port(char *s, char **host, char **port)
{
	char *colon;

	if (*s == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		*host = s + 1;
		*port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		*host = s;
		*port = colon + 1;
	}
	return **host && **port ? 0 : -EINVAL;
}

/* Returns the fd, or -errno; *connecting is set when connect is under way. */
static int open_tcp(const char *hostport, int *connecting)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char *copy, *host, *port;
	int fd, err;

	copy = strdup(hostport);
	if (!copy)
		return -ENOMEM;
	err = split_host_port(copy, &host, &port);
	if (err)
		goto out_free;
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		err = err == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		goto out_free;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		err = -errno;
		goto out_ai;
	}
	*connecting = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			goto out_ai;
		}
		*connecting = 1;
	}
	err = fd;
out_ai:
	freeaddrinfo(ai);
out_free:
	free(copy);
	return err;
}

/* ---- failure and completion ---- */

static void complete(struct qmp *q, struct qmp_cmd *c,
		     const struct qmp_reply *r)
{
	if (c->cb) {
		q->in_dispatch++;
		c->cb(c->arg, r);
		q->in_dispatch--;
	}
	free(c);
}

static void fail_cmd(struct qmp *q, struct qmp_cmd *c, int err,
		     const char *desc)
{
	struct qmp_reply r = {
		.err = err, .cmd = c->name, .eclass = "", .desc = desc,
	};

	complete(q, c, &r);
}

/* The connection is unusable: say why, close, fail everything pending. */
static int die(struct qmp *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int die(struct qmp *q, int err, const char *fmt, ...)
{
	struct qmp_cmd *c;
	va_list ap;

	if (q->state == QMP_DEAD)
		return q->err;
	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
	pr_debug("qmp %s: %s", q->addr, q->errmsg);
	q->state = QMP_DEAD;
	q->err = err;
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	while ((c = q->cmds)) {
		q->cmds = c->next;
		fail_cmd(q, c, err, q->errmsg);
	}
	return err;
}

static int die_io(struct qmp *q, int err, const char *what)
{
	if (err == -ECONNRESET || err == -EPIPE || err == 0)
		return die(q, -ECONNRESET,
			   "QEMU closed the QMP connection %s (did it exit or crash?)",
			   what);
	return die(q, err, "QMP connection failed %s: %s", what,
		   strerror(-err));
}

/* ---- sending ---- */

/* Write what the socket takes. 0 (maybe with bytes left) or -errno. */
static int flush(struct qmp *q)
{
	size_t done = 0;
	ssize_t n;

	while (done < q->out.len) {
		n = send(q->fd, q->out.p + done, q->out.len - done,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			buf_drop(&q->out, done);
			return -errno;
		}
		done += n;
	}
	buf_drop(&q->out, done);
	return 0;
}

static struct qmp_cmd *cmd_new(struct qmp *q, const char *name, int timeout_ms,
			       qmp_reply_fn cb, void *arg)
{
	size_t len = strlen(name) + 1;
	struct qmp_cmd *c = malloc(sizeof(*c) + len);
	struct qmp_cmd **pp;

	if (!c)
		return NULL;
	memcpy(c->name, name, len);
	c->next = NULL;
	c->id = q->next_id++;
	c->timeout_ms = timeout_ms;
	c->deadline = deadline_in(timeout_ms);
	c->cb = cb;
	c->arg = arg;
	for (pp = &q->cmds; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	return c;
}

static void cmd_unlink(struct qmp *q, struct qmp_cmd *c)
{
	struct qmp_cmd **pp;

	for (pp = &q->cmds; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

/* Serialise {"execute": cmd, "arguments": args, "id": id} into a buffer. */
static int encode(struct qmp_buf *b, const char *cmd, json_t *args, int flags,
		  int64_t id)
{
	json_t *msg;
	char *text;
	int err = -ENOMEM;

	msg = json_pack("{s:s, s:I}", flags & QMP_SEND_OOB ? "exec-oob" : "execute",
			cmd, "id", (json_int_t)id);
	if (!msg)
		return -ENOMEM;
	if (args && json_object_set(msg, "arguments", args))
		goto out;
	text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		goto out;
	pr_debug("qmp -> %s", text);
	err = buf_add(b, text, strlen(text));
	if (!err)
		err = buf_add(b, "\r\n", 2);
	free(text);
out:
	json_decref(msg);
	return err;
}

/* Queue a command's text in b: out (the wire) or held (until negotiated). */
static int64_t send_cmd(struct qmp *q, struct qmp_buf *b, const char *cmd,
			json_t *args, int flags, int timeout_ms,
			qmp_reply_fn cb, void *arg)
{
	struct qmp_cmd *c;
	size_t mark = b->len;
	int err;

	c = cmd_new(q, cmd, timeout_ms, cb, arg);
	if (!c)
		return -ENOMEM;
	err = encode(b, cmd, args, flags, c->id);
	if (err) {
		b->len = mark;
		cmd_unlink(q, c);
		free(c);
		return err;
	}
	/* Write now if we can; a socket error shows up in qmp__process(). */
	if (b == &q->out)
		flush(q);
	return c->id;
}

int64_t qmp__send(struct qmp *q, const char *cmd, json_t *args, int flags,
		  int timeout_ms, qmp_reply_fn cb, void *arg)
{
	int64_t ret;

	if (q->state == QMP_DEAD)
		ret = q->err;
	else if ((flags & QMP_SEND_OOB) && !q->oob)
		ret = -EOPNOTSUPP;
	else
		ret = send_cmd(q, q->state == QMP_READY ? &q->out : &q->held,
			       cmd, args, flags, timeout_ms, cb, arg);
	json_decref(args);
	return ret;
}

/* ---- receiving ---- */

static void on_negotiated(void *arg, const struct qmp_reply *r)
{
	struct qmp *q = arg;

	if (q->state != QMP_NEGOTIATING)
		return;		/* already dead: die() failed us */
	if (r->err) {
		die(q, r->err == -EREMOTEIO ? -EPROTO : r->err,
		    "QMP capabilities negotiation failed: %s", r->desc);
		return;
	}
	q->state = QMP_READY;
	q->oob = q->oob_offered && !q->cfg.no_oob;
	pr_debug("qmp %s: ready (QEMU %d.%d.%d%s)", q->addr, q->version[0],
		 q->version[1], q->version[2], q->oob ? ", oob" : "");
	if (q->held.len && buf_add(&q->out, q->held.p, q->held.len))
		die(q, -ENOMEM, "out of memory");
	q->held.len = 0;
}

static int on_greeting(struct qmp *q, json_t *msg)
{
	json_t *g = json_object_get(msg, "QMP"), *caps, *v, *args;
	int64_t id;
	size_t i;

	if (!json_is_object(g))
		return die(q, -EPROTO,
			   "expected a QMP greeting, got something else: is %s a QMP socket?",
			   q->addr);
	v = json_object_get(json_object_get(g, "version"), "qemu");
	json_unpack(v, "{s:i, s:i, s:i}", "major", &q->version[0],
		    "minor", &q->version[1], "micro", &q->version[2]);
	caps = json_object_get(g, "capabilities");
	json_array_foreach(caps, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), "oob"))
			q->oob_offered = 1;
	}
	args = NULL;
	if (q->oob_offered && !q->cfg.no_oob)
		args = json_pack("{s:[s]}", "enable", "oob");
	q->state = QMP_NEGOTIATING;
	/* No deadline of its own: the handshake deadline covers it. */
	id = send_cmd(q, &q->out, "qmp_capabilities", args, 0, 0,
		      on_negotiated, q);
	json_decref(args);
	if (id < 0)
		return die(q, (int)id, "cannot send qmp_capabilities");
	return 0;
}

static void on_event(struct qmp *q, json_t *msg)
{
	struct qmp_event ev = { .sec = -1, .usec = -1 };
	json_t *ts = json_object_get(msg, "timestamp");

	ev.name = json_string_value(json_object_get(msg, "event"));
	if (!ev.name)
		return;
	ev.data = json_object_get(msg, "data");
	json_unpack(ts, "{s:I, s:I}", "seconds", &ev.sec,
		    "microseconds", &ev.usec);
	if (q->cfg.on_event) {
		q->in_dispatch++;
		q->cfg.on_event(q->cfg.arg, &ev);
		q->in_dispatch--;
	}
}

static void on_reply(struct qmp *q, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *e;
	struct qmp_reply r = { 0 };
	struct qmp_cmd *c;

	for (c = q->cmds; c; c = c->next)
		if (json_is_integer(id) && json_integer_value(id) == c->id)
			break;
	if (!c) {
		/* A reply after its deadline, or an error about unparsable
		 * input (QEMU cannot know the id then). */
		pr_debug("qmp %s: dropping a reply that matches no pending command",
			 q->addr);
		return;
	}
	cmd_unlink(q, c);
	r.cmd = c->name;
	e = json_object_get(msg, "error");
	if (e) {
		r.err = -EREMOTEIO;
		r.eclass = json_string_value(json_object_get(e, "class"));
		r.desc = json_string_value(json_object_get(e, "desc"));
		if (!r.eclass)
			r.eclass = "GenericError";
		if (!r.desc)
			r.desc = "(QEMU gave no description)";
	} else {
		r.ret = json_object_get(msg, "return");
	}
	complete(q, c, &r);
}

static int on_line(struct qmp *q, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	int ret = 0, show;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	pr_debug("qmp <- %.*s", (int)len, line);
	show = len < 60 ? (int)len : 60;
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg) {
		return die(q, -EPROTO, "QEMU sent bad JSON (column %d: %s): %.*s",
			   jerr.column, jerr.text, show, line);
	} else if (!json_is_object(msg)) {
		ret = die(q, -EPROTO, "QEMU sent JSON that is not an object: %.*s",
			  show, line);
	} else if (q->state == QMP_GREETING) {
		ret = on_greeting(q, msg);
	} else if (json_object_get(msg, "event")) {
		on_event(q, msg);
	} else if (json_object_get(msg, "return") ||
		   json_object_get(msg, "error")) {
		on_reply(q, msg);
	} else {
		pr_warn("QMP %s: ignoring a message that is neither a reply nor an event",
			q->addr);
	}
	json_decref(msg);
	return q->state == QMP_DEAD ? q->err : ret;
}

/* Parse every complete line in the input buffer. */
static int parse_lines(struct qmp *q)
{
	size_t start = 0;
	char *nl;
	int err = 0;

	while (start < q->in.len &&
	       (nl = memchr(q->in.p + start, '\n', q->in.len - start))) {
		err = on_line(q, q->in.p + start, nl - (q->in.p + start));
		if (err)
			return err;
		start = nl + 1 - q->in.p;
	}
	buf_drop(&q->in, start);
	if (q->in.len > QMP_MAX_LINE)
		return die(q, -EPROTO,
			   "QEMU sent a message over %u bytes without a line end",
			   QMP_MAX_LINE);
	return 0;
}

static int do_read(struct qmp *q)
{
	char chunk[65536];
	ssize_t n;
	int i, err;

	for (i = 0; i < QMP_READS_PER_CALL; i++) {
		n = recv(q->fd, chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return die_io(q, -errno, "while reading");
		}
		if (n == 0)
			return die_io(q, 0, q->state == QMP_READY ?
				      "" : "before the QMP handshake finished");
		if (buf_add(&q->in, chunk, n))
			return die(q, -ENOMEM, "out of memory");
		err = parse_lines(q);
		if (err)
			return err;
	}
	return 0;
}

static int check_connected(struct qmp *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr)
		return die(q, -soerr, "cannot connect to QMP at %s: %s",
			   q->addr, strerror(soerr));
	q->state = QMP_GREETING;
	return 0;
}

static void expire(struct qmp *q)
{
	int64_t now = mono_ns();
	struct qmp_cmd *c, **pp;
	char desc[160];

	if (q->state != QMP_READY && q->state != QMP_DEAD &&
	    now >= q->hs_deadline) {
		die(q, -ETIMEDOUT,
		    "no QMP handshake from %s within %d ms (is QEMU stuck, or not QEMU?)",
		    q->addr, q->cfg.handshake_ms);
		return;
	}
	pp = &q->cmds;
	while ((c = *pp)) {
		if (!c->deadline || now < c->deadline) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		snprintf(desc, sizeof(desc),
			 "QEMU did not answer '%s' within %d ms", c->name,
			 c->timeout_ms);
		fail_cmd(q, c, -ETIMEDOUT, desc);
		pp = &q->cmds;	/* the callback may have queued commands */
	}
}

int qmp__process(struct qmp *q)
{
	int err;

	if (q->state == QMP_CONNECTING && check_connected(q))
		return q->err;
	if (q->state != QMP_CONNECTING && q->state != QMP_DEAD) {
		err = flush(q);
		if (err)
			return die_io(q, err, "while writing");
		if (do_read(q))
			return q->err;
		/* Replies may have queued more output. */
		err = q->state == QMP_DEAD ? 0 : flush(q);
		if (err)
			return die_io(q, err, "while writing");
	}
	if (q->state != QMP_DEAD)
		expire(q);
	return q->state == QMP_DEAD ? q->err : 0;
}

/* ---- life cycle ---- */

struct qmp *qmp__open(const struct qmp_config *cfg)
{
	struct qmp *q;
	int connecting = 0, fd;
	const char *a = cfg->addr;

	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cfg = *cfg;
	if (!q->cfg.handshake_ms)
		q->cfg.handshake_ms = QMP_DEFAULT_MS;
	q->addr = strdup(a ? a : "");
	if (!q->addr)
		goto fail_errno;
	q->cfg.addr = q->addr;
	q->next_id = 1;
	if (!a || !*a)
		fd = -EINVAL;
	else if (!strncmp(a, "unix:", 5))
		fd = open_unix(a + 5);
	else if (!strncmp(a, "tcp:", 4))
		fd = open_tcp(a + 4, &connecting);
	else
		fd = open_unix(a);
	if (fd < 0) {
		errno = -fd;
		goto fail_errno;
	}
	q->fd = fd;
	q->state = connecting ? QMP_CONNECTING : QMP_GREETING;
	q->hs_deadline = deadline_in(q->cfg.handshake_ms);
	return q;

fail_errno:
	fd = errno;
	free(q->addr);
	free(q);
	errno = fd;
	return NULL;
}

void qmp__close(struct qmp *q)
{
	if (!q)
		return;
	die(q, -ECANCELED, "QMP client closed");
	buf_free(&q->in);
	buf_free(&q->out);
	buf_free(&q->held);
	free(q->addr);
	free(q);
}

int qmp__fd(const struct qmp *q)
{
	return q->fd;
}

short qmp__poll_events(const struct qmp *q)
{
	if (q->state == QMP_DEAD)
		return 0;
	if (q->state == QMP_CONNECTING)
		return POLLOUT;
	return POLLIN | (q->out.len ? POLLOUT : 0);
}

int qmp__timeout_ms(const struct qmp *q)
{
	int64_t next = 0, now;
	struct qmp_cmd *c;

	if (q->state == QMP_DEAD)
		return -1;
	if (q->state != QMP_READY)
		next = q->hs_deadline;
	for (c = q->cmds; c; c = c->next)
		if (c->deadline && (!next || c->deadline < next))
			next = c->deadline;
	if (!next)
		return -1;
	now = mono_ns();
	if (next <= now)
		return 0;
	return (int)((next - now + 999999) / 1000000);
}

int qmp__ready(const struct qmp *q)
{
	return q->state == QMP_READY;
}

int qmp__oob(const struct qmp *q)
{
	return q->oob;
}

int qmp__version(const struct qmp *q, int *major, int *minor, int *micro)
{
	if (major)
		*major = q->version[0];
	if (minor)
		*minor = q->version[1];
	if (micro)
		*micro = q->version[2];
	return q->version[0] || q->version[1] ? 0 : -ENODATA;
}

const char *qmp__strerror(const struct qmp *q)
{
	return q->state == QMP_DEAD ? q->errmsg : "";
}

/* ---- blocking helpers ---- */

/* Run the loop until *done (NULL: until negotiated) or the connection dies. */
static int wait_for(struct qmp *q, const int *done)
{
	struct pollfd p;
	int n, err;

	while (q->state != QMP_DEAD &&
	       !(done ? *done : q->state == QMP_READY)) {
		p.fd = q->fd;
		p.events = qmp__poll_events(q);
		p.revents = 0;
		n = poll(&p, 1, qmp__timeout_ms(q));
		if (n < 0 && errno != EINTR)
			return die(q, -errno, "poll failed: %s", strerror(errno));
		err = qmp__process(q);
		if (err)
			return err;
	}
	return 0;
}

struct qmp *qmp__connect(const struct qmp_config *cfg, char *errbuf,
			 size_t errlen)
{
	struct qmp *q = qmp__open(cfg);
	int err;

	if (!q) {
		err = errno;
		if (errbuf)
			snprintf(errbuf, errlen, "cannot connect to QMP at %s: %s",
				 cfg->addr ? cfg->addr : "(none)", strerror(err));
		errno = err;
		return NULL;
	}
	wait_for(q, NULL);
	if (q->state == QMP_READY)
		return q;
	err = -q->err;
	if (errbuf)
		snprintf(errbuf, errlen, "%s", q->errmsg);
	qmp__close(q);
	errno = err;
	return NULL;
}

struct call_result {
	int done;
	int err;
	json_t *ret;
	struct qmp_error *e;
};

static void call_done(void *arg, const struct qmp_reply *r)
{
	struct call_result *res = arg;

	res->done = 1;
	res->err = r->err;
	if (!r->err)
		res->ret = json_incref(r->ret);
	else if (res->e) {
		snprintf(res->e->eclass, sizeof(res->e->eclass), "%s",
			 r->eclass ? r->eclass : "");
		snprintf(res->e->desc, sizeof(res->e->desc), "%s",
			 r->desc ? r->desc : "");
	}
}

int qmp__call(struct qmp *q, const char *cmd, json_t *args, int timeout_ms,
	      json_t **ret, struct qmp_error *err)
{
	struct call_result res = { .e = err };
	int64_t id;

	if (ret)
		*ret = NULL;
	if (err)
		err->eclass[0] = err->desc[0] = '\0';
	if (q->in_dispatch) {
		json_decref(args);
		if (err)
			snprintf(err->desc, sizeof(err->desc),
				 "qmp__call() from a QMP callback");
		return -EDEADLK;
	}
	id = qmp__send(q, cmd, args, 0,
		       timeout_ms > 0 ? timeout_ms : QMP_DEFAULT_MS,
		       call_done, &res);
	if (id < 0) {
		if (err)
			snprintf(err->desc, sizeof(err->desc), "%s",
				 q->state == QMP_DEAD ? q->errmsg :
				 strerror((int)-id));
		return (int)id;
	}
	wait_for(q, &res.done);
	/* A dead connection fails every pending command, ours included. */
	if (res.err || !res.done) {
		json_decref(res.ret);
		return res.err ? res.err : -EIO;
	}
	if (ret)
		*ret = res.ret;
	else
		json_decref(res.ret);
	return 0;
}
