/* DMA-remapping entry decoders (root, context, PASID directory and table,
 * second- and first-level paging entries): field tables, inline accessors of
 * include/vtd/tables.h, reserved-bit checks with host address widths and
 * optional-field conditions, all against the spec's entry layouts
 * (vtd-reference.md §1.2-§1.9, spec 3.x/4.x §9) and QEMU's reserved masks. */
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
#define W_ROOT(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_root_entry e = { q[0], q[1] }; return (uint64_t)fn(&e); }
#define W_CTX(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_context_entry e = { q[0], q[1] }; return (uint64_t)fn(&e); }
#define W_SMCTX(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_sm_context_entry e; memcpy(e.val, q, sizeof(e.val)); return (uint64_t)fn(&e); }
#define W_PDE(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_pasid_dir_entry e = { q[0] }; return (uint64_t)fn(&e); }
#define W_PE(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_pasid_entry e; memcpy(e.val, q, sizeof(e.val)); return (uint64_t)fn(&e); }
#define W_PTE(fn) static uint64_t w_##fn(const uint64_t *q) { return (uint64_t)fn(q[0]); }

W_ROOT(root_present) W_ROOT(root_ctp) W_ROOT(root_lp) W_ROOT(root_up)
W_ROOT(root_entry_lctp) W_ROOT(root_entry_uctp)

W_CTX(context_present) W_CTX(context_fpd) W_CTX(context_tt) W_CTX(context_slptptr)
W_CTX(context_aw) W_CTX(context_avail) W_CTX(context_domain_id)

W_SMCTX(sm_context_present) W_SMCTX(sm_context_fpd) W_SMCTX(sm_context_dte)
W_SMCTX(sm_context_paside) W_SMCTX(sm_context_pre) W_SMCTX(sm_context_pdts)
W_SMCTX(sm_context_pasiddirptr) W_SMCTX(sm_context_rid_pasid) W_SMCTX(sm_context_rid_priv)

W_PDE(pasid_pde_present) W_PDE(pasid_pde_fpd) W_PDE(pasid_pde_table)

W_PE(pasid_present) W_PE(pasid_fpd) W_PE(pasid_aw) W_PE(pasid_ssee) W_PE(pasid_pgtt)
W_PE(pasid_slade) W_PE(pasid_slptptr) W_PE(pasid_did) W_PE(pasid_pwsnp) W_PE(pasid_pgsnp)
W_PE(pasid_cd) W_PE(pasid_emte) W_PE(pasid_emt) W_PE(pasid_pwt) W_PE(pasid_pcd)
W_PE(pasid_pat) W_PE(pasid_sre) W_PE(pasid_ere) W_PE(pasid_flpm) W_PE(pasid_wpe)
W_PE(pasid_nxe) W_PE(pasid_smep) W_PE(pasid_eafe) W_PE(pasid_flptptr)

W_PTE(dma_pte_read) W_PTE(dma_pte_write) W_PTE(dma_pte_exec) W_PTE(dma_pte_emt)
W_PTE(dma_pte_ipat) W_PTE(dma_pte_superpage) W_PTE(dma_pte_accessed) W_PTE(dma_pte_dirty)
W_PTE(dma_pte_snp) W_PTE(dma_pte_tm)
/* 52 bits: the largest host address width x86 has */
static uint64_t w_dma_pte_addr(const uint64_t *q) { return dma_pte_addr(q[0], 52); }

W_PTE(fl_pte_present) W_PTE(fl_pte_rw) W_PTE(fl_pte_us) W_PTE(fl_pte_pwt) W_PTE(fl_pte_pcd)
W_PTE(fl_pte_accessed) W_PTE(fl_pte_dirty) W_PTE(fl_pte_ps) W_PTE(fl_pte_global)
W_PTE(fl_pte_ea) W_PTE(fl_pte_xd)
static uint64_t w_fl_pte_addr(const uint64_t *q) { return fl_pte_addr(q[0], 52); }

/* Legacy root entry — spec §9.1, vtd-reference §1.2 */
static const struct sf root_legacy_t[] = {
	F("P", 0, 0, FL, w_root_present), RSV(1, 11),
	F("CTP", 12, 63, AD, w_root_ctp), RSV(64, 127),
};
/* Scalable-mode root entry — spec §9.2 */
static const struct sf root_sm_t[] = {
	F("LP", 0, 0, FL, w_root_lp), RSV(1, 11),
	F("LCTP", 12, 63, AD, w_root_entry_lctp),
	F("UP", 64, 64, FL, w_root_up), RSV(65, 75),
	F("UCTP", 76, 127, AD, w_root_entry_uctp),
};
/* Legacy context entry — spec §9.3, vtd-reference §1.3.  Bit 11 (PASIDE of
 * the VT-d 2.x extended format) is reserved in this format; bit 67 (Linux
 * 4.2-5.19 "copied") is part of AVAIL.  Both are tested separately below. */
static const struct sf ctx_legacy_t[] = {
	F("P", 0, 0, FL, w_context_present),
	F("FPD", 1, 1, FL, w_context_fpd),
	F("TT", 2, 3, V, w_context_tt),
	RSV(4, 11),
	F("SLPTPTR", 12, 63, AD, w_context_slptptr),
	F("AW", 64, 66, V, w_context_aw),
	F("AVAIL", 67, 70, V, w_context_avail),
	RSV(71, 71),
	F("DID", 72, 87, V, w_context_domain_id),
	RSV(88, 127),
};
/* Scalable-mode context entry — spec §9.4, vtd-reference §1.4 */
static const struct sf ctx_sm_t[] = {
	F("P", 0, 0, FL, w_sm_context_present),
	F("FPD", 1, 1, FL, w_sm_context_fpd),
	F("DTE", 2, 2, FL, w_sm_context_dte),
	F("PASIDE", 3, 3, FL, w_sm_context_paside),
	F("PRE", 4, 4, FL, w_sm_context_pre),
	RSV(5, 8),
	F("PDTS", 9, 11, V, w_sm_context_pdts),
	F("PASIDDIRPTR", 12, 63, AD, w_sm_context_pasiddirptr),
	F("RID_PASID", 64, 83, V, w_sm_context_rid_pasid),
	F("RID_PRIV", 84, 84, FL, w_sm_context_rid_priv),
	RSV(85, 127), RSV(128, 191), RSV(192, 255),
};
/* Scalable-mode PASID-directory entry — spec §9.5: the spec calls the
 * pointer SMPTBLPTR (scalable-mode PASID-table pointer). */
static const struct sf pde_t[] = {
	F("P", 0, 0, FL, w_pasid_pde_present),
	F("FPD", 1, 1, FL, w_pasid_pde_fpd),
	RSV(2, 11),
	F("SMPTBLPTR|PASIDPTR", 12, 63, AD, w_pasid_pde_table),
};
/* Scalable-mode PASID-table entry — spec §9.6, vtd-reference §1.6.  CD..PAT
 * and ERE/NXE/SMEP from the spec 3.x figure [spec, unverified in the
 * reference]; qwords 3-7 reserved. */
