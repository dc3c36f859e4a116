/* Kernel symbols from the kernel's own kallsyms tables (see ksyms.h).
 *
 * Layout (scripts/kallsyms.c): kallsyms_names holds one record per symbol,
 * a length (one byte; two when bit 7 is set, since 6.1's big symbols) and
 * that many token bytes; each token byte expands to a string of
 * kallsyms_token_table at kallsyms_token_index[byte]; the first character
 * of the expansion is the symbol type.  Addresses are kallsyms_offsets
 * (s32) against kallsyms_relative_base — negative ones as base - 1 - off
 * when absolute per-CPU symbols are in use, which is the case whenever any
 * offset is negative — or a plain kallsyms_addresses array. */
#include "vtd/ksyms.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSYMS_MAX 4000000u      /* Linux has ~150k; beyond this it is not kallsyms */
#define KSYM_MAX_LEN 1024

struct ksym { const char *name; uint64_t addr; uint32_t idx; char type; };

struct vtd_ksyms {
	struct ksym *v;
	size_t n;
	char *pool;
	uint32_t *slot;           /* open addressing: index + 1 into v, 0 empty */
	size_t nslot;             /* a power of two, > 2n */
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* One page of kernel virtual memory at a time: the tables are read byte by
 * byte and are megabytes long. */
struct pgc {
	const struct vtd_mem *kv;
	uint64_t va;
	bool valid;
	uint8_t b[4096];
};

static int pgc_byte(struct pgc *c, uint64_t va, uint8_t *out, const char *what,
		    struct vtd_error *err)
{
	uint64_t pg = va & ~4095ull;
	if (!c->valid || c->va != pg) {
		c->valid = false;
		if (vtd_mem_read(c->kv, pg, c->b, 4096, err))
			return vtd_error_set(err, err->code, "kallsyms: reading %s at 0x%" PRIx64 ": %s",
					     what, va, err->msg);
		c->va = pg;
		c->valid = true;
	}
	*out = c->b[va & 4095];
	return 0;
}

static int pgc_read(struct pgc *c, uint64_t va, void *buf, size_t len, const char *what,
		    struct vtd_error *err)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		if (pgc_byte(c, va + i, &p[i], what, err))
			return -(int)err->code;
	return 0;
}

static int vmci_addr(const struct vtd_kinfo *ki, const char *sym, uint64_t *v)
{
	char key[80], buf[40], *end;
	snprintf(key, sizeof(key), "SYMBOL(%s)", sym);
	if (!ki->vmcoreinfo || ki->vmcoreinfo(ki->ctx, key, buf, sizeof(buf)))
		return -1;
	*v = strtoull(buf, &end, 16);
	return end == buf || !*v ? -1 : 0;
}

/* Index the names (O(n), no sort: a kernel has ~150k symbols and the
 * locator asks for a few dozen).  One entry per name: a global wins over a
 * local, then the first in table order. */
static int finish(struct vtd_ksyms *ks, struct vtd_error *err)
{
	if (!ks->n)
		return vtd_error_set(err, VTD_E_INVAL, "kallsyms: no symbols");
	for (size_t i = 0; i < ks->n; i++)
		ks->v[i].name = ks->pool + (uintptr_t)ks->v[i].name;
	ks->nslot = 1;
	while (ks->nslot <= 2 * ks->n)
		ks->nslot <<= 1;
	ks->slot = calloc(ks->nslot, sizeof(*ks->slot));
	if (!ks->slot)
		return vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
	for (size_t i = 0; i < ks->n; i++) {
		size_t j = name_hash(ks->v[i].name) & (ks->nslot - 1);
		for (; ks->slot[j]; j = (j + 1) & (ks->nslot - 1)) {
			struct ksym *o = &ks->v[ks->slot[j] - 1];
			if (!strcmp(o->name, ks->v[i].name)) {
				if (!isupper((unsigned char)o->type) && isupper((unsigned char)ks->v[i].type))
					ks->slot[j] = (uint32_t)i + 1;
				break;
			}
		}
		if (!ks->slot[j])
			ks->slot[j] = (uint32_t)i + 1;
	}
	size_t distinct = 0;
	for (size_t j = 0; j < ks->nslot; j++)
		distinct += ks->slot[j] != 0;
	ks->n = distinct;
	return 0;
}

struct builder { struct vtd_ksyms *ks; size_t cap, pool_len, pool_cap; };

