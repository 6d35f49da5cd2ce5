/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the checkpoint loop: what ckpt*.c share. */
#ifndef COLO_PROXY_CKPT_INT_H
#define COLO_PROXY_CKPT_INT_H

#include <time.h>

#include "ckpt.h"
#include "colo_shared.h"
#include "peer.h"
#include "protocol.h"

/* From live.h, which cannot be included here: its cli.h has a struct
 * colo_cmd, protocol.h an enum colo_cmd. */
unsigned long long colo_now_ns(void);
#define NSEC_PER_MSEC_U64	1000000ULL
#define NSEC_PER_SEC_U64	1000000000ULL

enum colo_ckpt_phase {
	COLO_CK_WAITING = 0,	/* no peer yet: not protected */
	COLO_CK_COLO,		/* the machines run */
	COLO_CK_FAILED_OVER,	/* this side runs the service alone */
	COLO_CK_STOOD_DOWN,	/* the peer runs it; this side stopped */
};

const char *colo_ckpt_phase_name(enum colo_ckpt_phase p);

/* One finished checkpoint, for the log and the status. */
struct colo_ckpt_last {
	uint64_t seq;
	enum colo_ckpt_cause cause;
	uint64_t start_ns;	/* request sent (qemu: VM stopped) */
	uint64_t end_ns;	/* done, both VMs run again */
	uint64_t downtime_ns;	/* the primary's VM stopped */
	uint64_t held_ns;	/* first demand to output release */
	uint64_t size;		/* state bytes (process driver) */
};

/* How this side left COLO. */
struct colo_ckpt_fo {
	enum colo_proto_reason reason;
	char text[160];
	uint64_t last_rx_ns;	/* last sign of life from the peer */
	uint64_t detected_ns;	/* loss or fault noticed */
	uint64_t done_ns;	/* failover carried out (datapath, driver) */
	struct timespec wall;	/* done, CLOCK_REALTIME */
	uint64_t seq;		/* last completed checkpoint */
};

#define COLO_CK_QLEN	32

struct colo_ckpt {
	struct colo_ckpt_opts o;
	struct colo_ckpt_env env;
	enum colo_ckpt_phase phase;
	int self;			/* the driver checkpoints itself (qemu) */
	struct vmdrv *drv;
	int drv_lost;			/* the VM's side is gone for good */
	struct colo_peer peer;
	int close_when_flushed;		/* left COLO: close once sent */
	uint64_t close_deadline_ns;

	struct colo_primary pm;
	struct colo_secondary sm;
	uint64_t tdl[COLO_TIMER_MAX];	/* machine timers, 0: not armed */
	uint64_t ev_now;		/* now of the event being handled */

	/* events waiting for the machine, and driver events to look at */
	struct colo_event q[COLO_CK_QLEN];
	unsigned int qh, qn;
	int busy;
	struct vmdrv_event dq[COLO_CK_QLEN];
	char dq_msg[COLO_CK_QLEN][160];
	unsigned int dqh, dqn;

	/* primary: the policy */
	struct colo_policy pol;
	int pol_ready;
	struct colo_policy_answer ans;
	uint64_t pol_at;		/* tick then, 0: no */
	enum colo_ckpt_cause cause;	/* of the checkpoint in flight */
	int want_mode;			/* loop mode from the next release on */
	int urgent_sent;

	/* primary: the state saved for SEND_STATE; secondary: the seq of the
	 * RECV_STATE being read */
	uint8_t *state;
	size_t state_len;
	uint64_t recv_seq;

	/* primary with a self-checkpointing driver (qemu) */
	int q_demanded, q_started;
	uint64_t q_demand_ns, q_start_ns, q_count;

	/* counters and records */
	uint64_t done, aborted;		/* checkpoints */
	struct colo_ckpt_last last;
	struct colo_ckpt_fo fo;
	uint64_t start_ns;
	uint64_t next_status_ns;
	char status_path[128];
};

void colo_ckpt__write_status(struct colo_ckpt *c);

static inline double ck_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static inline int ck_primary(const struct colo_ckpt *c)
{
	return c->env.role == COLO_ROLE_PRIMARY;
}

static inline const char *ck_peer_name(const struct colo_ckpt *c)
{
	return ck_primary(c) ? "secondary" : "primary";
}

/* ckpt.c: feed the machine (queued; runs at once unless already inside) */
void ck_post(struct colo_ckpt *c, enum colo_ev_type type, uint64_t value,
	     uint64_t seq);
/* SEND, ARM_TIMER, CANCEL_TIMER: 1 when a was one of them. */
int ck_common_act(struct colo_ckpt *c, const struct colo_action *a);
/* FAILOVER / STAND_DOWN actions, and a local VM that is gone. */
void ck_failover(struct colo_ckpt *c, enum colo_proto_reason why);
void ck_stand_down(struct colo_ckpt *c, enum colo_proto_reason why);
const struct colo_proto_base *ck_base(const struct colo_ckpt *c);

/* ckpt_primary.c */
void ckp_act(struct colo_ckpt *c, const struct colo_action *a);
void ckp_after_event(struct colo_ckpt *c);
void ckp_drv_event(struct colo_ckpt *c, const struct vmdrv_event *ev);
void ckp_tick(struct colo_ckpt *c, uint64_t now);
uint64_t ckp_deadline(const struct colo_ckpt *c);

/* ckpt_secondary.c */
void cks_act(struct colo_ckpt *c, const struct colo_action *a);
void cks_drv_event(struct colo_ckpt *c, const struct vmdrv_event *ev);
void cks_state(struct colo_ckpt *c, size_t got, int done);

#endif
