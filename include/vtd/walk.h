/* libvtd — table walks over struct vtd_mem: translation, mappings, reverse map.
 *
 * Walks start from a unit's root table (the crashed kernel's, never the
 * registers) and follow the spec's rules.  Every walk is bounded: levels come
 * from AW/FLPM, a table has 512 entries, and a set of visited tables stops
 * loops; hostile tables end in a vtd_error naming unit, bus:dev.fn, PASID,
 * level, index and raw entry.
 */
#ifndef VTD_WALK_H
#define VTD_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "irq.h"
#include "mem.h"
#include "qi.h"
#include "tables.h"

/* What a walk needs to know about one remapping unit. */
struct vtd_unit {
	char name[24];        /* "dmar0" */
	uint16_t segment;     /* PCI segment */
	uint64_t cap, ecap;
	uint64_t rtaddr;      /* root-table address | TTM << 10, as the crashed
			       * kernel programmed it (0 = no root table) */
	unsigned haw;         /* host address width; 0 = CAP.MGAW */
	uint64_t irta;        /* IRTA value (0 = no IR table) */
	struct vtd_qi qi;     /* invalidation queue (iqa 0 = none) */
	bool unknown;         /* the crashed kernel's record of the unit (struct
			       * intel_iommu) could not be read: cap, ecap and the
			       * table addresses are not known, not zero */
};

static inline bool vtd_unit_scalable(const struct vtd_unit *u)
{ return rtaddr_ttm(u->rtaddr) == VTD_TTM_SCALABLE; }
static inline unsigned vtd_unit_haw(const struct vtd_unit *u)
{ return u->haw ? u->haw : cap_haw(u->cap); }

/* Source id */
static inline uint16_t vtd_sid(unsigned bus, unsigned devfn) { return (uint16_t)(bus << 8 | devfn); }
#define VTD_NO_PASID (-1)

enum vtd_access { VTD_ACC_READ = 1, VTD_ACC_WRITE = 2 };
enum vtd_perm { VTD_PERM_R = 1, VTD_PERM_W = 2 };

/* How a device's requests are translated. */
enum vtd_xtype {
	VTD_XT_NONE = 0,
	VTD_XT_SL,       /* second-level tables (legacy TT 0/1, SM PGTT 2) */
	VTD_XT_FL,       /* first-level (PGTT 1) */
	VTD_XT_NESTED,   /* first-level, its GPAs through second-level (PGTT 3) */
	VTD_XT_PT,       /* pass-through (legacy TT 2, PGTT 4): can reach all memory */
};
const char *vtd_xtype_name(enum vtd_xtype t);

