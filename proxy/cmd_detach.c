// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `colo-proxy detach`: stop an instance's process (it cleans up after
 * itself), then remove whatever is left: our XDP programs on the interfaces
 * its config names, its pinned maps, its pin root.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ckpt.h"
#include "instance.h"
#include "live.h"
#include "log.h"
#include "xdp_if.h"

#define STOP_WAIT_MS	5000	/* after SIGTERM */
#define KILL_WAIT_MS	2000	/* after SIGKILL */
#define POLL_MS		20

/* The pid holding a flock on the instance directory, per /proc/locks. */
static pid_t lock_owner(const struct colo_inst *in)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[256], kind[16];
	struct stat st;
	pid_t pid = 0;
	int p;
	FILE *f;

	if (fstat(in->dir_fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &p, &maj,
			   &min, &ino) == 5 && !strcmp(kind, "FLOCK") &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    ino == st.st_ino && p > 0)
			pid = p;
	}
	fclose(f);
	return pid;
}

static int wait_dead(const struct colo_inst *in, int ms)
{
	int t;

	for (t = 0; t < ms; t += POLL_MS) {
		if (!colo_inst__alive(in))
			return 1;
		usleep(POLL_MS * 1000);
	}
	return !colo_inst__alive(in);
}

/* SIGTERM the process serving the instance; SIGKILL if it does not go.
 * 0 once the lock is free, -errno otherwise (message printed). */
static int stop_process(const struct colo_inst *in, pid_t cfg_pid)
{
	pid_t pid = lock_owner(in);

	if (!pid)
		pid = cfg_pid;
	if (pid <= 1 || pid == getpid()) {
		pr_err("instance %s is in use but its process is unknown; try again in a moment",
		       in->name);
		return -ESRCH;
	}
	if (kill(pid, SIGTERM) && errno != ESRCH) {
		pr_err("instance %s: cannot signal pid %d: %s", in->name,
		       (int)pid, strerror(errno));
		return -errno;
	}
	pr_info("instance %s: sent SIGTERM to pid %d", in->name, (int)pid);
	if (wait_dead(in, STOP_WAIT_MS))
		return 0;
	pr_warn("instance %s: pid %d did not exit within %d s of SIGTERM; killing it",
		in->name, (int)pid, STOP_WAIT_MS / 1000);
	kill(pid, SIGKILL);
	if (wait_dead(in, KILL_WAIT_MS))
		return 0;
	pr_err("instance %s: pid %d still holds %s after SIGKILL", in->name,
	       (int)pid, in->path);
	return -EBUSY;
}

/* The process is gone: take the lock and remove what it left. */
static int remove_leftovers(const char *name, pid_t pid, int stopped)
{
	struct colo_inst in;
	char path[160];
	int err;

	err = colo_inst__open(&in, name);
	if (err == -ENOENT) {
		if (stopped)
			printf("instance %s: stopped pid %d, which detached itself\n",
			       name, (int)pid);
		else
			printf("instance %s: nothing attached\n", name);
		return COLO_EXIT_OK;
	}
	if (err || colo_inst__trylock(&in)) {
		pr_err("instance %s: cannot take %s over (%s); is another attach or detach running?",
		       name, in.path, strerror(err ? -err : errno));
		colo_inst__close(&in);
		return COLO_EXIT_FAILED;
	}
	err = colo_inst__teardown(&in, 1);
	colo_inst__close(&in);
	if (!colo_ckpt_status_path(name, path, sizeof(path)))
		unlink(path);	/* the checkpoint loop's, if it ran */
	if (stopped)
		printf("instance %s: stopped pid %d and removed what it left\n",
		       name, (int)pid);
	else if (pid)
		printf("instance %s: removed what pid %d left behind (it had exited without detaching)\n",
		       name, (int)pid);
	else
		printf("instance %s: removed its empty pin root\n", name);
	return err ? COLO_EXIT_FAILED : COLO_EXIT_OK;
}

static int detach_one(const char *name)
{
	struct colo_config cfg;
	struct colo_inst in;
	pid_t pid = 0;
	int err, stopped = 0;

	err = colo_inst__open(&in, name);
	if (err == -ENOENT) {
		printf("instance %s: nothing attached\n", name);
		return COLO_EXIT_OK;
	}
	if (err) {
		pr_err("instance %s: cannot open %s: %s", name, in.path,
		       strerror(-err));
		return COLO_EXIT_FAILED;
	}
	if (!colo_inst__config(&in, &cfg))
		pid = cfg.pid;
	if (colo_inst__alive(&in)) {
		err = stop_process(&in, pid);
		stopped = !err;
	}
	colo_inst__close(&in);
	if (err)
		return COLO_EXIT_FAILED;
	return remove_leftovers(name, pid, stopped);
}

static int detach_all(void)
{
	char **names;
	int i, n, status = COLO_EXIT_OK;

	n = colo_inst_list(&names);
	if (n < 0) {
		pr_err("cannot list %s: %s", COLO_PIN_ROOT, strerror(-n));
		return COLO_EXIT_FAILED;
	}
	if (!n)
		printf("no instances attached\n");
	for (i = 0; i < n; i++)
		if (detach_one(names[i]) != COLO_EXIT_OK)
			status = COLO_EXIT_FAILED;
	colo_inst_list_free(names, n);
	return status;
}

static int detach_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int opt, all = 0;

	while ((opt = getopt_long(argc, argv, "i:avh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			name = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'v':
			colo_log_more();
			break;
		case 'h':
			colo_cmd_usage(&colo_cmd_detach, stdout);
			return COLO_EXIT_OK;
		default:
			return colo_cmd_bad_usage(&colo_cmd_detach);
		}
	}
	if (optind < argc || !name == !all) {
		pr_err("detach needs either --instance NAME or --all");
		return colo_cmd_bad_usage(&colo_cmd_detach);
	}
	if (name && colo_inst_name_check(name))
		return colo_cmd_bad_usage(&colo_cmd_detach);
	colo_bpf_log_init();
	if (!colo_bpffs_mounted()) {
		if (all)
			printf("no instances attached\n");
		else
			printf("instance %s: nothing attached\n", name);
		return COLO_EXIT_OK;
	}
	return all ? detach_all() : detach_one(name);
}

const struct colo_cmd colo_cmd_detach = {
	.name = "detach",
	.summary = "stop an instance and remove its XDP programs and pinned maps",
	.run = detach_main,
	.usage =
	"Usage: colo-proxy detach --instance NAME\n"
	"       colo-proxy detach --all\n"
	"\n"
	"Stop the colo-proxy process serving the instance (SIGTERM; SIGKILL after\n"
	"5 s), which removes what it attached. Then remove whatever is left, for\n"
	"instance after a crash: the instance's XDP programs on the interfaces it\n"
	"recorded (only programs that use its maps; anything else is left alone),\n"
	"its pinned maps and " COLO_PIN_ROOT "/NAME. Running it again, or for an\n"
	"instance that does not exist, is fine.\n"
	"\n"
	"Options:\n"
	"  -i, --instance NAME  the instance to detach\n"
	"  -a, --all            every instance under " COLO_PIN_ROOT "\n"
	"  -v, --verbose        say what is removed\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 nothing of the instance is left (including: there was\n"
	"nothing), 1 something could not be stopped or removed, 2 bad options.\n",
};
