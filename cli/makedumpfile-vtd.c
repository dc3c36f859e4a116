/* makedumpfile-vtd — makedumpfile, and the crashed kernel's IOMMU trust
 * report and restored table bytes in the dump it writes (design.md §7).
 *
 *   makedumpfile-vtd [makedumpfile options] /proc/vmcore DUMPFILE
 *   makedumpfile-vtd -F [makedumpfile options] /proc/vmcore > STREAM
 *
 * A helper process takes the early snapshot (the crashed kernel's IOMMU
 * state located in the input with the dump's own BTF and kallsyms, or -x
 * VMLINUX; its table and DMA-writable pages read into memory, bounded);
 * then makedumpfile runs with the options unchanged; then the helper
 * re-reads the same pages (CHANGED where they differ), builds the marks and
 * the restoration plan, and patches DUMPFILE through a temporary copy that
 * is renamed over it (kdump-compressed or ELF) or appends the record after
 * the flattened stream's end marker.  Whatever happens to the helper
 * (error, crash, kill), the dump is makedumpfile's and the exit status is
 * makedumpfile's; the failure is logged on stderr.
 *
 * Our own options start with --vtd- and are not passed on:
 *   --vtd-snapshot-mb N   bound of the early snapshot (default 64 MiB)
 *   --vtd-makedumpfile P  the real makedumpfile (default: $VTD_MAKEDUMPFILE,
 *                         /usr/bin/makedumpfile.distrib (dpkg-divert), then
 *                         makedumpfile in PATH that is not this program)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <glob.h>
#include <libgen.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "image.h"
#include "kinfo_btf.h"
#include "kinfo_dump.h"
#include "kinfo_dwarf.h"
#include "vtd/marks.h"
#include "vtd/record.h"

#define VERSION "0.1"

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n = snprintf(line, sizeof(line), "makedumpfile-vtd: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr);
	fflush(stderr);
	/* VTD_LOG: also there, one write per line (a console that timestamps
	 * lines as they arrive) */
	const char *to = getenv("VTD_LOG");
	int fd = to && *to ? open(to, O_WRONLY | O_APPEND | O_NOCTTY) : -1;
	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0) {
			/* a log that cannot be written is no reason to fail */
		}
		close(fd);
	}
}

/* Test hooks: VTD_FAILPOINT=STEP makes the helper fail at STEP,
 * VTD_KILLPOINT=STEP kills it there (SIGKILL), as an OOM kill would. */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int point(const char *step)
{
	const char *k = getenv("VTD_KILLPOINT"), *f = getenv("VTD_FAILPOINT");
	if (k && !strcmp(k, step))
		raise(SIGKILL);
	return f && !strcmp(f, step) ? -1 : 0;
}

/* ---- the command line ---- */

/* makedumpfile options that take a value (1.7.x) */
static const char *const with_arg[] = {
	"-d", "-x", "-i", "-b", "-L", "--message-level", "--num-threads", "--config", "--eppic",
	"--cyclic-buffer", "--splitblock-size", "--work-dir", "--vtop", "--dump-level",
};
/* modes that write no dump of the input: makedumpfile alone */
static const char *const other_modes[] = {
	"--dump-dmesg", "-R", "--reassemble", "--split", "--mem-usage", "--check-params", "-g",
	"--vtop", "-h", "--help", "-v", "--version", "--partial-dmesg", "--dry-run",
};

struct cmdline {
	char **mdf;             /* makedumpfile's argv (our options removed) */
	int nmdf;
	const char *input, *output;   /* output NULL: -F to standard output */
	const char *vmlinux;          /* -x */
	bool flat, elf, plain;        /* -F, -E, nothing for us to do */
	uint64_t snapshot_bytes;
	const char *real;
};

static bool in(const char *a, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(set[i]);
		if (!strcmp(a, set[i]) || (set[i][1] == '-' && !strncmp(a, set[i], l) && a[l] == '='))
			return true;
	}
	return false;
}

