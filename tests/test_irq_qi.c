/* Interrupt-remapping table entries (remapped and posted) and invalidation
 * queue descriptors (types 1-9): field tables, inline accessors of
 * include/vtd/irq.h and qi.h, reserved-bit checks, against the spec's layouts
 * (vtd-reference.md §1.10/§1.11/§2.2, spec 3.x/4.x §6.5.2 and §9.10) and the
 * descriptors Linux writes (QI_* macros of intel-iommu.h / iommu.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vtd/error.h"
#include "vtd/fields.h"
#include "vtd/irq.h"
#include "vtd/mem.h"
#include "vtd/qi.h"

#include "spec_table.h"

/* ------------------------------------------------------------------------ */
/* Accessor wrappers: every accessor as a function of the raw qwords. */
#define W_IRTE(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_irte e = { q[0], q[1] }; return (uint64_t)fn(&e); }
#define W_QI(fn) static uint64_t w_##fn(const uint64_t *q) \
	{ struct vtd_qi_desc d = { q[0], q[1], q[2], q[3] }; return (uint64_t)fn(&d); }

W_IRTE(irte_present) W_IRTE(irte_fpd) W_IRTE(irte_avail) W_IRTE(irte_im) W_IRTE(irte_sid)
W_IRTE(irte_sq) W_IRTE(irte_svt) W_IRTE(irte_dst_mode) W_IRTE(irte_redir_hint)
W_IRTE(irte_trigger_mode) W_IRTE(irte_dlvry_mode) W_IRTE(irte_vector) W_IRTE(irte_dest_raw)
W_IRTE(irte_urg) W_IRTE(irte_vv) W_IRTE(irte_pda)

W_QI(qi_desc_type)
W_QI(qi_cc_gran) W_QI(qi_cc_did) W_QI(qi_cc_sid) W_QI(qi_cc_fm)
W_QI(qi_iotlb_gran) W_QI(qi_iotlb_dw) W_QI(qi_iotlb_dr) W_QI(qi_iotlb_did) W_QI(qi_iotlb_am)
W_QI(qi_iotlb_ih) W_QI(qi_iotlb_addr)
W_QI(qi_dev_iotlb_pfsid) W_QI(qi_dev_iotlb_qdep) W_QI(qi_dev_iotlb_sid) W_QI(qi_dev_iotlb_size)
W_QI(qi_dev_iotlb_addr)
W_QI(qi_iec_g) W_QI(qi_iec_im) W_QI(qi_iec_iidx)
W_QI(qi_iwd_if) W_QI(qi_iwd_sw) W_QI(qi_iwd_fn) W_QI(qi_iwd_pd) W_QI(qi_iwd_status_data)
W_QI(qi_iwd_status_addr)
W_QI(qi_eiotlb_gran) W_QI(qi_eiotlb_did) W_QI(qi_eiotlb_pasid) W_QI(qi_eiotlb_am)
W_QI(qi_eiotlb_ih) W_QI(qi_eiotlb_addr)
W_QI(qi_pc_gran) W_QI(qi_pc_did) W_QI(qi_pc_pasid)
W_QI(qi_deiotlb_qdep) W_QI(qi_deiotlb_pfsid) W_QI(qi_deiotlb_sid) W_QI(qi_deiotlb_pasid)
W_QI(qi_deiotlb_glob) W_QI(qi_deiotlb_size) W_QI(qi_deiotlb_addr)
W_QI(qi_pgrp_pasid_p) W_QI(qi_pgrp_resp_code) W_QI(qi_pgrp_rid) W_QI(qi_pgrp_pasid)
W_QI(qi_pgrp_lpig) W_QI(qi_pgrp_idx) W_QI(qi_pgrp_pdp)

/* IRTE, remapped format (IM=0) — spec §9.10, vtd-reference §1.10.  DST:
 * in x2APIC mode (IRTA.EIME=1, VTD_C_EIM) all 32 bits; in xAPIC mode only
 * bits 47:40 are the destination and 39:32, 63:48 are reserved. */
static const struct sf irte_rem_t[] = {
	F("P", 0, 0, FL, w_irte_present),
	F("FPD", 1, 1, FL, w_irte_fpd),
	F("DM", 2, 2, FL, w_irte_dst_mode),
	F("RH", 3, 3, FL, w_irte_redir_hint),
	F("TM", 4, 4, FL, w_irte_trigger_mode),
	F("DLM", 5, 7, V, w_irte_dlvry_mode),
	F("AVAIL", 8, 11, V, w_irte_avail),
	RSV(12, 14),
	F("IM", 15, 15, FL, w_irte_im),
	F("V", 16, 23, V, w_irte_vector),
	RSV(24, 31),
	/* xAPIC: field bits 31:16 and 7:0 need EIME */
	FCM("DST", 32, 63, V, VTD_C_EIM, 0xffff00ffull, w_irte_dest_raw),
	F("SID", 64, 79, V, w_irte_sid),
	F("SQ", 80, 81, V, w_irte_sq),
	F("SVT", 82, 83, V, w_irte_svt),
	RSV(84, 127),
};
/* IRTE, posted format (IM=1) — spec §9.11.  PDA = PDAH:PDAL:000000b. */
static const struct sf irte_post_t[] = {
	F("P", 0, 0, FL, w_irte_present),
	F("FPD", 1, 1, FL, w_irte_fpd),
	RSV(2, 7),
	F("AVAIL", 8, 11, V, w_irte_avail),
	RSV(12, 13),
	F("URG", 14, 14, FL, w_irte_urg),
	F("IM", 15, 15, FL, w_irte_im),
	F("VV", 16, 23, V, w_irte_vv),
	RSV(24, 37),
	FX("PDAL", 38, 63, V, w_irte_pda, 6, 0),
	F("SID", 64, 79, V, w_irte_sid),
	F("SQ", 80, 81, V, w_irte_sq),
	F("SVT", 82, 83, V, w_irte_svt),
	RSV(84, 95),
	FX("PDAH", 96, 127, V, w_irte_pda, 32, 0),
};

