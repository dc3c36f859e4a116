/* vtd commands (see commands.h).  Each command writes through a sink, so the
 * same code gives crash-style columns or JSON. */
#include "commands.h"
#include "sink.h"
#include "vtd/scan.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

const char vtd_commands_usage[] =
	"  units                          DMAR units: registers, mode, table addresses\n"
	"  root [UNIT]                    present root entries\n"
	"  context [BDF]                  present context entries (scalable: PASID entries)\n"
	"  pasid BDF [PASID]              PASID directory and table entries of a device\n"
	"  map BDF [--pasid N]            IOVA -> physical mappings of a device\n"
	"  translate BDF IOVA [--pasid N] [--write]\n"
	"                                 walk one request, level by level\n"
	"  who PADDR [LEN]                every device/PASID/IOVA that reaches a physical range\n"
	"  domains                        the kernel's DMA domains\n"
	"  devices                        PCI devices and their IOMMU attachment\n"
	"  irte [UNIT]                    present interrupt-remapping entries\n"
	"  qi [UNIT]                      invalidation queue slots and wait status\n"
	"  faults                         DMAR fault lines of the kernel log, each translated again\n"
	"  log                            the crashed kernel's log (printk ring buffer)\n"
	"  check                          walk everything; report every problem and takeover finding\n"
	"  restore DUMP OUT               (vtd only) write OUT: DUMP with original IOMMU\n"
	"                                 table bytes restored from evidence, and its marks\n"
	"  restore --undo DUMP OUT        (vtd only) OUT: the as-captured dump, byte for byte\n"
	"  marks [--reason R] [--pfn N]   pages to distrust: TABLE HW_WRITABLE DMA_WRITABLE CHANGED\n"
	"                                 TAKEOVER_WRITTEN RESTORED, with evidence\n"
	"  scan [N]                       find root tables by their format (no kernel information\n"
	"                                 needed); the N best candidates (default 10)\n"
	"BDF is [SEGMENT:]BUS:DEV.FN in hex; --unit NAME picks the unit when ambiguous.\n";

struct cmd {
	struct vtd_cmdctx *c;
	struct sink *s;
	const char *unit_name;     /* --unit */
	int64_t pasid;             /* --pasid, VTD_NO_PASID if not given */
	bool write;
	unsigned reason;           /* --reason, 0 if not given */
	bool has_pfn;              /* --pfn */
	uint64_t pfn;
	struct vtd_analysis *an;   /* computed once per command */
};