static const struct sf pe_t[] = {
	F("P", 0, 0, FL, w_pasid_present),
	F("FPD", 1, 1, FL, w_pasid_fpd),
	F("AW", 2, 4, V, w_pasid_aw),
	F("SSEE", 5, 5, FL, w_pasid_ssee),
	F("PGTT", 6, 8, V, w_pasid_pgtt),
	F("SLADE", 9, 9, FL, w_pasid_slade),
	RSV(10, 11),
	F("SLPTPTR", 12, 63, AD, w_pasid_slptptr),
	F("DID", 64, 79, V, w_pasid_did),
	RSV(80, 86),
	F("PWSNP", 87, 87, FL, w_pasid_pwsnp),
	F("PGSNP", 88, 88, FL, w_pasid_pgsnp),
	F("CD", 89, 89, FL, w_pasid_cd),
	F("EMTE", 90, 90, FL, w_pasid_emte),
	F("EMT", 91, 93, V, w_pasid_emt),
	F("PWT", 94, 94, FL, w_pasid_pwt),
	F("PCD", 95, 95, FL, w_pasid_pcd),
	F("PAT", 96, 127, V, w_pasid_pat),
	F("SRE", 128, 128, FL, w_pasid_sre),
	F("ERE", 129, 129, FL, w_pasid_ere),
	F("FLPM", 130, 131, V, w_pasid_flpm),
	F("WPE", 132, 132, FL, w_pasid_wpe),
	F("NXE", 133, 133, FL, w_pasid_nxe),
	F("SMEP", 134, 134, FL, w_pasid_smep),
	F("EAFE", 135, 135, FL, w_pasid_eafe),
	RSV(136, 139),
	F("FLPTPTR", 140, 191, AD, w_pasid_flptptr),
	RSV(192, 255), RSV(256, 319), RSV(320, 383), RSV(384, 447), RSV(448, 511),
};

/* Second-level paging entries — spec §9.8, vtd-reference §1.8, reserved as
 * QEMU's masks: bits 61:52 and 63 ignored everywhere (VTD_SL_IGN_COM); bit 11
 * reserved in non-leaf entries and SNP (with SC or scalable mode) in leaves;
 * bit 62 reserved in non-leaf entries and TM (with ECAP.DT) in leaves. */
static const struct sf sl_4k_t[] = {          /* PTE (level 1) */
	F("R", 0, 0, FL, w_dma_pte_read),
	F("W", 1, 1, FL, w_dma_pte_write),
	F("X", 2, 2, FL, w_dma_pte_exec),
	F("EMT", 3, 5, V, w_dma_pte_emt),
	F("IPAT", 6, 6, FL, w_dma_pte_ipat),
	IGN(7, 7),
	F("A", 8, 8, FL, w_dma_pte_accessed),
	F("D", 9, 9, FL, w_dma_pte_dirty),
	IGN(10, 10),
	FC("SNP", 11, 11, FL, VTD_C_SNP, w_dma_pte_snp),
	F("ADDR", 12, 51, AD, w_dma_pte_addr),
	IGN(52, 61),
	FC("TM", 62, 62, FL, VTD_C_TM, w_dma_pte_tm),
	IGN(63, 63),
};
static const struct sf sl_2m_t[] = {          /* PDE with PS=1: QEMU mask 0x1ff800 */
	F("R", 0, 0, FL, w_dma_pte_read),
	F("W", 1, 1, FL, w_dma_pte_write),
	F("X", 2, 2, FL, w_dma_pte_exec),
	F("EMT", 3, 5, V, w_dma_pte_emt),
	F("IPAT", 6, 6, FL, w_dma_pte_ipat),
	FC("PS", 7, 7, FL, VTD_C_SLPS2M, w_dma_pte_superpage),
	F("A", 8, 8, FL, w_dma_pte_accessed),
	F("D", 9, 9, FL, w_dma_pte_dirty),
	IGN(10, 10),
	FC("SNP", 11, 11, FL, VTD_C_SNP, w_dma_pte_snp),
	RSV(12, 20),
	F("ADDR", 21, 51, AD, NULL),
	IGN(52, 61),
	FC("TM", 62, 62, FL, VTD_C_TM, w_dma_pte_tm),
	IGN(63, 63),
};
static const struct sf sl_1g_t[] = {          /* PDPE with PS=1: QEMU mask 0x3ffff800 */
	F("R", 0, 0, FL, w_dma_pte_read),
	F("W", 1, 1, FL, w_dma_pte_write),
	F("X", 2, 2, FL, w_dma_pte_exec),
	F("EMT", 3, 5, V, w_dma_pte_emt),
	F("IPAT", 6, 6, FL, w_dma_pte_ipat),
	FC("PS", 7, 7, FL, VTD_C_SLPS1G, w_dma_pte_superpage),
	F("A", 8, 8, FL, w_dma_pte_accessed),
	F("D", 9, 9, FL, w_dma_pte_dirty),
	IGN(10, 10),
	FC("SNP", 11, 11, FL, VTD_C_SNP, w_dma_pte_snp),
	RSV(12, 29),
	F("ADDR", 30, 51, AD, NULL),
	IGN(52, 61),
	FC("TM", 62, 62, FL, VTD_C_TM, w_dma_pte_tm),
	IGN(63, 63),
};
static const struct sf sl_dir_t[] = {         /* PDE/PDPE to a table: QEMU mask 0x800 */
	F("R", 0, 0, FL, w_dma_pte_read),
	F("W", 1, 1, FL, w_dma_pte_write),
	F("X", 2, 2, FL, w_dma_pte_exec),
	IGN(3, 6),
	F("PS", 7, 7, FL, w_dma_pte_superpage),
	F("A", 8, 8, FL, w_dma_pte_accessed),
	IGN(9, 10),
	RSV(11, 11),
	F("ADDR", 12, 51, AD, w_dma_pte_addr),
	IGN(52, 61),
	RSV(62, 62),
	IGN(63, 63),
};
static const struct sf sl_upper_t[] = {       /* PML4E/PML5E: QEMU mask 0x880 */
	F("R", 0, 0, FL, w_dma_pte_read),
	F("W", 1, 1, FL, w_dma_pte_write),
	F("X", 2, 2, FL, w_dma_pte_exec),
	IGN(3, 6),
	RSV(7, 7),
	F("A", 8, 8, FL, w_dma_pte_accessed),
	IGN(9, 10),
	RSV(11, 11),
	F("ADDR", 12, 51, AD, w_dma_pte_addr),
	IGN(52, 61),
	RSV(62, 62),
	IGN(63, 63),
};

/* First-level paging entries (IA-32e) — spec §9.7, vtd-reference §1.9;
 * bits 62:52 ignored, QEMU masks PML4E 0x80, 2 MiB 0x1fe000, 1 GiB
 * 0x3fffe000. */
