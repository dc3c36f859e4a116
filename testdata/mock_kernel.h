/* A mock crashed kernel for synthetic dumps: the structures the locator
 * reads (dmar_drhd_units → intel_iommu → q_inval/ir_table, pci_root_buses →
 * pci_dev → dev_iommu → device_domain_info → dmar_domain, crashk_res,
 * intel_iommu_sm, eim_mode, page_offset_base), laid into a scenario's image
 * from testdata/mock/mock-kernel.h at the addresses of the mock vmlinux's
 * symbols, under a KASLR offset and a randomized direct map; with the
 * kernel's kallsyms tables and BTF (when the mock vmlinux has .BTF) after
 * the image, as a Debian kernel has them. */
#ifndef TESTDATA_MOCK_KERNEL_H
#define TESTDATA_MOCK_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "scenario.h"

struct mock {
	char *vmcoreinfo;          /* VMCOREINFO text for the dumps */
	char *vmcoreinfo_bare;     /* the same without SYMBOL(kallsyms_*): a dump
				    * that carries no kernel information */
	uint64_t kaslr;            /* KERNELOFFSET */
	uint64_t phys_base;
	uint64_t page_offset_base;
	uint64_t crashk_start, crashk_end;
	int eim_mode;              /* Linux's eim_mode is global: 1 if any unit has IRTA.EIME */
	/* DMAR fault lines written to the kernel log: the scenario's expected
	 * faulting translations, logged as dmar_fault_do_one() would */
	struct mock_fault { char unit[24]; uint16_t sid; int64_t pasid; uint64_t addr;
			    int write; unsigned reason; } faults[4];
	unsigned nfaults;
	unsigned nlog;             /* records in the log */
	unsigned nshadows;         /* IRTE shadows (intel_ir_data) written */
	char build_id[80];
	/* where the kernel objects live (the "slab"): [slab_start, slab_end);
	 * a dump that leaves these pages out lost the IOMMU state, as
	 * makedumpfile 1.7.2 -d 31 does on Linux 6.12 (issue 10) */
	uint64_t slab_start, slab_end;
};

/* Add the mock kernel to s (its image and dump info).  NULL with a message
 * on failure (e.g. no free pages for the kernel objects). */
struct mock *mock_kernel_add(struct scn *s, const char *vmlinux, char *err, size_t errlen);
void mock_free(struct mock *m);

/* A scenario exactly as vtd-gen turns it into dumps: scn_load, then the mock
 * kernel when vmlinux is not NULL (*mk gets it; free both). */
struct scn *scn_load_generated(const char *path, const char *vmlinux, struct mock **mk,
			       char *err, size_t errlen);
/* The mock vmlinux of a build directory ($VTD_BUILD, default build). */
const char *mock_vmlinux_path(void);

#define MOCK_RELEASE "6.1.0-vtdmock"

#endif
