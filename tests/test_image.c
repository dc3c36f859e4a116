/* The dump image patcher (cli/image.c) on the generated dumps of every
 * format: patched bytes read back through the dump readers (libkdumpfile for
 * ELF and kdump, ours for flattened), every other page unchanged, the record
 * carried (note, grown sub-header, or sidecar), undo byte for byte, and
 * clean failures that leave no output behind. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/image.h"
#include "mock_kernel.h"
#include "scenario.h"

static char tmpdir[] = "/tmp/vtd-test-image-XXXXXX";

static bool same_files(const char *a, const char *b)
{
	FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
	bool same = x && y;
	while (same) {
		int c = fgetc(x), d = fgetc(y);
		if (c != d)
			same = false;
		if (c == EOF || d == EOF)
			break;
	}
	if (x)
		fclose(x);
	if (y)
		fclose(y);
	return same;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

/* No temporary files left in the directory. */
static bool no_temps(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -q '\\.vtd[A-Za-z0-9]\\{6\\}$'", tmpdir);
	return system(cmd) != 0;
}

struct pt { uint64_t pa; unsigned len; uint8_t b[16]; };

/* Patches on two present pages: two in one page (one ending at its end),
 * one in another. */
static size_t make_patches(struct scn *s, struct pt *p)
{
	const uint64_t *pfns = img_pfns(s->img);
	size_t n = img_npages(s->img);
	uint64_t a = pfns[n / 3], b = pfns[2 * n / 3];
	p[0] = (struct pt){ a * 4096 + 0x10, 16, { 0 } };
	p[1] = (struct pt){ a * 4096 + 0xff8, 8, { 0 } };
	p[2] = (struct pt){ b * 4096 + 0x800, 12, { 0 } };
	for (int i = 0; i < 3; i++)
		for (unsigned j = 0; j < p[i].len; j++)
			p[i].b[j] = (uint8_t)(0xa5 ^ (i * 16 + j));
	return 3;
}

static char *record_text(size_t extra, size_t *len)
{
	const char *head = "VTDSCOPE-MARKS 1\nmeta\tgenerator=test_image\n";
	size_t hl = strlen(head), n = hl + extra;
	char *t = malloc(n + 1);
	memcpy(t, head, hl);
	for (size_t i = hl; i < n; i++)
		t[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	t[n] = 0;
	*len = n;
	return t;
}

/* OUT must read as IN with the patches applied, page by page. */
static void compare(struct scn *s, const char *in, const char *out, const struct pt *p, size_t np)
{
	char err[512], w1[100], w2[100];
	struct dump *a = dump_open(in, err, sizeof(err)), *b = dump_open(out, err, sizeof(err));
	EXPECT_MSG(a && b, "open: %s", err);
	if (!a || !b) {
		dump_close(a);
		dump_close(b);
		return;
	}
	struct vtd_mem ma = dump_mem(a), mb = dump_mem(b);
	const uint64_t *pfns = img_pfns(s->img);
	size_t n = img_npages(s->img), bad = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t x[4096], y[4096];
		int ra = ma.read(ma.ctx, pfns[i] * 4096, x, 4096, w1, sizeof(w1));
		int rb = mb.read(mb.ctx, pfns[i] * 4096, y, 4096, w2, sizeof(w2));
		if (ra != rb) {
			bad++;
			continue;
		}
		if (ra)
			continue;
		for (size_t k = 0; k < np; k++)
			if (p[k].pa / 4096 == pfns[i])
				memcpy(x + p[k].pa % 4096, p[k].b, p[k].len);
		bad += memcmp(x, y, 4096) != 0;
	}
	EXPECT_MSG(!bad, "%s: %zu pages differ from %s with the patches", out, bad, in);
	dump_close(a);
	dump_close(b);
}

