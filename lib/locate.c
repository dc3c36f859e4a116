/* The kernel locator: DMAR units, domains, devices and the crashkernel
 * range, read from the crashed kernel's own structures (design.md §4).
 * Layouts come from struct vtd_kinfo; a missing member is a version fact. */
#include "vtd/kernel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UNITS 64
#define MAX_BUSES 512
#define MAX_DEVICES 8192

struct kr {
	const struct vtd_kinfo *ki;
	struct vtd_kstate *ks;
	struct vtd_error *err;
};

static void missing(struct kr *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void missing(struct kr *k, const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **m = realloc(k->ks->missing, (k->ks->nmissing + 1) * sizeof(*m));
	if (!m)
		return;
	k->ks->missing = m;
	m[k->ks->nmissing] = strdup(buf);
	if (m[k->ks->nmissing])
		k->ks->nmissing++;
}

static bool has(struct kr *k, const char *type, const char *member, struct vtd_member *m)
{
	struct vtd_member tmp;
	return k->ki->member(k->ki->ctx, type, member, m ? m : &tmp) == 0;
}

static uint64_t le(const uint8_t *p, uint64_t n)
{
	uint64_t v = 0;
	for (uint64_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* An object of a struct type read into memory. */
struct obj {
	const char *type;
	uint64_t addr;
	uint8_t *buf;
	uint64_t size;
};

static int obj_read(struct kr *k, struct obj *o, const char *type, uint64_t addr)
{
	o->type = type;
	o->addr = addr;
	o->buf = NULL;
	if (k->ki->type_size(k->ki->ctx, type, &o->size) || !o->size || o->size > (1u << 20))
		return vtd_error_set(k->err, VTD_E_INVAL, "no type information for %s", type);
	o->buf = malloc(o->size);
	if (!o->buf)
		return vtd_error_set(k->err, VTD_E_NOMEM, "out of memory");
	if (vtd_kmem_read(&k->ks->km, addr, o->buf, o->size, k->err)) {
		free(o->buf);
		o->buf = NULL;
		return vtd_error_set(k->err, k->err->code, "%s at 0x%" PRIx64 ": %s", type, addr,
				     k->err->msg);
	}
	return 0;
}

static void obj_free(struct obj *o) { free(o->buf); o->buf = NULL; }

/* Integer member (bitfields included); def when the member does not exist. */
static uint64_t get(struct kr *k, const struct obj *o, const char *member, uint64_t def)
{
	struct vtd_member m;
	if (!has(k, o->type, member, &m) || m.offset + m.size > o->size || m.size > 8)
		return def;
	uint64_t v = le(o->buf + m.offset, m.size);
	if (m.bit_size)
		v = (v >> m.bit_offset) & (m.bit_size >= 64 ? ~0ull : (1ull << m.bit_size) - 1);
	return v;
}

static int64_t get_signed(struct kr *k, const struct obj *o, const char *member, int64_t def)
{
	struct vtd_member m;
	if (!has(k, o->type, member, &m) || m.offset + m.size > o->size || m.size > 8 || m.bit_size)
		return def;
	uint64_t v = le(o->buf + m.offset, m.size);
	unsigned sh = (unsigned)(64 - 8 * m.size);
	return sh ? (int64_t)(v << sh) >> sh : (int64_t)v;
}

static void get_str(struct kr *k, const struct obj *o, const char *member, char *out, size_t n)
{
	struct vtd_member m;
	out[0] = 0;
	if (!has(k, o->type, member, &m) || m.offset + m.size > o->size)
		return;
	size_t len = m.size < n - 1 ? (size_t)m.size : n - 1;
	memcpy(out, o->buf + m.offset, len);
	out[len] = 0;
}

/* A capability bit(field) of an object: its value, -1 when absent. */
static int flag(struct kr *k, const struct obj *o, const char *member)
{
	return has(k, o->type, member, NULL) ? (int)get(k, o, member, 0) : -1;
}

static uint64_t off(struct kr *k, const char *type, const char *member)
{
	struct vtd_member m;
	return has(k, type, member, &m) ? m.offset : 0;
}

static int read_u64(struct kr *k, uint64_t va, uint64_t *v)
{
	uint8_t b[8];
	if (vtd_kmem_read(&k->ks->km, va, b, 8, k->err))
		return -1;
	*v = le(b, 8);
	return 0;
}

static int read_s32(struct kr *k, uint64_t va, int *v)
{
	uint8_t b[4];
	if (vtd_kmem_read(&k->ks->km, va, b, 4, k->err))
		return -1;
	*v = (int32_t)(uint32_t)le(b, 4);
	return 0;
}

static bool va2pa(struct kr *k, uint64_t va, uint64_t *pa)
{
	struct vtd_error e;
	vtd_error_init(&e);
	return va && vtd_kmem_v2p(&k->ks->km, va, pa, &e) == 0;
}

static int sym(struct kr *k, const char *name, uint64_t *addr)
{
	return k->ki->symbol(k->ki->ctx, name, addr);
}

/* ---- units ---- */

static void load_unit(struct kr *k, struct vtd_kunit *ku, const struct obj *drhd)
{
	struct obj io;
	ku->drhd = drhd->addr;
	ku->iommu = get(k, drhd, "iommu", 0);
	ku->ignored = get(k, drhd, "ignored", 0) != 0;
	ku->unit.segment = (uint16_t)get(k, drhd, "segment", 0);
	ku->reg_phys = get(k, drhd, "reg_base_addr", 0);
	if (!ku->iommu || obj_read(k, &io, "struct intel_iommu", ku->iommu)) {
		missing(k, "unit at drhd 0x%" PRIx64 ": struct intel_iommu: %s", drhd->addr,
			ku->iommu ? k->err->msg : "no iommu pointer");
		if (ku->iommu && k->err->code == VTD_E_READ && strstr(k->err->msg, "excluded page")) {
			ku->lost = true;
			snprintf(ku->why, sizeof(ku->why), "%.239s", k->err->msg);
		}
		snprintf(ku->unit.name, sizeof(ku->unit.name), "drhd@%" PRIx64, drhd->addr);
		ku->unit.unknown = true;
		return;
	}
	get_str(k, &io, "name", ku->unit.name, sizeof(ku->unit.name));
	if (!ku->unit.name[0])
		snprintf(ku->unit.name, sizeof(ku->unit.name), "dmar%d", (int)get_signed(k, &io, "seq_id", 0));
	ku->reg_phys = get(k, &io, "reg_phys", ku->reg_phys);
	ku->unit.cap = get(k, &io, "cap", 0);
	ku->unit.ecap = get(k, &io, "ecap", 0);
	ku->gcmd = (uint32_t)get(k, &io, "gcmd", 0);
	ku->seq_id = (int)get_signed(k, &io, "seq_id", -1);
	ku->agaw = (int)get_signed(k, &io, "agaw", -1);
	ku->msagaw = (int)get_signed(k, &io, "msagaw", -1);
	ku->flags = get(k, &io, "flags", 0);
	ku->unit.segment = (uint16_t)get(k, &io, "segment", ku->unit.segment);
	ku->root_entry = get(k, &io, "root_entry", 0);
	ku->has_copied_tables = has(k, "struct intel_iommu", "copied_tables", NULL);
	ku->copied_tables = get(k, &io, "copied_tables", 0);
	ku->sm = k->ks->intel_iommu_sm > 0 && ecap_smts(ku->unit.ecap);

	uint64_t pa;
	if (ku->root_entry && va2pa(k, ku->root_entry, &pa))
		ku->unit.rtaddr = pa | (ku->sm ? (uint64_t)VTD_TTM_SCALABLE << 10 : 0);

	/* interrupt remapping: IRTA = base | EIME | S=0xF (Linux always 64 Ki entries) */
	uint64_t irt = get(k, &io, "ir_table", 0);
	if (irt) {
		struct obj t;
		if (obj_read(k, &t, "struct ir_table", irt) == 0) {
			ku->ir_table_base = get(k, &t, "base", 0);
			obj_free(&t);
		} else {
			missing(k, "%s: struct ir_table: %s", ku->unit.name, k->err->msg);
		}
		uint64_t eim_addr;
		int eim = 0;
		if (sym(k, "eim_mode", &eim_addr) == 0 && read_s32(k, eim_addr, &eim) == 0)
			ku->eim_known = true;
		if (ku->ir_table_base && va2pa(k, ku->ir_table_base, &pa))
			ku->unit.irta = pa | (eim ? 1ull << 11 : 0) | 0xf;
	}

	/* invalidation queue: IQA = desc | (SMTS ? DW | QS=1 : 0) */
	ku->unit.qi.status_pa = VTD_NOADDR;
	ku->unit.qi.free_head = ku->unit.qi.free_tail = -1;
	uint64_t qiv = get(k, &io, "qi", 0);
	if (qiv) {
		struct obj q;
		if (obj_read(k, &q, "struct q_inval", qiv) == 0) {
			ku->qi_desc = get(k, &q, "desc", 0);
			ku->qi_status = get(k, &q, "desc_status", 0);
			ku->unit.qi.free_head = (int)get_signed(k, &q, "free_head", -1);
			ku->unit.qi.free_tail = (int)get_signed(k, &q, "free_tail", -1);
			obj_free(&q);
			if (ku->qi_desc && va2pa(k, ku->qi_desc, &pa))
				ku->unit.qi.iqa = pa | (ecap_smts(ku->unit.ecap) ? (1ull << 11) | 1 : 0);
			if (ku->qi_status && va2pa(k, ku->qi_status, &pa))
				ku->unit.qi.status_pa = pa;
		} else {
			missing(k, "%s: struct q_inval: %s", ku->unit.name, k->err->msg);
		}
	}
	obj_free(&io);
}

static int load_units(struct kr *k)
{
	uint64_t head, next;
	if (sym(k, "dmar_drhd_units", &head))
		return vtd_error_set(k->err, VTD_E_INVAL, "symbol dmar_drhd_units not found "
				     "(no Intel IOMMU support in this kernel, or wrong debuginfo)");
	uint64_t link = off(k, "struct dmar_drhd_unit", "list");
	if (read_u64(k, head, &next))
		return vtd_error_set(k->err, k->err->code, "dmar_drhd_units: %s", k->err->msg);
	k->ks->units = calloc(MAX_UNITS, sizeof(*k->ks->units));
	if (!k->ks->units)
		return vtd_error_set(k->err, VTD_E_NOMEM, "out of memory");
	while (next != head) {
		struct obj d;
		if (k->ks->nunits >= MAX_UNITS)
			return vtd_error_set(k->err, VTD_E_LIMIT, "dmar_drhd_units: more than %d "
					     "units (corrupted list?)", MAX_UNITS);
		if (obj_read(k, &d, "struct dmar_drhd_unit", next - link)) {
			/* keep the units before it; without any the state is lost */
			if (!k->ks->nunits)
				return vtd_error_set(k->err, k->err->code, "dmar_drhd_units entry: %s",
						     k->err->msg);
			missing(k, "units after %s: dmar_drhd_units entry: %s",
				k->ks->units[k->ks->nunits - 1].unit.name, k->err->msg);
			break;
		}
		load_unit(k, &k->ks->units[k->ks->nunits++], &d);
		next = get(k, &d, "list.next", head);
		obj_free(&d);
		for (size_t i = 0; i < k->ks->nunits; i++)
			if (k->ks->units[i].drhd == next - link)
				return vtd_error_set(k->err, VTD_E_LOOP, "dmar_drhd_units list loops");
	}
	return 0;
}

/* ---- domains ---- */

static int find_unit(struct kr *k, uint64_t iommu)
{
	for (size_t i = 0; i < k->ks->nunits; i++)
		if (k->ks->units[i].iommu == iommu)
			return (int)i;
	return -1;
}

/* iommu_domain_info entries of dmar_domain.iommu_array (an xarray keyed by
 * seq_id, 6.0+): walk nodes to depth 4 at most. */
static void xa_walk(struct kr *k, struct vtd_kdomain *dom, uint64_t entry, int depth)
{
	if (!entry || depth > 4)
		return;
	if ((entry & 3) == 2 && entry > 4096) {          /* internal: xa_node */
		uint64_t node = entry - 2, slots = off(k, "struct xa_node", "slots");
		for (unsigned i = 0; i < 64; i++) {
			uint64_t e;
			if (read_u64(k, node + slots + 8 * i, &e))
				return;
			if ((e & 3) == 2 && e <= 4096)
				continue;                  /* sibling / retry */
			xa_walk(k, dom, e, depth + 1);
		}
		return;
	}
	struct obj di;
	if (obj_read(k, &di, "struct iommu_domain_info", entry))
		return;
	int u = find_unit(k, get(k, &di, "iommu", 0));
	if (u >= 0 && u < 8)
		dom->did[u] = (int)get(k, &di, "did", (uint64_t)-1);
	obj_free(&di);
}

static int add_domain(struct kr *k, uint64_t addr)
{
	struct vtd_kstate *ks = k->ks;
	for (size_t i = 0; i < ks->ndomains; i++)
		if (ks->domains[i].addr == addr)
			return (int)i;
	struct obj o;
	if (obj_read(k, &o, "struct dmar_domain", addr)) {
		missing(k, "domain: %s", k->err->msg);
		return -1;
	}
	struct vtd_kdomain *nd = realloc(ks->domains, (ks->ndomains + 1) * sizeof(*nd));
	if (!nd) {
		obj_free(&o);
		return -1;
	}
	ks->domains = nd;
	struct vtd_kdomain *d = &ks->domains[ks->ndomains];
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < 8; i++)
		d->did[i] = -1;
	d->addr = addr;
	d->type = (unsigned)get(k, &o, "domain.type", 0);
	d->agaw = (int)get_signed(k, &o, "agaw", -1);
	uint64_t pgd = get(k, &o, "pgd", 0), pa;
	if (pgd && va2pa(k, pgd, &pa))
		d->pgd = pa;
	if (has(k, "struct dmar_domain", "use_first_level", NULL))
		d->first_level = get(k, &o, "use_first_level", 0) != 0;
	else
		d->first_level = (get(k, &o, "flags", 0) & 2) != 0;   /* DOMAIN_FLAG_USE_FIRST_LEVEL */
	d->force_snooping = has(k, "struct dmar_domain", "force_snooping", NULL)
		? (int)get(k, &o, "force_snooping", 0) : -1;
	struct vtd_member xa;
	if (has(k, "struct dmar_domain", "iommu_array.xa_head", &xa)) {
		xa_walk(k, d, get(k, &o, "iommu_array.xa_head", 0), 0);
	} else if (has(k, "struct dmar_domain", "iommu_did", &xa)) {
		for (size_t u = 0; u < ks->nunits && u < 8; u++) {
			int seq = ks->units[u].seq_id;
			if (seq >= 0 && xa.offset + 2 * (uint64_t)seq + 2 <= o.size) {
				unsigned did = (unsigned)le(o.buf + xa.offset + 2 * seq, 2);
				if (did)
					d->did[u] = (int)did;
			}
		}
	}
	obj_free(&o);
	return (int)ks->ndomains++;
}

/* ---- devices: the PCI bus hierarchy from pci_root_buses ---- */

static void load_device(struct kr *k, uint64_t pdev)
{
	struct vtd_kstate *ks = k->ks;
	struct obj p;
	if (ks->ndevices >= MAX_DEVICES || obj_read(k, &p, "struct pci_dev", pdev))
		return;
	struct vtd_kdevice *nd = realloc(ks->devices, (ks->ndevices + 1) * sizeof(*nd));
	if (!nd) {
		obj_free(&p);
		return;
	}
	ks->devices = nd;
	struct vtd_kdevice *d = &ks->devices[ks->ndevices++];
	memset(d, 0, sizeof(*d));
	d->pci_dev = pdev;
	d->unit = d->domain = -1;
	d->ats_supported = d->pri_supported = d->pasid_supported = -1;
	d->devfn = (uint8_t)get(k, &p, "devfn", 0);
	d->vendor = (uint16_t)get(k, &p, "vendor", 0);
	d->device = (uint16_t)get(k, &p, "device", 0);
	uint64_t bus = get(k, &p, "bus", 0), drv = get(k, &p, "dev.driver", 0);
	if (bus) {
		struct obj b;
		if (obj_read(k, &b, "struct pci_bus", bus) == 0) {
			d->bus = (uint8_t)get(k, &b, "number", 0);
			obj_free(&b);
		}
	}
	if (drv) {
		uint64_t name;
		struct vtd_member m;
		if (has(k, "struct device_driver", "name", &m) && read_u64(k, drv + m.offset, &name) == 0) {
			struct vtd_error e;
			vtd_error_init(&e);
			if (vtd_kmem_read(&ks->km, name, d->driver, sizeof(d->driver) - 1, &e))
				d->driver[0] = 0;
			d->driver[sizeof(d->driver) - 1] = 0;
			size_t l = strnlen(d->driver, sizeof(d->driver));
			d->driver[l < sizeof(d->driver) ? l : sizeof(d->driver) - 1] = 0;
		}
	}
	/* device_domain_info: dev->iommu->priv (≥5.8) or dev->archdata.iommu */
	uint64_t info = 0;
	if (has(k, "struct pci_dev", "dev.iommu", NULL)) {
		uint64_t di = get(k, &p, "dev.iommu", 0);
		struct obj o;
		if (di && obj_read(k, &o, "struct dev_iommu", di) == 0) {
			info = get(k, &o, "priv", 0);
			obj_free(&o);
		}
	} else {
		info = get(k, &p, "dev.archdata.iommu", 0);
	}
	obj_free(&p);
	if (!info || info >= (uint64_t)-4096)
		return;                            /* none, or a DUMMY/DEFER sentinel */
	struct obj in;
	if (obj_read(k, &in, "struct device_domain_info", info)) {
		missing(k, "%02x:%02x.%x: device_domain_info: %s", d->bus, d->devfn >> 3,
			d->devfn & 7, k->err->msg);
		return;
	}
	d->info = info;
	d->ats_supported = flag(k, &in, "ats_supported");
	d->pri_supported = flag(k, &in, "pri_supported");
	d->pasid_supported = flag(k, &in, "pasid_supported");
	d->segment = (uint16_t)get(k, &in, "segment", 0);
	d->unit = find_unit(k, get(k, &in, "iommu", 0));
	uint64_t dom = get(k, &in, "domain", 0), pt = get(k, &in, "pasid_table", 0);
	if (dom)
		d->domain = add_domain(k, dom);
	if (pt) {
		struct obj t;
		uint64_t pa;
		if (obj_read(k, &t, "struct pasid_table", pt) == 0) {
			uint64_t dir = get(k, &t, "table", 0);
			if (va2pa(k, dir, &pa))
				d->pasid_table_dir = pa;
			d->max_pasid = (uint32_t)get(k, &t, "max_pasid", 0);
			obj_free(&t);
		}
	}
	obj_free(&in);
}

static void load_bus(struct kr *k, uint64_t bus, int depth, int *nbus)
{
	if (depth > 32 || ++*nbus > MAX_BUSES)
		return;
	uint64_t devs = bus + off(k, "struct pci_bus", "devices"), next;
	uint64_t bl = off(k, "struct pci_dev", "bus_list");
	unsigned n = 0;
	if (read_u64(k, devs, &next))
		return;
	while (next != devs && n++ < 256 && k->ks->ndevices < MAX_DEVICES) {
		uint64_t pdev = next - bl, sub;
		size_t before = k->ks->ndevices;
		load_device(k, pdev);
		if (k->ks->ndevices == before)
			break;                              /* unreadable: stop this list */
		if (read_u64(k, pdev + off(k, "struct pci_dev", "subordinate"), &sub) == 0 && sub)
			load_bus(k, sub, depth + 1, nbus);
		if (read_u64(k, next, &next))
			break;
	}
}

static void load_devices(struct kr *k)
{
	uint64_t head, next;
	int nbus = 0;
	if (sym(k, "pci_root_buses", &head) || read_u64(k, head, &next)) {
		missing(k, "devices: pci_root_buses cannot be read");
		return;
	}
	uint64_t node = off(k, "struct pci_bus", "node");
	while (next != head && nbus < MAX_BUSES) {
		load_bus(k, next - node, 0, &nbus);
		if (read_u64(k, next, &next))
			break;
	}
}

static void load_crashk(struct kr *k, const char *name, uint64_t *s, uint64_t *e)
{
	uint64_t a;
	struct obj r;
	*s = *e = 0;
	if (sym(k, name, &a) || obj_read(k, &r, "struct resource", a))
		return;
	*s = get(k, &r, "start", 0);
	*e = get(k, &r, "end", 0);
	obj_free(&r);
}

int vtd_kstate_load(const struct vtd_mem *phys, const struct vtd_kinfo *ki,
		    struct vtd_kstate **out, struct vtd_error *err)
{
	struct vtd_kstate *ks = calloc(1, sizeof(*ks));
	struct kr k = { ki, ks, err };
	uint64_t a;
	int sm;
	*out = NULL;
	if (!ks)
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	if (vtd_kmem_init(&ks->km, phys, ki, err))
		goto fail;
	if (ki->vmcoreinfo)
		ki->vmcoreinfo(ki->ctx, "OSRELEASE", ks->osrelease, sizeof(ks->osrelease));
	ks->intel_iommu_sm = -1;
	if (sym(&k, "intel_iommu_sm", &a) == 0 && read_s32(&k, a, &sm) == 0)
		ks->intel_iommu_sm = sm;
	if (load_units(&k))
		goto fail;
	load_devices(&k);
	load_crashk(&k, "crashk_res", &ks->crashk_start, &ks->crashk_end);
	load_crashk(&k, "crashk_low_res", &ks->crashk_low_start, &ks->crashk_low_end);
	if (sym(&k, "max_pfn", &a) == 0 && read_u64(&k, a, &ks->max_pfn))
		ks->max_pfn = 0;
	*out = ks;
	return 0;
fail:
	vtd_kstate_free(ks);
	return -(int)err->code;
}

void vtd_kstate_free(struct vtd_kstate *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nmissing; i++)
		free(ks->missing[i]);
	free(ks->missing);
	free(ks->units);
	free(ks->domains);
	free(ks->devices);
	free(ks);
}
