/* Takeover analysis (design.md §5, §6): what the dump's pages are (marks),
 * what an in-place takeover or the hardware wrote (findings), and which
 * bytes can be given back from evidence (restorations). */
#include "vtd/marks.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct an {
	const struct vtd_mem *mem;
	const struct vtd_kstate *ks;
	const struct vtd_kinfo *ki;
	const struct vtd_unit *units;
	size_t nunits;
	const struct vtd_analyze_opts *opts;
	struct vtd_analysis *a;
	size_t ui;                    /* unit being walked */
	struct vtd_devctx cur;        /* device context being walked */
	bool cur_slade;
	int nomem;
};

/* ---- recording ---- */

static void finding(struct an *x, enum vtd_severity sev, const char *kind, size_t ui, int sid,
		    int64_t pasid, uint64_t pa, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void finding(struct an *x, enum vtd_severity sev, const char *kind, size_t ui, int sid,
		    int64_t pasid, uint64_t pa, const char *fmt, ...)
{
	struct vtd_finding f;
	memset(&f, 0, sizeof(f));
	f.sev = sev;
	snprintf(f.kind, sizeof(f.kind), "%s", kind);
	if (ui < x->nunits) {
		snprintf(f.unit, sizeof(f.unit), "%s", x->units[ui].name);
		f.segment = sid >= 0 ? x->units[ui].segment : -1;
	} else {
		f.segment = -1;
	}
	f.sid = sid;
	f.pasid = pasid;
	f.pa = pa;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.text, sizeof(f.text), fmt, ap);
	va_end(ap);
	if (vtd_analysis_add_finding(x->a, &f))
		x->nomem = 1;
}

static void mark(struct an *x, unsigned reason, uint64_t pa, uint64_t len, size_t ui, int sid,
		 int64_t pasid, uint64_t iova, const char *fmt, ...) __attribute__((format(printf, 9, 10)));
static void mark(struct an *x, unsigned reason, uint64_t pa, uint64_t len, size_t ui, int sid,
		 int64_t pasid, uint64_t iova, const char *fmt, ...)
{
	struct vtd_mark m;
	memset(&m, 0, sizeof(m));
	m.reason = reason;
	m.pfn = pa >> 12;
	m.npages = len ? ((pa + len - 1) >> 12) - m.pfn + 1 : 1;
	if (ui < x->nunits) {
		snprintf(m.unit, sizeof(m.unit), "%s", x->units[ui].name);
		m.segment = sid >= 0 ? x->units[ui].segment : -1;
	} else {
		m.segment = -1;
	}
	m.sid = sid;
	m.pasid = pasid;
	m.iova = iova;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.what, sizeof(m.what), fmt, ap);
	va_end(ap);
	if (vtd_marks_add(&x->a->marks, &m))
		x->nomem = 1;
}

static void restore(struct an *x, uint64_t pa, const void *orig, const void *cap, unsigned len,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void restore(struct an *x, uint64_t pa, const void *orig, const void *cap, unsigned len,
		    const char *fmt, ...)
{
	struct vtd_analysis *a = x->a;
	if (!len || len > VTD_RESTORE_MAX || (pa & 0xfff) + len > 4096)
		return;
	struct vtd_restore *nr = realloc(a->restores, (a->nrestores + 1) * sizeof(*nr));
	if (!nr) {
		x->nomem = 1;
		return;
	}
	a->restores = nr;
	struct vtd_restore *r = &nr[a->nrestores++];
	memset(r, 0, sizeof(*r));
	r->pa = pa;
	r->len = len;
	memcpy(r->original, orig, len);
	memcpy(r->captured, cap, len);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->source, sizeof(r->source), fmt, ap);
	va_end(ap);
}

static void bdf(char *b, size_t n, int seg, int sid)
{
	snprintf(b, n, "%04x:%02x:%02x.%x", seg < 0 ? 0 : seg, (sid >> 8) & 0xff, (sid >> 3) & 0x1f,
		 sid & 7);
}

static bool in_crashk(const struct an *x, uint64_t pa)
{
	const struct vtd_kstate *ks = x->ks;
	if (!ks)
		return false;
	return (ks->crashk_end > ks->crashk_start && pa >= ks->crashk_start && pa <= ks->crashk_end) ||
	       (ks->crashk_low_end > ks->crashk_low_start && pa >= ks->crashk_low_start &&
		pa <= ks->crashk_low_end);
}

