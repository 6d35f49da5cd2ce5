// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * colo-service's reply function, state and control socket: see svcctl.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "svcctl.h"

#define SVCCTL_LINE_MAX	256

/* --- buffer --- */

int svc_buf__put(struct svc_buf *b, const char *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void svc_buf__compact(struct svc_buf *b)
{
	if (!b->off)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* --- the stateless reply function, shared by server and client --- */

static uint32_t svc_fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static const char svc_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* "bytes N" or "bytes N TAG": 1 and N, TAG in *tag (may be empty). */
static int svc_parse_bytes(const char *req, size_t len, unsigned long *n,
			   const char **tag, size_t *tag_len)
{
	char num[16];
	size_t i = 6, j = 0;

	if (len < 7 || memcmp(req, "bytes ", 6))
		return 0;
	while (i < len && req[i] >= '0' && req[i] <= '9' && j < sizeof(num) - 1)
		num[j++] = req[i++];
	num[j] = 0;
	if (!j || (i < len && req[i] != ' '))
		return 0;
	*n = strtoul(num, NULL, 10);
	if (*n < 1 || *n > SVC_BYTES_MAX)
		return 0;
	if (i < len)
		i++;
	*tag = req + i;
	*tag_len = len - i;
	return 1;
}

/* Same length, different bytes: what a diverging VM answers. */
static void svc_flip(char *buf, size_t n)
{
	if (n >= 3)
		buf[(n - 1) / 2] ^= 0x20;
}

char *svc_reply(const char *req, size_t len, unsigned int count, int diverged,
		size_t *out_len)
{
	const char *tag;
	size_t tag_len, i, n;
	unsigned long want;
	char *buf;

	if (svc_parse_bytes(req, len, &want, &tag, &tag_len)) {
		n = want;
		buf = malloc(n);
		if (!buf)
			return NULL;
		for (i = 0; i + 1 < n; i++)
			buf[i] = svc_alphabet[(i + 7 * count) % 36];
		if (tag_len) {
			size_t t = tag_len + 1 < n ? tag_len : (n > 1 ? n - 2 : 0);

			memcpy(buf, tag, t);
			if (t + 1 < n)
				buf[t] = ' ';
		}
		buf[n - 1] = '\n';
	} else {
		n = len + 48;
		buf = malloc(n);
		if (!buf)
			return NULL;
		memcpy(buf, "echo:", 5);
		memcpy(buf + 5, req, len);
		n = 5 + len + snprintf(buf + 5 + len, 48, " #%u %08x\n", count,
				       svc_fnv(req, len) ^ count);
	}
	if (diverged)
		svc_flip(buf, n);
	*out_len = n;
	return buf;
}

/* --- the state --- */

void svc_state__release(struct svc_state *st)
{
	free(st->kv);
	memset(st, 0, sizeof(*st));
}

/* LEN bytes from 0x21 (keys: no space) or 0x20 up to 0x7e, within MAX. */
static int svc_printable(const char *s, size_t len, size_t min, size_t max,
			 int space)
{
	size_t i;

	if (len < min || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < (space ? 0x20 : 0x21) ||
		    (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Index of KEY, or of where it would go (*found 0). */
static unsigned int svc_state__find(const struct svc_state *st,
				    const char *key, int *found)
{
	unsigned int lo = 0, hi = st->nkv, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(st->kv[mid].key, key);
		if (!cmp) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int svc_state__set(struct svc_state *st, const char *key,
			  const char *val)
{
	unsigned int i;
	int found;

	i = svc_state__find(st, key, &found);
	if (!found) {
		if (st->nkv >= SVC_KEYS_MAX)
			return -ENOSPC;
		if (st->nkv == st->cap) {
			unsigned int cap = st->cap ? st->cap * 2 : 16;
			struct svc_kv *kv = realloc(st->kv, cap * sizeof(*kv));

			if (!kv)
				return -ENOMEM;
			st->kv = kv;
			st->cap = cap;
		}
		memmove(&st->kv[i + 1], &st->kv[i],
			(st->nkv - i) * sizeof(*st->kv));
		st->nkv++;
		snprintf(st->kv[i].key, sizeof(st->kv[i].key), "%s", key);
	}
	snprintf(st->kv[i].val, sizeof(st->kv[i].val), "%s", val);
	return 0;
}

static char *svc_printf(size_t *out_len, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *svc_printf(size_t *out_len, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	*out_len = n;
	return s;
}

/* "set K V": K, then V (the rest, may be empty, may hold spaces). */
static char *svc_state__req_set(struct svc_state *st, const char *req,
				size_t len, int diverged, size_t *out_len)
{
	char key[SVC_KEY_MAX + 1], val[SVC_VAL_MAX + 1];
	const char *sp = memchr(req, ' ', len);
	size_t klen = sp ? (size_t)(sp - req) : len;
	size_t vlen = sp ? len - klen - 1 : 0;
	const char *v = sp ? sp + 1 : "";
	int err;

	if (!svc_printable(req, klen, 1, SVC_KEY_MAX, 0) ||
	    !svc_printable(v, vlen, 0, SVC_VAL_MAX, 1))
		return svc_printf(out_len, "error set: needs a key of 1..%d printable characters without spaces and a value of at most %d\n",
				  SVC_KEY_MAX, SVC_VAL_MAX);
	memcpy(key, req, klen);
	key[klen] = 0;
	memcpy(val, v, vlen);
	val[vlen] = 0;
	if (diverged) {		/* the state diverges, not only the reply */
		if (!vlen)
			strcpy(val, "?");
		else
			val[0] = val[0] == '~' ? '!' : val[0] + 1;
	}
	err = svc_state__set(st, key, val);
	if (err == -ENOSPC)
		return svc_printf(out_len, "error set: the store is full (%d keys)\n",
				  SVC_KEYS_MAX);
	if (err)
		return NULL;
	return svc_printf(out_len, "set %s %s\n", key, val);
}

static char *svc_state__req_get(struct svc_state *st, const char *req,
				size_t len, size_t *out_len)
{
	char key[SVC_KEY_MAX + 1];
	unsigned int i;
	int found;

	if (!svc_printable(req, len, 1, SVC_KEY_MAX, 0))
		return svc_printf(out_len, "error get: needs a key of 1..%d printable characters without spaces\n",
				  SVC_KEY_MAX);
	memcpy(key, req, len);
	key[len] = 0;
	i = svc_state__find(st, key, &found);
	if (!found)
		return svc_printf(out_len, "none %s\n", key);
	return svc_printf(out_len, "get %s %s\n", key, st->kv[i].val);
}

char *svc_state__reply(struct svc_state *st, const char *req, size_t len,
		       unsigned int count, int diverged, size_t *out_len)
{
	char *rep;

	st->requests++;
	if (len > 4 && !memcmp(req, "set ", 4))
		rep = svc_state__req_set(st, req + 4, len - 4, diverged, out_len);
	else if (len > 4 && !memcmp(req, "get ", 4))
		rep = svc_state__req_get(st, req + 4, len - 4, out_len);
	else if (len == 5 && !memcmp(req, "count", 5))
		rep = svc_printf(out_len, "count %llu\n",
				 (unsigned long long)st->requests);
	else
		return svc_reply(req, len, count, diverged, out_len);
	if (rep && diverged)
		svc_flip(rep, *out_len);
	return rep;
}

/*
 * "colo-service-state 1 requests R keys N\n", then N lines "KEY VALUE\n"
 * in key order.
 */
int svc_state__dump(const struct svc_state *st, char **buf, size_t *len)
{
	struct svc_buf b = { 0 };
	char line[SVC_KEY_MAX + SVC_VAL_MAX + 64];
	unsigned int i;
	int n;

	n = snprintf(line, sizeof(line), "colo-service-state 1 requests %llu keys %u\n",
		     (unsigned long long)st->requests, st->nkv);
	if (svc_buf__put(&b, line, n))
		goto fail;
	for (i = 0; i < st->nkv; i++) {
		n = snprintf(line, sizeof(line), "%s %s\n", st->kv[i].key,
			     st->kv[i].val);
		if (svc_buf__put(&b, line, n))
			goto fail;
	}
	*buf = b.data;
	*len = b.len;
	return 0;
fail:
	free(b.data);
	return -ENOMEM;
}

static int svc_load_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int svc_load_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One "KEY VALUE\n" line at *p into NEW, keys strictly ascending. */
static int svc_load_line(struct svc_state *new, const char **p,
			 const char *end, unsigned int i, char *why,
			 size_t whylen)
{
	const char *nl = memchr(*p, '\n', end - *p), *sp;
	char key[SVC_KEY_MAX + 1], val[SVC_VAL_MAX + 1];
	size_t klen, vlen;

	if (!nl)
		return svc_load_fail(why, whylen, "key %u is cut short", i + 1);
	sp = memchr(*p, ' ', nl - *p);
	klen = sp ? (size_t)(sp - *p) : 0;
	vlen = sp ? (size_t)(nl - sp - 1) : 0;
	if (!sp || !svc_printable(*p, klen, 1, SVC_KEY_MAX, 0) ||
	    !svc_printable(sp + 1, vlen, 0, SVC_VAL_MAX, 1))
		return svc_load_fail(why, whylen, "key %u is not 'KEY VALUE' with a key of 1..%d and a value of 0..%d printable characters",
				     i + 1, SVC_KEY_MAX, SVC_VAL_MAX);
	memcpy(key, *p, klen);
	key[klen] = 0;
	memcpy(val, sp + 1, vlen);
	val[vlen] = 0;
	if (i && strcmp(new->kv[i - 1].key, key) >= 0)
		return svc_load_fail(why, whylen, "key %u ('%s') is out of order",
				     i + 1, key);
	*p = nl + 1;
	return svc_state__set(new, key, val);
}

int svc_state__load(struct svc_state *st, const char *buf, size_t len,
		    char *why, size_t whylen)
{
	struct svc_state new = { 0 };
	const char *p = buf, *end = buf + len, *nl;
	unsigned long long requests;
	char head[96];
	unsigned int i, nkeys;
	int n = -1, err;

	nl = memchr(buf, '\n', len < sizeof(head) ? len : sizeof(head));
	if (!nl)
		return svc_load_fail(why, whylen, "no header line");
	memcpy(head, buf, nl - buf);
	head[nl - buf] = 0;
	if (sscanf(head, "colo-service-state 1 requests %llu keys %u%n",
		   &requests, &nkeys, &n) != 2 || n != nl - buf)
		return svc_load_fail(why, whylen, "header '%.60s' is not 'colo-service-state 1 requests R keys N'",
				     head);
	if (nkeys > SVC_KEYS_MAX)
		return svc_load_fail(why, whylen, "%u keys, at most %d",
				     nkeys, SVC_KEYS_MAX);
	new.requests = requests;
	p = nl + 1;
	for (i = 0; i < nkeys; i++) {
		err = svc_load_line(&new, &p, end, i, why, whylen);
		if (err) {
			svc_state__release(&new);
			return err;
		}
	}
	if (p != end) {
		svc_state__release(&new);
		return svc_load_fail(why, whylen, "%zu bytes after the last key",
				     (size_t)(end - p));
	}
	svc_state__release(st);
	*st = new;
	return 0;
}

uint64_t svc_state__hash(const struct svc_state *st)
{
	uint64_t h = 14695981039346656037ull;
	size_t len, i;
	char *buf;

	if (svc_state__dump(st, &buf, &len))
		return 0;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ull;
	}
	free(buf);
	return h;
}

/* --- the control socket --- */

struct svcctl_client {
	int fd;			/* -1: the slot is free */
	struct svc_buf in, out;
	size_t load;		/* after "load N": N bytes of state to come */
	int closing;		/* close once out is sent */
};

struct svcctl {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	struct svcctl_client cl[SVCCTL_CLIENTS];
	struct svc_state *st;
	const struct svc_counters *cnt;
	int paused;
	long diverge;		/* -1: every reply, 0: none, N: the next N */
	unsigned long dumps, loads;
};

static void svcctl_say(struct svcctl_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void svcctl_say(struct svcctl_client *cl, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (svc_buf__put(&cl->out, line, n))
		cl->closing = 1;
}

static void svcctl__dump(struct svcctl *c, struct svcctl_client *cl)
{
	char *buf;
	size_t len;

	if (svc_state__dump(c->st, &buf, &len)) {
		svcctl_say(cl, "error dump: out of memory\n");
		return;
	}
	svcctl_say(cl, "state %zu\n", len);
	if (svc_buf__put(&cl->out, buf, len))
		cl->closing = 1;	/* the peer sees the stream end */
	free(buf);
	c->dumps++;
}

/* "load N": the N bytes follow on the connection. */
static void svcctl__load_req(struct svcctl_client *cl, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || !n) {
		svcctl_say(cl, "error load: 'load %.40s' needs a size of 1..%u bytes\n",
			   arg, SVC_STATE_MAX);
	} else if (n > SVC_STATE_MAX) {
		/* The bytes would follow anyway: the stream is lost. */
		svcctl_say(cl, "error load: %lu bytes of state, at most %u\n",
			   n, SVC_STATE_MAX);
		cl->closing = 1;
	} else {
		cl->load = n;
	}
}

static void svcctl__load(struct svcctl *c, struct svcctl_client *cl,
			 const char *buf, size_t len)
{
	char why[160];
	int err;

	err = svc_state__load(c->st, buf, len, why, sizeof(why));
	if (err == -EINVAL)
		svcctl_say(cl, "error load: %s; the state is unchanged\n", why);
	else if (err)
		svcctl_say(cl, "error load: out of memory; the state is unchanged\n");
	else
		svcctl_say(cl, "ok loaded %zu\n", len);
	c->loads += !err;
}

static const char *svcctl__diverge_str(const struct svcctl *c, char *buf,
				       size_t len)
{
	if (c->diverge < 0)
		return "on";
	if (!c->diverge)
		return "off";
	snprintf(buf, len, "%ld", c->diverge);
	return buf;
}

static void svcctl__diverge_req(struct svcctl *c, struct svcctl_client *cl,
				const char *arg)
{
	char *end, buf[24];
	long n;

	if (!strcmp(arg, "on")) {
		c->diverge = -1;
	} else if (!strcmp(arg, "off")) {
		c->diverge = 0;
	} else {
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 1000000000) {
			svcctl_say(cl, "error diverge: '%.40s' is not on, off or a number of replies (1..1000000000)\n",
				   arg);
			return;
		}
		c->diverge = n;
	}
	svcctl_say(cl, "ok diverge %s\n", svcctl__diverge_str(c, buf, sizeof(buf)));
}

static void svcctl__status(struct svcctl *c, struct svcctl_client *cl)
{
	const struct svc_counters *n = c->cnt;
	char buf[24];

	svcctl_say(cl, "status paused %d diverge %s hash %016llx requests %llu keys %u tcp_port %d udp_port %d accepted %lu tcp_requests %lu udp_requests %lu diverged %lu dumps %lu loads %lu pid %d\n",
		   c->paused, svcctl__diverge_str(c, buf, sizeof(buf)),
		   (unsigned long long)svc_state__hash(c->st),
		   (unsigned long long)c->st->requests, c->st->nkv,
		   n->tcp_port, n->udp_port, n->accepted, n->tcp_requests,
		   n->udp_requests, n->diverged, c->dumps, c->loads,
		   (int)getpid());
}

static void svcctl__request(struct svcctl *c, struct svcctl_client *cl,
			    const char *line)
{
	if (!strcmp(line, "pause")) {
		c->paused = 1;
		svcctl_say(cl, "ok paused\n");
	} else if (!strcmp(line, "resume")) {
		c->paused = 0;
		svcctl_say(cl, "ok running\n");
	} else if (!strcmp(line, "dump")) {
		svcctl__dump(c, cl);
	} else if (!strncmp(line, "load ", 5)) {
		svcctl__load_req(cl, line + 5);
	} else if (!strncmp(line, "diverge ", 8)) {
		svcctl__diverge_req(c, cl, line + 8);
	} else if (!strcmp(line, "status")) {
		svcctl__status(c, cl);
	} else {
		svcctl_say(cl, "error unknown request '%.40s': try pause, resume, dump, load N, diverge on|off|N, status\n",
			   line);
	}
}

/* Requests complete in cl->in, and the state bytes of a "load N". */
static void svcctl__input(struct svcctl *c, struct svcctl_client *cl)
{
	char *p, *nl;
	size_t have;

	while (!cl->closing) {
		p = cl->in.data + cl->in.off;
		have = cl->in.len - cl->in.off;
		if (cl->load) {
			if (have < cl->load)
				break;
			svcctl__load(c, cl, p, cl->load);
			cl->in.off += cl->load;
			cl->load = 0;
			continue;
		}
		nl = memchr(p, '\n', have);
		if (!nl || nl - p > SVCCTL_LINE_MAX) {
			if (nl || have > SVCCTL_LINE_MAX) {
				svcctl_say(cl, "error request longer than %d bytes\n",
					   SVCCTL_LINE_MAX);
				cl->closing = 1;
			}
			break;
		}
		cl->in.off += nl - p + 1;
		if (nl > p && nl[-1] == '\r')
			nl--;
		*nl = 0;
		svcctl__request(c, cl, p);
	}
	svc_buf__compact(&cl->in);
}

/* Sends what it can; -ECONNRESET once a closing client has it all. */
static int svcctl__flush(struct svcctl_client *cl)
{
	ssize_t n;

	while (cl->out.off < cl->out.len) {
		n = send(cl->fd, cl->out.data + cl->out.off,
			 cl->out.len - cl->out.off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		cl->out.off += n;
	}
	return cl->closing ? -ECONNRESET : 0;
}

static int svcctl__serve(struct svcctl *c, struct svcctl_client *cl,
			 short revents)
{
	char buf[16384];
	ssize_t n;

	if (revents & (POLLERR | POLLNVAL))
		return -EIO;
	if (!cl->closing && (revents & (POLLIN | POLLHUP))) {
		n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)		/* half closed: answer, then close */
			cl->closing = 1;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0) {
			if (svc_buf__put(&cl->in, buf, n))
				return -ENOMEM;
			svcctl__input(c, cl);
		}
	}
	return svcctl__flush(cl);
}

static void svcctl__drop(struct svcctl_client *cl)
{
	close(cl->fd);
	free(cl->in.data);
	free(cl->out.data);
	*cl = (struct svcctl_client){ .fd = -1 };
}

static void svcctl__accept(struct svcctl *c)
{
	static const char busy[] = "error busy: " "too many control connections\n";
	int fd, i;

	while ((fd = accept4(c->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < SVCCTL_CLIENTS && c->cl[i].fd >= 0; i++)
			;
		if (i == SVCCTL_CLIENTS) {
			send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->cl[i] = (struct svcctl_client){ .fd = fd };
	}
}

void svcctl__pollfds(const struct svcctl *c, struct pollfd *pfd)
{
	const struct svcctl_client *cl;
	int i;

	for (i = 0; i < SVCCTL_NFDS; i++)
		pfd[i] = (struct pollfd){ .fd = -1 };
	if (!c)
		return;
	pfd[0] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (i = 0; i < SVCCTL_CLIENTS; i++) {
		cl = &c->cl[i];
		if (cl->fd < 0)
			continue;
		pfd[i + 1].fd = cl->fd;
		pfd[i + 1].events = (cl->closing ? 0 : POLLIN) |
				    (cl->out.off < cl->out.len ? POLLOUT : 0);
	}
}

void svcctl__process(struct svcctl *c, const struct pollfd *pfd)
{
	struct svcctl_client *cl;
	int i;

	if (!c)
		return;
	if (pfd[0].revents & POLLIN)
		svcctl__accept(c);
	for (i = 0; i < SVCCTL_CLIENTS; i++) {
		cl = &c->cl[i];
		/* a slot filled by this round's accept was not polled */
		if (cl->fd < 0 || pfd[i + 1].fd != cl->fd || !pfd[i + 1].revents)
			continue;
		if (svcctl__serve(c, cl, pfd[i + 1].revents))
			svcctl__drop(cl);
	}
}

int svcctl__paused(const struct svcctl *c)
{
	return c && c->paused;
}

int svcctl__diverge(struct svcctl *c)
{
	if (!c || !c->diverge)
		return 0;
	if (c->diverge > 0)
		c->diverge--;
	return 1;
}

/* Does a live process listen at SA? (Then its socket is not ours to take.) */
static int svcctl_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int used;

	if (fd < 0)
		return 0;
	used = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ||
	       errno == EAGAIN;
	close(fd);
	return used;
}

struct svcctl *svcctl_open(const char *path, struct svc_state *st,
			   const struct svc_counters *cnt)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct svcctl *c;
	struct stat sb;
	int i, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "colo-service: control socket path '%s' is longer than %zu bytes: choose a shorter one\n",
			path, sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	if (svcctl_in_use(&sa)) {
		fprintf(stderr, "colo-service: another process listens on %s: give each service its own --control path\n",
			path);
		errno = EADDRINUSE;
		return NULL;
	}
	if (!stat(path, &sb) && S_ISSOCK(sb.st_mode))
		unlink(path);		/* left by a service that died */
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	strcpy(c->path, path);
	c->st = st;
	c->cnt = cnt;
	for (i = 0; i < SVCCTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(c->fd, 8)) {
		err = errno;
		fprintf(stderr, "colo-service: cannot listen on control socket %s: %s\n",
			path, strerror(err));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void svcctl_close(struct svcctl *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < SVCCTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			svcctl__drop(&c->cl[i]);
	close(c->fd);
	unlink(c->path);
	free(c);
}
