/* Scenario tests: every scenario file in testdata/scenarios, on the scenario's memory
 * image and on its generated kdump-zlib and ELF dumps read through
 * libkdumpfile.  Expectations come from the scenario (testdata/scenario.c),
 * never from libvtd.  One PASS/FAIL line per (scenario, check, source). */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/dump.h"
#include "scenario.h"

#define SCN_DIR "testdata/scenarios"

/* ---- helpers ---- */

static const char *bdf(uint16_t sid, char *buf)
{
	snprintf(buf, 16, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	return buf;
}

static int unit_index(const struct scn *s, const char *name)
{
	for (size_t i = 0; i < s->nunits; i++)
		if (!strcmp(s->units[i].name, name))
			return (int)i;
	return -1;
}

/* "dmar1 " when the scenario has several units, else "" */
static const char *uprefix(const struct scn *s, const char *unit, char *buf)
{
	if (s->nunits < 2)
		return "";
	snprintf(buf, 32, "%s ", unit);
	return buf;
}

static const char *pasid_sfx(int64_t pasid, char *buf)
{
	if (pasid < 0)
		return "";
	snprintf(buf, 32, " pasid %" PRId64, pasid);
	return buf;
}

/* ---- unit walk: contexts ---- */

struct dcs {
	struct vtd_devctx *v;
	char (*unit)[24];
	size_t n, cap;
	const char *cur;
	/* diagnostics */
	struct vtd_error *e;
	size_t ne, cape;
	size_t nmap;
};

static int on_device(void *arg, const struct vtd_devctx *dc)
{
	struct dcs *d = arg;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		d->unit = realloc(d->unit, d->cap * sizeof(*d->unit));
		if (!d->v || !d->unit)
			abort();
	}
	d->v[d->n] = *dc;
	snprintf(d->unit[d->n], 24, "%s", d->cur);
	d->n++;
	return 0;
}

static int on_diag(void *arg, const struct vtd_error *e)
{
	struct dcs *d = arg;
	if (d->ne == d->cape) {
		d->cape = d->cape ? 2 * d->cape : 16;
		d->e = realloc(d->e, d->cape * sizeof(*d->e));
		if (!d->e)
			abort();
	}
	d->e[d->ne++] = *e;
	return 0;
}

static int on_mapping_count(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	(void)dc;
	(void)m;
	((struct dcs *)arg)->nmap++;
	return 0;
}

static void dcs_free(struct dcs *d)
{
	free(d->v);
	free(d->unit);
	free(d->e);
	memset(d, 0, sizeof(*d));
}

/* All units walked; with_mappings also collects diagnostics of the walks. */
static void walk_units(const struct scn *s, const struct vtd_mem *mem, bool with_mappings, struct dcs *d)
{
	struct vtd_walk_ops ops = { on_device, with_mappings ? on_mapping_count : NULL, on_diag, d, NULL };
	for (size_t i = 0; i < s->nunits; i++) {
		d->cur = s->units[i].name;
		vtd_unit_walk(mem, &s->units[i], with_mappings, &ops);
	}
}

static bool same_ctx(const struct vtd_devctx *a, const struct vtd_devctx *b)
{
	return a->sid == b->sid && a->pasid == b->pasid && a->xtype == b->xtype && a->did == b->did &&
	       a->sl_root == b->sl_root && a->sl_levels == b->sl_levels && a->fl_root == b->fl_root &&
	       a->fl_levels == b->fl_levels;
}

static void ctx_str(const char *unit, const struct vtd_devctx *c, char *buf, size_t len)
{
	char b1[16];
	snprintf(buf, len, "%s %s pasid %" PRId64 " %s did %d sl 0x%" PRIx64 "/%u fl 0x%" PRIx64 "/%u",
		 unit, bdf(c->sid, b1), c->pasid, vtd_xtype_name(c->xtype), c->did, c->sl_root,
		 c->sl_levels, c->fl_root, c->fl_levels);
}

