/* libvtd — takeover analysis: findings, page marks, restoration plan
 * (design.md §5, §6).
 *
 * A dump taken after a kdump takeover is not a snapshot of the crash:
 * devices go on writing through the kept mappings, the IOMMU writes status
 * words and descriptors, and in-place takeover designs rewrite the crashed
 * kernel's root, context and interrupt entries.  vtd_analyze() says which
 * pages to distrust (marks), what it found (findings), and which bytes can be
 * given back from evidence (restorations) — never guessed.
 */
#ifndef VTD_MARKS_H
#define VTD_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "kernel.h"
#include "mem.h"
#include "walk.h"

/* Why a page is marked (one bit per reason; design.md §5). */
enum vtd_mark_reason {
	VTD_MARK_TABLE            = 1u << 0, /* holds a crashed-kernel IOMMU structure */
	VTD_MARK_HW_WRITABLE      = 1u << 1, /* the IOMMU may write it after the crash */
	VTD_MARK_DMA_WRITABLE     = 1u << 2, /* mapped writable by a kept context/PASID entry */
	VTD_MARK_CHANGED          = 1u << 3, /* differs from an earlier or independent copy */
	VTD_MARK_TAKEOVER_WRITTEN = 1u << 4, /* written by an in-place takeover */
	VTD_MARK_RESTORED         = 1u << 5, /* bytes replaced by originals in the image */
};
#define VTD_MARK_NREASONS 6
/* "TABLE", "HW_WRITABLE", ... for one bit; NULL for anything else. */
const char *vtd_mark_reason_name(unsigned reason);
/* The bit of a reason name (case-insensitive), 0 if none. */
unsigned vtd_mark_reason_parse(const char *name);

/* A run of pages [pfn, pfn + npages) marked for one reason, with the
 * evidence: which unit / device / PASID, and in words. */
struct vtd_mark {
	uint64_t pfn, npages;
	unsigned reason;          /* exactly one enum vtd_mark_reason bit */
	char unit[24];            /* "" when not tied to a unit */
	int segment;              /* -1 when not tied to a device */
	int sid;                  /* bus << 8 | devfn, -1 when not tied to a device */
	int64_t pasid;            /* VTD_NO_PASID when none */
	uint64_t iova;            /* DMA_WRITABLE: IOVA of the run's first page; else 0 */
	char what[112];           /* evidence: "context table bus 0x00", "IRTE 12 vs shadow" */
};

struct vtd_marks {
	struct vtd_mark *v;
	size_t n, cap;
	bool sorted;              /* v is in (pfn, reason) order */
};

/* Add a mark (copied).  -VTD_E_NOMEM on failure. */
int vtd_marks_add(struct vtd_marks *m, const struct vtd_mark *mk);
/* Sort by pfn, then reason (idempotent). */
void vtd_marks_sort(struct vtd_marks *m);
/* Call cb for every mark that covers any page of [pfn, pfn + npages) and
 * has a reason in mask (0: any); m must be sorted. */
int vtd_marks_find(const struct vtd_marks *m, uint64_t pfn, uint64_t npages, unsigned mask,
		   int (*cb)(void *arg, const struct vtd_mark *mk), void *arg);
/* The reasons of one page (OR over its marks); m must be sorted. */
unsigned vtd_marks_of(const struct vtd_marks *m, uint64_t pfn);
void vtd_marks_free(struct vtd_marks *m);

enum vtd_severity { VTD_SEV_INFO = 0, VTD_SEV_WARNING, VTD_SEV_ERROR };
const char *vtd_severity_name(enum vtd_severity s);   /* "info", "warning", "error" */

/* One finding of the analysis, with its evidence. */
struct vtd_finding {
	enum vtd_severity sev;
	char kind[32];            /* "crashkernel-pointer", "copied-marker", "copied-tables",
				   * "context-differs", "pasid-differs", "irte-differs",
				   * "qi-pending", "pass-through", "root-rewritten", ... */
	char unit[24];
	int segment, sid;         /* -1 when not tied to a device */
	int64_t pasid;            /* VTD_NO_PASID when none */
	uint64_t pa;              /* physical address of the entry concerned, VTD_NOADDR */
	char text[320];           /* the evidence, in words */
};

#define VTD_RESTORE_MAX 64    /* bytes in one restoration (one PASID entry) */

/* One restoration: at physical pa, len bytes; the original (from evidence)
 * and what the dump holds now. */
struct vtd_restore {
	uint64_t pa;
	unsigned len;             /* 1..VTD_RESTORE_MAX, never crossing a page */
	uint8_t original[VTD_RESTORE_MAX];
	uint8_t captured[VTD_RESTORE_MAX];
	char source[112];         /* "intel_ir_data shadow of IRQ 24", "rebuilt from
				   * device_domain_info 0x... / dmar_domain 0x...",
				   * "context table found at 0x... (3 entries match)" */
};

struct vtd_analysis {
	struct vtd_finding *findings;  size_t nfindings;
	struct vtd_marks marks;
	struct vtd_restore *restores;  size_t nrestores;
	/* counts for the summary */
	uint64_t devices, tables;
};

/* Analysis options. */
struct vtd_analyze_opts {
	/* Search the dump's pages for a context table whose entries match those
	 * rebuilt from the kernel's state (needed to restore an in-place root
	 * rewrite).  The search reads up to max_pfn pages (0: the crashed
	 * kernel's max_pfn variable). */
	bool search_context_tables;
	uint64_t max_pfn;
};

/* Analyse the crashed kernel's IOMMU state in mem: findings, marks and the
 * restoration plan.  units are the walkable units (ks->units[i].unit); ks and
 * ki may be NULL (raw --root mode: only marks from the tables).  Returns 0
 * (the result in *out, free with vtd_analysis_free) or an error. */
int vtd_analyze(const struct vtd_mem *mem, const struct vtd_kstate *ks,
		const struct vtd_kinfo *ki, const struct vtd_unit *units, size_t nunits,
		const struct vtd_analyze_opts *opts, struct vtd_analysis **out,
		struct vtd_error *err);
void vtd_analysis_free(struct vtd_analysis *a);
/* Append a copy of f to a's findings: 0, or -1 (out of memory). */
int vtd_analysis_add_finding(struct vtd_analysis *a, const struct vtd_finding *f);
/* Once the restorations are applied to an image: a RESTORED mark for each
 * (the record then says which pages hold originals). */
int vtd_analysis_mark_restored(struct vtd_analysis *a);

/* Rebuild the entries the crashed kernel wrote for a device (design.md §6),
 * from its device_domain_info / dmar_domain and the unit: the legacy context
 * entry (2 qwords) or the scalable-mode context entry (4 qwords) and the
 * RID_PASID PASID-table entry (8 qwords).  Returns 0, or -1 with the reason
 * in err (no domain, unknown layout, a fact missing). */
struct vtd_rebuilt {
	uint64_t context[4];      unsigned ncontext;   /* 2 legacy, 4 scalable */
	uint64_t pasid[8];        bool has_pasid;      /* scalable mode: RID_PASID entry */
	uint64_t pasid_dir;       /* scalable: the PASID directory (physical), 0 */
};
int vtd_rebuild_device(const struct vtd_mem *mem, const struct vtd_kstate *ks,
		       size_t device, struct vtd_rebuilt *out, struct vtd_error *err);

#endif
