/* kdump-compressed reader, plain or flattened (see diskdump.h).
 * Layout: ecosystem.md §2.2 (disk_dump_header, kdump_sub_header v6, two
 * bitmaps, page_desc_t[], page data) and §2.3 (flattened records). */
#include "diskdump.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define FLAT_HDR 4096
#define DH_ZLIB 0x1
#define DH_LZO 0x2
#define DH_SNAPPY 0x4
#define DH_ZSTD 0x20

struct rec { uint64_t dst, size, pos; };

#define BM_CHUNK 4096u

struct diskdump {
	int fd;
	uint64_t fsize;
	int flat;
	struct rec *recs;        /* flattened: sorted by dst */
	size_t nrecs;
	uint32_t block_size;
	uint64_t max_mapnr;
	/* The second bitmap (pages present) stays in the file: peak memory
	 * must not grow with RAM (a 1 TiB machine has 32 MiB of it).  Only
	 * the set bits before each BM_CHUNK-byte chunk are kept, and one
	 * chunk at a time is read. */
	uint64_t bm2_off;
	uint64_t bm2_bytes;
	uint64_t *rank;
	struct bmc { uint64_t chunk; uint8_t b[4096]; } *bmc;
	uint64_t desc_off;
	int dump_level;          /* kdump_sub_header.dump_level */
	int header_version;      /* disk_dump_header.header_version */
	char *vmcoreinfo;
	uint8_t *cbuf;           /* compressed page buffer */
	uint64_t cache_pfn;      /* last decompressed page */
	uint8_t *cache;
};

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

/* Read [off, off+len) of the (rearranged) kdump file.  Flattened: from the
 * records; bytes no record covers read as zero, like holes after -R. */
