/* Kernel information from vmlinux DWARF (see kinfo_dwarf.h).
 *
 * A full vmlinux has thousands of CUs; struct definitions are indexed
 * lazily: first from the CUs of drivers/iommu/intel (which include every
 * type the locator needs), then from the rest only when a type is still
 * missing. */
#include "kinfo_dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ent { char *key; uint64_t val; };
struct map { struct ent *v; size_t cap, n; };

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct ent *map_find(struct map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = strhash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->v[i].key)
			return NULL;
		if (!strcmp(m->v[i].key, key))
			return &m->v[i];
	}
}

/* Insert unless present; returns 0, or -1 on allocation failure. */
static int map_add(struct map *m, const char *key, uint64_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct map nm = { calloc(m->cap ? m->cap * 2 : 1024, sizeof(struct ent)), m->cap ? m->cap * 2 : 1024, 0 };
		if (!nm.v)
			return -1;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->v[i].key)
				continue;
			size_t j = strhash(m->v[i].key) & (nm.cap - 1);
			while (nm.v[j].key)
				j = (j + 1) & (nm.cap - 1);
			nm.v[j] = m->v[i];
			nm.n++;
		}
		free(m->v);
		*m = nm;
	}
	size_t i = strhash(key) & (m->cap - 1);
	for (; m->v[i].key; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->v[i].key, key))
			return 0;
	m->v[i].key = strdup(key);
	if (!m->v[i].key)
		return -1;
	m->v[i].val = val;
	m->n++;
	return 0;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
}

struct kinfo_dwarf {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct map syms;        /* name -> address (globals win over locals) */
	struct map types;       /* "struct x" -> DIE offset */
	bool indexed_all;
	char build_id[80];
	char release[80];
};

static void load_symbols(struct kinfo_dwarf *kd)
{
	Elf_Scn *scn = NULL;
	struct map locals = { 0 };
	while ((scn = elf_nextscn(kd->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s) || !s.st_name || s.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(kd->elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (GELF_ST_BIND(s.st_info) == STB_LOCAL)
				map_add(&locals, name, s.st_value);
			else
				map_add(&kd->syms, name, s.st_value);
		}
	}
	for (size_t i = 0; i < locals.cap; i++)
		if (locals.v[i].key)
			map_add(&kd->syms, locals.v[i].key, locals.v[i].val);
	map_free(&locals);
}

static void load_notes(struct kinfo_dwarf *kd)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(kd->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t o = 0, no, desc;
		GElf_Nhdr nh;
		while (d && (o = gelf_getnote(d, o, &nh, &no, &desc)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + no, "GNU", 4)) {
				const unsigned char *b = (const unsigned char *)d->d_buf + desc;
				for (size_t i = 0; i < nh.n_descsz && i < 39; i++)
					sprintf(kd->build_id + 2 * i, "%02x", b[i]);
			}
		}
	}
}

/* "Linux version 6.1.0-28-amd64 (...)" from linux_banner, if in a file-backed section. */
static void load_release(struct kinfo_dwarf *kd)
{
	struct ent *e = map_find(&kd->syms, "linux_banner");
	Elf_Scn *scn = NULL;
	if (!e)
		return;
	while ((scn = elf_nextscn(kd->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (e->val < sh.sh_addr || e->val + 16 > sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return;
		const char *s = (const char *)d->d_buf + (e->val - sh.sh_addr);
		size_t max = sh.sh_addr + sh.sh_size - e->val;
		if (max > 200)
			max = 200;
		if (max > 14 && !strncmp(s, "Linux version ", 14)) {
			size_t i = 0;
			for (s += 14; i + 14 < max && s[i] && s[i] != ' '; i++)
				kd->release[i < sizeof(kd->release) - 1 ? i : sizeof(kd->release) - 1] = s[i];
		}
		return;
	}
}

static void index_cu(struct kinfo_dwarf *kd, Dwarf_Die *cu)
{
	Dwarf_Die d;
	if (dwarf_child(cu, &d) != 0)
		return;
	do {
		int tag = dwarf_tag(&d);
		const char *kind = tag == DW_TAG_structure_type ? "struct" :
				   tag == DW_TAG_union_type ? "union" : NULL;
		const char *name;
		char key[256];
		if (!kind || !(name = dwarf_diename(&d)) || dwarf_hasattr(&d, DW_AT_declaration))
			continue;
		snprintf(key, sizeof(key), "%s %s", kind, name);
		map_add(&kd->types, key, dwarf_dieoffset(&d));
	} while (dwarf_siblingof(&d, &d) == 0);
}

/* Index CUs whose name contains filter (NULL: all). */
static void index_cus(struct kinfo_dwarf *kd, const char *filter)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(kd->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(kd->dw, off + hsize, &cu)) {
			const char *n = dwarf_diename(&cu);
			if (!filter || (n && strstr(n, filter)))
				index_cu(kd, &cu);
		}
		off = next;
	}
}

struct kinfo_dwarf *kinfo_dwarf_open(const char *path, char *err, size_t errlen)
{
	struct kinfo_dwarf *kd = calloc(1, sizeof(*kd));
	if (!kd) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	elf_version(EV_CURRENT);
	kd->fd = open(path, O_RDONLY);
	if (kd->fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		free(kd);
		return NULL;
	}
	kd->elf = elf_begin(kd->fd, ELF_C_READ_MMAP, NULL);
	if (!kd->elf || elf_kind(kd->elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		goto fail;
	}
	kd->dw = dwarf_begin_elf(kd->elf, DWARF_C_READ, NULL);
	if (!kd->dw) {
		snprintf(err, errlen, "%s: no DWARF debug information (%s)", path, dwarf_errmsg(-1));
		goto fail;
	}
	load_symbols(kd);
	load_notes(kd);
	load_release(kd);
	index_cus(kd, "drivers/iommu/intel/");
	index_cus(kd, "drivers/iommu/intel-iommu.c");
	if (!kd->types.n) {
		index_cus(kd, NULL);
		kd->indexed_all = true;
	}
	return kd;
fail:
	kinfo_dwarf_close(kd);
	return NULL;
}

void kinfo_dwarf_close(struct kinfo_dwarf *kd)
{
	if (!kd)
		return;
	if (kd->dw)
		dwarf_end(kd->dw);
	if (kd->elf)
		elf_end(kd->elf);
	if (kd->fd >= 0)
		close(kd->fd);
	map_free(&kd->syms);
	map_free(&kd->types);
	free(kd);
}

int kinfo_dwarf_symbol(struct kinfo_dwarf *kd, const char *name, uint64_t *addr)
{
	struct ent *e = map_find(&kd->syms, name);
	if (!e)
		return -1;
	*addr = e->val;
	return 0;
}

static int type_die(struct kinfo_dwarf *kd, const char *type, Dwarf_Die *die)
{
	struct ent *e = map_find(&kd->types, type);
	if (!e && !kd->indexed_all) {
		index_cus(kd, NULL);
		kd->indexed_all = true;
		e = map_find(&kd->types, type);
	}
	return e && dwarf_offdie(kd->dw, e->val, die) ? 0 : -1;
}

int kinfo_dwarf_type_size(struct kinfo_dwarf *kd, const char *type, uint64_t *size)
{
	Dwarf_Die d;
	Dwarf_Word sz;
	if (type_die(kd, type, &d) || dwarf_aggregate_size(&d, &sz))
		return -1;
	*size = sz;
	return 0;
}

/* Strip typedefs and qualifiers. */
static int peel(Dwarf_Die *t)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(t);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_atomic_type)
			return 0;
		Dwarf_Attribute a;
		if (!dwarf_attr_integrate(t, DW_AT_type, &a) || !dwarf_formref_die(&a, t))
			return -1;
	}
	return -1;
}

