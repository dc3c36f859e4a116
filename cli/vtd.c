/* vtd — VT-d state of a crashed kernel, offline, from its dump file.
 *
 *   vtd [-x VMLINUX] [--json] DUMP COMMAND [ARGS]
 *   vtd --root PA [--mode legacy|scalable] [--cap X --ecap X] DUMP COMMAND ...
 *   vtd [-x VMLINUX] [--json] restore [--undo] DUMP OUT
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/commands.h"
#include "dump.h"
#include "image.h"
#include "vtd/record.h"
#include "vtd/scan.h"
#include "kinfo_dump.h"
#include "kinfo_dwarf.h"
#include "kinfo_btf.h"

#define VTD_VERSION "0.1"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtd [options] DUMP COMMAND [ARGS]\n"
		"       vtd [-x VMLINUX] [--json] restore [--undo] DUMP OUT\n"
		"Show the crashed kernel's Intel VT-d state from a kdump dump (ELF or\n"
		"kdump-compressed, or makedumpfile -F flattened).\n\n"
		"options:\n"
		"  -x, --vmlinux FILE  vmlinux with debuginfo (default: /usr/lib/debug/boot/vmlinux-RELEASE\n"
		"                      if installed, else the dump's own BTF and kallsyms)\n"
		"  --no-vmlinux        use the dump's BTF and kallsyms even if a vmlinux is installed\n"
		"  --btf FILE          BTF (/sys/kernel/btf/vmlinux, or an ELF with .BTF) instead of the dump's\n"
		"  --kallsyms FILE     /proc/kallsyms of the dumped boot instead of the dump's\n"
		"  --json              JSON output (schema: docs/json-schema.md)\n"
		"  --root PA           no kernel structures: walk from this root table\n"
		"  --mode legacy|scalable   with --root (default legacy)\n"
		"  --cap X, --ecap X   with --root: the unit's CAP/ECAP (default: all features)\n"
		"  --irta X, --iqa X   with --root: IR table / invalidation queue registers\n"
		"  -h, --help, --version\n\n"
		"commands:\n%s", vtd_commands_usage);
}

static int parse_num(const char *opt, const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "vtd: %s: bad number '%s'\n", opt, s);
		return -1;
	}
	return 0;
}

/* The vmlinux must be the dumped kernel's: compare build-id, else release. */
static int check_match(struct kinfo_dwarf *kd, struct dump *d, const char *vmlinux, const char *dumpf)
{
	char v[128];
	if (dump_vmcoreinfo(d, "BUILD-ID", v, sizeof(v)) == 0 && *kinfo_dwarf_build_id(kd)) {
		if (strncmp(v, kinfo_dwarf_build_id(kd), strlen(v))) {
			fprintf(stderr, "vtd: %s does not match %s: build-id %s, dump says %s\n",
				vmlinux, dumpf, kinfo_dwarf_build_id(kd), v);
			return -1;
		}
		return 0;
	}
	if (dump_vmcoreinfo(d, "OSRELEASE", v, sizeof(v)) == 0 && *kinfo_dwarf_release(kd) &&
	    strcmp(v, kinfo_dwarf_release(kd))) {
		fprintf(stderr, "vtd: %s does not match %s: kernel %s, dump is of %s\n",
			vmlinux, dumpf, kinfo_dwarf_release(kd), v);
		return -1;
	}
	return 0;
}

/* Where kernel information comes from: -x wins; then a BTF/kallsyms pair
 * named on the command line; then the -dbg package's vmlinux (unless
 * --no-vmlinux); then the dump's own BTF and kallsyms. */
struct ksource {
	const char *vmlinux, *btf, *kallsyms;
	bool no_vmlinux;
};

/* A dump opened with its kernel state located. */
struct session {
	struct dump *d;
	struct vtd_mem mem;
	struct kinfo_dwarf *kd;
	struct kinfo_btf *kb;
	struct vtd_ksyms *ksyms;
	struct kinfo_dump k;
	struct vtd_kstate *ks;
	struct vtd_unit *units;
	char lost[900];          /* the kernel's IOMMU state is not in the dump: why */
};

static void session_close(struct session *s)
{
	free(s->units);
	vtd_kstate_free(s->ks);
	kinfo_dwarf_close(s->kd);
	kinfo_btf_close(s->kb);
	vtd_ksyms_free(s->ksyms);
	dump_close(s->d);
	memset(s, 0, sizeof(*s));
}

