/* SPDX-License-Identifier: MIT */
/*
 * The app layer every gntdp program is built on (apps/common): one config
 * engine, one program skeleton and one JSON writer. Not installed and not
 * public API (no gntdp_ prefix, STYLE.md §3.2); DPDK types stay out of it
 * apart from the rte_log call behind APP_LOG.
 *
 * Config engine (cfg.c). An app describes its configuration once, as a
 * table of keys (struct app_key: section, name, type, default, range, help,
 * where the value goes) and of sections (struct app_section). The table
 * gives the defaults, the parser and range of each key, the --help text and
 * the effective-config printout, so adding a key touches one place. The
 * data-plane keys (cache, cache_entries, hold_us, idle_sleep_us, idle_after_us,
 * burst, ring_size, copy)
 * are declared once, by the APP_DP_KEY_* macros below, and every app uses
 * those. Values come from, in this order, later ones winning:
 *   1. the table's defaults,
 *   2. the INI file of --config (libinih underneath),
 *   3. --set SECTION.KEY=VALUE and the app options that map to a key, in
 *      command-line order, whatever their place relative to --config.
 * Every rejected value is reported, through the app's log type, as
 *   FILE:LINE: [section] key = 'value': reason
 * (--set or the option's name in place of FILE:LINE). A file is refused on
 * a duplicate key or section, a line without '=', a line longer than the
 * parser's buffer (never split), NaN or an infinity, an out-of-range value,
 * trailing junk and an unknown key or section.
 *
 * Skeleton (app.c): argv is "EAL args -- app args"; the app args are read
 * with getopt_long: --config FILE, --set SECTION.KEY=VALUE, --json, --help,
 * --dry-run and the app's own options (struct app_opt). The config is complete and
 * checked before EAL starts. Exit codes are the same in every app:
 * APP_EXIT_OK, APP_EXIT_FAIL (a check failed: verification, violations),
 * APP_EXIT_USAGE (usage, config or EAL error) and APP_EXIT_SKIP only for a
 * missing resource a test may skip on (EAL could not get memory), never for
 * a bad argument.
 *
 * JSON (json.c): struct app_json writes one object with escaped strings;
 * every --json output goes through it.
 */
#ifndef GNTDP_APP_H
#define GNTDP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gntdp/dataplane.h>
#include <gntdp/hcall.h>

/* ---- exit codes ---------------------------------------------------------- */

#define APP_EXIT_OK 0
#define APP_EXIT_FAIL 1   /* a check failed: verification, oracle violation */
#define APP_EXIT_USAGE 2  /* bad usage, config or EAL argument */
#define APP_EXIT_SKIP 77  /* a resource a test may skip on is missing (no memory for EAL) */

/* ---- logging ------------------------------------------------------------- */

/* The app's rte_log type ("gntdp.bench", ...), registered by app_start(). */
extern int app_logtype;

void app_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* APP_LOG(ERR, "fmt", ...): one line through rte_log (the newline is added). */
#define APP_LOG(level, ...) app_log(APP_LOG_##level, __VA_ARGS__)
/* rte_log levels (rte_log.h) without the DPDK header. */
#define APP_LOG_ERR 4u
#define APP_LOG_WARNING 5u
#define APP_LOG_NOTICE 6u
#define APP_LOG_INFO 7u
#define APP_LOG_DEBUG 8u

/* ---- config engine ------------------------------------------------------- */

enum app_ktype {
	APP_KT_UINT,   /* unsigned int in [min, max] */
	APP_KT_U16,    /* uint16_t in [min, max] */
	APP_KT_U64,    /* uint64_t in [min, max] */
	APP_KT_INT,    /* int in [min, max] (not negative) */
	APP_KT_DOUBLE, /* finite double in [dmin, dmax] */
	APP_KT_BOOL,   /* on/off, yes/no, true/false, 1/0 */
	APP_KT_STR,    /* text of min..max bytes into a char[max + 1] */
	APP_KT_ENUM,   /* one of names[] into an int (its index) */
	APP_KT_COPY,   /* a copy kernel name the data plane accepts, into a char[max + 1] */
	APP_KT_CUSTOM, /* parse and print are the key's own */
};

#define APP_KF_POW2 1u /* integer keys: a power of two */

struct app_key;