/* Invalidation descriptors — spec §6.5.2.  Every type: type[3:0] in bits
 * 3:0 and type[6:4] in bits 11:9 (qi_desc_type() joins them).  The ADDR of
 * types 2, 3, 6 and 8 is an input address (IOVA / device address), IOVA kind:
 * in place, no host-width check; the wait descriptor's status address is a
 * host physical address (ADDR). */
#define TYPE_ROWS FX("TYPE", 0, 3, V, w_qi_desc_type, 0, 0), FX("TYPEH", 9, 11, V, w_qi_desc_type, 4, 0)

/* 1: context-cache invalidate (Linux QI_CC_*: GRAN<<4, DID<<16, SID<<32, FM<<48) */
static const struct sf qi_cc_t[] = {
	TYPE_ROWS,
	F("G", 4, 5, V, w_qi_cc_gran), RSV(6, 8), RSV(12, 15),
	F("DID", 16, 31, V, w_qi_cc_did), F("SID", 32, 47, V, w_qi_cc_sid),
	F("FM", 48, 49, V, w_qi_cc_fm), RSV(50, 63), RSV(64, 127),
};
/* 2: IOTLB invalidate (QI_IOTLB_*: GRAN<<4, DW 6, DR 7, DID<<16; AM, IH 6, ADDR) */
static const struct sf qi_iotlb_t[] = {
	TYPE_ROWS,
	F("G", 4, 5, V, w_qi_iotlb_gran), F("DW", 6, 6, FL, w_qi_iotlb_dw),
	F("DR", 7, 7, FL, w_qi_iotlb_dr), RSV(8, 8), RSV(12, 15),
	F("DID", 16, 31, V, w_qi_iotlb_did), RSV(32, 63),
	F("AM", 64, 69, V, w_qi_iotlb_am), F("IH", 70, 70, FL, w_qi_iotlb_ih), RSV(71, 75),
	F("ADDR", 76, 127, IO, w_qi_iotlb_addr),
};
/* 3: device-TLB invalidate (QI_DEV_IOTLB_*: PFSID 15:12 + 63:52, MIP (Linux
 * QDEP) 20:16, SID<<32; S bit 64, ADDR) */
static const struct sf qi_diotlb_t[] = {
	TYPE_ROWS,
	RSV(4, 8), FX("PFSIDL", 12, 15, V, w_qi_dev_iotlb_pfsid, 0, 0),
	F("MIP|QDEP", 16, 20, V, w_qi_dev_iotlb_qdep), RSV(21, 31),
	F("SID", 32, 47, V, w_qi_dev_iotlb_sid), RSV(48, 51),
	FX("PFSIDH", 52, 63, V, w_qi_dev_iotlb_pfsid, 4, 0),
	F("S", 64, 64, FL, w_qi_dev_iotlb_size), RSV(65, 75),
	F("ADDR", 76, 127, IO, w_qi_dev_iotlb_addr),
};
/* 4: interrupt-entry-cache invalidate (QI_IEC_*: SELECTIVE bit 4, IM<<27, IIDX<<32) */
static const struct sf qi_iec_t[] = {
	TYPE_ROWS,
	F("G", 4, 4, FL, w_qi_iec_g), RSV(5, 8), RSV(12, 26),
	F("IM", 27, 31, V, w_qi_iec_im), F("IIDX", 32, 47, V, w_qi_iec_iidx),
	RSV(48, 63), RSV(64, 127),
};
/* 5: invalidation wait (vtd-reference §1.11; QI_IWD_*: IF 4, SW 5, FN 6,
 * PD 7, status data<<32; status address 63:2 of qword 1) */
static const struct sf qi_iwd_t[] = {
	TYPE_ROWS,
	F("IF", 4, 4, FL, w_qi_iwd_if), F("SW", 5, 5, FL, w_qi_iwd_sw),
	F("FN", 6, 6, FL, w_qi_iwd_fn), F("PD", 7, 7, FL, w_qi_iwd_pd),
	RSV(8, 8), RSV(12, 31),
	F("SDATA", 32, 63, V, w_qi_iwd_status_data),
	RSV(64, 65), F("SADDR", 66, 127, AD, w_qi_iwd_status_addr),
};
/* 6: PASID-based IOTLB invalidate (QI_EIOTLB_*: GRAN<<4, DID<<16, PASID<<32) */
static const struct sf qi_eiotlb_t[] = {
	TYPE_ROWS,
	F("G", 4, 5, V, w_qi_eiotlb_gran), RSV(6, 8), RSV(12, 15),
	F("DID", 16, 31, V, w_qi_eiotlb_did), F("PASID", 32, 51, V, w_qi_eiotlb_pasid),
	RSV(52, 63),
	F("AM", 64, 69, V, w_qi_eiotlb_am), F("IH", 70, 70, FL, w_qi_eiotlb_ih), RSV(71, 75),
	F("ADDR", 76, 127, IO, w_qi_eiotlb_addr),
};
/* 7: PASID-cache invalidate (QI_PC_*: GRAN<<4, DID<<16, PASID<<32) */
static const struct sf qi_pc_t[] = {
	TYPE_ROWS,
	F("G", 4, 5, V, w_qi_pc_gran), RSV(6, 8), RSV(12, 15),
	F("DID", 16, 31, V, w_qi_pc_did), F("PASID", 32, 51, V, w_qi_pc_pasid),
	RSV(52, 63), RSV(64, 127),
};
/* 8: PASID-based device-TLB invalidate (QI_DEV_EIOTLB_*: MIP<<4, PFSID,
 * SID<<16, PASID<<32; GLOB bit 0, SIZE bit 11 of qword 1) */
