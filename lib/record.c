/* The marks record (docs/marks-record.md): write and parse. */
#include "vtd/record.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

struct out { char *b; size_t n, cap; int nomem; };

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = o->cap - o->n;
		va_start(ap, fmt);
		int k = vsnprintf(o->b ? o->b + o->n : NULL, o->b ? room : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			o->nomem = 1;
			return;
		}
		if (o->b && (size_t)k < room) {
			o->n += (size_t)k;
			return;
		}
		size_t nc = (o->cap ? o->cap * 2 : 4096) + (size_t)k;
		char *nb = realloc(o->b, nc);
		if (!nb) {
			o->nomem = 1;
			return;
		}
		o->b = nb;
		o->cap = nc;
	}
}

/* free text: tabs and line breaks become spaces */
static void text(struct out *o, const char *key, const char *s)
{
	put(o, "\t%s=", key);
	for (; *s && !o->nomem; s++)
		put(o, "%c", *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static void hex(struct out *o, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put(o, "%02x", b[i]);
}

static void where(struct out *o, const char *unit, int seg, int sid, int64_t pasid)
{
	put(o, "\tunit=%s", unit[0] ? unit : "-");
	if (sid >= 0)
		put(o, "\tbdf=%04x:%02x:%02x.%x", seg < 0 ? 0 : seg, sid >> 8 & 0xff, sid >> 3 & 0x1f, sid & 7);
	else
		put(o, "\tbdf=-");
	if (pasid >= 0)
		put(o, "\tpasid=%" PRId64, pasid);
	else
		put(o, "\tpasid=-");
}

int vtd_record_format(const struct vtd_analysis *a, const struct vtd_record_meta *meta,
		      char **textp, size_t *len, struct vtd_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	put(&o, "%s %d\n", VTD_RECORD_MAGIC, VTD_RECORD_VERSION);
	put(&o, "meta");
	text(&o, "generator", meta && meta->generator[0] ? meta->generator : "vtdscope");
	text(&o, "dump_format", meta && meta->dump_format[0] ? meta->dump_format : "-");
	put(&o, "\tfindings=%zu\tmarks=%zu\trestores=%zu\n", a->nfindings, a->marks.n, a->nrestores);
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct vtd_finding *f = &a->findings[i];
		put(&o, "finding\tsev=%s\tkind=%s", vtd_severity_name(f->sev), f->kind[0] ? f->kind : "-");
		where(&o, f->unit, f->segment, f->sid, f->pasid);
		if (f->pa == VTD_NOADDR)
			put(&o, "\tpa=-");
		else
			put(&o, "\tpa=0x%" PRIx64, f->pa);
		text(&o, "text", f->text);
		put(&o, "\n");
	}
	for (size_t i = 0; i < a->marks.n; i++) {
		const struct vtd_mark *m = &a->marks.v[i];
		const char *r = vtd_mark_reason_name(m->reason);
		put(&o, "mark\tpfn=0x%" PRIx64 "\tn=%" PRIu64 "\treason=%s", m->pfn, m->npages, r ? r : "-");
		where(&o, m->unit, m->segment, m->sid, m->pasid);
		put(&o, "\tiova=0x%" PRIx64, m->iova);
		text(&o, "what", m->what);
		put(&o, "\n");
	}
	for (size_t i = 0; i < a->nrestores; i++) {
		const struct vtd_restore *r = &a->restores[i];
		put(&o, "restore\tpa=0x%" PRIx64 "\tlen=%u\toriginal=", r->pa, r->len);
		hex(&o, r->original, r->len);
		put(&o, "\tcaptured=");
		hex(&o, r->captured, r->len);
		text(&o, "source", r->source);
		put(&o, "\n");
	}
	if (o.nomem) {
		free(o.b);
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory for the marks record");
	}
	*textp = o.b;
	*len = o.n;
	return 0;
}

/* ---- parsing ---- */

#define MAXF 16

struct line {
	unsigned no;
	char kind[16];
	unsigned n;
	const char *key[MAXF], *val[MAXF];
};

static const char *field(const struct line *l, const char *key)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->key[i], key))
			return l->val[i];
	return NULL;
}

