/* Mapping enumeration, unit walks and the reverse map.  Tables are read a
 * page at a time; a visited-table set and the level bound keep hostile tables
 * finite; a bad entry is reported through ops->diag and skipped. */
#include "walk_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A set of table addresses (open addressing). */
struct tset { uint64_t *v; size_t cap, n; };

static void tset_free(struct tset *s) { free(s->v); }

/* Add pa; 1 if newly added, 0 if present, -1 on allocation failure. */
static int tset_add(struct tset *s, uint64_t pa)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		uint64_t *nv = malloc(ncap * sizeof(*nv));
		if (!nv)
			return -1;
		for (size_t i = 0; i < ncap; i++)
			nv[i] = VTD_NOADDR;
		for (size_t i = 0; i < s->cap; i++) {
			if (s->v[i] == VTD_NOADDR)
				continue;
			size_t h = (size_t)(s->v[i] >> 12) * 0x9e3779b97f4a7c15ull % ncap;
			while (nv[h] != VTD_NOADDR)
				h = (h + 1) % ncap;
			nv[h] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	size_t h = (size_t)(pa >> 12) * 0x9e3779b97f4a7c15ull % s->cap;
	for (; s->v[h] != VTD_NOADDR; h = (h + 1) % s->cap)
		if (s->v[h] == pa)
			return 0;
	s->v[h] = pa;
	s->n++;
	return 1;
}

struct mw {
	struct wk w;
	struct vtd_error err;
	const struct vtd_walk_ops *ops;
	const struct vtd_devctx *dc;
	struct vtd_mapping run;
	bool have_run;
	struct tset seen;
	int stop;
	/* vtd_format_clean_mask of the SL and FL entry formats [level][leaf] */
	uint64_t sl_ok[6][2], fl_ok[6][2];
};

static int diag(struct mw *m)
{
	if (!m->stop && m->ops->diag)
		m->stop = m->ops->diag(m->ops->arg, &m->err);
	return m->stop;
}

static void flush(struct mw *m)
{
	if (m->have_run && !m->stop && m->ops->mapping)
		m->stop = m->ops->mapping(m->ops->arg, m->dc, &m->run);
	m->have_run = false;
}

static void emit(struct mw *m, uint64_t iova, uint64_t pa, uint64_t size,
		 uint64_t page_size, unsigned perm)
{
	struct vtd_mapping *r = &m->run;
	if (m->have_run && r->iova + r->size == iova && r->pa + r->size == pa &&
	    r->perm == perm && r->page_size == page_size) {
		r->size += size;
		return;
	}
	flush(m);
	*r = (struct vtd_mapping){ iova, size, pa, page_size, perm, m->dc->xtype };
	m->have_run = true;
}

/* Location for a problem with entry idx of the table at table, level. */
static void at(struct mw *m, uint64_t table, int level, int idx, const uint64_t *raw)
{
	struct vtd_error *e = &m->err;
	wk_locate(&m->w, m->dc->sid, m->dc->pasid);
	e->table = table;
	e->level = level;
	e->index = idx;
	if (raw)
		vtd_error_raw(e, raw, 1);
}

static uint64_t lsize(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }

/* The entry that points to a table (NULL for the walk's top table). */
struct parent { uint64_t table; int level, idx; uint64_t raw; };

/* Read a whole table at level; on failure report it against the entry that
 * points to it, or against the table itself when it is the top one. */
static int read_table(struct mw *m, uint64_t table, unsigned level, uint64_t *q,
		      const struct parent *pp, const char *what)
{
	struct vtd_error tmp;
	vtd_error_init(&tmp);
	if (vtd_mem_read_qwords(m->w.mem, table, q, 512, &tmp) == 0)
		return 0;
	if (pp)
		at(m, pp->table, pp->level, pp->idx, &pp->raw);
	else
		at(m, table, (int)level, -1, NULL);
	vtd_error_set(&m->err, VTD_E_READ, "%s table 0x%" PRIx64 " cannot be read: %s",
		      what, table, tmp.msg);
	diag(m);
	return -1;
}

