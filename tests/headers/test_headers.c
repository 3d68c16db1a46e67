/* SPDX-License-Identifier: MIT */
/*
 * Public headers stand alone (STYLE.md §3.3, like DPDK's check_includes).
 *
 * Build time: meson.build generates one translation unit per header of
 * include/gntdp/ that includes only that header (twice, for the guard), as
 * C11 and, with a C++ compiler, as C++11, with -Wpedantic and -Werror. A
 * header that leans on an earlier include, uses an extension or breaks C++
 * fails the build of this test.
 *
 * Run time:
 *  1. every *.h in include/gntdp/ is in the list that was compiled (argv), so
 *     a new header cannot dodge the check by not being listed;
 *  2. C and C++ compute the same size, alignment and offsets for the public
 *     types (layout.h), which the extern "C" API relies on.
 *
 * Usage: test_headers INCLUDE_GNTDP_DIR HEADER... ; exit 0 pass, 1 fail.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

static const struct layout_row rows_c[] = {LAYOUT_ROWS(LAYOUT_TYPE, LAYOUT_FIELD)};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 1: headers on disk that the build did not compile alone. */
static int
check_listed(const char *dir, int nb_listed, char **listed)
{
	struct dirent *de;
	int nb_bad = 0, nb_seen = 0;
	DIR *d = opendir(dir);

	if (d == NULL) {
		printf("FAIL: cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		bool found = false;

		if (!ends_with(de->d_name, ".h"))
			continue;
		nb_seen++;
		for (int i = 0; i < nb_listed && !found; i++)
			found = strcmp(de->d_name, listed[i]) == 0;
		if (!found) {
			printf("FAIL: %s/%s is not in public_headers (include/meson.build), "
			       "so it is neither installed nor checked\n",
			       dir, de->d_name);
			nb_bad++;
		}
	}
	closedir(d);
	printf("headers: %d in %s, %d compiled alone as C11%s\n", nb_seen, dir, nb_listed,
#ifdef HAVE_CXX
	       " and C++11"
#else
	       " (no C++ compiler: C++ check not built)"
#endif
	);
	return nb_bad;
}

/* 2: C against C++ layout. */
static int
check_cxx_layout(void)
{
#ifdef HAVE_CXX
	const struct layout_row *rows_cxx;
	size_t n = layout_cxx(&rows_cxx);
	int nb_bad = 0;

	if (n != NELEM(rows_c)) {
		printf("FAIL: %zu layout rows in C, %zu in C++\n", NELEM(rows_c), n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct layout_row *c = &rows_c[i], *x = &rows_cxx[i];

		if (c->size == x->size && c->align == x->align && c->offset == x->offset)
			continue;
		printf("FAIL: %s: C size %zu align %zu offset %zu, C++ size %zu align %zu "
		       "offset %zu\n",
		       c->name, c->size, c->align, c->offset, x->size, x->align, x->offset);
		nb_bad++;
	}
	printf("layout: %zu types and fields equal in C and C++\n", n - (size_t)nb_bad);
	return nb_bad;
#else
	return 0;
#endif
}

int
main(int argc, char **argv)
{
	int nb_bad;

	if (argc < 3) {
		fprintf(stderr, "usage: %s INCLUDE_GNTDP_DIR HEADER...\n", argv[0]);
		return 1;
	}
	nb_bad = check_listed(argv[1], argc - 2, argv + 2);
	nb_bad += check_cxx_layout();
	return nb_bad == 0 ? 0 : 1;
}