/* Fault reasons (VT-d spec §7.1.3 / Linux dma_remap_fault_reasons[]). */
enum vtd_fault {
	VTD_FR_NONE = 0,
	/* not a VT-d fault reason: the unit's tables are not known (unknown) */
	VTD_FR_UNIT_UNKNOWN = 0x100,
	VTD_FR_ROOT_ENTRY_P = 0x1, VTD_FR_CONTEXT_ENTRY_P = 0x2,
	VTD_FR_CONTEXT_ENTRY_INV = 0x3, VTD_FR_ADDR_BEYOND_MGAW = 0x4,
	VTD_FR_WRITE = 0x5, VTD_FR_READ = 0x6, VTD_FR_PAGING_ENTRY_INV = 0x7,
	VTD_FR_ROOT_TABLE_INV = 0x8, VTD_FR_CONTEXT_TABLE_INV = 0x9,
	VTD_FR_ROOT_ENTRY_RSVD = 0xa, VTD_FR_CONTEXT_ENTRY_RSVD = 0xb,
	VTD_FR_PAGING_ENTRY_RSVD = 0xc, VTD_FR_CONTEXT_ENTRY_TT = 0xd,
	/* scalable mode */
	VTD_FR_SM_RTA_INV = 0x30, VTD_FR_SM_TTM0_PASID = 0x31,
	VTD_FR_SM_ROOT_ACCESS = 0x38,
	VTD_FR_SM_ROOT_P = 0x39, VTD_FR_SM_ROOT_RSVD = 0x3a,
	VTD_FR_SM_CTX_ACCESS = 0x40, VTD_FR_SM_CTX_P = 0x41,
	VTD_FR_SM_CTX_RSVD = 0x42, VTD_FR_SM_CTX_INV = 0x43,
	VTD_FR_SM_PASIDE = 0x45, VTD_FR_SM_PASID_MAX = 0x46,
	VTD_FR_SM_PDIR_ACCESS = 0x50, VTD_FR_SM_PDIR_P = 0x51,
	VTD_FR_SM_PDIR_RSVD = 0x52, VTD_FR_SM_PTE_ACCESS = 0x58,
	VTD_FR_SM_PTE_P = 0x59, VTD_FR_SM_PTE_RSVD = 0x5a,
	VTD_FR_SM_PTE_INV = 0x5b,
	VTD_FR_SM_FL_ACCESS = 0x70, VTD_FR_SM_FL_P = 0x71,
	VTD_FR_SM_FL_RSVD = 0x72, VTD_FR_SM_FL_PML4_ACCESS = 0x73,
	VTD_FR_SM_SL_ACCESS = 0x78, VTD_FR_SM_SL_PERM = 0x79,
	VTD_FR_SM_SL_RSVD = 0x7a, VTD_FR_SM_SL_PTR_INV = 0x7b,
	VTD_FR_SM_NON_CANONICAL = 0x80, VTD_FR_SM_FL_US = 0x81,
	VTD_FR_SM_BEYOND_MAX = 0x83, VTD_FR_SM_SL_ADDR_BEYOND = 0x84,
	VTD_FR_SM_WRITE = 0x85, VTD_FR_SM_READ = 0x86,
};
/* The spec's (and Linux's) text for a fault reason. */
const char *vtd_fault_str(unsigned reason);

/* A walk step: one entry read on the way. */
enum vtd_stage {
	VTD_ST_ROOT, VTD_ST_CONTEXT, VTD_ST_PASID_DIR, VTD_ST_PASID,
	VTD_ST_SL, VTD_ST_FL,
};
const char *vtd_stage_name(enum vtd_stage s);

struct vtd_step {
	enum vtd_stage stage;
	int level;            /* paging level, -1 for root/context/PASID */
	unsigned index;
	uint64_t table;       /* physical address of the table read */
	uint64_t raw[8];
	unsigned nraw;
};

#define VTD_MAX_STEPS 48

struct vtd_request {
	uint16_t sid;         /* bus << 8 | devfn */
	int64_t pasid;        /* VTD_NO_PASID: request without PASID */
	uint64_t iova;
	unsigned access;      /* enum vtd_access */
};

struct vtd_translation {
	unsigned fault;       /* 0, or the fault reason (enum vtd_fault) */
	uint64_t pa;          /* the physical address (fault == 0) */
	uint64_t page_size;   /* size of the page that maps it */
	unsigned perm;        /* effective permissions along the walk */
	enum vtd_xtype xtype;
	int did;              /* domain id from the context/PASID entry, -1 */
	int64_t pasid;        /* PASID used (RID_PASID for requests without) */
	unsigned nsteps;
	struct vtd_step steps[VTD_MAX_STEPS];
	struct vtd_error err; /* set when fault != 0: why, and where */
};

/* Translate one request as the hardware would (no caches).  Returns 0 when
 * translated, else the fault reason (also in out->fault, explained in
 * out->err; a table that cannot be read because the dump lacks it gives the
 * spec's access-error reason and err.code VTD_E_READ). */
unsigned vtd_translate(const struct vtd_mem *mem, const struct vtd_unit *u,
		       const struct vtd_request *rq, struct vtd_translation *out);

/* One coalesced run of mappings: [iova, iova + size) -> [pa, pa + size).
 * Leaves merge into one run when they are contiguous in IOVA and in PA and
 * have the same permissions and page size. */
