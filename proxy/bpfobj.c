// SPDX-License-Identifier: GPL-2.0-or-later
/* Skeleton adapter: load bpf/colo.bpf.c, fill and pin its maps. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "colo.skel.h"
#include "log.h"

static struct bpf_program *prog_of(const struct colo_obj *o, enum colo_prog p)
{
	switch (p) {
	case COLO_PROG_CLIENT_IN:
		return o->skel->progs.colo_client_in;
	case COLO_PROG_SVM_COPY:
		return o->skel->progs.colo_svm_copy;
	case COLO_PROG_PVM_OUT:
		return o->skel->progs.colo_pvm_out;
	case COLO_PROG_SVM_OUT:
		return o->skel->progs.colo_svm_out;
	case COLO_PROG_SEC_LINK_IN:
		return o->skel->progs.colo_sec_link_in;
	case COLO_PROG_SEC_SVM_OUT:
		return o->skel->progs.colo_sec_svm_out;
	default:
		return NULL;
	}
}

static struct bpf_map *map_of(const struct colo_obj *o, enum colo_map m)
{
	switch (m) {
	case COLO_M_CONFIG:
		return o->skel->maps.COLO_MAP_CONFIG;
	case COLO_M_COUNTERS:
		return o->skel->maps.COLO_MAP_COUNTERS;
	case COLO_M_CONNS:
		return o->skel->maps.COLO_MAP_CONNS;
	case COLO_M_MIRROR:
		return o->skel->maps.COLO_MAP_MIRROR;
	case COLO_M_XSKS:
		return o->skel->maps.COLO_MAP_XSKS;
	case COLO_M_ENGINE:
		return o->skel->maps.COLO_MAP_ENGINE;
	case COLO_M_DIVLOG:
		return o->skel->maps.COLO_MAP_DIVLOG;
	default:
		return NULL;
	}
}

const char *colo_prog_name(enum colo_prog p)
{
	static const char *const names[COLO_PROG_MAX] = {
		[COLO_PROG_CLIENT_IN] = "colo_client_in",
		[COLO_PROG_SVM_COPY] = "colo_svm_copy",
		[COLO_PROG_PVM_OUT] = "colo_pvm_out",
		[COLO_PROG_SVM_OUT] = "colo_svm_out",
		[COLO_PROG_SEC_LINK_IN] = "colo_sec_link_in",
		[COLO_PROG_SEC_SVM_OUT] = "colo_sec_svm_out",
	};

	return p < COLO_PROG_MAX ? names[p] : "?";
}

const char *colo_prog_full_name(const char *kname)
{
	size_t len = strlen(kname);
	int p;

	for (p = 0; p < COLO_PROG_MAX && len; p++)
		if (!strncmp(colo_prog_name(p), kname, len))
			return colo_prog_name(p);
	return kname;
}

int colo_obj__load(struct colo_obj *o)
{
	int err;

	o->skel = colo_bpf__open();
	if (!o->skel) {
		err = -errno;
		pr_err("cannot open the XDP object: %s", strerror(-err));
		return err;
	}
	err = colo_bpf__load(o->skel);
	if (err) {
		pr_err("cannot load the XDP programs into the kernel: %s; run with -v for the verifier's log, and check the kernel has BPF and XDP enabled",
		       strerror(-err));
		colo_obj__destroy(o);
		return err;
	}
	return 0;
}

void colo_obj__destroy(struct colo_obj *o)
{
	if (o->skel)
		colo_bpf__destroy(o->skel);
	o->skel = NULL;
}

int colo_obj__prog_fd(const struct colo_obj *o, enum colo_prog p)
{
	return bpf_program__fd(prog_of(o, p));
}

int colo_obj__map_fd(const struct colo_obj *o, enum colo_map m)
{
	return bpf_map__fd(map_of(o, m));
}

unsigned int colo_obj__map_id(const struct colo_obj *o, enum colo_map m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(colo_obj__map_fd(o, m), &info, &len))
		return 0;
	return info.id;
}

int colo_obj__set_config(struct colo_obj *o, const struct colo_config *cfg)
{
	__u32 key = 0;
	int err;

	if (bpf_map_update_elem(colo_obj__map_fd(o, COLO_M_CONFIG), &key, cfg,
				BPF_ANY)) {
		err = -errno;
		pr_err("cannot write %s: %s", bpf_map__name(map_of(o, COLO_M_CONFIG)),
		       strerror(-err));
		return err;
	}
	return 0;
}

int colo_obj__add_mirror(struct colo_obj *o, int ifindex, int prog_fd,
			 const char *ifname)
{
	struct bpf_map *map = map_of(o, COLO_M_MIRROR);
	struct bpf_devmap_val val;
	__u32 key = ifindex;
	int err;

	memset(&val, 0, sizeof(val));
	val.ifindex = ifindex;
	val.bpf_prog.fd = prog_fd;
	if (prog_fd >= 0 && bpf_map__value_size(map) < sizeof(val)) {
		pr_err("%s has no room for a devmap program (value size %u): the XDP object does not match this colo-proxy",
		       bpf_map__name(map), bpf_map__value_size(map));
		return -EINVAL;
	}
	if (bpf_map_update_elem(bpf_map__fd(map), &key, &val, BPF_ANY)) {
		err = -errno;
		pr_err("cannot add %s to %s%s: %s", ifname, bpf_map__name(map),
		       prog_fd >= 0 ? " with its devmap program" : "",
		       strerror(-err));
		if (err == -EOPNOTSUPP || err == -EINVAL)
			pr_err("the kernel refused to redirect to %s from XDP (ndo_xdp_xmit missing?); a veth or a tap works",
			       ifname);
		return err;
	}
	return 0;
}

int colo_obj__set_xsk(struct colo_obj *o, unsigned int key, int sock_fd)
{
	int err;

	if (bpf_map_update_elem(colo_obj__map_fd(o, COLO_M_XSKS), &key, &sock_fd,
				BPF_ANY)) {
		err = -errno;
		pr_err("cannot put the AF_XDP socket into %s[%u]: %s",
		       bpf_map__name(map_of(o, COLO_M_XSKS)), key, strerror(-err));
		return err;
	}
	return 0;
}

int colo_obj__pin(struct colo_obj *o, const char *dir)
{
	struct bpf_map *map;
	char path[256];
	int n = 0, err;

	bpf_object__for_each_map(map, o->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			pr_err("cannot pin %s at %s: %s", bpf_map__name(map),
			       path, strerror(-err));
			return err;
		}
		n++;
	}
	return n;
}
