/* Register decoders (VER, CAP, ECAP, GCMD/GSTS, RTADDR, IRTA, IQA): field
 * tables and inline accessors of include/vtd/regs.h against the VT-d spec's
 * register layouts (vtd-reference.md §1.1, spec 3.x/4.x §11.4), and whole
 * register values seen on QEMU and Intel hardware, decoded here by hand. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vtd/fields.h"
#include "vtd/regs.h"
#include "vtd/tables.h"

#include "spec_table.h"

/* ------------------------------------------------------------------------ */
/* Accessor wrappers: every accessor as a function of the raw qwords. */
#define R64(fn) static uint64_t r_##fn(const uint64_t *q) { return (uint64_t)fn(q[0]); }
#define R32(fn) static uint64_t r_##fn(const uint64_t *q) { return (uint64_t)fn((uint32_t)q[0]); }
#define RBIT(nm, mask) static uint64_t r_##nm(const uint64_t *q) { return (q[0] & (mask)) != 0; }

R32(ver_major) R32(ver_minor)

R64(cap_nd) R64(cap_afl) R64(cap_rwbf) R64(cap_plmr) R64(cap_phmr) R64(cap_caching_mode)
R64(cap_sagaw) R64(cap_mgaw) R64(cap_zlr) R64(cap_isoch) R64(cap_fault_reg_offset)
R64(cap_super_page_val) R64(cap_pgsel_inv) R64(cap_num_fault_regs) R64(cap_max_amask_val)
R64(cap_write_drain) R64(cap_read_drain) R64(cap_fl1gp_support) R64(cap_pi_support)
R64(cap_fl5lp_support) R64(cap_ecmds) R64(cap_esirtps) R64(cap_esrtps)

R64(ecap_coherent) R64(ecap_qis) R64(ecap_dev_iotlb_support) R64(ecap_ir_support)
R64(ecap_eim_support) R64(ecap_pass_through) R64(ecap_sc_support) R64(ecap_iotlb_offset)
R64(ecap_max_handle_mask) R64(ecap_ecs) R64(ecap_mts) R64(ecap_nest) R64(ecap_dis)
R64(ecap_broken_pasid) R64(ecap_prs) R64(ecap_ers) R64(ecap_srs) R64(ecap_nwfs)
R64(ecap_eafs) R64(ecap_pss) R64(ecap_pasid) R64(ecap_dit) R64(ecap_pds) R64(ecap_smts)
R64(ecap_vcs) R64(ecap_slads) R64(ecap_slts) R64(ecap_flts) R64(ecap_smpwc) R64(ecap_rps)
R64(ecap_pms)

RBIT(te, DMA_GCMD_TE) RBIT(srtp, DMA_GCMD_SRTP) RBIT(sfl, DMA_GCMD_SFL)
RBIT(eafl, DMA_GCMD_EAFL) RBIT(wbf, DMA_GCMD_WBF) RBIT(qie, DMA_GCMD_QIE)
RBIT(ire, DMA_GCMD_IRE) RBIT(sirtp, DMA_GCMD_SIRTP) RBIT(cfi, DMA_GCMD_CFI)

R64(rtaddr_rta) R64(rtaddr_ttm)
R64(irta_irta) R64(irta_eime) R64(irta_s)
R64(iqa_iqa) R64(iqa_dw) R64(iqa_qs)

/* VER (offset 0x00, 32 bit) — spec §11.4.1 */
static const struct sf ver_t[] = {
	F("MIN", 0, 3, V, r_ver_minor), F("MAX", 4, 7, V, r_ver_major), RSV(8, 31),
};

/* CAP (0x08) — spec §11.4.2, vtd-reference §1.1.1.  MGAW and NFR are
 * encoded minus one; FRO is in 16-byte units (accessors return bytes). */
