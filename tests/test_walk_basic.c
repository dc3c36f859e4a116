/* Walker smoke tests on small hand-encoded tables (entries written here from
 * the spec's bit layouts, independently of libvtd's decoders). */
#include <string.h>

#include "check.h"
#include "image.h"
#include "vtd/walk.h"

#define ROOT 0x100000ull
#define CTX  0x101000ull
#define L3   0x102000ull
#define L2   0x103000ull
#define L1   0x104000ull

/* QEMU-like legacy unit: SAGAW 39-bit only, MGAW 39, SLLPS 2 MiB. */
static const uint64_t CAP = (2ull << 8) | (38ull << 16) | (1ull << 34);
static const uint64_t ECAP = 0xf00f4aull; /* QI DT IR EIM PT SC ... */

static struct img *legacy_image(void)
{
	struct img *im = img_new();
	img_add_ram(im, 0, 0x9f000);
	img_add_ram(im, 0x100000, 0x4000000);
	/* root[0] -> CTX, present */
	img_write64(im, ROOT + 0 * 16, CTX | 1);
	/* context 00:02.0 (devfn 0x10): P, TT=0, SLPTPTR=L3; AW=1 (39-bit), DID=5 */
	img_write64(im, CTX + 0x10 * 16, L3 | 1);
	img_write64(im, CTX + 0x10 * 16 + 8, 1 | (5ull << 8));
	/* context 00:03.0 (devfn 0x18): pass-through TT=2, DID 1 */
	img_write64(im, CTX + 0x18 * 16, (2ull << 2) | 1);
	img_write64(im, CTX + 0x18 * 16 + 8, 1 | (1ull << 8));
	/* iova 0x1000, 0x2000 -> 0x200000, 0x201000 rw; 0x3000 -> 0x300000 r */
	img_write64(im, L3 + 0 * 8, L2 | 3);
	img_write64(im, L2 + 0 * 8, L1 | 3);
	img_write64(im, L1 + 1 * 8, 0x200000 | 3);
	img_write64(im, L1 + 2 * 8, 0x201000 | 3);
	img_write64(im, L1 + 3 * 8, 0x300000 | 1);
	/* iova 0x40000000 (L3 idx 1) -> 2 MiB page at 0x400000, rw, PS */
	img_write64(im, L3 + 1 * 8, 0x105000 | 3);
	img_write64(im, 0x105000 + 0 * 8, 0x400000 | 3 | (1ull << 7));
	return im;
}

static struct vtd_unit legacy_unit(void)
{
	struct vtd_unit u;
	memset(&u, 0, sizeof(u));
	strcpy(u.name, "dmar0");
	u.cap = CAP;
	u.ecap = ECAP;
	u.rtaddr = ROOT;
	return u;
}

TEST(translate_legacy)
{
	struct img *im = legacy_image();
	struct vtd_mem m = img_mem(im);
	struct vtd_unit u = legacy_unit();
	struct vtd_translation t;
	struct vtd_request rq = { 0x0010, VTD_NO_PASID, 0x2abc, VTD_ACC_WRITE };
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), 0);
	EXPECT_EQ(t.pa, 0x201abc);
	EXPECT_EQ(t.page_size, 4096);
	EXPECT_EQ(t.did, 5);
	EXPECT_EQ(t.nsteps, 5); /* root, context, 3 levels */
	EXPECT_EQ(t.steps[4].level, 1);
	EXPECT_EQ(t.steps[4].index, 2);
	rq.iova = 0x40123456;
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), 0);
	EXPECT_EQ(t.pa, 0x523456);
	EXPECT_EQ(t.page_size, 2u << 20);
	rq.iova = 0x3000; /* read-only page written */
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_WRITE);
	EXPECT_EQ(t.err.level, 1);
	EXPECT_EQ(t.err.index, 3);
	rq.iova = 0x4000; /* not mapped: read fault in legacy mode */
	rq.access = VTD_ACC_READ;
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_READ);
	rq.iova = 1ull << 39; /* beyond the 39-bit AW */
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_ADDR_BEYOND_MGAW);
	rq.sid = 0x0020; /* 00:04.0 has no context entry */
	rq.iova = 0x1000;
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_CONTEXT_ENTRY_P);
	rq.sid = 0x0100; /* bus 1 has no root entry */
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_ROOT_ENTRY_P);
	rq.sid = 0x0018; /* pass-through */
	rq.iova = 0x12345678;
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), 0);
	EXPECT_EQ(t.pa, 0x12345678);
	EXPECT_EQ(t.xtype, VTD_XT_PT);
	img_free(im);
}

struct collect { struct vtd_mapping m[16]; unsigned n; unsigned ndev, ndiag; struct vtd_error last; };

static int c_dev(void *a, const struct vtd_devctx *dc) { (void)dc; ((struct collect *)a)->ndev++; return 0; }
static int c_map(void *a, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	struct collect *c = a;
	(void)dc;
	if (c->n < 16)
		c->m[c->n] = *m;
	c->n++;
	return 0;
}
static int c_diag(void *a, const struct vtd_error *e) { struct collect *c = a; c->ndiag++; c->last = *e; return 0; }