static int bad(struct vtd_error *err, const struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct vtd_error *err, const struct line *l, const char *fmt, ...)
{
	char m[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return vtd_error_set(err, VTD_E_INVAL, "marks record line %u (%s): %s", l->no, l->kind, m);
}

static int need(struct vtd_error *err, const struct line *l, const char *key, const char **v)
{
	*v = field(l, key);
	return *v ? 0 : bad(err, l, "no %s= field", key);
}

static int num(struct vtd_error *err, const struct line *l, const char *key, uint64_t *v)
{
	const char *s;
	char *end;
	if (need(err, l, key, &s))
		return -1;
	if (*s == '-' || !*s)
		return bad(err, l, "%s=%s is not a number", key, s);
	*v = strtoull(s, &end, 0);
	if (*end)
		return bad(err, l, "%s=%s is not a number", key, s);
	return 0;
}

static int location(struct vtd_error *err, const struct line *l, char *unit, size_t ul, int *seg,
		    int *sid, int64_t *pasid)
{
	const char *u, *b, *p;
	if (need(err, l, "unit", &u) || need(err, l, "bdf", &b) || need(err, l, "pasid", &p))
		return -1;
	snprintf(unit, ul, "%s", strcmp(u, "-") ? u : "");
	*seg = *sid = -1;
	if (strcmp(b, "-")) {
		unsigned s, bus, dev, fn;
		char tail;
		if (sscanf(b, "%x:%x:%x.%x%c", &s, &bus, &dev, &fn, &tail) != 4 || s > 0xffff ||
		    bus > 0xff || dev > 0x1f || fn > 7)
			return bad(err, l, "bdf=%s is not SSSS:BB:DD.F", b);
		*seg = (int)s;
		*sid = (int)(bus << 8 | dev << 3 | fn);
	}
	*pasid = VTD_NO_PASID;
	if (strcmp(p, "-")) {
		char *end;
		unsigned long long v = strtoull(p, &end, 0);
		if (*end || !*p || v >= 1u << 20)
			return bad(err, l, "pasid=%s is not a PASID", p);
		*pasid = (int64_t)v;
	}
	return 0;
}

static int unhex(struct vtd_error *err, const struct line *l, const char *key, uint8_t *b, unsigned n)
{
	const char *s;
	if (need(err, l, key, &s))
		return -1;
	if (strlen(s) != 2 * (size_t)n)
		return bad(err, l, "%s has %zu hex digits, len says %u bytes", key, strlen(s), n);
	for (unsigned i = 0; i < n; i++) {
		unsigned v;
		char d[3] = { s[2 * i], s[2 * i + 1], 0 };
		char *end;
		v = (unsigned)strtoul(d, &end, 16);
		if (*end || !d[0] || !d[1] || d[0] == '-' || d[0] == '+' || d[0] == ' ')
			return bad(err, l, "%s is not hex", key);
		b[i] = (uint8_t)v;
	}
	return 0;
}

static int sev_parse(const char *s, enum vtd_severity *v)
{
	for (int i = VTD_SEV_INFO; i <= VTD_SEV_ERROR; i++)
		if (!strcmp(s, vtd_severity_name((enum vtd_severity)i))) {
			*v = (enum vtd_severity)i;
			return 0;
		}
	return -1;
}

static int parse_finding(struct vtd_analysis *a, const struct line *l, struct vtd_error *err)
{
	struct vtd_finding f;
	const char *s, *k, *t;
	uint64_t pa;
	memset(&f, 0, sizeof(f));
	if (need(err, l, "sev", &s) || need(err, l, "kind", &k) || need(err, l, "pa", &t))
		return -1;
	if (sev_parse(s, &f.sev))
		return bad(err, l, "sev=%s is not info, warning or error", s);
	snprintf(f.kind, sizeof(f.kind), "%s", k);
	if (location(err, l, f.unit, sizeof(f.unit), &f.segment, &f.sid, &f.pasid))
		return -1;
	if (!strcmp(t, "-"))
		f.pa = VTD_NOADDR;
	else if (num(err, l, "pa", &pa))
		return -1;
	else
		f.pa = pa;
	if (need(err, l, "text", &t))
		return -1;
	snprintf(f.text, sizeof(f.text), "%s", t);
	if (vtd_analysis_add_finding(a, &f))
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	return 0;
}

static int parse_mark(struct vtd_analysis *a, const struct line *l, struct vtd_error *err)
{
	struct vtd_mark m;
	const char *r, *w;
	memset(&m, 0, sizeof(m));
	if (num(err, l, "pfn", &m.pfn) || num(err, l, "n", &m.npages) || need(err, l, "reason", &r) ||
	    num(err, l, "iova", &m.iova) || need(err, l, "what", &w))
		return -1;
	m.reason = vtd_mark_reason_parse(r);
	if (!m.reason)
		return bad(err, l, "reason=%s is not a mark reason", r);
	if (!m.npages || m.pfn + m.npages < m.pfn || m.pfn >> 52)
		return bad(err, l, "pfn=0x%" PRIx64 " n=%" PRIu64 " is not a page range", m.pfn, m.npages);
	if (location(err, l, m.unit, sizeof(m.unit), &m.segment, &m.sid, &m.pasid))
		return -1;
	snprintf(m.what, sizeof(m.what), "%s", w);
	struct vtd_marks *ms = &a->marks;
	if (ms->n == ms->cap) {        /* added as is: no merging, so the record round-trips */
		size_t nc = ms->cap ? 2 * ms->cap : 64;
		struct vtd_mark *nv = realloc(ms->v, nc * sizeof(*nv));
		if (!nv)
			return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
		ms->v = nv;
		ms->cap = nc;
	}
	ms->v[ms->n++] = m;
	return 0;
}

static int parse_restore(struct vtd_analysis *a, const struct line *l, struct vtd_error *err)
{
	struct vtd_restore r;
	uint64_t len;
	const char *s;
	memset(&r, 0, sizeof(r));
	if (num(err, l, "pa", &r.pa) || num(err, l, "len", &len))
		return -1;
	if (!len || len > VTD_RESTORE_MAX || (r.pa & 0xfff) + len > 4096)
		return bad(err, l, "len=%" PRIu64 " at pa=0x%" PRIx64 " is not 1..%d bytes within a page",
			   len, r.pa, VTD_RESTORE_MAX);
	r.len = (unsigned)len;
	if (unhex(err, l, "original", r.original, r.len) || unhex(err, l, "captured", r.captured, r.len) ||
	    need(err, l, "source", &s))
		return -1;
	snprintf(r.source, sizeof(r.source), "%s", s);
	struct vtd_restore *nr = realloc(a->restores, (a->nrestores + 1) * sizeof(*nr));
	if (!nr)
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	a->restores = nr;
	nr[a->nrestores++] = r;
	return 0;
}

/* Split one line (modified in place) into kind and fields.  Free-text keys
 * keep everything up to the end of the line. */
static void split(char *s, struct line *l)
{
	char *save = NULL, *tok = strtok_r(s, "\t", &save);
	snprintf(l->kind, sizeof(l->kind), "%s", tok ? tok : "");
	l->n = 0;
	while ((tok = strtok_r(NULL, "\t", &save)) && l->n < MAXF) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = 0;
		l->key[l->n] = tok;
		l->val[l->n++] = eq + 1;
	}
}

