// SPDX-License-Identifier: GPL-2.0-or-later
/* colo_conns map I/O: batched walk, reap, reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "conns.h"

#define BATCH	1024
#define ENOTSUPP_K	524	/* the kernel's ENOTSUPP, not in libc */

struct walk {
	struct colo_conn_key keys[BATCH];
	struct colo_conn vals[BATCH];
};

/* One entry at a time, for kernels without batch operations. */
static int foreach_slow(int fd, colo_conn_fn fn, void *ctx)
{
	struct colo_conn_key key, next;
	struct colo_conn val;
	void *prev = NULL;
	int rc;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;	/* gone meanwhile */
		rc = fn(ctx, &key, &val);
		if (rc)
			return rc;
	}
	return errno == ENOENT ? 0 : -errno;
}

int colo_conns_foreach(int map_fd, colo_conn_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token = 0;	/* hash maps: a bucket index */
	struct walk *w;
	__u32 count, i;
	int err, rc, first = 1, done = 0;

	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	while (!done) {
		count = BATCH;
		err = bpf_map_lookup_batch(map_fd, first ? NULL : &token, &token,
					   w->keys, w->vals, &count, &opts);
		if (err) {
			err = -errno;
			if (err != -ENOENT) {
				free(w);
				if (first && (err == -EINVAL || err == -EOPNOTSUPP ||
					      err == -ENOTSUPP_K))
					return foreach_slow(map_fd, fn, ctx);
				return err;
			}
			done = 1;	/* the last batch, possibly empty */
		}
		first = 0;
		for (i = 0; i < count; i++) {
			rc = fn(ctx, &w->keys[i], &w->vals[i]);
			if (rc) {
				free(w);
				return rc;
			}
		}
	}
	free(w);
	return 0;
}

static int count_one(void *ctx, const struct colo_conn_key *k,
		     const struct colo_conn *v)
{
	(*(long *)ctx)++;
	return 0;
}

long colo_conns_count(int map_fd)
{
	long n = 0;
	int err = colo_conns_foreach(map_fd, count_one, &n);

	return err ? err : n;
}

/* Keys collected during a walk, acted on after it. */
struct keyset {
	struct colo_conn_key *keys;
	struct colo_conn *vals;
	size_t n, cap;
	uint64_t cutoff;
};

static int keyset_add(struct keyset *s, const struct colo_conn_key *k,
		      const struct colo_conn *v)
{
	size_t cap;
	void *p;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 256;
		p = realloc(s->keys, cap * sizeof(*s->keys));
		if (!p)
			return -ENOMEM;
		s->keys = p;
		p = realloc(s->vals, cap * sizeof(*s->vals));
		if (!p)
			return -ENOMEM;
		s->vals = p;
		s->cap = cap;
	}
	s->keys[s->n] = *k;
	s->vals[s->n] = *v;
	s->n++;
	return 0;
}

static void keyset_free(struct keyset *s)
{
	free(s->keys);
	free(s->vals);
}

static int pick_closed(void *ctx, const struct colo_conn_key *k,
		       const struct colo_conn *v)
{
	struct keyset *s = ctx;

	__u32 vm_fin = COLO_CONN_PVM_FIN | COLO_CONN_SVM_FIN;
	__u32 rst = COLO_CONN_PVM_RST | COLO_CONN_SVM_RST | COLO_CONN_PEER_RST;
	int closed = ((v->flags & vm_fin) && (v->flags & COLO_CONN_PEER_FIN)) ||
		     (v->flags & rst);

	if (!closed || v->last_ns >= s->cutoff)
		return 0;
	return keyset_add(s, k, v);
}

long colo_conns_reap(int map_fd, uint64_t now_ns, uint64_t age_ns)
{
	struct keyset s = { .cutoff = now_ns > age_ns ? now_ns - age_ns : 0 };
	long n = 0;
	size_t i;
	int err;

	err = colo_conns_foreach(map_fd, pick_closed, &s);
	for (i = 0; !err && i < s.n; i++)
		if (!bpf_map_delete_elem(map_fd, &s.keys[i]))
			n++;
	keyset_free(&s);
	return err ? err : n;
}

static int pick_all(void *ctx, const struct colo_conn_key *k,
		    const struct colo_conn *v)
{
	return keyset_add(ctx, k, v);
}

static void reset_one(struct colo_conn *v)
{
	__u32 svm = COLO_CONN_SVM_ISN | COLO_CONN_SVM_FIN | COLO_CONN_SVM_RST |
		    COLO_CONN_SVM_RAW | COLO_CONN_SVM_TS;

	v->svm_isn = v->pvm_isn;
	v->offset = 0;
	v->svm_tsval = v->pvm_tsval;	/* the SVM now runs the PVM's TCP clock */
	v->ts_offset = 0;
	v->flags &= ~svm;
	if (v->flags & COLO_CONN_PVM_ISN)
		v->flags |= COLO_CONN_SVM_ISN;
	if (v->flags & COLO_CONN_PVM_TS)
		v->flags |= COLO_CONN_SVM_TS;
	if (v->flags & COLO_CONN_PVM_FIN)
		v->flags |= COLO_CONN_SVM_FIN;
	if (v->flags & COLO_CONN_PVM_RST)
		v->flags |= COLO_CONN_SVM_RST;
}

int colo_conns_reset(int map_fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_EXIST);
	struct keyset s = { 0 };
	__u32 count;
	int n = 0;
	size_t i;
	int err;

	err = colo_conns_foreach(map_fd, pick_all, &s);
	if (err)
		goto out;
	for (i = 0; i < s.n; i++)
		reset_one(&s.vals[i]);
	count = s.n;
	if (count && !bpf_map_update_batch(map_fd, s.keys, s.vals, &count,
					   &opts)) {
		n = count;
		goto out;
	}
	/* A connection left the LRU meanwhile: go one by one. */
	for (i = 0, n = 0; i < s.n; i++)
		if (!bpf_map_update_elem(map_fd, &s.keys[i], &s.vals[i],
					 BPF_EXIST))
			n++;
out:
	keyset_free(&s);
	return err ? err : n;
}
