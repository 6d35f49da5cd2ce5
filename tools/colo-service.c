// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * colo-service: a small deterministic service to run inside the primary and
 * the secondary VM (or their network namespaces), and its client.
 *
 * Server: colo-service [--tcp PORT] [--udp PORT] [--bind ADDR]
 *                      [--diverge-file PATH] [--control PATH]
 *   TCP: every request line gets one reply, a function of the line, of
 *        the request's number on its connection and of the state:
 *          "bytes N"  ->  N deterministic bytes, the last one '\n'
 *          "set K V", "get K", "count"  ->  see svcctl.h
 *          LINE       ->  "echo:LINE #COUNT CHECKSUM\n"
 *   UDP: every datagram gets one reply datagram, a function of its payload
 *        (count 0); "bytes N TAG" returns N bytes starting with "TAG ".
 *   While PATH exists, one byte in the middle of every reply is flipped, so
 *   that a VM can be made to answer differently on demand (same length).
 *   PORT 0: any free port (see "serving" on stderr, or "status").
 *   --control: a unix socket to pause, resume, dump and load the service
 *   like a VM (svcctl.h, docs/vm-drivers.md).
 *
 * Client: colo-service --client ADDR (--tcp PORT | --udp PORT) --requests N
 *                      [--bytes N] [--every K] [--conns C] [--timeout MS]
 *                      [--rate PPS] [--diverged] [-v]
 *   Sends N requests (every K-th asks for --bytes bytes), checks each reply
 *   against the same function, prints one summary line and exits 1 on any
 *   wrong, missing or duplicate reply, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "svcctl.h"

#define SVC_LINE_MAX	4096
#define SVC_UDP_MAX	1400	/* replies stay below the MTU: no fragments */
#define SVC_STR(x)	#x
#define SVC_XSTR(x)	SVC_STR(x)
#define SVC_CONNS_MAX	4096

static volatile sig_atomic_t svc_stop;

static void svc_on_signal(int sig)
{
	svc_stop = 1;
}

/* --- addresses and sockets --- */

static int svc_addr(const char *host, int port, int type, int passive,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	char ps[8];
	int err;

	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	snprintf(ps, sizeof(ps), "%d", port);
	err = getaddrinfo(host, ps, &hints, &ai);
	if (err) {
		fprintf(stderr, "colo-service: bad address '%s': %s\n", host,
			gai_strerror(err));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int svc_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)	/* dual stack: IPv4 as ::ffff:a.b.c.d */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	return fd;
}

