/* libvtd — DMA-remapping table entries (VT-d spec §9; Linux iommu.h/pasid.h).
 *
 * Entries are arrays of host-order qwords (read little-endian from memory).
 * Accessors are named after the kernel's helpers where it has one.
 */
#ifndef VTD_TABLES_H
#define VTD_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include "fields.h"
#include "regs.h"

#define VTD_PAGE_SIZE 4096u
#define VTD_PAGE_MASK (~0xfffull)

/* Root entry, 128 bits, 256 per table (indexed by bus). */
struct vtd_root_entry { uint64_t lo, hi; };
static inline bool root_present(const struct vtd_root_entry *r)     { return r->lo & 1; }       /* legacy P */
static inline uint64_t root_ctp(const struct vtd_root_entry *r)     { return r->lo & VTD_PAGE_MASK; }
static inline bool root_lp(const struct vtd_root_entry *r)          { return r->lo & 1; }       /* SM LP */
static inline bool root_up(const struct vtd_root_entry *r)          { return r->hi & 1; }       /* SM UP */
static inline uint64_t root_entry_lctp(const struct vtd_root_entry *r) { return r->lo & VTD_PAGE_MASK; }
static inline uint64_t root_entry_uctp(const struct vtd_root_entry *r) { return r->hi & VTD_PAGE_MASK; }

/* Legacy context entry, 128 bits, 256 per table (indexed by devfn). */
struct vtd_context_entry { uint64_t lo, hi; };
enum vtd_context_tt {
	CONTEXT_TT_MULTI_LEVEL = 0, CONTEXT_TT_DEV_IOTLB = 1,
	CONTEXT_TT_PASS_THROUGH = 2, CONTEXT_TT_RESERVED = 3,
};
static inline bool context_present(const struct vtd_context_entry *c)    { return c->lo & 1; }
static inline bool context_fpd(const struct vtd_context_entry *c)        { return vtd_b(c->lo, 1, 1); }
static inline unsigned context_tt(const struct vtd_context_entry *c)     { return (unsigned)vtd_b(c->lo, 2, 3); }
static inline bool context_paside(const struct vtd_context_entry *c)     { return vtd_b(c->lo, 11, 11); } /* VT-d 2.x ECS only */
static inline uint64_t context_slptptr(const struct vtd_context_entry *c) { return c->lo & VTD_PAGE_MASK; }
static inline unsigned context_aw(const struct vtd_context_entry *c)     { return (unsigned)vtd_b(c->hi, 0, 2); }
static inline unsigned context_avail(const struct vtd_context_entry *c)  { return (unsigned)vtd_b(c->hi, 3, 6); }
/* Linux 4.2–5.19 kdump marker: software bit 67 */
static inline bool context_copied(const struct vtd_context_entry *c)     { return vtd_b(c->hi, 3, 3); }
static inline unsigned context_domain_id(const struct vtd_context_entry *c) { return (unsigned)vtd_b(c->hi, 8, 23); }

/* Scalable-mode context entry, 256 bits, 128 per table (lower: devfn
 * 0x00–0x7f via LCTP, upper: 0x80–0xff via UCTP). */
struct vtd_sm_context_entry { uint64_t val[4]; };
static inline bool sm_context_present(const struct vtd_sm_context_entry *c) { return c->val[0] & 1; }
static inline bool sm_context_fpd(const struct vtd_sm_context_entry *c)     { return vtd_b(c->val[0], 1, 1); }
static inline bool sm_context_dte(const struct vtd_sm_context_entry *c)     { return vtd_b(c->val[0], 2, 2); }
static inline bool sm_context_paside(const struct vtd_sm_context_entry *c)  { return vtd_b(c->val[0], 3, 3); }
static inline bool sm_context_pre(const struct vtd_sm_context_entry *c)     { return vtd_b(c->val[0], 4, 4); }
static inline unsigned sm_context_pdts(const struct vtd_sm_context_entry *c) { return (unsigned)vtd_b(c->val[0], 9, 11); }
static inline uint64_t sm_context_pasiddirptr(const struct vtd_sm_context_entry *c) { return c->val[0] & VTD_PAGE_MASK; }
static inline unsigned sm_context_rid_pasid(const struct vtd_sm_context_entry *c) { return (unsigned)vtd_b(c->val[1], 0, 19); }
static inline bool sm_context_rid_priv(const struct vtd_sm_context_entry *c) { return vtd_b(c->val[1], 20, 20); }
/* Number of PASID-directory entries the context entry allows (2^(PDTS+7)). */
static inline uint64_t sm_context_pasid_dir_entries(const struct vtd_sm_context_entry *c)
{ return 1ull << (sm_context_pdts(c) + 7); }