/* ---- the unit walk: tables, DMA-writable pages, pass-through ---- */

static const char *stage_what(enum vtd_stage s)
{
	switch (s) {
	case VTD_ST_ROOT: return "root table";
	case VTD_ST_CONTEXT: return "context table";
	case VTD_ST_PASID_DIR: return "PASID directory";
	case VTD_ST_PASID: return "PASID table";
	case VTD_ST_SL: return "second-level table";
	case VTD_ST_FL: return "first-level table";
	}
	return "table";
}

static int w_table(void *arg, const struct vtd_table_ref *t)
{
	struct an *x = arg;
	char b[24] = "";
	if (t->stage == VTD_ST_CONTEXT)
		snprintf(b, sizeof(b), " bus %02x", t->bus);
	else if (t->level > 0)
		snprintf(b, sizeof(b), " level %d", t->level);
	mark(x, VTD_MARK_TABLE, t->pa, 4096, x->ui, t->sid, t->pasid, 0, "%s%s", stage_what(t->stage), b);
	x->a->tables++;
	if (t->stage == VTD_ST_FL)
		mark(x, VTD_MARK_HW_WRITABLE, t->pa, 4096, x->ui, t->sid, t->pasid, 0,
		     "first-level table level %d: the IOMMU sets A/D bits", t->level);
	else if (t->stage == VTD_ST_SL && x->cur_slade && t->sid == x->cur.sid && t->pasid == x->cur.pasid)
		mark(x, VTD_MARK_HW_WRITABLE, t->pa, 4096, x->ui, t->sid, t->pasid, 0,
		     "second-level table level %d: SLADE, the IOMMU sets A/D bits", t->level);
	return x->nomem;
}

static int w_device(void *arg, const struct vtd_devctx *dc)
{
	struct an *x = arg;
	const struct vtd_unit *u = &x->units[x->ui];
	x->cur = *dc;
	x->cur_slade = vtd_unit_scalable(u) && (dc->raw_pasid[0] >> 9 & 1);
	x->a->devices++;
	if (dc->xtype == VTD_XT_PT) {
		char b[20];
		bdf(b, sizeof(b), u->segment, dc->sid);
		finding(x, VTD_SEV_WARNING, "pass-through", x->ui, dc->sid, dc->pasid, VTD_NOADDR,
			"%s%s is in pass-through: it can write any physical address, so its "
			"writes are not marked page by page", b,
			dc->pasid == VTD_NO_PASID ? "" : " (scalable mode PASID entry)");
	}
	return x->nomem;
}

static int w_mapping(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	struct an *x = arg;
	if (dc->xtype == VTD_XT_PT || !(m->perm & VTD_PERM_W) || !m->size)
		return x->nomem;
	mark(x, VTD_MARK_DMA_WRITABLE, m->pa, m->size, x->ui, dc->sid, dc->pasid, m->iova,
	     "mapped writable (%s)", vtd_xtype_name(dc->xtype));
	return x->nomem;
}

static int w_diag(void *arg, const struct vtd_error *e)
{
	(void)e;
	return ((struct an *)arg)->nomem;
}

/* ---- context entries against the kernel's state ---- */

static const struct vtd_kunit *kunit(const struct an *x, size_t ui)
{
	return x->ks && ui < x->ks->nunits ? &x->ks->units[ui] : NULL;
}

static int kdevice(const struct an *x, size_t ui, unsigned bus, unsigned devfn)
{
	if (!x->ks)
		return -1;
	for (size_t i = 0; i < x->ks->ndevices; i++) {
		const struct vtd_kdevice *d = &x->ks->devices[i];
		if (d->unit == (int)ui && d->bus == bus && d->devfn == devfn && d->info)
			return (int)i;
	}
	return -1;
}

static void put_qwords(uint8_t *b, const uint64_t *q, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < 8; j++)
			b[8 * i + j] = (uint8_t)(q[i] >> 8 * j);
}

/* An entry (n qwords at pa) compared with its rebuilt value; the verdict
 * names what the difference means and whether it is restored. */