static void check_units(const struct scn *s, const struct dcs *got, const char *src)
{
	char a[256];
	check_begin("%s/units [%s]", s->name, src);
	bool *used = calloc(got->n + 1, sizeof(bool));
	for (size_t i = 0; i < s->nctxs; i++) {
		size_t k;
		for (k = 0; k < got->n; k++)
			if (!used[k] && !strcmp(got->unit[k], s->ctx_units[i]) && same_ctx(&got->v[k], &s->ctxs[i]))
				break;
		if (k < got->n) {
			used[k] = true;
			continue;
		}
		ctx_str(s->ctx_units[i], &s->ctxs[i], a, sizeof(a));
		EXPECT_MSG(0, "expected context not reported: %s", a);
	}
	for (size_t k = 0; k < got->n; k++)
		if (!used[k]) {
			ctx_str(got->unit[k], &got->v[k], a, sizeof(a));
			EXPECT_MSG(0, "unexpected context: %s", a);
		}
	free(used);
	check_end();
}

/* ---- map walk ---- */

struct maps { struct vtd_mapping *v; size_t n, cap; };

static int on_mapping(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	struct maps *x = arg;
	(void)dc;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		x->v = realloc(x->v, x->cap * sizeof(*x->v));
		if (!x->v)
			abort();
	}
	x->v[x->n++] = *m;
	return 0;
}

static int on_diag_ignore(void *arg, const struct vtd_error *e)
{
	(void)arg;
	(void)e;
	return 0;
}

static void check_maps(const struct scn *s, const struct vtd_mem *mem, const struct dcs *walked,
		       const char *src)
{
	char b1[16], b2[32], b3[32];
	for (size_t i = 0; i < s->nctxs; i++) {
		const struct vtd_devctx *e = &s->ctxs[i];
		int ui = unit_index(s, s->ctx_units[i]);
		check_begin("%s/map %s%s%s [%s]", s->name, uprefix(s, s->ctx_units[i], b2), bdf(e->sid, b1),
			    pasid_sfx(e->pasid, b3), src);
		const struct vtd_devctx *dc = NULL;
		for (size_t k = 0; k < walked->n && !dc; k++)
			if (!strcmp(walked->unit[k], s->ctx_units[i]) && walked->v[k].sid == e->sid &&
			    walked->v[k].pasid == e->pasid)
				dc = &walked->v[k];
		if (!dc || ui < 0) {
			EXPECT_MSG(0, "context not reported by vtd_unit_walk");
			check_end();
			continue;
		}
		struct maps got = { 0 };
		struct vtd_walk_ops ops = { NULL, on_mapping, on_diag_ignore, &got, NULL };
		vtd_map_walk(mem, &s->units[ui], dc, &ops);
		size_t k = 0;
		for (size_t j = 0; j < s->nmaps; j++) {
			const struct scn_map *m = &s->maps[j];
			if (strcmp(m->unit, s->ctx_units[i]) || m->sid != e->sid || m->pasid != e->pasid)
				continue;
			if (k >= got.n) {
				EXPECT_MSG(0, "missing run iova 0x%" PRIx64 " size 0x%" PRIx64 " -> 0x%" PRIx64,
					   m->iova, m->size, m->pa);
				k++;
				continue;
			}
			const struct vtd_mapping *g = &got.v[k++];
			EXPECT_MSG(g->iova == m->iova && g->size == m->size && g->pa == m->pa &&
				   g->page_size == m->page_size && g->perm == m->perm && g->xtype == m->xtype,
				   "run %zu: got iova 0x%" PRIx64 " size 0x%" PRIx64 " pa 0x%" PRIx64 " ps 0x%" PRIx64
				   " perm %u %s, expected iova 0x%" PRIx64 " size 0x%" PRIx64 " pa 0x%" PRIx64
				   " ps 0x%" PRIx64 " perm %u %s", k - 1, g->iova, g->size, g->pa, g->page_size,
				   g->perm, vtd_xtype_name(g->xtype), m->iova, m->size, m->pa, m->page_size, m->perm,
				   vtd_xtype_name(m->xtype));
		}
		for (; k < got.n; k++)
			EXPECT_MSG(0, "unexpected run iova 0x%" PRIx64 " size 0x%" PRIx64 " -> 0x%" PRIx64,
				   got.v[k].iova, got.v[k].size, got.v[k].pa);
		free(got.v);
		check_end();
	}
}

/* ---- translations ---- */

static bool access_error(unsigned fault)
{
	switch (fault) {
	case VTD_FR_PAGING_ENTRY_INV: case VTD_FR_ROOT_TABLE_INV: case VTD_FR_CONTEXT_TABLE_INV:
	case VTD_FR_SM_ROOT_ACCESS: case VTD_FR_SM_CTX_ACCESS: case VTD_FR_SM_PDIR_ACCESS:
	case VTD_FR_SM_PTE_ACCESS: case VTD_FR_SM_FL_ACCESS: case VTD_FR_SM_FL_PML4_ACCESS:
	case VTD_FR_SM_SL_ACCESS:
		return true;
	}
	return false;
}

