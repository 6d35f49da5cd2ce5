/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The link between the primary's and the secondary's colo-proxy: one TCP
 * connection carrying colo-core/protocol.h messages (12 bytes each) and,
 * after a vmstate-size(N), N raw state bytes.
 *
 * The primary listens (--listen), the secondary connects (--peer) and
 * retries with a growing backoff until it gets through. Never blocks: the
 * owner puts colo_peer__pollfd() into its poll() and calls
 * colo_peer__process() afterwards; what arrived is delivered through the
 * callbacks, in stream order. A callback may send, switch the link to raw
 * state bytes (colo_peer__expect_state) or close it.
 */
#ifndef COLO_PROXY_PEER_H
#define COLO_PROXY_PEER_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* protocol.h is not included: its enum colo_cmd clashes with cli.h's
 * struct colo_cmd, and the CLI parses --listen/--peer here. */
struct colo_msg;

#define COLO_PEER_MSG_LEN	12	/* COLO_MSG_LEN, checked in peer.c */

#define COLO_PEER_BACKOFF_MIN_NS	(100ULL * 1000000ULL)
#define COLO_PEER_BACKOFF_MAX_NS	(2000ULL * 1000000ULL)

struct colo_peer_ops {
	/* A connection is up (accepted, or our connect succeeded). */
	void (*up)(void *ctx);
	/*
	 * The connection is gone (EOF, reset, write error, or replaced by a
	 * newer one). partial: bytes of an unfinished message that were
	 * buffered, 0 when it ended on a message boundary.
	 */
	void (*down)(void *ctx, size_t partial, const char *why);
	/* One message. err: 0, or -EPROTO for an unknown command (m filled for
	 * the log; the stream cannot be trusted after it). */
	void (*msg)(void *ctx, const struct colo_msg *m, int err);
	/* Raw state bytes arrived: got of the expected total; done when all
	 * are in (colo_peer__take_state() hands them over). */
	void (*state)(void *ctx, size_t got, int done);
};

enum colo_peer_state {
	COLO_PEER_IDLE,		/* not started */
	COLO_PEER_LISTENING,	/* primary: waiting for the secondary */
	COLO_PEER_CONNECTING,	/* secondary: connect() in progress */
	COLO_PEER_BACKOFF,	/* secondary: waiting to retry */
	COLO_PEER_CONNECTED,
	COLO_PEER_CLOSED,	/* given up for good */
};

struct colo_peer {
	int listen;			/* 1: accept (primary), 0: connect */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[80];			/* ADDR:PORT as given */
	enum colo_peer_state state;
	int lfd;			/* listening socket, -1 */
	int fd;				/* the connection, -1 */
	int accepting;			/* 0: refuse newcomers (after COLO ended) */

	uint64_t retry_at_ns;		/* BACKOFF: when to connect again */
	uint64_t backoff_ns;

	uint8_t in[COLO_PEER_MSG_LEN];	/* an unfinished message */
	size_t in_len;
	uint8_t *st;			/* raw state being received */
	size_t st_len, st_got;
	int st_mode;			/* the next st_len - st_got bytes are state */

	uint8_t *out;			/* queued output */
	size_t out_len, out_off, out_cap;

	const struct colo_peer_ops *ops;
	void *ctx;

	/* statistics */
	uint64_t connects;		/* connections established */
	uint64_t attempts;		/* connect() calls (secondary) */
	uint64_t drops;			/* connections lost */
	uint64_t refused;		/* newcomers closed at once */
	uint64_t rx_bytes, tx_bytes;
	uint64_t up_ns;			/* when the current one came up */
	char last_err[128];		/* why the last attempt or link failed */
};

/*
 * Parse "ADDR:PORT" ("[V6]:PORT" for IPv6, names resolved once). 0, or
 * -EINVAL with a message naming opt ("--listen").
 */
int colo_peer_parse_addr(const char *opt, const char *s,
			 struct sockaddr_storage *ss, socklen_t *len);

/* Set up; nothing is opened yet. addr as parsed by colo_peer_parse_addr. */
void colo_peer__init(struct colo_peer *p, int listen, const char *name,
		     const struct sockaddr_storage *addr, socklen_t addrlen,
		     const struct colo_peer_ops *ops, void *ctx);
/* Listen (primary) or start connecting (secondary). -errno, printed. */
int colo_peer__start(struct colo_peer *p, uint64_t now_ns);
/* Close everything, free the buffers. */
void colo_peer__fini(struct colo_peer *p);

#define COLO_PEER_POLLFDS	2

/* Fill up to COLO_PEER_POLLFDS descriptors to poll (the listening socket,
 * the connection); returns how many, 0 while waiting to retry. */
int colo_peer__pollfd(const struct colo_peer *p, struct pollfd *pfd);
/* Milliseconds until the peer needs a call without an event (reconnect),
 * -1 for none. */
int colo_peer__timeout_ms(const struct colo_peer *p, uint64_t now_ns);
/* After poll: accept, connect, read, write; callbacks run from here. */
void colo_peer__process(struct colo_peer *p, const struct pollfd *pfd, int n,
			uint64_t now_ns);

/* Queue a message (and try to write it at once). -ENOTCONN without a
 * connection, -ENOMEM. */
int colo_peer__send(struct colo_peer *p, uint32_t cmd, uint64_t value);
/* Queue raw bytes (the state after vmstate-size). */
int colo_peer__send_raw(struct colo_peer *p, const uint8_t *buf, size_t len);
/* The next len bytes on the link are raw state. -ENOMEM, -EBUSY. */
int colo_peer__expect_state(struct colo_peer *p, size_t len);
/* Hand the received state over (the caller frees it); NULL if none. */
uint8_t *colo_peer__take_state(struct colo_peer *p, size_t *len);
/* Throw a partly received state away and go back to messages. */
void colo_peer__drop_state(struct colo_peer *p);
/* Close the connection without calling down(); stop accepting or
 * reconnecting when for_good. */
void colo_peer__close(struct colo_peer *p, int for_good);

/* Bytes queued but not yet written. */
static inline size_t colo_peer__pending(const struct colo_peer *p)
{
	return p->out_len - p->out_off;
}

const char *colo_peer_state_name(enum colo_peer_state s);

#endif
