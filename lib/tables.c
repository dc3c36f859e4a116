/* DMA-remapping entry formats (VT-d spec §9.1–9.8, reserved bits as QEMU's
 * vtd_init() masks, with the unit's host address width). */
#include "vtd/tables.h"
#include "fmt.h"

static const struct vtd_field root_legacy_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RSVD", 1, 11, VTD_F_RSVD, 0, 0 },
	{ "CTP", 12, 63, VTD_F_ADDR, 0, 0 }, { "RSVD", 64, 127, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_root_legacy, "legacy root entry", 2, root_legacy_f);

static const struct vtd_field root_sm_f[] = {
	{ "LP", 0, 0, VTD_F_FLAG, 0, 0 }, { "RSVD", 1, 11, VTD_F_RSVD, 0, 0 },
	{ "LCTP", 12, 63, VTD_F_ADDR, 0, 0 }, { "UP", 64, 64, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 65, 75, VTD_F_RSVD, 0, 0 }, { "UCTP", 76, 127, VTD_F_ADDR, 0, 0 },
};
FORMAT(vtd_fmt_root_sm, "scalable-mode root entry", 2, root_sm_f);

/* Bit 11 is PASIDE and bit 67 PGE only in the VT-d 2.x extended format,
 * which Linux never used: reserved / software-available here. */
static const struct vtd_field context_legacy_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "TT", 2, 3, VTD_F_VAL, 0, 0 }, { "RSVD", 4, 11, VTD_F_RSVD, 0, 0 },
	{ "SLPTPTR", 12, 63, VTD_F_ADDR, 0, 0 }, { "AW", 64, 66, VTD_F_VAL, 0, 0 },
	{ "AVAIL", 67, 70, VTD_F_VAL, 0, 0 }, { "RSVD", 71, 71, VTD_F_RSVD, 0, 0 },
	{ "DID", 72, 87, VTD_F_VAL, 0, 0 }, { "RSVD", 88, 127, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_context_legacy, "legacy context entry", 2, context_legacy_f);

static const struct vtd_field context_sm_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "DTE", 2, 2, VTD_F_FLAG, 0, 0 }, { "PASIDE", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PRE", 4, 4, VTD_F_FLAG, 0, 0 }, { "RSVD", 5, 8, VTD_F_RSVD, 0, 0 },
	{ "PDTS", 9, 11, VTD_F_VAL, 0, 0 }, { "PASIDDIRPTR", 12, 63, VTD_F_ADDR, 0, 0 },
	{ "RID_PASID", 64, 83, VTD_F_VAL, 0, 0 }, { "RID_PRIV", 84, 84, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 85, 127, VTD_F_RSVD, 0, 0 }, { "RSVD", 128, 191, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 192, 255, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_context_sm, "scalable-mode context entry", 4, context_sm_f);

static const struct vtd_field pasid_dir_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 2, 11, VTD_F_RSVD, 0, 0 }, { "SMPTBLPTR", 12, 63, VTD_F_ADDR, 0, 0 },
};
FORMAT(vtd_fmt_pasid_dir_entry, "PASID-directory entry", 1, pasid_dir_f);

static const struct vtd_field pasid_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "AW", 2, 4, VTD_F_VAL, 0, 0 }, { "SSEE", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "PGTT", 6, 8, VTD_F_VAL, 0, 0 }, { "SLADE", 9, 9, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 10, 11, VTD_F_RSVD, 0, 0 }, { "SLPTPTR", 12, 63, VTD_F_ADDR, 0, 0 },
	{ "DID", 64, 79, VTD_F_VAL, 0, 0 }, { "RSVD", 80, 86, VTD_F_RSVD, 0, 0 },
	{ "PWSNP", 87, 87, VTD_F_FLAG, 0, 0 }, { "PGSNP", 88, 88, VTD_F_FLAG, 0, 0 },
	{ "CD", 89, 89, VTD_F_FLAG, 0, 0 }, { "EMTE", 90, 90, VTD_F_FLAG, 0, 0 },
	{ "EMT", 91, 93, VTD_F_VAL, 0, 0 }, { "PWT", 94, 94, VTD_F_FLAG, 0, 0 },
	{ "PCD", 95, 95, VTD_F_FLAG, 0, 0 }, { "PAT", 96, 127, VTD_F_VAL, 0, 0 },
	{ "SRE", 128, 128, VTD_F_FLAG, 0, 0 }, { "ERE", 129, 129, VTD_F_FLAG, 0, 0 },
	{ "FLPM", 130, 131, VTD_F_VAL, 0, 0 }, { "WPE", 132, 132, VTD_F_FLAG, 0, 0 },
	{ "NXE", 133, 133, VTD_F_FLAG, 0, 0 }, { "SMEP", 134, 134, VTD_F_FLAG, 0, 0 },
	{ "EAFE", 135, 135, VTD_F_FLAG, 0, 0 }, { "RSVD", 136, 139, VTD_F_RSVD, 0, 0 },
	{ "FLPTPTR", 140, 191, VTD_F_ADDR, 0, 0 },
	{ "RSVD", 192, 255, VTD_F_RSVD, 0, 0 }, { "RSVD", 256, 319, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 320, 383, VTD_F_RSVD, 0, 0 }, { "RSVD", 384, 447, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 448, 511, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_pasid_entry, "PASID-table entry", 8, pasid_f);

