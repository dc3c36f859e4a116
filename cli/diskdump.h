/* Our own reader of kdump-compressed ("diskdump") files, used for flattened
 * streams (makedumpfile -F), which libkdumpfile 0.5.1 cannot open: the
 * flattened records are indexed and read in place, without a rearranged
 * copy.  Plain kdump files can be read the same way (tests cross-check it
 * against libkdumpfile). */
#ifndef CLI_DISKDUMP_H
#define CLI_DISKDUMP_H

#include <stddef.h>
#include <stdint.h>

struct diskdump;

/* Open path; flattened or plain kdump-compressed.  NULL with a message
 * naming the file and what is wrong. */
struct diskdump *diskdump_open(const char *path, char *err, size_t errlen);
void diskdump_close(struct diskdump *d);
/* Read physical memory; -1 with a reason ("excluded page", "beyond
 * max_mapnr", "corrupt page descriptor ...") in why. */
int diskdump_read(struct diskdump *d, uint64_t pa, void *buf, size_t len, char *why, size_t whylen);
/* The VMCOREINFO text (NUL-terminated), or NULL. */
const char *diskdump_vmcoreinfo(const struct diskdump *d);
int diskdump_is_flattened(const struct diskdump *d);
uint64_t diskdump_max_pfn(const struct diskdump *d);
/* 1 if pfn is present in the dump (2nd bitmap). */
int diskdump_has_page(const struct diskdump *d, uint64_t pfn);

#endif
