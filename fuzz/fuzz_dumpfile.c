/* Fuzz target: a dump file as the input — our own readers (the flattened
 * index, the kdump-compressed reader of the image patcher, the note and
 * trailer reader), libkdumpfile through dump_open, and kernel information
 * from the dump (kallsyms and BTF through VMCOREINFO). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/diskdump.h"
#include "cli/dump.h"
#include "cli/image.h"
#include "cli/kinfo_dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[600], from[300], why[200];
	uint8_t page[4096];
	int fd = memfd_create("dump", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	struct diskdump *dd = diskdump_open(path, err, sizeof(err));
	if (dd) {
		uint64_t max = diskdump_max_pfn(dd);
		for (uint64_t pfn = 0; pfn < max && pfn < 64; pfn++)
			if (diskdump_has_page(dd, pfn))
				diskdump_read(dd, pfn * 4096, page, sizeof(page), why, sizeof(why));
		diskdump_close(dd);
	}
	char *text = NULL;
	size_t len;
	if (image_read_record(path, &text, &len, from, sizeof(from), err, sizeof(err)) > 0)
		free(text);
	struct dump *d = dump_open(path, err, sizeof(err));
	if (d) {
		struct vtd_mem m = dump_mem(d);
		uint64_t max = dump_max_pfn(d);
		for (uint64_t pfn = 0; pfn < max && pfn < 64; pfn++)
			m.read(m.ctx, pfn * 4096, page, sizeof(page), why, sizeof(why));
		struct kinfo_btf *kb;
		struct vtd_ksyms *ks;
		if (kinfo_dump_load_btf(d, NULL, NULL, &kb, &ks, err, sizeof(err)) == 0) {
			kinfo_btf_close(kb);
			vtd_ksyms_free(ks);
		}
		dump_close(d);
	}
	close(fd);
	return 0;
}