static int add(struct builder *b, const char *name, size_t len, char type, uint64_t addr,
	       struct vtd_error *err)
{
	struct vtd_ksyms *ks = b->ks;
	if (ks->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		struct ksym *nv = realloc(ks->v, nc * sizeof(*nv));
		if (!nv)
			return vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
		ks->v = nv;
		b->cap = nc;
	}
	if (b->pool_len + len + 1 > b->pool_cap) {
		size_t nc = b->pool_cap ? b->pool_cap * 2 : 1 << 16;
		while (nc < b->pool_len + len + 1)
			nc *= 2;
		char *np = realloc(ks->pool, nc);
		if (!np)
			return vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
		ks->pool = np;
		b->pool_cap = nc;
	}
	memcpy(ks->pool + b->pool_len, name, len);
	ks->pool[b->pool_len + len] = 0;
	ks->v[ks->n] = (struct ksym){ (const char *)(uintptr_t)b->pool_len, addr, (uint32_t)ks->n, type };
	ks->n++;
	b->pool_len += len + 1;
	return 0;
}

int vtd_kallsyms_read(const struct vtd_mem *kv, const struct vtd_kinfo *ki,
		      struct vtd_ksyms **out, struct vtd_error *err)
{
	uint64_t names, num, ttab, tidx, offs = 0, rbase = 0, addrs = 0;
	*out = NULL;
	if (vmci_addr(ki, "kallsyms_names", &names) || vmci_addr(ki, "kallsyms_num_syms", &num) ||
	    vmci_addr(ki, "kallsyms_token_table", &ttab) || vmci_addr(ki, "kallsyms_token_index", &tidx))
		return vtd_error_set(err, VTD_E_INVAL, "VMCOREINFO has no kallsyms tables "
				     "(SYMBOL(kallsyms_names) and the rest; Linux 6.0 and later export them)");
	bool relative = vmci_addr(ki, "kallsyms_offsets", &offs) == 0 &&
			vmci_addr(ki, "kallsyms_relative_base", &rbase) == 0;
	if (!relative && vmci_addr(ki, "kallsyms_addresses", &addrs))
		return vtd_error_set(err, VTD_E_INVAL, "VMCOREINFO has kallsyms_names but neither "
				     "kallsyms_offsets with kallsyms_relative_base nor kallsyms_addresses");

	struct pgc c = { .kv = kv };
	uint32_t nsyms;
	uint16_t index[256];
	char tok[256][32];
	uint8_t tlen[256];
	if (pgc_read(&c, num, &nsyms, 4, "kallsyms_num_syms", err) ||
	    pgc_read(&c, tidx, index, sizeof(index), "kallsyms_token_index", err))
		return -(int)err->code;
	if (!nsyms || nsyms > KSYMS_MAX)
		return vtd_error_set(err, VTD_E_INVAL, "kallsyms_num_syms at 0x%" PRIx64 " is %" PRIu32
				     ", not a symbol count", num, nsyms);
	for (unsigned t = 0; t < 256; t++) {
		unsigned l = 0;
		for (;; l++) {
			uint8_t ch;
			if (pgc_byte(&c, ttab + index[t] + l, &ch, "kallsyms_token_table", err))
				return -(int)err->code;
			if (!ch)
				break;
			if (l == sizeof(tok[t]) - 1 || !isprint(ch))
				return vtd_error_set(err, VTD_E_INVAL, "kallsyms_token_table at 0x%" PRIx64
						     ": token %u is not a short printable string", ttab, t);
			tok[t][l] = (char)ch;
		}
		tok[t][l] = 0;
		tlen[t] = (uint8_t)l;
	}

	struct vtd_ksyms *ks = calloc(1, sizeof(*ks));
	int32_t *off32 = NULL;
	uint64_t *abs64 = NULL;
	if (!ks)
		return vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
	struct builder b = { .ks = ks };
	if (relative) {
		off32 = malloc(nsyms * sizeof(*off32));
		if (!off32 || pgc_read(&c, offs, off32, nsyms * sizeof(*off32), "kallsyms_offsets", err) ||
		    pgc_read(&c, rbase, &rbase, 8, "kallsyms_relative_base", err))
			goto fail;
	} else {
		abs64 = malloc(nsyms * sizeof(*abs64));
		if (!abs64 || pgc_read(&c, addrs, abs64, nsyms * sizeof(*abs64), "kallsyms_addresses", err))
			goto fail;
	}
	bool abs_percpu = false;
	for (uint32_t i = 0; relative && i < nsyms && !abs_percpu; i++)
		abs_percpu = off32[i] < 0;

