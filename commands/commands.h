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

/* The command summary, for usage and help text. */
extern const char vtd_commands_usage[];

#endif