static int vread(struct diskdump *d, void *buf, size_t len, uint64_t off)
{
	if (!d->flat)
		return off + len > d->fsize ? -1 : preadn(d->fd, buf, len, off);
	uint8_t *p = buf;
	memset(buf, 0, len);
	size_t lo = 0, hi = d->nrecs;
	while (lo < hi) {                       /* first record ending after off */
		size_t mid = (lo + hi) / 2;
		if (d->recs[mid].dst + d->recs[mid].size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < d->nrecs && d->recs[i].dst < off + len; i++) {
		const struct rec *r = &d->recs[i];
		uint64_t s = r->dst > off ? r->dst : off;
		uint64_t e = r->dst + r->size < off + len ? r->dst + r->size : off + len;
		if (preadn(d->fd, p + (s - off), e - s, r->pos + (s - r->dst)))
			return -1;
	}
	return 0;
}

static int index_flat(struct diskdump *d, const char *path, char *err, size_t errlen)
{
	uint8_t h[16];
	uint64_t pos = FLAT_HDR, cap = 0;
	if (preadn(d->fd, h, 16, 16) || be64(h) != 1 || be64(h + 8) != 1) {
		snprintf(err, errlen, "%s: flattened header: type/version not 1/1", path);
		return -1;
	}
	for (;;) {
		if (preadn(d->fd, h, 16, pos)) {
			snprintf(err, errlen, "%s: flattened stream truncated at 0x%" PRIx64
				 " (record %zu header; no end marker)", path, pos, d->nrecs);
			return -1;
		}
		uint64_t dst = be64(h), size = be64(h + 8);
		if (dst == UINT64_MAX && size == UINT64_MAX)
			break;
		if (size <= (64u << 20) && dst <= (1ull << 62) && pos + 16 + size > d->fsize) {
			snprintf(err, errlen, "%s: flattened stream truncated: record %zu at 0x%" PRIx64
				 " needs 0x%" PRIx64 " bytes, the file ends at 0x%" PRIx64,
				 path, d->nrecs, pos, size, d->fsize);
			return -1;
		}
		if (size > d->fsize || pos + 16 + size > d->fsize || dst > (1ull << 62)) {
			snprintf(err, errlen, "%s: flattened record %zu at 0x%" PRIx64
				 " claims offset 0x%" PRIx64 " size 0x%" PRIx64 " beyond the file",
				 path, d->nrecs, pos, dst, size);
			return -1;
		}
		if (d->nrecs == cap) {
			cap = cap ? cap * 2 : 1024;
			struct rec *n = realloc(d->recs, cap * sizeof(*n));
			if (!n) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			d->recs = n;
		}
		if (size)
			d->recs[d->nrecs++] = (struct rec){ dst, size, pos + 16 };
		pos += 16 + size;
	}
	if (d->nrecs)
		qsort(d->recs, d->nrecs, sizeof(*d->recs), cmp_rec);
	for (size_t i = 1; i < d->nrecs; i++)
		if (d->recs[i - 1].dst + d->recs[i - 1].size > d->recs[i].dst) {
			snprintf(err, errlen, "%s: flattened records overlap at offset 0x%" PRIx64
				 " (crash would read them inconsistently)", path, d->recs[i].dst);
			return -1;
		}
	return 0;
}

/* Chunk c of the second bitmap (zero beyond max_mapnr), or NULL. */
static const uint8_t *bm_chunk(const struct diskdump *d, uint64_t c)
{
	struct bmc *bc = d->bmc;
	if (bc->chunk == c)
		return bc->b;
	uint64_t at = c * BM_CHUNK, n = d->bm2_bytes - at < BM_CHUNK ? d->bm2_bytes - at : BM_CHUNK;
	memset(bc->b, 0, BM_CHUNK);
	if (at >= d->bm2_bytes || vread((struct diskdump *)d, bc->b, n, d->bm2_off + at)) {
		bc->chunk = UINT64_MAX;
		return NULL;
	}
	if (d->max_mapnr % 8 && at + n == d->bm2_bytes)   /* bits past max_mapnr */
		bc->b[n - 1] &= (uint8_t)((1u << (d->max_mapnr % 8)) - 1);
	bc->chunk = c;
	return bc->b;
}

static uint64_t popcount_bytes(const uint8_t *b, size_t n)
{
	uint64_t r = 0, q;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&q, b + i, 8);
		r += (uint64_t)__builtin_popcountll(q);
	}
	for (; i < n; i++)
		r += (uint64_t)__builtin_popcount(b[i]);
	return r;
}

