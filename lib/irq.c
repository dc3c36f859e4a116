/* Interrupt-remapping table entries and the IR table (spec §9.9, §9.10). */
#include "vtd/irq.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct vtd_field irte_remapped_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "DM", 2, 2, VTD_F_FLAG, 0, 0 }, { "RH", 3, 3, VTD_F_FLAG, 0, 0 },
	{ "TM", 4, 4, VTD_F_FLAG, 0, 0 }, { "DLM", 5, 7, VTD_F_VAL, 0, 0 },
	{ "AVAIL", 8, 11, VTD_F_VAL, 0, 0 }, { "RSVD", 12, 14, VTD_F_RSVD, 0, 0 },
	{ "IM", 15, 15, VTD_F_FLAG, 0, 0 }, { "V", 16, 23, VTD_F_VAL, 0, 0 },
	/* xAPIC (EIME=0): only DST bits 47:40 are the destination */
	{ "RSVD", 24, 31, VTD_F_RSVD, 0, 0 }, { "DST", 32, 63, VTD_F_VAL, VTD_C_EIM, 0xffff00ffull },
	{ "SID", 64, 79, VTD_F_VAL, 0, 0 }, { "SQ", 80, 81, VTD_F_VAL, 0, 0 },
	{ "SVT", 82, 83, VTD_F_VAL, 0, 0 }, { "RSVD", 84, 127, VTD_F_RSVD, 0, 0 },
};
FORMAT(vtd_fmt_irte_remapped, "remapped IRTE", 2, irte_remapped_f);

static const struct vtd_field irte_posted_f[] = {
	{ "P", 0, 0, VTD_F_FLAG, 0, 0 }, { "FPD", 1, 1, VTD_F_FLAG, 0, 0 },
	{ "RSVD", 2, 7, VTD_F_RSVD, 0, 0 }, { "AVAIL", 8, 11, VTD_F_VAL, 0, 0 },
	{ "RSVD", 12, 13, VTD_F_RSVD, 0, 0 }, { "URG", 14, 14, VTD_F_FLAG, 0, 0 },
	{ "IM", 15, 15, VTD_F_FLAG, 0, 0 }, { "VV", 16, 23, VTD_F_VAL, 0, 0 },
	{ "RSVD", 24, 37, VTD_F_RSVD, 0, 0 }, { "PDAL", 38, 63, VTD_F_VAL, 0, 0 },
	{ "SID", 64, 79, VTD_F_VAL, 0, 0 }, { "SQ", 80, 81, VTD_F_VAL, 0, 0 },
	{ "SVT", 82, 83, VTD_F_VAL, 0, 0 }, { "RSVD", 84, 95, VTD_F_RSVD, 0, 0 },
	{ "PDAH", 96, 127, VTD_F_VAL, 0, 0 },
};
FORMAT(vtd_fmt_irte_posted, "posted IRTE", 2, irte_posted_f);

const struct vtd_format *vtd_irte_format(const struct vtd_irte *i)
{
	return irte_im(i) ? &vtd_fmt_irte_posted : &vtd_fmt_irte_remapped;
}

static void irte_err(struct vtd_error *err, const char *unit, uint64_t table, int index)
{
	vtd_error_init(err);
	snprintf(err->unit, sizeof(err->unit), "%s", unit ? unit : "");
	err->table = table;
	err->index = index;
}

int vtd_irte_get(const struct vtd_mem *mem, const char *unit, uint64_t irta,
		 uint32_t index, struct vtd_irte *out, struct vtd_error *err)
{
	uint64_t base = irta_irta(irta), q[2];
	irte_err(err, unit, base, (int)index);
	if (index >= irta_entries(irta))
		return vtd_error_set(err, VTD_E_ARG, "IRTE index %" PRIu32
				     " beyond the table's %" PRIu64 " entries (IRTA.S=%u)",
				     index, irta_entries(irta), irta_s(irta));
	int rc = vtd_mem_read_qwords(mem, base + 16ull * index, q, 2, err);
	if (rc)
		return rc;
	out->low = q[0];
	out->high = q[1];
	return 0;
}

int vtd_irte_iter(const struct vtd_mem *mem, const char *unit, uint64_t irta,
		  vtd_irte_cb cb, void *arg)
{
	uint64_t base = irta_irta(irta), n = irta_entries(irta);
	uint64_t page[512];
	struct vtd_error err;
	/* 256 entries a page; read page by page so one excluded page does not
	 * hide the rest. */
	for (uint64_t first = 0; first < n; first += 256) {
		uint64_t cnt = n - first < 256 ? n - first : 256;
		irte_err(&err, unit, base, (int)first);
		if (vtd_mem_read_qwords(mem, base + first * 16, page, (unsigned)cnt * 2, &err)) {
			int rc = cb(arg, (uint32_t)first, NULL, &err);
			if (rc)
				return rc;
			continue;
		}
		for (uint64_t i = 0; i < cnt; i++) {
			struct vtd_irte e = { page[2 * i], page[2 * i + 1] };
			if (!irte_present(&e))
				continue;
			int rc = cb(arg, (uint32_t)(first + i), &e, NULL);
			if (rc)
				return rc;
		}
	}
	return 0;
}