	uint64_t p = names;
	char name[KSYM_MAX_LEN + 64];
	for (uint32_t i = 0; i < nsyms; i++) {
		uint8_t l0, l1 = 0, tb;
		if (pgc_byte(&c, p++, &l0, "kallsyms_names", err) ||
		    ((l0 & 0x80) && pgc_byte(&c, p++, &l1, "kallsyms_names", err)))
			goto fail;
		unsigned len = (l0 & 0x80) ? (l0 & 0x7fu) | (unsigned)l1 << 7 : l0, n = 0;
		if (!len) {
			vtd_error_set(err, VTD_E_INVAL, "kallsyms_names at 0x%" PRIx64 ": symbol %" PRIu32
				      " has length 0", p - 1, i);
			goto fail;
		}
		for (unsigned k = 0; k < len; k++) {
			if (pgc_byte(&c, p++, &tb, "kallsyms_names", err))
				goto fail;
			if (n + tlen[tb] > KSYM_MAX_LEN) {
				vtd_error_set(err, VTD_E_INVAL, "kallsyms_names: symbol %" PRIu32
					      " expands beyond %u characters", i, KSYM_MAX_LEN);
				goto fail;
			}
			memcpy(name + n, tok[tb], tlen[tb]);
			n += tlen[tb];
		}
		if (n < 2) {
			vtd_error_set(err, VTD_E_INVAL, "kallsyms_names: symbol %" PRIu32 " is empty", i);
			goto fail;
		}
		uint64_t a;
		if (!relative)
			a = abs64[i];
		else if (!abs_percpu)
			a = rbase + (uint32_t)off32[i];
		else
			a = off32[i] >= 0 ? (uint64_t)off32[i] : rbase - 1 - (int64_t)off32[i];
		if (add(&b, name + 1, n - 1, name[0], a, err))
			goto fail;
	}
	free(off32);
	free(abs64);
	if (finish(ks, err)) {
		vtd_ksyms_free(ks);
		return -(int)err->code;
	}
	*out = ks;
	return 0;
fail:
	if ((!off32 && relative) || (!abs64 && !relative))
		vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
	free(off32);
	free(abs64);
	vtd_ksyms_free(ks);
	return -(int)(err->code ? err->code : VTD_E_INVAL);
}

int vtd_ksyms_parse(const char *text, size_t len, struct vtd_ksyms **out, struct vtd_error *err)
{
	struct vtd_ksyms *ks = calloc(1, sizeof(*ks));
	struct builder b = { .ks = ks };
	size_t line = 0, nonzero = 0;
	*out = NULL;
	if (!ks)
		return vtd_error_set(err, VTD_E_NOMEM, "kallsyms: out of memory");
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		line++;
		char buf[KSYM_MAX_LEN + 128], name[KSYM_MAX_LEN + 1], type;
		unsigned long long a;
		size_t l = e - i < sizeof(buf) - 1 ? e - i : sizeof(buf) - 1;
		memcpy(buf, text + i, l);
		buf[l] = 0;
		i = e + 1;
		if (!l)
			continue;
		if (sscanf(buf, "%llx %c %1024s", &a, &type, name) != 3) {
			vtd_error_set(err, VTD_E_INVAL, "kallsyms line %zu: not 'ADDRESS TYPE NAME': %.80s",
				      line, buf);
			vtd_ksyms_free(ks);
			return -(int)err->code;
		}
		if (strchr(buf, '['))       /* a module's symbol */
			continue;
		nonzero += a != 0;
		if (add(&b, name, strlen(name), type, a, err)) {
			vtd_ksyms_free(ks);
			return -(int)err->code;
		}
	}
	if (ks->n && !nonzero) {
		vtd_ksyms_free(ks);
		return vtd_error_set(err, VTD_E_INVAL, "kallsyms: every address is 0 (kptr_restrict: "
				     "read /proc/kallsyms as root)");
	}
	if (finish(ks, err)) {
		vtd_ksyms_free(ks);
		return -(int)err->code;
	}
	*out = ks;
	return 0;
}

int vtd_ksyms_lookup(const struct vtd_ksyms *ks, const char *name, uint64_t *addr)
{
	if (!ks || !ks->nslot)
		return -1;
	for (size_t j = name_hash(name) & (ks->nslot - 1); ks->slot[j]; j = (j + 1) & (ks->nslot - 1)) {
		const struct ksym *k = &ks->v[ks->slot[j] - 1];
		if (!strcmp(k->name, name)) {
			*addr = k->addr;
			return 0;
		}
	}
	return -1;
}

size_t vtd_ksyms_count(const struct vtd_ksyms *ks) { return ks ? ks->n : 0; }

void vtd_ksyms_free(struct vtd_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->v);
	free(ks->pool);
	free(ks->slot);
	free(ks);
}
