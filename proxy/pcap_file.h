/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture files as frame sources and sinks for offline replay: reads pcap and
 * pcapng through libpcap with nanosecond timestamps, writes pcap.
 */
#ifndef COLO_PROXY_PCAP_FILE_H
#define COLO_PROXY_PCAP_FILE_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "engine.h"

struct pcap_in {
	pcap_t *p;
	const char *path;
	const char *role;	/* "primary" or "secondary", for messages */
	uint64_t frames;	/* frames read; also the number of the last one */
	uint64_t size;		/* file size in bytes, 0 when unknown */
	int snap_warned;
};

/*
 * Open a capture for reading. Only Ethernet (DLT_EN10MB) captures are
 * accepted. On error prints what went wrong and returns -errno.
 */
int pcap_in__open(struct pcap_in *in, const char *path, const char *role);

/*
 * Read the next frame into a new allocation: data, length, timestamp and as
 * cookie the 1-based frame number. Returns 1 with *out set, 0 at the end of
 * the file, -EIO on a read error (message printed), -ENOMEM.
 * Free the frame with pcap_frame_free().
 */
int pcap_in__next(struct pcap_in *in, struct colo_frame **out);

/* Bytes of the file consumed so far, for progress. */
uint64_t pcap_in__pos(const struct pcap_in *in);

void pcap_in__close(struct pcap_in *in);

/* Free a frame from pcap_in__next(). Works on a copy of the struct too: only
 * f->data is used to find the allocation. NULL-safe. */
void pcap_frame_free(const struct colo_frame *f);

struct pcap_out {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	const char *path;
	uint64_t frames;
};

/* Create an Ethernet pcap (nanosecond timestamps). -errno, message printed. */
int pcap_out__open(struct pcap_out *out, const char *path);
void pcap_out__write(struct pcap_out *out, const struct colo_frame *f);
/* Flush and close; -EIO if anything failed to reach the file (message
 * printed). With discard set, remove the file instead. */
int pcap_out__close(struct pcap_out *out, int discard);

#endif
