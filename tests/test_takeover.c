/* Takeover scenarios (testdata/scenarios/takeover-*.scn): the generator
 * keeps the image from before the takeover and says what the takeover
 * wrote.  Restoration must give back exactly the ranges the dump holds
 * evidence for, byte for byte, and leave everything else as captured — in
 * memory (vtd_analyze), and through the vtd command on the takeover's
 * kdump, ELF and flattened dumps, with restore --undo giving each dump back. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/kinfo_dump.h"
#include "cli/kinfo_dwarf.h"
#include "mock_kernel.h"
#include "scenario.h"
#include "vtd/marks.h"

/* The image a correct restoration yields: the dump's, with the pre-takeover
 * bytes in every range the takeover wrote and evidence gives back. */
static struct img *expected_image(const struct scn *s)
{
	struct img *e = img_new();
	for (size_t i = 0; i < img_nram(s->img); i++)
		img_add_ram(e, img_ram(s->img)[i].start, img_ram(s->img)[i].end);
	const uint64_t *pfns = img_pfns(s->img);
	for (size_t i = 0; i < img_npages(s->img); i++)
		memcpy(img_page(e, pfns[i], true), img_page_const(s->img, pfns[i]), IMG_PAGE);
	for (size_t i = 0; i < s->ntk_restore; i++) {
		uint8_t b[64];
		img_read(s->pre, s->tk_restore[i].pa, b, s->tk_restore[i].len);
		img_write(e, s->tk_restore[i].pa, b, s->tk_restore[i].len);
	}
	return e;
}

static size_t differing_pages(const struct img *want, const struct vtd_mem *m)
{
	const uint64_t *pfns = img_pfns((struct img *)want);
	size_t bad = 0;
	for (size_t i = 0; i < img_npages(want); i++) {
		uint8_t b[IMG_PAGE];
		char why[200];
		bad += m->read(m->ctx, pfns[i] << 12, b, IMG_PAGE, why, sizeof(why)) ||
		       memcmp(b, img_page_const(want, pfns[i]), IMG_PAGE);
	}
	return bad;
}

static void in_memory(struct scn *s, struct mock *mk, const struct img *want)
{
	char path[600], err[512];
	struct vtd_error e;
	snprintf(path, sizeof(path), "%s/%s.takeover.kdump", check_gen_dir(), s->name);
	struct kinfo_dwarf *kd = kinfo_dwarf_open(mock_vmlinux_path(), err, sizeof(err));
	struct dump *d = dump_open(path, err, sizeof(err));
	struct vtd_kstate *ks = NULL;
	struct vtd_analysis *a = NULL;
	struct vtd_unit units[8];
	EXPECT_MSG(kd && d, "%s", err);
	if (!kd || !d)
		goto out;
	struct kinfo_dump k;
	kinfo_dump_init(&k, kd, d);
	struct vtd_mem mem = img_mem(s->img);
	vtd_error_init(&e);
	EXPECT_MSG(vtd_kstate_load(&mem, &k.ki, &ks, &e) == 0 && ks->nunits <= 8, "%s", e.msg);
	if (!ks || ks->nunits > 8)
		goto out;
	EXPECT_EQ(ks->crashk_start, mk->crashk_start);
	for (size_t i = 0; i < ks->nunits; i++)
		units[i] = ks->units[i].unit;
	struct vtd_analyze_opts o = { true, 0 };
	EXPECT_MSG(vtd_analyze(&mem, ks, &k.ki, units, ks->nunits, &o, &a, &e) == 0, "%s", e.msg);
	if (!a)
		goto out;
	/* every restoration lies in a range the takeover wrote and evidence covers */
	for (size_t i = 0; i < a->nrestores; i++) {
		const struct vtd_restore *r = &a->restores[i];
		bool in = false;
		for (size_t j = 0; j < s->ntk_restore && !in; j++)
			in = r->pa >= s->tk_restore[j].pa && r->pa + r->len <= s->tk_restore[j].pa + s->tk_restore[j].len;
		EXPECT_MSG(in, "restoration at 0x%" PRIx64 " (%u bytes, %s) is not one the takeover made",
			   r->pa, r->len, r->source);
	}
	/* every range the takeover wrote carries its mark */
	for (size_t j = 0; j < s->ntk_restore + s->ntk_keep; j++) {
		const struct scn_span *sp = j < s->ntk_restore ? &s->tk_restore[j] : &s->tk_keep[j - s->ntk_restore];
		EXPECT_MSG(vtd_marks_of(&a->marks, sp->pa >> 12) & sp->mark, "0x%" PRIx64 " not marked %s",
			   sp->pa, vtd_mark_reason_name(sp->mark));
	}
	/* applied, they give the expected image: nothing more, nothing less */
	for (size_t i = 0; i < a->nrestores; i++)
		img_write(s->img, a->restores[i].pa, a->restores[i].original, a->restores[i].len);
	size_t bad = differing_pages(want, &mem);
	EXPECT_MSG(!bad, "%zu pages differ from the expected restoration", bad);
out:
	vtd_analysis_free(a);
	vtd_kstate_free(ks);
	dump_close(d);
	kinfo_dwarf_close(kd);
}