static void mw_table(struct mw *m, enum vtd_stage st, unsigned level, uint64_t pa)
{
	if (m->stop || !m->ops->table)
		return;
	struct vtd_table_ref t = { st, (int)level, pa, m->dc->sid, m->dc->pasid, 0 };
	m->stop = m->ops->table(m->ops->arg, &t);
}

static int check_seen(struct mw *m, uint64_t table, uint64_t ptable, int plevel,
		      int pidx, const uint64_t *praw)
{
	int r = tset_add(&m->seen, table);
	if (r > 0)
		return 0;
	at(m, ptable, plevel, pidx, praw);
	if (r < 0)
		vtd_error_set(&m->err, VTD_E_NOMEM, "out of memory for the visited-table set");
	else
		vtd_error_set(&m->err, VTD_E_LOOP, "points to table 0x%" PRIx64
			      ", which this walk already reached (loop or shared table)", table);
	diag(m);
	return -1;
}

/* Callback for leaves found by a second-level range walk. */
struct sl_sink {
	void (*leaf)(struct mw *m, void *ctx, uint64_t addr, uint64_t pa, uint64_t size,
		     uint64_t ps, unsigned perm);
	void *ctx;
	bool primary;   /* the device's own SL tree: track visited tables */
};

static void sl_range(struct mw *m, uint64_t table, unsigned level, uint64_t base,
		     uint64_t lo, uint64_t hi, unsigned perm, const struct sl_sink *sk,
		     const struct parent *pp)
{
	uint64_t q[512], sz = lsize(level);
	if (read_table(m, table, level, q, pp, "second-level"))
		return;
	mw_table(m, VTD_ST_SL, level, table);
	unsigned first = (unsigned)(lo > base ? (lo - base) / sz : 0);
	for (unsigned i = first; i < 512 && !m->stop; i++) {
		uint64_t a = base + i * sz, e = q[i];
		if (a >= hi)
			break;
		if (!dma_pte_present(e))
			continue;
		bool leaf = level == 1 || ((level == 2 || level == 3) && dma_pte_superpage(e));
		/* the entry's location only when there is something to report:
		 * this loop runs once per leaf PTE */
		const struct vtd_format *fmt = vtd_fmt_sl_pte(level, leaf);
		if ((level > 5 || (e & ~m->sl_ok[level][leaf])) && vtd_format_check(fmt, &e, m->w.haw, m->w.conds, NULL)) {
			at(m, table, (int)level, (int)i, &e);
			wk_rsvd(&m->w, fmt, &e);
			diag(m);
			continue;
		}
		unsigned p = perm & ((dma_pte_read(e) ? VTD_PERM_R : 0) |
				     (dma_pte_write(e) ? VTD_PERM_W : 0));
		if (!p)
			continue;
		uint64_t addr = dma_pte_addr(e, m->w.haw);
		if (leaf) {
			uint64_t s = a < lo ? lo : a, end = a + sz > hi ? hi : a + sz;
			sk->leaf(m, sk->ctx, s, (addr & ~(sz - 1)) + (s - a), end - s, sz, p);
			continue;
		}
		if (sk->primary && check_seen(m, addr, table, (int)level, (int)i, &e))
			continue;
		struct parent par = { table, (int)level, (int)i, e };
		sl_range(m, addr, level - 1, a, lo, hi, p, sk, &par);
	}
}

static void sl_leaf_emit(struct mw *m, void *ctx, uint64_t iova, uint64_t pa,
			 uint64_t size, uint64_t ps, unsigned perm)
{
	(void)ctx;
	emit(m, iova, pa, size, ps, perm);
}

/* Nested: one first-level leaf [iova, iova+size) -> GPA, resolved through
 * the second-level tables. */
struct nest_leaf { uint64_t iova, gpa, ps; unsigned perm; };

static void nest_emit(struct mw *m, void *ctx, uint64_t gpa, uint64_t hpa,
		      uint64_t size, uint64_t ps, unsigned perm)
{
	const struct nest_leaf *fl = ctx;
	if (!(perm & fl->perm))
		return;               /* e.g. FL read-only over SL write-only */
	emit(m, fl->iova + (gpa - fl->gpa), hpa, size, ps < fl->ps ? ps : fl->ps,
	     perm & fl->perm);
}

