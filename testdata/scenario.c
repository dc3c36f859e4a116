/* Scenarios: load (parse, build the image, derive the expectations), free,
 * and the .expect text (see testdata/scenarios/README.md). */
#include "scn_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct scn_output scn_outputs[] = {
	{ ".elf", DUMP_ELF, DUMP_RAW },
	{ ".kdump", DUMP_KDUMP, DUMP_RAW },
	{ ".kdump-zlib", DUMP_KDUMP, DUMP_ZLIB },
	{ ".kdump-lzo", DUMP_KDUMP, DUMP_LZO },
	{ ".kdump-snappy", DUMP_KDUMP, DUMP_SNAPPY },
	{ ".kdump-zstd", DUMP_KDUMP, DUMP_ZSTD },
	{ ".flat", DUMP_FLAT, DUMP_ZLIB },
};
const size_t scn_noutputs = sizeof(scn_outputs) / sizeof(scn_outputs[0]);

#define RELEASE "6.1.0-vtdtest-amd64"
static const char vmcoreinfo[] =
	"OSRELEASE=" RELEASE "\n"
	"BUILD-ID=0000000000000000000000000000000000000000\n"
	"PAGESIZE=4096\n"
	"NUMBER(phys_base)=0\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"KERNELOFFSET=0\n";

static const char *const verbs[] = {
	"ram", "alloc", "unit", "device", "pasid", "map", "gmap", "ir", "irte", "qi", "qdesc",
	"qstatus", "corrupt", "exclude", "expect", "expect-diag", "rmap", "takeover",
};

/* ---- reading ---- */

