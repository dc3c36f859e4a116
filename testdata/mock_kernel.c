/* Mock crashed kernel (see mock_kernel.h). */
#include "mock_kernel.h"
#include "mock/mock-kernel.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define START_KERNEL_MAP 0xffffffff80000000ull
#define KASLR 0x2e00000ull                    /* a 2 MiB-aligned KASLR slide */
#define PAGE_OFFSET 0xff40fdc000000000ull     /* randomized direct map, as on the real dumps */

struct syms {
	uint64_t dmar_drhd_units, pci_root_buses, intel_iommu_sm, eim_mode,
		 page_offset_base, crashk_res, crashk_low_res, init_top_pgt,
		 prb, printk_rb_static, intel_ir_chip, pci_msi_chip, irq_desc_tree, max_pfn;
	uint64_t lo, hi;            /* extent of the image's allocated sections */
	char build_id[80];
	/* every symbol, for the kallsyms tables; the .BTF section (pahole -J) */
	struct ksym { char *name; uint64_t addr; char type; } *all;
	size_t nall;
	unsigned char *btf;
	size_t btf_len;
};

struct mk {
	struct scn *s;
	struct mock *m;
	struct syms y;
	uint64_t kpa;               /* PA of the kernel image's first page */
	uint64_t next_obj, end_obj; /* slab: a run of free pages */
	char *err;
	size_t errlen;
};

/* A symbol for kallsyms, typed as nm types it (t text, r rodata, d data,
 * b bss; upper case when global). */
static void add_ksym(Elf *e, struct syms *y, const GElf_Sym *sym, const char *n)
{
	int st = GELF_ST_TYPE(sym->st_info);
	if (!*n || (st != STT_FUNC && st != STT_OBJECT && st != STT_NOTYPE) ||
	    sym->st_shndx == SHN_UNDEF || sym->st_shndx >= SHN_LORESERVE || sym->st_value < START_KERNEL_MAP)
		return;
	GElf_Shdr sh;
	Elf_Scn *scn = elf_getscn(e, sym->st_shndx);
	char t = 'r';
	if (scn && gelf_getshdr(scn, &sh))
		t = (sh.sh_flags & SHF_EXECINSTR) ? 't' : sh.sh_type == SHT_NOBITS ? 'b' :
		    (sh.sh_flags & SHF_WRITE) ? 'd' : 'r';
	if (GELF_ST_BIND(sym->st_info) != STB_LOCAL)
		t = (char)(t - 'a' + 'A');
	struct ksym *nv = realloc(y->all, (y->nall + 1) * sizeof(*nv));
	if (!nv)
		return;
	y->all = nv;
	y->all[y->nall++] = (struct ksym){ strdup(n), sym->st_value, t };
}

static void syms_free(struct syms *y)
{
	for (size_t i = 0; i < y->nall; i++)
		free(y->all[i].name);
	free(y->all);
	free(y->btf);
}

static int read_syms(const char *path, struct syms *y, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx = 0;
	memset(y, 0, sizeof(*y));
	y->lo = UINT64_MAX;
	elf_version(EV_CURRENT);
	if (fd < 0 || !(e = elf_begin(fd, ELF_C_READ, NULL)) || elf_getshdrstrndx(e, &shstrndx)) {
		snprintf(err, errlen, "%s: cannot read the mock vmlinux", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if ((sh.sh_flags & SHF_ALLOC) && sh.sh_addr >= START_KERNEL_MAP) {
			if (sh.sh_addr < y->lo)
				y->lo = sh.sh_addr;
			if (sh.sh_addr + sh.sh_size > y->hi)
				y->hi = sh.sh_addr + sh.sh_size;
		}
		Elf_Data *d = elf_getdata(scn, NULL);
		const char *sname = elf_strptr(e, shstrndx, sh.sh_name);
		if (sname && !strcmp(sname, ".BTF") && d && d->d_size && !y->btf) {
			y->btf = malloc(d->d_size);
			if (y->btf) {
				memcpy(y->btf, d->d_buf, d->d_size);
				y->btf_len = d->d_size;
			}
		}
		if (sh.sh_type == SHT_NOTE && d) {
			size_t o = 0, no, desc;
			GElf_Nhdr nh;
			while ((o = gelf_getnote(d, o, &nh, &no, &desc)) > 0)
				if (nh.n_type == NT_GNU_BUILD_ID)
					for (size_t i = 0; i < nh.n_descsz && i < 39; i++)
						sprintf(y->build_id + 2 * i, "%02x",
							((unsigned char *)d->d_buf)[desc + i]);
		}
		if (sh.sh_type != SHT_SYMTAB || !d)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;
			if (!gelf_getsym(d, (int)i, &sym) || !(n = elf_strptr(e, sh.sh_link, sym.st_name)))
				continue;
			struct { const char *name; uint64_t *v; } t[] = {
				{ "dmar_drhd_units", &y->dmar_drhd_units }, { "pci_root_buses", &y->pci_root_buses },
				{ "intel_iommu_sm", &y->intel_iommu_sm }, { "eim_mode", &y->eim_mode },
				{ "page_offset_base", &y->page_offset_base }, { "crashk_res", &y->crashk_res },
				{ "crashk_low_res", &y->crashk_low_res }, { "init_top_pgt", &y->init_top_pgt },
				{ "prb", &y->prb }, { "printk_rb_static", &y->printk_rb_static },
				{ "intel_ir_chip", &y->intel_ir_chip }, { "pci_msi_chip", &y->pci_msi_chip },
				{ "irq_desc_tree", &y->irq_desc_tree }, { "max_pfn", &y->max_pfn },
			};
			for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
				if (!strcmp(n, t[k].name))
					*t[k].v = sym.st_value;
			add_ksym(e, y, &sym, n);
		}
	}
	elf_end(e);
	close(fd);
	if (!y->dmar_drhd_units || !y->pci_root_buses || y->lo >= y->hi) {
		snprintf(err, errlen, "%s: not the mock vmlinux (symbols missing)", path);
		syms_free(y);
		return -1;
	}
	return 0;
}

