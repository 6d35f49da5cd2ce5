// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin roots under bpffs: create, lock, read, tear down. */
#define _GNU_SOURCE	/* setns() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

#include "instance.h"
#include "live.h"
#include "log.h"
#include "xdp_if.h"

#define BPFFS_DIR	"/sys/fs/bpf"
#define LOCK_TRIES	5	/* a status peeking with LOCK_SH is brief */

unsigned long long colo_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * NSEC_PER_SEC_U64 + ts.tv_nsec;
}

int colo_inst_name_check(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > COLO_INST_NAME_MAX || name[0] == '.')
		goto bad;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			goto bad;
	}
	return 0;
bad:
	pr_err("instance name '%s' is not usable: use 1 to %d letters, digits, '-', '_' or '.', not starting with '.' (e.g. --instance web1)",
	       name, COLO_INST_NAME_MAX);
	return -EINVAL;
}

int colo_bpffs_mounted(void)
{
	struct statfs st;

	return statfs(BPFFS_DIR, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int colo_bpffs_ensure(void)
{
	int err;

	if (colo_bpffs_mounted())
		return 0;
	if (mkdir(BPFFS_DIR, 0755) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create %s to mount bpffs on: %s", BPFFS_DIR,
		       strerror(-err));
		return err;
	}
	if (mount("bpf", BPFFS_DIR, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_err("bpffs is not mounted on %s and mounting it failed: %s; mount it by hand: mount -t bpf bpf %s",
		       BPFFS_DIR, strerror(-err), BPFFS_DIR);
		return err;
	}
	pr_info("mounted bpffs on %s", BPFFS_DIR);
	return 0;
}

static void inst_init(struct colo_inst *in, const char *name)
{
	memset(in, 0, sizeof(*in));
	in->dir_fd = -1;
	snprintf(in->name, sizeof(in->name), "%s", name);
	snprintf(in->path, sizeof(in->path), "%s/%s", COLO_PIN_ROOT, name);
}

int colo_inst__open(struct colo_inst *in, const char *name)
{
	inst_init(in, name);
	in->dir_fd = open(in->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in->dir_fd < 0)
		return -errno;
	return 0;
}

int colo_inst__current(const struct colo_inst *in)
{
	struct stat a, b;

	if (in->dir_fd < 0 || fstat(in->dir_fd, &a) || stat(in->path, &b))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int colo_inst__trylock(struct colo_inst *in)
{
	if (flock(in->dir_fd, LOCK_EX | LOCK_NB))
		return -errno;
	in->locked = 1;
	return 0;
}

int colo_inst__alive(const struct colo_inst *in)
{
	int fd, alive = 0;

	if (in->locked)
		return 0;
	fd = open(in->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB))
		alive = errno == EWOULDBLOCK;
	close(fd);	/* drops our shared lock, if we got it */
	return alive;
}

static void report_busy(struct colo_inst *in)
{
	struct colo_config cfg;

	if (!colo_inst__config(in, &cfg) && cfg.pid)
		pr_err("instance %s is already attached (pid %u); detach it first: colo-proxy detach --instance %s",
		       in->name, cfg.pid, in->name);
	else
		pr_err("instance %s is being attached or detached by another colo-proxy process; try again, or pick another --instance name",
		       in->name);
}

int colo_inst__create(struct colo_inst *in, const char *name)
{
	int tries, err;

	inst_init(in, name);
	if (mkdir(COLO_PIN_ROOT, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create the pin root %s: %s", COLO_PIN_ROOT,
		       strerror(-err));
		return err;
	}
	for (tries = 0; tries < LOCK_TRIES; tries++) {
		if (mkdir(in->path, 0700) && errno != EEXIST) {
			err = -errno;
			pr_err("cannot create %s: %s", in->path, strerror(-err));
			return err;
		}
		err = colo_inst__open(in, name);
		if (err == -ENOENT)
			continue;	/* a detach removed it meanwhile */
		if (err) {
			pr_err("cannot open %s: %s", in->path, strerror(-err));
			return err;
		}
		err = colo_inst__trylock(in);
		if (!err && colo_inst__current(in))
			return 0;
		colo_inst__close(in);
		if (err && err != -EWOULDBLOCK) {
			pr_err("cannot lock %s: %s", in->path, strerror(-err));
			return err;
		}
		usleep(40000);
	}
	report_busy(in);
	return -EBUSY;
}

void colo_inst__close(struct colo_inst *in)
{
	if (in->dir_fd >= 0)
		close(in->dir_fd);	/* releases the lock */
	in->dir_fd = -1;
	in->locked = 0;
}

int colo_inst__map_fd(const struct colo_inst *in, const char *map)
{
	char path[sizeof(in->path) + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", in->path, map);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int colo_inst__config(const struct colo_inst *in, struct colo_config *cfg)
{
	__u32 key = 0;
	int fd, err = 0;

	fd = colo_inst__map_fd(in, COLO_CONFIG_NAME);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, cfg))
		err = -errno;
	close(fd);
	return err;
}

unsigned int colo_inst__config_id(const struct colo_inst *in)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	unsigned int id = 0;
	int fd;

	fd = colo_inst__map_fd(in, COLO_CONFIG_NAME);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		id = info.id;
	close(fd);
	return id;
}

int colo_inst__unpin_all(struct colo_inst *in)
{
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	fd = openat(in->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(in->dir_fd, de->d_name, 0) == 0)
			n++;
		else
			pr_warn("cannot unpin %s/%s: %s", in->path, de->d_name,
				strerror(errno));
	}
	closedir(d);
	return n;
}

