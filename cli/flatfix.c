/* Excluded pages put back into a flattened stream as it passes (flatfix.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "flatfix.h"

#define FLAT_HDR 4096
#define DESC 24
#define MAX_REC (256ull << 20)    /* a record larger than this: not makedumpfile's */

static const uint8_t END[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct hrec { uint64_t dst, size; uint8_t *data; int kind; };
enum { K_BITMAP, K_DESC, K_DATA };

struct flatfix {
	uint64_t *need;
	size_t n;
	uint64_t hold_max, held_bytes;
	bool giveup;
	bool raw;                 /* everything from here on goes out as it comes */
	bool end_pending;         /* the end marker came; finish writes it */
	char why[200];
	/* parser */
	uint8_t fh[FLAT_HDR];
	size_t fh_n;
	uint8_t rh[16];
	size_t rh_n;
	uint8_t *rd;
	uint64_t rd_dst, rd_size, rd_n;
	bool in_rec;
	/* the kdump layout, from the header records */
	uint8_t h[464], sub[104];
	uint64_t h_n, sub_n;
	uint64_t bs, bm1, bm2, desc_off, max_mapnr;
	/* where the records go */
	uint64_t desc_next, data_start, data_next, window, eof;
	bool have_data;
	struct hrec *held;
	size_t nheld, cap;
	uint64_t *rank;           /* per needed page: second-bitmap bits below it */
	int8_t *bit;              /* per needed page: its bit, -1 not seen */
	size_t nmissing;          /* needed pages below max_mapnr whose bit is not 1 */
};

static int emit(int out, uint64_t dst, const void *data, uint64_t size)
{
	uint8_t h[16];
	put_be64(h, dst);
	put_be64(h + 8, size);
	return writen(out, h, 16) || writen(out, data, (size_t)size) ? -1 : 0;
}

struct flatfix *flatfix_new(const uint64_t *need, size_t n, uint64_t hold_bytes)
{
	struct flatfix *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->need = malloc((n ? n : 1) * sizeof(*f->need));
	f->rank = calloc(n ? n : 1, sizeof(*f->rank));
	f->bit = malloc(n ? n : 1);
	if (!f->need || !f->rank || !f->bit) {
		flatfix_free(f);
		return NULL;
	}
	memcpy(f->need, need, n * sizeof(*need));
	memset(f->bit, -1, n ? n : 1);
	f->n = n;
	f->hold_max = hold_bytes;
	/* the head of the data the grown table may cover: 24 bytes per page
	 * added, plus the page that straddles its end */
	f->window = (uint64_t)n * DESC + 4096;
	return f;
}

void flatfix_free(struct flatfix *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nheld; i++)
		free(f->held[i].data);
	free(f->held);
	free(f->rd);
	free(f->need);
	free(f->rank);
	free(f->bit);
	free(f);
}

/* Stop repairing: every held record goes out as it came. */
static int give_up(struct flatfix *f, int out, const char *why)
{
	int rc = 0;
	if (!f->giveup)
		snprintf(f->why, sizeof(f->why), "%s", why);
	f->giveup = true;
	for (size_t i = 0; i < f->nheld; i++) {
		if (!rc && emit(out, f->held[i].dst, f->held[i].data, f->held[i].size))
			rc = -1;
		free(f->held[i].data);
	}
	f->nheld = 0;
	f->held_bytes = 0;
	return rc;
}

static int hold(struct flatfix *f, int out, int kind)
{
	if (f->held_bytes + f->rd_size > f->hold_max)
		return give_up(f, out, "the page_desc table is over the bound held back") ||
		       emit(out, f->rd_dst, f->rd, f->rd_size);
	if (f->nheld == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 64;
		struct hrec *nh = realloc(f->held, nc * sizeof(*nh));
		if (!nh)
			return give_up(f, out, "out of memory") || emit(out, f->rd_dst, f->rd, f->rd_size);
		f->held = nh;
		f->cap = nc;
	}
	f->held[f->nheld++] = (struct hrec){ f->rd_dst, f->rd_size, f->rd, kind };
	f->held_bytes += f->rd_size;
	f->rd = NULL;                   /* now the held record's */
	return 0;
}

