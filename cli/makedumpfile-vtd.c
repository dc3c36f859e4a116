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
 * the flattened stream's end marker.  Pages vtdscope needs (the kernel
 * structures the locator read, the VT-d tables, IR table, QI ring and status
 * array) that makedumpfile excluded — a makedumpfile that does not know the
 * kernel takes slab pages for user pages — are added back to a
 * kdump-compressed DUMPFILE (issue 10).  Whatever happens to the helper
 * (error, crash, kill), the dump is makedumpfile's and the exit status is
 * makedumpfile's; the failure is logged on stderr.
 *
 * Our own options start with --vtd- and are not passed on:
 *   --vtd-snapshot-mb N   bound of the early snapshot (default 64 MiB)
 *   --keep-dma-pages      also keep every DMA-writable page in the dump (the
 *                         buffers DMA-corruption triage needs, even user or
 *                         page-cache pages the dump level drops)
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

#include "diskdump.h"
#include "fileio.h"
#include "dump.h"
#include "flatfix.h"
#include "image.h"
#include "kdump_pages.h"
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
	bool keep_dma;                /* --keep-dma-pages */
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
		if (!strcmp(a, "--keep-dma-pages") || !strcmp(a, "--vtd-keep-dma-pages")) {
			c->keep_dma = true;
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
	/* the pages the dump must hold: every page the locator and the
	 * analysis read, the tables and hardware-writable pages (and with
	 * --keep-dma-pages the DMA-writable ones); sorted, distinct */
	struct pfnset { uint64_t *v; size_t n, cap; } need;
	struct vtd_mem wmem;            /* h->mem, recording into need */
	size_t kept;                    /* -F: pages the parent put back, the first, */
	uint64_t kept_first;            /* or why none were */
	char kept_why[200];
	char why[600];
};

static int pfnset_add(struct pfnset *p, uint64_t pfn)
{
	if (p->n && p->v[p->n - 1] == pfn)
		return 0;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 1024;
		uint64_t *nv = realloc(p->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n++] = pfn;
	return 0;
}

