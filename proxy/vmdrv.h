/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VM drivers: what the checkpoint loop needs from whatever runs the two VMs.
 *
 *   qemu     QEMU's own COLO, driven over QMP (vmdrv_qemu.c)
 *   process  a stand-in VM run as a local process (vmdrv_process.c)
 *
 * A driver is an object with an ops table. The loop polls vmdrv__fd() for
 * vmdrv__poll_events() with vmdrv__timeout_ms(), then calls
 * vmdrv__process(), which delivers what happened through the on_event
 * callback. check(), status() and failover() wait for their answer (up to
 * the configured timeout) and may deliver events meanwhile;
 * demand_checkpoint() only starts one: a CHECKPOINT_START and
 * CHECKPOINT_DONE follow, or an ERROR event if it fails or overruns.
 *
 * int functions return 0 or -errno; vmdrv__strerror() then holds a sentence
 * for the user. open() returns NULL with errno set and the sentence in
 * errbuf.
 */
#ifndef COLO_PROXY_VMDRV_H
#define COLO_PROXY_VMDRV_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum vmdrv_mode {
	VMDRV_MODE_NONE,	/* not replicating */
	VMDRV_MODE_PRIMARY,
	VMDRV_MODE_SECONDARY,
};

/* Why replication ended (QEMU's COLOExitReason). */
enum vmdrv_reason {
	VMDRV_REASON_NONE,	/* it has not ended */
	VMDRV_REASON_REQUEST,	/* failover was asked for */
	VMDRV_REASON_ERROR,	/* replication broke */
	VMDRV_REASON_PROCESSING,/* ending now */
};

struct vmdrv_status {
	enum vmdrv_mode mode;
	enum vmdrv_mode last_mode;	/* before the last exit */
	enum vmdrv_reason reason;	/* of the last exit */
	uint64_t checkpoints;		/* completed, seen by this driver */
	int in_checkpoint;
};

enum vmdrv_event_type {
	VMDRV_EV_COLO_ENTER,		/* the pair is now replicating */
	VMDRV_EV_CHECKPOINT_START,	/* the VM stopped for a checkpoint */
	VMDRV_EV_CHECKPOINT_DONE,	/* it runs again from the new state */
	VMDRV_EV_VM_STOPPED,		/* stopped, not for a checkpoint */
	VMDRV_EV_VM_RESUMED,		/* resumed, not after a checkpoint */
	VMDRV_EV_COLO_EXIT,		/* replication ended: mode, reason */
	VMDRV_EV_ERROR,			/* err, msg: a demand failed, a
					 * checkpoint overran, the VM's
					 * monitor is gone */
};

struct vmdrv_event {
	enum vmdrv_event_type type;
	uint64_t checkpoint;	/* 1-based number, CHECKPOINT_* events */
	enum vmdrv_mode mode;	/* COLO_ENTER, COLO_EXIT: which side */
	enum vmdrv_reason reason;	/* COLO_EXIT */
	int err;		/* ERROR: -errno */
	const char *msg;	/* ERROR: for the user; valid in the callback */
	int64_t ts_ns;		/* CLOCK_MONOTONIC when the driver saw it */
};

struct vmdrv_config {
	/* qemu: the QMP address ("unix:/path", "tcp:host:port"). */
	const char *target;
	/* The side we expect to drive; NONE accepts either. */
	enum vmdrv_mode role;
	/*
	 * Periodic checkpoint interval to keep (qemu: x-checkpoint-delay).
	 * A demanded checkpoint re-arms the period from that moment. 0: keep
	 * the VM's current setting.
	 */
	unsigned int checkpoint_delay_ms;
	int timeout_ms;		/* each exchange with the VM; 0: 3000 */
	/* A demanded checkpoint must start, and a started one complete,
	 * within this or an ERROR (-ETIMEDOUT) is reported; 0: 10000. */
	int checkpoint_timeout_ms;
	void (*on_event)(void *arg, const struct vmdrv_event *ev);
	void *arg;
};

struct vmdrv;

struct vmdrv_ops {
	const char *name;
	struct vmdrv *(*open)(const struct vmdrv_config *cfg, char *errbuf,
			      size_t errlen);
	void (*close)(struct vmdrv *d);
	/*
	 * Is the pair replicating? 0 yes (st filled, may be NULL);
	 * -EAGAIN not yet (migration still starting, or not started);
	 * -EOPNOTSUPP replication is not enabled (qemu: x-colo is off);
	 * -EINVAL we are on the other side than cfg.role; other -errno.
	 */
	int (*check)(struct vmdrv *d, struct vmdrv_status *st);
	/* Start a checkpoint now (primary only: -EOPNOTSUPP elsewhere). */
	int (*demand_checkpoint)(struct vmdrv *d);
	/* Stop replicating and run alone from here on. */
	int (*failover)(struct vmdrv *d, const char *reason);
	int (*status)(struct vmdrv *d, struct vmdrv_status *st);
	int (*fd)(struct vmdrv *d);		/* -1 when there is none */
	short (*poll_events)(struct vmdrv *d);
	int (*timeout_ms)(struct vmdrv *d);	/* -1: no deadline */
	/* Never blocks. 0, or -errno once the VM side is lost for good. */
	int (*process)(struct vmdrv *d);