/* A run of n free RAM pages, searched downward from the top of RAM. */
static int free_run(struct mk *k, uint64_t n, uint64_t *pa)
{
	size_t nr = img_nram(k->s->img);
	const struct img_range *r = img_ram(k->s->img);
	for (size_t i = nr; i-- > 0;) {
		uint64_t run = 0;
		for (uint64_t pfn = r[i].end / IMG_PAGE; pfn-- > r[i].start / IMG_PAGE;) {
			run = img_page_const(k->s->img, pfn) ? 0 : run + 1;
			if (run == n) {
				*pa = pfn * IMG_PAGE;
				return 0;
			}
		}
	}
	snprintf(k->err, k->errlen, "no %" PRIu64 " free pages for the mock kernel", n);
	return -1;
}

/* Kernel virtual address of image symbol v (link-time) after KASLR. */
static uint64_t kva(uint64_t link) { return link + KASLR; }
static uint64_t kpa(struct mk *k, uint64_t link) { return k->kpa + (link - k->y.lo); }
static uint64_t dva(uint64_t pa) { return PAGE_OFFSET + pa; }

/* The kernel's kallsyms tables and BTF, laid after the image as the kernel
 * links them into .rodata: the generator's own encoder (a few multi-char
 * tokens, so that token expansion is exercised), absolute-per-CPU offsets
 * against kallsyms_relative_base, and the .BTF section pahole -J added to
 * the mock vmlinux.  VMCOREINFO gets the SYMBOL(kallsyms_*) lines. */
struct kx {
	unsigned char *blob;
	size_t len;
	uint64_t link;              /* link-time address of blob[0] */
	char vmci[600];
};

static const char *const kx_tokens[] = { NULL, "dmar_", "intel_", "kallsyms_", "pci_",
					 "iommu", "_BTF", "irq_", "mock_" };
#define KX_NTOK (sizeof(kx_tokens) / sizeof(kx_tokens[0]))

static const char *kx_token(unsigned b)
{
	static char one[256][2];
	if (b && b < KX_NTOK)
		return kx_tokens[b];
	if (b < 0x20 || b > 0x7e)
		return "?";
	one[b][0] = (char)b;
	return one[b];
}

/* Encode "Tname" into out (returns length, 0 if it does not fit). */
static size_t kx_encode(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		unsigned best = 0;
		size_t bl = 1;
		for (unsigned t = 1; t < KX_NTOK; t++) {
			size_t l = strlen(kx_tokens[t]);
			if (l > bl && !strncmp(s, kx_tokens[t], l))
				best = t, bl = l;
		}
		out[n++] = best ? (unsigned char)best : (unsigned char)*s;
		s += bl;
	}
	return *s ? 0 : n;
}

static uint64_t al8(uint64_t v) { return (v + 7) & ~7ull; }

