// SPDX-License-Identifier: GPL-2.0-or-later
/* The proxy-to-proxy link: non-blocking TCP, 12-byte messages, raw state. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "protocol.h"

_Static_assert(COLO_PEER_MSG_LEN == COLO_MSG_LEN, "peer.h's message length");

#define RX_CHUNK	65536
#define OUT_MIN		4096

const char *colo_peer_state_name(enum colo_peer_state s)
{
	static const char *const names[] = {
		[COLO_PEER_IDLE] = "idle",
		[COLO_PEER_LISTENING] = "listening",
		[COLO_PEER_CONNECTING] = "connecting",
		[COLO_PEER_BACKOFF] = "retrying",
		[COLO_PEER_CONNECTED] = "connected",
		[COLO_PEER_CLOSED] = "closed",
	};

	return (unsigned int)s <= COLO_PEER_CLOSED ? names[s] : "?";
}

/* --- addresses --- */

static int split_addr(const char *opt, const char *s, char *host, size_t hlen,
		      const char **port)
{
	const char *colon, *end;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		n = end - s - 1;
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		n = colon - s;
		if (memchr(s, ':', n)) {
			pr_err("%s '%s': write an IPv6 address in brackets, like [2001:db8::1]:7400",
			       opt, s);
			return -EINVAL;
		}
	}
	if (n >= hlen || !colon[1])
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
bad:
	pr_err("%s '%s' is not ADDR:PORT (e.g. 192.0.2.2:7400 or [2001:db8::2]:7400)",
	       opt, s);
	return -EINVAL;
}

int colo_peer_parse_addr(const char *opt, const char *s,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	char host[256], *end;
	const char *port;
	unsigned long pn;
	int rc;

	if (split_addr(opt, s, host, sizeof(host), &port))
		return -EINVAL;
	pn = strtoul(port, &end, 10);
	if (*end || pn < 1 || pn > 65535 || port[0] < '0' || port[0] > '9') {
		pr_err("%s '%s': the port must be a number from 1 to 65535", opt, s);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE);
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc || !res) {
		pr_err("%s '%s': cannot resolve '%s': %s", opt, s, host,
		       rc ? gai_strerror(rc) : "no address");
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}


/*
 * --- TEST HOOK: COLO_TEST_STOP_AT (tests/integration/test_checkpoint_faults.sh) ---
 *
 * COLO_TEST_STOP_AT=NAME[:N] in the environment makes this process stop
 * itself (raise(SIGSTOP)) the N-th time (default: the first) that NAME
 * crosses its peer link, so that a test can SIGKILL it at an exact step of
 * the checkpoint protocol:
 *   - a message this process sends: right after its bytes were handed to
 *     the kernel (queued output flushed first, waiting up to 2 s);
 *   - a message it receives: right after it was read from the link, before
 *     the checkpoint loop sees it.
 * NAME: a command of docs/protocol.md (checkpoint-request ... vmstate-loaded,
 * heartbeat, failover), or vmstate-bytes for the raw state (the primary:
 * all written; the secondary: all read, before the loop loads them).
 * Read once, at the first colo_peer__init(); fires once; without the
 * variable nothing changes. Not for production use.
 */
#define TEST_STOP_BYTES	COLO_CMD_MAX	/* "vmstate-bytes" */

static struct {
	int read;		/* the environment was looked at */
	int armed;
	uint32_t what;		/* a command, or TEST_STOP_BYTES */
	unsigned long left;	/* occurrences until the stop */
	char name[40];
} test_stop;

static void test_stop_init(void)
{
	const char *env = getenv("COLO_TEST_STOP_AT");
	char name[40], *colon, *end;
	unsigned long n = 1;
	uint32_t cmd;

	if (test_stop.read)
		return;
	test_stop.read = 1;
	if (!env || !env[0])
		return;
	snprintf(name, sizeof(name), "%s", env);
	colon = strchr(name, ':');
	if (colon) {
		*colon = '\0';
		n = strtoul(colon + 1, &end, 10);
		if (*end || !n || colon[1] < '0' || colon[1] > '9')
			goto bad;
	}
	if (!strcmp(name, "vmstate-bytes")) {
		cmd = TEST_STOP_BYTES;
	} else {
		for (cmd = 0; cmd < COLO_CMD_MAX; cmd++)
			if (!strcmp(name, colo_cmd_name(cmd)))
				break;
		if (cmd == COLO_CMD_MAX)
			goto bad;
	}
	test_stop.armed = 1;
	test_stop.what = cmd;
	test_stop.left = n;
	snprintf(test_stop.name, sizeof(test_stop.name), "%s", name);
	pr_warn("test hook: COLO_TEST_STOP_AT=%s: this process will stop itself (SIGSTOP) at occurrence %lu of %s",
		env, n, name);
	return;
bad:
	pr_err("test hook: COLO_TEST_STOP_AT='%s' is not NAME[:N] (NAME a protocol command such as vmstate-received, or vmstate-bytes; N from 1); ignored",
	       env);
}

