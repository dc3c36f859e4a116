/* The CLI's dump readers (cli/dump.c: our ELF reader, our kdump-compressed
 * and flattened reader) read every generated dump of
 * every scenario exactly as the generator's image holds it: present pages
 * byte for byte, absent RAM pages as errors, never zeros. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/diskdump.h"
#include "mock_kernel.h"
#include "scenario.h"

#define SCN_DIR "testdata/scenarios"

static void read_all(const struct scn *s, const char *path)
{
	char err[512], why[256];
	uint8_t *buf = malloc(IMG_PAGE);
	struct dump *d = dump_open(path, err, sizeof(err));
	check_begin("%s/read every page [%s]", s->name, strrchr(path, '.') + 1);
	EXPECT_MSG(d != NULL, "%s", err);
	if (!d || !buf)
		goto out;
	struct vtd_mem m = dump_mem(d);
	uint64_t bad = 0, present = 0;
	for (uint64_t pfn = 0; pfn < img_max_pfn(s->img) && bad < 3; pfn++) {
		const uint8_t *want = img_page_const(s->img, pfn);
		int rc = m.read(m.ctx, pfn * IMG_PAGE, buf, IMG_PAGE, why, sizeof(why));
		if (want) {
			present++;
			if (rc || memcmp(buf, want, IMG_PAGE)) {
				bad++;
				check_fail(__FILE__, __LINE__, "pfn 0x%llx: %s", (unsigned long long)pfn,
					   rc ? why : "contents differ");
			}
		} else if (rc == 0) {
			bad++;
			check_fail(__FILE__, __LINE__, "pfn 0x%llx is not in the image but read back",
				   (unsigned long long)pfn);
		}
	}
	EXPECT(present == img_npages(s->img));
	char v[64];
	EXPECT(dump_vmcoreinfo(d, "OSRELEASE", v, sizeof(v)) == 0);
out:
	check_end();
	dump_close(d);
	free(buf);
}

TEST(readers_match_images)
{
	DIR *dir = opendir(SCN_DIR);
	struct dirent *de;
	size_t n = 0;
	EXPECT(dir != NULL);
	while (dir && (de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		char path[4096], err[512];
		if (l < 5 || strcmp(de->d_name + l - 4, ".scn"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", SCN_DIR, de->d_name);
		struct mock *mk;
		struct scn *s = scn_load_generated(path, mock_vmlinux_path(), &mk, err, sizeof(err));
		EXPECT_MSG(s != NULL, "%s", err);
		if (!s)
			continue;
		n++;
		for (size_t i = 0; i < scn_noutputs; i++) {
			snprintf(path, sizeof(path), "%s/%s%s", check_gen_dir(), s->name, scn_outputs[i].suffix);
			read_all(s, path);
		}
		scn_free(s);
		mock_free(mk);
	}
	if (dir)
		closedir(dir);
	EXPECT_MSG(n >= 10, "only %zu scenarios", n);
}

TEST(flattened_bad_input_is_named)
{
	char err[512];
	char path[] = "/tmp/vtd-flat-XXXXXX";
	int fd = mkstemp(path);
	EXPECT(fd >= 0);
	/* a flattened header with a record claiming more bytes than the file has */
	uint8_t hdr[4096 + 16] = "makedumpfile";
	hdr[16 + 7] = 1, hdr[24 + 7] = 1;              /* type 1, version 1, big-endian */
	hdr[4096 + 15] = 0x80, hdr[4096 + 14] = 0xff;   /* size 0xff80 */
	EXPECT(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	close(fd);
	struct diskdump *d = diskdump_open(path, err, sizeof(err));
	EXPECT(d == NULL);
	EXPECT_MSG(strstr(err, path) && strstr(err, "record 0"), "message: %s", err);
	diskdump_close(d);
	unlink(path);
}
