/* x86-64 kernel virtual addresses over a physical memory source. */
#include "vtd/kernel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vmci_num(const struct vtd_kinfo *ki, const char *key, uint64_t *v, int base)
{
	char buf[64];
	if (!ki->vmcoreinfo || ki->vmcoreinfo(ki->ctx, key, buf, sizeof(buf)))
		return -1;
	char *end;
	*v = strtoull(buf, &end, base);
	return end == buf ? -1 : 0;
}

int vtd_kmem_init(struct vtd_kmem *km, const struct vtd_mem *phys,
		  const struct vtd_kinfo *ki, struct vtd_error *err)
{
	uint64_t v, va;
	memset(km, 0, sizeof(*km));
	km->phys = phys;
	/* phys_base is signed in practice (KASLR below the link address) */
	if (vmci_num(ki, "NUMBER(phys_base)", &v, 0) == 0)
		km->phys_base = v;
	km->image_size = 1ull << 30;
	if (vmci_num(ki, "NUMBER(KERNEL_IMAGE_SIZE)", &v, 0) == 0 && v)
		km->image_size = v;
	if (vmci_num(ki, "NUMBER(pgtable_l5_enabled)", &v, 10) == 0)
		km->l5 = v != 0;
	km->page_offset_base = km->l5 ? 0xff11000000000000ull : 0xffff888000000000ull;
	if (ki->symbol && ki->symbol(ki->ctx, "page_offset_base", &va) == 0) {
		uint8_t b[8];
		if (va < VTD_START_KERNEL_MAP)
			return vtd_error_set(err, VTD_E_INVAL, "page_offset_base at 0x%" PRIx64
					     " is not a kernel-image address", va);
		if (vtd_mem_read(phys, va - VTD_START_KERNEL_MAP + km->phys_base, b, 8, err))
			return vtd_error_set(err, err->code, "reading page_offset_base: %s", err->msg);
		v = 0;
		for (int i = 7; i >= 0; i--)
			v = v << 8 | b[i];
		km->page_offset_base = v;
	}
	if (ki->symbol && ki->symbol(ki->ctx, "init_top_pgt", &va) == 0 && va >= VTD_START_KERNEL_MAP)
		km->top_pgt_pa = va - VTD_START_KERNEL_MAP + km->phys_base;
	else if (vmci_num(ki, "SYMBOL(init_top_pgt)", &v, 16) == 0 && v >= VTD_START_KERNEL_MAP)
		km->top_pgt_pa = v - VTD_START_KERNEL_MAP + km->phys_base;
	return 0;
}

static int pgt_walk(const struct vtd_kmem *km, uint64_t va, uint64_t *pa, struct vtd_error *err)
{
	unsigned levels = km->l5 ? 5 : 4;
	uint64_t table = km->top_pgt_pa;
	if (!table)
		return vtd_error_set(err, VTD_E_INVAL, "0x%" PRIx64 " is outside the direct map and "
				     "kernel text, and init_top_pgt is unknown", va);
	for (unsigned level = levels; level >= 1; level--) {
		unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
		uint64_t e;
		if (vtd_mem_read_qwords(km->phys, table + idx * 8ull, &e, 1, err))
			return vtd_error_set(err, err->code, "kernel page table level %u for 0x%" PRIx64
					     ": %s", level, va, err->msg);
		if (!(e & 1))
			return vtd_error_set(err, VTD_E_INVAL, "kernel address 0x%" PRIx64
					     " not mapped (level %u entry 0x%" PRIx64 ")", va, level, e);
		uint64_t addr = e & 0x000ffffffffff000ull;
		if (level == 1 || ((level == 2 || level == 3) && (e & 0x80))) {
			uint64_t sz = 1ull << (12 + 9 * (level - 1));
			*pa = (addr & ~(sz - 1)) | (va & (sz - 1));
			return 0;
		}
		table = addr;
	}
	return -1;
}

int vtd_kmem_v2p(const struct vtd_kmem *km, uint64_t va, uint64_t *pa, struct vtd_error *err)
{
	uint64_t dm_size = km->l5 ? (1ull << 52) : (1ull << 46);
	/* kernel text; modules above it go through the page tables */
	if (va >= VTD_START_KERNEL_MAP && va - VTD_START_KERNEL_MAP < km->image_size) {
		*pa = va - VTD_START_KERNEL_MAP + km->phys_base;
		return 0;
	}
	if (va >= km->page_offset_base && va - km->page_offset_base < dm_size) {
		*pa = va - km->page_offset_base;
		return 0;
	}
	return pgt_walk(km, va, pa, err);
}

int vtd_kmem_read(const struct vtd_kmem *km, uint64_t va, void *buf, size_t len,
		  struct vtd_error *err)
{
	uint8_t *p = buf;
	while (len) {
		uint64_t pa;
		size_t n = 4096 - (va & 4095);
		if (n > len)
			n = len;
		if (vtd_kmem_v2p(km, va, &pa, err) || vtd_mem_read(km->phys, pa, p, n, err))
			return -(int)err->code;
		p += n, va += n, len -= n;
	}
	return 0;
}

static int kmem_cb(void *ctx, uint64_t va, void *buf, size_t len, char *why, size_t whylen)
{
	struct vtd_error err;
	vtd_error_init(&err);
	if (vtd_kmem_read(ctx, va, buf, len, &err) == 0)
		return 0;
	snprintf(why, whylen, "%s", err.msg);
	return -1;
}

struct vtd_mem vtd_kmem_mem(const struct vtd_kmem *km)
{
	return (struct vtd_mem){ .read = kmem_cb, .ctx = (void *)km };
}
