/* libvtd — interrupt-remapping table entries (VT-d spec §9.9/§9.10;
 * Linux struct irte in include/linux/dmar.h). */
#ifndef VTD_IRQ_H
#define VTD_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "fields.h"
#include "mem.h"
#include "regs.h"

struct vtd_irte { uint64_t low, high; };

/* Both formats */
static inline bool irte_present(const struct vtd_irte *i)      { return i->low & 1; }
static inline bool irte_fpd(const struct vtd_irte *i)          { return vtd_b(i->low, 1, 1); }
static inline unsigned irte_avail(const struct vtd_irte *i)    { return (unsigned)vtd_b(i->low, 8, 11); }
static inline bool irte_im(const struct vtd_irte *i)           { return vtd_b(i->low, 15, 15); } /* 1 = posted */
static inline unsigned irte_sid(const struct vtd_irte *i)      { return (unsigned)vtd_b(i->high, 0, 15); }
static inline unsigned irte_sq(const struct vtd_irte *i)       { return (unsigned)vtd_b(i->high, 16, 17); }
static inline unsigned irte_svt(const struct vtd_irte *i)      { return (unsigned)vtd_b(i->high, 18, 19); }
/* Remapped format (IM = 0) */
static inline bool irte_dst_mode(const struct vtd_irte *i)     { return vtd_b(i->low, 2, 2); }  /* DM */
static inline bool irte_redir_hint(const struct vtd_irte *i)   { return vtd_b(i->low, 3, 3); }  /* RH */
static inline bool irte_trigger_mode(const struct vtd_irte *i) { return vtd_b(i->low, 4, 4); }  /* TM */
static inline unsigned irte_dlvry_mode(const struct vtd_irte *i) { return (unsigned)vtd_b(i->low, 5, 7); } /* DLM */
static inline unsigned irte_vector(const struct vtd_irte *i)   { return (unsigned)vtd_b(i->low, 16, 23); }
static inline uint32_t irte_dest_raw(const struct vtd_irte *i) { return (uint32_t)vtd_b(i->low, 32, 63); }
/* Destination APIC ID: all 32 bits in x2APIC mode (IRTA.EIME), else bits 47:40. */
static inline uint32_t irte_dest_id(const struct vtd_irte *i, bool eim)
{ return eim ? irte_dest_raw(i) : (uint32_t)vtd_b(i->low, 40, 47); }
/* Posted format (IM = 1) */
static inline bool irte_urg(const struct vtd_irte *i)          { return vtd_b(i->low, 14, 14); }
static inline unsigned irte_vv(const struct vtd_irte *i)       { return (unsigned)vtd_b(i->low, 16, 23); }
static inline uint64_t irte_pda(const struct vtd_irte *i)
{ return (vtd_b(i->low, 38, 63) << 6) | (vtd_b(i->high, 32, 63) << 32); }

/* Remapped and posted formats; vtd_irte_format() picks by IM. */
extern const struct vtd_format vtd_fmt_irte_remapped, vtd_fmt_irte_posted;
const struct vtd_format *vtd_irte_format(const struct vtd_irte *i);

/* Iterate the IR table that an IRTA value describes: cb is called for each
 * present entry, in index order.  A read failure of a table page is passed to
 * cb as err (irte NULL) and iteration goes on with the next page; cb returns
 * non-zero to stop (that value is returned).  The walk is bounded by the
 * table size in IRTA.S. */
typedef int (*vtd_irte_cb)(void *arg, uint32_t index, const struct vtd_irte *irte,
			   const struct vtd_error *err);
int vtd_irte_iter(const struct vtd_mem *mem, const char *unit, uint64_t irta,
		  vtd_irte_cb cb, void *arg);

/* Read entry index of the table; VTD_E_ARG if the index is beyond IRTA.S. */
int vtd_irte_get(const struct vtd_mem *mem, const char *unit, uint64_t irta,
		 uint32_t index, struct vtd_irte *out, struct vtd_error *err);

#endif
