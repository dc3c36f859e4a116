/* Text and JSON sinks (see sink.h). */
#include "sink.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAXCOLS 32

struct cell { char *key; char *val; };

struct sink {
	FILE *out;
	bool json;
	int err;
	/* JSON state */
	bool first_top, first_row, first_field, in_table, in_row;
	/* text state: buffered rows of the current table */
	char **cols;
	size_t ncols;
	char ***rows;          /* rows[i][c] */
	size_t nrows;
	char **pending;        /* cells of the row being built */
	char table[48];        /* name of the current table */
};

static void out(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct sink *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vfprintf(s->out, fmt, ap) < 0)
		s->err = 1;
	va_end(ap);
}

struct sink *sink_new(FILE *fp, bool json)
{
	struct sink *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->out = fp;
	s->json = json;
	s->first_top = true;
	if (json)
		out(s, "{");
	return s;
}

static void json_str(struct sink *s, const char *v)
{
	out(s, "\"");
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			out(s, "\\%c", c);
		else if (c < 0x20)
			out(s, "\\u%04x", c);
		else
			out(s, "%c", c);
	}
	out(s, "\"");
}

static void json_key(struct sink *s, const char *key)
{
	if (s->in_row) {
		out(s, "%s", s->first_field ? "" : ", ");
		s->first_field = false;
	} else {
		out(s, "%s\n  ", s->first_top ? "" : ",");
		s->first_top = false;
	}
	json_str(s, key);
	out(s, ": ");
}

int sink_free(struct sink *s)
{
	if (!s)
		return 0;
	if (s->json)
		out(s, "\n}\n");
	if (fflush(s->out))
		s->err = 1;
	int err = s->err;
	free(s);
	return err ? -1 : 0;
}

void sink_table(struct sink *s, const char *name)
{
	s->in_table = true;
	snprintf(s->table, sizeof(s->table), "%s", name);
	if (s->json) {
		json_key(s, name);
		out(s, "[");
		s->first_row = true;
		return;
	}
	s->ncols = 0;
	s->nrows = 0;
	s->cols = NULL;
	s->rows = NULL;
}

static int col_index(struct sink *s, const char *key)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (!strcmp(s->cols[i], key))
			return (int)i;
	if (s->ncols >= MAXCOLS)
		return -1;
	s->cols = realloc(s->cols, (s->ncols + 1) * sizeof(*s->cols));
	s->cols[s->ncols] = strdup(key);
	return (int)s->ncols++;
}

void sink_row(struct sink *s)
{
	s->in_row = true;
	s->first_field = true;
	if (s->json) {
		out(s, "%s\n    {", s->first_row ? "" : ",");
		s->first_row = false;
		return;
	}
	s->pending = calloc(MAXCOLS, sizeof(char *));
}

void sink_row_end(struct sink *s)
{
	s->in_row = false;
	if (s->json) {
		out(s, "}");
		return;
	}
	s->rows = realloc(s->rows, (s->nrows + 1) * sizeof(*s->rows));
	s->rows[s->nrows++] = s->pending;
	s->pending = NULL;
}

