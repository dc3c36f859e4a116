/* Dump writer for synthetic test dumps (see dumpfile.h).
 *
 * Layouts (docs/dump-formats.md, ecosystem.md §2.2-2.4):
 *   ELF:   Ehdr, Phdrs (PT_NOTE, one PT_LOAD per run of present pages),
 *          notes (CORE/NT_PRSTATUS, VMCOREINFO), page data from the next
 *          page boundary.
 *   KDUMP: disk_dump_header (block 0), kdump_sub_header v6 + notes (block 1..),
 *          1st and 2nd bitmap, page_desc_t[] in PFN order, page data (shared
 *          zero page first).
 *   FLAT:  the KDUMP bytes as makedumpfile -F streams them: a 4096-byte
 *          header, then {be64 offset, be64 size, data} records, in the order
 *          they are produced, ending with offset = size = -1.
 * Every integer is encoded byte by byte (little-endian for ELF/kdump,
 * big-endian for the flattened framing), so no struct layout is assumed. */
#include "dumpfile.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define BLOCK 4096u              /* kdump block size = page size */
#define CHUNK (64u * 1024)       /* output cache: makedumpfile's default -b 4 records */
#define DH_SIZE 464u             /* struct disk_dump_header, x86_64 */
#define SUB_SIZE 104u            /* struct kdump_sub_header v6, x86_64 */
#define PD_SIZE 24u              /* page_desc_t */
#define PRSTATUS_SIZE 336u       /* struct elf_prstatus, x86_64 */
#define UTS_LEN 65u

#define DH_ZLIB 0x1u
#define DH_LZO 0x2u
#define DH_SNAPPY 0x4u
#define DH_ZSTD 0x20u

/* ---- byte encoding ---- */

static void le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void be64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i)); }

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* ---- output ---- */

struct out {
	const char *path;        /* final name */
	char *tmp;               /* temporary name (same directory) */
	int fd;
	int flat;                /* kdump bytes go out as flattened records */
	uint8_t *sbuf;           /* sequential stream buffer (ELF, FLAT) */
	size_t slen;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct out *o, const char *fmt, ...)
{
	if (o->failed++)
		return -1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(o->err, o->errlen, "%s: %s", o->path, msg);
	return -1;
}

