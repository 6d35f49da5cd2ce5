/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QMP client: one connection to a QEMU monitor over a unix or TCP socket.
 *
 * The object never blocks unless asked to. A poll loop takes qmp__fd(),
 * qmp__poll_events() and qmp__timeout_ms(), and calls qmp__process() when
 * the fd is ready or the timeout has passed; replies reach the callback given
 * to qmp__send() and events the event callback. Simple callers use
 * qmp__connect() and qmp__call(), which block up to a timeout.
 *
 * Commands carry an "id", so a reply is matched to its command whatever
 * events or other replies arrive in between. Time is CLOCK_MONOTONIC.
 *
 * Errors, in replies and return values:
 *   -EREMOTEIO   QEMU answered with an error: class and desc are set
 *   -ETIMEDOUT   no answer before the deadline (a late reply is dropped)
 *   -ECONNRESET  QEMU closed the connection or died (EOF, reset, EPIPE)
 *   -EPROTO      QEMU sent something that is not QMP (bad JSON, no greeting)
 *   -ECANCELED   the client was closed with the command still pending
 * Once the connection is lost every pending command fails with that error
 * and later sends return it too; qmp__strerror() says what happened.
 */
#ifndef COLO_PROXY_QMP_H
#define COLO_PROXY_QMP_H

#include <jansson.h>
#include <stdint.h>

struct qmp;

struct qmp_event {
	const char *name;	/* "STOP", "RESUME", "MIGRATION", ... */
	json_t *data;		/* the "data" object, NULL when absent; borrowed */
	int64_t sec;		/* QEMU's timestamp (host realtime clock); */
	int64_t usec;		/* -1 when QEMU could not read its clock */
};

struct qmp_reply {
	int err;		/* 0 or -errno as above */
	const char *cmd;	/* the command this answers */
	json_t *ret;		/* the "return" value when err == 0; borrowed */
	const char *eclass;	/* QEMU's error class when err == -EREMOTEIO */
	const char *desc;	/* QEMU's error text, or ours for other errors */
};

/* Callbacks run from qmp__process() (and so from qmp__call()). They may
 * call qmp__send() but must not call qmp__call() or qmp__close(). */
typedef void (*qmp_event_fn)(void *arg, const struct qmp_event *ev);
typedef void (*qmp_reply_fn)(void *arg, const struct qmp_reply *r);

struct qmp_config {
	/*
	 * "unix:/path", "tcp:host:port", or a plain path. IPv6 hosts go in
	 * brackets: "tcp:[::1]:4444".
	 */
	const char *addr;
	int no_oob;		/* do not enable OOB even if QEMU offers it */
	int handshake_ms;	/* limit for connect + greeting + negotiation;
				 * 0 means 5000 */
	qmp_event_fn on_event;	/* may be NULL */
	void *arg;
};

/*
 * Start connecting; never blocks. The greeting and the capabilities
 * negotiation then happen inside qmp__process(). Returns NULL with errno
 * set when the address is bad or the socket cannot be created or connected
 * at once (ENOENT, ECONNREFUSED...).
 */
struct qmp *qmp__open(const struct qmp_config *cfg);

/*
 * qmp__open() and wait until negotiated, up to cfg->handshake_ms.
 * Returns NULL with errno set; when errbuf is not NULL it receives a
 * sentence for the user.
 */
struct qmp *qmp__connect(const struct qmp_config *cfg, char *errbuf,
			 size_t errlen);

/* Pending commands fail with -ECANCELED (callbacks run). NULL-safe. */
void qmp__close(struct qmp *q);

/* For the caller's poll loop. */
int qmp__fd(const struct qmp *q);
short qmp__poll_events(const struct qmp *q);	/* POLLIN, maybe POLLOUT */
/* Milliseconds until the nearest deadline (rounded up), -1 if none. */
int qmp__timeout_ms(const struct qmp *q);

/*
 * Do what can be done without blocking: finish connecting, write, read,
 * dispatch replies and events, fail commands past their deadline. Returns 0
 * while the connection is usable, -errno once it is lost.
 */
int qmp__process(struct qmp *q);

/* 1 once qmp_capabilities has succeeded. */
int qmp__ready(const struct qmp *q);
/* Negotiated out-of-band execution. */
int qmp__oob(const struct qmp *q);
/* From the greeting; 0 before it has arrived. */
int qmp__version(const struct qmp *q, int *major, int *minor, int *micro);
/* What went wrong with the connection, or "" while it is fine. */
const char *qmp__strerror(const struct qmp *q);

#define QMP_SEND_OOB	0x1	/* "exec-oob": needs qmp__oob() */

/*
 * Queue a command; args (may be NULL) is stolen, as jansson's *_new
 * functions do. Commands queued before the negotiation has finished are
 * written right after it. timeout_ms <= 0 means no deadline. cb (may be
 * NULL) runs exactly once, unless the send itself fails. Returns the id
 * (> 0) or -errno.
 */
int64_t qmp__send(struct qmp *q, const char *cmd, json_t *args, int flags,
		  int timeout_ms, qmp_reply_fn cb, void *arg);

/* Error details for a blocking call. For transport errors eclass is "". */
struct qmp_error {
	char eclass[64];
	char desc[256];
};

/*
 * Send a command and wait for its reply, processing events meanwhile.
 * On success returns 0 and, if ret is not NULL, a new reference to the
 * "return" value. On failure returns -errno as above and fills err (may be
 * NULL). Returns -EDEADLK when called from a callback.
 */
int qmp__call(struct qmp *q, const char *cmd, json_t *args, int timeout_ms,
	      json_t **ret, struct qmp_error *err);

#endif
