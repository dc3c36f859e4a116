/* The entries the crashed kernel wrote for a device, rebuilt from its
 * device_domain_info / dmar_domain (design.md §6, vtd-reference.md §4.4):
 * Linux 6.1 domain_context_mapping_one(), intel_pasid_setup_second_level(),
 * _first_level() (through domain_setup_first_level()) and _pass_through().
 * Any fact the rebuild needs and the dump does not give makes it fail: an
 * entry is never guessed. */
#include "vtd/marks.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CONTEXT_TT_MULTI_LEVEL 0
#define CONTEXT_TT_DEV_IOTLB   1
#define CONTEXT_TT_PASS_THROUGH 2
#define PGTT_FL 1
#define PGTT_SL 2
#define PGTT_PT 4
#define FLPT_DEFAULT_DID 1

/* Linux iommu_skip_agaw(): follow entry 0 down while the domain's tables
 * are deeper than the unit walks. */
static int skip_agaw(const struct vtd_mem *mem, const struct vtd_kdomain *dom, int iommu_agaw,
		     uint64_t *pgd, struct vtd_error *err)
{
	int agaw;
	for (agaw = dom->agaw; agaw > iommu_agaw; agaw--) {
		uint64_t e;
		if (vtd_mem_read_qwords(mem, *pgd, &e, 1, err))
			return -1;
		if (!dma_pte_present(e)) {
			vtd_error_set(err, VTD_E_INVAL, "domain table 0x%" PRIx64 " entry 0 not present "
				      "while skipping to the unit's AGAW %d", *pgd, iommu_agaw);
			return -1;
		}
		*pgd = e & 0x000ffffffffff000ull;
	}
	return agaw;
}

/* Linux context_get_sm_pds(): PDTS from pasid_table.max_pasid. */
static unsigned sm_pds(uint32_t max_pasid)
{
	uint64_t max_pde = max_pasid >> PASID_PDE_SHIFT;
	unsigned pds = 0;
	if (!max_pde)
		return 0;
	while (!(max_pde >> pds & 1))
		pds++;
	return pds < 7 ? 0 : pds - 7;
}

static int need(int v, const char *what, struct vtd_error *err)
{
	if (v >= 0)
		return 0;
	return vtd_error_set(err, VTD_E_INVAL, "device_domain_info.%s is not known", what);
}

int vtd_rebuild_device(const struct vtd_mem *mem, const struct vtd_kstate *ks,
		       size_t device, struct vtd_rebuilt *out, struct vtd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (device >= ks->ndevices)
		return vtd_error_set(err, VTD_E_ARG, "no device %zu", device);
	const struct vtd_kdevice *d = &ks->devices[device];
	err->segment = d->segment;
	err->bus = d->bus;
	err->devfn = d->devfn;
	if (!d->info)
		return vtd_error_set(err, VTD_E_INVAL, "no device_domain_info");
	if (d->unit < 0 || (size_t)d->unit >= ks->nunits)
		return vtd_error_set(err, VTD_E_INVAL, "its unit is not known");
	if (d->domain < 0 || (size_t)d->domain >= ks->ndomains)
		return vtd_error_set(err, VTD_E_INVAL, "no domain attached");
	const struct vtd_kunit *ku = &ks->units[d->unit];
	const struct vtd_kdomain *dom = &ks->domains[d->domain];
	snprintf(err->unit, sizeof(err->unit), "%s", ku->unit.name);
	uint64_t ecap = ku->unit.ecap;
	int did = d->unit < 8 ? dom->did[d->unit] : -1;
	if (did < 0)
		return vtd_error_set(err, VTD_E_INVAL, "domain 0x%" PRIx64 " has no DID on %s",
				     dom->addr, ku->unit.name);
	if (ku->agaw < 0 || ku->msagaw < 0)
		return vtd_error_set(err, VTD_E_INVAL, "intel_iommu.agaw/msagaw not known");
	/* hw_pass_through && domain_type_is_si() */
	bool pt = dom->type == VTD_DOM_IDENTITY && ecap_pass_through(ecap);
	uint64_t pgd = dom->pgd;
	int agaw = -1;
	if (!pt) {
		if (!pgd || dom->agaw < 0)
			return vtd_error_set(err, VTD_E_INVAL, "domain 0x%" PRIx64 " has no page table",
					     dom->addr);
		agaw = skip_agaw(mem, dom, ku->agaw, &pgd, err);
		if (agaw < 0)
			return -(int)err->code;
	}
	if (!ku->sm) {
		if (!pt && need(d->ats_supported, "ats_supported", err))
			return -(int)err->code;
		unsigned tt = pt ? CONTEXT_TT_PASS_THROUGH
			: d->ats_supported == 1 ? CONTEXT_TT_DEV_IOTLB : CONTEXT_TT_MULTI_LEVEL;
		out->context[0] = (pt ? 0 : pgd) | (uint64_t)tt << 2 | 1;
		out->context[1] = (uint64_t)(pt ? ku->msagaw : agaw) | (uint64_t)did << 8;
		out->ncontext = 2;
		return 0;
	}
	/* scalable mode: the context entry names the PASID directory */
	if (!d->pasid_table_dir || !d->max_pasid)
		return vtd_error_set(err, VTD_E_INVAL, "no pasid_table (PASID directory) known");
	if (need(d->ats_supported, "ats_supported", err) ||
	    need(d->pri_supported, "pri_supported", err) ||
	    need(d->pasid_supported, "pasid_supported", err))
		return -(int)err->code;
	out->pasid_dir = d->pasid_table_dir;
	out->context[0] = d->pasid_table_dir | (uint64_t)sm_pds(d->max_pasid) << 9 |
		(d->ats_supported == 1 ? 1u << 2 : 0) | (d->pri_supported == 1 ? 1u << 4 : 0) |
		(d->pasid_supported > 0 ? 1u << 3 : 0) | 1;
	out->ncontext = 4;                       /* RID_PASID 0: the upper qwords stay 0 */

	uint64_t *p = out->pasid;
	uint64_t pwsnp = ecap_smpwc(ecap) ? 1ull << 23 : 0;
	uint64_t pgsnp = dom->force_snooping == 1 ? 1ull << 24 : 0;
	if (pt) {
		p[0] = (uint64_t)ku->agaw << 2 | (uint64_t)PGTT_PT << 6 | 1;
		p[1] = FLPT_DEFAULT_DID | pwsnp;
		p[2] = ecap_srs(ecap) ? 1 : 0;
	} else if (dom->first_level) {
		unsigned level = agaw_to_level((unsigned)agaw);
		if (level != 4 && level != 5)
			return vtd_error_set(err, VTD_E_INVAL, "first-level domain with %u levels", level);
		p[0] = (uint64_t)ku->agaw << 2 | (uint64_t)PGTT_FL << 6 | 1;
		p[1] = (uint64_t)did | pwsnp | pgsnp;
		p[2] = pgd | (level == 5 ? 1u << 2 : 0) | 1u << 5;     /* FLPM, NXE */
	} else {
		p[0] = pgd | (uint64_t)agaw << 2 | (uint64_t)PGTT_SL << 6 | 1;
		p[1] = (uint64_t)did | pwsnp | pgsnp;
	}
	out->has_pasid = true;
	return 0;
}
