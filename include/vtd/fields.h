/* libvtd — bit-field tables for VT-d formats.
 *
 * Every register and entry format is described once, as a table of fields
 * named as the VT-d spec names them ("SAGAW", "SLPTPTR", "PGTT").  Bit n
 * counts from bit 0 of the first qword (bit 64 is bit 0 of the second).
 * The tables drive the reserved-bit checks and the text decoding; the
 * inline accessors in regs.h/tables.h/irq.h/qi.h give typed access.
 */
#ifndef VTD_FIELDS_H
#define VTD_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vtd_field_kind {
	VTD_F_VAL,   /* a number */
	VTD_F_FLAG,  /* a one-bit flag */
	VTD_F_ADDR,  /* an address field: value = bits lo..hi kept in place
		      * (not shifted down); bits at or above the host address
		      * width are reserved */
	VTD_F_RSVD,  /* reserved: must be zero */
	VTD_F_IGN,   /* ignored by hardware, free for software */
	VTD_F_IOVA,  /* an input address (IOVA) kept in place: no host-width check */
};

/* Conditions under which an optional field is valid; where the condition is
 * not met the field's bits count as reserved. */
enum vtd_field_cond {
	VTD_C_ALWAYS = 0,
	VTD_C_SNP = 1u << 0,     /* SNP in SL leaves: ECAP.SC or scalable mode */
	VTD_C_TM = 1u << 1,      /* TM in SL leaves: ECAP.DT */
	VTD_C_SLPS2M = 1u << 2,  /* PS at SL level 2: CAP.SLLPS bit 0 */
	VTD_C_SLPS1G = 1u << 3,  /* PS at SL level 3: CAP.SLLPS bit 1 */
	VTD_C_FL1G = 1u << 4,    /* PS at FL level 3: CAP.FL1GP */
	VTD_C_EIM = 1u << 5,     /* 32-bit IRTE destination: IRTA.EIME */
};

struct vtd_field {
	const char *name;
	uint16_t lo, hi;          /* inclusive bit range */
	uint8_t kind;             /* enum vtd_field_kind */
	uint8_t cond;             /* enum vtd_field_cond, 0 = always valid */
	uint64_t condmask;        /* with cond: the bits (of the field, shifted
				   * down) that need it; 0 = all of them */
};

struct vtd_format {
	const char *name;         /* "legacy context entry" */
	unsigned nqwords;
	const struct vtd_field *fields;
	unsigned nfields;
};

/* Bits lo..hi (inclusive, hi - lo < 64) of the qword array q, shifted down. */
uint64_t vtd_bits(const uint64_t *q, unsigned lo, unsigned hi);

/* The value of field f: shifted down for VAL/FLAG/RSVD/IGN, kept in place
 * (an address) for ADDR and IOVA. */
uint64_t vtd_field_get(const uint64_t *q, const struct vtd_field *f);

/* The field named name, or NULL. */
const struct vtd_field *vtd_format_field(const struct vtd_format *fmt,
					 const char *name);

/* A reserved-bit violation: which field (a RSVD field, an ADDR field above
 * the host address width, or an optional field whose condition fails) and
 * the offending bits of that field (shifted down to bit 0 of the field). */
struct vtd_rsvd {
	const char *field;
	uint16_t lo, hi;
	uint64_t bits;
	char why[64];             /* "reserved", "above host address width 39",
				   * "2 MiB page needs CAP.SLLPS bit 0", ... */
};

/* Check q against fmt with host address width haw and the valid optional
 * fields conds (enum vtd_field_cond bits).  Returns the number of violations
 * (0 = clean); the first is stored in *first when first is not NULL. */
unsigned vtd_format_check(const struct vtd_format *fmt, const uint64_t *q,
			  unsigned haw, unsigned conds, struct vtd_rsvd *first);

/* The bits of qword 0 that no field of fmt can object to under haw and
 * conds: (q[0] & ~mask) == 0 means a one-qword entry is clean (a fast path
 * for walks that check every leaf; the full check names the field). */
uint64_t vtd_format_clean_mask(const struct vtd_format *fmt, unsigned haw, unsigned conds);

/* "P=1 FPD=0 TT=0x0 SLPTPTR=0x1234000 AW=0x1 DID=0x2" — every non-reserved
 * field, plus any non-zero reserved field as "RSVD(11:4)=0x3".  Returns the
 * length it needed (snprintf-like). */
size_t vtd_format_describe(const struct vtd_format *fmt, const uint64_t *q,
			   char *buf, size_t len);

#endif
