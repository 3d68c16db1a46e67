/* SPDX-License-Identifier: MIT */
/*
 * The config engine (app.h): key tables, the INI reader, --set, origins,
 * the effective-config printout.
 *
 * Parser: Debian's libinih (ini_parse_stream), because rte_cfgfile gives no
 * line numbers, drops lines it cannot parse and splits long lines, while
 * inih takes a reader callback: ours counts lines, refuses over-long lines
 * whole and lines without '=', and tracks sections, so every message can
 * name the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "app.h"

const char *const app_copy_names[] = {"auto", "memmove", "scalar", "sse", "avx2", "avx512", NULL};

#define WHY_LEN 160
#define SHOW_MAX 64 /* characters of a value quoted in a message */

/* ---- value parsers -------------------------------------------------------- */

int
app_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t wl)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s)) {
		snprintf(why, wl, "%s", *s == '\0' ? "empty value" : "not an unsigned integer");
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE) {
		snprintf(why, wl, "out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
		return -EINVAL;
	}
	if (end == s || *end != '\0') {
		snprintf(why, wl, "trailing characters after the number");
		return -EINVAL;
	}
	if (v < min || v > max) {
		snprintf(why, wl, "out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double min, double max, double *out, char *why, size_t wl)
{
	char *end;
	double v;

	if (*s == '\0') {
		snprintf(why, wl, "empty value");
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s) {
		snprintf(why, wl, "not a number");
		return -EINVAL;
	}
	if (*end != '\0') {
		snprintf(why, wl, "trailing characters after the number");
		return -EINVAL;
	}
	if (!isfinite(v)) {
		snprintf(why, wl, "not a finite number");
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		snprintf(why, wl, "out of range (%g..%g)", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
app_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "on", "yes", "true"};
	static const char *const no[] = {"0", "off", "no", "false"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void
list_names(const char *const *names, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; names[i] != NULL && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", names[i]);
}

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Parse @p v into key @p k of the section struct at @p base. */
static int
key_parse(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	char *f = (char *)base + k->off;
	char names[WHY_LEN - 32];
	uint64_t x;
	size_t n;

	switch (k->type) {
	case APP_KT_UINT:
	case APP_KT_U16:
	case APP_KT_U64:
	case APP_KT_INT:
		if (app_parse_u64(v, k->min, k->max, &x, why, wl) < 0)
			return -EINVAL;
		if ((k->flags & APP_KF_POW2) && !is_pow2(x)) {
			snprintf(why, wl, "not a power of two");
			return -EINVAL;
		}
		if (k->type == APP_KT_UINT)
			*(unsigned int *)(void *)f = (unsigned int)x;
		else if (k->type == APP_KT_U16)
			*(uint16_t *)(void *)f = (uint16_t)x;
		else if (k->type == APP_KT_INT)
			*(int *)(void *)f = (int)x;
		else
			*(uint64_t *)(void *)f = x;
		return 0;
	case APP_KT_DOUBLE:
		return parse_double(v, k->dmin, k->dmax, (double *)(void *)f, why, wl);
	case APP_KT_BOOL:
		if (app_parse_bool(v, (bool *)(void *)f) < 0) {
			snprintf(why, wl, "expected on/off, yes/no, true/false or 1/0");
			return -EINVAL;
		}
		return 0;
	case APP_KT_STR:
		n = strlen(v);
		if (n < k->min || n > k->max) {
			snprintf(why, wl, "length %zu, expected %" PRIu64 "..%" PRIu64, n, k->min,
				 k->max);
			return -EINVAL;
		}
		memcpy(f, v, n + 1);
		return 0;
	case APP_KT_ENUM:
	case APP_KT_COPY: {
		const char *const *list = k->type == APP_KT_ENUM ? k->names : app_copy_names;

		for (unsigned int i = 0; list[i] != NULL; i++) {
			if (strcmp(v, list[i]) != 0)
				continue;
			if (k->type == APP_KT_ENUM)
				*(int *)(void *)f = (int)i;
			else
				snprintf(f, k->max + 1, "%s", v);
			return 0;
		}
		list_names(list, names, sizeof(names));
		snprintf(why, wl, "%s (%s)",
			 k->type == APP_KT_ENUM ? "unknown value" : "unknown copy kernel", names);
		return -EINVAL;
	}
	case APP_KT_CUSTOM:
		return k->parse(k, base, v, why, wl);
	}
	snprintf(why, wl, "internal: bad key type");
	return -EINVAL;
}

int
app_cfg_parse_value(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	return key_parse(k, base, v, why, wl);
}

static void
key_print(const struct app_key *k, const void *base, char *buf, size_t len)
{
	const char *f = (const char *)base + k->off;

	switch (k->type) {
	case APP_KT_UINT:
		snprintf(buf, len, "%u", *(const unsigned int *)(const void *)f);
		return;
	case APP_KT_U16:
		snprintf(buf, len, "%u", *(const uint16_t *)(const void *)f);
		return;
	case APP_KT_U64:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)(const void *)f);
		return;
	case APP_KT_INT:
		snprintf(buf, len, "%d", *(const int *)(const void *)f);
		return;
	case APP_KT_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)(const void *)f);
		return;
	case APP_KT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)(const void *)f ? "on" : "off");
		return;
	case APP_KT_STR:
	case APP_KT_COPY:
		snprintf(buf, len, "%s", f);
		return;
	case APP_KT_ENUM: {
		int v = *(const int *)(const void *)f;
		unsigned int n = 0;

		while (k->names[n] != NULL)
			n++;
		snprintf(buf, len, "%s", v >= 0 && (unsigned int)v < n ? k->names[v] : "?");
		return;
	}
	case APP_KT_CUSTOM:
		k->print(k, base, buf, len);
		return;
	}
	snprintf(buf, len, "?");
}

