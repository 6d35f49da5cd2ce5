/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Subcommands of colo-proxy. Each one lives in its own cmd_<name>.c, parses
 * its own options with getopt_long and returns an exit status.
 */
#ifndef COLO_PROXY_CLI_H
#define COLO_PROXY_CLI_H

#include <stdio.h>

/* Exit statuses shared by every subcommand. */
#define COLO_EXIT_OK		0	/* success; for compare: outputs are the same */
#define COLO_EXIT_DIVERGE	1	/* compare: outputs diverged */
#define COLO_EXIT_USAGE		2	/* bad options or bad input */

struct colo_cmd {
	const char *name;
	const char *summary;	/* one line for the command list */
	/* argv[0] is "colo-proxy NAME"; returns a COLO_EXIT_* status. */
	int (*run)(int argc, char **argv);
	const char *usage;	/* full help text, starting with "Usage:" */
};

extern const struct colo_cmd colo_cmd_compare;

/* Print cmd's usage text to out. */
void colo_cmd_usage(const struct colo_cmd *cmd, FILE *out);
/* After a bad option: point at the command's --help on stderr. */
int colo_cmd_bad_usage(const struct colo_cmd *cmd);

#endif
