/* Invalidation-queue descriptors and the queue (spec §6.5.2). */
#include "vtd/qi.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *qi_type_name(unsigned type)
{
	switch (type) {
	case QI_CC_TYPE: return "cc";
	case QI_IOTLB_TYPE: return "iotlb";
	case QI_DIOTLB_TYPE: return "dev-iotlb";
	case QI_IEC_TYPE: return "iec";
	case QI_IWD_TYPE: return "wait";
	case QI_EIOTLB_TYPE: return "p-iotlb";
	case QI_PC_TYPE: return "pasid-cache";
	case QI_DEIOTLB_TYPE: return "p-dev-iotlb";
	case QI_PGRP_RESP_TYPE: return "pgrp-resp";
	case QI_PSTRM_RESP_TYPE: return "pstrm-resp";
	}
	return "unknown";
}

#define TYPE_FIELDS { "TYPE", 0, 3, VTD_F_VAL, 0, 0 }, { "TYPEH", 9, 11, VTD_F_VAL, 0, 0 }

static const struct vtd_field cc_f[] = {
	TYPE_FIELDS, { "G", 4, 5, VTD_F_VAL, 0, 0 }, { "RSVD", 6, 8, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 12, 15, VTD_F_RSVD, 0, 0 }, { "DID", 16, 31, VTD_F_VAL, 0, 0 },
	{ "SID", 32, 47, VTD_F_VAL, 0, 0 }, { "FM", 48, 49, VTD_F_VAL, 0, 0 },
	{ "RSVD", 50, 63, VTD_F_RSVD, 0, 0 }, { "RSVD", 64, 127, VTD_F_RSVD, 0, 0 },
};
static FORMAT(cc_fmt, "context-cache invalidate", 2, cc_f);

static const struct vtd_field iotlb_f[] = {
	TYPE_FIELDS, { "G", 4, 5, VTD_F_VAL, 0, 0 }, { "DW", 6, 6, VTD_F_FLAG, 0, 0 },
	{ "DR", 7, 7, VTD_F_FLAG, 0, 0 }, { "RSVD", 8, 8, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 12, 15, VTD_F_RSVD, 0, 0 }, { "DID", 16, 31, VTD_F_VAL, 0, 0 },
	{ "RSVD", 32, 63, VTD_F_RSVD, 0, 0 }, { "AM", 64, 69, VTD_F_VAL, 0, 0 },
	{ "IH", 70, 70, VTD_F_FLAG, 0, 0 }, { "RSVD", 71, 75, VTD_F_RSVD, 0, 0 },
	{ "ADDR", 76, 127, VTD_F_IOVA, 0, 0 },
};
static FORMAT(iotlb_fmt, "IOTLB invalidate", 2, iotlb_f);

static const struct vtd_field diotlb_f[] = {
	TYPE_FIELDS, { "RSVD", 4, 8, VTD_F_RSVD, 0, 0 }, { "PFSIDL", 12, 15, VTD_F_VAL, 0, 0 },
	{ "QDEP", 16, 20, VTD_F_VAL, 0, 0 }, { "RSVD", 21, 31, VTD_F_RSVD, 0, 0 },
	{ "SID", 32, 47, VTD_F_VAL, 0, 0 }, { "RSVD", 48, 51, VTD_F_RSVD, 0, 0 },
	{ "PFSIDH", 52, 63, VTD_F_VAL, 0, 0 }, { "S", 64, 64, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 65, 75, VTD_F_RSVD, 0, 0 }, { "ADDR", 76, 127, VTD_F_IOVA, 0, 0 },
};
static FORMAT(diotlb_fmt, "device-TLB invalidate", 2, diotlb_f);

static const struct vtd_field iec_f[] = {
	TYPE_FIELDS, { "G", 4, 4, VTD_F_FLAG, 0, 0 }, { "RSVD", 5, 8, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 12, 26, VTD_F_RSVD, 0, 0 }, { "IM", 27, 31, VTD_F_VAL, 0, 0 },
	{ "IIDX", 32, 47, VTD_F_VAL, 0, 0 }, { "RSVD", 48, 63, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 64, 127, VTD_F_RSVD, 0, 0 },
};
static FORMAT(iec_fmt, "interrupt-entry-cache invalidate", 2, iec_f);

static const struct vtd_field iwd_f[] = {
	TYPE_FIELDS, { "IF", 4, 4, VTD_F_FLAG, 0, 0 }, { "SW", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "FN", 6, 6, VTD_F_FLAG, 0, 0 }, { "PD", 7, 7, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 8, 8, VTD_F_RSVD, 0, 0 }, { "RSVD", 12, 31, VTD_F_RSVD, 0, 0 },
	{ "SDATA", 32, 63, VTD_F_VAL, 0, 0 }, { "RSVD", 64, 65, VTD_F_RSVD, 0, 0 },
	{ "SADDR", 66, 127, VTD_F_ADDR, 0, 0 },
};
static FORMAT(iwd_fmt, "invalidation wait", 2, iwd_f);

static const struct vtd_field eiotlb_f[] = {
	TYPE_FIELDS, { "G", 4, 5, VTD_F_VAL, 0, 0 }, { "RSVD", 6, 8, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 12, 15, VTD_F_RSVD, 0, 0 }, { "DID", 16, 31, VTD_F_VAL, 0, 0 },
	{ "PASID", 32, 51, VTD_F_VAL, 0, 0 }, { "RSVD", 52, 63, VTD_F_RSVD, 0, 0 },
	{ "AM", 64, 69, VTD_F_VAL, 0, 0 }, { "IH", 70, 70, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 71, 75, VTD_F_RSVD, 0, 0 }, { "ADDR", 76, 127, VTD_F_IOVA, 0, 0 },
};
static FORMAT(eiotlb_fmt, "PASID-based IOTLB invalidate", 2, eiotlb_f);

