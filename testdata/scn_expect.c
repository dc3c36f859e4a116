/* Expected answers, from the scenario: contexts, coalesced mapping runs
 * (computed from the map lines sorted by IOVA, never from the tables),
 * translations, reverse-map hits, IRTEs, QI slots and diagnostics. */
#include "scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define ADDR_MASK 0x000ffffffffff000ull

uint64_t scn_pattern(uint64_t pa)
{
	return (pa & ~7ull) ^ 0x7674647363656e00ull;   /* "vtdscen" */
}

static unsigned ps_level(uint64_t ps)
{
	return ps == PG ? 1 : ps == 2ull << 20 ? 2 : 3;
}

/* ---- mapping runs ---- */

static int cmp_chunk(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;
	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* c minus the ranges r[0..n) (in c's input address space) into out. */
static void subtract(struct bld *b, const struct chunk *c, const struct range *r, size_t n,
		     struct chunk **out, size_t *nout, size_t *cap)
{
	uint64_t lo = c->iova, last = c->iova + (c->size - 1);
	for (;;) {
		bool cut = false;
		uint64_t plast = last;
		for (size_t i = 0; i < n; i++) {
			if (lo >= r[i].lo && lo <= r[i].last) {
				if (r[i].last >= last)
					return;
				lo = r[i].last + 1;
				cut = true;
				break;
			}
			if (r[i].lo > lo && r[i].lo <= plast)
				plast = r[i].lo - 1;
		}
		if (cut)
			continue;
		struct chunk *o = PUSH(b, *out, *nout, *cap);
		*o = *c;
		o->iova = lo;
		o->pa = c->pa + (lo - c->iova);
		o->size = plast - lo + 1;
		if (plast >= last)
			return;
		lo = plast + 1;
	}
}

/* Leaf pieces of a context in IOVA order, before coalescing.  Nested pieces
 * carry each stage's page size and permission. */
static void pieces(struct bld *b, const struct mctx *c, struct chunk **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!c->dom || c->maps_gone)
		return;
	const struct dom *d = c->dom;
	struct chunk *fl = NULL;
	size_t nfl = 0, capfl = 0;
	for (size_t i = 0; i < d->nmaps; i++)
		subtract(b, &d->maps[i], d->drop, d->ndrop, &fl, &nfl, &capfl);
	if (d->xt != VTD_XT_NESTED) {
		for (size_t i = 0; i < nfl; i++) {
			fl[i].fl_ps = fl[i].sl_ps = fl[i].ps;
			fl[i].fl_perm = fl[i].sl_perm = fl[i].perm;
		}
		*out = fl;
		*n = nfl;
		if (nfl)
			qsort(*out, *n, sizeof(**out), cmp_chunk);
		return;
	}
	struct chunk *sl = NULL;
	size_t nsl = 0, capsl = 0;
	for (size_t i = 0; i < d->ngmaps; i++)
		subtract(b, &d->gmaps[i], d->gdrop, d->ngdrop, &sl, &nsl, &capsl);
	for (size_t i = 0; i < nfl; i++) {
		const struct chunk *f = &fl[i];
		for (size_t j = 0; j < nsl; j++) {
			const struct chunk *s = &sl[j];
			uint64_t g0 = f->pa > s->iova ? f->pa : s->iova;
			uint64_t g1 = f->pa + f->size < s->iova + s->size ? f->pa + f->size : s->iova + s->size;
			if (g0 >= g1)
				continue;
			struct chunk *o = PUSH(b, *out, *n, cap);
			o->iova = f->iova + (g0 - f->pa);
			o->pa = s->pa + (g0 - s->iova);
			o->size = g1 - g0;
			o->fl_ps = f->ps;
			o->sl_ps = s->ps;
			o->ps = f->ps < s->ps ? f->ps : s->ps;
			o->fl_perm = f->perm;
			o->sl_perm = s->perm;
			o->perm = f->perm & s->perm;
			o->nofill = f->nofill || s->nofill;
		}
	}
	free(fl);
	free(sl);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_chunk);
}

static unsigned unit_haw(const struct munit *u)
{
	return u->u.haw ? u->u.haw : (unsigned)((u->u.cap >> 16) & 0x3f) + 1;
}

