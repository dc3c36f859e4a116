/* Dump writer tests: images built here are written in every format and
 * compression, then
 *   - read back through libkdumpfile (every pfn: present pages byte-identical,
 *     absent pages KDUMP_ERR_NODATA) with its format/arch/uts attributes,
 *   - flattened files rearranged by the real `makedumpfile -R` and compared
 *     byte for byte with the kdump file of the same compression,
 *   - checked structurally against the on-disk layouts (headers, bitmaps,
 *     page descriptors, shared zero page, raw fallback, flattened records,
 *     ELF program headers and notes), parsed here independently,
 *   - identified by file(1) (and crash --osrelease when crash is installed),
 * and the failure paths leave no file behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dumpfile.h"
#include "image.h"

extern char **environ;

#define PG IMG_PAGE
#define RELEASE "6.1.0-vtdtest-amd64"
#define PHYS_BASE 0x1b400000ull
#define PAGE_OFFSET 0xffff888000000000ull

static const char vmcoreinfo[] =
	"OSRELEASE=" RELEASE "\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffff82a12420\n"
	"OFFSET(uts_namespace.name)=0\n"
	"NUMBER(phys_base)=457179136\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"KERNELOFFSET=0\n"
	"CRASHTIME=1700000000\n";

static const struct dump_info info = {
	.release = RELEASE,
	.machine = "x86_64",
	.vmcoreinfo = vmcoreinfo,
	.page_offset = PAGE_OFFSET,
	.phys_base = PHYS_BASE,
	.dump_level = 31,
};

static const enum dump_compress comps[] = { DUMP_RAW, DUMP_ZLIB, DUMP_LZO, DUMP_SNAPPY, DUMP_ZSTD };
static const uint32_t comp_flag[] = { 0, 0x1, 0x2, 0x4, 0x20 };
#define NCOMP (sizeof(comps) / sizeof(comps[0]))

/* ---- small utilities ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t rd64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rdbe64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint8_t *b = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t n = 0;
	while (b && n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r <= 0) {
			free(b);
			b = NULL;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return b;
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Run argv with stdin from in (or /dev/null) and stdout+stderr to a log;
 * exit status, or -1; the log's first line in msg. */
