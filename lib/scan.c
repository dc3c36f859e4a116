/* The structural scan (see scan.h). */
#include "vtd/scan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "vtd/tables.h"

#define HAW 52u                  /* format checks: any address the format allows */
#define BAD_LIMIT 8              /* stop following a candidate that is this wrong */

static bool addr_ok(uint64_t a, uint64_t max_pa) { return !max_pa || a < max_pa; }

unsigned vtd_scan_root_page(const uint64_t q[512], uint64_t max_pa)
{
	bool legacy = true, sm = true, any = false;
	for (unsigned i = 0; i < 512 && (legacy || sm); i += 2) {
		uint64_t lo = q[i], hi = q[i + 1];
		/* Linux writes whole entries: a non-present one is zero */
		if (lo && (!(lo & 1) || (lo & 0xffe) || !addr_ok(lo & VTD_PAGE_MASK, max_pa)))
			return 0;
		any |= lo != 0;
		if (hi) {
			legacy = false;
			if (!(hi & 1) || (hi & 0xffe) || !addr_ok(hi & VTD_PAGE_MASK, max_pa))
				sm = false;
			any = true;
		}
	}
	return any ? (legacy ? 1u : 0u) | (sm ? 2u : 0u) : 0;
}

static int read_page(const struct vtd_mem *mem, uint64_t pa, uint64_t *q)
{
	struct vtd_error e;
	vtd_error_init(&e);
	return vtd_mem_read_qwords(mem, pa, q, 512, &e);
}

/* What lies below a context entry: NEXT_BAD (reserved bits, unreadable),
 * NEXT_EMPTY (clean but says nothing: an empty table, pass-through), or
 * NEXT_USED (clean and in use — the evidence that tells the modes apart). */
enum { NEXT_BAD, NEXT_EMPTY, NEXT_USED };

/* A page of second-level entries at level: clean reserved bits. */
static int sl_page(const uint64_t *q, unsigned level, uint64_t max_pa)
{
	bool used = false;
	unsigned conds = VTD_C_SNP | VTD_C_TM | VTD_C_SLPS2M | VTD_C_SLPS1G;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = q[i];
		if (!dma_pte_present(e)) {
			if (e)
				return NEXT_BAD;
			continue;
		}
		bool leaf = level == 1 || dma_pte_superpage(e);
		if (vtd_format_check(vtd_fmt_sl_pte(level, leaf), &e, HAW, conds, NULL) ||
		    (!leaf && !addr_ok(dma_pte_addr(e, HAW), max_pa)))
			return NEXT_BAD;
		used = true;
	}
	return used ? NEXT_USED : NEXT_EMPTY;
}

static int legacy_next(const struct vtd_mem *mem, const struct vtd_context_entry *c,
		       uint64_t max_pa, uint64_t *buf)
{
	if (context_tt(c) == CONTEXT_TT_PASS_THROUGH)
		return NEXT_EMPTY;
	unsigned aw = context_aw(c);
	if (aw < 1 || aw > 3 || !addr_ok(context_slptptr(c), max_pa) ||
	    read_page(mem, context_slptptr(c), buf))
		return NEXT_BAD;
	return sl_page(buf, agaw_to_level(aw), max_pa);
}

static int sm_next(const struct vtd_mem *mem, const struct vtd_sm_context_entry *c,
		   uint64_t max_pa, uint64_t *buf)
{
	uint64_t dir = sm_context_pasiddirptr(c);
	unsigned rp = sm_context_rid_pasid(c);
	uint64_t n = sm_context_pasid_dir_entries(c);
	if (!addr_ok(dir, max_pa) || read_page(mem, dir, buf))
		return NEXT_BAD;
	for (uint64_t i = 0; i < n && i < 512; i++)
		if (buf[i] && (!(buf[i] & 1) ||
			       vtd_format_check(&vtd_fmt_pasid_dir_entry, &buf[i], HAW, 0, NULL)))
			return NEXT_BAD;
	uint64_t de = (rp >> PASID_PDE_SHIFT) < 512 ? buf[rp >> PASID_PDE_SHIFT] : 0;
	if (!(de & 1))
		return NEXT_EMPTY;        /* no RID_PASID entry: nothing more to check */
	if (!addr_ok(de & VTD_PAGE_MASK, max_pa) || read_page(mem, de & VTD_PAGE_MASK, buf))
		return NEXT_BAD;
	const uint64_t *pe = &buf[(rp & (PASID_TBL_ENTRIES - 1)) * 8];
	if (!(pe[0] & 1))
		return NEXT_EMPTY;
	return vtd_format_check(&vtd_fmt_pasid_entry, pe, HAW, ~0u, NULL) ? NEXT_BAD : NEXT_USED;
}

