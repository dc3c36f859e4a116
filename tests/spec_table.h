/* Spec-table driver for the decoder tests (see the comment below). */
#ifndef TESTS_SPEC_TABLE_H
#define TESTS_SPEC_TABLE_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vtd/fields.h"

/* ------------------------------------------------------------------------
 * Spec-table driver, shared by test_regs.c, test_tables.c and test_irq_qi.c
 * (each is its own program: everything here is static).
 *
 * A struct sf row is one field as the VT-d spec lays it out, written by hand
 * from the spec (docs/decoded-fields.md lists them and their sources).  From
 * a table of rows the driver checks, for one struct vtd_format:
 *   layout    the library's field of that name has the same bits, kind and
 *             condition; every bit of the entry is covered by exactly one
 *             library field, of the kind the spec gives it;
 *   accessor  (a) the field alone, set to a pattern with its lowest and
 *             highest bit set, reads back through the inline accessor and
 *             vtd_field_get(), and every other accessor of the entry reads 0;
 *             (b) every other bit set, the accessor reads 0;
 *   reserved  every reserved bit alone is reported by vtd_format_check()
 *             as that reserved field with exactly that bit; all non-reserved
 *             bits set are clean; an optional field is reported (by name,
 *             with its bits) unless its condition is given.
 * Expected values never come from the library: they are the pattern this
 * file wrote, shifted as the spec's field position says.
 */
typedef uint64_t (*acc_fn)(const uint64_t *q);

/* name: the spec's name, or "SPEC|LIB" when the library spells it LIB (a
 * note is printed; bits and kind must still match).  Expected accessor value
 * = (field value << shl) + add; the field value is shifted down to bit 0 for
 * VAL/FLAG and kept in place (bits lo%64.. of an address) for ADDR/IOVA. */
struct sf {
	const char *name;
	unsigned lo, hi;
	unsigned kind;            /* enum vtd_field_kind */
	unsigned cond;            /* enum vtd_field_cond */
	acc_fn acc;               /* NULL: no accessor for this field */
	unsigned shl;
	uint64_t add;
	uint64_t condmask;        /* with cond: the field bits that need it, 0 = all */
};

struct sfmt {
	const char *title;
	const struct vtd_format *fmt;
	unsigned nbits;           /* bits the format covers: 32, 64, 128, 256, 512 */
	const struct sf *f;
	size_t n;
};

#define ALL_CONDS 0x3fu
#define V  VTD_F_VAL
#define FL VTD_F_FLAG
#define AD VTD_F_ADDR
#define IO VTD_F_IOVA
#define F(nm, lo, hi, k, acc)            { nm, lo, hi, k, 0, acc, 0, 0, 0 }
#define FX(nm, lo, hi, k, acc, shl, add) { nm, lo, hi, k, 0, acc, shl, add, 0 }
#define FC(nm, lo, hi, k, cond, acc)     { nm, lo, hi, k, cond, acc, 0, 0, 0 }
#define FCM(nm, lo, hi, k, cond, m, acc) { nm, lo, hi, k, cond, acc, 0, 0, m }
#define RSV(lo, hi)                      { "RSVD", lo, hi, VTD_F_RSVD, 0, NULL, 0, 0, 0 }
#define IGN(lo, hi)                      { "IGN", lo, hi, VTD_F_IGN, 0, NULL, 0, 0, 0 }
#define SFMT(title, fmt, nbits, tab) \
	{ title, fmt, nbits, tab, sizeof(tab) / sizeof((tab)[0]) }

