// SPDX-License-Identifier: GPL-2.0-or-later
/* Diagnostics on stderr, with levels and a tty-only progress line. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static enum colo_log_level log_level = COLO_LOG_WARN;
static int progress_shown;

void colo_log_set_level(enum colo_log_level level)
{
	log_level = level;
}

enum colo_log_level colo_log_get_level(void)
{
	return log_level;
}

void colo_log_more(void)
{
	if (log_level < COLO_LOG_DEBUG)
		log_level++;
}

void colo_log_progress_end(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = 0;
}

void colo_log(enum colo_log_level level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[COLO_LOG_ERROR] = "",
		[COLO_LOG_WARN] = "warning: ",
		[COLO_LOG_INFO] = "",
		[COLO_LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	if (level > log_level)
		return;
	colo_log_progress_end();
	fprintf(stderr, "colo-proxy: %s", tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int colo_log_progress_enabled(void)
{
	return log_level >= COLO_LOG_WARN && isatty(STDERR_FILENO);
}

void colo_log_progress(const char *fmt, ...)
{
	va_list ap;

	if (!colo_log_progress_enabled())
		return;
	fputs("\r", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	progress_shown = 1;
}