static int load_header(struct diskdump *d, const char *path, char *err, size_t errlen)
{
	uint8_t h[464], sub[104];
	if (vread(d, h, sizeof(h), 0) || memcmp(h, "KDUMP   ", 8)) {
		snprintf(err, errlen, "%s: not a kdump-compressed dump (no KDUMP signature)", path);
		return -1;
	}
	int version = (int)le(h + 8, 4);
	d->block_size = (uint32_t)le(h + 428, 4);
	uint32_t sub_blocks = (uint32_t)le(h + 432, 4), bitmap_blocks = (uint32_t)le(h + 436, 4);
	if (d->block_size != 4096) {
		snprintf(err, errlen, "%s: block size %u (only 4096-byte pages are supported)",
			 path, d->block_size);
		return -1;
	}
	if (version < 6) {
		snprintf(err, errlen, "%s: kdump header version %d (need 6)", path, version);
		return -1;
	}
	if (vread(d, sub, sizeof(sub), d->block_size)) {
		snprintf(err, errlen, "%s: kdump sub-header unreadable", path);
		return -1;
	}
	uint64_t vi_off = le(sub + 32, 8), vi_size = le(sub + 40, 8);
	d->max_mapnr = le(sub + 96, 8);
	d->dump_level = (int)le(sub + 8, 4);
	d->header_version = version;
	uint64_t half = (uint64_t)bitmap_blocks * d->block_size / 2;
	if (!d->max_mapnr || d->max_mapnr > (1ull << 40) || (d->max_mapnr + 7) / 8 > half) {
		snprintf(err, errlen, "%s: max_mapnr %" PRIu64 " does not fit the %u bitmap blocks",
			 path, d->max_mapnr, bitmap_blocks);
		return -1;
	}
	uint64_t bm = (uint64_t)d->block_size * (1 + sub_blocks);
	d->bm2_bytes = (d->max_mapnr + 7) / 8;
	d->bm2_off = bm + half;
	uint64_t nchunks = (d->bm2_bytes + BM_CHUNK - 1) / BM_CHUNK;
	d->rank = calloc(nchunks + 1, sizeof(*d->rank));
	d->bmc = malloc(sizeof(*d->bmc));
	if (!d->rank || !d->bmc) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->bmc->chunk = UINT64_MAX;
	uint64_t acc = 0;
	for (uint64_t c = 0; c < nchunks; c++) {
		const uint8_t *b = bm_chunk(d, c);
		if (!b) {
			snprintf(err, errlen, "%s: bitmap unreadable at 0x%" PRIx64, path,
				 d->bm2_off + c * BM_CHUNK);
			return -1;
		}
		d->rank[c] = acc;
		acc += popcount_bytes(b, BM_CHUNK);
	}
	d->rank[nchunks] = acc;
	d->desc_off = bm + (uint64_t)bitmap_blocks * d->block_size;
	if (vi_size && vi_size < (1u << 20)) {
		d->vmcoreinfo = calloc(1, vi_size + 1);
		if (d->vmcoreinfo && vread(d, d->vmcoreinfo, vi_size, vi_off)) {
			free(d->vmcoreinfo);
			d->vmcoreinfo = NULL;
		}
	}
	d->cbuf = malloc(d->block_size);
	d->cache = malloc(d->block_size);
	d->cache_pfn = UINT64_MAX;
	return d->cbuf && d->cache ? 0 : -1;
}

struct diskdump *diskdump_open(const char *path, char *err, size_t errlen)
{
	struct diskdump *d = calloc(1, sizeof(*d));
	struct stat st;
	char sig[16];
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->fd = open(path, O_RDONLY);
	if (d->fd < 0 || fstat(d->fd, &st)) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	d->fsize = (uint64_t)st.st_size;
	if (preadn(d->fd, sig, sizeof(sig), 0)) {
		snprintf(err, errlen, "%s: too short to be a dump", path);
		goto fail;
	}
	d->flat = !memcmp(sig, "makedumpfile", 13);
	if (d->flat && index_flat(d, path, err, errlen))
		goto fail;
	if (load_header(d, path, err, errlen))
		goto fail;
	return d;
fail:
	diskdump_close(d);
	return NULL;
}

void diskdump_close(struct diskdump *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d->recs);
	free(d->bmc);
	free(d->rank);
	free(d->vmcoreinfo);
	free(d->cbuf);
	free(d->cache);
	free(d);
}

int diskdump_has_page(const struct diskdump *d, uint64_t pfn)
{
	if (pfn >= d->max_mapnr)
		return 0;
	const uint8_t *b = bm_chunk(d, pfn / (BM_CHUNK * 8));
	uint64_t bit = pfn % (BM_CHUNK * 8);
	return b && (b[bit / 8] >> (bit % 8) & 1);
}

/* Set bits below pfn: its page_desc index when it is present. */
static uint64_t rank_of(const struct diskdump *d, uint64_t pfn)
{
	uint64_t c = pfn / (BM_CHUNK * 8), bit = pfn % (BM_CHUNK * 8);
	const uint8_t *b = bm_chunk(d, c);
	if (!b)
		return d->rank[c];
	return d->rank[c] + popcount_bytes(b, bit / 8) +
	       (uint64_t)__builtin_popcount(b[bit / 8] & ((1u << (bit % 8)) - 1));
}

