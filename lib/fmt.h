/* Internal: helpers for writing format tables. */
#ifndef LIB_FMT_H
#define LIB_FMT_H

#include "vtd/fields.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FORMAT(var, title, nq, tab) \
	const struct vtd_format var = { title, nq, tab, ARRAY_SIZE(tab) }

#endif