/* PASID-directory entry, 64 bits; directory index = PASID[19:6]. */
struct vtd_pasid_dir_entry { uint64_t val; };
static inline bool pasid_pde_present(const struct vtd_pasid_dir_entry *d) { return d->val & 1; }
static inline bool pasid_pde_fpd(const struct vtd_pasid_dir_entry *d)     { return vtd_b(d->val, 1, 1); }
static inline uint64_t pasid_pde_table(const struct vtd_pasid_dir_entry *d) { return d->val & VTD_PAGE_MASK; }
#define PASID_PDE_SHIFT 6
#define PASID_TBL_ENTRIES 64

/* Scalable-mode PASID-table entry, 512 bits; table index = PASID[5:0]. */
struct vtd_pasid_entry { uint64_t val[8]; };
enum vtd_pgtt {
	PASID_ENTRY_PGTT_FL_ONLY = 1, PASID_ENTRY_PGTT_SL_ONLY = 2,
	PASID_ENTRY_PGTT_NESTED = 3, PASID_ENTRY_PGTT_PT = 4,
};
static inline bool pasid_present(const struct vtd_pasid_entry *p)     { return p->val[0] & 1; }
static inline bool pasid_fpd(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[0], 1, 1); }
static inline unsigned pasid_aw(const struct vtd_pasid_entry *p)      { return (unsigned)vtd_b(p->val[0], 2, 4); }
static inline bool pasid_ssee(const struct vtd_pasid_entry *p)        { return vtd_b(p->val[0], 5, 5); }
static inline unsigned pasid_pgtt(const struct vtd_pasid_entry *p)    { return (unsigned)vtd_b(p->val[0], 6, 8); }
static inline bool pasid_slade(const struct vtd_pasid_entry *p)       { return vtd_b(p->val[0], 9, 9); }
static inline uint64_t pasid_slptptr(const struct vtd_pasid_entry *p) { return p->val[0] & VTD_PAGE_MASK; }
static inline unsigned pasid_did(const struct vtd_pasid_entry *p)     { return (unsigned)vtd_b(p->val[1], 0, 15); }
static inline bool pasid_pwsnp(const struct vtd_pasid_entry *p)       { return vtd_b(p->val[1], 23, 23); }
static inline bool pasid_pgsnp(const struct vtd_pasid_entry *p)       { return vtd_b(p->val[1], 24, 24); }
static inline bool pasid_cd(const struct vtd_pasid_entry *p)          { return vtd_b(p->val[1], 25, 25); }
static inline bool pasid_emte(const struct vtd_pasid_entry *p)        { return vtd_b(p->val[1], 26, 26); }
static inline unsigned pasid_emt(const struct vtd_pasid_entry *p)     { return (unsigned)vtd_b(p->val[1], 27, 29); }
static inline bool pasid_pwt(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[1], 30, 30); }
static inline bool pasid_pcd(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[1], 31, 31); }
static inline uint32_t pasid_pat(const struct vtd_pasid_entry *p)     { return (uint32_t)vtd_b(p->val[1], 32, 63); }
static inline bool pasid_sre(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[2], 0, 0); }
static inline bool pasid_ere(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[2], 1, 1); }
static inline unsigned pasid_flpm(const struct vtd_pasid_entry *p)    { return (unsigned)vtd_b(p->val[2], 2, 3); }
static inline bool pasid_wpe(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[2], 4, 4); }
static inline bool pasid_nxe(const struct vtd_pasid_entry *p)         { return vtd_b(p->val[2], 5, 5); }
static inline bool pasid_smep(const struct vtd_pasid_entry *p)        { return vtd_b(p->val[2], 6, 6); }
static inline bool pasid_eafe(const struct vtd_pasid_entry *p)        { return vtd_b(p->val[2], 7, 7); }
static inline uint64_t pasid_flptptr(const struct vtd_pasid_entry *p) { return p->val[2] & VTD_PAGE_MASK; }

/* Address width (AW / agaw) <-> levels, Linux agaw_to_level()/agaw_to_width(). */
static inline unsigned agaw_to_level(unsigned aw)  { return aw + 2; }
static inline unsigned agaw_to_width(unsigned aw)  { return 30 + 9 * aw; }
/* SAGAW bit that allows aw.  SAGAW bit 4 is reserved: a unit that sets it
 * still gets no 6-level tables (found by fuzz_tables). */
