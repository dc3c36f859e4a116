/* Scenario builder: allocates and encodes every VT-d structure from the
 * spec's bit layouts (docs: vtd-reference.md §1), builds page-table trees
 * for the map lines, and applies the hostile corruptions.
 *
 * Encoders here are the generator's own: no libvtd decoder or walker is
 * used (only its header types and constants). */
#include "scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory ---- */

bool scn_is_table(const struct bld *b, uint64_t pfn)
{
	for (size_t i = 0; i < b->ntpfn; i++)
		if (b->tpfn[i] == pfn)
			return true;
	return false;
}

void scn_mark_table(struct bld *b, uint64_t pa, unsigned npages)
{
	for (unsigned i = 0; i < npages; i++) {
		uint64_t pfn = pa / PG + i;
		if (scn_is_table(b, pfn))
			scn_fail(b, "page 0x%llx is already used by another table",
				 (unsigned long long)(pfn * PG));
		*PUSH(b, b->tpfn, b->ntpfn, b->captpfn) = pfn;
		if (!img_page(b->im, pfn, true))
			scn_fail(b, "table page 0x%llx is not in RAM", (unsigned long long)(pfn * PG));
	}
}

static bool ram_run(const struct bld *b, uint64_t pa, unsigned npages)
{
	for (unsigned i = 0; i < npages; i++)
		if (!img_is_ram(b->im, pa / PG + i))
			return false;
	return true;
}

/* npages contiguous zeroed pages, aligned to their size rounded up to a power
 * of two (as the kernel's page allocator gives them). */
uint64_t scn_alloc(struct bld *b, unsigned npages)
{
	uint64_t align = PG;
	while (align < npages * PG)
		align <<= 1;
	uint64_t end = img_max_pfn(b->im) * PG;
	for (uint64_t pa = (b->next + align - 1) & ~(align - 1); pa + npages * PG <= end; pa += align) {
		if (!ram_run(b, pa, npages))
			continue;
		bool clash = false;
		for (unsigned i = 0; i < npages && !clash; i++)
			clash = scn_is_table(b, pa / PG + i);
		if (clash)
			continue;
		scn_mark_table(b, pa, npages);
		b->next = pa + npages * PG;
		return pa;
	}
	scn_fail(b, "table allocator ran out of RAM");
}

void scn_w64(struct bld *b, uint64_t pa, uint64_t v)
{
	if (img_write64(b->im, pa, v))
		scn_fail(b, "cannot write 0x%llx: not RAM", (unsigned long long)pa);
}

uint64_t scn_r64(struct bld *b, uint64_t pa)
{
	uint8_t x[8];
	uint64_t v = 0;
	if (img_read(b->im, pa, x, 8))
		scn_fail(b, "cannot read back 0x%llx", (unsigned long long)pa);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | x[i];
	return v;
}

