/* Fuzz target: BTF as the dump gives it (kinfo_btf over lib/btf.c), and every
 * question the locator asks of it. */
#include <stdint.h>
#include <string.h>

#include "cli/kinfo_btf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const q[][2] = {
		{ "struct intel_iommu", "reg_phys" }, { "struct intel_iommu", "ir_table" },
		{ "struct dmar_domain", "agaw" }, { "struct dmar_domain", "use_first_level" },
		{ "struct device_domain_info", "ats_supported" }, { "struct pci_dev", "devfn" },
		{ "struct irq_data", "parent_data" }, { "struct list_head", "next" },
		{ "union foo", "bar.baz" }, { "struct a", "b.c.d.e.f.g.h.i.j" },
	};
	char err[300];
	struct kinfo_btf *kb = kinfo_btf_new(data, size, err, sizeof(err));
	if (!kb)
		return 0;
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		uint64_t sz;
		struct vtd_member m;
		kinfo_btf_type_size(kb, q[i][0], &sz);
		kinfo_btf_member(kb, q[i][0], q[i][1], &m);
	}
	kinfo_btf_close(kb);
	return 0;
}
