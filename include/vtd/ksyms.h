/* libvtd — kernel symbols without a vmlinux: the kernel's own kallsyms
 * tables, found through VMCOREINFO (SYMBOL(kallsyms_names) and the rest,
 * exported since Linux 6.0), or a /proc/kallsyms text.
 *
 * Addresses are the dumped boot's runtime addresses: KASLR is already in
 * them.
 */
#ifndef VTD_KSYMS_H
#define VTD_KSYMS_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "kernel.h"
#include "mem.h"

struct vtd_ksyms;

/* Decode the kallsyms tables.  kv reads kernel virtual memory (the kernel
 * image mapping is enough: vtd_kmem over a kmem set up from VMCOREINFO
 * alone); ki->vmcoreinfo gives the tables' addresses.  VTD_E_INVAL when
 * VMCOREINFO lacks them (kernels before 6.0, CONFIG_KALLSYMS=n). */
int vtd_kallsyms_read(const struct vtd_mem *kv, const struct vtd_kinfo *ki,
		      struct vtd_ksyms **out, struct vtd_error *err);

/* Parse /proc/kallsyms text ("ffffffff81000000 T _text [module]").  Lines
 * with a module are skipped (their addresses move). */
int vtd_ksyms_parse(const char *text, size_t len, struct vtd_ksyms **out,
		    struct vtd_error *err);

/* Address of name (a global symbol wins over local ones of the same name).
 * 0, or -1 if there is no such symbol. */
int vtd_ksyms_lookup(const struct vtd_ksyms *ks, const char *name, uint64_t *addr);

/* Number of distinct names. */
size_t vtd_ksyms_count(const struct vtd_ksyms *ks);

void vtd_ksyms_free(struct vtd_ksyms *ks);

#endif
