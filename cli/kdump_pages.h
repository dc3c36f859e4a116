/* Change which pages a kdump-compressed file holds: add pages (makedumpfile
 * excluded structures vtdscope needs, issue 10) or drop them (tests make
 * lossy dumps of real kernels).  A kdump file's page_desc table is indexed
 * by the rank of a page frame in the second bitmap, so every page added or
 * dropped moves the descriptors after it and the table's length: the new
 * file is written whole (header, sub-header and bitmaps copied with the bits
 * changed, the descriptor table rewritten, everything after it shifted by
 * the table's change in length and every offset pointing there moved by as
 * much; added pages are appended uncompressed). */
#ifndef CLI_KDUMP_PAGES_H
#define CLI_KDUMP_PAGES_H

#include <stddef.h>
#include <stdint.h>

/* Write out (a new file, created exclusively; the caller renames it) from
 * the plain kdump-compressed file in: add[] (sorted, nadd pages of 4 KiB in
 * data, each not in in) and without drop[] (sorted, each in in).  0, or -1
 * with err naming the file and what was wrong (out is removed). */
int kdump_set_pages(const char *in, const char *out, const uint64_t *add, const uint8_t *data,
		    size_t nadd, const uint64_t *drop, size_t ndrop, char *err, size_t errlen);

#endif