static int write_all(struct out *o, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(o->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(o, "write to %s failed: %s", o->tmp,
				    n < 0 ? strerror(errno) : "short write");
		p += n, len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(struct out *o, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		if (off > (uint64_t)INT64_MAX)
			return fail(o, "file offset 0x%llx too large", (unsigned long long)off);
		ssize_t n = pwrite(o->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(o, "write of %zu bytes at offset 0x%llx to %s failed: %s", len,
				    (unsigned long long)off, o->tmp,
				    n < 0 ? strerror(errno) : "short write");
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

/* Sequential stream (ELF file, flattened file). */
static int s_flush(struct out *o)
{
	if (o->failed)
		return -1;
	if (o->slen && write_all(o, o->sbuf, o->slen))
		return -1;
	o->slen = 0;
	return 0;
}

static int s_write(struct out *o, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (o->failed)
		return -1;
	while (len) {
		if (o->slen == CHUNK && s_flush(o))
			return -1;
		size_t n = CHUNK - o->slen;
		if (n > len)
			n = len;
		memcpy(o->sbuf + o->slen, p, n);
		o->slen += n, p += n, len -= n;
	}
	return 0;
}

static int s_zero(struct out *o, uint64_t len)
{
	static const uint8_t z[256];
	while (len) {
		size_t n = len < sizeof(z) ? (size_t)len : sizeof(z);
		if (s_write(o, z, n))
			return -1;
		len -= n;
	}
	return 0;
}

/* Put bytes at offset off of the kdump file: pwrite, or flattened records
 * (at most CHUNK bytes each, never overlapping: every region of the file is
 * put exactly once). */
static int k_put(struct out *o, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (o->failed)
		return -1;
	if (!o->flat)
		return pwrite_all(o, buf, len, off);
	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;
		uint8_t h[16];
		be64(h, off);
		be64(h + 8, n);
		if (s_write(o, h, sizeof(h)) || s_write(o, p, n))
			return -1;
		p += n, off += n, len -= n;
	}
	return 0;
}

/* A write-back cache for one region of the kdump file (page descriptors or
 * page data), flushed whenever full, like makedumpfile's cache_data. */
struct cache {
	uint8_t *buf;
	size_t len;
	uint64_t off;            /* file offset of buf[0] */
};

static int c_flush(struct out *o, struct cache *c)
{
	if (c->len && k_put(o, c->off, c->buf, c->len))
		return -1;
	c->off += c->len;
	c->len = 0;
	return 0;
}

static int c_add(struct out *o, struct cache *c, const void *p, size_t n)
{
	if (c->len + n > CHUNK && c_flush(o, c))
		return -1;
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

/* ---- compression ---- */

struct comp {
	enum dump_compress c;
	uint32_t flag;           /* DUMP_DH_COMPRESSED_* */
	uint8_t *out;
	size_t cap;
	void *lzo_wrk;
	ZSTD_CCtx *zc;
};

static int comp_init(struct comp *z, enum dump_compress c, struct out *o)
{
	memset(z, 0, sizeof(*z));
	z->c = c;
	switch (c) {
	case DUMP_RAW:
		return 0;
	case DUMP_ZLIB:
		z->flag = DH_ZLIB;
		z->cap = compressBound(BLOCK);
		break;
	case DUMP_LZO:
		z->flag = DH_LZO;
		if (lzo_init() != LZO_E_OK)
			return fail(o, "lzo_init failed");
		z->cap = BLOCK + BLOCK / 16 + 64 + 3;
		z->lzo_wrk = malloc(LZO1X_1_MEM_COMPRESS);
		if (!z->lzo_wrk)
			return fail(o, "out of memory");
		break;
	case DUMP_SNAPPY:
		z->flag = DH_SNAPPY;
		z->cap = snappy_max_compressed_length(BLOCK);
		break;
	case DUMP_ZSTD:
		z->flag = DH_ZSTD;
		z->cap = ZSTD_compressBound(BLOCK);
		z->zc = ZSTD_createCCtx();
		if (!z->zc)
			return fail(o, "ZSTD_createCCtx failed");
		break;
	default:
		return fail(o, "unknown compression %d", (int)c);
	}
	z->out = malloc(z->cap);
	if (!z->out)
		return fail(o, "out of memory");
	return 0;
}

static void comp_free(struct comp *z)
{
	free(z->out);
	free(z->lzo_wrk);
	ZSTD_freeCCtx(z->zc);
}

/* Compress one page into z->out: *len = compressed size, or 0 when the page
 * is to be stored raw (no compression, or the result is not smaller). */
static int comp_page(struct comp *z, const uint8_t *page, size_t *len, struct out *o, uint64_t pfn)
{
	*len = 0;
	switch (z->c) {
	case DUMP_RAW:
		return 0;
	case DUMP_ZLIB: {
		uLongf n = z->cap;
		int rc = compress2(z->out, &n, page, BLOCK, Z_BEST_SPEED);
		if (rc != Z_OK)
			return fail(o, "zlib compress2 failed on pfn 0x%llx: %d",
				    (unsigned long long)pfn, rc);
		*len = n;
		break;
	}
	case DUMP_LZO: {
		lzo_uint n = z->cap;
		int rc = lzo1x_1_compress(page, BLOCK, z->out, &n, z->lzo_wrk);
		if (rc != LZO_E_OK)
			return fail(o, "lzo1x_1_compress failed on pfn 0x%llx: %d",
				    (unsigned long long)pfn, rc);
		*len = n;
		break;
	}
	case DUMP_SNAPPY: {
		size_t n = z->cap;
		snappy_status rc = snappy_compress((const char *)page, BLOCK, (char *)z->out, &n);
		if (rc != SNAPPY_OK)
			return fail(o, "snappy_compress failed on pfn 0x%llx: %d",
				    (unsigned long long)pfn, (int)rc);
		*len = n;
		break;
	}
	case DUMP_ZSTD: {
		size_t n = ZSTD_compressCCtx(z->zc, z->out, z->cap, page, BLOCK, 1);
		if (ZSTD_isError(n))
			return fail(o, "ZSTD_compress failed on pfn 0x%llx: %s",
				    (unsigned long long)pfn, ZSTD_getErrorName(n));
		*len = n;
		break;
	}
	}
	if (*len >= BLOCK)
		*len = 0;
	return 0;
}

static int is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < BLOCK; i++)
		if (p[i])
			return 0;
	return 1;
}

/* ---- notes ---- */

struct notes {
	uint8_t *buf;
	size_t len;
	size_t vmci_off, vmci_len;   /* VMCOREINFO descriptor within buf */
};

static size_t note_size(size_t namesz, size_t descsz)
{
	return 12 + round_up(namesz, 4) + round_up(descsz, 4);
}

static uint8_t *put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, size_t descsz)
{
	size_t namesz = strlen(name) + 1;
	le32(p, (uint32_t)namesz);
	le32(p + 4, (uint32_t)descsz);
	le32(p + 8, type);
	p += 12;
	memcpy(p, name, namesz);
	p += round_up(namesz, 4);
	if (descsz)
		memcpy(p, desc, descsz);
	return p + round_up(descsz, 4);
}

/* The notes of /proc/vmcore: one CORE/NT_PRSTATUS per CPU (one CPU here,
 * zeroed registers), then VMCOREINFO. */
static int build_notes(struct notes *n, const char *vmcoreinfo, struct out *o)
{
	size_t vlen = vmcoreinfo ? strlen(vmcoreinfo) : 0;
	if (vlen > UINT32_MAX / 2)
		return fail(o, "VMCOREINFO too large");
	n->len = note_size(5, PRSTATUS_SIZE) + (vlen ? note_size(11, vlen) : 0);
	n->buf = calloc(1, n->len);
	if (!n->buf)
		return fail(o, "out of memory");
	static const uint8_t prstatus[PRSTATUS_SIZE];
	uint8_t *p = put_note(n->buf, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus));
	if (vlen) {
		n->vmci_off = (size_t)(p - n->buf) + 12 + 12;
		n->vmci_len = vlen;
		put_note(p, "VMCOREINFO", 0, vmcoreinfo, vlen);
	}
	return 0;
}

