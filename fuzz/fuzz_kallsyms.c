/* Fuzz target: the kallsyms decoder over kernel memory made of the input
 * (the tables at fixed places of it, as VMCOREINFO names them), and the
 * /proc/kallsyms text parser. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vtd/ksyms.h"

#define BASE 0xffffffff82000000ull

struct in { const uint8_t *p; size_t n; };

static int rd(void *ctx, uint64_t va, void *buf, size_t len, char *why, size_t wl)
{
	const struct in *m = ctx;
	if (va < BASE || va - BASE > m->n || len > m->n - (va - BASE)) {
		snprintf(why, wl, "not mapped");
		return -1;
	}
	memcpy(buf, m->p + (va - BASE), len);
	return 0;
}

static int vmci(void *ctx, const char *key, char *val, size_t len)
{
	static const struct { const char *k; unsigned off; } t[] = {
		{ "SYMBOL(kallsyms_num_syms)", 0 }, { "SYMBOL(kallsyms_relative_base)", 8 },
		{ "SYMBOL(kallsyms_token_index)", 16 }, { "SYMBOL(kallsyms_token_table)", 0x300 },
		{ "SYMBOL(kallsyms_names)", 0x1000 }, { "SYMBOL(kallsyms_offsets)", 0x2000 },
	};
	(void)ctx;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(key, t[i].k)) {
			snprintf(val, len, "%llx", (unsigned long long)(BASE + t[i].off));
			return 0;
		}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in m = { data, size };
	struct vtd_mem kv = { rd, &m };
	struct vtd_kinfo ki = { NULL, NULL, NULL, vmci, NULL };
	struct vtd_ksyms *ks = NULL;
	struct vtd_error e;
	uint64_t a;
	vtd_error_init(&e);
	if (vtd_kallsyms_read(&kv, &ki, &ks, &e) == 0) {
		vtd_ksyms_lookup(ks, "dmar_drhd_units", &a);
		vtd_ksyms_free(ks);
	}
	vtd_error_init(&e);
	if (vtd_ksyms_parse((const char *)data, size, &ks, &e) == 0) {
		vtd_ksyms_lookup(ks, "init_top_pgt", &a);
		vtd_ksyms_free(ks);
	}
	return 0;
}
