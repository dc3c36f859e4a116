/* Hostile scenarios: corrupt and exclude lines, and the expectations each
 * one implies (which contexts and mappings disappear, which diagnostic the
 * unit walk must report, which fault a translation through it must give). */
#include "scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum eff { E_NONE, E_RSVD, E_NOTPRESENT, E_INVALID, E_READ, E_LOOP };
enum tkind { T_ROOT, T_CTX, T_PDIR, T_PASID, T_SL, T_FL, T_ROOTTAB, T_PAGE };

struct tgt {
	enum tkind kind;
	int unit;
	struct munit *u;
	unsigned bus, half;        /* root entry / context table */
	unsigned pd_lo, pd_hi;     /* SM context: directory entries affected */
	struct mdev *dev;
	struct mctx *ctx;
	unsigned didx;
	uint64_t entry_pa;         /* the entry (corrupt) */
	unsigned nq;
	/* paging entries */
	struct dom *dom;
	struct tree *tree;
	struct ptnode *node, *parent;
	unsigned level, idx, pidx;
	uint64_t addr;
	uint64_t page;             /* exclude page */
};

#define ADDR_MASK 0x000ffffffffff000ull

static const char *eff_name[] = { "none", "rsvd", "notpresent", "invalid", "read", "loop" };

static enum eff parse_eff(struct bld *b, const char *s)
{
	for (unsigned i = 0; i < sizeof(eff_name) / sizeof(*eff_name); i++)
		if (!strcmp(s, eff_name[i]))
			return (enum eff)i;
	scn_fail(b, "unknown effect '%s' (none rsvd notpresent invalid read loop)", s);
}

static void add_diag(struct bld *b, const struct munit *u, int sid, int64_t pasid,
		     enum vtd_errcode code, int level, int index, const char *what)
{
	struct scn_diag *d = PUSH(b, b->s->diags, b->s->ndiags, b->capd);
	snprintf(d->unit, sizeof(d->unit), "%s", u->u.name);
	d->sid = sid;
	d->pasid = pasid;
	d->code = code;
	d->level = level;
	d->index = index;
	d->what = what ? strdup(what) : NULL;   /* freed by scn_free */
}

/* A request that reaches context c, or false when the model cannot issue
 * one (a PASID other than RID_PASID on a device without PASIDE). */
bool scn_ctx_request(struct bld *b, const struct mctx *c, int64_t *pasid)
{
	const struct mdev *d = &b->devs[c->dev];
	if (!b->units[c->unit].sm || c->pasid == (int64_t)d->rid_pasid) {
		*pasid = VTD_NO_PASID;
		return true;
	}
	*pasid = c->pasid;
	return d->paside;
}

void scn_add_xlate(struct bld *b, int unit, uint16_t sid, int64_t pasid, uint64_t iova,
		   unsigned access, unsigned fault, uint64_t pa, uint64_t ps, int level)
{
	struct scn_xlate *x = PUSH(b, b->s->xlates, b->s->nxlates, b->capx);
	snprintf(x->unit, sizeof(x->unit), "%s", b->units[unit].u.name);
	x->rq.sid = sid;
	x->rq.pasid = pasid;
	x->rq.iova = iova;
	x->rq.access = access;
	x->fault = fault;
	x->pa = pa;
	x->page_size = ps;
	x->level = fault ? level : -1;
}

/* First mapped address of c's primary stage inside [lo, hi), else lo. */
static uint64_t first_iova(const struct mctx *c, uint64_t lo, uint64_t hi)
{
	uint64_t best = UINT64_MAX;
	if (c->dom)
		for (size_t i = 0; i < c->dom->nmaps; i++) {
			const struct chunk *k = &c->dom->maps[i];
			uint64_t a = k->iova > lo ? k->iova : lo;
			if (a - k->iova < k->size && a <= hi && a < best)
				best = a;
		}
	if (best != UINT64_MAX)
		return best;
	return c->xt == VTD_XT_PT || !c->dom ? 0x1000 : lo;
}