/* CRASHTIME= of VMCOREINFO (makedumpfile's header timestamp), else 0. */
static uint64_t crashtime(const char *v)
{
	for (const char *l = v; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "CRASHTIME=", 10))
			return strtoull(l + 10, NULL, 10);
	return 0;
}

/* ---- ELF ---- */

/* Number of runs of consecutive present pfns. */
static size_t count_runs(const uint64_t *pfns, size_t n)
{
	size_t runs = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || pfns[i] != pfns[i - 1] + 1)
			runs++;
	return runs;
}

static int write_elf(struct out *o, struct img *im, const struct dump_info *info,
		     const uint64_t *pfns, size_t npfn, const struct notes *nt)
{
	size_t nruns = count_runs(pfns, npfn);
	if (nruns + 1 >= PN_XNUM)
		return fail(o, "%zu runs of present pages need more than %u ELF program headers",
			    nruns, PN_XNUM - 1);
	uint16_t phnum = (uint16_t)(nruns + 1);
	uint64_t note_off = 64 + 56ull * phnum;
	uint64_t data_off = round_up(note_off + nt->len, BLOCK);

	uint8_t eh[64] = { 0 };
	memcpy(eh, ELFMAG, SELFMAG);
	eh[EI_CLASS] = ELFCLASS64;
	eh[EI_DATA] = ELFDATA2LSB;
	eh[EI_VERSION] = EV_CURRENT;
	eh[EI_OSABI] = ELFOSABI_NONE;
	le16(eh + 16, ET_CORE);
	le16(eh + 18, EM_X86_64);
	le32(eh + 20, EV_CURRENT);
	le64(eh + 24, 0);              /* e_entry */
	le64(eh + 32, 64);             /* e_phoff: right after the header */
	le64(eh + 40, 0);              /* e_shoff */
	le32(eh + 48, 0);              /* e_flags */
	le16(eh + 52, 64);             /* e_ehsize */
	le16(eh + 54, 56);             /* e_phentsize */
	le16(eh + 56, phnum);
	/* e_shentsize, e_shnum, e_shstrndx: 0, no sections (as /proc/vmcore) */
	if (s_write(o, eh, sizeof(eh)))
		return -1;

	uint8_t ph[56] = { 0 };
	le32(ph, PT_NOTE);
	le64(ph + 8, note_off);
	le64(ph + 32, nt->len);
	le64(ph + 40, nt->len);
	if (s_write(o, ph, sizeof(ph)))
		return -1;
	uint64_t off = data_off;
	for (size_t i = 0; i < npfn;) {
		size_t j = i + 1;
		while (j < npfn && pfns[j] == pfns[j - 1] + 1)
			j++;
		uint64_t pa = pfns[i] * BLOCK, sz = (uint64_t)(j - i) * BLOCK;
		memset(ph, 0, sizeof(ph));
		le32(ph, PT_LOAD);
		le32(ph + 4, PF_R | PF_W | PF_X);
		le64(ph + 8, off);
		le64(ph + 16, info->page_offset + pa);
		le64(ph + 24, pa);
		le64(ph + 32, sz);
		le64(ph + 40, sz);
		le64(ph + 48, 0);
		if (s_write(o, ph, sizeof(ph)))
			return -1;
		off += sz;
		i = j;
	}
	if (s_write(o, nt->buf, nt->len) || s_zero(o, data_off - note_off - nt->len))
		return -1;
	for (size_t i = 0; i < npfn; i++) {
		const uint8_t *pg = img_page_const(im, pfns[i]);
		if (!pg)
			return fail(o, "image page 0x%llx vanished", (unsigned long long)pfns[i]);
		if (s_write(o, pg, BLOCK))
			return -1;
	}
	return s_flush(o);
}

