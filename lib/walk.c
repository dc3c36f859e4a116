/* Translation of one request, as the hardware walks (spec §3, §9; QEMU
 * vtd_do_iommu_translate as the reference), with a per-level trace. */
#include "walk_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wk_init(struct wk *w, const struct vtd_mem *mem, const struct vtd_unit *u,
	     struct vtd_translation *t, struct vtd_error *err)
{
	w->mem = mem;
	w->u = u;
	w->haw = vtd_unit_haw(u);
	w->sm = vtd_unit_scalable(u);
	w->conds = vtd_unit_conds(u->cap, u->ecap, w->sm);
	w->t = t;
	w->err = err;
}

void wk_locate(struct wk *w, int sid, int64_t pasid)
{
	struct vtd_error *e = w->err;
	vtd_error_init(e);
	snprintf(e->unit, sizeof(e->unit), "%s", w->u->name);
	e->segment = w->u->segment;
	if (sid >= 0) {
		e->bus = sid >> 8;
		e->devfn = sid & 0xff;
	}
	e->pasid = pasid;
}

unsigned wk_fault(struct wk *w, unsigned reason, enum vtd_errcode code,
		  const char *fmt, ...)
{
	char extra[200] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	/* keep a read error's own message (it says why the page is missing) */
	if (w->err->code == VTD_E_READ && code == VTD_E_READ) {
		vtd_error_set(w->err, code, "fault 0x%x (%s): %s%s%s", reason,
			      vtd_fault_str(reason), extra, *extra ? ": " : "", w->err->msg);
	} else {
		vtd_error_set(w->err, code, "fault 0x%x (%s)%s%s", reason,
			      vtd_fault_str(reason), *extra ? ": " : "", extra);
	}
	return reason;
}

static void add_step(struct wk *w, enum vtd_stage st, int level, unsigned index,
		     uint64_t table, const uint64_t *q, unsigned n)
{
	struct vtd_translation *t = w->t;
	if (!t || t->nsteps >= VTD_MAX_STEPS)
		return;
	struct vtd_step *s = &t->steps[t->nsteps++];
	s->stage = st;
	s->level = level;
	s->index = index;
	s->table = table;
	s->nraw = n;
	memcpy(s->raw, q, n * sizeof(*q));
}

int wk_read_entry(struct wk *w, uint64_t table, unsigned index, unsigned n,
		  int level, uint64_t *q)
{
	w->err->table = table;
	w->err->index = (int)index;
	w->err->level = level;
	w->err->nraw = 0;
	return vtd_mem_read_qwords(w->mem, table + (uint64_t)index * n * 8, q, n, w->err);
}

int wk_rsvd(struct wk *w, const struct vtd_format *fmt, const uint64_t *q)
{
	struct vtd_rsvd r;
	if (!vtd_format_check(fmt, q, w->haw, w->conds, &r))
		return 0;
	vtd_error_raw(w->err, q, fmt->nqwords);
	vtd_error_set(w->err, VTD_E_RSVD, "%s: %s bits %u:%u = 0x%" PRIx64 " (%s)",
		      fmt->name, r.field, r.hi, r.lo, r.bits, r.why);
	return 1;
}

/* Re-label an error already set by wk_rsvd/read with a fault reason. */
static unsigned as_fault(struct wk *w, unsigned reason)
{
	vtd_error_set(w->err, w->err->code, "fault 0x%x (%s): %s", reason,
		      vtd_fault_str(reason), w->err->msg);
	return reason;
}

