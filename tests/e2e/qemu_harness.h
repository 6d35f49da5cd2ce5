/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * e2e helpers: start a throw-away QEMU with a QMP unix socket in a private
 * temp dir (and kill exactly that process afterwards), and a scripted fake
 * QMP server on a thread for the cases a real QEMU cannot be made to show.
 */
#ifndef COLO_TESTS_QEMU_HARNESS_H
#define COLO_TESTS_QEMU_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_QEMU "qemu-system-x86_64"

static inline int64_t harness_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void harness_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Is a program on PATH? */
static inline int harness_have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/*
 * Every QEMU started and not yet stopped, so that a teardown can kill
 * them after a failed assertion has left a test half-way.
 */
struct harness_started {
	pid_t pid;
	char dir[64];
};
static struct harness_started harness_started[16];

static inline void harness_forget(pid_t pid)
{
	int i;

	for (i = 0; i < 16; i++)
		if (harness_started[i].pid == pid)
			harness_started[i].pid = 0;
}

struct harness_qemu {
	pid_t pid;
	char dir[64];
	char sock[128];		/* the QMP socket */
	char addr[140];		/* "unix:" + sock */
	char sock2[128];	/* a second monitor, when asked for */
	char addr2[140];
	char log[128];
};

/*
 * Start `qemu-system-x86_64 -machine none ... -qmp unix:DIR/qmp.sock,...`
 * (and a second monitor on DIR/qmp2.sock if two_monitors) plus extra
 * arguments (NULL-terminated, may be NULL) and wait for the sockets.
 * 0 or -errno.
 */
static inline int harness_qemu_start(struct harness_qemu *h, int two_monitors,
				     const char *const *extra)
{
	const char *argv[32] = {
		HARNESS_QEMU, "-machine", "none", "-nodefaults",
		"-display", "none", "-qmp", NULL,
	};
	char qmparg[192], qmparg2[192];
	struct stat st;
	int64_t until;
	int argc = 7, fd, i;

	memset(h, 0, sizeof(*h));
	strcpy(h->dir, "/tmp/colo-qmp-XXXXXX");
	if (!mkdtemp(h->dir))
		return -errno;
	snprintf(h->sock, sizeof(h->sock), "%s/qmp.sock", h->dir);
	snprintf(h->addr, sizeof(h->addr), "unix:%s", h->sock);
	snprintf(h->log, sizeof(h->log), "%s/qemu.log", h->dir);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", h->sock);
	argv[argc++] = qmparg;
	if (two_monitors) {
		snprintf(h->sock2, sizeof(h->sock2), "%s/qmp2.sock", h->dir);
		snprintf(h->addr2, sizeof(h->addr2), "unix:%s", h->sock2);
		snprintf(qmparg2, sizeof(qmparg2), "unix:%s,server=on,wait=off",
			 h->sock2);
		argv[argc++] = "-qmp";
		argv[argc++] = qmparg2;
	}
	while (extra && *extra && argc < 31)
		argv[argc++] = *extra++;
	argv[argc] = NULL;

	h->pid = fork();
	if (h->pid < 0)
		return -errno;
	if (h->pid == 0) {
		fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 16; i++) {
		if (!harness_started[i].pid) {
			harness_started[i].pid = h->pid;
			memcpy(harness_started[i].dir, h->dir, sizeof(h->dir));
			break;
		}
	}
	for (until = harness_ms() + 5000; harness_ms() < until;
	     harness_sleep_ms(10)) {
		if (stat(h->sock, &st) == 0 &&
		    (!two_monitors || stat(h->sock2, &st) == 0))
			return 0;
		if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
			harness_forget(h->pid);
			h->pid = 0;
			return -ECHILD;
		}
	}
	return -ETIMEDOUT;
}

static inline void harness_rmdir(const char *dir)
{
	static const char *const files[] = { "qmp.sock", "qmp2.sock", "qemu.log" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Kill the QEMU we started (by PID only) and remove its directory. */
static inline void harness_qemu_stop(struct harness_qemu *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		harness_forget(h->pid);
		h->pid = 0;
	}
	if (h->dir[0]) {
		harness_rmdir(h->dir);
		h->dir[0] = '\0';
	}
}

/* For teardowns: whatever a failed test left running. */
static inline void harness_qemu_stop_all(void)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (!harness_started[i].pid)
			continue;
		kill(harness_started[i].pid, SIGKILL);
		waitpid(harness_started[i].pid, NULL, 0);
		harness_rmdir(harness_started[i].dir);
		harness_started[i].pid = 0;
	}
}

/* ---- fake QMP server ---- */

struct harness_fake;
/* Runs on the server thread with the accepted connection. */
typedef void (*harness_script_fn)(struct harness_fake *f, int fd);

struct harness_fake {
	char dir[64];
	char sock[128];
	char addr[140];
	int lfd;
	pthread_t thread;
	harness_script_fn script;
	int stop_pipe[2];	/* closing the write end releases the script */
	void *ctx;
};

static inline void *harness_fake_main(void *arg)
{
	struct harness_fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd >= 0) {
		f->script(f, fd);
		close(fd);
	}
	return NULL;
}

static inline int harness_fake_start(struct harness_fake *f,
				     harness_script_fn script, void *ctx)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->script = script;
	f->ctx = ctx;
	strcpy(f->dir, "/tmp/colo-fake-XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->sock, sizeof(f->sock), "%s/qmp.sock", f->dir);
	snprintf(f->addr, sizeof(f->addr), "unix:%s", f->sock);
	strcpy(sun.sun_path, f->sock);
	if (pipe(f->stop_pipe))
		return -errno;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(f->lfd, 1))
		return -errno;
	if (pthread_create(&f->thread, NULL, harness_fake_main, f))
		return -EAGAIN;
	return 0;
}

/* Release a script waiting in harness_fake_hold(), join, clean up. */
static inline void harness_fake_stop(struct harness_fake *f)
{
	close(f->stop_pipe[1]);
	/* A script still in accept(): connect once so that it returns. */
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->stop_pipe[0]);
	close(f->lfd);
	unlink(f->sock);
	rmdir(f->dir);
}

/* Scripts: wait until the test is over (stay silent, keep the socket). */
static inline void harness_fake_hold(struct harness_fake *f)
{
	char c;

	while (read(f->stop_pipe[0], &c, 1) > 0)
		;
}

static inline void harness_fake_write(int fd, const char *s)
{
	size_t len = strlen(s), done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, s + done, len - done, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		done += n;
	}
}

/* Read one line (without the newline) into buf; 0, or -1 at EOF. */
static inline int harness_fake_readline(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	return -1;
}

/* The "id" of a command line, as text ("7"), or "" if none. */
static inline void harness_fake_id(const char *line, char *id, size_t len)
{
	const char *p = strstr(line, "\"id\":");
	size_t n;

	id[0] = '\0';
	if (!p)
		return;
	p += 5;
	while (*p == ' ')
		p++;
	n = strspn(p, "0123456789");
	snprintf(id, len, "%.*s", (int)n, p);
}

#define HARNESS_GREETING \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, " \
	"\"major\": 7}, \"package\": \"fake\"}, \"capabilities\": []}}\r\n"

#endif