static void judge(struct an *x, size_t ui, int sid, int64_t pasid, uint64_t pa, const uint64_t *got,
		  const uint64_t *want, unsigned n, const char *what, uint64_t ptr, bool copied,
		  const char *src)
{
	if (!memcmp(got, want, n * 8))
		return;
	char b[20], g[200] = "";
	bdf(b, sizeof(b), x->units[ui].segment, sid);
	/* the qwords that differ: is / the crashed kernel wrote */
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(g);
		if (got[i] != want[i] && l < sizeof(g) - 60)
			snprintf(g + l, sizeof(g) - l, "%sqword %u is 0x%016" PRIx64 ", kernel wrote 0x%016" PRIx64,
				 l ? "; " : "", i, got[i], want[i]);
	}
	uint8_t ob[64], cb[64];
	put_qwords(ob, want, n);
	put_qwords(cb, got, n);
	if (ptr && in_crashk(x, ptr)) {
		finding(x, VTD_SEV_ERROR, "crashkernel-pointer", ui, sid, pasid, pa,
			"%s %s at 0x%" PRIx64 " points into the crashkernel reservation (0x%" PRIx64
			"): rewritten in place by the capture kernel; %s", b, what, pa, ptr, g);
	} else if (copied) {
		finding(x, VTD_SEV_ERROR, "copied-marker", ui, sid, pasid, pa,
			"%s %s at 0x%" PRIx64 " carries the copied marker (bit 67 set, bit 11 clear) "
			"of a <=5.19 takeover; %s", b, what, pa, g);
	} else {
		finding(x, VTD_SEV_WARNING, what[0] == 'P' ? "pasid-differs" : "context-differs", ui,
			sid, pasid, pa, "%s %s at 0x%" PRIx64 " differs from the entry rebuilt from "
			"the kernel's state: %s (not restored: nothing says the takeover wrote it)",
			b, what, pa, g);
		mark(x, VTD_MARK_CHANGED, pa, n * 8, ui, sid, pasid, 0, "%s differs from the rebuilt entry",
		     what);
		return;
	}
	mark(x, VTD_MARK_TAKEOVER_WRITTEN, pa, n * 8, ui, sid, pasid, 0, "%s written by the takeover",
	     what);
	restore(x, pa, ob, cb, n * 8, "%s", src);
}

/* The device's entries in the context table at ctp (index i of n-qword
 * entries). */
static void check_context(struct an *x, size_t ui, unsigned bus, unsigned devfn, uint64_t ctp,
			  const uint64_t *e, unsigned nq)
{
	const struct vtd_unit *u = &x->units[ui];
	bool sm = vtd_unit_scalable(u);
	int sid = vtd_sid(bus, devfn);
	unsigned idx = sm ? (devfn & 0x7f) : devfn;
	uint64_t pa = ctp + (uint64_t)idx * nq * 8;
	bool copied = !sm && (e[1] >> 3 & 1) && !(e[0] >> 11 & 1);
	uint64_t ptr = e[0] & VTD_PAGE_MASK;
	int di = kdevice(x, ui, bus, devfn);
	char b[20];
	bdf(b, sizeof(b), u->segment, sid);
	if (di < 0) {
		/* no kernel device to rebuild from: still say what is evident */
		if ((ptr && in_crashk(x, ptr)) || copied) {
			finding(x, VTD_SEV_ERROR, copied ? "copied-marker" : "crashkernel-pointer", ui,
				sid, VTD_NO_PASID, pa, "%s context entry at 0x%" PRIx64 " %s (no "
				"device_domain_info to restore it from)", b, pa,
				copied ? "carries the copied marker of a <=5.19 takeover"
				       : "points into the crashkernel reservation");
			mark(x, VTD_MARK_TAKEOVER_WRITTEN, pa, nq * 8, ui, sid, VTD_NO_PASID, 0,
			     "context entry written by the takeover");
		}
		return;
	}
	struct vtd_rebuilt rb;
	struct vtd_error err;
	vtd_error_init(&err);
	const struct vtd_kdevice *kd = &x->ks->devices[di];
	if (vtd_rebuild_device(x->mem, x->ks, (size_t)di, &rb, &err)) {
		finding(x, VTD_SEV_INFO, "not-rebuilt", ui, sid, VTD_NO_PASID, pa,
			"%s entries not compared with the kernel's state: %s", b, err.msg);
		return;
	}
	char src[112];
	snprintf(src, sizeof(src), "rebuilt from device_domain_info 0x%" PRIx64 " / dmar_domain 0x%" PRIx64,
		 kd->info, x->ks->domains[kd->domain].addr);
	judge(x, ui, sid, VTD_NO_PASID, pa, e, rb.context, rb.ncontext, "context entry", ptr, copied, src);
	if (!sm || !rb.has_pasid)
		return;
	/* the RID_PASID entry, in the kernel's own PASID directory */
	uint64_t de, pe[8];
	if (vtd_mem_read_qwords(x->mem, rb.pasid_dir, &de, 1, &err) || !(de & 1))
		return;
	uint64_t tab = de & VTD_PAGE_MASK;
	if (vtd_mem_read_qwords(x->mem, tab, pe, 8, &err))
		return;
	uint64_t pptr = (pe[0] >> 6 & 7) == 1 ? pe[2] & VTD_PAGE_MASK : pe[0] & VTD_PAGE_MASK;
	judge(x, ui, sid, 0, tab, pe, rb.pasid, 8, "PASID entry", pptr, false, src);
}