/* Coalesced runs of a reportable context (leaves merge when contiguous in
 * IOVA and PA with equal permission and page size). */
void scn_runs(struct bld *b, const struct mctx *c, struct chunk **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (c->xt == VTD_XT_PT) {
		size_t cap = 0;
		struct chunk *o = PUSH(b, *out, *n, cap);
		unsigned haw = unit_haw(&b->units[c->unit]);
		o->size = haw >= 64 ? UINT64_MAX : 1ull << haw;
		o->perm = VTD_PERM_R | VTD_PERM_W;
		o->nofill = true;
		return;
	}
	pieces(b, c, out, n);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		struct chunk *r = &(*out)[i];
		if (k) {
			struct chunk *p = &(*out)[k - 1];
			if (p->iova + p->size == r->iova && p->pa + p->size == r->pa &&
			    p->perm == r->perm && p->ps == r->ps) {
				p->size += r->size;
				p->nofill = p->nofill && r->nofill;
				continue;
			}
		}
		(*out)[k++] = *r;
	}
	*n = k;
}

/* ---- the generator's own tree model ---- */

/* Walk the model tree: 0 and the leaf (pa, ps, perm) when mapped, else -1 and
 * the level of the first non-present entry. */
int scn_model_walk(const struct tree *t, uint64_t addr, uint64_t *pa, uint64_t *ps,
		   unsigned *perm, int *level)
{
	const struct ptnode *n = t->root;
	for (unsigned L = t->levels; L >= 1; L--) {
		unsigned i = lidx(addr, L);
		if (n->child[i]) {
			n = n->child[i];
			continue;
		}
		uint64_t e = n->e[i];
		if (!e) {
			*level = (int)L;
			return -1;
		}
		uint64_t sz = lsize(L);
		*pa = (e & ADDR_MASK & ~(sz - 1)) | (addr & (sz - 1));
		*ps = sz;
		*perm = t->fl ? VTD_PERM_R | ((e & 2) ? VTD_PERM_W : 0)
			: ((e & 1) ? VTD_PERM_R : 0) | ((e & 2) ? VTD_PERM_W : 0);
		return 0;
	}
	*level = 1;
	return -1;
}

/* ---- per-context expectations ---- */

static bool covered(const struct chunk *r, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= r[i].iova && a - r[i].iova < r[i].size)
			return true;
	return false;
}

static bool dropped_at(const struct dom *d, uint64_t a)
{
	for (size_t i = 0; i < d->ndrop; i++)
		if (a >= d->drop[i].lo && a <= d->drop[i].last)
			return true;
	return false;
}

static const struct chunk *piece_at(const struct chunk *p, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= p[i].iova && a - p[i].iova < p[i].size)
			return &p[i];
	return NULL;
}

/* Permission fault for an access that the piece does not allow. */
static void perm_fault(struct bld *b, const struct mctx *c, const struct chunk *pc,
		       unsigned *fault, int *level, unsigned access)
{
	bool sm = b->units[c->unit].sm, w = access == VTD_ACC_WRITE;
	if (c->xt == VTD_XT_FL || (c->xt == VTD_XT_NESTED && w && !(pc->fl_perm & VTD_PERM_W))) {
		*fault = VTD_FR_SM_WRITE;   /* first level: only writes can be denied */
		*level = (int)ps_level(pc->fl_ps);
		return;
	}
	*fault = sm ? VTD_FR_SM_SL_PERM : w ? VTD_FR_WRITE : VTD_FR_READ;
	*level = (int)ps_level(pc->sl_ps);
}

static bool fl_like(const struct mctx *c)
{
	return c->xt == VTD_XT_FL || c->xt == VTD_XT_NESTED;
}

