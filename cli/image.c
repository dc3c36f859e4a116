/* The dump image patcher (see image.h; formats: docs/marks-record.md,
 * ecosystem.md §2.2–2.4).
 *
 * Every format is handled as one edit of a file L (the kdump file a
 * flattened stream rearranges to, or the ELF file): an insertion of ins_len
 * bytes at ins_at (0 for flattened), overwrites, and bytes appended at the
 * end.  The journal keeps the original bytes of every overwrite (in the
 * output's offsets), the insertion and the original size, so undo is exact. */
#define _GNU_SOURCE
#include "image.h"
#include "diskdump.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK 4096
#define CHUNK (1u << 20)
#define FLAT_HDR 4096
#define MAX_NOTES (64u << 20)

/* ---- small helpers ---- */

/* copy in[off, off+len) to out at ooff */
static int copy_range(int in, uint64_t off, uint64_t len, int out, uint64_t ooff, uint8_t *buf)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		if (preadn(in, buf, n, off) || pwriten(out, buf, n, ooff))
			return -1;
		off += n, ooff += n, len -= n;
	}
	return 0;
}

/* growable text */
struct txt { char *b; size_t n, cap; int nomem; };

static void tput(struct txt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(struct txt *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || t->nomem)
		return;
	if (t->n + (size_t)k + 1 > t->cap) {
		size_t nc = (t->cap + (size_t)k + 1) * 2;
		char *nb = realloc(t->b, nc);
		if (!nb) {
			t->nomem = 1;
			return;
		}
		t->b = nb;
		t->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(t->b + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)k;
}

/* ---- the edit ---- */

/* bytes at an output offset: new ones (overwrites) or original ones (undo) */
struct range { uint64_t off, len; uint8_t *b; };

struct edit {
	const char *format;              /* "diskdump", "elf", "flattened" */
	uint64_t size;                   /* the input file's size */
	uint64_t ins_at, ins_len;
	uint64_t desc_at, ndesc;         /* diskdump: page_desc table (input offsets) */
	struct range *w; size_t nw;     /* overwrites */
	struct range *u; size_t nu;     /* the bytes they replaced */
	uint8_t *app; uint64_t napp;     /* appended bytes */
	uint64_t nrec, added;            /* flattened: records in, records added */
};

static void edit_free(struct edit *e)
{
	for (size_t i = 0; i < e->nw; i++)
		free(e->w[i].b);
	for (size_t i = 0; i < e->nu; i++)
		free(e->u[i].b);
	free(e->w);
	free(e->u);
	free(e->app);
	memset(e, 0, sizeof(*e));
}

/* Append a copy of [data, data+len) at off to a list of ranges. */
static int add_range(struct range **v, size_t *n, uint64_t off, const void *data, uint64_t len)
{
	struct range *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	nv[*n].b = malloc(len ? len : 1);
	if (!nv[*n].b)
		return -1;
	memcpy(nv[*n].b, data, len);
	nv[*n].off = off;
	nv[*n].len = len;
	(*n)++;
	return 0;
}

static int add_wr(struct edit *e, uint64_t off, const void *data, uint64_t len)
{
	return add_range(&e->w, &e->nw, off, data, len);
}

static int add_undo(struct edit *e, uint64_t off, const void *orig, uint64_t len)
{
	return add_range(&e->u, &e->nu, off, orig, len);
}

/* Input offset -> output offset. */
static uint64_t shifted(const struct edit *e, uint64_t off)
{
	return off >= e->ins_at && e->ins_len ? off + e->ins_len : off;
}

/* The journal: fixed-width numbers, so its length does not depend on the
 * insertion it describes. */
static void journal(const struct edit *e, struct txt *t)
{
	tput(t, "journal\tformat=%s\tsize=0x%016" PRIx64 "\tins_at=0x%016" PRIx64
	     "\tins_len=0x%016" PRIx64 "\tdesc_at=0x%016" PRIx64 "\tndesc=0x%016" PRIx64
	     "\tappended=0x%016" PRIx64 "\trecords=0x%016" PRIx64 "\tadded=0x%016" PRIx64 "\n",
	     e->format, e->size, e->ins_at, e->ins_len, e->desc_at, e->ndesc, e->napp, e->nrec, e->added);
	for (size_t i = 0; i < e->nu; i++) {
		const struct range *u = &e->u[i];
		bool zero = true;
		for (uint64_t k = 0; k < u->len && zero; k++)
			zero = !u->b[k];
		tput(t, "journal\tundo\toff=0x%016" PRIx64 "\tlen=0x%016" PRIx64 "\tbytes=", u->off, u->len);
		if (zero)
			tput(t, "zero");
		else
			for (uint64_t k = 0; k < u->len; k++)
				tput(t, "%02x", u->b[k]);
		tput(t, "\n");
	}
}

/* Record text = record + journal + "end". */
static char *full_record(const struct edit *e, const char *rec, size_t rl, size_t *len)
{
	struct txt t = { 0 };
	tput(&t, "%.*s", (int)rl, rec);
	if (rl && rec[rl - 1] != '\n')
		tput(&t, "\n");
	journal(e, &t);
	tput(&t, "end\n");
	if (t.nomem) {
		free(t.b);
		return NULL;
	}
	*len = t.n;
	return t.b;
}

/* An ELF note: Nhdr, "VTDSCOPE\0" padded to 4, desc padded to 4. */
static size_t note_size(size_t desclen) { return 12 + 12 + ((desclen + 3) & ~(size_t)3); }

static uint8_t *make_note(const char *desc, size_t dl, size_t *len)
{
	size_t n = note_size(dl);
	uint8_t *b = calloc(1, n);
	if (!b)
		return NULL;
	put_le(b, sizeof(IMAGE_NOTE_NAME), 4);
	put_le(b + 4, dl, 4);
	put_le(b + 8, IMAGE_NOTE_TYPE, 4);
	memcpy(b + 12, IMAGE_NOTE_NAME, sizeof(IMAGE_NOTE_NAME));
	memcpy(b + 24, desc, dl);
	*len = n;
	return b;
}

/* ---- output files ---- */

struct outf { char tmp[4200]; int fd; };

static int out_open(struct outf *o, const char *out, char *err, size_t el)
{
	char d[4096], b[4096];
	snprintf(d, sizeof(d), "%s", out);
	snprintf(b, sizeof(b), "%s", out);
	snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.vtdXXXXXX", dirname(d), basename(b));
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0)
		return fail(err, el, "%s: cannot create a temporary file in its directory: %s", out,
			    strerror(errno));
	return 0;
}

