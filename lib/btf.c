/* BTF decoding (see vtd/btf.h; the format: the kernel's
 * Documentation/bpf/btf.rst). */
#include "vtd/btf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BTF_MAGIC 0xeb9f
enum {
	K_INT = 1, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF, K_VOLATILE,
	K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC, K_FLOAT, K_DECL_TAG,
	K_TYPE_TAG, K_ENUM64,
};

struct vtd_btf {
	uint8_t *data;
	const uint8_t *types, *strs;
	uint32_t types_len, strs_len;
	uint32_t *off;                 /* type id -> offset of its record in types */
	unsigned n;                    /* type ids 1..n-1 */
	struct ix { uint32_t name; int kind; unsigned id; } *ix;   /* struct/union by name */
	size_t nix;
};

static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static const uint8_t *rec(const struct vtd_btf *b, unsigned id)
{
	return id && id < b->n ? b->types + b->off[id] : NULL;
}

static int kind(const uint8_t *t) { return (int)(u32(t + 4) >> 24 & 0x1f); }
static unsigned vlen(const uint8_t *t) { return u32(t + 4) & 0xffff; }
static bool kflag(const uint8_t *t) { return u32(t + 4) >> 31; }

/* A NUL-terminated string at off, or NULL. */
static const char *str(const struct vtd_btf *b, uint32_t off)
{
	if (off >= b->strs_len || !memchr(b->strs + off, 0, b->strs_len - off))
		return NULL;
	return (const char *)b->strs + off;
}

/* Bytes a type record takes: 12 and what its kind appends; 0 if unknown. */
static size_t rec_len(const uint8_t *t)
{
	size_t v = vlen(t);
	switch (kind(t)) {
	case K_INT: case K_VAR: case K_DECL_TAG: return 16;
	case K_PTR: case K_FWD: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
	case K_FUNC: case K_FLOAT: case K_TYPE_TAG: return 12;
	case K_ARRAY: return 24;
	case K_STRUCT: case K_UNION: case K_DATASEC: case K_ENUM64: return 12 + 12 * v;
	case K_ENUM: case K_FUNC_PROTO: return 12 + 8 * v;
	default: return 0;
	}
}

static uint64_t hash(const char *s, int k)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)k;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct vtd_btf *vtd_btf_new(const void *data, size_t len, struct vtd_error *e)
{
	const uint8_t *d = data;
	if (len < 24 || (d[0] | d[1] << 8) != BTF_MAGIC || d[2] != 1)
		return vtd_error_set(e, VTD_E_INVAL, "no BTF header (magic 0xeb9f, version 1)"), NULL;
	uint32_t hdr = u32(d + 4), toff = u32(d + 8), tlen = u32(d + 12), soff = u32(d + 16),
		 slen = u32(d + 20);
	if (hdr < 24 || hdr > len || (uint64_t)hdr + toff + tlen > len || (uint64_t)hdr + soff + slen > len ||
	    (hdr + toff) % 4 || tlen % 4 || !slen)
		return vtd_error_set(e, VTD_E_INVAL, "header sections (types at +%u, %u bytes; "
				     "strings at +%u, %u bytes) do not fit the %zu bytes, or are not "
				     "4-byte aligned", toff, tlen, soff, slen, len), NULL;
	struct vtd_btf *b = calloc(1, sizeof(*b));
	if (!b || !(b->data = malloc(len))) {
		free(b);
		return vtd_error_set(e, VTD_E_NOMEM, "out of memory"), NULL;
	}
	memcpy(b->data, d, len);
	b->types = b->data + hdr + toff;
	b->types_len = tlen;
	b->strs = b->data + hdr + soff;
	b->strs_len = slen;
	if (b->strs[slen - 1])
		goto bad_strs;
	/* one pass for the record offsets */
	size_t cap = 1024;
	b->off = malloc(cap * sizeof(*b->off));
	b->n = 1;
	for (uint32_t at = 0; b->off && at < tlen;) {
		if (tlen - at < 12)
			goto bad;
		size_t l = rec_len(b->types + at);
		if (!l || l > tlen - at)
			goto bad;
		if (b->n == cap) {
			uint32_t *no = realloc(b->off, 2 * cap * sizeof(*no));
			if (!no) {
				free(b->off);
				b->off = NULL;
				break;
			}
			b->off = no;
			cap *= 2;
		}
		b->off[b->n++] = at;
		at += (uint32_t)l;
	}
	if (!b->off)
		goto nomem;
	/* struct/union names: the first definition wins (as libbpf's lookup) */
	for (b->nix = 1; b->nix <= 2 * (size_t)b->n; b->nix <<= 1)
		;
	if (!(b->ix = calloc(b->nix, sizeof(*b->ix))))
		goto nomem;
	for (unsigned id = 1; id < b->n; id++) {
		const uint8_t *t = rec(b, id);
		int k = kind(t);
		const char *name = str(b, u32(t));
		if ((k != K_STRUCT && k != K_UNION) || !name || !*name)
			continue;
		size_t j = hash(name, k) & (b->nix - 1);
		while (b->ix[j].id && (b->ix[j].kind != k || strcmp(str(b, b->ix[j].name), name)))
			j = (j + 1) & (b->nix - 1);
		if (!b->ix[j].id)
			b->ix[j] = (struct ix){ u32(t), k, id };
	}
	return b;
bad:
	vtd_error_set(e, VTD_E_INVAL, "type %u (at +%u of the type section) is cut short or of "
		      "an unknown kind", b->n, b->n > 1 ? b->off[b->n - 1] : 0);
	vtd_btf_free(b);
	return NULL;
bad_strs:
	vtd_error_set(e, VTD_E_INVAL, "the string section does not end with a NUL");
	vtd_btf_free(b);
	return NULL;
nomem:
	vtd_btf_free(b);
	return vtd_error_set(e, VTD_E_NOMEM, "out of memory"), NULL;
}

