/* Kernel type information from BTF (see kinfo_btf.h): the decoding is
 * libvtd's (lib/btf.c); here, getting the bytes out of a file. */
#include "kinfo_btf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtd/btf.h"

struct kinfo_btf { struct vtd_btf *b; };

struct kinfo_btf *kinfo_btf_new(const void *data, size_t len, char *err, size_t errlen)
{
	struct vtd_error e;
	vtd_error_init(&e);
	struct kinfo_btf *kb = calloc(1, sizeof(*kb));
	if (!kb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(kb->b = vtd_btf_new(data, len, &e))) {
		snprintf(err, errlen, "not BTF (%s)", e.msg);
		free(kb);
		return NULL;
	}
	return kb;
}

/* The .BTF section of an ELF file in memory: its bytes, or NULL. */
static const void *elf_btf(const void *img, size_t len, size_t *blen)
{
	const void *r = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	Elf *elf = elf_memory((char *)img, len);
	size_t shstr;
	if (!elf || elf_getshdrstrndx(elf, &shstr))
		goto out;
	for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
		GElf_Shdr sh;
		const char *n;
		if (!gelf_getshdr(s, &sh) || !(n = elf_strptr(elf, shstr, sh.sh_name)) || strcmp(n, ".BTF"))
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			break;
		r = (const uint8_t *)img + sh.sh_offset;
		*blen = sh.sh_size;
		break;
	}
out:
	if (elf)
		elf_end(elf);
	return r;
}

struct kinfo_btf *kinfo_btf_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint8_t *img = NULL;
	if (fd < 0 || fstat(fd, &st) || st.st_size < 0 || st.st_size > (4ll << 30)) {
		snprintf(err, errlen, "%s: cannot read BTF (%s)", path, fd < 0 ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t len = (size_t)st.st_size, got = 0;
	if (!(img = malloc(len ? len : 1))) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (got < len) {           /* sysfs files report a size and may give less */
		ssize_t r = read(fd, img + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	const void *btf = img;
	size_t blen = got;
	if (got >= 4 && !memcmp(img, "\177ELF", 4) && !(btf = elf_btf(img, got, &blen))) {
		free(img);
		snprintf(err, errlen, "%s: cannot read BTF: an ELF file without a .BTF section", path);
		return NULL;
	}
	char e2[300];
	struct kinfo_btf *kb = kinfo_btf_new(btf, blen, e2, sizeof(e2));
	free(img);
	if (!kb)
		snprintf(err, errlen, "%s: cannot read BTF: %s", path, e2);
	return kb;
}

void kinfo_btf_close(struct kinfo_btf *kb)
{
	if (!kb)
		return;
	vtd_btf_free(kb->b);
	free(kb);
}

unsigned kinfo_btf_ntypes(const struct kinfo_btf *kb) { return vtd_btf_ntypes(kb->b); }

const struct vtd_btf *kinfo_btf_raw(const struct kinfo_btf *kb) { return kb->b; }

int kinfo_btf_type_size(struct kinfo_btf *kb, const char *type, uint64_t *size)
{
	return vtd_btf_type_size(kb->b, type, size);
}

int kinfo_btf_member(struct kinfo_btf *kb, const char *type, const char *member,
		     struct vtd_member *out)
{
	return vtd_btf_member(kb->b, type, member, out);
}
