/* crash> vtd — the vtdscope commands inside the crash utility.
 *
 * Memory comes from crash's readmem() (physical addresses, RETURN_ON_ERROR |
 * QUIET, so an excluded page is a named diagnostic, not a crash error) and
 * kernel information from crash's own symbol and type queries; the commands
 * are the same code the offline vtd CLI runs (commands/commands.c), writing
 * to crash's fp so pipes and redirection work. */
#include "commands/commands.h"
#include "vtd/btf.h"
#include "cli/image.h"
#include "vtd/record.h"
#include "defs.h"
#include <unistd.h>

/* The dump's extent in page frames (bounds the scan): the kernel's max_pfn,
 * else what crash knows of the memory size. */
static uint64_t dump_max_pfn(void)
{
	ulong v = 0;
	if (symbol_exists("max_pfn") &&
	    readmem(symbol_value("max_pfn"), KVADDR, &v, sizeof(v), "max_pfn", RETURN_ON_ERROR | QUIET) && v)
		return v;
	return machdep->memory_size() / PAGESIZE();
}

static int c_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	(void)ctx;
	if (readmem(pa, PHYSADDR, buf, (long)len, "vtd", RETURN_ON_ERROR | QUIET))
		return 0;
	/* the words of our own readers, so crash> vtd says what the CLI says */
	if ((pa >> 12) < dump_max_pfn())
		snprintf(why, whylen, "excluded page (not in the dump) at 0x%llx",
			 (unsigned long long)(pa & ~0xfffull));
	else
		snprintf(why, whylen, "beyond the end of the dump's memory at 0x%llx",
			 (unsigned long long)pa);
	return -1;
}

static int c_symbol(void *ctx, const char *name, uint64_t *addr)
{
	(void)ctx;
	if (!symbol_exists((char *)name))
		return -1;
	*addr = symbol_value((char *)name);      /* crash has applied KASLR */
	return 0;
}

/* "struct intel_iommu" -> "intel_iommu" (crash takes bare names) */
static const char *bare(const char *type)
{
	if (!strncmp(type, "struct ", 7))
		return type + 7;
	if (!strncmp(type, "union ", 6))
		return type + 6;
	return type;
}


/* The last part of a dotted member path. */
static char *part_last(const char *member)
{
	const char *d = strrchr(member, '.');
	return (char *)(d ? d + 1 : member);
}

/* A dotted member path ("dev.iommu") is resolved one member at a time
 * through each member's type name. */
static int member_lookup(const char *type, const char *member, struct vtd_member *out);

/* gdb's answers are slow (a type or bitfield query is a gdb call each time)
 * and the layout cannot change within a session: remember them, type sizes
 * ("size TYPE") and members ("TYPE.MEMBER") alike. */
#define MCACHE 2048
static struct { char key[192]; int rc; struct vtd_member m; } mcache[MCACHE];

/* The kernel's own BTF (__start_BTF..__stop_BTF, read once per session)
 * answers layout questions in microseconds where gdb takes ~70 ms each
 * (a first vtd command asked ~70 of them: 5 s); gdb remains the fallback
 * for a kernel without BTF. */
static struct vtd_btf *btf;
static int btf_state;                    /* 0 not tried, 1 loaded, -1 none */

static struct vtd_btf *session_btf(void)
{
	if (btf_state)
		return btf;
	btf_state = -1;
	if (getenv("VTD_CRASH_NO_BTF") || !symbol_exists("__start_BTF") || !symbol_exists("__stop_BTF"))
		return NULL;
	ulong a = symbol_value("__start_BTF"), b = symbol_value("__stop_BTF");
	if (b <= a || b - a > (256ul << 20))
		return NULL;
	char *buf = malloc(b - a);
	struct vtd_error e;
	vtd_error_init(&e);
	if (buf && readmem(a, KVADDR, buf, (long)(b - a), "BTF", RETURN_ON_ERROR | QUIET) &&
	    (btf = vtd_btf_new(buf, b - a, &e)))
		btf_state = 1;
	free(buf);
	return btf;
}