static void fl_range(struct mw *m, uint64_t table, unsigned level, uint64_t base,
		     unsigned perm, const struct parent *pp)
{
	const struct vtd_devctx *dc = m->dc;
	bool nested = dc->xtype == VTD_XT_NESTED;
	uint64_t q[512], sz = lsize(level), hpa = table;
	if (nested) {
		uint64_t ps;
		unsigned sp;
		wk_locate(&m->w, dc->sid, dc->pasid);
		unsigned f = wk_sl_lookup(&m->w, dc->sl_root, dc->sl_levels, table,
					  VTD_ACC_READ, &hpa, &ps, &sp);
		if (f) {
			vtd_error_set(&m->err, m->err.code, "first-level table at GPA 0x%" PRIx64
				      " does not translate: %s", table, m->err.msg);
			diag(m);
			return;
		}
		hpa &= VTD_PAGE_MASK;
	}
	if (read_table(m, hpa, level, q, pp, "first-level"))
		return;
	mw_table(m, VTD_ST_FL, level, hpa);
	for (unsigned i = 0; i < 512 && !m->stop; i++) {
		uint64_t a = base + i * sz, e = q[i];
		if (!fl_pte_present(e))
			continue;
		bool leaf = level == 1 || ((level == 2 || level == 3) && fl_pte_ps(e));
		const struct vtd_format *fmt = vtd_fmt_fl_pte(level, leaf);
		if ((level > 5 || (e & ~m->fl_ok[level][leaf])) && vtd_format_check(fmt, &e, m->w.haw, m->w.conds, NULL)) {
			at(m, hpa, (int)level, (int)i, &e);
			wk_rsvd(&m->w, fmt, &e);
			diag(m);
			continue;
		}
		unsigned p = perm & (VTD_PERM_R | (fl_pte_rw(e) ? VTD_PERM_W : 0));
		uint64_t addr = fl_pte_addr(e, m->w.haw);
		/* sign-extend the top level's upper half (canonical IOVAs) */
		uint64_t iova = a;
		unsigned vbits = 12 + 9 * dc->fl_levels;
		iova = (uint64_t)((int64_t)(iova << (64 - vbits)) >> (64 - vbits));
		if (leaf) {
			addr &= ~(sz - 1);
			if (!nested) {
				emit(m, iova, addr, sz, sz, p);
				continue;
			}
			struct nest_leaf nl = { iova, addr, sz, p };
			struct sl_sink sk = { nest_emit, &nl, false };
			uint64_t top = 12 + 9 * dc->sl_levels;
			sl_range(m, dc->sl_root, dc->sl_levels, 0, addr,
				 addr + sz > (1ull << top) ? (1ull << top) : addr + sz,
				 VTD_PERM_R | VTD_PERM_W, &sk, NULL);
			continue;
		}
		if (check_seen(m, addr, hpa, (int)level, (int)i, &e))
			continue;
		struct parent par = { hpa, (int)level, (int)i, e };
		fl_range(m, addr, level - 1, a, p, &par);
	}
}