static void through_vtd(const struct scn *s, const struct img *want, const char *sfx, const char *tmp)
{
	char in[600], out[700], back[700], cmd[4000], err[512];
	const char *b = getenv("VTD_BUILD") ? getenv("VTD_BUILD") : "build";
	snprintf(in, sizeof(in), "%s/%s.takeover.%s", check_gen_dir(), s->name, sfx);
	snprintf(out, sizeof(out), "%s/%s.restored.%s", tmp, s->name, sfx);
	snprintf(back, sizeof(back), "%s/%s.back.%s", tmp, s->name, sfx);
	uint64_t bytes = 0;
	for (size_t i = 0; i < s->ntk_restore; i++)
		bytes += s->tk_restore[i].len;
	snprintf(cmd, sizeof(cmd), "%s/vtd -x %s restore %s %s | grep -qx 'restored_bytes: %" PRIu64 "'",
		 b, mock_vmlinux_path(), in, out, bytes);
	EXPECT_MSG(system(cmd) == 0, "vtd restore did not restore the %" PRIu64 " bytes the takeover wrote", bytes);
	struct dump *d = dump_open(out, err, sizeof(err));
	EXPECT_MSG(d, "%s", err);
	if (d) {
		struct vtd_mem m = dump_mem(d);
		size_t bad = differing_pages(want, &m);
		EXPECT_MSG(!bad, "%zu pages of %s differ from the expected restoration", bad, out);
		dump_close(d);
	}
	/* the record travels: RESTORED marks, read back without recomputing */
	snprintf(cmd, sizeof(cmd), "%s/vtd -x %s %s marks --reason RESTORED | grep -q '^(marks: .*%s'",
		 b, mock_vmlinux_path(), out, s->name);
	EXPECT_MSG(system(cmd) == 0, "%s does not show its own record", out);
	snprintf(cmd, sizeof(cmd), "%s/vtd restore --undo %s %s >/dev/null && cmp -s %s %s", b, out, back, in, back);
	EXPECT_MSG(system(cmd) == 0, "restore --undo of %s is not %s", out, in);
}

TEST(takeover_scenarios)
{
	DIR *dir = opendir("testdata/scenarios");
	struct dirent *de;
	char tmp[] = "/tmp/vtd-takeover-XXXXXX";
	unsigned n = 0;
	EXPECT(dir && mkdtemp(tmp));
	while (dir && (de = readdir(dir))) {
		char path[600], err[512];
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		struct mock *mk = NULL;
		snprintf(path, sizeof(path), "testdata/scenarios/%s", de->d_name);
		struct scn *s = scn_load_generated(path, mock_vmlinux_path(), &mk, err, sizeof(err));
		if (!s || !s->ntks) {
			scn_free(s);
			mock_free(mk);
			continue;
		}
		n++;
		check_begin("%s/takeover", s->name);
		EXPECT_MSG(scn_takeover(s, path, mk->crashk_start, err, sizeof(err)) == 0, "%s", err);
		EXPECT(s->ntk_restore > 0 && s->ntk_keep > 0);
		struct img *want = expected_image(s);
		through_vtd(s, want, "kdump", tmp);
		through_vtd(s, want, "elf", tmp);
		through_vtd(s, want, "flat", tmp);
		in_memory(s, mk, want);
		img_free(want);
		check_end();
		scn_free(s);
		mock_free(mk);
	}
	if (dir)
		closedir(dir);
	EXPECT_MSG(n >= 2, "only %u takeover scenarios", n);
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	EXPECT(system(cmd) == 0);
}
