/* Takeover analysis against takeovers simulated on a scenario's complete
 * memory image (mock kernel included): the image before the takeover is
 * kept, the takeover writes into a copy, vtd_analyze() runs on the copy.
 * Restoration must give the pre-takeover image back byte for byte where the
 * dump holds evidence, and change nothing else.  What is expected comes
 * from what the simulation wrote, never from libvtd. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/kinfo_dump.h"
#include "cli/kinfo_dwarf.h"
#include "mock_kernel.h"
#include "scenario.h"
#include "vtd/marks.h"

struct sim {
	struct scn *s;
	struct mock *mk;
	struct img *pre;           /* before the takeover */
	struct kinfo_dwarf *kd;
	struct dump *d;            /* the generated dump: VMCOREINFO and KASLR only */
	struct kinfo_dump k;
	struct vtd_kstate *ks;
	struct vtd_unit units[8];
	struct vtd_analysis *a;
};

static struct img *img_copy(struct img *im)
{
	struct img *c = img_new();
	for (size_t i = 0; i < img_nram(im); i++)
		img_add_ram(c, img_ram(im)[i].start, img_ram(im)[i].end);
	const uint64_t *pfns = img_pfns(im);
	for (size_t i = 0; i < img_npages(im); i++)
		memcpy(img_page(c, pfns[i], true), img_page_const(im, pfns[i]), IMG_PAGE);
	return c;
}

static int sim_load(struct sim *x, const char *name)
{
	char path[600], err[512];
	memset(x, 0, sizeof(*x));
	snprintf(path, sizeof(path), "testdata/scenarios/%s.scn", name);
	x->s = scn_load_generated(path, mock_vmlinux_path(), &x->mk, err, sizeof(err));
	EXPECT_MSG(x->s, "%s", err);
	snprintf(path, sizeof(path), "%s/%s.kdump-zlib", check_gen_dir(), name);
	x->kd = kinfo_dwarf_open(mock_vmlinux_path(), err, sizeof(err));
	x->d = dump_open(path, err, sizeof(err));
	EXPECT_MSG(x->kd && x->d, "%s", err);
	if (!x->s || !x->kd || !x->d)
		return -1;
	kinfo_dump_init(&x->k, x->kd, x->d);
	x->pre = img_copy(x->s->img);
	return 0;
}

/* Locate and analyse the (post-takeover) image. */
static int sim_analyze(struct sim *x)
{
	struct vtd_error e;
	struct vtd_mem mem = img_mem(x->s->img);
	vtd_error_init(&e);
	if (vtd_kstate_load(&mem, &x->k.ki, &x->ks, &e) || x->ks->nunits > 8) {
		EXPECT_MSG(0, "locate: %s", e.msg);
		return -1;
	}
	for (size_t i = 0; i < x->ks->nunits; i++)
		x->units[i] = x->ks->units[i].unit;
	struct vtd_analyze_opts o = { true, img_max_pfn(x->s->img) };
	int r = vtd_analyze(&mem, x->ks, &x->k.ki, x->units, x->ks->nunits, &o, &x->a, &e);
	EXPECT_MSG(r == 0, "analyze: %s", e.msg);
	return r;
}

static void sim_free(struct sim *x)
{
	vtd_analysis_free(x->a);
	vtd_kstate_free(x->ks);
	dump_close(x->d);
	kinfo_dwarf_close(x->kd);
	if (x->pre)
		img_free(x->pre);
	scn_free(x->s);
	mock_free(x->mk);
}

static unsigned count_marks(const struct vtd_analysis *a, unsigned reason)
{
	unsigned n = 0;
	for (size_t i = 0; i < a->marks.n; i++)
		n += a->marks.v[i].reason == reason;
	return n;
}

static bool has_finding(const struct vtd_analysis *a, const char *kind)
{
	for (size_t i = 0; i < a->nfindings; i++)
		if (!strcmp(a->findings[i].kind, kind))
			return true;
	return false;
}

/* Every restoration's captured bytes are the post image's, and after
 * applying them the image equals want page for page. */
static void apply_and_compare(struct sim *x, struct img *want)
{
	for (size_t i = 0; i < x->a->nrestores; i++) {
		const struct vtd_restore *r = &x->a->restores[i];
		uint8_t cur[VTD_RESTORE_MAX];
		EXPECT(img_read(x->s->img, r->pa, cur, r->len) == 0 && !memcmp(cur, r->captured, r->len));
		img_write(x->s->img, r->pa, r->original, r->len);
	}
	const uint64_t *pfns = img_pfns(want);
	size_t bad = 0, n = img_npages(want);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = img_page_const(x->s->img, pfns[i]);
		bad += !p || memcmp(p, img_page_const(want, pfns[i]), IMG_PAGE);
	}
	EXPECT_MSG(!bad && img_npages(x->s->img) == n, "%zu pages differ after restoration", bad);
}