/* Fault for every context in the scope: one read request each. */
static void fault_ctx(struct bld *b, struct mctx *c, uint64_t lo, uint64_t hi, unsigned fault, int level)
{
	int64_t pasid;
	if (!fault || !scn_ctx_request(b, c, &pasid))
		return;
	scn_add_xlate(b, c->unit, c->sid, pasid, first_iova(c, lo, hi), VTD_ACC_READ, fault, 0, 0, level);
}

static unsigned fc(const struct munit *u, unsigned legacy, unsigned sm)
{
	return u->sm ? sm : legacy;
}

/* ---- target parsing ---- */

static struct ptnode *walk_to(struct bld *b, struct tree *t, uint64_t addr, unsigned level,
			      struct ptnode **parent)
{
	struct ptnode *n = t->root, *p = NULL;
	if (level < 1 || level > t->levels)
		scn_fail(b, "level %u: the table has levels %u..1", level, t->levels);
	for (unsigned L = t->levels; L > level; L--) {
		struct ptnode *c = n->child[lidx(addr, L)];
		if (!c)
			scn_fail(b, "no level-%u table on the way to 0x%llx", level, (unsigned long long)addr);
		p = n;
		n = c;
	}
	if (parent)
		*parent = p;
	return n;
}

static struct mctx *ctx_of(struct bld *b, struct sline *l, struct mdev *d)
{
	struct munit *u = &b->units[d->unit];
	const char *p = scn_tok_opt(l, "pasid");
	int64_t pasid = u->sm ? (p ? (int64_t)scn_num(b, p) : (int64_t)d->rid_pasid) : VTD_NO_PASID;
	if (!u->sm && p)
		scn_fail(b, "pasid= on a legacy-mode unit");
	for (size_t i = 0; i < b->nctxs; i++)
		if (b->ctxs[i].unit == d->unit && b->ctxs[i].sid == vtd_sid(d->bus, d->devfn) &&
		    b->ctxs[i].pasid == pasid)
			return &b->ctxs[i];
	scn_fail(b, "no such context/PASID entry");
}

static struct mdev *dev_of(struct bld *b, struct sline *l, const char *bdf)
{
	struct munit *u = &b->units[l->unit];
	unsigned bus, devfn;
	scn_parse_bdf(b, bdf, u, &bus, &devfn);
	for (size_t i = 0; i < b->ndevs; i++)
		if (b->devs[i].unit == l->unit && b->devs[i].bus == bus && b->devs[i].devfn == devfn)
			return &b->devs[i];
	scn_fail(b, "device %s is not declared on unit %s", bdf, u->u.name);
}

static uint64_t pdir_table(struct bld *b, struct mdev *d, unsigned didx)
{
	for (size_t i = 0; i < d->nptabs; i++)
		if (d->ptabs[i].didx == didx)
			return d->ptabs[i].pa;
	scn_fail(b, "no PASID table for directory entry %u", didx);
}