/* Kernel information for s->d from src.  0, or -1 after a message. */
static int session_kinfo(struct session *s, const char *dumpf, const struct ksource *src)
{
	char err[512], rel[80], path[256], berr[512];
	const char *vmlinux = src->vmlinux;
	if (!vmlinux && !src->btf && !src->kallsyms && !src->no_vmlinux &&
	    dump_vmcoreinfo(s->d, "OSRELEASE", rel, sizeof(rel)) == 0) {
		snprintf(path, sizeof(path), "/usr/lib/debug/boot/vmlinux-%s", rel);
		if (access(path, R_OK) == 0)
			vmlinux = path;
	}
	if (vmlinux) {
		s->kd = kinfo_dwarf_open(vmlinux, err, sizeof(err));
		if (!s->kd) {
			fprintf(stderr, "vtd: %s\n", err);
			return -1;
		}
		if (check_match(s->kd, s->d, vmlinux, dumpf))
			return -1;
		kinfo_dump_init(&s->k, s->kd, s->d);
		return 0;
	}
	if (kinfo_dump_load_btf(s->d, src->btf, src->kallsyms, &s->kb, &s->ksyms, berr, sizeof(berr))) {
		if (src->btf || src->kallsyms || src->no_vmlinux)
			fprintf(stderr, "vtd: %s: %s\n", dumpf, berr);
		else
			fprintf(stderr, "vtd: %s: no kernel information: no vmlinux (install the "
				"kernel's -dbg package or name one with -x), and from the dump: %s; "
				"walk a root table with --root (vtd DUMP scan finds them)\n", dumpf, berr);
		return -1;
	}
	kinfo_dump_init_btf(&s->k, s->kb, s->ksyms, s->d);
	return 0;
}

/* What wrote the dump, in the words of the lost-state diagnosis. */
static void dump_writer(const struct dump *d, char *out, size_t n)
{
	int v = dump_header_version(d);
	vtd_writer_words(out, n, v < 0 ? "an ELF dump" : !strcmp(dump_format(d), "flattened") ?
			 "flattened kdump-compressed" : "kdump-compressed", v);
}

/* The kernel's IOMMU state is (partly) not in the dump: say so.  -2 (the
 * caller falls back to the scan) when all of it is lost. */
static int lost_say(const char *dumpf, const char *why, bool all)
{
	if (all)
		fprintf(stderr, "vtd: %s: %s. Going on with what the dump holds: the VT-d tables the "
			"structural scan finds (unit names, domains, devices, IRTE shadows and the log "
			"are missing)\n", dumpf, why);
	else
		fprintf(stderr, "vtd: %s: warning: %s; the answers that need them are missing (check lists them)\n", dumpf, why);
	return -2;
}

/* Open dumpf and locate the crashed kernel's IOMMU state.  0, or -1 after
 * a message; -2 when there is no kernel information at all (the caller may
 * fall back to the structural scan; s->d stays open). */
static int session_open(struct session *s, const char *dumpf, const struct ksource *src)
{
	char err[512], wr[200];
	struct vtd_error e;
	memset(s, 0, sizeof(*s));
	s->d = dump_open(dumpf, err, sizeof(err));
	if (!s->d) {
		fprintf(stderr, "vtd: %s\n", err);
		return -1;
	}
	s->mem = dump_mem(s->d);
	if (session_kinfo(s, dumpf, src))
		return src->vmlinux || src->btf || src->kallsyms || src->no_vmlinux ? -1 : -2;
	vtd_error_init(&e);
	if (vtd_kstate_load(&s->mem, &s->k.ki, &s->ks, &e)) {
		char b[600];
		vtd_error_str(&e, b, sizeof(b));
		dump_writer(s->d, wr, sizeof(wr));
		if (vtd_state_loss(NULL, &e, dump_dump_level(s->d), wr, s->lost, sizeof(s->lost)))
			return lost_say(dumpf, s->lost, true);
		fprintf(stderr, "vtd: %s: cannot locate the IOMMU state: %s\n", dumpf, b);
		return -1;
	}
	dump_writer(s->d, wr, sizeof(wr));
	switch (vtd_state_loss(s->ks, NULL, dump_dump_level(s->d), wr, s->lost, sizeof(s->lost))) {
	case VTD_LOSS_ALL:
		return lost_say(dumpf, s->lost, true);
	case VTD_LOSS_SOME:
		lost_say(dumpf, s->lost, false);
		break;
	case VTD_LOSS_NONE:
		break;
	}
	s->units = calloc(s->ks->nunits ? s->ks->nunits : 1, sizeof(*s->units));
	if (!s->units) {
		fprintf(stderr, "vtd: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < s->ks->nunits; i++)
		s->units[i] = s->ks->units[i].unit;
	return 0;
}

/* The marks record a dump carries (design.md §5): the parsed analysis, or
 * NULL (none, or unreadable: a warning, and the commands recompute). */
static struct vtd_analysis *dump_record(const char *dumpf, char *from, size_t fromlen)
{
	char err[512], *text = NULL;
	size_t len = 0;
	int r = image_read_record(dumpf, &text, &len, from, fromlen, err, sizeof(err));
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "vtd: warning: %s; marks are computed from the dump\n", err);
		return NULL;
	}
	struct vtd_analysis *a = NULL;
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_record_parse(text, len, &a, NULL, NULL, &e)) {
		fprintf(stderr, "vtd: warning: %s: marks record: %s; marks are computed from the dump\n",
			dumpf, e.msg);
		a = NULL;
	}
	free(text);
	return a;
}