static void detach_if(struct colo_inst *in, const char *what, __u32 ifindex,
		      unsigned int cfg_id)
{
	int err;

	if (!ifindex || !cfg_id)
		return;
	err = colo_xdp_detach_ours(ifindex, cfg_id);
	if (err > 0)
		pr_info("instance %s: detached its XDP program from the %s interface (ifindex %u)",
			in->name, what, ifindex);
	else if (err < 0 && err != -ENODEV)
		pr_warn("instance %s: cannot detach its XDP program from the %s interface (ifindex %u): %s",
			in->name, what, ifindex, strerror(-err));
}

int colo_inst__teardown(struct colo_inst *in, int remove_dir)
{
	struct colo_config cfg;
	unsigned int cfg_id;
	int n, err = 0;

	cfg_id = colo_inst__config_id(in);
	if (cfg_id && !colo_inst__config(in, &cfg)) {
		/* The client NIC first: stop mirroring before the rest. */
		detach_if(in, "client", cfg.client_ifindex, cfg_id);
		detach_if(in, "PVM tap", cfg.pvm_ifindex, cfg_id);
		detach_if(in, "SVM tap", cfg.svm_ifindex, cfg_id);
		detach_if(in, "replication link", cfg.link_ifindex, cfg_id);
	}
	n = colo_inst__unpin_all(in);
	if (n < 0) {
		err = n;
		pr_warn("instance %s: cannot list %s to unpin its maps: %s",
			in->name, in->path, strerror(-err));
	} else if (n) {
		pr_info("instance %s: unpinned %d maps from %s", in->name, n,
			in->path);
	}
	if (remove_dir && rmdir(in->path) && errno != ENOENT) {
		err = -errno;
		pr_warn("instance %s: cannot remove %s: %s", in->name,
			in->path, strerror(-err));
	}
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void colo_inst_list_free(char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int colo_inst_list(char ***names)
{
	char **v = NULL, **nv;
	struct dirent *de;
	int n = 0, cap = 0;
	DIR *d;

	*names = NULL;
	if (!colo_bpffs_mounted())
		return 0;
	d = opendir(COLO_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR ||
		    strlen(de->d_name) > COLO_INST_NAME_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	return n;
nomem:
	closedir(d);
	colo_inst_list_free(v, n);
	return -ENOMEM;
}

int colo_pid_same_netns(pid_t pid)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &a) || stat(path, &b))
		return 1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int colo_netns_enter(pid_t pid)
{
	char path[64];
	int self, fd, err;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		close(self);
		return err;
	}
	close(fd);
	return self;
}

void colo_netns_leave(int saved_fd)
{
	if (saved_fd < 0)
		return;
	if (setns(saved_fd, CLONE_NEWNET))
		pr_warn("cannot return to the original network namespace: %s",
			strerror(errno));
	close(saved_fd);
}