TEST(map_walk_coalesces)
{
	struct img *im = legacy_image();
	struct vtd_mem m = img_mem(im);
	struct vtd_unit u = legacy_unit();
	struct vtd_devctx dc;
	struct vtd_error err;
	struct collect c = { 0 };
	struct vtd_walk_ops ops = { c_dev, c_map, c_diag, &c, NULL };
	EXPECT_EQ(vtd_devctx_get(&m, &u, 0x0010, VTD_NO_PASID, &dc, &err), 0);
	vtd_map_walk(&m, &u, &dc, &ops);
	EXPECT_EQ(c.n, 3);
	EXPECT_EQ(c.m[0].iova, 0x1000);
	EXPECT_EQ(c.m[0].size, 0x2000);
	EXPECT_EQ(c.m[0].pa, 0x200000);
	EXPECT_EQ(c.m[0].perm, VTD_PERM_R | VTD_PERM_W);
	EXPECT_EQ(c.m[1].iova, 0x3000);
	EXPECT_EQ(c.m[1].perm, VTD_PERM_R);
	EXPECT_EQ(c.m[2].iova, 0x40000000);
	EXPECT_EQ(c.m[2].page_size, 2u << 20);
	EXPECT_EQ(c.ndiag, 0);
	img_free(im);
}

TEST(unit_walk_and_loop)
{
	struct img *im = legacy_image();
	struct vtd_mem m = img_mem(im);
	struct vtd_unit u = legacy_unit();
	struct collect c = { 0 };
	struct vtd_walk_ops ops = { c_dev, c_map, c_diag, &c, NULL };
	vtd_unit_walk(&m, &u, true, &ops);
	EXPECT_EQ(c.ndev, 2);
	EXPECT_EQ(c.ndiag, 0);
	/* make the level-1 table's entry 5 point back at the level-3 table as a
	 * 4 KiB page (legal) and the level-2 entry 1 at the level-3 table (loop) */
	img_write64(im, L2 + 1 * 8, L3 | 3);
	memset(&c, 0, sizeof(c));
	vtd_unit_walk(&m, &u, true, &ops);
	EXPECT_EQ(c.ndiag, 1);
	EXPECT_EQ(c.last.code, VTD_E_LOOP);
	EXPECT_EQ(c.last.level, 2);
	EXPECT_EQ(c.last.index, 1);
	EXPECT_EQ(c.last.bus, 0);
	EXPECT_EQ(c.last.devfn, 0x10);
	/* root entry pointing at the root table itself */
	img_write64(im, ROOT + 1 * 16, ROOT | 1);
	memset(&c, 0, sizeof(c));
	vtd_unit_walk(&m, &u, false, &ops);
	EXPECT_EQ(c.last.code, VTD_E_LOOP);
	EXPECT_EQ(c.last.index, 1);
	img_free(im);
}

static int r_hit(void *a, const struct vtd_rmap_hit *h)
{
	struct collect *c = a;
	if (c->n < 16)
		c->m[c->n] = (struct vtd_mapping){ h->iova, h->size, h->pa, h->page_size, h->perm, h->dc->xtype };
	c->n++;
	return 0;
}

TEST(rmap_finds_writers)
{
	struct img *im = legacy_image();
	struct vtd_mem m = img_mem(im);
	struct vtd_unit u = legacy_unit();
	struct collect c = { 0 };
	vtd_rmap(&m, &u, 1, 0x201000, 0x1000, r_hit, NULL, &c);
	/* 00:02.0 at IOVA 0x2000, and the pass-through device 00:03.0 */
	EXPECT_EQ(c.n, 2);
	EXPECT_EQ(c.m[0].iova, 0x2000);
	EXPECT_EQ(c.m[0].pa, 0x201000);
	EXPECT_EQ(c.m[0].size, 0x1000);
	EXPECT_EQ(c.m[1].xtype, VTD_XT_PT);
	EXPECT_EQ(c.m[1].iova, 0x201000);
	img_free(im);
}

TEST(error_string_names_location)
{
	struct img *im = legacy_image();
	struct vtd_mem m = img_mem(im);
	struct vtd_unit u = legacy_unit();
	struct vtd_translation t;
	char buf[512];
	/* reserved bit 11 in the level-1 entry of iova 0x1000 */
	img_write64(im, L1 + 1 * 8, 0x200000 | 3 | (1ull << 11));
	u.ecap &= ~(1ull << 7); /* no snoop control: SNP is reserved */
	struct vtd_request rq = { 0x0010, VTD_NO_PASID, 0x1000, VTD_ACC_READ };
	EXPECT_EQ(vtd_translate(&m, &u, &rq, &t), VTD_FR_PAGING_ENTRY_RSVD);
	vtd_error_str(&t.err, buf, sizeof(buf));
	EXPECT_MSG(strstr(buf, "dmar0 0000:00:02.0 level 1 index 1 table 0x104000 raw 0x0000000000200803") != NULL,
		   "got \"%s\"", buf);
	EXPECT_MSG(strstr(buf, "SNP") != NULL, "got \"%s\"", buf);
	img_free(im);
}
