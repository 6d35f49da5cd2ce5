/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the checkpoint protocol: helpers protocol.c shares with the two state
 * machines (protocol_primary.c, protocol_secondary.c). Not part of the API.
 */
#ifndef COLO_PROTOCOL_INT_H
#define COLO_PROTOCOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

#define NS_PER_MS 1000000ULL
#define ULL(x) ((unsigned long long)(x))

int colo_pt_base_init(struct colo_proto_base *b,
	const struct colo_proto_cfg *cfg);
void colo_pt_textf(struct colo_actions *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void colo_pt_push(struct colo_actions *out, enum colo_act_type type,
	uint64_t value, uint64_t seq);
void colo_pt_send(struct colo_actions *out, uint32_t cmd, uint64_t value,
	uint64_t seq);
void colo_pt_arm(struct colo_proto_base *b, struct colo_actions *out,
	enum colo_timer t, uint64_t dur);
void colo_pt_cancel(struct colo_proto_base *b, struct colo_actions *out,
	enum colo_timer t);
void colo_pt_cancel_all(struct colo_proto_base *b, struct colo_actions *out);
int colo_pt_bad_event(struct colo_actions *out, const char *what);
int colo_pt_begin(struct colo_proto_base *b, const struct colo_event *ev,
	struct colo_actions *out);
int colo_pt_after_end(const struct colo_event *ev, const char *who,
	struct colo_actions *out);
int colo_pt_local_mismatch(const struct colo_proto_base *b,
	const struct colo_event *ev, bool stale, const char *state,
	struct colo_actions *out);
int colo_pt_bad_msg(struct colo_proto_base *b, const char *peer,
	uint32_t cmd, uint64_t val, uint32_t exp, uint64_t want, const char *state,
	struct colo_actions *out);
void colo_pt_note_last(struct colo_proto_base *b, uint32_t cmd, uint64_t val);
bool colo_pt_timer_due(struct colo_proto_base *b, enum colo_timer t);
bool colo_pt_peer_silent(struct colo_proto_base *b, struct colo_actions *out);
void colo_pt_heartbeat(struct colo_proto_base *b, struct colo_actions *out);
void colo_pt_start_base(struct colo_proto_base *b, struct colo_actions *out);
void colo_pt_note_end(struct colo_proto_base *b, enum colo_proto_reason why,
	enum colo_outcome outcome, struct colo_actions *out);

#endif
