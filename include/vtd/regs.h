/* libvtd — remapping-unit registers (VT-d spec §11.4; Linux iommu.h names).
 *
 * MMIO is not in a vmcore.  These decode the values the crashed kernel cached
 * in struct intel_iommu (cap, ecap, gcmd) and the register values that its
 * own tables imply (RTADDR, IRTA, IQA), which the locator reconstructs.
 */
#ifndef VTD_REGS_H
#define VTD_REGS_H

#include <stdbool.h>
#include <stdint.h>
#include "fields.h"

static inline uint64_t vtd_b(uint64_t v, unsigned lo, unsigned hi)
{
	unsigned w = hi - lo + 1;
	return (v >> lo) & (w >= 64 ? ~0ull : ((1ull << w) - 1));
}

/* VER (32-bit) */
static inline unsigned ver_major(uint32_t v) { return (unsigned)vtd_b(v, 4, 7); }
static inline unsigned ver_minor(uint32_t v) { return (unsigned)vtd_b(v, 0, 3); }

/* CAP */
static inline unsigned cap_nd(uint64_t c)            { return (unsigned)vtd_b(c, 0, 2); }
static inline uint64_t cap_ndoms(uint64_t c)         { return 1ull << (4 + 2 * cap_nd(c)); }
static inline bool cap_afl(uint64_t c)               { return vtd_b(c, 3, 3); }
static inline bool cap_rwbf(uint64_t c)              { return vtd_b(c, 4, 4); }
static inline bool cap_plmr(uint64_t c)              { return vtd_b(c, 5, 5); }
static inline bool cap_phmr(uint64_t c)              { return vtd_b(c, 6, 6); }
static inline bool cap_caching_mode(uint64_t c)      { return vtd_b(c, 7, 7); }
static inline unsigned cap_sagaw(uint64_t c)         { return (unsigned)vtd_b(c, 8, 12); }
static inline unsigned cap_mgaw(uint64_t c)          { return (unsigned)vtd_b(c, 16, 21) + 1; }
static inline bool cap_zlr(uint64_t c)               { return vtd_b(c, 22, 22); }
static inline bool cap_isoch(uint64_t c)             { return vtd_b(c, 23, 23); }
static inline unsigned cap_fault_reg_offset(uint64_t c) { return (unsigned)vtd_b(c, 24, 33) * 16; }
static inline unsigned cap_super_page_val(uint64_t c) { return (unsigned)vtd_b(c, 34, 37); } /* SLLPS */
static inline bool cap_pgsel_inv(uint64_t c)         { return vtd_b(c, 39, 39); }
static inline unsigned cap_num_fault_regs(uint64_t c) { return (unsigned)vtd_b(c, 40, 47) + 1; }
static inline unsigned cap_max_amask_val(uint64_t c) { return (unsigned)vtd_b(c, 48, 53); }
static inline bool cap_write_drain(uint64_t c)       { return vtd_b(c, 54, 54); }
static inline bool cap_read_drain(uint64_t c)        { return vtd_b(c, 55, 55); }
static inline bool cap_fl1gp_support(uint64_t c)     { return vtd_b(c, 56, 56); }
static inline bool cap_pi_support(uint64_t c)        { return vtd_b(c, 59, 59); }
static inline bool cap_fl5lp_support(uint64_t c)     { return vtd_b(c, 60, 60); }
static inline bool cap_ecmds(uint64_t c)             { return vtd_b(c, 61, 61); }
static inline bool cap_esirtps(uint64_t c)           { return vtd_b(c, 62, 62); }
static inline bool cap_esrtps(uint64_t c)            { return vtd_b(c, 63, 63); }

