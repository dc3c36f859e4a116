/* Dumps that lost the crashed kernel's IOMMU state to filtering (a
 * makedumpfile that does not know the kernel takes its slab pages for user
 * or free pages): say what is missing and why, and go on with what the dump
 * holds, the VT-d tables the structural scan finds.  Shared by the offline
 * CLI and crash> vtd. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands/commands.h"
#include "vtd/regs.h"
#include "vtd/scan.h"
#include "vtd/tables.h"

/* "dump level 31 excluded it; -d 23 would have kept it" */
static void level_words(int dump_level, char *out, size_t n)
{
	if (dump_level >= 0)
		snprintf(out, n, "dump level %d excluded it; -d %d would have kept it",
			 dump_level, dump_level & ~8);
	else
		snprintf(out, n, "the dump left it out");
}

void vtd_writer_words(char *out, size_t n, const char *format, int header_version)
{
	if (header_version >= 0)
		snprintf(out, n, "written by makedumpfile (%s, header version %d; the dump does not "
			 "record makedumpfile's version)", format, header_version);
	else
		snprintf(out, n, "%s", format);
}

enum vtd_loss vtd_state_loss(const struct vtd_kstate *ks, const struct vtd_error *load_err,
			     int dump_level, const char *writer, char *why, size_t n)
{
	char lv[400];
	const char *detail = NULL;
	size_t lost = 0, units = 0;
	why[0] = 0;
	if (load_err) {
		if (load_err->code != VTD_E_READ || !strstr(load_err->msg, "excluded page"))
			return VTD_LOSS_NONE;
		detail = load_err->msg;
		lost = units = 1;
	} else if (ks) {
		for (size_t i = 0; i < ks->nunits; i++) {
			if (ks->units[i].ignored)
				continue;
			units++;
			if (ks->units[i].lost) {
				if (!lost++)
					detail = ks->units[i].why;
			}
		}
	}
	/* other structures (ir_table, q_inval, dmar_domain, ...) in excluded pages */
	size_t facts = 0;
	for (size_t i = 0; ks && i < ks->nmissing; i++)
		if (strstr(ks->missing[i], "excluded page") && !facts++ && !lost)
			detail = ks->missing[i];
	if (!lost && !facts)
		return VTD_LOSS_NONE;
	/* the facts first (a finding's text is short), the explanation after */
	level_words(dump_level, lv, sizeof(lv));
	int w;
	if (lost && lost == units)
		w = snprintf(why, n, "the crashed kernel's IOMMU state is not in the dump (%s): %.300s",
			     lv, detail);
	else if (lost)
		w = snprintf(why, n, "%zu of %zu units' struct intel_iommu are not in the dump (%s): "
			     "%.300s", lost, units, lv, detail);
	else
		w = snprintf(why, n, "%zu structure%s of the crashed kernel's IOMMU state %s not in "
			     "the dump (%s): %.300s", facts, facts > 1 ? "s" : "", facts > 1 ? "are" : "is",
			     lv, detail);
	if (w > 0 && (size_t)w < n)
		snprintf(why + w, n - (size_t)w, "; %s%s%s", writer && *writer ? writer : "",
			 writer && *writer ? ". " : "",
			 dump_level >= 0 ? "A makedumpfile older than the kernel takes its slab pages "
			 "for user pages (bit 8 of the dump level); makedumpfile-vtd keeps these pages "
			 "whatever the level" : "makedumpfile-vtd keeps these pages");
	return lost && lost == units ? VTD_LOSS_ALL : VTD_LOSS_SOME;
}

void vtd_raw_unit(struct vtd_unit *u, uint64_t root, bool scalable, uint64_t cap, uint64_t ecap,
		  uint64_t irta, uint64_t iqa)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "root@%" PRIx64, root);
	u->cap = cap;
	u->ecap = ecap;
	u->rtaddr = root | (scalable ? (uint64_t)VTD_TTM_SCALABLE << 10 : 0);
	u->irta = irta;
	u->qi.iqa = iqa;
	u->qi.status_pa = VTD_NOADDR;
	u->qi.free_head = u->qi.free_tail = -1;
}

int vtd_scan_units(struct vtd_cmdctx *c, const char *what, uint64_t cap, uint64_t ecap,
		   struct vtd_unit **units, size_t *nunits)
{
	struct vtd_scan_result r;
	struct vtd_error e;
	vtd_error_init(&e);
	*units = NULL;
	*nunits = 0;
	if (vtd_scan(c->mem, c->max_pfn, c->progress, c->progress_arg, &r, &e)) {
		fprintf(c->err, "%s: %s: scan: %s\n", c->prog, what, e.msg);
		return -1;
	}
	struct vtd_unit *u = calloc(r.n ? r.n : 1, sizeof(*u));
	if (!u) {
		vtd_scan_result_free(&r);
		fprintf(c->err, "%s: out of memory\n", c->prog);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < r.n; i++) {
		bool dup = false;
		for (size_t j = 0; j < k; j++)
			dup |= rtaddr_rta(u[j].rtaddr) == r.v[i].pa;
		if (r.v[i].bad || dup)
			continue;
		vtd_raw_unit(&u[k++], r.v[i].pa, r.v[i].scalable, cap, ecap, 0, 0);
		fprintf(c->err, "%s: %s: working from the root table the structural scan found at "
			"0x%" PRIx64 " (%s, score %ld)\n", c->prog, what, r.v[i].pa,
			r.v[i].scalable ? "scalable" : "legacy", r.v[i].score);
	}
	vtd_scan_result_free(&r);
	if (!k) {
		fprintf(c->err, "%s: %s: the structural scan found no root table\n", c->prog, what);
		free(u);
		return -1;
	}
	*units = u;
	*nunits = k;
	return 0;
}