static const struct sf cap_t[] = {
	F("ND", 0, 2, V, r_cap_nd),
	F("AFL", 3, 3, FL, r_cap_afl),
	F("RWBF", 4, 4, FL, r_cap_rwbf),
	F("PLMR", 5, 5, FL, r_cap_plmr),
	F("PHMR", 6, 6, FL, r_cap_phmr),
	F("CM", 7, 7, FL, r_cap_caching_mode),
	F("SAGAW", 8, 12, V, r_cap_sagaw),
	RSV(13, 15),
	FX("MGAW", 16, 21, V, r_cap_mgaw, 0, 1),
	F("ZLR", 22, 22, FL, r_cap_zlr),
	F("ISOCH", 23, 23, FL, r_cap_isoch),      /* reserved (deprecated) in 3.x */
	FX("FRO", 24, 33, V, r_cap_fault_reg_offset, 4, 0),
	F("SLLPS", 34, 37, V, r_cap_super_page_val),
	RSV(38, 38),
	F("PSI", 39, 39, FL, r_cap_pgsel_inv),
	FX("NFR", 40, 47, V, r_cap_num_fault_regs, 0, 1),
	F("MAMV", 48, 53, V, r_cap_max_amask_val),
	F("DWD", 54, 54, FL, r_cap_write_drain),
	F("DRD", 55, 55, FL, r_cap_read_drain),
	F("FL1GP", 56, 56, FL, r_cap_fl1gp_support),
	RSV(57, 58),
	F("PI", 59, 59, FL, r_cap_pi_support),
	F("FL5LP", 60, 60, FL, r_cap_fl5lp_support),
	F("ECMDS", 61, 61, FL, r_cap_ecmds),
	F("ESIRTPS", 62, 62, FL, r_cap_esirtps),
	F("ESRTPS", 63, 63, FL, r_cap_esrtps),
};

/* ECAP (0x10) — spec §11.4.3, vtd-reference §1.1.2.  Bit 28 was PASID in
 * VT-d 2.x (Linux ecap_broken_pasid); bits 63:52 belong to newer specs and
 * are not decoded (ignored, not reserved). */
static const struct sf ecap_t[] = {
	F("C", 0, 0, FL, r_ecap_coherent),
	F("QI", 1, 1, FL, r_ecap_qis),
	F("DT", 2, 2, FL, r_ecap_dev_iotlb_support),
	F("IR", 3, 3, FL, r_ecap_ir_support),
	F("EIM", 4, 4, FL, r_ecap_eim_support),
	RSV(5, 5),
	F("PT", 6, 6, FL, r_ecap_pass_through),
	F("SC", 7, 7, FL, r_ecap_sc_support),
	FX("IRO", 8, 17, V, r_ecap_iotlb_offset, 4, 0),
	RSV(18, 19),
	F("MHMV", 20, 23, V, r_ecap_max_handle_mask),
	F("ECS", 24, 24, FL, r_ecap_ecs),
	F("MTS", 25, 25, FL, r_ecap_mts),
	F("NEST", 26, 26, FL, r_ecap_nest),
	F("DIS", 27, 27, FL, r_ecap_dis),
	F("PASID_OLD", 28, 28, FL, r_ecap_broken_pasid),
	F("PRS", 29, 29, FL, r_ecap_prs),
	F("ERS", 30, 30, FL, r_ecap_ers),
	F("SRS", 31, 31, FL, r_ecap_srs),
	RSV(32, 32),
	F("NWFS", 33, 33, FL, r_ecap_nwfs),
	F("EAFS", 34, 34, FL, r_ecap_eafs),
	F("PSS", 35, 39, V, r_ecap_pss),
	F("PASID", 40, 40, FL, r_ecap_pasid),
	F("DIT", 41, 41, FL, r_ecap_dit),
	F("PDS", 42, 42, FL, r_ecap_pds),
	F("SMTS", 43, 43, FL, r_ecap_smts),
	F("VCS", 44, 44, FL, r_ecap_vcs),
	F("SLADS", 45, 45, FL, r_ecap_slads),
	F("SLTS", 46, 46, FL, r_ecap_slts),
	F("FLTS", 47, 47, FL, r_ecap_flts),
	F("SMPWCS", 48, 48, FL, r_ecap_smpwc),
	F("RPS", 49, 49, FL, r_ecap_rps),
	RSV(50, 50),
	F("PMS", 51, 51, FL, r_ecap_pms),
	IGN(52, 63),
};