/* Find member name in the struct/union die (descending into anonymous
 * members); adds its byte offset to *base and leaves the member DIE in m. */
static int find_member(Dwarf_Die *agg, const char *name, Dwarf_Die *m, uint64_t *base, int depth)
{
	Dwarf_Die c;
	if (depth > 8 || dwarf_child(agg, &c) != 0)
		return -1;
	do {
		if (dwarf_tag(&c) != DW_TAG_member)
			continue;
		Dwarf_Attribute a;
		Dwarf_Word loc = 0;
		if (dwarf_attr(&c, DW_AT_data_member_location, &a))
			dwarf_formudata(&a, &loc);
		const char *n = dwarf_diename(&c);
		if (n && !strcmp(n, name)) {
			*m = c;
			*base += loc;
			return 0;
		}
		if (!n) {
			Dwarf_Die t;
			uint64_t b = *base + loc;
			if (dwarf_attr_integrate(&c, DW_AT_type, &a) && dwarf_formref_die(&a, &t) &&
			    peel(&t) == 0 && find_member(&t, name, m, &b, depth + 1) == 0) {
				*base = b;
				return 0;
			}
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return -1;
}

int kinfo_dwarf_member(struct kinfo_dwarf *kd, const char *type, const char *member,
		       struct vtd_member *out)
{
	Dwarf_Die agg, m, t;
	Dwarf_Attribute a;
	uint64_t base = 0;
	char path[256], *save = NULL;
	if (type_die(kd, type, &agg))
		return -1;
	snprintf(path, sizeof(path), "%s", member);
	for (char *part = strtok_r(path, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		if (peel(&agg) || find_member(&agg, part, &m, &base, 0))
			return -1;
		if (!dwarf_attr_integrate(&m, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
			return -1;
		agg = t;
	}
	memset(out, 0, sizeof(*out));
	Dwarf_Word sz = 0, bits = 0, v;
	peel(&t);
	dwarf_aggregate_size(&t, &sz);
	if (dwarf_attr(&m, DW_AT_bit_size, &a) && dwarf_formudata(&a, &bits) == 0 && bits) {
		uint64_t dbo;
		Dwarf_Word loc = 0;
		if (dwarf_attr(&m, DW_AT_data_bit_offset, &a) && dwarf_formudata(&a, &v) == 0) {
			dbo = v;                     /* base already has no member location */
		} else {
			/* DWARF 2/3: bit offset from the MSB of a byte_size storage unit */
			Dwarf_Word bo = 0, bsz = sz;
			if (dwarf_attr(&m, DW_AT_bit_offset, &a))
				dwarf_formudata(&a, &bo);
			if (dwarf_attr(&m, DW_AT_byte_size, &a))
				dwarf_formudata(&a, &bsz);
			dbo = bsz * 8 - bo - bits;
			(void)loc;
		}
		uint64_t total = base * 8 + dbo;
		out->offset = total / 8;
		out->bit_offset = (unsigned)(total % 8);
		out->bit_size = (unsigned)bits;
		out->size = (out->bit_offset + bits + 7) / 8;
		return 0;
	}
	out->offset = base;
	out->size = sz;
	return 0;
}

const char *kinfo_dwarf_build_id(const struct kinfo_dwarf *kd) { return kd->build_id; }
const char *kinfo_dwarf_release(const struct kinfo_dwarf *kd) { return kd->release; }