/* Look for the crashed kernel's context table of bus (upper half in scalable
 * mode) among the dump's pages: the one page where every entry rebuilt from
 * the kernel's devices on that bus sits at its index. */
static int search_table(struct an *x, size_t ui, unsigned bus, bool upper, uint64_t *found,
			unsigned *nexp, char *why, size_t wl)
{
	const struct vtd_unit *u = &x->units[ui];
	bool sm = vtd_unit_scalable(u);
	unsigned nq = sm ? 4 : 2;
	struct { unsigned idx; uint64_t q[4]; } exp[256];
	unsigned n = 0;
	for (size_t i = 0; x->ks && i < x->ks->ndevices; i++) {
		const struct vtd_kdevice *d = &x->ks->devices[i];
		struct vtd_rebuilt rb;
		struct vtd_error err;
		if (d->unit != (int)ui || d->bus != bus || !d->info || (sm && (d->devfn >= 0x80) != upper))
			continue;
		vtd_error_init(&err);
		if (vtd_rebuild_device(x->mem, x->ks, i, &rb, &err))
			continue;
		exp[n].idx = sm ? d->devfn & 0x7f : d->devfn;
		memcpy(exp[n].q, rb.context, sizeof(exp[n].q));
		n++;
	}
	*nexp = n;
	if (!n) {
		snprintf(why, wl, "no device of the crashed kernel on this bus to rebuild entries from");
		return -1;
	}
	uint64_t max = x->opts && x->opts->max_pfn ? x->opts->max_pfn : x->ks->max_pfn;
	if (!max) {
		snprintf(why, wl, "the crashed kernel's max_pfn is not known");
		return -1;
	}
	unsigned hits = 0;
	for (uint64_t pfn = 0; pfn < max && hits < 2; pfn++) {
		uint64_t pa = pfn << 12, q[4], page[512];
		struct vtd_error err;
		vtd_error_init(&err);
		if (in_crashk(x, pa) || pa == rtaddr_rta(u->rtaddr) ||
		    vtd_mem_read_qwords(x->mem, pa + exp[0].idx * nq * 8, q, nq, &err) ||
		    memcmp(q, exp[0].q, nq * 8))
			continue;
		if (vtd_mem_read_qwords(x->mem, pa, page, 512, &err))
			continue;
		unsigned k;
		for (k = 0; k < n; k++)
			if (memcmp(page + exp[k].idx * nq, exp[k].q, nq * 8))
				break;
		if (k == n) {
			*found = pa;
			hits++;
		}
	}
	if (hits != 1) {
		snprintf(why, wl, hits ? "more than one page holds the rebuilt entries"
			 : "no page below max_pfn 0x%" PRIx64 " holds the rebuilt entries", max);
		return -1;
	}
	return 0;
}

static void check_table(struct an *x, size_t ui, unsigned bus, bool upper, uint64_t ctp)
{
	const struct vtd_unit *u = &x->units[ui];
	bool sm = vtd_unit_scalable(u);
	unsigned nq = sm ? 4 : 2, n = sm ? 128 : 256;
	uint64_t q[512];
	struct vtd_error err;
	vtd_error_init(&err);
	if (vtd_mem_read_qwords(x->mem, ctp, q, 512, &err))
		return;                       /* the walk reports unreadable tables */
	for (unsigned i = 0; i < n; i++) {
		const uint64_t *e = q + i * nq;
		if (!(e[0] & 1))
			continue;
		check_context(x, ui, bus, (upper ? 0x80 : 0) + i, ctp, e, nq);
	}
}

