/* Internal to the walkers: shared state and helpers. */
#ifndef LIB_WALK_INT_H
#define LIB_WALK_INT_H

#include "vtd/walk.h"

/* Per-walk state.  t, when set, collects the trace steps. */
struct wk {
	const struct vtd_mem *mem;
	const struct vtd_unit *u;
	unsigned haw, conds;
	bool sm;
	struct vtd_translation *t;
	struct vtd_error *err;
};

void wk_init(struct wk *w, const struct vtd_mem *mem, const struct vtd_unit *u,
	     struct vtd_translation *t, struct vtd_error *err);
/* Location fields of err for a request of sid/pasid on w's unit. */
void wk_locate(struct wk *w, int sid, int64_t pasid);

/* Record code + reason text + extra words; returns reason. */
unsigned wk_fault(struct wk *w, unsigned reason, enum vtd_errcode code,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Read n qwords of entry index of the table at table; on failure err holds
 * VTD_E_READ with the location (level may be -1). */
int wk_read_entry(struct wk *w, uint64_t table, unsigned index, unsigned n,
		  int level, uint64_t *q);

/* Decode a present legacy context entry / SM PASID entry into dc.
 * Returns 0 or the fault reason the hardware would report for it. */
unsigned wk_ctx_legacy(struct wk *w, const struct vtd_context_entry *ce,
		       uint16_t sid, struct vtd_devctx *dc);
unsigned wk_pasid_entry(struct wk *w, const struct vtd_pasid_entry *pe,
			uint16_t sid, int64_t pasid, struct vtd_devctx *dc);

/* Check an entry's reserved bits; on a violation fill err (VTD_E_RSVD,
 * naming the field) and return 1. */
int wk_rsvd(struct wk *w, const struct vtd_format *fmt, const uint64_t *q);

/* Translate a second-level address (nested: a GPA) through the SL tables
 * at root with levels.  Fills *pa, *ps (page size), *perm. */
unsigned wk_sl_lookup(struct wk *w, uint64_t root, unsigned levels, uint64_t addr,
		      unsigned access, uint64_t *pa, uint64_t *ps, unsigned *perm);

#endif
