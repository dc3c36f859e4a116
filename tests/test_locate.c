/* The kernel locator on synthetic dumps with a mock crashed kernel: every
 * unit, device and domain the scenario describes is found from the kernel's
 * own structures (through DWARF of the mock vmlinux, a KASLR slide and a
 * randomized direct map), in every dump format. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/kinfo_dump.h"
#include "cli/kinfo_dwarf.h"
#include "mock_kernel.h"
#include "scenario.h"

#define SCN_DIR "testdata/scenarios"

static const char *vmlinux(void) { return mock_vmlinux_path(); }


static int find_unit(const struct vtd_kstate *ks, const char *name)
{
	for (size_t i = 0; i < ks->nunits; i++)
		if (!strcmp(ks->units[i].unit.name, name))
			return (int)i;
	return -1;
}

static void check_one(const struct scn *s, const struct mock *mk, struct kinfo_dwarf *kd,
		      const char *suffix)
{
	char path[4096], err[512], v[64];
	snprintf(path, sizeof(path), "%s/%s%s", check_gen_dir(), s->name, suffix);
	check_begin("%s/locate [%s]", s->name, suffix + 1);
	struct dump *d = dump_open(path, err, sizeof(err));
	struct vtd_kstate *ks = NULL;
	struct vtd_error e;
	EXPECT_MSG(d != NULL, "%s", err);
	if (!d)
		goto out;
	struct kinfo_dump k;
	kinfo_dump_init(&k, kd, d);
	EXPECT(dump_vmcoreinfo(d, "KERNELOFFSET", v, sizeof(v)) == 0);
	EXPECT_EQ(k.kaslr, mk->kaslr);
	vtd_error_init(&e);
	struct vtd_mem mem = dump_mem(d);
	EXPECT_MSG(vtd_kstate_load(&mem, &k.ki, &ks, &e) == 0, "%s", e.msg);
	if (!ks)
		goto out;
	EXPECT_EQ(ks->km.page_offset_base, mk->page_offset_base);
	EXPECT_EQ(ks->km.phys_base, mk->phys_base);
	EXPECT_EQ(ks->crashk_start, mk->crashk_start);
	EXPECT_EQ(ks->crashk_end, mk->crashk_end);
	EXPECT_STR(ks->osrelease, MOCK_RELEASE);
	EXPECT_EQ(ks->nunits, s->nunits);
	for (size_t i = 0; i < s->nunits && i < ks->nunits; i++) {
		const struct vtd_unit *want = &s->units[i], *got = &ks->units[i].unit;
		EXPECT_STR(got->name, want->name);
		EXPECT_EQ(got->segment, want->segment);
		EXPECT_EQ(got->cap, want->cap);
		EXPECT_EQ(got->ecap, want->ecap);
		EXPECT_EQ(got->rtaddr, want->rtaddr);
		/* Linux programs IRTA as base | (eim_mode ? EIME : 0) | S=0xF, with
		 * one global eim_mode: the scenario's per-unit EIME/S do not survive */
		if (want->irta)
			EXPECT_EQ(got->irta, (want->irta & ~0xfffull) | (uint64_t)mk->eim_mode << 11 | 0xf);
		else
			EXPECT_EQ(got->irta, 0);
		EXPECT_EQ(got->qi.iqa, want->qi.iqa);
		if (want->qi.iqa && want->qi.status_pa != VTD_NOADDR)
			EXPECT_EQ(got->qi.status_pa, want->qi.status_pa);
		EXPECT_EQ(ks->units[i].seq_id, i);
	}
	/* one device per context with the RID_PASID / legacy entry */
	size_t ndev = 0;
	for (size_t c = 0; c < s->nctxs; c++) {
		const struct vtd_devctx *dc = &s->ctxs[c];
		if (dc->pasid != VTD_NO_PASID && dc->pasid != 0)
			continue;
		int ui = find_unit(ks, s->ctx_units[c]);
		const struct vtd_kdevice *dev = NULL;
		ndev++;
		for (size_t j = 0; j < ks->ndevices; j++)
			if (ks->devices[j].bus == dc->sid >> 8 && ks->devices[j].devfn == (dc->sid & 0xff) &&
			    ks->devices[j].unit == ui)
				dev = &ks->devices[j];
		EXPECT_MSG(dev != NULL, "no device %02x:%02x.%x on %s", dc->sid >> 8,
			   (dc->sid >> 3) & 31, dc->sid & 7, s->ctx_units[c]);
		if (!dev || dev->domain < 0 || ui < 0)
			continue;
		const struct vtd_kdomain *dom = &ks->domains[dev->domain];
		EXPECT_EQ(dev->segment, ks->units[ui].unit.segment);
		EXPECT_EQ(dom->did[ui], dc->did);
		EXPECT_STR(dev->driver, "mockdrv");
		if (dc->xtype == VTD_XT_PT) {
			EXPECT_EQ(dom->type, VTD_DOM_IDENTITY);
		} else {
			bool fl = dc->xtype == VTD_XT_FL || dc->xtype == VTD_XT_NESTED;
			EXPECT_EQ(dom->pgd, fl ? dc->fl_root : dc->sl_root);
			EXPECT_EQ(dom->first_level, fl);
			EXPECT_EQ(dom->type, VTD_DOM_DMA_FQ);
		}
	}
	EXPECT_EQ(ks->ndevices, ndev);