/* GCMD (0x18) and GSTS (0x1c), 32 bit, same positions — spec §11.4.4/5 */
static const struct sf gcmd_t[] = {
	RSV(0, 22),
	F("CFI", 23, 23, FL, r_cfi), F("SIRTP", 24, 24, FL, r_sirtp),
	F("IRE", 25, 25, FL, r_ire), F("QIE", 26, 26, FL, r_qie),
	F("WBF", 27, 27, FL, r_wbf), F("EAFL", 28, 28, FL, r_eafl),
	F("SFL", 29, 29, FL, r_sfl), F("SRTP", 30, 30, FL, r_srtp),
	F("TE", 31, 31, FL, r_te),
};
static const struct sf gsts_t[] = {
	RSV(0, 22),
	F("CFIS", 23, 23, FL, r_cfi), F("IRTPS", 24, 24, FL, r_sirtp),
	F("IRES", 25, 25, FL, r_ire), F("QIES", 26, 26, FL, r_qie),
	F("WBFS", 27, 27, FL, r_wbf), F("AFLS", 28, 28, FL, r_eafl),
	F("FLS", 29, 29, FL, r_sfl), F("RTPS", 30, 30, FL, r_srtp),
	F("TES", 31, 31, FL, r_te),
};

/* RTADDR (0x20) — spec §11.4.6: RTA 63:12, TTM 11:10, 9:0 reserved */
static const struct sf rtaddr_t[] = {
	RSV(0, 9), F("TTM", 10, 11, V, r_rtaddr_ttm), F("RTA", 12, 63, AD, r_rtaddr_rta),
};
/* IRTA (0xb8) — spec §11.4.9.1: IRTA 63:12, EIME 11, 10:4 reserved, S 3:0 */
static const struct sf irta_t[] = {
	F("S", 0, 3, V, r_irta_s), RSV(4, 10), F("EIME", 11, 11, FL, r_irta_eime),
	F("IRTA", 12, 63, AD, r_irta_irta),
};
/* IQA (0x90) — spec §11.4.8.3: IQA 63:12, DW 11, 10:3 reserved, QS 2:0 */
static const struct sf iqa_t[] = {
	F("QS", 0, 2, V, r_iqa_qs), RSV(3, 10), F("DW", 11, 11, FL, r_iqa_dw),
	F("IQA", 12, 63, AD, r_iqa_iqa),
};

static const struct sfmt m_ver = SFMT("VER", &vtd_fmt_ver, 32, ver_t);
static const struct sfmt m_cap = SFMT("CAP", &vtd_fmt_cap, 64, cap_t);
static const struct sfmt m_ecap = SFMT("ECAP", &vtd_fmt_ecap, 64, ecap_t);
static const struct sfmt m_gcmd = SFMT("GCMD", &vtd_fmt_gcmd, 32, gcmd_t);
static const struct sfmt m_gsts = SFMT("GSTS", &vtd_fmt_gsts, 32, gsts_t);
static const struct sfmt m_rtaddr = SFMT("RTADDR", &vtd_fmt_rtaddr, 64, rtaddr_t);
static const struct sfmt m_irta = SFMT("IRTA", &vtd_fmt_irta, 64, irta_t);
static const struct sfmt m_iqa = SFMT("IQA", &vtd_fmt_iqa, 64, iqa_t);

TEST(ver_fields)    { run_all(&m_ver); }
TEST(cap_fields)    { run_all(&m_cap); }
TEST(ecap_fields)   { run_all(&m_ecap); }
TEST(gcmd_fields)   { run_all(&m_gcmd); }
TEST(gsts_fields)   { run_all(&m_gsts); }
TEST(rtaddr_fields) { run_all(&m_rtaddr); }
TEST(irta_fields)   { run_all(&m_irta); }
TEST(iqa_fields)    { run_all(&m_iqa); }

/* GCMD bit masks, written out (spec: TE 31 ... CFI 23). */
TEST(gcmd_masks)
{
	EXPECT_EQ(DMA_GCMD_TE, 0x80000000u);
	EXPECT_EQ(DMA_GCMD_SRTP, 0x40000000u);
	EXPECT_EQ(DMA_GCMD_SFL, 0x20000000u);
	EXPECT_EQ(DMA_GCMD_EAFL, 0x10000000u);
	EXPECT_EQ(DMA_GCMD_WBF, 0x08000000u);
	EXPECT_EQ(DMA_GCMD_QIE, 0x04000000u);
	EXPECT_EQ(DMA_GCMD_IRE, 0x02000000u);
	EXPECT_EQ(DMA_GCMD_SIRTP, 0x01000000u);
	EXPECT_EQ(DMA_GCMD_CFI, 0x00800000u);
	/* what Linux leaves in iommu->gcmd with translation, QI and IR on */
	uint64_t g = 0x86000000u;
	EXPECT(r_te(&g) && r_qie(&g) && r_ire(&g));
	EXPECT(!r_srtp(&g) && !r_sirtp(&g) && !r_wbf(&g) && !r_cfi(&g));
}

