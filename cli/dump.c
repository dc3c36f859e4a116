/* Dump readers (see dump.h). */
#include "dump.h"
#include "diskdump.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An ELF dump's memory: its PT_LOAD segments with file data. */
struct seg { uint64_t pa, filesz, off; };

struct dump {
	int fd;
	struct seg *segs;        /* ELF: sorted by pa */
	size_t nsegs;
	uint64_t elf_max_pfn;

	struct diskdump *flat;   /* kdump-compressed files and flattened
				  * streams: our own reader */

	char format[32];
	char *vmcoreinfo;        /* raw text, NUL-terminated */
};


static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/* ELF dumps through our own reader too (libkdumpfile 0.5.1 crashed on
 * fuzzed ELF headers): the PT_LOAD segments with data, and VMCOREINFO from
 * the PT_NOTE notes.  Every header is checked as it is read; what a vmcore
 * never has (another machine, an empty note, memory beyond 52 bits, no
 * memory at all) is refused, as the fuzzed files libkdumpfile crashed on. */
static int elf_load(struct dump *d, const char *path, char *err, size_t errlen)
{
	uint8_t h[64], ph[56];
	struct stat st;
	if (fstat(d->fd, &st) || pread(d->fd, h, 64, 0) != 64)
		return snprintf(err, errlen, "%s: ELF header truncated", path), -1;
	if (h[4] != 2 || h[5] != 1)
		return snprintf(err, errlen, "%s: not a little-endian ELF64 dump", path), -1;
	uint16_t etype, emachine;
	memcpy(&etype, h + 16, 2);
	memcpy(&emachine, h + 18, 2);
	if (etype != 4 || emachine != 62)
		return snprintf(err, errlen, "%s: not an x86-64 ELF core file (e_type %u, e_machine %u)",
				path, etype, emachine), -1;
	uint64_t phoff, size = (uint64_t)st.st_size;
	uint16_t phentsize, phnum;
	memcpy(&phoff, h + 32, 8);
	memcpy(&phentsize, h + 54, 2);
	memcpy(&phnum, h + 56, 2);
	if (phentsize != 56 || phoff > size || (uint64_t)phnum * 56 > size - phoff)
		return snprintf(err, errlen, "%s: ELF program headers (%u at 0x%" PRIx64 ") are not in "
				"the file (%" PRIu64 " bytes)", path, phnum, phoff, size), -1;
	d->segs = calloc(phnum ? phnum : 1, sizeof(*d->segs));
	if (!d->segs)
		return snprintf(err, errlen, "out of memory"), -1;
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type;
		uint64_t off, pa, filesz, memsz;
		if (pread(d->fd, ph, 56, (off_t)(phoff + 56ull * i)) != 56)
			return snprintf(err, errlen, "%s: ELF program header %u unreadable", path, i), -1;
		memcpy(&type, ph, 4);
		memcpy(&off, ph + 8, 8);
		memcpy(&pa, ph + 24, 8);
		memcpy(&filesz, ph + 32, 8);
		memcpy(&memsz, ph + 40, 8);
		if (type == 4 && !filesz)
			return snprintf(err, errlen, "%s: ELF program header %u: an empty PT_NOTE", path, i), -1;
		if (type == 1 && (pa >> 52 || memsz >> 52 || (pa + memsz) >> 52))
			return snprintf(err, errlen, "%s: ELF program header %u: PT_LOAD at physical 0x%" PRIx64
					" (+0x%" PRIx64 ") is beyond the 52-bit physical address space", path, i,
					pa, memsz), -1;
		if ((type == 1 || type == 4) && (off > size || filesz > size - off))
			return snprintf(err, errlen, "%s: ELF program header %u (%s) claims 0x%" PRIx64
					" bytes at 0x%" PRIx64 ", beyond the end of the file (%" PRIu64
					" bytes): truncated or corrupt", path, i, type == 1 ? "PT_LOAD" : "PT_NOTE",
					filesz, off, size), -1;
		if (type == 1) {
			if ((pa + memsz + 4095) / 4096 > d->elf_max_pfn)
				d->elf_max_pfn = (pa + memsz + 4095) / 4096;
			if (filesz)
				d->segs[d->nsegs++] = (struct seg){ pa, filesz, off };
		} else if (type == 4 && !d->vmcoreinfo && filesz <= (64u << 20)) {
			uint8_t *n = malloc(filesz);
			if (!n || pread(d->fd, n, filesz, (off_t)off) != (ssize_t)filesz) {
				free(n);
				return snprintf(err, errlen, "%s: ELF notes unreadable", path), -1;
			}
			for (uint64_t o = 0; o + 12 <= filesz;) {
				uint32_t nsz, dsz;
				memcpy(&nsz, n + o, 4);
				memcpy(&dsz, n + o + 4, 4);
				uint64_t name = o + 12, desc = name + ((nsz + 3ull) & ~3ull);
				if (desc > filesz || dsz > filesz - desc)
					break;
				if (nsz == 11 && !memcmp(n + name, "VMCOREINFO", 11)) {
					d->vmcoreinfo = malloc(dsz + 1ull);
					if (d->vmcoreinfo) {
						memcpy(d->vmcoreinfo, n + desc, dsz);
						d->vmcoreinfo[dsz] = 0;
					}
					break;
				}
				o = desc + ((dsz + 3ull) & ~3ull);
			}
			free(n);
		}
	}
	if (!d->nsegs)
		return snprintf(err, errlen, "%s: an ELF file without memory (no PT_LOAD with data): "
				"not a vmcore", path), -1;
	qsort(d->segs, d->nsegs, sizeof(*d->segs), cmp_seg);
	return 0;
}