static const struct sf fl_4k_t[] = {
	F("P", 0, 0, FL, w_fl_pte_present),
	F("RW", 1, 1, FL, w_fl_pte_rw),
	F("US", 2, 2, FL, w_fl_pte_us),
	F("PWT", 3, 3, FL, w_fl_pte_pwt),
	F("PCD", 4, 4, FL, w_fl_pte_pcd),
	F("A", 5, 5, FL, w_fl_pte_accessed),
	F("D", 6, 6, FL, w_fl_pte_dirty),
	F("PAT", 7, 7, FL, w_fl_pte_ps),
	F("G", 8, 8, FL, w_fl_pte_global),
	IGN(9, 9),
	F("EA", 10, 10, FL, w_fl_pte_ea),
	IGN(11, 11),
	F("ADDR", 12, 51, AD, w_fl_pte_addr),
	IGN(52, 62),
	F("XD", 63, 63, FL, w_fl_pte_xd),
};
static const struct sf fl_2m_t[] = {
	F("P", 0, 0, FL, w_fl_pte_present),
	F("RW", 1, 1, FL, w_fl_pte_rw),
	F("US", 2, 2, FL, w_fl_pte_us),
	F("PWT", 3, 3, FL, w_fl_pte_pwt),
	F("PCD", 4, 4, FL, w_fl_pte_pcd),
	F("A", 5, 5, FL, w_fl_pte_accessed),
	F("D", 6, 6, FL, w_fl_pte_dirty),
	F("PS", 7, 7, FL, w_fl_pte_ps),
	F("G", 8, 8, FL, w_fl_pte_global),
	IGN(9, 9),
	F("EA", 10, 10, FL, w_fl_pte_ea),
	IGN(11, 11),
	F("PAT", 12, 12, FL, NULL),
	RSV(13, 20),
	F("ADDR", 21, 51, AD, NULL),
	IGN(52, 62),
	F("XD", 63, 63, FL, w_fl_pte_xd),
};
static const struct sf fl_1g_t[] = {
	F("P", 0, 0, FL, w_fl_pte_present),
	F("RW", 1, 1, FL, w_fl_pte_rw),
	F("US", 2, 2, FL, w_fl_pte_us),
	F("PWT", 3, 3, FL, w_fl_pte_pwt),
	F("PCD", 4, 4, FL, w_fl_pte_pcd),
	F("A", 5, 5, FL, w_fl_pte_accessed),
	F("D", 6, 6, FL, w_fl_pte_dirty),
	FC("PS", 7, 7, FL, VTD_C_FL1G, w_fl_pte_ps),
	F("G", 8, 8, FL, w_fl_pte_global),
	IGN(9, 9),
	F("EA", 10, 10, FL, w_fl_pte_ea),
	IGN(11, 11),
	F("PAT", 12, 12, FL, NULL),
	RSV(13, 29),
	F("ADDR", 30, 51, AD, NULL),
	IGN(52, 62),
	F("XD", 63, 63, FL, w_fl_pte_xd),
};
static const struct sf fl_dir_t[] = {
	F("P", 0, 0, FL, w_fl_pte_present),
	F("RW", 1, 1, FL, w_fl_pte_rw),
	F("US", 2, 2, FL, w_fl_pte_us),
	F("PWT", 3, 3, FL, w_fl_pte_pwt),
	F("PCD", 4, 4, FL, w_fl_pte_pcd),
	F("A", 5, 5, FL, w_fl_pte_accessed),
	IGN(6, 6),
	F("PS", 7, 7, FL, w_fl_pte_ps),
	IGN(8, 9),
	F("EA", 10, 10, FL, w_fl_pte_ea),
	IGN(11, 11),
	F("ADDR", 12, 51, AD, w_fl_pte_addr),
	IGN(52, 62),
	F("XD", 63, 63, FL, w_fl_pte_xd),
};
static const struct sf fl_upper_t[] = {
	F("P", 0, 0, FL, w_fl_pte_present),
	F("RW", 1, 1, FL, w_fl_pte_rw),
	F("US", 2, 2, FL, w_fl_pte_us),
	F("PWT", 3, 3, FL, w_fl_pte_pwt),
	F("PCD", 4, 4, FL, w_fl_pte_pcd),
	F("A", 5, 5, FL, w_fl_pte_accessed),
	IGN(6, 6),
	RSV(7, 7),
	IGN(8, 9),
	F("EA", 10, 10, FL, w_fl_pte_ea),
	IGN(11, 11),
	F("ADDR", 12, 51, AD, w_fl_pte_addr),
	IGN(52, 62),
	F("XD", 63, 63, FL, w_fl_pte_xd),
};

TEST(root_legacy_fields)
{
	struct sfmt m = SFMT("legacy root", &vtd_fmt_root_legacy, 128, root_legacy_t);
	run_all(&m);
}
TEST(root_sm_fields)
{
	struct sfmt m = SFMT("SM root", &vtd_fmt_root_sm, 128, root_sm_t);
	run_all(&m);
}
TEST(context_legacy_fields)
{
	struct sfmt m = SFMT("legacy context", &vtd_fmt_context_legacy, 128, ctx_legacy_t);
	run_all(&m);
}
TEST(context_sm_fields)
{
	struct sfmt m = SFMT("SM context", &vtd_fmt_context_sm, 256, ctx_sm_t);
	run_all(&m);
}
TEST(pasid_dir_fields)
{
	struct sfmt m = SFMT("PASID dir entry", &vtd_fmt_pasid_dir_entry, 64, pde_t);
	run_all(&m);
}
TEST(pasid_entry_fields)
{
	struct sfmt m = SFMT("PASID entry", &vtd_fmt_pasid_entry, 512, pe_t);
	run_all(&m);
}