static void one(struct scn *s, const struct scn_output *o, size_t extra, const char *tag)
{
	char in[600], out[600], back[600], err[512], where[300], from[600];
	struct pt p[4];
	struct image_patch ip[4];
	size_t np = make_patches(s, p), rl, tl;
	char *rec = record_text(extra, &rl), *text = NULL;
	snprintf(in, sizeof(in), "%s/%s%s", check_gen_dir(), s->name, o->suffix);
	snprintf(out, sizeof(out), "%s/out%s%s", tmpdir, o->suffix, tag);
	snprintf(back, sizeof(back), "%s/back%s%s", tmpdir, o->suffix, tag);
	for (size_t i = 0; i < np; i++)
		ip[i] = (struct image_patch){ p[i].pa, p[i].len, p[i].b };
	check_begin("%s%s%s", s->name, o->suffix, tag);
	int r = image_write(in, out, ip, np, rec, rl, where, sizeof(where), err, sizeof(err));
	EXPECT_MSG(r == 0, "image_write: %s", err);
	if (r == 0) {
		compare(s, in, out, p, np);
		r = image_read_record(out, &text, &tl, from, sizeof(from), err, sizeof(err));
		EXPECT_MSG(r == 1 && text && tl > rl && !memcmp(text, rec, rl) &&
			   strstr(text + rl, "journal\tformat=") && !strcmp(text + tl - 4, "end\n"),
			   "record not carried (%d): %s", r, r < 0 ? err : "");
		/* flattened: a big record goes to the sidecar, else a note */
		bool side = strstr(where, "sidecar") != NULL;
		EXPECT_MSG(side == (o->fmt == DUMP_FLAT && extra > 0), "record where: %s", where);
		EXPECT_MSG(!side || strstr(from, ".vtd"), "read from %s", from);
		r = image_undo(out, back, err, sizeof(err));
		EXPECT_MSG(r == 0, "image_undo: %s", err);
		EXPECT_MSG(r || same_files(in, back), "undo of %s is not %s byte for byte", out, in);
	}
	EXPECT(no_temps());
	free(text);
	free(rec);
	check_end();
}

TEST(patch_read_back_and_undo_every_format)
{
	const char *names[] = { "two-units", "irte" };
	EXPECT(mkdtemp(tmpdir) != NULL);
	for (size_t n = 0; n < 2; n++) {
		char path[600], err[512];
		struct mock *mk = NULL;
		snprintf(path, sizeof(path), "testdata/scenarios/%s.scn", names[n]);
		struct scn *s = scn_load_generated(path, mock_vmlinux_path(), &mk, err, sizeof(err));
		EXPECT_MSG(s, "%s", err);
		if (!s)
			continue;
		for (size_t i = 0; i < scn_noutputs; i++) {
			one(s, &scn_outputs[i], 0, "");
			/* a record bigger than the note slack: grown sub-header,
			 * grown PT_NOTE, or the sidecar */
			one(s, &scn_outputs[i], 100000, ".big");
		}
		scn_free(s);
		mock_free(mk);
	}
}

TEST(failures_leave_nothing_behind)
{
	char in[600], out[600], err[512], where[300], trunc[600];
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct image_patch far = { 0x7fff000000ull, 8, b };
	snprintf(in, sizeof(in), "%s/two-units.kdump-zlib", check_gen_dir());
	snprintf(out, sizeof(out), "%s/fail.kdump", tmpdir);
	/* a page the dump does not hold */
	EXPECT(image_write(in, out, &far, 1, "VTDSCOPE-MARKS 1\n", 17, where, sizeof(where), err,
			   sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "not in the dump") && strstr(err, "0x7fff000000"), "%s", err);
	EXPECT(!exists(out) && no_temps());
	/* the dump itself as output */
	EXPECT(image_write(in, in, NULL, 0, "x\n", 2, where, sizeof(where), err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "refusing"), "%s", err);
	/* an output directory that does not exist */
	EXPECT(image_write(in, "/nonexistent-dir/x.kdump", NULL, 0, "x\n", 2, where, sizeof(where),
			   err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "/nonexistent-dir/x.kdump"), "%s", err);
	/* a truncated dump */
	snprintf(trunc, sizeof(trunc), "%s/trunc.kdump", tmpdir);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "head -c 6000 %s > %s", in, trunc);
	EXPECT(system(cmd) == 0);
	EXPECT(image_write(trunc, out, NULL, 0, "x\n", 2, where, sizeof(where), err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "trunc.kdump"), "%s", err);
	EXPECT(!exists(out) && no_temps());
	/* undo of a dump without a record */
	EXPECT(image_undo(in, out, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "no marks record"), "%s", err);
	/* undo with a damaged journal (a sidecar is plain text) */
	char flat[600], side[700];
	snprintf(flat, sizeof(flat), "%s/two-units.flat", check_gen_dir());
	snprintf(out, sizeof(out), "%s/fail.flat", tmpdir);
	size_t rl;
	char *rec = record_text(100000, &rl);
	EXPECT(image_write(flat, out, NULL, 0, rec, rl, where, sizeof(where), err, sizeof(err)) == 0);
	free(rec);
	snprintf(side, sizeof(side), "%s.vtd", out);
	snprintf(cmd, sizeof(cmd), "sed -i 's/^journal\\tformat=flattened\\tsize=0x/journal\\tformat=flattened\\tsize=zz/' %s", side);
	EXPECT(system(cmd) == 0);
	char back[600];
	snprintf(back, sizeof(back), "%s/fail.back", tmpdir);
	EXPECT(image_undo(out, back, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, "journal"), "%s", err);
	EXPECT(!exists(back) && no_temps());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	EXPECT(system(cmd) == 0);
}