void sink_table_end(struct sink *s)
{
	s->in_table = false;
	if (s->json) {
		out(s, "%s]", s->first_row ? "" : "\n  ");
		return;
	}
	size_t w[MAXCOLS] = { 0 };
	if (!s->nrows) {               /* say so rather than print nothing */
		out(s, "(no ");
		for (const char *c = s->table; *c; c++)
			out(s, "%c", *c == '_' ? ' ' : *c);
		out(s, ")\n");
	}
	for (size_t c = 0; c < s->ncols; c++) {
		w[c] = strlen(s->cols[c]);
		for (size_t r = 0; r < s->nrows; r++)
			if (s->rows[r][c] && strlen(s->rows[r][c]) > w[c])
				w[c] = strlen(s->rows[r][c]);
	}
	for (size_t c = 0; c < s->ncols; c++) {
		char up[64];
		size_t i;
		for (i = 0; s->cols[c][i] && i < sizeof(up) - 1; i++)
			up[i] = (char)(s->cols[c][i] >= 'a' && s->cols[c][i] <= 'z' ?
				       s->cols[c][i] - 32 : s->cols[c][i]);
		up[i] = 0;
		out(s, "%-*s%s", c + 1 < s->ncols ? (int)w[c] : 0, up, c + 1 < s->ncols ? "  " : "");
	}
	if (s->ncols)
		out(s, "\n");
	for (size_t r = 0; r < s->nrows; r++) {
		for (size_t c = 0; c < s->ncols; c++) {
			const char *v = s->rows[r][c] ? s->rows[r][c] : "-";
			out(s, "%-*s%s", c + 1 < s->ncols ? (int)w[c] : 0, v, c + 1 < s->ncols ? "  " : "");
			free(s->rows[r][c]);
		}
		out(s, "\n");
		free(s->rows[r]);
	}
	for (size_t c = 0; c < s->ncols; c++)
		free(s->cols[c]);
	free(s->cols);
	free(s->rows);
	s->cols = NULL;
	s->rows = NULL;
	s->ncols = s->nrows = 0;
}

/* text: store a cell of the pending row, or print "key: val" outside tables */
static void text_field(struct sink *s, const char *key, const char *val)
{
	if (!s->in_row) {
		out(s, "%s: %s\n", key, val);
		return;
	}
	int c = col_index(s, key);
	if (c < 0)
		return;
	free(s->pending[c]);
	s->pending[c] = strdup(val);
}

void sink_str(struct sink *s, const char *key, const char *val)
{
	if (s->json) {
		json_key(s, key);
		json_str(s, val ? val : "");
	} else {
		text_field(s, key, val ? val : "");
	}
}

void sink_hex(struct sink *s, const char *key, uint64_t val)
{
	char b[24];
	snprintf(b, sizeof(b), "0x%" PRIx64, val);
	sink_str(s, key, b);  /* JSON carries hex as strings: 64-bit safe */
}

void sink_u64(struct sink *s, const char *key, uint64_t val)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, val);
	if (s->json) {
		json_key(s, key);
		out(s, "%s", b);
	} else {
		text_field(s, key, b);
	}
}

void sink_i64(struct sink *s, const char *key, int64_t val)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRId64, val);
	if (s->json) {
		json_key(s, key);
		out(s, "%s", b);
	} else {
		text_field(s, key, b);
	}
}

void sink_bool(struct sink *s, const char *key, bool val)
{
	if (s->json) {
		json_key(s, key);
		out(s, "%s", val ? "true" : "false");
	} else {
		text_field(s, key, val ? "yes" : "no");
	}
}

void sink_null(struct sink *s, const char *key)
{
	if (s->json) {
		json_key(s, key);
		out(s, "null");
	} else {
		text_field(s, key, "-");
	}
}

void sink_note(struct sink *s, const char *fmt, ...)
{
	if (s->json)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vfprintf(s->out, fmt, ap) < 0)
		s->err = 1;
	va_end(ap);
	out(s, "\n");
}

void sink_raw(struct sink *s, const char *key, const uint64_t *q, unsigned n)
{
	if (s->json) {
		json_key(s, key);
		out(s, "[");
		for (unsigned i = 0; i < n; i++)
			out(s, "%s\"0x%016" PRIx64 "\"", i ? ", " : "", q[i]);
		out(s, "]");
		return;
	}
	char b[8 * 17 + 1];
	size_t pos = 0;
	for (unsigned i = n; i-- > 0 && pos < sizeof(b);)
		pos += (size_t)snprintf(b + pos, sizeof(b) - pos, "%s%016" PRIx64, i == n - 1 ? "" : ":", q[i]);
	text_field(s, key, b);
}
