/* Kernel information for a dump (see kinfo_dump.h). */
#include "kinfo_dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int k_symbol(void *ctx, const char *name, uint64_t *addr)
{
	struct kinfo_dump *k = ctx;
	if (k->ks)
		return vtd_ksyms_lookup(k->ks, name, addr);
	if (kinfo_dwarf_symbol(k->kd, name, addr))
		return -1;
	if (*addr >= VTD_START_KERNEL_MAP)   /* KASLR moves the kernel image only */
		*addr += k->kaslr;
	return 0;
}

static int k_type_size(void *ctx, const char *type, uint64_t *size)
{
	struct kinfo_dump *k = ctx;
	return k->kb ? kinfo_btf_type_size(k->kb, type, size) : kinfo_dwarf_type_size(k->kd, type, size);
}

static int k_member(void *ctx, const char *type, const char *member, struct vtd_member *m)
{
	struct kinfo_dump *k = ctx;
	return k->kb ? kinfo_btf_member(k->kb, type, member, m) : kinfo_dwarf_member(k->kd, type, member, m);
}

static int k_vmcoreinfo(void *ctx, const char *key, char *val, size_t len)
{
	return dump_vmcoreinfo(((struct kinfo_dump *)ctx)->dump, key, val, len);
}

static void init(struct kinfo_dump *k, struct dump *d)
{
	char off[40];
	k->dump = d;
	k->kaslr = dump_vmcoreinfo(d, "KERNELOFFSET", off, sizeof(off)) == 0 ?
		strtoull(off, NULL, 16) : 0;
	k->ki = (struct vtd_kinfo){ k_symbol, k_type_size, k_member, k_vmcoreinfo, k };
}

void kinfo_dump_init(struct kinfo_dump *k, struct kinfo_dwarf *kd, struct dump *d)
{
	memset(k, 0, sizeof(*k));
	k->kd = kd;
	init(k, d);
}

void kinfo_dump_init_btf(struct kinfo_dump *k, struct kinfo_btf *kb, struct vtd_ksyms *ks,
			 struct dump *d)
{
	memset(k, 0, sizeof(*k));
	k->kb = kb;
	k->ks = ks;
	init(k, d);
}

#define BTF_MAX (256u << 20)

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	char *b = malloc(cap);
	if (!f || !b) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			char *nb = cap < BTF_MAX ? realloc(b, cap * 2) : NULL;
			if (!nb) {
				snprintf(err, errlen, "%s: too large", path);
				goto fail;
			}
			b = nb;
			cap *= 2;
		}
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
fail:
	if (f)
		fclose(f);
	free(b);
	return -1;
}

int kinfo_dump_load_btf(struct dump *d, const char *btf_file, const char *kallsyms_file,
			struct kinfo_btf **kb, struct vtd_ksyms **ks, char *err, size_t errlen)
{
	struct kinfo_dump vk;
	struct vtd_kmem km;
	struct vtd_error e;
	struct vtd_mem phys = dump_mem(d), kv;
	char v[40];
	*kb = NULL;
	*ks = NULL;
	/* VMCOREINFO alone gives the kernel image mapping (phys_base), which
	 * holds both the kallsyms tables and .BTF */
	memset(&vk, 0, sizeof(vk));
	init(&vk, d);
	vk.ki.symbol = NULL;
	vtd_error_init(&e);
	if (vtd_kmem_init(&km, &phys, &vk.ki, &e)) {
		snprintf(err, errlen, "kernel memory: %s", e.msg);
		return -1;
	}
	kv = vtd_kmem_mem(&km);
	if (kallsyms_file) {
		char *text;
		size_t len;
		if (read_file(kallsyms_file, &text, &len, err, errlen))
			return -1;
		int r = vtd_ksyms_parse(text, len, ks, &e);
		free(text);
		if (r) {
			snprintf(err, errlen, "%s: %s", kallsyms_file, e.msg);
			return -1;
		}
		uint64_t a;
		if (dump_vmcoreinfo(d, "SYMBOL(init_top_pgt)", v, sizeof(v)) == 0 &&
		    (vtd_ksyms_lookup(*ks, "init_top_pgt", &a) || a != strtoull(v, NULL, 16))) {
			snprintf(err, errlen, "%s is not from the dumped boot: init_top_pgt is %s there, "
				 "0x%s in the dump's VMCOREINFO", kallsyms_file,
				 vtd_ksyms_lookup(*ks, "init_top_pgt", &a) ? "missing" : "elsewhere", v);
			goto fail;
		}
	} else if (vtd_kallsyms_read(&kv, &vk.ki, ks, &e)) {
		snprintf(err, errlen, "kallsyms: %s", e.msg);
		return -1;
	}
	if (btf_file) {
		*kb = kinfo_btf_open(btf_file, err, errlen);
		if (!*kb)
			goto fail;
		return 0;
	}
	uint64_t start, stop;
	if (vtd_ksyms_lookup(*ks, "__start_BTF", &start) || vtd_ksyms_lookup(*ks, "__stop_BTF", &stop)) {
		snprintf(err, errlen, "the kernel has no BTF (no __start_BTF/__stop_BTF in kallsyms; "
			 "CONFIG_DEBUG_INFO_BTF is off)");
		goto fail;
	}
	if (stop <= start || stop - start > BTF_MAX) {
		snprintf(err, errlen, "BTF: __start_BTF 0x%" PRIx64 ", __stop_BTF 0x%" PRIx64
			 " is not a plausible range", start, stop);
		goto fail;
	}
	char *buf = malloc(stop - start);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (vtd_kmem_read(&km, start, buf, stop - start, &e)) {
		snprintf(err, errlen, "BTF at 0x%" PRIx64 "-0x%" PRIx64 ": %s", start, stop, e.msg);
		free(buf);
		goto fail;
	}
	*kb = kinfo_btf_new(buf, stop - start, err, errlen);
	free(buf);
	if (!*kb)
		goto fail;
	return 0;
fail:
	vtd_ksyms_free(*ks);
	*ks = NULL;
	return -1;
}
