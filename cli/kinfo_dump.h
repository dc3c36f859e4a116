/* Kernel information for a dump: symbols and types from the vmlinux's DWARF
 * (kinfo_dwarf) with the dump's KASLR offset applied, VMCOREINFO from the
 * dump itself. */
#ifndef CLI_KINFO_DUMP_H
#define CLI_KINFO_DUMP_H

#include "dump.h"
#include "kinfo_dwarf.h"
#include "vtd/kernel.h"

struct kinfo_dump {
	struct kinfo_dwarf *kd;
	struct dump *dump;
	uint64_t kaslr;              /* VMCOREINFO KERNELOFFSET, 0 if none */
	struct vtd_kinfo ki;         /* the interface; its ctx is this struct */
};

/* Fill k (which must stay where it is while k->ki is used). */
void kinfo_dump_init(struct kinfo_dump *k, struct kinfo_dwarf *kd, struct dump *d);

#endif