/* Every (level, leaf) the walkers ask for, and the layout it must have. */
TEST(sl_pte_fields)
{
	const struct sfmt m[] = {
		SFMT("SL L1 PTE", vtd_fmt_sl_pte(1, true), 64, sl_4k_t),
		SFMT("SL L1 PTE (leaf=false)", vtd_fmt_sl_pte(1, false), 64, sl_4k_t),
		SFMT("SL L2 2MiB leaf", vtd_fmt_sl_pte(2, true), 64, sl_2m_t),
		SFMT("SL L2 PDE", vtd_fmt_sl_pte(2, false), 64, sl_dir_t),
		SFMT("SL L3 1GiB leaf", vtd_fmt_sl_pte(3, true), 64, sl_1g_t),
		SFMT("SL L3 PDPE", vtd_fmt_sl_pte(3, false), 64, sl_dir_t),
		SFMT("SL L4 PML4E", vtd_fmt_sl_pte(4, false), 64, sl_upper_t),
		SFMT("SL L4 PML4E (leaf=true)", vtd_fmt_sl_pte(4, true), 64, sl_upper_t),
		SFMT("SL L5 PML5E", vtd_fmt_sl_pte(5, false), 64, sl_upper_t),
		SFMT("SL L5 PML5E (leaf=true)", vtd_fmt_sl_pte(5, true), 64, sl_upper_t),
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		run_all(&m[i]);
}
TEST(fl_pte_fields)
{
	const struct sfmt m[] = {
		SFMT("FL L1 PTE", vtd_fmt_fl_pte(1, true), 64, fl_4k_t),
		SFMT("FL L1 PTE (leaf=false)", vtd_fmt_fl_pte(1, false), 64, fl_4k_t),
		SFMT("FL L2 2MiB leaf", vtd_fmt_fl_pte(2, true), 64, fl_2m_t),
		SFMT("FL L2 PDE", vtd_fmt_fl_pte(2, false), 64, fl_dir_t),
		SFMT("FL L3 1GiB leaf", vtd_fmt_fl_pte(3, true), 64, fl_1g_t),
		SFMT("FL L3 PDPE", vtd_fmt_fl_pte(3, false), 64, fl_dir_t),
		SFMT("FL L4 PML4E", vtd_fmt_fl_pte(4, false), 64, fl_upper_t),
		SFMT("FL L4 PML4E (leaf=true)", vtd_fmt_fl_pte(4, true), 64, fl_upper_t),
		SFMT("FL L5 PML5E", vtd_fmt_fl_pte(5, false), 64, fl_upper_t),
		SFMT("FL L5 PML5E (leaf=true)", vtd_fmt_fl_pte(5, true), 64, fl_upper_t),
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		run_all(&m[i]);
}

TEST(pte_format_levels_out_of_range)
{
	EXPECT(vtd_fmt_sl_pte(0, false) == NULL);
	EXPECT(vtd_fmt_sl_pte(0, true) == NULL);
	EXPECT(vtd_fmt_sl_pte(6, false) == NULL);
	EXPECT(vtd_fmt_fl_pte(0, true) == NULL);
	EXPECT(vtd_fmt_fl_pte(6, false) == NULL);
	/* leaf and directory formats of one level are different formats */
	EXPECT(vtd_fmt_sl_pte(2, true) != vtd_fmt_sl_pte(2, false));
	EXPECT(vtd_fmt_sl_pte(3, true) != vtd_fmt_sl_pte(3, false));
	EXPECT(vtd_fmt_fl_pte(2, true) != vtd_fmt_fl_pte(2, false));
	EXPECT(vtd_fmt_fl_pte(3, true) != vtd_fmt_fl_pte(3, false));
}

/* Legacy format bit 11: PASIDE only in the VT-d 2.x extended context entry.
 * The library decodes it with context_paside() but its legacy format has no
 * PASIDE field: the bit is part of reserved 11:4 (QEMU mask 0xff0). */
TEST(context_legacy_bit11_paside)
{
	uint64_t q[2] = { 0x800 | 1, 0 };
	struct vtd_context_entry c = { q[0], q[1] };
	EXPECT_EQ(context_paside(&c), 1);
	EXPECT_EQ(context_present(&c), 1);
	EXPECT_EQ(context_slptptr(&c), 0);
	EXPECT_EQ(context_tt(&c), 0);
	c.lo = ~0x800ull;
	EXPECT_EQ(context_paside(&c), 0);
	EXPECT(vtd_format_field(&vtd_fmt_context_legacy, "PASIDE") == NULL);
	expect_violation(&vtd_fmt_context_legacy, q, 48, ALL_CONDS, "RSVD", 11, 11, "reserved");
}

/* Bit 67: Linux 4.2-5.19 marks its kdump copies there; it is AVAIL bit 0. */
TEST(context_legacy_copied_bit67)
{
	struct vtd_context_entry c = { 1, 1ull << 3 };
	EXPECT_EQ(context_copied(&c), 1);
	EXPECT_EQ(context_avail(&c), 1);
	EXPECT_EQ(context_aw(&c), 0);
	EXPECT_EQ(context_domain_id(&c), 0);
	c.hi = 0x70;                                   /* AVAIL bits 70:68 */
	EXPECT_EQ(context_copied(&c), 0);
	EXPECT_EQ(context_avail(&c), 0xe);
	c.hi = ~(1ull << 3);
	EXPECT_EQ(context_copied(&c), 0);
	uint64_t q[2] = { 0x229c5001, 0x209 };          /* copied, AW 1, DID 2 */
	EXPECT_EQ(vtd_format_check(&vtd_fmt_context_legacy, q, 39, 0, NULL), 0);
}

/* Entries as Linux writes them. */
TEST(linux_legacy_entries)
{
	/* root: context table at 0x1f8b000, present */
	struct vtd_root_entry r = { 0x1f8b001, 0 };
	EXPECT_EQ(root_present(&r), 1);
	EXPECT_EQ(root_ctp(&r), 0x1f8b000);
	/* docs/json-schema.md example: P, SLPTPTR 0x229c5000, AW 1, DID 2 */
	struct vtd_context_entry c = { 0x229c5001, 0x201 };
	EXPECT_EQ(context_present(&c), 1);
	EXPECT_EQ(context_fpd(&c), 0);
	EXPECT_EQ(context_tt(&c), CONTEXT_TT_MULTI_LEVEL);
	EXPECT_EQ(context_slptptr(&c), 0x229c5000);
	EXPECT_EQ(context_aw(&c), 1);
	EXPECT_EQ(agaw_to_level(context_aw(&c)), 3);
	EXPECT_EQ(context_domain_id(&c), 2);
	/* pass-through: TT=10b, AW = msagaw 2, DID 1 (6.12 identity) */
	struct vtd_context_entry pt = { 0x9, 0x102 };
	EXPECT_EQ(context_tt(&pt), CONTEXT_TT_PASS_THROUGH);
	EXPECT_EQ(context_aw(&pt), 2);
	EXPECT_EQ(context_domain_id(&pt), 1);
	EXPECT_EQ(CONTEXT_TT_DEV_IOTLB, 1);
	EXPECT_EQ(CONTEXT_TT_RESERVED, 3);
	/* DID 0xffff, AW 7: the field edges */
	struct vtd_context_entry e = { 0, 0xffff07 };
	EXPECT_EQ(context_domain_id(&e), 0xffff);
	EXPECT_EQ(context_aw(&e), 7);
}

TEST(linux_sm_entries)
{
	/* root: lower table 0x2000000, upper 0x2001000, both present */
	struct vtd_root_entry r = { 0x2000001, 0x2001001 };
	EXPECT_EQ(root_lp(&r), 1);
	EXPECT_EQ(root_up(&r), 1);
	EXPECT_EQ(root_entry_lctp(&r), 0x2000000);
	EXPECT_EQ(root_entry_uctp(&r), 0x2001000);
	/* context: P, PASIDE, DTE, PDTS 7 (2^20 PASIDs), dir at 0x3000000 */
	struct vtd_sm_context_entry c = { { 0x3000000 | (7 << 9) | 8 | 4 | 1, 0, 0, 0 } };
	EXPECT_EQ(sm_context_present(&c), 1);
	EXPECT_EQ(sm_context_dte(&c), 1);
	EXPECT_EQ(sm_context_paside(&c), 1);
	EXPECT_EQ(sm_context_pre(&c), 0);
	EXPECT_EQ(sm_context_pdts(&c), 7);
	EXPECT_EQ(sm_context_pasid_dir_entries(&c), 16384);   /* 2^(7+7) */
	EXPECT_EQ(sm_context_pasiddirptr(&c), 0x3000000);
	EXPECT_EQ(sm_context_rid_pasid(&c), 0);
	c.val[0] = 1;
	EXPECT_EQ(sm_context_pasid_dir_entries(&c), 128);     /* PDTS 0: 2^7 */
	c.val[1] = 0xfffff;
	EXPECT_EQ(sm_context_rid_pasid(&c), 0xfffff);
	EXPECT_EQ(sm_context_rid_priv(&c), 0);
	/* directory entry: table at 0x4000000, present */
	struct vtd_pasid_dir_entry d = { 0x4000001 };
	EXPECT_EQ(pasid_pde_present(&d), 1);
	EXPECT_EQ(pasid_pde_fpd(&d), 0);
	EXPECT_EQ(pasid_pde_table(&d), 0x4000000);
	EXPECT_EQ(PASID_PDE_SHIFT, 6);
	EXPECT_EQ(PASID_TBL_ENTRIES, 64);
	/* second-level only: SLPTPTR 0x5000000, AW 2, PGTT 2, P; DID 2, PWSNP */
	struct vtd_pasid_entry p = { { 0x5000000 | (2 << 6) | (2 << 2) | 1, (1ull << 23) | 2 } };
	EXPECT_EQ(pasid_present(&p), 1);
	EXPECT_EQ(pasid_aw(&p), 2);
	EXPECT_EQ(pasid_pgtt(&p), PASID_ENTRY_PGTT_SL_ONLY);
	EXPECT_EQ(pasid_slptptr(&p), 0x5000000);
	EXPECT_EQ(pasid_did(&p), 2);
	EXPECT_EQ(pasid_pwsnp(&p), 1);
	EXPECT_EQ(pasid_pgsnp(&p), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_pasid_entry, p.val, 39, 0, NULL), 0);
	/* first-level only: FLPTPTR 0x6000000, FLPM 1 (5-level), SRE; DID 3 */
	struct vtd_pasid_entry f = { { (1 << 6) | 1, 3, 0x6000000 | (1 << 2) | 1 } };
	EXPECT_EQ(pasid_pgtt(&f), PASID_ENTRY_PGTT_FL_ONLY);
	EXPECT_EQ(pasid_flptptr(&f), 0x6000000);
	EXPECT_EQ(pasid_flpm(&f), 1);
	EXPECT_EQ(pasid_sre(&f), 1);
	EXPECT_EQ(pasid_did(&f), 3);
	EXPECT_EQ(pasid_slptptr(&f), 0);
	/* pass-through: PGTT 4, DID 1 (FLPT_DEFAULT_DID) */
	struct vtd_pasid_entry t = { { (4 << 6) | (2 << 2) | 1, 1 } };
	EXPECT_EQ(pasid_pgtt(&t), PASID_ENTRY_PGTT_PT);
	EXPECT_EQ(PASID_ENTRY_PGTT_NESTED, 3);
}

/* Second-level paging entries as Linux writes them, and presence. */
TEST(sl_pte_values)
{
	uint64_t e = 0x12345003;                          /* R|W to 0x12345000 */
	EXPECT_EQ(dma_pte_present(e), 1);
	EXPECT_EQ(dma_pte_addr(e, 48), 0x12345000);
	EXPECT_EQ(dma_pte_present(0x12345001), 1);        /* R only */
	EXPECT_EQ(dma_pte_present(0x12345002), 1);        /* W only */
	EXPECT_EQ(dma_pte_present(0x12345ffc), 0);        /* no R, no W */
	e = 0x40000000 | (1 << 7) | (1 << 11) | 3;        /* 1 GiB, SNP */
	EXPECT_EQ(dma_pte_superpage(e), 1);
	EXPECT_EQ(dma_pte_snp(e), 1);
	EXPECT_EQ(dma_pte_addr(e, 39), 0x40000000);
	e = (1ull << 62) | 0x1000 | (6 << 3) | (1 << 6) | 0x300 | 7;
	EXPECT_EQ(dma_pte_tm(e), 1);
	EXPECT_EQ(dma_pte_emt(e), 6);
	EXPECT_EQ(dma_pte_ipat(e), 1);
	EXPECT_EQ(dma_pte_accessed(e), 1);
	EXPECT_EQ(dma_pte_dirty(e), 1);
	EXPECT_EQ(dma_pte_exec(e), 1);
}

/* Address extraction: bits haw-1..12, never the ignored bits 63:52 of a
 * second-level entry (TM 62 and ignored 61:52, 63). */
TEST(sl_pte_addr_haw)
{
	uint64_t e = 0x0000800012345003ull;               /* address bit 47 */
	EXPECT_EQ(dma_pte_addr(e, 48), 0x800012345000ull);
	EXPECT_EQ(dma_pte_addr(e, 52), 0x800012345000ull);
	EXPECT_EQ(dma_pte_addr(e, 47), 0x12345000ull);
	EXPECT_EQ(dma_pte_addr(e, 39), 0x12345000ull);
	e = 0x000f8000123457ffull;                        /* bits 51:47, all flags */
	EXPECT_EQ(dma_pte_addr(e, 52), 0xf800012345000ull);
	EXPECT_EQ(dma_pte_addr(e, 48), 0x800012345000ull);
	e = 0xfff0000012345003ull;                        /* every bit 63:52 set */
	EXPECT_EQ(dma_pte_addr(e, 39), 0x12345000ull);
	EXPECT_EQ(dma_pte_addr(e, 48), 0x12345000ull);
	EXPECT_EQ(dma_pte_addr(e, 52), 0x12345000ull);
}

/* cap_haw() is the MGAW, 57 on a 5-level unit: the address must still stop
 * at bit 51, the highest address bit of a paging entry. */
TEST(sl_pte_addr_wide_haw)
{
	uint64_t e = 0xfff0000012345003ull;
	EXPECT_EQ(dma_pte_addr(e, 57), 0x12345000ull);
	EXPECT_EQ(dma_pte_addr(e, 64), 0x12345000ull);
	EXPECT_EQ(dma_pte_addr(e, cap_haw(0x380000ull)), 0x12345000ull);
	e = 0x41f0000012345003ull;                        /* TM + ignored 56:52 */
	EXPECT_EQ(dma_pte_addr(e, 57), 0x12345000ull);
}

TEST(fl_pte_values)
{
	/* Linux 6.1: P|RW|US|A|D on a writable leaf, XD set, address 0x123456000 */
	uint64_t e = 0x8000000123456067ull;
	EXPECT_EQ(fl_pte_present(e), 1);
	EXPECT_EQ(fl_pte_rw(e), 1);
	EXPECT_EQ(fl_pte_us(e), 1);
	EXPECT_EQ(fl_pte_accessed(e), 1);
	EXPECT_EQ(fl_pte_dirty(e), 1);
	EXPECT_EQ(fl_pte_xd(e), 1);
	EXPECT_EQ(fl_pte_ps(e), 0);
	EXPECT_EQ(fl_pte_pwt(e) | fl_pte_pcd(e) | fl_pte_global(e) | fl_pte_ea(e), 0);
	EXPECT_EQ(fl_pte_addr(e, 48), 0x123456000ull);
	/* bits 63:52 always masked, whatever the width */
	e = 0xfff0000123456fffull;
	EXPECT_EQ(fl_pte_addr(e, 39), 0x123456000ull);
	EXPECT_EQ(fl_pte_addr(e, 52), 0x123456000ull);
	EXPECT_EQ(fl_pte_addr(e, 57), 0x123456000ull);
	EXPECT_EQ(fl_pte_addr(e, 64), 0x123456000ull);
	/* HAW masking */
	e = 0x8000010000001003ull;                        /* address bit 40 */
	EXPECT_EQ(fl_pte_addr(e, 48), 0x10000001000ull);
	EXPECT_EQ(fl_pte_addr(e, 41), 0x10000001000ull);
	EXPECT_EQ(fl_pte_addr(e, 40), 0x1000ull);
	EXPECT_EQ(fl_pte_addr(e, 39), 0x1000ull);
}

/* Address fields against the host address width: the same entry clean at
 * 52 and 48, a violation of that field (with the bit) at 39. */
struct haw_case {
	const char *what;
	const struct vtd_format *fmt;
	uint64_t q[8];
	const char *field;
	unsigned bit;              /* the address bit set, absolute */
	unsigned clean_haw, bad_haw;
};

TEST(address_fields_vs_haw)
{
	const struct haw_case c[] = {
		{ "legacy root CTP", &vtd_fmt_root_legacy, { (1ull << 45) | 1 }, "CTP", 45, 48, 39 },
		{ "SM root LCTP", &vtd_fmt_root_sm, { (1ull << 45) | 1 }, "LCTP", 45, 48, 39 },
		{ "SM root UCTP", &vtd_fmt_root_sm, { 0, (1ull << 44) | 1 }, "UCTP", 64 + 44, 48, 39 },
		{ "legacy context SLPTPTR", &vtd_fmt_context_legacy, { (1ull << 50) | 1, 0x201 },
		  "SLPTPTR", 50, 52, 48 },
		{ "legacy context SLPTPTR", &vtd_fmt_context_legacy, { (1ull << 47) | 1, 0x201 },
		  "SLPTPTR", 47, 48, 39 },
		{ "SM context PASIDDIRPTR", &vtd_fmt_context_sm, { (1ull << 40) | 1 },
		  "PASIDDIRPTR", 40, 48, 39 },
		{ "PASID dir entry pointer", &vtd_fmt_pasid_dir_entry, { (1ull << 39) | 1 },
		  "SMPTBLPTR|PASIDPTR", 39, 48, 39 },
		{ "PASID entry SLPTPTR", &vtd_fmt_pasid_entry, { (1ull << 51) | 0x89, 2 },
		  "SLPTPTR", 51, 52, 48 },
		{ "PASID entry FLPTPTR", &vtd_fmt_pasid_entry, { 0x41, 2, (1ull << 40) | 1 },
		  "FLPTPTR", 128 + 40, 48, 39 },
		{ "SL PTE ADDR", vtd_fmt_sl_pte(1, true), { (1ull << 47) | 3 }, "ADDR", 47, 48, 47 },
		{ "SL PDE ADDR", vtd_fmt_sl_pte(2, false), { (1ull << 39) | 3 }, "ADDR", 39, 48, 39 },
		{ "SL PML4E ADDR", vtd_fmt_sl_pte(4, false), { (1ull << 48) | 3 }, "ADDR", 48, 52, 48 },
		{ "SL 2MiB ADDR", vtd_fmt_sl_pte(2, true), { (1ull << 40) | 0x83 }, "ADDR", 40, 48, 39 },
		{ "SL 1GiB ADDR", vtd_fmt_sl_pte(3, true), { (1ull << 46) | 0x83 }, "ADDR", 46, 48, 39 },
		{ "FL PTE ADDR", vtd_fmt_fl_pte(1, true), { (1ull << 45) | 0x27 }, "ADDR", 45, 48, 39 },
		{ "FL PML5E ADDR", vtd_fmt_fl_pte(5, false), { (1ull << 50) | 0x27 }, "ADDR", 50, 52, 48 },
		{ "FL 2MiB ADDR", vtd_fmt_fl_pte(2, true), { (1ull << 40) | 0xa7 }, "ADDR", 40, 48, 39 },
		{ "FL 1GiB ADDR", vtd_fmt_fl_pte(3, true), { (1ull << 42) | 0xa7 }, "ADDR", 42, 48, 39 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		check_begin("%s: bit %u clean at HAW %u, violation at %u", c[i].what, c[i].bit,
			    c[i].clean_haw, c[i].bad_haw);
		EXPECT_EQ(vtd_format_check(c[i].fmt, c[i].q, 52, ALL_CONDS, NULL), 0);
		EXPECT_EQ(vtd_format_check(c[i].fmt, c[i].q, c[i].clean_haw, ALL_CONDS, NULL), 0);
		char why[32];
		snprintf(why, sizeof(why), "%u", c[i].bad_haw);
		expect_violation(c[i].fmt, c[i].q, c[i].bad_haw, ALL_CONDS, c[i].field,
				 c[i].bit, c[i].bit, why);
		check_end();
	}
}

/* Ignored bits are not addresses: set in every paging format, clean even
 * at the smallest width. */
TEST(paging_ignored_bits_vs_haw)
{
	for (unsigned l = 1; l <= 5; l++)
		for (int leaf = 0; leaf < 2; leaf++) {
			uint64_t sl = 0xbff0000000001003ull;  /* 63, 61:52 */
			uint64_t fl = 0x7ff0000000001003ull;  /* 62:52 */
			if (leaf && (l == 2 || l == 3))
				sl = fl = 0x80 | 3;           /* a page at 0 */
			sl |= 0xbff0000000000000ull;
			fl |= 0x7ff0000000000000ull;
			EXPECT_MSG(vtd_format_check(vtd_fmt_sl_pte(l, leaf), &sl, 39, ALL_CONDS, NULL) == 0,
				   "SL level %u leaf %d", l, leaf);
			EXPECT_MSG(vtd_format_check(vtd_fmt_fl_pte(l, leaf), &fl, 39, ALL_CONDS, NULL) == 0,
				   "FL level %u leaf %d", l, leaf);
		}
}

/* Optional fields and large-page reserved bits, written out. */
TEST(sl_snp_needs_sc_or_scalable)
{
	uint64_t q = 0x12345000 | (1 << 11) | 3;
	expect_violation(vtd_fmt_sl_pte(1, true), &q, 48, 0, "SNP", 11, 11, "SNP");
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(1, true), &q, 48, VTD_C_SNP, NULL), 0);
	/* in a non-leaf entry bit 11 is reserved whatever the unit has */
	q = 0x12345000 | (1 << 11) | 3;
	expect_violation(vtd_fmt_sl_pte(2, false), &q, 48, ALL_CONDS, "RSVD", 11, 11, "reserved");
	expect_violation(vtd_fmt_sl_pte(4, false), &q, 48, ALL_CONDS, "RSVD", 11, 11, "reserved");
}