/* Second-level paging entries.  Bits 61:52 and 63 are ignored (QEMU
 * VTD_SL_IGN_COM); 62 is TM in leaves and reserved elsewhere. */
static const struct vtd_field sl_upper_f[] = {   /* PML5E, PML4E */
	{ "R", 0, 0, VTD_F_FLAG, 0, 0 }, { "W", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "X", 2, 2, VTD_F_FLAG, 0, 0 }, { "IGN", 3, 6, VTD_F_IGN, 0, 0 },
	{ "RSVD", 7, 7, VTD_F_RSVD, 0, 0 }, { "A", 8, 8, VTD_F_FLAG, 0, 0 },
	{ "IGN", 9, 10, VTD_F_IGN, 0, 0 }, { "RSVD", 11, 11, VTD_F_RSVD, 0, 0 },
	{ "ADDR", 12, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 61, VTD_F_IGN, 0, 0 },
	{ "RSVD", 62, 62, VTD_F_RSVD, 0, 0 }, { "IGN", 63, 63, VTD_F_IGN, 0, 0 },
};
static const struct vtd_field sl_dir_f[] = {     /* PDPE, PDE pointing to a table */
	{ "R", 0, 0, VTD_F_FLAG, 0, 0 }, { "W", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "X", 2, 2, VTD_F_FLAG, 0, 0 }, { "IGN", 3, 6, VTD_F_IGN, 0, 0 },
	{ "PS", 7, 7, VTD_F_FLAG, 0, 0 }, { "A", 8, 8, VTD_F_FLAG, 0, 0 },
	{ "IGN", 9, 10, VTD_F_IGN, 0, 0 }, { "RSVD", 11, 11, VTD_F_RSVD, 0, 0 },
	{ "ADDR", 12, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 61, VTD_F_IGN, 0, 0 },
	{ "RSVD", 62, 62, VTD_F_RSVD, 0, 0 }, { "IGN", 63, 63, VTD_F_IGN, 0, 0 },
};
static const struct vtd_field sl_1g_f[] = {
	{ "R", 0, 0, VTD_F_FLAG, 0, 0 }, { "W", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "X", 2, 2, VTD_F_FLAG, 0, 0 }, { "EMT", 3, 5, VTD_F_VAL, 0, 0 },
	{ "IPAT", 6, 6, VTD_F_FLAG, 0, 0 }, { "PS", 7, 7, VTD_F_FLAG, VTD_C_SLPS1G, 0 },
	{ "A", 8, 8, VTD_F_FLAG, 0, 0 }, { "D", 9, 9, VTD_F_FLAG, 0, 0 },
	{ "IGN", 10, 10, VTD_F_IGN, 0, 0 }, { "SNP", 11, 11, VTD_F_FLAG, VTD_C_SNP, 0 },
	{ "RSVD", 12, 29, VTD_F_RSVD, 0, 0 }, { "ADDR", 30, 51, VTD_F_ADDR, 0, 0 },
	{ "IGN", 52, 61, VTD_F_IGN, 0, 0 }, { "TM", 62, 62, VTD_F_FLAG, VTD_C_TM, 0 },
	{ "IGN", 63, 63, VTD_F_IGN, 0, 0 },
};
static const struct vtd_field sl_2m_f[] = {
	{ "R", 0, 0, VTD_F_FLAG, 0, 0 }, { "W", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "X", 2, 2, VTD_F_FLAG, 0, 0 }, { "EMT", 3, 5, VTD_F_VAL, 0, 0 },
	{ "IPAT", 6, 6, VTD_F_FLAG, 0, 0 }, { "PS", 7, 7, VTD_F_FLAG, VTD_C_SLPS2M, 0 },
	{ "A", 8, 8, VTD_F_FLAG, 0, 0 }, { "D", 9, 9, VTD_F_FLAG, 0, 0 },
	{ "IGN", 10, 10, VTD_F_IGN, 0, 0 }, { "SNP", 11, 11, VTD_F_FLAG, VTD_C_SNP, 0 },
	{ "RSVD", 12, 20, VTD_F_RSVD, 0, 0 }, { "ADDR", 21, 51, VTD_F_ADDR, 0, 0 },
	{ "IGN", 52, 61, VTD_F_IGN, 0, 0 }, { "TM", 62, 62, VTD_F_FLAG, VTD_C_TM, 0 },
	{ "IGN", 63, 63, VTD_F_IGN, 0, 0 },
};
static const struct vtd_field sl_4k_f[] = {
	{ "R", 0, 0, VTD_F_FLAG, 0, 0 }, { "W", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "X", 2, 2, VTD_F_FLAG, 0, 0 }, { "EMT", 3, 5, VTD_F_VAL, 0, 0 },
	{ "IPAT", 6, 6, VTD_F_FLAG, 0, 0 }, { "IGN", 7, 7, VTD_F_IGN, 0, 0 },
	{ "A", 8, 8, VTD_F_FLAG, 0, 0 }, { "D", 9, 9, VTD_F_FLAG, 0, 0 },
	{ "IGN", 10, 10, VTD_F_IGN, 0, 0 }, { "SNP", 11, 11, VTD_F_FLAG, VTD_C_SNP, 0 },
	{ "ADDR", 12, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 61, VTD_F_IGN, 0, 0 },
	{ "TM", 62, 62, VTD_F_FLAG, VTD_C_TM, 0 }, { "IGN", 63, 63, VTD_F_IGN, 0, 0 },
};
static FORMAT(sl_pml5, "second-level PML5E", 1, sl_upper_f);
static FORMAT(sl_pml4, "second-level PML4E", 1, sl_upper_f);
static FORMAT(sl_pdpe, "second-level PDPE", 1, sl_dir_f);
static FORMAT(sl_pde, "second-level PDE", 1, sl_dir_f);
static FORMAT(sl_1g, "second-level PDPE (1 GiB page)", 1, sl_1g_f);
static FORMAT(sl_2m, "second-level PDE (2 MiB page)", 1, sl_2m_f);
static FORMAT(sl_pte, "second-level PTE", 1, sl_4k_f);