static void check_root(struct an *x, size_t ui)
{
	const struct vtd_unit *u = &x->units[ui];
	bool sm = vtd_unit_scalable(u);
	uint64_t rta = rtaddr_rta(u->rtaddr), root[512];
	struct vtd_error err;
	vtd_error_init(&err);
	if (!rta || vtd_mem_read_qwords(x->mem, rta, root, 512, &err))
		return;
	for (unsigned bus = 0; bus < 256; bus++) {
		for (unsigned h = 0; h < (sm ? 2u : 1u); h++) {
			uint64_t v = root[2 * bus + h], ctp = v & VTD_PAGE_MASK;
			uint64_t epa = rta + 16 * bus + 8 * h;
			if (!(v & 1))
				continue;
			if (!in_crashk(x, ctp)) {
				check_table(x, ui, bus, h == 1, ctp);
				continue;
			}
			const char *half = !sm ? "" : h ? " (upper half)" : " (lower half)";
			uint64_t found = 0;
			unsigned nexp = 0;
			char why[160];
			int r = search_table(x, ui, bus, h == 1, &found, &nexp, why, sizeof(why));
			finding(x, VTD_SEV_ERROR, "root-rewritten", ui, -1, VTD_NO_PASID, epa,
				"root entry of bus %02x%s at 0x%" PRIx64 " points into the crashkernel "
				"reservation (0x%" PRIx64 "): rewritten in place by the capture kernel; %s",
				bus, half, epa, ctp, r ? why : "the crashed kernel's context table was found");
			mark(x, VTD_MARK_TAKEOVER_WRITTEN, epa, 8, ui, -1, VTD_NO_PASID, 0,
			     "root entry of bus %02x%s written by the takeover", bus, half);
			if (r)
				continue;
			uint64_t orig = found | 1;
			uint8_t ob[8], cb[8];
			put_qwords(ob, &orig, 1);
			put_qwords(cb, &v, 1);
			restore(x, epa, ob, cb, 8, "context table found at 0x%" PRIx64 " (%u rebuilt "
				"entr%s match)", found, nexp, nexp == 1 ? "y" : "ies");
			mark(x, VTD_MARK_TABLE, found, 4096, ui, -1, VTD_NO_PASID, 0,
			     "context table bus %02x (found by search)", bus);
			check_table(x, ui, bus, h == 1, found);
		}
	}
}

static void check_unit_flags(struct an *x, size_t ui)
{
	const struct vtd_kunit *ku = kunit(x, ui);
	if (!ku)
		return;
	if (ku->copied_tables || (ku->flags & 3))
		finding(x, VTD_SEV_WARNING, "copied-tables", ui, -1, VTD_NO_PASID, VTD_NOADDR,
			"the crashed kernel was itself a capture kernel on %s (%s%s): entries it "
			"copied were inherited from an earlier kernel", x->units[ui].name,
			ku->copied_tables ? "copied_tables bitmap present" : "",
			(ku->flags & 3) ? (ku->copied_tables ? ", translation or IR pre-enabled at boot"
					   : "translation or IR pre-enabled at boot") : "");
}

/* ---- interrupt remapping ---- */

struct irx { struct an *x; size_t ui; };

static int ir_entry(void *arg, uint32_t index, const struct vtd_irte *e, const struct vtd_error *err)
{
	struct irx *r = arg;
	if (!e || err || !irte_im(e))
		return 0;
	uint64_t pda = irte_pda(e);
	mark(r->x, VTD_MARK_HW_WRITABLE, pda, 64, r->ui, -1, VTD_NO_PASID, 0,
	     "posted-interrupt descriptor of IRTE %u", index);
	return r->x->nomem;
}

static void check_ir(struct an *x, size_t ui)
{
	const struct vtd_unit *u = &x->units[ui];
	if (!u->irta)
		return;
	uint64_t base = irta_irta(u->irta), len = irta_entries(u->irta) * 16;
	mark(x, VTD_MARK_TABLE, base, len, ui, -1, VTD_NO_PASID, 0, "interrupt remapping table");
	x->a->tables += (len + 4095) / 4096;
	struct irx r = { x, ui };
	vtd_irte_iter(x->mem, u->name, u->irta, ir_entry, &r);
}

