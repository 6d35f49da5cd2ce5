/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Map writes for modules that cannot include libbpf's headers: libpcap's
 * <pcap/bpf.h> and <linux/bpf.h> both define struct bpf_insn, so a file
 * that writes pcap (loop.c) reaches the maps through here.
 */
#ifndef COLO_PROXY_MAPIO_H
#define COLO_PROXY_MAPIO_H

/* bpf_map_update_elem(fd, &key, val, BPF_ANY): 0 or -errno. */
int colo_map_set(int fd, unsigned int key, const void *val);

#endif
