/* Add or drop pages of a kdump-compressed file (see kdump_pages.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "kdump_pages.h"

#define DESC 24                  /* struct page_desc: offset, size, flags, page_flags */
#define CHUNK 4096               /* bitmap bytes / descriptors handled at a time */

/* [off, off + len) of in to out at ooff (the kernel copies when it can) */
static int copy(int in, uint64_t off, uint64_t len, int out, uint64_t ooff)
{
	static uint8_t buf[1 << 16];
	while (len) {
		loff_t a = (loff_t)off, b = (loff_t)ooff;
		ssize_t r = copy_file_range(in, &a, out, &b, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {            /* no copy_file_range here: by hand */
			size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
			if (preadn(in, buf, n, off) || pwriten(out, buf, n, ooff))
				return -1;
			r = (ssize_t)n;
		}
		off += (uint64_t)r, ooff += (uint64_t)r, len -= (uint64_t)r;
	}
	return 0;
}

/* Set (val 1) or clear a bitmap bit of the file being written. */
static int set_bit(int fd, uint64_t bm, uint64_t pfn, int val)
{
	uint8_t b;
	if (preadn(fd, &b, 1, bm + pfn / 8))
		return -1;
	b = val ? (uint8_t)(b | 1u << (pfn % 8)) : (uint8_t)(b & ~(1u << (pfn % 8)));
	return pwriten(fd, &b, 1, bm + pfn / 8);
}

struct setp {
	int in, out;
	const char *inp, *outp;
	uint64_t fsize, bs, max_mapnr, bm1, bm2, desc_off, ndesc;
	char *err;
	size_t el;
};

static int check_sorted(struct setp *s, const uint64_t *v, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] >= s->max_mapnr)
			return fail(s->err, s->el, "%s: page frame 0x%" PRIx64 " to %s is beyond max_mapnr "
				    "0x%" PRIx64, s->inp, v[i], what, s->max_mapnr);
		if (i && v[i] <= v[i - 1])
			return fail(s->err, s->el, "%s: page frames to %s are not sorted and distinct "
				    "(0x%" PRIx64 " after 0x%" PRIx64 ")", s->inp, what, v[i], v[i - 1]);
	}
	return 0;
}

static int header(struct setp *s)
{
	uint8_t h[464], sub[104];
	struct stat st;
	if (fstat(s->in, &st))
		return fail(s->err, s->el, "%s: %s", s->inp, strerror(errno));
	s->fsize = (uint64_t)st.st_size;
	if (preadn(s->in, h, sizeof(h), 0) || memcmp(h, "KDUMP   ", 8))
		return fail(s->err, s->el, "%s: not a kdump-compressed file (no KDUMP signature)", s->inp);
	int version = (int)le(h + 8, 4);
	s->bs = le(h + 428, 4);
	uint64_t sub_blocks = le(h + 432, 4), bitmap_blocks = le(h + 436, 4);
	if (version < 6 || s->bs != 4096)
		return fail(s->err, s->el, "%s: kdump header version %d, block size %" PRIu64 " (need "
			    "version 6+, 4096)", s->inp, version, s->bs);
	if (preadn(s->in, sub, sizeof(sub), s->bs))
		return fail(s->err, s->el, "%s: kdump sub-header unreadable", s->inp);
	if (le(sub + 12, 4))
		return fail(s->err, s->el, "%s: a split dump (one of several files): not supported", s->inp);
	s->max_mapnr = le(sub + 96, 8);
	uint64_t half = bitmap_blocks * s->bs / 2;
	s->bm1 = s->bs * (1 + sub_blocks);
	s->bm2 = s->bm1 + half;
	s->desc_off = s->bs * (1 + sub_blocks + bitmap_blocks);
	if (!s->max_mapnr || (s->max_mapnr + 7) / 8 > half || s->desc_off > s->fsize)
		return fail(s->err, s->el, "%s: max_mapnr %" PRIu64 " and %" PRIu64 " bitmap blocks do not "
			    "fit the file", s->inp, s->max_mapnr, bitmap_blocks);
	/* the number of descriptors: the second bitmap's set bits */
	uint8_t b[CHUNK];
	uint64_t nbytes = (s->max_mapnr + 7) / 8;
	s->ndesc = 0;
	for (uint64_t at = 0; at < nbytes; at += CHUNK) {
		size_t n = nbytes - at < CHUNK ? (size_t)(nbytes - at) : CHUNK;
		if (preadn(s->in, b, n, s->bm2 + at))
			return fail(s->err, s->el, "%s: second bitmap unreadable", s->inp);
		if (at + n == nbytes && s->max_mapnr % 8)
			b[n - 1] &= (uint8_t)((1u << (s->max_mapnr % 8)) - 1);
		for (size_t i = 0; i < n; i++)
			s->ndesc += (uint64_t)__builtin_popcount(b[i]);
	}
	if (s->desc_off + s->ndesc * DESC > s->fsize)
		return fail(s->err, s->el, "%s: the page_desc table (%" PRIu64 " entries) runs past the "
			    "end of the file", s->inp, s->ndesc);
	return 0;
}