static void parse_target(struct bld *b, struct sline *l, struct tgt *t, bool excl)
{
	const char *k = scn_tok_pos(l, 1);
	bool upper = scn_tok_flag(l, "upper");
	if (l->unit < 0)
		scn_fail(b, "'%s' before any unit line", l->tok[0]);
	memset(t, 0, sizeof(*t));
	t->unit = l->unit;
	t->u = &b->units[l->unit];
	k = scn_tok_pos(l, 1);
	if (!k)
		scn_fail(b, "missing target");
	if (!excl && !strcmp(k, "root")) {
		t->kind = T_ROOT;
		t->bus = (unsigned)scn_num(b, scn_tok_pos(l, 2));
		if (t->bus > 255)
			scn_fail(b, "bus is 0..255");
		t->entry_pa = t->u->root + 16ull * t->bus;
		t->nq = 2;
	} else if (!excl && !strcmp(k, "context")) {
		t->kind = T_CTX;
		t->dev = dev_of(b, l, scn_tok_pos(l, 2));
		t->entry_pa = t->dev->ctx_entry_pa;
		t->nq = t->u->sm ? 4 : 2;
		t->pd_lo = 0;
		t->pd_hi = 1u << 14;
	} else if (!strcmp(k, "pasid-dir") || !strcmp(k, "pasid-table") || (!excl && !strcmp(k, "pasid"))) {
		if (!t->u->sm)
			scn_fail(b, "PASID structures need a scalable-mode unit");
		t->dev = dev_of(b, l, scn_tok_pos(l, 2));
		const char *p = scn_tok_pos(l, 3);
		uint64_t pasid = p ? scn_num(b, p) : t->dev->rid_pasid;
		t->didx = (unsigned)(pasid >> 6);
		if (t->didx >= 1u << (t->dev->pdts + 7))
			scn_fail(b, "PASID beyond the directory");
		if (excl && !strcmp(k, "pasid-dir")) {
			/* the directory page: the context entry's pointer fails for
			 * the directory entries in that page */
			t->kind = T_CTX;
			t->entry_pa = t->dev->ctx_entry_pa;
			t->nq = 4;
			t->page = (t->dev->dir_pa + 8ull * t->didx) & ~(PG - 1);
			t->pd_lo = (unsigned)((t->page - t->dev->dir_pa) / 8);
			t->pd_hi = t->pd_lo + 512;
		} else if (excl || !strcmp(k, "pasid-dir")) {
			/* the directory entry (corrupt), or the PASID table it
			 * points to (exclude pasid-table) */
			t->kind = T_PDIR;
			t->entry_pa = t->dev->dir_pa + 8ull * t->didx;
			t->nq = 1;
			if (excl)
				t->page = pdir_table(b, t->dev, t->didx);
		} else {
			t->kind = T_PASID;
			t->entry_pa = pdir_table(b, t->dev, t->didx) + 64 * (pasid & 63);
			t->nq = 8;
			for (size_t i = 0; i < b->nctxs; i++)
				if (b->ctxs[i].unit == t->unit && b->ctxs[i].dev == (int)(t->dev - b->devs) &&
				    b->ctxs[i].pasid == (int64_t)pasid)
					t->ctx = &b->ctxs[i];
			if (!t->ctx)
				scn_fail(b, "no PASID entry %llu on this device", (unsigned long long)pasid);
		}
	} else if (!strcmp(k, "sl") || !strcmp(k, "fl")) {
		t->kind = !strcmp(k, "sl") ? T_SL : T_FL;
		t->dev = dev_of(b, l, scn_tok_pos(l, 2));
		t->ctx = ctx_of(b, l, t->dev);
		t->addr = scn_num(b, scn_tok_pos(l, 3));
		t->level = (unsigned)scn_num(b, scn_tok_pos(l, 4));
		t->dom = t->ctx->dom;
		if (!t->dom)
			scn_fail(b, "this context has no page tables");
		if (t->dom->xt == VTD_XT_NESTED && t->kind == T_SL)
			scn_fail(b, "corrupting the second stage of a nested entry is not supported");
		t->tree = t->kind == T_SL ? &t->dom->sl : &t->dom->fl;
		if (!t->tree->root)
			scn_fail(b, "this context has no %s tables", k);
		t->node = walk_to(b, t->tree, t->addr, t->level, &t->parent);
		t->idx = lidx(t->addr, t->level);
		t->entry_pa = t->node->pa + 8ull * t->idx;
		t->nq = 1;
		if (excl) {
			t->page = t->node->pa;
			if (t->parent) {
				/* the entry one level up points to the excluded table */
				t->level++;
				t->idx = lidx(t->addr, t->level);
				t->node = t->parent;
				t->entry_pa = t->node->pa + 8ull * t->idx;
			} else {
				t->level = 0;   /* top table: the context/PASID entry points to it */
			}
		}
	} else if (excl && !strcmp(k, "root-table")) {
		t->kind = T_ROOTTAB;
		t->page = t->u->root;
	} else if (excl && !strcmp(k, "context-table")) {
		t->kind = T_ROOT;
		t->bus = (unsigned)scn_num(b, scn_tok_pos(l, 2));
		t->half = upper;
		if (t->bus > 255 || !t->u->ctxt[t->bus][t->half])
			scn_fail(b, "bus %u has no %scontext table", t->bus, upper ? "upper " : "");
		t->page = t->u->ctxt[t->bus][t->half];
		t->entry_pa = t->u->root + 16ull * t->bus;
		t->nq = 2;
	} else if (excl && !strcmp(k, "page")) {
		t->kind = T_PAGE;
		t->page = scn_num(b, scn_tok_pos(l, 2)) & ~(PG - 1);
	} else {
		scn_fail(b, "unknown target '%s'", k);
	}
	if (upper && !(excl && !strcmp(k, "context-table")))
		scn_fail(b, "'upper' is for exclude context-table");
}