static int load_page(struct diskdump *d, uint64_t pfn, char *why, size_t whylen)
{
	uint8_t pd[24];
	if (d->cache_pfn == pfn)
		return 0;
	if (pfn >= d->max_mapnr) {
		snprintf(why, whylen, "pfn 0x%" PRIx64 " beyond max_mapnr 0x%" PRIx64, pfn, d->max_mapnr);
		return -1;
	}
	if (!diskdump_has_page(d, pfn)) {
		snprintf(why, whylen, "excluded page (not in the dump) at 0x%" PRIx64, pfn * d->block_size);
		return -1;
	}
	uint64_t idx = rank_of(d, pfn);
	if (vread(d, pd, 24, d->desc_off + 24 * idx)) {
		snprintf(why, whylen, "page descriptor %" PRIu64 " unreadable", idx);
		return -1;
	}
	uint64_t off = le(pd, 8);
	uint32_t size = (uint32_t)le(pd + 8, 4), flags = (uint32_t)le(pd + 12, 4);
	if (!size || size > d->block_size || (!flags && size != d->block_size) ||
	    vread(d, d->cbuf, size, off)) {
		snprintf(why, whylen, "corrupt page descriptor for pfn 0x%" PRIx64
			 " (offset 0x%" PRIx64 " size %u flags 0x%x)", pfn, off, size, flags);
		return -1;
	}
	int ok;
	if (!flags) {
		memcpy(d->cache, d->cbuf, d->block_size);
		ok = 1;
	} else if (flags & DH_ZLIB) {
		uLongf n = d->block_size;
		ok = uncompress(d->cache, &n, d->cbuf, size) == Z_OK && n == d->block_size;
	} else if (flags & DH_LZO) {
		lzo_uint n = d->block_size;
		ok = lzo1x_decompress_safe(d->cbuf, size, d->cache, &n, NULL) == LZO_E_OK &&
		     n == d->block_size;
	} else if (flags & DH_SNAPPY) {
		size_t n = d->block_size;
		ok = snappy_uncompress((const char *)d->cbuf, size, (char *)d->cache, &n) == SNAPPY_OK &&
		     n == d->block_size;
	} else if (flags & DH_ZSTD) {
		size_t n = ZSTD_decompress(d->cache, d->block_size, d->cbuf, size);
		ok = !ZSTD_isError(n) && n == d->block_size;
	} else {
		ok = 0;
	}
	if (!ok) {
		d->cache_pfn = UINT64_MAX;
		snprintf(why, whylen, "page 0x%" PRIx64 " does not decompress (flags 0x%x, %u bytes)",
			 pfn * d->block_size, flags, size);
		return -1;
	}
	d->cache_pfn = pfn;
	return 0;
}

int diskdump_read(struct diskdump *d, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	uint8_t *p = buf;
	while (len) {
		uint64_t pfn = pa / d->block_size, o = pa % d->block_size;
		size_t n = d->block_size - o < len ? d->block_size - o : len;
		if (load_page(d, pfn, why, whylen))
			return -1;
		memcpy(p, d->cache + o, n);
		p += n, pa += n, len -= n;
	}
	return 0;
}

const char *diskdump_vmcoreinfo(const struct diskdump *d) { return d->vmcoreinfo; }
int diskdump_is_flattened(const struct diskdump *d) { return d->flat; }
uint64_t diskdump_max_pfn(const struct diskdump *d) { return d->max_mapnr; }
int diskdump_dump_level(const struct diskdump *d) { return d->dump_level; }
int diskdump_header_version(const struct diskdump *d) { return d->header_version; }

int diskdump_vread(struct diskdump *d, void *buf, size_t len, uint64_t off)
{
	return vread(d, buf, len, off);
}

uint64_t diskdump_desc_pos(const struct diskdump *d, uint64_t pfn)
{
	return d->desc_off + 24 * rank_of(d, pfn);
}

uint64_t diskdump_desc_off(const struct diskdump *d) { return d->desc_off; }
uint64_t diskdump_ndesc(const struct diskdump *d)
{
	return d->rank[(d->bm2_bytes + BM_CHUNK - 1) / BM_CHUNK];
}