static const struct sf qi_deiotlb_t[] = {
	TYPE_ROWS,
	F("MIP|QDEP", 4, 8, V, w_qi_deiotlb_qdep),
	FX("PFSIDL", 12, 15, V, w_qi_deiotlb_pfsid, 0, 0),
	F("SID", 16, 31, V, w_qi_deiotlb_sid), F("PASID", 32, 51, V, w_qi_deiotlb_pasid),
	FX("PFSIDH", 52, 63, V, w_qi_deiotlb_pfsid, 4, 0),
	F("G", 64, 64, FL, w_qi_deiotlb_glob), RSV(65, 74),
	F("S", 75, 75, FL, w_qi_deiotlb_size),
	F("ADDR", 76, 127, IO, w_qi_deiotlb_addr),
};
/* 9: page-group response (QI_PGRP_*: PASID_P bit 4, PDP bit 5, RESP_CODE<<12,
 * RID ("DID" in Linux)<<16, PASID<<32; LPIG bit 2, IDX<<3 of qword 1).
 * Linux sets PDP (private data present): it is not reserved. */
static const struct sf qi_pgrp_t[] = {
	TYPE_ROWS,
	F("PP", 4, 4, FL, w_qi_pgrp_pasid_p),
	F("PDP", 5, 5, FL, w_qi_pgrp_pdp),
	RSV(6, 8),
	F("RC", 12, 15, V, w_qi_pgrp_resp_code), F("RID", 16, 31, V, w_qi_pgrp_rid),
	F("PASID", 32, 51, V, w_qi_pgrp_pasid), RSV(52, 63),
	RSV(64, 65), F("LPIG", 66, 66, FL, w_qi_pgrp_lpig),
	F("PRGI", 67, 75, V, w_qi_pgrp_idx), RSV(76, 127),
};

TEST(irte_remapped_fields)
{
	struct sfmt m = SFMT("remapped IRTE", &vtd_fmt_irte_remapped, 128, irte_rem_t);
	run_all(&m);
}
TEST(irte_posted_fields)
{
	struct sfmt m = SFMT("posted IRTE", &vtd_fmt_irte_posted, 128, irte_post_t);
	run_all(&m);
}
TEST(qi_descriptor_fields)
{
	const struct sfmt m[] = {
		SFMT("QI 1 context-cache", vtd_qi_format(1), 128, qi_cc_t),
		SFMT("QI 2 IOTLB", vtd_qi_format(2), 128, qi_iotlb_t),
		SFMT("QI 3 device-TLB", vtd_qi_format(3), 128, qi_diotlb_t),
		SFMT("QI 4 IEC", vtd_qi_format(4), 128, qi_iec_t),
		SFMT("QI 5 wait", vtd_qi_format(5), 128, qi_iwd_t),
		SFMT("QI 6 PASID IOTLB", vtd_qi_format(6), 128, qi_eiotlb_t),
		SFMT("QI 7 PASID-cache", vtd_qi_format(7), 128, qi_pc_t),
		SFMT("QI 8 PASID device-TLB", vtd_qi_format(8), 128, qi_deiotlb_t),
		SFMT("QI 9 page-group response", vtd_qi_format(9), 128, qi_pgrp_t),
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		run_all(&m[i]);
}

TEST(irte_format_by_im)
{
	struct vtd_irte r = { 0x1, 0 }, p = { 0x8001, 0 };
	EXPECT(vtd_irte_format(&r) == &vtd_fmt_irte_remapped);
	EXPECT(vtd_irte_format(&p) == &vtd_fmt_irte_posted);
	r.low = ~0x8000ull;
	EXPECT(vtd_irte_format(&r) == &vtd_fmt_irte_remapped);
}

/* Destination: x2APIC (EIME) all 32 bits; xAPIC bits 47:40 (Linux
 * IRTE_DEST(d) = eim ? d : d << 8). */
TEST(irte_destination_modes)
{
	struct vtd_irte x2 = { 0x1234567800300001ull, 0 };   /* V 0x30, dest 0x12345678 */
	EXPECT_EQ(irte_dest_id(&x2, true), 0x12345678u);
	EXPECT_EQ(irte_dest_raw(&x2), 0x12345678u);
	EXPECT_EQ(irte_dest_id(&x2, false), 0x56u);          /* bits 47:40 */
	EXPECT_EQ(irte_vector(&x2), 0x30);
	struct vtd_irte xa = { (0x05ull << 40) | (0xefull << 16) | 1, 0 };
	EXPECT_EQ(irte_dest_id(&xa, false), 5);
	EXPECT_EQ(irte_dest_raw(&xa), 0x500);
	EXPECT_EQ(irte_dest_id(&xa, true), 0x500);
	struct vtd_irte top = { 0xff00000000000001ull, 0 };  /* x2APIC bits 63:56 */
	EXPECT_EQ(irte_dest_id(&top, true), 0xff000000u);
	EXPECT_EQ(irte_dest_id(&top, false), 0);
}

/* Is absolute bit b reported (by any field) by vtd_format_check? */
static bool reports_bit(const struct vtd_format *fmt, const uint64_t *q, unsigned conds,
			unsigned b)
{
	struct vtd_rsvd r;
	memset(&r, 0, sizeof(r));
	unsigned n = vtd_format_check(fmt, q, 52, conds, &r);
	return n >= 1 && r.lo <= b && b <= r.hi && (r.bits >> (b - r.lo) & 1);
}

/* In xAPIC mode (IRTA.EIME=0) DST bits 39:32 and 63:48 are reserved (spec
 * §9.10 "Destination ID"); VTD_C_EIM ("32-bit IRTE destination: IRTA.EIME")
 * makes them valid. */
TEST(irte_xapic_dst_reserved)
{
	uint64_t q[2] = { (0x05ull << 40) | (0x30ull << 16) | 1, 0x40010 };
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irte_remapped, q, 52, 0, NULL), 0);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irte_remapped, q, 52, VTD_C_EIM, NULL), 0);
	static const unsigned bits[] = { 32, 39, 48, 63 };
	for (size_t i = 0; i < 4; i++) {
		uint64_t e[2] = { q[0] | 1ull << bits[i], q[1] };
		EXPECT_MSG(reports_bit(&vtd_fmt_irte_remapped, e, 0, bits[i]),
			   "xAPIC IRTE with DST bit %u: not reported", bits[i]);
		EXPECT_MSG(vtd_format_check(&vtd_fmt_irte_remapped, e, 52, VTD_C_EIM, NULL) == 0,
			   "x2APIC IRTE with DST bit %u: reported", bits[i]);
	}
}

