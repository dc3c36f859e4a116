/* libvtd — the marks record: findings, marks and restorations as versioned
 * text that travels with a dump (docs/marks-record.md).
 *
 * The record is lines of tab-separated fields: a kind word, then key=value
 * fields; free text goes last on its line with tabs and line breaks turned
 * into spaces.  The first line names the format's major version; a reader
 * skips line kinds and keys it does not know, so minor additions stay
 * readable.  Journal lines (the image patcher's undo data) are kept as they
 * are for the patcher.
 */
#ifndef VTD_RECORD_H
#define VTD_RECORD_H

#include <stddef.h>
#include "error.h"
#include "marks.h"

#define VTD_RECORD_MAGIC "VTDSCOPE-MARKS"
#define VTD_RECORD_VERSION 1

struct vtd_record_meta {
	char generator[64];       /* "vtd restore 0.1", "makedumpfile-vtd 0.1" */
	char dump_format[16];     /* "diskdump", "elf", "flattened" */
};

/* The analysis as record text (malloc'd, NUL-terminated, without journal
 * lines and without the final "end" line: the patcher appends its journal
 * and then "end").  Returns 0 or -VTD_E_NOMEM. */
int vtd_record_format(const struct vtd_analysis *a, const struct vtd_record_meta *meta,
		      char **text, size_t *len, struct vtd_error *err);

/* Parse a record.  *a gets the analysis (free with vtd_analysis_free);
 * meta (may be NULL) the meta fields; journal (may be NULL) a malloc'd copy
 * of the journal lines, one per line, NUL-terminated (free()).  A bad
 * record is an error naming the line and what is wrong. */
int vtd_record_parse(const char *text, size_t len, struct vtd_analysis **a,
		     struct vtd_record_meta *meta, char **journal, struct vtd_error *err);

#endif