static const struct vtd_field pc_f[] = {
	TYPE_FIELDS, { "G", 4, 5, VTD_F_VAL, 0, 0 }, { "RSVD", 6, 8, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 12, 15, VTD_F_RSVD, 0, 0 }, { "DID", 16, 31, VTD_F_VAL, 0, 0 },
	{ "PASID", 32, 51, VTD_F_VAL, 0, 0 }, { "RSVD", 52, 63, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 64, 127, VTD_F_RSVD, 0, 0 },
};
static FORMAT(pc_fmt, "PASID-cache invalidate", 2, pc_f);

static const struct vtd_field deiotlb_f[] = {
	TYPE_FIELDS, { "QDEP", 4, 8, VTD_F_VAL, 0, 0 }, { "PFSIDL", 12, 15, VTD_F_VAL, 0, 0 },
	{ "SID", 16, 31, VTD_F_VAL, 0, 0 }, { "PASID", 32, 51, VTD_F_VAL, 0, 0 },
	{ "PFSIDH", 52, 63, VTD_F_VAL, 0, 0 }, { "G", 64, 64, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 65, 74, VTD_F_RSVD, 0, 0 }, { "S", 75, 75, VTD_F_FLAG, 0, 0 },
	{ "ADDR", 76, 127, VTD_F_IOVA, 0, 0 },
};
static FORMAT(deiotlb_fmt, "PASID-based device-TLB invalidate", 2, deiotlb_f);

static const struct vtd_field pgrp_f[] = {
	TYPE_FIELDS, { "PP", 4, 4, VTD_F_FLAG, 0, 0 }, { "PDP", 5, 5, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 6, 8, VTD_F_RSVD, 0, 0 },
	{ "RC", 12, 15, VTD_F_VAL, 0, 0 }, { "RID", 16, 31, VTD_F_VAL, 0, 0 },
	{ "PASID", 32, 51, VTD_F_VAL, 0, 0 }, { "RSVD", 52, 63, VTD_F_RSVD, 0, 0 },
	{ "RSVD", 64, 65, VTD_F_RSVD, 0, 0 }, { "LPIG", 66, 66, VTD_F_FLAG, 0, 0 },
	{ "PRGI", 67, 75, VTD_F_VAL, 0, 0 }, { "RSVD", 76, 127, VTD_F_RSVD, 0, 0 },
};
static FORMAT(pgrp_fmt, "page-group response", 2, pgrp_f);

const struct vtd_format *vtd_qi_format(unsigned type)
{
	switch (type) {
	case QI_CC_TYPE: return &cc_fmt;
	case QI_IOTLB_TYPE: return &iotlb_fmt;
	case QI_DIOTLB_TYPE: return &diotlb_fmt;
	case QI_IEC_TYPE: return &iec_fmt;
	case QI_IWD_TYPE: return &iwd_fmt;
	case QI_EIOTLB_TYPE: return &eiotlb_fmt;
	case QI_PC_TYPE: return &pc_fmt;
	case QI_DEIOTLB_TYPE: return &deiotlb_fmt;
	case QI_PGRP_RESP_TYPE: return &pgrp_fmt;
	}
	return NULL;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void qi_err(struct vtd_error *err, const char *unit, uint64_t table, int index)
{
	vtd_error_init(err);
	snprintf(err->unit, sizeof(err->unit), "%s", unit ? unit : "");
	err->table = table;
	err->index = index;
}

int vtd_qi_iter(const struct vtd_mem *mem, const char *unit, const struct vtd_qi *qi,
		vtd_qi_cb cb, void *arg)
{
	uint64_t base = iqa_iqa(qi->iqa);
	unsigned dsz = iqa_desc_size(qi->iqa), n = iqa_entries(qi->iqa);
	unsigned nq = dsz / 8;
	struct vtd_error err;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		struct vtd_qi_slot s = { .index = i, .status = -1 };
		uint64_t q[4] = { 0 };
		qi_err(&err, unit, base, (int)i);
		if (vtd_mem_read_qwords(mem, base + (uint64_t)i * dsz, q, nq, &err)) {
			/* one report per unreadable page, then skip the page */
			if ((rc = cb(arg, NULL, &err)))
				return rc;
			unsigned per = 4096 / dsz;
			i = (i / per + 1) * per - 1;
			continue;
		}
		if (!(q[0] | q[1] | q[2] | q[3]))
			continue;
		s.desc = (struct vtd_qi_desc){ q[0], q[1], q[2], q[3] };
		s.type = qi_desc_type(&s.desc);
		if (qi->status_pa != VTD_NOADDR && qi->status_pa) {
			uint8_t b[4];
			struct vtd_error e2;
			qi_err(&e2, unit, qi->status_pa, (int)i);
			if (vtd_mem_read(mem, qi->status_pa + 4ull * i, b, 4, &e2) == 0)
				s.status = (int)le32(b);
		}
		if (s.type == QI_IWD_TYPE && qi_iwd_sw(&s.desc)) {
			uint8_t b[4];
			struct vtd_error e2;
			qi_err(&e2, unit, qi_iwd_status_addr(&s.desc), (int)i);
			if (vtd_mem_read(mem, qi_iwd_status_addr(&s.desc), b, 4, &e2) == 0) {
				s.has_wait_status = true;
				s.wait_status = le32(b);
				s.wait_done = s.wait_status == qi_iwd_status_data(&s.desc);
			}
		}
		if ((rc = cb(arg, &s, NULL)))
			return rc;
	}
	return 0;
}