/* Reserved ranges QEMU checks (0x24 IRTE_RSVD: 14:12, 31:24, 127:84) and the
 * posted format's, each range at once. */
TEST(irte_reserved_ranges)
{
	struct rc { const struct vtd_format *fmt; unsigned lo, hi; };
	const struct rc c[] = {
		{ &vtd_fmt_irte_remapped, 12, 14 }, { &vtd_fmt_irte_remapped, 24, 31 },
		{ &vtd_fmt_irte_remapped, 84, 127 },
		{ &vtd_fmt_irte_posted, 2, 7 }, { &vtd_fmt_irte_posted, 12, 13 },
		{ &vtd_fmt_irte_posted, 24, 37 }, { &vtd_fmt_irte_posted, 84, 95 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		check_begin("%s: bits %u:%u all set", c[i].fmt->name, c[i].hi, c[i].lo);
		uint64_t q[2] = { c[i].fmt == &vtd_fmt_irte_posted ? 0x8001 : 1, 0 };
		put_bits(q, c[i].lo, c[i].hi, ~0ull);
		expect_violation(c[i].fmt, q, 52, VTD_C_EIM, "RSVD", c[i].lo, c[i].hi, "reserved");
		check_end();
	}
}

/* Entries as Linux writes them. */
TEST(irte_linux_values)
{
	/* x2APIC remapped: P, DLM fixed 0, V 0x41, dest 3, SVT 1 SQ 0 SID 00:1f.0 */
	struct vtd_irte r = { (3ull << 32) | (0x41ull << 16) | 1, (1ull << 18) | 0x00f8 };
	EXPECT_EQ(irte_present(&r), 1);
	EXPECT_EQ(irte_im(&r), 0);
	EXPECT_EQ(irte_vector(&r), 0x41);
	EXPECT_EQ(irte_dest_id(&r, true), 3);
	EXPECT_EQ(irte_dlvry_mode(&r), 0);
	EXPECT_EQ(irte_dst_mode(&r), 0);
	EXPECT_EQ(irte_svt(&r), 1);
	EXPECT_EQ(irte_sq(&r), 0);
	EXPECT_EQ(irte_sid(&r), 0xf8);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irte_remapped, &r.low, 39, VTD_C_EIM, NULL), 0);
	/* SVT 2 bus range: SID[15:8] = max bus 0x3, SID[7:0] = min bus 0x1 */
	struct vtd_irte b = { 1, (2ull << 18) | 0x0301 };
	EXPECT_EQ(irte_svt(&b), 2);
	EXPECT_EQ(irte_sid(&b), 0x301);
	/* logical, lowest-priority, level, RH: DM 1, RH 1, TM 1, DLM 1 */
	struct vtd_irte l = { 0x1 | 0x4 | 0x8 | 0x10 | (1 << 5), 0 };
	EXPECT_EQ(irte_dst_mode(&l), 1);
	EXPECT_EQ(irte_redir_hint(&l), 1);
	EXPECT_EQ(irte_trigger_mode(&l), 1);
	EXPECT_EQ(irte_dlvry_mode(&l), 1);
	/* posted: URG, VV 0x55, PDA 0x123456789abcdec0 */
	struct vtd_irte p = { ((0x9abcdec0ull >> 6) << 38) | (0x55ull << 16) | 0x8000 | 0x4000 | 1,
			      0x12345678ull << 32 };
	EXPECT_EQ(irte_im(&p), 1);
	EXPECT_EQ(irte_urg(&p), 1);
	EXPECT_EQ(irte_vv(&p), 0x55);
	EXPECT_EQ(irte_pda(&p), 0x123456789abcdec0ull);
	EXPECT_EQ(vtd_format_check(&vtd_fmt_irte_posted, &p.low, 52, 0, NULL), 0);
}

