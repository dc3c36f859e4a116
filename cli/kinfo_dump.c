/* Kernel information for a dump (see kinfo_dump.h). */
#include "kinfo_dump.h"

#include <stdlib.h>

static int k_symbol(void *ctx, const char *name, uint64_t *addr)
{
	struct kinfo_dump *k = ctx;
	if (kinfo_dwarf_symbol(k->kd, name, addr))
		return -1;
	if (*addr >= VTD_START_KERNEL_MAP)   /* KASLR moves the kernel image only */
		*addr += k->kaslr;
	return 0;
}

static int k_type_size(void *ctx, const char *type, uint64_t *size)
{
	return kinfo_dwarf_type_size(((struct kinfo_dump *)ctx)->kd, type, size);
}

static int k_member(void *ctx, const char *type, const char *member, struct vtd_member *m)
{
	return kinfo_dwarf_member(((struct kinfo_dump *)ctx)->kd, type, member, m);
}

static int k_vmcoreinfo(void *ctx, const char *key, char *val, size_t len)
{
	return dump_vmcoreinfo(((struct kinfo_dump *)ctx)->dump, key, val, len);
}

void kinfo_dump_init(struct kinfo_dump *k, struct kinfo_dwarf *kd, struct dump *d)
{
	char off[40];
	k->kd = kd;
	k->dump = d;
	k->kaslr = dump_vmcoreinfo(d, "KERNELOFFSET", off, sizeof(off)) == 0 ?
		strtoull(off, NULL, 16) : 0;
	k->ki = (struct vtd_kinfo){ k_symbol, k_type_size, k_member, k_vmcoreinfo, k };
}