static void check_xlates(const struct scn *s, const struct vtd_mem *mem, bool is_dump, const char *src)
{
	char b1[16], b2[32];
	bool *done = calloc(s->nxlates + 1, sizeof(bool));
	struct vtd_translation *t = malloc(sizeof(*t));
	if (!done || !t)
		abort();
	for (size_t i = 0; i < s->nxlates; i++) {
		if (done[i])
			continue;
		const char *unit = s->xlates[i].unit;
		uint16_t sid = s->xlates[i].rq.sid;
		int ui = unit_index(s, unit);
		check_begin("%s/xlate %s%s [%s]", s->name, uprefix(s, unit, b2), bdf(sid, b1), src);
		unsigned bad = 0, n = 0;
		for (size_t j = i; j < s->nxlates; j++) {
			const struct scn_xlate *x = &s->xlates[j];
			if (done[j] || x->rq.sid != sid || strcmp(x->unit, unit))
				continue;
			done[j] = true;
			n++;
			unsigned f = vtd_translate(mem, &s->units[ui], &x->rq, t);
			char what[400];
			snprintf(what, sizeof(what), "iova 0x%" PRIx64 " %s%s%s", x->rq.iova,
				 x->rq.access == VTD_ACC_WRITE ? "write" : "read",
				 x->rq.pasid >= 0 ? " pasid " : "",
				 x->rq.pasid >= 0 ? (snprintf(b2, sizeof(b2), "%" PRId64, x->rq.pasid), b2) : "");
			bool ok;
			if (x->fault) {
				ok = f == x->fault && t->err.level == x->level &&
				     (!access_error(x->fault) || t->err.code == VTD_E_READ) &&
				     t->err.bus == (sid >> 8) && t->err.devfn == (sid & 0xff);
				if (!ok && bad++ == 0) {
					char es[512];
					vtd_error_str(&t->err, es, sizeof(es));
					EXPECT_MSG(0, "%s: got fault 0x%x level %d code %s (%s), expected fault 0x%x level %d%s",
						   what, f, t->err.level, vtd_errcode_name(t->err.code), es, x->fault,
						   x->level, access_error(x->fault) ? " read error" : "");
				}
				continue;
			}
			ok = f == 0 && t->pa == x->pa && t->page_size == x->page_size;
			if (!ok && bad++ == 0) {
				char es[512] = "";
				if (f)
					vtd_error_str(&t->err, es, sizeof(es));
				EXPECT_MSG(0, "%s: got fault 0x%x pa 0x%" PRIx64 " ps 0x%" PRIx64 " %s, expected pa 0x%"
					   PRIx64 " ps 0x%" PRIx64, what, f, t->pa, t->page_size, es, x->pa, x->page_size);
			}
			if (ok && is_dump && img_page_const(s->img, x->pa / IMG_PAGE)) {
				/* the dump carries the data the image has at the translated address */
				uint8_t want[8], got[8];
				char why[200] = "";
				uint64_t a = x->pa & ~7ull;
				img_read(s->img, a, want, 8);
				if ((mem->read(mem->ctx, a, got, 8, why, sizeof(why)) || memcmp(want, got, 8)) &&
				    bad++ == 0)
					EXPECT_MSG(0, "%s: data at pa 0x%" PRIx64 " differs from the image (%s)",
						   what, a, why);
			}
		}
		if (bad > 1)
			EXPECT_MSG(0, "%u of %u translations wrong", bad, n);
		check_end();
	}
	free(t);
	free(done);
}

/* ---- reverse map ---- */

struct hit { char unit[24]; uint16_t sid; int64_t pasid; uint64_t iova, pa, size; unsigned perm; enum vtd_xtype xt; };
struct hits { struct hit *v; size_t n, cap; };

static int on_hit(void *arg, const struct vtd_rmap_hit *h)
{
	struct hits *x = arg;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		x->v = realloc(x->v, x->cap * sizeof(*x->v));
		if (!x->v)
			abort();
	}
	struct hit *o = &x->v[x->n++];
	snprintf(o->unit, sizeof(o->unit), "%s", h->unit->name);
	o->sid = h->dc->sid;
	o->pasid = h->dc->pasid;
	o->iova = h->iova;
	o->pa = h->pa;
	o->size = h->size;
	o->perm = h->perm;
	o->xt = h->dc->xtype;
	return 0;
}