/* ECAP */
static inline bool ecap_coherent(uint64_t e)         { return vtd_b(e, 0, 0); }   /* C */
static inline bool ecap_qis(uint64_t e)              { return vtd_b(e, 1, 1); }   /* QI */
static inline bool ecap_dev_iotlb_support(uint64_t e) { return vtd_b(e, 2, 2); }  /* DT */
static inline bool ecap_ir_support(uint64_t e)       { return vtd_b(e, 3, 3); }   /* IR */
static inline bool ecap_eim_support(uint64_t e)      { return vtd_b(e, 4, 4); }   /* EIM */
static inline bool ecap_pass_through(uint64_t e)     { return vtd_b(e, 6, 6); }   /* PT */
static inline bool ecap_sc_support(uint64_t e)       { return vtd_b(e, 7, 7); }   /* SC */
static inline unsigned ecap_iotlb_offset(uint64_t e) { return (unsigned)vtd_b(e, 8, 17) * 16; } /* IRO */
static inline unsigned ecap_max_handle_mask(uint64_t e) { return (unsigned)vtd_b(e, 20, 23); } /* MHMV */
static inline bool ecap_ecs(uint64_t e)              { return vtd_b(e, 24, 24); }
static inline bool ecap_mts(uint64_t e)              { return vtd_b(e, 25, 25); }
static inline bool ecap_nest(uint64_t e)             { return vtd_b(e, 26, 26); }
static inline bool ecap_dis(uint64_t e)              { return vtd_b(e, 27, 27); }
static inline bool ecap_broken_pasid(uint64_t e)     { return vtd_b(e, 28, 28); }
static inline bool ecap_prs(uint64_t e)              { return vtd_b(e, 29, 29); }
static inline bool ecap_ers(uint64_t e)              { return vtd_b(e, 30, 30); }
static inline bool ecap_srs(uint64_t e)              { return vtd_b(e, 31, 31); }
static inline bool ecap_nwfs(uint64_t e)             { return vtd_b(e, 33, 33); }
static inline bool ecap_eafs(uint64_t e)             { return vtd_b(e, 34, 34); }
static inline unsigned ecap_pss(uint64_t e)          { return (unsigned)vtd_b(e, 35, 39); }
static inline bool ecap_pasid(uint64_t e)            { return vtd_b(e, 40, 40); }
static inline bool ecap_dit(uint64_t e)              { return vtd_b(e, 41, 41); }
static inline bool ecap_pds(uint64_t e)              { return vtd_b(e, 42, 42); }
static inline bool ecap_smts(uint64_t e)             { return vtd_b(e, 43, 43); }
static inline bool ecap_vcs(uint64_t e)              { return vtd_b(e, 44, 44); }
static inline bool ecap_slads(uint64_t e)            { return vtd_b(e, 45, 45); }
static inline bool ecap_slts(uint64_t e)             { return vtd_b(e, 46, 46); }
static inline bool ecap_flts(uint64_t e)             { return vtd_b(e, 47, 47); }
static inline bool ecap_smpwc(uint64_t e)            { return vtd_b(e, 48, 48); }
static inline bool ecap_rps(uint64_t e)              { return vtd_b(e, 49, 49); }
static inline bool ecap_pms(uint64_t e)              { return vtd_b(e, 51, 51); }

/* GCMD / GSTS (32-bit; same bit positions) */
#define DMA_GCMD_TE    (1u << 31)
#define DMA_GCMD_SRTP  (1u << 30)
#define DMA_GCMD_SFL   (1u << 29)
#define DMA_GCMD_EAFL  (1u << 28)
#define DMA_GCMD_WBF   (1u << 27)
#define DMA_GCMD_QIE   (1u << 26)
#define DMA_GCMD_IRE   (1u << 25)
#define DMA_GCMD_SIRTP (1u << 24)
#define DMA_GCMD_CFI   (1u << 23)

/* RTADDR: root-table address and translation-table mode */
enum vtd_ttm { VTD_TTM_LEGACY = 0, VTD_TTM_SCALABLE = 1, VTD_TTM_RSVD = 2, VTD_TTM_ABORT = 3 };
static inline uint64_t rtaddr_rta(uint64_t r)        { return r & ~0xfffull; }
static inline unsigned rtaddr_ttm(uint64_t r)        { return (unsigned)vtd_b(r, 10, 11); }

/* IRTA: interrupt-remapping table address */
static inline uint64_t irta_irta(uint64_t r)         { return r & ~0xfffull; }
static inline bool irta_eime(uint64_t r)             { return vtd_b(r, 11, 11); }
static inline unsigned irta_s(uint64_t r)            { return (unsigned)vtd_b(r, 0, 3); }
static inline uint64_t irta_entries(uint64_t r)      { return 2ull << irta_s(r); }

/* IQA: invalidation-queue address */
static inline uint64_t iqa_iqa(uint64_t r)           { return r & ~0xfffull; }
static inline bool iqa_dw(uint64_t r)                { return vtd_b(r, 11, 11); }
static inline unsigned iqa_qs(uint64_t r)            { return (unsigned)vtd_b(r, 0, 2); }
/* Descriptor size in bytes (16, or 32 with DW) and slot count. */
static inline unsigned iqa_desc_size(uint64_t r)     { return iqa_dw(r) ? 32 : 16; }
static inline unsigned iqa_entries(uint64_t r)
{ return (unsigned)((4096ull << iqa_qs(r)) / iqa_desc_size(r)); }

/* Host address width: the unit's MGAW when nothing better is known. */
static inline unsigned cap_haw(uint64_t c)           { return cap_mgaw(c); }

extern const struct vtd_format vtd_fmt_ver, vtd_fmt_cap, vtd_fmt_ecap,
	vtd_fmt_gcmd, vtd_fmt_gsts, vtd_fmt_rtaddr, vtd_fmt_irta, vtd_fmt_iqa;

#endif