static int build_kx(struct syms *y, struct kx *x, char *err, size_t errlen)
{
	static const char *const extra[] = { "kallsyms_num_syms", "kallsyms_relative_base",
		"kallsyms_token_index", "kallsyms_token_table", "kallsyms_names", "kallsyms_offsets",
		"__start_BTF", "__stop_BTF" };
	size_t nx = y->btf ? 8 : 6, n = y->nall + nx;
	unsigned char *names = malloc(n * 130);
	char tt[2048];
	size_t ttl = 0, nl = 0;
	uint16_t tidx[256];
	memset(x, 0, sizeof(*x));
	if (!names) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned b = 0; b < 256; b++) {
		const char *t = kx_token(b);
		tidx[b] = (uint16_t)ttl;
		memcpy(tt + ttl, t, strlen(t) + 1);
		ttl += strlen(t) + 1;
	}
	for (size_t i = 0; i < n; i++) {
		char full[130];
		snprintf(full, sizeof(full), "%c%s", i < y->nall ? y->all[i].type : 'R',
			 i < y->nall ? y->all[i].name : extra[i - y->nall]);
		size_t l = kx_encode(full, names + nl + 1, 127);
		if (!l) {
			free(names);
			snprintf(err, errlen, "mock kallsyms: symbol %s too long", full + 1);
			return -1;
		}
		names[nl] = (unsigned char)l;
		nl += l + 1;
	}
	uint64_t X = (y->hi + 4095) & ~4095ull;
	uint64_t a_num = X, a_rb = X + 8, a_ti = X + 16, a_tt = X + 16 + sizeof(tidx);
	uint64_t a_names = al8(a_tt + ttl), a_off = al8(a_names + nl), a_btf = al8(a_off + 4 * n);
	uint64_t end = a_btf + y->btf_len;
	uint64_t xaddr[8] = { a_num, a_rb, a_ti, a_tt, a_names, a_off, a_btf, end };
	x->len = end - X;
	x->link = X;
	x->blob = calloc(1, x->len);
	if (!x->blob) {
		free(names);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t rbase = kva(y->lo);
	uint32_t nsyms = (uint32_t)n;
	memcpy(x->blob + (a_num - X), &nsyms, 4);
	memcpy(x->blob + (a_rb - X), &rbase, 8);
	memcpy(x->blob + (a_ti - X), tidx, sizeof(tidx));
	memcpy(x->blob + (a_tt - X), tt, ttl);
	memcpy(x->blob + (a_names - X), names, nl);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = kva(i < y->nall ? y->all[i].addr : xaddr[i - y->nall]);
		int32_t off = (int32_t)(int64_t)(rbase - 1 - a);   /* negative: relative */
		memcpy(x->blob + (a_off - X) + 4 * i, &off, 4);
	}
	if (y->btf)
		memcpy(x->blob + (a_btf - X), y->btf, y->btf_len);
	free(names);
	snprintf(x->vmci, sizeof(x->vmci),
		 "SYMBOL(kallsyms_names)=%" PRIx64 "\nSYMBOL(kallsyms_num_syms)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_token_table)=%" PRIx64 "\nSYMBOL(kallsyms_token_index)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_offsets)=%" PRIx64 "\nSYMBOL(kallsyms_relative_base)=%" PRIx64 "\n",
		 kva(a_names), kva(a_num), kva(a_tt), kva(a_ti), kva(a_off), kva(a_rb));
	y->hi = end;
	return 0;
}

/* Allocate a zeroed object (direct-mapped "slab"). */
static uint64_t obj(struct mk *k, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (k->next_obj + size > k->end_obj)
		return 0;
	uint64_t pa = k->next_obj;
	k->next_obj += size;
	return pa;
}

static void put(struct mk *k, uint64_t pa, const void *p, size_t n) { img_write(k->s->img, pa, p, n); }

/* list_add_tail of an element at elem_pa (its list_head) to the head at head_pa. */
static void list_init(struct mk *k, uint64_t head_pa, uint64_t head_va)
{
	struct list_head h = { (void *)head_va, (void *)head_va };
	put(k, head_pa, &h, sizeof(h));
}

static void list_add_tail(struct mk *k, uint64_t head_pa, uint64_t head_va,
			  uint64_t el_pa, uint64_t el_va)
{
	struct list_head h, last, el;
	img_read(k->s->img, head_pa, &h, sizeof(h));
	uint64_t last_va = (uint64_t)h.prev;
	uint64_t last_pa = last_va == head_va ? head_pa :
		(last_va >= START_KERNEL_MAP ? kpa(k, last_va - KASLR) : last_va - PAGE_OFFSET);
	img_read(k->s->img, last_pa, &last, sizeof(last));
	el.next = (void *)head_va;
	el.prev = (void *)last_va;
	put(k, el_pa, &el, sizeof(el));
	last.next = (void *)el_va;
	put(k, last_pa, &last, sizeof(last));
	img_read(k->s->img, head_pa, &h, sizeof(h));   /* last may have been the head */
	h.prev = (void *)el_va;
	put(k, head_pa, &h, sizeof(h));
}

