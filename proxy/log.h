/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proxy's one diagnostic sink: every message for people goes to stderr
 * through here, so verbosity and the progress line are handled in one place.
 * Results never go through here; they go to stdout.
 */
#ifndef COLO_PROXY_LOG_H
#define COLO_PROXY_LOG_H

enum colo_log_level {
	COLO_LOG_ERROR = 0,	/* always shown */
	COLO_LOG_WARN,		/* default threshold */
	COLO_LOG_INFO,		/* -v */
	COLO_LOG_DEBUG,		/* -vv */
};

void colo_log_set_level(enum colo_log_level level);
enum colo_log_level colo_log_get_level(void);
/* One step more verbose (-v), saturating at debug. */
void colo_log_more(void);

void colo_log(enum colo_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Progress for long runs: a single line on stderr, rewritten in place. Shown
 * only when stderr is a terminal and the level is at least COLO_LOG_WARN;
 * any other message clears it first. colo_log_progress_end() erases it.
 */
int colo_log_progress_enabled(void);
void colo_log_progress(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void colo_log_progress_end(void);

#define pr_err(...)	colo_log(COLO_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)	colo_log(COLO_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	colo_log(COLO_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	colo_log(COLO_LOG_DEBUG, __VA_ARGS__)

#endif