static void out_abort(struct outf *o)
{
	if (o->fd >= 0) {
		close(o->fd);
		unlink(o->tmp);
		o->fd = -1;
	}
}

static int out_close(struct outf *o, const char *out, char *err, size_t el)
{
	int fd = o->fd;
	o->fd = -1;
	if (fchmod(fd, 0644) || fsync(fd) || close(fd)) {
		unlink(o->tmp);
		return fail(err, el, "%s: write error: %s", out, strerror(errno));
	}
	return 0;
}

static int out_commit(struct outf *o, const char *out, char *err, size_t el)
{
	if (rename(o->tmp, out)) {
		int e = errno;
		unlink(o->tmp);
		return fail(err, el, "%s: cannot rename the temporary file into place: %s", out, strerror(e));
	}
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* ---- patches grouped by page ---- */

struct page { uint64_t pfn; uint8_t data[BLK]; };

static int cmp_patch(const void *a, const void *b)
{
	const struct image_patch *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/* The patched pages (current content via rd, then the patches); n pages. */
static struct page *patched_pages(const struct image_patch *p0, size_t np, size_t *n,
				  int (*rd)(void *ctx, uint64_t pfn, uint8_t *buf), void *ctx,
				  char *err, size_t el)
{
	struct image_patch *p = malloc((np ? np : 1) * sizeof(*p));
	struct page *pg = calloc(np ? np : 1, sizeof(*pg));
	size_t k = 0;
	if (!p || !pg) {
		free(p);
		free(pg);
		fail(err, el, "out of memory");
		return NULL;
	}
	if (np) {
		memcpy(p, p0, np * sizeof(*p));
		qsort(p, np, sizeof(*p), cmp_patch);
	}
	for (size_t i = 0; i < np; i++) {
		uint64_t pfn = p[i].pa / BLK;
		if (!p[i].len || (p[i].pa % BLK) + p[i].len > BLK) {
			fail(err, el, "patch at 0x%" PRIx64 " (%u bytes) crosses a page", p[i].pa, p[i].len);
			goto bad;
		}
		if (!k || pg[k - 1].pfn != pfn) {
			pg[k].pfn = pfn;
			if (rd(ctx, pfn, pg[k].data)) {
				fail(err, el, "cannot patch 0x%" PRIx64 ": its page is not in the dump", p[i].pa);
				goto bad;
			}
			k++;
		}
		memcpy(pg[k - 1].data + p[i].pa % BLK, p[i].bytes, p[i].len);
	}
	free(p);
	*n = k;
	return pg;
bad:
	free(p);
	free(pg);
	return NULL;
}

static int dd_page(void *ctx, uint64_t pfn, uint8_t *buf)
{
	char why[200];
	struct diskdump *d = ctx;
	return diskdump_has_page(d, pfn) ? diskdump_read(d, pfn * BLK, buf, BLK, why, sizeof(why)) : -1;
}

/* ---- kdump-compressed, plain and flattened ---- */

struct kd {
	uint8_t h[464], sub[104];
	uint64_t blk_total;          /* (1 + sub_hdr_size) * block: where the bitmaps start */
	uint64_t note_at, note_end, slack;
};

static int kd_header(struct diskdump *d, struct kd *k, const char *in, char *err, size_t el)
{
	if (diskdump_vread(d, k->h, sizeof(k->h), 0) || diskdump_vread(d, k->sub, sizeof(k->sub), BLK))
		return fail(err, el, "%s: kdump header unreadable", in);
	k->blk_total = (uint64_t)BLK * (1 + le(k->h + 432, 4));
	uint64_t on = le(k->sub + 48, 8), sn = le(k->sub + 56, 8);
	if (on < BLK + sizeof(k->sub) || sn > MAX_NOTES || on + sn > k->blk_total)
		return fail(err, el, "%s: notes (offset 0x%" PRIx64 ", %" PRIu64 " bytes) are not in the "
			    "sub-header blocks", in, on, sn);
	k->note_at = (on + sn + 3) & ~3ull;
	k->note_end = on + sn;
	k->slack = k->blk_total > k->note_at ? k->blk_total - k->note_at : 0;
	return 0;
}

/* The edit for a kdump file: note (grown into new blocks if grow), size
 * fields, repointed page_descs, appended pages.  Flattened streams never
 * grow. */
static int kd_edit(struct diskdump *d, struct kd *k, struct edit *e, const struct page *pg,
		   size_t npg, uint64_t append_at, const uint8_t *note, size_t nl,
		   char *err, size_t el)
{
	uint8_t b[24];
	e->desc_at = diskdump_desc_off(d);
	e->ndesc = diskdump_ndesc(d);
	if (note) {
		if (nl > k->slack) {
			e->ins_at = k->blk_total;
			e->ins_len = (k->note_at + nl - k->blk_total + BLK - 1) / BLK * BLK;
		}
		/* the whole old slack, so the journal does not depend on the note */
		uint8_t *old = calloc(1, k->blk_total - k->note_end + 1);
		if (!old || diskdump_vread(d, old, k->blk_total - k->note_end, k->note_end) ||
		    add_undo(e, k->note_end, old, k->blk_total - k->note_end)) {
			free(old);
			return fail(err, el, "out of memory");
		}
		free(old);
		uint8_t *nb = calloc(1, k->note_at - k->note_end + nl);
		if (!nb)
			return fail(err, el, "out of memory");
		memcpy(nb + (k->note_at - k->note_end), note, nl);
		int r = add_wr(e, k->note_end, nb, k->note_at - k->note_end + nl);
		free(nb);
		if (r)
			return fail(err, el, "out of memory");
		/* size_note; sub_hdr_size and offset_eraseinfo when grown */
		put_le(b, le(k->sub + 56, 8) + (k->note_at - k->note_end) + nl, 8);
		if (add_undo(e, BLK + 56, k->sub + 56, 8) || add_wr(e, BLK + 56, b, 8))
			return fail(err, el, "out of memory");
		if (e->ins_len) {
			put_le(b, le(k->h + 432, 4) + e->ins_len / BLK, 4);
			if (add_undo(e, 432, k->h + 432, 4) || add_wr(e, 432, b, 4))
				return fail(err, el, "out of memory");
			uint64_t ei = le(k->sub + 64, 8);
			if (ei) {
				put_le(b, ei + e->ins_len, 8);
				if (add_undo(e, BLK + 64, k->sub + 64, 8) || add_wr(e, BLK + 64, b, 8))
					return fail(err, el, "out of memory");
			}
		}
	}
	for (size_t i = 0; i < npg; i++) {
		uint64_t pos = diskdump_desc_pos(d, pg[i].pfn);
		uint8_t od[24];
		if (diskdump_vread(d, od, 24, pos))
			return fail(err, el, "page descriptor of pfn 0x%" PRIx64 " unreadable", pg[i].pfn);
		memcpy(b, od, 24);
		put_le(b, append_at + e->ins_len + (uint64_t)i * BLK, 8);   /* offset */
		put_le(b + 8, BLK, 4);                                       /* size: raw */
		put_le(b + 12, 0, 4);                                        /* flags: none */
		if (add_undo(e, shifted(e, pos), od, 24) || add_wr(e, shifted(e, pos), b, 24))
			return fail(err, el, "out of memory");
	}
	e->app = malloc(npg ? npg * BLK : 1);
	if (!e->app)
		return fail(err, el, "out of memory");
	for (size_t i = 0; i < npg; i++)
		memcpy(e->app + i * BLK, pg[i].data, BLK);
	e->napp = (uint64_t)npg * BLK;
	return 0;
}

/* Apply the overwrites that fall in [off, off+len) of the output to buf. */
static void apply_wr(const struct edit *e, uint64_t off, uint8_t *buf, uint64_t len)
{
	for (size_t i = 0; i < e->nw; i++) {
		const struct range *w = &e->w[i];
		uint64_t s = w->off > off ? w->off : off, t = w->off + w->len < off + len ? w->off + w->len : off + len;
		if (s < t)
			memcpy(buf + (s - off), w->b + (s - w->off), t - s);
	}
}

/* A plain file (kdump or ELF) with the edit applied: input through the
 * insertion, shifted tail, page_desc offsets moved, overwrites, appended. */
static int write_plain(int in, const struct edit *e, int fd, uint8_t *buf)
{
	uint64_t split = e->ins_len ? e->ins_at : e->size;
	if (copy_range(in, 0, split, fd, 0, buf) ||
	    copy_range(in, split, e->size - split, fd, split + e->ins_len, buf))
		return -1;
	if (e->ins_len) {
		memset(buf, 0, CHUNK);
		for (uint64_t o = 0; o < e->ins_len; o += CHUNK)
			if (pwriten(fd, buf, e->ins_len - o < CHUNK ? e->ins_len - o : CHUNK, e->ins_at + o))
				return -1;
		/* every page_desc offset moves with the data behind the insertion */
		for (uint64_t i = 0; i < e->ndesc; i += CHUNK / 24) {
			uint64_t n = e->ndesc - i < CHUNK / 24 ? e->ndesc - i : CHUNK / 24;
			uint64_t at = shifted(e, e->desc_at) + 24 * i;
			if (preadn(fd, buf, n * 24, at))
				return -1;
			for (uint64_t j = 0; j < n; j++)
				put_le(buf + 24 * j, le(buf + 24 * j, 8) + e->ins_len, 8);
			if (pwriten(fd, buf, n * 24, at))
				return -1;
		}
	}
	for (size_t i = 0; i < e->nw; i++)
		if (pwriten(fd, e->w[i].b, e->w[i].len, e->w[i].off))
			return -1;
	return e->napp ? pwriten(fd, e->app, e->napp, e->size + e->ins_len) : 0;
}

/* ---- flattened streams ---- */

struct iv { uint64_t s, e; };

static int cmp_iv(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;
	return x->s < y->s ? -1 : x->s > y->s;
}

/* Record coverage of the logical file (sorted, merged); nrec records. */
static struct iv *flat_cover(int fd, uint64_t fsize, size_t *n, uint64_t *nrec, uint64_t *end)
{
	struct iv *v = NULL;
	size_t k = 0, cap = 0;
	uint64_t pos = FLAT_HDR;
	uint8_t h[16];
	*nrec = 0;
	*end = 0;
	while (!preadn(fd, h, 16, pos)) {
		uint64_t dst = be64(h), size = be64(h + 8);
		if (dst == UINT64_MAX && size == UINT64_MAX) {
			qsort(v, k, sizeof(*v), cmp_iv);
			size_t m = 0;
			for (size_t i = 0; i < k; i++)
				if (m && v[i].s <= v[m - 1].e)
					v[m - 1].e = v[i].e > v[m - 1].e ? v[i].e : v[m - 1].e;
				else
					v[m++] = v[i];
			*n = m;
			return v ? v : calloc(1, sizeof(*v));
		}
		if (pos + 16 + size > fsize)
			break;
		if (k == cap) {
			cap = cap ? 2 * cap : 1024;
			struct iv *nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
		}
		if (size)
			v[k++] = (struct iv){ dst, dst + size };
		if (dst + size > *end)
			*end = dst + size;
		(*nrec)++;
		pos += 16 + size;
	}
	free(v);
	return NULL;
}

/* Parts of [s, e) no interval covers. */
static size_t uncovered(const struct iv *c, size_t nc, uint64_t s, uint64_t e, struct iv *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < nc && s < e; i++) {
		if (c[i].e <= s)
			continue;
		if (c[i].s >= e)
			break;
		if (c[i].s > s && k < max)
			out[k++] = (struct iv){ s, c[i].s };
		s = c[i].e;
	}
	if (s < e && k < max)
		out[k++] = (struct iv){ s, e };
	return k;
}

static int write_rec(int fd, uint64_t *pos, uint64_t dst, const uint8_t *data, uint64_t size)
{
	uint8_t h[16];
	put_be64(h, dst);
	put_be64(h + 8, size);
	if (pwriten(fd, h, 16, *pos) || pwriten(fd, data, size, *pos + 16))
		return -1;
	*pos += 16 + size;
	return 0;
}

/* Re-emit the stream: the original records with the overwrites applied
 * (undo: with undo bytes applied, the added records left out), then new
 * records for what no record covers. */
static int flat_emit(int in, uint64_t fsize, int fd, const struct edit *e, const struct iv *cov,
		     size_t ncov, uint64_t keep, bool undo, uint64_t *outsize, uint8_t *buf)
{
	uint64_t pos = FLAT_HDR, opos = FLAT_HDR, r = 0;
	uint8_t h[16];
	if (copy_range(in, 0, FLAT_HDR, fd, 0, buf))
		return -1;
	while (!preadn(in, h, 16, pos)) {
		uint64_t dst = be64(h), size = be64(h + 8);
		if (dst == UINT64_MAX && size == UINT64_MAX)
			break;
		if (pos + 16 + size > fsize)
			return -1;
		if (r++ >= keep) {
			pos += 16 + size;
			continue;
		}
		if (pwriten(fd, h, 16, opos))
			return -1;
		for (uint64_t o = 0; o < size; o += CHUNK) {
			uint64_t n = size - o < CHUNK ? size - o : CHUNK;
			if (preadn(in, buf, n, pos + 16 + o))
				return -1;
			if (undo) {
				for (size_t i = 0; i < e->nu; i++) {
					const struct range *u = &e->u[i];
					uint64_t s = u->off > dst + o ? u->off : dst + o;
					uint64_t t = u->off + u->len < dst + o + n ? u->off + u->len : dst + o + n;
					if (s < t)
						memcpy(buf + (s - dst - o), u->b + (s - u->off), t - s);
				}
			} else {
				apply_wr(e, dst + o, buf, n);
			}
			if (pwriten(fd, buf, n, opos + 16 + o))
				return -1;
		}
		pos += 16 + size;
		opos += 16 + size;
	}
	if (!undo) {
		for (size_t i = 0; i <= e->nw; i++) {
			uint64_t s = i < e->nw ? e->w[i].off : e->size;
			uint64_t t = i < e->nw ? e->w[i].off + e->w[i].len : e->size + e->napp;
			struct iv un[64];
			size_t k = uncovered(cov, ncov, s, t, un, 64);
			for (size_t j = 0; j < k; j++)
				for (uint64_t o = un[j].s; o < un[j].e; o += CHUNK) {
					uint64_t n = un[j].e - o < CHUNK ? un[j].e - o : CHUNK;
					memset(buf, 0, n);
					if (o >= e->size)
						memcpy(buf, e->app + (o - e->size), n);
					else
						apply_wr(e, o, buf, n);
					if (write_rec(fd, &opos, o, buf, n))
						return -1;
				}
		}
	}
	memset(h, 0xff, 16);
	if (pwriten(fd, h, 16, opos))
		return -1;
	*outsize = opos + 16;
	return 0;
}

/* How many records the edit adds (for the journal, before writing). */
static uint64_t flat_added(const struct edit *e, const struct iv *cov, size_t ncov)
{
	uint64_t n = 0;
	for (size_t i = 0; i <= e->nw; i++) {
		uint64_t s = i < e->nw ? e->w[i].off : e->size;
		uint64_t t = i < e->nw ? e->w[i].off + e->w[i].len : e->size + e->napp;
		struct iv un[64];
		size_t k = uncovered(cov, ncov, s, t, un, 64);
		for (size_t j = 0; j < k; j++)
			n += (un[j].e - un[j].s + CHUNK - 1) / CHUNK;
	}
	return n;
}

/* ---- ELF ---- */

struct elf {
	uint8_t eh[64];
	uint8_t *ph; unsigned phnum;
	uint64_t phoff;
	int note;                        /* index of the PT_NOTE */
};

static int elf_read(int fd, uint64_t fsize, struct elf *x, const char *in, char *err, size_t el)
{
	memset(x, 0, sizeof(*x));
	if (preadn(fd, x->eh, 64, 0) || memcmp(x->eh, "\177ELF", 4) || x->eh[4] != 2 || x->eh[5] != 1)
		return fail(err, el, "%s: not a 64-bit little-endian ELF file", in);
	x->phoff = le(x->eh + 32, 8);
	x->phnum = (unsigned)le(x->eh + 56, 2);
	if (le(x->eh + 54, 2) != 56 || x->phnum == 0xffff || !x->phnum ||
	    x->phoff + 56ull * x->phnum > fsize)
		return fail(err, el, "%s: ELF program headers unusable (phnum %u)", in, x->phnum);
	x->ph = malloc(56ull * x->phnum);
	if (!x->ph || preadn(fd, x->ph, 56ull * x->phnum, x->phoff))
		return fail(err, el, "%s: ELF program headers unreadable", in);
	x->note = -1;
	for (unsigned i = 0; i < x->phnum && x->note < 0; i++)
		if (le(x->ph + 56 * i, 4) == 4)
			x->note = (int)i;
	if (x->note < 0)
		return fail(err, el, "%s: ELF dump without a PT_NOTE segment", in);
	uint8_t *n = x->ph + 56 * x->note;
	if (le(n + 8, 8) + le(n + 32, 8) > fsize || le(n + 32, 8) > MAX_NOTES)
		return fail(err, el, "%s: PT_NOTE beyond the end of the file", in);
	return 0;
}

static int elf_page(void *ctx, uint64_t pfn, uint8_t *buf)
{
	const struct { int fd; struct elf *x; } *c = ctx;
	for (unsigned i = 0; i < c->x->phnum; i++) {
		const uint8_t *p = c->x->ph + 56 * i;
		uint64_t pa = le(p + 24, 8), fs = le(p + 32, 8), off = le(p + 8, 8);
		if (le(p, 4) == 1 && pfn * BLK >= pa && pfn * BLK + BLK <= pa + fs)
			return preadn(c->fd, buf, BLK, off + pfn * BLK - pa);
	}
	return -1;
}

static int elf_edit(int fd, struct elf *x, struct edit *e, const struct page *pg, size_t npg,
		    const uint8_t *note, size_t nl, char *err, size_t el)
{
	uint8_t *n = x->ph + 56 * x->note;
	uint64_t noff = le(n + 8, 8), nsz = le(n + 32, 8);
	uint64_t at = noff + ((nsz + 3) & ~3ull);
	e->ins_at = noff + nsz;
	e->ins_len = (at - e->ins_at + nl + BLK - 1) / BLK * BLK;
	for (unsigned i = 0; i < x->phnum; i++) {
		const uint8_t *p = x->ph + 56 * i;
		if ((int)i != x->note && le(p + 8, 8) < e->ins_at && le(p + 8, 8) + le(p + 32, 8) > noff &&
		    le(p + 32, 8))
			return fail(err, el, "ELF segment %u overlaps the notes", i);
	}
	/* headers: the note grows; everything behind it moves */
	uint8_t *ph = malloc(56ull * x->phnum), eh[64];
	if (!ph)
		return fail(err, el, "out of memory");
	memcpy(ph, x->ph, 56ull * x->phnum);
	memcpy(eh, x->eh, 64);
	for (unsigned i = 0; i < x->phnum; i++) {
		uint8_t *p = ph + 56 * i;
		if ((int)i == x->note) {
			uint64_t ns = at - noff + nl;
			if (le(p + 40, 8) == le(p + 32, 8))
				put_le(p + 40, ns, 8);
			put_le(p + 32, ns, 8);
		} else if (le(p + 8, 8) >= e->ins_at) {
			put_le(p + 8, le(p + 8, 8) + e->ins_len, 8);
		}
	}
	if (x->phoff >= e->ins_at)
		put_le(eh + 32, x->phoff + e->ins_len, 8);
	uint64_t shoff = le(eh + 40, 8);
	if (shoff >= e->ins_at)
		put_le(eh + 40, shoff + e->ins_len, 8);
	int r = add_undo(e, 0, x->eh, 64) || add_wr(e, 0, eh, 64) ||
		add_undo(e, shifted(e, x->phoff), x->ph, 56ull * x->phnum) ||
		add_wr(e, shifted(e, x->phoff), ph, 56ull * x->phnum);
	free(ph);
	uint8_t *nb = calloc(1, at - e->ins_at + nl);
	if (r || !nb) {
		free(nb);
		return fail(err, el, "out of memory");
	}
	memcpy(nb + (at - e->ins_at), note, nl);
	r = add_wr(e, e->ins_at, nb, at - e->ins_at + nl);
	free(nb);
	if (r)
		return fail(err, el, "out of memory");
	for (size_t i = 0; i < npg; i++) {
		uint64_t off = UINT64_MAX;
		for (unsigned j = 0; j < x->phnum; j++) {
			const uint8_t *p = x->ph + 56 * j;
			uint64_t pa = le(p + 24, 8), fs = le(p + 32, 8);
			if (le(p, 4) == 1 && pg[i].pfn * BLK >= pa && pg[i].pfn * BLK + BLK <= pa + fs)
				off = le(p + 8, 8) + pg[i].pfn * BLK - pa;
		}
		uint8_t old[BLK];
		if (off == UINT64_MAX || preadn(fd, old, BLK, off))
			return fail(err, el, "page 0x%" PRIx64 " is not in the ELF dump", pg[i].pfn * BLK);
		if (add_undo(e, shifted(e, off), old, BLK) || add_wr(e, shifted(e, off), pg[i].data, BLK))
			return fail(err, el, "out of memory");
	}
	return 0;
}

/* ---- image_write ---- */

static int sidecar_write(const char *out, const char *text, size_t len, struct outf *so,
			 char *err, size_t el)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s.vtd", out);
	if (out_open(so, path, err, el))
		return -1;
	if (pwriten(so->fd, text, len, 0)) {
		out_abort(so);
		return fail(err, el, "%s: write error: %s", path, strerror(errno));
	}
	return out_close(so, path, err, el);
}