static int svc_listen(const char *bind_addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	err = svc_addr(bind_addr, port, type, 1, &ss, &len);
	if (err)
		return err;
	fd = svc_socket(ss.ss_family, type);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 512))) {
		err = -errno;
		fprintf(stderr, "colo-service: cannot bind %s port %d: %s\n",
			bind_addr, port, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

static double svc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- server --- */

/* pfd: [0] tcp listener, [1] udp, the control socket's, then conns */
#define SVC_PFD_CTL	2
#define SVC_PFD_CONNS	(SVC_PFD_CTL + SVCCTL_NFDS)

struct svc_server {
	const char *diverge_file;
	int tcp_fd, udp_fd;
	struct pollfd *pfd;
	struct svc_conn *conns;		/* parallel to pfd + SVC_PFD_CONNS */
	int nconns;
	struct svc_state state;		/* what a checkpoint moves */
	struct svcctl *ctl;		/* NULL without --control */
	struct svc_counters cnt;
};

struct svc_conn {
	struct svc_buf in, out;
	unsigned int count;
};

static int svc_server__diverged(struct svc_server *s)
{
	struct stat st;

	if (!svcctl__diverge(s->ctl) &&
	    (!s->diverge_file || stat(s->diverge_file, &st)))
		return 0;
	s->cnt.diverged++;
	return 1;
}

static void svc_server__close(struct svc_server *s, int i)
{
	close(s->pfd[i + SVC_PFD_CONNS].fd);
	free(s->conns[i].in.data);
	free(s->conns[i].out.data);
	s->nconns--;
	s->pfd[i + SVC_PFD_CONNS] = s->pfd[s->nconns + SVC_PFD_CONNS];
	s->conns[i] = s->conns[s->nconns];
}

static void svc_server__accept(struct svc_server *s)
{
	int fd;

	while ((fd = accept4(s->tcp_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (s->nconns >= SVC_CONNS_MAX) {
			close(fd);
			continue;
		}
		memset(&s->conns[s->nconns], 0, sizeof(s->conns[0]));
		s->pfd[s->nconns + SVC_PFD_CONNS] =
			(struct pollfd){ .fd = fd, .events = POLLIN };
		s->nconns++;
		s->cnt.accepted++;
	}
}

/* Turns complete request lines of connection I into replies. */
static int svc_server__lines(struct svc_server *s, struct svc_conn *c)
{
	char *nl, *line, *rep;
	size_t len, rlen;
	int err;

	while ((nl = memchr(c->in.data + c->in.off, '\n', c->in.len - c->in.off))) {
		line = c->in.data + c->in.off;
		len = nl - line;
		c->in.off += len + 1;
		if (len && line[len - 1] == '\r')
			len--;
		c->count++;
		s->cnt.tcp_requests++;
		rep = svc_state__reply(&s->state, line, len, c->count,
				       svc_server__diverged(s), &rlen);
		if (!rep)
			return -ENOMEM;
		err = svc_buf__put(&c->out, rep, rlen);
		free(rep);
		if (err)
			return err;
	}
	svc_buf__compact(&c->in);
	if (c->in.len > SVC_LINE_MAX)
		return -EMSGSIZE;
	return 0;
}

/* Serves connection I; returns 0 to keep it, <0 to close it. */
static int svc_server__conn(struct svc_server *s, int i)
{
	struct svc_conn *c = &s->conns[i];
	struct pollfd *p = &s->pfd[i + SVC_PFD_CONNS];
	char buf[16384];
	ssize_t n;
	int err;

	if (p->revents & (POLLERR | POLLNVAL))
		return -EIO;
	if (p->revents & POLLOUT) {
		n = send(p->fd, c->out.data + c->out.off, c->out.len - c->out.off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n > 0)
			c->out.off += n;
	}
	if (p->revents & (POLLIN | POLLHUP)) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return -ECONNRESET;
		if (n > 0) {
			err = svc_buf__put(&c->in, buf, n);
			if (!err)
				err = svc_server__lines(s, c);
			if (err)
				return err;
		}
	}
	/* Back-pressure: stop reading while a reply is pending. */
	p->events = c->out.off < c->out.len ? POLLOUT : POLLIN;
	return 0;
}

static void svc_server__udp(struct svc_server *s)
{
	struct sockaddr_storage from;
	socklen_t flen;
	char buf[2048], *rep;
	size_t rlen;
	ssize_t n;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(s->udp_fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		s->cnt.udp_requests++;
		rep = svc_state__reply(&s->state, buf, n, 0,
				       svc_server__diverged(s), &rlen);
		if (!rep)
			continue;
		if (rlen <= SVC_UDP_MAX)
			sendto(s->udp_fd, rep, rlen, 0, (struct sockaddr *)&from, flen);
		free(rep);
	}
}

/* The port FD is bound to; 0 for none. */
static int svc_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
		     ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
}

/* One round of poll; while paused only the control socket is watched. */
static int svc_server__poll(struct svc_server *s)
{
	int i, n, paused = svcctl__paused(s->ctl);

	svcctl__pollfds(s->ctl, s->pfd + SVC_PFD_CTL);
	if (paused)
		n = poll(s->pfd + SVC_PFD_CTL, SVCCTL_NFDS, -1);
	else
		n = poll(s->pfd, s->nconns + SVC_PFD_CONNS, -1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	svcctl__process(s->ctl, s->pfd + SVC_PFD_CTL);
	/* Network events are stale after a pause, not to be served during
	 * one: a paused service leaves its requests in the kernel. */
	if (paused || svcctl__paused(s->ctl))
		return 0;
	if (s->pfd[0].revents & POLLIN)
		svc_server__accept(s);
	if (s->pfd[1].revents & POLLIN)
		svc_server__udp(s);
	for (i = s->nconns - 1; i >= 0; i--)
		if (s->pfd[i + SVC_PFD_CONNS].revents && svc_server__conn(s, i))
			svc_server__close(s, i);
	return 0;
}

/* TCP_PORT, UDP_PORT: -1 not served, 0 any free port. */
static int svc_serve(const char *bind_addr, int tcp_port, int udp_port,
		     const char *diverge_file, const char *control)
{
	struct svc_server s = { .diverge_file = diverge_file, .tcp_fd = -1, .udp_fd = -1 };
	int err = 0;

	s.pfd = calloc(SVC_CONNS_MAX + SVC_PFD_CONNS, sizeof(*s.pfd));
	s.conns = calloc(SVC_CONNS_MAX, sizeof(*s.conns));
	if (!s.pfd || !s.conns) {
		err = -ENOMEM;
		goto out_free;
	}
	if (tcp_port >= 0 && (s.tcp_fd = svc_listen(bind_addr, tcp_port, SOCK_STREAM)) < 0) {
		err = s.tcp_fd;
		goto out_free;
	}
	if (udp_port >= 0 && (s.udp_fd = svc_listen(bind_addr, udp_port, SOCK_DGRAM)) < 0) {
		err = s.udp_fd;
		goto out_close;
	}
	s.cnt.tcp_port = svc_port(s.tcp_fd);
	s.cnt.udp_port = svc_port(s.udp_fd);
	if (control && !(s.ctl = svcctl_open(control, &s.state, &s.cnt))) {
		err = -errno;
		goto out_close;
	}
	s.pfd[0] = (struct pollfd){ .fd = s.tcp_fd, .events = POLLIN };
	s.pfd[1] = (struct pollfd){ .fd = s.udp_fd, .events = POLLIN };
	fprintf(stderr, "colo-service: pid %d serving tcp %d udp %d on %s%s%s%s%s\n",
		(int)getpid(), s.cnt.tcp_port, s.cnt.udp_port, bind_addr,
		diverge_file ? ", diverging while this exists: " : "",
		diverge_file ? diverge_file : "",
		control ? ", control socket " : "", control ? control : "");

	while (!svc_stop && !err)
		err = svc_server__poll(&s);
	fprintf(stderr, "colo-service: %lu connections, %lu tcp requests, %lu udp requests, %lu diverged replies\n",
		s.cnt.accepted, s.cnt.tcp_requests, s.cnt.udp_requests,
		s.cnt.diverged);
	while (s.nconns)
		svc_server__close(&s, 0);
	svcctl_close(s.ctl);
	svc_state__release(&s.state);
out_close:
	if (s.udp_fd >= 0)
		close(s.udp_fd);
	if (s.tcp_fd >= 0)
		close(s.tcp_fd);
out_free:
	free(s.pfd);
	free(s.conns);
	return err;
}

/* --- client --- */

struct svc_opts {
	const char *host;
	int port, udp;
	unsigned long requests, bytes, every, conns, timeout_ms, rate;
	int diverged, verbose;
};

struct svc_stats {
	unsigned long sent, correct, wrong, missing, duplicate, errors;
	unsigned long long rx_bytes;
	double elapsed_ms;		/* first request to last request */
	double *lat;			/* per request, ms; <0 = no reply */
};

/* The I-th request (0-based) of the run; TAG makes UDP replies attributable. */
static int svc_request(const struct svc_opts *o, unsigned long i, unsigned int nonce,
		       char *buf, size_t size)
{
	int big = o->bytes && o->every && i % o->every == o->every - 1;

	if (o->udp && big)
		return snprintf(buf, size, "bytes %lu r%lu.%08x", o->bytes, i, nonce);
	if (big)
		return snprintf(buf, size, "bytes %lu", o->bytes);
	return snprintf(buf, size, "%s r%lu.%08x hello colo", o->udp ? "udp" : "tcp",
			i, nonce);
}

/* One TCP connection of the client: requests FIRST, FIRST + STEP, ... */
struct svc_cconn {
	int fd;
	unsigned long next, step;
	unsigned int count;		/* requests answered on this connection */
	char *want;			/* expected reply of the request in flight */
	size_t want_len;
	struct svc_buf in;
	double sent_ms;
	int done;
};

static int svc_cconn__send(struct svc_cconn *c, const struct svc_opts *o,
			   unsigned int nonce, struct svc_stats *st)
{
	char req[256];
	int n;

	n = svc_request(o, c->next, nonce, req, sizeof(req) - 1);
	free(c->want);
	c->want = svc_reply(req, n, c->count + 1, o->diverged, &c->want_len);
	if (!c->want)
		return -ENOMEM;
	req[n++] = '\n';
	if (send(c->fd, req, n, MSG_NOSIGNAL) != n)	/* a line fits any buffer */
		return -errno;
	c->sent_ms = svc_now_ms();
	st->sent++;
	return 0;
}

/* Consumes complete replies in C's input; sends the next request. */
static int svc_cconn__recv(struct svc_cconn *c, const struct svc_opts *o,
			   unsigned int nonce, struct svc_stats *st)
{
	size_t have;

	for (;;) {
		have = c->in.len - c->in.off;
		if (c->done) {
			if (have)
				st->duplicate++;
			c->in.off = c->in.len;
			return 0;
		}
		if (have < c->want_len)
			return 0;
		st->lat[c->next] = svc_now_ms() - c->sent_ms;
		if (!memcmp(c->in.data + c->in.off, c->want, c->want_len)) {
			st->correct++;
		} else {
			st->wrong++;
			if (o->verbose)
				fprintf(stderr, "request %lu: wrong reply '%.60s'\n",
					c->next, c->in.data + c->in.off);
		}
		if (o->verbose)
			fprintf(stderr, "request %lu: reply after %.3f ms\n", c->next,
				st->lat[c->next]);
		c->in.off += c->want_len;
		c->count++;
		c->next += c->step;
		if (c->next >= o->requests) {
			c->done = 1;
			shutdown(c->fd, SHUT_WR);
			continue;
		}
		if (svc_cconn__send(c, o, nonce, st))
			return -EIO;
	}
}

static int svc_client_tcp(const struct svc_opts *o, struct svc_stats *st,
			  unsigned int nonce)
{
	struct svc_cconn *c = calloc(o->conns, sizeof(*c));
	struct pollfd *pfd = calloc(o->conns, sizeof(*pfd));
	struct sockaddr_storage ss;
	unsigned long i, live = 0;
	socklen_t len;
	char buf[65536];
	double deadline;
	ssize_t n;
	int err = 0;

	if (!c || !pfd || svc_addr(o->host, o->port, SOCK_STREAM, 0, &ss, &len)) {
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < o->conns; i++) {
		c[i] = (struct svc_cconn){ .fd = -1, .next = i, .step = o->conns };
		if (i >= o->requests) {
			c[i].done = 2;
			continue;
		}
		c[i].fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&ss, len) ||
		    svc_cconn__send(&c[i], o, nonce, st)) {
			fprintf(stderr, "colo-service: connect to %s port %d: %s\n",
				o->host, o->port, strerror(errno));
			st->errors++;
			c[i].done = 2;
			continue;
		}
		fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
		live++;
	}
	deadline = svc_now_ms() + o->timeout_ms;
	while (live) {
		double now = svc_now_ms();

		if (now >= deadline)
			break;
		for (i = 0; i < o->conns; i++)
			pfd[i] = (struct pollfd){ .fd = c[i].done == 2 ? -1 : c[i].fd,
						  .events = POLLIN };
		if (poll(pfd, o->conns, deadline - now + 1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < o->conns; i++) {
			if (!pfd[i].revents)
				continue;
			n = recv(c[i].fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n <= 0) {		/* EOF or reset */
				if (!c[i].done)
					st->errors += n < 0;
				c[i].done = 2;
				live--;
				continue;
			}
			st->rx_bytes += n;
			if (svc_buf__put(&c[i].in, buf, n) ||
			    svc_cconn__recv(&c[i], o, nonce, st)) {
				st->errors++;
				c[i].done = 2;
				live--;
				continue;
			}
			svc_buf__compact(&c[i].in);
			/* every reply restarts the per-request timeout */
			if (!c[i].done)
				deadline = svc_now_ms() + o->timeout_ms;
		}
	}
out:
	for (i = 0; c && i < o->conns; i++) {
		if (c[i].fd >= 0)
			close(c[i].fd);
		free(c[i].want);
		free(c[i].in.data);
	}
	free(c);
	free(pfd);
	return err;
}

/* Matches one UDP reply to its request by the tag it carries. */
static void svc_client_udp_reply(const struct svc_opts *o, struct svc_stats *st,
				 unsigned int nonce, const char *buf, size_t n,
				 const double *sent)
{
	char req[256], *want;
	const char *tag = buf + (n > 5 && !memcmp(buf, "echo:", 5) ? 9 : 0);
	unsigned long i;
	unsigned int x;
	size_t wlen;
	int len;

	if (sscanf(tag, "r%lu.%8x", &i, &x) != 2 || x != nonce || i >= o->requests) {
		st->wrong++;
		return;
	}
	len = svc_request(o, i, nonce, req, sizeof(req));
	want = svc_reply(req, len, 0, o->diverged, &wlen);
	if (!want || wlen != n || memcmp(want, buf, n)) {
		st->wrong++;
	} else if (st->lat[i] >= 0) {
		st->duplicate++;
	} else {
		st->correct++;
		st->lat[i] = svc_now_ms() - sent[i];
		if (o->verbose)
			fprintf(stderr, "request %lu: reply after %.3f ms\n", i, st->lat[i]);
	}
	free(want);
}

/*
 * Reads replies until UNTIL (ms, svc_now_ms() clock); with CLOSED returns as
 * soon as the request in flight (the last one sent) is answered.
 */
static void svc_client_udp_recv(int fd, const struct svc_opts *o, struct svc_stats *st,
				unsigned int nonce, const double *sent, double until,
				int closed)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec ts;
	char buf[2048];
	double left;
	ssize_t n;

	for (;;) {
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			st->rx_bytes += n;
			svc_client_udp_reply(o, st, nonce, buf, n, sent);
			if (closed && st->lat[st->sent - 1] >= 0)
				return;
		}
		left = until - svc_now_ms();
		if (left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)((left - ts.tv_sec * 1000.0) * 1e6);
		ppoll(&p, 1, &ts, NULL);
	}
}

