/* Kernel information without a vmlinux: the kallsyms decoder and the BTF
 * source against the DWARF one.
 *
 * On every generated scenario dump the locator runs with the mock vmlinux's
 * DWARF through a recording proxy; every symbol, size and member it asked
 * for must come out the same from the dump's own kallsyms and BTF, and every
 * command's JSON must be identical either way.  The decoder's error paths
 * run on hand-made tables. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/dump.h"
#include "cli/kinfo_btf.h"
#include "cli/kinfo_dump.h"
#include "cli/kinfo_dwarf.h"
#include "commands/commands.h"
#include "mock_kernel.h"
#include "vtd/ksyms.h"

/* ---- what the locator asks: a recording proxy ---- */

struct query { char kind; char type[64]; char member[64]; };
struct rec {
	const struct vtd_kinfo *inner;
	struct query q[512];
	size_t n;
	struct vtd_kinfo ki;
};

static void note(struct rec *r, char kind, const char *type, const char *member)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->q[i].kind == kind && !strcmp(r->q[i].type, type) &&
		    !strcmp(r->q[i].member, member ? member : ""))
			return;
	if (r->n < sizeof(r->q) / sizeof(r->q[0])) {
		struct query *q = &r->q[r->n++];
		q->kind = kind;
		snprintf(q->type, sizeof(q->type), "%s", type);
		snprintf(q->member, sizeof(q->member), "%s", member ? member : "");
	}
}

static int r_symbol(void *ctx, const char *name, uint64_t *addr)
{
	struct rec *r = ctx;
	note(r, 's', name, NULL);
	return r->inner->symbol(r->inner->ctx, name, addr);
}

static int r_size(void *ctx, const char *type, uint64_t *size)
{
	struct rec *r = ctx;
	note(r, 't', type, NULL);
	return r->inner->type_size(r->inner->ctx, type, size);
}

static int r_member(void *ctx, const char *type, const char *member, struct vtd_member *m)
{
	struct rec *r = ctx;
	note(r, 'm', type, member);
	return r->inner->member(r->inner->ctx, type, member, m);
}

static int r_vmci(void *ctx, const char *key, char *val, size_t len)
{
	struct rec *r = ctx;
	return r->inner->vmcoreinfo(r->inner->ctx, key, val, len);
}

static char *run(const struct vtd_mem *mem, struct vtd_kstate *ks, const struct vtd_kinfo *ki,
		 const char *line)
{
	char buf[200], *argv[8], *save = NULL, *out = NULL;
	int argc = 0;
	size_t len;
	struct vtd_unit units[16];
	for (size_t i = 0; i < ks->nunits && i < 16; i++)
		units[i] = ks->units[i].unit;
	FILE *o = open_memstream(&out, &len), *e = fopen("/dev/null", "w");
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 8; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	struct vtd_cmdctx c = { .mem = mem, .ks = ks, .ki = ki, .units = units,
				.nunits = ks->nunits < 16 ? ks->nunits : 16, .out = o, .err = e,
				.json = true, .prog = "vtd" };
	vtd_command(&c, argc, argv);
	fclose(o);
	fclose(e);
	return out;
}