int image_write(const char *in, const char *out, const struct image_patch *p, size_t np,
		const char *record, size_t reclen, char *where, size_t wherelen,
		char *err, size_t errlen)
{
	struct edit e = { 0 };
	struct outf o = { "", -1 }, so = { "", -1 };
	struct diskdump *d = NULL;
	struct page *pg = NULL;
	struct iv *cov = NULL;
	struct elf x = { 0 };
	char *text = NULL, sig[16] = "";
	uint8_t *note = NULL, *buf = malloc(CHUNK);
	size_t npg = 0, tl = 0, nl = 0, ncov = 0;
	bool side = false;
	int rc = -1, fd = open(in, O_RDONLY);
	struct stat st;
	if (!buf) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	if (fd < 0 || fstat(fd, &st)) {
		fail(err, errlen, "%s: cannot open: %s", in, strerror(errno));
		goto done;
	}
	if (same_file(in, out)) {
		fail(err, errlen, "%s: refusing to write over the dump itself (give another output file)", out);
		goto done;
	}
	e.size = (uint64_t)st.st_size;
	if (preadn(fd, sig, sizeof(sig), 0)) {
		fail(err, errlen, "%s: too short to be a dump", in);
		goto done;
	}
	bool elf = !memcmp(sig, "\177ELF", 4);
	if (elf) {
		struct { int fd; struct elf *x; } c = { fd, &x };
		e.format = "elf";
		if (elf_read(fd, e.size, &x, in, err, errlen))
			goto done;
		pg = patched_pages(p, np, &npg, elf_page, &c, err, errlen);
	} else {
		d = diskdump_open(in, err, errlen);
		if (!d)
			goto done;
		e.format = diskdump_is_flattened(d) ? "flattened" : "diskdump";
		pg = patched_pages(p, np, &npg, dd_page, d, err, errlen);
	}
	if (!pg)
		goto done;
	/* The journal's length does not depend on the values it holds, only on
	 * the note's size: build the edit around a note of the size the last
	 * round asked for until it stops changing, then once more with the note
	 * itself. */
	size_t want = 0;
	bool final = false;
	for (int round = 0; round < 8; round++) {
		struct edit keep = { .format = e.format, .size = e.size };
		edit_free(&e);
		e = keep;
		if (!final) {
			free(note);
			note = calloc(1, want ? want : 1);
			nl = want;
			if (!note) {
				fail(err, errlen, "out of memory");
				goto done;
			}
		}
		if (elf) {
			if (elf_edit(fd, &x, &e, pg, npg, note, nl, err, errlen))
				goto done;
		} else {
			struct kd k;
			uint64_t end = e.size;
			if (kd_header(d, &k, in, err, errlen))
				goto done;
			if (diskdump_is_flattened(d)) {
				free(cov);
				cov = flat_cover(fd, (uint64_t)st.st_size, &ncov, &e.nrec, &end);
				if (!cov) {
					fail(err, errlen, "%s: flattened stream unreadable", in);
					goto done;
				}
				e.size = end;                     /* the rearranged file's end */
				side = nl > k.slack;
			}
			if (kd_edit(d, &k, &e, pg, npg, end, side ? NULL : note, nl, err, errlen))
				goto done;
			if (diskdump_is_flattened(d))
				e.added = flat_added(&e, cov, ncov);
		}
		if (final)
			break;
		free(text);
		text = full_record(&e, record, reclen, &tl);
		if (!text) {
			fail(err, errlen, "out of memory");
			goto done;
		}
		if (note_size(tl) == want || (side && round)) {
			free(note);
			note = make_note(text, tl, &nl);
			if (!note) {
				fail(err, errlen, "out of memory");
				goto done;
			}
			final = true;
			continue;
		}
		want = note_size(tl);
	}
	if (!final) {
		fail(err, errlen, "%s: the marks record does not settle to one size", in);
		goto done;
	}
	if (out_open(&o, out, err, errlen))
		goto done;
	if (!strcmp(e.format, "flattened")) {
		uint64_t osz;
		if (flat_emit(fd, (uint64_t)st.st_size, o.fd, &e, cov, ncov, UINT64_MAX, false, &osz, buf) ||
		    ftruncate(o.fd, (off_t)osz)) {
			fail(err, errlen, "%s: write error: %s", out, strerror(errno));
			goto done;
		}
	} else if (write_plain(fd, &e, o.fd, buf)) {
		fail(err, errlen, "%s: write error: %s", out, strerror(errno));
		goto done;
	}
	if (out_close(&o, out, err, errlen))
		goto done;
	if (side && sidecar_write(out, text, tl, &so, err, errlen))
		goto done;
	if (side) {
		char path[4200];
		snprintf(path, sizeof(path), "%s.vtd", out);
		if (out_commit(&so, path, err, errlen))
			goto done;
		snprintf(where, wherelen, "sidecar %s (no room for a note in the flattened stream)", path);
	} else {
		char path[4200];
		snprintf(path, sizeof(path), "%s.vtd", out);
		unlink(path);                    /* a stale sidecar would contradict the note */
		snprintf(where, wherelen, "note in %s", out);
	}
	if (out_commit(&o, out, err, errlen))
		goto done;
	rc = 0;
done:
	if (rc) {
		out_abort(&o);
		if (o.tmp[0])
			unlink(o.tmp);
		if (so.tmp[0])
			unlink(so.tmp);
	}
	if (fd >= 0)
		close(fd);
	diskdump_close(d);
	edit_free(&e);
	free(x.ph);
	free(pg);
	free(cov);
	free(text);
	free(note);
	free(buf);
	return rc;
}

