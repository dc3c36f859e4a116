/* The shared command implementation in text mode, on a synthetic dump with
 * the mock kernel: every command runs and prints crash-style columns, and
 * check's hardware-vs-kernel cross-check catches a DID or table that the
 * kernel's domain does not have. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/kinfo_dump.h"
#include "cli/kinfo_dwarf.h"
#include "commands/commands.h"
#include "mock_kernel.h"

struct fixture {
	struct kinfo_dwarf *kd;
	struct dump *d;
	struct vtd_mem mem;
	struct vtd_kstate *ks;
	struct vtd_unit units[8];
	struct kinfo_dump k;
};

static int setup(struct fixture *f, const char *scenario)
{
	char path[4096], err[512];
	struct vtd_error e;
	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/%s.kdump-zlib", check_gen_dir(), scenario);
	f->kd = kinfo_dwarf_open(mock_vmlinux_path(), err, sizeof(err));
	f->d = dump_open(path, err, sizeof(err));
	if (!f->kd || !f->d)
		return -1;
	f->mem = dump_mem(f->d);
	kinfo_dump_init(&f->k, f->kd, f->d);
	vtd_error_init(&e);
	if (vtd_kstate_load(&f->mem, &f->k.ki, &f->ks, &e) || f->ks->nunits > 8)
		return -1;
	for (size_t i = 0; i < f->ks->nunits; i++)
		f->units[i] = f->ks->units[i].unit;
	return 0;
}

static void teardown(struct fixture *f)
{
	vtd_kstate_free(f->ks);
	dump_close(f->d);
	kinfo_dwarf_close(f->kd);
}

/* Run one command line; returns its exit code and the text in *out. */
static int run(struct fixture *f, char **out, bool json, const char *line)
{
	char buf[512], *argv[16], *save = NULL;
	int argc = 0;
	size_t len;
	FILE *o = open_memstream(out, &len), *e = fopen("/dev/null", "w");
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	struct vtd_cmdctx c = { .mem = &f->mem, .ks = f->ks, .ki = &f->k.ki, .units = f->units,
				.nunits = f->ks->nunits, .out = o, .err = e, .json = json, .prog = "vtd" };
	int rc = vtd_command(&c, argc, argv);
	fclose(o);
	fclose(e);
	return rc;
}

TEST(every_command_text_and_json)
{
	struct fixture f;
	static const struct { const char *line, *header; int rc; } cmds[] = {
		{ "units", "UNIT   SEGMENT", 0 },
		{ "root", "UNIT   BUS", 0 },
		{ "context", "UNIT   BDF", 0 },
		{ "context 0001:00:02.0", "PASID", 0 },
		{ "pasid 0001:00:02.0", "PASID", 0 },
		{ "pasid 0001:00:02.0 0", "DID", 0 },
		{ "map 0000:00:02.0", "IOVA", 0 },
		{ "map 0001:80:00.0", "identity", 0 },
		{ "translate 0000:00:02.0 0xfffff010 --write", "pa: 0x3000010", 0 },
		{ "translate 0000:00:02.0 0xffffe000 --write", "fault: 0x5", 1 },
		{ "who 0x3000000 0x1000", "0001:80:00.0", 0 },
		{ "domains", "DID_DMAR1", 0 },
		{ "devices", "mockdrv", 0 },
		{ "irte", "", 0 },
		{ "qi", "", 0 },
		{ "check", "problems_found: 0", 0 },
		{ "log", "Linux version 6.1.0-vtdmock", 0 },
		{ "faults", "fault_lines:", 0 },
		{ "nonsense", "", 2 },
		{ "map 00:02", "", 2 },
		{ "translate 0000:00:02.0 notanumber", "", 2 },
		{ "map 0000:00:02.0 --pasid 0x100000", "", 2 },
		{ "root nosuchunit", "", 2 },
	};
	EXPECT(setup(&f, "two-units") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out = NULL;
		check_begin("commands/text: %s", cmds[i].line);
		EXPECT_EQ(run(&f, &out, false, cmds[i].line), cmds[i].rc);
		EXPECT_MSG(out && strstr(out, cmds[i].header), "no \"%s\" in:\n%s", cmds[i].header, out);
		check_end();
		free(out);
		if (cmds[i].rc == 2)
			continue;
		check_begin("commands/json: %s", cmds[i].line);
		EXPECT_EQ(run(&f, &out, true, cmds[i].line), cmds[i].rc);
		EXPECT_MSG(out && out[0] == '{' && strstr(out, "\"command\"") && strstr(out, "\n}\n"),
			   "not a JSON object:\n%s", out);
		check_end();
		free(out);
	}
	teardown(&f);
}