/* The segment holding pa, or NULL. */
static const struct seg *seg_of(const struct dump *d, uint64_t pa)
{
	size_t lo = 0, hi = d->nsegs;
	while (lo < hi) {                       /* first segment starting after pa */
		size_t mid = (lo + hi) / 2;
		if (d->segs[mid].pa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* segments may overlap (the kernel text's and RAM's): look back */
	for (size_t i = lo; i-- > 0;)
		if (pa - d->segs[i].pa < d->segs[i].filesz)
			return &d->segs[i];
	return NULL;
}

static int elf_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	struct dump *d = ctx;
	uint8_t *p = buf;
	while (len) {
		const struct seg *s = seg_of(d, pa);
		if (!s) {
			/* makedumpfile -E drops all-zero pages as well as filtered ones */
			snprintf(why, whylen, "excluded page (not in the dump; an ELF dump also leaves out "
				 "all-zero pages) at 0x%" PRIx64, pa & ~(uint64_t)4095);
			return -1;
		}
		uint64_t n = s->pa + s->filesz - pa;
		if (n > len)
			n = len;
		if (pread(d->fd, p, n, (off_t)(s->off + (pa - s->pa))) != (ssize_t)n) {
			snprintf(why, whylen, "read error at file offset 0x%" PRIx64, s->off + (pa - s->pa));
			return -1;
		}
		p += n, pa += n, len -= n;
	}
	return 0;
}

struct dump *dump_open(const char *path, char *err, size_t errlen)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->fd = open(path, O_RDONLY);
	if (d->fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		free(d);
		return NULL;
	}
	char sig[16] = "";
	bool got = pread(d->fd, sig, sizeof(sig), 0) == (ssize_t)sizeof(sig);
	/* kdump-compressed (plain or flattened): our own reader, which checks
	 * every header, bitmap and descriptor bound and names what is wrong
	 * (libkdumpfile 0.5.1 crashed on some malformed ones: fuzzing, hostile
	 * tests) */
	if (got && (!strcmp(sig, "makedumpfile") || !memcmp(sig, "KDUMP   ", 8))) {
		d->flat = diskdump_open(path, err, errlen);
		if (!d->flat)
			goto fail;
		snprintf(d->format, sizeof(d->format), "%s", sig[0] == 'm' ? "flattened" : "diskdump");
		const char *vi = diskdump_vmcoreinfo(d->flat);
		d->vmcoreinfo = vi ? strdup(vi) : NULL;
		return d;
	}
	if (!got || memcmp(sig, "\177ELF", 4)) {
		snprintf(err, errlen, "%s: not a dump: neither ELF, kdump-compressed (KDUMP) nor "
			 "flattened (makedumpfile)%s", path, got ? "" : ": too short");
		goto fail;
	}
	if (elf_load(d, path, err, errlen))
		goto fail;
	snprintf(d->format, sizeof(d->format), "elf");
	return d;
fail:
	dump_close(d);
	return NULL;
}

void dump_close(struct dump *d)
{
	if (!d)
		return;
	free(d->segs);
	diskdump_close(d->flat);
	if (d->fd >= 0)
		close(d->fd);
	free(d->vmcoreinfo);
	free(d);
}

static int flat_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	return diskdump_read(((struct dump *)ctx)->flat, pa, buf, len, why, whylen);
}

struct vtd_mem dump_mem(struct dump *d)
{
	return (struct vtd_mem){ .read = d->flat ? flat_read : elf_read, .ctx = d };
}

int dump_vmcoreinfo(struct dump *d, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = d->vmcoreinfo; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = ll - kl - 1;
			if (vl >= len)
				vl = len - 1;
			memcpy(val, p + kl + 1, vl);
			val[vl] = 0;
			return 0;
		}
		p += ll + (eol ? 1 : 0);
	}
	return -1;
}

const char *dump_format(const struct dump *d) { return d->format; }
int dump_dump_level(const struct dump *d) { return d->flat ? diskdump_dump_level(d->flat) : -1; }

int dump_header_version(const struct dump *d)
{
	return d->flat ? diskdump_header_version(d->flat) : -1;
}

uint64_t dump_max_pfn(struct dump *d)
{
	if (d->flat)
		return diskdump_max_pfn(d->flat);
	return d->elf_max_pfn;
}