TEST(ver_values)
{
	EXPECT_EQ(ver_major(0x10), 1);   /* QEMU: 1.0 */
	EXPECT_EQ(ver_minor(0x10), 0);
	EXPECT_EQ(ver_major(0x31), 3);
	EXPECT_EQ(ver_minor(0x31), 1);
	EXPECT_EQ(ver_major(0xffffff6a), 6);
	EXPECT_EQ(ver_minor(0xffffff6a), 0xa);
}

/* QEMU's legacy unit (vtd-reference §7): cap 0x00d2008c22260206.
 * bytes low..high 06 02 26 22 8c 00 d2 00:
 *   0x06 -> ND=6 (65536 DIDs), AFL RWBF PLMR PHMR CM = 0
 *   0x02 -> SAGAW=00010b (39-bit, 3-level only)
 *   0x26 -> MGAW field 100110b = 38 (39 bits), ZLR=0, ISOCH=0
 *   0x22, 0x8c[1:0]=00 -> FRO=0x22 (offset 0x220)
 *   0x8c = 10001100b -> SLLPS bits 37:34 = 0011b (2M+1G), bit 38=0, PSI=1
 *   0x00 -> NFR field 0 (1 fault register)
 *   0xd2 = 11010010b -> MAMV 010010b = 18, DWD=1, DRD=1
 *   0x00 -> FL1GP PI FL5LP ECMDS ESIRTPS ESRTPS = 0 */
#define QEMU_CAP 0x00d2008c22260206ull
/* ecap 0xf00f4a: 0x4a = 01001010b -> C=0 QI=1 DT=0 IR=1 EIM=0 PT=1 SC=0;
 * IRO = 0x0f (0xf0); 0xf0 -> bits 19:16 = 0, MHMV = 0xf. */
#define QEMU_ECAP 0xf00f4aull
/* scalable: 0x0000480080f00f4a = the above plus 0x80 in bits 31:24 (SRS)
 * and 0x48 = 01001000b in bits 47:40 (SMTS bit 43, SLTS bit 46). */
#define QEMU_ECAP_SM 0x480080f00f4aull

TEST(qemu_cap)
{
	uint64_t c = QEMU_CAP;
	EXPECT_EQ(cap_nd(c), 6);
	EXPECT_EQ(cap_ndoms(c), 65536);
	EXPECT_EQ(cap_afl(c), 0);
	EXPECT_EQ(cap_rwbf(c), 0);
	EXPECT_EQ(cap_plmr(c), 0);
	EXPECT_EQ(cap_phmr(c), 0);
	EXPECT_EQ(cap_caching_mode(c), 0);
	EXPECT_EQ(cap_sagaw(c), 0x2);
	EXPECT(cap_sagaw_allows(c, 1));
	EXPECT(!cap_sagaw_allows(c, 0));
	EXPECT(!cap_sagaw_allows(c, 2));
	EXPECT(!cap_sagaw_allows(c, 3));
	EXPECT(!cap_sagaw_allows(c, 7));
	EXPECT_EQ(cap_mgaw(c), 39);
	EXPECT_EQ(cap_haw(c), 39);
	EXPECT_EQ(cap_zlr(c), 0);
	EXPECT_EQ(cap_isoch(c), 0);
	EXPECT_EQ(cap_fault_reg_offset(c), 0x220);
	EXPECT_EQ(cap_super_page_val(c), 0x3);
	EXPECT_EQ(cap_pgsel_inv(c), 1);
	EXPECT_EQ(cap_num_fault_regs(c), 1);
	EXPECT_EQ(cap_max_amask_val(c), 18);
	EXPECT_EQ(cap_write_drain(c), 1);
	EXPECT_EQ(cap_read_drain(c), 1);
	EXPECT_EQ(cap_fl1gp_support(c), 0);
	EXPECT_EQ(cap_pi_support(c), 0);
	EXPECT_EQ(cap_fl5lp_support(c), 0);
	EXPECT_EQ(cap_ecmds(c), 0);
	EXPECT_EQ(cap_esirtps(c), 0);
	EXPECT_EQ(cap_esrtps(c), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_cap, &c, 64, 0, NULL), 0);
	/* caching-mode=on variant seen in ecosystem §1.14: 0x86 in byte 0 */
	EXPECT_EQ(cap_caching_mode(0x00d2008c22260286ull), 1);
	EXPECT_EQ(cap_nd(0x00d2008c22260286ull), 6);
}