int vtd_map_walk(const struct vtd_mem *mem, const struct vtd_unit *u,
		 const struct vtd_devctx *dc, const struct vtd_walk_ops *ops)
{
	struct mw m;
	memset(&m, 0, sizeof(m));
	wk_init(&m.w, mem, u, NULL, &m.err);
	m.ops = ops;
	m.dc = dc;
	for (unsigned lv = 1; lv <= 5; lv++)
		for (int leaf = 0; leaf < 2; leaf++) {
			m.sl_ok[lv][leaf] = vtd_format_clean_mask(vtd_fmt_sl_pte(lv, leaf), m.w.haw, m.w.conds);
			m.fl_ok[lv][leaf] = vtd_format_clean_mask(vtd_fmt_fl_pte(lv, leaf), m.w.haw, m.w.conds);
		}
	switch (dc->xtype) {
	case VTD_XT_PT: {
		unsigned haw = m.w.haw;
		emit(&m, 0, 0, haw >= 64 ? ~0ull : 1ull << haw, 0, VTD_PERM_R | VTD_PERM_W);
		break;
	}
	case VTD_XT_SL: {
		struct sl_sink sk = { sl_leaf_emit, NULL, true };
		unsigned bits = 12 + 9 * dc->sl_levels, mgaw = cap_mgaw(u->cap);
		uint64_t hi = (bits < mgaw ? bits : mgaw) >= 64 ? ~0ull
			: 1ull << (bits < mgaw ? bits : mgaw);
		if (tset_add(&m.seen, dc->sl_root) < 0)
			break;
		sl_range(&m, dc->sl_root, dc->sl_levels, 0, 0, hi, VTD_PERM_R | VTD_PERM_W, &sk, NULL);
		break;
	}
	case VTD_XT_FL:
	case VTD_XT_NESTED:
		if (tset_add(&m.seen, dc->fl_root) < 0)
			break;
		fl_range(&m, dc->fl_root, dc->fl_levels, 0, VTD_PERM_R | VTD_PERM_W, NULL);
		break;
	default:
		break;
	}
	flush(&m);
	tset_free(&m.seen);
	return m.stop;
}

/* ---- unit walk ---- */

struct uw {
	struct wk w;
	struct vtd_error err;
	const struct vtd_walk_ops *ops;
	bool with_mappings;
	int stop;
};

static int udiag(struct uw *x)
{
	if (!x->stop && x->ops->diag)
		x->stop = x->ops->diag(x->ops->arg, &x->err);
	return x->stop;
}

static void uat(struct uw *x, int sid, int64_t pasid, uint64_t table, int idx,
		const uint64_t *raw, unsigned nraw)
{
	wk_locate(&x->w, sid, pasid);
	x->err.table = table;
	x->err.index = idx;
	if (raw)
		vtd_error_raw(&x->err, raw, nraw);
}

static void uw_table(struct uw *x, enum vtd_stage st, uint64_t pa, int sid, int64_t pasid,
		     unsigned bus)
{
	if (x->stop || !x->ops->table)
		return;
	struct vtd_table_ref t = { st, -1, pa & VTD_PAGE_MASK, sid, pasid, bus };
	x->stop = x->ops->table(x->ops->arg, &t);
}

static void report(struct uw *x, const struct vtd_devctx *dc)
{
	if (!x->stop && x->ops->device)
		x->stop = x->ops->device(x->ops->arg, dc);
	if (!x->stop && x->with_mappings && x->ops->mapping)
		x->stop = vtd_map_walk(x->w.mem, x->w.u, dc, x->ops);
}

static int read_page(struct uw *x, uint64_t pa, uint64_t *q, unsigned nq, int sid,
		     int64_t pasid, uint64_t ptable, int pidx, const uint64_t *praw,
		     unsigned npraw, const char *what)
{
	struct vtd_error tmp;
	vtd_error_init(&tmp);
	if (vtd_mem_read_qwords(x->w.mem, pa, q, nq, &tmp) == 0)
		return 0;
	uat(x, sid, pasid, ptable, pidx, praw, npraw);
	vtd_error_set(&x->err, VTD_E_READ, "%s 0x%" PRIx64 " cannot be read: %s", what, pa, tmp.msg);
	udiag(x);
	return -1;
}