static int unit_index(struct scn *s, const char *name)
{
	for (size_t i = 0; i < s->nunits; i++)
		if (!strcmp(s->units[i].name, name))
			return (int)i;
	return -1;
}

/* The kernel log: a lockless printk ring buffer with a banner, a
 * multi-line record and the DMAR fault lines of m->faults. */
static int write_log(struct mk *k, struct mock *m)
{
	char lines[8][200];
	unsigned n = 0;
	snprintf(lines[n++], sizeof(lines[0]), "Linux version %s (vtdscope@testdata) #1 SMP", MOCK_RELEASE);
	snprintf(lines[n++], sizeof(lines[0]), "DMAR: IOMMU enabled\nsecond line of a record");
	for (unsigned i = 0; i < m->nfaults; i++) {
		const struct mock_fault *f = &m->faults[i];
		char pasid[32];
		if (f->pasid == VTD_NO_PASID)
			snprintf(pasid, sizeof(pasid), "NO_PASID");
		else
			snprintf(pasid, sizeof(pasid), "PASID 0x%x", (unsigned)f->pasid);
		snprintf(lines[n++], sizeof(lines[0]), "DMAR: [DMA %s %s] Request device [%02x:%02x.%d] "
			 "fault addr 0x%" PRIx64 " [fault reason 0x%02x] (mock)", f->write ? "Write" : "Read",
			 pasid, f->sid >> 8, (f->sid >> 3) & 31, f->sid & 7, f->addr, f->reason);
	}
	enum { COUNT_BITS = 4, SIZE_BITS = 12 };
	struct prb_desc descs[1 << COUNT_BITS];
	struct printk_info infos[1 << COUNT_BITS];
	uint64_t d_pa = obj(k, sizeof(descs)), i_pa = obj(k, sizeof(infos)), t_pa = obj(k, 1 << SIZE_BITS);
	if (!d_pa || !i_pa || !t_pa)
		return -1;
	memset(descs, 0, sizeof(descs));
	memset(infos, 0, sizeof(infos));
	uint64_t lpos = 0;
	for (unsigned id = 0; id < n; id++) {
		size_t len = strlen(lines[id]);
		uint64_t blk = (8 + len + 7) & ~7ull;
		uint64_t idv = id;
		put(k, t_pa + lpos, &idv, 8);
		put(k, t_pa + lpos + 8, lines[id], len);
		descs[id].state_var.counter = (long)((uint64_t)id | 2ull << 62);    /* finalized */
		descs[id].text_blk_lpos.begin = lpos;
		descs[id].text_blk_lpos.next = lpos + blk;
		infos[id].seq = id;
		infos[id].ts_nsec = (id + 1) * 1000000000ull + 123456000ull;
		infos[id].text_len = (u16)len;
		lpos += blk;
	}
	put(k, d_pa, descs, sizeof(descs));
	put(k, i_pa, infos, sizeof(infos));
	struct printk_ringbuffer rb = { 0 };
	rb.desc_ring.count_bits = COUNT_BITS;
	rb.desc_ring.descs = (void *)dva(d_pa);
	rb.desc_ring.infos = (void *)dva(i_pa);
	rb.desc_ring.head_id.counter = (long)(n - 1);
	rb.desc_ring.tail_id.counter = 0;
	rb.text_data_ring.size_bits = SIZE_BITS;
	rb.text_data_ring.data = (void *)dva(t_pa);
	rb.text_data_ring.head_lpos.counter = (long)lpos;
	put(k, kpa(k, k->y.printk_rb_static), &rb, sizeof(rb));
	uint64_t p = kva(k->y.printk_rb_static);
	put(k, kpa(k, k->y.prb), &p, 8);
	m->nlog = n;
	return 0;
}

/* One IRQ per expected IRTE (up to 60): irq_desc → PCI-MSI irq_data →
 * parent IR irq_data (chip intel_ir_chip) → intel_ir_data holding the
 * entry the kernel wrote, in an xarray node (irq numbers 1..60). */