/* Fault of an unmapped address, from the model trees. */
static bool unmapped_fault(struct bld *b, const struct mctx *c, uint64_t a, unsigned *fault, int *level)
{
	bool sm = b->units[c->unit].sm;
	uint64_t pa, ps;
	unsigned perm;
	const struct dom *d = c->dom;
	if (fl_like(c)) {
		if (scn_model_walk(&d->fl, a, &pa, &ps, &perm, level) < 0) {
			*fault = VTD_FR_SM_FL_P;
			return true;
		}
		if (c->xt != VTD_XT_NESTED || scn_model_walk(&d->sl, pa, &pa, &ps, &perm, level) == 0)
			return false;
		*fault = VTD_FR_SM_SL_PERM;
		return true;
	}
	if (scn_model_walk(&d->sl, a, &pa, &ps, &perm, level) == 0)
		return false;
	*fault = sm ? VTD_FR_SM_SL_PERM : VTD_FR_READ;
	return true;
}

static void ctx_xlates(struct bld *b, const struct mctx *c, const struct chunk *runs, size_t nruns)
{
	int64_t pasid;
	const struct munit *u = &b->units[c->unit];
	if (!scn_ctx_request(b, c, &pasid))
		return;
	if (c->xt == VTD_XT_PT) {
		static const uint64_t pt_probe[] = { 0, 0x1000, 0x100000, 0x12345678 };
		for (unsigned i = 0; i < 4; i++) {
			scn_add_xlate(b, c->unit, c->sid, pasid, pt_probe[i], VTD_ACC_READ, 0, pt_probe[i], PG, -1);
			scn_add_xlate(b, c->unit, c->sid, pasid, pt_probe[i] + 8, VTD_ACC_WRITE, 0, pt_probe[i] + 8, PG, -1);
		}
		return;
	}
	struct chunk *pc;
	size_t npc;
	pieces(b, c, &pc, &npc);
	for (size_t i = 0; i < nruns; i++) {
		const struct chunk *r = &runs[i];
		uint64_t off[3] = { 0, r->size / 2, r->size - 1 };
		for (int k = 0; k < 3; k++) {
			if (r->perm & VTD_PERM_R)
				scn_add_xlate(b, c->unit, c->sid, pasid, r->iova + off[k], VTD_ACC_READ, 0,
					      r->pa + off[k], r->ps, -1);
			if (r->perm & VTD_PERM_W)
				scn_add_xlate(b, c->unit, c->sid, pasid, r->iova + off[k], VTD_ACC_WRITE, 0,
					      r->pa + off[k], r->ps, -1);
		}
		for (unsigned acc = VTD_ACC_READ; acc <= VTD_ACC_WRITE; acc++) {
			if (r->perm & (acc == VTD_ACC_READ ? VTD_PERM_R : VTD_PERM_W))
				continue;
			unsigned fault;
			int level;
			const struct chunk *p = piece_at(pc, npc, r->iova);
			perm_fault(b, c, p, &fault, &level, acc);
			scn_add_xlate(b, c->unit, c->sid, pasid, r->iova, acc, fault, 0, 0, level);
		}
	}
	free(pc);

	/* unmapped addresses next to the runs */
	unsigned width = fl_like(c) ? 12 + 9 * c->fl_levels : 12 + 9 * c->sl_levels;
	unsigned mgaw = (unsigned)((u->u.cap >> 16) & 0x3f) + 1;
	if (!fl_like(c) && mgaw < width)
		width = mgaw;
	unsigned nprobe = 0;
	for (size_t i = 0; i <= nruns && nprobe < 6; i++) {
		uint64_t a;
		if (i == nruns) {
			if (!nruns || runs[0].iova < PG)
				continue;
			a = runs[0].iova - PG;
		} else {
			a = runs[i].iova + runs[i].size;
			if (a < runs[i].iova)
				continue;
		}
		if (fl_like(c) ? (uint64_t)((int64_t)(a << (64 - width)) >> (64 - width)) != a
			       : width < 64 && a >> width)
			continue;
		if (covered(runs, nruns, a) || dropped_at(c->dom, a))
			continue;
		unsigned fault;
		int level;
		if (!unmapped_fault(b, c, a, &fault, &level))
			continue;
		scn_add_xlate(b, c->unit, c->sid, pasid, a, VTD_ACC_READ, fault, 0, 0, level);
		nprobe++;
	}
	/* beyond the walk's width: SL address check, FL canonical check */
	if (fl_like(c))
		scn_add_xlate(b, c->unit, c->sid, pasid, 1ull << (width - 1), VTD_ACC_READ,
			      VTD_FR_SM_NON_CANONICAL, 0, 0, -1);
	else if (width < 64)
		scn_add_xlate(b, c->unit, c->sid, pasid, 1ull << width, VTD_ACC_READ,
			      u->sm ? VTD_FR_SM_BEYOND_MAX : VTD_FR_ADDR_BEYOND_MGAW, 0, 0, -1);
}

