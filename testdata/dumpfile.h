/* Dump writer for synthetic test dumps: the image as an ELF vmcore, a
 * kdump-compressed file (header v6) or a flattened kdump stream, the way the
 * kernel's /proc/vmcore and makedumpfile lay them out, so that crash,
 * libkdumpfile, makedumpfile and drgn read them.  Output is written to a
 * temporary name and renamed. */
#ifndef TESTDATA_DUMPFILE_H
#define TESTDATA_DUMPFILE_H

#include <stddef.h>
#include <stdint.h>
#include "image.h"

enum dump_format { DUMP_ELF, DUMP_KDUMP, DUMP_FLAT };
enum dump_compress { DUMP_RAW, DUMP_ZLIB, DUMP_LZO, DUMP_SNAPPY, DUMP_ZSTD };

struct dump_info {
	const char *release;      /* utsname release, "6.1.0-vtdtest-amd64" */
	const char *machine;      /* "x86_64" */
	const char *vmcoreinfo;   /* VMCOREINFO note text (NUL-terminated) */
	uint64_t page_offset;     /* direct-map base for ELF p_vaddr (0xffff888000000000) */
	uint64_t phys_base;       /* sub-header phys_base */
	int dump_level;           /* recorded in the kdump sub-header (e.g. 31) */
};

/* Write im in format fmt (compression c for DUMP_KDUMP/DUMP_FLAT; DUMP_ELF
 * ignores it) to path.  Pages present in im are dumped; RAM pages absent
 * from im are excluded (kdump: 2nd bitmap clear; ELF: not covered by any
 * PT_LOAD file range).  All-zero pages in kdump output share one zero-page
 * descriptor (dump level bit 0), as makedumpfile does.  Returns 0, or -1
 * with a message in err. */
int dump_write(struct img *im, const struct dump_info *info, enum dump_format fmt,
	       enum dump_compress c, const char *path, char *err, size_t errlen);

const char *dump_format_name(enum dump_format f);
const char *dump_compress_name(enum dump_compress c);

#endif
