/* Fuzz target: makedumpfile-vtd's pass over a flattened stream (cli/flatfix.c)
 * that puts excluded pages back, fed in uneven pieces; then our reader opens
 * what it wrote.  The needed pages: the mock kernel's object pages (what a
 * lossy scenario dump excludes) and four page frames from the input's tail. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diskdump.h"
#include "flatfix.h"

static int fake_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t wl)
{
	(void)ctx;
	if ((pa >> 12) % 7 == 3) {               /* some pages cannot be read */
		snprintf(why, wl, "unreadable");
		return -1;
	}
	memset(buf, (int)(pa >> 12) & 0xff, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	uint64_t need[10] = { 0x1000, 0x1001, 0x13ffbe, 0x13ffbf, 0x13ffc0, 0x13ffc1 };
	size_t n = 6;
	if (fd < 0 && (fd = memfd_create("flatfix", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
		abort();
	if (size >= 32)
		for (int i = 0; i < 4; i++) {
			uint32_t v;
			memcpy(&v, data + size - 32 + 4 * i, 4);
			need[n++] = v & 0xffffff;
		}
	/* sorted, distinct */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j && need[j - 1] > need[j]; j--) {
			uint64_t t = need[j];
			need[j] = need[j - 1];
			need[j - 1] = t;
		}
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || need[u - 1] != need[i])
			need[u++] = need[i];
	struct flatfix *f = flatfix_new(need, u, 1 << 20);
	if (!f)
		return 0;
	size_t at = 0, step = 1;
	while (at < size) {
		size_t k = size - at < step ? size - at : step;
		if (flatfix_feed(f, data + at, k, fd))
			break;
		at += k;
		step = step * 3 + (data[at - 1] & 7);       /* uneven pieces */
	}
	struct vtd_mem m = { fake_read, NULL };
	size_t added, lost;
	uint64_t first;
	char why[200], err[300], path[64];
	flatfix_finish(f, 1, fd, &m, &added, &first, &lost, why, sizeof(why));
	flatfix_free(f);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct diskdump *d = diskdump_open(path, err, sizeof(err));
	if (d) {
		uint8_t pg[4096];
		for (size_t i = 0; i < u; i++)
			diskdump_read(d, need[i] << 12, pg, sizeof(pg), why, sizeof(why));
		diskdump_close(d);
	}
	return 0;
}