/* ---- undo ---- */

static int jnum(const char *line, const char *key, uint64_t *v)
{
	char k[40];
	snprintf(k, sizeof(k), "\t%s=", key);
	const char *p = strstr(line, k);
	if (!p)
		return -1;
	char *end;
	errno = 0;
	*v = strtoull(p + strlen(k), &end, 0);
	return errno || (*end && *end != '\t' && *end != '\n') ? -1 : 0;
}

/* The journal of a record into e (formats, sizes, undo lines). */
static int parse_journal(const char *text, struct edit *e, char *fmt, size_t fl, const char *path,
			 char *err, size_t el)
{
	bool head = false;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "journal\t", 8))
			continue;
		if (!strncmp(l, "journal\tformat=", 15)) {
			size_t n = strcspn(l + 15, "\t\n");
			snprintf(fmt, fl, "%.*s", (int)n, l + 15);
			if (jnum(l, "size", &e->size) || jnum(l, "ins_at", &e->ins_at) ||
			    jnum(l, "ins_len", &e->ins_len) || jnum(l, "desc_at", &e->desc_at) ||
			    jnum(l, "ndesc", &e->ndesc) || jnum(l, "appended", &e->napp) ||
			    jnum(l, "records", &e->nrec) || jnum(l, "added", &e->added))
				return fail(err, el, "%s: marks record journal: bad format line", path);
			head = true;
			continue;
		}
		uint64_t off, len;
		const char *b = strstr(l, "\tbytes=");
		if (strncmp(l, "journal\tundo\t", 13) || jnum(l, "off", &off) || jnum(l, "len", &len) || !b ||
		    len > (1ull << 30))
			return fail(err, el, "%s: marks record journal: bad undo line", path);
		b += 7;
		uint8_t *o = calloc(1, len ? len : 1);
		if (!o)
			return fail(err, el, "out of memory");
		if (strncmp(b, "zero", 4)) {
			for (uint64_t i = 0; i < len; i++) {
				unsigned v;
				if (sscanf(b + 2 * i, "%2x", &v) != 1) {
					free(o);
					return fail(err, el, "%s: marks record journal: bad undo bytes", path);
				}
				o[i] = (uint8_t)v;
			}
		}
		int r = add_undo(e, off, o, len);
		free(o);
		if (r)
			return fail(err, el, "out of memory");
	}
	if (!head)
		return fail(err, el, "%s: the marks record has no journal (not written by vtd restore)", path);
	return 0;
}