/*
 * Closed loop (default): one request in flight, the next one once it is
 * answered or timed out. Open loop (--rate): requests leave at the rate
 * whatever the replies do.
 */
static int svc_client_udp(const struct svc_opts *o, struct svc_stats *st,
			  unsigned int nonce)
{
	int fd, l, err = 0, rcvbuf = 8 << 20;
	struct sockaddr_storage ss;
	double *sent, t0;
	unsigned long i;
	socklen_t len;
	char buf[256];

	if (svc_addr(o->host, o->port, SOCK_DGRAM, 0, &ss, &len))
		return -EINVAL;
	sent = calloc(o->requests, sizeof(*sent));
	if (!sent)
		return -ENOMEM;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		fprintf(stderr, "colo-service: udp socket: %s\n", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	t0 = svc_now_ms();
	for (i = 0; i < o->requests; i++) {
		if (o->rate)
			svc_client_udp_recv(fd, o, st, nonce, sent,
					    t0 + i * 1000.0 / o->rate, 0);
		l = svc_request(o, i, nonce, buf, sizeof(buf));
		sent[i] = svc_now_ms();
		if (send(fd, buf, l, 0) != l)
			st->errors++;
		st->sent++;
		if (!o->rate)
			svc_client_udp_recv(fd, o, st, nonce, sent,
					    sent[i] + o->timeout_ms, 1);
	}
	st->elapsed_ms = svc_now_ms() - t0;
	/* Late replies and duplicates. */
	svc_client_udp_recv(fd, o, st, nonce, sent,
			    svc_now_ms() + (o->rate ? o->timeout_ms : 200), 0);
out:
	if (fd >= 0)
		close(fd);
	free(sent);
	return err;
}

static int svc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int svc_client(const struct svc_opts *o)
{
	struct svc_stats st = { 0 };
	unsigned int nonce = (unsigned int)getpid() * 2654435761u ^ (unsigned int)time(NULL);
	unsigned long i, k = 0;
	double *lat;
	int err;

	st.lat = malloc(o->requests * sizeof(*st.lat));
	lat = malloc(o->requests * sizeof(*lat));
	if (!st.lat || !lat)
		return -ENOMEM;
	for (i = 0; i < o->requests; i++)
		st.lat[i] = -1;
	err = o->udp ? svc_client_udp(o, &st, nonce) : svc_client_tcp(o, &st, nonce);
	for (i = 0; i < o->requests; i++)
		if (st.lat[i] >= 0)
			lat[k++] = st.lat[i];
	st.missing = o->requests - k;
	qsort(lat, k, sizeof(*lat), svc_cmp_double);
	printf("%s %s port %d: requests %lu correct %lu wrong %lu missing %lu duplicate %lu errors %lu rx_bytes %llu latency_ms min %.3f p50 %.3f p99 %.3f max %.3f",
	       o->udp ? "udp" : "tcp", o->host, o->port, o->requests, st.correct,
	       st.wrong, st.missing, st.duplicate, st.errors, st.rx_bytes,
	       k ? lat[0] : -1.0, k ? lat[k / 2] : -1.0,
	       k ? lat[k * 99 / 100] : -1.0, k ? lat[k - 1] : -1.0);
	if (o->rate)
		printf(" tx_pps %.0f rx_pps %.0f",
		       st.elapsed_ms > 0 ? st.sent * 1e3 / st.elapsed_ms : 0.0,
		       st.elapsed_ms > 0 ? st.correct * 1e3 / st.elapsed_ms : 0.0);
	printf("\n");
	free(st.lat);
	free(lat);
	if (err)
		return err;
	return st.wrong || st.missing || st.duplicate || st.errors ? 1 : 0;
}

/* --- main --- */

static void svc_usage(FILE *f)
{
	fprintf(f,
		"Usage: colo-service [--tcp PORT] [--udp PORT] [--bind ADDR] [--diverge-file PATH]\n"
		"                    [--control PATH]\n"
		"       colo-service --client ADDR (--tcp PORT | --udp PORT) --requests N\n"
		"                    [--bytes N] [--every K] [--conns C] [--timeout MS] [--rate PPS]\n"
		"                    [--diverged] [-v]\n"
		"\n"
		"Server: replies to every TCP line and UDP datagram with a deterministic\n"
		"function of it (\"bytes N\" asks for N bytes). While the --diverge-file\n"
		"exists, one byte of every reply is flipped. Binds [::] (dual stack) by\n"
		"default; PORT 0 takes any free port. SIGTERM ends it. \"set K V\", \"get K\"\n"
		"and \"count\" use the state: a key/value store and a request counter.\n"
		"--control PATH: a unix socket taking one request per line: pause, resume,\n"
		"dump, load N (then N bytes), diverge on|off|N, status (docs/vm-drivers.md).\n"
		"\n"
		"Client: sends N requests (every K-th, default 5th, asks for --bytes bytes)\n"
		"over C TCP connections (default 1) or UDP, one in flight per connection,\n"
		"checks every reply (--diverged: expect the diverged ones), and prints one\n"
		"summary line. Exit status 1 on any wrong, missing or duplicate reply.\n"
		"--timeout (default 2000 ms) bounds the wait for each reply. UDP with\n"
		"--rate: open loop, requests leave at PPS whatever the replies do.\n");
}

static int svc_num(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || *v < min || *v > max) {
		fprintf(stderr, "colo-service: bad number '%s' (%lu..%lu); see --help\n",
			s, min, max);
		return -EINVAL;
	}
	return 0;
}