/* restore: the analysis' restorations as patches, its record attached. */
struct rw { const char *in, *out, *format; };

static int write_restored(void *arg, const struct vtd_analysis *a, char *where, size_t wl,
			  char *err, size_t el)
{
	struct rw *w = arg;
	struct image_patch *p = calloc(a->nrestores ? a->nrestores : 1, sizeof(*p));
	char *text = NULL;
	size_t len = 0;
	int rc = -1;
	if (!p) {
		snprintf(err, el, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < a->nrestores; i++)
		p[i] = (struct image_patch){ a->restores[i].pa, a->restores[i].len, a->restores[i].original };
	struct vtd_record_meta meta;
	memset(&meta, 0, sizeof(meta));
	snprintf(meta.generator, sizeof(meta.generator), "vtd restore %s", VTD_VERSION);
	snprintf(meta.dump_format, sizeof(meta.dump_format), "%s", w->format);
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_record_format(a, &meta, &text, &len, &e)) {
		snprintf(err, el, "marks record: %s", e.msg);
		goto out;
	}
	rc = image_write(w->in, w->out, p, a->nrestores, text, len, where, wl, err, el);
out:
	free(text);
	free(p);
	return rc;
}

/* vtd [-x VMLINUX] [--json] restore [--undo] DUMP OUT */
static int cmd_restore(int argc, char **argv, const struct ksource *src, bool json)
{
	const char *pos[2];
	int np = 0;
	bool undo = false;
	char err[600];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--undo")) {
			undo = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "vtd: restore: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (np < 2) {
			pos[np++] = argv[i];
		} else {
			np = 3;
		}
	}
	if (np != 2) {
		fprintf(stderr, "usage: vtd [-x VMLINUX] [--json] restore [--undo] DUMP OUT\n");
		return 2;
	}
	if (undo) {
		if (image_undo(pos[0], pos[1], err, sizeof(err))) {
			fprintf(stderr, "vtd: %s\n", err);
			return 2;
		}
		if (json)
			printf("{\"command\": \"restore\", \"undo\": true, \"output\": \"%s\"}\n", pos[1]);
		else
			printf("%s: the dump as captured, before vtd restore\n", pos[1]);
		return 0;
	}
	struct session ss;
	int rc = 2;
	char from[300];
	struct vtd_analysis *rec = NULL;
	if (session_open(&ss, pos[0], src))
		goto out;
	rec = dump_record(pos[0], from, sizeof(from));
	struct rw w = { pos[0], pos[1], dump_format(ss.d) };
	struct vtd_cmdctx ctx = { .mem = &ss.mem, .ks = ss.ks, .ki = &ss.k.ki, .units = ss.units,
				  .nunits = ss.ks->nunits, .out = stdout, .err = stderr, .json = json,
				  .prog = "vtd", .recorded = rec, .recorded_from = from,
				  .write_restored = write_restored, .write_arg = &w, .write_to = pos[1],
				  .max_pfn = dump_max_pfn(ss.d) };
	char *words[] = { "restore" };
	rc = vtd_command(&ctx, 1, words);
out:
	vtd_analysis_free(rec);
	session_close(&ss);
	return rc;
}