/* ---- kdump-compressed ---- */

static int put_uts(struct out *o, uint8_t *dst, const char *s, const char *what)
{
	size_t n = strlen(s);
	if (n >= UTS_LEN)
		return fail(o, "utsname %s \"%s\" longer than %u characters", what, s, UTS_LEN - 1);
	memcpy(dst, s, n);
	return 0;
}

/* Bitmap bytes [b0, b1) (bit n of byte n/8, LSB first = pfn n): 1st bitmap
 * from the RAM ranges, 2nd from the present pages (*pi walks pfns). */
static void bitmap1_chunk(const struct img *im, uint8_t *buf, uint64_t b0, uint64_t b1)
{
	const struct img_range *r = img_ram(im);
	uint64_t p0 = b0 * 8, p1 = b1 * 8;
	memset(buf, 0, (size_t)(b1 - b0));
	for (size_t i = 0; i < img_nram(im); i++) {
		uint64_t s = r[i].start / BLOCK, e = r[i].end / BLOCK;
		if (s < p0)
			s = p0;
		if (e > p1)
			e = p1;
		for (uint64_t p = s; p < e;) {
			if (p % 8 == 0 && p + 8 <= e) {
				buf[(p - p0) / 8] = 0xff;
				p += 8;
			} else {
				buf[(p - p0) / 8] |= (uint8_t)(1u << (p % 8));
				p++;
			}
		}
	}
}

