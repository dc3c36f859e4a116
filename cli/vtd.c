/* vtd — VT-d state of a crashed kernel, offline, from its dump file.
 *
 *   vtd [-x VMLINUX] [--json] DUMP COMMAND [ARGS]
 *   vtd --root PA [--mode legacy|scalable] [--cap X --ecap X] DUMP COMMAND ...
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
#include "kinfo_dump.h"
#include "kinfo_dwarf.h"

#define VTD_VERSION "0.1"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtd [options] DUMP COMMAND [ARGS]\n"
		"Show the crashed kernel's Intel VT-d state from a kdump dump (ELF or\n"
		"kdump-compressed, or makedumpfile -F flattened).\n\n"
		"options:\n"
		"  -x, --vmlinux FILE  vmlinux with debuginfo (default: /usr/lib/debug/boot/vmlinux-RELEASE)\n"
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmlinux", required_argument, 0, 'x' }, { "json", no_argument, 0, 'j' },
		{ "root", required_argument, 0, 'r' }, { "mode", required_argument, 0, 'm' },
		{ "cap", required_argument, 0, 'c' }, { "ecap", required_argument, 0, 'e' },
		{ "irta", required_argument, 0, 'i' }, { "iqa", required_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	const char *vmlinux = NULL, *mode = "legacy";
	bool json = false, raw = false;
	/* --root defaults: a unit that supports every translation type, so the
	 * tables decide (SAGAW 3/4/5-level, MGAW 57, 2M/1G pages, FL 5-level) */
	uint64_t root = 0, irta = 0, iqa = 0;
	uint64_t cap = 6 | 0x1eull << 8 | 56ull << 16 | 3ull << 34 | 1ull << 56 | 1ull << 60;
	uint64_t ecap = 0xdf | 1ull << 26 | 19ull << 35 | 1ull << 40 | 1ull << 43 |
			1ull << 46 | 1ull << 47;
	int o, rc = 2;
	char err[512];

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* "+": options stop at the first word, so command options pass through */
	while ((o = getopt_long(argc, argv, "+x:h", opts, NULL)) != -1) {
		switch (o) {
		case 'x': vmlinux = optarg; break;
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
	const char *dumpf = argv[optind];
	if (strcmp(mode, "legacy") && strcmp(mode, "scalable")) {
		fprintf(stderr, "vtd: --mode must be legacy or scalable, not '%s'\n", mode);
		return 2;
	}
	struct dump *d = dump_open(dumpf, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "vtd: %s\n", err);
		return 2;
	}
	struct vtd_mem mem = dump_mem(d);
	struct vtd_cmdctx ctx = { .mem = &mem, .out = stdout, .err = stderr, .json = json, .prog = "vtd" };
	struct vtd_unit one;
	struct kinfo_dwarf *kd = NULL;
	struct vtd_kstate *ks = NULL;
	struct vtd_unit *units = NULL;
	struct kinfo_dump k;

	if (raw) {
		memset(&one, 0, sizeof(one));
		snprintf(one.name, sizeof(one.name), "root@%" PRIx64, root);
		one.cap = cap;
		one.ecap = ecap;
		one.rtaddr = root | (strcmp(mode, "scalable") ? 0 : (uint64_t)VTD_TTM_SCALABLE << 10);
		one.irta = irta;
		one.qi.iqa = iqa;
		one.qi.status_pa = VTD_NOADDR;
		one.qi.free_head = one.qi.free_tail = -1;
		ctx.units = &one;
		ctx.nunits = 1;
	} else {
		char rel[80], path[256];
		struct vtd_error e;
		if (!vmlinux) {
			if (dump_vmcoreinfo(d, "OSRELEASE", rel, sizeof(rel))) {
				fprintf(stderr, "vtd: %s has no VMCOREINFO OSRELEASE; name a vmlinux with -x, "
					"or walk a root table with --root\n", dumpf);
				goto out;
			}
			snprintf(path, sizeof(path), "/usr/lib/debug/boot/vmlinux-%s", rel);
			if (access(path, R_OK)) {
				fprintf(stderr, "vtd: no vmlinux for kernel %s (looked for %s); install its "
					"-dbg package or name one with -x\n", rel, path);
				goto out;
			}
			vmlinux = path;
		}
		kd = kinfo_dwarf_open(vmlinux, err, sizeof(err));
		if (!kd) {
			fprintf(stderr, "vtd: %s\n", err);
			goto out;
		}
		if (check_match(kd, d, vmlinux, dumpf))
			goto out;
		kinfo_dump_init(&k, kd, d);
		vtd_error_init(&e);
		if (vtd_kstate_load(&mem, &k.ki, &ks, &e)) {
			char b[600];
			vtd_error_str(&e, b, sizeof(b));
			fprintf(stderr, "vtd: %s: cannot locate the IOMMU state: %s\n", dumpf, b);
			goto out;
		}
		units = calloc(ks->nunits ? ks->nunits : 1, sizeof(*units));
		if (!units)
			goto out;
		for (size_t i = 0; i < ks->nunits; i++)
			units[i] = ks->units[i].unit;
		ctx.ks = ks;
		ctx.ki = &k.ki;
		ctx.units = units;
		ctx.nunits = ks->nunits;
	}
	rc = vtd_command(&ctx, argc - optind - 1, argv + optind + 1);
out:
	free(units);
	vtd_kstate_free(ks);
	kinfo_dwarf_close(kd);
	dump_close(d);
	if (fflush(stdout))
		rc = 2;
	return rc;
}
