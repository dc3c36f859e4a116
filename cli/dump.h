/* Dump files as memory sources, all read by our own code: ELF (PT_LOAD
 * segments, VMCOREINFO note), kdump-compressed and flattened (cli/diskdump.c).
 * Every header and bound is checked before use; libkdumpfile 0.5.1, which
 * used to serve ELF and kdump files, crashed on hostile ones (it remains
 * the tests' independent reader). */
#ifndef CLI_DUMP_H
#define CLI_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include "vtd/mem.h"

struct dump;

struct dump *dump_open(const char *path, char *err, size_t errlen);
void dump_close(struct dump *d);
/* Physical reads; an excluded page reads as an error "excluded page". */
struct vtd_mem dump_mem(struct dump *d);
/* The VMCOREINFO value of key ("OSRELEASE", "NUMBER(phys_base)"): 0 or -1. */
int dump_vmcoreinfo(struct dump *d, const char *key, char *val, size_t len);
/* One past the highest page frame the dump describes (0 if unknown). */
uint64_t dump_max_pfn(struct dump *d);
/* The dump level makedumpfile recorded (kdump-compressed), or -1 (ELF). */
int dump_dump_level(const struct dump *d);
/* The kdump-compressed header's version, -1 for ELF dumps. */
int dump_header_version(const struct dump *d);
/* "elf", "diskdump", "flattened" */
const char *dump_format(const struct dump *d);

#endif
