/* libvtd — the crashed kernel's own IOMMU state (design.md §4).
 *
 * The locator reads kernel structures through two interfaces: physical
 * memory (struct vtd_mem) and kernel information (struct vtd_kinfo: symbol
 * addresses, type sizes, member offsets, VMCOREINFO).  Layouts always come
 * from the dumped kernel's own debuginfo/BTF; a member that does not exist is
 * a version fact, never an error by itself.
 */
#ifndef VTD_KERNEL_H
#define VTD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "mem.h"
#include "walk.h"

struct vtd_member {
	uint64_t offset;      /* byte offset of the member (of its storage unit for bitfields) */
	uint64_t size;        /* byte size */
	unsigned bit_offset;  /* bitfields: bit offset from offset, LSB first */
	unsigned bit_size;    /* bitfields: width in bits; 0 for ordinary members */
};

struct vtd_kinfo {
	/* Runtime address of a kernel symbol (KASLR offset applied). 0 or -1. */
	int (*symbol)(void *ctx, const char *name, uint64_t *addr);
	/* Size of a type, e.g. "struct intel_iommu". 0 or -1 (no such type). */
	int (*type_size)(void *ctx, const char *type, uint64_t *size);
	/* Member of a struct; member may be a dotted path ("domain.type").
	 * 0, or -1 if the type has no such member. */
	int (*member)(void *ctx, const char *type, const char *member,
		      struct vtd_member *out);
	/* A VMCOREINFO value ("NUMBER(phys_base)", "OSRELEASE",
	 * "KERNELOFFSET"): 0 and the text in val, or -1. */
	int (*vmcoreinfo)(void *ctx, const char *key, char *val, size_t len);
	void *ctx;
};

/* Kernel virtual memory over physical memory (x86-64). */
struct vtd_kmem {
	const struct vtd_mem *phys;
	uint64_t page_offset_base;   /* direct map */
	uint64_t phys_base;          /* kernel text: pa = va - START_KERNEL_map + phys_base */
	uint64_t top_pgt_pa;         /* init_top_pgt, for everything else */
	uint64_t image_size;         /* KERNEL_IMAGE_SIZE: the text mapping's extent */
	bool l5;                     /* 5-level paging */
};

#define VTD_START_KERNEL_MAP 0xffffffff80000000ull

/* Set km up from VMCOREINFO and symbols (page_offset_base, phys_base,
 * init_top_pgt, pgtable_l5_enabled). */
int vtd_kmem_init(struct vtd_kmem *km, const struct vtd_mem *phys,
		  const struct vtd_kinfo *ki, struct vtd_error *err);
/* Kernel virtual address to physical. */
int vtd_kmem_v2p(const struct vtd_kmem *km, uint64_t va, uint64_t *pa,
		 struct vtd_error *err);
/* Read kernel virtual memory (may cross pages). */
int vtd_kmem_read(const struct vtd_kmem *km, uint64_t va, void *buf, size_t len,
		  struct vtd_error *err);
/* A struct vtd_mem that reads kernel virtual addresses through km. */
struct vtd_mem vtd_kmem_mem(const struct vtd_kmem *km);

/* One DMAR unit as the crashed kernel knew it. */
struct vtd_kunit {
	struct vtd_unit unit;        /* cap, ecap, rtaddr, irta, qi: the values the
				      * crashed kernel's own tables imply */
	uint64_t drhd, iommu;        /* struct dmar_drhd_unit / intel_iommu addresses */
	uint64_t reg_phys;
	uint32_t gcmd;
	int seq_id;
	int agaw, msagaw;
	uint64_t flags;              /* VTD_FLAG_TRANS_PRE_ENABLED bit 0, IRQ_REMAP_PRE_ENABLED bit 1 */
	bool ignored;
	bool sm;                     /* scalable mode: intel_iommu_sm && ECAP.SMTS */
	bool eim_known;              /* IRTA.EIME could be told (eim_mode found) */
	uint64_t root_entry;         /* virtual address of the root table */
	uint64_t ir_table_base;      /* virtual address of the IR table, 0 if none */
	uint64_t qi_desc, qi_status; /* virtual addresses, 0 if none */
	uint64_t copied_tables;      /* bitmap address (≥6.0), 0 if none/absent */
	bool has_copied_tables;      /* the member exists in this kernel */
	/* struct intel_iommu could not be read because its page is not in the
	 * dump (filtered out): cap, ecap and the table addresses are unknown,
	 * why says which structure, address and page */
	bool lost;
	char why[240];
};