TEST(irte_describe)
{
	uint64_t q[2] = { (5ull << 32) | (0x30ull << 16) | 1, (1ull << 18) | 0x10 };
	char buf[256];
	size_t n = vtd_format_describe(&vtd_fmt_irte_remapped, q, buf, sizeof(buf));
	EXPECT_EQ(n, strlen(buf));
	static const char *const tok[] = { "P=1", "FPD=0", "IM=0", "V=0x30", "DST=0x5",
					   "SID=0x10", "SQ=0x0", "SVT=0x1" };
	for (size_t i = 0; i < sizeof(tok) / sizeof(tok[0]); i++)
		EXPECT_MSG(has_token(buf, tok[i]), "\"%s\" lacks %s", buf, tok[i]);
	EXPECT_MSG(!strstr(buf, "RSVD"), "\"%s\"", buf);
	q[0] |= 1ull << 24;
	vtd_format_describe(&vtd_fmt_irte_remapped, q, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "RSVD(31:24)=0x1"), "\"%s\"", buf);
}

/* Type: bits 3:0 and 11:9. */
TEST(qi_type_bits)
{
	struct vtd_qi_desc d = { 0x5, 0, 0, 0 };
	EXPECT_EQ(qi_desc_type(&d), QI_IWD_TYPE);
	d.qw0 = 0x205;                                     /* type[4] set: 0x15 */
	EXPECT_EQ(qi_desc_type(&d), 0x15);
	EXPECT(vtd_qi_format(0x15) == NULL);
	EXPECT_STR(qi_type_name(0x15), "unknown");
	d.qw0 = 0xe0f;
	EXPECT_EQ(qi_desc_type(&d), 0x7f);
	d.qw0 = ~0ull & ~0xe0full;
	EXPECT_EQ(qi_desc_type(&d), 0);
	EXPECT_EQ(QI_CC_TYPE, 1);
	EXPECT_EQ(QI_IOTLB_TYPE, 2);
	EXPECT_EQ(QI_DIOTLB_TYPE, 3);
	EXPECT_EQ(QI_IEC_TYPE, 4);
	EXPECT_EQ(QI_IWD_TYPE, 5);
	EXPECT_EQ(QI_EIOTLB_TYPE, 6);
	EXPECT_EQ(QI_PC_TYPE, 7);
	EXPECT_EQ(QI_DEIOTLB_TYPE, 8);
	EXPECT_EQ(QI_PGRP_RESP_TYPE, 9);
	EXPECT_EQ(QI_PSTRM_RESP_TYPE, 0xa);
	EXPECT(vtd_qi_format(0) == NULL);
	EXPECT_STR(qi_type_name(0), "unknown");
	/* every defined type has a format of two qwords and its own name */
	for (unsigned t = 1; t <= 9; t++) {
		const struct vtd_format *f = vtd_qi_format(t);
		EXPECT_MSG(f && f->nqwords == 2, "type %u", t);
		EXPECT_MSG(strcmp(qi_type_name(t), "unknown"), "type %u has no name", t);
		for (unsigned u = 1; u < t; u++)
			EXPECT_MSG(strcmp(qi_type_name(t), qi_type_name(u)),
				   "types %u and %u share a name", u, t);
		/* TYPE field of the format holds t */
		if (f) {
			const struct vtd_field *tf = vtd_format_field(f, "TYPE");
			uint64_t q[2] = { t, 0 };
			EXPECT_MSG(tf && vtd_field_get(q, tf) == t, "type %u TYPE field", t);
		}
	}
	EXPECT_STR(qi_type_name(QI_IWD_TYPE), "wait");
}

/* Descriptors as Linux builds them (qi_flush_context, qi_flush_iotlb,
 * qi_flush_dev_iotlb, qi_flush_iec, qi_submit_sync's wait, qi_flush_piotlb,
 * qi_flush_pasid_cache, qi_flush_dev_iotlb_pasid), decoded by hand. */
