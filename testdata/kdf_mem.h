/* A struct vtd_mem over a dump file read through libkdumpfile (ELF vmcore,
 * kdump-compressed, ...): physical reads, so tests can run libvtd on the
 * generated dumps exactly as on the generator's image. */
#ifndef TESTDATA_KDF_MEM_H
#define TESTDATA_KDF_MEM_H

#include <stddef.h>
#include "vtd/mem.h"

struct kdf_mem;

/* Open path; NULL with a message in err on failure. */
struct kdf_mem *kdf_mem_open(const char *path, char *err, size_t errlen);
void kdf_mem_close(struct kdf_mem *k);

/* The memory source (valid until kdf_mem_close).  A read of an excluded
 * page fails with "excluded page at 0x..." (libkdumpfile's NODATA). */
struct vtd_mem kdf_mem_vtd(struct kdf_mem *k);

#endif