enum vtd_kdomain_type {      /* iommu_domain.type bits, Linux include/linux/iommu.h */
	VTD_DOM_BLOCKED = 0x0, VTD_DOM_UNMANAGED = 0x1, VTD_DOM_IDENTITY = 0x4,
	VTD_DOM_DMA = 0x3, VTD_DOM_DMA_FQ = 0xb, VTD_DOM_SVA = 0x10,
};

struct vtd_kdomain {
	uint64_t addr;               /* struct dmar_domain */
	unsigned type;               /* iommu_domain.type */
	uint64_t pgd;                /* physical address of the domain's top table (0: none) */
	int agaw;                    /* -1 if unknown */
	bool first_level;
	int force_snooping;          /* dmar_domain.force_snooping, -1 if unknown */
	int did[8];                  /* DID per unit index, -1 where not attached */
};

struct vtd_kdevice {
	uint16_t segment;
	uint8_t bus, devfn;
	uint16_t vendor, device;
	char driver[32];             /* "" when no driver bound */
	uint64_t pci_dev, info;      /* struct pci_dev, device_domain_info (0: none) */
	int unit;                    /* index into units, -1 */
	int domain;                  /* index into domains, -1 */
	uint64_t pasid_table_dir;    /* physical address of the kernel's PASID directory, 0 */
	uint32_t max_pasid;          /* pasid_table.max_pasid, 0 if unknown */
	/* device_domain_info capability bits, -1 when the layout does not say */
	int ats_supported, pri_supported, pasid_supported;
};

struct vtd_kstate {
	struct vtd_kmem km;
	struct vtd_kunit *units;     size_t nunits;
	struct vtd_kdomain *domains; size_t ndomains;
	struct vtd_kdevice *devices; size_t ndevices;
	uint64_t crashk_start, crashk_end;           /* [start, end], 0/0 if none */
	uint64_t crashk_low_start, crashk_low_end;
	int intel_iommu_sm;                          /* -1 if the variable is absent */
	uint64_t max_pfn;                            /* the kernel's max_pfn, 0 if unknown */
	char osrelease[65];
	/* Facts that could not be established, one line each ("domains: struct
	 * dmar_domain lies in an excluded page at 0x..."). */
	char **missing;              size_t nmissing;
};

/* The crashed kernel's log (the lockless printk ring buffer of 5.10+,
 * reached through the prb symbol): cb gets every finalized/committed record
 * in sequence order, text not NUL-terminated.  Returns 0, cb's non-zero
 * value, or an error (no ring, unreadable descriptors). */
typedef int (*vtd_printk_cb)(void *arg, uint64_t seq, uint64_t ts_nsec,
			     const char *text, size_t len);
int vtd_printk_iter(const struct vtd_kmem *km, const struct vtd_kinfo *ki,
		    vtd_printk_cb cb, void *arg, struct vtd_error *err);

/* The kernel's shadow of an IRTE (struct intel_ir_data of an IRQ whose
 * irq_data chain reaches intel_ir_chip): what it last wrote to the table. */
struct vtd_irte_shadow {
	int unit;                    /* index into ks->units, -1 if unknown */
	uint32_t index;              /* irte_index + sub_handle */
	unsigned irq;
	int mode;                    /* irq_2_iommu.mode: 0 remapping, 1 posting */
	struct vtd_irte irte;        /* intel_ir_data.irte_entry */
	uint64_t addr;               /* struct intel_ir_data */
};
typedef int (*vtd_irte_shadow_cb)(void *arg, const struct vtd_irte_shadow *sh);
/* Every IRTE shadow, from the sparse IRQ descriptors (irq_desc_tree, an
 * xarray, ≤6.4).  Returns 0, cb's value, or an error naming what is missing. */
int vtd_irte_shadows(const struct vtd_kstate *ks, const struct vtd_kinfo *ki,
		     vtd_irte_shadow_cb cb, void *arg, struct vtd_error *err);

/* Locate the crashed kernel's IOMMU state.  Returns 0 (possibly with
 * entries in ks->missing), or an error when not even the units can be
 * found. */
int vtd_kstate_load(const struct vtd_mem *phys, const struct vtd_kinfo *ki,
		    struct vtd_kstate **out, struct vtd_error *err);
void vtd_kstate_free(struct vtd_kstate *ks);

#endif
