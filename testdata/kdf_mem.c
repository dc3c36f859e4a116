/* libkdumpfile as a struct vtd_mem (see kdf_mem.h). */
#include "kdf_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kdf_mem {
	kdump_ctx_t *ctx;
	int fd;
	kdump_addrspace_t as;    /* physical address space that works */
	int as_known;
	kdump_bmp_t *pagemap;    /* pages the file carries (NULL: unknown) */
};

struct kdf_mem *kdf_mem_open(const char *path, char *err, size_t errlen)
{
	struct kdf_mem *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->fd = open(path, O_RDONLY);
	if (k->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(k);
		return NULL;
	}
	k->ctx = kdump_new();
	if (!k->ctx) {
		snprintf(err, errlen, "kdump_new failed");
		kdf_mem_close(k);
		return NULL;
	}
	kdump_status st = kdump_open_fd(k->ctx, k->fd);
	if (st != KDUMP_OK) {
		snprintf(err, errlen, "%s: %s", path, kdump_get_err(k->ctx));
		kdf_mem_close(k);
		return NULL;
	}
	/* Linux: lets libkdumpfile map kernel-physical to machine-physical
	 * addresses (identity without Xen).  Not fatal if refused. */
	kdump_set_string_attr(k->ctx, KDUMP_ATTR_OSTYPE, "linux");
	k->as = KDUMP_KPHYSADDR;
	/* The file's page map decides what is in the dump: libkdumpfile's ELF
	 * reader gives zeros for a page in a gap between two PT_LOAD segments
	 * when the next segment starts right after it (elf_get_page() takes a
	 * segment within one page as covering), where kdump files say NODATA. */
	kdump_attr_t a = { .type = KDUMP_BITMAP };
	if (kdump_get_typed_attr(k->ctx, KDUMP_ATTR_FILE_PAGEMAP, &a) == KDUMP_OK && a.val.bitmap) {
		k->pagemap = a.val.bitmap;
		kdump_bmp_incref(k->pagemap);
	}
	return k;
}

void kdf_mem_close(struct kdf_mem *k)
{
	if (!k)
		return;
	if (k->pagemap)
		kdump_bmp_decref(k->pagemap);
	if (k->ctx)
		kdump_free(k->ctx);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static int kdf_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	struct kdf_mem *k = ctx;
	for (uint64_t pfn = pa >> 12; k->pagemap && len && pfn <= (pa + len - 1) >> 12; pfn++) {
		kdump_addr_t idx = pfn;
		if (kdump_bmp_find_set(k->pagemap, &idx) != KDUMP_OK || idx != pfn) {
			snprintf(why, whylen, "excluded page at 0x%llx (not in the file's page map)",
				 (unsigned long long)(pfn << 12));
			return -1;
		}
	}
	for (;;) {
		size_t n = len;
		kdump_status st = kdump_read(k->ctx, k->as, pa, buf, &n);
		if (st == KDUMP_OK && n == len) {
			k->as_known = 1;
			return 0;
		}
		/* kernel-physical addresses need an address-translation setup
		 * that a bare dump may lack: machine-physical is the same here */
		if (st == KDUMP_ERR_ADDRXLAT && !k->as_known && k->as == KDUMP_KPHYSADDR) {
			k->as = KDUMP_MACHPHYSADDR;
			continue;
		}
		if (st == KDUMP_ERR_NODATA)
			snprintf(why, whylen, "excluded page at 0x%llx (%s)",
				 (unsigned long long)((pa + n) & ~0xfffull), kdump_get_err(k->ctx));
		else
			snprintf(why, whylen, "%s", st == KDUMP_OK ? "short read" : kdump_get_err(k->ctx));
		return -1;
	}
}

struct vtd_mem kdf_mem_vtd(struct kdf_mem *k)
{
	return (struct vtd_mem){ .read = kdf_read, .ctx = k };
}