TEST(qemu_ecap)
{
	uint64_t e = QEMU_ECAP;
	EXPECT_EQ(ecap_coherent(e), 0);
	EXPECT_EQ(ecap_qis(e), 1);
	EXPECT_EQ(ecap_dev_iotlb_support(e), 0);
	EXPECT_EQ(ecap_ir_support(e), 1);
	EXPECT_EQ(ecap_eim_support(e), 0);
	EXPECT_EQ(ecap_pass_through(e), 1);
	EXPECT_EQ(ecap_sc_support(e), 0);
	EXPECT_EQ(ecap_iotlb_offset(e), 0xf0);
	EXPECT_EQ(ecap_max_handle_mask(e), 15);
	EXPECT_EQ(ecap_ecs(e) | ecap_mts(e) | ecap_nest(e) | ecap_dis(e) | ecap_broken_pasid(e), 0);
	EXPECT_EQ(ecap_prs(e) | ecap_ers(e) | ecap_srs(e) | ecap_nwfs(e) | ecap_eafs(e), 0);
	EXPECT_EQ(ecap_pss(e), 0);
	EXPECT_EQ(ecap_pasid(e) | ecap_smts(e) | ecap_slts(e) | ecap_flts(e) | ecap_slads(e), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_ecap, &e, 64, 0, NULL), 0);

	uint64_t s = QEMU_ECAP_SM;
	EXPECT_EQ(ecap_qis(s), 1);
	EXPECT_EQ(ecap_ir_support(s), 1);
	EXPECT_EQ(ecap_pass_through(s), 1);
	EXPECT_EQ(ecap_iotlb_offset(s), 0xf0);
	EXPECT_EQ(ecap_max_handle_mask(s), 15);
	EXPECT_EQ(ecap_srs(s), 1);
	EXPECT_EQ(ecap_prs(s), 0);
	EXPECT_EQ(ecap_ers(s), 0);
	EXPECT_EQ(ecap_pss(s), 0);
	EXPECT_EQ(ecap_pasid(s), 0);
	EXPECT_EQ(ecap_smts(s), 1);
	EXPECT_EQ(ecap_slts(s), 1);
	EXPECT_EQ(ecap_flts(s), 0);
	EXPECT_EQ(ecap_slads(s), 0);
	EXPECT_EQ(ecap_vcs(s), 0);
	EXPECT_EQ(ecap_smpwc(s), 0);
	EXPECT_EQ(ecap_rps(s), 0);
	EXPECT_EQ(ecap_pms(s), 0);
	EXPECT_EQ(ecap_dit(s) | ecap_pds(s), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_ecap, &s, 64, 0, NULL), 0);
}

/* An Intel client graphics unit as Linux logs it ("cap 1c0000c40660462
 * ecap 19e2ff0505e").  cap bytes 62 04 66 40 0c 00 c0 01:
 *   0x62 = 01100010b -> ND=2 (256 DIDs), AFL=0 RWBF=0 PLMR=1 PHMR=1 CM=0
 *   0x04 -> SAGAW=00100b (48-bit, 4-level)
 *   0x66 = 01100110b -> MGAW field 38 (39 bits), ZLR=1, ISOCH=0
 *   0x40, 0x0c[1:0]=00 -> FRO=0x40 (0x400)
 *   0x0c = 00001100b -> SLLPS=0011b, PSI=0
 *   0x00 -> NFR 1;  0xc0 -> MAMV=0, DWD=1, DRD=1;  0x01 -> FL1GP=1, PI=0
 * ecap bytes 5e 50 f0 2f 9e 01:
 *   0x5e = 01011110b -> C=0 QI=1 DT=1 IR=1 EIM=1 PT=1 SC=0
 *   0x50 -> IRO=0x50 (0x500);  0xf0 -> MHMV=0xf
 *   0x2f = 00101111b -> ECS=1 MTS=1 NEST=1 DIS=1 PASID_OLD=0 PRS=1 ERS=0 SRS=0
 *   0x9e = 10011110b -> bit32=0 NWFS=1 EAFS=1 PSS=10011b=19
 *   0x01 -> PASID=1 */