const struct vtd_format *vtd_fmt_sl_pte(unsigned level, bool leaf)
{
	switch (level) {
	case 1: return &sl_pte;
	case 2: return leaf ? &sl_2m : &sl_pde;
	case 3: return leaf ? &sl_1g : &sl_pdpe;
	case 4: return &sl_pml4;
	case 5: return &sl_pml5;
	}
	return NULL;
}

/* First-level (IA-32e) entries.  Bits 62:52 ignored; XD is reported. */
static const struct vtd_field fl_upper_f[] = {   /* PML5E, PML4E */
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RW", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "US", 2, 2, VTD_F_FLAG, 0, 0 }, { "PWT", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PCD", 4, 4, VTD_F_FLAG, 0, 0 }, { "A", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "IGN", 6, 6, VTD_F_IGN, 0, 0 }, { "RSVD", 7, 7, VTD_F_RSVD, 0, 0 },
	{ "IGN", 8, 9, VTD_F_IGN, 0, 0 }, { "EA", 10, 10, VTD_F_FLAG, 0, 0 },
	{ "IGN", 11, 11, VTD_F_IGN, 0, 0 }, { "ADDR", 12, 51, VTD_F_ADDR, 0, 0 },
	{ "IGN", 52, 62, VTD_F_IGN, 0, 0 }, { "XD", 63, 63, VTD_F_FLAG, 0, 0 },
};
static const struct vtd_field fl_dir_f[] = {     /* PDPE, PDE pointing to a table */
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RW", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "US", 2, 2, VTD_F_FLAG, 0, 0 }, { "PWT", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PCD", 4, 4, VTD_F_FLAG, 0, 0 }, { "A", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "IGN", 6, 6, VTD_F_IGN, 0, 0 }, { "PS", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "IGN", 8, 9, VTD_F_IGN, 0, 0 }, { "EA", 10, 10, VTD_F_FLAG, 0, 0 },
	{ "IGN", 11, 11, VTD_F_IGN, 0, 0 }, { "ADDR", 12, 51, VTD_F_ADDR, 0, 0 },
	{ "IGN", 52, 62, VTD_F_IGN, 0, 0 }, { "XD", 63, 63, VTD_F_FLAG, 0, 0 },
};
static const struct vtd_field fl_1g_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RW", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "US", 2, 2, VTD_F_FLAG, 0, 0 }, { "PWT", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PCD", 4, 4, VTD_F_FLAG, 0, 0 }, { "A", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "D", 6, 6, VTD_F_FLAG, 0, 0 }, { "PS", 7, 7, VTD_F_FLAG, VTD_C_FL1G, 0 },
	{ "G", 8, 8, VTD_F_FLAG, 0, 0 }, { "IGN", 9, 9, VTD_F_IGN, 0, 0 },
	{ "EA", 10, 10, VTD_F_FLAG, 0, 0 }, { "IGN", 11, 11, VTD_F_IGN, 0, 0 },
	{ "PAT", 12, 12, VTD_F_FLAG, 0, 0 }, { "RSVD", 13, 29, VTD_F_RSVD, 0, 0 },
	{ "ADDR", 30, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 62, VTD_F_IGN, 0, 0 },
	{ "XD", 63, 63, VTD_F_FLAG, 0, 0 },
};
static const struct vtd_field fl_2m_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RW", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "US", 2, 2, VTD_F_FLAG, 0, 0 }, { "PWT", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PCD", 4, 4, VTD_F_FLAG, 0, 0 }, { "A", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "D", 6, 6, VTD_F_FLAG, 0, 0 }, { "PS", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "G", 8, 8, VTD_F_FLAG, 0, 0 }, { "IGN", 9, 9, VTD_F_IGN, 0, 0 },
	{ "EA", 10, 10, VTD_F_FLAG, 0, 0 }, { "IGN", 11, 11, VTD_F_IGN, 0, 0 },
	{ "PAT", 12, 12, VTD_F_FLAG, 0, 0 }, { "RSVD", 13, 20, VTD_F_RSVD, 0, 0 },
	{ "ADDR", 21, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 62, VTD_F_IGN, 0, 0 },
	{ "XD", 63, 63, VTD_F_FLAG, 0, 0 },
};
static const struct vtd_field fl_4k_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "RW", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "US", 2, 2, VTD_F_FLAG, 0, 0 }, { "PWT", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "PCD", 4, 4, VTD_F_FLAG, 0, 0 }, { "A", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "D", 6, 6, VTD_F_FLAG, 0, 0 }, { "PAT", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "G", 8, 8, VTD_F_FLAG, 0, 0 }, { "IGN", 9, 9, VTD_F_IGN, 0, 0 },
	{ "EA", 10, 10, VTD_F_FLAG, 0, 0 }, { "IGN", 11, 11, VTD_F_IGN, 0, 0 },
	{ "ADDR", 12, 51, VTD_F_ADDR, 0, 0 }, { "IGN", 52, 62, VTD_F_IGN, 0, 0 },
	{ "XD", 63, 63, VTD_F_FLAG, 0, 0 },
};
static FORMAT(fl_pml5, "first-level PML5E", 1, fl_upper_f);
static FORMAT(fl_pml4, "first-level PML4E", 1, fl_upper_f);
static FORMAT(fl_pdpe, "first-level PDPE", 1, fl_dir_f);
static FORMAT(fl_pde, "first-level PDE", 1, fl_dir_f);
static FORMAT(fl_1g, "first-level PDPE (1 GiB page)", 1, fl_1g_f);
static FORMAT(fl_2m, "first-level PDE (2 MiB page)", 1, fl_2m_f);
static FORMAT(fl_pte, "first-level PTE", 1, fl_4k_f);

const struct vtd_format *vtd_fmt_fl_pte(unsigned level, bool leaf)
{
	switch (level) {
	case 1: return &fl_pte;
	case 2: return leaf ? &fl_2m : &fl_pde;
	case 3: return leaf ? &fl_1g : &fl_pdpe;
	case 4: return &fl_pml4;
	case 5: return &fl_pml5;
	}
	return NULL;
}

unsigned vtd_unit_conds(uint64_t cap, uint64_t ecap, bool scalable)
{
	unsigned c = 0;
	if (ecap_sc_support(ecap) || scalable)
		c |= VTD_C_SNP;
	if (ecap_dev_iotlb_support(ecap))
		c |= VTD_C_TM;
	if (cap_super_page_val(cap) & 1)
		c |= VTD_C_SLPS2M;
	if (cap_super_page_val(cap) & 2)
		c |= VTD_C_SLPS1G;
	if (cap_fl1gp_support(cap))
		c |= VTD_C_FL1G;
	return c;
}
