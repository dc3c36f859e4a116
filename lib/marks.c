/* Page marks: runs of pages with one reason and its evidence (design.md §5). */
#include "vtd/marks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const reason_names[VTD_MARK_NREASONS] = {
	"TABLE", "HW_WRITABLE", "DMA_WRITABLE", "CHANGED", "TAKEOVER_WRITTEN", "RESTORED",
};

const char *vtd_mark_reason_name(unsigned reason)
{
	for (unsigned i = 0; i < VTD_MARK_NREASONS; i++)
		if (reason == 1u << i)
			return reason_names[i];
	return NULL;
}

unsigned vtd_mark_reason_parse(const char *name)
{
	for (unsigned i = 0; i < VTD_MARK_NREASONS; i++)
		if (!strcasecmp(name, reason_names[i]))
			return 1u << i;
	return 0;
}

const char *vtd_severity_name(enum vtd_severity s)
{
	switch (s) {
	case VTD_SEV_INFO: return "info";
	case VTD_SEV_WARNING: return "warning";
	case VTD_SEV_ERROR: return "error";
	}
	return "?";
}

int vtd_marks_add(struct vtd_marks *m, const struct vtd_mark *mk)
{
	if (!mk->npages)
		return 0;
	/* runs of one walk arrive in order: extend the last one when it goes on */
	if (m->n) {
		struct vtd_mark *l = &m->v[m->n - 1];
		if (l->reason == mk->reason && l->pfn + l->npages == mk->pfn && l->sid == mk->sid &&
		    l->segment == mk->segment && l->pasid == mk->pasid && !strcmp(l->unit, mk->unit) &&
		    !strcmp(l->what, mk->what) &&
		    (mk->reason != VTD_MARK_DMA_WRITABLE || l->iova + (l->npages << 12) == mk->iova)) {
			l->npages += mk->npages;
			return 0;
		}
		/* the same page, reason and evidence twice (shared tables) */
		if (l->reason == mk->reason && l->pfn == mk->pfn && l->npages == mk->npages &&
		    l->sid == mk->sid && l->pasid == mk->pasid && l->iova == mk->iova &&
		    !strcmp(l->unit, mk->unit) && !strcmp(l->what, mk->what))
			return 0;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct vtd_mark *nv = realloc(m->v, nc * sizeof(*nv));
		if (!nv)
			return -VTD_E_NOMEM;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n++] = *mk;
	m->sorted = false;
	return 0;
}

static int mark_cmp(const void *a, const void *b)
{
	const struct vtd_mark *x = a, *y = b;
	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->sid != y->sid)
		return x->sid < y->sid ? -1 : 1;
	int c = strcmp(x->unit, y->unit);
	if (c)
		return c;
	if (x->pasid != y->pasid)
		return x->pasid < y->pasid ? -1 : 1;
	if (x->npages != y->npages)
		return x->npages < y->npages ? -1 : 1;
	return strcmp(x->what, y->what);
}

void vtd_marks_sort(struct vtd_marks *m)
{
	if (m->sorted)
		return;
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), mark_cmp);
	/* drop exact duplicates (a table shared by several devices' walks) */
	size_t w = 0;
	for (size_t r = 0; r < m->n; r++)
		if (!w || mark_cmp(&m->v[w - 1], &m->v[r]) || m->v[w - 1].iova != m->v[r].iova)
			m->v[w++] = m->v[r];
	m->n = w;
	m->sorted = true;
}

int vtd_marks_find(const struct vtd_marks *m, uint64_t pfn, uint64_t npages, unsigned mask,
		   int (*cb)(void *arg, const struct vtd_mark *mk), void *arg)
{
	uint64_t end = pfn + npages;
	/* sorted by start: every run starting before end may overlap; runs are
	 * short or few, so a linear scan of the prefix is enough */
	size_t lo = 0, hi = m->n;
	while (lo < hi) {                    /* first run starting at or after end */
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].pfn < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < lo; i++) {
		const struct vtd_mark *k = &m->v[i];
		if (k->pfn + k->npages <= pfn || (mask && !(k->reason & mask)))
			continue;
		int r = cb(arg, k);
		if (r)
			return r;
	}
	return 0;
}

static int or_reason(void *arg, const struct vtd_mark *mk)
{
	*(unsigned *)arg |= mk->reason;
	return 0;
}

unsigned vtd_marks_of(const struct vtd_marks *m, uint64_t pfn)
{
	unsigned r = 0;
	vtd_marks_find(m, pfn, 1, 0, or_reason, &r);
	return r;
}

void vtd_marks_free(struct vtd_marks *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