/*
 * Custom parser: set the fields of @p base (the section's struct) from @p v.
 * 0, or -EINVAL with a reason in why.
 */
typedef int (*app_key_parse_fn)(const struct app_key *k, void *base, const char *v, char *why,
				size_t whylen);
/* Custom printer: the value of k in @p base as it would be written in a file. */
typedef void (*app_key_print_fn)(const struct app_key *k, const void *base, char *buf, size_t len);

struct app_key {
	const char *section; /* an app_section's name */
	const char *name;
	enum app_ktype type;
	size_t off;          /* field, from the section's base */
	uint64_t min, max;   /* integers; STR, COPY: length */
	double dmin, dmax;   /* DOUBLE */
	unsigned int flags;  /* APP_KF_* */
	const char *def;     /* default as written in a file; NULL: the field stays 0 / "" */
	const char *help;
	const char *const *names;  /* ENUM: NULL-terminated */
	app_key_parse_fn parse;    /* CUSTOM */
	app_key_print_fn print;    /* CUSTOM */
	size_t off2;               /* CUSTOM: a second field (a list's count, ...) */
};

/*
 * A section: [name], or with count > 0 the instances [name0] .. [name<count-1>],
 * each a struct at conf + off + i * stride. An instance exists once a file or
 * the command line names it: the engine then applies its keys' defaults and
 * calls declare(conf, i).
 */
struct app_section {
	const char *name;
	unsigned int count;
	size_t off, stride;
	void (*declare)(void *conf, unsigned int idx);
};

struct app_cfg_desc {
	const struct app_section *sections;
	unsigned int nb_sections;
	const struct app_key *keys;
	unsigned int nb_keys;
};

/* Where a value came from: a file and line, a command-line option, or the default. */
struct app_origin {
	const char *src; /* file path (line > 0), "--set" or "--option"; NULL: the default */
	unsigned int line;
};

struct app_cfg {
	const struct app_cfg_desc *d;
	void *conf;
	char path[512];             /* the --config file, "" when none */
	unsigned int nb_inst;       /* instances per key (largest section count, at least 1) */
	struct app_origin *origin;  /* [key * nb_inst + instance] */
	bool *declared;             /* [section * nb_inst + instance] */
};

/* Bind @p cfg to @p conf and apply the defaults of every plain section. 0 or -ENOMEM. */
int app_cfg_init(struct app_cfg *cfg, const struct app_cfg_desc *d, void *conf);
void app_cfg_fini(struct app_cfg *cfg);
/* Load an INI file over the current values. 0 or -EINVAL (message logged). */
int app_cfg_load(struct app_cfg *cfg, const char *path);
/* Apply "SECTION.KEY=VALUE"; @p src names it in messages ("--set"). 0 or -EINVAL. */
int app_cfg_set(struct app_cfg *cfg, const char *src, const char *assignment);
/* Apply one value. 0 or -EINVAL (message logged). */
int app_cfg_set_key(struct app_cfg *cfg, const char *src, const char *section, const char *key,
		    const char *value);
/*
 * Log a cross-field error on key @p section.key (section "vif3" for an
 * instance) as "ORIGIN: [section] key = 'value': why", ORIGIN being where
 * the value came from ("(default)" when nowhere) and value @p value, or the
 * key's current value when NULL. Returns -EINVAL.
 */
int app_cfg_bad(const struct app_cfg *cfg, const char *section, const char *key, const char *value,
		const char *why);
/* Whether instance @p idx of section @p name was named (plain sections: always). */
bool app_cfg_declared(const struct app_cfg *cfg, const char *name, unsigned int idx);
/* The effective config as an INI file (every key, every declared instance). */
void app_cfg_print(const struct app_cfg *cfg, FILE *f);
/* The key table: "[section] key  default  help". */
void app_cfg_usage(const struct app_cfg_desc *d, FILE *f);
/* Parse @p v as key @p k would be, into the field at base + k->off. 0 or -EINVAL, why set. */
int app_cfg_parse_value(const struct app_key *k, void *base, const char *v, char *why,
			size_t whylen);
/* Parse a boolean as the engine does. 0 or -EINVAL. */
int app_parse_bool(const char *s, bool *out);
/* Parse an unsigned integer in [min, max] as the engine does. 0 or -EINVAL with why set. */
int app_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why,
		  size_t whylen);

