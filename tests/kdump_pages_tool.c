/* kdump-pages: a kdump-compressed file with pages dropped or added, for the
 * tests (lossy dumps of real kernels; repairs checked by other readers).
 *
 *   kdump-pages IN OUT drop PFN...
 *   kdump-pages IN OUT add FROM PFN...    page contents from the dump FROM
 *   kdump-pages IN OUT addfile FILE PFN...  contents from FILE, 4 KiB per PFN
 *                                           in the order given (make bench)
 *   kdump-pages IN OUT keep LO-HI...      drop every page outside the ranges
 *                                         (half-open PFN ranges): the worst a
 *                                         dump level can do (check-real)
 * PFNs in hex or decimal, any order.  OUT must not exist. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "kdump_pages.h"

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* keep: every page IN holds outside the ranges argv[0..n) */
static int keep_only(const char *in, const char *out, char **argv, int n)
{
	char err[600];
	int rc = 1;
	uint64_t *lo = calloc((size_t)n + 1, sizeof(*lo)), *hi = calloc((size_t)n + 1, sizeof(*hi));
	uint64_t *drop = NULL;
	size_t nd = 0, cap = 0;
	struct dump *d = NULL;
	if (!lo || !hi) {
		fprintf(stderr, "kdump-pages: out of memory\n");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char *end;
		lo[i] = strtoull(argv[i], &end, 0);
		if (*end != '-' || (hi[i] = strtoull(end + 1, &end, 0), *end) || hi[i] < lo[i]) {
			fprintf(stderr, "kdump-pages: bad range '%s' (LO-HI)\n", argv[i]);
			rc = 2;
			goto out;
		}
	}
	if (!(d = dump_open(in, err, sizeof(err)))) {
		fprintf(stderr, "kdump-pages: %s\n", err);
		goto out;
	}
	struct vtd_mem m = dump_mem(d);
	uint64_t max = dump_max_pfn(d);
	for (uint64_t p = 0; p < max; p++) {
		int inside = 0;
		uint8_t b;
		for (int i = 0; i < n && !inside; i++)
			inside = p >= lo[i] && p < hi[i];
		if (inside || m.read(m.ctx, p << 12, &b, 1, err, sizeof(err)))
			continue;               /* kept, or not in the dump */
		if (nd == cap) {
			uint64_t *nv = realloc(drop, (cap = cap ? cap * 2 : 4096) * sizeof(*nv));
			if (!nv) {
				fprintf(stderr, "kdump-pages: out of memory\n");
				goto out;
			}
			drop = nv;
		}
		drop[nd++] = p;
	}
	if (kdump_set_pages(in, out, NULL, NULL, 0, drop, nd, err, sizeof(err))) {
		fprintf(stderr, "kdump-pages: %s\n", err);
		goto out;
	}
	printf("dropped %zu pages\n", nd);
	rc = 0;
out:
	if (d)
		dump_close(d);
	free(drop);
	free(lo);
	free(hi);
	return rc;
}

int main(int argc, char **argv)
{
	char err[600];
	if (argc >= 4 && !strcmp(argv[3], "keep"))
		return keep_only(argv[1], argv[2], argv + 4, argc - 4);
	if (argc < 5 || (strcmp(argv[3], "drop") && strcmp(argv[3], "add") && strcmp(argv[3], "addfile")) ||
	    (strcmp(argv[3], "drop") && argc < 6)) {
		fprintf(stderr, "usage: kdump-pages IN OUT drop PFN... | IN OUT add FROM PFN... | "
			"IN OUT addfile FILE PFN... | IN OUT keep LO-HI...\n");
		return 2;
	}
	int fromfile = !strcmp(argv[3], "addfile");
	int adding = !strcmp(argv[3], "add") || fromfile, first = adding ? 5 : 4;
	size_t n = (size_t)(argc - first);
	uint64_t *pfn = calloc(n, sizeof(*pfn));
	uint8_t *data = adding ? malloc(n * 4096) : NULL;
	if (!pfn || (adding && !data))
		return fprintf(stderr, "kdump-pages: out of memory\n"), 1;
	for (size_t i = 0; i < n; i++) {
		char *end;
		pfn[i] = strtoull(argv[first + i], &end, 0);
		if (*end || end == argv[first + i])
			return fprintf(stderr, "kdump-pages: bad page frame '%s'\n", argv[first + i]), 2;
	}
	if (fromfile) {
		FILE *f = fopen(argv[4], "rb");
		if (!f || fread(data, 4096, n, f) != n)
			return fprintf(stderr, "kdump-pages: %s: not %zu pages\n", argv[4], n), 1;
		fclose(f);
		for (size_t i = 1; i < n; i++)
			if (pfn[i] <= pfn[i - 1])
				return fprintf(stderr, "kdump-pages: addfile wants ascending PFNs\n"), 2;
	}
	qsort(pfn, n, sizeof(*pfn), cmp);
	if (adding && !fromfile) {
		struct dump *d = dump_open(argv[4], err, sizeof(err));
		if (!d)
			return fprintf(stderr, "kdump-pages: %s\n", err), 1;
		struct vtd_mem m = dump_mem(d);
		for (size_t i = 0; i < n; i++)
			if (m.read(m.ctx, pfn[i] << 12, data + i * 4096, 4096, err, sizeof(err)))
				return fprintf(stderr, "kdump-pages: %s: page frame 0x%" PRIx64 ": %s\n",
					       argv[4], pfn[i], err), 1;
		dump_close(d);
	}
	if (kdump_set_pages(argv[1], argv[2], adding ? pfn : NULL, data, adding ? n : 0,
			    adding ? NULL : pfn, adding ? 0 : n, err, sizeof(err)))
		return fprintf(stderr, "kdump-pages: %s\n", err), 1;
	free(pfn);
	free(data);
	return 0;
}