TEST(check_cross_checks_kernel_domains)
{
	struct fixture f;
	char *out = NULL;
	EXPECT(setup(&f, "two-units") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	/* the kernel says dmar0's domain has DID 7: the hardware says 2 */
	for (size_t i = 0; i < f.ks->ndomains; i++)
		if (f.ks->domains[i].did[0] == 2)
			f.ks->domains[i].did[0] = 7;
	EXPECT_EQ(run(&f, &out, false, "check"), 1);
	EXPECT_MSG(out && strstr(out, "dmar0 0000:00:02.0: hardware DID 2, the kernel's domain"),
		   "got:\n%s", out);
	free(out);
	/* and a pgd that is not the hardware's table */
	for (size_t i = 0; i < f.ks->ndomains; i++)
		if (f.ks->domains[i].did[0] == 7) {
			f.ks->domains[i].did[0] = 2;
			f.ks->domains[i].pgd += 0x1000;
		}
	EXPECT_EQ(run(&f, &out, false, "check"), 1);
	EXPECT_MSG(out && strstr(out, "is not the kernel's domain pgd"), "got:\n%s", out);
	free(out);
	teardown(&f);
}

/* A memory source that changes one byte of what the dump holds. */
struct flip { struct vtd_mem under; uint64_t pa; };
static int flip_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	struct flip *f = ctx;
	if (f->under.read(f->under.ctx, pa, buf, len, why, whylen))
		return -1;
	if (f->pa >= pa && f->pa < pa + len)
		((uint8_t *)buf)[f->pa - pa] ^= 0x01;
	return 0;
}

TEST(check_compares_irtes_with_kernel_shadows)
{
	struct fixture f;
	char *out = NULL;
	EXPECT(setup(&f, "irte") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	EXPECT_EQ(run(&f, &out, false, "check"), 0);
	EXPECT_MSG(out && strstr(out, "irte_shadows_compared: 7"), "got:\n%s", out);
	free(out);
	/* the vector of dmar0's IRTE 0 as if rewritten after the kernel wrote it */
	struct flip fl = { f.mem, irta_irta(f.units[0].irta) + 2 };
	f.mem = (struct vtd_mem){ flip_read, &fl };
	EXPECT_EQ(run(&f, &out, false, "check"), 1);
	EXPECT_MSG(out && strstr(out, "irte-differs") && strstr(out, "IRTE 0 of dmar0 at") &&
		   strstr(out, "the kernel's shadow") && strstr(out, "restorable_bytes: 16"),
		   "got:\n%s", out);
	free(out);
	f.mem = fl.under;
	teardown(&f);
}

/* A memory source missing [lo, hi): a page, as a dump level leaves it out,
 * or one structure alone (as when makedumpfile dropped the only object of
 * its slab page that matters). */
struct hole { struct vtd_mem under; uint64_t lo, hi; };
static int hole_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	struct hole *h = ctx;
	if (pa < h->hi && pa + len > h->lo) {
		snprintf(why, whylen, "excluded page (not in the dump) at 0x%llx",
			 (unsigned long long)(h->lo & ~0xfffull));
		return -1;
	}
	return h->under.read(h->under.ctx, pa, buf, len, why, whylen);
}

