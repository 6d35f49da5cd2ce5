// SPDX-License-Identifier: GPL-2.0-or-later
/* Map writes for modules that cannot include libbpf (see mapio.h). */
#include <errno.h>

#include <bpf/bpf.h>

#include "mapio.h"

int colo_map_set(int fd, unsigned int key, const void *val)
{
	__u32 k = key;

	return bpf_map_update_elem(fd, &k, val, BPF_ANY) ? -errno : 0;
}