static int write_irqs(struct mk *k, struct mock *m, const uint64_t *iommu_va)
{
	struct xa_node node = { 0 };
	uint64_t node_pa = obj(k, sizeof(node));
	if (!node_pa)
		return -1;
	for (size_t i = 0; i < k->s->nirtes && m->nshadows < 60; i++) {
		const struct scn_irte *x = &k->s->irtes[i];
		int ui = unit_index(k->s, x->unit);
		struct intel_ir_data ir = { 0 };
		struct irq_data parent = { 0 };
		struct irq_desc desc = { 0 };
		uint64_t ir_pa = obj(k, sizeof(ir)), p_pa = obj(k, sizeof(parent)), d_pa = obj(k, sizeof(desc));
		if (ui < 0 || !ir_pa || !p_pa || !d_pa)
			return -1;
		unsigned irq = 1 + m->nshadows++;
		ir.irq_2_iommu.iommu = (void *)iommu_va[ui];
		ir.irq_2_iommu.irte_index = (u16)x->index;
		ir.irq_2_iommu.mode = x->posted ? IRQ_POSTING : IRQ_REMAPPING;
		ir.irte_entry.low = x->irte.low;
		ir.irte_entry.high = x->irte.high;
		put(k, ir_pa, &ir, sizeof(ir));
		parent.irq = irq;
		parent.chip = (void *)kva(k->y.intel_ir_chip);
		parent.chip_data = (void *)dva(ir_pa);
		put(k, p_pa, &parent, sizeof(parent));
		desc.irq_data.irq = irq;
		desc.irq_data.chip = (void *)kva(k->y.pci_msi_chip);
		desc.irq_data.parent_data = (void *)dva(p_pa);
		put(k, d_pa, &desc, sizeof(desc));
		node.slots[irq] = (void *)dva(d_pa);
		node.count++;
	}
	put(k, node_pa, &node, sizeof(node));
	struct xarray xa = { 0, 0, (void *)(dva(node_pa) | 2) };
	put(k, kpa(k, k->y.irq_desc_tree), &xa, sizeof(xa));
	return 0;
}

/* What Linux 6.1 keeps in device_domain_info for the entries it wrote: the
 * capability bits (legacy TT 1 = ATS; scalable DTE, PASIDE, PRE) and, in
 * scalable mode, the pasid_table whose directory the context entry names. */
static int device_caps(struct mk *k, int ui, uint16_t sid, struct device_domain_info *info)
{
	const struct vtd_unit *u = &k->s->units[ui];
	uint64_t root = rtaddr_rta(u->rtaddr), re = 0, ce = 0;
	bool sm = vtd_unit_scalable(u);
	unsigned bus = sid >> 8, devfn = sid & 0xff;
	if (img_read(k->s->img, root + 16 * bus + (sm && devfn >= 0x80 ? 8 : 0), &re, 8) || !(re & 1))
		return 0;
	uint64_t ctp = re & ~0xfffull, at = ctp + (sm ? 32 * (devfn & 0x7f) : 16 * devfn);
	if (img_read(k->s->img, at, &ce, 8) || !(ce & 1))
		return 0;
	if (!sm) {
		info->ats_supported = ((ce >> 2) & 3) == 1;
		return 0;
	}
	info->ats_supported = (ce >> 2) & 1;
	info->pasid_supported = (ce >> 3) & 1;
	info->pri_supported = (ce >> 4) & 1;
	struct pasid_table pt = { 0 };
	unsigned pdts = (ce >> 9) & 7;
	uint64_t pt_pa = obj(k, sizeof(pt));
	if (!pt_pa)
		return -1;
	pt.table = (void *)dva(ce & ~0xfffull);
	pt.order = pdts > 2 ? (int)(pdts - 2) : 0;           /* 2^(PDTS+7) 8-byte entries */
	pt.max_pasid = 1u << (pdts + 7 + 6);                /* 64 PASIDs per directory entry */
	put(k, pt_pa, &pt, sizeof(pt));
	info->pasid_table = (void *)dva(pt_pa);
	return 0;
}

struct mock *mock_kernel_add(struct scn *s, const char *vmlinux, char *err, size_t errlen)
{
	struct mk k = { .s = s, .err = err, .errlen = errlen };
	uint64_t iommu_va[16] = { 0 }, base;
	if (s->nunits > 16) {
		snprintf(err, errlen, "mock kernel: too many units");
		return NULL;
	}
	struct kx x;
	if (read_syms(vmlinux, &k.y, err, errlen))
		return NULL;
	int kxr = build_kx(&k.y, &x, err, errlen);
	syms_free(&k.y);
	if (kxr)
		return NULL;
	uint64_t kpages = (k.y.hi - k.y.lo + IMG_PAGE - 1) / IMG_PAGE;
	if (free_run(&k, kpages + 64, &base)) {
		free(x.blob);
		return NULL;
	}
	k.kpa = base;
	k.next_obj = base + kpages * IMG_PAGE;
	k.end_obj = base + (kpages + 64) * IMG_PAGE;
	/* all of the kernel's pages exist in the dump (dump level keeps them) */
	for (uint64_t p = base; p < k.end_obj; p += IMG_PAGE)
		img_page(s->img, p / IMG_PAGE, true);
	put(&k, kpa(&k, x.link), x.blob, x.len);
	free(x.blob);