static void check_rmaps(const struct scn *s, const struct vtd_mem *mem, const char *src)
{
	char b1[16];
	check_begin("%s/rmap [%s]", s->name, src);
	for (size_t i = 0; i < s->nrmaps; i++) {
		uint64_t qa = s->rmaps[i].query_pa, ql = s->rmaps[i].query_len;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= !(s->rmaps[j].query_pa == qa && s->rmaps[j].query_len == ql);
		if (!first)
			continue;
		struct hits got = { 0 };
		vtd_rmap(mem, s->units, (unsigned)s->nunits, qa, ql, on_hit, on_diag_ignore, &got);
		bool *used = calloc(got.n + 1, sizeof(bool));
		for (size_t j = i; j < s->nrmaps; j++) {
			const struct scn_rmap *r = &s->rmaps[j];
			if (r->query_pa != qa || r->query_len != ql || !r->unit[0])
				continue;
			size_t k;
			for (k = 0; k < got.n; k++) {
				const struct hit *h = &got.v[k];
				if (!used[k] && !strcmp(h->unit, r->unit) && h->sid == r->sid && h->pasid == r->pasid &&
				    h->iova == r->iova && h->pa == r->pa && h->size == r->size && h->perm == r->perm &&
				    h->xt == r->xtype)
					break;
			}
			if (k < got.n)
				used[k] = true;
			else
				EXPECT_MSG(0, "query 0x%" PRIx64 "+0x%" PRIx64 ": missing %s %s pasid %" PRId64
					   " iova 0x%" PRIx64 " pa 0x%" PRIx64 " size 0x%" PRIx64 " %s", qa, ql, r->unit,
					   bdf(r->sid, b1), r->pasid, r->iova, r->pa, r->size, vtd_xtype_name(r->xtype));
		}
		for (size_t k = 0; k < got.n; k++)
			if (!used[k])
				EXPECT_MSG(0, "query 0x%" PRIx64 "+0x%" PRIx64 ": unexpected %s %s pasid %" PRId64
					   " iova 0x%" PRIx64 " pa 0x%" PRIx64 " size 0x%" PRIx64 " %s", qa, ql,
					   got.v[k].unit, bdf(got.v[k].sid, b1), got.v[k].pasid, got.v[k].iova,
					   got.v[k].pa, got.v[k].size, vtd_xtype_name(got.v[k].xt));
		free(used);
		free(got.v);
	}
	check_end();
}

/* ---- interrupt remapping ---- */

struct irtes { uint32_t idx[4096]; struct vtd_irte e[4096]; size_t n; unsigned errs; };

static int on_irte(void *arg, uint32_t index, const struct vtd_irte *irte, const struct vtd_error *err)
{
	struct irtes *x = arg;
	if (err) {
		x->errs++;
		return 0;
	}
	if (x->n < 4096) {
		x->idx[x->n] = index;
		x->e[x->n] = *irte;
	}
	x->n++;
	return 0;
}