unsigned wk_ctx_legacy(struct wk *w, const struct vtd_context_entry *ce,
		       uint16_t sid, struct vtd_devctx *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->sid = sid;
	dc->pasid = VTD_NO_PASID;
	dc->did = (int)context_domain_id(ce);
	dc->fpd = context_fpd(ce);
	dc->raw_context[0] = ce->lo;
	dc->raw_context[1] = ce->hi;
	switch (context_tt(ce)) {
	case CONTEXT_TT_PASS_THROUGH:
		if (!ecap_pass_through(w->u->ecap))
			return wk_fault(w, VTD_FR_CONTEXT_ENTRY_INV, VTD_E_INVAL,
					"TT=2 (pass-through) but ECAP.PT is clear");
		dc->xtype = VTD_XT_PT;
		return 0;
	case CONTEXT_TT_DEV_IOTLB:
		if (!ecap_dev_iotlb_support(w->u->ecap))
			return wk_fault(w, VTD_FR_CONTEXT_ENTRY_INV, VTD_E_INVAL,
					"TT=1 (device TLB) but ECAP.DT is clear");
		break;
	case CONTEXT_TT_RESERVED:
		return wk_fault(w, VTD_FR_CONTEXT_ENTRY_INV, VTD_E_INVAL, "TT=3 is reserved");
	}
	if (!cap_sagaw_allows(w->u->cap, context_aw(ce)))
		return wk_fault(w, VTD_FR_CONTEXT_ENTRY_INV, VTD_E_INVAL,
				"AW=%u (%u-level) not in CAP.SAGAW 0x%x", context_aw(ce),
				agaw_to_level(context_aw(ce)), cap_sagaw(w->u->cap));
	dc->xtype = VTD_XT_SL;
	dc->sl_root = context_slptptr(ce);
	dc->sl_levels = agaw_to_level(context_aw(ce));
	return 0;
}

unsigned wk_pasid_entry(struct wk *w, const struct vtd_pasid_entry *pe,
			uint16_t sid, int64_t pasid, struct vtd_devctx *dc)
{
	uint64_t ecap = w->u->ecap, cap = w->u->cap;
	unsigned pgtt = pasid_pgtt(pe);
	dc->sid = sid;
	dc->pasid = pasid;
	dc->did = (int)pasid_did(pe);
	dc->fpd = pasid_fpd(pe);
	memcpy(dc->raw_pasid, pe->val, sizeof(dc->raw_pasid));
	switch (pgtt) {
	case PASID_ENTRY_PGTT_FL_ONLY:
		if (!ecap_flts(ecap))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"PGTT=1 (first-level) but ECAP.FLTS is clear");
		dc->xtype = VTD_XT_FL;
		break;
	case PASID_ENTRY_PGTT_SL_ONLY:
		if (!ecap_slts(ecap))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"PGTT=2 (second-level) but ECAP.SLTS is clear");
		dc->xtype = VTD_XT_SL;
		break;
	case PASID_ENTRY_PGTT_NESTED:
		if (!ecap_nest(ecap) || !ecap_flts(ecap) || !ecap_slts(ecap))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"PGTT=3 (nested) but ECAP.NEST/FLTS/SLTS not all set");
		dc->xtype = VTD_XT_NESTED;
		break;
	case PASID_ENTRY_PGTT_PT:
		if (!ecap_pass_through(ecap))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"PGTT=4 (pass-through) but ECAP.PT is clear");
		dc->xtype = VTD_XT_PT;
		return 0;
	default:
		return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL, "PGTT=%u is reserved", pgtt);
	}
	if (dc->xtype == VTD_XT_SL || dc->xtype == VTD_XT_NESTED) {
		if (!cap_sagaw_allows(cap, pasid_aw(pe)))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"AW=%u (%u-level) not in CAP.SAGAW 0x%x", pasid_aw(pe),
					agaw_to_level(pasid_aw(pe)), cap_sagaw(cap));
		dc->sl_root = pasid_slptptr(pe);
		dc->sl_levels = agaw_to_level(pasid_aw(pe));
	}
	if (dc->xtype == VTD_XT_FL || dc->xtype == VTD_XT_NESTED) {
		unsigned flpm = pasid_flpm(pe);
		if (flpm > 1 || (flpm == 1 && !cap_fl5lp_support(cap)))
			return wk_fault(w, VTD_FR_SM_PTE_INV, VTD_E_INVAL,
					"FLPM=%u (%s) not supported (CAP.FL5LP=%u)", flpm,
					flpm == 1 ? "5-level" : "reserved", cap_fl5lp_support(cap));
		dc->fl_root = pasid_flptptr(pe);
		dc->fl_levels = 4 + flpm;
	}
	return 0;
}

