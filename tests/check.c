#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct entry { const char *name; test_fn fn; };
static struct entry *tests;
static size_t ntests;
static char cur_name[256];
static int cur_failed;
static char cur_msg[1024];
static int in_sub;
static int sub_failed, sub_msgs, sub_bad;

void check_register(const char *name, test_fn fn)
{
	tests = realloc(tests, (ntests + 1) * sizeof(*tests));
	if (!tests)
		abort();
	tests[ntests++] = (struct entry){ name, fn };
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (in_sub) {
		sub_failed++;
		if (sub_msgs++ == 0)
			snprintf(cur_msg, sizeof(cur_msg), "%s:%d: %s", file, line, msg);
		return;
	}
	if (cur_failed++ == 0)
		snprintf(cur_msg, sizeof(cur_msg), "%s:%d: %s", file, line, msg);
}

static void report(const char *name, int failed)
{
	if (failed)
		printf("FAIL %s: %s\n", name, cur_msg);
	else
		printf("PASS %s\n", name);
	fflush(stdout);
}

void check_begin(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cur_name, sizeof(cur_name), fmt, ap);
	va_end(ap);
	in_sub = 1;
	sub_failed = sub_msgs = 0;
}

void check_end(void)
{
	report(cur_name, sub_failed);
	sub_bad += sub_failed != 0;
	in_sub = 0;
}

const char *check_gen_dir(void)
{
	const char *d = getenv("VTD_GEN");
	return d && *d ? d : "build/gen";
}

int check_main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	int bad = 0;
	for (size_t i = 0; i < ntests; i++) {
		if (only && !strstr(tests[i].name, only))
			continue;
		cur_failed = 0;
		tests[i].fn();
		if (in_sub)
			check_end();
		report(tests[i].name, cur_failed);
		bad += cur_failed != 0;
	}
	return bad || sub_bad ? 1 : 0;
}

__attribute__((weak)) int main(int argc, char **argv)
{
	return check_main(argc, argv);
}