static int run(char *const argv[], const char *in, const char *log, char *msg, size_t msglen)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;
	msg[0] = 0;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		snprintf(msg, msglen, "cannot run %s: %s", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	FILE *f = fopen(log, "r");
	if (f) {
		if (!fgets(msg, (int)msglen, f))
			msg[0] = 0;
		msg[strcspn(msg, "\n")] = 0;
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char buf[4096];
	while (p && *p) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

static char tmpdir[256];

static void rm_tmpdir(void)
{
	if (!tmpdir[0])
		return;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		if (unlink(p))
			rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	tmpdir[0] = 0;
}

static void make_tmpdir(void)
{
	if (tmpdir[0])
		return;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/vtd-dumpfile-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
		abort();
	}
	atexit(rm_tmpdir);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* ---- test images ---- */

enum kind { K_RANDOM, K_PATTERN, K_HALF, K_TEXT, K_ZERO };

static void fill(uint8_t *p, uint64_t pfn, enum kind k)
{
	uint64_t s = pfn * 0x9e3779b97f4a7c15ull + 1;
	switch (k) {
	case K_RANDOM:               /* incompressible: stored raw */
		for (size_t i = 0; i < PG; i += 8) {
			uint64_t v = rnd(&s);
			memcpy(p + i, &v, 8);
		}
		break;
	case K_PATTERN:              /* page-table-like: a few entries */
		for (size_t i = 0; i < PG; i += 8)
			if (i % 64 == 0) {
				uint64_t v = (pfn + i) << 12 | 3;
				memcpy(p + i, &v, 8);
			}
		break;
	case K_HALF:                 /* random first half, zero second half */
		for (size_t i = 0; i < PG / 2; i += 8) {
			uint64_t v = rnd(&s);
			memcpy(p + i, &v, 8);
		}
		break;
	case K_TEXT:
		for (size_t i = 0; i < PG; i++)
			p[i] = (uint8_t)"vtdscope dump writer test page "[(i + pfn) % 31];
		break;
	case K_ZERO:
		break;
	}
}

static void put(struct img *im, uint64_t pfn, enum kind k)
{
	uint8_t *p = img_page(im, pfn, true);
	if (!p) {
		fprintf(stderr, "img_page(0x%llx) failed\n", (unsigned long long)pfn);
		abort();
	}
	fill(p, pfn, k);
}

/* 64 MiB with the legacy hole; present, absent, zero, raw and compressible
 * pages, single-page gaps, a long run (several descriptor and data records),
 * the first and the last RAM pfn. */
static struct img *image_small(void)
{
	struct img *im = img_new();
	if (!im || img_add_ram(im, 0, 0x9f000) || img_add_ram(im, 0x100000, 64ull << 20))
		abort();
	put(im, 0, K_RANDOM);
	put(im, 4, K_ZERO);
	put(im, 5, K_PATTERN);
	put(im, 0x9e, K_TEXT);                 /* last pfn below the hole */
	for (uint64_t p = 0x100; p < 0x120; p++)
		if (p != 0x110)                    /* single-page gap */
			put(im, p, (enum kind)(p % 5));
	put(im, 0x122, K_ZERO);                /* isolated zero page */
	for (uint64_t p = 0x1000; p < 0x1000 + 3000; p++)
		put(im, p, p % 97 == 0 ? K_ZERO : (enum kind)(p % 4));
	put(im, 0x3ffe, K_HALF);
	put(im, 0x3fff, K_RANDOM);             /* last RAM pfn */
	return im;
}

/* 5 GiB over three RAM ranges: bitmaps span several 64 KiB records. */
static struct img *image_large(void)
{
	struct img *im = img_new();
	if (!im || img_add_ram(im, 0, 0x9f000) || img_add_ram(im, 0x100000, 0xc0000000) ||
	    img_add_ram(im, 0x100000000ull, 0x140000000ull))
		abort();
	static const uint64_t pfns[] = { 0x1, 0x7fff, 0x8000, 0x7ffff, 0x80000, 0x80001,
					 0xbffff, 0x100000, 0x100001, 0x13fffe, 0x13ffff };
	for (size_t i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++)
		put(im, pfns[i], (enum kind)(i % 5));
	return im;
}

/* ---- libkdumpfile read-back ---- */

struct kd {
	kdump_ctx_t *ctx;
	int fd;
};

static int kd_open(struct kd *k, const char *path)
{
	k->fd = open(path, O_RDONLY);
	k->ctx = kdump_new();
	if (k->fd < 0 || !k->ctx) {
		check_fail(__FILE__, __LINE__, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (kdump_open_fd(k->ctx, k->fd) != KDUMP_OK) {
		check_fail(__FILE__, __LINE__, "libkdumpfile cannot open %s: %s", path,
			   kdump_get_err(k->ctx));
		return -1;
	}
	return 0;
}

static void kd_close(struct kd *k)
{
	if (k->ctx)
		kdump_free(k->ctx);
	if (k->fd >= 0)
		close(k->fd);
}

static int pagemap_bit(kdump_ctx_t *ctx, const char *attr, uint64_t pfn, int *bit)
{
	kdump_attr_t a;
	a.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(ctx, attr, &a) != KDUMP_OK)
		return -1;
	unsigned char raw[1] = { 0 };
	kdump_status st = kdump_bmp_get_bits(a.val.bitmap, pfn, pfn, raw);
	*bit = raw[0] & 1;
	return st == KDUMP_OK ? 0 : -1;
}

/* Compare a libkdumpfile bitmap attribute with a pfn predicate over
 * [0, end): range by range with find_set/find_clear. */
static void check_pagemap(kdump_ctx_t *ctx, const char *attr, struct img *im, uint64_t end,
			  bool (*want)(struct img *, uint64_t))
{
	kdump_attr_t a;
	a.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(ctx, attr, &a) != KDUMP_OK) {
		check_fail(__FILE__, __LINE__, "%s: %s", attr, kdump_get_err(ctx));
		return;
	}
	kdump_bmp_t *bmp = a.val.bitmap;
	uint64_t pfn = 0;
	int bad = 0;
	while (pfn < end && !bad) {
		kdump_addr_t s = pfn, e;
		if (kdump_bmp_find_set(bmp, &s) != KDUMP_OK || s > end)
			s = end;
		for (; pfn < s && !bad; pfn++)
			if (want(im, pfn)) {
				check_fail(__FILE__, __LINE__, "%s: pfn 0x%llx clear, expected set", attr,
					   (unsigned long long)pfn);
				bad = 1;
			}
		if (pfn >= end || bad)
			break;
		e = pfn;
		kdump_bmp_find_clear(bmp, &e);
		if (e > end)
			e = end;
		for (; pfn < e && !bad; pfn++)
			if (!want(im, pfn)) {
				check_fail(__FILE__, __LINE__, "%s: pfn 0x%llx set, expected clear", attr,
					   (unsigned long long)pfn);
				bad = 1;
			}
	}
}

static bool want_present(struct img *im, uint64_t pfn) { return img_page_const(im, pfn) != NULL; }

/* Read every pfn in [0, end] (end = the max pfn, one past RAM): present pages
 * identical, absent pages KDUMP_ERR_NODATA.  libkdumpfile 0.5.1's ELF
 * reader returns a page of zeros instead of NODATA for a page that is not
 * in any PT_LOAD but directly precedes one (find_closest_*_load() accepts a
 * segment exactly one page away); that case is accepted after checking the
 * file's pagemap excludes the page.  Returns the number of such pages. */
static size_t check_reads(kdump_ctx_t *ctx, struct img *im, bool elf, uint64_t end)
{
	static uint8_t buf[PG];
	size_t quirks = 0;
	int bad = 0;
	for (uint64_t pfn = 0; pfn <= end && bad < 5; pfn++) {
		const uint8_t *want = img_page_const(im, pfn);
		size_t len = PG;
		kdump_status st = kdump_read(ctx, KDUMP_MACHPHYSADDR, pfn * PG, buf, &len);
		if (want) {
			if (st != KDUMP_OK || len != PG) {
				check_fail(__FILE__, __LINE__, "pfn 0x%llx: read failed (%d): %s",
					   (unsigned long long)pfn, (int)st, kdump_get_err(ctx));
				bad++;
			} else if (memcmp(buf, want, PG)) {
				check_fail(__FILE__, __LINE__, "pfn 0x%llx: contents differ",
					   (unsigned long long)pfn);
				bad++;
			}
			continue;
		}
		if (st == KDUMP_ERR_NODATA)
			continue;
		int bit = 1;
		if (elf && st == KDUMP_OK && is_zero(buf, PG) && img_page_const(im, pfn + 1) &&
		    pagemap_bit(ctx, KDUMP_ATTR_FILE_PAGEMAP, pfn, &bit) == 0 && !bit) {
			quirks++;
			continue;
		}
		check_fail(__FILE__, __LINE__, "absent pfn 0x%llx: status %d (%s), expected NODATA",
			   (unsigned long long)pfn, (int)st, st ? kdump_get_err(ctx) : "read OK");
		bad++;
	}
	return quirks;
}

/* Open path with libkdumpfile and check attributes and every page. */
static void readback(const char *path, struct img *im, enum dump_format fmt)
{
	struct kd k = { 0, -1 };
	if (kd_open(&k, path)) {
		kd_close(&k);
		return;
	}
	const char *s = NULL;
	kdump_num_t n = 0;
	kdump_addr_t a = 0;
	bool elf = fmt == DUMP_ELF;
	uint64_t max_pfn = img_max_pfn(im);

	/* machine-physical reads need no OS type; kernel-physical ones do */
	const uint64_t *pfns = img_pfns(im);
	uint8_t buf[PG];
	size_t len = PG;
	EXPECT_MSG(kdump_read(k.ctx, KDUMP_MACHPHYSADDR, pfns[0] * PG, buf, &len) == KDUMP_OK,
		   "MACHPHYSADDR read before addrxlat.ostype: %s", kdump_get_err(k.ctx));
	EXPECT_MSG(kdump_set_string_attr(k.ctx, KDUMP_ATTR_OSTYPE, "linux") == KDUMP_OK,
		   "addrxlat.ostype=linux: %s", kdump_get_err(k.ctx));
	len = PG;
	EXPECT_MSG(kdump_read(k.ctx, KDUMP_KPHYSADDR, pfns[0] * PG, buf, &len) == KDUMP_OK &&
		   !memcmp(buf, img_page_const(im, pfns[0]), PG),
		   "KPHYSADDR read after addrxlat.ostype=linux: %s", kdump_get_err(k.ctx));

	EXPECT(kdump_get_string_attr(k.ctx, KDUMP_ATTR_FILE_FORMAT, &s) == KDUMP_OK);
	EXPECT_STR(s, elf ? "elf" : "diskdump");
	EXPECT(kdump_get_string_attr(k.ctx, KDUMP_ATTR_ARCH_NAME, &s) == KDUMP_OK);
	EXPECT_STR(s, "x86_64");
	EXPECT(kdump_get_number_attr(k.ctx, KDUMP_ATTR_PAGE_SIZE, &n) == KDUMP_OK);
	EXPECT_EQ(n, PG);
	EXPECT(kdump_get_number_attr(k.ctx, KDUMP_ATTR_PTR_SIZE, &n) == KDUMP_OK);
	EXPECT_EQ(n, 8);
	EXPECT(kdump_get_number_attr(k.ctx, KDUMP_ATTR_NUM_CPUS, &n) == KDUMP_OK);
	EXPECT_EQ(n, 1);
	EXPECT(kdump_get_string_attr(k.ctx, "linux.uts.release", &s) == KDUMP_OK);
	EXPECT_STR(s, RELEASE);
	char *v = NULL;
	EXPECT(kdump_vmcoreinfo_line(k.ctx, "CRASHTIME", &v) == KDUMP_OK);
	EXPECT_STR(v, "1700000000");
	free(v);
	EXPECT(kdump_get_address_attr(k.ctx, "linux.phys_base", &a) == KDUMP_OK);
	EXPECT_EQ(a, PHYS_BASE);
	if (!elf) {
		EXPECT(kdump_get_string_attr(k.ctx, "linux.uts.machine", &s) == KDUMP_OK);
		EXPECT_STR(s, "x86_64");
		EXPECT(kdump_get_number_attr(k.ctx, "max_pfn", &n) == KDUMP_OK);
		EXPECT_EQ(n, max_pfn);
		/* memory.pagemap (the 1st bitmap) is not read here: libkdumpfile
		 * 0.5.1 leaks its region table (diskdump_cleanup() frees only the
		 * 2nd bitmap's), which LeakSanitizer reports; check_kdump_layout()
		 * checks the 1st bitmap instead. */
	}
	check_pagemap(k.ctx, KDUMP_ATTR_FILE_PAGEMAP, im, max_pfn, want_present);
	size_t q = check_reads(k.ctx, im, elf, max_pfn);
	if (q)
		printf("# %s: %zu absent pages directly before a PT_LOAD read as zeros "
		       "(libkdumpfile 0.5.1 ELF quirk)\n", path, q);
	kd_close(&k);
}

/* ---- structural checks of our own ---- */

struct kdump_layout {
	uint32_t status, sub_blocks, bm_blocks;
	uint64_t max_mapnr, bm1, bm2, desc, data;
};

static int bit(const uint8_t *bm, uint64_t pfn) { return bm[pfn / 8] >> (pfn % 8) & 1; }

static void check_kdump_layout(const char *path, struct img *im, size_t ci)
{
	size_t len;
	uint8_t *f = slurp(path, &len);
	if (!f || len < 2 * PG) {
		check_fail(__FILE__, __LINE__, "%s: cannot read or too short", path);
		free(f);
		return;
	}
	uint64_t max_pfn = img_max_pfn(im);
	EXPECT(!memcmp(f, "KDUMP   ", 8));
	EXPECT_EQ(rd32(f + 8), 6);
	EXPECT(!strcmp((char *)f + 12, "Linux"));
	EXPECT(!strcmp((char *)f + 12 + 2 * 65, RELEASE));
	EXPECT(!strcmp((char *)f + 12 + 4 * 65, "x86_64"));
	EXPECT_EQ(rd64(f + 408), 1700000000);        /* CRASHTIME */
	EXPECT_EQ(rd64(f + 416), 0);
	EXPECT_EQ(rd32(f + 424), comp_flag[ci]);
	EXPECT_EQ(rd32(f + 428), PG);
	uint32_t sub = rd32(f + 432), bmb = rd32(f + 436);
	EXPECT_EQ(rd32(f + 440), max_pfn);
	EXPECT_EQ(rd32(f + 460), 1);                 /* nr_cpus */
	EXPECT_EQ(bmb % 2, 0);
	EXPECT_MSG((uint64_t)bmb / 2 * PG * 8 >= max_pfn, "bitmap_blocks %u too small", bmb);
	EXPECT_MSG((uint64_t)(bmb / 2 - 1) * PG * 8 < max_pfn, "bitmap_blocks %u too large", bmb);
	const uint8_t *sh = f + PG;
	EXPECT_EQ(rd64(sh), PHYS_BASE);
	EXPECT_EQ(rd32(sh + 8), 31);
	EXPECT_EQ(rd32(sh + 12), 0);                 /* split */
	uint64_t voff = rd64(sh + 32), vsz = rd64(sh + 40), noff = rd64(sh + 48), nsz = rd64(sh + 56);
	EXPECT_EQ(noff, PG + 104);
	EXPECT_MSG(noff + nsz <= (uint64_t)(1 + sub) * PG, "notes overflow the sub-header blocks");
	EXPECT_MSG((uint64_t)(sub - 1) * PG < 104 + nsz, "sub_hdr_size %u too large", sub);
	EXPECT_EQ(vsz, strlen(vmcoreinfo));
	EXPECT_MSG(voff > noff && voff + vsz <= noff + nsz && voff + vsz <= len &&
		   !memcmp(f + voff, vmcoreinfo, vsz), "offset_vmcoreinfo 0x%llx does not hold VMCOREINFO",
		   (unsigned long long)voff);
	/* notes: CORE/NT_PRSTATUS then VMCOREINFO */
	const uint8_t *nt = f + noff;
	EXPECT_EQ(rd32(nt), 5);
	EXPECT_EQ(rd32(nt + 4), 336);
	EXPECT_EQ(rd32(nt + 8), 1);
	EXPECT(!memcmp(nt + 12, "CORE", 5));
	const uint8_t *nv = nt + 12 + 8 + 336;
	EXPECT_EQ(rd32(nv), 11);
	EXPECT_EQ(rd32(nv + 8), 0);
	EXPECT(!memcmp(nv + 12, "VMCOREINFO", 11));
	EXPECT_EQ((uint64_t)(nv + 24 - f), voff);
	EXPECT_EQ(rd64(sh + 64), 0);                 /* no eraseinfo */
	EXPECT_EQ(rd64(sh + 80), 0);
	EXPECT_EQ(rd64(sh + 88), 0);
	EXPECT_EQ(rd64(sh + 96), max_pfn);

	uint64_t bm1 = (uint64_t)(1 + sub) * PG, bm2 = bm1 + (uint64_t)bmb / 2 * PG;
	uint64_t desc = bm1 + (uint64_t)bmb * PG;
	size_t npfn = img_npages(im);
	const uint64_t *pfns = img_pfns(im);
	uint64_t data = desc + 24 * npfn;
	if (len < data + PG) {
		check_fail(__FILE__, __LINE__, "%s: file too short (%zu)", path, len);
		free(f);
		return;
	}
	int bad = 0;
	for (uint64_t p = 0; p < (uint64_t)bmb / 2 * PG * 8 && bad < 3; p++) {
		int r = p < max_pfn && img_is_ram(im, p), d = p < max_pfn && img_page_const(im, p);
		if (bit(f + bm1, p) != r || bit(f + bm2, p) != d) {
			check_fail(__FILE__, __LINE__, "pfn 0x%llx: bitmaps %d/%d, expected %d/%d",
				   (unsigned long long)p, bit(f + bm1, p), bit(f + bm2, p), r, d);
			bad++;
		}
	}
	/* the shared zero page comes first, raw */
	EXPECT(is_zero(f + data, PG));
	uint64_t next = data + PG;
	size_t nzero = 0, nraw = 0, ncomp = 0;
	for (size_t i = 0; i < npfn && bad < 3; i++) {
		const uint8_t *pd = f + desc + 24 * i, *pg = img_page_const(im, pfns[i]);
		uint64_t off = rd64(pd);
		uint32_t size = rd32(pd + 8), flags = rd32(pd + 12);
		if (rd64(pd + 16)) {
			check_fail(__FILE__, __LINE__, "pfn 0x%llx: page_flags set", (unsigned long long)pfns[i]);
			bad++;
		}
		if (is_zero(pg, PG)) {
			nzero++;
			if (off != data || size != PG || flags) {
				check_fail(__FILE__, __LINE__, "zero pfn 0x%llx: desc %llx/%u/%u, expected the zero page",
					   (unsigned long long)pfns[i], (unsigned long long)off, size, flags);
				bad++;
			}
			continue;
		}
		if (off != next || off + size > len) {
			check_fail(__FILE__, __LINE__, "pfn 0x%llx: data at 0x%llx, expected 0x%llx",
				   (unsigned long long)pfns[i], (unsigned long long)off, (unsigned long long)next);
			bad++;
			continue;
		}
		next += size;
		if (flags == 0) {
			nraw++;
			if (size != PG || memcmp(f + off, pg, PG)) {
				check_fail(__FILE__, __LINE__, "raw pfn 0x%llx: size %u or contents wrong",
					   (unsigned long long)pfns[i], size);
				bad++;
			}
		} else {
			ncomp++;
			if (flags != comp_flag[ci] || size >= PG) {
				check_fail(__FILE__, __LINE__, "pfn 0x%llx: flags 0x%x size %u",
					   (unsigned long long)pfns[i], flags, size);
				bad++;
			}
		}
	}
	EXPECT_EQ(next, len);                        /* nothing after the last page */
	EXPECT(nzero > 0);
	if (comps[ci] == DUMP_RAW) {
		EXPECT_EQ(ncomp, 0);
	} else {
		EXPECT_MSG(ncomp > 0 && nraw > 0, "%zu compressed and %zu raw pages", ncomp, nraw);
	}
	free(f);
}

/* Parse a flattened file: header, records (bounded, non-overlapping, not
 * sorted), end marker; replay it and compare with the kdump file. */
struct rec { uint64_t off, size; };

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void check_flat_layout(const char *flat, const char *kdump)
{
	size_t flen, klen;
	uint8_t *f = slurp(flat, &flen), *k = slurp(kdump, &klen);
	struct rec *r = NULL;
	uint8_t *img = NULL;
	size_t nr = 0;
	if (!f || !k || flen < PG + 16) {
		check_fail(__FILE__, __LINE__, "cannot read %s / %s", flat, kdump);
		goto out;
	}
	EXPECT(!memcmp(f, "makedumpfile\0\0\0\0", 16));
	EXPECT_EQ(rdbe64(f + 16), 1);
	EXPECT_EQ(rdbe64(f + 24), 1);
	EXPECT(is_zero(f + 32, PG - 32));
	size_t pos = PG, unsorted = 0;
	uint64_t end = 0;
	r = malloc(sizeof(*r) * (flen / 16 + 1));
	if (!r)
		goto out;
	for (;;) {
		if (pos + 16 > flen) {
			check_fail(__FILE__, __LINE__, "no end marker");
			goto out;
		}
		uint64_t off = rdbe64(f + pos), size = rdbe64(f + pos + 8);
		pos += 16;
		if (off == UINT64_MAX && size == UINT64_MAX)
			break;
		if (size == 0 || size > 65536 || pos + size > flen || off > klen) {
			check_fail(__FILE__, __LINE__, "bad record at %zu: offset 0x%llx size 0x%llx",
				   pos - 16, (unsigned long long)off, (unsigned long long)size);
			goto out;
		}
		if (nr && off < r[nr - 1].off)
			unsorted++;
		r[nr++] = (struct rec){ off, size };
		if (off + size > end)
			end = off + size;
		pos += size;
	}
	EXPECT_EQ(pos, flen);
	EXPECT_EQ(r[0].off, 0);
	EXPECT_MSG(unsorted > 0, "records are sorted: not the order makedumpfile writes");
	EXPECT_EQ(end, klen);
	/* replay, then check no two records overlap */
	img = calloc(1, end ? end : 1);
	if (!img)
		goto out;
	pos = PG;
	for (size_t i = 0; i < nr; i++) {
		memcpy(img + r[i].off, f + pos + 16, r[i].size);
		pos += 16 + r[i].size;
	}
	EXPECT_MSG(end == klen && !memcmp(img, k, klen), "replayed flattened file differs from %s", kdump);
	qsort(r, nr, sizeof(*r), cmp_rec);
	for (size_t i = 1; i < nr; i++)
		EXPECT_MSG(r[i].off >= r[i - 1].off + r[i - 1].size, "records at 0x%llx and 0x%llx overlap",
			   (unsigned long long)r[i - 1].off, (unsigned long long)r[i].off);
out:
	free(f);
	free(k);
	free(r);
	free(img);
}

static void check_elf_layout(const char *path, struct img *im)
{
	size_t len;
	uint8_t *f = slurp(path, &len);
	if (!f || len < 64) {
		check_fail(__FILE__, __LINE__, "%s: cannot read", path);
		free(f);
		return;
	}
	EXPECT(!memcmp(f, "\177ELF\2\1\1", 7));
	EXPECT_EQ(rd16(f + 16), 4);                  /* ET_CORE */
	EXPECT_EQ(rd16(f + 18), 62);                 /* EM_X86_64 */
	EXPECT_EQ(rd64(f + 32), 64);                 /* e_phoff */
	EXPECT_EQ(rd16(f + 54), 56);
	uint16_t phnum = rd16(f + 56);
	const uint8_t *ph = f + 64;
	if (64 + 56ull * phnum > len || phnum < 1) {
		check_fail(__FILE__, __LINE__, "bad phnum %u", phnum);
		free(f);
		return;
	}
	EXPECT_EQ(rd32(ph), 4);                      /* PT_NOTE first */
	uint64_t noff = rd64(ph + 8), nsz = rd64(ph + 32);
	size_t vlen = strlen(vmcoreinfo);
	EXPECT_EQ(nsz, 12 + 8 + 336 + 12 + 12 + (vlen + 3) / 4 * 4);
	if (noff + nsz <= len && nsz == 12 + 8 + 336 + 12 + 12 + (vlen + 3) / 4 * 4) {
		const uint8_t *nv = f + noff + 12 + 8 + 336;
		EXPECT(!memcmp(f + noff + 12, "CORE", 5));
		EXPECT_EQ(rd32(f + noff + 8), 1);
		EXPECT(!memcmp(nv + 12, "VMCOREINFO", 11));
		EXPECT_EQ(rd32(nv + 4), vlen);
		EXPECT(!memcmp(nv + 24, vmcoreinfo, vlen));
	}
	/* PT_LOADs = runs of present pages, in order */
	const uint64_t *pfns = img_pfns(im);
	size_t npfn = img_npages(im), i = 0;
	for (uint16_t h = 1; h < phnum; h++) {
		const uint8_t *p = ph + 56 * h;
		uint64_t off = rd64(p + 8), va = rd64(p + 16), pa = rd64(p + 24);
		uint64_t fsz = rd64(p + 32), msz = rd64(p + 40);
		EXPECT_EQ(rd32(p), 1);
		EXPECT_EQ(va, PAGE_OFFSET + pa);
		EXPECT_EQ(fsz, msz);
		EXPECT_EQ(off % PG, 0);
		if (i >= npfn || pa != pfns[i] * PG || off + fsz > len) {
			check_fail(__FILE__, __LINE__, "PT_LOAD %u: paddr 0x%llx", h, (unsigned long long)pa);
			break;
		}
		size_t j = i + 1;
		while (j < npfn && pfns[j] == pfns[j - 1] + 1)
			j++;
		EXPECT_EQ(fsz, (j - i) * PG);
		for (size_t q = i; q < j && off + (q - i + 1) * PG <= len; q++)
			EXPECT_MSG(!memcmp(f + off + (q - i) * PG, img_page_const(im, pfns[q]), PG),
				   "pfn 0x%llx data", (unsigned long long)pfns[q]);
		i = j;
	}
	EXPECT_EQ(i, npfn);
	free(f);
}

/* ---- tests ---- */

static void path_of(char *buf, size_t n, const char *img, enum dump_format f, enum dump_compress c)
{
	snprintf(buf, n, "%s/%s.%s-%s", tmpdir, img, dump_format_name(f), dump_compress_name(c));
}

static void write_ok(struct img *im, enum dump_format f, enum dump_compress c, const char *path)
{
	char err[512];
	int rc = dump_write(im, &info, f, c, path, err, sizeof(err));
	EXPECT_MSG(rc == 0, "dump_write %s: %s", path, err);
}

static void file_says(const char *path, const char *want)
{
	char *argv[] = { "file", "-b", (char *)path, NULL }, msg[512], log[600];
	snprintf(log, sizeof(log), "%s.file", path);
	int rc = run(argv, NULL, log, msg, sizeof(msg));
	unlink(log);
	EXPECT_MSG(rc == 0 && !strncmp(msg, want, strlen(want)), "file(1) says \"%s\", expected \"%s...\"",
		   msg, want);
}

static void all_formats(const char *name, struct img *(*mk)(void), bool extra)
{
	struct img *im = mk();
	char path[512], kpath[512], out[600], log[600], msg[512];
	make_tmpdir();

	check_begin("dumpfile/%s/elf", name);
	path_of(path, sizeof(path), name, DUMP_ELF, DUMP_RAW);
	write_ok(im, DUMP_ELF, DUMP_RAW, path);
	readback(path, im, DUMP_ELF);
	check_elf_layout(path, im);
	if (extra)
		file_says(path, "ELF 64-bit LSB core file, x86-64");
	check_end();

	for (size_t ci = 0; ci < NCOMP; ci++) {
		enum dump_compress c = comps[ci];
		check_begin("dumpfile/%s/kdump-%s", name, dump_compress_name(c));
		path_of(kpath, sizeof(kpath), name, DUMP_KDUMP, c);
		write_ok(im, DUMP_KDUMP, c, kpath);
		readback(kpath, im, DUMP_KDUMP);
		check_kdump_layout(kpath, im, ci);
		if (extra)
			file_says(kpath, "Kdump compressed dump v6, system Linux, node (none), release " RELEASE);
		check_end();

		check_begin("dumpfile/%s/flat-%s", name, dump_compress_name(c));
		path_of(path, sizeof(path), name, DUMP_FLAT, c);
		write_ok(im, DUMP_FLAT, c, path);
		check_flat_layout(path, kpath);
		snprintf(out, sizeof(out), "%s.R", path);
		snprintf(log, sizeof(log), "%s.log", path);
		char *argv[] = { "makedumpfile", "-R", out, NULL };
		int rc = run(argv, path, log, msg, sizeof(msg));
		EXPECT_MSG(rc == 0, "makedumpfile -R %s < %s: status %d: %s", out, path, rc, msg);
		if (rc == 0) {
			size_t a, b;
			uint8_t *x = slurp(out, &a), *y = slurp(kpath, &b);
			EXPECT_MSG(x && y && a == b && !memcmp(x, y, a),
				   "makedumpfile -R output differs from %s", kpath);
			free(x);
			free(y);
			readback(out, im, DUMP_KDUMP);
		}
		if (extra)
			file_says(path, "Flattened kdump compressed dump v6, system Linux");
		unlink(out);
		unlink(log);
		unlink(path);
		unlink(kpath);
		check_end();
	}
	path_of(path, sizeof(path), name, DUMP_ELF, DUMP_RAW);
	unlink(path);
	img_free(im);
}

TEST(dumpfile_small)
{
	all_formats("small", image_small, true);
}

TEST(dumpfile_large)
{
	all_formats("large", image_large, false);
}

/* The same image gives the same bytes (no time stamps, no uninitialised
 * padding). */
TEST(dumpfile_deterministic)
{
	struct img *im = image_small();
	char a[512], b[512];
	make_tmpdir();
	for (int f = DUMP_ELF; f <= DUMP_FLAT; f++) {
		enum dump_compress c = f == DUMP_ELF ? DUMP_RAW : DUMP_ZSTD;
		snprintf(a, sizeof(a), "%s/det-a", tmpdir);
		snprintf(b, sizeof(b), "%s/det-b", tmpdir);
		write_ok(im, (enum dump_format)f, c, a);
		write_ok(im, (enum dump_format)f, c, b);
		size_t la, lb;
		uint8_t *x = slurp(a, &la), *y = slurp(b, &lb);
		EXPECT_MSG(x && y && la == lb && !memcmp(x, y, la), "%s output differs between runs",
			   dump_format_name((enum dump_format)f));
		free(x);
		free(y);
		unlink(a);
		unlink(b);
	}
	img_free(im);
}

/* An image with only RAM and no present page, and one whose only page is
 * all zero.  libkdumpfile refuses an ELF file without any PT_LOAD ("No
 * content found"), so that one is only checked structurally. */
TEST(dumpfile_empty)
{
	char path[512];
	make_tmpdir();
	for (int z = 0; z < 2; z++) {
		struct img *im = img_new();
		img_add_ram(im, 0x100000, 0x200000);
		if (z)
			put(im, 0x1ff, K_ZERO);
		for (int f = DUMP_ELF; f <= DUMP_KDUMP; f++) {
			snprintf(path, sizeof(path), "%s/empty%d.%s", tmpdir, z, dump_format_name((enum dump_format)f));
			write_ok(im, (enum dump_format)f, DUMP_LZO, path);
			if (f == DUMP_ELF)
				check_elf_layout(path, im);
			if (f == DUMP_ELF && !z) {
				unlink(path);
				continue;
			}
			struct kd k = { 0, -1 };
			if (!kd_open(&k, path)) {
				kdump_set_string_attr(k.ctx, KDUMP_ATTR_OSTYPE, "linux");
				check_reads(k.ctx, im, f == DUMP_ELF, img_max_pfn(im));
			}
			kd_close(&k);
			unlink(path);
		}
		img_free(im);
	}
}

/* Failures: no file is left behind, the message names the file. */
TEST(dumpfile_failures)
{
	struct img *im = image_small();
	char path[512], err[512];
	make_tmpdir();

	/* directory does not exist */
	snprintf(path, sizeof(path), "%s/no-such-dir/x.kdump", tmpdir);
	for (int f = DUMP_ELF; f <= DUMP_FLAT; f++) {
		err[0] = 0;
		EXPECT(dump_write(im, &info, (enum dump_format)f, DUMP_ZLIB, path, err, sizeof(err)) == -1);
		EXPECT_MSG(strstr(err, path) && strstr(err, "No such file"), "message: %s", err);
	}
	EXPECT_EQ(count_entries(tmpdir), 0);

	/* the target is a directory: rename fails, the temporary is removed */
	snprintf(path, sizeof(path), "%s/isdir", tmpdir);
	EXPECT(mkdir(path, 0755) == 0);
	err[0] = 0;
	EXPECT(dump_write(im, &info, DUMP_KDUMP, DUMP_RAW, path, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, path) && strstr(err, "rename"), "message: %s", err);
	EXPECT_EQ(count_entries(tmpdir), 1);
	rmdir(path);

	/* writes fail part way (file size limit): every format */
	struct rlimit old, lim;
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	for (int f = DUMP_ELF; f <= DUMP_FLAT; f++) {
		snprintf(path, sizeof(path), "%s/big.%s", tmpdir, dump_format_name((enum dump_format)f));
		err[0] = 0;
		EXPECT(dump_write(im, &info, (enum dump_format)f, DUMP_RAW, path, err, sizeof(err)) == -1);
		EXPECT_MSG(strstr(err, path) && strstr(err, "write") && strstr(err, "File too large"),
			   "message: %s", err);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	EXPECT_EQ(count_entries(tmpdir), 0);

	/* bad arguments */
	struct dump_info bad = info;
	bad.machine = "aarch64";
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	EXPECT(dump_write(im, &bad, DUMP_KDUMP, DUMP_RAW, path, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "aarch64"), "message: %s", err);
	bad = info;
	bad.release = "a-release-string-longer-than-the-sixty-four-characters-of-utsname-fields";
	EXPECT(dump_write(im, &bad, DUMP_KDUMP, DUMP_RAW, path, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "release"), "message: %s", err);
	EXPECT(dump_write(im, &info, DUMP_KDUMP, (enum dump_compress)42, path, err, sizeof(err)) == -1);
	struct img *noram = img_new();
	EXPECT(dump_write(noram, &info, DUMP_ELF, DUMP_RAW, path, err, sizeof(err)) == -1);
	img_free(noram);
	EXPECT_EQ(count_entries(tmpdir), 0);
	img_free(im);
}

/* crash reads the kdump header, notes and VMCOREINFO (no vmlinux needed). */
TEST(dumpfile_crash_osrelease)
{
	if (!in_path("crash")) {
		printf("# crash not installed: crash --osrelease check skipped\n");
		return;
	}
	struct img *im = image_small();
	char path[512], log[600], msg[512];
	make_tmpdir();
	for (int f = DUMP_ELF; f <= DUMP_FLAT; f++) {
		snprintf(path, sizeof(path), "%s/crash.%s", tmpdir, dump_format_name((enum dump_format)f));
		snprintf(log, sizeof(log), "%s.log", path);
		write_ok(im, (enum dump_format)f, DUMP_ZLIB, path);
		char *argv[] = { "crash", "--osrelease", path, NULL };
		int rc = run(argv, NULL, log, msg, sizeof(msg));
		EXPECT_MSG(rc == 0 && !strcmp(msg, RELEASE), "crash --osrelease %s: status %d: %s", path, rc, msg);
		unlink(path);
		unlink(log);
	}
	img_free(im);
}