/* Root → context (→ PASID directory → PASID entry) for sid and pasid.
 * request: pasid is a request-with-PASID (checked against PASIDE); else it
 * only names the PASID-table entry to look at. */
static unsigned resolve(struct wk *w, uint16_t sid, int64_t pasid, bool request,
			struct vtd_devctx *dc)
{
	const struct vtd_unit *u = w->u;
	unsigned bus = sid >> 8, devfn = sid & 0xff;
	uint64_t rta = rtaddr_rta(u->rtaddr), q[8];
	bool sm = w->sm;

	memset(dc, 0, sizeof(*dc));
	dc->sid = sid;
	dc->pasid = pasid;
	dc->did = -1;
	if (u->unknown) {
		vtd_error_set(w->err, VTD_E_INVAL, "the crashed kernel's struct intel_iommu of this unit is not "
			      "readable: its root table, CAP and ECAP are not known");
		return VTD_FR_UNIT_UNKNOWN;
	}
	if (rtaddr_ttm(u->rtaddr) >= VTD_TTM_RSVD || !rta)
		return wk_fault(w, sm ? VTD_FR_SM_RTA_INV : VTD_FR_ROOT_TABLE_INV, VTD_E_INVAL,
				"no usable root table (RTADDR 0x%" PRIx64 ")", u->rtaddr);
	if (!sm && pasid != VTD_NO_PASID)
		return wk_fault(w, VTD_FR_SM_TTM0_PASID, VTD_E_INVAL,
				"request with PASID %" PRId64 " to a legacy-mode unit", pasid);

	/* root entry */
	if (wk_read_entry(w, rta, bus, 2, -1, q))
		return wk_fault(w, sm ? VTD_FR_SM_ROOT_ACCESS : VTD_FR_ROOT_TABLE_INV,
				VTD_E_READ, "root entry %u", bus);
	add_step(w, VTD_ST_ROOT, -1, bus, rta, q, 2);
	struct vtd_root_entry re = { q[0], q[1] };
	uint64_t ctp;
	if (!sm) {
		if (!root_present(&re))
			return wk_fault(w, VTD_FR_ROOT_ENTRY_P, VTD_E_INVAL, "bus %02x", bus);
		if (wk_rsvd(w, &vtd_fmt_root_legacy, q))
			return as_fault(w, VTD_FR_ROOT_ENTRY_RSVD);
		ctp = root_ctp(&re);
	} else {
		bool upper = devfn >= 0x80;
		if (!(upper ? root_up(&re) : root_lp(&re)))
			return wk_fault(w, VTD_FR_SM_ROOT_P, VTD_E_INVAL, "bus %02x %s half",
					bus, upper ? "upper" : "lower");
		if (wk_rsvd(w, &vtd_fmt_root_sm, q))
			return as_fault(w, VTD_FR_SM_ROOT_RSVD);
		ctp = upper ? root_entry_uctp(&re) : root_entry_lctp(&re);
	}

