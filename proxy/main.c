// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * colo-proxy: command dispatch. Global options come before the subcommand;
 * everything after it belongs to the subcommand.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "live.h"
#include "log.h"

#ifndef COLO_VERSION
#define COLO_VERSION "unknown"
#endif

/* Only commands that work are listed here. */
static const struct colo_cmd *const cmds[] = {
	&colo_cmd_compare,
	&colo_cmd_attach,
	&colo_cmd_detach,
	&colo_cmd_status,
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct colo_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: colo-proxy [-v] COMMAND [OPTIONS] [ARGS]\n"
	      "       colo-proxy help COMMAND\n"
	      "       colo-proxy --version\n"
	      "\n"
	      "COLO network proxy: compares what the primary and the secondary VM\n"
	      "send and asks for a checkpoint when they diverge.\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < N_CMDS; i++)
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "  -v, --verbose  more diagnostics on stderr (repeat for debug)\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show the version\n"
	      "\n"
	      "Run 'colo-proxy COMMAND --help' for a command's options.\n", out);
}

void colo_cmd_usage(const struct colo_cmd *cmd, FILE *out)
{
	fputs(cmd->usage, out);
}

int colo_cmd_bad_usage(const struct colo_cmd *cmd)
{
	fprintf(stderr, "Try 'colo-proxy %s --help' for more information.\n",
		cmd->name);
	return COLO_EXIT_USAGE;
}

static int unknown_cmd(const char *name)
{
	fprintf(stderr, "colo-proxy: unknown command '%s'\n"
		"Try 'colo-proxy --help' for the list of commands.\n", name);
	return COLO_EXIT_USAGE;
}

static int help_cmd(int argc, char **argv)
{
	const struct colo_cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return COLO_EXIT_OK;
	}
	if (argc > 2) {
		fputs("colo-proxy: help takes one command name\n"
		      "Try 'colo-proxy --help'.\n", stderr);
		return COLO_EXIT_USAGE;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd)
		return unknown_cmd(argv[1]);
	colo_cmd_usage(cmd, stdout);
	return COLO_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[64];
	const struct colo_cmd *cmd;
	int c;

	/* '+': stop at the command name; the rest is the command's. */
	while ((c = getopt_long(argc, argv, "+hVv", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return COLO_EXIT_OK;
		case 'V':
			printf("colo-proxy %s\n", COLO_VERSION);
			return COLO_EXIT_OK;
		case 'v':
			colo_log_more();
			break;
		default:
			fputs("Try 'colo-proxy --help'.\n", stderr);
			return COLO_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		/* No command is a mistake: usage is a diagnostic here. */
		usage(stderr);
		return COLO_EXIT_USAGE;
	}

	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return help_cmd(argc, argv);
	cmd = find_cmd(argv[0]);
	if (!cmd)
		return unknown_cmd(argv[0]);

	/* getopt's own messages then read "colo-proxy compare: ...". */
	snprintf(prog, sizeof(prog), "colo-proxy %s", cmd->name);
	argv[0] = prog;
	optind = 0;
	return cmd->run(argc, argv);
}
