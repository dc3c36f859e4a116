/* Kernel type information from BTF (see kinfo_btf.h). */
#include "kinfo_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kinfo_btf {
	struct btf *btf;
	/* "struct x"/"union x" -> type id, built on the first lookup: libbpf's
	 * btf__find_by_name_kind() scans every type (~100k in a kernel) */
	struct { const char *name; int kind; int id; } *ix;
	size_t nix;
};

static uint64_t hash(const char *s, int kind)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void build_index(struct kinfo_btf *kb)
{
	unsigned n = btf__type_cnt(kb->btf);
	size_t cap = 1;
	while (cap <= 2 * (size_t)n)
		cap <<= 1;
	kb->ix = calloc(cap, sizeof(*kb->ix));
	if (!kb->ix)
		return;
	kb->nix = cap;
	for (unsigned id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, id);
		int kind = t ? btf_kind(t) : 0;
		if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION)
			continue;
		const char *name = btf__name_by_offset(kb->btf, t->name_off);
		if (!name || !*name)
			continue;
		size_t j = hash(name, kind) & (cap - 1);
		while (kb->ix[j].name && (kb->ix[j].kind != kind || strcmp(kb->ix[j].name, name)))
			j = (j + 1) & (cap - 1);
		if (!kb->ix[j].name)              /* the first definition wins, as libbpf's */
			kb->ix[j].name = name, kb->ix[j].kind = kind, kb->ix[j].id = (int)id;
	}
}

static int find_composite(struct kinfo_btf *kb, const char *name, int kind)
{
	if (!kb->ix)
		build_index(kb);
	if (!kb->ix)
		return btf__find_by_name_kind(kb->btf, name, (__u32)kind);
	for (size_t j = hash(name, kind) & (kb->nix - 1); kb->ix[j].name; j = (j + 1) & (kb->nix - 1))
		if (kb->ix[j].kind == kind && !strcmp(kb->ix[j].name, name))
			return kb->ix[j].id;
	return -1;
}

/* libbpf prints its own diagnostics on stderr; ours name the file instead. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static struct kinfo_btf *wrap(struct btf *btf, const char *what, char *err, size_t errlen)
{
	struct kinfo_btf *kb;
	if (!btf) {
		snprintf(err, errlen, "%s: not BTF (%s)", what, strerror(errno ? errno : EINVAL));
		return NULL;
	}
	if (!(kb = calloc(1, sizeof(*kb)))) {
		btf__free(btf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	kb->btf = btf;
	return kb;
}

struct kinfo_btf *kinfo_btf_new(const void *data, size_t len, char *err, size_t errlen)
{
	/* libbpf reads struct btf_type (4-byte aligned) straight from the type
	 * section and does not check where the header puts it (fuzz_btf) */
	const struct btf_header *h = data;
	if (len < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len % 4 || h->type_off % 4 ||
	    h->type_len % 4 || h->hdr_len < sizeof(*h)) {
		snprintf(err, errlen, "BTF data: not BTF (bad magic, or a section not 4-byte aligned)");
		return NULL;
	}
	libbpf_set_print(quiet);
	errno = 0;
	return wrap(len > UINT32_MAX ? NULL : btf__new(data, (__u32)len), "BTF data", err, errlen);
}

struct kinfo_btf *kinfo_btf_open(const char *path, char *err, size_t errlen)
{
	libbpf_set_print(quiet);
	errno = 0;
	struct btf *btf = btf__parse(path, NULL);
	if (!btf) {
		snprintf(err, errlen, "%s: cannot read BTF (%s)", path,
			 strerror(errno ? errno : EINVAL));
		return NULL;
	}
	return wrap(btf, path, err, errlen);
}

void kinfo_btf_close(struct kinfo_btf *kb)
{
	if (!kb)
		return;
	btf__free(kb->btf);
	free(kb->ix);
	free(kb);
}

unsigned kinfo_btf_ntypes(const struct kinfo_btf *kb) { return btf__type_cnt(kb->btf); }

/* "struct x" / "union x" -> type id, or -1. */
static int type_id(struct kinfo_btf *kb, const char *type)
{
	if (!strncmp(type, "struct ", 7))
		return find_composite(kb, type + 7, BTF_KIND_STRUCT);
	if (!strncmp(type, "union ", 6))
		return find_composite(kb, type + 6, BTF_KIND_UNION);
	return btf__find_by_name(kb->btf, type);
}

int kinfo_btf_type_size(struct kinfo_btf *kb, const char *type, uint64_t *size)
{
	int id = type_id(kb, type);
	if (id <= 0)
		return -1;
	long long s = btf__resolve_size(kb->btf, (__u32)id);
	if (s < 0)
		return -1;
	*size = (uint64_t)s;
	return 0;
}

/* Find name among the members of composite type id (descending into
 * anonymous members); *bits accumulates the bit offset. */
static int find_member(struct btf *btf, int id, const char *name, uint64_t *bits,
		       const struct btf_type **parent, int *index, int depth)
{
	id = btf__resolve_type(btf, (__u32)id);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
	if (!t || !btf_is_composite(t) || depth > 8)
		return -1;
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		uint64_t b = *bits + btf_member_bit_offset(t, (__u32)i);
		if (n && *n && !strcmp(n, name)) {
			*bits = b;
			*parent = t;
			*index = i;
			return 0;
		}
		if ((!n || !*n) && find_member(btf, (int)m[i].type, name, &b, parent, index, depth + 1) == 0) {
			*bits = b;
			return 0;
		}
	}
	return -1;
}

int kinfo_btf_member(struct kinfo_btf *kb, const char *type, const char *member,
		     struct vtd_member *out)
{
	int id = type_id(kb, type);
	const struct btf_type *parent = NULL;
	int index = -1;
	uint64_t bits = 0;
	char path[256], *save = NULL;
	if (id <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s", member);
	for (char *part = strtok_r(path, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		if (find_member(kb->btf, id, part, &bits, &parent, &index, 0))
			return -1;
		id = (int)btf_members(parent)[index].type;
	}
	if (!parent)
		return -1;
	memset(out, 0, sizeof(*out));
	unsigned bsz = btf_member_bitfield_size(parent, (__u32)index);
	if (bsz) {
		out->offset = bits / 8;
		out->bit_offset = (unsigned)(bits % 8);
		out->bit_size = bsz;
		out->size = (out->bit_offset + bsz + 7) / 8;
		return 0;
	}
	long long s = btf__resolve_size(kb->btf, (__u32)id);
	out->offset = bits / 8;
	out->size = s > 0 ? (uint64_t)s : 0;
	return 0;
}
