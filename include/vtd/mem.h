/* libvtd — the only way the core reads memory.
 *
 * A memory source (a dump reader, crash's readmem, an in-memory image) fills
 * in struct vtd_mem.  The core never does I/O of its own.
 */
#ifndef VTD_MEM_H
#define VTD_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct vtd_mem {
	/* Copy len bytes of physical memory at pa into buf.  Return 0 on
	 * success; otherwise non-zero, with a short reason in why ("excluded
	 * page", "beyond end of RAM") when one is known. */
	int (*read)(void *ctx, uint64_t pa, void *buf, size_t len,
		    char *why, size_t whylen);
	void *ctx;
};

/* Read through m; on failure set err (VTD_E_READ, naming address, length
 * and the source's reason) and return its negative code.  Location fields of
 * err are left for the caller to fill. */
int vtd_mem_read(const struct vtd_mem *m, uint64_t pa, void *buf, size_t len,
		 struct vtd_error *err);

/* Read n little-endian qwords at pa into q (host order). */
int vtd_mem_read_qwords(const struct vtd_mem *m, uint64_t pa, uint64_t *q,
			unsigned n, struct vtd_error *err);

#endif
