/* Generic bit-field tables (see fields.h). */
#include "vtd/fields.h"
#include "strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t vtd_bits(const uint64_t *q, unsigned lo, unsigned hi)
{
	unsigned w = hi - lo + 1, qi = lo / 64, sh = lo % 64;
	uint64_t v = q[qi] >> sh;
	if (sh && sh + w > 64)
		v |= q[qi + 1] << (64 - sh);
	return w >= 64 ? v : v & ((1ull << w) - 1);
}

uint64_t vtd_field_get(const uint64_t *q, const struct vtd_field *f)
{
	uint64_t v = vtd_bits(q, f->lo, f->hi);
	return f->kind == VTD_F_ADDR || f->kind == VTD_F_IOVA ? v << (f->lo % 64) : v;
}

const struct vtd_field *vtd_format_field(const struct vtd_format *fmt, const char *name)
{
	for (unsigned i = 0; i < fmt->nfields; i++)
		if (!strcmp(fmt->fields[i].name, name))
			return &fmt->fields[i];
	return NULL;
}

static const char *cond_why(unsigned cond)
{
	switch (cond) {
	case VTD_C_SNP: return "SNP needs ECAP.SC or scalable mode";
	case VTD_C_TM: return "TM needs ECAP.DT";
	case VTD_C_SLPS2M: return "2 MiB page needs CAP.SLLPS bit 0";
	case VTD_C_SLPS1G: return "1 GiB page needs CAP.SLLPS bit 1";
	case VTD_C_FL1G: return "1 GiB page needs CAP.FL1GP";
	case VTD_C_EIM: return "32-bit destination needs IRTA.EIME";
	}
	return "condition not met";
}

unsigned vtd_format_check(const struct vtd_format *fmt, const uint64_t *q,
			  unsigned haw, unsigned conds, struct vtd_rsvd *first)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fmt->nfields; i++) {
		const struct vtd_field *f = &fmt->fields[i];
		uint64_t v = vtd_bits(q, f->lo, f->hi), bad = 0;
		int why = 0;              /* the text only for the first violation */
		if (!v)
			continue;
		if (f->kind == VTD_F_RSVD) {
			bad = v;
			why = 1;
		} else if (f->cond && !(conds & f->cond) && (bad = f->condmask ? v & f->condmask : v)) {
			why = 2;
		} else if (f->kind == VTD_F_ADDR) {
			/* field bit j is address bit (lo % 64) + j */
			unsigned abs_lo = f->lo % 64;
			if (haw <= abs_lo)
				bad = v;
			else if (haw - abs_lo < 64)
				bad = v >> (haw - abs_lo) << (haw - abs_lo);
			why = 3;
		}
		if (!bad)
			continue;
		if (n++ == 0 && first) {
			*first = (struct vtd_rsvd){ .field = f->name, .lo = f->lo, .hi = f->hi, .bits = bad };
			if (why == 1)
				snprintf(first->why, sizeof(first->why), "reserved");
			else if (why == 2)
				snprintf(first->why, sizeof(first->why), "%s", cond_why(f->cond));
			else
				snprintf(first->why, sizeof(first->why), "above host address width %u", haw);
		}
	}
	return n;
}


uint64_t vtd_format_clean_mask(const struct vtd_format *fmt, unsigned haw, unsigned conds)
{
	uint64_t ok = ~0ull;
	for (unsigned i = 0; i < fmt->nfields; i++) {
		const struct vtd_field *f = &fmt->fields[i];
		if (f->lo >= 64)
			continue;
		unsigned hi = f->hi < 64 ? f->hi : 63;
		uint64_t bits = (hi - f->lo == 63 ? ~0ull : ((1ull << (hi - f->lo + 1)) - 1)) << f->lo;
		if (f->kind == VTD_F_RSVD)
			ok &= ~bits;
		else if (f->cond && !(conds & f->cond))
			ok &= ~(f->condmask ? (f->condmask << f->lo) & bits : bits);
		else if (f->kind == VTD_F_ADDR && haw < 64)
			ok &= ~(bits & ~((1ull << haw) - 1));
	}
	return ok;
}

size_t vtd_format_describe(const struct vtd_format *fmt, const uint64_t *q,
			   char *buf, size_t len)
{
	size_t pos = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < fmt->nfields; i++) {
		const struct vtd_field *f = &fmt->fields[i];
		uint64_t v = vtd_field_get(q, f);
		const char *sep = pos ? " " : "";
		switch (f->kind) {
		case VTD_F_FLAG:
			bufput(buf, len, &pos, "%s%s=%u", sep, f->name, (unsigned)v);
			break;
		case VTD_F_RSVD:
		case VTD_F_IGN:
			if (v)
				bufput(buf, len, &pos, "%s%s(%u:%u)=0x%" PRIx64, sep, f->name,
				    f->hi, f->lo, v);
			break;
		default:
			bufput(buf, len, &pos, "%s%s=0x%" PRIx64, sep, f->name, v);
		}
	}
	return pos;
}
