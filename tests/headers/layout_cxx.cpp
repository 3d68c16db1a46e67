// SPDX-License-Identifier: MIT
// The public types' layout as a C++ compiler sees it (see layout.h).
#include "layout.h"

static const struct layout_row rows[] = {LAYOUT_ROWS(LAYOUT_TYPE, LAYOUT_FIELD)};

size_t
layout_cxx(const struct layout_row **out)
{
	*out = rows;
	return sizeof(rows) / sizeof(rows[0]);
}