	struct mock *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->kaslr = KASLR;
	m->page_offset_base = PAGE_OFFSET;
	m->slab_start = base + kpages * IMG_PAGE;
	m->slab_end = k.end_obj;
	/* pa = va - START_KERNEL_MAP + phys_base for the runtime (KASLR'd) va */
	m->phys_base = k.kpa - (kva(k.y.lo) - START_KERNEL_MAP);
	snprintf(m->build_id, sizeof(m->build_id), "%s", k.y.build_id);

	uint64_t v64 = PAGE_OFFSET;
	put(&k, kpa(&k, k.y.page_offset_base), &v64, 8);
	int sm = 0;
	for (size_t i = 0; i < s->nunits; i++)
		sm |= vtd_unit_scalable(&s->units[i]);
	put(&k, kpa(&k, k.y.intel_iommu_sm), &sm, 4);
	int eim = 0;
	for (size_t i = 0; i < s->nunits; i++)
		eim |= irta_eime(s->units[i].irta) ? 1 : 0;
	if (k.y.eim_mode)
		put(&k, kpa(&k, k.y.eim_mode), &eim, 4);
	m->eim_mode = eim;
	/* crashkernel: the top 64 MiB of the last RAM range, or none if small */
	const struct img_range *r = img_ram(s->img);
	struct resource cr = { 0 };
	if (img_nram(s->img) && r[img_nram(s->img) - 1].end - r[img_nram(s->img) - 1].start > (128u << 20)) {
		cr.end = r[img_nram(s->img) - 1].end - 1;
		cr.start = cr.end + 1 - (64u << 20);
		m->crashk_start = cr.start;
		m->crashk_end = cr.end;
	}
	put(&k, kpa(&k, k.y.crashk_res), &cr, sizeof(cr));
	uint64_t maxpfn = img_max_pfn(s->img);     /* Linux: one past the highest RAM page */
	if (k.y.max_pfn)
		put(&k, kpa(&k, k.y.max_pfn), &maxpfn, 8);

	/* units */
	list_init(&k, kpa(&k, k.y.dmar_drhd_units), kva(k.y.dmar_drhd_units));
	for (size_t i = 0; i < s->nunits; i++) {
		const struct vtd_unit *u = &s->units[i];
		struct intel_iommu io = { 0 };
		struct dmar_drhd_unit dr = { 0 };
		uint64_t io_pa = obj(&k, sizeof(io)), dr_pa = obj(&k, sizeof(dr));
		if (!io_pa || !dr_pa)
			goto full;
		io.reg_phys = 0xfed90000ull + 0x1000 * i;
		io.reg_size = 0x1000;
		io.cap = u->cap;
		io.ecap = u->ecap;
		io.gcmd = 0x86000000u;                 /* TE | QIE | IRE */
		io.seq_id = (int)i;
		io.segment = u->segment;
		memcpy(io.name, u->name, strnlen(u->name, sizeof(io.name) - 1));
		/* Linux iommu_calculate_agaw(): the widest SAGAW up to 57 bits (agaw 3);
		 * iommu_calculate_max_sagaw(): up to 64 bits */
		io.agaw = io.msagaw = 1;
		for (int a = 0; a <= 4; a++)
			if (cap_sagaw(u->cap) >> a & 1) {
				if (a <= 3)
					io.agaw = a;
				io.msagaw = a;
			}
		if (u->rtaddr)
			io.root_entry = (void *)dva(rtaddr_rta(u->rtaddr));
		if (u->irta) {
			struct ir_table t = { (void *)dva(irta_irta(u->irta)), NULL };
			uint64_t t_pa = obj(&k, sizeof(t));
			if (!t_pa)
				goto full;
			put(&k, t_pa, &t, sizeof(t));
			io.ir_table = (void *)dva(t_pa);
		}
		if (u->qi.iqa) {
			struct q_inval q = { 0 };
			uint64_t q_pa = obj(&k, sizeof(q));
			if (!q_pa)
				goto full;
			q.desc = (void *)dva(iqa_iqa(u->qi.iqa));
			if (u->qi.status_pa && u->qi.status_pa != VTD_NOADDR)
				q.desc_status = (void *)dva(u->qi.status_pa);
			q.free_head = u->qi.free_head;
			q.free_tail = u->qi.free_tail;
			put(&k, q_pa, &q, sizeof(q));
			io.qi = (void *)dva(q_pa);
		}
		io.drhd = (void *)dva(dr_pa);
		put(&k, io_pa, &io, sizeof(io));
		iommu_va[i] = dva(io_pa);
		dr.reg_base_addr = io.reg_phys;
		dr.segment = u->segment;
		dr.iommu = (void *)dva(io_pa);
		put(&k, dr_pa, &dr, sizeof(dr));
		list_add_tail(&k, kpa(&k, k.y.dmar_drhd_units), kva(k.y.dmar_drhd_units),
			      dr_pa + offsetof(struct dmar_drhd_unit, list),
			      dva(dr_pa) + offsetof(struct dmar_drhd_unit, list));
	}