static int flush_out(struct colo_peer *p);

/* Called when WHAT was sent (sent 1) or read (sent 0); value for the log. */
static void test_stop_check(struct colo_peer *p, uint32_t what, int sent,
			    uint64_t value)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
	int i, pause;

	if (!test_stop.armed || what != test_stop.what || --test_stop.left)
		return;
	test_stop.armed = 0;
	for (i = 0; sent && i < 200 && p->fd >= 0 && colo_peer__pending(p); i++) {
		if (flush_out(p))
			break;
		if (colo_peer__pending(p))
			poll(&pfd, 1, 10);
	}
	pause = what == COLO_CMD_CHECKPOINT_REQUEST && (value & COLO_REQ_PAUSE);
	pr_warn("test hook: stopping (SIGSTOP) right after %s %s(%llu%s)%s",
		sent ? "sending" : "receiving", test_stop.name,
		(unsigned long long)(pause ? value & COLO_SEQ_MASK : value),
		pause ? "|pause" : "",
		sent && colo_peer__pending(p) ? " (some of it still queued)" : "");
	raise(SIGSTOP);
	pr_warn("test hook: continued (SIGCONT) after %s", test_stop.name);
}

/* --- setup --- */

void colo_peer__init(struct colo_peer *p, int listen, const char *name,
		     const struct sockaddr_storage *addr, socklen_t addrlen,
		     const struct colo_peer_ops *ops, void *ctx)
{
	test_stop_init();
	memset(p, 0, sizeof(*p));
	p->listen = listen;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->addr = *addr;
	p->addrlen = addrlen;
	p->lfd = p->fd = -1;
	p->accepting = 1;
	p->ops = ops;
	p->ctx = ctx;
	p->backoff_ns = COLO_PEER_BACKOFF_MIN_NS;
}

static int new_socket(const struct colo_peer *p)
{
	return socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		      SOCK_CLOEXEC, 0);
}