/*
 * The data-plane keys, declared once for every app: APP_DP_KEY_X(SECTION,
 * TYPE, FIELD) is the table entry of key X in [SECTION], stored in
 * TYPE.FIELD. Defaults are the data plane's (gntdp_dp_conf_init).
 */
/* offsetof(T, f), refused at compile time unless T.f has @p size bytes. */
#define APP__FIELD(T, f, size)                                                               \
	(offsetof(T, f) + 0 * sizeof(char[sizeof(((T *)0)->f) == (size) ? 1 : -1]))
#define APP_DP_KEY_CACHE(sec, T, f)                                                          \
	{.section = sec, .name = "cache", .type = APP_KT_BOOL, .off = APP__FIELD(T, f, 1),       \
	 .def = "on", .help = "per-worker grant cache (persistent pins, docs/cache.md)"}
#define APP_DP_KEY_CACHE_ENTRIES(sec, T, f)                                                  \
	{.section = sec, .name = "cache_entries", .type = APP_KT_UINT,                           \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 2, .max = 4096,                  \
	 .flags = APP_KF_POW2, .def = "512",                                                    \
	 .help = "grant cache entries per worker (power of two)"}
#define APP_DP_KEY_HOLD_US(sec, T, f)                                                        \
	{.section = sec, .name = "hold_us", .type = APP_KT_UINT,                                 \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 0, .max = 1000000,               \
	 .def = APP__STR(GNTDP_DP_DEFAULT_HOLD_US),                                             \
	 .help = "a cached pin is released within hold_us + one poll, us (0: Xen-exact)"}
#define APP_DP_KEY_IDLE_SLEEP_US(sec, T, f)                                                  \
	{.section = sec, .name = "idle_sleep_us", .type = APP_KT_UINT,                           \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 0,                               \
	 .max = GNTDP_DP_MAX_IDLE_SLEEP_US, .def = "0",                                         \
	 .help = "an idle worker sleeps this long between polls, us (0: busy-poll)"}
#define APP_DP_KEY_IDLE_AFTER_US(sec, T, f)                                                  \
	{.section = sec, .name = "idle_after_us", .type = APP_KT_UINT,                           \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 0,                               \
	 .max = GNTDP_DP_MAX_IDLE_AFTER_US, .def = APP__STR(GNTDP_DP_DEFAULT_IDLE_AFTER_US),    \
	 .help = "idle this long before idle_sleep_us applies, us"}
#define APP_DP_KEY_BURST(sec, T, f)                                                          \
	{.section = sec, .name = "burst", .type = APP_KT_UINT,                                   \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 1, .max = GNTDP_DP_MAX_BURST,    \
	 .def = "32", .help = "hypercalls a worker takes from a ring per poll"}
#define APP_DP_KEY_RING_SIZE(sec, T, f)                                                      \
	{.section = sec, .name = "ring_size", .type = APP_KT_UINT,                               \
	 .off = APP__FIELD(T, f, sizeof(unsigned int)), .min = 2,                               \
	 .max = GNTDP_HCALL_RING_MAX_ENTRIES, .flags = APP_KF_POW2, .def = "1024",              \
	 .help = "SQ and CQ entries of each hypercall ring (power of two)"}
#define APP_DP_KEY_COPY(sec, T, f)                                                           \
	{.section = sec, .name = "copy", .type = APP_KT_COPY, .off = offsetof(T, f), .min = 1,   \
	 .max = sizeof(((T *)0)->f) - 1, .def = "auto",                                         \
	 .help = "copy kernel: auto memmove scalar sse avx2 avx512"}
#define APP__STR(x) APP__STR2(x)
#define APP__STR2(x) #x

/* The copy kernel names the data plane accepts (gntdp_dp_conf.copy). */
extern const char *const app_copy_names[];

/* ---- skeleton ------------------------------------------------------------ */

/* An app option. With key set it is the same as --set KEY=ARG (ARG "on" without arg). */
struct app_opt {
	const char *name; /* long option */
	int short_name;   /* 0 or a letter */
	const char *arg;  /* NULL: takes no argument; else its name in --help */
	const char *key;  /* "section.key", or NULL: app_desc.opt handles it */
	const char *help;
};

enum app_json_mode {
	APP_JSON_NONE,   /* no --json */
	APP_JSON_STDOUT, /* --json: the JSON object on stdout, nothing else there */
	APP_JSON_FILE,   /* --json FILE ('-': stdout) */
};