/* A unit from a root table alone (--root, or the scan's). */
/* The scan's progress on a terminal. */
static void progress(void *arg, uint64_t pfn, uint64_t max_pfn)
{
	if (pfn >= max_pfn)
		fprintf(stderr, "\r%*s\r", 60, "");
	else
		fprintf(stderr, "\rvtd: scanning %s: %3u%%", (const char *)arg,
			(unsigned)(pfn * 100 / (max_pfn ? max_pfn : 1)));
	fflush(stderr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmlinux", required_argument, 0, 'x' }, { "json", no_argument, 0, 'j' },
		{ "root", required_argument, 0, 'r' }, { "mode", required_argument, 0, 'm' },
		{ "cap", required_argument, 0, 'c' }, { "ecap", required_argument, 0, 'e' },
		{ "irta", required_argument, 0, 'i' }, { "iqa", required_argument, 0, 'q' },
		{ "btf", required_argument, 0, 'B' }, { "kallsyms", required_argument, 0, 'K' },
		{ "no-vmlinux", no_argument, 0, 'N' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	const char *mode = "legacy";
	struct ksource src = { 0 };
	bool json = false, raw = false;
	/* --root defaults: a unit that supports every translation type, so the
	 * tables decide (SAGAW 3/4/5-level, MGAW 57, 2M/1G pages, FL 5-level) */
	uint64_t root = 0, irta = 0, iqa = 0;
	uint64_t cap = VTD_RAW_CAP, ecap = VTD_RAW_ECAP;
	int o, rc = 2;
	char err[512];

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* "+": options stop at the first word, so command options pass through */
	while ((o = getopt_long(argc, argv, "+x:h", opts, NULL)) != -1) {
		switch (o) {
		case 'x': src.vmlinux = optarg; break;
		case 'B': src.btf = optarg; break;
		case 'K': src.kallsyms = optarg; break;
		case 'N': src.no_vmlinux = true; break;
		case 'j': json = true; break;
		case 'r': if (parse_num("--root", optarg, &root)) return 2; raw = true; break;
		case 'm': mode = optarg; break;
		case 'c': if (parse_num("--cap", optarg, &cap)) return 2; break;
		case 'e': if (parse_num("--ecap", optarg, &ecap)) return 2; break;
		case 'i': if (parse_num("--irta", optarg, &irta)) return 2; break;
		case 'q': if (parse_num("--iqa", optarg, &iqa)) return 2; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vtd %s\n", VTD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "restore"))
		return cmd_restore(argc - optind, argv + optind, &src, json);
	const char *dumpf = argv[optind];
	if (strcmp(mode, "legacy") && strcmp(mode, "scalable")) {
		fprintf(stderr, "vtd: --mode must be legacy or scalable, not '%s'\n", mode);
		return 2;
	}
	struct session ss;
	struct vtd_cmdctx ctx = { .out = stdout, .err = stderr, .json = json, .prog = "vtd" };
	struct vtd_unit *units = NULL;
	struct vtd_analysis *rec = NULL;
	char from[300];
	const char *cmd = argv[optind + 1];
	int r = 0;

	memset(&ss, 0, sizeof(ss));
	if (isatty(2)) {
		ctx.progress = progress;
		ctx.progress_arg = (void *)dumpf;
	}
	if (raw || !strcmp(cmd, "scan")) {
		/* the scan needs nothing but the dump's pages */
		ss.d = dump_open(dumpf, err, sizeof(err));
		if (!ss.d) {
			fprintf(stderr, "vtd: %s\n", err);
			return 2;
		}
		ss.mem = dump_mem(ss.d);
		if (raw) {
			if (!(units = calloc(1, sizeof(*units))))
				goto nomem;
			vtd_raw_unit(units, root, !strcmp(mode, "scalable"), cap, ecap, irta, iqa);
			ctx.units = units;
			ctx.nunits = 1;
		}
	} else if ((r = session_open(&ss, dumpf, &src)) == 0) {
		ctx.ks = ss.ks;
		ctx.ki = &ss.k.ki;
		ctx.units = ss.units;
		ctx.nunits = ss.ks->nunits;
		ctx.lost = ss.lost[0] ? ss.lost : NULL;
		rec = dump_record(dumpf, from, sizeof(from));
		ctx.recorded = rec;
		ctx.recorded_from = from;
	} else if (r == -2 && ss.d) {
		/* no kernel information: the root tables the scan finds, as --root would */
		ss.mem = dump_mem(ss.d);
		ctx.mem = &ss.mem;
		ctx.max_pfn = dump_max_pfn(ss.d);
		if (vtd_scan_units(&ctx, dumpf, cap, ecap, &units, &ctx.nunits))
			goto out;
		ctx.units = units;
		ctx.lost = ss.lost[0] ? ss.lost : NULL;
		rec = dump_record(dumpf, from, sizeof(from));
		ctx.recorded = rec;
		ctx.recorded_from = from;
	} else {
		goto out;
	}
	ctx.max_pfn = dump_max_pfn(ss.d);
	ctx.mem = &ss.mem;
	rc = vtd_command(&ctx, argc - optind - 1, argv + optind + 1);
out:
	vtd_analysis_free(rec);
	session_close(&ss);
	free(units);
	if (fflush(stdout))
		rc = 2;
	return rc;
nomem:
	fprintf(stderr, "vtd: out of memory\n");
	rc = 2;
	goto out;
}