/* Output offset -> input offset (inside the insertion: none). */
static bool unshift(const struct edit *e, uint64_t off, uint64_t *o)
{
	if (!e->ins_len || off < e->ins_at) {
		*o = off;
		return true;
	}
	if (off < e->ins_at + e->ins_len)
		return false;
	*o = off - e->ins_len;
	return true;
}

/* In place, for a kdump-compressed file (makedumpfile-vtd's output):
 * append the patched pages and a new note area (the old notes and ours),
 * then repoint the sub-header's offset_note/size_note and the page_descs.
 * Appending first and pointing at the appended bytes after an fsync means
 * every state on the way is a valid dump; the journal undoes it exactly
 * (ins_len 0: overwrites and an appended tail). */
int image_append(const char *path, const struct image_patch *p, size_t np,
		 const char *record, size_t reclen, int (*step)(const char *name),
		 char *err, size_t errlen)
{
	struct edit e = { 0 };
	struct diskdump *d = NULL;
	struct page *pg = NULL;
	struct kd k;
	uint8_t *old = NULL, *note = NULL, b[24];
	char *text = NULL;
	size_t npg = 0, tl = 0, nl = 0;
	int rc = -1, fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		fail(err, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
		goto done;
	}
	d = diskdump_open(path, err, errlen);
	if (!d)
		goto done;
	if (diskdump_is_flattened(d)) {
		fail(err, errlen, "%s: a flattened stream cannot be patched in place", path);
		goto done;
	}
	if (kd_header(d, &k, path, err, errlen) || !(pg = patched_pages(p, np, &npg, dd_page, d, err, errlen)))
		goto done;
	uint64_t on = le(k.sub + 48, 8), sn = le(k.sub + 56, 8);
	uint64_t size = (uint64_t)st.st_size, pages_at = (size + 7) & ~7ull;
	uint64_t notes_at = pages_at + (uint64_t)npg * BLK, ours_at = notes_at + ((sn + 3) & ~3ull);
	old = calloc(1, sn + 4);
	if (!old || diskdump_vread(d, old, sn, on)) {
		fail(err, errlen, "%s: notes unreadable", path);
		goto done;
	}
	/* the journal's length does not depend on its values, so the note's
	 * size settles after one round; go on until it has */
	for (int round = 0, settled = 0; round < 4 && !settled; round++) {
		size_t prev = nl;
		edit_free(&e);
		e.format = "diskdump";
		e.size = size;
		e.desc_at = diskdump_desc_off(d);
		e.ndesc = diskdump_ndesc(d);
		e.napp = ours_at + nl - size;
		put_le(b, notes_at, 8);
		put_le(b + 8, (ours_at - notes_at) + nl, 8);
		if (add_undo(&e, BLK + 48, k.sub + 48, 16) || add_wr(&e, BLK + 48, b, 16))
			goto nomem;
		for (size_t i = 0; i < npg; i++) {
			uint64_t pos = diskdump_desc_pos(d, pg[i].pfn);
			uint8_t od[24];
			if (diskdump_vread(d, od, 24, pos)) {
				fail(err, errlen, "page descriptor of pfn 0x%" PRIx64 " unreadable", pg[i].pfn);
				goto done;
			}
			memcpy(b, od, 24);
			put_le(b, pages_at + (uint64_t)i * BLK, 8);
			put_le(b + 8, BLK, 4);
			put_le(b + 12, 0, 4);
			if (add_undo(&e, pos, od, 24) || add_wr(&e, pos, b, 24))
				goto nomem;
		}
		free(text);
		free(note);
		note = NULL;
		if (!(text = full_record(&e, record, reclen, &tl)) || !(note = make_note(text, tl, &nl)))
			goto nomem;
		settled = round > 0 && nl == prev;
	}
	/* appended bytes first (beyond the dump: invisible until pointed at) */
	uint8_t zero[8] = { 0 };
	if ((pages_at > size && pwriten(fd, zero, pages_at - size, size)))
		goto io;
	for (size_t i = 0; i < npg; i++)
		if (pwriten(fd, pg[i].data, BLK, pages_at + (uint64_t)i * BLK))
			goto io;
	if (pwriten(fd, old, (ours_at - notes_at), notes_at) || pwriten(fd, note, nl, ours_at) || fsync(fd))
		goto io;
	if (step && step("appended")) {
		fail(err, errlen, "%s: stopped after appending", path);
		goto undo_tail;
	}
	/* then the pointers: the note area first (its journal undoes the rest) */
	if (pwriten(fd, e.w[0].b, e.w[0].len, e.w[0].off) || fsync(fd))
		goto io;
	if (step && step("pointed")) {
		fail(err, errlen, "%s: stopped after repointing the notes", path);
		if (pwriten(fd, e.u[0].b, e.u[0].len, e.u[0].off) || fsync(fd))
			goto done;        /* cannot happen quietly: err says where it stopped */
		goto undo_tail;
	}
	for (size_t i = 1; i < e.nw; i++)
		if (pwriten(fd, e.w[i].b, e.w[i].len, e.w[i].off))
			goto io;
	if (fsync(fd))
		goto io;
	rc = 0;
	goto done;
undo_tail:
	if (ftruncate(fd, (off_t)size)) {
		/* nothing points at the tail: the dump is intact either way */
	}
	goto done;
nomem:
	fail(err, errlen, "out of memory");
	goto done;
io:
	fail(err, errlen, "%s: write error: %s", path, strerror(errno));
	/* nothing points at a partial tail: drop it */
	if (ftruncate(fd, (off_t)size)) {
		/* the dump is intact either way */
	}
done:
	free(text);
	free(note);
	free(old);
	free(pg);
	edit_free(&e);
	if (d)
		diskdump_close(d);
	if (fd >= 0)
		close(fd);
	return rc;
}

