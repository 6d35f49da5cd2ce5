// SPDX-License-Identifier: GPL-2.0-or-later
/* libpcap adapter: captures in, captures out. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "log.h"
#include "pcap_file.h"

#define NSEC_PER_SEC UINT64_C(1000000000)

/* A frame and its bytes in one allocation. */
struct pcap_frame {
	struct colo_frame f;
	uint8_t data[];
};

static int check_readable(const char *path, const char *role)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "-"))
		return 0;	/* libpcap reads stdin */
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		int err = errno;

		pr_err("cannot open %s capture '%s': %s; check the path and permissions",
		       role, path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		pr_err("%s capture '%s' is a directory; give a pcap or pcapng file",
		       role, path);
		return -EISDIR;
	}
	close(fd);
	return 0;
}

static int check_linktype(struct pcap_in *in)
{
	int dlt = pcap_datalink(in->p);
	const char *name, *desc;

	if (dlt == DLT_EN10MB)
		return 0;
	name = pcap_datalink_val_to_name(dlt);
	desc = pcap_datalink_val_to_description(dlt);
	pr_err("%s capture '%s' has link type %s (%s); only Ethernet (EN10MB) is supported: capture on the VM's tap or bridge port, not on 'any' or a tunnel",
	       in->role, in->path, name ? name : "unknown",
	       desc ? desc : "unknown");
	return -EPROTONOSUPPORT;
}

int pcap_in__open(struct pcap_in *in, const char *path, const char *role)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	int err;

	memset(in, 0, sizeof(*in));
	in->path = path;
	in->role = role;
	err = check_readable(path, role);
	if (err)
		return err;
	in->p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!in->p) {
		pr_err("%s capture '%s' is not a capture libpcap can read (%s); expected pcap or pcapng, convert other formats with 'editcap -F pcap'",
		       role, path, errbuf);
		return -EINVAL;
	}
	err = check_linktype(in);
	if (err) {
		pcap_in__close(in);
		return err;
	}
	if (pcap_file(in->p) && fstat(fileno(pcap_file(in->p)), &st) == 0 &&
	    S_ISREG(st.st_mode))
		in->size = st.st_size;
	return 0;
}

static void warn_snaplen(struct pcap_in *in, const struct pcap_pkthdr *h)
{
	if (in->snap_warned || h->caplen >= h->len)
		return;
	in->snap_warned = 1;
	pr_warn("%s capture '%s': frame %" PRIu64 " holds %u of its %u bytes (snap length); only captured bytes are compared, capture with 'tcpdump -s 0' for full frames",
		in->role, in->path, in->frames, h->caplen, h->len);
}

int pcap_in__next(struct pcap_in *in, struct colo_frame **out)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pcap_frame *pf;
	int rc;

	*out = NULL;
	rc = pcap_next_ex(in->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		pr_err("%s capture '%s': cannot read frame %" PRIu64 ": %s; the file is truncated or corrupt, keep the good part with 'editcap -r %s fixed.pcap 1-%" PRIu64 "'",
		       in->role, in->path, in->frames + 1, pcap_geterr(in->p),
		       in->path, in->frames);
		return -EIO;
	}
	in->frames++;
	warn_snaplen(in, h);

	pf = malloc(sizeof(*pf) + h->caplen);
	if (!pf) {
		pr_err("out of memory reading frame %" PRIu64 " of '%s'",
		       in->frames, in->path);
		return -ENOMEM;
	}
	memcpy(pf->data, data, h->caplen);
	pf->f.data = pf->data;
	pf->f.len = h->caplen;
	pf->f.ts_ns = h->ts.tv_sec < 0 ? 0 :
		(uint64_t)h->ts.tv_sec * NSEC_PER_SEC + (uint64_t)h->ts.tv_usec;
	pf->f.cookie = in->frames;
	*out = &pf->f;
	return 1;
}

uint64_t pcap_in__pos(const struct pcap_in *in)
{
	FILE *fp = in->p ? pcap_file(in->p) : NULL;
	long pos = fp ? ftell(fp) : -1;

	return pos < 0 ? 0 : (uint64_t)pos;
}

void pcap_in__close(struct pcap_in *in)
{
	if (in->p)
		pcap_close(in->p);
	in->p = NULL;
}

void pcap_frame_free(const struct colo_frame *f)
{
	if (!f)
		return;
	free((uint8_t *)f->data - offsetof(struct pcap_frame, data));
}

int pcap_out__open(struct pcap_out *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	out->path = path;
	if (!strcmp(path, "-")) {
		pr_err("--pcap-out -: stdout carries the report; give a file name");
		return -EINVAL;
	}
	out->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
			PCAP_TSTAMP_PRECISION_NANO);
	if (!out->dead) {
		pr_err("cannot set up a pcap writer (out of memory?)");
		return -ENOMEM;
	}
	out->dumper = pcap_dump_open(out->dead, path);
	if (!out->dumper) {
		pr_err("cannot create '%s': %s; check the directory exists and is writable",
		       path, pcap_geterr(out->dead));
		pcap_close(out->dead);
		out->dead = NULL;
		return -EIO;
	}
	return 0;
}

void pcap_out__write(struct pcap_out *out, const struct colo_frame *f)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = f->ts_ns / NSEC_PER_SEC;
	h.ts.tv_usec = f->ts_ns % NSEC_PER_SEC;	/* nanoseconds in a nano file */
	h.caplen = f->len;
	h.len = f->len;
	pcap_dump((u_char *)out->dumper, &h, f->data);
	out->frames++;
}

int pcap_out__close(struct pcap_out *out, int discard)
{
	int err = 0;

	if (!out->dumper)
		return 0;
	if (pcap_dump_flush(out->dumper) || ferror(pcap_dump_file(out->dumper)))
		err = -EIO;
	pcap_dump_close(out->dumper);
	pcap_close(out->dead);
	out->dumper = NULL;
	out->dead = NULL;
	if (discard) {
		unlink(out->path);
		return 0;
	}
	if (err)
		pr_err("writing '%s' failed (disk full?); the file is incomplete",
		       out->path);
	return err;
}
