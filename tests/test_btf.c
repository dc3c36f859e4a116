/* lib/btf.c against libbpf: on every struct and union of a kernel's BTF,
 * the size and every member (through anonymous members, with bitfields) must
 * come out the same.  The BTFs: the mock vmlinux's (pahole -J), the running
 * kernel's /sys/kernel/btf/vmlinux when there is one, and any file named in
 * $VTD_BTF_FILES (the real tier passes the Debian kernels' vmlinux files). */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/kinfo_btf.h"
#include "mock_kernel.h"
#include "vtd/btf.h"

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l, (void)f, (void)ap;
	return 0;
}

/* libbpf's answer for member i of composite t at bit offset base. */
static void compare_type(struct btf *ref, const struct vtd_btf *ours, __u32 id, const char *tname,
			 unsigned *checked)
{
	const struct btf_type *t = btf__type_by_id(ref, id);
	long long rs = btf__resolve_size(ref, id);
	uint64_t os = 0;
	int r = vtd_btf_type_size(ours, tname, &os);
	EXPECT_MSG(rs >= 0 && r == 0 && (uint64_t)rs == os, "%s: size %lld (libbpf) vs %" PRIu64 " (rc %d)",
		   tname, rs, os, r);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *mn = btf__name_by_offset(ref, m[i].name_off);
		if (!mn || !*mn)
			continue;               /* anonymous: its members are checked through it */
		struct vtd_member om;
		if (vtd_btf_member(ours, tname, mn, &om)) {
			check_fail(__FILE__, __LINE__, "%s.%s: not found", tname, mn);
			return;
		}
		uint64_t bits = btf_member_bit_offset(t, (__u32)i);
		unsigned bsz = btf_member_bitfield_size(t, (__u32)i);
		long long msz = btf__resolve_size(ref, m[i].type);
		bool ok = bsz ? om.offset == bits / 8 && om.bit_offset == bits % 8 && om.bit_size == bsz
			      : om.offset == bits / 8 && om.bit_size == 0 &&
				om.size == (msz > 0 ? (uint64_t)msz : 0);
		EXPECT_MSG(ok, "%s.%s: offset %" PRIu64 " size %" PRIu64 " bits %u+%u, libbpf bit %" PRIu64
			   " bitfield %u size %lld", tname, mn, om.offset, om.size, om.bit_offset, om.bit_size,
			   bits, bsz, msz);
		(*checked)++;
	}
}

static void compare_file(const char *path)
{
	libbpf_set_print(quiet);
	struct btf *ref = btf__parse(path, NULL);
	char err[300];
	if (!ref) {
		check_fail(__FILE__, __LINE__, "%s: libbpf cannot read it", path);
		return;
	}
	struct kinfo_btf *kb = kinfo_btf_open(path, err, sizeof(err));
	EXPECT_MSG(kb, "%s", err);
	if (!kb) {
		btf__free(ref);
		return;
	}
	/* the kinfo wraps a vtd_btf: ask through the public calls */
	EXPECT_EQ(kinfo_btf_ntypes(kb), btf__type_cnt(ref));
	unsigned checked = 0, types = 0;
	for (__u32 id = 1; id < btf__type_cnt(ref); id++) {
		const struct btf_type *t = btf__type_by_id(ref, id);
		const char *n = btf__name_by_offset(ref, t->name_off);
		if (!btf_is_composite(t) || !n || !*n)
			continue;
		char tname[300];
		snprintf(tname, sizeof(tname), "%s %s", btf_is_struct(t) ? "struct" : "union", n);
		/* the first definition of a name is the one looked up */
		if (btf__find_by_name_kind(ref, n, btf_kind(t)) != (int)id)
			continue;
		types++;
		compare_type(ref, kinfo_btf_raw(kb), id, tname, &checked);
	}
	printf("INFO %s: %u types, %u members equal to libbpf's\n", path, types, checked);
	EXPECT(types > 0);
	kinfo_btf_close(kb);
	btf__free(ref);
}

TEST(btf_equals_libbpf_on_the_mock_vmlinux)
{
	compare_file(mock_vmlinux_path());
}

TEST(btf_equals_libbpf_on_the_running_kernel_and_named_files)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		compare_file("/sys/kernel/btf/vmlinux");
	const char *env = getenv("VTD_BTF_FILES");
	char *list = env ? strdup(env) : NULL, *save = NULL;
	for (char *f = list ? strtok_r(list, ":", &save) : NULL; f; f = strtok_r(NULL, ":", &save))
		compare_file(f);
	free(list);
}

TEST(btf_bad_input_is_named)
{
	struct vtd_error e;
	uint8_t b[64] = { 0x9f, 0xeb, 1, 0, 24 };
	vtd_error_init(&e);
	EXPECT(!vtd_btf_new("nope", 4, &e) && strstr(e.msg, "magic"));
	/* a type section claiming more than there is */
	b[12] = 200;
	vtd_error_init(&e);
	EXPECT(!vtd_btf_new(b, sizeof(b), &e) && strstr(e.msg, "do not fit"));
	/* one type record cut short */
	memset(b + 8, 0, 16);
	b[12] = 8;                         /* 8 bytes of types: less than a record */
	b[16] = 8;
	b[20] = 1;                         /* 1 byte of strings: the NUL */
	vtd_error_init(&e);
	EXPECT(!vtd_btf_new(b, 24 + 9, &e) && strstr(e.msg, "cut short"));
}

int main(int argc, char **argv) { return check_main(argc, argv); }