out:
	check_end();
	vtd_kstate_free(ks);
	dump_close(d);
}

TEST(locate_every_scenario)
{
	char err[512];
	struct kinfo_dwarf *kd = kinfo_dwarf_open(vmlinux(), err, sizeof(err));
	DIR *dir = opendir(SCN_DIR);
	struct dirent *de;
	size_t n = 0;
	EXPECT_MSG(kd != NULL, "%s", err);
	while (kd && dir && (de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		char path[4096];
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", SCN_DIR, de->d_name);
		struct mock *mk;
		struct scn *s = scn_load_generated(path, vmlinux(), &mk, err, sizeof(err));
		EXPECT_MSG(s && mk, "%s: %s", path, err);
		if (s && mk) {
			n++;
			check_one(s, mk, kd, ".kdump-zlib");
			check_one(s, mk, kd, ".flat");
			check_one(s, mk, kd, ".elf");
		}
		mock_free(mk);
		scn_free(s);
	}
	if (dir)
		closedir(dir);
	kinfo_dwarf_close(kd);
	EXPECT_MSG(n >= 10, "only %zu scenarios", n);
}

TEST(dwarf_layout_of_mock)
{
	char err[512];
	struct kinfo_dwarf *kd = kinfo_dwarf_open(vmlinux(), err, sizeof(err));
	struct vtd_member m;
	uint64_t sz;
	EXPECT_MSG(kd != NULL, "%s", err);
	if (!kd)
		return;
	/* bitfields: dmar_drhd_unit.ignored is bit 0 of the byte after segment */
	EXPECT(kinfo_dwarf_member(kd, "struct dmar_drhd_unit", "ignored", &m) == 0);
	EXPECT_EQ(m.bit_size, 1);
	EXPECT_EQ(kinfo_dwarf_member(kd, "struct dmar_drhd_unit", "include_all", &m), 0);
	EXPECT_EQ(m.bit_offset, 1);
	/* nested path through an embedded struct */
	EXPECT(kinfo_dwarf_member(kd, "struct dmar_domain", "domain.type", &m) == 0);
	EXPECT_EQ(m.size, 4);
	EXPECT(kinfo_dwarf_member(kd, "struct dmar_domain", "iommu_array.xa_head", &m) == 0);
	EXPECT_EQ(m.size, 8);
	EXPECT(kinfo_dwarf_member(kd, "struct intel_iommu", "no_such_member", &m) != 0);
	EXPECT(kinfo_dwarf_type_size(kd, "struct no_such_type", &sz) != 0);
	EXPECT(kinfo_dwarf_type_size(kd, "struct xa_node", &sz) == 0 && sz > 64 * 8);
	EXPECT_STR(kinfo_dwarf_release(kd), MOCK_RELEASE);
	EXPECT(strlen(kinfo_dwarf_build_id(kd)) == 40);
	kinfo_dwarf_close(kd);
}
