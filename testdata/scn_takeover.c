/* Takeover statements: what a capture kernel, the IOMMU and devices write
 * into the crashed kernel's memory after the crash, simulated on a
 * scenario's complete image (mock kernel included).  The generator keeps
 * the image from before and says which ranges a restoration must give back
 * (the evidence is in the dump) and which stay as captured.  The entries
 * are found by reading the image the generator wrote, never with libvtd. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "vtd/marks.h"

struct tk {
	struct scn *s;
	const char *file;
	const struct scn_tkline *l;
	uint64_t next;            /* the capture kernel's next page (crashkernel memory) */
	char *err;
	size_t errlen;
};

static int tfail(struct tk *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tfail(struct tk *t, const char *fmt, ...)
{
	char m[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(t->err, t->errlen, "%s:%d: takeover %s: %s", t->file, t->l->line, t->l->text, m);
	return -1;
}

static uint64_t r64(struct tk *t, uint64_t pa)
{
	uint64_t v = 0;
	img_read(t->s->img, pa, &v, 8);
	return v;
}

static int span(struct tk *t, bool restore, uint64_t pa, uint64_t len, unsigned mark)
{
	struct scn_span **v = restore ? &t->s->tk_restore : &t->s->tk_keep;
	size_t *n = restore ? &t->s->ntk_restore : &t->s->ntk_keep;
	struct scn_span *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return tfail(t, "out of memory");
	*v = nv;
	nv[(*n)++] = (struct scn_span){ pa, len, mark };
	return 0;
}

static int bdf(struct tk *t, const char *s, unsigned *bus, unsigned *devfn)
{
	unsigned seg, b, d, f;
	if (sscanf(s, "%x:%x:%x.%x", &seg, &b, &d, &f) == 4 ||
	    sscanf(s, "%x:%x.%x", &b, &d, &f) == 3) {
		if (b > 255 || d > 31 || f > 7)
			return tfail(t, "bad BDF '%s'", s);
		*bus = b;
		*devfn = d << 3 | f;
		return 0;
	}
	return tfail(t, "bad BDF '%s'", s);
}

/* The device's context entry (legacy 16 bytes, scalable 32). */
static int context_at(struct tk *t, const struct vtd_unit *u, unsigned bus, unsigned devfn,
		      uint64_t *pa, unsigned *len)
{
	bool sm = vtd_unit_scalable(u);
	uint64_t re = r64(t, rtaddr_rta(u->rtaddr) + 16 * bus + (sm && devfn >= 0x80 ? 8 : 0));
	if (!(re & 1))
		return tfail(t, "bus %02x has no context table", bus);
	*pa = (re & VTD_PAGE_MASK) + (sm ? 32 * (devfn & 0x7f) : 16 * devfn);
	*len = sm ? 32 : 16;
	if (!(r64(t, *pa) & 1))
		return tfail(t, "the device has no context entry");
	return 0;
}

static uint64_t ck_page(struct tk *t)
{
	uint64_t p = t->next;
	t->next += 0x1000;
	return p;
}

static int one(struct tk *t, const struct vtd_unit *u)
{
	char kind[32], a1[40] = "", a2[40] = "", a3[40] = "";
	int n = sscanf(t->l->text, "%31s %39s %39s %39s", kind, a1, a2, a3);
	struct img *im = t->s->img;
	unsigned bus, devfn, len;
	uint64_t pa;
	bool sm = vtd_unit_scalable(u);
	if (n < 1)
		return tfail(t, "what kind of takeover?");
	if (!strcmp(kind, "root-inplace")) {
		/* Li Zhen-Hua's design: the old root entry points at the capture
		 * kernel's new context table */
		char *end;
		bus = (unsigned)strtoul(a1, &end, 16);
		bool upper = !strcmp(a2, "upper");
		if (n < 2 || *end || bus > 255 || (upper && !sm))
			return tfail(t, "usage: root-inplace BUS [upper] (upper: scalable mode)");
		pa = rtaddr_rta(u->rtaddr) + 16 * bus + (upper ? 8 : 0);
		if (!(r64(t, pa) & 1))
			return tfail(t, "root entry of bus %02x is not present", bus);
		img_write64(im, pa, ck_page(t) | 1);
		return span(t, true, pa, 8, VTD_MARK_TAKEOVER_WRITTEN);
	}
	if (!strcmp(kind, "context-rewrite") || !strcmp(kind, "copied-marker")) {
		if (n < 2 || bdf(t, a1, &bus, &devfn) || context_at(t, u, bus, devfn, &pa, &len))
			return -1;
		uint64_t lo = r64(t, pa), hi = r64(t, pa + 8);
		if (kind[0] == 'c' && kind[1] == 'o' && kind[2] == 'p') {
			if (sm)
				return tfail(t, "the copied marker is a legacy-mode thing");
			img_write64(im, pa + 8, hi | 1u << 3);          /* bit 67 */
			img_write64(im, pa, lo & ~(1ull << 11));        /* PASIDE clear */
		} else if (sm) {
			/* a new PASID directory in crashkernel memory */
			img_write64(im, pa, ck_page(t) | (lo & 0xfff));
		} else {
			/* a new domain: its DID, its tables in crashkernel memory */
			img_write64(im, pa, ck_page(t) | (lo & 0xfff));
			img_write64(im, pa + 8, (hi & ~0xffff00ull) | 0x3f0ull << 8);
		}
		return span(t, true, pa, len, VTD_MARK_TAKEOVER_WRITTEN);
	}
	if (!strcmp(kind, "pasid-rewrite")) {
		/* the RID_PASID entry of a scalable-mode device: a new domain */
		if (!sm || n < 2 || bdf(t, a1, &bus, &devfn) || context_at(t, u, bus, devfn, &pa, &len))
			return sm ? -1 : tfail(t, "pasid-rewrite needs a scalable-mode unit");
		uint64_t dir = r64(t, pa) & VTD_PAGE_MASK, de = r64(t, dir);
		if (!(de & 1))
			return tfail(t, "no PASID table for PASID 0");
		pa = de & VTD_PAGE_MASK;
		img_write64(im, pa, ck_page(t) | (r64(t, pa) & 0xfff));
		img_write64(im, pa + 8, (r64(t, pa + 8) & ~0xffffull) | 0x3f1);
		return span(t, true, pa, 64, VTD_MARK_TAKEOVER_WRITTEN);
	}
	if (!strcmp(kind, "irte-rewrite")) {
		/* the IR table reused in place: another vector and destination */
		char *end;
		unsigned long idx = strtoul(a1, &end, 0);
		if (n < 2 || *end || !u->irta || idx >= irta_entries(u->irta))
			return tfail(t, "usage: irte-rewrite INDEX (an IRTE of the unit's IR table)");
		pa = irta_irta(u->irta) + 16 * idx;
		uint64_t lo = r64(t, pa);
		if (!(lo & 1))
			return tfail(t, "IRTE %lu is not present", idx);
		img_write64(im, pa, (lo & ~0xff00ff0000ull) | ((lo >> 16 & 0xff) ^ 0x5a) << 16 | 0x7ull << 40);
		return span(t, true, pa, 16, VTD_MARK_CHANGED);
	}
	if (!strcmp(kind, "qi-done")) {
		/* the hardware drains the old queue: a wait descriptor's status */
		char *end;
		unsigned long slot = strtoul(a1, &end, 0);
		if (n < 2 || *end || u->qi.status_pa == VTD_NOADDR || slot >= iqa_entries(u->qi.iqa))
			return tfail(t, "usage: qi-done SLOT (a slot of the unit's queue with desc_status)");
		pa = u->qi.status_pa + 4 * slot;
		uint32_t done = 2;                                  /* QI_DONE */
		img_write(im, pa, &done, 4);
		return span(t, false, pa, 4, VTD_MARK_HW_WRITABLE);
	}
	if (!strcmp(kind, "pi-post")) {
		/* a device interrupts through a posted IRTE: PIR bit and ON */
		char *end;
		unsigned long idx = strtoul(a1, &end, 0);
		if (n < 2 || *end || !u->irta || idx >= irta_entries(u->irta))
			return tfail(t, "usage: pi-post INDEX (a posted IRTE)");
		struct vtd_irte e = { r64(t, irta_irta(u->irta) + 16 * idx), r64(t, irta_irta(u->irta) + 16 * idx + 8) };
		if (!irte_present(&e) || !irte_im(&e))
			return tfail(t, "IRTE %lu is not a posted entry", idx);
		pa = irte_pda(&e);
		unsigned vv = irte_vv(&e);
		uint8_t pir = (uint8_t)(1u << (vv % 8)), on = 1;
		if (img_write(im, pa + vv / 8, &pir, 1) || img_write(im, pa + 32, &on, 1))
			return tfail(t, "the posted-interrupt descriptor 0x%" PRIx64 " is not RAM", pa);
		return span(t, false, pa, 64, VTD_MARK_HW_WRITABLE);
	}
	if (!strcmp(kind, "dma")) {
		/* a device writes through a mapping the capture kernel kept */
		char *end;
		uint64_t iova = strtoull(a2, &end, 0), dlen;
		if (n < 4 || *end || bdf(t, a1, &bus, &devfn))
			return tfail(t, "usage: dma BDF IOVA LEN");
		dlen = strtoull(a3, &end, 0);
		if (*end || !dlen)
			return tfail(t, "bad length '%s'", a3);
		uint16_t sid = vtd_sid(bus, devfn);
		for (size_t i = 0; i < t->s->nmaps; i++) {
			const struct scn_map *m = &t->s->maps[i];
			if (strcmp(m->unit, u->name) || m->sid != sid || !(m->perm & VTD_PERM_W) ||
			    iova < m->iova || iova + dlen > m->iova + m->size)
				continue;
			pa = m->pa + (iova - m->iova);
			for (uint64_t o = 0; o < dlen; o++) {
				uint8_t v = (uint8_t)(0xd5 ^ o);
				if (img_write(im, pa + o, &v, 1))
					return tfail(t, "0x%" PRIx64 " is not RAM", pa + o);
			}
			return span(t, false, pa, dlen, VTD_MARK_DMA_WRITABLE);
		}
		return tfail(t, "no writable mapping of %s covers [0x%" PRIx64 ", +0x%" PRIx64 ")", a1, iova, dlen);
	}
	return tfail(t, "unknown kind '%s' (root-inplace, context-rewrite, copied-marker, "
		     "pasid-rewrite, irte-rewrite, qi-done, pi-post, dma)", kind);
}

int scn_takeover(struct scn *s, const char *file, uint64_t crashk_start, char *err, size_t errlen)
{
	struct tk t = { s, file, NULL, crashk_start + 0x100000, err, errlen };
	if (!s->ntks)
		return 0;
	if (!crashk_start) {
		snprintf(err, errlen, "%s: takeover needs a crashkernel range (more RAM, and the mock kernel)",
			 file);
		return -1;
	}
	/* the image before: every page as the crashed kernel left it */
	s->pre = img_new();
	if (!s->pre)
		return -1;
	for (size_t i = 0; i < img_nram(s->img); i++)
		img_add_ram(s->pre, img_ram(s->img)[i].start, img_ram(s->img)[i].end);
	const uint64_t *pfns = img_pfns(s->img);
	for (size_t i = 0; i < img_npages(s->img); i++) {
		uint8_t *p = img_page(s->pre, pfns[i], true);
		if (!p) {
			snprintf(err, errlen, "%s: out of memory", file);
			return -1;
		}
		memcpy(p, img_page_const(s->img, pfns[i]), IMG_PAGE);
	}
	for (size_t i = 0; i < s->ntks; i++) {
		t.l = &s->tks[i];
		if (t.l->unit < 0 || (size_t)t.l->unit >= s->nunits)
			return tfail(&t, "before any unit line");
		if (one(&t, &s->units[t.l->unit]))
			return -1;
	}
	return 0;
}

int scn_write_takeover_expect(const struct scn *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	fprintf(f, "# %s: what the takeover wrote; restore = vtd restore must give the\n"
		"# pre-takeover bytes back, keep = no evidence, left as captured\n", s->name);
	for (size_t i = 0; i < s->ntk_restore; i++)
		fprintf(f, "restore 0x%" PRIx64 " %" PRIu64 " %s\n", s->tk_restore[i].pa, s->tk_restore[i].len,
			vtd_mark_reason_name(s->tk_restore[i].mark));
	for (size_t i = 0; i < s->ntk_keep; i++)
		fprintf(f, "keep 0x%" PRIx64 " %" PRIu64 " %s\n", s->tk_keep[i].pa, s->tk_keep[i].len,
			vtd_mark_reason_name(s->tk_keep[i].mark));
	return fclose(f) ? -1 : 0;
}