	/* PCI: one root bus per (segment, bus) seen, devices from the contexts
	 * (RID_PASID / legacy context), each with its domain */
	list_init(&k, kpa(&k, k.y.pci_root_buses), kva(k.y.pci_root_buses));
	struct { int seg, bus; uint64_t pa; } buses[64];
	size_t nbuses = 0;
	struct { int unit, did; uint64_t pa; } doms[256];
	size_t ndoms = 0;
	for (size_t c = 0; c < s->nctxs; c++) {
		const struct vtd_devctx *dc = &s->ctxs[c];
		int ui = unit_index(s, s->ctx_units[c]);
		if (ui < 0 || (dc->pasid != VTD_NO_PASID && dc->pasid != 0))
			continue;
		int seg = s->units[ui].segment, bus = dc->sid >> 8;
		size_t b;
		for (b = 0; b < nbuses; b++)
			if (buses[b].seg == seg && buses[b].bus == bus)
				break;
		if (b == nbuses) {
			struct pci_bus pb = { 0 };
			uint64_t pb_pa = obj(&k, sizeof(pb));
			if (!pb_pa || nbuses == 64)
				goto full;
			pb.number = (unsigned char)bus;
			uint64_t dl = dva(pb_pa) + offsetof(struct pci_bus, devices);
			pb.devices.next = pb.devices.prev = (void *)dl;
			pb.children.next = pb.children.prev = (void *)(dva(pb_pa) + offsetof(struct pci_bus, children));
			put(&k, pb_pa, &pb, sizeof(pb));
			list_add_tail(&k, kpa(&k, k.y.pci_root_buses), kva(k.y.pci_root_buses),
				      pb_pa + offsetof(struct pci_bus, node), dva(pb_pa) + offsetof(struct pci_bus, node));
			buses[nbuses].seg = seg, buses[nbuses].bus = bus, buses[nbuses++].pa = pb_pa;
		}
		/* the domain: one per (unit, did) */
		size_t d;
		for (d = 0; d < ndoms; d++)
			if (doms[d].unit == ui && doms[d].did == dc->did)
				break;
		if (d == ndoms) {
			struct dmar_domain dm = { 0 };
			struct iommu_domain_info di = { (void *)iommu_va[ui], 1, (u16)dc->did };
			uint64_t dm_pa = obj(&k, sizeof(dm)), di_pa = obj(&k, sizeof(di));
			if (!dm_pa || !di_pa || ndoms == 256)
				goto full;
			put(&k, di_pa, &di, sizeof(di));
			if (ui == 0) {
				dm.iommu_array.xa_head = (void *)dva(di_pa);
			} else {                        /* an xa_node: index = seq_id */
				struct xa_node node = { 0 };
				uint64_t n_pa = obj(&k, sizeof(node));
				if (!n_pa)
					goto full;
				node.slots[ui] = (void *)dva(di_pa);
				node.count = 1;
				put(&k, n_pa, &node, sizeof(node));
				dm.iommu_array.xa_head = (void *)(dva(n_pa) | 2);
			}
			bool fl = dc->xtype == VTD_XT_FL || dc->xtype == VTD_XT_NESTED;
			uint64_t top = fl ? dc->fl_root : dc->sl_root;
			dm.use_first_level = fl;
			dm.pgd = dc->xtype == VTD_XT_PT || !top ? NULL : (void *)dva(top);
			dm.agaw = dc->xtype == VTD_XT_PT ? 1 : (int)(fl ? dc->fl_levels : dc->sl_levels) - 2;
			dm.gaw = 30 + 9 * dm.agaw;
			dm.domain.type = dc->xtype == VTD_XT_PT ? 0x4 : 0xb;   /* IDENTITY : DMA_FQ */
			put(&k, dm_pa, &dm, sizeof(dm));
			doms[ndoms].unit = ui, doms[ndoms].did = dc->did, doms[ndoms++].pa = dm_pa;
		}
		struct device_domain_info info = { 0 };
		struct dev_iommu di = { 0 };
		struct device_driver drv = { 0 };
		struct pci_dev pd = { 0 };
		uint64_t info_pa = obj(&k, sizeof(info)), di_pa = obj(&k, sizeof(di));
		uint64_t drv_pa = obj(&k, sizeof(drv)), name_pa = obj(&k, 16), pd_pa = obj(&k, sizeof(pd));
		if (!info_pa || !di_pa || !drv_pa || !name_pa || !pd_pa)
			goto full;
		put(&k, name_pa, "mockdrv", 8);
		drv.name = (void *)dva(name_pa);
		put(&k, drv_pa, &drv, sizeof(drv));
		info.segment = (u32)seg;
		info.bus = (u8)bus;
		info.devfn = (u8)(dc->sid & 0xff);
		info.iommu = (void *)iommu_va[ui];
		info.domain = (void *)dva(doms[d].pa);
		info.dev = (void *)(dva(pd_pa) + offsetof(struct pci_dev, dev));
		if (device_caps(&k, ui, dc->sid, &info))
			goto full;
		put(&k, info_pa, &info, sizeof(info));
		di.priv = (void *)dva(info_pa);
		put(&k, di_pa, &di, sizeof(di));
		pd.bus = (void *)dva(buses[b].pa);
		pd.devfn = dc->sid & 0xff;
		pd.vendor = 0x8086;
		pd.device = (unsigned short)(0x1000 + (dc->sid & 0xff));
		pd.dev.driver = (void *)dva(drv_pa);
		pd.dev.iommu = (void *)dva(di_pa);
		put(&k, pd_pa, &pd, sizeof(pd));
		list_add_tail(&k, buses[b].pa + offsetof(struct pci_bus, devices),
			      dva(buses[b].pa) + offsetof(struct pci_bus, devices),
			      pd_pa + offsetof(struct pci_dev, bus_list), dva(pd_pa) + offsetof(struct pci_dev, bus_list));
	}