static int shadow(void *arg, const struct vtd_irte_shadow *sh)
{
	struct an *x = arg;
	if (sh->unit < 0 || (size_t)sh->unit >= x->nunits || sh->mode != 0)
		return 0;              /* posted: the table holds the posted form */
	const struct vtd_unit *u = &x->units[sh->unit];
	struct vtd_irte got;
	struct vtd_error err;
	vtd_error_init(&err);
	if (!u->irta || vtd_irte_get(x->mem, u->name, u->irta, sh->index, &got, &err))
		return 0;
	/* a cleared entry is a deactivated IRQ: the kernel clears the IRTE
	 * and keeps the shadow */
	if (!irte_present(&got) || (got.low == sh->irte.low && got.high == sh->irte.high))
		return 0;
	uint64_t pa = irta_irta(u->irta) + 16ull * sh->index;
	uint64_t g[2] = { got.low, got.high }, w[2] = { sh->irte.low, sh->irte.high };
	uint8_t ob[16], cb[16];
	put_qwords(ob, w, 2);
	put_qwords(cb, g, 2);
	finding(x, VTD_SEV_ERROR, "irte-differs", (size_t)sh->unit, -1, VTD_NO_PASID, pa,
		"IRTE %u of %s at 0x%" PRIx64 " is 0x%016" PRIx64 "%016" PRIx64 ", but the kernel's "
		"shadow (intel_ir_data 0x%" PRIx64 ", IRQ %u) is 0x%016" PRIx64 "%016" PRIx64
		": rewritten after the crash", sh->index, u->name, pa, got.high, got.low, sh->addr,
		sh->irq, sh->irte.high, sh->irte.low);
	mark(x, VTD_MARK_CHANGED, pa, 16, (size_t)sh->unit, -1, VTD_NO_PASID, 0,
	     "IRTE %u differs from its intel_ir_data shadow", sh->index);
	restore(x, pa, ob, cb, 16, "intel_ir_data 0x%" PRIx64 " shadow of IRQ %u", sh->addr, sh->irq);
	return x->nomem;
}

/* ---- invalidation queue ---- */

struct qix { struct an *x; size_t ui; unsigned pending, inuse; };

static int qi_slot(void *arg, const struct vtd_qi_slot *sl, const struct vtd_error *err)
{
	struct qix *q = arg;
	if (!sl || err)
		return 0;
	if (sl->status == QI_IN_USE)
		q->inuse++;
	if (sl->type != 5 || !qi_iwd_sw(&sl->desc))
		return 0;
	if (sl->status != QI_IN_USE && sl->status != QI_DONE)
		return 0;              /* completed and reclaimed before the crash */
	uint64_t sa = qi_iwd_status_addr(&sl->desc);
	q->pending++;
	finding(q->x, VTD_SEV_WARNING, "qi-pending", q->ui, -1, VTD_NO_PASID, sa,
		"%s invalidation wait descriptor in slot %u was pending at the crash "
		"(desc_status %s); the hardware writes status data 0x%x to 0x%" PRIx64
		" when it drains the queue%s", q->x->units[q->ui].name, sl->index,
		sl->status == QI_DONE ? "QI_DONE" : "QI_IN_USE", qi_iwd_status_data(&sl->desc), sa,
		!sl->has_wait_status ? " (the word cannot be read)"
		: sl->wait_done ? ": the word holds it (written after the crash, or just before)"
		: ": not written yet");
	mark(q->x, VTD_MARK_HW_WRITABLE, sa, 4, q->ui, -1, VTD_NO_PASID, 0,
	     "invalidation wait status word (slot %u)", sl->index);
	return q->x->nomem;
}

static void check_qi(struct an *x, size_t ui)
{
	const struct vtd_unit *u = &x->units[ui];
	if (!u->qi.iqa)
		return;
	uint64_t ring = iqa_iqa(u->qi.iqa), len = 4096ull << iqa_qs(u->qi.iqa);
	mark(x, VTD_MARK_TABLE, ring, len, ui, -1, VTD_NO_PASID, 0, "invalidation queue");
	x->a->tables += len / 4096;
	if (u->qi.status_pa != VTD_NOADDR)
		mark(x, VTD_MARK_TABLE, u->qi.status_pa, 4ull * iqa_entries(u->qi.iqa), ui, -1,
		     VTD_NO_PASID, 0, "invalidation queue desc_status[]");
	struct qix q = { x, ui, 0, 0 };
	vtd_qi_iter(x->mem, u->name, &u->qi, qi_slot, &q);
}

