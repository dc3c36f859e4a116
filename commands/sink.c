/* Text and JSON sinks (see sink.h). */
#include "sink.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAXCOLS 32
/* Text tables are buffered to align their columns; past this many rows the
 * widths are fixed and rows stream out (a 1 Mi-mapping map must not hold
 * every row in memory).  A later, wider cell just pushes its row along. */
#define BUFFERED_ROWS 4096

struct sink {
	FILE *out;
	bool json;
	int err;
	/* JSON state */
	bool first_top, first_row, first_field, in_table, in_row;
	/* text state: buffered rows of the current table */
	char *cols[MAXCOLS];
	size_t ncols;
	char ***rows;          /* rows[i][c], each row one allocation */
	size_t nrows, rcap;
	bool streaming;        /* header printed, widths fixed */
	size_t w[MAXCOLS];
	/* cells of the row being built: text in pbuf, at poff[c] (plen 0: unset) */
	char *pbuf;
	size_t pused, pcap;
	size_t poff[MAXCOLS], plen[MAXCOLS];
	char table[48];        /* name of the current table */
	/* a text line is put together here and written at once: crash's fp
	 * may be unbuffered, one write per cell would be a system call each */
	char *line;
	size_t lused, lcap;
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (n && fwrite(p, 1, n, s->out) != n)
		s->err = 1;
}

static void puts_(struct sink *s, const char *p) { put(s, p, strlen(p)); }

/* Append n bytes of p (NULL: spaces) to the line being built. */
static void lput(struct sink *s, const char *p, size_t n)
{
	if (s->lused + n > s->lcap) {
		size_t nc = (s->lused + n) * 2 + 256;
		char *nl = realloc(s->line, nc);
		if (!nl) {
			s->err = 1;
			return;
		}
		s->line = nl;
		s->lcap = nc;
	}
	if (p)
		memcpy(s->line + s->lused, p, n);
	else
		memset(s->line + s->lused, ' ', n);
	s->lused += n;
}

static void lflush(struct sink *s)
{
	put(s, s->line, s->lused);
	s->lused = 0;
}

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
	put(s, "\"", 1);
	while (*v) {
		size_t n = 0;
		while (v[n] && v[n] != '"' && v[n] != '\\' && (unsigned char)v[n] >= 0x20)
			n++;
		put(s, v, n);
		v += n;
		if (!*v)
			break;
		unsigned char c = (unsigned char)*v++;
		if (c == '"' || c == '\\')
			out(s, "\\%c", c);
		else
			out(s, "\\u%04x", c);
	}
	put(s, "\"", 1);
}

static void json_key(struct sink *s, const char *key)
{
	if (s->in_row) {
		puts_(s, s->first_field ? "" : ", ");
		s->first_field = false;
	} else {
		puts_(s, s->first_top ? "\n  " : ",\n  ");
		s->first_top = false;
	}
	json_str(s, key);
	put(s, ": ", 2);
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
	free(s->line);
	free(s);
	return err ? -1 : 0;
}

void sink_table(struct sink *s, const char *name)
{
	s->in_table = true;
	snprintf(s->table, sizeof(s->table), "%s", name);
	if (s->json) {
		json_key(s, name);
		put(s, "[", 1);
		s->first_row = true;
		return;
	}
	s->ncols = 0;
	s->nrows = 0;
	s->streaming = false;
}

static int col_index(struct sink *s, const char *key)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (!strcmp(s->cols[i], key))
			return (int)i;
	if (s->ncols >= MAXCOLS || !(s->cols[s->ncols] = strdup(key)))
		return -1;
	s->w[s->ncols] = strlen(key);
	return (int)s->ncols++;
}

void sink_row(struct sink *s)
{
	s->in_row = true;
	s->first_field = true;
	if (s->json) {
		puts_(s, s->first_row ? "\n    {" : ",\n    {");
		s->first_row = false;
		return;
	}
	s->pused = 0;
	memset(s->plen, 0, sizeof(s->plen));
}