/* Next present page frame of in at or after *pfn (2nd bitmap), or max_mapnr. */
struct bmit { uint64_t base; uint8_t b[CHUNK]; size_t n; };

static int next_present(struct setp *s, struct bmit *it, uint64_t *pfn)
{
	uint64_t p = *pfn;
	while (p < s->max_mapnr) {
		uint64_t byte = p / 8;
		if (byte < it->base || byte >= it->base + it->n) {
			uint64_t nbytes = (s->max_mapnr + 7) / 8;
			it->base = byte;
			it->n = nbytes - byte < CHUNK ? (size_t)(nbytes - byte) : CHUNK;
			if (preadn(s->in, it->b, it->n, s->bm2 + byte))
				return fail(s->err, s->el, "%s: second bitmap unreadable", s->inp);
		}
		uint8_t v = it->b[byte - it->base] >> (p % 8);
		if (!v) {
			p = (byte + 1) * 8;
			continue;
		}
		p += (uint64_t)__builtin_ctz(v);
		break;
	}
	*pfn = p < s->max_mapnr ? p : s->max_mapnr;
	return 0;
}

static int rewrite(struct setp *s, const uint64_t *add, const uint8_t *data, size_t nadd,
		   const uint64_t *drop, size_t ndrop)
{
	uint64_t ndesc_new = s->ndesc + nadd - ndrop;
	uint64_t start = s->desc_off + s->ndesc * DESC, nstart = s->desc_off + ndesc_new * DESC;
	int64_t delta = (int64_t)nstart - (int64_t)start;
	/* header, sub-header (notes, VMCOREINFO) and bitmaps as they are */
	if (copy(s->in, 0, s->desc_off, s->out, 0))
		return fail(s->err, s->el, "%s: writing: %s", s->outp, strerror(errno));
	for (size_t i = 0; i < nadd; i++)
		if (set_bit(s->out, s->bm1, add[i], 1) || set_bit(s->out, s->bm2, add[i], 1))
			return fail(s->err, s->el, "%s: writing the bitmaps: %s", s->outp, strerror(errno));
	for (size_t i = 0; i < ndrop; i++)
		if (set_bit(s->out, s->bm2, drop[i], 0))
			return fail(s->err, s->el, "%s: writing the bitmaps: %s", s->outp, strerror(errno));
	/* what lies behind the table moves by delta, and the sub-header's
	 * pointers there with it */
	uint8_t sub[80];
	if (preadn(s->in, sub, sizeof(sub), s->bs))
		return fail(s->err, s->el, "%s: kdump sub-header unreadable", s->inp);
	for (int f = 32; f <= 64; f += 16) {
		uint64_t o = le(sub + f, 8), n = le(sub + f + 8, 8);
		if (n && o >= start)
			put_le(sub + f, (uint64_t)((int64_t)o + delta), 8);
	}
	if (pwriten(s->out, sub, sizeof(sub), s->bs) ||
	    copy(s->in, start, s->fsize - start, s->out, nstart))
		return fail(s->err, s->el, "%s: writing: %s", s->outp, strerror(errno));
	uint64_t tail = s->fsize - start + nstart;        /* added pages go here */

	/* the descriptor table, merged in page-frame order */
	uint8_t *ob = malloc(CHUNK * DESC), *nb = malloc(CHUNK * DESC);
	struct bmit *it = calloc(1, sizeof(*it));
	int rc = -1;
	if (!ob || !nb || !it) {
		fail(s->err, s->el, "out of memory");
		goto out;
	}
	uint64_t oi = 0, obase = 0, on = 0, ni = 0, nbase = 0, pfn = 0;
	size_t a = 0, d = 0;
	for (;;) {
		if (next_present(s, it, &pfn))
			goto out;
		bool is_add = a < nadd && add[a] <= pfn;
		if (!is_add && pfn >= s->max_mapnr)
			break;
		uint8_t *nd = nb + (ni - nbase) * DESC;
		if (is_add) {
			if (add[a] == pfn) {
				fail(s->err, s->el, "%s: page frame 0x%" PRIx64 " to add is in the dump already",
				     s->inp, pfn);
				goto out;
			}
			put_le(nd, tail, 8);
			put_le(nd + 8, 4096, 4);
			put_le(nd + 12, 0, 4);             /* stored raw */
			put_le(nd + 16, 0, 8);
			if (pwriten(s->out, data + a * 4096, 4096, tail)) {
				fail(s->err, s->el, "%s: writing: %s", s->outp, strerror(errno));
				goto out;
			}
			tail += 4096;
			a++;
		} else {
			if (oi >= obase + on) {              /* next chunk of old descriptors */
				obase = oi;
				on = s->ndesc - oi < CHUNK ? s->ndesc - oi : CHUNK;
				if (!on || preadn(s->in, ob, on * DESC, s->desc_off + oi * DESC)) {
					fail(s->err, s->el, "%s: page_desc table unreadable", s->inp);
					goto out;
				}
			}
			const uint8_t *od = ob + (oi - obase) * DESC;
			oi++;
			if (d < ndrop && drop[d] < pfn) {
				fail(s->err, s->el, "%s: page frame 0x%" PRIx64 " to drop is not in the dump",
				     s->inp, drop[d]);
				goto out;
			}
			if (d < ndrop && drop[d] == pfn) {
				d++;
				pfn++;
				continue;
			}
			uint64_t off = le(od, 8);
			if (off < start || off >= s->fsize) {
				fail(s->err, s->el, "%s: page_desc of page frame 0x%" PRIx64 " points at 0x%"
				     PRIx64 ", outside the page data [0x%" PRIx64 ", 0x%" PRIx64 ")", s->inp,
				     pfn, off, start, s->fsize);
				goto out;
			}
			memcpy(nd, od, DESC);
			put_le(nd, (uint64_t)((int64_t)off + delta), 8);
			pfn++;
		}
		if (++ni - nbase == CHUNK) {
			if (pwriten(s->out, nb, CHUNK * DESC, s->desc_off + nbase * DESC)) {
				fail(s->err, s->el, "%s: writing: %s", s->outp, strerror(errno));
				goto out;
			}
			nbase = ni;
		}
	}
	if (ni > nbase && pwriten(s->out, nb, (ni - nbase) * DESC, s->desc_off + nbase * DESC)) {
		fail(s->err, s->el, "%s: writing: %s", s->outp, strerror(errno));
		goto out;
	}
	if (d < ndrop) {
		fail(s->err, s->el, "%s: page frame 0x%" PRIx64 " to drop is not in the dump", s->inp, drop[d]);
		goto out;
	}
	if (oi != s->ndesc || ni != ndesc_new) {
		fail(s->err, s->el, "%s: the bitmap and the page_desc table disagree", s->inp);
		goto out;
	}
	if (fsync(s->out)) {
		fail(s->err, s->el, "%s: %s", s->outp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(ob);
	free(nb);
	free(it);
	return rc;
}

int kdump_set_pages(const char *in, const char *out, const uint64_t *add, const uint8_t *data,
		    size_t nadd, const uint64_t *drop, size_t ndrop, char *err, size_t errlen)
{
	struct setp s = { .inp = in, .outp = out, .err = err, .el = errlen, .out = -1 };
	struct stat st;
	s.in = open(in, O_RDONLY);
	if (s.in < 0)
		return fail(err, errlen, "%s: %s", in, strerror(errno));
	int rc = header(&s) || check_sorted(&s, add, nadd, "add") || check_sorted(&s, drop, ndrop, "drop")
		 ? -1 : 0;
	if (!rc && ndrop > s.ndesc)
		rc = fail(err, errlen, "%s: %zu pages to drop, %" PRIu64 " in the dump", in, ndrop, s.ndesc);
	if (!rc) {
		s.out = open(out, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (s.out < 0)
			rc = fail(err, errlen, "%s: %s", out, strerror(errno));
		else if (fstat(s.in, &st) == 0)
			(void)fchmod(s.out, st.st_mode & 07777);
	}
	if (!rc)
		rc = rewrite(&s, add, data, nadd, drop, ndrop);
	if (s.out >= 0 && close(s.out) && !rc)
		rc = fail(err, errlen, "%s: %s", out, strerror(errno));
	if (rc && s.out >= 0)
		unlink(out);
	close(s.in);
	return rc;
}
