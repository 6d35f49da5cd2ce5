// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON string escaping. */
#include <stdint.h>
#include <string.h>

#include "json.h"

/* Length of the valid UTF-8 sequence starting at s (2..4), or 0. */
static size_t utf8_seq_len(const uint8_t *s, size_t avail)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void json_strn(FILE *out, const char *str, size_t len)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0, n;

	fputc('"', out);
	while (i < len) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c == '\b') {
			fputs("\\b", out);
		} else if (c == '\f') {
			fputs("\\f", out);
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, out);
		} else if ((n = utf8_seq_len(s + i, len - i))) {
			fwrite(s + i, 1, n, out);
			i += n;
			continue;
		} else {
			fputs("\\ufffd", out);
		}
		i++;
	}
	fputc('"', out);
}

void json_str(FILE *out, const char *s)
{
	json_strn(out, s, strlen(s));
}