struct vtd_mapping {
	uint64_t iova, size, pa;
	uint64_t page_size;   /* 4 KiB, 2 MiB, 1 GiB; 0 for pass-through */
	unsigned perm;        /* enum vtd_perm */
	enum vtd_xtype xtype;
};

/* Where a device's translation is described (from its context/PASID entry). */
struct vtd_devctx {
	uint16_t sid;
	int64_t pasid;        /* PASID of the PASID entry (SM), VTD_NO_PASID (legacy) */
	enum vtd_xtype xtype;
	int did;
	uint64_t sl_root;     /* second-level table (SL, NESTED) */
	unsigned sl_levels;
	uint64_t fl_root;     /* first-level table (FL, NESTED) */
	unsigned fl_levels;
	bool fpd;
	uint64_t raw_context[4];
	uint64_t raw_pasid[8];
};

/* A table a walk read: what it is, and whose. */
struct vtd_table_ref {
	enum vtd_stage stage;
	int level;            /* paging level, -1 for root/context/PASID tables */
	uint64_t pa;          /* physical address of the (4 KiB) table page */
	int sid;              /* the device whose walk read it, -1 for the root table */
	int64_t pasid;        /* PASID for PASID tables and paging tables, else VTD_NO_PASID */
	unsigned bus;         /* context tables: the bus */
};

/* Callbacks for walks that visit many entries.  Any callback returning
 * non-zero stops the walk; that value is returned by the walk. */
struct vtd_walk_ops {
	/* a present device context: legacy context entry, or SM PASID entry */
	int (*device)(void *arg, const struct vtd_devctx *dc);
	/* a coalesced mapping run of the device last reported */
	int (*mapping)(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m);
	/* a problem found on the way (the walk skips that entry and goes on) */
	int (*diag)(void *arg, const struct vtd_error *err);
	void *arg;
	/* a table read on the way (optional): root, context, PASID directory
	 * page, PASID table, second- or first-level paging table */
	int (*table)(void *arg, const struct vtd_table_ref *t);
};

/* Resolve the context (and PASID entry) of sid/pasid: pasid names the
 * PASID-table entry (VTD_NO_PASID: the context's RID_PASID); unlike a
 * request with PASID it is not refused when the context's PASIDE is clear.
 * Returns 0 and fills dc, or a fault reason with err set. */
unsigned vtd_devctx_get(const struct vtd_mem *mem, const struct vtd_unit *u,
			uint16_t sid, int64_t pasid, struct vtd_devctx *dc,
			struct vtd_error *err);

/* Every mapping of one device context, in IOVA order (ops->mapping; pass-
 * through gives one identity run over the host address width). */
int vtd_map_walk(const struct vtd_mem *mem, const struct vtd_unit *u,
		 const struct vtd_devctx *dc, const struct vtd_walk_ops *ops);

/* Every present device context of a unit (ops->device), and with
 * with_mappings every mapping of each (ops->mapping). */
int vtd_unit_walk(const struct vtd_mem *mem, const struct vtd_unit *u,
		  bool with_mappings, const struct vtd_walk_ops *ops);

/* Reverse map: every (unit, sid, PASID, IOVA, permission) whose mapping
 * reaches physical [pa, pa + len).  Pass-through contexts are reported once
 * as a run with xtype VTD_XT_PT covering the range. */
struct vtd_rmap_hit {
	const struct vtd_unit *unit;
	const struct vtd_devctx *dc;
	uint64_t iova;        /* IOVA of the first byte of the overlap */
	uint64_t pa, size;    /* the overlap */
	uint64_t page_size;
	unsigned perm;
};
typedef int (*vtd_rmap_cb)(void *arg, const struct vtd_rmap_hit *hit);
int vtd_rmap(const struct vtd_mem *mem, const struct vtd_unit *units, unsigned nunits,
	     uint64_t pa, uint64_t len, vtd_rmap_cb cb,
	     int (*diag)(void *arg, const struct vtd_error *err), void *arg);

#endif