/* Requests to devices and PASIDs that have no entry. */
static void absent_probes(struct bld *b)
{
	for (size_t ui = 0; ui < b->nunits; ui++) {
		struct munit *u = &b->units[ui];
		if (u->tainted_root)
			continue;
		for (unsigned bus = 0; bus < 256; bus++) {
			if (u->tainted_bus[bus])
				continue;
			bool lo = u->ctxt[bus][0], hi = u->ctxt[bus][1];
			if (!lo && !hi) {
				/* first bus without a root entry only */
				static const unsigned pick[] = { 0x10, 0x90 };
				for (unsigned k = 0; k < (u->sm ? 2u : 1u); k++)
					scn_add_xlate(b, (int)ui, (uint16_t)vtd_sid(bus, pick[k]), VTD_NO_PASID, 0x1000,
						      VTD_ACC_READ, u->sm ? VTD_FR_SM_ROOT_P : VTD_FR_ROOT_ENTRY_P, 0, 0, -1);
				break;
			}
		}
		for (unsigned bus = 0; bus < 256; bus++) {
			if (u->tainted_bus[bus])
				continue;
			for (unsigned half = 0; half < 2; half++) {
				if (!u->sm && half)
					break;
				unsigned first = half ? 0x80 : 0, last = (u->sm && !half) ? 0x80 : 0x100;
				if (u->sm && !u->ctxt[bus][half]) {
					if (u->ctxt[bus][!half])
						scn_add_xlate(b, (int)ui, (uint16_t)vtd_sid(bus, first + 3), VTD_NO_PASID,
							      0x1000, VTD_ACC_READ, VTD_FR_SM_ROOT_P, 0, 0, -1);
					continue;
				}
				if (!u->ctxt[bus][half])
					continue;
				for (unsigned df = last - 1; df + 1 > first; df--) {
					bool used = false;
					for (size_t i = 0; i < b->ndevs && !used; i++)
						used = b->devs[i].unit == (int)ui && b->devs[i].bus == bus &&
						       b->devs[i].devfn == df;
					if (used)
						continue;
					scn_add_xlate(b, (int)ui, (uint16_t)vtd_sid(bus, df), VTD_NO_PASID, 0x1000,
						      VTD_ACC_READ, u->sm ? VTD_FR_SM_CTX_P : VTD_FR_CONTEXT_ENTRY_P, 0, 0, -1);
					break;
				}
			}
		}
	}
	/* scalable mode: PASIDs without a directory or table entry */
	for (size_t i = 0; i < b->ndevs; i++) {
		struct mdev *d = &b->devs[i];
		struct munit *u = &b->units[d->unit];
		if (!u->sm || d->tainted || u->tainted_root || u->tainted_bus[d->bus])
			continue;
		uint16_t sid = (uint16_t)vtd_sid(d->bus, d->devfn);
		unsigned ndir = 1u << (d->pdts + 7);
		bool has_rid = false;
		for (size_t k = 0; k < b->nctxs; k++)
			has_rid |= b->ctxs[k].unit == d->unit && b->ctxs[k].sid == sid &&
				   b->ctxs[k].pasid == (int64_t)d->rid_pasid;
		bool rid_tab = false;
		for (size_t k = 0; k < d->nptabs; k++)
			rid_tab |= d->ptabs[k].didx == d->rid_pasid >> 6;
		if (!has_rid)
			scn_add_xlate(b, d->unit, sid, VTD_NO_PASID, 0x1000, VTD_ACC_READ,
				      rid_tab ? VTD_FR_SM_PTE_P : VTD_FR_SM_PDIR_P, 0, 0, -1);
		if (!d->paside)
			continue;
		for (unsigned di = ndir; di-- > 0;) {
			bool t = false;
			for (size_t k = 0; k < d->nptabs; k++)
				t |= d->ptabs[k].didx == di;
			if (!t) {
				scn_add_xlate(b, d->unit, sid, (int64_t)di << 6 | 1, 0x1000, VTD_ACC_READ,
					      VTD_FR_SM_PDIR_P, 0, 0, -1);
				break;
			}
		}
		for (size_t k = 0; k < d->nptabs; k++) {
			for (int64_t p = (int64_t)d->ptabs[k].didx << 6 | 63; (p & 63) != 0; p--) {
				bool used = false;
				for (size_t j = 0; j < b->nctxs && !used; j++)
					used = b->ctxs[j].unit == d->unit && b->ctxs[j].sid == sid && b->ctxs[j].pasid == p;
				if (!used) {
					scn_add_xlate(b, d->unit, sid, p, 0x1000, VTD_ACC_READ, VTD_FR_SM_PTE_P, 0, 0, -1);
					break;
				}
			}
			break;
		}
	}
}

