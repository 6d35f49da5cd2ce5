/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * colo-service's reply function, its state and its control socket.
 *
 * The state is what a checkpoint moves from the primary's service to the
 * secondary's: the number of requests handled and a small key/value store
 * that requests change ("set K V") and read ("get K"). Every reply is a
 * function of (state, request, request's number on its connection), so a
 * service that loaded another's state answers from then on exactly as that
 * one does, until something diverges.
 *
 * The control socket (colo-service --control PATH, a unix stream socket)
 * takes one request per line and answers one line; see docs/vm-drivers.md:
 *   pause                 stop handling the network  -> "ok paused"
 *   resume                handle it again            -> "ok running"
 *   dump                  -> "state N", then N bytes of state
 *   load N, then N bytes  replace the state          -> "ok loaded N"
 *   diverge on|off|N      flip a byte of every reply (N: of the next N)
 *                         and corrupt what "set" stores -> "ok diverge X"
 *   status                -> "status paused 0|1 diverge X hash H ..."
 * Anything refused gets "error WHAT: WHY"; the state is then unchanged.
 */
#ifndef COLO_SVCCTL_H
#define COLO_SVCCTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define SVC_BYTES_MAX	(64u << 20)	/* largest "bytes N" */
#define SVC_KEY_MAX	64	/* bytes of a key: printable, no spaces */
#define SVC_VAL_MAX	256	/* bytes of a value: printable */
#define SVC_KEYS_MAX	1024
#define SVC_STATE_MAX	(1u << 20)	/* largest "load N" */

/* A growable byte buffer: data[off, len) not consumed yet. */
struct svc_buf {
	char *data;
	size_t len, off, cap;
};

int svc_buf__put(struct svc_buf *b, const char *p, size_t n);
/* Drops consumed bytes from the front. */
void svc_buf__compact(struct svc_buf *b);

/*
 * The stateless reply to request REQ (LEN bytes, no newline), the COUNT-th
 * on its connection (UDP: 0):
 *   "bytes N [TAG]"  ->  N deterministic bytes (TAG first), the last '\n'
 *   LINE             ->  "echo:LINE #COUNT CHECKSUM\n"
 * DIVERGED flips one byte in the middle (same length). Returns a malloc'd
 * buffer and its length in *out_len, or NULL (out of memory).
 */
char *svc_reply(const char *req, size_t len, unsigned int count, int diverged,
		size_t *out_len);

struct svc_kv {
	char key[SVC_KEY_MAX + 1];
	char val[SVC_VAL_MAX + 1];
};

/* All zero is an empty state. */
struct svc_state {
	uint64_t requests;	/* handled, all kinds */
	struct svc_kv *kv;	/* sorted by key */
	unsigned int nkv, cap;
};

void svc_state__release(struct svc_state *st);

/*
 * Counts the request and answers it: the stateful forms
 *   "set K V" -> "set K V\n" (the value as stored)
 *   "get K"   -> "get K V\n", or "none K\n"
 *   "count"   -> "count N\n" (requests handled, this one included)
 * and svc_reply() for anything else. DIVERGED also makes "set" store a
 * different value (first byte changed, "?" for an empty one).
 */
char *svc_state__reply(struct svc_state *st, const char *req, size_t len,
		       unsigned int count, int diverged, size_t *out_len);
/* The state as bytes (*buf from malloc): the same state, the same bytes. */
int svc_state__dump(const struct svc_state *st, char **buf, size_t *len);
/* Replaces the state, or leaves it and says why in WHY: 0 or -EINVAL,
 * -ENOMEM. */
int svc_state__load(struct svc_state *st, const char *buf, size_t len,
		    char *why, size_t whylen);
/* FNV-1a 64 of the dump; 0 if out of memory. */
uint64_t svc_state__hash(const struct svc_state *st);

/* What the server counts, for "status". Not part of the state. */
struct svc_counters {
	unsigned long accepted, tcp_requests, udp_requests, diverged;
	int tcp_port, udp_port;	/* bound; 0: not served */
};

#define SVCCTL_CLIENTS	4
#define SVCCTL_NFDS	(1 + SVCCTL_CLIENTS)	/* listener, clients */

struct svcctl;

/*
 * Listens on PATH (an existing socket file there is replaced). ST and CNT
 * stay the server's; load replaces *ST. NULL with errno set after a
 * message on stderr.
 */
struct svcctl *svcctl_open(const char *path, struct svc_state *st,
			   const struct svc_counters *cnt);
/* Closes the connections and removes PATH. NULL is fine. */
void svcctl_close(struct svcctl *c);
/* Fills SVCCTL_NFDS entries (fd -1 when unused; all of them for NULL). */
void svcctl__pollfds(const struct svcctl *c, struct pollfd *pfd);
/* Serves what poll() reported in those entries. */
void svcctl__process(struct svcctl *c, const struct pollfd *pfd);
/* Must the service leave its network sockets alone? 0 for NULL. */
int svcctl__paused(const struct svcctl *c);
/* Should the next reply diverge? Counts one off "diverge N". */
int svcctl__diverge(struct svcctl *c);

#endif
