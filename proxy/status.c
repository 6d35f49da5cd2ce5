// SPDX-License-Identifier: GPL-2.0-or-later
/* Gather an instance's state from its pinned maps and its interfaces. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conns.h"
#include "live.h"
#include "status.h"

#define F(s, m)	{ #m, offsetof(struct s, m) }

const struct colo_u64_field colo_counter_fields[] = {
	F(colo_counters, mirrored),
	F(colo_counters, passed),
	F(colo_counters, captured_primary),
	F(colo_counters, captured_secondary),
	F(colo_counters, injected),
	F(colo_counters, forwarded),
	F(colo_counters, passthrough),
	F(colo_counters, rewritten),
	F(colo_counters, conns_learned),
	F(colo_counters, conns_closed),
	F(colo_counters, drop_no_socket),
	F(colo_counters, drop_redirect),
	F(colo_counters, drop_malformed),
	{ NULL, 0 },
};

const struct colo_u64_field colo_engine_fields[] = {
	F(colo_engine_pub, pushed_primary),
	F(colo_engine_pub, pushed_secondary),
	F(colo_engine_pub, released),
	F(colo_engine_pub, dropped),
	F(colo_engine_pub, flushed_released),
	F(colo_engine_pub, flushed_dropped),
	F(colo_engine_pub, compared_bytes),
	F(colo_engine_pub, checkpoints),
	F(colo_engine_pub, coalesced),
	F(colo_engine_pub, refused),
	F(colo_engine_pub, held_primary),
	F(colo_engine_pub, held_secondary),
	F(colo_engine_pub, held_bytes),
	F(colo_engine_pub, flows),
	F(colo_engine_pub, tx_frames),
	F(colo_engine_pub, tx_errors),
	F(colo_engine_pub, xsk_rx_primary),
	F(colo_engine_pub, xsk_rx_secondary),
	F(colo_engine_pub, xsk_ring_full_primary),
	F(colo_engine_pub, xsk_ring_full_secondary),
	F(colo_engine_pub, xsk_fill_empty_primary),
	F(colo_engine_pub, xsk_fill_empty_secondary),
	F(colo_engine_pub, xsk_dropped_primary),
	F(colo_engine_pub, xsk_dropped_secondary),
	F(colo_engine_pub, xsk_invalid_primary),
	F(colo_engine_pub, xsk_invalid_secondary),
	F(colo_engine_pub, lost),
	F(colo_engine_pub, tx_af_xdp),
	F(colo_engine_pub, tx_calls),
	{ NULL, 0 },
};

const char *colo_state_name(enum colo_state s)
{
	switch (s) {
	case COLO_STATE_RUNNING:
		return "running";
	case COLO_STATE_STARTING:
		return "starting";
	default:
		return "stale";
	}
}

static void read_ifs(struct colo_status *st, unsigned int cfg_id)
{
	const char *roles[4] = { "client", "pvm", "svm", "link" };
	unsigned int idx[4] = {
		st->cfg.client_ifindex, st->cfg.pvm_ifindex,
		st->cfg.svm_ifindex, st->cfg.link_ifindex,
	};
	struct colo_status_if *s;
	int i;

	for (i = 0; i < 4; i++) {
		if (!idx[i])
			continue;
		s = &st->ifs[st->n_if++];
		s->role = roles[i];
		s->ifindex = idx[i];
		if (!if_indextoname(idx[i], s->name))
			s->name[0] = '\0';
		s->query_err = colo_xdp_query(idx[i], cfg_id, &s->xdp);
	}
}

static void read_counters(struct colo_status *st, const struct colo_inst *in)
{
	const struct colo_u64_field *f;
	struct colo_counters *per;
	int fd, ncpu, c;
	__u32 key = 0;

	ncpu = libbpf_num_possible_cpus();
	fd = colo_inst__map_fd(in, COLO_COUNTERS_NAME);
	if (fd < 0 || ncpu <= 0)
		goto out;
	per = calloc(ncpu, sizeof(*per));	/* 8-byte multiple: no rounding */
	if (per && !bpf_map_lookup_elem(fd, &key, per)) {
		memset(&st->cnt, 0, sizeof(st->cnt));
		for (c = 0; c < ncpu; c++)
			for (f = colo_counter_fields; f->name; f++)
				*(unsigned long long *)((char *)&st->cnt + f->off) +=
					colo_u64_at(&per[c], f);
		st->have_counters = 1;
	}
	free(per);
out:
	if (fd >= 0)
		close(fd);
}

static void read_engine(struct colo_status *st, const struct colo_inst *in)
{
	unsigned long long now;
	__u32 key = 0;
	int fd;

	fd = colo_inst__map_fd(in, COLO_ENGINE_NAME);
	if (fd < 0)
		return;
	if (!bpf_map_lookup_elem(fd, &key, &st->eng) && st->eng.updated_ns) {
		st->have_engine = 1;
		now = colo_now_ns();
		st->eng_age_ns = now > st->eng.updated_ns ?
			now - st->eng.updated_ns : 0;
	}
	close(fd);
}

static int cmp_seq_desc(const void *a, const void *b)
{
	const struct colo_divrec *x = a, *y = b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static void read_divlog(struct colo_status *st, const struct colo_inst *in)
{
	struct colo_divrec rec;
	__u32 k;
	int fd;

	fd = colo_inst__map_fd(in, COLO_DIVLOG_NAME);
	if (fd < 0)
		return;
	for (k = 0; k < COLO_DIVLOG_LEN; k++)
		if (!bpf_map_lookup_elem(fd, &k, &rec) && rec.seq) {
			rec.flow[sizeof(rec.flow) - 1] = '\0';
			st->div[st->n_div++] = rec;
		}
	close(fd);
	qsort(st->div, st->n_div, sizeof(st->div[0]), cmp_seq_desc);
}

static void read_conns(struct colo_status *st, const struct colo_inst *in)
{
	int fd = colo_inst__map_fd(in, COLO_CONNS_NAME);

	if (fd < 0) {
		st->conns = fd;
		return;
	}
	st->conns = colo_conns_count(fd);
	close(fd);
}

int colo_status_read(const char *name, struct colo_status *st)
{
	struct colo_inst in;
	int err, netns = -1;

	memset(st, 0, sizeof(*st));
	err = colo_inst__open(&in, name);
	if (err)
		return err;
	snprintf(st->name, sizeof(st->name), "%s", in.name);
	snprintf(st->path, sizeof(st->path), "%s", in.path);
	st->alive = colo_inst__alive(&in);
	st->have_config = !colo_inst__config(&in, &st->cfg);
	if (st->have_config) {
		/* Interfaces as the serving process sees them. */
		if (st->alive && st->cfg.pid && !colo_pid_same_netns(st->cfg.pid))
			netns = colo_netns_enter(st->cfg.pid);
		read_ifs(st, colo_inst__config_id(&in));
		colo_netns_leave(netns);
	}
	read_counters(st, &in);
	read_engine(st, &in);
	read_conns(st, &in);
	read_divlog(st, &in);
	if (!st->alive)
		st->state = COLO_STATE_STALE;
	else if (st->have_engine)
		st->state = COLO_STATE_RUNNING;
	else
		st->state = COLO_STATE_STARTING;
	colo_inst__close(&in);
	return 0;
}
