/* Fuzz target: every VT-d decoder and walker over memory made of the input.
 * Input: 64 bytes of unit and request (mode, CAP, ECAP, IRTA, IQA, SID,
 * PASID, IOVA), then pages. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_mem.h"
#include "vtd/irq.h"
#include "vtd/qi.h"
#include "vtd/regs.h"
#include "vtd/scan.h"
#include "vtd/tables.h"
#include "vtd/walk.h"

static int count;

static int on_dev(void *a, const struct vtd_devctx *dc) { (void)a, (void)dc; return ++count > 100000; }
static int on_map(void *a, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{ (void)a, (void)dc, (void)m; return ++count > 100000; }
static int on_diag(void *a, const struct vtd_error *e)
{
	char b[800];
	(void)a;
	vtd_error_str(e, b, sizeof(b));
	return ++count > 100000;
}
static int on_table(void *a, const struct vtd_table_ref *t) { (void)a, (void)t; return 0; }
static int on_hit(void *a, const struct vtd_rmap_hit *h) { (void)a, (void)h; return ++count > 100000; }
static int on_irte(void *a, uint32_t i, const struct vtd_irte *irte, const struct vtd_error *e)
{
	char b[600];
	(void)a, (void)i;
	if (irte)
		vtd_format_describe(vtd_irte_format(irte), (const uint64_t *)irte, b, sizeof(b));
	if (e)
		vtd_error_str(e, b, sizeof(b));
	return ++count > 100000;
}
static int on_qi(void *a, const struct vtd_qi_slot *s, const struct vtd_error *e)
{ (void)a, (void)s, (void)e; return ++count > 100000; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 64 + 4096)
		return 0;
	const uint8_t *h = data;
	struct fmem fm = { data + 64, (size - 64) / 4096 };
	struct vtd_mem mem = { fmem_read, &fm };
	struct vtd_unit u;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "fuzz0");
	u.cap = get64(h + 8);
	u.ecap = get64(h + 16);
	u.rtaddr = (get64(h) & ~0xfffull) | ((h[0] & 1) ? (uint64_t)VTD_TTM_SCALABLE << 10 : 0);
	u.irta = get64(h + 24) & ~0xff0ull;
	u.qi.iqa = get64(h + 32);
	u.qi.status_pa = (h[1] & 1) ? VTD_NOADDR : get64(h + 40) & 0xffffffull;
	u.qi.free_head = u.qi.free_tail = -1;
	uint16_t sid = (uint16_t)(h[48] | h[49] << 8);
	int64_t pasid = (h[50] & 1) ? VTD_NO_PASID : (int64_t)(get64(h + 48) >> 20 & 0xfffff);
	uint64_t iova = get64(h + 56);

	/* decoders over the first page */
	const uint64_t *q = (const uint64_t *)(data + 64);
	const struct vtd_format *fmts[] = {
		&vtd_fmt_root_legacy, &vtd_fmt_root_sm, &vtd_fmt_context_legacy, &vtd_fmt_context_sm,
		&vtd_fmt_pasid_dir_entry, &vtd_fmt_pasid_entry, &vtd_fmt_irte_remapped, &vtd_fmt_irte_posted,
	};
	char b[2048];
	struct vtd_rsvd r;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		vtd_format_check(fmts[i], q, h[2] % 65, h[3], &r);
		vtd_format_describe(fmts[i], q, b, sizeof(b));
	}
	for (unsigned lv = 1; lv <= 5; lv++)
		for (int leaf = 0; leaf < 2; leaf++) {
			vtd_format_check(vtd_fmt_sl_pte(lv, leaf), q + lv, 48, 0xff, &r);
			vtd_format_check(vtd_fmt_fl_pte(lv, leaf), q + lv, 48, 0xff, &r);
		}
	for (unsigned t = 0; t < 16; t++)
		if (vtd_qi_format(t))
			vtd_format_describe(vtd_qi_format(t), q, b, sizeof(b));

	/* walkers */
	struct vtd_walk_ops ops = { on_dev, on_map, on_diag, NULL, on_table };
	count = 0;
	vtd_unit_walk(&mem, &u, true, &ops);
	struct vtd_request rq = { sid, pasid, iova, 1u + (h[51] & 1) };
	static struct vtd_translation tr;
	vtd_translate(&mem, &u, &rq, &tr);
	struct vtd_devctx dc;
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_devctx_get(&mem, &u, sid, pasid, &dc, &e) == 0) {
		count = 0;
		vtd_map_walk(&mem, &u, &dc, &ops);
	}
	count = 0;
	vtd_rmap(&mem, &u, 1, get64(h + 40) & 0xffffff000ull, 1u << 16, on_hit, on_diag, NULL);
	count = 0;
	vtd_irte_iter(&mem, u.name, u.irta, on_irte, NULL);
	count = 0;
	vtd_qi_iter(&mem, u.name, &u.qi, on_qi, NULL);
	struct vtd_scan_result sr;
	vtd_error_init(&e);
	if (vtd_scan(&mem, fm.npages * 2, NULL, NULL, &sr, &e) == 0)
		vtd_scan_result_free(&sr);
	return 0;
}
