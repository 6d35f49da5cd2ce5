// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Flow table: chained hash table of flows keyed by struct colo_flow_key.
 * Flows are allocated by the engine and never move, so resizing the bucket
 * array does not disturb the frames queued on them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define FLOWTAB_MIN 64

int colo_flowtab_init(struct colo_flowtab *t, uint32_t nbuckets)
{
	uint32_t n = FLOWTAB_MIN;

	while (n < nbuckets)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = n;
	t->count = 0;
	return 0;
}

void colo_flowtab_fini(struct colo_flowtab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t colo_flow_hash(const struct colo_flow_key *k)
{
	uint64_t w[sizeof(*k) / 8];
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	_Static_assert(sizeof(*k) % 8 == 0, "flow key is hashed by words");
	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL + (h >> 29);
	return mix64(h);
}

struct colo_flow *colo_flowtab_find(struct colo_flowtab *t,
				    const struct colo_flow_key *k, uint64_t hash)
{
	struct colo_flow *f = t->buckets[hash & (t->nbuckets - 1)];

	for (; f; f = f->hnext)
		if (f->hash == hash && !memcmp(&f->key, k, sizeof(*k)))
			return f;
	return NULL;
}

void colo_flowtab_insert(struct colo_flowtab *t, struct colo_flow *f)
{
	struct colo_flow **b = &t->buckets[f->hash & (t->nbuckets - 1)];

	f->hnext = *b;
	*b = f;
	t->count++;
}

void colo_flowtab_remove(struct colo_flowtab *t, struct colo_flow *f)
{
	struct colo_flow **pp = &t->buckets[f->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			f->hnext = NULL;
			t->count--;
			return;
		}
	}
}

static int flowtab_rehash(struct colo_flowtab *t, uint32_t n)
{
	struct colo_flow **nb = calloc(n, sizeof(*nb));
	struct colo_flow *f, *tmp;
	uint32_t i;

	if (!nb)
		return -ENOMEM;
	colo_flowtab_for_each(t, i, f, tmp) {
		struct colo_flow **b = &nb[f->hash & (n - 1)];

		f->hnext = *b;
		*b = f;
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
	return 0;
}

void colo_flowtab_resize(struct colo_flowtab *t)
{
	if (t->count > t->nbuckets)
		flowtab_rehash(t, t->nbuckets * 2);
	else if (t->nbuckets > FLOWTAB_MIN && t->count < t->nbuckets / 8)
		flowtab_rehash(t, t->nbuckets / 2);
}