static int parse(int argc, char **argv, struct cmdline *c)
{
	const char *pos[4];
	int npos = 0;
	memset(c, 0, sizeof(*c));
	c->snapshot_bytes = 64ull << 20;
	c->mdf = calloc((size_t)argc + 1, sizeof(char *));
	if (!c->mdf)
		return -1;
	c->mdf[c->nmdf++] = NULL;                 /* the real makedumpfile, filled later */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--vtd-snapshot-mb") && i + 1 < argc) {
			c->snapshot_bytes = strtoull(argv[++i], NULL, 0) << 20;
			continue;
		}
		if (!strcmp(a, "--vtd-makedumpfile") && i + 1 < argc) {
			c->real = argv[++i];
			continue;
		}
		c->mdf[c->nmdf++] = argv[i];
		if (in(a, other_modes, sizeof(other_modes) / sizeof(*other_modes)))
			c->plain = true;
		if (a[0] == '-' && a[1] && in(a, with_arg, sizeof(with_arg) / sizeof(*with_arg)) &&
		    !strchr(a, '=') && i + 1 < argc) {
			if (!strcmp(a, "-x"))
				c->vmlinux = argv[i + 1];
			c->mdf[c->nmdf++] = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1] && a[1] != '-') {
			/* bundled short flags: -lF, -cE, -d31 */
			if (a[1] == 'd' || a[1] == 'x' || a[1] == 'b' || a[1] == 'i' || a[1] == 'L') {
				if (a[1] == 'x')
					c->vmlinux = a + 2;
				continue;
			}
			c->flat |= strchr(a, 'F') != NULL;
			c->elf |= strchr(a, 'E') != NULL;
			continue;
		}
		if (a[0] == '-' && a[1] == '-')
			continue;
		if (npos < 4)
			pos[npos++] = a;
	}
	if (c->flat ? npos != 1 : npos != 2)
		c->plain = true;                  /* not a dump we understand: makedumpfile alone */
	c->input = npos > 0 ? pos[0] : NULL;
	c->output = !c->flat && npos > 1 ? pos[1] : NULL;
	return 0;
}

/* The real makedumpfile: never this program (a dpkg-divert may have put us
 * at /usr/bin/makedumpfile). */
