/* Kernel information from a vmlinux with DWARF (elfutils libdw/libelf):
 * symbols from the ELF symbol table, struct layouts from DWARF.  Symbol
 * addresses are link-time; the caller adds the KASLR offset. */
#ifndef CLI_KINFO_DWARF_H
#define CLI_KINFO_DWARF_H

#include <stddef.h>
#include <stdint.h>
#include "vtd/kernel.h"

struct kinfo_dwarf;

struct kinfo_dwarf *kinfo_dwarf_open(const char *vmlinux, char *err, size_t errlen);
void kinfo_dwarf_close(struct kinfo_dwarf *kd);

/* Link-time symbol address: 0, or -1 if absent. */
int kinfo_dwarf_symbol(struct kinfo_dwarf *kd, const char *name, uint64_t *addr);
int kinfo_dwarf_type_size(struct kinfo_dwarf *kd, const char *type, uint64_t *size);
int kinfo_dwarf_member(struct kinfo_dwarf *kd, const char *type, const char *member,
		       struct vtd_member *out);
/* GNU build-id as lowercase hex ("" if none). */
const char *kinfo_dwarf_build_id(const struct kinfo_dwarf *kd);
/* The release from the linux_banner string ("6.1.0-28-amd64"), "" if unknown. */
const char *kinfo_dwarf_release(const struct kinfo_dwarf *kd);

#endif
