/* Excluded pages put back into a flattened kdump stream as it passes
 * (makedumpfile -F to standard output; issue 10).
 *
 * The kdump file a flattened stream describes has its page_desc table at a
 * fixed place, indexed by the rank of a page frame in the second bitmap, and
 * the page data right after it.  Adding k pages grows the table by 24k bytes
 * over the head of the data.  Records may not overlap (crash would read them
 * inconsistently), so the records that will change are held back as they
 * pass: the second-bitmap records holding a needed page's bit, every
 * page_desc record (bounded) and the data records at the head of the data
 * area.  At the end marker they go out rewritten: the bits set, the table
 * with the new descriptors at their ranks, the head of the data moved after
 * the last byte of the file, then the added pages (raw), then the end
 * marker.  Every other record is forwarded at once, unchanged.  Anything
 * unexpected (a layout makedumpfile does not write, a bound exceeded, an
 * unreadable page) and the held records go out unchanged: the stream is
 * makedumpfile's. */
#ifndef CLI_FLATFIX_H
#define CLI_FLATFIX_H

#include <stddef.h>
#include <stdint.h>

#include "vtd/mem.h"

struct flatfix;

/* need: the page frames vtd needs (sorted, distinct); hold_bytes bounds
 * what is held back (the page_desc table above all).  NULL: no memory. */
struct flatfix *flatfix_new(const uint64_t *need, size_t n, uint64_t hold_bytes);
void flatfix_free(struct flatfix *f);

/* Bytes of makedumpfile's stream; what can go out is written to fd out.
 * 0, or -1 when out cannot be written (errno). */
int flatfix_feed(struct flatfix *f, const void *buf, size_t len, int out);

/* makedumpfile's stream ended (complete: it exited 0).  With complete and
 * an end marker seen: the repair, pages read from mem, then the end marker;
 * otherwise the held records as they were.  *added pages were put back (the
 * first at *first); *lost needed pages may still be missing (absent, or
 * their bits never seen) and why says why.  0, or -1 when out cannot be
 * written. */
int flatfix_finish(struct flatfix *f, int complete, int out, const struct vtd_mem *mem,
		   size_t *added, uint64_t *first, size_t *lost, char *why, size_t whylen);

#endif