static int type_size_lookup(const char *type, struct vtd_member *out)
{
	if (session_btf()) {
		memset(out, 0, sizeof(*out));
		return vtd_btf_type_size(btf, type, &out->size);
	}
	long s = STRUCT_SIZE((char *)bare(type));
	memset(out, 0, sizeof(*out));
	if (s <= 0)
		return -1;
	out->size = (uint64_t)s;
	return 0;
}

static int cached(const char *type, const char *member, struct vtd_member *out)
{
	char key[192];
	unsigned h = 5381;
	snprintf(key, sizeof(key), member ? "%s.%s" : "size %s", type, member ? member : "");
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (unsigned i = 0; i < MCACHE; i++) {
		unsigned k = (h + i) % MCACHE;
		if (!mcache[k].key[0]) {
			mcache[k].rc = member ? member_lookup(type, member, &mcache[k].m)
					      : type_size_lookup(type, &mcache[k].m);
			snprintf(mcache[k].key, sizeof(mcache[k].key), "%s", key);
		}
		if (!strcmp(mcache[k].key, key)) {
			*out = mcache[k].m;
			return mcache[k].rc;
		}
	}
	return member ? member_lookup(type, member, out) : type_size_lookup(type, out);
}

static int c_member(void *ctx, const char *type, const char *member, struct vtd_member *out)
{
	(void)ctx;
	return cached(type, member, out);
}

static int c_type_size(void *ctx, const char *type, uint64_t *size)
{
	struct vtd_member m;
	(void)ctx;
	if (cached(type, NULL, &m))
		return -1;
	*size = m.size;
	return 0;
}

static int member_lookup(const char *type, const char *member, struct vtd_member *out)
{
	if (session_btf())
		return vtd_btf_member(btf, type, member, out);
	char cur[128], path[256], *save = NULL, *part, *next;
	uint64_t total = 0;
	long off = -1, size = -1;
	memset(out, 0, sizeof(*out));
	snprintf(cur, sizeof(cur), "%s", bare(type));
	snprintf(path, sizeof(path), "%s", member);
	for (part = strtok_r(path, ".", &save); part; part = next) {
		next = strtok_r(NULL, ".", &save);
		off = MEMBER_OFFSET(cur, part);
		if (off < 0)
			return -1;
		total += (uint64_t)off;
		size = MEMBER_SIZE(cur, part);
		if (next) {
			char *tn = MEMBER_TYPE_NAME(cur, part);
			if (!tn || (long)tn == -1)
				return -1;
			snprintf(cur, sizeof(cur), "%s", bare(tn));
		}
	}
	memset(out, 0, sizeof(*out));
	out->offset = total;
	out->size = size > 0 ? (uint64_t)size : 0;
	/* a bitfield: MEMBER_OFFSET names its byte, gdb knows its bits */
	struct struct_member_data smd;
	memset(&smd, 0, sizeof(smd));
	smd.structure = cur;
	smd.member = part_last(member);
	if (fill_struct_member_data(&smd) && smd.bitsize > 0 &&
	    smd.bitsize != 8 * smd.length) {
		/* crash gives the bit position from the member's byte offset */
		out->offset = total - (uint64_t)off + (uint64_t)smd.offset;
		out->bit_offset = (unsigned)smd.bitpos;
		out->bit_size = (unsigned)smd.bitsize;
		out->size = (out->bit_offset + out->bit_size + 7) / 8;
		if (out->size < (uint64_t)smd.length)
			out->size = (uint64_t)smd.length;
	}
	return 0;
}

static int c_vmcoreinfo(void *ctx, const char *key, char *val, size_t len)
{
	char *v;
	(void)ctx;
	if (!pc->read_vmcoreinfo || !(v = pc->read_vmcoreinfo(key)))
		return -1;
	snprintf(val, len, "%s", v);
	free(v);
	return 0;
}