static void one_dump(const char *path)
{
	char err[512];
	struct vtd_error e;
	struct dump *d = dump_open(path, err, sizeof(err));
	struct kinfo_dwarf *kd = kinfo_dwarf_open(mock_vmlinux_path(), err, sizeof(err));
	struct kinfo_btf *kb = NULL;
	struct vtd_ksyms *ksy = NULL;
	struct vtd_kstate *ks1 = NULL, *ks2 = NULL;
	struct kinfo_dump kw, kbt;
	static struct rec r;
	EXPECT_MSG(d && kd, "%s: %s", path, err);
	if (!d || !kd)
		goto out;
	kinfo_dump_init(&kw, kd, d);
	memset(&r, 0, sizeof(r));
	r.inner = &kw.ki;
	r.ki = (struct vtd_kinfo){ r_symbol, r_size, r_member, r_vmci, &r };
	struct vtd_mem mem = dump_mem(d);
	vtd_error_init(&e);
	if (vtd_kstate_load(&mem, &r.ki, &ks1, &e)) {
		/* hostile scenarios may stop the locator; compare what it asked */
		ks1 = NULL;
	}
	int lr = kinfo_dump_load_btf(d, NULL, NULL, &kb, &ksy, err, sizeof(err));
	EXPECT_MSG(lr == 0, "%s: %s", path, err);
	if (lr)
		goto out;
	kinfo_dump_init_btf(&kbt, kb, ksy, d);
	EXPECT_MSG(r.n > 30, "%s: the locator asked only %zu questions", path, r.n);
	for (size_t i = 0; i < r.n; i++) {
		const struct query *q = &r.q[i];
		if (q->kind == 's') {
			uint64_t a = 0, b = 0;
			int ra = kw.ki.symbol(kw.ki.ctx, q->type, &a), rb = kbt.ki.symbol(kbt.ki.ctx, q->type, &b);
			EXPECT_MSG(ra == rb && a == b, "%s: symbol %s: DWARF %d 0x%" PRIx64 ", kallsyms %d 0x%" PRIx64,
				   path, q->type, ra, a, rb, b);
		} else if (q->kind == 't') {
			uint64_t a = 0, b = 0;
			int ra = kw.ki.type_size(kw.ki.ctx, q->type, &a), rb = kbt.ki.type_size(kbt.ki.ctx, q->type, &b);
			EXPECT_MSG(ra == rb && a == b, "%s: sizeof(%s): DWARF %d %" PRIu64 ", BTF %d %" PRIu64,
				   path, q->type, ra, a, rb, b);
		} else {
			struct vtd_member a, b;
			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			int ra = kw.ki.member(kw.ki.ctx, q->type, q->member, &a);
			int rb = kbt.ki.member(kbt.ki.ctx, q->type, q->member, &b);
			EXPECT_MSG(ra == rb && !memcmp(&a, &b, sizeof(a)),
				   "%s: %s.%s: DWARF %d off %" PRIu64 " size %" PRIu64 " bits %u:%u, "
				   "BTF %d off %" PRIu64 " size %" PRIu64 " bits %u:%u", path, q->type, q->member,
				   ra, a.offset, a.size, a.bit_offset, a.bit_size,
				   rb, b.offset, b.size, b.bit_offset, b.bit_size);
		}
	}
	vtd_error_init(&e);
	int l2 = vtd_kstate_load(&mem, &kbt.ki, &ks2, &e);
	EXPECT_MSG((l2 == 0) == (ks1 != NULL), "%s: the locator %s with BTF: %s", path,
		   l2 ? "fails" : "works", e.msg);
	if (ks1 && ks2) {
		static const char *const cmds[] = { "units", "context", "domains", "devices", "check",
						    "irte", "qi", "log", "faults", "marks", "who 0x1000000" };
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			char *a = run(&mem, ks1, &kw.ki, cmds[i]), *b = run(&mem, ks2, &kbt.ki, cmds[i]);
			EXPECT_MSG(a && b && !strcmp(a, b), "%s: vtd %s differs with BTF/kallsyms:\n%.300s\n--- vs ---\n%.300s",
				   path, cmds[i], a ? a : "", b ? b : "");
			free(a);
			free(b);
		}
	}
out:
	vtd_kstate_free(ks1);
	vtd_kstate_free(ks2);
	kinfo_btf_close(kb);
	vtd_ksyms_free(ksy);
	kinfo_dwarf_close(kd);
	dump_close(d);
}

TEST(btf_kallsyms_equal_dwarf_on_every_scenario)
{
	DIR *dir = opendir(check_gen_dir());
	struct dirent *de;
	unsigned n = 0;
	EXPECT_MSG(dir, "no %s", check_gen_dir());
	while (dir && (de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		if (l < 7 || strcmp(de->d_name + l - 6, ".kdump") || strstr(de->d_name, ".nokinfo.") ||
		    strstr(de->d_name, ".lossy.") ||
		    strstr(de->d_name, ".takeover."))
			continue;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", check_gen_dir(), de->d_name);
		check_begin("kinfo_btf_vs_dwarf/%s", de->d_name);
		one_dump(path);
		check_end();
		n++;
	}
	if (dir)
		closedir(dir);
	EXPECT_MSG(n >= 10, "only %u scenario dumps", n);
}

TEST(no_kallsyms_in_vmcoreinfo_is_a_clear_error)
{
	char path[600], err[512];
	struct kinfo_btf *kb;
	struct vtd_ksyms *ks;
	snprintf(path, sizeof(path), "%s/legacy-4level.nokinfo.kdump", check_gen_dir());
	struct dump *d = dump_open(path, err, sizeof(err));
	EXPECT_MSG(d, "%s", err);
	if (!d)
		return;
	EXPECT(kinfo_dump_load_btf(d, NULL, NULL, &kb, &ks, err, sizeof(err)) != 0);
	EXPECT_MSG(strstr(err, "VMCOREINFO has no kallsyms"), "%s", err);
	EXPECT(!kb && !ks);
	dump_close(d);
}

/* ---- the decoder on hand-made tables ---- */

/* Kernel "virtual" memory: one buffer at VA 0xffffffff82000000. */
#define TB 0xffffffff82000000ull
struct tmem { uint8_t b[16384]; };

static int t_read(void *ctx, uint64_t va, void *buf, size_t len, char *why, size_t wl)
{
	struct tmem *m = ctx;
	if (va < TB || va - TB + len > sizeof(m->b)) {
		snprintf(why, wl, "not mapped");
		return -1;
	}
	memcpy(buf, m->b + (va - TB), len);
	return 0;
}

struct tvmci { const char *text; };
static int t_vmci(void *ctx, const char *key, char *val, size_t len)
{
	const char *t = ((struct tvmci *)ctx)->text, *p = t;
	size_t kl = strlen(key);
	while ((p = strstr(p, key))) {
		if ((p == t || p[-1] == '\n') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "\n");
			snprintf(val, len, "%.*s", (int)n, p + kl + 1);
			return 0;
		}
		p += kl;
	}
	return -1;
}