/* ---- expect lines ---- */

static int find_unit(struct bld *b, const struct sline *l)
{
	if (l->unit < 0)
		scn_fail(b, "'%s' before any unit line", l->tok[0]);
	return l->unit;
}

static unsigned access_of(struct bld *b, const char *s)
{
	if (s && !strcmp(s, "r"))
		return VTD_ACC_READ;
	if (s && !strcmp(s, "w"))
		return VTD_ACC_WRITE;
	scn_fail(b, "access must be r or w");
}

static void do_expect(struct bld *b, struct sline *l)
{
	int ui = find_unit(b, l);
	struct munit *u = &b->units[ui];
	unsigned bus, devfn;
	scn_parse_bdf(b, scn_tok_pos(l, 1), u, &bus, &devfn);
	uint64_t iova = scn_num(b, scn_tok_pos(l, 2));
	unsigned acc = access_of(b, scn_tok_pos(l, 3));
	const char *arrow = scn_tok_pos(l, 4), *fault = scn_tok_opt(l, "fault");
	const char *p = scn_tok_opt(l, "pasid");
	int64_t pasid = p ? (int64_t)scn_num(b, p) : VTD_NO_PASID;
	if (arrow) {
		if (strcmp(arrow, "->") || fault)
			scn_fail(b, "expect DEV IOVA r|w -> PA [ps=N]  or  expect DEV IOVA r|w fault=N [level=N]");
		uint64_t pa = scn_num(b, scn_tok_pos(l, 5));
		uint64_t ps = scn_opt_num(b, l, "ps", PG);
		scn_tok_done(b, l);
		scn_add_xlate(b, ui, (uint16_t)vtd_sid(bus, devfn), pasid, iova, acc, 0, pa, ps, -1);
		return;
	}
	if (!fault)
		scn_fail(b, "expect needs '-> PA' or fault=");
	unsigned fr = (unsigned)scn_num(b, fault);
	const char *lv = scn_tok_opt(l, "level");
	int level = lv ? (int)scn_num(b, lv) : -1;
	scn_tok_done(b, l);
	if (!fr)
		scn_fail(b, "fault=0 means no fault: use '-> PA'");
	scn_add_xlate(b, ui, (uint16_t)vtd_sid(bus, devfn), pasid, iova, acc, fr, 0, 0, level);
}

static enum vtd_errcode code_of(struct bld *b, const char *s)
{
	static const struct { const char *n; enum vtd_errcode c; } t[] = {
		{ "read", VTD_E_READ }, { "rsvd", VTD_E_RSVD }, { "inval", VTD_E_INVAL },
		{ "loop", VTD_E_LOOP }, { "limit", VTD_E_LIMIT },
	};
	for (unsigned i = 0; s && i < sizeof(t) / sizeof(*t); i++)
		if (!strcmp(s, t[i].n))
			return t[i].c;
	scn_fail(b, "code= must be read, rsvd, inval, loop or limit");
}