#define GFX_CAP 0x01c0000c40660462ull
#define GFX_ECAP 0x0000019e2ff0505eull

TEST(intel_client_cap_ecap)
{
	uint64_t c = GFX_CAP, e = GFX_ECAP;
	EXPECT_EQ(cap_nd(c), 2);
	EXPECT_EQ(cap_ndoms(c), 256);
	EXPECT_EQ(cap_afl(c), 0);
	EXPECT_EQ(cap_rwbf(c), 0);
	EXPECT_EQ(cap_plmr(c), 1);
	EXPECT_EQ(cap_phmr(c), 1);
	EXPECT_EQ(cap_caching_mode(c), 0);
	EXPECT_EQ(cap_sagaw(c), 0x4);
	EXPECT(cap_sagaw_allows(c, 2));
	EXPECT(!cap_sagaw_allows(c, 1));
	EXPECT_EQ(cap_mgaw(c), 39);
	EXPECT_EQ(cap_zlr(c), 1);
	EXPECT_EQ(cap_isoch(c), 0);
	EXPECT_EQ(cap_fault_reg_offset(c), 0x400);
	EXPECT_EQ(cap_super_page_val(c), 3);
	EXPECT_EQ(cap_pgsel_inv(c), 0);
	EXPECT_EQ(cap_num_fault_regs(c), 1);
	EXPECT_EQ(cap_max_amask_val(c), 0);
	EXPECT_EQ(cap_write_drain(c), 1);
	EXPECT_EQ(cap_read_drain(c), 1);
	EXPECT_EQ(cap_fl1gp_support(c), 1);
	EXPECT_EQ(cap_pi_support(c), 0);
	EXPECT_EQ(cap_fl5lp_support(c), 0);

	EXPECT_EQ(ecap_coherent(e), 0);
	EXPECT_EQ(ecap_qis(e), 1);
	EXPECT_EQ(ecap_dev_iotlb_support(e), 1);
	EXPECT_EQ(ecap_ir_support(e), 1);
	EXPECT_EQ(ecap_eim_support(e), 1);
	EXPECT_EQ(ecap_pass_through(e), 1);
	EXPECT_EQ(ecap_sc_support(e), 0);
	EXPECT_EQ(ecap_iotlb_offset(e), 0x500);
	EXPECT_EQ(ecap_max_handle_mask(e), 15);
	EXPECT_EQ(ecap_ecs(e), 1);
	EXPECT_EQ(ecap_mts(e), 1);
	EXPECT_EQ(ecap_nest(e), 1);
	EXPECT_EQ(ecap_dis(e), 1);
	EXPECT_EQ(ecap_broken_pasid(e), 0);
	EXPECT_EQ(ecap_prs(e), 1);
	EXPECT_EQ(ecap_ers(e), 0);
	EXPECT_EQ(ecap_srs(e), 0);
	EXPECT_EQ(ecap_nwfs(e), 1);
	EXPECT_EQ(ecap_eafs(e), 1);
	EXPECT_EQ(ecap_pss(e), 19);
	EXPECT_EQ(ecap_pasid(e), 1);
	EXPECT_EQ(ecap_smts(e), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_cap, &c, 64, 0, NULL), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_ecap, &e, 64, 0, NULL), 0);
}