static void bitmap2_chunk(const uint64_t *pfns, size_t npfn, size_t *pi, uint8_t *buf,
			  uint64_t b0, uint64_t b1)
{
	uint64_t p0 = b0 * 8, p1 = b1 * 8;
	memset(buf, 0, (size_t)(b1 - b0));
	for (; *pi < npfn && pfns[*pi] < p1; ++*pi)
		if (pfns[*pi] >= p0)
			buf[(pfns[*pi] - p0) / 8] |= (uint8_t)(1u << (pfns[*pi] % 8));
}

static int write_kdump(struct out *o, struct img *im, const struct dump_info *info,
		       enum dump_compress c, const uint64_t *pfns, size_t npfn,
		       const struct notes *nt)
{
	uint64_t max_pfn = img_max_pfn(im);
	uint64_t bm_bytes = (max_pfn + 7) / 8;            /* written per bitmap */
	uint64_t bm_half = round_up(bm_bytes, BLOCK) / BLOCK;
	uint64_t sub_blocks = round_up(SUB_SIZE + nt->len, BLOCK) / BLOCK;
	if (2 * bm_half > UINT32_MAX || sub_blocks > INT32_MAX)
		return fail(o, "image too large for a kdump header (max pfn 0x%llx)",
			    (unsigned long long)max_pfn);
	uint64_t note_off = BLOCK + SUB_SIZE;
	uint64_t bm1_off = BLOCK * (1 + sub_blocks);
	uint64_t bm2_off = bm1_off + bm_half * BLOCK;
	uint64_t desc_off = bm1_off + 2 * bm_half * BLOCK;
	uint64_t data_off = desc_off + (uint64_t)PD_SIZE * npfn;

	struct comp z;
	struct cache cd = { 0 }, cp = { 0 };
	uint8_t *bm = NULL;
	int rc = -1;
	if (comp_init(&z, c, o))
		goto out;

	/* disk_dump_header */
	uint8_t dh[DH_SIZE] = { 0 };
	memcpy(dh, "KDUMP   ", 8);
	le32(dh + 8, 6);                               /* header_version */
	uint8_t *uts = dh + 12;
	if (put_uts(o, uts + 0 * UTS_LEN, "Linux", "sysname") ||
	    put_uts(o, uts + 1 * UTS_LEN, "(none)", "nodename") ||
	    put_uts(o, uts + 2 * UTS_LEN, info->release ? info->release : "", "release") ||
	    put_uts(o, uts + 3 * UTS_LEN, "#1 SMP PREEMPT_DYNAMIC vtdscope-synthetic", "version") ||
	    put_uts(o, uts + 4 * UTS_LEN, info->machine ? info->machine : "x86_64", "machine") ||
	    put_uts(o, uts + 5 * UTS_LEN, "(none)", "domainname"))
		goto out;
	le64(dh + 408, crashtime(info->vmcoreinfo));    /* timestamp.tv_sec */
	le64(dh + 416, 0);                             /* tv_usec: must stay 0, see docs */
	le32(dh + 424, z.flag);                        /* status */
	le32(dh + 428, BLOCK);                         /* block_size */
	le32(dh + 432, (uint32_t)sub_blocks);          /* sub_hdr_size */
	le32(dh + 436, (uint32_t)(2 * bm_half));       /* bitmap_blocks */
	le32(dh + 440, max_pfn > UINT32_MAX ? UINT32_MAX : (uint32_t)max_pfn);
	/* total_ram_blocks, device_blocks, written_blocks, current_cpu: 0 */
	le32(dh + 460, 1);                             /* nr_cpus */

	/* kdump_sub_header v6 */
	uint8_t sh[SUB_SIZE] = { 0 };
	le64(sh + 0, info->phys_base);
	le32(sh + 8, (uint32_t)info->dump_level);
	/* split = 0, start_pfn = end_pfn = 0 (not split) */
	if (nt->vmci_len) {
		le64(sh + 32, note_off + nt->vmci_off);
		le64(sh + 40, nt->vmci_len);
	}
	le64(sh + 48, note_off);
	le64(sh + 56, nt->len);
	/* offset/size_eraseinfo = 0, start/end_pfn_64 = 0 (not split) */
	le64(sh + 96, max_pfn);

	/* makedumpfile's order: header, notes, sub-header, bitmaps, then page
	 * descriptors and page data as their caches fill */
	if (k_put(o, 0, dh, sizeof(dh)) || k_put(o, note_off, nt->buf, nt->len) ||
	    k_put(o, BLOCK, sh, sizeof(sh)))
		goto out;

	bm = malloc(CHUNK);
	cd.buf = malloc(CHUNK);
	cp.buf = malloc(CHUNK);
	if (!bm || !cd.buf || !cp.buf) {
		fail(o, "out of memory");
		goto out;
	}
	for (uint64_t b = 0; b < bm_bytes; b += CHUNK) {
		uint64_t e = b + CHUNK < bm_bytes ? b + CHUNK : bm_bytes;
		bitmap1_chunk(im, bm, b, e);
		if (k_put(o, bm1_off + b, bm, (size_t)(e - b)))
			goto out;
	}
	size_t pi = 0;
	for (uint64_t b = 0; b < bm_bytes; b += CHUNK) {
		uint64_t e = b + CHUNK < bm_bytes ? b + CHUNK : bm_bytes;
		bitmap2_chunk(pfns, npfn, &pi, bm, b, e);
		if (k_put(o, bm2_off + b, bm, (size_t)(e - b)))
			goto out;
	}

	/* page data starts with the shared zero page (stored raw) */
	cd.off = desc_off;
	cp.off = data_off;
	uint8_t zpd[PD_SIZE] = { 0 };
	le64(zpd, data_off);
	le32(zpd + 8, BLOCK);
	memset(bm, 0, BLOCK);
	if (c_add(o, &cp, bm, BLOCK))
		goto out;
	uint64_t pos = data_off + BLOCK;
	for (size_t i = 0; i < npfn; i++) {
		const uint8_t *pg = img_page_const(im, pfns[i]);
		if (!pg) {
			fail(o, "image page 0x%llx vanished", (unsigned long long)pfns[i]);
			goto out;
		}
		if (is_zero(pg)) {
			if (c_add(o, &cd, zpd, PD_SIZE))
				goto out;
			continue;
		}
		size_t n;
		if (comp_page(&z, pg, &n, o, pfns[i]))
			goto out;
		uint8_t pd[PD_SIZE] = { 0 };
		le64(pd, pos);
		le32(pd + 8, n ? (uint32_t)n : BLOCK);
		le32(pd + 12, n ? z.flag : 0);
		/* page_flags = 0 */
		if (c_add(o, &cd, pd, PD_SIZE) || c_add(o, &cp, n ? z.out : pg, n ? n : BLOCK))
			goto out;
		pos += n ? n : BLOCK;
	}
	if (c_flush(o, &cd) || c_flush(o, &cp))
		goto out;
	if (o->flat) {
		uint8_t end[16];
		be64(end, (uint64_t)-1);
		be64(end + 8, (uint64_t)-1);
		if (s_write(o, end, sizeof(end)) || s_flush(o))
			goto out;
	}
	rc = 0;
out:
	comp_free(&z);
	free(bm);
	free(cd.buf);
	free(cp.buf);
	return rc;
}