static inline bool cap_sagaw_allows(uint64_t cap, unsigned aw) { return aw <= 3 && (cap_sagaw(cap) >> aw & 1); }

/* Second-level paging entry.  No present bit: present iff R|W. */
static inline bool dma_pte_read(uint64_t e)      { return e & 1; }
static inline bool dma_pte_write(uint64_t e)     { return vtd_b(e, 1, 1); }
static inline bool dma_pte_exec(uint64_t e)      { return vtd_b(e, 2, 2); }
static inline unsigned dma_pte_emt(uint64_t e)   { return (unsigned)vtd_b(e, 3, 5); }
static inline bool dma_pte_ipat(uint64_t e)      { return vtd_b(e, 6, 6); }
static inline bool dma_pte_superpage(uint64_t e) { return vtd_b(e, 7, 7); }   /* PS */
static inline bool dma_pte_accessed(uint64_t e)  { return vtd_b(e, 8, 8); }   /* A */
static inline bool dma_pte_dirty(uint64_t e)     { return vtd_b(e, 9, 9); }   /* D */
static inline bool dma_pte_snp(uint64_t e)       { return vtd_b(e, 11, 11); }
static inline bool dma_pte_tm(uint64_t e)        { return vtd_b(e, 62, 62); }
static inline bool dma_pte_present(uint64_t e)   { return (e & 3) != 0; }
/* Address bits min(haw, 52)-1..12 of a second-level entry (the next table,
 * or the page frame; for a superpage the caller masks the low bits of the
 * frame).  Bits 61:52 and 63 are ignored by hardware, 62 is TM. */
static inline uint64_t dma_pte_addr(uint64_t e, unsigned haw)
{ return e & 0x000ffffffffff000ull & (haw >= 64 ? ~0ull : ((1ull << haw) - 1)); }

/* First-level paging entry (x86-64 IA-32e format). */
static inline bool fl_pte_present(uint64_t e)    { return e & 1; }
static inline bool fl_pte_rw(uint64_t e)         { return vtd_b(e, 1, 1); }
static inline bool fl_pte_us(uint64_t e)         { return vtd_b(e, 2, 2); }
static inline bool fl_pte_pwt(uint64_t e)        { return vtd_b(e, 3, 3); }
static inline bool fl_pte_pcd(uint64_t e)        { return vtd_b(e, 4, 4); }
static inline bool fl_pte_accessed(uint64_t e)   { return vtd_b(e, 5, 5); }
static inline bool fl_pte_dirty(uint64_t e)      { return vtd_b(e, 6, 6); }
static inline bool fl_pte_ps(uint64_t e)         { return vtd_b(e, 7, 7); }   /* PAT in a 4 KiB PTE */
static inline bool fl_pte_global(uint64_t e)     { return vtd_b(e, 8, 8); }
static inline bool fl_pte_ea(uint64_t e)         { return vtd_b(e, 10, 10); }
static inline bool fl_pte_xd(uint64_t e)         { return vtd_b(e, 63, 63); }
/* Bits 63:52 are ignored (Linux ≤6.1 set XD): always masked. */
static inline uint64_t fl_pte_addr(uint64_t e, unsigned haw)
{ return e & 0x000ffffffffff000ull & (haw >= 64 ? ~0ull : ((1ull << haw) - 1)); }

/* Formats for reserved-bit checks and text decoding. */
extern const struct vtd_format vtd_fmt_root_legacy, vtd_fmt_root_sm,
	vtd_fmt_context_legacy, vtd_fmt_context_sm,
	vtd_fmt_pasid_dir_entry, vtd_fmt_pasid_entry;

/* Second-level entry format at a level (1..5) and for a leaf or not
 * (leaf at level 2/3 means PS=1). */
const struct vtd_format *vtd_fmt_sl_pte(unsigned level, bool leaf);
/* First-level entry format at a level (1..5), leaf or not. */
const struct vtd_format *vtd_fmt_fl_pte(unsigned level, bool leaf);

/* The optional-field conditions (enum vtd_field_cond) a unit allows for
 * paging entries, from its CAP/ECAP and mode. */
unsigned vtd_unit_conds(uint64_t cap, uint64_t ecap, bool scalable);

#endif
