/* Minimal test harness: TEST(name) functions, EXPECT* assertions.  Each test
 * prints "PASS name" or "FAIL name: first failure"; tests/run-tests counts. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*test_fn)(void);
void check_register(const char *name, test_fn fn);
void check_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Run a dynamically named sub-test (for table-driven tests). */
void check_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check_end(void);
int check_main(int argc, char **argv);

#define TEST(name) \
	static void test_##name(void); \
	__attribute__((constructor)) static void reg_##name(void) \
	{ check_register(#name, test_##name); } \
	static void test_##name(void)

#define EXPECT(cond) do { if (!(cond)) \
	check_fail(__FILE__, __LINE__, "expected %s", #cond); } while (0)
#define EXPECT_EQ(a, b) do { uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b); \
	if (_a != _b) check_fail(__FILE__, __LINE__, "%s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64, \
				 #a, _a, #b, _b); } while (0)
#define EXPECT_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b)) check_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
				 #a, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define EXPECT_MSG(cond, ...) do { if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* Directory of generated dumps ($VTD_GEN, default build/gen). */
const char *check_gen_dir(void);

#endif