static void tune(int fd)
{
	int one = 1;

	/* Messages are tiny and latency-bound. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int start_listen(struct colo_peer *p)
{
	int one = 1, err;

	p->lfd = new_socket(p);
	if (p->lfd < 0)
		goto fail;
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, (struct sockaddr *)&p->addr, p->addrlen) ||
	    listen(p->lfd, 4))
		goto fail;
	p->state = COLO_PEER_LISTENING;
	pr_info("listening for the secondary's colo-proxy on %s", p->name);
	return 0;
fail:
	err = -errno;
	pr_err("--listen %s: %s%s", p->name, strerror(-err),
	       err == -EADDRINUSE ? " (another process listens there; pick another port)" :
	       err == -EADDRNOTAVAIL ? " (no interface has this address; see 'ip addr')" : "");
	if (p->lfd >= 0)
		close(p->lfd);
	p->lfd = -1;
	return err;
}

static void connected(struct colo_peer *p, uint64_t now)
{
	p->state = COLO_PEER_CONNECTED;
	p->connects++;
	p->up_ns = now;
	p->backoff_ns = COLO_PEER_BACKOFF_MIN_NS;
	p->in_len = 0;
	p->last_err[0] = '\0';
	tune(p->fd);
	pr_info("link to the %s's colo-proxy up (%s)",
		p->listen ? "secondary" : "primary", p->name);
	if (p->ops->up)
		p->ops->up(p->ctx);
}

static void retry_later(struct colo_peer *p, uint64_t now, int err)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (!p->last_err[0] || p->attempts == 1)
		pr_info("the primary's colo-proxy at %s does not answer (%s); retrying every %llu ms at most",
			p->name, strerror(err),
			(unsigned long long)(COLO_PEER_BACKOFF_MAX_NS / 1000000));
	else
		pr_debug("connect to %s: %s; next try in %llu ms", p->name,
			 strerror(err),
			 (unsigned long long)(p->backoff_ns / 1000000));
	snprintf(p->last_err, sizeof(p->last_err), "%s", strerror(err));
	p->state = COLO_PEER_BACKOFF;
	p->retry_at_ns = now + p->backoff_ns;
	p->backoff_ns *= 2;
	if (p->backoff_ns > COLO_PEER_BACKOFF_MAX_NS)
		p->backoff_ns = COLO_PEER_BACKOFF_MAX_NS;
}

static void try_connect(struct colo_peer *p, uint64_t now)
{
	p->attempts++;
	p->fd = new_socket(p);
	if (p->fd < 0) {
		retry_later(p, now, errno);
		return;
	}
	if (!connect(p->fd, (struct sockaddr *)&p->addr, p->addrlen)) {
		connected(p, now);
		return;
	}
	if (errno == EINPROGRESS) {
		p->state = COLO_PEER_CONNECTING;
		return;
	}
	retry_later(p, now, errno);
}

int colo_peer__start(struct colo_peer *p, uint64_t now_ns)
{
	if (p->listen)
		return start_listen(p);
	try_connect(p, now_ns);
	return 0;
}

static void reset_buffers(struct colo_peer *p)
{
	free(p->st);
	p->st = NULL;
	p->st_len = p->st_got = 0;
	p->st_mode = 0;
	p->in_len = 0;
	p->out_len = p->out_off = 0;
}

void colo_peer__close(struct colo_peer *p, int for_good)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	reset_buffers(p);
	if (for_good) {
		if (p->lfd >= 0)
			close(p->lfd);
		p->lfd = -1;
		p->accepting = 0;
		p->state = COLO_PEER_CLOSED;
	} else if (p->state == COLO_PEER_CONNECTED ||
		   p->state == COLO_PEER_CONNECTING) {
		p->state = p->listen ? COLO_PEER_LISTENING : COLO_PEER_BACKOFF;
	}
}

void colo_peer__fini(struct colo_peer *p)
{
	colo_peer__close(p, 1);
	free(p->out);
	p->out = NULL;
	p->out_cap = 0;
}

/* --- losing the connection --- */

static void lost(struct colo_peer *p, uint64_t now, const char *why)
{
	size_t partial = p->in_len;

	snprintf(p->last_err, sizeof(p->last_err), "%s", why);
	p->drops++;
	colo_peer__close(p, 0);
	if (!p->listen && p->state == COLO_PEER_BACKOFF)
		p->retry_at_ns = now + p->backoff_ns;
	if (p->ops->down)
		p->ops->down(p->ctx, partial, why);
}

/* --- poll --- */

int colo_peer__pollfd(const struct colo_peer *p, struct pollfd *pfd)
{
	int n = 0;

	if (p->lfd >= 0) {
		pfd[n].fd = p->lfd;
		pfd[n++].events = POLLIN;
	}
	if (p->fd >= 0) {
		pfd[n].fd = p->fd;
		pfd[n].events = p->state == COLO_PEER_CONNECTING ? POLLOUT :
				POLLIN | (colo_peer__pending(p) ? POLLOUT : 0);
		n++;
	}
	return n;
}

int colo_peer__timeout_ms(const struct colo_peer *p, uint64_t now_ns)
{
	if (p->state != COLO_PEER_BACKOFF)
		return -1;
	if (now_ns >= p->retry_at_ns)
		return 0;
	return (int)((p->retry_at_ns - now_ns + 999999) / 1000000);
}

static void accept_one(struct colo_peer *p, uint64_t now)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
	int fd;

	fd = accept4(p->lfd, (struct sockaddr *)&from, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pr_warn("accept on %s: %s", p->name, strerror(errno));
		return;
	}
	getnameinfo((struct sockaddr *)&from, len, host, sizeof(host), serv,
		    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	if (p->fd >= 0 || !p->accepting) {
		pr_warn("connection from %s port %s on %s refused: %s", host,
			serv, p->name, p->fd >= 0 ?
			"the secondary's colo-proxy is already connected" :
			"this instance has left COLO (restart the pair to protect it again)");
		p->refused++;
		close(fd);
		return;
	}
	pr_debug("connection from %s port %s", host, serv);
	p->fd = fd;
	connected(p, now);
}

static void connect_done(struct colo_peer *p, uint64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err) {
		retry_later(p, now, err);
		return;
	}
	connected(p, now);
}

/* --- reading --- */

/* Deliver buf; stops early when a callback closed or replaced the link. */
static void feed(struct colo_peer *p, const uint8_t *buf, size_t n)
{
	int fd = p->fd;
	struct colo_msg m;
	size_t take;
	int err;

	while (n && p->fd == fd && fd >= 0) {
		if (p->st_mode) {
			take = p->st_len - p->st_got;
			take = take < n ? take : n;
			memcpy(p->st + p->st_got, buf, take);
			p->st_got += take;
			buf += take;
			n -= take;
			if (p->st_got == p->st_len) {
				p->st_mode = 0;
				test_stop_check(p, TEST_STOP_BYTES, 0, p->st_len);
			}
			if (p->ops->state)
				p->ops->state(p->ctx, p->st_got, !p->st_mode);
			continue;
		}
		take = COLO_MSG_LEN - p->in_len;
		take = take < n ? take : n;
		memcpy(p->in + p->in_len, buf, take);
		p->in_len += take;
		buf += take;
		n -= take;
		if (p->in_len < COLO_MSG_LEN)
			break;
		p->in_len = 0;
		err = colo_msg_decode(p->in, COLO_MSG_LEN, &m);
		if (err > 0)
			test_stop_check(p, m.cmd, 0, m.value);
		if (p->ops->msg)
			p->ops->msg(p->ctx, &m, err < 0 ? err : 0);
		if (err < 0)
			break;	/* the stream cannot be trusted any more */
	}
}