static uint64_t wmask(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

/* Set bits lo..hi (hi - lo < 64, may straddle two qwords) of q to v. */
static void put_bits(uint64_t *q, unsigned lo, unsigned hi, uint64_t v)
{
	for (unsigned b = lo; b <= hi; b++) {
		uint64_t bit = 1ull << (b % 64);
		if (v >> (b - lo) & 1)
			q[b / 64] |= bit;
		else
			q[b / 64] &= ~bit;
	}
}

/* A value for a w-bit field: lowest and highest bit set, a mix between. */
static uint64_t pattern(unsigned w)
{
	return (0x96c3a55a3c69e1b4ull & wmask(w)) | 1 | 1ull << (w - 1);
}

static uint64_t sf_value(const struct sf *s, uint64_t v)
{
	return s->kind == VTD_F_ADDR || s->kind == VTD_F_IOVA ? v << (s->lo % 64) : v;
}

static uint64_t sf_expect(const struct sf *s, uint64_t v)
{
	return (sf_value(s, v) << s->shl) + s->add;
}

/* The library field named by one of the '|'-separated names; *alias is set
 * when it is not the first (the spec's) name. */
static const struct vtd_field *lookup(const struct vtd_format *fmt, const char *names,
				      bool *alias)
{
	char buf[64];
	const char *p = names;
	*alias = false;
	while (*p) {
		size_t n = strcspn(p, "|");
		snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
		const struct vtd_field *f = vtd_format_field(fmt, buf);
		if (f)
			return f;
		p += n;
		if (*p == '|')
			p++;
		*alias = true;
	}
	return NULL;
}

static bool named(const struct sf *s)
{
	return s->kind != VTD_F_RSVD && s->kind != VTD_F_IGN;
}

static bool name_is(const char *names, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = names; *p;) {
		size_t m = strcspn(p, "|");
		if (m == n && !strncmp(p, name, n))
			return true;
		p += m;
		if (*p == '|')
			p++;
	}
	return false;
}

static const char *kind_name(unsigned k)
{
	switch (k) {
	case VTD_F_VAL: return "VAL";
	case VTD_F_FLAG: return "FLAG";
	case VTD_F_ADDR: return "ADDR";
	case VTD_F_IOVA: return "IOVA";
	case VTD_F_RSVD: return "RSVD";
	case VTD_F_IGN: return "IGN";
	}
	return "?";
}

static void run_layout(const struct sfmt *m)
{
	check_begin("%s: %u qwords", m->title, (m->nbits + 63) / 64);
	EXPECT(m->fmt != NULL);
	if (m->fmt)
		EXPECT_EQ(m->fmt->nqwords, (m->nbits + 63) / 64);
	check_end();
	if (!m->fmt)
		return;
	for (size_t i = 0; i < m->n; i++) {
		const struct sf *s = &m->f[i];
		if (!named(s))
			continue;
		check_begin("%s: %s is bits %u:%u %s", m->title, s->name, s->hi, s->lo,
			    kind_name(s->kind));
		bool alias;
		const struct vtd_field *f = lookup(m->fmt, s->name, &alias);
		EXPECT_MSG(f != NULL, "no field named %s", s->name);
		if (f) {
			if (alias)
				printf("NOTE %s: spec field %.*s is named %s in the library\n",
				       m->title, (int)strcspn(s->name, "|"), s->name, f->name);
			EXPECT_EQ(f->lo, s->lo);
			EXPECT_EQ(f->hi, s->hi);
			EXPECT_MSG(f->kind == s->kind, "%s kind %s, expected %s", f->name,
				   kind_name(f->kind), kind_name(s->kind));
			EXPECT_EQ(f->cond, s->cond);
			EXPECT_EQ(f->condmask, s->condmask);
		}
		check_end();
	}
	/* Every bit: exactly one library field, of the spec's kind. */
	check_begin("%s: every bit has one field of the spec's kind", m->title);
	for (unsigned b = 0; b < m->nbits; b++) {
		const struct sf *mine = NULL;
		for (size_t i = 0; i < m->n; i++)
			if (m->f[i].lo <= b && b <= m->f[i].hi)
				mine = &m->f[i];
		const struct vtd_field *lib = NULL;
		unsigned nlib = 0;
		for (unsigned i = 0; i < m->fmt->nfields; i++)
			if (m->fmt->fields[i].lo <= b && b <= m->fmt->fields[i].hi) {
				lib = &m->fmt->fields[i];
				nlib++;
			}
		EXPECT_MSG(mine != NULL, "test table does not cover bit %u", b);
		EXPECT_MSG(nlib == 1, "bit %u is in %u library fields", b, nlib);
		if (mine && lib)
			EXPECT_MSG(lib->kind == mine->kind,
				   "bit %u: library %s(%u:%u) is %s, spec %s(%u:%u) is %s",
				   b, lib->name, lib->hi, lib->lo, kind_name(lib->kind),
				   mine->name, mine->hi, mine->lo, kind_name(mine->kind));
	}
	check_end();
}