static void check_irtes(const struct scn *s, const struct vtd_mem *mem, const char *src)
{
	struct irtes *got = malloc(sizeof(*got));
	if (!got)
		abort();
	for (size_t ui = 0; ui < s->nunits; ui++) {
		const struct vtd_unit *u = &s->units[ui];
		if (!u->irta)
			continue;
		bool eim = (u->irta >> 11) & 1;
		check_begin("%s/irte %s [%s]", s->name, u->name, src);
		got->n = 0;
		got->errs = 0;
		vtd_irte_iter(mem, u->name, u->irta, on_irte, got);
		EXPECT_MSG(got->errs == 0, "%u read errors", got->errs);
		size_t k = 0;
		for (size_t i = 0; i < s->nirtes; i++) {
			const struct scn_irte *e = &s->irtes[i];
			if (strcmp(e->unit, u->name))
				continue;
			/* iteration is in index order; expected entries are in file order */
			size_t g;
			for (g = 0; g < got->n && g < 4096; g++)
				if (got->idx[g] == e->index)
					break;
			k++;
			if (g == got->n || g == 4096) {
				EXPECT_MSG(0, "IRTE %u not reported", e->index);
				continue;
			}
			const struct vtd_irte *r = &got->e[g];
			EXPECT_MSG(r->low == e->irte.low && r->high == e->irte.high,
				   "IRTE %u: raw 0x%016" PRIx64 ":%016" PRIx64 ", expected 0x%016" PRIx64 ":%016" PRIx64,
				   e->index, r->high, r->low, e->irte.high, e->irte.low);
			EXPECT_MSG(irte_im(r) == (bool)e->posted, "IRTE %u: IM", e->index);
			EXPECT_MSG(irte_sid(r) == e->sid && irte_sq(r) == e->sq && irte_svt(r) == e->svt,
				   "IRTE %u: SID/SQ/SVT", e->index);
			if (e->posted) {
				EXPECT_MSG(irte_vv(r) == e->vector, "IRTE %u: VV 0x%x, expected 0x%x", e->index,
					   irte_vv(r), e->vector);
				EXPECT_MSG(irte_pda(r) == e->pda, "IRTE %u: PDA 0x%" PRIx64 ", expected 0x%" PRIx64,
					   e->index, irte_pda(r), e->pda);
			} else {
				EXPECT_MSG(irte_vector(r) == e->vector, "IRTE %u: vector", e->index);
				EXPECT_MSG(irte_dest_id(r, eim) == e->dest, "IRTE %u: destination 0x%x, expected 0x%x",
					   e->index, irte_dest_id(r, eim), e->dest);
			}
		}
		EXPECT_MSG(got->n == k, "%zu present IRTEs reported, expected %zu", got->n, k);
		check_end();
	}
	free(got);
}

/* ---- invalidation queue ---- */

struct slots { struct vtd_qi_slot v[512]; size_t n; unsigned errs; };

static int on_slot(void *arg, const struct vtd_qi_slot *slot, const struct vtd_error *err)
{
	struct slots *x = arg;
	if (err) {
		x->errs++;
		return 0;
	}
	if (x->n < 512)
		x->v[x->n] = *slot;
	x->n++;
	return 0;
}

static void check_qis(const struct scn *s, const struct vtd_mem *mem, const char *src)
{
	struct slots *got = malloc(sizeof(*got));
	if (!got)
		abort();
	for (size_t ui = 0; ui < s->nunits; ui++) {
		const struct vtd_unit *u = &s->units[ui];
		if (!u->qi.iqa)
			continue;
		check_begin("%s/qi %s [%s]", s->name, u->name, src);
		got->n = 0;
		got->errs = 0;
		vtd_qi_iter(mem, u->name, &u->qi, on_slot, got);
		EXPECT_MSG(got->errs == 0, "%u read errors", got->errs);
		size_t k = 0;
		for (size_t i = 0; i < s->nqis; i++) {
			const struct scn_qi *q = &s->qis[i];
			if (strcmp(q->unit, u->name))
				continue;
			k++;
			const struct vtd_qi_slot *g = NULL;
			for (size_t j = 0; j < got->n && j < 512 && !g; j++)
				if (got->v[j].index == q->index)
					g = &got->v[j];
			if (!g) {
				EXPECT_MSG(0, "slot %u not reported", q->index);
				continue;
			}
			EXPECT_MSG(g->type == q->type, "slot %u: type %u, expected %u", q->index, g->type, q->type);
			EXPECT_MSG(g->status == q->status, "slot %u: status %d, expected %d", q->index, g->status,
				   q->status);
			EXPECT_MSG(g->has_wait_status == (bool)q->is_wait, "slot %u: has_wait_status %d, expected %d",
				   q->index, g->has_wait_status, q->is_wait);
			if (q->is_wait) {
				EXPECT_MSG(qi_iwd_status_addr(&g->desc) == q->status_addr &&
					   qi_iwd_status_data(&g->desc) == q->status_data,
					   "slot %u: status address/data", q->index);
				EXPECT_MSG(g->wait_done == (bool)q->wait_done, "slot %u: wait_done %d, expected %d",
					   q->index, g->wait_done, q->wait_done);
			}
		}
		EXPECT_MSG(got->n == k, "%zu slots reported, expected %zu", got->n, k);
		check_end();
	}
	free(got);
}

/* ---- diagnostics of hostile tables ---- */