static void walk_pasids(struct uw *x, uint16_t sid, const struct vtd_sm_context_entry *ce,
			uint64_t ctable, unsigned cidx)
{
	uint64_t dir = sm_context_pasiddirptr(ce), ndir = sm_context_pasid_dir_entries(ce);
	uint64_t dq[512], pq[512];
	for (uint64_t d0 = 0; d0 < ndir && !x->stop; d0 += 512) {
		if (read_page(x, dir + d0 * 8, dq, 512, sid, -1, ctable, (int)cidx, ce->val, 4,
			      "PASID directory page"))
			continue;             /* later directory pages may still be there */
		uw_table(x, VTD_ST_PASID_DIR, dir + d0 * 8, sid, VTD_NO_PASID, sid >> 8);
		for (unsigned j = 0; j < 512 && d0 + j < ndir && !x->stop; j++) {
			struct vtd_pasid_dir_entry de = { dq[j] };
			uint64_t didx = d0 + j;
			if (!pasid_pde_present(&de))
				continue;
			uat(x, sid, (int64_t)(didx << PASID_PDE_SHIFT), dir, (int)didx, dq + j, 1);
			if (wk_rsvd(&x->w, &vtd_fmt_pasid_dir_entry, dq + j)) {
				udiag(x);
				continue;
			}
			uint64_t tab = pasid_pde_table(&de);
			if (read_page(x, tab, pq, 512, sid, (int64_t)(didx << PASID_PDE_SHIFT), dir,
				      (int)didx, dq + j, 1, "PASID table"))
				continue;
			uw_table(x, VTD_ST_PASID, tab, sid, (int64_t)(didx << PASID_PDE_SHIFT), sid >> 8);
			for (unsigned k = 0; k < 64 && !x->stop; k++) {
				struct vtd_pasid_entry pe;
				int64_t pasid = (int64_t)(didx << PASID_PDE_SHIFT | k);
				struct vtd_devctx dc;
				memcpy(pe.val, pq + 8 * k, sizeof(pe.val));
				if (!pasid_present(&pe))
					continue;
				uat(x, sid, pasid, tab, (int)k, pe.val, 8);
				if (wk_rsvd(&x->w, &vtd_fmt_pasid_entry, pe.val)) {
					udiag(x);
					continue;
				}
				memset(&dc, 0, sizeof(dc));
				memcpy(dc.raw_context, ce->val, sizeof(ce->val));
				if (wk_pasid_entry(&x->w, &pe, sid, pasid, &dc)) {
					udiag(x);
					continue;
				}
				report(x, &dc);
			}
		}
	}
}

static void walk_ctx_table(struct uw *x, struct tset *seen, unsigned bus, bool upper,
			   uint64_t ctp, uint64_t rta, const uint64_t *rraw)
{
	bool sm = x->w.sm;
	uint64_t q[512];
	int r = tset_add(seen, ctp);
	if (r <= 0) {
		uat(x, -1, -1, rta, (int)bus, rraw, 2);
		if (r < 0)
			vtd_error_set(&x->err, VTD_E_NOMEM, "out of memory");
		else
			vtd_error_set(&x->err, VTD_E_LOOP, "bus %02x: context table 0x%" PRIx64
				      " is %s, already walked", bus, ctp,
				      ctp == rta ? "the root table itself" : "another bus's table");
		udiag(x);
		return;
	}
	if (read_page(x, ctp, q, 512, -1, -1, rta, (int)bus, rraw, 2, "context table"))
		return;
	uw_table(x, VTD_ST_CONTEXT, ctp, -1, VTD_NO_PASID, bus);
	unsigned n = sm ? 128 : 256, nq = sm ? 4 : 2;
	for (unsigned i = 0; i < n && !x->stop; i++) {
		unsigned devfn = (upper ? 0x80 : 0) + i;
		uint16_t sid = vtd_sid(bus, devfn);
		const uint64_t *e = q + i * nq;
		if (!(e[0] & 1))
			continue;
		uat(x, sid, -1, ctp, (int)i, e, nq);
		if (wk_rsvd(&x->w, sm ? &vtd_fmt_context_sm : &vtd_fmt_context_legacy, e)) {
			udiag(x);
			continue;
		}
		if (!sm) {
			struct vtd_context_entry ce = { e[0], e[1] };
			struct vtd_devctx dc;
			if (wk_ctx_legacy(&x->w, &ce, sid, &dc)) {
				udiag(x);
				continue;
			}
			report(x, &dc);
		} else {
			struct vtd_sm_context_entry ce;
			memcpy(ce.val, e, sizeof(ce.val));
			walk_pasids(x, sid, &ce, ctp, i);
		}
	}
}

