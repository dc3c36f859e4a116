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
};

/* Run one command: argv[0] is the command name.  Returns 0, 1 when the
 * command found problems (check) or faulted (translate), 2 on bad usage or
 * an error (printed on ctx->err). */
int vtd_command(struct vtd_cmdctx *ctx, int argc, char **argv);

/* The command summary, for usage and help text. */
extern const char vtd_commands_usage[];

#endif
