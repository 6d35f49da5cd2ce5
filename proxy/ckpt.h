/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checkpoint loop of one colo-proxy: the colo-core protocol machine of
 * its side (struct colo_primary or colo_secondary) and, on the primary, the
 * checkpoint policy (struct colo_policy), fed with what happens around
 * them (comparator divergences, messages and state bytes from the peer
 * proxy, timers, the VM driver's events) and carrying out what they answer
 * (send a message, stop/save/load/resume the VM, release the held output,
 * reset the TCP rewrite, fail over).
 *
 * The object is opaque (its insides, ckpt_int.h, need colo-core's
 * protocol.h, whose enum colo_cmd clashes with cli.h's struct colo_cmd).
 * Primary: colo_ckpt__attach_loop() puts it into the comparator loop
 * (checkpoint hook and extra poll descriptors). Secondary:
 * colo_ckpt__run() is its whole event loop.
 *
 * State for `colo-proxy status` goes to COLO_CKPT_STATUS_DIR/NAME.json,
 * rewritten (atomically) every 200 ms and at every failover.
 */
#ifndef COLO_PROXY_CKPT_H
#define COLO_PROXY_CKPT_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mode.h"
#include "vmdrv.h"

struct colo_loop;

#define COLO_CKPT_STATUS_DIR	"/run/colo-proxy"
#define COLO_CKPT_STATUS_NS	(200ULL * 1000000ULL)
#define COLO_CKPT_HEARTBEAT_MS	100
#define COLO_CKPT_HB_TIMEOUT_MS	1000
#define COLO_CKPT_MAX_STATE	(1ULL << 30)	/* largest state a secondary takes */

/* What `colo-proxy attach` was told about the checkpoint loop. */
struct colo_ckpt_opts {
	const char *listen;		/* primary: ADDR:PORT to listen on */
	const char *peer;		/* secondary: the primary's ADDR:PORT */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const struct vmdrv_ops *drv;	/* --driver */
	const char *vm;			/* --vm TARGET */
	struct colo_policy_cfg policy;	/* --checkpoint, --interval, ... */
	int mode_given;			/* --checkpoint was given */
	uint64_t heartbeat_ns;
	uint64_t heartbeat_timeout_ns;
	int no_datapath;		/* secondary: protocol and VM driver only */
};

/* Defaults: hybrid, heartbeat 100 ms, timeout 1000 ms. */
void colo_ckpt_opts_default(struct colo_ckpt_opts *o);

/* Where the checkpoint loop meets the rest of the process. */
struct colo_ckpt_env {
	const char *instance;
	unsigned int role;		/* COLO_ROLE_* */
	struct colo_loop *loop;		/* primary: the comparator */
	int conns_map_fd;		/* primary: colo_conns (rewrite reset) */
	/* Failover on this host's datapath: set COLO_CFG_PASSTHROUGH (and on
	 * the secondary stop injecting). -errno, message printed. */
	int (*datapath_failover)(void *ctx);
	void *dp_ctx;
};

struct colo_ckpt;

/*
 * Open the VM driver (and check it), start listening or connecting. On the
 * primary env->loop must be initialised. NULL with errno set, message
 * printed.
 */
struct colo_ckpt *colo_ckpt__new(const struct colo_ckpt_opts *o,
				 const struct colo_ckpt_env *env);
/* Primary: become the loop's checkpoint hook and poll its descriptors. */
void colo_ckpt__attach_loop(struct colo_ckpt *c);
/* Secondary: serve until a signal arrives on sig_fd (0) or a fatal error. */
int colo_ckpt__run(struct colo_ckpt *c, int sig_fd);
/* Close the link and the driver, remove the status file. NULL-safe. */
void colo_ckpt__free(struct colo_ckpt *c);

/* The poll half, for any loop: fill up to max descriptors (revents
 * cleared), lower *timeout_ms to the nearest deadline; then done() with
 * the same entries. */
int colo_ckpt__fill(struct colo_ckpt *c, struct pollfd *pfd, int max,
		    int *timeout_ms);
int colo_ckpt__done(struct colo_ckpt *c, const struct pollfd *pfd, int n);

/* Status file: COLO_CKPT_STATUS_DIR/NAME.json. */
int colo_ckpt_status_path(const char *instance, char *buf, size_t len);

#endif