/* One text row: cells padded to the column widths, "-" where unset. */
static void print_row(struct sink *s, char **cells)
{
	for (size_t c = 0; c < s->ncols; c++) {
		const char *v = cells[c] ? cells[c] : "-";
		size_t n = strlen(v);
		lput(s, v, n);
		if (c + 1 < s->ncols)
			lput(s, NULL, (n < s->w[c] ? s->w[c] - n : 0) + 2);
	}
	lput(s, "\n", 1);
	lflush(s);
}

static void print_header(struct sink *s)
{
	for (size_t c = 0; c < s->ncols; c++) {
		char up[64];
		size_t i;
		for (i = 0; s->cols[c][i] && i < sizeof(up) - 1; i++)
			up[i] = (char)(s->cols[c][i] >= 'a' && s->cols[c][i] <= 'z' ?
				       s->cols[c][i] - 32 : s->cols[c][i]);
		up[i] = 0;
		lput(s, up, i);
		if (c + 1 < s->ncols)
			lput(s, NULL, (i < s->w[c] ? s->w[c] - i : 0) + 2);
	}
	if (s->ncols)
		lput(s, "\n", 1);
	lflush(s);
}

/* Print and drop the buffered rows; from here on rows stream. */
static void flush_rows(struct sink *s)
{
	print_header(s);
	for (size_t r = 0; r < s->nrows; r++) {
		print_row(s, s->rows[r]);
		free(s->rows[r]);
	}
	s->nrows = 0;
	s->streaming = true;
}

void sink_row_end(struct sink *s)
{
	s->in_row = false;
	if (s->json) {
		put(s, "}", 1);
		return;
	}
	/* the row's cells in one block: pointers, then the text */
	char **row = malloc(MAXCOLS * sizeof(char *) + s->pused);
	if (!row) {
		s->err = 1;
		return;
	}
	char *text = (char *)(row + MAXCOLS);
	memcpy(text, s->pbuf, s->pused);
	for (size_t c = 0; c < MAXCOLS; c++) {
		row[c] = c < s->ncols && s->plen[c] ? text + s->poff[c] : NULL;
		if (row[c] && s->plen[c] - 1 > s->w[c] && !s->streaming)
			s->w[c] = s->plen[c] - 1;
	}
	if (s->streaming) {
		print_row(s, row);
		free(row);
		return;
	}
	if (s->nrows == s->rcap) {
		size_t nc = s->rcap ? s->rcap * 2 : 64;
		char ***nr = realloc(s->rows, nc * sizeof(*nr));
		if (!nr) {
			free(row);
			s->err = 1;
			return;
		}
		s->rows = nr;
		s->rcap = nc;
	}
	s->rows[s->nrows++] = row;
	if (s->nrows >= BUFFERED_ROWS)
		flush_rows(s);
}

void sink_table_end(struct sink *s)
{
	s->in_table = false;
	if (s->json) {
		puts_(s, s->first_row ? "]" : "\n  ]");
		return;
	}
	if (!s->nrows && !s->streaming) {     /* say so rather than print nothing */
		out(s, "(no ");
		for (const char *c = s->table; *c; c++)
			out(s, "%c", *c == '_' ? ' ' : *c);
		out(s, ")\n");
	}
	if (!s->streaming)
		flush_rows(s);
	for (size_t c = 0; c < s->ncols; c++)
		free(s->cols[c]);
	free(s->rows);
	free(s->pbuf);
	s->rows = NULL;
	s->pbuf = NULL;
	s->rcap = s->pcap = s->pused = 0;
	s->ncols = s->nrows = 0;
	s->streaming = false;
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
	size_t n = strlen(val) + 1;
	if (s->pused + n > s->pcap) {
		size_t nc = (s->pused + n) * 2;
		char *nb = realloc(s->pbuf, nc);
		if (!nb) {
			s->err = 1;
			return;
		}
		s->pbuf = nb;
		s->pcap = nc;
	}
	memcpy(s->pbuf + s->pused, val, n);
	s->poff[c] = s->pused;
	s->plen[c] = n;
	s->pused += n;
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
