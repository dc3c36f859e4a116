/* The vtd commands, implemented once for every front end (the offline CLI
 * and crash> vtd).  A front end fills struct vtd_cmdctx with a memory source
 * and either the located kernel state or raw units, and passes the words the
 * user typed after "vtd". */
#ifndef COMMANDS_COMMANDS_H
#define COMMANDS_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>
#include "vtd/kernel.h"
#include "vtd/marks.h"
#include "vtd/walk.h"

struct vtd_cmdctx {
	const struct vtd_mem *mem;     /* physical memory of the crashed kernel */
	struct vtd_kstate *ks;         /* located state, or NULL (raw --root mode) */
	const struct vtd_kinfo *ki;    /* kernel information (with ks), for the log */
	struct vtd_unit *units;        /* walkable units (from ks, or given raw) */
	size_t nunits;
	FILE *out, *err;
	bool json;
	const char *prog;              /* "vtd" for messages */
	/* The marks record the dump carries (design.md §5), or NULL: marks and
	 * who show it instead of recomputing. */
	const struct vtd_analysis *recorded;
	const char *recorded_from;     /* "note in DUMP", "sidecar DUMP.vtd" */
	/* restore: write a copy of the dump with a's restorations applied and
	 * its marks record attached; NULL where the front end cannot (crash).
	 * 0 with where ("note", "sidecar FILE") and out (the file), or -1 with a
	 * message in err. */
	int (*write_restored)(void *arg, const struct vtd_analysis *a, char *where, size_t wl,
			      char *err, size_t el);
	void *write_arg;
	const char *write_to;          /* the output file, for messages */
	uint64_t max_pfn;              /* the dump's extent, when the kernel's max_pfn
					* is not known (bounds the context-table search
					* and the scan) */
	/* The kernel's IOMMU state is not in the dump (why, in words), or NULL:
	 * check reports it as an error finding. */
	const char *lost;
	/* scan: called every 4096 page frames (a terminal's progress line), or NULL */
	void (*progress)(void *arg, uint64_t pfn, uint64_t max_pfn);
	void *progress_arg;
};

/* Run one command: argv[0] is the command name.  Returns 0, 1 when the
 * command found problems (check) or faulted (translate), 2 on bad usage or
 * an error (printed on ctx->err). */
int vtd_command(struct vtd_cmdctx *ctx, int argc, char **argv);

/* Dumps that lost the kernel's IOMMU state (commands/lost.c).  From a failed
 * vtd_kstate_load (load_err) or a loaded state (ks) whose units' struct
 * intel_iommu lie in excluded pages: NONE, SOME or ALL units lost, and why
 * in words (structure, address, the dump level that excluded it, the level
 * that would have kept it; writer: what wrote the dump, or NULL). */
enum vtd_loss { VTD_LOSS_NONE, VTD_LOSS_SOME, VTD_LOSS_ALL };
enum vtd_loss vtd_state_loss(const struct vtd_kstate *ks, const struct vtd_error *load_err,
			     int dump_level, const char *writer, char *why, size_t n);

/* What wrote a dump, in words: format "kdump-compressed", "flattened
 * kdump-compressed" (with the header version) or "an ELF dump" (-1). */
void vtd_writer_words(char *out, size_t n, const char *format, int header_version);

/* A unit given by its root table alone (--root, the scan): CAP/ECAP that
 * support every translation type, so the tables decide. */
#define VTD_RAW_CAP  (6 | 0x1eull << 8 | 56ull << 16 | 3ull << 34 | 1ull << 56 | 1ull << 60)
#define VTD_RAW_ECAP (0xdf | 1ull << 26 | 19ull << 35 | 1ull << 40 | 1ull << 43 | \
		      1ull << 46 | 1ull << 47)
void vtd_raw_unit(struct vtd_unit *u, uint64_t root, bool scalable, uint64_t cap, uint64_t ecap,
		  uint64_t irta, uint64_t iqa);
/* Units from the structural scan of c->mem (up to c->max_pfn): every clean
 * candidate, best first, each announced on c->err (what names the dump).
 * 0, or -1 after a message. */
int vtd_scan_units(struct vtd_cmdctx *c, const char *what, uint64_t cap, uint64_t ecap,
		   struct vtd_unit **units, size_t *nunits);

/* The command summary, for usage and help text. */
extern const char vtd_commands_usage[];

#endif
