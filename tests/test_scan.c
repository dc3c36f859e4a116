/* The structural scan: the byte test of a root page, and on every scenario
 * (with the mock kernel's pages around the tables, as a real dump has them)
 * the scan must put a real root table first, in its mode, and find every
 * unit that has devices as a clean candidate; hostile scenarios end in
 * bounded time. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "image.h"
#include "mock_kernel.h"
#include "scenario.h"
#include "vtd/scan.h"
#include "vtd/tables.h"

#define SCN_DIR "testdata/scenarios"

TEST(root_page_byte_test)
{
	static uint64_t q[512];
	memset(q, 0, sizeof(q));
	EXPECT_EQ(vtd_scan_root_page(q, 0), 0);                    /* nothing present */
	q[0] = 0x1234000 | 1;
	EXPECT_EQ(vtd_scan_root_page(q, 0), 3);                    /* legacy, or SM lower half only */
	EXPECT_EQ(vtd_scan_root_page(q, 0x1000000), 0);            /* beyond RAM */
	q[1] = 0x1235000 | 1;
	EXPECT_EQ(vtd_scan_root_page(q, 0), 2);                    /* an upper half: scalable only */
	q[1] = 0x1235000;
	EXPECT_EQ(vtd_scan_root_page(q, 0), 0);                    /* hi without UP, not zero */
	q[1] = 0;
	q[0] = 0x1234000 | 1 | 0x10;
	EXPECT_EQ(vtd_scan_root_page(q, 0), 0);                    /* reserved bit 4 */
	q[0] = 0x1234000;
	EXPECT_EQ(vtd_scan_root_page(q, 0), 0);                    /* not present but not zero */
}

static bool has_contexts(const struct scn *s, const char *unit)
{
	for (size_t i = 0; i < s->nctxs; i++)
		if (!strcmp(s->ctx_units[i], unit))
			return true;
	return false;
}

static void scan_one(const char *path)
{
	char err[512];
	struct mock *mk = NULL;
	struct scn *s = scn_load_generated(path, mock_vmlinux_path(), &mk, err, sizeof(err));
	EXPECT_MSG(s, "%s", err);
	if (!s)
		return;
	struct vtd_mem mem = img_mem(s->img);
	struct vtd_scan_result r;
	struct vtd_error e;
	vtd_error_init(&e);
	EXPECT_MSG(vtd_scan(&mem, img_max_pfn(s->img), NULL, NULL, &r, &e) == 0, "%s", e.msg);
	bool hostile = s->ndiags > 0, any = false;
	for (size_t u = 0; u < s->nunits; u++) {
		const struct vtd_unit *un = &s->units[u];
		if (!has_contexts(s, un->name) || hostile)
			continue;
		any = true;
		bool found = false;
		for (size_t i = 0; i < r.n; i++)
			found |= r.v[i].pa == rtaddr_rta(un->rtaddr) && r.v[i].bad == 0 &&
				 r.v[i].scalable == vtd_unit_scalable(un);
		EXPECT_MSG(found, "%s: unit %s's root table 0x%" PRIx64 " is not a clean candidate",
			   s->name, un->name, rtaddr_rta(un->rtaddr));
	}
	if (any) {
		bool top = false;
		for (size_t u = 0; u < s->nunits && r.n; u++)
			top |= r.v[0].pa == rtaddr_rta(s->units[u].rtaddr) &&
			       r.v[0].scalable == vtd_unit_scalable(&s->units[u]);
		EXPECT_MSG(top, "%s: the best candidate 0x%" PRIx64 " (%s) is no unit's root table",
			   s->name, r.n ? r.v[0].pa : 0, r.n && r.v[0].scalable ? "scalable" : "legacy");
		EXPECT(r.pages_read > 0 && r.pages_tested >= 1);
	}
	vtd_scan_result_free(&r);
	scn_free(s);
	mock_free(mk);
}

TEST(scan_finds_every_scenario_root)
{
	DIR *dir = opendir(SCN_DIR);
	struct dirent *de;
	unsigned n = 0;
	EXPECT(dir);
	while (dir && (de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", SCN_DIR, de->d_name);
		check_begin("scan/%s", de->d_name);
		scan_one(path);
		check_end();
		n++;
	}
	if (dir)
		closedir(dir);
	EXPECT(n >= 10);
}

/* A legacy table read as scalable: the tie goes to legacy. */
TEST(scan_prefers_legacy_reading_on_ties)
{
	struct img *im = img_new();
	img_add_ram(im, 0, 64u << 20);
	uint64_t root = 0x100000, ctx = 0x101000;
	uint64_t e[2] = { ctx | 1, 0 };
	img_write(im, root, e, 16);
	uint64_t c[2] = { 0x9, 0x0201 };           /* pass-through, AW 1, DID 2 */
	img_write(im, ctx + 16 * 8, c, 16);
	img_page(im, 0, true);                     /* page 0 exists (a PASID dir at 0 reads clean) */
	struct vtd_mem mem = img_mem(im);
	struct vtd_scan_result r;
	struct vtd_error er;
	vtd_error_init(&er);
	EXPECT(vtd_scan(&mem, img_max_pfn(im), NULL, NULL, &r, &er) == 0);
	EXPECT(r.n >= 1);
	if (r.n) {
		EXPECT_EQ(r.v[0].pa, root);
		EXPECT(!r.v[0].scalable);
	}
	vtd_scan_result_free(&r);
	img_free(im);
}

int main(int argc, char **argv) { return check_main(argc, argv); }