/* Copy the part of the record in [at, at + len) of the kdump file into buf. */
static uint64_t take(const struct flatfix *f, uint64_t at, uint64_t len, uint8_t *buf)
{
	uint64_t s = f->rd_dst > at ? f->rd_dst : at;
	uint64_t e = f->rd_dst + f->rd_size < at + len ? f->rd_dst + f->rd_size : at + len;
	if (s >= e)
		return 0;
	memcpy(buf + (s - at), f->rd + (s - f->rd_dst), (size_t)(e - s));
	return e - s;
}

/* Needed pages absent from the bitmap so far, or not seen yet: kept as
 * the bitmap passes (asked for every record, O(1)). */
static bool may_need(const struct flatfix *f)
{
	return f->nmissing > 0;
}

/* One complete record (f->rd): forward it, or hold it back. */
static int record(struct flatfix *f, int out)
{
	uint64_t dst = f->rd_dst, size = f->rd_size, end = dst + size;
	if (end > f->eof)
		f->eof = end;
	if (f->giveup)
		return emit(out, dst, f->rd, size);
	/* the headers (makedumpfile writes them first) */
	f->h_n += take(f, 0, sizeof(f->h), f->h);
	if (f->h_n == sizeof(f->h) && !f->bs) {
		f->bs = le(f->h + 428, 4);
		uint64_t sub_blocks = le(f->h + 432, 4), bm_blocks = le(f->h + 436, 4);
		if (memcmp(f->h, "KDUMP   ", 8) || f->bs != 4096 || le(f->h + 8, 4) < 6)
			return give_up(f, out, "not a kdump-compressed stream of 4 KiB pages (v6+)") ||
			       emit(out, dst, f->rd, size);
		f->bm1 = f->bs * (1 + sub_blocks);
		f->bm2 = f->bm1 + bm_blocks * f->bs / 2;
		f->desc_off = f->bm1 + bm_blocks * f->bs;
		f->desc_next = f->desc_off;
	}
	if (f->bs && f->sub_n < sizeof(f->sub)) {
		f->sub_n += take(f, f->bs, sizeof(f->sub), f->sub);
		if (f->sub_n == sizeof(f->sub)) {
			f->max_mapnr = le(f->sub + 96, 8);
			if (le(f->sub + 12, 4) || !f->max_mapnr || (f->max_mapnr + 7) / 8 > f->desc_off - f->bm2)
				return give_up(f, out, "a split dump, or a max_mapnr the bitmaps do not hold") ||
				       emit(out, dst, f->rd, size);
			for (size_t i = 0; i < f->n; i++)
				f->nmissing += f->need[i] < f->max_mapnr;
		}
	}
	if (end <= FLAT_HDR || (f->bs && end <= f->bm2))
		return emit(out, dst, f->rd, size);      /* headers, notes, first bitmap */
	if (f->sub_n < sizeof(f->sub))
		return give_up(f, out, "records before the kdump headers") || emit(out, dst, f->rd, size);
	if (dst < f->desc_off) {
		/* the second bitmap: ranks and bits of the needed pages */
		if (end > f->desc_off)
			return give_up(f, out, "a record across the second bitmap's end") ||
			       emit(out, dst, f->rd, size);
		uint64_t a = dst > f->bm2 ? dst - f->bm2 : 0, b = end - f->bm2;
		const uint8_t *bp = f->rd + (f->bm2 + a - dst);
		bool mine = false;
		uint64_t pop = 0, at = a;              /* popcount of [a, at) */
		for (size_t i = 0; i < f->n; i++) {
			uint64_t q = f->need[i] / 8;
			uint64_t upto = q < b ? q : b;
			for (; at < upto; at++)
				pop += (uint64_t)__builtin_popcount(bp[at - a]);
			if (q < a)
				continue;
			f->rank[i] += pop;
			if (q < b) {
				unsigned s = (unsigned)(f->need[i] % 8);
				f->rank[i] += (uint64_t)__builtin_popcount(bp[q - a] & ((1u << s) - 1));
				int8_t nb = (int8_t)(bp[q - a] >> s & 1);
				if (f->need[i] < f->max_mapnr)
					f->nmissing += (size_t)(nb != 1) - (size_t)(f->bit[i] != 1);
				f->bit[i] = nb;
				mine |= f->bit[i] == 0 && f->need[i] < f->max_mapnr;
			}
		}
		return mine ? hold(f, out, K_BITMAP) : emit(out, dst, f->rd, size);
	}
	/* nothing to put back (every needed bit seen, all set): the stream
	 * goes on unchanged, byte for byte */
	if (!may_need(f))
		return give_up(f, out, "") || emit(out, dst, f->rd, size);
	/* the page_desc table from desc_off, the data from data_start; each
	 * written in order (two caches in makedumpfile) */
	if (!f->have_data && dst != f->desc_next) {
		f->have_data = true;
		f->data_start = f->data_next = dst;
	}
	if (!f->have_data || dst < f->data_start) {
		if (dst != f->desc_next || end > (f->have_data ? f->data_start : UINT64_MAX))
			return give_up(f, out, "page_desc records out of order") || emit(out, dst, f->rd, size);
		f->desc_next = end;
		return hold(f, out, K_DESC);
	}
	if (dst == f->data_next) {
		f->data_next = end;
		if (dst < f->data_start + f->window)
			return hold(f, out, K_DATA);
	}
	return emit(out, dst, f->rd, size);
}

