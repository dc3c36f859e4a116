/* Fuzzing helpers: physical memory made of the fuzzer's input.  Page i of
 * the input is every physical page whose frame number is i modulo the
 * number of pages, up to 16 times over (so tables can point anywhere,
 * including at themselves); beyond that, reads fail as "beyond RAM". */
#ifndef FUZZ_MEM_H
#define FUZZ_MEM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "vtd/mem.h"

struct fmem { const uint8_t *p; size_t npages; };

static int fmem_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t wl)
{
	const struct fmem *m = ctx;
	uint8_t *out = buf;
	while (len) {
		uint64_t pfn = pa >> 12, off = pa & 4095;
		size_t n = 4096 - off < len ? 4096 - off : len;
		if (!m->npages || pfn >= m->npages * 16) {
			snprintf(why, wl, "beyond RAM");
			return -1;
		}
		memcpy(out, m->p + (pfn % m->npages) * 4096 + off, n);
		out += n, pa += n, len -= n;
	}
	return 0;
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#endif
