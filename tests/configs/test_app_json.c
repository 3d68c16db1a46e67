/* SPDX-License-Identifier: MIT */
/*
 * The app layer's JSON writer (apps/common/json.c): nesting, commas, every
 * string escaped, NaN and infinities as null. Compared byte for byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

int
main(void)
{
	static const char want[] =
		"{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u007f\xc3\xa9\",\"k\\\"ey\":1,"
		"\"neg\":-3,\"d\":1.50,\"nan\":null,\"inf\":null,\"b\":true,"
		"\"arr\":[1,\"x\",{\"o\":false},[]],\"o\":{},\"last\":\"\"}\n";
	struct app_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL)
		return 1;
	app_json_begin(&j, f);
	app_json_str(&j, "s", "a\"b\\c\n\t\x01\x1f\x7f\xc3\xa9");
	app_json_u64(&j, "k\"ey", 1);
	app_json_i64(&j, "neg", -3);
	app_json_dbl(&j, "d", 1.5, 2);
	app_json_dbl(&j, "nan", NAN, 2);
	app_json_dbl(&j, "inf", -INFINITY, 2);
	app_json_bool(&j, "b", true);
	app_json_arr(&j, "arr");
	app_json_u64(&j, NULL, 1);
	app_json_str(&j, NULL, "x");
	app_json_obj(&j, NULL);
	app_json_bool(&j, "o", false);
	app_json_obj_end(&j);
	app_json_arr(&j, NULL);
	app_json_arr_end(&j);
	app_json_arr_end(&j);
	app_json_obj(&j, "o");
	app_json_obj_end(&j);
	app_json_str(&j, "last", NULL);
	rc = app_json_end(&j);
	fclose(f);
	if (rc != 0 || strcmp(buf, want) != 0) {
		printf("FAIL: rc %d\n got: %s want: %s", rc, buf, want);
		free(buf);
		return 1;
	}
	printf("ok   JSON writer: %s", buf);
	free(buf);
	return 0;
}