int flatfix_feed(struct flatfix *f, const void *buf, size_t len, int out)
{
	const uint8_t *p = buf;
	while (len) {
		if (f->raw) {
			if (f->end_pending) {        /* bytes after the end marker: as they are */
				if (give_up(f, out, "bytes after the end marker") || writen(out, END, 16))
					return -1;
				f->end_pending = false;
			}
			return writen(out, p, len);
		}
		if (f->fh_n < FLAT_HDR) {
			size_t k = FLAT_HDR - f->fh_n < len ? FLAT_HDR - f->fh_n : len;
			memcpy(f->fh + f->fh_n, p, k);
			f->fh_n += k, p += k, len -= k;
			if (f->fh_n == FLAT_HDR) {
				if (writen(out, f->fh, FLAT_HDR))
					return -1;
				if (memcmp(f->fh, "makedumpfile", 12))
					f->raw = true;           /* not a flattened stream: pass it on */
			}
			continue;
		}
		if (!f->in_rec) {
			size_t k = 16 - f->rh_n < len ? 16 - f->rh_n : len;
			memcpy(f->rh + f->rh_n, p, k);
			f->rh_n += k, p += k, len -= k;
			if (f->rh_n < 16)
				continue;
			f->rh_n = 0;
			f->rd_dst = be64(f->rh);
			f->rd_size = be64(f->rh + 8);
			if (f->rd_dst == UINT64_MAX && f->rd_size == UINT64_MAX) {
				f->end_pending = true;           /* the end marker: finish writes it */
				f->raw = true;
				continue;
			}
			if (f->rd_size > MAX_REC || f->rd_dst > (1ull << 62)) {
				/* not makedumpfile's: everything from here as is */
				if (give_up(f, out, "a record makedumpfile does not write") ||
				    writen(out, f->rh, 16))
					return -1;
				f->raw = true;
				continue;
			}
			f->rd = malloc(f->rd_size ? f->rd_size : 1);
			if (!f->rd) {
				if (give_up(f, out, "out of memory") || writen(out, f->rh, 16))
					return -1;
				f->raw = true;
				continue;
			}
			f->rd_n = 0;
			f->in_rec = true;
		}
		size_t k = f->rd_size - f->rd_n < len ? (size_t)(f->rd_size - f->rd_n) : len;
		memcpy(f->rd + f->rd_n, p, k);
		f->rd_n += k, p += k, len -= k;
		if (f->rd_n == f->rd_size) {
			f->in_rec = false;
			int r = record(f, out);
			free(f->rd);
			f->rd = NULL;
			if (r)
				return -1;
		}
	}
	return 0;
}