int image_undo_inplace(const char *path, char *err, size_t errlen)
{
	struct edit e = { 0 };
	char *text = NULL, fmt[32] = "", from[4300];
	size_t len;
	int rc = -1, fd = -1;
	int r = image_read_record(path, &text, &len, from, sizeof(from), err, errlen);
	if (r == 0)
		fail(err, errlen, "%s carries no marks record: nothing to undo", path);
	if (r <= 0 || parse_journal(text, &e, fmt, sizeof(fmt), path, err, errlen))
		goto done;
	if (strcmp(fmt, "diskdump") || e.ins_len) {
		fail(err, errlen, "%s: only an appended kdump file is undone in place", path);
		goto done;
	}
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail(err, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
		goto done;
	}
	/* the note pointer is the first undo range: it goes back first, so a
	 * stop half way leaves the record still describing the rest */
	for (size_t i = 0; i < e.nu; i++)
		if (e.u[i].off + e.u[i].len > e.size || pwriten(fd, e.u[i].b, e.u[i].len, e.u[i].off)) {
			fail(err, errlen, "%s: cannot put back 0x%" PRIx64, path, e.u[i].off);
			goto done;
		}
	if (fsync(fd) || ftruncate(fd, (off_t)e.size) || fsync(fd)) {
		fail(err, errlen, "%s: write error: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	free(text);
	edit_free(&e);
	return rc;
}

int image_undo(const char *in, const char *out, char *err, size_t errlen)
{
	struct edit e = { 0 };
	struct outf o = { "", -1 };
	char *text = NULL, fmt[32] = "", from[4300];
	size_t len;
	uint8_t *buf = malloc(CHUNK);
	int rc = -1, fd = -1;
	struct stat st;
	if (!buf) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	if (same_file(in, out)) {
		fail(err, errlen, "%s: refusing to write over the dump itself (give another output file)", out);
		goto done;
	}
	int r = image_read_record(in, &text, &len, from, sizeof(from), err, errlen);
	if (r == 0)
		fail(err, errlen, "%s carries no marks record: nothing to undo", in);
	if (r <= 0 || parse_journal(text, &e, fmt, sizeof(fmt), in, err, errlen))
		goto done;
	e.format = fmt;
	fd = open(in, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fail(err, errlen, "%s: cannot open: %s", in, strerror(errno));
		goto done;
	}
	if (out_open(&o, out, err, errlen))
		goto done;
	if (!strcmp(fmt, "flattened")) {
		uint64_t osz;
		if (flat_emit(fd, (uint64_t)st.st_size, o.fd, &e, NULL, 0, e.nrec, true, &osz, buf) ||
		    ftruncate(o.fd, (off_t)osz)) {
			fail(err, errlen, "%s: cannot rebuild the stream", in);
			goto done;
		}
	} else if (!strcmp(fmt, "diskdump") || !strcmp(fmt, "elf")) {
		if ((uint64_t)st.st_size < e.size + e.ins_len + e.napp || e.ins_at > e.size) {
			fail(err, errlen, "%s: shorter than its journal says (%" PRIu64 " bytes)", in,
			     (uint64_t)st.st_size);
			goto done;
		}
		uint64_t split = e.ins_len ? e.ins_at : e.size;
		if (copy_range(fd, 0, split, o.fd, 0, buf) ||
		    copy_range(fd, split + e.ins_len, e.size - split, o.fd, split, buf) ||
		    ftruncate(o.fd, (off_t)e.size)) {
			fail(err, errlen, "%s: write error: %s", out, strerror(errno));
			goto done;
		}
		if (e.ins_len && !strcmp(fmt, "diskdump"))
			for (uint64_t i = 0; i < e.ndesc; i += CHUNK / 24) {
				uint64_t n = e.ndesc - i < CHUNK / 24 ? e.ndesc - i : CHUNK / 24;
				uint64_t at = e.desc_at + 24 * i;
				if (at + n * 24 > e.size || preadn(o.fd, buf, n * 24, at))
					goto bad_io;
				for (uint64_t j = 0; j < n; j++)
					put_le(buf + 24 * j, le(buf + 24 * j, 8) - e.ins_len, 8);
				if (pwriten(o.fd, buf, n * 24, at))
					goto bad_io;
			}
		for (size_t i = 0; i < e.nu; i++) {
			uint64_t to, last;
			/* undo ranges lie wholly before or behind the insertion */
			if (!unshift(&e, e.u[i].off, &to) || !e.u[i].len ||
			    !unshift(&e, e.u[i].off + e.u[i].len - 1, &last) || last - to + 1 != e.u[i].len ||
			    last >= e.size) {
				fail(err, errlen, "%s: marks record journal: undo range 0x%" PRIx64
				     " does not fit the dump", in, e.u[i].off);
				goto done;
			}
			if (pwriten(o.fd, e.u[i].b, e.u[i].len, to))
				goto bad_io;
		}
	} else {
		fail(err, errlen, "%s: marks record journal: unknown format '%s'", in, fmt);
		goto done;
	}
	if (out_close(&o, out, err, errlen) || out_commit(&o, out, err, errlen))
		goto done;
	rc = 0;
	goto done;
bad_io:
	fail(err, errlen, "%s: write error: %s", out, strerror(errno));
done:
	if (rc)
		out_abort(&o);
	if (fd >= 0)
		close(fd);
	edit_free(&e);
	free(text);
	free(buf);
	return rc;
}
