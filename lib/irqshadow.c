/* IRTE shadows: the kernel keeps, per remapped IRQ, the IRTE it last wrote
 * (intel_ir_data.irte_entry, drivers/iommu/intel/irq_remapping.c).  They are
 * reached from the sparse IRQ descriptors: irq_desc_tree (an xarray until
 * 6.4; sparse_irqs, a maple tree, since 6.5) → irq_desc.irq_data →
 * parent_data chain → the irq_data whose chip is intel_ir_chip → chip_data. */
#include "vtd/kernel.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct sw {
	const struct vtd_kstate *ks;
	const struct vtd_kinfo *ki;
	vtd_irte_shadow_cb cb;
	void *arg;
	uint64_t chip;                            /* &intel_ir_chip */
	uint64_t desc_irq_data, d_irq, d_chip, d_parent, d_chip_data;
	uint64_t iommu, index, sub, mode, entry;  /* intel_ir_data members */
	unsigned mode_size;                       /* 4: enum irq_mode; 1: bool posted_vcpu (6.10+) */
	uint64_t slots, shift;                    /* xa_node */
	uint64_t mr_slot, mr_n, ma_slot, ma_n;    /* maple_range_64 / maple_arange_64 slots */
	int rc;
	unsigned visited;
	unsigned nbad;                            /* reads that failed, the first's why */
	char bad[200];
};

static int rd(struct sw *w, uint64_t va, void *buf, size_t n)
{
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_kmem_read(&w->ks->km, va, buf, n, &e) == 0)
		return 0;
	if (!w->nbad++)
		snprintf(w->bad, sizeof(w->bad), "%.199s", e.msg);
	return -1;
}

