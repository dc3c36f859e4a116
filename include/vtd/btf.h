/* Kernel type layouts from BTF (the kernel's .BTF, __start_BTF..__stop_BTF):
 * struct sizes, member offsets through anonymous members and dotted paths,
 * bitfields.  Pure decoding over a buffer: the CLI gets the bytes from the
 * dump or a file, crash> vtd from crash's readmem, without any library. */
#ifndef VTD_BTF_H
#define VTD_BTF_H

#include <stddef.h>
#include <stdint.h>

#include "vtd/error.h"
#include "vtd/kernel.h"

struct vtd_btf;

/* Parse len bytes of raw BTF (copied).  NULL with e naming what is wrong
 * (header, a type record past the section, an unknown kind). */
struct vtd_btf *vtd_btf_new(const void *data, size_t len, struct vtd_error *e);
void vtd_btf_free(struct vtd_btf *b);
/* Types, counting the void type 0 (as libbpf's btf__type_cnt). */
unsigned vtd_btf_ntypes(const struct vtd_btf *b);

/* "struct NAME", "union NAME" (the first definition), or a plain type name:
 * 0, or -1 when unknown. */
int vtd_btf_type_size(const struct vtd_btf *b, const char *type, uint64_t *size);
/* member: "a" or "a.b.c", through anonymous structs and unions. */
int vtd_btf_member(const struct vtd_btf *b, const char *type, const char *member,
		   struct vtd_member *out);

#endif