/* Tables at fixed offsets: num 0, rbase 8, index 16, tokens 0x300, names
 * 0x1000, offsets 0x2000.  Token 1 is "abc"; others are their own byte. */
static void build(struct tmem *m, uint32_t nsyms, const char *const *names, const int32_t *off,
		  uint64_t rbase)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->b, &nsyms, 4);
	memcpy(m->b + 8, &rbase, 8);
	size_t tl = 0;
	for (unsigned b = 0; b < 256; b++) {
		uint16_t ix = (uint16_t)tl;
		memcpy(m->b + 16 + 2 * b, &ix, 2);
		const char *tok = b == 1 ? "abc" : (b >= 0x20 && b < 0x7f) ? (char[]){ (char)b, 0 } : "?";
		memcpy(m->b + 0x300 + tl, tok, strlen(tok) + 1);
		tl += strlen(tok) + 1;
	}
	size_t p = 0x1000;
	for (uint32_t i = 0; i < nsyms; i++) {
		size_t l = 0;
		uint8_t enc[64];
		for (const char *s = names[i]; *s; l++)
			if (!strncmp(s, "abc", 3))
				enc[l] = 1, s += 3;
			else
				enc[l] = (uint8_t)*s++;
		m->b[p++] = (uint8_t)l;
		memcpy(m->b + p, enc, l);
		p += l;
		memcpy(m->b + 0x2000 + 4 * i, &off[i], 4);
	}
}

static const char vmci_ok[] =
	"SYMBOL(kallsyms_num_syms)=ffffffff82000000\nSYMBOL(kallsyms_relative_base)=ffffffff82000008\n"
	"SYMBOL(kallsyms_token_index)=ffffffff82000010\nSYMBOL(kallsyms_token_table)=ffffffff82000300\n"
	"SYMBOL(kallsyms_names)=ffffffff82001000\nSYMBOL(kallsyms_offsets)=ffffffff82002000\n";

static int decode(struct tmem *m, const char *vmci, struct vtd_ksyms **ks, struct vtd_error *e)
{
	static struct tvmci tv;
	tv.text = vmci;
	struct vtd_kinfo ki = { NULL, NULL, NULL, t_vmci, &tv };
	struct vtd_mem kv = { t_read, m };
	vtd_error_init(e);
	return vtd_kallsyms_read(&kv, &ki, ks, e);
}

TEST(kallsyms_decodes_tokens_offsets_and_prefers_globals)
{
	static struct tmem m;
	static const char *const names[] = { "Tabc_start", "dlocal_x", "Dlocal_x", "Vpercpu_thing", "tabcabc" };
	const int32_t off[] = { -1, -0x101, -0x201, 0x1b000, -0x401 };
	uint64_t rb = 0xffffffff81000000ull, a;
	struct vtd_ksyms *ks;
	struct vtd_error e;
	build(&m, 5, names, off, rb);
	EXPECT_MSG(decode(&m, vmci_ok, &ks, &e) == 0, "%s", e.msg);
	EXPECT_EQ(vtd_ksyms_count(ks), 4);
	EXPECT(vtd_ksyms_lookup(ks, "abc_start", &a) == 0);
	EXPECT_EQ(a, rb);                                  /* rb - 1 - (-1) */
	EXPECT(vtd_ksyms_lookup(ks, "local_x", &a) == 0);
	EXPECT_EQ(a, rb + 0x200);                          /* the global D, not the local d */
	EXPECT(vtd_ksyms_lookup(ks, "percpu_thing", &a) == 0);
	EXPECT_EQ(a, 0x1b000);                             /* absolute per-CPU */
	EXPECT(vtd_ksyms_lookup(ks, "abcabc", &a) == 0);
	EXPECT_EQ(a, rb + 0x400);
	EXPECT(vtd_ksyms_lookup(ks, "missing", &a) == -1);
	vtd_ksyms_free(ks);

	/* no negative offset: plain offsets from the base */
	const int32_t off2[] = { 0x10, 0x20, 0x30, 0x40, 0x50 };
	build(&m, 5, names, off2, rb);
	EXPECT_MSG(decode(&m, vmci_ok, &ks, &e) == 0, "%s", e.msg);
	EXPECT(vtd_ksyms_lookup(ks, "percpu_thing", &a) == 0);
	EXPECT_EQ(a, rb + 0x40);
	vtd_ksyms_free(ks);
}