static uint64_t rd64(struct img *im, uint64_t pa)
{
	uint64_t v = 0;
	img_read(im, pa, &v, 8);
	return v;
}

/* The upstream takeover (4.2+) writes nothing in old memory: nothing to
 * restore, nothing written by the takeover; every writable mapping of the
 * scenario is DMA_WRITABLE for its device, every root table is TABLE. */
static void upstream(const char *name)
{
	struct sim x;
	check_begin("%s/upstream", name);
	if (sim_load(&x, name) == 0 && sim_analyze(&x) == 0) {
		EXPECT_EQ(x.a->nrestores, 0);
		EXPECT_EQ(count_marks(x.a, VTD_MARK_TAKEOVER_WRITTEN), 0);
		for (size_t i = 0; i < x.s->nmaps; i++) {
			const struct scn_map *m = &x.s->maps[i];
			if (!(m->perm & VTD_PERM_W) || m->xtype == VTD_XT_PT)
				continue;
			for (uint64_t pa = m->pa; pa < m->pa + m->size; pa += m->size > (64 << 20) ? (1 << 20) : 4096) {
				bool hit = false;
				for (size_t k = 0; k < x.a->marks.n && !hit; k++) {
					const struct vtd_mark *mk = &x.a->marks.v[k];
					hit = mk->reason == VTD_MARK_DMA_WRITABLE && mk->sid == m->sid &&
					      mk->pasid == m->pasid && !strcmp(mk->unit, m->unit) &&
					      pa >> 12 >= mk->pfn && pa >> 12 < mk->pfn + mk->npages;
				}
				EXPECT_MSG(hit, "%s %04x pa 0x%" PRIx64 " not DMA_WRITABLE", m->unit, m->sid, pa);
				if (!hit)
					break;
			}
		}
		for (size_t u = 0; u < x.s->nunits; u++)
			EXPECT(vtd_marks_of(&x.a->marks, rtaddr_rta(x.s->units[u].rtaddr) >> 12) & VTD_MARK_TABLE);
		apply_and_compare(&x, x.pre);
	}
	sim_free(&x);
	check_end();
}

TEST(upstream_copy_writes_nothing)
{
	const char *names[] = { "legacy-3level", "legacy-4level", "two-units", "sm-sl", "sm-fl",
				"sm-nested", "sm-pasids", "sm-upper", "irte", "qi", "takeover-sm" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		upstream(names[i]);
}

/* The first present legacy root entry's bus and its context table. */
static int first_bus(struct sim *x, unsigned *bus, uint64_t *root)
{
	*root = rtaddr_rta(x->s->units[0].rtaddr);
	for (unsigned b = 0; b < 256; b++)
		if (rd64(x->s->img, *root + 16 * b) & 1) {
			*bus = b;
			return 0;
		}
	return -1;
}

TEST(in_place_root_rewrite_is_restored_from_the_found_context_table)
{
	struct sim x;
	unsigned bus;
	uint64_t root;
	if (sim_load(&x, "legacy-3level") || first_bus(&x, &bus, &root)) {
		sim_free(&x);
		return;
	}
	/* the capture kernel points the old root entry at its own copy */
	uint64_t newctx = x.mk->crashk_start + 0x123000;
	img_write64(x.s->img, root + 16 * bus, newctx | 1);
	if (sim_analyze(&x) == 0) {
		EXPECT(has_finding(x.a, "root-rewritten"));
		EXPECT_EQ(x.a->nrestores, 1);
		if (x.a->nrestores == 1)
			EXPECT_EQ(x.a->restores[0].pa, root + 16 * bus);
		EXPECT(vtd_marks_of(&x.a->marks, root >> 12) & VTD_MARK_TAKEOVER_WRITTEN);
		apply_and_compare(&x, x.pre);
	}
	sim_free(&x);
}

TEST(root_rewrite_without_evidence_is_not_restored)
{
	struct sim x;
	unsigned bus;
	uint64_t root;
	if (sim_load(&x, "legacy-3level") || first_bus(&x, &bus, &root)) {
		sim_free(&x);
		return;
	}
	uint64_t ctp = rd64(x.s->img, root + 16 * bus) & ~0xfffull;
	/* the old context table is gone too: nothing to find */
	uint8_t zero[IMG_PAGE] = { 0 };
	img_write(x.s->img, ctp, zero, sizeof(zero));
	img_write(x.pre, ctp, zero, sizeof(zero));
	img_write64(x.s->img, root + 16 * bus, (x.mk->crashk_start + 0x5000) | 1);
	if (sim_analyze(&x) == 0) {
		EXPECT(has_finding(x.a, "root-rewritten"));
		EXPECT_EQ(x.a->nrestores, 0);
		EXPECT(vtd_marks_of(&x.a->marks, root >> 12) & VTD_MARK_TAKEOVER_WRITTEN);
	}
	sim_free(&x);
}

/* A legacy context entry of the first device on the first bus. */
static uint64_t first_context(struct sim *x)
{
	unsigned bus;
	uint64_t root;
	if (first_bus(x, &bus, &root))
		return 0;
	uint64_t ctp = rd64(x->s->img, root + 16 * bus) & ~0xfffull;
	for (unsigned i = 0; i < 256; i++)
		if (rd64(x->s->img, ctp + 16 * i) & 1)
			return ctp + 16 * i;
	return 0;
}

TEST(context_rewritten_by_a_capture_driver_is_restored)
{
	struct sim x;
	if (sim_load(&x, "legacy-3level") == 0) {
		uint64_t ce = first_context(&x), hi = rd64(x.s->img, ce + 8);
		EXPECT(ce != 0);
		/* a new domain: new DID, tables in crashkernel memory */
		img_write64(x.s->img, ce, (x.mk->crashk_start + 0x77000) | 1);
		img_write64(x.s->img, ce + 8, (hi & 7) | 0x3f0ull << 8);
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "crashkernel-pointer"));
			EXPECT_EQ(x.a->nrestores, 1);
			EXPECT(vtd_marks_of(&x.a->marks, ce >> 12) & VTD_MARK_TAKEOVER_WRITTEN);
			apply_and_compare(&x, x.pre);
		}
	}
	sim_free(&x);
}