TEST(sl_tm_needs_dt)
{
	uint64_t q = (1ull << 62) | 0x12345003;
	expect_violation(vtd_fmt_sl_pte(1, true), &q, 48, VTD_C_SNP, "TM", 62, 62, NULL);
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(1, true), &q, 48, VTD_C_TM, NULL), 0);
	expect_violation(vtd_fmt_sl_pte(3, false), &q, 48, ALL_CONDS, "RSVD", 62, 62, NULL);
}

TEST(sl_large_pages_need_sllps)
{
	uint64_t q2m = 0x40200000 | 0x83, q1g = 0x40000000 | 0x83;
	expect_violation(vtd_fmt_sl_pte(2, true), &q2m, 48, VTD_C_SLPS1G, "PS", 7, 7, "SLLPS");
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(2, true), &q2m, 48, VTD_C_SLPS2M, NULL), 0);
	expect_violation(vtd_fmt_sl_pte(3, true), &q1g, 48, VTD_C_SLPS2M, "PS", 7, 7, "SLLPS");
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(3, true), &q1g, 48, VTD_C_SLPS1G, NULL), 0);
	/* PS in a PML4E/PML5E is reserved, whatever CAP says */
	expect_violation(vtd_fmt_sl_pte(4, false), &q1g, 48, ALL_CONDS, "RSVD", 7, 7, "reserved");
	expect_violation(vtd_fmt_sl_pte(5, true), &q1g, 48, ALL_CONDS, "RSVD", 7, 7, "reserved");
}