static int usage_err(struct cmd *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_err(struct cmd *k, const char *fmt, ...)
{
	va_list ap;
	fprintf(k->c->err, "%s: ", k->c->prog ? k->c->prog : "vtd");
	va_start(ap, fmt);
	vfprintf(k->c->err, fmt, ap);
	va_end(ap);
	fputc('\n', k->c->err);
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* [SSSS:]BB:DD.F, hex */
static int parse_bdf(const char *s, int *seg, unsigned *bus, unsigned *devfn)
{
	unsigned a, b, d, f;
	char tail;
	if (sscanf(s, "%x:%x:%x.%x%c", &a, &b, &d, &f, &tail) == 4) {
		if (a > 0xffff || b > 0xff || d > 0x1f || f > 7)
			return -1;
		*seg = (int)a, *bus = b, *devfn = d << 3 | f;
		return 0;
	}
	if (sscanf(s, "%x:%x.%x%c", &b, &d, &f, &tail) == 3) {
		if (b > 0xff || d > 0x1f || f > 7)
			return -1;
		*seg = -1, *bus = b, *devfn = d << 3 | f;
		return 0;
	}
	return -1;
}

static void fmt_bdf(char *buf, size_t n, unsigned seg, uint16_t sid)
{
	snprintf(buf, n, "%04x:%02x:%02x.%x", seg, sid >> 8, (sid >> 3) & 0x1f, sid & 7);
}

static const struct vtd_unit *unit_by_name(struct cmd *k, const char *name)
{
	for (size_t i = 0; i < k->c->nunits; i++)
		if (!strcmp(k->c->units[i].name, name))
			return &k->c->units[i];
	return NULL;
}

/* The unit that translates a device: --unit, else the kernel's own record
 * (device_domain_info->iommu), else the unit of that segment whose tables
 * have a present context for it, else the only unit of that segment. */
static const struct vtd_unit *unit_for(struct cmd *k, int seg, unsigned bus, unsigned devfn)
{
	const struct vtd_unit *cand = NULL;
	unsigned ncand = 0;
	if (k->unit_name)
		return unit_by_name(k, k->unit_name);
	if (k->c->ks)
		for (size_t i = 0; i < k->c->ks->ndevices; i++) {
			const struct vtd_kdevice *d = &k->c->ks->devices[i];
			if (d->bus == bus && d->devfn == devfn && (seg < 0 || d->segment == seg) &&
			    d->unit >= 0 && (size_t)d->unit < k->c->nunits)
				return &k->c->units[d->unit];
		}
	for (size_t i = 0; i < k->c->nunits; i++) {
		const struct vtd_unit *u = &k->c->units[i];
		struct vtd_devctx dc;
		struct vtd_error e;
		if (seg >= 0 && u->segment != seg)
			continue;
		if (vtd_devctx_get(k->c->mem, u, vtd_sid(bus, devfn), VTD_NO_PASID, &dc, &e) == 0)
			return u;
		cand = u;
		ncand++;
	}
	return ncand == 1 ? cand : NULL;
}

static const char *perm_str(unsigned p)
{
	static const char *s[] = { "--", "r-", "-w", "rw" };
	return s[p & 3];
}

static void put_error(struct cmd *k, const struct vtd_error *e)
{
	char b[700];
	vtd_error_str(e, b, sizeof(b));
	sink_row(k->s);
	sink_str(k->s, "problem", b);
	sink_row_end(k->s);
}

/* A unit whose tables are not known (its struct intel_iommu was not
 * read): said once per command as a problem row, never walked as zeros. */
static void put_unknown(struct cmd *k, const struct vtd_unit *u)
{
	struct vtd_error e;
	vtd_error_init(&e);
	snprintf(e.unit, sizeof(e.unit), "%s", u->name);
	e.segment = u->segment;
	vtd_error_set(&e, VTD_E_INVAL, "the crashed kernel's struct intel_iommu of this unit is not "
		      "readable: its root table, IR table, invalidation queue, CAP and ECAP are not known");
	put_error(k, &e);
}

/* The same, for a command about one device of that unit: an error. */
static int unknown_err(struct cmd *k, const struct vtd_unit *u, const char *bdf)
{
	fprintf(k->c->err, "%s: %s %s: the crashed kernel's struct intel_iommu of this unit is not "
		"readable: its tables are not known\n", k->c->prog, u->name, bdf);
	return 1;
}

/* ---- units ---- */

static const char *unit_mode(const struct vtd_unit *u)
{
	return vtd_unit_scalable(u) ? "scalable" : "legacy";
}

static int cmd_units(struct cmd *k)
{
	sink_table(k->s, "units");
	for (size_t i = 0; i < k->c->nunits; i++) {
		const struct vtd_unit *u = &k->c->units[i];
		const struct vtd_kunit *ku = k->c->ks ? &k->c->ks->units[i] : NULL;
		sink_row(k->s);
		sink_str(k->s, "unit", u->name);
		sink_u64(k->s, "segment", u->segment);
		if (ku)
			sink_hex(k->s, "reg_phys", ku->reg_phys);
		if (u->unknown) {
			/* not known, not zero: the kernel's record of it is not readable */
			static const char *const cols[] = { "mode", "cap", "ecap", "haw", "root", "irta",
							    "iqa", "gcmd", "flags" };
			for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
				sink_null(k->s, cols[c]);
			sink_row_end(k->s);
			continue;
		}
		sink_str(k->s, "mode", unit_mode(u));
		sink_hex(k->s, "cap", u->cap);
		sink_hex(k->s, "ecap", u->ecap);
		sink_u64(k->s, "haw", vtd_unit_haw(u));
		sink_hex(k->s, "root", rtaddr_rta(u->rtaddr));
		if (u->irta)
			sink_hex(k->s, "irta", u->irta);
		else
			sink_null(k->s, "irta");
		if (u->qi.iqa)
			sink_hex(k->s, "iqa", u->qi.iqa);
		else
			sink_null(k->s, "iqa");
		if (ku) {
			sink_hex(k->s, "gcmd", ku->gcmd);
			sink_hex(k->s, "flags", ku->flags);
			if (ku->has_copied_tables)
				sink_hex(k->s, "copied_tables", ku->copied_tables);
		}
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
	return 0;
}

/* ---- root ---- */

static int cmd_root(struct cmd *k, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : k->unit_name;
	if (only && !unit_by_name(k, only))
		return usage_err(k, "no unit named '%s'", only);
	unsigned nprob = 0;
	sink_table(k->s, "root_entries");
	for (size_t i = 0; i < k->c->nunits; i++) {
		const struct vtd_unit *u = &k->c->units[i];
		uint64_t rt = rtaddr_rta(u->rtaddr), q[512];
		struct vtd_error e;
		if (only && strcmp(u->name, only))
			continue;
		if (u->unknown) {
			put_unknown(k, u);
			nprob++;
			continue;
		}
		vtd_error_init(&e);
		if (vtd_mem_read_qwords(k->c->mem, rt, q, 512, &e)) {
			snprintf(e.unit, sizeof(e.unit), "%s", u->name);
			e.table = rt;
			put_error(k, &e);
			nprob++;
			continue;
		}
		for (unsigned bus = 0; bus < 256; bus++) {
			struct vtd_root_entry re = { q[2 * bus], q[2 * bus + 1] };
			if (!re.lo && !re.hi)
				continue;
			sink_row(k->s);
			sink_str(k->s, "unit", u->name);
			sink_u64(k->s, "bus", bus);
			sink_raw(k->s, "raw", q + 2 * bus, 2);
			if (vtd_unit_scalable(u)) {
				sink_bool(k->s, "lp", root_lp(&re));
				sink_hex(k->s, "lctp", root_entry_lctp(&re));
				sink_bool(k->s, "up", root_up(&re));
				sink_hex(k->s, "uctp", root_entry_uctp(&re));
			} else {
				sink_bool(k->s, "present", root_present(&re));
				sink_hex(k->s, "ctp", root_ctp(&re));
			}
			struct vtd_rsvd r;
			if (vtd_format_check(vtd_unit_scalable(u) ? &vtd_fmt_root_sm : &vtd_fmt_root_legacy,
					     q + 2 * bus, vtd_unit_haw(u), 0, &r))
				sink_str(k->s, "problem", r.field);
			sink_row_end(k->s);
		}
	}
	sink_table_end(k->s);
	return nprob ? 1 : 0;
}

/* ---- context ---- */

struct ctxwalk { struct cmd *k; const struct vtd_unit *u; int seg; int bus, devfn; unsigned nprob; };

static void devctx_row(struct cmd *k, const struct vtd_unit *u, const struct vtd_devctx *dc)
{
	char bdf[20];
	fmt_bdf(bdf, sizeof(bdf), u->segment, dc->sid);
	sink_row(k->s);
	sink_str(k->s, "unit", u->name);
	sink_str(k->s, "bdf", bdf);
	if (dc->pasid == VTD_NO_PASID)
		sink_null(k->s, "pasid");
	else
		sink_i64(k->s, "pasid", dc->pasid);
	sink_i64(k->s, "did", dc->did);
	sink_str(k->s, "xlate", vtd_xtype_name(dc->xtype));
	if (dc->xtype == VTD_XT_SL || dc->xtype == VTD_XT_NESTED) {
		sink_hex(k->s, "sl_root", dc->sl_root);
		sink_u64(k->s, "sl_levels", dc->sl_levels);
	}
	if (dc->xtype == VTD_XT_FL || dc->xtype == VTD_XT_NESTED) {
		sink_hex(k->s, "fl_root", dc->fl_root);
		sink_u64(k->s, "fl_levels", dc->fl_levels);
	}
	sink_bool(k->s, "fpd", dc->fpd);
	sink_raw(k->s, "context", dc->raw_context, vtd_unit_scalable(u) ? 4 : 2);
	if (vtd_unit_scalable(u))
		sink_raw(k->s, "pasid_entry", dc->raw_pasid, 8);
	sink_row_end(k->s);
}

static int cw_dev(void *arg, const struct vtd_devctx *dc)
{
	struct ctxwalk *w = arg;
	if (w->bus >= 0 && (dc->sid >> 8 != w->bus || (dc->sid & 0xff) != w->devfn))
		return 0;
	devctx_row(w->k, w->u, dc);
	return 0;
}

static int cw_diag(void *arg, const struct vtd_error *e)
{
	struct ctxwalk *w = arg;
	if (w->bus >= 0 && (e->bus != w->bus || e->devfn != w->devfn))
		return 0;
	w->nprob++;
	put_error(w->k, e);
	return 0;
}

static int cmd_context(struct cmd *k, int argc, char **argv)
{
	struct ctxwalk w = { k, NULL, -1, -1, -1, 0 };
	if (argc > 1) {
		unsigned bus, devfn;
		if (parse_bdf(argv[1], &w.seg, &bus, &devfn))
			return usage_err(k, "bad bus:dev.fn '%s' (want [SEGMENT:]BUS:DEV.FN in hex)", argv[1]);
		w.bus = (int)bus, w.devfn = (int)devfn;
	}
	sink_table(k->s, "contexts");
	for (size_t i = 0; i < k->c->nunits; i++) {
		w.u = &k->c->units[i];
		if ((w.seg >= 0 && w.u->segment != w.seg) || (k->unit_name && strcmp(w.u->name, k->unit_name)))
			continue;
		struct vtd_walk_ops ops = { cw_dev, NULL, cw_diag, &w, NULL };
		vtd_unit_walk(k->c->mem, w.u, false, &ops);
	}
	sink_table_end(k->s);
	return w.nprob ? 1 : 0;
}

/* ---- pasid ---- */

static int cmd_pasid(struct cmd *k, int argc, char **argv)
{
	int seg;
	unsigned bus, devfn;
	uint64_t want = 0;
	if (argc < 2 || parse_bdf(argv[1], &seg, &bus, &devfn))
		return usage_err(k, "usage: pasid BDF [PASID]");
	if (argc > 2 && (parse_u64(argv[2], &want) || want >= (1u << 20)))
		return usage_err(k, "bad PASID '%s' (0..0xfffff)", argv[2]);
	const struct vtd_unit *u = unit_for(k, seg, bus, devfn);
	if (!u)
		return usage_err(k, "%s: no unit translates this device (use --unit)", argv[1]);
	if (u->unknown)
		return unknown_err(k, u, argv[1]);
	if (!vtd_unit_scalable(u))
		return usage_err(k, "%s is in legacy mode: no PASID tables", u->name);
	struct ctxwalk w = { k, u, seg, (int)bus, (int)devfn, 0 };
	sink_table(k->s, "pasid_entries");
	if (argc > 2) {
		struct vtd_devctx dc;
		struct vtd_error e;
		if (vtd_devctx_get(k->c->mem, u, vtd_sid(bus, devfn), (int64_t)want, &dc, &e)) {
			put_error(k, &e);
			w.nprob++;
		} else {
			devctx_row(k, u, &dc);
		}
	} else {
		struct vtd_walk_ops ops = { cw_dev, NULL, cw_diag, &w, NULL };
		vtd_unit_walk(k->c->mem, u, false, &ops);
	}
	sink_table_end(k->s);
	return w.nprob ? 1 : 0;
}

/* ---- map ---- */

struct mapw { struct cmd *k; unsigned nprob; };

static int mw_map(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	struct mapw *w = arg;
	(void)dc;
	sink_row(w->k->s);
	sink_hex(w->k->s, "iova", m->iova);
	sink_hex(w->k->s, "iova_end", m->iova + m->size);
	sink_hex(w->k->s, "pa", m->pa);
	sink_hex(w->k->s, "size", m->size);
	sink_str(w->k->s, "perm", perm_str(m->perm));
	if (m->page_size)
		sink_hex(w->k->s, "page", m->page_size);
	else
		sink_str(w->k->s, "page", "identity");
	sink_row_end(w->k->s);
	return 0;
}

static int mw_diag(void *arg, const struct vtd_error *e)
{
	struct mapw *w = arg;
	w->nprob++;
	put_error(w->k, e);
	return 0;
}

static int cmd_map(struct cmd *k, int argc, char **argv)
{
	int seg;
	unsigned bus, devfn;
	if (argc < 2 || parse_bdf(argv[1], &seg, &bus, &devfn))
		return usage_err(k, "usage: map BDF [--pasid N]");
	const struct vtd_unit *u = unit_for(k, seg, bus, devfn);
	if (!u)
		return usage_err(k, "%s: no unit translates this device (use --unit)", argv[1]);
	if (u->unknown)
		return unknown_err(k, u, argv[1]);
	struct vtd_devctx dc;
	struct vtd_error e;
	if (vtd_devctx_get(k->c->mem, u, vtd_sid(bus, devfn), k->pasid, &dc, &e)) {
		char b[700];
		vtd_error_str(&e, b, sizeof(b));
		fprintf(k->c->err, "%s: %s\n", k->c->prog, b);
		return 1;
	}
	struct mapw w = { k, 0 };
	struct vtd_walk_ops ops = { NULL, mw_map, mw_diag, &w, NULL };
	sink_table(k->s, "mappings");
	vtd_map_walk(k->c->mem, u, &dc, &ops);
	sink_table_end(k->s);
	return w.nprob ? 1 : 0;
}

/* ---- translate ---- */

static int cmd_translate(struct cmd *k, int argc, char **argv)
{
	int seg;
	unsigned bus, devfn;
	uint64_t iova;
	if (argc < 3 || parse_bdf(argv[1], &seg, &bus, &devfn))
		return usage_err(k, "usage: translate BDF IOVA [--pasid N] [--write]");
	if (parse_u64(argv[2], &iova))
		return usage_err(k, "bad IOVA '%s'", argv[2]);
	const struct vtd_unit *u = unit_for(k, seg, bus, devfn);
	if (!u)
		return usage_err(k, "%s: no unit translates this device (use --unit)", argv[1]);
	if (u->unknown)
		return unknown_err(k, u, argv[1]);
	struct vtd_request rq = { vtd_sid(bus, devfn), k->pasid, iova,
				  k->write ? VTD_ACC_WRITE : VTD_ACC_READ };
	struct vtd_translation *t = malloc(sizeof(*t));
	if (!t)
		return usage_err(k, "out of memory");
	unsigned f = vtd_translate(k->c->mem, u, &rq, t);
	sink_table(k->s, "steps");
	for (unsigned i = 0; i < t->nsteps; i++) {
		const struct vtd_step *st = &t->steps[i];
		sink_row(k->s);
		sink_str(k->s, "stage", vtd_stage_name(st->stage));
		if (st->level >= 0)
			sink_i64(k->s, "level", st->level);
		else
			sink_null(k->s, "level");
		sink_u64(k->s, "index", st->index);
		sink_hex(k->s, "table", st->table);
		sink_raw(k->s, "raw", st->raw, st->nraw);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
	sink_str(k->s, "unit", u->name);
	sink_hex(k->s, "iova", iova);
	sink_str(k->s, "access", k->write ? "write" : "read");
	if (f) {
		char b[700];
		vtd_error_str(&t->err, b, sizeof(b));
		sink_hex(k->s, "fault", f);
		sink_str(k->s, "reason", vtd_fault_str(f));
		sink_str(k->s, "detail", b);
	} else {
		sink_hex(k->s, "pa", t->pa);
		sink_hex(k->s, "page", t->page_size);
		sink_str(k->s, "perm", perm_str(t->perm));
		sink_str(k->s, "xlate", vtd_xtype_name(t->xtype));
		sink_i64(k->s, "did", t->did);
		if (t->pasid >= 0)
			sink_i64(k->s, "pasid", t->pasid);
	}
	free(t);
	return f ? 1 : 0;
}

/* ---- takeover analysis: findings, marks, restorations ---- */

/* The dump's own record when it carries one, else computed from the dump. */
static const struct vtd_analysis *analysis(struct cmd *k, bool prefer_record, const char **from)
{
	if (prefer_record && k->c->recorded) {
		*from = k->c->recorded_from ? k->c->recorded_from : "the dump's record";
		return k->c->recorded;
	}
	*from = "computed from the dump";
	if (!k->an) {
		struct vtd_analyze_opts o = { true, 0 };
		if (!k->c->ks || !k->c->ks->max_pfn)
			o.max_pfn = k->c->max_pfn;
		struct vtd_error e;
		vtd_error_init(&e);
		if (vtd_analyze(k->c->mem, k->c->ks, k->c->ki, k->c->units, k->c->nunits, &o, &k->an, &e)) {
			usage_err(k, "takeover analysis: %s", e.msg);
			return NULL;
		}
	}
	return k->an;
}

static void put_bdf_pasid(struct cmd *k, int seg, int sid, int64_t pasid)
{
	char bdf[20];
	if (sid < 0) {
		sink_null(k->s, "bdf");
	} else {
		fmt_bdf(bdf, sizeof(bdf), seg < 0 ? 0 : (unsigned)seg, (uint16_t)sid);
		sink_str(k->s, "bdf", bdf);
	}
	if (pasid == VTD_NO_PASID)
		sink_null(k->s, "pasid");
	else
		sink_i64(k->s, "pasid", pasid);
}

static void put_findings_as(struct cmd *k, const struct vtd_analysis *a, const char *table)
{
	sink_table(k->s, table);
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct vtd_finding *f = &a->findings[i];
		sink_row(k->s);
		sink_str(k->s, "severity", vtd_severity_name(f->sev));
		sink_str(k->s, "kind", f->kind);
		sink_str(k->s, "unit", f->unit[0] ? f->unit : "-");
		put_bdf_pasid(k, f->segment, f->sid, f->pasid);
		if (f->pa == VTD_NOADDR)
			sink_null(k->s, "pa");
		else
			sink_hex(k->s, "pa", f->pa);
		sink_str(k->s, "evidence", f->text);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
}

struct mkw { struct cmd *k; uint64_t runs, pages; };

static int put_mark(void *arg, const struct vtd_mark *m)
{
	struct mkw *w = arg;
	struct cmd *k = w->k;
	w->runs++;
	w->pages += m->npages;
	sink_row(k->s);
	sink_hex(k->s, "pfn", m->pfn);
	sink_u64(k->s, "pages", m->npages);
	sink_str(k->s, "reason", vtd_mark_reason_name(m->reason));
	sink_str(k->s, "unit", m->unit[0] ? m->unit : "-");
	put_bdf_pasid(k, m->segment, m->sid, m->pasid);
	if (m->reason == VTD_MARK_DMA_WRITABLE)
		sink_hex(k->s, "iova", m->iova);
	else
		sink_null(k->s, "iova");
	sink_str(k->s, "evidence", m->what);
	sink_row_end(k->s);
	return 0;
}

static void put_restores(struct cmd *k, const struct vtd_analysis *a, const char *name)
{
	sink_table(k->s, name);
	for (size_t i = 0; i < a->nrestores; i++) {
		const struct vtd_restore *r = &a->restores[i];
		char o[2 * VTD_RESTORE_MAX + 1], c[2 * VTD_RESTORE_MAX + 1];
		for (unsigned j = 0; j < r->len; j++) {
			snprintf(o + 2 * j, 3, "%02x", r->original[j]);
			snprintf(c + 2 * j, 3, "%02x", r->captured[j]);
		}
		sink_row(k->s);
		sink_hex(k->s, "pa", r->pa);
		sink_u64(k->s, "len", r->len);
		sink_str(k->s, "original", o);
		sink_str(k->s, "captured", c);
		sink_str(k->s, "source", r->source);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
}

/* Pages per reason (a page counted once per reason). */
static void put_findings(struct cmd *k, const struct vtd_analysis *a)
{
	put_findings_as(k, a, "findings");
}

static void put_mark_summary_as(struct cmd *k, const struct vtd_analysis *a, const char *table)
{
	sink_table(k->s, table);
	for (unsigned b = 0; b < VTD_MARK_NREASONS; b++) {
		uint64_t pages = 0, runs = 0, end = 0;
		for (size_t i = 0; i < a->marks.n; i++) {
			const struct vtd_mark *m = &a->marks.v[i];
			if (m->reason != 1u << b)
				continue;
			runs++;
			uint64_t s = m->pfn > end ? m->pfn : end, e = m->pfn + m->npages;
			if (e > s)
				pages += e - s;
			if (e > end)
				end = e;
		}
		sink_row(k->s);
		sink_str(k->s, "reason", vtd_mark_reason_name(1u << b));
		sink_u64(k->s, "pages", pages);
		sink_u64(k->s, "runs", runs);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
}

static void put_mark_summary(struct cmd *k, const struct vtd_analysis *a)
{
	put_mark_summary_as(k, a, "marked_pages");
}

static int cmd_marks(struct cmd *k)
{
	const char *from;
	const struct vtd_analysis *a = analysis(k, true, &from);
	if (!a)
		return 2;
	struct mkw w = { k, 0, 0 };
	sink_str(k->s, "source", from);
	sink_table(k->s, "marks");
	if (k->has_pfn)
		vtd_marks_find(&a->marks, k->pfn, 1, k->reason, put_mark, &w);
	else
		for (size_t i = 0; i < a->marks.n; i++)
			if (!k->reason || a->marks.v[i].reason & k->reason)
				put_mark(&w, &a->marks.v[i]);
	sink_table_end(k->s);
	if (!k->has_pfn && (!k->reason || k->reason == VTD_MARK_RESTORED))
		put_restores(k, a, k->c->recorded && a == k->c->recorded ? "restored" : "restorable");
	sink_u64(k->s, "marks_shown", w.runs);
	sink_note(k->s, "(marks: %s)", from);
	return 0;
}

/* Restore original table bytes from evidence into a copy of the dump (the
 * front end writes it), with RESTORED marks; the as-captured bytes travel in
 * the record. */
static int cmd_restore(struct cmd *k)
{
	if (!k->c->write_restored)
		return usage_err(k, "restore writes a new dump file: run the vtd command "
				 "(vtd restore DUMP OUT)");
	if (k->c->recorded)
		return usage_err(k, "the dump already carries a marks record (%s): restore from "
				 "the as-captured dump (vtd restore --undo gives it back)",
				 k->c->recorded_from ? k->c->recorded_from : "");
	const char *from;
	if (!analysis(k, false, &from))
		return 2;
	struct vtd_analysis *a = k->an;
	if (vtd_analysis_mark_restored(a))
		return usage_err(k, "out of memory");
	char where[300], err[600];
	if (k->c->write_restored(k->c->write_arg, a, where, sizeof(where), err, sizeof(err)))
		return usage_err(k, "%s", err);
	uint64_t bytes = 0;
	for (size_t i = 0; i < a->nrestores; i++)
		bytes += a->restores[i].len;
	put_restores(k, a, "restored");
	sink_str(k->s, "output", k->c->write_to ? k->c->write_to : "");
	sink_str(k->s, "record", where);
	sink_u64(k->s, "restored_entries", a->nrestores);
	sink_u64(k->s, "restored_bytes", bytes);
	sink_u64(k->s, "marks", a->marks.n);
	return 0;
}

/* ---- who ---- */

struct whow { struct cmd *k; unsigned n, nprob; };

static int who_hit(void *arg, const struct vtd_rmap_hit *h)
{
	struct whow *w = arg;
	char bdf[20];
	fmt_bdf(bdf, sizeof(bdf), h->unit->segment, h->dc->sid);
	w->n++;
	sink_row(w->k->s);
	sink_str(w->k->s, "unit", h->unit->name);
	sink_str(w->k->s, "bdf", bdf);
	if (h->dc->pasid == VTD_NO_PASID)
		sink_null(w->k->s, "pasid");
	else
		sink_i64(w->k->s, "pasid", h->dc->pasid);
	sink_hex(w->k->s, "iova", h->iova);
	sink_hex(w->k->s, "pa", h->pa);
	sink_hex(w->k->s, "size", h->size);
	sink_str(w->k->s, "perm", perm_str(h->perm));
	sink_str(w->k->s, "xlate", vtd_xtype_name(h->dc->xtype));
	sink_row_end(w->k->s);
	return 0;
}

static int who_diag(void *arg, const struct vtd_error *e)
{
	struct whow *w = arg;
	(void)e;
	w->nprob++;
	return 0;
}

static int cmd_who(struct cmd *k, int argc, char **argv)
{
	uint64_t pa, len = 1;
	if (argc < 2 || parse_u64(argv[1], &pa))
		return usage_err(k, "usage: who PADDR [LEN]");
	if (argc > 2 && (parse_u64(argv[2], &len) || !len))
		return usage_err(k, "bad length '%s'", argv[2]);
	struct whow w = { k, 0, 0 };
	sink_table(k->s, "reached_by");
	vtd_rmap(k->c->mem, k->c->units, (unsigned)k->c->nunits, pa, len, who_hit, who_diag, &w);
	sink_table_end(k->s);
	if (w.nprob)
		sink_note(k->s, "(%u table problems were skipped; 'vtd check' lists them)", w.nprob);
	const char *from;
	const struct vtd_analysis *a = analysis(k, true, &from);
	if (!a)
		return 2;
	struct mkw mw = { k, 0, 0 };
	uint64_t first = pa >> 12, last = (pa + len - 1) >> 12;
	sink_table(k->s, "marks");
	vtd_marks_find(&a->marks, first, last - first + 1, 0, put_mark, &mw);
	sink_table_end(k->s);
	return 0;
}

/* ---- domains / devices (need the kernel state) ---- */

static int need_ks(struct cmd *k, const char *what)
{
	if (k->c->ks)
		return 0;
	return usage_err(k, "'%s' needs the kernel's structures (a vmlinux with -x); "
			 "not available with --root", what);
}

static int cmd_domains(struct cmd *k)
{
	if (need_ks(k, "domains"))
		return 2;
	struct vtd_kstate *ks = k->c->ks;
	sink_table(k->s, "domains");
	for (size_t i = 0; i < ks->ndomains; i++) {
		const struct vtd_kdomain *d = &ks->domains[i];
		sink_row(k->s);
		sink_hex(k->s, "domain", d->addr);
		sink_hex(k->s, "type", d->type);
		sink_hex(k->s, "pgd", d->pgd);
		sink_i64(k->s, "agaw", d->agaw);
		sink_bool(k->s, "first_level", d->first_level);
		for (size_t u = 0; u < ks->nunits && u < 8; u++) {
			char key[40];
			snprintf(key, sizeof(key), "did_%s", ks->units[u].unit.name);
			if (d->did[u] >= 0)
				sink_i64(k->s, key, d->did[u]);
		}
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
	return 0;
}

static int cmd_devices(struct cmd *k)
{
	if (need_ks(k, "devices"))
		return 2;
	struct vtd_kstate *ks = k->c->ks;
	sink_table(k->s, "devices");
	for (size_t i = 0; i < ks->ndevices; i++) {
		const struct vtd_kdevice *d = &ks->devices[i];
		char bdf[20], id[16];
		fmt_bdf(bdf, sizeof(bdf), d->segment, vtd_sid(d->bus, d->devfn));
		snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
		sink_row(k->s);
		sink_str(k->s, "bdf", bdf);
		sink_str(k->s, "id", id);
		sink_str(k->s, "driver", d->driver[0] ? d->driver : "-");
		sink_str(k->s, "unit", d->unit >= 0 ? ks->units[d->unit].unit.name : "-");
		if (d->domain >= 0)
			sink_hex(k->s, "domain", ks->domains[d->domain].addr);
		else
			sink_null(k->s, "domain");
		if (d->pasid_table_dir)
			sink_hex(k->s, "pasid_dir", d->pasid_table_dir);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
	return 0;
}

/* ---- irte ---- */

struct irw { struct cmd *k; const struct vtd_unit *u; unsigned nprob; };

static int ir_entry(void *arg, uint32_t index, const struct vtd_irte *e, const struct vtd_error *err)
{
	struct irw *w = arg;
	struct sink *s = w->k->s;
	if (!e) {
		w->nprob++;
		put_error(w->k, err);
		return 0;
	}
	uint64_t q[2] = { e->low, e->high };
	sink_row(s);
	sink_str(s, "unit", w->u->name);
	sink_u64(s, "index", index);
	sink_str(s, "format", irte_im(e) ? "posted" : "remapped");
	if (irte_im(e)) {
		sink_hex(s, "vector", irte_vv(e));
		sink_hex(s, "pda", irte_pda(e));
	} else {
		sink_hex(s, "vector", irte_vector(e));
		sink_hex(s, "dest", irte_dest_id(e, irta_eime(w->u->irta)));
	}
	char sid[20];
	fmt_bdf(sid, sizeof(sid), w->u->segment, (uint16_t)irte_sid(e));
	sink_str(s, "sid", sid + 5);
	sink_u64(s, "sq", irte_sq(e));
	sink_u64(s, "svt", irte_svt(e));
	sink_raw(s, "raw", q, 2);
	sink_row_end(s);
	return 0;
}

static int cmd_irte(struct cmd *k, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : k->unit_name;
	if (only && !unit_by_name(k, only))
		return usage_err(k, "no unit named '%s'", only);
	struct irw w = { k, NULL, 0 };
	sink_table(k->s, "irtes");
	for (size_t i = 0; i < k->c->nunits; i++) {
		w.u = &k->c->units[i];
		if (w.u->unknown && (!only || !strcmp(w.u->name, only))) {
			put_unknown(k, w.u);
			w.nprob++;
			continue;
		}
		if ((only && strcmp(w.u->name, only)) || !w.u->irta)
			continue;
		vtd_irte_iter(k->c->mem, w.u->name, w.u->irta, ir_entry, &w);
	}
	sink_table_end(k->s);
	return w.nprob ? 1 : 0;
}

/* ---- qi ---- */

static int qi_slot(void *arg, const struct vtd_qi_slot *sl, const struct vtd_error *err)
{
	struct irw *w = arg;
	struct sink *s = w->k->s;
	if (!sl) {
		w->nprob++;
		put_error(w->k, err);
		return 0;
	}
	const uint64_t q[4] = { sl->desc.qw0, sl->desc.qw1, sl->desc.qw2, sl->desc.qw3 };
	sink_row(s);
	sink_str(s, "unit", w->u->name);
	sink_u64(s, "index", sl->index);
	sink_str(s, "type", qi_type_name(sl->type));
	if (sl->status >= 0)
		sink_i64(s, "status", sl->status);
	else
		sink_null(s, "status");
	if (sl->type == QI_IWD_TYPE && qi_iwd_sw(&sl->desc)) {
		sink_hex(s, "status_addr", qi_iwd_status_addr(&sl->desc));
		sink_hex(s, "status_data", qi_iwd_status_data(&sl->desc));
		/* Linux points the status address at desc_status[slot] and resets
		 * it to QI_FREE once it has seen QI_DONE: only IN_USE is pending. */
		if (!sl->has_wait_status)
			sink_str(s, "wait", "unreadable");
		else if (sl->wait_done)
			sink_str(s, "wait", "done");
		else if (sl->wait_status == QI_IN_USE)
			sink_str(s, "wait", "pending");
		else
			sink_str(s, "wait", sl->wait_status == QI_FREE ? "reclaimed" : "other");
	}
	sink_raw(s, "raw", q, iqa_dw(w->u->qi.iqa) ? 4 : 2);
	sink_row_end(s);
	return 0;
}

static int cmd_qi(struct cmd *k, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : k->unit_name;
	if (only && !unit_by_name(k, only))
		return usage_err(k, "no unit named '%s'", only);
	struct irw w = { k, NULL, 0 };
	sink_table(k->s, "qi_slots");
	for (size_t i = 0; i < k->c->nunits; i++) {
		w.u = &k->c->units[i];
		if (w.u->unknown && (!only || !strcmp(w.u->name, only))) {
			put_unknown(k, w.u);
			w.nprob++;
			continue;
		}
		if ((only && strcmp(w.u->name, only)) || !w.u->qi.iqa)
			continue;
		vtd_qi_iter(k->c->mem, w.u->name, &w.u->qi, qi_slot, &w);
	}
	sink_table_end(k->s);
	return w.nprob ? 1 : 0;
}

/* ---- log / faults ---- */

struct logw { struct cmd *k; unsigned n; };

static int log_line(void *arg, uint64_t seq, uint64_t ts, const char *text, size_t len)
{
	struct logw *w = arg;
	char t[32], *line = strndup(text, len);
	(void)seq;
	if (!line)
		return -1;
	snprintf(t, sizeof(t), "%5" PRIu64 ".%06" PRIu64, ts / 1000000000, ts % 1000000000 / 1000);
	if (w->k->c->json) {
		sink_row(w->k->s);
		sink_str(w->k->s, "time", t);
		sink_str(w->k->s, "text", line);
		sink_row_end(w->k->s);
	} else {
		/* continuation lines indented under the text, as dmesg and
		 * makedumpfile --dump-dmesg print them */
		fprintf(w->k->c->out, "[%s] ", t);
		for (char *p = line, *nl; p; p = nl ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			fprintf(w->k->c->out, "%s%.*s\n", p == line ? "" : "               ",
				nl ? (int)(nl - p) : (int)strlen(p), p);
		}
	}
	free(line);
	w->n++;
	return 0;
}

static int cmd_log(struct cmd *k)
{
	struct logw w = { k, 0 };
	struct vtd_error e;
	if (need_ks(k, "log") || !k->c->ki)
		return 2;
	vtd_error_init(&e);
	if (k->c->json)
		sink_table(k->s, "log");
	int rc = vtd_printk_iter(&k->c->ks->km, k->c->ki, log_line, &w, &e);
	if (k->c->json)
		sink_table_end(k->s);
	if (rc < 0)
		return usage_err(k, "kernel log: %s", e.msg);
	return 0;
}

/* A DMAR fault line of the kernel log (drivers/iommu/intel/dmar.c
 * dmar_fault_do_one(); 6.x and 5.x wordings). */
struct fault_line {
	bool dma, write;
	int64_t pasid;
	unsigned bus, dev, fn;
	uint64_t addr;
	unsigned reason;
};

static int parse_fault(const char *l, struct fault_line *f)
{
	const char *p = strstr(l, "Request device [");
	const char *r = strstr(l, "[fault reason ");
	memset(f, 0, sizeof(*f));
	f->pasid = VTD_NO_PASID;
	if (!p || !r || !strstr(l, "DMAR"))
		return -1;
	f->dma = strstr(l, "[DMA ") != NULL;
	f->write = strstr(l, "[DMA Write") != NULL;
	if (sscanf(p, "Request device [%x:%x.%x]", &f->bus, &f->dev, &f->fn) != 3)
		return -1;
	const char *a = strstr(p, f->dma ? "fault addr " : "fault index ");
	if (!a || sscanf(a + (f->dma ? 11 : 12), "%" SCNx64, &f->addr) != 1)
		return -1;
	r += 14;
	if (sscanf(r, r[0] == '0' && r[1] == 'x' ? "%x" : "%u", &f->reason) != 1)
		return -1;
	const char *ps = strstr(l, " PASID ");                /* "[DMA Read PASID 0x5]" or 5.x "PASID 5 fault" */
	if (ps && !strstr(l, "NO_PASID")) {
		unsigned v;
		if (sscanf(ps, " PASID %x", &v) == 1 && v != 0xffffffffu)
			f->pasid = v;
	}
	return 0;
}

struct faultw { struct cmd *k; unsigned n; };

static int fault_line(void *arg, uint64_t seq, uint64_t ts, const char *text, size_t len)
{
	struct faultw *w = arg;
	struct cmd *k = w->k;
	struct fault_line f;
	char *line = strndup(text, len), t[32], bdf[16];
	(void)seq;
	if (!line)
		return -1;
	if (parse_fault(line, &f)) {
		free(line);
		return 0;
	}
	w->n++;
	snprintf(t, sizeof(t), "%" PRIu64 ".%06" PRIu64, ts / 1000000000, ts % 1000000000 / 1000);
	snprintf(bdf, sizeof(bdf), "%02x:%02x.%x", f.bus, f.dev, f.fn);
	sink_row(k->s);
	sink_str(k->s, "time", t);
	sink_str(k->s, "request", !f.dma ? "interrupt" : f.write ? "write" : "read");
	sink_str(k->s, "bdf", bdf);
	if (f.pasid == VTD_NO_PASID)
		sink_null(k->s, "pasid");
	else
		sink_i64(k->s, "pasid", f.pasid);
	sink_hex(k->s, f.dma ? "addr" : "index", f.addr);
	sink_hex(k->s, "logged", f.reason);
	/* The line does not name the unit: the one that translates the device,
	 * else every unit, when they all answer alike. */
	const struct vtd_unit *u = f.dma ? unit_for(k, -1, f.bus, f.dev << 3 | f.fn) : NULL;
	struct vtd_translation *tr = f.dma ? malloc(sizeof(*tr)) : NULL;
	struct vtd_request rq = { vtd_sid(f.bus, f.dev << 3 | f.fn), f.pasid, f.addr,
				  f.write ? VTD_ACC_WRITE : VTD_ACC_READ };
	const char *uname = u ? u->name : "any";
	unsigned fr = 0;
	bool known = tr && u;
	if (tr && !u && k->c->nunits) {
		known = true;
		for (size_t i = 0; i < k->c->nunits; i++) {
			unsigned r = vtd_translate(k->c->mem, &k->c->units[i], &rq, tr);
			if (i && (r != fr || !r))
				known = false;
			fr = r;
		}
	} else if (known) {
		fr = vtd_translate(k->c->mem, u, &rq, tr);
	}
	if (known) {
		{
			sink_str(k->s, "unit", uname);
			if (fr) {
				sink_hex(k->s, "now", fr);
				sink_str(k->s, "explained", fr == f.reason ? "same fault now" : vtd_fault_str(fr));
			} else {
				sink_str(k->s, "now", "translates");
				char b[64];
				snprintf(b, sizeof(b), "to 0x%" PRIx64 " now (mapped after the fault)", tr->pa);
				sink_str(k->s, "explained", b);
			}
		}
	} else {
		sink_null(k->s, "now");
		if (f.dma)
			sink_str(k->s, "explained", "units disagree; the line does not say which unit");
	}
	free(tr);
	sink_str(k->s, "text", line);
	sink_row_end(k->s);
	free(line);
	return 0;
}

static int cmd_faults(struct cmd *k)
{
	struct faultw w = { k, 0 };
	struct vtd_error e;
	if (need_ks(k, "faults") || !k->c->ki)
		return 2;
	vtd_error_init(&e);
	sink_table(k->s, "faults");
	int rc = vtd_printk_iter(&k->c->ks->km, k->c->ki, fault_line, &w, &e);
	sink_table_end(k->s);
	if (rc < 0)
		return usage_err(k, "kernel log: %s", e.msg);
	sink_u64(k->s, "fault_lines", w.n);
	return 0;
}

/* ---- check ---- */

struct chk { struct cmd *k; unsigned nprob, ndev; };

static int ck_dev(void *arg, const struct vtd_devctx *dc) { (void)dc; ((struct chk *)arg)->ndev++; return 0; }
static int ck_map(void *arg, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{ (void)arg; (void)dc; (void)m; return 0; }
static int ck_diag(void *arg, const struct vtd_error *e)
{
	struct chk *w = arg;
	w->nprob++;
	put_error(w->k, e);
	return 0;
}

static void problem(struct chk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct chk *w, const char *fmt, ...)
{
	char b[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	sink_row(w->k->s);
	sink_str(w->k->s, "problem", b);
	sink_row_end(w->k->s);
	w->nprob++;
}

/* Follow entry 0 down from the domain's pgd as Linux's iommu_skip_agaw()
 * does when the domain has more levels than the unit programs. */
static uint64_t skip_levels(const struct vtd_mem *mem, uint64_t pgd, int n)
{
	for (; n > 0 && pgd; n--) {
		uint64_t e;
		struct vtd_error err;
		vtd_error_init(&err);
		if (vtd_mem_read_qwords(mem, pgd, &e, 1, &err))
			return 0;
		pgd = e & 0x000ffffffffff000ull;
	}
	return pgd;
}

/* The hardware entries against what the kernel's own device_domain_info
 * and dmar_domain say they should be: DID, translation type, table. */
static void cross_check(struct chk *w)
{
	const struct vtd_kstate *ks = w->k->c->ks;
	for (size_t i = 0; i < ks->ndevices; i++) {
		const struct vtd_kdevice *d = &ks->devices[i];
		if (d->unit < 0 || d->domain < 0 || (size_t)d->unit >= w->k->c->nunits)
			continue;
		const struct vtd_unit *u = &w->k->c->units[d->unit];
		const struct vtd_kdomain *dom = &ks->domains[d->domain];
		if (u->unknown)
			continue;       /* nothing to compare with: the walk said so */
		char bdf[20];
		struct vtd_devctx dc;
		struct vtd_error e;
		fmt_bdf(bdf, sizeof(bdf), d->segment, vtd_sid(d->bus, d->devfn));
		if (vtd_devctx_get(w->k->c->mem, u, vtd_sid(d->bus, d->devfn), VTD_NO_PASID, &dc, &e)) {
			char b[600];
			vtd_error_str(&e, b, sizeof(b));
			problem(w, "%s %s: the kernel attached it to domain 0x%" PRIx64 " but its hardware "
				"entry does not translate: %s", u->name, bdf, dom->addr, b);
			continue;
		}
		int did = d->unit < 8 ? dom->did[d->unit] : -1;
		if (did >= 0 && dc.did != did)
			problem(w, "%s %s: hardware DID %d, the kernel's domain 0x%" PRIx64 " has DID %d",
				u->name, bdf, dc.did, dom->addr, did);
		bool pt = dom->type == VTD_DOM_IDENTITY;
		if (pt != (dc.xtype == VTD_XT_PT)) {
			problem(w, "%s %s: hardware translation %s, the kernel's domain is %s", u->name, bdf,
				vtd_xtype_name(dc.xtype), pt ? "identity" : "a DMA domain");
			continue;
		}
		if (pt || !dom->pgd)
			continue;
		bool fl = dc.xtype == VTD_XT_FL || dc.xtype == VTD_XT_NESTED;
		uint64_t hw = fl ? dc.fl_root : dc.sl_root;
		unsigned hwl = fl ? dc.fl_levels : dc.sl_levels;
		int skip = dom->agaw >= 0 ? dom->agaw + 2 - (int)hwl : 0;
		if (fl != dom->first_level)
			problem(w, "%s %s: hardware uses %s tables, the kernel's domain %s-level", u->name, bdf,
				fl ? "first-level" : "second-level", dom->first_level ? "first" : "second");
		else if (hw != skip_levels(w->k->c->mem, dom->pgd, skip > 0 ? skip : 0))
			problem(w, "%s %s: hardware table 0x%" PRIx64 " (%u levels) is not the kernel's "
				"domain pgd 0x%" PRIx64 " (agaw %d)", u->name, bdf, hw, hwl, dom->pgd, dom->agaw);
	}
}

struct shw { struct chk *w; unsigned seen, compared; };

/* An IRTE must hold what the kernel last wrote (its intel_ir_data shadow);
 * a cleared entry is a deactivated IRQ, and posted-mode entries are written
 * without updating the shadow, so neither is compared. */
static int shadow_one(void *arg, const struct vtd_irte_shadow *sh)
{
	struct shw *x = arg;
	struct cmd *k = x->w->k;
	struct vtd_irte hw;
	struct vtd_error e;
	x->seen++;
	if (sh->unit < 0 || (size_t)sh->unit >= k->c->nunits || sh->mode != 0)
		return 0;
	const struct vtd_unit *u = &k->c->units[sh->unit];
	if (!u->irta)
		return 0;
	if (vtd_irte_get(k->c->mem, u->name, u->irta, sh->index, &hw, &e)) {
		char b[600];
		vtd_error_str(&e, b, sizeof(b));
		problem(x->w, "%s IRTE %u (irq %u): %s", u->name, sh->index, sh->irq, b);
		return 0;
	}
	if (!irte_present(&hw))
		return 0;
	x->compared++;           /* a difference is an irte-differs finding */
	return 0;
}

static int cmd_check(struct cmd *k)
{
	struct chk w = { k, 0, 0 };
	struct shw sw = { &w, 0, 0 };
	bool shadows = false;
	struct vtd_walk_ops ops = { ck_dev, ck_map, ck_diag, &w, NULL };
	sink_table(k->s, "problems");
	for (size_t i = 0; i < k->c->nunits; i++)
		vtd_unit_walk(k->c->mem, &k->c->units[i], true, &ops);
	if (k->c->ks)
		cross_check(&w);
	if (k->c->ks && k->c->ki) {
		struct vtd_error e;
		bool ir = false;
		for (size_t i = 0; i < k->c->nunits; i++)
			ir |= k->c->units[i].irta != 0;
		vtd_error_init(&e);
		if (vtd_irte_shadows(k->c->ks, k->c->ki, shadow_one, &sw, &e) == 0)
			shadows = true;
		else if (ir)
			problem(&w, "IRTE shadows not checked: %s", e.msg);
	}
	if (k->c->ks)
		for (size_t i = 0; i < k->c->ks->nmissing; i++) {
			sink_row(k->s);
			sink_str(k->s, "problem", k->c->ks->missing[i]);
			sink_row_end(k->s);
			w.nprob++;
		}
	sink_table_end(k->s);
	sink_u64(k->s, "devices_walked", w.ndev);
	if (shadows) {
		sink_u64(k->s, "irte_shadows", sw.seen);
		sink_u64(k->s, "irte_shadows_compared", sw.compared);
	}
	sink_u64(k->s, "problems_found", w.nprob);
	const char *from;
	const struct vtd_analysis *a = analysis(k, false, &from);
	if (!a)
		return 2;
	if (k->c->lost && k->an) {
		struct vtd_finding f = { .sev = VTD_SEV_ERROR, .segment = -1, .sid = -1,
					 .pasid = VTD_NO_PASID, .pa = VTD_NOADDR };
		snprintf(f.kind, sizeof(f.kind), "kernel-state-lost");
		snprintf(f.text, sizeof(f.text), "%.319s", k->c->lost);
		if (vtd_analysis_add_finding(k->an, &f))
			return usage_err(k, "out of memory");
	}
	unsigned nerr = 0;
	for (size_t i = 0; i < a->nfindings; i++)
		nerr += a->findings[i].sev == VTD_SEV_ERROR;
	put_findings(k, a);
	put_mark_summary(k, a);
	uint64_t bytes = 0;
	for (size_t i = 0; i < a->nrestores; i++)
		bytes += a->restores[i].len;
	sink_u64(k->s, "findings_found", a->nfindings);
	sink_u64(k->s, "restorable_entries", a->nrestores);
	sink_u64(k->s, "restorable_bytes", bytes);
	if (k->c->recorded) {
		/* what was known when the record was written (a capture's CHANGED
		 * pages cannot be recomputed from the dump) */
		const struct vtd_analysis *r = k->c->recorded;
		for (size_t i = 0; i < r->nfindings; i++)
			nerr += r->findings[i].sev == VTD_SEV_ERROR;
		sink_note(k->s, "the dump's record (%s):", k->c->recorded_from ? k->c->recorded_from : "record");
		sink_str(k->s, "recorded_from", k->c->recorded_from ? k->c->recorded_from : "record");
		put_findings_as(k, r, "recorded_findings");
		put_mark_summary_as(k, r, "recorded_marked_pages");
	}
	return w.nprob || nerr ? 1 : 0;
}

/* ---- scan ---- */

static int cmd_scan(struct cmd *k, int argc, char **argv)
{
	uint64_t top = 10, max_pfn = k->c->max_pfn;
	if (argc > 2 || (argc == 2 && (parse_u64(argv[1], &top) || !top)))
		return usage_err(k, "usage: scan [N] (N: how many candidates, at least 1)");
	if (!max_pfn && k->c->ks)
		max_pfn = k->c->ks->max_pfn;
	if (!max_pfn)
		return usage_err(k, "scan: the dump's extent is not known");
	struct vtd_scan_result r;
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_scan(k->c->mem, max_pfn, k->c->progress, k->c->progress_arg, &r, &e))
		return usage_err(k, "scan: %s", e.msg);
	sink_table(k->s, "candidates");
	for (size_t i = 0; i < r.n && i < top; i++) {
		const struct vtd_scan_candidate *c = &r.v[i];
		sink_row(k->s);
		sink_u64(k->s, "rank", i + 1);
		sink_hex(k->s, "root", c->pa);
		sink_str(k->s, "mode", c->scalable ? "scalable" : "legacy");
		sink_i64(k->s, "score", c->score);
		sink_u64(k->s, "root_entries", c->roots);
		sink_u64(k->s, "contexts", c->contexts);
		sink_u64(k->s, "next_ok", c->next_ok);
		sink_u64(k->s, "bad", c->bad);
		sink_row_end(k->s);
	}
	sink_table_end(k->s);
	sink_u64(k->s, "pages_read", r.pages_read);
	sink_u64(k->s, "pages_missing", r.pages_missing);
	sink_u64(k->s, "pages_tested", r.pages_tested);
	sink_u64(k->s, "candidates_found", r.n);
	if (r.n)
		sink_note(k->s, "work from the best: vtd --root 0x%" PRIx64 " --mode %s DUMP COMMAND",
			  r.v[0].pa, r.v[0].scalable ? "scalable" : "legacy");
	vtd_scan_result_free(&r);
	return 0;
}

int vtd_command(struct vtd_cmdctx *ctx, int argc, char **argv)
{
	struct cmd k = { ctx, NULL, NULL, VTD_NO_PASID, false, 0, false, 0, NULL };
	char *args[16];
	int n = 0;
	if (argc < 1)
		return usage_err(&k, "no command; commands:\n%s", vtd_commands_usage);
	/* pull the options out; keep the positional words in order */
	for (int i = 0; i < argc; i++) {
		uint64_t v;
		if (!strcmp(argv[i], "--unit") && i + 1 < argc) {
			k.unit_name = argv[++i];
		} else if (!strcmp(argv[i], "--pasid") && i + 1 < argc) {
			if (parse_u64(argv[++i], &v) || v >= (1u << 20))
				return usage_err(&k, "bad PASID '%s' (0..0xfffff)", argv[i]);
			k.pasid = (int64_t)v;
		} else if (!strcmp(argv[i], "--write")) {
			k.write = true;
		} else if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
			k.reason = vtd_mark_reason_parse(argv[++i]);
			if (!k.reason)
				return usage_err(&k, "unknown reason '%s' (TABLE, HW_WRITABLE, DMA_WRITABLE, "
						 "CHANGED, TAKEOVER_WRITTEN, RESTORED)", argv[i]);
		} else if (!strcmp(argv[i], "--pfn") && i + 1 < argc) {
			if (parse_u64(argv[++i], &k.pfn))
				return usage_err(&k, "bad page frame number '%s'", argv[i]);
			k.has_pfn = true;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			return usage_err(&k, "unknown option '%s'", argv[i]);
		} else if (n < 16) {
			args[n++] = argv[i];
		}
	}
	if (k.unit_name && !unit_by_name(&k, k.unit_name))
		return usage_err(&k, "no unit named '%s'", k.unit_name);
	k.s = sink_new(ctx->out, ctx->json);
	if (!k.s)
		return usage_err(&k, "out of memory");
	if (ctx->json)
		sink_str(k.s, "command", args[0]);
	const char *c = args[0];
	int rc;
	if (!strcmp(c, "units"))
		rc = cmd_units(&k);
	else if (!strcmp(c, "root"))
		rc = cmd_root(&k, n, args);
	else if (!strcmp(c, "context"))
		rc = cmd_context(&k, n, args);
	else if (!strcmp(c, "pasid"))
		rc = cmd_pasid(&k, n, args);
	else if (!strcmp(c, "map"))
		rc = cmd_map(&k, n, args);
	else if (!strcmp(c, "translate"))
		rc = cmd_translate(&k, n, args);
	else if (!strcmp(c, "who"))
		rc = cmd_who(&k, n, args);
	else if (!strcmp(c, "domains"))
		rc = cmd_domains(&k);
	else if (!strcmp(c, "devices"))
		rc = cmd_devices(&k);
	else if (!strcmp(c, "irte"))
		rc = cmd_irte(&k, n, args);
	else if (!strcmp(c, "qi"))
		rc = cmd_qi(&k, n, args);
	else if (!strcmp(c, "check"))
		rc = cmd_check(&k);
	else if (!strcmp(c, "faults"))
		rc = cmd_faults(&k);
	else if (!strcmp(c, "log"))
		rc = cmd_log(&k);
	else if (!strcmp(c, "marks"))
		rc = cmd_marks(&k);
	else if (!strcmp(c, "restore"))
		rc = cmd_restore(&k);
	else if (!strcmp(c, "scan"))
		rc = cmd_scan(&k, n, args);
	else
		rc = usage_err(&k, "unknown command '%s'; commands:\n%s", c, vtd_commands_usage);
	vtd_analysis_free(k.an);
	if (sink_free(k.s))
		rc = usage_err(&k, "write error on output");
	return rc;
}