static uint64_t rd64(struct sw *w, uint64_t va, int *bad)
{
	uint8_t b[8];
	uint64_t v = 0;
	if (rd(w, va, b, 8)) {
		*bad = 1;
		return 0;
	}
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint64_t rdn(struct sw *w, uint64_t va, unsigned n, int *bad)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	if (n > 8 || rd(w, va, b, n)) {
		*bad = 1;
		return 0;
	}
	for (int i = (int)n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void one_desc(struct sw *w, uint64_t irq, uint64_t desc)
{
	int bad = 0;
	uint64_t d = desc + w->desc_irq_data;
	/* hierarchy: at most a few levels (PCI-MSI/IOAPIC → IR → vector) */
	for (int depth = 0; d && depth < 6 && !bad; depth++) {
		if (rd64(w, d + w->d_chip, &bad) == w->chip) {
			uint64_t ir = rd64(w, d + w->d_chip_data, &bad);
			struct vtd_irte_shadow sh = { .unit = -1, .irq = (unsigned)irq, .addr = ir };
			uint64_t iommu = rd64(w, ir + w->iommu, &bad);
			sh.index = (uint32_t)(rdn(w, ir + w->index, 2, &bad) + rdn(w, ir + w->sub, 2, &bad));
			sh.mode = (int)rdn(w, ir + w->mode, w->mode_size, &bad);
			sh.irte.low = rd64(w, ir + w->entry, &bad);
			sh.irte.high = rd64(w, ir + w->entry + 8, &bad);
			for (size_t i = 0; i < w->ks->nunits; i++)
				if (w->ks->units[i].iommu == iommu)
					sh.unit = (int)i;
			if (!bad && !w->rc)
				w->rc = w->cb(w->arg, &sh);
			return;
		}
		d = rd64(w, d + w->d_parent, &bad);
	}
}

/* Walk an xarray entry covering indexes from base; nodes are internal
 * entries (low bits 10, above 4096). */
static void xa(struct sw *w, uint64_t entry, uint64_t base, int depth)
{
	if (!entry || w->rc || depth > 8 || ++w->visited > 1u << 20)
		return;
	if ((entry & 3) != 2) {
		one_desc(w, base, entry);
		return;
	}
	if (entry <= 4096)
		return;                                  /* sibling / retry entry */
	uint64_t node = entry - 2;
	int bad = 0;
	unsigned shift = (unsigned)rdn(w, node + w->shift, 1, &bad);
	if (bad || shift > 60)
		return;
	for (uint64_t i = 0; i < 64 && !w->rc; i++) {
		uint64_t e = rd64(w, node + w->slots + 8 * i, &bad);
		if (bad)
			return;
		xa(w, e, base + (i << shift), depth + 1);
	}
}

/* A maple tree value: an irq_desc pointer (the IRQ number is read from it). */
static void mt_value(struct sw *w, uint64_t v)
{
	int bad = 0;
	if (v >> 56 != 0xff)             /* not a kernel pointer (4- or 5-level paging) */
		return;
	uint64_t irq = rdn(w, v + w->desc_irq_data + w->d_irq, 4, &bad);
	if (!bad)
		one_desc(w, irq, v);
}

/* Walk a maple tree node (lib/maple_tree.c): an encoded node is the node's
 * address with its type in bits 3-6 (dense 0, leaf_64 1, range_64 2,
 * arange_64 3); a leaf's slots hold values, an internal node's slots hold
 * encoded child nodes. */
static void mt(struct sw *w, uint64_t enode, int depth)
{
	if (!enode || w->rc || depth > 8 || ++w->visited > 1u << 20)
		return;
	unsigned type = (unsigned)(enode >> 3) & 0xf;
	uint64_t node = enode & ~0xffull, slot, n;
	switch (type) {
	case 0: slot = 8; n = 31; break;                 /* dense: slot[] after parent */
	case 1: case 2: slot = w->mr_slot; n = w->mr_n; break;
	case 3: slot = w->ma_slot; n = w->ma_n; break;
	default: return;
	}
	for (uint64_t i = 0; i < n && !w->rc; i++) {
		int bad = 0;
		uint64_t e = rd64(w, node + slot + 8 * i, &bad);
		if (bad)
			return;
		if (!e)
			continue;
		if (type <= 1)
			mt_value(w, e);
		else
			mt(w, e, depth + 1);
	}
}

/* Shadows the walk could not reach (a descriptor or tree node not in the
 * dump) make the walk an error: a partial answer must not pass for whole. */
static int unread(const struct sw *w, struct vtd_error *err)
{
	if (!w->nbad)
		return 0;
	return vtd_error_set(err, VTD_E_READ, "%u reads of IRQ descriptors or their tree failed "
			     "(%u entries visited), the first: %s", w->nbad, w->visited, w->bad);
}

static int off(const struct vtd_kinfo *ki, const char *type, const char *m, uint64_t *o)
{
	struct vtd_member x;
	if (ki->member(ki->ctx, type, m, &x))
		return -1;
	*o = x.offset;
	return 0;
}

int vtd_irte_shadows(const struct vtd_kstate *ks, const struct vtd_kinfo *ki,
		     vtd_irte_shadow_cb cb, void *arg, struct vtd_error *err)
{
	struct sw w;
	memset(&w, 0, sizeof(w));
	w.ks = ks, w.ki = ki, w.cb = cb, w.arg = arg;
	uint64_t tree;
	if (ki->symbol(ki->ctx, "intel_ir_chip", &w.chip))
		return vtd_error_set(err, VTD_E_INVAL, "no intel_ir_chip symbol: no interrupt remapping");
	bool maple = false;
	if (ki->symbol(ki->ctx, "irq_desc_tree", &tree)) {
		if (ki->symbol(ki->ctx, "sparse_irqs", &tree))
			return vtd_error_set(err, VTD_E_INVAL, "neither irq_desc_tree nor sparse_irqs: "
					     "no sparse IRQ descriptors to reach the shadows through");
		maple = true;
	}
	if (off(ki, "struct irq_desc", "irq_data", &w.desc_irq_data) ||
	    off(ki, "struct irq_data", "irq", &w.d_irq) ||
	    off(ki, "struct irq_data", "chip", &w.d_chip) ||
	    off(ki, "struct irq_data", "parent_data", &w.d_parent) ||
	    off(ki, "struct irq_data", "chip_data", &w.d_chip_data) ||
	    off(ki, "struct intel_ir_data", "irq_2_iommu.iommu", &w.iommu) ||
	    off(ki, "struct intel_ir_data", "irq_2_iommu.irte_index", &w.index) ||
	    off(ki, "struct intel_ir_data", "irq_2_iommu.sub_handle", &w.sub) ||
	    off(ki, "struct intel_ir_data", "irte_entry", &w.entry) ||
	    off(ki, "struct xa_node", "slots", &w.slots) ||
	    off(ki, "struct xa_node", "shift", &w.shift))
		return vtd_error_set(err, VTD_E_INVAL, "no type information for the IRQ descriptors "
				     "or struct intel_ir_data");
	/* IRQ_POSTING (1) is what posted_vcpu says since irq_2_iommu.mode went */
	w.mode_size = 4;
	if (off(ki, "struct intel_ir_data", "irq_2_iommu.mode", &w.mode)) {
		w.mode_size = 1;
		if (off(ki, "struct intel_ir_data", "irq_2_iommu.posted_vcpu", &w.mode))
			return vtd_error_set(err, VTD_E_INVAL, "struct irq_2_iommu has neither mode nor "
					     "posted_vcpu");
	}
	uint64_t head_off;
	int bad = 0;
	if (maple) {
		struct vtd_member a, b;
		if (off(ki, "struct maple_tree", "ma_root", &head_off) ||
		    ki->member(ki->ctx, "struct maple_range_64", "slot", &a) ||
		    ki->member(ki->ctx, "struct maple_arange_64", "slot", &b))
			return vtd_error_set(err, VTD_E_INVAL, "no type information for the maple tree");
		w.mr_slot = a.offset, w.mr_n = a.size / 8, w.ma_slot = b.offset, w.ma_n = b.size / 8;
		if (w.mr_n > 64 || w.ma_n > 64)
			return vtd_error_set(err, VTD_E_INVAL, "maple tree nodes of %" PRIu64 "/%" PRIu64
					     " slots", w.mr_n, w.ma_n);
		uint64_t root = rd64(&w, tree + head_off, &bad);
		if (bad)
			return vtd_error_set(err, VTD_E_READ, "sparse_irqs at 0x%" PRIx64 " cannot be read", tree);
		if ((root & 3) == 2 && root > 4096)
			mt(&w, root, 0);                 /* a node (MAPLE_ROOT_NODE set) */
		else
			mt_value(&w, root);              /* a single entry, IRQ 0 */
		return w.rc ? w.rc : unread(&w, err);
	}
	if (off(ki, "struct xarray", "xa_head", &head_off))
		head_off = 8;
	uint64_t head = rd64(&w, tree + head_off, &bad);
	if (bad)
		return vtd_error_set(err, VTD_E_READ, "irq_desc_tree at 0x%" PRIx64 " cannot be read", tree);
	xa(&w, head, 0, 0);
	return w.rc ? w.rc : unread(&w, err);
}