static void run_accessors(const struct sfmt *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct sf *s = &m->f[i];
		if (!s->acc)
			continue;
		uint64_t q[8] = { 0 }, v = pattern(s->hi - s->lo + 1);
		check_begin("%s: %s accessor", m->title, s->name);
		/* (a) the field alone */
		put_bits(q, s->lo, s->hi, v);
		EXPECT_MSG(s->acc(q) == sf_expect(s, v), "%s alone = 0x%" PRIx64
			   ": accessor 0x%" PRIx64 ", expected 0x%" PRIx64, s->name, v,
			   s->acc(q), sf_expect(s, v));
		for (size_t j = 0; j < m->n; j++)
			if (m->f[j].acc && m->f[j].acc != s->acc)
				EXPECT_MSG(m->f[j].acc(q) == m->f[j].add,
					   "%s alone: %s accessor reads 0x%" PRIx64, s->name,
					   m->f[j].name, m->f[j].acc(q));
		bool alias;
		const struct vtd_field *f = m->fmt ? lookup(m->fmt, s->name, &alias) : NULL;
		if (f)
			EXPECT_MSG(vtd_field_get(q, f) == sf_value(s, v),
				   "vtd_field_get(%s) = 0x%" PRIx64 ", expected 0x%" PRIx64,
				   f->name, vtd_field_get(q, f), sf_value(s, v));
		/* (b) everything else set: all bits but those of every field
		 * this accessor reads */
		memset(q, 0xff, sizeof(q));
		for (size_t j = 0; j < m->n; j++)
			if (m->f[j].acc == s->acc)
				put_bits(q, m->f[j].lo, m->f[j].hi, 0);
		EXPECT_MSG(s->acc(q) == s->add, "all bits but %s set: accessor 0x%" PRIx64
			   ", expected 0x%" PRIx64, s->name, s->acc(q), s->add);
		check_end();
	}
}

/* Expect vtd_format_check(q) to report exactly the absolute bits want (a
 * contiguous run inside one library field) as the field named names. */
static void expect_violation(const struct vtd_format *fmt, const uint64_t *q, unsigned haw,
			     unsigned conds, const char *names, unsigned lo, unsigned hi,
			     const char *why)
{
	struct vtd_rsvd r;
	memset(&r, 0, sizeof(r));
	unsigned n = vtd_format_check(fmt, q, haw, conds, &r);
	EXPECT_MSG(n == 1, "bits %u:%u: %u violations", hi, lo, n);
	if (n < 1)
		return;
	EXPECT_MSG(r.field && name_is(names, r.field), "bits %u:%u reported as %s, expected %s",
		   hi, lo, r.field ? r.field : "(null)", names);
	EXPECT_MSG(r.lo <= lo && hi <= r.hi, "bits %u:%u reported in field bits %u:%u",
		   hi, lo, r.hi, r.lo);
	if (r.lo <= lo && hi <= r.hi)
		EXPECT_MSG(r.bits == wmask(hi - lo + 1) << (lo - r.lo),
			   "bits %u:%u: offending bits 0x%" PRIx64 " of %s(%u:%u), expected 0x%"
			   PRIx64, hi, lo, r.bits, r.field, r.hi, r.lo,
			   wmask(hi - lo + 1) << (lo - r.lo));
	if (why)
		EXPECT_MSG(strstr(r.why, why) != NULL, "why \"%s\" lacks \"%s\"", r.why, why);
}