	/* context entry */
	unsigned cidx = sm ? devfn & 0x7f : devfn, cq = sm ? 4 : 2;
	if (wk_read_entry(w, ctp, cidx, cq, -1, q))
		return wk_fault(w, sm ? VTD_FR_SM_CTX_ACCESS : VTD_FR_CONTEXT_TABLE_INV,
				VTD_E_READ, "context entry %u", cidx);
	add_step(w, VTD_ST_CONTEXT, -1, cidx, ctp, q, cq);
	memcpy(dc->raw_context, q, cq * 8);
	if (!sm) {
		struct vtd_context_entry ce = { q[0], q[1] };
		if (!context_present(&ce))
			return wk_fault(w, VTD_FR_CONTEXT_ENTRY_P, VTD_E_INVAL, "devfn %02x", devfn);
		if (wk_rsvd(w, &vtd_fmt_context_legacy, q))
			return as_fault(w, VTD_FR_CONTEXT_ENTRY_RSVD);
		vtd_error_raw(w->err, q, 2);
		return wk_ctx_legacy(w, &ce, sid, dc);
	}
	struct vtd_sm_context_entry sce;
	memcpy(sce.val, q, sizeof(sce.val));
	if (!sm_context_present(&sce))
		return wk_fault(w, VTD_FR_SM_CTX_P, VTD_E_INVAL, "devfn %02x", devfn);
	if (wk_rsvd(w, &vtd_fmt_context_sm, q))
		return as_fault(w, VTD_FR_SM_CTX_RSVD);
	if (pasid == VTD_NO_PASID) {
		pasid = sm_context_rid_pasid(&sce);
	} else if (request && !sm_context_paside(&sce)) {
		vtd_error_raw(w->err, q, 4);
		return wk_fault(w, VTD_FR_SM_PASIDE, VTD_E_INVAL,
				"request with PASID %" PRId64 " but PASIDE is clear", pasid);
	}
	dc->pasid = pasid;
	w->err->pasid = pasid;
	if (pasid < 0 || pasid >= (1 << 20) ||
	    (uint64_t)pasid >> PASID_PDE_SHIFT >= sm_context_pasid_dir_entries(&sce)) {
		vtd_error_raw(w->err, q, 4);
		return wk_fault(w, VTD_FR_SM_PASID_MAX, VTD_E_INVAL,
				"PASID %" PRId64 " beyond the directory's %" PRIu64 " entries (PDTS=%u)",
				pasid, sm_context_pasid_dir_entries(&sce), sm_context_pdts(&sce));
	}

	/* PASID directory entry */
	uint64_t dir = sm_context_pasiddirptr(&sce);
	unsigned didx = (unsigned)(pasid >> PASID_PDE_SHIFT);
	if (wk_read_entry(w, dir, didx, 1, -1, q))
		return wk_fault(w, VTD_FR_SM_PDIR_ACCESS, VTD_E_READ, "PASID directory entry %u", didx);
	add_step(w, VTD_ST_PASID_DIR, -1, didx, dir, q, 1);
	struct vtd_pasid_dir_entry pde = { q[0] };
	if (!pasid_pde_present(&pde))
		return wk_fault(w, VTD_FR_SM_PDIR_P, VTD_E_INVAL, "directory entry %u", didx);
	if (wk_rsvd(w, &vtd_fmt_pasid_dir_entry, q))
		return as_fault(w, VTD_FR_SM_PDIR_RSVD);

	/* PASID-table entry */
	uint64_t ptab = pasid_pde_table(&pde);
	unsigned pidx = (unsigned)(pasid & (PASID_TBL_ENTRIES - 1));
	if (wk_read_entry(w, ptab, pidx, 8, -1, q))
		return wk_fault(w, VTD_FR_SM_PTE_ACCESS, VTD_E_READ, "PASID-table entry %u", pidx);
	add_step(w, VTD_ST_PASID, -1, pidx, ptab, q, 8);
	struct vtd_pasid_entry pe;
	memcpy(pe.val, q, sizeof(pe.val));
	if (!pasid_present(&pe))
		return wk_fault(w, VTD_FR_SM_PTE_P, VTD_E_INVAL, "PASID %" PRId64, pasid);
	if (wk_rsvd(w, &vtd_fmt_pasid_entry, q))
		return as_fault(w, VTD_FR_SM_PTE_RSVD);
	vtd_error_raw(w->err, q, 8);
	memcpy(dc->raw_context, sce.val, sizeof(sce.val));
	return wk_pasid_entry(w, &pe, sid, pasid, dc);
}

