/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * colo_conns, the per-connection ISN table the XDP programs use to shift the
 * SVM's TCP sequence space: walk it in batches, reap closed entries, reset
 * it after a checkpoint.
 */
#ifndef COLO_PROXY_CONNS_H
#define COLO_PROXY_CONNS_H

#include <stdint.h>

#include "colo_shared.h"

/* Entries whose VM (PVM or SVM) and peer both sent FIN, or that anyone
 * reset, idle this long, are reaped. */
#define COLO_CONNS_REAP_AGE_NS	(5ULL * 1000000000ULL)

typedef int (*colo_conn_fn)(void *ctx, const struct colo_conn_key *key,
			    const struct colo_conn *val);

/* Call fn for every entry (stop early when it returns non-zero, which is
 * returned). 0 or -errno. */
int colo_conns_foreach(int map_fd, colo_conn_fn fn, void *ctx);

/* Number of entries, or -errno. */
long colo_conns_count(int map_fd);

/* Delete closed entries idle since before now_ns - age_ns (now_ns on the
 * CLOCK_MONOTONIC of bpf_ktime_get_ns). Number deleted, or -errno. */
long colo_conns_reap(int map_fd, uint64_t now_ns, uint64_t age_ns);

/*
 * After a QEMU checkpoint the SVM continues from the PVM's TCP state, so it
 * uses the PVM's sequence numbers and timestamps: for every entry set
 * svm_isn = pvm_isn, offset = 0, svm_tsval = pvm_tsval, ts_offset = 0, the
 * SVM's ISN, TS, FIN and RST flags to the PVM's, and clear SVM_RAW. Number
 * of entries changed, or -errno.
 */
int colo_conns_reset(int map_fd);

#endif