static void run_reserved(const struct sfmt *m)
{
	uint64_t q[8];
	struct vtd_rsvd r;

	check_begin("%s: every non-reserved bit set is clean", m->title);
	memset(q, 0, sizeof(q));
	for (size_t i = 0; i < m->n; i++)
		if (m->f[i].kind != VTD_F_RSVD)
			put_bits(q, m->f[i].lo, m->f[i].hi, ~0ull);
	memset(&r, 0, sizeof(r));
	unsigned n = vtd_format_check(m->fmt, q, 64, ALL_CONDS, &r);
	EXPECT_MSG(n == 0, "%u violations, first %s(%u:%u) bits 0x%" PRIx64 " (%s)",
		   n, r.field ? r.field : "?", r.hi, r.lo, r.bits, r.why);
	check_end();

	for (size_t i = 0; i < m->n; i++) {
		const struct sf *s = &m->f[i];
		if (s->kind == VTD_F_RSVD) {
			check_begin("%s: reserved bits %u:%u", m->title, s->hi, s->lo);
			for (unsigned b = s->lo; b <= s->hi; b++) {
				memset(q, 0, sizeof(q));
				put_bits(q, b, b, 1);
				expect_violation(m->fmt, q, 52, ALL_CONDS, "RSVD", b, b, "reserved");
			}
			/* the whole range (one qword at a time) */
			for (unsigned lo = s->lo; lo <= s->hi; lo = (lo / 64 + 1) * 64) {
				unsigned hi = s->hi < (lo / 64 + 1) * 64 - 1 ? s->hi : (lo / 64 + 1) * 64 - 1;
				memset(q, 0, sizeof(q));
				put_bits(q, lo, hi, ~0ull);
				memset(&r, 0, sizeof(r));
				n = vtd_format_check(m->fmt, q, 52, ALL_CONDS, &r);
				EXPECT_MSG(n >= 1 && r.field && !strcmp(r.field, "RSVD"),
					   "bits %u:%u all set: %u violations", hi, lo, n);
			}
			check_end();
		} else if (s->cond) {
			/* the field all ones: without the condition exactly the
			 * bits that need it are reported, with it nothing */
			uint64_t want = s->condmask ? s->condmask : wmask(s->hi - s->lo + 1);
			check_begin("%s: %s valid only with its condition", m->title, s->name);
			memset(q, 0, sizeof(q));
			put_bits(q, s->lo, s->hi, ~0ull);
			memset(&r, 0, sizeof(r));
			n = vtd_format_check(m->fmt, q, 52, ALL_CONDS & ~s->cond, &r);
			EXPECT_MSG(n == 1, "%u violations", n);
			EXPECT_MSG(r.field && name_is(s->name, r.field), "reported as %s",
				   r.field ? r.field : "(null)");
			EXPECT_MSG(r.lo == s->lo && r.hi == s->hi && r.bits == want,
				   "reported %u:%u bits 0x%" PRIx64 ", expected %u:%u bits 0x%" PRIx64,
				   r.hi, r.lo, r.bits, s->hi, s->lo, want);
			EXPECT_EQ(vtd_format_check(m->fmt, q, 52, s->cond, NULL), 0);
			/* the bits that need no condition are fine without it */
			if (s->condmask) {
				memset(q, 0, sizeof(q));
				put_bits(q, s->lo, s->hi, ~s->condmask);
				EXPECT_EQ(vtd_format_check(m->fmt, q, 52, 0, NULL), 0);
			}
			check_end();
		}
	}
}

static void run_all(const struct sfmt *m)
{
	run_layout(m);
	if (!m->fmt)
		return;
	run_accessors(m);
	run_reserved(m);
}

/* Does the space-separated list s contain the token tok? */
static inline bool has_token(const char *s, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = s; (p = strstr(p, tok)); p++)
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return true;
	return false;
}

#endif