/* QEMU: 2 MiB leaf mask 0x1ff800 = bits 20:11, 1 GiB 0x3ffff800 = 29:11;
 * bit 11 is SNP (allowed by condition), so 20:12 / 29:12 are reserved. */
TEST(sl_large_page_reserved_bits)
{
	for (unsigned b = 12; b <= 20; b++) {
		uint64_t q = 0x40200000 | 0x83 | 1ull << b;
		expect_violation(vtd_fmt_sl_pte(2, true), &q, 48, ALL_CONDS, "RSVD", b, b, NULL);
	}
	for (unsigned b = 12; b <= 29; b++) {
		uint64_t q = 0x40000000 | 0x83 | 1ull << b;
		expect_violation(vtd_fmt_sl_pte(3, true), &q, 48, ALL_CONDS, "RSVD", b, b, NULL);
	}
	uint64_t q = 0x40200000 | 0x83 | 0x800;
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(2, true), &q, 48, ALL_CONDS, NULL), 0);
	q = 0x40200000 | 0x83 | 0x1ff000;
	expect_violation(vtd_fmt_sl_pte(2, true), &q, 48, ALL_CONDS, "RSVD", 12, 20, NULL);
	q = 0x40000000 | 0x83 | 0x3ffff000;
	expect_violation(vtd_fmt_sl_pte(3, true), &q, 48, ALL_CONDS, "RSVD", 12, 29, NULL);
}