TEST(copied_marker_is_restored)
{
	struct sim x;
	if (sim_load(&x, "legacy-3level") == 0) {
		uint64_t ce = first_context(&x);
		EXPECT(ce != 0);
		img_write64(x.s->img, ce + 8, rd64(x.s->img, ce + 8) | 1u << 3);      /* bit 67 */
		img_write64(x.s->img, ce, rd64(x.s->img, ce) & ~(1ull << 11));
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "copied-marker"));
			EXPECT_EQ(x.a->nrestores, 1);
			apply_and_compare(&x, x.pre);
		}
	}
	sim_free(&x);
}

TEST(context_that_differs_without_evidence_is_changed_not_restored)
{
	struct sim x;
	if (sim_load(&x, "legacy-3level") == 0) {
		uint64_t ce = first_context(&x);
		img_write64(x.s->img, ce + 8, rd64(x.s->img, ce + 8) ^ 0x7700);      /* another DID */
		struct img *post = img_copy(x.s->img);
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "context-differs"));
			EXPECT_EQ(x.a->nrestores, 0);
			EXPECT(vtd_marks_of(&x.a->marks, ce >> 12) & VTD_MARK_CHANGED);
			EXPECT_EQ(count_marks(x.a, VTD_MARK_TAKEOVER_WRITTEN), 0);
			apply_and_compare(&x, post);
		}
		img_free(post);
	}
	sim_free(&x);
}

TEST(irte_rewritten_in_a_reused_table_is_restored_from_its_shadow)
{
	struct sim x;
	if (sim_load(&x, "irte") == 0) {
		uint64_t irt = irta_irta(x.s->units[0].irta);
		/* IRTE 24: another vector and destination, as a capture kernel
		 * reusing the old table would write */
		img_write64(x.s->img, irt + 24 * 16, (rd64(x.s->img, irt + 24 * 16) & ~0xff00ff0000ull) |
			    0x99ull << 16 | 0x02ull << 40);
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "irte-differs"));
			EXPECT_EQ(x.a->nrestores, 1);
			if (x.a->nrestores)
				EXPECT_EQ(x.a->restores[0].pa, irt + 24 * 16);
			EXPECT(vtd_marks_of(&x.a->marks, (irt + 24 * 16) >> 12) & VTD_MARK_CHANGED);
			apply_and_compare(&x, x.pre);
		}
	}
	sim_free(&x);
}

/* Hardware writes after the crash: QI status words, posted-interrupt
 * descriptors, A/D bits in first-level tables.  Marked HW_WRITABLE, never
 * restored. */