static char *slurp(struct bld *b, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		scn_fail(b, "%s", strerror(errno));
	size_t cap = 4096, n = 0;
	char *t = malloc(cap);
	for (;;) {
		if (!t)
			break;
		if (n + 1 >= cap) {
			char *nt = realloc(t, cap *= 2);
			if (!nt) {
				free(t);
				t = NULL;
				break;
			}
			t = nt;
		}
		size_t r = fread(t + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	if (!t)
		scn_fail(b, "out of memory");
	t[n] = 0;
	return t;
}

static void tokenize(struct bld *b)
{
	int no = 0, unit = -1;
	for (char *p = b->text; *p;) {
		char *eol = strchr(p, '\n');
		if (eol)
			*eol = 0;
		no++;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = 0;
		struct sline l = { .no = no };
		for (char *t = strtok(p, " \t\r"); t; t = strtok(NULL, " \t\r")) {
			b->line = no;
			if (l.ntok == SCN_MAXTOK)
				scn_fail(b, "too many words");
			l.tok[l.ntok++] = t;
		}
		if (l.ntok) {
			bool known = false;
			b->line = no;
			for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
				known |= !strcmp(l.tok[0], verbs[i]);
			if (!known)
				scn_fail(b, "unknown statement '%s'", l.tok[0]);
			if (!strcmp(l.tok[0], "unit")) {
				unit++;
				PUSH(b, b->units, b->nunits, b->capunits);
			}
			l.unit = unit;
			l.used = 1;
			*PUSH(b, b->lines, b->nlines, b->caplines) = l;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	b->line = 0;
}

/* RAM and the table allocator come first: everything else allocates. */
static void memory_lines(struct bld *b)
{
	bool any = false;
	for (size_t i = 0; i < b->nlines; i++) {
		struct sline *l = &b->lines[i];
		b->line = l->no;
		if (!strcmp(l->tok[0], "ram")) {
			uint64_t lo = scn_num(b, scn_tok_pos(l, 1)), hi = scn_num(b, scn_tok_pos(l, 2));
			scn_tok_done(b, l);
			if (img_add_ram(b->im, lo, hi))
				scn_fail(b, "bad RAM range (page aligned, non-empty, not overlapping)");
			any = true;
		} else if (!strcmp(l->tok[0], "alloc")) {
			b->next = scn_num(b, scn_tok_pos(l, 1));
			scn_tok_done(b, l);
			b->alloc_set = true;
		}
	}
	b->line = 0;
	if (!any) {
		img_add_ram(b->im, 0, 0x9f000);
		img_add_ram(b->im, 0x100000, 64ull << 20);
	}
	if (!b->alloc_set)
		b->next = 16ull << 20;
	if (!img_is_ram(b->im, b->next / PG))
		scn_fail(b, "the table allocator base 0x%llx is not RAM", (unsigned long long)b->next);
}

/* ---- the final image ---- */

static bool excluded(const struct bld *b, uint64_t pfn)
{
	for (size_t i = 0; i < b->nxpfn; i++)
		if (b->xpfn[i] == pfn)
			return true;
	return false;
}

static void fill_page(struct bld *b, uint64_t pfn)
{
	if (!img_is_ram(b->im, pfn))
		return;                  /* MMIO and holes carry no data */
	if (scn_is_table(b, pfn))
		scn_fail(b, "a mapping's page 0x%llx is a table page (give it nofill)",
			 (unsigned long long)(pfn * PG));
	uint8_t *pg = img_page(b->im, pfn, true);
	if (!pg)
		scn_fail(b, "out of memory");
	for (unsigned o = 0; o < PG; o += 8) {
		uint64_t v = scn_pattern(pfn * PG + o);
		for (int k = 0; k < 8; k++)
			pg[o + k] = (uint8_t)(v >> (8 * k));
	}
}

void scn_finish_image(struct bld *b)
{
	/* data pages: the first, middle and last page of every run, all of
	 * small runs */
	for (size_t i = 0; i < b->nctxs; i++) {
		const struct mctx *c = &b->ctxs[i];
		if (!c->valid || c->dropped || c->xt == VTD_XT_PT)
			continue;
		b->line = c->line;
		struct chunk *runs;
		size_t n;
		scn_runs(b, c, &runs, &n);
		b->scratch = runs;
		for (size_t r = 0; r < n; r++) {
			if (runs[r].nofill)
				continue;
			for (size_t t = 0; t < b->ntpfn; t++)
				if (b->tpfn[t] * PG - runs[r].pa < runs[r].size)
					scn_fail(b, "mapping of 0x%llx+0x%llx covers table page 0x%llx (move alloc, or nofill)",
						 (unsigned long long)runs[r].pa, (unsigned long long)runs[r].size,
						 (unsigned long long)(b->tpfn[t] * PG));
			uint64_t first = runs[r].pa / PG, last = (runs[r].pa + runs[r].size - 1) / PG;
			if (runs[r].size <= 64 * 1024) {
				for (uint64_t p = first; p <= last; p++)
					fill_page(b, p);
			} else {
				fill_page(b, first);
				fill_page(b, first + (last - first) / 2);
				fill_page(b, last);
			}
		}
		free(runs);
		b->scratch = NULL;
	}
	b->line = 0;
	struct img *fin = img_new();
	if (!fin)
		scn_fail(b, "out of memory");
	b->s->img = fin;
	const struct img_range *ram = img_ram(b->im);
	for (size_t i = 0; i < img_nram(b->im); i++)
		if (img_add_ram(fin, ram[i].start, ram[i].end))
			scn_fail(b, "out of memory");
	const uint64_t *pfns = img_pfns(b->im);
	size_t n = img_npages(b->im);
	if (!pfns)
		scn_fail(b, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (excluded(b, pfns[i]))
			continue;
		uint8_t *dst = img_page(fin, pfns[i], true);
		if (!dst)
			scn_fail(b, "out of memory");
		memcpy(dst, img_page_const(b->im, pfns[i]), PG);
	}
	for (size_t i = 0; i < b->napfn; i++)
		if (img_page_const(fin, b->apfn[i]))
			scn_fail(b, "point=0x%llx: that page is in the dump; say effect= explicitly",
				 (unsigned long long)(b->apfn[i] * PG));
}

/* ---- load / free ---- */

static void bld_free(struct bld *b)
{
	for (size_t i = 0; i < b->nunits; i++) {
		free(b->units[i].qd);
		free(b->units[i].qstatus);
	}
	for (size_t i = 0; i < b->ndevs; i++)
		free(b->devs[i].ptabs);
	for (size_t i = 0; i < b->ndoms; i++) {
		struct dom *d = b->doms[i];
		free(d->maps);
		free(d->gmaps);
		free(d->drop);
		free(d->gdrop);
		free(d);
	}
	for (size_t i = 0; i < b->nnodes; i++)
		free(b->nodes[i]);
	free(b->nodes);
	free(b->doms);
	free(b->units);
	free(b->devs);
	free(b->ctxs);
	free(b->lines);
	free(b->text);
	free(b->tpfn);
	free(b->xpfn);
	free(b->apfn);
	free(b->rq);
	free(b->scratch);
	img_free(b->im);
	free(b);
}

void scn_free(struct scn *s)
{
	if (!s)
		return;
	img_free(s->img);
	free(s->units);
	free(s->maps);
	free(s->xlates);
	free(s->rmaps);
	free(s->irtes);
	free(s->qis);
	for (size_t i = 0; i < s->ndiags; i++)
		free((char *)s->diags[i].what);
	free(s->diags);
	for (size_t i = 0; i < s->nctxs; i++)
		free(s->ctx_units[i]);
	free(s->ctx_units);
	free(s->ctxs);
	free(s->tks);
	if (s->pre)
		img_free(s->pre);
	free(s->tk_restore);
	free(s->tk_keep);
	free(s);
}

static void load(struct bld *b, const char *path)
{
	struct scn *s = b->s;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	if (bl > 4 && !strcmp(base + bl - 4, ".scn"))
		bl -= 4;
	if (bl >= sizeof(s->name))
		scn_fail(b, "file name too long");
	memcpy(s->name, base, bl);
	s->name[bl] = 0;
	s->info.release = RELEASE;
	s->info.machine = "x86_64";
	s->info.vmcoreinfo = vmcoreinfo;
	s->info.page_offset = 0xffff888000000000ull;
	s->info.phys_base = 0;
	s->info.dump_level = 31;

	b->text = slurp(b, path);
	tokenize(b);
	if (!b->nunits)
		scn_fail(b, "no unit line");
	memory_lines(b);
	scn_build(b);
	scn_corrupt(b);
	s->units = calloc(b->nunits, sizeof(*s->units));
	if (!s->units)
		scn_fail(b, "out of memory");
	for (size_t i = 0; i < b->nunits; i++)
		s->units[i] = b->units[i].u;
	s->nunits = b->nunits;
	scn_expectations(b);
	scn_finish_image(b);
	for (size_t i = 0; i < b->nlines; i++) {
		const struct sline *l = &b->lines[i];
		if (strcmp(l->tok[0], "takeover"))
			continue;
		struct scn_tkline *t = realloc(s->tks, (s->ntks + 1) * sizeof(*t));
		if (!t)
			scn_fail(b, "out of memory");
		s->tks = t;
		t = &s->tks[s->ntks++];
		t->line = l->no;
		t->unit = l->unit;
		t->text[0] = 0;
		for (int k = 1; k < l->ntok; k++) {
			size_t n = strlen(t->text);
			snprintf(t->text + n, sizeof(t->text) - n, "%s%s", k > 1 ? " " : "", l->tok[k]);
		}
	}
}

struct scn *scn_load(const char *path, char *err, size_t errlen)
{
	struct bld *b = calloc(1, sizeof(*b));
	struct scn *s = calloc(1, sizeof(*s));
	if (!b || !s || !(b->im = img_new())) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(s);
		if (b)
			img_free(b->im);
		free(b);
		return NULL;
	}
	b->file = path;
	b->err = err;
	b->errlen = errlen;
	b->s = s;
	if (setjmp(b->jb) == 0)
		load(b, path);
	else
		b->s = NULL;    /* failed: scn is freed below */
	struct scn *ret = b->s;
	if (!ret)
		scn_free(s);
	bld_free(b);
	return ret;
}

/* ---- .expect ---- */

static const char *xt_word(enum vtd_xtype t)
{
	switch (t) {
	case VTD_XT_SL: return "sl";
	case VTD_XT_FL: return "fl";
	case VTD_XT_NESTED: return "nested";
	case VTD_XT_PT: return "pt";
	default: return "none";
	}
}

static const char *perm_word(unsigned p)
{
	return p == (VTD_PERM_R | VTD_PERM_W) ? "rw" : p == VTD_PERM_R ? "r" : p == VTD_PERM_W ? "w" : "-";
}

static const char *code_word(enum vtd_errcode c)
{
	switch (c) {
	case VTD_E_READ: return "read";
	case VTD_E_RSVD: return "rsvd";
	case VTD_E_INVAL: return "inval";
	case VTD_E_LOOP: return "loop";
	case VTD_E_LIMIT: return "limit";
	default: return "other";
	}
}

static void pasid_str(int64_t p, char *buf)
{
	if (p < 0)
		strcpy(buf, "-");
	else
		snprintf(buf, 24, "%" PRId64, p);
}

int scn_write_expect(const struct scn *s, const char *path, char *err, size_t errlen)
{
	char tmp[4200], b1[16], p1[24];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "# expected answers of scenario %s (format: testdata/scenarios/README.md)\n", s->name);
	fprintf(f, "scenario %s\n", s->name);
	for (size_t i = 0; i < s->nunits; i++) {
		const struct vtd_unit *u = &s->units[i];
		fprintf(f, "unit %s segment=%u cap=0x%" PRIx64 " ecap=0x%" PRIx64 " rtaddr=0x%" PRIx64
			" haw=%u irta=0x%" PRIx64 " iqa=0x%" PRIx64 " qi-status=", u->name, u->segment,
			u->cap, u->ecap, u->rtaddr, u->haw, u->irta, u->qi.iqa);
		if (u->qi.status_pa == VTD_NOADDR)
			fprintf(f, "-\n");
		else
			fprintf(f, "0x%" PRIx64 "\n", u->qi.status_pa);
	}
	for (size_t i = 0; i < s->nctxs; i++) {
		const struct vtd_devctx *c = &s->ctxs[i];
		pasid_str(c->pasid, p1);
		fprintf(f, "ctx %s %s pasid=%s xtype=%s did=%d sl-root=0x%" PRIx64 " sl-levels=%u fl-root=0x%"
			PRIx64 " fl-levels=%u\n", s->ctx_units[i], scn_bdf_str(c->sid, b1), p1,
			xt_word(c->xtype), c->did, c->sl_root, c->sl_levels, c->fl_root, c->fl_levels);
	}
	for (size_t i = 0; i < s->nmaps; i++) {
		const struct scn_map *m = &s->maps[i];
		pasid_str(m->pasid, p1);
		fprintf(f, "map %s %s pasid=%s iova=0x%" PRIx64 " size=0x%" PRIx64 " pa=0x%" PRIx64
			" ps=0x%" PRIx64 " perm=%s xtype=%s\n", m->unit, scn_bdf_str(m->sid, b1), p1,
			m->iova, m->size, m->pa, m->page_size, perm_word(m->perm), xt_word(m->xtype));
	}
	for (size_t i = 0; i < s->nxlates; i++) {
		const struct scn_xlate *x = &s->xlates[i];
		pasid_str(x->rq.pasid, p1);
		fprintf(f, "xlate %s %s pasid=%s iova=0x%" PRIx64 " access=%s ", x->unit,
			scn_bdf_str(x->rq.sid, b1), p1, x->rq.iova, x->rq.access == VTD_ACC_WRITE ? "w" : "r");
		if (x->fault)
			fprintf(f, "fault=0x%x level=%d\n", x->fault, x->level);
		else
			fprintf(f, "pa=0x%" PRIx64 " ps=0x%" PRIx64 "\n", x->pa, x->page_size);
	}
	for (size_t i = 0; i < s->nrmaps; i++) {
		const struct scn_rmap *r = &s->rmaps[i];
		fprintf(f, "rmap 0x%" PRIx64 "+0x%" PRIx64, r->query_pa, r->query_len);
		if (!r->unit[0]) {
			fprintf(f, " none\n");
			continue;
		}
		pasid_str(r->pasid, p1);
		fprintf(f, " %s %s pasid=%s iova=0x%" PRIx64 " pa=0x%" PRIx64 " size=0x%" PRIx64
			" perm=%s xtype=%s\n", r->unit, scn_bdf_str(r->sid, b1), p1, r->iova, r->pa,
			r->size, perm_word(r->perm), xt_word(r->xtype));
	}
	for (size_t i = 0; i < s->nirtes; i++) {
		const struct scn_irte *e = &s->irtes[i];
		fprintf(f, "irte %s index=%u low=0x%016" PRIx64 " high=0x%016" PRIx64 " posted=%d vector=0x%x"
			" dest=0x%x pda=0x%" PRIx64 " sid=%s sq=%u svt=%u\n", e->unit, e->index, e->irte.low,
			e->irte.high, e->posted, e->vector, e->dest, e->pda, scn_bdf_str((uint16_t)e->sid, b1),
			e->sq, e->svt);
	}
	for (size_t i = 0; i < s->nqis; i++) {
		const struct scn_qi *q = &s->qis[i];
		fprintf(f, "qi %s index=%u type=%u status=%d", q->unit, q->index, q->type, q->status);
		if (q->is_wait)
			fprintf(f, " wait addr=0x%" PRIx64 " data=0x%x done=%d", q->status_addr,
				q->status_data, q->wait_done);
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < s->ndiags; i++) {
		const struct scn_diag *d = &s->diags[i];
		pasid_str(d->pasid, p1);
		fprintf(f, "diag %s %s pasid=%s code=%s level=%d index=%d what=%s\n", d->unit,
			d->sid < 0 ? "-" : scn_bdf_str((uint16_t)d->sid, b1), p1, code_word(d->code),
			d->level, d->index, d->what ? d->what : "-");
	}
	if (ferror(f) | fclose(f)) {
		snprintf(err, errlen, "%s: write error", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}