/* QEMU: FL 2 MiB mask 0x1fe000 = bits 20:13, 1 GiB 0x3fffe000 = 29:13;
 * bit 12 is PAT. */
TEST(fl_large_page_reserved_bits)
{
	uint64_t q = 0x40200000 | 0xa7 | 0x1fe000;
	expect_violation(vtd_fmt_fl_pte(2, true), &q, 48, ALL_CONDS, "RSVD", 13, 20, NULL);
	q = 0x40000000 | 0xa7 | 0x3fffe000;
	expect_violation(vtd_fmt_fl_pte(3, true), &q, 48, ALL_CONDS, "RSVD", 13, 29, NULL);
	q = 0x40200000 | 0xa7 | 0x1000;                 /* PAT */
	EXPECT_EQ(vtd_format_check(vtd_fmt_fl_pte(2, true), &q, 48, 0, NULL), 0);
	q = 0x40000000 | 0xa7 | 0x1000;
	EXPECT_EQ(vtd_format_check(vtd_fmt_fl_pte(3, true), &q, 48, VTD_C_FL1G, NULL), 0);
	/* a FL 1 GiB page needs CAP.FL1GP; 2 MiB pages need nothing */
	expect_violation(vtd_fmt_fl_pte(3, true), &q, 48, ALL_CONDS & ~VTD_C_FL1G, "PS", 7, 7,
			 "FL1GP");
	q = 0x40200000 | 0xa7;
	EXPECT_EQ(vtd_format_check(vtd_fmt_fl_pte(2, true), &q, 48, 0, NULL), 0);
	/* PS in a PML4E/PML5E is reserved (QEMU PML4E mask 0x80) */
	q = 0x1000 | 0xa7;
	expect_violation(vtd_fmt_fl_pte(4, false), &q, 48, ALL_CONDS, "RSVD", 7, 7, "reserved");
	expect_violation(vtd_fmt_fl_pte(5, false), &q, 48, ALL_CONDS, "RSVD", 7, 7, "reserved");
}

/* Reserved ranges of the non-paging entries, all bits of each range at once:
 * the check names the reserved field and gives the bits it saw. */