/* The derived quantities at their extremes. */
TEST(cap_derived)
{
	EXPECT_EQ(cap_ndoms(0), 16);                       /* ND=0: 2^4 */
	EXPECT_EQ(cap_ndoms(4), 4096);                     /* ND=4: 2^12 */
	EXPECT_EQ(cap_ndoms(7), 1ull << 18);               /* ND=7: 2^18 */
	EXPECT_EQ(cap_mgaw(0), 1);
	EXPECT_EQ(cap_mgaw(0x2f0000ull), 48);              /* field 47 */
	EXPECT_EQ(cap_mgaw(0x380000ull), 57);              /* field 56 */
	EXPECT_EQ(cap_mgaw(0x3f0000ull), 64);
	EXPECT_EQ(cap_fault_reg_offset(0x3ff000000ull), 0x3ff0);
	EXPECT_EQ(cap_num_fault_regs(0xff0000000000ull), 256);
	/* SAGAW 01110b: 39, 48 and 57 bits */
	uint64_t c = 0xe00;
	EXPECT(!cap_sagaw_allows(c, 0));
	EXPECT(cap_sagaw_allows(c, 1) && cap_sagaw_allows(c, 2) && cap_sagaw_allows(c, 3));
	EXPECT(!cap_sagaw_allows(c, 4));
	EXPECT(!cap_sagaw_allows(0x1f00, 5));              /* no AW 5 */
	/* AW <-> levels and width (Linux agaw_to_level/agaw_to_width) */
	EXPECT_EQ(agaw_to_level(0), 2);
	EXPECT_EQ(agaw_to_width(0), 30);
	EXPECT_EQ(agaw_to_level(1), 3);
	EXPECT_EQ(agaw_to_width(1), 39);
	EXPECT_EQ(agaw_to_level(2), 4);
	EXPECT_EQ(agaw_to_width(2), 48);
	EXPECT_EQ(agaw_to_level(3), 5);
	EXPECT_EQ(agaw_to_width(3), 57);
	EXPECT_EQ(ecap_iotlb_offset(0x3ff00ull), 0x3ff0);
	EXPECT_EQ(ecap_pss(0xf800000000ull), 31);
}

TEST(rtaddr_values)
{
	/* QEMU legacy root table at 0x1f8a000 (vtd-reference §7) */
	EXPECT_EQ(rtaddr_rta(0x1f8a000ull), 0x1f8a000);
	EXPECT_EQ(rtaddr_ttm(0x1f8a000ull), VTD_TTM_LEGACY);
	/* Linux DMA_RTADDR_SMT = bit 10 */
	EXPECT_EQ(rtaddr_ttm(0x1f8a400ull), VTD_TTM_SCALABLE);
	EXPECT_EQ(rtaddr_rta(0x1f8a400ull), 0x1f8a000);
	/* 4.x-5.19 DMA_RTADDR_RTT = bit 11 (ECS) decodes as TTM=10b */
	EXPECT_EQ(rtaddr_ttm(0x1f8a800ull), VTD_TTM_RSVD);
	EXPECT_EQ(rtaddr_ttm(0xfedcba9876543c00ull), VTD_TTM_ABORT);
	EXPECT_EQ(rtaddr_rta(0xfedcba9876543fffull), 0xfedcba9876543000ull);
	EXPECT_EQ(VTD_TTM_LEGACY, 0);
	EXPECT_EQ(VTD_TTM_SCALABLE, 1);
	EXPECT_EQ(VTD_TTM_RSVD, 2);
	EXPECT_EQ(VTD_TTM_ABORT, 3);
}

TEST(irta_values)
{
	/* Linux: virt_to_phys(base) | (eim ? 1 << 11 : 0) | 0xf */
	uint64_t r = 0x12345600full | 0x800;
	EXPECT_EQ(irta_irta(r), 0x123456000ull);
	EXPECT_EQ(irta_eime(r), 1);
	EXPECT_EQ(irta_s(r), 15);
	EXPECT_EQ(irta_entries(r), 65536);              /* 2^(15+1), 1 MiB */
	EXPECT_EQ(irta_eime(0x12345600full), 0);
	EXPECT_EQ(irta_entries(0x1000), 2);             /* S=0: 2^1 */
	EXPECT_EQ(irta_entries(0x1007), 256);           /* S=7: 2^8, one page */
	EXPECT_EQ(irta_s(0x10f7ull), 7);                /* reserved bits 10:4 don't leak */
}