static uint64_t level_size(unsigned level)
{
	return 1ull << (12 + 9 * (level - 1));
}

unsigned wk_sl_lookup(struct wk *w, uint64_t root, unsigned levels, uint64_t addr,
		      unsigned access, uint64_t *pa, uint64_t *ps, unsigned *perm)
{
	bool sm = w->sm;
	unsigned width = 12 + 9 * levels, mgaw = cap_mgaw(w->u->cap);
	if (mgaw < width)
		width = mgaw;
	if (width < 64 && addr >> width)
		return wk_fault(w, sm ? VTD_FR_SM_BEYOND_MAX : VTD_FR_ADDR_BEYOND_MGAW, VTD_E_INVAL,
				"address 0x%" PRIx64 " beyond %u bits", addr, width);
	uint64_t table = root;
	unsigned p = VTD_PERM_R | VTD_PERM_W;
	for (unsigned level = levels; level >= 1; level--) {
		unsigned idx = (unsigned)(addr >> (12 + 9 * (level - 1))) & 511;
		uint64_t e;
		if (wk_read_entry(w, table, idx, 1, (int)level, &e))
			return wk_fault(w, sm ? VTD_FR_SM_SL_ACCESS : VTD_FR_PAGING_ENTRY_INV,
					VTD_E_READ, "second-level entry");
		add_step(w, VTD_ST_SL, (int)level, idx, table, &e, 1);
		vtd_error_raw(w->err, &e, 1);
		p &= (dma_pte_read(e) ? VTD_PERM_R : 0) | (dma_pte_write(e) ? VTD_PERM_W : 0);
		if (!dma_pte_present(e) || ((access & VTD_ACC_READ) && !(p & VTD_PERM_R)) ||
		    ((access & VTD_ACC_WRITE) && !(p & VTD_PERM_W))) {
			unsigned r = sm ? VTD_FR_SM_SL_PERM
				: (access & VTD_ACC_WRITE) && !(p & VTD_PERM_W) ? VTD_FR_WRITE : VTD_FR_READ;
			return wk_fault(w, r, VTD_E_INVAL, "%s",
					dma_pte_present(e) ? "permission denied" : "entry not present");
		}
		bool leaf = level == 1 || ((level == 2 || level == 3) && dma_pte_superpage(e));
		if (wk_rsvd(w, vtd_fmt_sl_pte(level, leaf), &e))
			return as_fault(w, sm ? VTD_FR_SM_SL_RSVD : VTD_FR_PAGING_ENTRY_RSVD);
		if (leaf) {
			uint64_t sz = level_size(level);
			*pa = (dma_pte_addr(e, w->haw) & ~(sz - 1)) | (addr & (sz - 1));
			*ps = sz;
			*perm = p;
			return 0;
		}
		table = dma_pte_addr(e, w->haw);
	}
	return 0; /* not reached: level 1 is always a leaf */
}

/* First-level walk; nested: table pointers and the output are GPAs that go
 * through the second-level tables of dc. */