/* h->mem's reads, recorded: what the locator touches is what vtd will read */
static int rec_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t wl)
{
	struct helper *h = ctx;
	for (uint64_t p = pa >> 12; len && p <= (pa + len - 1) >> 12; p++)
		pfnset_add(&h->need, p);
	return h->mem.read(h->mem.ctx, pa, buf, len, why, wl);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int no_shadow(void *arg, const struct vtd_irte_shadow *sh)
{
	(void)arg, (void)sh;
	return 0;
}

static int no_record(void *arg, uint64_t seq, uint64_t ts, const char *text, size_t len)
{
	(void)arg, (void)seq, (void)ts, (void)text, (void)len;
	return 0;
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
	h->wmem = (struct vtd_mem){ rec_read, h };
	if (vtd_kstate_load(&h->wmem, &h->k.ki, &h->st, &e)) {
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
	if (vtd_analyze(&h->wmem, h->st, &h->k.ki, h->units, h->st->nunits, &o, &h->a, &e))
		return snprintf(h->why, sizeof(h->why), "analysis: %s", e.msg), -1;
	/* the IRQ descriptors (slab, maple-tree nodes) the IRTE shadows are
	 * reached through: read now, so that they are needed too */
	vtd_error_init(&e);
	(void)vtd_irte_shadows(h->st, &h->k.ki, no_shadow, NULL, &e);
	/* and the log (vtd log, faults), wherever the kernel keeps its ring */
	vtd_error_init(&e);
	(void)vtd_printk_iter(&h->st->km, &h->k.ki, no_record, NULL, &e);
	for (size_t i = 0; i < h->a->marks.n; i++) {
		const struct vtd_mark *m = &h->a->marks.v[i];
		if (!(m->reason & (VTD_MARK_TABLE | VTD_MARK_HW_WRITABLE |
				   (c->keep_dma ? VTD_MARK_DMA_WRITABLE : 0))))
			continue;
		for (uint64_t p = m->pfn; p < m->pfn + m->npages; p++)
			if (pfnset_add(&h->need, p))
				return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	}
	if (h->need.n) {
		qsort(h->need.v, h->need.n, sizeof(*h->need.v), cmp_u64);
		size_t u = 0;
		for (size_t i = 0; i < h->need.n; i++)
			if (!u || h->need.v[u - 1] != h->need.v[i])
				h->need.v[u++] = h->need.v[i];
		h->need.n = u;
	}

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

/* The pages vtd needs that makedumpfile left out of DUMPFILE.  A
 * kdump-compressed file gets them back through tmp, a new file the caller
 * completes and renames (1; *added pages); an ELF file is only reported.
 * 0 when nothing is missing, -1 on error (h->why). */
static int keep_pages(struct helper *h, const char *tmp, size_t *added)
{
	char err[600], why[128];
	const struct cmdline *c = h->c;
	struct dump *out = dump_open(c->output, err, sizeof(err));
	*added = 0;
	if (!out)
		return snprintf(h->why, sizeof(h->why), "%s", err), -1;
	struct vtd_mem om = dump_mem(out);
	uint64_t *add = calloc(h->need.n ? h->need.n : 1, sizeof(*add));
	uint8_t *data = NULL, *pg = malloc(4096);
	size_t n = 0;
	int rc = -1;
	if (!add || !pg)
		goto nomem;
	for (size_t i = 0; i < h->need.n; i++) {
		uint64_t pfn = h->need.v[i];
		/* missing from the output, present in the input */
		if (om.read(om.ctx, pfn << 12, pg, 8, why, sizeof(why)) == 0 || !strstr(why, "excluded") ||
		    h->mem.read(h->mem.ctx, pfn << 12, pg, 8, why, sizeof(why)))
			continue;
		add[n++] = pfn;
	}
	dump_close(out);
	out = NULL;
	if (!n) {
		rc = 0;
		goto done;
	}
	struct vtd_finding f = { .sev = VTD_SEV_WARNING, .segment = -1, .sid = -1,
				 .pasid = VTD_NO_PASID, .pa = add[0] << 12 };
	snprintf(f.kind, sizeof(f.kind), "kept-pages");
	if (c->elf) {
		snprintf(f.text, sizeof(f.text), "makedumpfile excluded %zu pages vtdscope needs (kernel "
			 "structures, VT-d tables), the first at 0x%" PRIx64 "; an ELF dump does not get "
			 "them back (use a kdump-compressed dump, or a dump level without bit 8)", n,
			 add[0] << 12);
		logf_("%s: %.300s", c->output, f.text);
		rc = vtd_analysis_add_finding(h->a, &f) ? -1 : 0;
		goto done;
	}
	if (!(data = malloc(n * 4096)))
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (h->mem.read(h->mem.ctx, add[i] << 12, data + i * 4096, 4096, why, sizeof(why))) {
			snprintf(h->why, sizeof(h->why), "%s: page 0x%" PRIx64 ": %s", c->input, add[i] << 12, why);
			goto done;
		}
	if (kdump_set_pages(c->output, tmp, add, data, n, NULL, 0, err, sizeof(err))) {
		snprintf(h->why, sizeof(h->why), "adding the excluded pages: %.560s", err);
		goto done;
	}
	snprintf(f.text, sizeof(f.text), "makedumpfile excluded %zu pages vtdscope needs (kernel "
		 "structures, VT-d tables, IR table, QI ring), the first at 0x%" PRIx64 "; "
		 "makedumpfile-vtd added them back (%zu KiB)", n, add[0] << 12, n * 4);
	logf_("%s: %.300s", c->output, f.text);
	if (vtd_analysis_add_finding(h->a, &f)) {
		unlink(tmp);
		goto nomem;
	}
	*added = n;
	rc = 1;
	goto done;
nomem:
	snprintf(h->why, sizeof(h->why), "out of memory");
	rc = -1;
done:
	dump_close(out);
	free(add);
	free(data);
	free(pg);
	return rc;
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
	if (c->flat && (h->kept || h->kept_why[0])) {
		struct vtd_finding kf = { .sev = h->kept ? VTD_SEV_WARNING : VTD_SEV_ERROR, .segment = -1,
					  .sid = -1, .pasid = VTD_NO_PASID, .pa = h->kept_first << 12 };
		snprintf(kf.kind, sizeof(kf.kind), "kept-pages");
		if (h->kept)
			snprintf(kf.text, sizeof(kf.text), "makedumpfile excluded %zu pages vtdscope needs "
				 "(kernel structures, VT-d tables, IR table, QI ring), the first at 0x%" PRIx64
				 "; makedumpfile-vtd put them back into the stream (%zu KiB)", h->kept,
				 h->kept_first << 12, h->kept * 4);
		else
			snprintf(kf.text, sizeof(kf.text), "pages vtdscope needs may be missing from the "
				 "stream: they could not be put back (%.200s)", h->kept_why);
		if (vtd_analysis_add_finding(h->a, &kf))
			return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	}
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
		int r = writen(1, hd, 24) || writen(1, rec, len) || writen(1, "end\n", 4);
		free(rec);
		if (r)
			return snprintf(h->why, sizeof(h->why), "writing the record to standard output: %s",
					strerror(errno)), -1;
		logf_("record after the stream's end marker: %zu marks, %zu findings%s", h->a->marks.n,
		      h->a->nfindings, h->a->nrestores ? "; restorations recorded, not applied (use vtd restore)" : "");
		return 0;
	}
	/* excluded pages vtd needs: kdump-compressed gets them back in a new
	 * file (tmp), which the record goes into before it is renamed */
	size_t added = 0;
	snprintf(tmp, sizeof(tmp), "%s.vtd-new", c->output);
	int kept = keep_pages(h, tmp, &added);
	if (kept < 0)
		return -1;
	struct image_patch *p = calloc(h->a->nrestores ? h->a->nrestores : 1, sizeof(*p));
	if (!p) {
		if (kept > 0)
			unlink(tmp);
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	}
	for (size_t i = 0; i < h->a->nrestores; i++)
		p[i] = (struct image_patch){ h->a->restores[i].pa, h->a->restores[i].len, h->a->restores[i].original };
	if (vtd_analysis_mark_restored(h->a)) {
		free(p);
		if (kept > 0)
			unlink(tmp);
		return snprintf(h->why, sizeof(h->why), "out of memory"), -1;
	}
	vtd_marks_sort(&h->a->marks);
	vtd_error_init(&e);
	if (vtd_record_format(h->a, &meta, &rec, &len, &e)) {
		free(p);
		if (kept > 0)
			unlink(tmp);
		return snprintf(h->why, sizeof(h->why), "marks record: %s", e.msg), -1;
	}
	if (!c->elf) {
		/* kdump-compressed: in place, appending (O(patches + notes)); with
		 * pages added, in the new file, renamed over makedumpfile's last */
		const char *target = kept > 0 ? tmp : c->output;
		int r = image_append(target, p, h->a->nrestores, rec, len, point, err, sizeof(err));
		free(p);
		free(rec);
		if (!r && kept > 0 && (point("rename") || rename(tmp, c->output))) {
			snprintf(err, sizeof(err), "renaming %.250s to %.250s: %s", tmp, c->output,
				 getenv("VTD_FAILPOINT") ? "failpoint rename" : strerror(errno));
			r = -1;
		}
		if (r) {
			if (kept > 0)
				unlink(tmp);
			return snprintf(h->why, sizeof(h->why), "%s", err), -1;
		}
		logf_("%s: %zu marks, %zu findings, %zu restorations applied, %zu excluded pages added "
		      "back, record as a note", c->output, h->a->marks.n, h->a->nfindings,
		      h->a->nrestores, added);
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
	free(h->need.v);
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
	/* the pages the dump must hold: the parent puts them back into a
	 * flattened stream as it passes */
	uint64_t nn = h.need.n;
	if (writen(ready, &nn, 8) || writen(ready, h.need.v, nn * 8)) {
		helper_free(&h);
		return 1;
	}
	close(ready);
	char st[400] = { 0 };
	ssize_t r = read(go, st, sizeof(st) - 1);
	if (r <= 0 || st[0] != '0') {
		helper_free(&h);
		return 1;                 /* makedumpfile failed: nothing to patch */
	}
	double secs = strtod(st + 1, NULL), t1 = now();
	/* "0SECS kept=N first=PFN why=..." from a flattened stream's pass */
	const char *kp = strstr(st, " kept=");
	if (kp) {
		h.kept = strtoull(kp + 6, NULL, 10);
		const char *fp = strstr(st, " first=");
		h.kept_first = fp ? strtoull(fp + 7, NULL, 16) : 0;
		const char *wp = strstr(st, " why=");
		snprintf(h.kept_why, sizeof(h.kept_why), "%s", wp ? wp + 5 : "");
	}
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

/* makedumpfile's stream from fd in to standard output, through ff.  When
 * standard output fails, makedumpfile's pipe is closed: it fails as it
 * would have writing there itself. */
static void pass_stream(struct flatfix *ff, int in, bool running)
{
	static uint8_t buf[1 << 16];
	for (;;) {
		ssize_t r = running ? read(in, buf, sizeof(buf)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (flatfix_feed(ff, buf, (size_t)r, 1)) {
			logf_("writing the stream: %s", strerror(errno));
			break;
		}
	}
	close(in);
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
	uint64_t *need = NULL, nneed = 0;
	if (hp > 0) {
		char ok = 0;
		close(ready[1]);
		close(go[0]);
		helping = read(ready[0], &ok, 1) == 1 && ok == 'y';
		if (helping && (readn(ready[0], &nneed, 8) || nneed > (1ull << 28) ||
				!(need = malloc(nneed ? nneed * 8 : 1)) || readn(ready[0], need, nneed * 8))) {
			free(need);
			need = NULL;
			nneed = 0;
		}
		close(ready[0]);
	} else {
		logf_("cannot start the helper: %s; running makedumpfile alone", strerror(errno));
	}

	/* -F: the stream passes through us, to put excluded pages back */
	struct flatfix *ff = c.flat && helping && need ? flatfix_new(need, nneed, c.snapshot_bytes) : NULL;
	int sp[2] = { -1, -1 };
	if (ff && pipe(sp)) {
		flatfix_free(ff);
		ff = NULL;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t mp = fork();
	if (mp == 0) {
		if (hp > 0)
			close(go[1]);
		if (ff) {
			dup2(sp[1], 1);
			close(sp[0]);
			close(sp[1]);
		}
		execv(real, c.mdf);
		fprintf(stderr, "makedumpfile-vtd: %s: %s\n", real, strerror(errno));
		_exit(127);
	}
	char kept[300] = "";
	if (ff) {
		close(sp[1]);
		pass_stream(ff, sp[0], mp > 0);
	}
	int status = 0, rc;
	while (mp > 0 && waitpid(mp, &status, 0) < 0 && errno == EINTR)
		;
	if (ff) {
		size_t added = 0, lost = 0;
		uint64_t first = 0;
		char why[200], err[300];
		struct dump *in = mp > 0 && WIFEXITED(status) && !WEXITSTATUS(status) ?
				  dump_open(c.input, err, sizeof(err)) : NULL;
		struct vtd_mem im = in ? dump_mem(in) : (struct vtd_mem){ 0 };
		if (flatfix_finish(ff, in != NULL, 1, in ? &im : NULL, &added, &first, &lost, why,
				   sizeof(why)))
			logf_("writing the stream: %s", strerror(errno));
		if (added)
			logf_("put %zu excluded pages back into the stream (the first at 0x%" PRIx64 ")",
			      added, first << 12);
		if (lost)
			logf_("%zu pages vtdscope needs may be missing from the stream: %s", lost,
			      why[0] ? why : "makedumpfile failed");
		snprintf(kept, sizeof(kept), " kept=%zu first=%" PRIx64 "%s%.200s", added, first,
			 lost ? " why=" : "", lost ? (why[0] ? why : "makedumpfile failed") : "");
		dump_close(in);
		flatfix_free(ff);
	}
	struct kstate ks0;
	remember(&c, &ks0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rc = mp < 0 ? 1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (hp > 0) {
		char st[400];
		snprintf(st, sizeof(st), "%c%.3f%s", rc == 0 && helping ? '0' : 'x',
			 (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, kept);
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
	free(need);
	free(c.mdf);
	return rc;
}