uint32_t scn_r32(struct bld *b, uint64_t pa)
{
	uint8_t x[4];
	if (img_read(b->im, pa, x, 4))
		scn_fail(b, "cannot read back 0x%llx", (unsigned long long)pa);
	return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static void w32(struct bld *b, uint64_t pa, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	if (img_write(b->im, pa, x, 4))
		scn_fail(b, "cannot write 0x%llx: not RAM", (unsigned long long)pa);
}

/* ---- CAP/ECAP bits used by the builder (spec §10.4.2/10.4.3) ---- */

static unsigned cap_sagaw_bits(uint64_t cap) { return (unsigned)(cap >> 8) & 0x1f; }
static bool has_bit(uint64_t v, unsigned bit) { return v >> bit & 1; }
#define CAP_SLLPS_2M 34
#define CAP_SLLPS_1G 35
#define CAP_FL1GP 56
#define CAP_FL5LP 60
#define ECAP_DT 2
#define ECAP_PT 6
#define ECAP_NEST 26
#define ECAP_SLTS 46
#define ECAP_FLTS 47

/* Largest AW the unit supports (Linux iommu->msagaw), 1 if none. */
static unsigned max_aw(uint64_t cap)
{
	for (int aw = 3; aw >= 1; aw--)
		if (cap_sagaw_bits(cap) >> aw & 1)
			return (unsigned)aw;
	return 1;
}

/* ---- page-table trees ---- */

static struct ptnode *new_node(struct bld *b, struct dom *d, struct tree *t, unsigned level);

/* Second-level entry (spec §9.8): R 0, W 1, PS 7, ADDR 12+.  Linux gives
 * non-leaf entries R|W. */
static uint64_t sl_entry(uint64_t addr, unsigned perm, bool ps)
{
	return addr | ((perm & VTD_PERM_R) ? 1 : 0) | ((perm & VTD_PERM_W) ? 2 : 0) | (ps ? 1ull << 7 : 0);
}

/* First-level entry (IA-32e): P 0, R/W 1, U/S 2, A 5, D 6, PS 7, XD 63.
 * Linux sets U/S and A everywhere, D on writable leaves. */
static uint64_t fl_entry(const struct tree *t, uint64_t addr, unsigned perm, bool leaf, bool ps)
{
	uint64_t e = addr | 1 | 4 | 0x20;
	if (perm & VTD_PERM_W)
		e |= 2 | (leaf ? 0x40 : 0);
	if (ps)
		e |= 1ull << 7;
	if (t->xd)
		e |= 1ull << 63;
	return e;
}

static void add_chunk(struct bld *b, struct chunk **arr, size_t *n, size_t *cap,
		      uint64_t iova, uint64_t pa, uint64_t size, uint64_t ps, unsigned perm, bool nofill)
{
	struct chunk *c = PUSH(b, *arr, *n, *cap);
	c->iova = iova;
	c->pa = pa;
	c->size = size;
	c->ps = ps;
	c->perm = perm;
	c->nofill = nofill;
}

/* Put one leaf of level lvl in t: addr -> out. */
static void tree_leaf(struct bld *b, struct dom *d, struct tree *t, uint64_t addr, uint64_t out,
		      unsigned lvl, unsigned perm)
{
	struct ptnode *n = t->root;
	for (unsigned L = t->levels; L > lvl; L--) {
		unsigned i = lidx(addr, L);
		if (!n->child[i]) {
			if (n->e[i])
				scn_fail(b, "0x%llx overlaps an earlier %s mapping", (unsigned long long)addr,
					 t->fl ? "first-level" : "second-level");
			struct ptnode *c = new_node(b, d, t, L - 1);
			n->child[i] = c;
			n->e[i] = t->fl ? fl_entry(t, c->ptr, VTD_PERM_R | VTD_PERM_W, false, false)
				: sl_entry(c->ptr, VTD_PERM_R | VTD_PERM_W, false);
		}
		n = n->child[i];
	}
	unsigned i = lidx(addr, lvl);
	if (n->e[i] || n->child[i])
		scn_fail(b, "0x%llx overlaps an earlier %s mapping", (unsigned long long)addr,
			 t->fl ? "first-level" : "second-level");
	n->e[i] = t->fl ? fl_entry(t, out, perm, true, lvl > 1) : sl_entry(out, perm, lvl > 1);
}

/* A new table page.  In a nested domain the first-level tables get a GPA from
 * the domain's window, which the second-level tables map to the page. */
static struct ptnode *new_node(struct bld *b, struct dom *d, struct tree *t, unsigned level)
{
	struct ptnode *n = calloc(1, sizeof(*n));
	if (!n)
		scn_fail(b, "out of memory");
	*PUSH(b, b->nodes, b->nnodes, b->capnodes) = n;
	n->level = level;
	n->pa = n->ptr = scn_alloc(b, 1);
	if (d && d->xt == VTD_XT_NESTED && t == &d->fl) {
		n->ptr = d->gpa_next;
		d->gpa_next += PG;
		tree_leaf(b, d, &d->sl, n->ptr, n->pa, 1, VTD_PERM_R | VTD_PERM_W);
		add_chunk(b, &d->gmaps, &d->ngmaps, &d->capgmaps, n->ptr, n->pa, PG, PG,
			  VTD_PERM_R | VTD_PERM_W, true);
	}
	return n;
}

static struct dom *new_dom(struct bld *b, enum vtd_xtype xt, unsigned sl_levels, unsigned fl_levels,
			   bool xd, uint64_t gpa_tables)
{
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		scn_fail(b, "out of memory");
	*PUSH(b, b->doms, b->ndoms, b->capdoms) = d;
	d->xt = xt;
	d->gpa_next = gpa_tables;
	if (xt == VTD_XT_SL || xt == VTD_XT_NESTED) {
		d->sl.levels = sl_levels;
		d->sl.root = new_node(b, d, &d->sl, sl_levels);
	}
	if (xt == VTD_XT_FL || xt == VTD_XT_NESTED) {
		d->fl.fl = true;
		d->fl.xd = xd;
		d->fl.levels = fl_levels;
		d->fl.root = new_node(b, d, &d->fl, fl_levels);
	}
	return d;
}

static void write_node(struct bld *b, const struct ptnode *n)
{
	for (unsigned i = 0; i < 512; i++) {
		if (n->e[i])
			scn_w64(b, n->pa + 8ull * i, n->e[i]);
		if (n->child[i])
			write_node(b, n->child[i]);
	}
}

/* ---- lookups ---- */

static struct munit *cur_unit(struct bld *b, struct sline *l)
{
	if (l->unit < 0)
		scn_fail(b, "'%s' before any unit line", l->tok[0]);
	return &b->units[l->unit];
}

static struct mdev *find_dev(struct bld *b, int unit, unsigned bus, unsigned devfn)
{
	for (size_t i = 0; i < b->ndevs; i++)
		if (b->devs[i].unit == unit && b->devs[i].bus == bus && b->devs[i].devfn == devfn)
			return &b->devs[i];
	return NULL;
}

static struct mdev *need_dev(struct bld *b, struct sline *l, const char *bdf)
{
	struct munit *u = cur_unit(b, l);
	unsigned bus, devfn;
	scn_parse_bdf(b, bdf, u, &bus, &devfn);
	struct mdev *d = find_dev(b, l->unit, bus, devfn);
	if (!d)
		scn_fail(b, "device %s is not declared on unit %s", bdf, u->u.name);
	return d;
}

static struct mctx *find_ctx(struct bld *b, int unit, uint16_t sid, int64_t pasid)
{
	for (size_t i = 0; i < b->nctxs; i++)
		if (b->ctxs[i].unit == unit && b->ctxs[i].sid == sid && b->ctxs[i].pasid == pasid)
			return &b->ctxs[i];
	return NULL;
}

/* The context a map/corrupt line names: device plus pasid= (SM default:
 * the device's RID_PASID). */
static struct mctx *need_ctx(struct bld *b, struct sline *l, struct mdev *d)
{
	struct munit *u = &b->units[d->unit];
	int64_t pasid = VTD_NO_PASID;
	const char *p = scn_tok_opt(l, "pasid");
	if (u->sm)
		pasid = p ? (int64_t)scn_num(b, p) : d->rid_pasid;
	else if (p)
		scn_fail(b, "pasid= on a legacy-mode unit");
	struct mctx *c = find_ctx(b, d->unit, (uint16_t)vtd_sid(d->bus, d->devfn), pasid);
	if (!c)
		scn_fail(b, "no %s entry for this device%s", u->sm ? "PASID" : "context",
			 u->sm ? " and PASID" : "");
	return c;
}

/* ---- statements: units, devices, PASIDs ---- */

static void do_unit(struct bld *b, struct sline *l)
{
	struct munit *u = &b->units[l->unit];
	const char *name = scn_tok_pos(l, 1), *mode = scn_tok_opt(l, "mode");
	if (!name || strlen(name) >= sizeof(u->u.name))
		scn_fail(b, "unit needs a name (up to 23 characters)");
	for (size_t i = 0; i < b->nunits; i++)
		if ((int)i != l->unit && !strcmp(b->units[i].u.name, name))
			scn_fail(b, "unit %s declared twice", name);
	strcpy(u->u.name, name);
	if (!mode || (strcmp(mode, "legacy") && strcmp(mode, "scalable")))
		scn_fail(b, "unit needs mode=legacy or mode=scalable");
	u->sm = !strcmp(mode, "scalable");
	const char *cap = scn_tok_opt(l, "cap"), *ecap = scn_tok_opt(l, "ecap");
	if (!cap || !ecap)
		scn_fail(b, "unit needs cap= and ecap=");
	u->u.cap = scn_num(b, cap);
	u->u.ecap = scn_num(b, ecap);
	u->u.segment = (uint16_t)scn_opt_num(b, l, "segment", 0);
	u->u.haw = (unsigned)scn_opt_num(b, l, "haw", 0);
	const char *root = scn_tok_opt(l, "root");
	if (root) {
		u->root = scn_num(b, root);
		if (u->root % PG)
			scn_fail(b, "root= must be page aligned");
		if (img_is_ram(b->im, u->root / PG))
			scn_mark_table(b, u->root, 1);
	} else {
		u->root = scn_alloc(b, 1);
	}
	/* RTADDR: bits 63:12 root table, TTM bits 11:10 (01 = scalable mode) */
	u->u.rtaddr = u->root | (u->sm ? 1ull << 10 : 0);
	u->u.qi.iqa = 0;
	u->u.qi.status_pa = VTD_NOADDR;
	u->u.qi.free_head = u->u.qi.free_tail = -1;
	scn_tok_done(b, l);
}

/* The context table of bus (half 1 = upper, SM only), allocated and hooked
 * into the root entry on first use.  Legacy root entry: P bit 0, CTP 63:12;
 * SM: LP 0 / LCTP 63:12, UP 64 / UCTP 127:76. */
static uint64_t ctx_table(struct bld *b, struct munit *u, unsigned bus, unsigned half)
{
	if (!u->ctxt[bus][half]) {
		u->ctxt[bus][half] = scn_alloc(b, 1);
		scn_w64(b, u->root + 16ull * bus + 8 * half, u->ctxt[bus][half] | 1);
	}
	return u->ctxt[bus][half];
}

static void do_device(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	unsigned bus, devfn;
	bool fpd = scn_tok_flag(l, "fpd");
	bool paside = scn_tok_flag(l, "paside"), dte = scn_tok_flag(l, "dte"), pre = scn_tok_flag(l, "pre");
	scn_parse_bdf(b, scn_tok_pos(l, 1), u, &bus, &devfn);
	if (find_dev(b, l->unit, bus, devfn))
		scn_fail(b, "device declared twice");
	struct mdev *d = PUSH(b, b->devs, b->ndevs, b->capdevs);
	d->unit = l->unit;
	d->line = l->no;
	d->bus = bus;
	d->devfn = devfn;
	d->ctx = -1;
	uint16_t sid = vtd_sid(bus, devfn);

	if (u->sm) {
		d->pdts = (unsigned)scn_opt_num(b, l, "pdts", 2);
		d->rid_pasid = (unsigned)scn_opt_num(b, l, "rid-pasid", 0);
		d->paside = paside;
		if (d->pdts > 7 || d->rid_pasid >= 1u << 20)
			scn_fail(b, "pdts is 0..7, rid-pasid below 2^20");
		uint64_t dir_bytes = 8ull << (d->pdts + 7);
		unsigned np = (unsigned)((dir_bytes + PG - 1) / PG);
		d->dir_pa = scn_alloc(b, np);
		uint64_t ct = ctx_table(b, u, bus, devfn >= 0x80);
		d->ctx_entry_pa = ct + 32ull * (devfn & 0x7f);
		/* SM context entry (spec §9.4): P 0, FPD 1, DTE 2, PASIDE 3, PRE 4,
		 * PDTS 11:9, PASIDDIRPTR 63:12; RID_PASID 83:64. */
		uint64_t lo = d->dir_pa | (uint64_t)d->pdts << 9 | (pre ? 16 : 0) | (paside ? 8 : 0) |
			      (dte ? 4 : 0) | (fpd ? 2 : 0) | 1;
		scn_w64(b, d->ctx_entry_pa, lo);
		scn_w64(b, d->ctx_entry_pa + 8, d->rid_pasid);
		scn_tok_done(b, l);
		return;
	}
	if (paside || dte || pre)
		scn_fail(b, "paside/dte/pre are scalable-mode context fields");
	unsigned tt = (unsigned)scn_opt_num(b, l, "tt", 0);
	unsigned aw = (unsigned)scn_opt_num(b, l, "aw", max_aw(u->u.cap));
	const char *didv = scn_tok_opt(l, "did"), *share = scn_tok_opt(l, "tables");
	if (!didv)
		scn_fail(b, "legacy device needs did=");
	unsigned did = (unsigned)scn_num(b, didv);
	if (tt > 3 || aw > 7 || did > 0xffff)
		scn_fail(b, "tt is 0..3, aw 0..7, did below 65536");
	struct mctx *c = PUSH(b, b->ctxs, b->nctxs, b->capctxs);
	d = &b->devs[b->ndevs - 1];
	c->unit = l->unit;
	c->dev = (int)(b->ndevs - 1);
	c->sid = sid;
	c->pasid = VTD_NO_PASID;
	c->did = (int)did;
	c->line = l->no;
	c->xt = tt == 2 ? VTD_XT_PT : VTD_XT_SL;
	c->sl_levels = aw + 2;
	/* validity (spec §9.3; QEMU vtd_dev_to_context_entry step 7) */
	c->valid = true;
	if (tt == 3)
		c->valid = false, c->why_invalid = "TT=3";
	else if (tt == 1 && !has_bit(u->u.ecap, ECAP_DT))
		c->valid = false, c->why_invalid = "TT=1 without ECAP.DT";
	else if (tt == 2 && !has_bit(u->u.ecap, ECAP_PT))
		c->valid = false, c->why_invalid = "TT=2 without ECAP.PT";
	else if (tt != 2 && !(aw < 5 && cap_sagaw_bits(u->u.cap) >> aw & 1))
		c->valid = false, c->why_invalid = "AW not in SAGAW";
	uint64_t ptr = 0;
	if (c->xt == VTD_XT_SL) {
		if (aw < 1 || aw > 3)
			scn_fail(b, "aw must be 1..3 for a translating context");
		if (share) {
			unsigned sb, sd;
			scn_parse_bdf(b, share, u, &sb, &sd);
			struct mctx *o = find_ctx(b, l->unit, (uint16_t)vtd_sid(sb, sd), VTD_NO_PASID);
			if (!o || !o->dom || o->sl_levels != c->sl_levels)
				scn_fail(b, "tables=%s: no translating device with the same AW", share);
			c->dom = o->dom;
		} else {
			c->dom = new_dom(b, VTD_XT_SL, c->sl_levels, 0, false, 0);
		}
		ptr = c->dom->sl.root->ptr;
	}
	d->ctx = (int)(b->nctxs - 1);
	c->sl_ptr = ptr;
	uint64_t ct = ctx_table(b, u, bus, 0);
	d->ctx_entry_pa = c->entry_pa = ct + 16ull * devfn;
	/* legacy context entry (spec §9.3): P 0, FPD 1, TT 3:2, SLPTPTR 63:12;
	 * AW 66:64, DID 87:72. */
	scn_w64(b, c->entry_pa, ptr | (uint64_t)tt << 2 | (fpd ? 2 : 0) | 1);
	scn_w64(b, c->entry_pa + 8, aw | (uint64_t)did << 8);
	scn_tok_done(b, l);
}

static void do_pasid(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	static const char *const flags[] = { "sre", "wpe", "eafe", "pwsnp", "pgsnp", "slade", "fpd", "xd" };
	bool f[8];
	for (int i = 0; i < 8; i++)
		f[i] = scn_tok_flag(l, flags[i]);
	if (!u->sm)
		scn_fail(b, "pasid lines need a scalable-mode unit");
	struct mdev *d = need_dev(b, l, scn_tok_pos(l, 1));
	uint64_t pasid = scn_num(b, scn_tok_pos(l, 2));
	const char *pg = scn_tok_opt(l, "pgtt"), *didv = scn_tok_opt(l, "did");
	const char *share = scn_tok_opt(l, "tables");
	unsigned pgtt;
	if (!pg)
		scn_fail(b, "pasid needs pgtt=fl|sl|nested|pt");
	if (!strcmp(pg, "fl"))
		pgtt = 1;
	else if (!strcmp(pg, "sl"))
		pgtt = 2;
	else if (!strcmp(pg, "nested"))
		pgtt = 3;
	else if (!strcmp(pg, "pt"))
		pgtt = 4;
	else
		pgtt = (unsigned)scn_num(b, pg);
	if (!didv)
		scn_fail(b, "pasid needs did=");
	unsigned did = (unsigned)scn_num(b, didv);
	unsigned aw = (unsigned)scn_opt_num(b, l, "aw", max_aw(u->u.cap));
	unsigned flpm = (unsigned)scn_opt_num(b, l, "flpm", 0);
	uint64_t gpa_tables = scn_opt_num(b, l, "gpa-tables", 0x7f000000);
	if (pasid >= 1u << 20 || pgtt > 7 || did > 0xffff || aw > 7 || flpm > 3)
		scn_fail(b, "PASID below 2^20, pgtt 0..7, did below 65536, aw 0..7, flpm 0..3");
	unsigned didx = (unsigned)(pasid >> 6);
	if (didx >= 1u << (d->pdts + 7))
		scn_fail(b, "PASID %llu is beyond the directory (pdts=%u)", (unsigned long long)pasid, d->pdts);
	uint16_t sid = vtd_sid(d->bus, d->devfn);
	if (find_ctx(b, d->unit, sid, (int64_t)pasid))
		scn_fail(b, "PASID entry declared twice");

	/* PASID table of this directory index: 64 entries of 64 bytes; the
	 * directory entry (spec §9.5) is P 0, FPD 1, table 63:12. */
	uint64_t tab = 0;
	for (size_t i = 0; i < d->nptabs; i++)
		if (d->ptabs[i].didx == didx)
			tab = d->ptabs[i].pa;
	if (!tab) {
		tab = scn_alloc(b, 1);
		struct ptab *p = PUSH(b, d->ptabs, d->nptabs, d->capptabs);
		p->didx = didx;
		p->pa = tab;
		scn_w64(b, d->dir_pa + 8ull * didx, tab | 1);
	}

	struct mctx *c = PUSH(b, b->ctxs, b->nctxs, b->capctxs);
	c->unit = l->unit;
	c->dev = (int)(d - b->devs);
	c->sid = sid;
	c->pasid = (int64_t)pasid;
	c->did = (int)did;
	c->line = l->no;
	c->entry_pa = tab + 64ull * (pasid & 63);
	c->xt = pgtt == 1 ? VTD_XT_FL : pgtt == 2 ? VTD_XT_SL : pgtt == 3 ? VTD_XT_NESTED
		: pgtt == 4 ? VTD_XT_PT : VTD_XT_NONE;
	if (c->xt == VTD_XT_SL || c->xt == VTD_XT_NESTED)
		c->sl_levels = aw + 2;
	if (c->xt == VTD_XT_FL || c->xt == VTD_XT_NESTED)
		c->fl_levels = 4 + (flpm & 1);
	/* validity (spec §9.6, QEMU vtd_get_pe_in_pasid_leaf_table) */
	uint64_t cap = u->u.cap, ecap = u->u.ecap;
	c->valid = true;
	if (c->xt == VTD_XT_NONE)
		c->valid = false, c->why_invalid = "reserved PGTT";
	else if (c->xt == VTD_XT_FL && !has_bit(ecap, ECAP_FLTS))
		c->valid = false, c->why_invalid = "PGTT=1 without ECAP.FLTS";
	else if (c->xt == VTD_XT_SL && !has_bit(ecap, ECAP_SLTS))
		c->valid = false, c->why_invalid = "PGTT=2 without ECAP.SLTS";
	else if (c->xt == VTD_XT_NESTED && !(has_bit(ecap, ECAP_NEST) && has_bit(ecap, ECAP_FLTS) &&
					     has_bit(ecap, ECAP_SLTS)))
		c->valid = false, c->why_invalid = "PGTT=3 without ECAP.NEST";
	else if (c->xt == VTD_XT_PT && !has_bit(ecap, ECAP_PT))
		c->valid = false, c->why_invalid = "PGTT=4 without ECAP.PT";
	else if ((c->xt == VTD_XT_SL || c->xt == VTD_XT_NESTED) &&
		 !(aw < 5 && cap_sagaw_bits(cap) >> aw & 1))
		c->valid = false, c->why_invalid = "AW not in SAGAW";
	else if ((c->xt == VTD_XT_FL || c->xt == VTD_XT_NESTED) &&
		 (flpm > 1 || (flpm == 1 && !has_bit(cap, CAP_FL5LP))))
		c->valid = false, c->why_invalid = "FLPM not supported";

	uint64_t slptr = 0, flptr = 0;
	if (c->xt == VTD_XT_SL || c->xt == VTD_XT_FL || c->xt == VTD_XT_NESTED) {
		if ((c->sl_levels && (aw < 1 || aw > 3)) || flpm > 1)
			scn_fail(b, "aw must be 1..3 and flpm 0..1 for a translating PASID entry");
		if (share) {
			unsigned sb, sd;
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", share);
			char *slash = strchr(buf, '/');
			if (!slash)
				scn_fail(b, "tables=BB:DD.F/PASID");
			*slash = 0;
			scn_parse_bdf(b, buf, u, &sb, &sd);
			struct mctx *o = find_ctx(b, l->unit, (uint16_t)vtd_sid(sb, sd), (int64_t)scn_num(b, slash + 1));
			c = &b->ctxs[b->nctxs - 1];
			if (!o || !o->dom || o->xt != c->xt || o->sl_levels != c->sl_levels ||
			    o->fl_levels != c->fl_levels)
				scn_fail(b, "tables=%s: no PASID entry of the same kind", share);
			c->dom = o->dom;
		} else {
			c->dom = new_dom(b, c->xt, c->sl_levels, c->fl_levels, f[7], gpa_tables);
			c = &b->ctxs[b->nctxs - 1];
		}
		if (c->dom->sl.root)
			slptr = c->dom->sl.root->ptr;
		if (c->dom->fl.root)
			flptr = c->dom->fl.root->ptr;
	} else if (share) {
		scn_fail(b, "tables= on a pass-through entry");
	}
	c->sl_ptr = slptr;
	c->fl_ptr = flptr;
	/* PASID-table entry (spec §9.6): val0: P 0, FPD 1, AW 4:2, PGTT 8:6,
	 * SLADE 9, SLPTPTR 63:12; val1: DID 15:0, PWSNP 23, PGSNP 24;
	 * val2: SRE 0, FLPM 3:2, WPE 4, EAFE 7, FLPTPTR 63:12. */
	uint64_t v0 = slptr | (f[5] ? 1ull << 9 : 0) | (uint64_t)pgtt << 6 | (uint64_t)aw << 2 |
		      (f[6] ? 2 : 0) | 1;
	uint64_t v1 = did | (f[3] ? 1ull << 23 : 0) | (f[4] ? 1ull << 24 : 0);
	uint64_t v2 = flptr | (f[2] ? 1ull << 7 : 0) | (f[1] ? 1ull << 4 : 0) | (uint64_t)flpm << 2 |
		      (f[0] ? 1 : 0);
	scn_w64(b, c->entry_pa, v0);
	scn_w64(b, c->entry_pa + 8, v1);
	scn_w64(b, c->entry_pa + 16, v2);
	scn_tok_done(b, l);
}

/* ---- map lines ---- */

static bool canonical(uint64_t a, unsigned vbits)
{
	int64_t s = (int64_t)(a << (64 - vbits)) >> (64 - vbits);
	return (uint64_t)s == a;
}

static void do_map(struct bld *b, struct sline *l, bool gstage)
{
	bool nofill = scn_tok_flag(l, "nofill");
	struct mdev *d = need_dev(b, l, scn_tok_pos(l, 1));
	struct mctx *c = need_ctx(b, l, d);
	struct munit *u = &b->units[d->unit];
	uint64_t iova = scn_num(b, scn_tok_pos(l, 2)), pa = scn_num(b, scn_tok_pos(l, 3));
	uint64_t size = scn_num(b, scn_tok_pos(l, 4));
	unsigned perm = scn_parse_perm(b, scn_tok_pos(l, 5));
	const char *psv = scn_tok_pos(l, 6);
	uint64_t ps = psv ? scn_num(b, psv) : PG;
	scn_tok_done(b, l);
	struct dom *dm = c->dom;
	if (!dm || dm->xt == VTD_XT_PT)
		scn_fail(b, "this context has no page tables");
	if (gstage && dm->xt != VTD_XT_NESTED)
		scn_fail(b, "gmap is for nested PASID entries (use map)");
	struct tree *t = gstage ? &dm->sl : dm->xt == VTD_XT_SL ? &dm->sl : &dm->fl;
	unsigned lvl = ps == PG ? 1 : ps == 2ull << 20 ? 2 : ps == 1ull << 30 ? 3 : 0;
	if (!lvl)
		scn_fail(b, "page size must be 4K, 2M or 1G");
	if (!size || (iova | pa | size) & (ps - 1))
		scn_fail(b, "iova, pa and size must be non-zero multiples of the page size");
	if (lvl > t->levels || (t->fl && lvl == t->levels))
		scn_fail(b, "page size too large for a %u-level table", t->levels);
	uint64_t cap = u->u.cap;
	if (!t->fl && ((lvl == 2 && !has_bit(cap, CAP_SLLPS_2M)) || (lvl == 3 && !has_bit(cap, CAP_SLLPS_1G))))
		scn_fail(b, "CAP.SLLPS does not allow this second-level page size");
	if (t->fl && lvl == 3 && !has_bit(cap, CAP_FL1GP))
		scn_fail(b, "CAP.FL1GP is clear: no first-level 1 GiB pages");
	if (t->fl && !(perm & VTD_PERM_R))
		scn_fail(b, "first-level pages are always readable: use r or rw");
	if (t->fl) {
		unsigned vb = 12 + 9 * t->levels;
		if (!canonical(iova, vb) || !canonical(iova + size - 1, vb) || (iova ^ (iova + size - 1)) >> 63)
			scn_fail(b, "IOVA range is not canonical for %u-level paging", t->levels);
	} else if (12 + 9 * t->levels < 64 && (iova + size - 1) >> (12 + 9 * t->levels)) {
		scn_fail(b, "IOVA range beyond the %u-level table", t->levels);
	}
	if (iova + size - 1 < iova || pa + size - 1 < pa)
		scn_fail(b, "range wraps");
	for (uint64_t off = 0; off < size; off += ps)
		tree_leaf(b, dm, t, iova + off, pa + off, lvl, perm);
	if (gstage)
		add_chunk(b, &dm->gmaps, &dm->ngmaps, &dm->capgmaps, iova, pa, size, ps, perm, nofill);
	else
		add_chunk(b, &dm->maps, &dm->nmaps, &dm->capmaps, iova, pa, size, ps, perm, nofill);
}

/* ---- interrupt remapping ---- */

static void do_ir(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	bool eime = scn_tok_flag(l, "eime");
	uint64_t n = scn_opt_num(b, l, "entries", 65536);
	const char *tab = scn_tok_opt(l, "table");
	scn_tok_done(b, l);
	if (u->ir)
		scn_fail(b, "second ir line for this unit");
	unsigned s = 0;
	while ((2ull << s) < n)
		s++;
	if ((2ull << s) != n || s > 15)
		scn_fail(b, "entries must be a power of two, 2..65536");
	unsigned np = (unsigned)((n * 16 + PG - 1) / PG);
	if (tab) {
		u->ir_pa = scn_num(b, tab);
		if (u->ir_pa % PG)
			scn_fail(b, "table= must be page aligned");
		scn_mark_table(b, u->ir_pa, np);
	} else {
		u->ir_pa = scn_alloc(b, np);
	}
	u->ir = true;
	u->ir_s = s;
	u->eime = eime;
	/* IRTA (spec §10.4.29): table 63:12, EIME 11, S 3:0 (2^(S+1) entries) */
	u->u.irta = u->ir_pa | (eime ? 1ull << 11 : 0) | s;
}

static unsigned sid_opt(struct bld *b, struct sline *l, const struct munit *u)
{
	const char *v = scn_tok_opt(l, "sid");
	if (!v)
		return 0;
	if (strchr(v, ':')) {
		unsigned bus, devfn;
		scn_parse_bdf(b, v, u, &bus, &devfn);
		return vtd_sid(bus, devfn);
	}
	uint64_t n = scn_num(b, v);
	if (n > 0xffff)
		scn_fail(b, "sid is 16 bits");
	return (unsigned)n;
}

static void do_irte(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	bool fpd = scn_tok_flag(l, "fpd"), rh = scn_tok_flag(l, "rh"), tm = scn_tok_flag(l, "tm");
	bool dm = scn_tok_flag(l, "dm"), urg = scn_tok_flag(l, "urg");
	bool remapped = scn_tok_flag(l, "remapped"), posted = scn_tok_flag(l, "posted");
	if (!u->ir)
		scn_fail(b, "irte before this unit's ir line");
	uint64_t idx = scn_num(b, scn_tok_pos(l, 1));
	if (idx >= 2ull << u->ir_s)
		scn_fail(b, "index beyond the IR table");
	if (remapped == posted)
		scn_fail(b, "irte needs remapped or posted");
	unsigned sid = sid_opt(b, l, u);
	unsigned sq = (unsigned)scn_opt_num(b, l, "sq", 0), svt = (unsigned)scn_opt_num(b, l, "svt", 0);
	unsigned avail = (unsigned)scn_opt_num(b, l, "avail", 0);
	if (sq > 3 || svt > 3 || avail > 15)
		scn_fail(b, "sq, svt are 0..3, avail 0..15");
	struct scn_irte *e = PUSH(b, b->s->irtes, b->s->nirtes, b->capi);
	snprintf(e->unit, sizeof(e->unit), "%s", u->u.name);
	e->index = (uint32_t)idx;
	e->sid = sid;
	e->sq = sq;
	e->svt = svt;
	/* both formats (spec §9.10): P 0, FPD 1, AVAIL 11:8, IM 15;
	 * SID 79:64, SQ 81:80, SVT 83:82 */
	uint64_t lo = 1 | (fpd ? 2 : 0) | (uint64_t)avail << 8;
	uint64_t hi = sid | (uint64_t)sq << 16 | (uint64_t)svt << 18;
	if (remapped) {
		unsigned vec = (unsigned)scn_opt_num(b, l, "vector", 0);
		uint64_t dest = scn_opt_num(b, l, "dest", 0);
		unsigned dlm = (unsigned)scn_opt_num(b, l, "dlm", 0);
		if (vec > 255 || dlm > 7 || (!u->eime && dest > 255) || dest > 0xffffffffull)
			scn_fail(b, "vector 0..255, dlm 0..7, dest 8 bits (xAPIC) or 32 bits (x2APIC)");
		/* remapped: DM 2, RH 3, TM 4, DLM 7:5, V 23:16, DST 63:32 (xAPIC:
		 * the APIC ID in 47:40) */
		uint64_t dst = u->eime ? dest : dest << 8;
		lo |= (dm ? 4 : 0) | (rh ? 8 : 0) | (tm ? 16 : 0) | (uint64_t)dlm << 5 |
		      (uint64_t)vec << 16 | dst << 32;
		e->vector = vec;
		e->dest = (uint32_t)dest;
	} else {
		if (rh || tm || dm)
			scn_fail(b, "dm/rh/tm are remapped-format fields");
		unsigned vv = (unsigned)scn_opt_num(b, l, "vv", 0);
		uint64_t pda = scn_opt_num(b, l, "pda", 0);
		if (vv > 255 || pda & 63)
			scn_fail(b, "vv 0..255, pda 64-byte aligned");
		/* posted: URG 14, IM 15, VV 23:16, PDA[31:6] in 63:38,
		 * PDA[63:32] in 127:96 */
		lo |= (urg ? 1ull << 14 : 0) | 1ull << 15 | (uint64_t)vv << 16 |
		      ((pda >> 6) & 0x3ffffff) << 38;
		hi |= (pda >> 32) << 32;
		e->posted = 1;
		e->vector = vv;
		e->pda = pda;
	}
	if (urg && remapped)
		scn_fail(b, "urg is a posted-format field");
	scn_tok_done(b, l);
	e->irte.low = lo;
	e->irte.high = hi;
	uint64_t at = u->ir_pa + 16 * idx;
	for (size_t i = 0; i + 1 < b->s->nirtes; i++)
		if (!strcmp(b->s->irtes[i].unit, u->u.name) && b->s->irtes[i].index == idx)
			scn_fail(b, "IRTE %llu declared twice", (unsigned long long)idx);
	scn_w64(b, at, lo);
	scn_w64(b, at + 8, hi);
}

/* ---- invalidation queue ---- */

static void do_qi(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	bool dw = scn_tok_flag(l, "dw");
	unsigned qs = (unsigned)scn_opt_num(b, l, "qs", dw ? 1 : 0);
	const char *ring = scn_tok_opt(l, "ring"), *st = scn_tok_opt(l, "status");
	int head = (int)scn_opt_num(b, l, "head", (uint64_t)-1), tail = (int)scn_opt_num(b, l, "tail", (uint64_t)-1);
	scn_tok_done(b, l);
	if (u->qi)
		scn_fail(b, "second qi line for this unit");
	if (qs > 7)
		scn_fail(b, "qs is 0..7");
	unsigned np = 1u << qs;
	if (ring) {
		u->ring = scn_num(b, ring);
		if (u->ring % PG)
			scn_fail(b, "ring= must be page aligned");
		scn_mark_table(b, u->ring, np);
	} else {
		u->ring = scn_alloc(b, np);
	}
	u->qi = true;
	u->qs = qs;
	u->dw = dw;
	u->nslots = (unsigned)((PG << qs) / (dw ? 32 : 16));
	u->qstatus = calloc(u->nslots, sizeof(*u->qstatus));
	if (!u->qstatus)
		scn_fail(b, "out of memory");
	/* desc_status[]: Linux kcalloc(QI_LENGTH, sizeof(int)), a slab object */
	if (st && !strcmp(st, "none")) {
		u->status = VTD_NOADDR;
	} else if (st) {
		u->status = scn_num(b, st);
		if (u->status & 3)
			scn_fail(b, "status= must be 4-byte aligned");
		for (uint64_t p = u->status & ~(PG - 1); p < u->status + 4ull * u->nslots; p += PG)
			if (!img_page(b->im, p / PG, true))
				scn_fail(b, "status array not in RAM");
	} else {
		unsigned sp = (4 * u->nslots + PG - 1) / PG;
		u->status = scn_alloc(b, sp) + 0x240;   /* not page aligned, like a slab object */
		if ((u->status & (PG - 1)) + 4ull * u->nslots > sp * PG)
			u->status -= 0x240;
	}
	/* IQA (spec §10.4.23): base 63:12, DW 11, QS 2:0 */
	u->u.qi.iqa = u->ring | (dw ? 1ull << 11 : 0) | qs;
	u->u.qi.status_pa = u->status;
	u->u.qi.free_head = head;
	u->u.qi.free_tail = tail;
}

static uint64_t fld(struct bld *b, struct sline *l, const char *k, unsigned bits)
{
	uint64_t v = scn_opt_num(b, l, k, 0);
	if (bits < 64 && v >> bits)
		scn_fail(b, "%s= has %u bits", k, bits);
	return v;
}

static void do_qdesc(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	bool sw = scn_tok_flag(l, "sw"), iflag = scn_tok_flag(l, "if"), fn = scn_tok_flag(l, "fn");
	bool pd = scn_tok_flag(l, "pd"), done = scn_tok_flag(l, "done"), dr = scn_tok_flag(l, "dr");
	bool dwf = scn_tok_flag(l, "dw"), ih = scn_tok_flag(l, "ih"), sflag = scn_tok_flag(l, "s");
	bool glob = scn_tok_flag(l, "global");
	if (!u->qi)
		scn_fail(b, "qdesc before this unit's qi line");
	uint64_t slot = scn_num(b, scn_tok_pos(l, 1));
	const char *type = scn_tok_pos(l, 2);
	if (slot >= u->nslots)
		scn_fail(b, "slot beyond the ring (%u slots)", u->nslots);
	if (!type)
		scn_fail(b, "qdesc SLOT TYPE");
	for (size_t i = 0; i < u->nqd; i++)
		if (u->qd[i].slot == slot)
			scn_fail(b, "slot %llu declared twice", (unsigned long long)slot);
	struct qdesc_m *q = PUSH(b, u->qd, u->nqd, u->capqd);
	q->slot = (unsigned)slot;
	uint64_t *w = q->q;
	/* descriptor layouts: spec §6.5.2 (type 3:0, type[6:4] in 11:9) */
	if (!strcmp(type, "cc")) {
		q->type = 1;
		w[0] = 1 | fld(b, l, "g", 2) << 4 | fld(b, l, "did", 16) << 16 | (uint64_t)sid_opt(b, l, u) << 32 |
		       fld(b, l, "fm", 2) << 48;
	} else if (!strcmp(type, "iotlb")) {
		q->type = 2;
		w[0] = 2 | fld(b, l, "g", 2) << 4 | (dwf ? 1ull << 6 : 0) | (dr ? 1ull << 7 : 0) |
		       fld(b, l, "did", 16) << 16;
		w[1] = fld(b, l, "am", 6) | (ih ? 1ull << 6 : 0) | (fld(b, l, "addr", 64) & ~(PG - 1));
	} else if (!strcmp(type, "dev-iotlb")) {
		q->type = 3;
		uint64_t pfsid = fld(b, l, "pfsid", 16);
		w[0] = 3 | (pfsid & 15) << 12 | fld(b, l, "qdep", 5) << 16 | (uint64_t)sid_opt(b, l, u) << 32 |
		       (pfsid >> 4) << 52;
		w[1] = (sflag ? 1 : 0) | (fld(b, l, "addr", 64) & ~(PG - 1));
	} else if (!strcmp(type, "iec")) {
		q->type = 4;
		w[0] = 4 | fld(b, l, "g", 1) << 4 | fld(b, l, "im", 5) << 27 | fld(b, l, "iidx", 16) << 32;
	} else if (!strcmp(type, "wait")) {
		q->type = 5;
		q->data = (uint32_t)fld(b, l, "data", 32);
		const char *a = scn_tok_opt(l, "addr");
		if (a)
			q->addr = scn_num(b, a);
		else if (u->status != VTD_NOADDR)
			q->addr = u->status + 4 * slot;   /* Linux: &desc_status[wait_index] */
		else
			scn_fail(b, "wait descriptor needs addr= (no status array)");
		if (q->addr & 3)
			scn_fail(b, "status address must be 4-byte aligned");
		q->wait_sw = sw;
		q->done = done;
		w[0] = 5 | (iflag ? 16 : 0) | (sw ? 32 : 0) | (fn ? 64 : 0) | (pd ? 128 : 0) |
		       (uint64_t)q->data << 32;
		w[1] = q->addr;
	} else if (!strcmp(type, "p-iotlb")) {
		q->type = 6;
		w[0] = 6 | fld(b, l, "g", 2) << 4 | fld(b, l, "did", 16) << 16 | fld(b, l, "pasid", 20) << 32;
		w[1] = fld(b, l, "am", 6) | (ih ? 1ull << 6 : 0) | (fld(b, l, "addr", 64) & ~(PG - 1));
	} else if (!strcmp(type, "pasid-cache")) {
		q->type = 7;
		w[0] = 7 | fld(b, l, "g", 2) << 4 | fld(b, l, "did", 16) << 16 | fld(b, l, "pasid", 20) << 32;
	} else if (!strcmp(type, "p-dev-iotlb")) {
		q->type = 8;
		uint64_t pfsid = fld(b, l, "pfsid", 16);
		w[0] = 8 | fld(b, l, "qdep", 5) << 4 | (pfsid & 15) << 12 | (uint64_t)sid_opt(b, l, u) << 16 |
		       fld(b, l, "pasid", 20) << 32 | (pfsid >> 4) << 52;
		w[1] = (glob ? 1 : 0) | (sflag ? 1ull << 11 : 0) | (fld(b, l, "addr", 64) & ~(PG - 1));
	} else if (!strcmp(type, "raw")) {
		for (int i = 0; i < 4; i++) {
			char k[4] = { 'q', 'w', (char)('0' + i), 0 };
			w[i] = fld(b, l, k, 64);
		}
		q->type = (unsigned)((w[0] & 15) | ((w[0] >> 9) & 7) << 4);
		if (q->type == 5) {
			q->wait_sw = w[0] >> 5 & 1;
			q->addr = w[1] & ~3ull;
			q->data = (uint32_t)(w[0] >> 32);
		}
	} else {
		scn_fail(b, "unknown descriptor type '%s'", type);
	}
	if ((sw || iflag || fn || pd || done) && q->type != 5)
		scn_fail(b, "if/sw/fn/pd/done are wait-descriptor flags");
	if (done && !sw)
		scn_fail(b, "done needs sw (status write)");
	const char *st = scn_tok_opt(l, "status");
	if (st) {
		if (u->status == VTD_NOADDR)
			scn_fail(b, "status= but the queue has no status array");
		u->qstatus[slot] = (int32_t)scn_num(b, st);
	}
	scn_tok_done(b, l);
	if (!u->dw && (w[2] | w[3]))
		scn_fail(b, "qw2/qw3 need a 256-bit queue (qi dw)");
	uint64_t at = u->ring + slot * (u->dw ? 32 : 16);
	for (int i = 0; i < (u->dw ? 4 : 2); i++)
		scn_w64(b, at + 8ull * i, w[i]);
}

static void do_qstatus(struct bld *b, struct sline *l)
{
	struct munit *u = cur_unit(b, l);
	if (!u->qi || u->status == VTD_NOADDR)
		scn_fail(b, "qstatus needs a qi line with a status array");
	uint64_t slot = scn_num(b, scn_tok_pos(l, 1));
	uint64_t v = scn_num(b, scn_tok_pos(l, 2));
	scn_tok_done(b, l);
	if (slot >= u->nslots)
		scn_fail(b, "slot beyond the ring");
	u->qstatus[slot] = (int32_t)v;
}

/* ---- phase 1 ---- */

void scn_build(struct bld *b)
{
	for (size_t i = 0; i < b->nlines; i++) {
		struct sline *l = &b->lines[i];
		const char *v = l->tok[0];
		b->line = l->no;
		if (!strcmp(v, "unit"))
			do_unit(b, l);
		else if (!strcmp(v, "device"))
			do_device(b, l);
		else if (!strcmp(v, "pasid"))
			do_pasid(b, l);
		else if (!strcmp(v, "map"))
			do_map(b, l, false);
		else if (!strcmp(v, "gmap"))
			do_map(b, l, true);
		else if (!strcmp(v, "ir"))
			do_ir(b, l);
		else if (!strcmp(v, "irte"))
			do_irte(b, l);
		else if (!strcmp(v, "qi"))
			do_qi(b, l);
		else if (!strcmp(v, "qdesc"))
			do_qdesc(b, l);
		else if (!strcmp(v, "qstatus"))
			do_qstatus(b, l);
	}
	b->line = 0;
	/* page tables into memory */
	for (size_t i = 0; i < b->ndoms; i++) {
		if (b->doms[i]->sl.root)
			write_node(b, b->doms[i]->sl.root);
		if (b->doms[i]->fl.root)
			write_node(b, b->doms[i]->fl.root);
	}
	/* desc_status[] and the status words of completed wait descriptors */
	for (size_t i = 0; i < b->nunits; i++) {
		struct munit *u = &b->units[i];
		if (!u->qi)
			continue;
		if (u->status != VTD_NOADDR)
			for (unsigned k = 0; k < u->nslots; k++)
				w32(b, u->status + 4ull * k, (uint32_t)u->qstatus[k]);
		for (size_t k = 0; k < u->nqd; k++) {
			const struct qdesc_m *q = &u->qd[k];
			if (q->type != 5 || !q->wait_sw)
				continue;
			/* the status word exists in memory (zero unless written) */
			if (!img_page(b->im, q->addr / PG, true))
				scn_fail(b, "unit %s slot %u: status address 0x%llx is not RAM", u->u.name,
					 q->slot, (unsigned long long)q->addr);
			if (q->done)
				w32(b, q->addr, q->data);
		}
	}
}
