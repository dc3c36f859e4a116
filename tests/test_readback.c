/* Read-back of the generated dumps: for every scenario in testdata/scenarios
 * (or $VTD_SCENARIOS), load it in-process (scn_load) and, for every dump
 * file vtd-gen wrote for it ($VTD_GEN/<name><suffix>, scn_outputs[]), read
 * EVERY pfn from 0 to the image's max pfn through libkdumpfile: present pages
 * must be identical to the image, absent ones KDUMP_ERR_NODATA.  Flattened
 * files are first rearranged with the real `makedumpfile -R` (libkdumpfile
 * 0.5.1 cannot open them) and must then equal the kdump file of the same
 * compression byte for byte.  One PASS/FAIL line per (scenario, dump file).
 * vtd-gen adds the mock crashed kernel (mock_kernel_add() with
 * $VTD_BUILD/mock-vmlinux, as `make gen` runs it) after scn_load; so does
 * this test when that file exists. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dumpfile.h"
#include "image.h"
#include "mock_kernel.h"
#include "scenario.h"

extern char **environ;

#define PG IMG_PAGE

static const char *scn_dir(void)
{
	const char *d = getenv("VTD_SCENARIOS");
	return d && *d ? d : "testdata/scenarios";
}

/* The mock vmlinux vtd-gen was run with (-k), or NULL. */
static const char *mock_vmlinux(void)
{
	static char path[1024];
	const char *b = getenv("VTD_BUILD");
	snprintf(path, sizeof(path), "%s/mock-vmlinux", b && *b ? b : "build");
	return access(path, R_OK) == 0 ? path : NULL;
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int same_file(const char *a, const char *b)
{
	FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
	int same = x && y;
	static char bx[1 << 16], by[1 << 16];
	while (same) {
		size_t n = fread(bx, 1, sizeof(bx), x), m = fread(by, 1, sizeof(by), y);
		if (n != m || memcmp(bx, by, n))
			same = 0;
		if (n < sizeof(bx))
			break;
	}
	if (x)
		fclose(x);
	if (y)
		fclose(y);
	return same;
}

/* makedumpfile -R out < flat; 0 or a message. */
static int rearrange(const char *flat, const char *out, char *msg, size_t msglen)
{
	char log[1100];
	snprintf(log, sizeof(log), "%s.log", out);
	char *argv[] = { "makedumpfile", "-R", (char *)out, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, flat, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		snprintf(msg, msglen, "cannot run makedumpfile: %s", strerror(rc));
		unlink(log);
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		unlink(log);
		return 0;
	}
	char line[256] = "";
	FILE *f = fopen(log, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		line[strcspn(line, "\n")] = 0;
		fclose(f);
	}
	unlink(log);
	snprintf(msg, msglen, "makedumpfile -R: status 0x%x: %s", st, line);
	return -1;
}

/* Every pfn in [0, max_pfn]: present = identical, absent = NODATA.
 * libkdumpfile 0.5.1's ELF reader returns zeros instead of NODATA for a page
 * outside every PT_LOAD that directly precedes one (find_closest_*_load()
 * accepts a segment exactly one page away); accepted for ELF files when the
 * file's own pagemap says the page is not there. */
static void readback(const char *path, struct img *im, bool elf, size_t *quirks)
{
	int fd = open(path, O_RDONLY);
	kdump_ctx_t *ctx = kdump_new();
	kdump_bmp_t *fmap = NULL;
	if (fd < 0 || !ctx) {
		EXPECT_MSG(0, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (kdump_open_fd(ctx, fd) != KDUMP_OK) {
		EXPECT_MSG(0, "libkdumpfile cannot open %s: %s", path, kdump_get_err(ctx));
		goto out;
	}
	EXPECT_MSG(kdump_set_string_attr(ctx, KDUMP_ATTR_OSTYPE, "linux") == KDUMP_OK,
		   "%s: addrxlat.ostype: %s", path, kdump_get_err(ctx));
	const char *s = NULL;
	EXPECT(kdump_get_string_attr(ctx, KDUMP_ATTR_FILE_FORMAT, &s) == KDUMP_OK);
	EXPECT_STR(s, elf ? "elf" : "diskdump");
	s = NULL;
	EXPECT(kdump_get_string_attr(ctx, KDUMP_ATTR_ARCH_NAME, &s) == KDUMP_OK);
	EXPECT_STR(s, "x86_64");
	kdump_attr_t a;
	a.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(ctx, KDUMP_ATTR_FILE_PAGEMAP, &a) == KDUMP_OK)
		fmap = a.val.bitmap;

	static uint8_t buf[PG];
	uint64_t max_pfn = img_max_pfn(im);
	int bad = 0;
	for (uint64_t pfn = 0; pfn <= max_pfn && bad < 5; pfn++) {
		const uint8_t *want = img_page_const(im, pfn);
		size_t len = PG;
		kdump_status st = kdump_read(ctx, KDUMP_KPHYSADDR, pfn * PG, buf, &len);
		if (want) {
			if (st != KDUMP_OK || len != PG) {
				EXPECT_MSG(0, "pfn 0x%llx: read failed (%d): %s", (unsigned long long)pfn,
					   (int)st, kdump_get_err(ctx));
				bad++;
			} else if (memcmp(buf, want, PG)) {
				EXPECT_MSG(0, "pfn 0x%llx: contents differ from the image",
					   (unsigned long long)pfn);
				bad++;
			}
			continue;
		}
		if (st == KDUMP_ERR_NODATA)
			continue;
		unsigned char bit = 1;
		if (elf && st == KDUMP_OK && is_zero(buf, PG) && img_page_const(im, pfn + 1) && fmap &&
		    kdump_bmp_get_bits(fmap, pfn, pfn, &bit) == KDUMP_OK && !(bit & 1)) {
			++*quirks;
			continue;
		}
		EXPECT_MSG(0, "absent pfn 0x%llx: status %d (%s), expected NODATA", (unsigned long long)pfn,
			   (int)st, st ? kdump_get_err(ctx) : "read OK");
		bad++;
	}
out:
	if (ctx)
		kdump_free(ctx);
	if (fd >= 0)
		close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char tmpdir[256];

static void one_scenario(const char *file)
{
	char path[1024], err[512], out[1024], kd[1024];
	snprintf(path, sizeof(path), "%s/%s", scn_dir(), file);
	struct scn *s = scn_load(path, err, sizeof(err));
	if (!s) {
		check_begin("readback/%s", file);
		EXPECT_MSG(0, "scn_load: %s", err);
		check_end();
		return;
	}
	struct mock *mk = NULL;
	const char *vmlinux = mock_vmlinux();
	if (vmlinux && !(mk = mock_kernel_add(s, vmlinux, err, sizeof(err)))) {
		check_begin("readback/%s", file);
		EXPECT_MSG(0, "mock_kernel_add %s: %s", vmlinux, err);
		check_end();
		scn_free(s);
		return;
	}
	for (size_t i = 0; i < scn_noutputs; i++) {
		const struct scn_output *o = &scn_outputs[i];
		check_begin("readback/%s%s", s->name, o->suffix);
		snprintf(path, sizeof(path), "%s/%s%s", check_gen_dir(), s->name, o->suffix);
		struct stat st;
		if (stat(path, &st)) {
			EXPECT_MSG(0, "%s: %s (run make gen)", path, strerror(errno));
			check_end();
			continue;
		}
		const char *rd = path;
		if (o->fmt == DUMP_FLAT) {
			snprintf(out, sizeof(out), "%s/%s%s.R", tmpdir, s->name, o->suffix);
			if (rearrange(path, out, err, sizeof(err))) {
				EXPECT_MSG(0, "%s < %s: %s", out, path, err);
				unlink(out);
				check_end();
				continue;
			}
			rd = out;
			/* the same bytes as the kdump file of the same compression */
			for (size_t j = 0; j < scn_noutputs; j++)
				if (scn_outputs[j].fmt == DUMP_KDUMP && scn_outputs[j].comp == o->comp) {
					snprintf(kd, sizeof(kd), "%s/%s%s", check_gen_dir(), s->name,
						 scn_outputs[j].suffix);
					EXPECT_MSG(same_file(out, kd), "makedumpfile -R %s differs from %s",
						   path, kd);
				}
		}
		size_t quirks = 0;
		readback(rd, s->img, o->fmt == DUMP_ELF, &quirks);
		if (quirks)
			printf("# %s: %zu absent pages directly before a PT_LOAD read as zeros "
			       "(libkdumpfile 0.5.1 ELF quirk)\n", path, quirks);
		if (rd == out)
			unlink(out);
		check_end();
	}
	scn_free(s);
	mock_free(mk);
}

TEST(readback)
{
	DIR *d = opendir(scn_dir());
	char **files = NULL;
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		char **nf = realloc(files, (n + 1) * sizeof(*files));
		if (!nf)
			abort();
		files = nf;
		files[n++] = strdup(de->d_name);
	}
	if (d)
		closedir(d);
	if (!n) {
		printf("# no scenario files (*.scn) in %s: nothing to read back\n", scn_dir());
		EXPECT_MSG(0, "no scenario files in %s%s", scn_dir(), d ? "" : " (cannot open it)");
		free(files);
		return;
	}
	qsort(files, n, sizeof(*files), cmp_str);
	if (!mock_vmlinux())
		printf("# no mock-vmlinux in $VTD_BUILD: dumps compared with the bare scenario images\n");
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/vtd-readback-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		EXPECT_MSG(0, "mkdtemp %s: %s", tmpdir, strerror(errno));
		tmpdir[0] = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (tmpdir[0])
			one_scenario(files[i]);
		free(files[i]);
	}
	free(files);
	if (tmpdir[0])
		rmdir(tmpdir);
}