TEST(entry_reserved_ranges)
{
	struct rc { const char *what; const struct vtd_format *fmt; unsigned lo, hi; };
	const struct rc c[] = {
		{ "legacy root", &vtd_fmt_root_legacy, 1, 11 },
		{ "legacy root", &vtd_fmt_root_legacy, 64, 127 },
		{ "SM root", &vtd_fmt_root_sm, 1, 11 },
		{ "SM root", &vtd_fmt_root_sm, 65, 75 },
		{ "legacy context", &vtd_fmt_context_legacy, 4, 11 },
		{ "legacy context", &vtd_fmt_context_legacy, 71, 71 },
		{ "legacy context", &vtd_fmt_context_legacy, 88, 127 },
		{ "SM context", &vtd_fmt_context_sm, 5, 8 },
		{ "SM context", &vtd_fmt_context_sm, 85, 127 },
		{ "SM context", &vtd_fmt_context_sm, 128, 191 },
		{ "SM context", &vtd_fmt_context_sm, 192, 255 },
		{ "PASID dir entry", &vtd_fmt_pasid_dir_entry, 2, 11 },
		{ "PASID entry", &vtd_fmt_pasid_entry, 10, 11 },
		{ "PASID entry", &vtd_fmt_pasid_entry, 80, 86 },
		{ "PASID entry", &vtd_fmt_pasid_entry, 136, 139 },
		{ "PASID entry", &vtd_fmt_pasid_entry, 192, 255 },
		{ "PASID entry", &vtd_fmt_pasid_entry, 448, 511 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		check_begin("%s: bits %u:%u all set", c[i].what, c[i].hi, c[i].lo);
		uint64_t q[8] = { 0 };
		put_bits(q, c[i].lo, c[i].hi, ~0ull);
		q[0] |= 1;                               /* present */
		expect_violation(c[i].fmt, q, 48, ALL_CONDS, "RSVD", c[i].lo, c[i].hi, "reserved");
		check_end();
	}
}

/* Conditions a unit allows, from CAP/ECAP (values decoded in test_regs.c). */
TEST(unit_conds)
{
	const uint64_t qemu_cap = 0x00d2008c22260206ull;  /* SLLPS 11b, FL1GP 0 */
	const uint64_t qemu_ecap = 0xf00f4aull;           /* SC 0, DT 0 */
	const uint64_t qemu_ecap_sm = 0x480080f00f4aull;  /* SC 0, DT 0 */
	const uint64_t gfx_cap = 0x01c0000c40660462ull;   /* SLLPS 11b, FL1GP 1 */
	const uint64_t gfx_ecap = 0x0000019e2ff0505eull;  /* SC 0, DT 1 */
	const uint64_t srv_ecap = 0xf050daull;            /* SC 1, DT 0 */
	EXPECT_EQ(vtd_unit_conds(qemu_cap, qemu_ecap, false), VTD_C_SLPS2M | VTD_C_SLPS1G);
	EXPECT_EQ(vtd_unit_conds(qemu_cap, qemu_ecap_sm, true),
		  VTD_C_SNP | VTD_C_SLPS2M | VTD_C_SLPS1G);
	EXPECT_EQ(vtd_unit_conds(gfx_cap, gfx_ecap, false),
		  VTD_C_TM | VTD_C_SLPS2M | VTD_C_SLPS1G | VTD_C_FL1G);
	EXPECT_EQ(vtd_unit_conds(gfx_cap, gfx_ecap, true),
		  VTD_C_SNP | VTD_C_TM | VTD_C_SLPS2M | VTD_C_SLPS1G | VTD_C_FL1G);
	EXPECT_EQ(vtd_unit_conds(0x00d2008c40660462ull, srv_ecap, false),
		  VTD_C_SNP | VTD_C_SLPS2M | VTD_C_SLPS1G);
	EXPECT_EQ(vtd_unit_conds(0, 0, false), 0);
	EXPECT_EQ(vtd_unit_conds(0, 0, true), VTD_C_SNP);
	EXPECT_EQ(vtd_unit_conds(1ull << 34, 0, false), VTD_C_SLPS2M);
	EXPECT_EQ(vtd_unit_conds(1ull << 35, 0, false), VTD_C_SLPS1G);
	EXPECT_EQ(vtd_unit_conds(3ull << 36, 0, false), 0);   /* 512 GiB/1 TiB: no condition */
	EXPECT_EQ(vtd_unit_conds(1ull << 56, 0, false), VTD_C_FL1G);
	EXPECT_EQ(vtd_unit_conds(0, 1ull << 7, false), VTD_C_SNP);
	EXPECT_EQ(vtd_unit_conds(0, 1ull << 2, false), VTD_C_TM);
	/* paging conditions only: never the IRTE's EIM, not even from ECAP.EIM */
	EXPECT_EQ(vtd_unit_conds(~0ull, ~0ull, true),
		  VTD_C_SNP | VTD_C_TM | VTD_C_SLPS2M | VTD_C_SLPS1G | VTD_C_FL1G);
	/* the enum's values are single bits */
	EXPECT_EQ(VTD_C_SNP | VTD_C_TM | VTD_C_SLPS2M | VTD_C_SLPS1G | VTD_C_FL1G | VTD_C_EIM, 0x3f);
}

/* With the QEMU legacy unit's conditions: a 2 MiB leaf is fine, an SNP leaf
 * is not (no SC, legacy mode). */
TEST(unit_conds_applied)
{
	unsigned c = vtd_unit_conds(0x00d2008c22260206ull, 0xf00f4aull, false);
	uint64_t q = 0x200000 | 0x83;
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(2, true), &q, 39, c, NULL), 0);
	q = 0x1000 | 0x803;
	expect_violation(vtd_fmt_sl_pte(1, true), &q, 39, c, "SNP", 11, 11, NULL);
	c = vtd_unit_conds(0x00d2008c22260206ull, 0x480080f00f4aull, true);
	EXPECT_EQ(vtd_format_check(vtd_fmt_sl_pte(1, true), &q, 48, c, NULL), 0);
}

/* vtd_format_describe: "NAME=0x.." for numbers and addresses (in place),
 * "NAME=0/1" for flags, every non-reserved field, plus "RSVD(hi:lo)=0x.."
 * for a non-zero reserved field (fields.h). */
TEST(describe_legacy_context)
{
	uint64_t q[2] = { 0x1234001, 0x201 };
	char buf[256];
	size_t n = vtd_format_describe(&vtd_fmt_context_legacy, q, buf, sizeof(buf));
	EXPECT_EQ(n, strlen(buf));
	static const char *const tok[] = {
		"P=1", "FPD=0", "TT=0x0", "SLPTPTR=0x1234000", "AW=0x1", "AVAIL=0x0", "DID=0x2",
	};
	for (size_t i = 0; i < sizeof(tok) / sizeof(tok[0]); i++)
		EXPECT_MSG(has_token(buf, tok[i]), "\"%s\" lacks %s", buf, tok[i]);
	EXPECT_MSG(!strstr(buf, "RSVD"), "\"%s\"", buf);
	/* fields.h's own example: RSVD(11:4)=0x3 */
	q[0] |= 0x30;
	vtd_format_describe(&vtd_fmt_context_legacy, q, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "RSVD(11:4)=0x3"), "\"%s\"", buf);
	EXPECT_MSG(has_token(buf, "DID=0x2"), "\"%s\"", buf);
	/* snprintf-like: the length it needs, a terminated prefix */
	char small[8];
	size_t need = vtd_format_describe(&vtd_fmt_context_legacy, q, small, sizeof(small));
	EXPECT_EQ(need, strlen(buf));
	EXPECT_EQ(strlen(small), 7);
	EXPECT(!strncmp(small, buf, 7));
	EXPECT_EQ(vtd_format_describe(&vtd_fmt_context_legacy, q, NULL, 0), strlen(buf));
}

TEST(describe_sm_entries)
{
	char buf[512];
	uint64_t c[4] = { 0x3000000 | (7 << 9) | 8 | 1, 0 };
	vtd_format_describe(&vtd_fmt_context_sm, c, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "P=1") && has_token(buf, "PASIDE=1") &&
		   has_token(buf, "PDTS=0x7") && has_token(buf, "PASIDDIRPTR=0x3000000") &&
		   has_token(buf, "RID_PASID=0x0") && !strstr(buf, "RSVD"), "\"%s\"", buf);
	c[2] = 1;                                         /* bit 128 */
	vtd_format_describe(&vtd_fmt_context_sm, c, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "RSVD(191:128)=0x1"), "\"%s\"", buf);
	uint64_t p[8] = { 0x5000000 | (2 << 6) | (2 << 2) | 1, (1ull << 23) | 2 };
	vtd_format_describe(&vtd_fmt_pasid_entry, p, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "PGTT=0x2") && has_token(buf, "AW=0x2") &&
		   has_token(buf, "SLPTPTR=0x5000000") && has_token(buf, "DID=0x2") &&
		   has_token(buf, "PWSNP=1") && has_token(buf, "FLPTPTR=0x0"), "\"%s\"", buf);
	uint64_t e = 0x12345003;
	vtd_format_describe(vtd_fmt_sl_pte(1, true), &e, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "R=1") && has_token(buf, "W=1") && has_token(buf, "SNP=0") &&
		   has_token(buf, "ADDR=0x12345000"), "\"%s\"", buf);
	e = 0x40200000 | 0x83;
	vtd_format_describe(vtd_fmt_sl_pte(2, true), &e, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "PS=1") && has_token(buf, "ADDR=0x40200000"), "\"%s\"", buf);
}