static void do_expect_diag(struct bld *b, struct sline *l)
{
	int ui = find_unit(b, l);
	struct munit *u = &b->units[ui];
	const char *dev = scn_tok_pos(l, 1), *p = scn_tok_opt(l, "pasid"), *w = scn_tok_opt(l, "what");
	int sid = -1;
	if (dev && strcmp(dev, "-")) {
		unsigned bus, devfn;
		scn_parse_bdf(b, dev, u, &bus, &devfn);
		sid = vtd_sid(bus, devfn);
	}
	struct scn_diag *d = PUSH(b, b->s->diags, b->s->ndiags, b->capd);
	snprintf(d->unit, sizeof(d->unit), "%s", u->u.name);
	d->sid = sid;
	d->pasid = p ? (int64_t)scn_num(b, p) : -1;
	d->code = code_of(b, scn_tok_opt(l, "code"));
	const char *lv = scn_tok_opt(l, "level"), *ix = scn_tok_opt(l, "index");
	d->level = lv ? (int)scn_num(b, lv) : -1;
	d->index = ix ? (int)scn_num(b, ix) : -1;
	d->what = w ? strdup(w) : NULL;
	scn_tok_done(b, l);
}

static void do_rmap(struct bld *b, struct sline *l)
{
	uint64_t pa = scn_num(b, scn_tok_pos(l, 1)), len = scn_num(b, scn_tok_pos(l, 2));
	scn_tok_done(b, l);
	if (!len)
		scn_fail(b, "rmap length must be non-zero");
	for (size_t i = 0; i < b->nrq; i++)
		if (b->rq[i].pa == pa && b->rq[i].len == len)
			return;
	__typeof__(b->rq) q = PUSH(b, b->rq, b->nrq, b->caprq);
	q->pa = pa;
	q->len = len;
}

/* ---- everything ---- */

static bool reportable(const struct mctx *c)
{
	return c->valid && !c->dropped;
}