TEST(qi_linux_descriptors)
{
	/* context cache, device-selective (GRAN 3), SID 00:02.0, DID 5 */
	struct vtd_qi_desc cc = { (0x10ull << 32) | (5 << 16) | (3 << 4) | 1, 0, 0, 0 };
	EXPECT_EQ(qi_desc_type(&cc), QI_CC_TYPE);
	EXPECT_EQ(qi_cc_gran(&cc), 3);
	EXPECT_EQ(qi_cc_did(&cc), 5);
	EXPECT_EQ(qi_cc_sid(&cc), 0x10);
	EXPECT_EQ(qi_cc_fm(&cc), 0);
	EXPECT_EQ(vtd_format_check(vtd_qi_format(1), &cc.qw0, 39, 0, NULL), 0);
	/* IOTLB page-selective (GRAN 3), DR DW, DID 2; 0xfffff000, AM 0 */
	struct vtd_qi_desc io = { 0x200f2, 0xfffff000, 0, 0 };
	EXPECT_EQ(qi_desc_type(&io), QI_IOTLB_TYPE);
	EXPECT_EQ(qi_iotlb_gran(&io), 3);
	EXPECT_EQ(qi_iotlb_dr(&io), 1);
	EXPECT_EQ(qi_iotlb_dw(&io), 1);
	EXPECT_EQ(qi_iotlb_did(&io), 2);
	EXPECT_EQ(qi_iotlb_addr(&io), 0xfffff000);
	EXPECT_EQ(qi_iotlb_am(&io), 0);
	EXPECT_EQ(qi_iotlb_ih(&io), 0);
	io.qw1 = 0xff000000 | 0x40 | 12;                    /* IH, AM 12 */
	EXPECT_EQ(qi_iotlb_ih(&io), 1);
	EXPECT_EQ(qi_iotlb_am(&io), 12);
	EXPECT_EQ(qi_iotlb_addr(&io), 0xff000000);
	/* device TLB: PFSID 0xabcd, QDEP 0x10, SID 0x0010; one page at 0x5000 */
	struct vtd_qi_desc dt = { (0xabcull << 52) | (0x10ull << 32) | (0x10 << 16) | (0xd << 12) | 3,
				  0x5000, 0, 0 };
	EXPECT_EQ(qi_desc_type(&dt), QI_DIOTLB_TYPE);
	EXPECT_EQ(qi_dev_iotlb_pfsid(&dt), 0xabcd);
	EXPECT_EQ(qi_dev_iotlb_qdep(&dt), 0x10);
	EXPECT_EQ(qi_dev_iotlb_sid(&dt), 0x10);
	EXPECT_EQ(qi_dev_iotlb_size(&dt), 0);
	EXPECT_EQ(qi_dev_iotlb_addr(&dt), 0x5000);
	EXPECT_EQ(vtd_format_check(vtd_qi_format(3), &dt.qw0, 39, 0, NULL), 0);
	/* IEC index-selective, index 0x21, mask 0; and global */
	struct vtd_qi_desc iec = { (0x21ull << 32) | (1 << 4) | 4, 0, 0, 0 };
	EXPECT_EQ(qi_desc_type(&iec), QI_IEC_TYPE);
	EXPECT_EQ(qi_iec_g(&iec), 1);
	EXPECT_EQ(qi_iec_iidx(&iec), 0x21);
	EXPECT_EQ(qi_iec_im(&iec), 0);
	iec.qw0 = (0x1full << 27) | 4;
	EXPECT_EQ(qi_iec_im(&iec), 0x1f);
	EXPECT_EQ(qi_iec_g(&iec), 0);
	/* wait: status data QI_DONE (2), SW; status address &desc_status[3] */
	struct vtd_qi_desc w = { (2ull << 32) | 0x20 | 5, 0x3f00100c, 0, 0 };
	EXPECT_EQ(qi_desc_type(&w), QI_IWD_TYPE);
	EXPECT_EQ(qi_iwd_sw(&w), 1);
	EXPECT_EQ(qi_iwd_if(&w), 0);
	EXPECT_EQ(qi_iwd_fn(&w), 0);
	EXPECT_EQ(qi_iwd_pd(&w), 0);
	EXPECT_EQ(qi_iwd_status_data(&w), QI_DONE);
	EXPECT_EQ(qi_iwd_status_addr(&w), 0x3f00100c);
	EXPECT_EQ(vtd_format_check(vtd_qi_format(5), &w.qw0, 39, 0, NULL), 0);
	w.qw0 |= 0xd0;                                      /* IF, FN, PD */
	EXPECT_EQ(qi_iwd_if(&w) + qi_iwd_fn(&w) + qi_iwd_pd(&w), 3);
	/* PASID IOTLB, PSI-with-PASID (3), DID 2, PASID 0x12345; addr, IH, AM 9 */
	struct vtd_qi_desc pi = { (0x12345ull << 32) | (2 << 16) | (3 << 4) | 6,
				  0x7f0000200000ull | 0x40 | 9, 0, 0 };
	EXPECT_EQ(qi_desc_type(&pi), QI_EIOTLB_TYPE);
	EXPECT_EQ(qi_eiotlb_gran(&pi), 3);
	EXPECT_EQ(qi_eiotlb_did(&pi), 2);
	EXPECT_EQ(qi_eiotlb_pasid(&pi), 0x12345);
	EXPECT_EQ(qi_eiotlb_ih(&pi), 1);
	EXPECT_EQ(qi_eiotlb_am(&pi), 9);
	EXPECT_EQ(qi_eiotlb_addr(&pi), 0x7f0000200000ull);
	/* PASID cache, PASID-selective (1), DID 1, PASID 0xfffff */
	struct vtd_qi_desc pc = { (0xfffffull << 32) | (1 << 16) | (1 << 4) | 7, 0, 0, 0 };
	EXPECT_EQ(qi_desc_type(&pc), QI_PC_TYPE);
	EXPECT_EQ(qi_pc_gran(&pc), 1);
	EXPECT_EQ(qi_pc_did(&pc), 1);
	EXPECT_EQ(qi_pc_pasid(&pc), 0xfffff);
	EXPECT_EQ(vtd_format_check(vtd_qi_format(7), &pc.qw0, 39, 0, NULL), 0);
	/* PASID device TLB: PASID 7, SID 0x0100, QDEP 0x1f, PFSID 0x0100;
	 * global, sized, at 0x10000000 */
	struct vtd_qi_desc pd = { (7ull << 32) | (0x0100ull << 16) | (0x1f << 4) | (0x010ull << 52) | 8,
				  0x10000000 | 0x800 | 1, 0, 0 };
	EXPECT_EQ(qi_desc_type(&pd), QI_DEIOTLB_TYPE);
	EXPECT_EQ(qi_deiotlb_pasid(&pd), 7);
	EXPECT_EQ(qi_deiotlb_sid(&pd), 0x100);
	EXPECT_EQ(qi_deiotlb_qdep(&pd), 0x1f);
	EXPECT_EQ(qi_deiotlb_pfsid(&pd), 0x100);
	EXPECT_EQ(qi_deiotlb_glob(&pd), 1);
	EXPECT_EQ(qi_deiotlb_size(&pd), 1);
	EXPECT_EQ(qi_deiotlb_addr(&pd), 0x10000000);
	/* page-group response: PP, RC 0 success, RID 0x0100, PASID 3; LPIG, PRGI 0x1ff */
	struct vtd_qi_desc pg = { (3ull << 32) | (0x100 << 16) | (1 << 4) | 9,
				  (0x1ffull << 3) | 4, 0, 0 };
	EXPECT_EQ(qi_desc_type(&pg), QI_PGRP_RESP_TYPE);
	EXPECT_EQ(qi_pgrp_pasid_p(&pg), 1);
	EXPECT_EQ(qi_pgrp_resp_code(&pg), 0);
	EXPECT_EQ(qi_pgrp_rid(&pg), 0x100);
	EXPECT_EQ(qi_pgrp_pasid(&pg), 3);
	EXPECT_EQ(qi_pgrp_lpig(&pg), 1);
	EXPECT_EQ(qi_pgrp_idx(&pg), 0x1ff);
	EXPECT_EQ(vtd_format_check(vtd_qi_format(9), &pg.qw0, 39, 0, NULL), 0);
}

