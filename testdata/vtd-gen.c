/* vtd-gen: turn scenario files into synthetic dumps and expected answers.
 *
 *   vtd-gen -o OUTDIR SCENARIO.scn...
 *
 * For each scenario NAME it writes OUTDIR/NAME.elf, NAME.kdump,
 * NAME.kdump-zlib, -lzo, -snappy, -zstd, NAME.flat (scn_outputs[]) and
 * OUTDIR/NAME.expect.  A scenario with takeover statements also gets the
 * dumps of its post-takeover image, NAME.takeover.kdump (zlib),
 * NAME.takeover.elf and NAME.takeover.flat, and NAME.takeover.txt (what it wrote).
 * With -k, NAME.nokinfo.kdump is the dump without kallsyms in VMCOREINFO
 * (no kernel information in it: the structural scan's case), and
 * NAME.lossy.kdump the dump without the mock kernel's object pages (the
 * IOMMU state lost, as issue 10 measured on Linux 6.12).  Exit
 * status 1 on the first error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "mock_kernel.h"
#include "scenario.h"

static int usage(void)
{
	fprintf(stderr, "usage: vtd-gen [-k MOCK-VMLINUX] -o OUTDIR SCENARIO.scn...\n"
		"  -k: add a mock crashed kernel (its structures, VMCOREINFO) for the locator\n");
	return 2;
}

/* The dump with the mock kernel's object pages left out (as a makedumpfile
 * that takes them for user pages leaves them out). */
static int write_lossy(struct scn *s, const struct mock *mk, const char *path, char *err,
		       size_t errlen)
{
	struct img *c = img_new();
	int rc = -1;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < img_nram(s->img); i++)
		img_add_ram(c, img_ram(s->img)[i].start, img_ram(s->img)[i].end);
	const uint64_t *pfns = img_pfns(s->img);
	for (size_t i = 0; i < img_npages(s->img); i++) {
		uint64_t pa = pfns[i] * IMG_PAGE;
		if (pa >= mk->slab_start && pa < mk->slab_end)
			continue;
		uint8_t *pg = img_page(c, pfns[i], true);
		if (!pg) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(pg, img_page_const(s->img, pfns[i]), IMG_PAGE);
		pfns = img_pfns(s->img);
	}
	rc = dump_write(c, &s->info, DUMP_KDUMP, DUMP_ZLIB, path, err, errlen);
out:
	img_free(c);
	return rc;
}

static int gen_one(const char *outdir, const char *file, const char *vmlinux)
{
	char err[512], path[4096];
	struct mock *mk;
	struct scn *s = scn_load_generated(file, vmlinux, &mk, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vtd-gen: %s: %s\n", file, err);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < scn_noutputs && !rc; i++) {
		const struct scn_output *o = &scn_outputs[i];
		snprintf(path, sizeof(path), "%s/%s%s", outdir, s->name, o->suffix);
		if (dump_write(s->img, &s->info, o->fmt, o->comp, path, err, sizeof(err))) {
			fprintf(stderr, "vtd-gen: %s: %s\n", path, err);
			rc = -1;
		}
	}
	if (!rc && mk) {
		/* the same dump without kallsyms in VMCOREINFO: no kernel information */
		const char *full = s->info.vmcoreinfo;
		s->info.vmcoreinfo = mk->vmcoreinfo_bare;
		snprintf(path, sizeof(path), "%s/%s.nokinfo.kdump", outdir, s->name);
		if (dump_write(s->img, &s->info, DUMP_KDUMP, DUMP_ZLIB, path, err, sizeof(err))) {
			fprintf(stderr, "vtd-gen: %s: %s\n", path, err);
			rc = -1;
		}
		s->info.vmcoreinfo = full;
		/* and without the kernel's object pages: the IOMMU state lost */
		snprintf(path, sizeof(path), "%s/%s.lossy.kdump", outdir, s->name);
		if (!rc && write_lossy(s, mk, path, err, sizeof(err))) {
			fprintf(stderr, "vtd-gen: %s: %s\n", path, err);
			rc = -1;
		}
	}
	snprintf(path, sizeof(path), "%s/%s.expect", outdir, s->name);
	if (!rc && scn_write_expect(s, path, err, sizeof(err))) {
		fprintf(stderr, "vtd-gen: %s\n", err);
		rc = -1;
	}
	if (!rc && s->ntks) {
		static const struct scn_output tk[] = {
			{ ".takeover.kdump", DUMP_KDUMP, DUMP_ZLIB }, { ".takeover.elf", DUMP_ELF, DUMP_RAW },
			{ ".takeover.flat", DUMP_FLAT, DUMP_ZLIB },
		};
		if (scn_takeover(s, file, mk ? mk->crashk_start : 0, err, sizeof(err))) {
			fprintf(stderr, "vtd-gen: %s\n", err);
			rc = -1;
		}
		for (size_t i = 0; i < sizeof(tk) / sizeof(tk[0]) && !rc; i++) {
			snprintf(path, sizeof(path), "%s/%s%s", outdir, s->name, tk[i].suffix);
			if (dump_write(s->img, &s->info, tk[i].fmt, tk[i].comp, path, err, sizeof(err))) {
				fprintf(stderr, "vtd-gen: %s: %s\n", path, err);
				rc = -1;
			}
		}
		snprintf(path, sizeof(path), "%s/%s.takeover.txt", outdir, s->name);
		if (!rc && scn_write_takeover_expect(s, path, err, sizeof(err))) {
			fprintf(stderr, "vtd-gen: %s\n", err);
			rc = -1;
		}
	}
	scn_free(s);
	mock_free(mk);
	return rc;
}

int main(int argc, char **argv)
{
	const char *outdir = NULL, *vmlinux = NULL;
	int c;
	while ((c = getopt(argc, argv, "k:o:h")) != -1) {
		switch (c) {
		case 'k':
			vmlinux = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		default:
			return usage();
		}
	}
	if (!outdir || optind >= argc)
		return usage();
	for (int i = optind; i < argc; i++)
		if (gen_one(outdir, argv[i], vmlinux))
			return 1;
	return 0;
}
