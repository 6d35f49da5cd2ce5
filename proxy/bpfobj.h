/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XDP object (bpf/colo.bpf.c) through its skeleton: open and load, fill
 * the maps userspace owns, pin them. The skeleton is included only by
 * bpfobj.c; everything else sees these functions.
 */
#ifndef COLO_PROXY_BPFOBJ_H
#define COLO_PROXY_BPFOBJ_H

#include "colo_shared.h"

enum colo_prog {
	COLO_PROG_CLIENT_IN,	/* client NIC: mirror VM-bound frames */
	COLO_PROG_SVM_COPY,	/* devmap program on the SVM path entry */
	COLO_PROG_PVM_OUT,	/* PVM tap: output -> AF_XDP primary */
	COLO_PROG_SVM_OUT,	/* SVM tap / link: output -> AF_XDP secondary */
	COLO_PROG_SEC_LINK_IN,	/* secondary host: link -> SVM tap */
	COLO_PROG_SEC_SVM_OUT,	/* secondary host: SVM tap -> link */
	COLO_PROG_MAX,
};

enum colo_map {
	COLO_M_CONFIG,
	COLO_M_COUNTERS,
	COLO_M_CONNS,
	COLO_M_MIRROR,
	COLO_M_XSKS,
	COLO_M_ENGINE,
	COLO_M_DIVLOG,
	COLO_M_MAX,
};

struct colo_bpf;

struct colo_obj {
	struct colo_bpf *skel;
};

/* Open and load the object. -errno, message printed. */
int colo_obj__load(struct colo_obj *o);
void colo_obj__destroy(struct colo_obj *o);

const char *colo_prog_name(enum colo_prog p);
/* Our full program name for a kernel name cut to 15 characters, or kname. */
const char *colo_prog_full_name(const char *kname);
int colo_obj__prog_fd(const struct colo_obj *o, enum colo_prog p);
int colo_obj__map_fd(const struct colo_obj *o, enum colo_map m);
/* Kernel id of a loaded map, 0 on error. */
unsigned int colo_obj__map_id(const struct colo_obj *o, enum colo_map m);

/* Write colo_config. -errno, message printed. */
int colo_obj__set_config(struct colo_obj *o, const struct colo_config *cfg);
/* Add ifindex to colo_mirror, with a devmap program unless prog_fd < 0. */
int colo_obj__add_mirror(struct colo_obj *o, int ifindex, int prog_fd,
			 const char *ifname);
/* colo_xsks[key] = sock_fd. */
int colo_obj__set_xsk(struct colo_obj *o, unsigned int key, int sock_fd);

/* Pin every map of the object under dir (bpf_map__pin). Count pinned, or
 * -errno with a message. */
int colo_obj__pin(struct colo_obj *o, const char *dir);

#endif