/* What wrote the dump (the CLI's words): the kdump header's version, read
 * from the file (plain, or the first record of a flattened stream). */
static void dump_writer(char *out, size_t n)
{
	unsigned char h[12];
	FILE *f = pc->dumpfile ? fopen(pc->dumpfile, "rb") : NULL;
	const char *fmt = NULL;
	int ver = -1;
	if (f && fread(h, 1, 12, f) == 12) {
		if (!memcmp(h, "KDUMP   ", 8))
			fmt = "kdump-compressed";
		else if (!memcmp(h, "makedumpfile", 12) && fseek(f, 4096 + 16, SEEK_SET) == 0 &&
			 fread(h, 1, 12, f) == 12 && !memcmp(h, "KDUMP   ", 8))
			fmt = "flattened kdump-compressed";
		else if (!memcmp(h, "\177ELF", 4))
			fmt = "an ELF dump";
		if (fmt && fmt[0] != 'a')
			ver = h[8] | h[9] << 8 | h[10] << 16 | h[11] << 24;
	}
	if (f)
		fclose(f);
	if (fmt)
		vtd_writer_words(out, n, fmt, ver);
	else
		out[0] = 0;
}

static void run_vtd(FILE *fp)
{
	static const struct vtd_mem mem = { c_read, NULL };
	static const struct vtd_kinfo ki = { c_symbol, c_type_size, c_member, c_vmcoreinfo, NULL };
	struct vtd_kstate *ks = NULL;
	struct vtd_unit units[64];
	struct vtd_error e;
	char *words[32];
	int n = 0, json = 0;
	for (int i = 1; i < argcnt && n < 32; i++) {
		if (!strcmp(args[i], "--json"))
			json = 1;
		else
			words[n++] = args[i];
	}
	if (!n) {
		cmd_usage(pc->curcmd, SYNOPSIS);
		return;
	}
	struct vtd_cmdctx c = { .mem = &mem, .ki = &ki, .units = units, .out = fp, .err = fp,
				.json = json, .prog = "vtd", .max_pfn = dump_max_pfn() };
	char lost[900], wr[200], where[300];
	struct vtd_unit *scanned = NULL;
	enum vtd_loss loss;
	dump_writer(wr, sizeof(wr));
	snprintf(where, sizeof(where), "%s", pc->dumpfile ? pc->dumpfile : "the dump");
	vtd_error_init(&e);
	if (vtd_kstate_load(&mem, &ki, &ks, &e)) {
		char b[600];
		vtd_error_str(&e, b, sizeof(b));
		loss = vtd_state_loss(NULL, &e, get_dump_level(), wr, lost, sizeof(lost));
		if (!loss) {
			fprintf(fp, "vtd: cannot locate the IOMMU state: %s\n", b);
			return;
		}
	} else {
		loss = vtd_state_loss(ks, NULL, get_dump_level(), wr, lost, sizeof(lost));
	}
	if (loss == VTD_LOSS_ALL) {
		/* the tables are page allocations and usually survive: walk the
		 * root tables the structural scan finds, as the CLI does */
		fprintf(fp, "vtd: %s: %s. Going on with what the dump holds: the VT-d tables the "
			"structural scan finds (unit names, domains, devices, IRTE shadows and the log "
			"are missing)\n", where, lost);
		vtd_kstate_free(ks);
		ks = NULL;
		c.ki = NULL;
		if (vtd_scan_units(&c, where, VTD_RAW_CAP,
				   VTD_RAW_ECAP, &scanned, &c.nunits))
			return;
		c.units = scanned;
		c.lost = lost;
		vtd_command(&c, n, words);
		free(scanned);
		return;
	}
	if (loss == VTD_LOSS_SOME) {
		fprintf(fp, "vtd: %s: warning: %s; the answers that need them are missing (check lists them)\n", where, lost);
		c.lost = lost;
	}
	size_t nu = ks->nunits < 64 ? ks->nunits : 64;
	for (size_t i = 0; i < nu; i++)
		units[i] = ks->units[i].unit;
	c.ks = ks;
	c.nunits = nu;
	/* the marks record the dump carries (a note, or DUMP.vtd) */
	struct vtd_analysis *rec = NULL;
	char *text = NULL, from[600], err[600];
	size_t tl;
	if (pc->dumpfile && image_read_record(pc->dumpfile, &text, &tl, from, sizeof(from), err,
					      sizeof(err)) > 0) {
		vtd_error_init(&e);
		if (vtd_record_parse(text, tl, &rec, NULL, NULL, &e))
			fprintf(fp, "vtd: warning: %s: marks record: %s; marks are computed from the dump\n",
				pc->dumpfile, e.msg);
	}
	free(text);
	c.recorded = rec;
	c.recorded_from = from;
	vtd_command(&c, n, words);
	vtd_analysis_free(rec);
	vtd_kstate_free(ks);
}