TEST(excluded_structure_is_named)
{
	struct fixture f;
	char *out = NULL, want[80];
	EXPECT(setup(&f, "two-units") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	/* the page holding dmar1's struct intel_iommu is not in the dump; the
	 * mock's slab packs the DRHD list there too, so either the whole list
	 * is lost (an error) or a unit is (a missing fact): both must name the
	 * structure, its address and the page */
	uint64_t va = f.ks->units[1].iommu;
	uint64_t page = (va - f.ks->km.page_offset_base) & ~0xfffull;
	struct hole h = { f.mem, page, page + 4096 };
	struct vtd_mem m = { hole_read, &h };
	struct vtd_kstate *ks = NULL;
	struct vtd_error e;
	snprintf(want, sizeof(want), "excluded page (not in the dump) at 0x%llx",
		 (unsigned long long)page);
	vtd_error_init(&e);
	int rc = vtd_kstate_load(&m, &f.k.ki, &ks, &e);
	const char *msg = rc ? e.msg : ks && ks->nmissing ? ks->missing[0] : "";
	EXPECT_MSG(strstr(msg, want) && strstr(msg, "struct ") && strstr(msg, " at 0xff"),
		   "message: %s", msg);
	if (!rc && ks) {
		/* check reports it; the units that were found are still walked */
		struct vtd_kstate *keep = f.ks;
		f.ks = ks;
		f.mem = m;
		for (size_t i = 0; i < ks->nunits; i++)
			f.units[i] = ks->units[i].unit;
		EXPECT_EQ(run(&f, &out, false, "check"), 1);
		EXPECT_MSG(out && strstr(out, want), "got:\n%s", out);
		free(out);
		f.ks = keep;
		f.mem = h.under;
	}
	vtd_kstate_free(ks);
	teardown(&f);
}

TEST(marks_and_who_show_page_marks)
{
	struct fixture f;
	char *out = NULL, cmd[100];
	EXPECT(setup(&f, "legacy-3level") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	uint64_t root = rtaddr_rta(f.units[0].rtaddr);
	snprintf(cmd, sizeof(cmd), "marks --pfn 0x%" PRIx64, root >> 12);
	EXPECT_EQ(run(&f, &out, false, cmd), 0);
	EXPECT_MSG(out && strstr(out, "TABLE") && strstr(out, "root table") && strstr(out, "marks_shown: 1"),
		   "got:\n%s", out);
	free(out);
	EXPECT_EQ(run(&f, &out, false, "marks --reason DMA_WRITABLE"), 0);
	EXPECT_MSG(out && strstr(out, "DMA_WRITABLE") && !strstr(out, " TABLE "), "got:\n%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "who 0x%" PRIx64 " 0x1000", root);
	EXPECT_EQ(run(&f, &out, true, cmd), 0);
	EXPECT_MSG(out && strstr(out, "\"marks\": [") && strstr(out, "\"reason\": \"TABLE\"") &&
		   strstr(out, "\"evidence\": \"root table\""), "got:\n%s", out);
	free(out);
	EXPECT_EQ(run(&f, &out, true, "check"), 0);
	EXPECT_MSG(out && strstr(out, "\"findings\": [") && strstr(out, "\"restorable_bytes\": 0") &&
		   strstr(out, "\"marked_pages\": ["), "got:\n%s", out);
	free(out);
	teardown(&f);
}

TEST(unit_whose_intel_iommu_is_lost_is_not_known)
{
	struct fixture f;
	char *out = NULL;
	EXPECT(setup(&f, "two-units") == 0);
	if (!f.ks) {
		teardown(&f);
		return;
	}
	/* dmar1's struct intel_iommu alone is not in the dump: dmar0 answers
	 * as before; dmar1 is named from its DRHD and every value the lost
	 * structure held is unknown (null), never zero, and never walked as a
	 * root table at 0 or a legacy-mode unit */
	uint64_t pa = f.ks->units[1].iommu - f.ks->km.page_offset_base;
	struct hole h = { f.mem, pa, pa + 64 };
	struct vtd_mem m = { hole_read, &h };
	struct vtd_kstate *ks = NULL, *keep = f.ks;
	struct vtd_error e;
	vtd_error_init(&e);
	EXPECT_EQ(vtd_kstate_load(&m, &f.k.ki, &ks, &e), 0);
	if (!ks) {
		teardown(&f);
		return;
	}
	EXPECT(ks->nunits == 2 && ks->units[1].lost && ks->units[1].unit.unknown &&
	       !ks->units[0].unit.unknown);
	f.ks = ks;
	f.mem = m;
	for (size_t i = 0; i < ks->nunits; i++)
		f.units[i] = ks->units[i].unit;
	const char *name = ks->units[1].unit.name;
	static const struct { const char *line; int rc; const char *want; } cmds[] = {
		{ "units", 0, "\"cap\": null, \"ecap\": null, \"haw\": null, \"root\": null" },
		{ "root", 1, "struct intel_iommu of this unit is not readable" },
		{ "context", 1, "its root table, CAP and ECAP are not known" },
		{ "irte", 1, "struct intel_iommu of this unit is not readable" },
		{ "qi", 1, "struct intel_iommu of this unit is not readable" },
		{ "check", 1, "\"problems_found\": 2" },
		{ "context 0000:00:02.0", 0, "\"did\": 2" },
		{ "map 0001:00:02.0", 1, "" },
		{ "pasid 0001:00:02.0", 1, "" },
		{ "translate 0001:00:02.0 0x1000", 1, "" },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = run(&f, &out, true, cmds[i].line);
		EXPECT_MSG(rc == cmds[i].rc && out && strstr(out, cmds[i].want) &&
			   !strstr(out, "legacy mode") && !strstr(out, "RTADDR 0x0") &&
			   !strstr(out, "does not translate"),
			   "%s: rc %d, got:\n%s", cmds[i].line, rc, out ? out : "");
		if (!strcmp(cmds[i].line, "units"))
			EXPECT_MSG(strstr(out, name) && strstr(out, "\"reg_phys\": \"0xfed91000\""),
				   "units: %s", out);
		free(out);
	}
	f.ks = keep;
	f.mem = h.under;
	vtd_kstate_free(ks);
	teardown(&f);
}
