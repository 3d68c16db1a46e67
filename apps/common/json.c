/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer (app.h): one object per call sequence, every string
 * escaped (quotes, backslashes, control characters), NaN and infinities as
 * null, so a CPU name, a path or a vif's error detail can never break it.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "app.h"

static void
escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void
key(struct app_json *j, const char *k)
{
	if (j->comma[j->depth])
		fputc(',', j->f);
	j->comma[j->depth] = true;
	if (k != NULL) {
		escaped(j->f, k);
		fputc(':', j->f);
	}
}

static void
open_(struct app_json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth + 1 < APP_JSON_MAX_DEPTH)
		j->depth++;
	j->comma[j->depth] = false;
}

static void
close_(struct app_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void
app_json_begin(struct app_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->comma[0] = false;
	open_(j, NULL, '{');
}

int
app_json_end(struct app_json *j)
{
	while (j->depth > 0)
		close_(j, '}');
	fputc('\n', j->f);
	fflush(j->f);
	return ferror(j->f) ? -EIO : 0;
}

void
app_json_obj(struct app_json *j, const char *k)
{
	open_(j, k, '{');
}

void
app_json_obj_end(struct app_json *j)
{
	close_(j, '}');
}

void
app_json_arr(struct app_json *j, const char *k)
{
	open_(j, k, '[');
}

void
app_json_arr_end(struct app_json *j)
{
	close_(j, ']');
}

void
app_json_str(struct app_json *j, const char *k, const char *v)
{
	key(j, k);
	escaped(j->f, v != NULL ? v : "");
}

void
app_json_u64(struct app_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void
app_json_i64(struct app_json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRId64, v);
}

void
app_json_dbl(struct app_json *j, const char *k, double v, int prec)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.*f", prec, v);
	else
		fputs("null", j->f);
}

void
app_json_bool(struct app_json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}
