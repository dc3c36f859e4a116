/* Memory access through the caller's callback (see mem.h). */
#include "vtd/mem.h"

#include <inttypes.h>
#include <string.h>

int vtd_mem_read(const struct vtd_mem *m, uint64_t pa, void *buf, size_t len,
		 struct vtd_error *err)
{
	char why[128] = "";
	if (!m || !m->read)
		return vtd_error_set(err, VTD_E_ARG, "no memory source");
	if (len && pa + len - 1 < pa)
		return vtd_error_set(err, VTD_E_READ, "cannot read 0x%" PRIx64 "+%zu: wraps", pa, len);
	if (m->read(m->ctx, pa, buf, len, why, sizeof(why)) == 0)
		return 0;
	return vtd_error_set(err, VTD_E_READ, "cannot read 0x%" PRIx64 "+%zu: %s",
			     pa, len, why[0] ? why : "read failed");
}

int vtd_mem_read_qwords(const struct vtd_mem *m, uint64_t pa, uint64_t *q,
			unsigned n, struct vtd_error *err)
{
	int rc = vtd_mem_read(m, pa, q, n * sizeof(*q), err);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = (const uint8_t *)&q[i];
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | b[k];
		q[i] = v;
	}
	return 0;
}