/* Linux's page response sets PDP (bit 5) when the request carried private
 * data (QI_PGRP_PDP(p) = p << 5): that descriptor is not malformed. */
TEST(qi_pgrp_pdp_not_reserved)
{
	uint64_t q[2] = { (3ull << 32) | (0x100 << 16) | (1 << 5) | (1 << 4) | 9, 4 };
	struct vtd_rsvd r;
	memset(&r, 0, sizeof(r));
	EXPECT_MSG(vtd_format_check(vtd_qi_format(9), q, 39, 0, &r) == 0,
		   "PDP reported as %s(%u:%u) bits 0x%" PRIx64, r.field, r.hi, r.lo, r.bits);
}

/* The ADDR of IOTLB, device-TLB and PASID-based invalidations is an input
 * (DMA/IOVA or device) address, not a host physical address: the host
 * address width does not bound it.  Linux flushes a whole device TLB with
 * ADDR = 0x7ffffffffffff000 and S=1 (qi_flush_dev_iotlb(..., mask=52):
 * addr |= (1 << 63) - 1), and the PASID form with size order 52 the same. */
TEST(qi_input_addresses_not_haw_bound)
{
	struct c { const char *what; unsigned type; uint64_t q[2]; };
	const struct c c[] = {
		{ "device-TLB, all (Linux flush_iotlb_all)", 3,
		  { (0x10ull << 32) | (0x10 << 16) | 3, 0x7ffffffffffff001ull } },
		{ "PASID device-TLB, all", 8,
		  { (0x10ull << 16) | 8, 0x7ffffffffffff800ull } },
		{ "IOTLB, IOVA bit 47 (48-bit domain)", 2,
		  { (2 << 16) | (3 << 4) | 2, 0x0000800000000000ull } },
		{ "PASID IOTLB, IOVA bit 56 (5-level FL)", 6,
		  { (2 << 16) | (3 << 4) | 6, 0x0100000000000000ull } },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		check_begin("QI %u %s: clean at HAW 39", c[i].type, c[i].what);
		struct vtd_rsvd r;
		memset(&r, 0, sizeof(r));
		unsigned n = vtd_format_check(vtd_qi_format(c[i].type), c[i].q, 39, 0, &r);
		EXPECT_MSG(n == 0, "%u violations: %s(%u:%u) bits 0x%" PRIx64 " (%s)", n,
			   r.field ? r.field : "?", r.hi, r.lo, r.bits, r.why);
		check_end();
	}
}

/* The wait descriptor's status address is a host address: HAW applies;
 * bits 1:0 (65:64) are reserved. */
TEST(qi_wait_status_address)
{
	uint64_t q[2] = { (2ull << 32) | 0x20 | 5, 0x0000200000000008ull };   /* bit 45 */
	EXPECT_EQ(vtd_format_check(vtd_qi_format(5), q, 48, 0, NULL), 0);
	expect_violation(vtd_qi_format(5), q, 39, 0, "SADDR", 64 + 45, 64 + 45, "39");
	q[1] = 0x1002;
	expect_violation(vtd_qi_format(5), q, 48, 0, "RSVD", 65, 65, "reserved");
	struct vtd_qi_desc d = { q[0], 0x1003, 0, 0 };
	EXPECT_EQ(qi_iwd_status_addr(&d), 0x1000);
	char buf[256];
	q[1] = 0x3f00100c;
	vtd_format_describe(vtd_qi_format(5), q, buf, sizeof(buf));
	EXPECT_MSG(has_token(buf, "SW=1") && has_token(buf, "SDATA=0x2") &&
		   has_token(buf, "SADDR=0x3f00100c") && has_token(buf, "TYPE=0x5"), "\"%s\"", buf);
}

/* ---- the IR table and the queue read through a small memory image ---- */
struct img { uint64_t base; uint8_t b[0x4000]; };

static int img_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t wl)
{
	struct img *m = ctx;
	if (pa < m->base || pa - m->base + len > sizeof(m->b)) {
		snprintf(why, wl, "outside the image");
		return -1;
	}
	memcpy(buf, m->b + (pa - m->base), len);
	return 0;
}