int vtd_record_parse(const char *text, size_t len, struct vtd_analysis **out,
		     struct vtd_record_meta *meta, char **journal, struct vtd_error *err)
{
	struct vtd_analysis *a = calloc(1, sizeof(*a));
	char *buf = malloc(len + 1);
	struct out j = { NULL, 0, 0, 0 };
	int rc = 0;
	bool ended = false;
	*out = NULL;
	if (journal)
		*journal = NULL;
	if (meta)
		memset(meta, 0, sizeof(*meta));
	if (!a || !buf) {
		free(a);
		free(buf);
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	}
	memcpy(buf, text, len);
	buf[len] = 0;
	if (strlen(buf) != len) {
		rc = vtd_error_set(err, VTD_E_INVAL, "marks record holds a NUL byte");
		goto out;
	}
	char *save = NULL, *ln = strtok_r(buf, "\n", &save);
	int major;
	char tail;
	if (!ln || sscanf(ln, VTD_RECORD_MAGIC " %d%c", &major, &tail) < 1 ||
	    strncmp(ln, VTD_RECORD_MAGIC " ", sizeof(VTD_RECORD_MAGIC))) {
		rc = vtd_error_set(err, VTD_E_INVAL, "not a marks record (no '%s N' first line)",
				   VTD_RECORD_MAGIC);
		goto out;
	}
	if (major != VTD_RECORD_VERSION) {
		rc = vtd_error_set(err, VTD_E_INVAL, "marks record version %d; this vtd reads version %d",
				   major, VTD_RECORD_VERSION);
		goto out;
	}
	for (unsigned no = 2; (ln = strtok_r(NULL, "\n", &save)); no++) {
		struct line l = { .no = no };
		if (ended)
			break;
		if (!strncmp(ln, "journal\t", 8)) {
			put(&j, "%s\n", ln);
			continue;
		}
		split(ln, &l);
		if (!strcmp(l.kind, "end")) {
			ended = true;
		} else if (!strcmp(l.kind, "meta")) {
			const char *g = field(&l, "generator"), *f = field(&l, "dump_format");
			if (meta && g)
				snprintf(meta->generator, sizeof(meta->generator), "%s", g);
			if (meta && f)
				snprintf(meta->dump_format, sizeof(meta->dump_format), "%s", f);
		} else if (!strcmp(l.kind, "finding")) {
			rc = parse_finding(a, &l, err);
		} else if (!strcmp(l.kind, "mark")) {
			rc = parse_mark(a, &l, err);
		} else if (!strcmp(l.kind, "restore")) {
			rc = parse_restore(a, &l, err);
		}                               /* other kinds: a later minor version */
		if (rc)
			goto out;
	}
	if (!ended) {
		rc = vtd_error_set(err, VTD_E_INVAL, "marks record is truncated (no 'end' line)");
		goto out;
	}
	if (j.nomem) {
		rc = vtd_error_set(err, VTD_E_NOMEM, "out of memory");
		goto out;
	}
	vtd_marks_sort(&a->marks);
out:
	free(buf);
	if (rc) {
		free(j.b);
		vtd_analysis_free(a);
		return rc;
	}
	if (journal)
		*journal = j.b ? j.b : strdup("");
	else
		free(j.b);
	*out = a;
	return 0;
}