	/* up to four of the scenario's expected faults, logged */
	for (size_t i = 0; i < s->nxlates && m->nfaults < 4; i++) {
		const struct scn_xlate *x = &s->xlates[i];
		if (!x->fault || unit_index(s, x->unit) != 0)
			continue;
		struct mock_fault *f = &m->faults[m->nfaults++];
		snprintf(f->unit, sizeof(f->unit), "%s", x->unit);
		f->sid = x->rq.sid;
		f->pasid = x->rq.pasid;
		f->addr = x->rq.iova;
		f->write = (x->rq.access & VTD_ACC_WRITE) != 0;
		f->reason = x->fault;
	}
	if (k.y.prb && write_log(&k, m))
		goto full;
	if (k.y.irq_desc_tree && k.y.intel_ir_chip && write_irqs(&k, m, iommu_va))
		goto full;

	char vi[2048];
	int vl = snprintf(vi, sizeof(vi),
		 "OSRELEASE=%s\nBUILD-ID=%s\nPAGESIZE=4096\n"
		 "SYMBOL(init_top_pgt)=%" PRIx64 "\nSYMBOL(swapper_pg_dir)=%" PRIx64 "\n"
		 "NUMBER(phys_base)=%" PRId64 "\nNUMBER(pgtable_l5_enabled)=0\n"
		 "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\nKERNELOFFSET=%" PRIx64 "\nCRASHTIME=1700000000\n",
		 MOCK_RELEASE, m->build_id, kva(k.y.init_top_pgt), kva(k.y.init_top_pgt),
		 (int64_t)m->phys_base, (uint64_t)KASLR);
	m->vmcoreinfo_bare = strdup(vi);
	snprintf(vi + vl, sizeof(vi) - (size_t)vl, "%s", x.vmci);
	m->vmcoreinfo = strdup(vi);
	s->info.vmcoreinfo = m->vmcoreinfo;
	s->info.release = MOCK_RELEASE;
	s->info.phys_base = m->phys_base;
	s->info.page_offset = PAGE_OFFSET;
	return m;
full:
	snprintf(err, errlen, "mock kernel: out of object space");
	mock_free(m);
	return NULL;
}

void mock_free(struct mock *m)
{
	if (!m)
		return;
	free(m->vmcoreinfo);
	free(m->vmcoreinfo_bare);
	free(m);
}

struct scn *scn_load_generated(const char *path, const char *vmlinux, struct mock **mk,
			       char *err, size_t errlen)
{
	struct scn *s = scn_load(path, err, errlen);
	*mk = NULL;
	if (!s || !vmlinux)
		return s;
	*mk = mock_kernel_add(s, vmlinux, err, errlen);
	if (!*mk) {
		scn_free(s);
		return NULL;
	}
	return s;
}

const char *mock_vmlinux_path(void)
{
	static char p[4096];
	const char *b = getenv("VTD_BUILD");
	snprintf(p, sizeof(p), "%s/mock-vmlinux", b && *b ? b : "build");
	return p;
}