static bool diag_match(const struct scn *s, const struct scn_diag *d, const struct vtd_error *e)
{
	(void)s;
	if (strcmp(d->unit, e->unit) || d->code != e->code)
		return false;
	if (d->sid < 0 ? e->bus >= 0 : (e->bus != d->sid >> 8 || e->devfn != (d->sid & 0xff)))
		return false;
	if (d->pasid >= 0 && e->pasid != d->pasid)
		return false;
	if (d->level >= 0 && e->level != d->level)
		return false;
	if (d->index >= 0 && e->index != d->index)
		return false;
	if (d->what && !strstr(e->msg, d->what))
		return false;
	return true;
}

static void check_diags(const struct scn *s, const struct dcs *got, const char *src)
{
	char b1[16], es[512];
	check_begin("%s/diag [%s]", s->name, src);
	bool *used = calloc(got->ne + 1, sizeof(bool));
	for (size_t i = 0; i < s->ndiags; i++) {
		const struct scn_diag *d = &s->diags[i];
		size_t k;
		for (k = 0; k < got->ne; k++)
			if (!used[k] && diag_match(s, d, &got->e[k]))
				break;
		if (k < got->ne) {
			used[k] = true;
			continue;
		}
		EXPECT_MSG(0, "missing diagnostic: %s %s pasid %" PRId64 " %s level %d index %d%s%s", d->unit,
			   d->sid < 0 ? "-" : bdf((uint16_t)d->sid, b1), d->pasid, vtd_errcode_name(d->code),
			   d->level, d->index, d->what ? " containing " : "", d->what ? d->what : "");
	}
	for (size_t k = 0; k < got->ne; k++)
		if (!used[k]) {
			vtd_error_str(&got->e[k], es, sizeof(es));
			EXPECT_MSG(0, "unexpected diagnostic (%s): %s", vtd_errcode_name(got->e[k].code), es);
		}
	free(used);
	check_end();
}

/* ---- driver ---- */

static void run_source(const struct scn *s, const struct vtd_mem *mem, bool is_dump, const char *src)
{
	struct dcs ctxs = { 0 }, diags = { 0 };
	walk_units(s, mem, false, &ctxs);
	check_units(s, &ctxs, src);
	check_maps(s, mem, &ctxs, src);
	check_xlates(s, mem, is_dump, src);
	check_rmaps(s, mem, src);
	check_irtes(s, mem, src);
	check_qis(s, mem, src);
	walk_units(s, mem, true, &diags);
	check_diags(s, &diags, src);
	dcs_free(&ctxs);
	dcs_free(&diags);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(scenarios)
{
	DIR *d = opendir(SCN_DIR);
	if (!d) {
		EXPECT_MSG(0, "cannot open %s (run from the repository root)", SCN_DIR);
		return;
	}
	char **files = NULL;
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		files = realloc(files, (n + 1) * sizeof(*files));
		if (!files)
			abort();
		files[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(files, n, sizeof(*files), cmp_str);
	EXPECT_MSG(n >= 10, "only %zu scenarios in %s", n, SCN_DIR);
	static const char *const dumps[] = { "kdump-zlib", "elf" };
	for (size_t i = 0; i < n; i++) {
		char path[512], err[512];
		snprintf(path, sizeof(path), "%s/%s", SCN_DIR, files[i]);
		struct scn *s = scn_load(path, err, sizeof(err));
		if (!s) {
			check_begin("%.*s/load", (int)(strlen(files[i]) - 4), files[i]);
			EXPECT_MSG(0, "%s", err);
			check_end();
			free(files[i]);
			continue;
		}
		struct vtd_mem im = img_mem(s->img);
		run_source(s, &im, false, "img");
		for (size_t k = 0; k < sizeof(dumps) / sizeof(*dumps); k++) {
			snprintf(path, sizeof(path), "%s/%s.%s", check_gen_dir(), s->name, dumps[k]);
			struct dump *km = dump_open(path, err, sizeof(err));
			if (!km) {
				check_begin("%s/open [%s]", s->name, dumps[k]);
				EXPECT_MSG(0, "%s", err);
				check_end();
				continue;
			}
			struct vtd_mem m = dump_mem(km);
			run_source(s, &m, true, dumps[k]);
			dump_close(km);
		}
		scn_free(s);
		free(files[i]);
	}
	free(files);
}

int main(int argc, char **argv)
{
	alarm(600);   /* a walk that does not terminate kills the run */
	return check_main(argc, argv);
}
