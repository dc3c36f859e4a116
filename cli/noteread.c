/* Reading the marks record a dump carries (image.h: image_read_record):
 * the VTDSCOPE note of a kdump-compressed, flattened or ELF dump, else the
 * sidecar DUMP.vtd.  Only headers and notes are read, never page data, so
 * crash> vtd needs no decompressor for it. */
#include "fileio.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NOTES (64u << 20)
#define FLAT_HDR 4096

/* [off, off+len) of the file a flattened stream rearranges to: the bytes of
 * every record over it, later records last (as makedumpfile -R). */
static int flat_read(int fd, uint64_t fsize, void *buf, uint64_t len, uint64_t off)
{
	uint64_t pos = FLAT_HDR;
	uint8_t h[16];
	memset(buf, 0, len);
	while (!preadn(fd, h, 16, pos)) {
		uint64_t dst = be64(h), size = be64(h + 8);
		if (dst == UINT64_MAX && size == UINT64_MAX)
			return 0;
		if (size > fsize || pos + 16 + size > fsize)
			return -1;
		uint64_t s = dst > off ? dst : off, e = dst + size < off + len ? dst + size : off + len;
		if (s < e && preadn(fd, (uint8_t *)buf + (s - off), e - s, pos + 16 + (s - dst)))
			return -1;
		pos += 16 + size;
	}
	return -1;
}

static int fread_at(int fd, bool flat, uint64_t fsize, void *buf, uint64_t len, uint64_t off)
{
	return flat ? flat_read(fd, fsize, buf, len, off) : preadn(fd, buf, len, off);
}

/* Our note among notes: its desc (malloc'd), or NULL. */
static char *find_note(const uint8_t *notes, uint64_t n, size_t *len)
{
	uint64_t p = 0;
	while (p + 12 <= n) {
		uint64_t nsz = le(notes + p, 4), dsz = le(notes + p + 4, 4), type = le(notes + p + 8, 4);
		uint64_t name = p + 12, desc = name + ((nsz + 3) & ~3ull), next = desc + ((dsz + 3) & ~3ull);
		if (next > n || next <= p)
			return NULL;
		if (type == IMAGE_NOTE_TYPE && nsz == sizeof(IMAGE_NOTE_NAME) &&
		    !memcmp(notes + name, IMAGE_NOTE_NAME, sizeof(IMAGE_NOTE_NAME))) {
			char *t = malloc(dsz + 1);
			if (!t)
				return NULL;
			memcpy(t, notes + desc, dsz);
			t[dsz] = 0;
			*len = dsz;
			return t;
		}
		p = next;
	}
	return NULL;
}

/* The notes of a dump (malloc'd): 1, 0 (not a dump format we know), -1. */
static int notes_of(int fd, uint64_t fsize, uint8_t **notes, uint64_t *n, const char *path,
		    char *err, size_t el)
{
	uint8_t sig[16], h[64];
	uint64_t off = 0;
	*notes = NULL;
	if (preadn(fd, sig, sizeof(sig), 0))
		return 0;
	bool flat = !memcmp(sig, "makedumpfile", 13);
	if (!memcmp(sig, "\177ELF", 4)) {
		if (preadn(fd, h, 64, 0) || h[4] != 2 || h[5] != 1)
			return 0;
		uint64_t phoff = le(h + 32, 8), phnum = le(h + 56, 2);
		for (uint64_t i = 0; i < phnum && i < 65535; i++) {
			uint8_t ph[56];
			if (preadn(fd, ph, 56, phoff + 56 * i))
				break;
			if (le(ph, 4) == 4) {
				off = le(ph + 8, 8);
				*n = le(ph + 32, 8);
				break;
			}
		}
		if (!off)
			return 0;
	} else if (!memcmp(sig, "KDUMP   ", 8) || flat) {
		uint8_t sub[64];
		if (fread_at(fd, flat, fsize, sig, 8, 0) || memcmp(sig, "KDUMP   ", 8) ||
		    fread_at(fd, flat, fsize, h, 8, 424) || fread_at(fd, flat, fsize, sub, 64, le(h + 4, 4)))
			return snprintf(err, el, "%s: kdump header unreadable", path), -1;
		off = le(sub + 48, 8);
		*n = le(sub + 56, 8);
	} else {
		return 0;
	}
	if (*n > MAX_NOTES || (!flat && off + *n > fsize))
		return snprintf(err, el, "%s: notes (0x%" PRIx64 ", %" PRIu64 " bytes) beyond the file",
				path, off, *n), -1;
	*notes = malloc(*n + 1);
	if (!*notes || fread_at(fd, flat, fsize, *notes, *n, off)) {
		free(*notes);
		*notes = NULL;
		return snprintf(err, el, "%s: notes unreadable", path), -1;
	}
	return 1;
}

/* A flattened stream makedumpfile-vtd passed: the record follows the end
 * marker (image.h: IMAGE_TRAILER_MAGIC, le64 length, text), where
 * makedumpfile -R and crash stop reading.  1 with the text, 0 if none. */
static int flat_trailer(int fd, uint64_t fsize, char **text, size_t *len)
{
	uint64_t pos = FLAT_HDR;
	uint8_t h[24];
	char magic[16];
	if (preadn(fd, magic, 12, 0) || memcmp(magic, "makedumpfile", 12))
		return 0;
	while (!preadn(fd, h, 16, pos)) {
		uint64_t size = be64(h + 8);
		if (be64(h) == UINT64_MAX && size == UINT64_MAX)
			break;
		if (size > fsize || pos + 16 + size > fsize)
			return 0;
		pos += 16 + size;
	}
	pos += 16;
	if (preadn(fd, h, 24, pos) || memcmp(h, IMAGE_TRAILER_MAGIC, 16))
		return 0;
	uint64_t n = le(h + 16, 8);
	if (n > MAX_NOTES || pos + 24 + n > fsize || !(*text = malloc(n + 1)))
		return 0;
	if (preadn(fd, *text, n, pos + 24)) {
		free(*text);
		*text = NULL;
		return 0;
	}
	(*text)[n] = 0;
	*len = n;
	return 1;
}

int image_read_record(const char *path, char **text, size_t *len, char *from, size_t fromlen,
		      char *err, size_t errlen)
{
	struct stat st;
	uint8_t *notes = NULL;
	uint64_t n = 0;
	*text = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (flat_trailer(fd, (uint64_t)st.st_size, text, len)) {
		close(fd);
		snprintf(from, fromlen, "trailer of %s", path);
		return 1;
	}
	int r = notes_of(fd, (uint64_t)st.st_size, &notes, &n, path, err, errlen);
	close(fd);
	if (r < 0)
		return -1;
	if (r > 0) {
		*text = find_note(notes, n, len);
		free(notes);
		if (*text) {
			snprintf(from, fromlen, "note in %s", path);
			return 1;
		}
	}
	char sc[4200];
	snprintf(sc, sizeof(sc), "%s.vtd", path);
	fd = open(sc, O_RDONLY);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || st.st_size > (off_t)MAX_NOTES) {
		close(fd);
		snprintf(err, errlen, "%s: unusable sidecar", sc);
		return -1;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text || preadn(fd, *text, (size_t)st.st_size, 0)) {
		close(fd);
		free(*text);
		*text = NULL;
		snprintf(err, errlen, "%s: cannot read", sc);
		return -1;
	}
	close(fd);
	(*text)[st.st_size] = 0;
	*len = (size_t)st.st_size;
	snprintf(from, fromlen, "sidecar %s", sc);
	return 1;
}