/* What is wrong with the options, or NULL. Ports: -1 not given. */
static const char *svc_check_args(const struct svc_opts *o, long tcp, long udp,
				  const char *control)
{
	if (o->host && (tcp < 0) == (udp < 0))
		return "the client needs exactly one of --tcp PORT and --udp PORT";
	if (!o->host && tcp < 0 && udp < 0)
		return "nothing to serve: give --tcp PORT and/or --udp PORT";
	if (o->host && (!tcp || !udp))
		return "the client needs a port of 1..65535";
	if (o->host && control)
		return "--control is for the server";
	if (o->rate && udp < 0)
		return "--rate is for the UDP client";
	if (o->host && udp >= 0 && o->bytes > SVC_UDP_MAX)
		return "--bytes over UDP is at most " SVC_XSTR(SVC_UDP_MAX) " (no fragments)";
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcp", required_argument, NULL, 't' },
		{ "udp", required_argument, NULL, 'u' },
		{ "bind", required_argument, NULL, 'b' },
		{ "diverge-file", required_argument, NULL, 'd' },
		{ "control", required_argument, NULL, 'x' },
		{ "client", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'B' },
		{ "every", required_argument, NULL, 'e' },
		{ "conns", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "rate", required_argument, NULL, 'r' },
		{ "diverged", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct svc_opts o = { .requests = 10, .every = 5, .conns = 1, .timeout_ms = 2000 };
	struct sigaction sa = { .sa_handler = svc_on_signal };
	const char *bind_addr = "::", *diverge = NULL, *control = NULL, *why;
	unsigned long port;
	long tcp = -1, udp = -1;
	int opt, bad = 0, err;

	while ((opt = getopt_long(argc, argv, "t:u:b:d:x:c:n:B:e:C:T:r:Dvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			bad |= svc_num(optarg, 0, 65535, &port);
			tcp = port;
			break;
		case 'u':
			bad |= svc_num(optarg, 0, 65535, &port);
			udp = port;
			break;
		case 'b': bind_addr = optarg; break;
		case 'd': diverge = optarg; break;
		case 'x': control = optarg; break;
		case 'c': o.host = optarg; break;
		case 'n': bad |= svc_num(optarg, 1, 10000000, &o.requests); break;
		case 'B': bad |= svc_num(optarg, 1, SVC_BYTES_MAX, &o.bytes); break;
		case 'e': bad |= svc_num(optarg, 1, ULONG_MAX, &o.every); break;
		case 'C': bad |= svc_num(optarg, 1, 1000, &o.conns); break;
		case 'T': bad |= svc_num(optarg, 1, 3600000, &o.timeout_ms); break;
		case 'r': bad |= svc_num(optarg, 1, 100000000, &o.rate); break;
		case 'D': o.diverged = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': svc_usage(stdout); return 0;
		default: bad = 1;
		}
	}
	if (!bad && optind < argc) {
		fprintf(stderr, "colo-service: unexpected argument '%s'\n", argv[optind]);
		bad = 1;
	}
	if (!bad && (why = svc_check_args(&o, tcp, udp, control))) {
		fprintf(stderr, "colo-service: %s\n", why);
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "Try 'colo-service --help'.\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o.host) {
		o.udp = udp >= 0;
		o.port = o.udp ? udp : tcp;
		err = svc_client(&o);
		return err < 0 ? 1 : err;
	}
	err = svc_serve(bind_addr, tcp, udp, diverge, control);
	return err ? 1 : 0;
}
