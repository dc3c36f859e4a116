/* Kernel type information from BTF (libbpf): struct sizes, member offsets
 * and bitfields — the layouts the DWARF source gives, from the kernel's own
 * .BTF (read out of the dump) or a BTF file (/sys/kernel/btf/vmlinux, or an
 * ELF with a .BTF section). */
#ifndef CLI_KINFO_BTF_H
#define CLI_KINFO_BTF_H

#include <stddef.h>
#include <stdint.h>
#include "vtd/kernel.h"

struct vtd_btf;

struct kinfo_btf;

/* From raw BTF bytes (copied). */
struct kinfo_btf *kinfo_btf_new(const void *data, size_t len, char *err, size_t errlen);
/* From a file: raw BTF or an ELF with .BTF. */
struct kinfo_btf *kinfo_btf_open(const char *path, char *err, size_t errlen);
void kinfo_btf_close(struct kinfo_btf *kb);

int kinfo_btf_type_size(struct kinfo_btf *kb, const char *type, uint64_t *size);
int kinfo_btf_member(struct kinfo_btf *kb, const char *type, const char *member,
		     struct vtd_member *out);
/* The decoded BTF (lib/btf.c) behind it. */
const struct vtd_btf *kinfo_btf_raw(const struct kinfo_btf *kb);
/* Number of types (for messages). */
unsigned kinfo_btf_ntypes(const struct kinfo_btf *kb);

#endif