TEST(kallsyms_bad_tables_are_named)
{
	static struct tmem m;
	static const char *const names[] = { "Tfoo" };
	const int32_t off[] = { -1 };
	struct vtd_ksyms *ks = NULL;
	struct vtd_error e;

	build(&m, 1, names, off, 0xffffffff81000000ull);
	EXPECT(decode(&m, "SYMBOL(kallsyms_names)=ffffffff82001000\n", &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "VMCOREINFO has no kallsyms"), "%s", e.msg);

	uint32_t huge = 50000000;
	memcpy(m.b, &huge, 4);
	EXPECT(decode(&m, vmci_ok, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "kallsyms_num_syms") && strstr(e.msg, "50000000"), "%s", e.msg);

	build(&m, 1, names, off, 0xffffffff81000000ull);
	m.b[0x300 + 'f' * 2] = 0x07;                       /* a control character in a token */
	EXPECT(decode(&m, vmci_ok, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "kallsyms_token_table"), "%s", e.msg);

	build(&m, 1, names, off, 0xffffffff81000000ull);
	m.b[0x1000] = 0;                                   /* a zero-length name */
	EXPECT(decode(&m, vmci_ok, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "length 0"), "%s", e.msg);

	/* the tables run off mapped memory */
	build(&m, 1, names, off, 0xffffffff81000000ull);
	uint32_t many = 4000;
	memcpy(m.b, &many, 4);
	EXPECT(decode(&m, vmci_ok, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "kallsyms_offsets") || strstr(e.msg, "kallsyms_names"), "%s", e.msg);
	EXPECT(ks == NULL);
}

TEST(proc_kallsyms_text)
{
	static const char text[] =
		"ffffffff81000000 T _text\n"
		"ffffffff81234000 t helper\n"
		"ffffffff81235000 T helper\n"
		"ffffffffc0001000 t mod_fn\t[some_module]\n"
		"0000000000001000 A fixed_percpu_data\n";
	struct vtd_ksyms *ks;
	struct vtd_error e;
	uint64_t a;
	vtd_error_init(&e);
	EXPECT(vtd_ksyms_parse(text, sizeof(text) - 1, &ks, &e) == 0);
	EXPECT(vtd_ksyms_lookup(ks, "helper", &a) == 0);
	EXPECT_EQ(a, 0xffffffff81235000ull);
	EXPECT(vtd_ksyms_lookup(ks, "mod_fn", &a) == -1);
	EXPECT(vtd_ksyms_lookup(ks, "fixed_percpu_data", &a) == 0);
	EXPECT_EQ(a, 0x1000);
	vtd_ksyms_free(ks);

	static const char zeros[] = "0000000000000000 T _text\n0000000000000000 T foo\n";
	EXPECT(vtd_ksyms_parse(zeros, sizeof(zeros) - 1, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "kptr_restrict"), "%s", e.msg);
	static const char junk[] = "this is not kallsyms\n";
	EXPECT(vtd_ksyms_parse(junk, sizeof(junk) - 1, &ks, &e) != 0);
	EXPECT_MSG(strstr(e.msg, "line 1"), "%s", e.msg);
}

TEST(btf_rejects_garbage)
{
	char err[300];
	static const char junk[] = "definitely not BTF data at all";
	EXPECT(kinfo_btf_new(junk, sizeof(junk), err, sizeof(err)) == NULL);
	EXPECT_MSG(strstr(err, "not BTF"), "%s", err);
	EXPECT(kinfo_btf_open("/nonexistent/btf", err, sizeof(err)) == NULL);
	EXPECT_MSG(strstr(err, "/nonexistent/btf"), "%s", err);
	/* the mock vmlinux is an ELF with .BTF (pahole -J) */
	struct kinfo_btf *kb = kinfo_btf_open(mock_vmlinux_path(), err, sizeof(err));
	EXPECT_MSG(kb, "%s", err);
	uint64_t sz;
	struct vtd_member m;
	EXPECT(kb && kinfo_btf_type_size(kb, "struct intel_iommu", &sz) == 0 && sz > 0);
	EXPECT(kb && kinfo_btf_member(kb, "struct intel_iommu", "no_such_member", &m) == -1);
	EXPECT(kb && kinfo_btf_type_size(kb, "struct no_such_struct", &sz) == -1);
	kinfo_btf_close(kb);
}

int main(int argc, char **argv) { return check_main(argc, argv); }