void scn_expectations(struct bld *b)
{
	struct scn *s = b->s;
	for (size_t i = 0; i < b->nlines; i++) {
		struct sline *l = &b->lines[i];
		b->line = l->no;
		if (!strcmp(l->tok[0], "expect"))
			do_expect(b, l);
		else if (!strcmp(l->tok[0], "expect-diag"))
			do_expect_diag(b, l);
		else if (!strcmp(l->tok[0], "rmap"))
			do_rmap(b, l);
	}
	b->line = 0;

	for (size_t i = 0; i < b->nctxs; i++) {
		struct mctx *c = &b->ctxs[i];
		const struct munit *u = &b->units[c->unit];
		if (c->dropped)
			continue;
		if (!c->valid) {
			/* the unit walk reports an invalid entry; a request faults */
			struct scn_diag *d = PUSH(b, s->diags, s->ndiags, b->capd);
			snprintf(d->unit, sizeof(d->unit), "%s", u->u.name);
			d->sid = c->sid;
			d->pasid = c->pasid;
			d->code = VTD_E_INVAL;
			d->level = -1;
			d->index = u->sm ? (int)(c->pasid & 63) : (int)(c->sid & 0xff);
			int64_t pasid;
			if (scn_ctx_request(b, c, &pasid))
				scn_add_xlate(b, c->unit, c->sid, pasid, 0x1000, VTD_ACC_READ,
					      u->sm ? VTD_FR_SM_PTE_INV : VTD_FR_CONTEXT_ENTRY_INV, 0, 0, -1);
			continue;
		}
		/* context */
		size_t k = s->nctxs;
		char **un = realloc(s->ctx_units, (k + 1) * sizeof(*un));
		if (!un)
			scn_fail(b, "out of memory");
		s->ctx_units = un;
		un[k] = NULL;
		struct vtd_devctx *dc = PUSH(b, s->ctxs, s->nctxs, b->capc);
		un[k] = strdup(u->u.name);
		if (!un[k])
			scn_fail(b, "out of memory");
		dc->sid = c->sid;
		dc->pasid = c->pasid;
		dc->xtype = c->xt;
		dc->did = c->did;
		if (c->xt == VTD_XT_SL || c->xt == VTD_XT_NESTED) {
			dc->sl_root = c->sl_ptr;
			dc->sl_levels = c->sl_levels;
		}
		if (c->xt == VTD_XT_FL || c->xt == VTD_XT_NESTED) {
			dc->fl_root = c->fl_ptr;
			dc->fl_levels = c->fl_levels;
		}
		/* mappings */
		struct chunk *runs;
		size_t nruns;
		scn_runs(b, c, &runs, &nruns);
		for (size_t r = 0; r < nruns; r++) {
			struct scn_map *m = PUSH(b, s->maps, s->nmaps, b->capm);
			snprintf(m->unit, sizeof(m->unit), "%s", u->u.name);
			m->sid = c->sid;
			m->pasid = c->pasid;
			m->iova = runs[r].iova;
			m->size = runs[r].size;
			m->pa = runs[r].pa;
			m->page_size = runs[r].ps;
			m->perm = runs[r].perm;
			m->xtype = c->xt;
		}
		ctx_xlates(b, c, runs, nruns);
		if (nruns && c->xt != VTD_XT_PT) {
			/* reverse-map question: the first page of the first run */
			bool dup = false;
			for (size_t q = 0; q < b->nrq && !dup; q++)
				dup = b->rq[q].pa == (runs[0].pa & ~(PG - 1)) && b->rq[q].len == PG;
			if (!dup) {
				__typeof__(b->rq) q = PUSH(b, b->rq, b->nrq, b->caprq);
				q->pa = runs[0].pa & ~(PG - 1);
				q->len = PG;
			}
		}
		free(runs);
	}
	absent_probes(b);

	/* reverse map: every reportable run overlapping each question */
	for (size_t q = 0; q < b->nrq; q++) {
		uint64_t qa = b->rq[q].pa, qe = qa + b->rq[q].len;
		size_t before = s->nrmaps;
		for (size_t i = 0; i < b->nctxs; i++) {
			const struct mctx *c = &b->ctxs[i];
			if (!reportable(c))
				continue;
			struct chunk *runs;
			size_t nruns;
			scn_runs(b, c, &runs, &nruns);
			for (size_t r = 0; r < nruns; r++) {
				uint64_t lo = runs[r].pa > qa ? runs[r].pa : qa;
				uint64_t re = runs[r].pa + runs[r].size;
				uint64_t hi = (re < runs[r].pa || re > qe) ? qe : re;
				if (lo >= hi)
					continue;
				struct scn_rmap *h = PUSH(b, s->rmaps, s->nrmaps, b->capr);
				h->query_pa = qa;
				h->query_len = b->rq[q].len;
				snprintf(h->unit, sizeof(h->unit), "%s", b->units[c->unit].u.name);
				h->sid = c->sid;
				h->pasid = c->pasid;
				h->iova = runs[r].iova + (lo - runs[r].pa);
				h->pa = lo;
				h->size = hi - lo;
				h->perm = runs[r].perm;
				h->xtype = c->xt;
			}
			free(runs);
		}
		if (s->nrmaps == before) {
			/* a question with no answer: unit "" */
			struct scn_rmap *h = PUSH(b, s->rmaps, s->nrmaps, b->capr);
			h->query_pa = qa;
			h->query_len = b->rq[q].len;
		}
	}

	/* invalidation queues */
	for (size_t ui = 0; ui < b->nunits; ui++) {
		struct munit *u = &b->units[ui];
		for (size_t k = 0; u->qi && k < u->nqd; k++) {
			const struct qdesc_m *d = &u->qd[k];
			if (!(d->q[0] | d->q[1] | d->q[2] | d->q[3]))
				continue;
			struct scn_qi *q = PUSH(b, s->qis, s->nqis, b->capq);
			snprintf(q->unit, sizeof(q->unit), "%s", u->u.name);
			q->index = d->slot;
			q->type = d->type;
			q->status = u->status == VTD_NOADDR ? -1 : (int)scn_r32(b, u->status + 4ull * d->slot);
			q->is_wait = d->type == 5 && d->wait_sw;
			if (q->is_wait) {
				q->status_addr = d->addr;
				q->status_data = d->data;
				uint32_t word = scn_r32(b, d->addr);
				q->wait_done = word == d->data;
			}
		}
	}
}