	/*
	 * Who moves the VM's state. 1: the hypervisor runs the checkpoint
	 * itself (qemu: the migration stream) and the proxies only demand it
	 * and follow its events; the VM's TCP state moves too, so the SVM's
	 * sequence-rewrite offsets reset at each checkpoint. 0: the proxies
	 * run the checkpoint protocol themselves with the ops below and carry
	 * the state over their link (process: only service state moves, TCP
	 * offsets stay).
	 */
	int self_checkpointing;
	/* For drivers with self_checkpointing == 0 (NULL otherwise). */
	int (*stop)(struct vmdrv *d);
	int (*resume)(struct vmdrv *d);
	/* The VM's state as bytes: *buf from malloc, the caller frees it. */
	int (*save)(struct vmdrv *d, uint8_t **buf, size_t *len);
	int (*load)(struct vmdrv *d, const uint8_t *buf, size_t len);
	/* Make the VM's coming output nondeterministic (tests, demos):
	 * what is driver-defined, e.g. "diverge on", "diverge off". */
	int (*inject)(struct vmdrv *d, const char *what);
};

/* Every driver's object starts with this. */
struct vmdrv {
	const struct vmdrv_ops *ops;
	struct vmdrv_config cfg;
	char errmsg[256];
};

extern const struct vmdrv_ops vmdrv_qemu_ops;
extern const struct vmdrv_ops vmdrv_process_ops;

/* The drivers by name; add new ones here. */
static inline const struct vmdrv_ops *vmdrv_find(const char *name)
{
	static const struct vmdrv_ops *const all[] = {
		&vmdrv_qemu_ops,
		&vmdrv_process_ops,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

static inline struct vmdrv *vmdrv_open(const struct vmdrv_ops *ops,
				       const struct vmdrv_config *cfg,
				       char *errbuf, size_t errlen)
{
	return ops->open(cfg, errbuf, errlen);
}

static inline void vmdrv__close(struct vmdrv *d)
{
	if (d)
		d->ops->close(d);
}

static inline int vmdrv__check(struct vmdrv *d, struct vmdrv_status *st)
{
	return d->ops->check(d, st);
}

static inline int vmdrv__demand_checkpoint(struct vmdrv *d)
{
	return d->ops->demand_checkpoint(d);
}

static inline int vmdrv__failover(struct vmdrv *d, const char *reason)
{
	return d->ops->failover(d, reason);
}

static inline int vmdrv__status(struct vmdrv *d, struct vmdrv_status *st)
{
	return d->ops->status(d, st);
}

static inline int vmdrv__fd(struct vmdrv *d)
{
	return d->ops->fd(d);
}

static inline short vmdrv__poll_events(struct vmdrv *d)
{
	return d->ops->poll_events(d);
}

static inline int vmdrv__timeout_ms(struct vmdrv *d)
{
	return d->ops->timeout_ms(d);
}

static inline int vmdrv__process(struct vmdrv *d)
{
	return d->ops->process(d);
}

static inline int vmdrv__stop(struct vmdrv *d)
{
	return d->ops->stop ? d->ops->stop(d) : -EOPNOTSUPP;
}

static inline int vmdrv__resume(struct vmdrv *d)
{
	return d->ops->resume ? d->ops->resume(d) : -EOPNOTSUPP;
}

static inline int vmdrv__save(struct vmdrv *d, uint8_t **buf, size_t *len)
{
	return d->ops->save ? d->ops->save(d, buf, len) : -EOPNOTSUPP;
}

static inline int vmdrv__load(struct vmdrv *d, const uint8_t *buf, size_t len)
{
	return d->ops->load ? d->ops->load(d, buf, len) : -EOPNOTSUPP;
}

static inline int vmdrv__inject(struct vmdrv *d, const char *what)
{
	return d->ops->inject ? d->ops->inject(d, what) : -EOPNOTSUPP;
}

static inline const char *vmdrv__strerror(const struct vmdrv *d)
{
	return d->errmsg;
}

static inline const char *vmdrv_mode_str(enum vmdrv_mode m)
{
	return m == VMDRV_MODE_PRIMARY ? "primary" :
	       m == VMDRV_MODE_SECONDARY ? "secondary" : "none";
}

#endif
