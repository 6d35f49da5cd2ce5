// SPDX-License-Identifier: GPL-2.0-or-later
/* libxdp adapter: attach, query and detach XDP programs on interfaces. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xdp_if.h"

#define MAX_PROG_MAPS	64

/* libxdp's print callback has no context: the last reason it gave for not
 * using its dispatcher is kept here for the attach report. */
static char fallback_reason[160];
/* Inside a libxdp call: libbpf's warnings there are libxdp trying its
 * dispatcher, whose outcome we report ourselves. */
static int in_libxdp;

static void log_lib(const char *lib, enum colo_log_level level,
		    const char *fmt, va_list ap)
{
	char buf[512];
	size_t len;

	if (level > colo_log_get_level())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!len)
		return;
	if (!strncmp(buf, lib, strlen(lib)) && buf[strlen(lib)] == ':')
		colo_log(level, "%s", buf);	/* it named itself already */
	else
		colo_log(level, "%s: %s", lib, buf);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	static const enum colo_log_level map[] = {
		[LIBBPF_WARN] = COLO_LOG_WARN,
		[LIBBPF_INFO] = COLO_LOG_DEBUG,
		[LIBBPF_DEBUG] = COLO_LOG_DEBUG,
	};
	enum colo_log_level l = level <= LIBBPF_DEBUG ? map[level] : COLO_LOG_DEBUG;

	if (in_libxdp && l < COLO_LOG_INFO)
		l = COLO_LOG_INFO;
	log_lib("libbpf", l, fmt, ap);
	return 0;
}

static void keep_reason(const char *fmt, va_list ap)
{
	static const char tag[] = "Compatibility check for dispatcher program failed: ";
	char buf[256];
	const char *p;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	p = strstr(buf, tag);
	if (!p)
		return;
	snprintf(fallback_reason, sizeof(fallback_reason), "%s",
		 p + sizeof(tag) - 1);
	fallback_reason[strcspn(fallback_reason, "\n")] = '\0';
}

/* libxdp tells its fallbacks as warnings; we report outcomes ourselves, so
 * its messages are details (-v). */
static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	keep_reason(fmt, aq);
	va_end(aq);
	log_lib("libxdp", level == LIBXDP_DEBUG ? COLO_LOG_DEBUG : COLO_LOG_INFO,
		fmt, ap);
	return 0;
}

void colo_bpf_log_init(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

const char *colo_xdp_fallback_reason(void)
{
	return fallback_reason;
}

const char *colo_xdp_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "none";
	}
}

/* 1 when program id uses map id, 0 when not, -errno. */
static int prog_uses_map(unsigned int prog_id, unsigned int map_id,
			 char name[16])
{
	__u32 ids[MAX_PROG_MAPS], len, i;
	struct bpf_prog_info info;
	int fd, err, found = 0;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	if (name)
		memcpy(name, info.name, 16);
	for (i = 0; i < info.nr_map_ids && i < MAX_PROG_MAPS; i++)
		if (map_id && ids[i] == map_id)
			found = 1;
	return found;
}

static void check_ours(struct colo_xdp_info *info, unsigned int prog_id,
		       unsigned int map_id)
{
	char name[16] = "";

	if (prog_uses_map(prog_id, map_id, name) > 0 && !info->ours) {
		info->ours = 1;
		info->our_id = prog_id;
		memcpy(info->prog_name, name, sizeof(name));
	} else if (!info->prog_name[0]) {
		memcpy(info->prog_name, name, sizeof(name));
	}
}

static enum xdp_attach_mode mode_of(const struct bpf_xdp_query_opts *q)
{
	switch (q->attach_mode) {
	case XDP_ATTACHED_DRV:
		return XDP_MODE_NATIVE;
	case XDP_ATTACHED_SKB:
		return XDP_MODE_SKB;
	case XDP_ATTACHED_HW:
		return XDP_MODE_HW;
	case XDP_ATTACHED_MULTI:
		return q->drv_prog_id ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	default:
		return XDP_MODE_UNSPEC;
	}
}