void vtd_btf_free(struct vtd_btf *b)
{
	if (!b)
		return;
	free(b->data);
	free(b->off);
	free(b->ix);
	free(b);
}

unsigned vtd_btf_ntypes(const struct vtd_btf *b) { return b->n; }

/* Past typedefs and qualifiers: the id of the type proper, 0 for void, -1. */
static int resolve(const struct vtd_btf *b, unsigned id)
{
	for (int depth = 0; depth < 32; depth++) {
		const uint8_t *t = rec(b, id);
		if (!id)
			return 0;
		if (!t)
			return -1;
		switch (kind(t)) {
		case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT: case K_TYPE_TAG:
			id = u32(t + 8);
			continue;
		default:
			return (int)id;
		}
	}
	return -1;
}

/* A type's size in bytes (arrays: elements times their size), or -1. */
static int64_t size_of(const struct vtd_btf *b, unsigned id, int depth)
{
	int r = resolve(b, id);
	const uint8_t *t = r > 0 ? rec(b, (unsigned)r) : NULL;
	if (!t || depth > 32)
		return -1;
	switch (kind(t)) {
	case K_INT: case K_STRUCT: case K_UNION: case K_ENUM: case K_ENUM64: case K_FLOAT:
	case K_DATASEC:
		return u32(t + 8);
	case K_PTR:
		return 8;
	case K_ARRAY: {
		int64_t es = size_of(b, u32(t + 12), depth + 1);
		uint64_t n = u32(t + 20);
		if (es < 0 || (es && n > (uint64_t)INT64_MAX / (uint64_t)es))
			return -1;
		return es * (int64_t)n;
	}
	default:
		return -1;
	}
}

/* "struct x" / "union x" / a plain name -> type id, or -1. */
static int type_id(const struct vtd_btf *b, const char *type)
{
	int k = 0;
	if (!strncmp(type, "struct ", 7))
		k = K_STRUCT, type += 7;
	else if (!strncmp(type, "union ", 6))
		k = K_UNION, type += 6;
	if (k) {
		for (size_t j = hash(type, k) & (b->nix - 1); b->ix[j].id; j = (j + 1) & (b->nix - 1))
			if (b->ix[j].kind == k && !strcmp(str(b, b->ix[j].name), type))
				return (int)b->ix[j].id;
		return -1;
	}
	for (unsigned id = 1; id < b->n; id++) {
		const char *n = str(b, u32(rec(b, id)));
		if (n && !strcmp(n, type))
			return (int)id;
	}
	return -1;
}

int vtd_btf_type_size(const struct vtd_btf *b, const char *type, uint64_t *size)
{
	int id = type_id(b, type);
	int64_t s = id > 0 ? size_of(b, (unsigned)id, 0) : -1;
	if (s < 0)
		return -1;
	*size = (uint64_t)s;
	return 0;
}

/* name among the members of composite type id, descending into anonymous
 * members; *bits accumulates the bit offset; *m the member's record.
 * *budget bounds the members visited: anonymous members that repeat one
 * type would make the descent exponential (fuzz_btf). */
static int find_member(const struct vtd_btf *b, unsigned id, const char *name, uint64_t *bits,
		       const uint8_t **parent, const uint8_t **m, int depth, unsigned *budget)
{
	int r = resolve(b, id);
	const uint8_t *t = r > 0 ? rec(b, (unsigned)r) : NULL;
	if (!t || (kind(t) != K_STRUCT && kind(t) != K_UNION) || depth > 8)
		return -1;
	for (unsigned i = 0; i < vlen(t); i++) {
		if (!*budget)
			return -1;              /* spent: stays 0 all the way up */
		(*budget)--;
		const uint8_t *mm = t + 12 + 12 * i;
		const char *n = str(b, u32(mm));
		uint32_t o = u32(mm + 8);
		uint64_t bb = *bits + (kflag(t) ? (o & 0xffffff) : o);
		if (n && *n && !strcmp(n, name)) {
			*bits = bb;
			*parent = t;
			*m = mm;
			return 0;
		}
		if ((!n || !*n) && find_member(b, u32(mm + 4), name, &bb, parent, m, depth + 1, budget) == 0) {
			*bits = bb;
			return 0;
		}
	}
	return -1;
}

int vtd_btf_member(const struct vtd_btf *b, const char *type, const char *member,
		   struct vtd_member *out)
{
	int id = type_id(b, type);
	const uint8_t *parent = NULL, *m = NULL;
	uint64_t bits = 0;
	char path[256];
	if (id <= 0 || strlen(member) >= sizeof(path))
		return -1;
	strcpy(path, member);
	for (char *part = path, *dot; part; part = dot) {
		if ((dot = strchr(part, '.')))
			*dot++ = 0;
		unsigned budget = 1u << 16;
		if (!*part || find_member(b, (unsigned)id, part, &bits, &parent, &m, 0, &budget))
			return -1;
		id = (int)u32(m + 4);
	}
	memset(out, 0, sizeof(*out));
	unsigned bsz = kflag(parent) ? u32(m + 8) >> 24 : 0;
	out->offset = bits / 8;
	if (bsz) {
		out->bit_offset = (unsigned)(bits % 8);
		out->bit_size = bsz;
		out->size = (out->bit_offset + bsz + 7) / 8;
		return 0;
	}
	int64_t s = size_of(b, (unsigned)id, 0);
	out->size = s > 0 ? (uint64_t)s : 0;
	return 0;
}
