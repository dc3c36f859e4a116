/* Output sinks shared by every front end: the same command code writes
 * either aligned text tables (crash's style: upper-case column headers,
 * hex without padding surprises) or JSON.  Records are flat key/value rows
 * grouped into named tables; text mode buffers a table to align columns. */
#ifndef COMMANDS_SINK_H
#define COMMANDS_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sink;

struct sink *sink_new(FILE *out, bool json);
/* Finish (closes the JSON document) and free. Returns 0 or -1 on a write error. */
int sink_free(struct sink *s);

/* A table of rows: JSON "name": [ {...}, ... ]; text: header + rows. */
void sink_table(struct sink *s, const char *name);
void sink_table_end(struct sink *s);
void sink_row(struct sink *s);
void sink_row_end(struct sink *s);

/* Fields of the current row (or top-level fields outside a table). */
void sink_str(struct sink *s, const char *key, const char *val);
void sink_hex(struct sink *s, const char *key, uint64_t val);
void sink_u64(struct sink *s, const char *key, uint64_t val);
void sink_i64(struct sink *s, const char *key, int64_t val);
void sink_bool(struct sink *s, const char *key, bool val);
void sink_null(struct sink *s, const char *key);
/* A raw entry of n qwords: JSON ["0x<lo, 16 digits>", ...] low qword first;
 * text "hi:...:lo" as the kernel's debugfs prints entries. */
void sink_raw(struct sink *s, const char *key, const uint64_t *q, unsigned n);
/* A free text line (text mode only; JSON ignores it). */
void sink_note(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