/* ---- effects ---- */

static bool in_bus(const struct mctx *c, const struct tgt *t, bool both)
{
	return c->unit == t->unit && (unsigned)(c->sid >> 8) == t->bus &&
	       (both || !t->u->sm || (unsigned)((c->sid & 0xff) >= 0x80) == t->half) && !c->dropped;
}

static void drop_range(struct bld *b, struct dom *d, uint64_t lo, uint64_t last)
{
	struct range *r = PUSH(b, d->drop, d->ndrop, d->capdrop);
	r->lo = lo;
	r->last = last;
}

static void apply_effect(struct bld *b, struct tgt *t, enum eff e, const char *what)
{
	struct munit *u = t->u;
	bool sm = u->sm;
	switch (t->kind) {
	case T_ROOTTAB:
		u->tainted_root = true;
		add_diag(b, u, -1, -1, VTD_E_READ, -1, -1, what);
		for (size_t i = 0; i < b->nctxs; i++)
			if (b->ctxs[i].unit == t->unit)
				b->ctxs[i].dropped = true;
		scn_add_xlate(b, t->unit, 0x0010, VTD_NO_PASID, 0x1000, VTD_ACC_READ,
			      fc(u, VTD_FR_ROOT_TABLE_INV, VTD_FR_SM_ROOT_ACCESS), 0, 0, -1);
		return;
	case T_ROOT: {
		u->tainted_bus[t->bus] = true;
		bool both = e == E_RSVD;
		unsigned code = e == E_RSVD ? fc(u, VTD_FR_ROOT_ENTRY_RSVD, VTD_FR_SM_ROOT_RSVD)
			: e == E_NOTPRESENT ? fc(u, VTD_FR_ROOT_ENTRY_P, VTD_FR_SM_ROOT_P)
			: e == E_READ ? fc(u, VTD_FR_CONTEXT_TABLE_INV, VTD_FR_SM_CTX_ACCESS) : 0;
		if (e == E_RSVD || e == E_READ || e == E_LOOP)
			add_diag(b, u, -1, -1, e == E_RSVD ? VTD_E_RSVD : e == E_READ ? VTD_E_READ : VTD_E_LOOP,
				 -1, (int)t->bus, what);
		if (e == E_INVALID)
			scn_fail(b, "effect=invalid is for context and PASID entries");
		if (e == E_NONE)
			return;
		bool any = false;
		for (size_t i = 0; i < b->nctxs; i++) {
			struct mctx *c = &b->ctxs[i];
			if (!in_bus(c, t, both))
				continue;
			c->dropped = true;
			if (!any && c->valid)
				fault_ctx(b, c, 0, UINT64_MAX, code, -1), any = true;
		}
		if (!any && code)
			scn_add_xlate(b, t->unit, (uint16_t)vtd_sid(t->bus, t->half ? 0x80 : 0), VTD_NO_PASID,
				      0x1000, VTD_ACC_READ, code, 0, 0, -1);
		return;
	}
	case T_CTX: {
		t->dev->tainted = true;
		uint16_t sid = (uint16_t)vtd_sid(t->dev->bus, t->dev->devfn);
		int cidx = (int)(sm ? t->dev->devfn & 0x7f : t->dev->devfn);
		bool legacy_read = !sm && e == E_READ;
		unsigned code = e == E_RSVD ? fc(u, VTD_FR_CONTEXT_ENTRY_RSVD, VTD_FR_SM_CTX_RSVD)
			: e == E_NOTPRESENT ? fc(u, VTD_FR_CONTEXT_ENTRY_P, VTD_FR_SM_CTX_P)
			: e == E_INVALID ? (sm ? 0 : VTD_FR_CONTEXT_ENTRY_INV)
			: e == E_READ ? fc(u, VTD_FR_PAGING_ENTRY_INV, VTD_FR_SM_PDIR_ACCESS) : 0;
		if (e == E_LOOP)
			scn_fail(b, "effect=loop is for root and paging entries");
		if (e == E_RSVD || e == E_INVALID)
			add_diag(b, u, sid, -1, e == E_RSVD ? VTD_E_RSVD : VTD_E_INVAL, -1, cidx, what);
		if (e == E_READ)   /* legacy: the SL root is unreadable; SM: the directory */
			add_diag(b, u, sid, -1, VTD_E_READ, -1, legacy_read ? -1 : cidx, what);
		if (e == E_NONE)
			return;
		for (size_t i = 0; i < b->nctxs; i++) {
			struct mctx *c = &b->ctxs[i];
			if (c->unit != t->unit || c->dev != (int)(t->dev - b->devs) || c->dropped)
				continue;
			if (sm && e == E_READ && ((uint64_t)c->pasid >> 6 < t->pd_lo ||
						  (uint64_t)c->pasid >> 6 >= t->pd_hi))
				continue;
			if (legacy_read) {
				/* still reported; its walk reads nothing (fault at the top level) */
				c->maps_gone = true;
				if (c->xt == VTD_XT_SL && c->valid)
					fault_ctx(b, c, 0, UINT64_MAX, code, (int)c->sl_levels);
				continue;
			}
			c->dropped = true;
			if (c->valid || !sm)
				fault_ctx(b, c, 0, UINT64_MAX, code, -1);
		}
		return;
	}
	case T_PDIR: {
		t->dev->tainted = true;
		uint16_t sid = (uint16_t)vtd_sid(t->dev->bus, t->dev->devfn);
		unsigned code = e == E_RSVD ? VTD_FR_SM_PDIR_RSVD : e == E_NOTPRESENT ? VTD_FR_SM_PDIR_P
			: e == E_READ ? VTD_FR_SM_PTE_ACCESS : 0;
		if (e == E_LOOP || e == E_INVALID)
			scn_fail(b, "effect=%s does not apply to a PASID-directory entry", eff_name[e]);
		if (e == E_RSVD || e == E_READ)
			add_diag(b, u, sid, (int64_t)t->didx << 6, e == E_RSVD ? VTD_E_RSVD : VTD_E_READ,
				 -1, (int)t->didx, what);
		if (e == E_NONE)
			return;
		for (size_t i = 0; i < b->nctxs; i++) {
			struct mctx *c = &b->ctxs[i];
			if (c->unit == t->unit && c->dev == (int)(t->dev - b->devs) && !c->dropped &&
			    (uint64_t)c->pasid >> 6 == t->didx) {
				c->dropped = true;
				fault_ctx(b, c, 0, UINT64_MAX, code, -1);
			}
		}
		return;
	}
	case T_PASID: {
		struct mctx *c = t->ctx;
		t->dev->tainted = true;
		if (e == E_LOOP)
			scn_fail(b, "effect=loop is for root and paging entries");
		if (e == E_RSVD || e == E_INVALID)
			add_diag(b, u, c->sid, c->pasid, e == E_RSVD ? VTD_E_RSVD : VTD_E_INVAL, -1,
				 (int)(c->pasid & 63), what);
		if (e == E_READ)
			add_diag(b, u, c->sid, c->pasid, VTD_E_READ, -1, -1, what);
		if (e == E_NONE || c->dropped)
			return;
		if (e == E_READ) {
			c->maps_gone = true;
			/* FL top-level access errors: 0x70 (spec) vs 0x73 (QEMU):
			 * no automatic expectation, write one by hand */
			if (c->valid && c->xt == VTD_XT_SL)
				fault_ctx(b, c, 0, UINT64_MAX, VTD_FR_SM_SL_ACCESS, (int)c->sl_levels);
			return;
		}
		c->dropped = true;
		fault_ctx(b, c, 0, UINT64_MAX, e == E_RSVD ? VTD_FR_SM_PTE_RSVD
			  : e == E_NOTPRESENT ? VTD_FR_SM_PTE_P : VTD_FR_SM_PTE_INV, -1);
		return;
	}
	case T_SL:
	case T_FL: {
		bool fl = t->kind == T_FL;
		if (e == E_INVALID)
			scn_fail(b, "effect=invalid is for context and PASID entries");
		if (t->level == 0) {
			/* excluded top table: every context using these tables walks nothing */
			for (size_t i = 0; i < b->nctxs; i++) {
				struct mctx *c = &b->ctxs[i];
				if (c->dom != t->dom || c->dropped)
					continue;
				add_diag(b, u, c->sid, c->pasid, VTD_E_READ, -1, -1, what);
				if (c->valid && !fl)
					fault_ctx(b, c, 0, UINT64_MAX,
						  fc(u, VTD_FR_PAGING_ENTRY_INV, VTD_FR_SM_SL_ACCESS), (int)t->tree->levels);
			}
			drop_range(b, t->dom, 0, UINT64_MAX);
			return;
		}
		uint64_t sz = lsize(t->level), lo = t->addr & ~(sz - 1), hi = lo + (sz - 1);
		if (e == E_NONE)
			return;
		for (size_t i = 0; i < b->nctxs; i++) {
			struct mctx *c = &b->ctxs[i];
			if (c->dom != t->dom || c->dropped || c->maps_gone || !c->valid)
				continue;
			if (e == E_RSVD || e == E_READ || e == E_LOOP)
				add_diag(b, u, c->sid, c->pasid,
					 e == E_RSVD ? VTD_E_RSVD : e == E_READ ? VTD_E_READ : VTD_E_LOOP,
					 (int)t->level, (int)t->idx, what);
			unsigned code = 0;
			int lvl = (int)t->level;
			if (e == E_RSVD)
				code = fl ? VTD_FR_SM_FL_RSVD : fc(u, VTD_FR_PAGING_ENTRY_RSVD, VTD_FR_SM_SL_RSVD);
			else if (e == E_NOTPRESENT)
				code = fl ? VTD_FR_SM_FL_P : fc(u, VTD_FR_READ, VTD_FR_SM_SL_PERM);
			else if (e == E_READ)
				code = fl ? VTD_FR_SM_FL_ACCESS : fc(u, VTD_FR_PAGING_ENTRY_INV, VTD_FR_SM_SL_ACCESS),
				lvl = (int)t->level - 1;
			fault_ctx(b, c, lo, hi, code, lvl);
		}
		drop_range(b, t->dom, lo, hi);   /* hi: last address */
		return;
	}
	case T_PAGE:
		return;
	}
}