static void img_put64(struct img *m, uint64_t pa, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		m->b[pa - m->base + i] = (uint8_t)(v >> (8 * i));
}

static void img_put32(struct img *m, uint64_t pa, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m->b[pa - m->base + i] = (uint8_t)(v >> (8 * i));
}

struct seen { unsigned n; uint32_t idx[8]; struct vtd_irte e[8]; unsigned errs; };

static int irte_cb(void *arg, uint32_t index, const struct vtd_irte *irte,
		   const struct vtd_error *err)
{
	struct seen *s = arg;
	if (err) {
		s->errs++;
		return 0;
	}
	if (s->n < 8) {
		s->idx[s->n] = index;
		s->e[s->n] = *irte;
	}
	s->n++;
	return 0;
}

TEST(irte_table_read)
{
	static struct img m = { .base = 0x100000 };
	struct vtd_mem mem = { img_read, &m };
	const uint64_t irta = 0x100000 | 0x800 | 7;          /* 256 entries, EIME */
	img_put64(&m, 0x100000 + 16 * 3, (7ull << 32) | (0x41 << 16) | 1);
	img_put64(&m, 0x100000 + 16 * 3 + 8, (1 << 18) | 0xf8);
	img_put64(&m, 0x100000 + 16 * 255, 0x8001);           /* posted, last */
	img_put64(&m, 0x100000 + 16 * 9, 0x30 << 16);         /* not present */
	struct vtd_irte e;
	struct vtd_error err;
	EXPECT_EQ(vtd_irte_get(&mem, "dmar0", irta, 3, &e, &err), 0);
	EXPECT_EQ(irte_dest_id(&e, irta_eime(irta)), 7);
	EXPECT_EQ(irte_sid(&e), 0xf8);
	EXPECT(vtd_irte_get(&mem, "dmar0", irta, 256, &e, &err) != 0);
	EXPECT_EQ(err.code, VTD_E_ARG);
	struct seen s = { 0 };
	EXPECT_EQ(vtd_irte_iter(&mem, "dmar0", irta, irte_cb, &s), 0);
	EXPECT_EQ(s.n, 2);
	EXPECT_EQ(s.errs, 0);
	EXPECT_EQ(s.idx[0], 3);
	EXPECT_EQ(s.idx[1], 255);
	EXPECT_EQ(irte_im(&s.e[1]), 1);
}

struct qseen { unsigned n; struct vtd_qi_slot s[8]; };

static int qi_cb(void *arg, const struct vtd_qi_slot *slot, const struct vtd_error *err)
{
	struct qseen *q = arg;
	if (!err && q->n < 8)
		q->s[q->n++] = *slot;
	return 0;
}

TEST(qi_queue_read)
{
	static struct img m = { .base = 0x200000 };
	struct vtd_mem mem = { img_read, &m };
	/* legacy queue: one page, 256 x 16 bytes; status array at 0x201000 */
	struct vtd_qi qi = { .iqa = 0x200000, .status_pa = 0x201000, .free_head = -1, .free_tail = -1 };
	img_put64(&m, 0x200000 + 16 * 4, (2ull << 16) | (2 << 4) | 2);     /* IOTLB DSI */
	img_put64(&m, 0x200000 + 16 * 5, (2ull << 32) | 0x20 | 5);         /* wait, SW */
	img_put64(&m, 0x200000 + 16 * 5 + 8, 0x201000 + 4 * 5);
	img_put32(&m, 0x201000 + 4 * 4, QI_DONE);
	img_put32(&m, 0x201000 + 4 * 5, QI_DONE);
	struct qseen q = { 0 };
	EXPECT_EQ(vtd_qi_iter(&mem, "dmar0", &qi, qi_cb, &q), 0);
	EXPECT_EQ(q.n, 2);
	EXPECT_EQ(q.s[0].index, 4);
	EXPECT_EQ(q.s[0].type, QI_IOTLB_TYPE);
	EXPECT_EQ(q.s[0].status, QI_DONE);
	EXPECT_EQ(q.s[0].has_wait_status, 0);
	EXPECT_EQ(q.s[1].index, 5);
	EXPECT_EQ(q.s[1].type, QI_IWD_TYPE);
	EXPECT_EQ(q.s[1].has_wait_status, 1);
	EXPECT_EQ(q.s[1].wait_status, QI_DONE);
	EXPECT_EQ(q.s[1].wait_done, 1);
	/* scalable queue: 32-byte slots, 2 pages: slot 130 at 0x201040 */
	static struct img m2 = { .base = 0x200000 };
	struct vtd_mem mem2 = { img_read, &m2 };
	struct vtd_qi qs = { .iqa = 0x200000 | 0x800 | 1, .status_pa = VTD_NOADDR };
	img_put64(&m2, 0x200000 + 32 * 130, (3ull << 32) | (1 << 4) | 7);
	img_put64(&m2, 0x200000 + 32 * 130 + 24, 0);
	struct qseen q2 = { 0 };
	EXPECT_EQ(vtd_qi_iter(&mem2, "dmar1", &qs, qi_cb, &q2), 0);
	EXPECT_EQ(q2.n, 1);
	EXPECT_EQ(q2.s[0].index, 130);
	EXPECT_EQ(q2.s[0].type, QI_PC_TYPE);
	EXPECT_EQ(q2.s[0].status, -1);
}
