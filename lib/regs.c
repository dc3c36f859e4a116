/* Register formats (VT-d spec §11.4.2 ff.; names as in the spec). */
#include "vtd/regs.h"
#include "fmt.h"

static const struct vtd_field ver_f[] = {
	{ "MIN", 0, 3, VTD_F_VAL, 0, 0 }, { "MAX", 4, 7, VTD_F_VAL, 0, 0 },
	{ "RSVD", 8, 31, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_ver, "VER", 1, ver_f);

static const struct vtd_field cap_f[] = {
	{ "ND", 0, 2, VTD_F_VAL, 0, 0 }, { "AFL", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "RWBF", 4, 4, VTD_F_FLAG, 0, 0 }, { "PLMR", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "PHMR", 6, 6, VTD_F_FLAG, 0, 0 }, { "CM", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "SAGAW", 8, 12, VTD_F_VAL, 0, 0 }, { "RSVD", 13, 15, VTD_F_RSVD, 0, 0 },
	{ "MGAW", 16, 21, VTD_F_VAL, 0, 0 }, { "ZLR", 22, 22, VTD_F_FLAG, 0, 0 },
	{ "ISOCH", 23, 23, VTD_F_FLAG, 0, 0 }, { "FRO", 24, 33, VTD_F_VAL, 0, 0 },
	{ "SLLPS", 34, 37, VTD_F_VAL, 0, 0 }, { "RSVD", 38, 38, VTD_F_RSVD, 0, 0 },
	{ "PSI", 39, 39, VTD_F_FLAG, 0, 0 }, { "NFR", 40, 47, VTD_F_VAL, 0, 0 },
	{ "MAMV", 48, 53, VTD_F_VAL, 0, 0 }, { "DWD", 54, 54, VTD_F_FLAG, 0, 0 },
	{ "DRD", 55, 55, VTD_F_FLAG, 0, 0 }, { "FL1GP", 56, 56, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 57, 58, VTD_F_RSVD, 0, 0 }, { "PI", 59, 59, VTD_F_FLAG, 0, 0 },
	{ "FL5LP", 60, 60, VTD_F_FLAG, 0, 0 }, { "ECMDS", 61, 61, VTD_F_FLAG, 0, 0 },
	{ "ESIRTPS", 62, 62, VTD_F_FLAG, 0, 0 }, { "ESRTPS", 63, 63, VTD_F_FLAG, 0, 0 },
};
FORMAT(vtd_fmt_cap, "CAP", 1, cap_f);

static const struct vtd_field ecap_f[] = {
	{ "C", 0, 0, VTD_F_FLAG, 0, 0 }, { "QI", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "DT", 2, 2, VTD_F_FLAG, 0, 0 }, { "IR", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "EIM", 4, 4, VTD_F_FLAG, 0, 0 }, { "RSVD", 5, 5, VTD_F_RSVD, 0, 0 },
	{ "PT", 6, 6, VTD_F_FLAG, 0, 0 }, { "SC", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "IRO", 8, 17, VTD_F_VAL, 0, 0 }, { "RSVD", 18, 19, VTD_F_RSVD, 0, 0 },
	{ "MHMV", 20, 23, VTD_F_VAL, 0, 0 }, { "ECS", 24, 24, VTD_F_FLAG, 0, 0 },
	{ "MTS", 25, 25, VTD_F_FLAG, 0, 0 }, { "NEST", 26, 26, VTD_F_FLAG, 0, 0 },
	{ "DIS", 27, 27, VTD_F_FLAG, 0, 0 }, { "PASID_OLD", 28, 28, VTD_F_FLAG, 0, 0 },
	{ "PRS", 29, 29, VTD_F_FLAG, 0, 0 }, { "ERS", 30, 30, VTD_F_FLAG, 0, 0 },
	{ "SRS", 31, 31, VTD_F_FLAG, 0, 0 }, { "RSVD", 32, 32, VTD_F_RSVD, 0, 0 },
	{ "NWFS", 33, 33, VTD_F_FLAG, 0, 0 }, { "EAFS", 34, 34, VTD_F_FLAG, 0, 0 },
	{ "PSS", 35, 39, VTD_F_VAL, 0, 0 }, { "PASID", 40, 40, VTD_F_FLAG, 0, 0 },
	{ "DIT", 41, 41, VTD_F_FLAG, 0, 0 }, { "PDS", 42, 42, VTD_F_FLAG, 0, 0 },
	{ "SMTS", 43, 43, VTD_F_FLAG, 0, 0 }, { "VCS", 44, 44, VTD_F_FLAG, 0, 0 },
	{ "SLADS", 45, 45, VTD_F_FLAG, 0, 0 }, { "SLTS", 46, 46, VTD_F_FLAG, 0, 0 },
	{ "FLTS", 47, 47, VTD_F_FLAG, 0, 0 }, { "SMPWCS", 48, 48, VTD_F_FLAG, 0, 0 },
	{ "RPS", 49, 49, VTD_F_FLAG, 0, 0 }, { "RSVD", 50, 50, VTD_F_RSVD, 0, 0 },
	{ "PMS", 51, 51, VTD_F_FLAG, 0, 0 },
	/* 63:52: defined by newer specs than this decoder knows */
	{ "NEWER", 52, 63, VTD_F_IGN, 0, 0 },
};
FORMAT(vtd_fmt_ecap, "ECAP", 1, ecap_f);

static const struct vtd_field gcmd_f[] = {
	{ "RSVD", 0, 22, VTD_F_RSVD, 0, 0 }, { "CFI", 23, 23, VTD_F_FLAG, 0, 0 },
	{ "SIRTP", 24, 24, VTD_F_FLAG, 0, 0 }, { "IRE", 25, 25, VTD_F_FLAG, 0, 0 },
	{ "QIE", 26, 26, VTD_F_FLAG, 0, 0 }, { "WBF", 27, 27, VTD_F_FLAG, 0, 0 },
	{ "EAFL", 28, 28, VTD_F_FLAG, 0, 0 }, { "SFL", 29, 29, VTD_F_FLAG, 0, 0 },
	{ "SRTP", 30, 30, VTD_F_FLAG, 0, 0 }, { "TE", 31, 31, VTD_F_FLAG, 0, 0 },
};
FORMAT(vtd_fmt_gcmd, "GCMD", 1, gcmd_f);

static const struct vtd_field gsts_f[] = {
	{ "RSVD", 0, 22, VTD_F_RSVD, 0, 0 }, { "CFIS", 23, 23, VTD_F_FLAG, 0, 0 },
	{ "IRTPS", 24, 24, VTD_F_FLAG, 0, 0 }, { "IRES", 25, 25, VTD_F_FLAG, 0, 0 },
	{ "QIES", 26, 26, VTD_F_FLAG, 0, 0 }, { "WBFS", 27, 27, VTD_F_FLAG, 0, 0 },
	{ "AFLS", 28, 28, VTD_F_FLAG, 0, 0 }, { "FLS", 29, 29, VTD_F_FLAG, 0, 0 },
	{ "RTPS", 30, 30, VTD_F_FLAG, 0, 0 }, { "TES", 31, 31, VTD_F_FLAG, 0, 0 },
};
FORMAT(vtd_fmt_gsts, "GSTS", 1, gsts_f);

static const struct vtd_field rtaddr_f[] = {
	{ "RSVD", 0, 9, VTD_F_RSVD, 0, 0 }, { "TTM", 10, 11, VTD_F_VAL, 0, 0 },
	{ "RTA", 12, 63, VTD_F_ADDR, 0, 0 },
};
FORMAT(vtd_fmt_rtaddr, "RTADDR", 1, rtaddr_f);

static const struct vtd_field irta_f[] = {
	{ "S", 0, 3, VTD_F_VAL, 0, 0 }, { "RSVD", 4, 10, VTD_F_RSVD, 0, 0 },
	{ "EIME", 11, 11, VTD_F_FLAG, 0, 0 }, { "IRTA", 12, 63, VTD_F_ADDR, 0, 0 },
};
FORMAT(vtd_fmt_irta, "IRTA", 1, irta_f);

static const struct vtd_field iqa_f[] = {
	{ "QS", 0, 2, VTD_F_VAL, 0, 0 }, { "RSVD", 3, 10, VTD_F_RSVD, 0, 0 },
	{ "DW", 11, 11, VTD_F_FLAG, 0, 0 }, { "IQA", 12, 63, VTD_F_ADDR, 0, 0 },
};
FORMAT(vtd_fmt_iqa, "IQA", 1, iqa_f);
