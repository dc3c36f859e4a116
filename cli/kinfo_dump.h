/* Kernel information for a dump, from one of two sources:
 *   - a vmlinux's DWARF (kinfo_dwarf), its link-time symbols moved by the
 *     dump's KASLR offset;
 *   - BTF (kinfo_btf) and kallsyms (vtd_ksyms) — normally both read out of
 *     the dump itself, so nothing but the dump is needed; symbols are then
 *     runtime addresses already.
 * VMCOREINFO always comes from the dump. */
#ifndef CLI_KINFO_DUMP_H
#define CLI_KINFO_DUMP_H

#include "dump.h"
#include "kinfo_btf.h"
#include "kinfo_dwarf.h"
#include "vtd/kernel.h"
#include "vtd/ksyms.h"

struct kinfo_dump {
	struct kinfo_dwarf *kd;      /* DWARF source, or NULL */
	struct kinfo_btf *kb;        /* BTF source (with ks), or NULL */
	struct vtd_ksyms *ks;
	struct dump *dump;
	uint64_t kaslr;              /* VMCOREINFO KERNELOFFSET, 0 if none */
	struct vtd_kinfo ki;         /* the interface; its ctx is this struct */
};

/* Fill k (which must stay where it is while k->ki is used).  The sources
 * stay the caller's. */
void kinfo_dump_init(struct kinfo_dump *k, struct kinfo_dwarf *kd, struct dump *d);
void kinfo_dump_init_btf(struct kinfo_dump *k, struct kinfo_btf *kb, struct vtd_ksyms *ks,
			 struct dump *d);

/* Load BTF and kallsyms for dump d: from btf_file / kallsyms_file when not
 * NULL, otherwise from the dump (kallsyms through VMCOREINFO, BTF between
 * __start_BTF and __stop_BTF).  A kallsyms file must be from the dumped
 * boot (checked against VMCOREINFO's init_top_pgt).  0, or -1 with a
 * message naming what is missing. */
int kinfo_dump_load_btf(struct dump *d, const char *btf_file, const char *kallsyms_file,
			struct kinfo_btf **kb, struct vtd_ksyms **ks, char *err, size_t errlen);

#endif
