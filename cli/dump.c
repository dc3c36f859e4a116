/* Dump readers (see dump.h). */
#include "dump.h"
#include "diskdump.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dump {
	int fd;
	kdump_ctx_t *ctx;
	struct diskdump *flat;   /* kdump-compressed files and flattened
				  * streams: our own reader */
	kdump_bmp_t *pagemap;    /* pages the file carries */
	char format[32];
	char *vmcoreinfo;        /* raw text, NUL-terminated */
};

static int kdf_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	struct dump *d = ctx;
	size_t got = len;
	/* libkdumpfile 0.5.1's ELF reader returns zeros for a page in a gap
	 * just before a PT_LOAD that starts within the next page: trust the
	 * file's page map, not the read. */
	for (uint64_t pfn = pa >> 12; d->pagemap && len && pfn <= (pa + len - 1) >> 12; pfn++) {
		kdump_addr_t idx = pfn;
		if (kdump_bmp_find_set(d->pagemap, &idx) != KDUMP_OK || idx != pfn) {
			/* makedumpfile -E drops all-zero pages as well as filtered ones */
			snprintf(why, whylen, "excluded page (not in the dump%s) at 0x%" PRIx64,
				 strcmp(d->format, "elf") ? "" : "; an ELF dump also leaves out all-zero pages",
				 pfn << 12);
			return -1;
		}
	}
	kdump_status st = kdump_read(d->ctx, KDUMP_KPHYSADDR, pa, buf, &got);
	if (st == KDUMP_OK && got == len)
		return 0;
	if (st == KDUMP_ERR_NODATA)
		snprintf(why, whylen, "excluded page (not in the dump) at 0x%" PRIx64, pa + got);
	else
		snprintf(why, whylen, "%s", kdump_get_err(d->ctx));
	return -1;
}

/* Every program header of an ELF64 dump inside the file: libkdumpfile
 * trusts p_filesz (a huge one is a huge allocation; past the end, garbage). */
static int elf_check(int fd, const char *path, char *err, size_t errlen)
{
	uint8_t h[64], ph[56];
	struct stat st;
	if (fstat(fd, &st) || pread(fd, h, 64, 0) != 64)
		return snprintf(err, errlen, "%s: ELF header truncated", path), -1;
	if (h[4] != 2 || h[5] != 1)
		return snprintf(err, errlen, "%s: not a little-endian ELF64 dump", path), -1;
	uint16_t etype, emachine;
	memcpy(&etype, h + 16, 2);
	memcpy(&emachine, h + 18, 2);
	/* x86-64 vmcores only (libkdumpfile 0.5.1 crashes on some other
	 * machines' headers: fuzz_dumpfile) */
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
	unsigned nload = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type;
		uint64_t off, filesz;
		if (pread(fd, ph, 56, (off_t)(phoff + 56ull * i)) != 56)
			return snprintf(err, errlen, "%s: ELF program header %u unreadable", path, i), -1;
		uint64_t paddr, memsz;
		memcpy(&type, ph, 4);
		memcpy(&off, ph + 8, 8);
		memcpy(&paddr, ph + 24, 8);
		memcpy(&filesz, ph + 32, 8);
		memcpy(&memsz, ph + 40, 8);
		/* (libkdumpfile 0.5.1 also crashes on an empty PT_NOTE and on
		 * segments beyond the physical address space: fuzz_dumpfile) */
		if (type == 4 && !filesz)
			return snprintf(err, errlen, "%s: ELF program header %u: an empty PT_NOTE", path, i), -1;
		if (type == 1 && (paddr >> 52 || memsz >> 52 || (paddr + memsz) >> 52))
			return snprintf(err, errlen, "%s: ELF program header %u: PT_LOAD at physical 0x%" PRIx64
					" (+0x%" PRIx64 ") is beyond the 52-bit physical address space", path, i,
					paddr, memsz), -1;
		if ((type == 1 || type == 4) && (off > size || filesz > size - off))
			return snprintf(err, errlen, "%s: ELF program header %u (%s) claims 0x%" PRIx64
					" bytes at 0x%" PRIx64 ", beyond the end of the file (%" PRIu64
					" bytes): truncated or corrupt", path, i, type == 1 ? "PT_LOAD" : "PT_NOTE",
					filesz, off, size), -1;
		nload += type == 1 && filesz;
	}
	/* (libkdumpfile 0.5.1 dereferences NULL on an ELF without memory) */
	if (!nload)
		return snprintf(err, errlen, "%s: an ELF file without memory (no PT_LOAD with data): not a vmcore",
				path), -1;
	return 0;
}

struct dump *dump_open(const char *path, char *err, size_t errlen)
{
	struct dump *d = calloc(1, sizeof(*d));
	const char *s;
	kdump_attr_t a;
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
	 * every header, bitmap and descriptor bound and names what is wrong;
	 * libkdumpfile 0.5.1 crashes on some malformed ones (fuzzing, hostile
	 * tests) and serves the ELF dumps */
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
	if (elf_check(d->fd, path, err, errlen))
		goto fail;
	d->ctx = kdump_new();
	/* read(2), never mmap(2): a truncated dump must be an error, not the
	 * SIGBUS that touching a mapping past the end of the file gives */
	if (d->ctx)
		kdump_set_number_attr(d->ctx, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER);
	if (!d->ctx || kdump_open_fd(d->ctx, d->fd) != KDUMP_OK) {
		snprintf(err, errlen, "%s: not a dump libkdumpfile can read: %s", path,
			 d->ctx ? kdump_get_err(d->ctx) : "out of memory");
		goto fail;
	}
	if (kdump_set_string_attr(d->ctx, "addrxlat.ostype", "linux") != KDUMP_OK) {
		snprintf(err, errlen, "%s: %s", path, kdump_get_err(d->ctx));
		goto fail;
	}
	if (kdump_get_string_attr(d->ctx, KDUMP_ATTR_FILE_FORMAT, &s) == KDUMP_OK)
		snprintf(d->format, sizeof(d->format), "%s", s);
	a.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(d->ctx, KDUMP_ATTR_FILE_PAGEMAP, &a) == KDUMP_OK && a.val.bitmap) {
		d->pagemap = a.val.bitmap;
		kdump_bmp_incref(d->pagemap);
	}
	a.type = KDUMP_BLOB;
	if (kdump_get_typed_attr(d->ctx, "linux.vmcoreinfo.raw", &a) == KDUMP_OK) {
		size_t n = kdump_blob_size(a.val.blob);
		void *p = kdump_blob_pin(a.val.blob);
		d->vmcoreinfo = malloc(n + 1);
		if (d->vmcoreinfo) {
			memcpy(d->vmcoreinfo, p, n);
			d->vmcoreinfo[n] = 0;
		}
		kdump_blob_unpin(a.val.blob);
	}
	return d;
fail:
	dump_close(d);
	return NULL;
}

void dump_close(struct dump *d)
{
	if (!d)
		return;
	if (d->pagemap)
		kdump_bmp_decref(d->pagemap);
	if (d->ctx)
		kdump_free(d->ctx);
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
	return (struct vtd_mem){ .read = d->flat ? flat_read : kdf_read, .ctx = d };
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

uint64_t dump_max_pfn(struct dump *d)
{
	kdump_num_t n;
	if (d->flat)
		return diskdump_max_pfn(d->flat);
	return kdump_get_number_attr(d->ctx, "max_pfn", &n) == KDUMP_OK ? (uint64_t)n : 0;
}