static int cmp_hrec(const void *a, const void *b)
{
	const struct hrec *x = a, *y = b;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

/* The repair proper; -2: not possible (f->why), held records untouched. */
static int repair(struct flatfix *f, int out, const struct vtd_mem *mem, size_t *added,
		  uint64_t *first)
{
	uint64_t X = f->have_data ? f->data_start : f->desc_next;
	uint64_t ndesc = (X - f->desc_off) / DESC;
	if (f->desc_next != X || (X - f->desc_off) % DESC)
		return snprintf(f->why, sizeof(f->why), "the page_desc table does not end where the "
				"data begins"), -2;
	/* the pages to add: needed, not in the dump, readable */
	size_t k = 0;
	uint64_t *add = calloc(f->n ? f->n : 1, sizeof(*add)), *rk = calloc(f->n ? f->n : 1, sizeof(*rk));
	uint8_t *pages = malloc((f->n ? f->n : 1) * 4096), *tab = NULL, *head = NULL;
	int rc = -2;
	if (!add || !rk || !pages) {
		snprintf(f->why, sizeof(f->why), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->n; i++) {
		char why[128];
		if (f->bit[i] == 1 || f->need[i] >= f->max_mapnr ||
		    mem->read(mem->ctx, f->need[i] << 12, pages + k * 4096, 4096, why, sizeof(why)))
			continue;
		add[k] = f->need[i];
		rk[k++] = f->rank[i];
	}
	if (!k) {
		rc = 0;
		goto out;
	}
	if (f->nheld)
		qsort(f->held, f->nheld, sizeof(*f->held), cmp_hrec);
	/* the old table, whole */
	uint64_t tlen = X - f->desc_off, got = 0, nlen = (ndesc + k) * DESC;
	uint8_t *old = malloc(tlen ? tlen : 1);
	if (!old || !(tab = malloc(nlen))) {
		free(old);
		snprintf(f->why, sizeof(f->why), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i].kind == K_DESC) {
			memcpy(old + (f->held[i].dst - f->desc_off), f->held[i].data, f->held[i].size);
			got += f->held[i].size;
		}
	if (got != tlen) {
		free(old);
		snprintf(f->why, sizeof(f->why), "page_desc records missing");
		goto out;
	}
	/* the head of the data the new table covers, up to the end of the last
	 * page that starts under it, moves after the end of the file */
	uint64_t nend = X + k * DESC, R = nend;
	for (uint64_t i = 0; i < ndesc; i++) {
		uint64_t o = le(old + i * DESC, 8), s = le(old + i * DESC + 8, 4);
		if (o >= X && o < nend && o + s > R)
			R = o + s;
	}
	uint64_t hs = 0, he = 0;                 /* the held data: [hs, he), contiguous */
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i].kind == K_DATA) {
			if (!he)
				hs = he = f->held[i].dst;
			if (f->held[i].dst != he)
				break;
			he += f->held[i].size;
		}
	if (hs != X || he < R) {
		free(old);
		snprintf(f->why, sizeof(f->why), "the head of the page data was not held back whole");
		goto out;
	}
	if (!(head = malloc(he - X))) {
		free(old);
		snprintf(f->why, sizeof(f->why), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i].kind == K_DATA && f->held[i].dst < he)
			memcpy(head + (f->held[i].dst - X), f->held[i].data, f->held[i].size);
	uint64_t moved = f->eof, pagesat = f->eof + (R - X);
	/* merge: added page j goes at index rank + j */
	uint64_t oi = 0;
	size_t j = 0;
	for (uint64_t ni = 0; ni < ndesc + k; ni++) {
		uint8_t *d = tab + ni * DESC;
		if (j < k && rk[j] + j == ni) {
			put_le(d, pagesat + j * 4096, 8);
			put_le(d + 8, 4096, 4);
			put_le(d + 12, 0, 4);           /* raw */
			put_le(d + 16, 0, 8);
			j++;
			continue;
		}
		if (oi >= ndesc)
			break;                  /* ranks past the table: a bitmap that lies */
		memcpy(d, old + oi * DESC, DESC);
		uint64_t o = le(d, 8);
		if (o >= X && o < R)
			put_le(d, o - X + moved, 8);
		oi++;
	}
	free(old);
	if (oi != ndesc || j != k) {
		snprintf(f->why, sizeof(f->why), "the ranks of the added pages do not fit the table");
		goto out;
	}
	/* out: the bitmap records with the bits set, new bitmap bytes where no
	 * record was, the table, the rest of the held data in place, the moved
	 * head, the added pages */
	rc = -1;
	for (size_t i = 0; i < f->nheld; i++) {
		struct hrec *r = &f->held[i];
		if (r->kind != K_BITMAP)
			continue;
		for (size_t a = 0; a < k; a++) {
			uint64_t at = f->bm2 + add[a] / 8;
			if (at >= r->dst && at < r->dst + r->size)
				r->data[at - r->dst] |= (uint8_t)(1u << (add[a] % 8));
		}
		if (emit(out, r->dst, r->data, r->size))
			goto out;
	}
	for (size_t a = 0; a < k; a++) {
		uint64_t at = f->bm2 + add[a] / 8;
		size_t ai = 0;
		for (size_t i = 0; i < f->n; i++)
			if (f->need[i] == add[a])
				ai = i;
		if (f->bit[ai] >= 0 || (a && add[a - 1] / 8 == add[a] / 8))
			continue;                        /* held, or emitted with the one before */
		uint8_t b = 0;
		for (size_t z = a; z < k && add[z] / 8 == add[a] / 8; z++)
			b |= (uint8_t)(1u << (add[z] % 8));
		if (emit(out, at, &b, 1))
			goto out;
	}
	for (uint64_t at = 0; at < nlen; at += 1 << 20)
		if (emit(out, f->desc_off + at, tab + at, nlen - at < (1 << 20) ? nlen - at : 1 << 20))
			goto out;
	if ((he > R && emit(out, R, head + (R - X), he - R)) || emit(out, moved, head, R - X) ||
	    emit(out, pagesat, pages, (uint64_t)k * 4096))
		goto out;
	for (size_t i = 0; i < f->nheld; i++)            /* data held past he (a gap before it) */
		if (f->held[i].kind == K_DATA && f->held[i].dst >= he &&
		    emit(out, f->held[i].dst, f->held[i].data, f->held[i].size))
			goto out;
	for (size_t i = 0; i < f->nheld; i++)
		free(f->held[i].data);
	f->nheld = 0;
	*added = k;
	*first = add[0];
	rc = 0;
out:
	free(add);
	free(rk);
	free(pages);
	free(tab);
	free(head);
	return rc;
}

int flatfix_finish(struct flatfix *f, int complete, int out, const struct vtd_mem *mem,
		   size_t *added, uint64_t *first, size_t *lost, char *why, size_t whylen)
{
	*added = 0;
	*first = 0;
	*lost = f->max_mapnr ? f->nmissing : f->n;
	why[0] = 0;
	if (f->in_rec || f->rh_n) {
		/* makedumpfile stopped inside a record: pass on what came */
		if (give_up(f, out, "the stream ends inside a record") ||
		    (f->rh_n && writen(out, f->rh, f->rh_n)) ||
		    (f->in_rec && (writen(out, f->rh, 16) || writen(out, f->rd, (size_t)f->rd_n))))
			return -1;
		snprintf(why, whylen, "%s", f->why);
		return 0;
	}
	if (f->end_pending && complete && !f->giveup && mem) {
		int r = repair(f, out, mem, added, first);
		if (r == -1)
			return -1;
	}
	/* whatever is still held goes out as it came */
	if (give_up(f, out, f->why[0] ? f->why : "") || (f->end_pending && writen(out, END, 16)))
		return -1;
	f->end_pending = false;
	*lost = *lost > *added ? *lost - *added : 0;
	snprintf(why, whylen, "%s", f->why);
	return 0;
}
