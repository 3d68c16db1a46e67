/* SPDX-License-Identifier: MIT */
/* What the tests of tests/xen share. */
#ifndef GNTDP_TESTS_XGTEST_H
#define GNTDP_TESTS_XGTEST_H

#include <stdio.h>

/* Report the failed condition with a message and return -1 from the calling test. */
#define CHECK(c, ...)                                                                          \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #c);            \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			return -1;                                                             \
		}                                                                              \
	} while (0)

#endif