TEST(iqa_values)
{
	/* Linux legacy: QS=0, 128-bit descriptors: 1 page, 256 slots */
	uint64_t r = 0x3f000000ull;
	EXPECT_EQ(iqa_iqa(r), 0x3f000000ull);
	EXPECT_EQ(iqa_dw(r), 0);
	EXPECT_EQ(iqa_qs(r), 0);
	EXPECT_EQ(iqa_desc_size(r), 16);
	EXPECT_EQ(iqa_entries(r), 256);
	/* Linux scalable: DW=1 | QS=1: 2 pages of 32-byte descriptors, 256 slots */
	r = 0x3f000000ull | 0x800 | 1;
	EXPECT_EQ(iqa_iqa(r), 0x3f000000ull);
	EXPECT_EQ(iqa_dw(r), 1);
	EXPECT_EQ(iqa_qs(r), 1);
	EXPECT_EQ(iqa_desc_size(r), 32);
	EXPECT_EQ(iqa_entries(r), 256);
	/* 2^(QS+8) entries of 128 bits, 2^(QS+7) of 256 bits */
	EXPECT_EQ(iqa_entries(0x800), 128);
	EXPECT_EQ(iqa_entries(0x7), 32768);
	EXPECT_EQ(iqa_entries(0x807), 16384);
	EXPECT_EQ(iqa_qs(0x7f8ull | 2), 2);             /* reserved bits 10:3 don't leak */
}

/* Register addresses are checked against the host address width. */
TEST(register_addresses_vs_haw)
{
	struct vtd_rsvd r;
	uint64_t q = 0x0000200000001000ull;             /* address bit 45 */
	EXPECT_EQ(vtd_format_check(&vtd_fmt_rtaddr, &q, 48, 0, NULL), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_rtaddr, &q, 46, 0, NULL), 0);
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(vtd_format_check(&vtd_fmt_rtaddr, &q, 39, 0, &r), 1);
	EXPECT_STR(r.field, "RTA");
	EXPECT_EQ(r.lo, 12);
	EXPECT_EQ(r.hi, 63);
	EXPECT_EQ(r.bits, 1ull << (45 - 12));
	EXPECT_MSG(strstr(r.why, "39") != NULL, "why \"%s\"", r.why);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_rtaddr, &q, 45, 0, NULL), 1);
	q = 0x0000200000001800ull | 0xf;                /* IRTA, EIME, S=15 */
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irta, &q, 48, 0, NULL), 0);
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irta, &q, 39, 0, &r), 1);
	EXPECT_STR(r.field, "IRTA");
	EXPECT_EQ(r.bits, 1ull << (45 - 12));
	q = 0x000f000000001801ull;                      /* IQA bits 51:48 */
	EXPECT_EQ(vtd_format_check(&vtd_fmt_iqa, &q, 52, 0, NULL), 0);
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(vtd_format_check(&vtd_fmt_iqa, &q, 48, 0, &r), 1);
	EXPECT_STR(r.field, "IQA");
	EXPECT_EQ(r.bits, 0xfull << (48 - 12));
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(vtd_format_check(&vtd_fmt_iqa, &q, 50, 0, &r), 1);
	EXPECT_EQ(r.bits, 0xcull << (48 - 12));         /* only bits 51:50 */
}

/* describe prints raw field values: MGAW as encoded (38 = 0x26), FRO in
 * 16-byte units, flags as 0/1. */
TEST(cap_describe)
{
	uint64_t c = QEMU_CAP;
	char buf[1024];
	size_t n = vtd_format_describe(&vtd_fmt_cap, &c, buf, sizeof(buf));
	EXPECT_EQ(n, strlen(buf));
	static const char *const tok[] = {
		"ND=0x6", "AFL=0", "CM=0", "SAGAW=0x2", "MGAW=0x26", "ZLR=0", "FRO=0x22",
		"SLLPS=0x3", "PSI=1", "NFR=0x0", "MAMV=0x12", "DWD=1", "DRD=1", "FL1GP=0",
		"PI=0", "ESRTPS=0",
	};
	for (size_t i = 0; i < sizeof(tok) / sizeof(tok[0]); i++)
		EXPECT_MSG(has_token(buf, tok[i]), "\"%s\" lacks %s", buf, tok[i]);
	EXPECT_MSG(!strstr(buf, "RSVD"), "\"%s\" shows a zero reserved field", buf);
	/* a set reserved bit shows with its range, hi:lo */
	c |= 1ull << 38;
	vtd_format_describe(&vtd_fmt_cap, &c, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "RSVD(38:38)=0x1"), "\"%s\"", buf);
	uint64_t s = 0x3f000801ull;
	vtd_format_describe(&vtd_fmt_iqa, &s, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "QS=0x1") && has_token(buf, "DW=1") &&
		   has_token(buf, "IQA=0x3f000000"), "\"%s\"", buf);
}
