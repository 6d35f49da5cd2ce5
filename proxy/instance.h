/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An instance's pin root, /sys/fs/bpf/colo/NAME: its maps are pinned there,
 * and the colo-proxy process serving it holds flock(LOCK_EX) on the
 * directory for its whole life, so "the lock is held" means "the instance is
 * alive" whatever pid the maps say.
 */
#ifndef COLO_PROXY_INSTANCE_H
#define COLO_PROXY_INSTANCE_H

#include <stddef.h>
#include <sys/types.h>

#include "colo_shared.h"

#define COLO_INST_NAME_MAX	32

struct colo_inst {
	char name[COLO_INST_NAME_MAX + 1];
	char path[64 + COLO_INST_NAME_MAX];	/* COLO_PIN_ROOT "/" name */
	int dir_fd;				/* -1: not open */
	int locked;				/* we hold LOCK_EX */
};

/* Letters, digits, '-', '_', '.'; not starting with '.'. -EINVAL, printed. */
int colo_inst_name_check(const char *name);

/* 1 when /sys/fs/bpf is a bpffs, else 0. */
int colo_bpffs_mounted(void);
/* Mount bpffs on /sys/fs/bpf unless it is one already. -errno, printed. */
int colo_bpffs_ensure(void);

/*
 * Create the pin root (0700) and lock it. -EBUSY when another process holds
 * the lock (message printed, naming its pid when known), other -errno
 * printed too.
 */
int colo_inst__create(struct colo_inst *in, const char *name);
/* Open an existing instance without locking; -ENOENT when there is none. */
int colo_inst__open(struct colo_inst *in, const char *name);
/* LOCK_EX without waiting: 0, or -EWOULDBLOCK while someone holds it. */
int colo_inst__trylock(struct colo_inst *in);
/* 1 when a process (not us) holds the lock: the instance is alive. */
int colo_inst__alive(const struct colo_inst *in);
/* 1 when the directory we opened is still the one at in->path. */
int colo_inst__current(const struct colo_inst *in);
void colo_inst__close(struct colo_inst *in);

/* bpf_obj_get() of a pinned map: fd or -errno (-ENOENT: not pinned). */
int colo_inst__map_fd(const struct colo_inst *in, const char *map);
/* Read the pinned colo_config: 0, -ENOENT, or -errno. */
int colo_inst__config(const struct colo_inst *in, struct colo_config *cfg);
/* Kernel id of the pinned colo_config map, 0 when there is none. */
unsigned int colo_inst__config_id(const struct colo_inst *in);

/*
 * What is left of an instance whose process is gone: detach its XDP
 * programs (only those using its colo_config) from the interfaces its
 * config names, unpin every map. With remove_dir also remove the directory.
 * Prints what it did at info level, problems as warnings. 0 or -errno.
 */
int colo_inst__teardown(struct colo_inst *in, int remove_dir);

/* Unlink everything pinned in the directory; count of entries removed. */
int colo_inst__unpin_all(struct colo_inst *in);

/*
 * Names of every instance directory under the pin root, sorted. *names is
 * malloc'ed (free each, then the array). Count, or -errno. 0 when bpffs or
 * the pin root is missing.
 */
int colo_inst_list(char ***names);
void colo_inst_list_free(char **names, int n);

/* 1 when pid lives in the caller's network namespace (or we cannot tell). */
int colo_pid_same_netns(pid_t pid);
/*
 * Enter pid's network namespace (interfaces are named and numbered per
 * namespace). Returns a descriptor of the caller's namespace for
 * colo_netns_leave(), or -errno.
 */
int colo_netns_enter(pid_t pid);
void colo_netns_leave(int saved_fd);

#endif