/* crash's fp may be unbuffered: a 1 Mi-line map would be a million write
 * calls.  The command writes (output and messages alike, in order) to a
 * buffered stream on the same file, flushed when it is done. */
static void cmd_vtd(void)
{
	FILE *bf = NULL;
	fflush(fp);
	int fd = fileno(fp), d = fd >= 0 ? dup(fd) : -1;
	if (d >= 0 && !(bf = fdopen(d, "w")))
		close(d);
	if (bf)
		setvbuf(bf, NULL, _IOFBF, 1 << 16);
	run_vtd(bf ? bf : fp);
	if (bf)
		fclose(bf);
}

static char *help_vtd[] = {
	"vtd",
	"Intel VT-d (IOMMU) state of the crashed kernel",
	"[--json] command [args]",
	"  Reconstructs the crashed kernel's DMAR units, root/context tables (legacy",
	"  and scalable mode), PASID tables, first- and second-level page tables,",
	"  interrupt-remapping entries and invalidation queue from its own",
	"  structures, never from the registers the kdump kernel repointed.",
	"  BDF is [SEGMENT:]BUS:DEV.FN in hex; --unit NAME picks a unit.",
	" ",
	"         units  DMAR units: registers, mode, table addresses",
	"   root [UNIT]  present root entries",
	" context [BDF]  present context entries (scalable: PASID entries)",
	" pasid BDF [N]  PASID-table entries of a device",
	"       map BDF  IOVA -> physical mappings [--pasid N]",
	" translate BDF IOVA  walk one request [--pasid N] [--write]",
	" who PADDR [LEN]  every device/PASID/IOVA that reaches a physical range",
	"  domains, devices  the kernel's DMA domains and PCI devices",
	"  irte, qi      interrupt-remapping entries, invalidation queue",
	"  log, faults   the kernel log; its DMAR fault lines translated again",
	"         check  walk everything; report every problem and takeover finding",
	" marks [--reason R] [--pfn N]  pages to distrust (TABLE HW_WRITABLE",
	"                DMA_WRITABLE CHANGED TAKEOVER_WRITTEN RESTORED), with evidence;",
	"                a dump written by vtd restore shows its own record",
	"        --json  JSON output (docs/json-schema.md)",
	"\nEXAMPLE",
	"  Which devices could write physical page 0x2144d000?",
	" ",
	"    %s> vtd who 0x2144d000 0x1000",
	"    UNIT   BDF           PASID  IOVA        PA          SIZE    PERM  XLATE",
	"    dmar0  0000:00:03.0  -      0xffe96000  0x2144d000  0x1000  rw    second-level",
	" ",
	"  Walk one DMA write of the NIC at 00:04.0:",
	" ",
	"    %s> vtd translate 00:04.0 0xffe92000 --write",
	NULL
};

static struct command_table_entry command_table[] = {
	{ "vtd", cmd_vtd, help_vtd, MINIMAL },
	{ NULL },
};

void __attribute__((constructor)) vtd_init(void)
{
	register_extension(command_table);
}

void __attribute__((destructor)) vtd_fini(void) { }