/* ---- entry point ---- */

const char *dump_format_name(enum dump_format f)
{
	switch (f) {
	case DUMP_ELF: return "elf";
	case DUMP_KDUMP: return "kdump";
	case DUMP_FLAT: return "flat";
	}
	return "?";
}

const char *dump_compress_name(enum dump_compress c)
{
	switch (c) {
	case DUMP_RAW: return "raw";
	case DUMP_ZLIB: return "zlib";
	case DUMP_LZO: return "lzo";
	case DUMP_SNAPPY: return "snappy";
	case DUMP_ZSTD: return "zstd";
	}
	return "?";
}

int dump_write(struct img *im, const struct dump_info *info, enum dump_format fmt,
	       enum dump_compress c, const char *path, char *err, size_t errlen)
{
	static unsigned seq;
	char dummy[1];
	struct out o = { .path = path ? path : "(null)", .fd = -1, .err = errlen ? err : dummy,
			 .errlen = errlen ? errlen : sizeof(dummy) };
	struct notes nt = { 0 };
	int rc = -1;

	if (!im || !info || !path || !*path)
		return fail(&o, "invalid arguments");
	if (fmt != DUMP_ELF && fmt != DUMP_KDUMP && fmt != DUMP_FLAT)
		return fail(&o, "unknown dump format %d", (int)fmt);
	if (fmt == DUMP_ELF)
		c = DUMP_RAW;
	if ((unsigned)c > DUMP_ZSTD)
		return fail(&o, "unknown compression %d", (int)c);
	if (info->machine && strcmp(info->machine, "x86_64"))
		return fail(&o, "machine \"%s\" not supported (x86_64 only)", info->machine);
	if (!img_nram(im))
		return fail(&o, "image has no RAM");
	const uint64_t *pfns = img_pfns(im);
	size_t npfn = img_npages(im);
	if (!pfns)
		return fail(&o, "out of memory");
	uint64_t max_pfn = img_max_pfn(im);
	for (size_t i = 0; i < npfn; i++)
		if (pfns[i] >= max_pfn)
			return fail(&o, "page 0x%llx beyond the end of RAM", (unsigned long long)pfns[i]);