/* ---- entry point ---- */

/* The dump as the crashed kernel left it, where evidence says so: reads
 * with the restorations' original bytes over the captured ones.  The marks
 * describe the entries that were live at the crash. */
struct overlay { const struct vtd_mem *under; const struct vtd_analysis *a; };

static int ov_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	const struct overlay *o = ctx;
	int r = o->under->read(o->under->ctx, pa, buf, len, why, whylen);
	if (r)
		return r;
	for (size_t i = 0; i < o->a->nrestores; i++) {
		const struct vtd_restore *x = &o->a->restores[i];
		uint64_t s = x->pa > pa ? x->pa : pa, e = x->pa + x->len < pa + len ? x->pa + x->len : pa + len;
		if (s < e)
			memcpy((uint8_t *)buf + (s - pa), x->original + (s - x->pa), e - s);
	}
	return 0;
}

int vtd_analyze(const struct vtd_mem *mem, const struct vtd_kstate *ks,
		const struct vtd_kinfo *ki, const struct vtd_unit *units, size_t nunits,
		const struct vtd_analyze_opts *opts, struct vtd_analysis **out,
		struct vtd_error *err)
{
	struct vtd_analysis *a = calloc(1, sizeof(*a));
	*out = NULL;
	if (!a)
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	struct an x = { mem, ks, ki, units, nunits, opts, a, 0, { 0 }, false, 0 };
	/* first what the takeover wrote, and what evidence gives back */
	if (ks && ks->nunits == nunits)
		for (size_t i = 0; i < nunits && !x.nomem; i++) {
			if (units[i].unknown)
				continue;       /* nothing known to check */
			check_unit_flags(&x, i);
			check_root(&x, i);
		}
	if (!x.nomem && ks && ki && ks->nunits == nunits) {
		struct vtd_error e;
		vtd_error_init(&e);
		vtd_irte_shadows(ks, ki, shadow, &x, &e);   /* none on ≥6.5: check says so */
	}
	/* then the marks, on the entries live at the crash */
	struct overlay ov = { mem, a };
	struct vtd_mem om = { ov_read, &ov };
	struct vtd_walk_ops ops = { w_device, w_mapping, w_diag, &x, w_table };
	for (size_t i = 0; i < nunits && !x.nomem; i++) {
		if (units[i].unknown)
			continue;
		x.ui = i;
		x.mem = &om;
		memset(&x.cur, 0, sizeof(x.cur));
		x.cur_slade = false;
		vtd_unit_walk(&om, &units[i], true, &ops);
		check_ir(&x, i);
		check_qi(&x, i);
	}
	if (x.nomem) {
		vtd_analysis_free(a);
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	}
	vtd_marks_sort(&a->marks);
	*out = a;
	return 0;
}

int vtd_analysis_add_finding(struct vtd_analysis *a, const struct vtd_finding *f)
{
	struct vtd_finding *nf = realloc(a->findings, (a->nfindings + 1) * sizeof(*nf));
	if (!nf)
		return -1;
	a->findings = nf;
	nf[a->nfindings++] = *f;
	return 0;
}

int vtd_analysis_mark_restored(struct vtd_analysis *a)
{
	for (size_t i = 0; i < a->nrestores; i++) {
		const struct vtd_restore *r = &a->restores[i];
		struct vtd_mark m;
		memset(&m, 0, sizeof(m));
		m.pfn = r->pa >> 12;
		m.npages = 1;
		m.reason = VTD_MARK_RESTORED;
		m.segment = m.sid = -1;
		m.pasid = VTD_NO_PASID;
		snprintf(m.what, sizeof(m.what), "%u bytes at 0x%" PRIx64 ": %.64s", r->len, r->pa, r->source);
		if (vtd_marks_add(&a->marks, &m))
			return -VTD_E_NOMEM;
	}
	vtd_marks_sort(&a->marks);
	return 0;
}

void vtd_analysis_free(struct vtd_analysis *a)
{
	if (!a)
		return;
	free(a->findings);
	free(a->restores);
	vtd_marks_free(&a->marks);
	free(a);
}