/* ---- statements ---- */

static uint64_t point_value(struct bld *b, struct tgt *t, const char *v, enum eff *deff, bool *absent)
{
	*absent = false;
	if (!strcmp(v, "root")) {
		*deff = E_LOOP;
		return t->u->root;
	}
	if (!strcmp(v, "self") || !strcmp(v, "parent") || !strcmp(v, "top")) {
		if (t->kind != T_SL && t->kind != T_FL)
			scn_fail(b, "point=%s is for paging entries", v);
		*deff = E_LOOP;
		if (!strcmp(v, "self"))
			return t->node->ptr;
		if (!strcmp(v, "top"))
			return t->tree->root->ptr;
		if (!t->parent)
			scn_fail(b, "point=parent: the entry is in the top table");
		return t->parent->ptr;
	}
	uint64_t pa = scn_num(b, v);
	if (pa & (PG - 1))
		scn_fail(b, "point= needs a page-aligned address");
	*deff = E_READ;
	*absent = true;
	return pa;
}

static void do_corrupt(struct bld *b, struct sline *l)
{
	struct tgt t;
	parse_target(b, l, &t, false);
	const char *set = scn_tok_opt(l, "set"), *clr = scn_tok_opt(l, "clear");
	const char *val = scn_tok_opt(l, "value"), *pt = scn_tok_opt(l, "point");
	const char *ef = scn_tok_opt(l, "effect"), *what = scn_tok_opt(l, "what");
	unsigned qw = (unsigned)scn_opt_num(b, l, "qword", 0);
	scn_tok_done(b, l);
	if (qw >= t.nq)
		scn_fail(b, "qword= beyond the entry's %u qwords", t.nq);
	if (!set && !clr && !val && !pt)
		scn_fail(b, "corrupt needs set=, clear=, value= or point=");
	uint64_t at = t.entry_pa + 8ull * qw, v = scn_r64(b, at);
	enum eff deff = E_NONE;
	bool absent = false;
	if (val)
		v = scn_num(b, val);
	if (set)
		v |= scn_num(b, set);
	if (clr)
		v &= ~scn_num(b, clr);
	if (pt) {
		if ((t.kind == T_SL || t.kind == T_FL) && !t.node->child[t.idx])
			scn_fail(b, "point= needs a table pointer, not a leaf");
		if (t.kind == T_ROOT && t.u->sm)
			t.half = qw;
		else if (t.kind == T_ROOT && qw)
			scn_fail(b, "a legacy root entry's pointer is in qword 0");
		uint64_t p = point_value(b, &t, pt, &deff, &absent);
		v = (v & ~ADDR_MASK) | p;
		if (absent && !ef)   /* effect=read by default: the target must be missing */
			*PUSH(b, b->apfn, b->napfn, b->capapfn) = p / PG;
	} else if (t.kind == T_ROOT) {
		t.half = t.u->sm ? qw : 0;
	}
	if (!ef && !pt)
		scn_fail(b, "say what the corruption does: effect=none|rsvd|notpresent|invalid|read|loop");
	enum eff e = ef ? parse_eff(b, ef) : deff;
	scn_w64(b, at, v);
	/* a context/PASID entry reports the table pointers it now holds */
	if (t.kind == T_CTX && !t.u->sm && qw == 0)
		for (size_t i = 0; i < b->nctxs; i++)
			if (b->ctxs[i].dev == (int)(t.dev - b->devs) && b->ctxs[i].xt == VTD_XT_SL)
				b->ctxs[i].sl_ptr = v & ADDR_MASK;
	if (t.kind == T_PASID && (qw == 0 || qw == 2) && t.ctx->xt != VTD_XT_PT) {
		if (qw == 0 && t.ctx->sl_levels)
			t.ctx->sl_ptr = v & ADDR_MASK;
		if (qw == 2 && t.ctx->fl_levels)
			t.ctx->fl_ptr = v & ADDR_MASK;
	}
	apply_effect(b, &t, e, what);
}

static void do_exclude(struct bld *b, struct sline *l)
{
	struct tgt t;
	parse_target(b, l, &t, true);
	const char *what = scn_tok_opt(l, "what");
	scn_tok_done(b, l);
	*PUSH(b, b->xpfn, b->nxpfn, b->capxpfn) = t.page / PG;
	apply_effect(b, &t, t.kind == T_PAGE ? E_NONE : E_READ, what);
}

void scn_corrupt(struct bld *b)
{
	for (size_t i = 0; i < b->nlines; i++) {
		struct sline *l = &b->lines[i];
		b->line = l->no;
		if (!strcmp(l->tok[0], "corrupt"))
			do_corrupt(b, l);
		else if (!strcmp(l->tok[0], "exclude"))
			do_exclude(b, l);
	}
	b->line = 0;
}