int colo_xdp_query(int ifindex, unsigned int cfg_map_id,
		   struct colo_xdp_info *info)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int err;

	memset(info, 0, sizeof(*info));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	info->mode = mode_of(&q);
	info->prog_id = q.attach_mode == XDP_ATTACHED_MULTI ?
		(q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id) : q.prog_id;
	if (!info->prog_id)
		return 0;
	info->n_progs = 1;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp) || xdp_multiprog__is_legacy(mp)) {
		check_ours(info, info->prog_id, cfg_map_id);
		goto out;
	}
	info->dispatcher = 1;
	info->n_progs = xdp_multiprog__program_count(mp);
	while ((p = xdp_multiprog__next_prog(p, mp)))
		check_ours(info, xdp_program__id(p), cfg_map_id);
out:
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return 0;
}

static void attach_error(const char *ifname, enum xdp_attach_mode mode,
			 const char *prog_name, int err)
{
	const char *m = colo_xdp_mode_name(mode);

	switch (-err) {
	case EOPNOTSUPP:
		if (mode == XDP_MODE_NATIVE)
			pr_err("%s: native XDP not supported by driver; try --mode skb",
			       ifname);
		else
			pr_err("%s: the device cannot take an XDP program in %s mode: %s",
			       ifname, m, strerror(-err));
		break;
	case EEXIST:
	case EBUSY:
		pr_err("%s already has an XDP program; remove it first ('ip link set dev %s xdp off', or 'colo-proxy detach --all' for a colo-proxy leftover)",
		       ifname, ifname);
		break;
	case EPERM:
	case EACCES:
		pr_err("%s: not allowed to attach XDP programs (%s); run as root",
		       ifname, strerror(-err));
		break;
	case ERANGE:
	case E2BIG:
	case EINVAL:
		pr_err("%s: the driver refused %s in %s mode (%s): native XDP needs an MTU that fits one page and, on veth, as many rx queues as the peer has tx queues; try --mode skb",
		       ifname, prog_name, m, strerror(-err));
		break;
	default:
		pr_err("%s: cannot attach %s in %s mode: %s", ifname, prog_name,
		       m, strerror(-err));
	}
}

/* Detach program id from ifindex through libxdp (plain or dispatcher). */
static int detach_id(int ifindex, unsigned int id, enum xdp_attach_mode mode)
{
	struct xdp_program *prog;
	int err;

	prog = xdp_program__from_id(id);
	err = libxdp_get_error(prog);
	if (err)
		return err == -ENOENT ? 0 : err;
	in_libxdp = 1;
	err = xdp_program__detach(prog, ifindex, mode, 0);
	in_libxdp = 0;
	xdp_program__close(prog);
	return err;
}

int colo_xdp_attach(const char *ifname, int ifindex, int prog_fd,
		    enum xdp_attach_mode mode, struct colo_xdp_info *info)
{
	struct xdp_program *prog;
	unsigned int id;
	char name[32];
	int err;

	prog = xdp_program__from_fd(prog_fd);
	err = libxdp_get_error(prog);
	if (err) {
		pr_err("%s: libxdp cannot use the program (fd %d): %s", ifname,
		       prog_fd, strerror(-err));
		return err;
	}
	id = xdp_program__id(prog);
	snprintf(name, sizeof(name), "%s", xdp_program__name(prog));
	in_libxdp = 1;
	err = xdp_program__attach(prog, ifindex, mode, 0);
	in_libxdp = 0;
	xdp_program__close(prog);
	if (err) {
		attach_error(ifname, mode, name, err);
		return err;
	}
	err = colo_xdp_query(ifindex, 0, info);
	if (err)
		return err;
	info->ours = 1;
	info->our_id = id;
	memcpy(info->prog_name, name, sizeof(info->prog_name) - 1);
	info->prog_name[sizeof(info->prog_name) - 1] = '\0';
	if (info->mode != mode) {
		pr_err("%s: asked for %s mode, the kernel attached in %s mode",
		       ifname, colo_xdp_mode_name(mode),
		       colo_xdp_mode_name(info->mode));
		detach_id(ifindex, id, info->mode);
		return -EOPNOTSUPP;
	}
	return 0;
}

int colo_xdp_detach_ours(int ifindex, unsigned int cfg_map_id)
{
	struct colo_xdp_info info;
	int err;

	err = colo_xdp_query(ifindex, cfg_map_id, &info);
	if (err)
		return err;
	if (!cfg_map_id || !info.ours)
		return 0;
	err = detach_id(ifindex, info.our_id, info.mode);
	return err ? err : 1;
}