static unsigned fl_lookup(struct wk *w, const struct vtd_devctx *dc, uint64_t iova,
			  unsigned access, uint64_t *pa, uint64_t *ps, unsigned *perm)
{
	unsigned levels = dc->fl_levels, vbits = 12 + 9 * levels;
	bool nested = dc->xtype == VTD_XT_NESTED;
	int64_t sx = (int64_t)(iova << (64 - vbits)) >> (64 - vbits);
	if ((uint64_t)sx != iova)
		return wk_fault(w, VTD_FR_SM_NON_CANONICAL, VTD_E_INVAL,
				"IOVA 0x%" PRIx64 " not canonical for %u-level paging", iova, levels);
	uint64_t table = dc->fl_root;
	unsigned p = VTD_PERM_R | VTD_PERM_W;
	for (unsigned level = levels; level >= 1; level--) {
		unsigned idx = (unsigned)(iova >> (12 + 9 * (level - 1))) & 511;
		uint64_t e, hpa = table, sps;
		unsigned sp;
		if (nested) {
			unsigned f = wk_sl_lookup(w, dc->sl_root, dc->sl_levels, table,
						  VTD_ACC_READ, &hpa, &sps, &sp);
			if (f)
				return f;
			hpa &= VTD_PAGE_MASK;
		}
		if (wk_read_entry(w, hpa, idx, 1, (int)level, &e))
			return wk_fault(w, level == levels ? VTD_FR_SM_FL_PML4_ACCESS : VTD_FR_SM_FL_ACCESS,
					VTD_E_READ, "first-level entry");
		add_step(w, VTD_ST_FL, (int)level, idx, hpa, &e, 1);
		vtd_error_raw(w->err, &e, 1);
		if (!fl_pte_present(e))
			return wk_fault(w, VTD_FR_SM_FL_P, VTD_E_INVAL, "entry not present");
		bool leaf = level == 1 || ((level == 2 || level == 3) && fl_pte_ps(e));
		if (wk_rsvd(w, vtd_fmt_fl_pte(level, leaf), &e))
			return as_fault(w, VTD_FR_SM_FL_RSVD);
		if (!fl_pte_us(e))
			return wk_fault(w, VTD_FR_SM_FL_US, VTD_E_INVAL, "U/S clear");
		if (!fl_pte_rw(e))
			p &= ~(unsigned)VTD_PERM_W;
		if ((access & VTD_ACC_WRITE) && !(p & VTD_PERM_W))
			return wk_fault(w, VTD_FR_SM_WRITE, VTD_E_INVAL, "R/W clear");
		if (leaf) {
			uint64_t sz = level_size(level);
			uint64_t out = (fl_pte_addr(e, w->haw) & ~(sz - 1)) | (iova & (sz - 1));
			*ps = sz;
			*perm = p;
			if (!nested) {
				*pa = out;
				return 0;
			}
			unsigned f = wk_sl_lookup(w, dc->sl_root, dc->sl_levels, out, access,
						  pa, &sps, &sp);
			if (f)
				return f;
			*perm = p & sp;
			if (sps < sz)
				*ps = sps;
			return 0;
		}
		table = fl_pte_addr(e, w->haw);
	}
	return 0;
}

unsigned vtd_devctx_get(const struct vtd_mem *mem, const struct vtd_unit *u,
			uint16_t sid, int64_t pasid, struct vtd_devctx *dc,
			struct vtd_error *err)
{
	struct wk w;
	wk_init(&w, mem, u, NULL, err);
	wk_locate(&w, sid, pasid);
	return resolve(&w, sid, pasid, false, dc);
}

unsigned vtd_translate(const struct vtd_mem *mem, const struct vtd_unit *u,
		       const struct vtd_request *rq, struct vtd_translation *out)
{
	struct wk w;
	struct vtd_devctx dc;
	memset(out, 0, sizeof(*out));
	out->did = -1;
	out->pasid = rq->pasid;
	wk_init(&w, mem, u, out, &out->err);
	wk_locate(&w, rq->sid, rq->pasid);
	unsigned f = resolve(&w, rq->sid, rq->pasid, true, &dc);
	if (!f) {
		out->xtype = dc.xtype;
		out->did = dc.did;
		out->pasid = dc.pasid;
		switch (dc.xtype) {
		case VTD_XT_PT:
			out->pa = rq->iova;
			out->page_size = VTD_PAGE_SIZE;
			out->perm = VTD_PERM_R | VTD_PERM_W;
			break;
		case VTD_XT_SL:
			f = wk_sl_lookup(&w, dc.sl_root, dc.sl_levels, rq->iova, rq->access,
					 &out->pa, &out->page_size, &out->perm);
			break;
		default:
			f = fl_lookup(&w, &dc, rq->iova, rq->access, &out->pa,
				      &out->page_size, &out->perm);
		}
	}
	out->fault = f;
	if (!f)
		vtd_error_init(&out->err);
	return f;
}