struct app_desc {
	const char *name;    /* "gntdp-bench" */
	const char *logtype; /* "gntdp.bench" */
	const char *synopsis; /* after the name in --help: "[EAL args] -- [options]" */
	const char *about;    /* a paragraph for --help, or NULL */
	const struct app_cfg_desc *cfg;
	const struct app_opt *opts;
	unsigned int nb_opts;
	enum app_json_mode json;
	/* An option without key: 0, or -EINVAL (message logged). */
	int (*opt)(void *conf, const struct app_opt *o, const char *arg);
	/* Cross-field checks after the config is complete, before EAL. 0 or -EINVAL. */
	int (*check)(struct app_cfg *cfg);
	/* NULL: EAL always starts. Else EAL starts only when it returns true. */
	bool (*want_eal)(const void *conf);
	/*
	 * NULL: without "--" every argument is EAL's. Else without "--" every
	 * argument is the app's and this fills EAL's argv (argv[0] is given);
	 * returns argc.
	 */
	int (*eal_default)(const void *conf, char **argv, int max, char *buf, size_t len);
	unsigned int no_huge_mb; /* gntdp_dp_eal_conf.no_huge_mb (0: the data plane's default) */
};

/*
 * An app_desc.eal_default for apps with a main lcore and @p workers worker
 * lcores: --lcores=(0-workers)@(0-ncpu-1) (all float over every CPU),
 * --file-prefix=PREFIX-PID, --no-pci, --log-level=lib.*:warning.
 */
int app_eal_lcores(const char *prefix, unsigned int workers, char **argv, int max, char *buf,
		   size_t len);

struct app {
	const struct app_desc *d;
	struct app_cfg cfg;
	bool json;             /* --json given */
	bool dry_run;          /* --dry-run: print the checked config, exit before EAL */
	char json_path[256];   /* APP_JSON_FILE: its argument */
	bool eal;              /* EAL is up (app_finish cleans it up) */
	bool hugepages;        /* EAL runs on hugepages */
	char **eal_argv;       /* what EAL was given */
	char *opt_srcs;        /* "--name" of each app option: origins of the values they set */
};

/* app_start() returns this when the app should go on; any other value is an exit status. */
#define APP_RUN (-1)

/*
 * Register the log type, read the command line and the config (defaults,
 * file, --set) into @p conf, run d->check, start EAL (unless d->want_eal
 * says not to). Returns APP_RUN, or the exit status to return from main:
 * APP_EXIT_OK after --help, APP_EXIT_USAGE on a bad command line, config or
 * EAL argument, APP_EXIT_SKIP when EAL could not get its memory.
 */
int app_start(struct app *a, const struct app_desc *d, void *conf, int argc, char **argv);
/* Clean up EAL (when started) and the config state; returns @p status. */
int app_finish(struct app *a, int status);
/* The stream --json output goes to (stdout or the file; NULL on error, logged). */
FILE *app_json_open(struct app *a);
void app_json_close(struct app *a, FILE *f);
/* The stream for human-readable reports: stderr when --json takes stdout, else stdout. */
FILE *app_report_stream(const struct app *a);

/* ---- JSON writer --------------------------------------------------------- */

#define APP_JSON_MAX_DEPTH 16

struct app_json {
	FILE *f;
	unsigned int depth;
	bool comma[APP_JSON_MAX_DEPTH]; /* a member was written at this depth */
};

/* Members take a key inside an object and NULL inside an array or at the top. */
void app_json_begin(struct app_json *j, FILE *f); /* opens the top-level object */
int app_json_end(struct app_json *j);             /* closes it, newline; 0 or -EIO */
void app_json_obj(struct app_json *j, const char *key);
void app_json_obj_end(struct app_json *j);
void app_json_arr(struct app_json *j, const char *key);
void app_json_arr_end(struct app_json *j);
void app_json_str(struct app_json *j, const char *key, const char *v);
void app_json_u64(struct app_json *j, const char *key, uint64_t v);
void app_json_i64(struct app_json *j, const char *key, int64_t v);
/* %.<prec>f; NaN and infinities are written as null. */
void app_json_dbl(struct app_json *j, const char *key, double v, int prec);
void app_json_bool(struct app_json *j, const char *key, bool v);

#endif /* GNTDP_APP_H */