/* ---- tables ---------------------------------------------------------------- */

/* Section @p name ("run", "vif3"): its descriptor index and instance, or -1. */
static int
section_find(const struct app_cfg_desc *d, const char *name, unsigned int *idx)
{
	for (unsigned int s = 0; s < d->nb_sections; s++) {
		const struct app_section *sec = &d->sections[s];
		size_t n = strlen(sec->name);
		uint64_t x = 0;
		const char *p;

		if (sec->count == 0) {
			if (strcmp(name, sec->name) == 0) {
				*idx = 0;
				return (int)s;
			}
			continue;
		}
		if (strncmp(name, sec->name, n) != 0 || !isdigit((unsigned char)name[n]))
			continue;
		/* Decimal, no leading zero: [vif3], not [vif03] or [vif0x3]. */
		if (name[n] == '0' && name[n + 1] != '\0')
			continue;
		for (p = name + n; isdigit((unsigned char)*p) && x < sec->count; p++)
			x = x * 10 + (uint64_t)(*p - '0');
		if (*p == '\0' && x < sec->count) {
			*idx = (unsigned int)x;
			return (int)s;
		}
	}
	return -1;
}

static int
key_find(const struct app_cfg_desc *d, const char *section, const char *name)
{
	for (unsigned int i = 0; i < d->nb_keys; i++) {
		if (strcmp(d->keys[i].section, section) == 0 && strcmp(d->keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static void *
section_base(const struct app_cfg *cfg, const struct app_section *sec, unsigned int idx)
{
	return (char *)cfg->conf + sec->off + (size_t)idx * sec->stride;
}

static void
section_label(const struct app_section *sec, unsigned int idx, char *buf, size_t len)
{
	if (sec->count == 0)
		snprintf(buf, len, "%s", sec->name);
	else
		snprintf(buf, len, "%s%u", sec->name, idx);
}

static void
sections_help(const struct app_cfg_desc *d, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int s = 0; s < d->nb_sections && n < len; s++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s", s ? " " : "", d->sections[s].name,
				      d->sections[s].count ? "N" : "");
}

/* Quote at most SHOW_MAX characters of a value. */
static const char *
shown(const char *v, char *buf, size_t len)
{
	if (strlen(v) <= SHOW_MAX)
		return v;
	snprintf(buf, len, "%.*s...", SHOW_MAX, v);
	return buf;
}

static void
report(const char *src, unsigned int line, const char *section, const char *key, const char *value,
       const char *why)
{
	char where[600], vbuf[SHOW_MAX + 4];

	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u", src, line);
	else
		snprintf(where, sizeof(where), "%s", src != NULL ? src : "(default)");
	APP_LOG(ERR, "%s: [%s] %s = '%s': %s", where, section, key,
		shown(value, vbuf, sizeof(vbuf)), why);
}

/* Instance @p idx of section @p s is named for the first time: its keys' defaults, the hook. */
static int
declare(struct app_cfg *cfg, unsigned int s, unsigned int idx)
{
	const struct app_section *sec = &cfg->d->sections[s];
	void *base = section_base(cfg, sec, idx);
	char why[WHY_LEN], label[64];

	if (cfg->declared[s * cfg->nb_inst + idx])
		return 0;
	cfg->declared[s * cfg->nb_inst + idx] = true;
	section_label(sec, idx, label, sizeof(label));
	for (unsigned int i = 0; i < cfg->d->nb_keys; i++) {
		const struct app_key *k = &cfg->d->keys[i];

		if (strcmp(k->section, sec->name) != 0 || k->def == NULL)
			continue;
		if (key_parse(k, base, k->def, why, sizeof(why)) < 0) {
			report(NULL, 0, label, k->name, k->def, why);
			return -EINVAL;
		}
	}
	if (sec->declare != NULL)
		sec->declare(cfg->conf, idx);
	return 0;
}

int
app_cfg_init(struct app_cfg *cfg, const struct app_cfg_desc *d, void *conf)
{
	unsigned int n = 1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->d = d;
	cfg->conf = conf;
	for (unsigned int s = 0; s < d->nb_sections; s++)
		if (d->sections[s].count > n)
			n = d->sections[s].count;
	cfg->nb_inst = n;
	cfg->origin = calloc((size_t)d->nb_keys * n, sizeof(*cfg->origin));
	cfg->declared = calloc((size_t)d->nb_sections * n, sizeof(*cfg->declared));
	if (cfg->origin == NULL || cfg->declared == NULL) {
		app_cfg_fini(cfg);
		return -ENOMEM;
	}
	for (unsigned int s = 0; s < d->nb_sections; s++) {
		if (d->sections[s].count == 0 && declare(cfg, s, 0) < 0) {
			app_cfg_fini(cfg);
			return -EINVAL;
		}
	}
	return 0;
}

void
app_cfg_fini(struct app_cfg *cfg)
{
	free(cfg->origin);
	free(cfg->declared);
	cfg->origin = NULL;
	cfg->declared = NULL;
}

bool
app_cfg_declared(const struct app_cfg *cfg, const char *name, unsigned int idx)
{
	for (unsigned int s = 0; s < cfg->d->nb_sections; s++) {
		if (strcmp(cfg->d->sections[s].name, name) == 0)
			return idx < cfg->nb_inst && cfg->declared[s * cfg->nb_inst + idx];
	}
	return false;
}

/* Set one value; src/line say where it came from. */
static int
set_value(struct app_cfg *cfg, const char *src, unsigned int line, const char *section,
	  const char *key, const char *value)
{
	const struct app_cfg_desc *d = cfg->d;
	char why[WHY_LEN], names[WHY_LEN - 40];
	struct app_origin *o;
	unsigned int idx;
	int s, k;

	s = section_find(d, section, &idx);
	if (s < 0) {
		sections_help(d, names, sizeof(names));
		snprintf(why, sizeof(why), "unknown section (%s)", names);
		report(src, line, section, key, value, why);
		return -EINVAL;
	}
	k = key_find(d, d->sections[s].name, key);
	if (k < 0) {
		report(src, line, section, key, value, "unknown key");
		return -EINVAL;
	}
	o = &cfg->origin[(size_t)k * cfg->nb_inst + idx];
	if (line > 0 && o->line > 0 && o->src == src) {
		snprintf(why, sizeof(why), "key given twice in [%s] (first at line %u)", section,
			 o->line);
		report(src, line, section, key, value, why);
		return -EINVAL;
	}
	if (declare(cfg, (unsigned int)s, idx) < 0)
		return -EINVAL;
	if (key_parse(&d->keys[k], section_base(cfg, &d->sections[s], idx), value, why,
		      sizeof(why)) < 0) {
		report(src, line, section, key, value, why);
		return -EINVAL;
	}
	o->src = src;
	o->line = line;
	return 0;
}

int
app_cfg_set_key(struct app_cfg *cfg, const char *src, const char *section, const char *key,
		const char *value)
{
	return set_value(cfg, src, 0, section, key, value);
}

int
app_cfg_set(struct app_cfg *cfg, const char *src, const char *assignment)
{
	const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
	char sec[64], key[64];

	if (dot == NULL || eq == NULL || dot > eq || dot == assignment || eq == dot + 1 ||
	    (size_t)(dot - assignment) >= sizeof(sec) || (size_t)(eq - dot - 1) >= sizeof(key)) {
		APP_LOG(ERR, "%s: '%s': expected SECTION.KEY=VALUE", src, assignment);
		return -EINVAL;
	}
	memcpy(sec, assignment, (size_t)(dot - assignment));
	sec[dot - assignment] = '\0';
	memcpy(key, dot + 1, (size_t)(eq - dot - 1));
	key[eq - dot - 1] = '\0';
	return set_value(cfg, src, 0, sec, key, eq + 1);
}

int
app_cfg_bad(const struct app_cfg *cfg, const char *section, const char *key, const char *value,
	    const char *why)
{
	const struct app_cfg_desc *d = cfg->d;
	const struct app_origin *o = NULL;
	char val[256] = "";
	unsigned int idx;
	int s = section_find(d, section, &idx), k = -1;

	if (s >= 0)
		k = key_find(d, d->sections[s].name, key);
	if (k >= 0) {
		o = &cfg->origin[(size_t)k * cfg->nb_inst + idx];
		key_print(&d->keys[k], section_base(cfg, &d->sections[s], idx), val, sizeof(val));
	}
	report(o != NULL ? o->src : NULL, o != NULL ? o->line : 0, section, key,
	       value != NULL ? value : val, why);
	return -EINVAL;
}

/* ---- the INI file ------------------------------------------------------------ */

struct reader {
	struct app_cfg *cfg;
	FILE *fp;
	const char *path;
	unsigned int line;
	char *buf;
	size_t cap;
	int err;
	char section[64];       /* the current [section], "" before the first */
	unsigned int sect_line; /* its header's line */
	const char *sect_err;   /* pending: reported on its first key (or at its end) */
	unsigned int sect_err_line;
	char (*seen)[64]; /* sections seen so far, for duplicates */
	unsigned int *seen_line;
	unsigned int nb_seen;
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A syntax error on the current line; key is the text before '=' (or the whole line). */
static char *
syntax_error(struct reader *r, const char *text, const char *why)
{
	char key[256], kbuf[SHOW_MAX + 4], vbuf[SHOW_MAX + 4];
	const char *eq = strchr(text, '=');
	size_t n = eq != NULL ? (size_t)(eq - text) : strlen(text);

	if (n >= sizeof(key))
		n = sizeof(key) - 1;
	memcpy(key, text, n);
	key[n] = '\0';
	APP_LOG(ERR, "%s:%u: [%s] %s = '%s': %s", r->path, r->line, r->section,
		shown(trim(key), kbuf, sizeof(kbuf)),
		eq != NULL ? shown(trim((char *)(uintptr_t)eq + 1), vbuf, sizeof(vbuf)) : "", why);
	r->err = -EINVAL;
	return NULL;
}

/* A section error nobody reported yet (a section without keys). */
static int
flush_section_error(struct reader *r)
{
	if (r->sect_err == NULL)
		return 0;
	APP_LOG(ERR, "%s:%u: [%s]: %s", r->path, r->sect_err_line, r->section, r->sect_err);
	r->sect_err = NULL;
	return r->err = -EINVAL;
}

static int
section_begin(struct reader *r, const char *name)
{
	static char why[WHY_LEN];
	char names[WHY_LEN - 40];
	unsigned int idx;
	void *p;
	int s;

	if (flush_section_error(r) < 0)
		return -EINVAL;
	snprintf(r->section, sizeof(r->section), "%s", name);
	r->sect_line = r->line;
	for (unsigned int i = 0; i < r->nb_seen; i++) {
		if (strcmp(r->seen[i], name) == 0) {
			snprintf(why, sizeof(why), "section [%s] given twice (first at line %u)",
				 name, r->seen_line[i]);
			r->sect_err = why;
			r->sect_err_line = r->line;
			return 0;
		}
	}
	p = realloc(r->seen, (r->nb_seen + 1) * sizeof(*r->seen));
	if (p == NULL)
		return r->err = -ENOMEM;
	r->seen = p;
	p = realloc(r->seen_line, (r->nb_seen + 1) * sizeof(*r->seen_line));
	if (p == NULL)
		return r->err = -ENOMEM;
	r->seen_line = p;
	snprintf(r->seen[r->nb_seen], sizeof(r->seen[0]), "%s", name);
	r->seen_line[r->nb_seen++] = r->line;
	s = section_find(r->cfg->d, name, &idx);
	if (s < 0) {
		sections_help(r->cfg->d, names, sizeof(names));
		snprintf(why, sizeof(why), "unknown section (%s)", names);
		r->sect_err = why;
		r->sect_err_line = r->line;
		return 0;
	}
	/* A section without keys still declares its instance ([vif3] alone). */
	if (declare(r->cfg, (unsigned int)s, idx) < 0)
		return r->err = -EINVAL;
	return 0;
}

/*
 * inih's reader: one whole line per call (getline, any length). It refuses
 * what inih would accept silently or split, and tracks the section.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	char *t, *e, *semi;
	ssize_t n;
	size_t len;

	if (r->err != 0)
		return NULL;
	n = getline(&r->buf, &r->cap, r->fp);
	if (n < 0)
		return NULL;
	r->line++;
	len = (size_t)n;
	if (strlen(r->buf) != len)
		return syntax_error(r, "", "NUL byte in the line");
	while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
		r->buf[--len] = '\0';
	/* inih needs room for the text, '\n' and '\0'. */
	if (num < 3 || len > (size_t)num - 2) {
		char why[64];

		snprintf(why, sizeof(why), "line longer than %d characters", num - 2);
		return syntax_error(r, trim(r->buf), why);
	}
	t = r->buf;
	if (r->line == 1 && strncmp(t, "\xEF\xBB\xBF", 3) == 0)
		t += 3; /* a UTF-8 byte-order mark */
	t = trim(t);
	/*
	 * inih gets the line trimmed: an indented line would otherwise be the
	 * continuation of the previous value (INI_ALLOW_MULTILINE).
	 */
	len = strlen(t);
	memcpy(str, t, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	if (*t == '\0' || *t == ';' || *t == '#')
		return str;
	/* Comments: ';' at the start or after whitespace, as inih reads them. */
	for (semi = t + 1; *semi != '\0'; semi++) {
		if (*semi == ';' && isspace((unsigned char)semi[-1])) {
			*semi = '\0';
			t = trim(t);
			break;
		}
	}
	if (*t == '[') {
		e = strchr(t, ']');
		if (e == NULL || e[1] != '\0' || e == t + 1)
			return syntax_error(r, t, "bad section header (expected [name])");
		*e = '\0';
		if (section_begin(r, t + 1) < 0)
			return NULL;
		return str;
	}
	e = strpbrk(t, "=:");
	if (e == NULL)
		return syntax_error(r, t, "no '=' (expected key = value)");
	if (*e == ':')
		return syntax_error(r, t, "':' before '=' (expected key = value)");
	if (e == t)
		return syntax_error(r, t, "no key before '='");
	if (r->section[0] == '\0')
		return syntax_error(r, t, "key outside any [section]");
	return str;
}

static int
on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;

	if (r->err != 0)
		return 1;
	if (r->sect_err != NULL) {
		report(r->path, r->line, section, name, value, r->sect_err);
		r->sect_err = NULL;
		r->err = -EINVAL;
		return 1;
	}
	if (set_value(r->cfg, r->path, r->line, section, name, value) < 0)
		r->err = -EINVAL;
	return 1;
}

int
app_cfg_load(struct app_cfg *cfg, const char *path)
{
	struct reader r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	/* Origins point at the stored path: it outlives the file. */
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	r.path = cfg->path;
	r.fp = fopen(path, "r");
	if (r.fp == NULL) {
		APP_LOG(ERR, "%s: cannot open: %s", path, strerror(errno));
		return -EINVAL;
	}
	/* The reader and the handler share r: inih passes the stream to one, user to the other. */
	rc = ini_parse_stream(read_line, &r, on_entry, &r);
	if (r.err == 0 && ferror(r.fp)) {
		APP_LOG(ERR, "%s:%u: read error", path, r.line);
		r.err = -EIO;
	}
	if (r.err == 0)
		flush_section_error(&r);
	if (r.err == 0 && rc != 0) {
		/* inih refused a line our reader let through. */
		APP_LOG(ERR, "%s:%d: [%s] ? = '': not 'key = value'", path, rc, r.section);
		r.err = -EINVAL;
	}
	fclose(r.fp);
	free(r.buf);
	free(r.seen);
	free(r.seen_line);
	return r.err != 0 ? -EINVAL : 0;
}

/* ---- printing -------------------------------------------------------------- */

void
app_cfg_print(const struct app_cfg *cfg, FILE *f)
{
	const struct app_cfg_desc *d = cfg->d;
	char val[512], label[64];

	fprintf(f, "# effective config%s%s\n", cfg->path[0] ? " from " : "", cfg->path);
	for (unsigned int s = 0; s < d->nb_sections; s++) {
		const struct app_section *sec = &d->sections[s];
		unsigned int n = sec->count ? sec->count : 1;

		for (unsigned int i = 0; i < n; i++) {
			if (!cfg->declared[s * cfg->nb_inst + i])
				continue;
			section_label(sec, i, label, sizeof(label));
			fprintf(f, "[%s]\n", label);
			for (unsigned int k = 0; k < d->nb_keys; k++) {
				if (strcmp(d->keys[k].section, sec->name) != 0)
					continue;
				key_print(&d->keys[k], section_base(cfg, sec, i), val, sizeof(val));
				fprintf(f, "%s = %s\n", d->keys[k].name, val);
			}
		}
	}
}

void
app_cfg_usage(const struct app_cfg_desc *d, FILE *f)
{
	char lhs[64];

	fprintf(f, "config keys ([section] key (default): meaning):\n");
	for (unsigned int k = 0; k < d->nb_keys; k++) {
		const struct app_key *key = &d->keys[k];
		int s;
		unsigned int idx;

		s = section_find(d, key->section, &idx);
		snprintf(lhs, sizeof(lhs), "[%s%s] %s", key->section,
			 s < 0 && key->section[0] != '\0' ? "N" : "", key->name);
		fprintf(f, "  %-28s %s (%s)\n", lhs, key->help, key->def != NULL ? key->def : "-");
	}
}
