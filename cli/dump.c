/* Dump readers (see dump.h). */
#include "dump.h"
#include "diskdump.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dump {
	int fd;
	kdump_ctx_t *ctx;
	struct diskdump *flat;   /* flattened streams: our own reader */
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
	if (pread(d->fd, sig, sizeof(sig), 0) == (ssize_t)sizeof(sig) && !strcmp(sig, "makedumpfile")) {
		d->flat = diskdump_open(path, err, errlen);
		if (!d->flat)
			goto fail;
		snprintf(d->format, sizeof(d->format), "flattened");
		const char *vi = diskdump_vmcoreinfo(d->flat);
		d->vmcoreinfo = vi ? strdup(vi) : NULL;
		return d;
	}
	d->ctx = kdump_new();
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

uint64_t dump_max_pfn(struct dump *d)
{
	kdump_num_t n;
	if (d->flat)
		return diskdump_max_pfn(d->flat);
	return kdump_get_number_attr(d->ctx, "max_pfn", &n) == KDUMP_OK ? (uint64_t)n : 0;
}
