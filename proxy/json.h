/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Just enough JSON output for --json: strings need escaping, numbers do not. */
#ifndef COLO_PROXY_JSON_H
#define COLO_PROXY_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s[0..len) as a JSON string literal, quotes included. Quote, backslash
 * and control characters are escaped; valid UTF-8 passes through as is; a
 * byte that is not part of valid UTF-8 becomes U+FFFD, so the output is always
 * valid JSON whatever the input (file names are bytes, not text).
 */
void json_strn(FILE *out, const char *s, size_t len);
void json_str(FILE *out, const char *s);

#endif