/* One context table: count clean present entries and their next levels. */
static void context_table(const struct vtd_mem *mem, uint64_t pa, bool scalable, uint64_t max_pa,
			  struct vtd_scan_candidate *c, uint64_t *ctx, uint64_t *buf)
{
	if (!addr_ok(pa, max_pa) || read_page(mem, pa, ctx)) {
		c->bad++;
		return;
	}
	unsigned w = scalable ? 4 : 2;
	for (unsigned i = 0; i < 512 && c->bad < BAD_LIMIT; i += w) {
		const uint64_t *q = &ctx[i];
		if (!(q[0] & 1)) {
			bool zero = true;
			for (unsigned k = 0; k < w; k++)
				zero &= q[k] == 0;
			c->bad += !zero;
			continue;
		}
		const struct vtd_format *f = scalable ? &vtd_fmt_context_sm : &vtd_fmt_context_legacy;
		if (vtd_format_check(f, q, HAW, 0, NULL) ||
		    (!scalable && context_tt((const struct vtd_context_entry *)q) == CONTEXT_TT_RESERVED)) {
			c->bad++;
			continue;
		}
		c->contexts++;
		int nx = scalable ? sm_next(mem, (const struct vtd_sm_context_entry *)q, max_pa, buf)
				  : legacy_next(mem, (const struct vtd_context_entry *)q, max_pa, buf);
		c->next_ok += nx == NEXT_USED;
		c->bad += nx == NEXT_BAD;
	}
}

void vtd_scan_score(const struct vtd_mem *mem, uint64_t pa, bool scalable, uint64_t max_pa,
		    struct vtd_scan_candidate *c)
{
	uint64_t *root = malloc(3 * 4096);
	memset(c, 0, sizeof(*c));
	c->pa = pa;
	c->scalable = scalable;
	if (!root || read_page(mem, pa, root)) {
		free(root);
		return;
	}
	uint64_t *ctx = root + 512, *buf = root + 1024;
	for (unsigned bus = 0; bus < 256 && c->bad < BAD_LIMIT; bus++) {
		uint64_t lo = root[2 * bus], hi = root[2 * bus + 1];
		if (lo & 1) {
			c->roots++;
			context_table(mem, lo & VTD_PAGE_MASK, scalable, max_pa, c, ctx, buf);
		}
		if (scalable && (hi & 1)) {
			c->roots++;
			context_table(mem, hi & VTD_PAGE_MASK, scalable, max_pa, c, ctx, buf);
		}
	}
	free(root);
	/* tables in use weigh double; every wrong entry weighs more than a
	 * right one */
	c->score = c->contexts ? (long)(c->contexts + 2 * c->next_ok) - 4 * (long)c->bad : 0;
}

static int by_score(const void *a, const void *b)
{
	const struct vtd_scan_candidate *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->pa != y->pa)
		return x->pa < y->pa ? -1 : 1;
	/* a tie between readings of one table: legacy, which explains every
	 * bit with fewer of them in use */
	return x->scalable - y->scalable;
}

int vtd_scan(const struct vtd_mem *mem, uint64_t max_pfn,
	     void (*progress)(void *arg, uint64_t pfn, uint64_t max_pfn), void *arg,
	     struct vtd_scan_result *r, struct vtd_error *err)
{
	uint64_t *q = malloc(4096), max_pa = max_pfn << 12;
	size_t cap = 0;
	memset(r, 0, sizeof(*r));
	if (!q)
		return vtd_error_set(err, VTD_E_NOMEM, "scan: out of memory");
	for (uint64_t pfn = 0; pfn < max_pfn; pfn++) {
		if (progress && !(pfn & 4095))
			progress(arg, pfn, max_pfn);
		if (read_page(mem, pfn << 12, q)) {
			r->pages_missing++;
			continue;
		}
		r->pages_read++;
		unsigned modes = vtd_scan_root_page(q, max_pa);
		if (!modes)
			continue;
		r->pages_tested++;
		for (unsigned m = 0; m < 2; m++) {
			if (!(modes >> m & 1))
				continue;
			struct vtd_scan_candidate c;
			vtd_scan_score(mem, pfn << 12, m == 1, max_pa, &c);
			if (c.score <= 0)
				continue;
			if (r->n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct vtd_scan_candidate *nv = realloc(r->v, nc * sizeof(*nv));
				if (!nv) {
					free(q);
					vtd_scan_result_free(r);
					return vtd_error_set(err, VTD_E_NOMEM, "scan: out of memory");
				}
				r->v = nv;
				cap = nc;
			}
			r->v[r->n++] = c;
		}
	}
	if (progress)
		progress(arg, max_pfn, max_pfn);
	free(q);
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), by_score);
	return 0;
}

void vtd_scan_result_free(struct vtd_scan_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