	/* temporary file next to the target */
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t tlen = strlen(path) + 64;
	o.tmp = malloc(tlen);
	o.sbuf = malloc(CHUNK);
	if (!o.tmp || !o.sbuf) {
		fail(&o, "out of memory");
		goto out;
	}
	for (int tries = 0; o.fd < 0; tries++) {
		snprintf(o.tmp, tlen, "%.*s.%s.%ld.%u.tmp", (int)dirlen, path, path + dirlen,
			 (long)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		o.fd = open(o.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (o.fd < 0 && (errno != EEXIST || tries > 100)) {
			fail(&o, "cannot create temporary file %s: %s", o.tmp, strerror(errno));
			free(o.tmp);
			o.tmp = NULL;
			goto out;
		}
	}

	if (build_notes(&nt, info->vmcoreinfo, &o))
		goto out;
	if (fmt == DUMP_ELF) {
		if (write_elf(&o, im, info, pfns, npfn, &nt))
			goto out;
	} else {
		if (fmt == DUMP_FLAT) {
			uint8_t h[BLOCK] = { 0 };
			memcpy(h, "makedumpfile", 12);
			be64(h + 16, 1);       /* type: TYPE_FLAT_HEADER */
			be64(h + 24, 1);       /* version: VERSION_FLAT_HEADER */
			o.flat = 1;
			if (s_write(&o, h, sizeof(h)))
				goto out;
		}
		if (write_kdump(&o, im, info, c, pfns, npfn, &nt))
			goto out;
	}
	int fd = o.fd;
	o.fd = -1;
	if (close(fd)) {
		fail(&o, "close of %s failed: %s", o.tmp, strerror(errno));
		goto out;
	}
	if (rename(o.tmp, path)) {
		fail(&o, "cannot rename %s to %s: %s", o.tmp, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (o.fd >= 0)
		close(o.fd);
	if (rc && o.tmp)
		unlink(o.tmp);
	free(o.tmp);
	free(o.sbuf);
	free(nt.buf);
	return rc;
}