static const char *find_real(const char *given)
{
	static char buf[PATH_MAX];
	char self[PATH_MAX], r[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = 0;
	const char *env = getenv("VTD_MAKEDUMPFILE");
	if (given)
		return given;
	if (env && *env)
		return env;
	if (access("/usr/bin/makedumpfile.distrib", X_OK) == 0)
		return "/usr/bin/makedumpfile.distrib";
	const char *path = getenv("PATH");
	char *p = strdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"), *save = NULL;
	for (char *d = p ? strtok_r(p, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/makedumpfile", d);
		if (access(buf, X_OK) || !realpath(buf, r) || !strcmp(r, self))
			continue;
		free(p);
		return buf;
	}
	free(p);
	return NULL;
}

/* ---- the helper: early snapshot, then compare and patch ---- */

struct snap {
	uint64_t *pfn;
	uint8_t *page;          /* n pages */
	size_t n;
	size_t skipped;         /* pages over the bound */
};

struct helper {
	const struct cmdline *c;
	struct dump *d;
	struct kinfo_dwarf *kd;
	struct kinfo_btf *kb;
	struct vtd_ksyms *ks;
	struct kinfo_dump k;
	struct vtd_mem mem;
	struct vtd_kstate *st;
	struct vtd_unit *units;
	struct vtd_analysis *a;
	struct snap s;
	char why[600];
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int early(struct helper *h)
{
	char err[512];
	struct vtd_error e;
	const struct cmdline *c = h->c;
	if (point("snapshot"))
		return snprintf(h->why, sizeof(h->why), "failpoint snapshot"), -1;
	h->d = dump_open(c->input, err, sizeof(err));
	if (!h->d)
		return snprintf(h->why, sizeof(h->why), "%s", err), -1;
	h->mem = dump_mem(h->d);
	if (c->vmlinux) {
		if (!(h->kd = kinfo_dwarf_open(c->vmlinux, err, sizeof(err))))
			return snprintf(h->why, sizeof(h->why), "%s", err), -1;
		kinfo_dump_init(&h->k, h->kd, h->d);
	} else {
		if (kinfo_dump_load_btf(h->d, NULL, NULL, &h->kb, &h->ks, err, sizeof(err)))
			return snprintf(h->why, sizeof(h->why), "%.80s: %.500s", c->input, err), -1;
		kinfo_dump_init_btf(&h->k, h->kb, h->ks, h->d);
	}
	vtd_error_init(&e);
	if (vtd_kstate_load(&h->mem, &h->k.ki, &h->st, &e)) {
		char b[600];
		vtd_error_str(&e, b, sizeof(b));
		return snprintf(h->why, sizeof(h->why), "cannot locate the IOMMU state: %.560s", b), -1;
	}
	h->units = calloc(h->st->nunits ? h->st->nunits : 1, sizeof(*h->units));
	if (!h->units)
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	for (size_t i = 0; i < h->st->nunits; i++)
		h->units[i] = h->st->units[i].unit;
	struct vtd_analyze_opts o = { .search_context_tables = true, .max_pfn = dump_max_pfn(h->d) };
	if (vtd_analyze(&h->mem, h->st, &h->k.ki, h->units, h->st->nunits, &o, &h->a, &e))
		return snprintf(h->why, sizeof(h->why), "analysis: %s", e.msg), -1;

	/* the pages to watch: tables and hardware-writable pages first, then
	 * DMA-writable ones while the bound allows (the rest are counted) */
	size_t n = 0, cap = 0, max = (size_t)(h->c->snapshot_bytes / 4096), ntab;
	uint64_t *pfn = NULL;
	for (int pass = 0; pass < 2; pass++) {
		unsigned want = pass ? VTD_MARK_DMA_WRITABLE : VTD_MARK_TABLE | VTD_MARK_HW_WRITABLE;
		ntab = n;
		for (size_t i = 0; i < h->a->marks.n; i++) {
			const struct vtd_mark *m = &h->a->marks.v[i];
			if (!(m->reason & want))
				continue;
			for (uint64_t p = m->pfn; p < m->pfn + m->npages; p++) {
				if (pass && (ntab && bsearch(&p, pfn, ntab, sizeof(*pfn), cmp_u64)))
					continue;
				if (pass && n >= max) {
					h->s.skipped++;
					continue;
				}
				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					uint64_t *np = realloc(pfn, cap * sizeof(*np));
					if (!np) {
						free(pfn);
						return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
					}
					pfn = np;
				}
				pfn[n++] = p;
			}
		}
		if (n)
			qsort(pfn, n, sizeof(*pfn), cmp_u64);
		size_t u = 0;
		for (size_t i = 0; i < n; i++)
			if (!u || pfn[u - 1] != pfn[i])
				pfn[u++] = pfn[i];
		n = u;
	}
	if (n > max) {                    /* tables alone over the bound */
		h->s.skipped += n - max;
		n = max;
	}
	h->s.n = n;
	h->s.pfn = pfn;
	h->s.page = malloc(h->s.n ? h->s.n * 4096 : 1);
	if (!h->s.page)
		return snprintf(h->why, sizeof(h->why), "out of memory for %zu pages", h->s.n), -1;
	size_t o2 = 0;
	for (size_t i = 0; i < h->s.n; i++) {
		char why[128];
		/* a page the input cannot give (excluded by the capture kernel's
		 * view) is simply not watched */
		if (h->mem.read(h->mem.ctx, pfn[i] << 12, h->s.page + o2 * 4096, 4096, why, sizeof(why)))
			continue;
		pfn[o2++] = pfn[i];
	}
	h->s.n = o2;
	return 0;
}

/* Re-read the watched pages; CHANGED marks where they differ. */
static int compare(struct helper *h, size_t *changed)
{
	char err[512];
	uint8_t *b = malloc(4096);
	*changed = 0;
	if (!b || point("compare"))
		return free(b), snprintf(h->why, sizeof(h->why), b ? "failpoint compare" : "out of memory"), -1;
	/* a fresh reader: nothing cached from the early read */
	dump_close(h->d);
	h->d = dump_open(h->c->input, err, sizeof(err));
	if (!h->d)
		return free(b), snprintf(h->why, sizeof(h->why), "re-reading %s: %s", h->c->input, err), -1;
	h->mem = dump_mem(h->d);
	for (size_t i = 0; i < h->s.n; i++) {
		char why[128];
		const uint8_t *old = h->s.page + i * 4096;
		if (h->mem.read(h->mem.ctx, h->s.pfn[i] << 12, b, 4096, why, sizeof(why)) || !memcmp(b, old, 4096))
			continue;
		unsigned first = 4096, last = 0, nb = 0;
		for (unsigned k = 0; k < 4096; k++)
			if (b[k] != old[k]) {
				nb++;
				first = k < first ? k : first;
				last = k;
			}
		struct vtd_mark m = { .pfn = h->s.pfn[i], .npages = 1, .reason = VTD_MARK_CHANGED,
				      .segment = -1, .sid = -1, .pasid = VTD_NO_PASID };
		snprintf(m.what, sizeof(m.what), "changed during capture: %u bytes in 0x%x-0x%x", nb, first, last);
		if (vtd_marks_add(&h->a->marks, &m)) {
			free(b);
			return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
		}
		(*changed)++;
	}
	free(b);
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w, n -= (size_t)w;
	}
	return 0;
}

static int patch(struct helper *h, size_t changed, double secs)
{
	char err[600], where[300], tmp[PATH_MAX], text[400];
	struct vtd_record_meta meta;
	char *rec = NULL;
	size_t len = 0;
	struct vtd_error e;
	const struct cmdline *c = h->c;
	snprintf(text, sizeof(text), "capture by makedumpfile-vtd %s: %zu pages watched (tables, "
		 "hardware- and DMA-writable), %zu over the %" PRIu64 " MiB bound not watched, "
		 "%zu changed while makedumpfile ran (%.1fs)", VERSION, h->s.n, h->s.skipped,
		 c->snapshot_bytes >> 20, changed, secs);
	struct vtd_finding f = { .sev = changed || h->s.skipped ? VTD_SEV_WARNING : VTD_SEV_INFO,
				 .segment = -1, .sid = -1, .pasid = VTD_NO_PASID, .pa = VTD_NOADDR };
	snprintf(f.kind, sizeof(f.kind), "capture");
	snprintf(f.text, sizeof(f.text), "%.319s", text);
	if (vtd_analysis_add_finding(h->a, &f))
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	if (point("patch"))
		return snprintf(h->why, sizeof(h->why), "failpoint patch"), -1;
	memset(&meta, 0, sizeof(meta));
	snprintf(meta.generator, sizeof(meta.generator), "makedumpfile-vtd %s", VERSION);
	snprintf(meta.dump_format, sizeof(meta.dump_format), "%s",
		 c->flat ? "flattened" : c->elf ? "elf" : "diskdump");
	if (c->flat) {
		/* the stream is gone by; the record goes after its end marker
		 * (restorations stay a plan: vtd restore applies them to the saved file) */
		vtd_marks_sort(&h->a->marks);
		vtd_error_init(&e);
		if (vtd_record_format(h->a, &meta, &rec, &len, &e))
			return snprintf(h->why, sizeof(h->why), "marks record: %s", e.msg), -1;
		uint8_t hd[24];
		memcpy(hd, IMAGE_TRAILER_MAGIC, 16);
		uint64_t n = len + 4;
		for (int i = 0; i < 8; i++)
			hd[16 + i] = (uint8_t)(n >> (8 * i));
		int r = write_all(1, hd, 24) || write_all(1, rec, len) || write_all(1, "end\n", 4);
		free(rec);
		if (r)
			return snprintf(h->why, sizeof(h->why), "writing the record to standard output: %s",
					strerror(errno)), -1;
		logf_("record after the stream's end marker: %zu marks, %zu findings%s", h->a->marks.n,
		      h->a->nfindings, h->a->nrestores ? "; restorations recorded, not applied (use vtd restore)" : "");
		return 0;
	}
	struct image_patch *p = calloc(h->a->nrestores ? h->a->nrestores : 1, sizeof(*p));
	if (!p)
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	for (size_t i = 0; i < h->a->nrestores; i++)
		p[i] = (struct image_patch){ h->a->restores[i].pa, h->a->restores[i].len, h->a->restores[i].original };
	if (vtd_analysis_mark_restored(h->a)) {
		free(p);
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	}
	vtd_marks_sort(&h->a->marks);
	vtd_error_init(&e);
	if (vtd_record_format(h->a, &meta, &rec, &len, &e)) {
		free(p);
		return snprintf(h->why, sizeof(h->why), "marks record: %s", e.msg), -1;
	}
	if (!c->elf) {
		/* kdump-compressed: in place, appending (O(patches + notes)) */
		int r = image_append(c->output, p, h->a->nrestores, rec, len, point, err, sizeof(err));
		free(p);
		free(rec);
		if (r)
			return snprintf(h->why, sizeof(h->why), "%s", err), -1;
		logf_("%s: %zu marks, %zu findings, %zu restorations applied, record as a note", c->output,
		      h->a->marks.n, h->a->nfindings, h->a->nrestores);
		return 0;
	}
	/* ELF: the note area grows, so through a copy renamed over the file */
	snprintf(tmp, sizeof(tmp), "%s.vtd-new", c->output);
	int r = image_write(c->output, tmp, p, h->a->nrestores, rec, len, where, sizeof(where), err, sizeof(err));
	free(p);
	free(rec);
	if (r)
		return snprintf(h->why, sizeof(h->why), "%s", err), -1;
	if (point("rename") || rename(tmp, c->output)) {
		int en = errno;
		unlink(tmp);
		char sc[PATH_MAX + 8];
		snprintf(sc, sizeof(sc), "%s.vtd", tmp);
		unlink(sc);
		return snprintf(h->why, sizeof(h->why), "renaming %.250s to %.250s: %s", tmp, c->output,
				getenv("VTD_FAILPOINT") ? "failpoint rename" : strerror(en)), -1;
	}
	if (!strncmp(where, "sidecar ", 8)) {
		char sc[PATH_MAX + 8], dst[PATH_MAX + 8];
		snprintf(sc, sizeof(sc), "%s.vtd", tmp);
		snprintf(dst, sizeof(dst), "%s.vtd", c->output);
		rename(sc, dst);
	}
	logf_("%s: %zu marks, %zu findings, %zu restorations applied, record as a %s", c->output,
	      h->a->marks.n, h->a->nfindings, h->a->nrestores,
	      !strncmp(where, "sidecar ", 8) ? "sidecar" : "note");
	return 0;
}

static void helper_free(struct helper *h)
{
	vtd_analysis_free(h->a);
	free(h->units);
	vtd_kstate_free(h->st);
	kinfo_dwarf_close(h->kd);
	kinfo_btf_close(h->kb);
	vtd_ksyms_free(h->ks);
	dump_close(h->d);
	free(h->s.pfn);
	free(h->s.page);
}

/* The helper process: early snapshot, tell the parent, wait for
 * makedumpfile's status, then compare and patch. */
static int helper_main(const struct cmdline *c, int ready, int go)
{
	struct helper h;
	memset(&h, 0, sizeof(h));
	h.c = c;
	double t0 = now();
	char ok = early(&h) == 0 ? 'y' : 'n';
	if (ok == 'n')
		logf_("early snapshot failed: %s; the dump will be makedumpfile's alone", h.why);
	else
		logf_("early snapshot: %zu pages watched (%zu over the bound), %zu marks, %zu restorations "
		      "planned (%.2fs)", h.s.n, h.s.skipped, h.a->marks.n, h.a->nrestores, now() - t0);
	if (write(ready, &ok, 1) != 1 || ok == 'n') {
		helper_free(&h);
		return 1;
	}
	close(ready);
	char st[32] = { 0 };
	ssize_t r = read(go, st, sizeof(st) - 1);
	if (r <= 0 || st[0] != '0') {
		helper_free(&h);
		return 1;                 /* makedumpfile failed: nothing to patch */
	}
	double secs = strtod(st + 1, NULL), t1 = now();
	size_t changed = 0;
	logf_("makedumpfile done; re-reading the %zu watched pages", h.s.n);
	int rc = compare(&h, &changed) || patch(&h, changed, secs) ? 1 : 0;
	if (rc)
		logf_("%s; the dump is makedumpfile's, unchanged", h.why);
	else
		logf_("re-read, marks and patch: %.2fs", now() - t1);
	helper_free(&h);
	return rc;
}

/* A kdump file as makedumpfile left it: its size and the sub-header's note
 * pointer (offset_note, size_note), which image_append repoints first. */
struct kstate { bool valid; off_t size; uint8_t ptr[16]; };

static void remember(const struct cmdline *c, struct kstate *k)
{
	struct stat st;
	int fd = c->output && !c->elf ? open(c->output, O_RDONLY) : -1;
	k->valid = fd >= 0 && fstat(fd, &st) == 0 && pread(fd, k->ptr, 16, 4096 + 48) == 16;
	k->size = k->valid ? st.st_size : 0;
	if (fd >= 0)
		close(fd);
}

/* The helper died while patching a kdump file in place: before it
 * repointed the notes, drop what it appended; after, undo the patch with
 * the journal it had already put in the file.  Either way the file is byte
 * for byte makedumpfile's. */
static void put_back(const struct cmdline *c, const struct kstate *k)
{
	uint8_t now[16];
	char err[600];
	int fd = k->valid ? open(c->output, O_RDWR) : -1;
	if (fd < 0)
		return;
	bool moved = pread(fd, now, 16, 4096 + 48) == 16 && memcmp(now, k->ptr, 16);
	if (!moved && ftruncate(fd, k->size))
		logf_("%s: cannot drop the helper's appended bytes: %s", c->output, strerror(errno));
	close(fd);
	if (moved && image_undo_inplace(c->output, err, sizeof(err)))
		logf_("%s; it still reads as a dump with the record", err);
}

/* What a killed helper may leave next to DUMPFILE: the patched copy and
 * image_write's temporary files. */
static void cleanup(const char *out)
{
	char a[PATH_MAX], b[PATH_MAX], pat[2 * PATH_MAX + 32];
	glob_t g;
	snprintf(a, sizeof(a), "%s", out);
	snprintf(b, sizeof(b), "%s", out);
	snprintf(pat, sizeof(pat), "%s/.%s.vtd-new*.vtd??????", dirname(a), basename(b));
	if (glob(pat, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
	snprintf(pat, sizeof(pat), "%s.vtd-new", out);
	unlink(pat);
	snprintf(pat, sizeof(pat), "%s.vtd-new.vtd", out);
	unlink(pat);
}

int main(int argc, char **argv)
{
	struct cmdline c;
	if (parse(argc, argv, &c)) {
		logf_("out of memory");
		return 1;
	}
	const char *real = find_real(c.real);
	if (!real) {
		logf_("no makedumpfile found (set VTD_MAKEDUMPFILE or --vtd-makedumpfile)");
		free(c.mdf);
		return 1;
	}
	c.mdf[0] = (char *)real;
	if (c.plain) {
		execv(real, c.mdf);
		logf_("%s: %s", real, strerror(errno));
		free(c.mdf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int ready[2], go[2];
	pid_t hp = -1;
	if (pipe(ready) == 0 && pipe(go) == 0)
		hp = fork();
	if (hp == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(helper_main(&c, ready[1], go[0]));
	}
	bool helping = false;
	if (hp > 0) {
		char ok = 0;
		close(ready[1]);
		close(go[0]);
		helping = read(ready[0], &ok, 1) == 1 && ok == 'y';
		close(ready[0]);
	} else {
		logf_("cannot start the helper: %s; running makedumpfile alone", strerror(errno));
	}

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t mp = fork();
	if (mp == 0) {
		if (hp > 0)
			close(go[1]);
		execv(real, c.mdf);
		fprintf(stderr, "makedumpfile-vtd: %s: %s\n", real, strerror(errno));
		_exit(127);
	}
	int status = 0, rc;
	while (mp > 0 && waitpid(mp, &status, 0) < 0 && errno == EINTR)
		;
	struct kstate ks0;
	remember(&c, &ks0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rc = mp < 0 ? 1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (hp > 0) {
		char st[32];
		snprintf(st, sizeof(st), "%c%.3f", rc == 0 && helping ? '0' : 'x',
			 (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (write(go[1], st, strlen(st)) < 0) {
			/* the helper is gone: waitpid says how */
		}
		close(go[1]);
		int hs = 0;
		while (waitpid(hp, &hs, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(hs)) {
			logf_("the helper was killed (signal %d); the dump is makedumpfile's, unchanged",
			      WTERMSIG(hs));
			if (c.output) {
				cleanup(c.output);
				put_back(&c, &ks0);
			}
		}
	}
	free(c.mdf);
	return rc;
}
