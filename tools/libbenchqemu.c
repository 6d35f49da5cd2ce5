// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU's colo-compare as the benchmarks' reference, see benchlib.h: a QEMU
 * with no VM (-machine none) started from a private temporary folder, QMP on
 * a unix socket there, colo-compare's four chardevs listening on loopback
 * ports QEMU picks (read back with query-chardev) and connected to.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "benchlib.h"

static const char *const ch_name[BQ_MAX] = { "pin", "sin", "out", "ntf" };

int bench_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= w;
	}
	return 0;
}

static int qemu_spawn(struct bench_qemu *q, const char *bin)
{
	char dev[BQ_MAX][96];
	char qmp[128];
	const char *argv[32];
	int n = 0, i, logfd;
	pid_t parent = getpid();

	for (i = 0; i < BQ_MAX; i++)
		snprintf(dev[i], sizeof(dev[i]),
			 "socket,id=%s,host=127.0.0.1,port=0,server=on,wait=off",
			 ch_name[i]);
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", q->qmp_path);
	argv[n++] = bin;
	argv[n++] = "-machine";
	argv[n++] = "none";
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-object";
	argv[n++] = "iothread,id=io1";
	for (i = 0; i < BQ_MAX; i++) {
		argv[n++] = "-chardev";
		argv[n++] = dev[i];
	}
	argv[n++] = "-object";
	argv[n++] = "colo-compare,id=c0,primary_in=pin,secondary_in=sin,"
		    "outdev=out,iothread=io1,notify_dev=ntf";
	argv[n++] = "-qmp";
	argv[n++] = qmp;
	argv[n] = NULL;

	logfd = open(q->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -errno;
	q->pid = fork();
	if (q->pid < 0) {
		close(logfd);
		return -errno;
	}
	if (!q->pid) {
		int nul = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(logfd, 2);
		execvp(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(logfd);
	return 0;
}

static int connect_unix_retry(struct bench_qemu *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = bench_now_ns() + 10 * 1000000000ull;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->qmp_path);
	while (bench_now_ns() < deadline) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (bench_qemu_exited(q))
			return -ECHILD;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/* Next QMP message that is not an event; NULL on error. */
static json_t *qmp_read(struct bench_qemu *q)
{
	for (;;) {
		char *nl = memchr(q->qbuf, '\n', q->qlen);
		ssize_t r;

		if (nl) {
			size_t used = nl - q->qbuf + 1;
			json_t *msg;

			*nl = 0;
			msg = json_loads(q->qbuf, JSON_DECODE_ANY, NULL);
			memmove(q->qbuf, nl + 1, q->qlen - used);
			q->qlen -= used;
			if (msg && json_object_get(msg, "event")) {
				json_decref(msg);
				continue;
			}
			return msg;
		}
		if (q->qlen == sizeof(q->qbuf))
			return NULL;
		r = read(q->qmp, q->qbuf + q->qlen, sizeof(q->qbuf) - q->qlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		q->qlen += r;
	}
}

/* Runs one command; the "return" member (a new reference) or NULL. */
static json_t *qmp_cmd(struct bench_qemu *q, const char *cmd)
{
	char line[128];
	json_t *msg, *ret;

	snprintf(line, sizeof(line), "{\"execute\": \"%s\"}\n", cmd);
	if (bench_write_all(q->qmp, line, strlen(line)))
		return NULL;
	msg = qmp_read(q);
	if (!msg)
		return NULL;
	ret = json_object_get(msg, "return");
	if (!ret) {
		char *s = json_dumps(msg, JSON_COMPACT);

		fprintf(stderr, "qemu-colo-bench: QMP %s failed: %s\n", cmd,
			s ? s : "?");
		free(s);
	}
	json_incref(ret);
	json_decref(msg);
	return ret;
}

static int qmp_open(struct bench_qemu *q)
{
	json_t *msg, *ret;
	int fd = connect_unix_retry(q);

	if (fd < 0)
		return fd;
	q->qmp = fd;
	msg = qmp_read(q);	/* greeting */
	if (!msg || !json_object_get(msg, "QMP")) {
		json_decref(msg);
		return -EPROTO;
	}
	json_decref(msg);
	ret = qmp_cmd(q, "qmp_capabilities");
	if (!ret)
		return -EPROTO;
	json_decref(ret);
	return 0;
}

/*
 * query-chardev: note the port of each of our chardevs ("tcp:127.0.0.1:PORT,
 * server=on", 0 when unreadable) and count those connected ("... <-> peer").
 * QEMU 7.2 can return a garbled filename for a chardev that is accepting a
 * connection at that moment, so an unreadable one is "not yet", not an error.
 */
static int qmp_chardevs(struct bench_qemu *q, int *port, int *connected)
{
	json_t *ret = qmp_cmd(q, "query-chardev"), *cd;
	size_t i;
	int c;

	if (!json_is_array(ret)) {
		json_decref(ret);
		return -EPROTO;
	}
	memset(port, 0, BQ_MAX * sizeof(*port));
	*connected = 0;
	json_array_foreach(ret, i, cd) {
		const char *label = json_string_value(json_object_get(cd, "label"));
		const char *fn = json_string_value(json_object_get(cd, "filename"));
		const char *tcp, *colon;

		for (c = 0; label && fn && c < BQ_MAX; c++) {
			if (strcmp(label, ch_name[c]))
				continue;
			tcp = strstr(fn, "tcp:");
			colon = tcp ? strchr(tcp + 4, ':') : NULL;
			if (colon)
				port[c] = atoi(colon + 1);
			*connected += strstr(fn, " <-> ") != NULL;
		}
	}
	json_decref(ret);
	return 0;
}

/* Ask query-chardev until every port is known (want 0) or every chardev is
 * connected (want 1), for up to 5 s. */
static int qmp_wait_chardevs(struct bench_qemu *q, int want)
{
	uint64_t deadline = bench_now_ns() + 5 * 1000000000ull;
	int port[BQ_MAX], conn, c, err;

	do {
		err = qmp_chardevs(q, port, &conn);
		if (err)
			return err;
		for (c = 0; c < BQ_MAX && port[c] > 0 && port[c] < 65536; c++)
			;
		if (!want && c == BQ_MAX) {
			memcpy(q->port, port, sizeof(port));
			return 0;
		}
		if (want && conn == BQ_MAX)
			return 0;
		usleep(10000);
	} while (bench_now_ns() < deadline);
	return -ETIMEDOUT;
}

static int connect_tcp(int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	/* our writes are batched already: never let Nagle hold a tail back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* outdev first, so nothing colo-compare releases goes nowhere. */
static int qemu_connect_chardevs(struct bench_qemu *q)
{
	static const int order[BQ_MAX] = { BQ_OUT, BQ_PIN, BQ_SIN, BQ_NTF };
	int i, err;

	err = qmp_wait_chardevs(q, 0);
	for (i = 0; !err && i < BQ_MAX; i++) {
		int c = order[i];

		q->fd[c] = connect_tcp(q->port[c]);
		if (q->fd[c] < 0)
			err = q->fd[c];
	}
	/* QEMU accepts asynchronously: wait until it says all are open. */
	return err ? err : qmp_wait_chardevs(q, 1);
}

void bench_qemu_show_log(const struct bench_qemu *q)
{
	char buf[2048];
	ssize_t n;
	int fd = open(q->log_path, O_RDONLY);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		fprintf(stderr, "qemu-colo-bench: QEMU said:\n%s", buf);
	}
}

void bench_qemu_stop(struct bench_qemu *q)
{
	int i, status;

	for (i = 0; i < BQ_MAX; i++) {
		if (q->fd[i] >= 0)
			close(q->fd[i]);
		q->fd[i] = -1;
	}
	if (q->qmp >= 0)
		close(q->qmp);
	q->qmp = -1;
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
		q->pid = 0;
	}
	unlink(q->qmp_path);
	unlink(q->log_path);
	if (q->dir[0])
		rmdir(q->dir);
	q->dir[0] = 0;
}

int bench_qemu_start(struct bench_qemu *q, const char *bin)
{
	int i, err;

	memset(q, 0, sizeof(*q));
	q->qmp = -1;
	for (i = 0; i < BQ_MAX; i++)
		q->fd[i] = -1;
	snprintf(q->dir, sizeof(q->dir), "/tmp/qemu-colo-bench.XXXXXX");
	if (!mkdtemp(q->dir)) {
		q->dir[0] = 0;
		return -errno;
	}
	snprintf(q->qmp_path, sizeof(q->qmp_path), "%s/qmp.sock", q->dir);
	snprintf(q->log_path, sizeof(q->log_path), "%s/qemu.log", q->dir);

	err = qemu_spawn(q, bin);
	if (!err)
		err = qmp_open(q);
	if (!err)
		err = qemu_connect_chardevs(q);
	if (err) {
		fprintf(stderr, "qemu-colo-bench: cannot set up %s with colo-compare: %s\n",
			bin, err == -ECHILD ? "QEMU exited during start-up" :
			strerror(-err));
		bench_qemu_show_log(q);
		bench_qemu_stop(q);
	}
	return err;
}

double bench_qemu_cpu_s(const struct bench_qemu *q)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)q->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

int bench_qemu_exited(struct bench_qemu *q)
{
	if (q->pid <= 0)
		return 1;
	if (waitpid(q->pid, NULL, WNOHANG) != q->pid)
		return 0;
	q->pid = 0;	/* reaped: its PID may be reused, never kill it */
	return 1;
}

/* Async-signal-safe: for a signal handler that must not leave QEMU behind. */
void bench_qemu_kill(struct bench_qemu *q)
{
	if (q->pid > 0)
		kill(q->pid, SIGKILL);
	unlink(q->qmp_path);
	unlink(q->log_path);
	if (q->dir[0])
		rmdir(q->dir);
}
