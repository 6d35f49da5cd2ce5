// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The secondary's side of the checkpoint loop: answer the primary's
 * requests (stop the VM in hybrid mode), read the state bytes, load them,
 * resume; take over when the primary is lost. colo_ckpt__run() is the
 * secondary proxy's event loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ckpt_int.h"
#include "log.h"
#include "loop.h"

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void cks_state(struct colo_ckpt *c, size_t got, int done)
{
	ck_post(c, COLO_EV_STATE_PROGRESS, got, 0);
	if (done)
		ck_post(c, COLO_EV_STATE_RECEIVED, 0, c->recv_seq);
}

static void recv_state(struct colo_ckpt *c, const struct colo_action *a)
{
	int err;

	c->recv_seq = a->seq;
	err = colo_peer__expect_state(&c->peer, a->value);
	if (!err)
		return;
	pr_err("checkpoint %" PRIu64 ": cannot take %" PRIu64 " state bytes: %s",
	       a->seq, a->value, strerror(-err));
	colo_peer__close(&c->peer, 1);
	ck_post(c, COLO_EV_PEER_LOST, 0, 0);
}

static void stop_vm(struct colo_ckpt *c, uint64_t seq)
{
	int err;

	if (!c->self) {
		err = vmdrv__stop(c->drv);
		if (err)
			pr_warn("cannot stop the secondary VM: %s (the state it loads replaces what it did meanwhile)",
				vmdrv__strerror(c->drv));
	}
	ck_post(c, COLO_EV_VM_STOPPED, 0, seq);
}

static void resume_vm(struct colo_ckpt *c)
{
	int err;

	if (c->self)
		return;
	err = vmdrv__resume(c->drv);
	if (err)
		pr_err("cannot resume the secondary VM: %s",
		       vmdrv__strerror(c->drv));
}

static void load_state(struct colo_ckpt *c, uint64_t seq)
{
	uint8_t *buf;
	size_t len = 0;
	int err = -ENODATA;

	buf = colo_peer__take_state(&c->peer, &len);
	if (buf)
		err = vmdrv__load(c->drv, buf, len);
	free(buf);
	if (err) {
		pr_err("checkpoint %" PRIu64 ": cannot load %zu state bytes into the secondary VM: %s",
		       seq, len, buf ? vmdrv__strerror(c->drv) : "no state received");
		ck_post(c, COLO_EV_LOAD_FAILED, 0, seq);
		return;
	}
	ck_post(c, COLO_EV_STATE_LOADED, 0, seq);
}

static void loaded(struct colo_ckpt *c, uint64_t seq)
{
	const struct colo_ckpt_timing *t = &c->sm.b.stats.last;

	c->done++;
	c->last.seq = seq;
	c->last.cause = COLO_CAUSE_NONE;
	c->last.start_ns = t->start_ns;
	c->last.end_ns = t->loaded_ns;
	c->last.downtime_ns = diff(t->loaded_ns, t->stopped_ns);
	c->last.held_ns = diff(t->received_ns, t->send_ns);
	c->last.size = t->size;
	colo_log(t->pause ? COLO_LOG_DEBUG : COLO_LOG_INFO,
		 "checkpoint %" PRIu64 " loaded: %" PRIu64 " state bytes received in %.1f ms, loaded in %.1f ms, %.1f ms from request to loaded",
		 seq, t->size, ck_ms(c->last.held_ns),
		 ck_ms(diff(t->loaded_ns, t->received_ns)),
		 ck_ms(c->last.end_ns - c->last.start_ns));
}

void cks_act(struct colo_ckpt *c, const struct colo_action *a)
{
	switch (a->type) {
	case COLO_ACT_RECV_STATE:
		recv_state(c, a);
		break;
	case COLO_ACT_STOP_VM:
		stop_vm(c, a->seq);
		break;
	case COLO_ACT_RESUME_VM:
		resume_vm(c);
		break;
	case COLO_ACT_LOAD_STATE:
		load_state(c, a->seq);
		break;
	case COLO_ACT_CHECKPOINT_DONE:
		loaded(c, a->seq);
		break;
	case COLO_ACT_ABORT_CHECKPOINT:
		c->aborted++;
		colo_peer__drop_state(&c->peer);
		break;
	case COLO_ACT_FAILOVER:
		ck_failover(c, a->value);
		break;
	case COLO_ACT_STAND_DOWN:
		if (c->self)
			pr_warn("the primary serves: stop the secondary QEMU");
		ck_stand_down(c, a->value);
		break;
	default:	/* RESET_REWRITE: the rewrite lives on the primary host */
		pr_debug("secondary: action %s ignored", colo_act_name(a->type));
		break;
	}
}

void cks_drv_event(struct colo_ckpt *c, const struct vmdrv_event *ev)
{
	switch (ev->type) {
	case VMDRV_EV_CHECKPOINT_START:
		c->q_start_ns = ev->ts_ns;
		break;
	case VMDRV_EV_CHECKPOINT_DONE:
		c->q_count = ev->checkpoint;
		if (c->self) {	/* QEMU's own, for the status */
			c->done++;
			c->last.seq = ev->checkpoint;
			c->last.start_ns = c->q_start_ns;
			c->last.end_ns = ev->ts_ns;
			c->last.downtime_ns = diff(ev->ts_ns, c->q_start_ns);
		}
		pr_debug("the secondary VM loaded checkpoint %" PRIu64,
			 ev->checkpoint);
		break;
	case VMDRV_EV_COLO_EXIT:
		if (c->phase != COLO_CK_COLO)
			break;
		pr_warn("the secondary VM left replication on its own: taking over");
		ck_post(c, COLO_EV_FAILOVER_REQUEST, 0, 0);
		break;
	case VMDRV_EV_ERROR:
		pr_warn("VM driver: %s", ev->msg);
		break;
	case VMDRV_EV_COLO_ENTER:
		pr_info("the secondary VM is replicating");
		break;
	default:
		pr_debug("VM driver event %d", ev->type);
		break;
	}
}

/* The secondary proxy's event loop. */
int colo_ckpt__run(struct colo_ckpt *c, int sig_fd)
{
	struct pollfd pfd[1 + COLO_LOOP_AUX_MAX];
	struct signalfd_siginfo si;
	int n, timeout, err;

	for (;;) {
		pfd[0].fd = sig_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		timeout = -1;
		n = colo_ckpt__fill(c, pfd + 1, COLO_LOOP_AUX_MAX, &timeout);
		if (poll(pfd, 1 + n, timeout) < 0 && errno != EINTR) {
			err = -errno;
			pr_err("poll: %s", strerror(-err));
			return err;
		}
		err = colo_ckpt__done(c, pfd + 1, n);
		if (err < 0)
			return err;
		if ((pfd[0].revents & POLLIN) &&
		    read(sig_fd, &si, sizeof(si)) == sizeof(si))
			return 0;
	}
}