int vtd_unit_walk(const struct vtd_mem *mem, const struct vtd_unit *u,
		  bool with_mappings, const struct vtd_walk_ops *ops)
{
	struct uw x;
	struct tset seen = { 0 };
	uint64_t root[512], rta = rtaddr_rta(u->rtaddr);
	memset(&x, 0, sizeof(x));
	wk_init(&x.w, mem, u, NULL, &x.err);
	x.ops = ops;
	x.with_mappings = with_mappings;
	if (u->unknown) {
		uat(&x, -1, -1, VTD_NOADDR, -1, NULL, 0);
		vtd_error_set(&x.err, VTD_E_INVAL, "the crashed kernel's struct intel_iommu of this unit is not "
			      "readable: its root table, CAP and ECAP are not known");
		udiag(&x);
		return x.stop;
	}
	if (!rta || rtaddr_ttm(u->rtaddr) >= VTD_TTM_RSVD) {
		uat(&x, -1, -1, rta, -1, NULL, 0);
		vtd_error_set(&x.err, VTD_E_INVAL, "no usable root table (RTADDR 0x%" PRIx64 ")",
			      u->rtaddr);
		udiag(&x);
		return x.stop;
	}
	if (read_page(&x, rta, root, 512, -1, -1, VTD_NOADDR, -1, NULL, 0, "root table"))
		return x.stop;
	if (tset_add(&seen, rta) < 0)
		return -VTD_E_NOMEM;
	uw_table(&x, VTD_ST_ROOT, rta, -1, VTD_NO_PASID, 0);
	for (unsigned bus = 0; bus < 256 && !x.stop; bus++) {
		const uint64_t *e = root + 2 * bus;
		struct vtd_root_entry re = { e[0], e[1] };
		bool lp = x.w.sm ? root_lp(&re) : root_present(&re);
		bool up = x.w.sm && root_up(&re);
		if (!lp && !up)
			continue;
		uat(&x, -1, -1, rta, (int)bus, e, 2);
		if (wk_rsvd(&x.w, x.w.sm ? &vtd_fmt_root_sm : &vtd_fmt_root_legacy, e)) {
			udiag(&x);
			continue;
		}
		if (lp)
			walk_ctx_table(&x, &seen, bus, false, x.w.sm ? root_entry_lctp(&re) : root_ctp(&re),
				       rta, e);
		if (up && !x.stop)
			walk_ctx_table(&x, &seen, bus, true, root_entry_uctp(&re), rta, e);
	}
	tset_free(&seen);
	return x.stop;
}

/* ---- reverse map ---- */

struct rm {
	const struct vtd_unit *unit;
	uint64_t pa, len;
	vtd_rmap_cb cb;
	int (*diag)(void *arg, const struct vtd_error *err);
	void *arg;
};

static int rm_map(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	struct rm *r = arg;
	uint64_t lo = m->pa > r->pa ? m->pa : r->pa;
	uint64_t mend = m->pa + m->size, qend = r->pa + r->len;
	uint64_t hi = (mend < m->pa || mend > qend) ? qend : mend;
	if (lo >= hi)
		return 0;
	struct vtd_rmap_hit h = { r->unit, dc, m->iova + (lo - m->pa), lo, hi - lo,
				  m->page_size, m->perm };
	return r->cb(r->arg, &h);
}

static int rm_diag(void *arg, const struct vtd_error *err)
{
	struct rm *r = arg;
	return r->diag ? r->diag(r->arg, err) : 0;
}

int vtd_rmap(const struct vtd_mem *mem, const struct vtd_unit *units, unsigned nunits,
	     uint64_t pa, uint64_t len, vtd_rmap_cb cb,
	     int (*diag_cb)(void *arg, const struct vtd_error *err), void *arg)
{
	for (unsigned i = 0; i < nunits; i++) {
		struct rm r = { &units[i], pa, len, cb, diag_cb, arg };
		struct vtd_walk_ops ops = { NULL, rm_map, rm_diag, &r, NULL };
		int rc = vtd_unit_walk(mem, &units[i], true, &ops);
		if (rc)
			return rc;
	}
	return 0;
}
