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
/* The makedumpfile dump level the sub-header records. */
int diskdump_dump_level(const struct diskdump *d);
int diskdump_header_version(const struct diskdump *d);
/* 1 if pfn is present in the dump (2nd bitmap). */
int diskdump_has_page(const struct diskdump *d, uint64_t pfn);
/* Bytes [off, off + len) of the kdump file (flattened: as rearranged;
 * ranges no record covers read as zero).  0 or -1. */
int diskdump_vread(struct diskdump *d, void *buf, size_t len, uint64_t off);
/* Where pfn's page_desc lies in the kdump file (pfn must be present). */
uint64_t diskdump_desc_pos(const struct diskdump *d, uint64_t pfn);
/* The page_desc table: its offset and its number of entries. */
uint64_t diskdump_desc_off(const struct diskdump *d);
uint64_t diskdump_ndesc(const struct diskdump *d);

#endif
