/* libvtd — the structural scan: find VT-d root tables by their own format,
 * for dumps without kernel information (no vmlinux, no BTF/kallsyms, or the
 * kernel structures excluded from the dump).
 *
 * A candidate is a page whose every root entry is either all zero or a
 * clean present entry (reserved bits zero, table inside the dump's RAM),
 * scored by following it: present entries must lead to context tables whose
 * entries are clean, and those to clean page tables (legacy) or PASID
 * directories and RID_PASID entries (scalable mode).
 */
#ifndef VTD_SCAN_H
#define VTD_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "mem.h"

struct vtd_scan_candidate {
	uint64_t pa;             /* the root table */
	bool scalable;
	unsigned roots;          /* present root entries (scalable: LP and UP halves) */
	unsigned contexts;       /* clean present context entries */
	unsigned next_ok;        /* ... whose page table / RID_PASID entry is clean and in use */
	unsigned bad;            /* present context entries with reserved bits, or unreadable tables */
	long score;
};

/* Root-table modes page could be, from its bytes alone (max_pa: one past the
 * highest physical address, 0 if unknown): bit 0 legacy, bit 1 scalable. */
unsigned vtd_scan_root_page(const uint64_t q[512], uint64_t max_pa);

/* Follow the candidate root table at pa in one mode and score it (c->score
 * > 0 for a plausible one). */
void vtd_scan_score(const struct vtd_mem *mem, uint64_t pa, bool scalable, uint64_t max_pa,
		    struct vtd_scan_candidate *c);

struct vtd_scan_result {
	struct vtd_scan_candidate *v;   /* best first */
	size_t n;
	uint64_t pages_read;            /* pages the dump has */
	uint64_t pages_missing;         /* pages it does not (excluded, holes) */
	uint64_t pages_tested;          /* pages that passed the byte test */
};

/* Scan page frames [0, max_pfn) of mem.  progress (may be NULL) is called
 * every 4096 pages with the frame reached.  Candidates with score > 0, best
 * first. */
int vtd_scan(const struct vtd_mem *mem, uint64_t max_pfn,
	     void (*progress)(void *arg, uint64_t pfn, uint64_t max_pfn), void *arg,
	     struct vtd_scan_result *r, struct vtd_error *err);
void vtd_scan_result_free(struct vtd_scan_result *r);

#endif