TEST(hardware_writes_are_marked_not_restored)
{
	struct sim x;
	if (sim_load(&x, "qi") == 0) {
		/* the pending wait descriptor of dmar0 (slot 5) completes */
		uint64_t st = x.s->units[0].qi.status_pa;
		uint32_t done = 2;
		img_write(x.s->img, st + 5 * 4, &done, 4);
		struct img *post = img_copy(x.s->img);
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "qi-pending"));
			EXPECT(vtd_marks_of(&x.a->marks, (st + 20) >> 12) & VTD_MARK_HW_WRITABLE);
			EXPECT_EQ(x.a->nrestores, 0);
			apply_and_compare(&x, post);
		}
		img_free(post);
	}
	sim_free(&x);
	if (sim_load(&x, "irte") == 0) {
		/* dmar1 IRTE 5 is posted to the descriptor at 0x2fff1c0 */
		img_write64(x.s->img, 0x2fff1c0 + 8, 1ull << (0x51 - 64));   /* PIR bit of vector 0x51 */
		img_write64(x.s->img, 0x2fff1c0 + 32, 1);          /* ON */
		struct img *post = img_copy(x.s->img);
		if (sim_analyze(&x) == 0) {
			EXPECT(vtd_marks_of(&x.a->marks, 0x2fff1c0 >> 12) & VTD_MARK_HW_WRITABLE);
			EXPECT(vtd_marks_of(&x.a->marks, 0x102fff200 >> 12) & VTD_MARK_HW_WRITABLE);
			EXPECT_EQ(x.a->nrestores, 0);
			apply_and_compare(&x, post);
		}
		img_free(post);
	}
	sim_free(&x);
	if (sim_load(&x, "sm-fl") == 0 && sim_analyze(&x) == 0) {
		unsigned fl = 0;
		for (size_t i = 0; i < x.a->marks.n; i++)
			if (x.a->marks.v[i].reason == VTD_MARK_HW_WRITABLE && strstr(x.a->marks.v[i].what, "first-level"))
				fl++;
		EXPECT_MSG(fl > 0, "no first-level table page marked HW_WRITABLE");
		/* every HW_WRITABLE first-level page is also a TABLE page */
		for (size_t i = 0; i < x.a->marks.n; i++)
			if (x.a->marks.v[i].reason == VTD_MARK_HW_WRITABLE)
				EXPECT(vtd_marks_of(&x.a->marks, x.a->marks.v[i].pfn) & VTD_MARK_TABLE);
	}
	sim_free(&x);
}

TEST(post_crash_dma_is_marked_not_restored)
{
	struct sim x;
	if (sim_load(&x, "legacy-3level") == 0) {
		const struct scn_map *m = NULL;
		for (size_t i = 0; i < x.s->nmaps && !m; i++)
			if (x.s->maps[i].perm & VTD_PERM_W)
				m = &x.s->maps[i];
		EXPECT(m != NULL);
		if (m) {
			uint8_t pkt[256];
			memset(pkt, 0xd5, sizeof(pkt));
			img_write(x.s->img, m->pa + 0x40, pkt, sizeof(pkt));   /* a packet lands */
			struct img *post = img_copy(x.s->img);
			if (sim_analyze(&x) == 0) {
				EXPECT(vtd_marks_of(&x.a->marks, m->pa >> 12) & VTD_MARK_DMA_WRITABLE);
				EXPECT_EQ(x.a->nrestores, 0);
				apply_and_compare(&x, post);
			}
			img_free(post);
		}
	}
	sim_free(&x);
}

/* Scalable mode: the upper half of bus 0's root entry rewritten in place;
 * 00:04.0's context entry pointed at a new PASID directory; 00:03.0's
 * RID_PASID entry given a new domain with tables in crashkernel memory.
 * All three come back from the kernel's own state, and nothing else
 * changes. */
TEST(scalable_mode_takeover_rewrites_are_restored)
{
	struct sim x;
	if (sim_load(&x, "takeover-sm") == 0) {
		uint64_t root = rtaddr_rta(x.s->units[0].rtaddr), ck = x.mk->crashk_start;
		uint64_t lctp = rd64(x.s->img, root) & ~0xfffull;
		uint64_t ce = lctp + 32 * 0x20;                      /* devfn 0x20: 00:04.0 */
		uint64_t dir3 = rd64(x.s->img, lctp + 32 * 0x18) & ~0xfffull;   /* 00:03.0 */
		uint64_t pt3 = rd64(x.s->img, dir3) & ~0xfffull;
		img_write64(x.s->img, root + 8, (ck + 0x10000) | 1);
		img_write64(x.s->img, ce, (ck + 0x20000) | 2 << 9 | 1);
		img_write64(x.s->img, pt3, (ck + 0x30000) | 2 << 2 | 2 << 6 | 1);
		img_write64(x.s->img, pt3 + 8, 0x3f1);
		if (sim_analyze(&x) == 0) {
			EXPECT(has_finding(x.a, "root-rewritten"));
			EXPECT(has_finding(x.a, "crashkernel-pointer"));
			EXPECT_EQ(x.a->nrestores, 3);
			unsigned bytes = 0;
			for (size_t i = 0; i < x.a->nrestores; i++)
				bytes += x.a->restores[i].len;
			EXPECT_EQ(bytes, 8 + 32 + 64);
			EXPECT(vtd_marks_of(&x.a->marks, pt3 >> 12) & VTD_MARK_TAKEOVER_WRITTEN);
			apply_and_compare(&x, x.pre);
		}
	}
	sim_free(&x);
}