static void read_some(struct colo_peer *p, uint64_t now)
{
	static uint8_t buf[RX_CHUNK];
	int fd = p->fd;
	ssize_t n;

	while (p->fd == fd && fd >= 0) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			p->rx_bytes += n;
			feed(p, buf, n);
			continue;
		}
		if (n == 0) {
			lost(p, now, "closed by the peer");
		} else if (errno != EAGAIN && errno != EINTR) {
			lost(p, now, strerror(errno));
		}
		return;
	}
}

/* --- writing --- */

static int flush_out(struct colo_peer *p)
{
	ssize_t n;

	while (p->out_off < p->out_len) {
		n = send(p->fd, p->out + p->out_off, p->out_len - p->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		p->out_off += n;
		p->tx_bytes += n;
	}
	p->out_off = p->out_len = 0;
	return 0;
}

static int queue(struct colo_peer *p, const uint8_t *buf, size_t len)
{
	size_t need = p->out_len + len, cap;
	uint8_t *nb;

	if (p->state != COLO_PEER_CONNECTED || p->fd < 0)
		return -ENOTCONN;
	if (p->out_off && p->out_off == p->out_len)
		p->out_off = p->out_len = 0;
	if (need > p->out_cap) {
		cap = p->out_cap ? p->out_cap : OUT_MIN;
		while (cap < need)
			cap *= 2;
		nb = realloc(p->out, cap);
		if (!nb)
			return -ENOMEM;
		p->out = nb;
		p->out_cap = cap;
	}
	memcpy(p->out + p->out_len, buf, len);
	p->out_len += len;
	/* A write error shows up as POLLERR/POLLHUP; handle it there. */
	flush_out(p);
	return 0;
}

int colo_peer__send(struct colo_peer *p, uint32_t cmd, uint64_t value)
{
	uint8_t buf[COLO_MSG_LEN];
	int n;

	n = colo_msg_encode(cmd, value, buf, sizeof(buf));
	if (n < 0)
		return n;
	n = queue(p, buf, n);
	if (!n)
		test_stop_check(p, cmd, 1, value);
	return n;
}

int colo_peer__send_raw(struct colo_peer *p, const uint8_t *buf, size_t len)
{
	int err = queue(p, buf, len);

	if (!err)	/* only the state goes out raw */
		test_stop_check(p, TEST_STOP_BYTES, 1, len);
	return err;
}

int colo_peer__expect_state(struct colo_peer *p, size_t len)
{
	if (p->st_mode)
		return -EBUSY;
	if (!len)
		return -EINVAL;
	free(p->st);
	p->st = malloc(len);
	if (!p->st)
		return -ENOMEM;
	p->st_len = len;
	p->st_got = 0;
	p->st_mode = 1;
	return 0;
}

uint8_t *colo_peer__take_state(struct colo_peer *p, size_t *len)
{
	uint8_t *st = p->st;

	if (!st || p->st_mode)
		return NULL;
	*len = p->st_len;
	p->st = NULL;
	p->st_len = p->st_got = 0;
	return st;
}

void colo_peer__drop_state(struct colo_peer *p)
{
	free(p->st);
	p->st = NULL;
	p->st_len = p->st_got = 0;
	p->st_mode = 0;
}

/* --- after poll --- */

static void process_conn(struct colo_peer *p, short revents, uint64_t now)
{
	int err;

	if (p->state == COLO_PEER_CONNECTING) {
		if (revents)
			connect_done(p, now);
		return;
	}
	if (revents & POLLIN)
		read_some(p, now);
	if (p->fd < 0)
		return;
	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		/* read what is left first: the last messages may explain */
		read_some(p, now);
		if (p->fd >= 0)
			lost(p, now, "connection reset");
		return;
	}
	if (colo_peer__pending(p)) {
		err = flush_out(p);
		if (err)
			lost(p, now, strerror(-err));
	}
}

void colo_peer__process(struct colo_peer *p, const struct pollfd *pfd, int n,
			uint64_t now_ns)
{
	int i, fd = p->fd;

	for (i = 0; i < n; i++) {
		if (pfd[i].fd == p->lfd && p->lfd >= 0 &&
		    (pfd[i].revents & POLLIN))
			accept_one(p, now_ns);
		else if (pfd[i].fd == fd && fd >= 0 && p->fd == fd)
			process_conn(p, pfd[i].revents, now_ns);
	}
	if (p->state == COLO_PEER_BACKOFF && now_ns >= p->retry_at_ns)
		try_connect(p, now_ns);
}
