/* libvtd — invalidation-queue descriptors (VT-d spec §6.5.2; Linux QI_*). */
#ifndef VTD_QI_H
#define VTD_QI_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "fields.h"
#include "mem.h"
#include "regs.h"

/* 128-bit descriptors use qw0/qw1; 256-bit (IQA.DW) all four. */
struct vtd_qi_desc { uint64_t qw0, qw1, qw2, qw3; };

enum vtd_qi_type {
	QI_CC_TYPE = 0x1, QI_IOTLB_TYPE = 0x2, QI_DIOTLB_TYPE = 0x3,
	QI_IEC_TYPE = 0x4, QI_IWD_TYPE = 0x5, QI_EIOTLB_TYPE = 0x6,
	QI_PC_TYPE = 0x7, QI_DEIOTLB_TYPE = 0x8, QI_PGRP_RESP_TYPE = 0x9,
	QI_PSTRM_RESP_TYPE = 0xa,
};

/* Type: bits 3:0 plus bits 11:9 as type[6:4]. */
static inline unsigned qi_desc_type(const struct vtd_qi_desc *d)
{ return (unsigned)(vtd_b(d->qw0, 0, 3) | vtd_b(d->qw0, 9, 11) << 4); }
const char *qi_type_name(unsigned type);

/* Context-cache invalidate (1) */
static inline unsigned qi_cc_gran(const struct vtd_qi_desc *d)  { return (unsigned)vtd_b(d->qw0, 4, 5); }
static inline unsigned qi_cc_did(const struct vtd_qi_desc *d)   { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_cc_sid(const struct vtd_qi_desc *d)   { return (unsigned)vtd_b(d->qw0, 32, 47); }
static inline unsigned qi_cc_fm(const struct vtd_qi_desc *d)    { return (unsigned)vtd_b(d->qw0, 48, 49); }
/* IOTLB invalidate (2) */
static inline unsigned qi_iotlb_gran(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 4, 5); }
static inline bool qi_iotlb_dw(const struct vtd_qi_desc *d)     { return vtd_b(d->qw0, 6, 6); }
static inline bool qi_iotlb_dr(const struct vtd_qi_desc *d)     { return vtd_b(d->qw0, 7, 7); }
static inline unsigned qi_iotlb_did(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_iotlb_am(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw1, 0, 5); }
static inline bool qi_iotlb_ih(const struct vtd_qi_desc *d)     { return vtd_b(d->qw1, 6, 6); }
static inline uint64_t qi_iotlb_addr(const struct vtd_qi_desc *d) { return d->qw1 & ~0xfffull; }
/* Device-TLB invalidate (3) */
static inline unsigned qi_dev_iotlb_pfsid(const struct vtd_qi_desc *d)
{ return (unsigned)(vtd_b(d->qw0, 12, 15) | vtd_b(d->qw0, 52, 63) << 4); }
static inline unsigned qi_dev_iotlb_qdep(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 16, 20); }
static inline unsigned qi_dev_iotlb_sid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 47); }
static inline bool qi_dev_iotlb_size(const struct vtd_qi_desc *d) { return vtd_b(d->qw1, 0, 0); }
static inline uint64_t qi_dev_iotlb_addr(const struct vtd_qi_desc *d) { return d->qw1 & ~0xfffull; }
/* Interrupt-entry-cache invalidate (4) */
static inline bool qi_iec_g(const struct vtd_qi_desc *d)        { return vtd_b(d->qw0, 4, 4); } /* 1 = index-selective */
static inline unsigned qi_iec_im(const struct vtd_qi_desc *d)   { return (unsigned)vtd_b(d->qw0, 27, 31); }
static inline unsigned qi_iec_iidx(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 47); }
/* Invalidation wait (5): the only descriptor that makes hardware write memory. */
static inline bool qi_iwd_if(const struct vtd_qi_desc *d)       { return vtd_b(d->qw0, 4, 4); }
static inline bool qi_iwd_sw(const struct vtd_qi_desc *d)       { return vtd_b(d->qw0, 5, 5); }
static inline bool qi_iwd_fn(const struct vtd_qi_desc *d)       { return vtd_b(d->qw0, 6, 6); }
static inline bool qi_iwd_pd(const struct vtd_qi_desc *d)       { return vtd_b(d->qw0, 7, 7); }
static inline uint32_t qi_iwd_status_data(const struct vtd_qi_desc *d) { return (uint32_t)vtd_b(d->qw0, 32, 63); }
static inline uint64_t qi_iwd_status_addr(const struct vtd_qi_desc *d) { return d->qw1 & ~3ull; }
/* PASID-based IOTLB invalidate (6) */
static inline unsigned qi_eiotlb_gran(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 4, 5); }
static inline unsigned qi_eiotlb_did(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_eiotlb_pasid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 51); }
static inline unsigned qi_eiotlb_am(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw1, 0, 5); }
static inline bool qi_eiotlb_ih(const struct vtd_qi_desc *d)    { return vtd_b(d->qw1, 6, 6); }
static inline uint64_t qi_eiotlb_addr(const struct vtd_qi_desc *d) { return d->qw1 & ~0xfffull; }
/* PASID-cache invalidate (7) */
static inline unsigned qi_pc_gran(const struct vtd_qi_desc *d)  { return (unsigned)vtd_b(d->qw0, 4, 5); }
static inline unsigned qi_pc_did(const struct vtd_qi_desc *d)   { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_pc_pasid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 51); }
/* PASID-based device-TLB invalidate (8) */
static inline unsigned qi_deiotlb_qdep(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 4, 8); }
static inline unsigned qi_deiotlb_pfsid(const struct vtd_qi_desc *d)
{ return (unsigned)(vtd_b(d->qw0, 12, 15) | vtd_b(d->qw0, 52, 63) << 4); }
static inline unsigned qi_deiotlb_sid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_deiotlb_pasid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 51); }
static inline bool qi_deiotlb_glob(const struct vtd_qi_desc *d) { return vtd_b(d->qw1, 0, 0); }
static inline bool qi_deiotlb_size(const struct vtd_qi_desc *d) { return vtd_b(d->qw1, 11, 11); }
static inline uint64_t qi_deiotlb_addr(const struct vtd_qi_desc *d) { return d->qw1 & ~0xfffull; }
/* Page-group response (9) */
static inline bool qi_pgrp_pasid_p(const struct vtd_qi_desc *d) { return vtd_b(d->qw0, 4, 4); }
static inline bool qi_pgrp_pdp(const struct vtd_qi_desc *d)     { return vtd_b(d->qw0, 5, 5); }
static inline unsigned qi_pgrp_resp_code(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 12, 15); }
static inline unsigned qi_pgrp_rid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 16, 31); }
static inline unsigned qi_pgrp_pasid(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw0, 32, 51); }
static inline bool qi_pgrp_lpig(const struct vtd_qi_desc *d)    { return vtd_b(d->qw1, 2, 2); }
static inline unsigned qi_pgrp_idx(const struct vtd_qi_desc *d) { return (unsigned)vtd_b(d->qw1, 3, 11); }

/* Format of a descriptor by its type (NULL for an unknown type). */
const struct vtd_format *vtd_qi_format(unsigned type);

/* Linux q_inval.desc_status values. */
enum { QI_FREE = 0, QI_IN_USE = 1, QI_DONE = 2, QI_ABORT = 3 };

/* One queue slot as the iterator reports it. */
struct vtd_qi_slot {
	unsigned index;
	struct vtd_qi_desc desc;
	unsigned type;
	int status;                /* desc_status[index], -1 when not known */
	/* Wait descriptors with SW=1: the status word at the status address. */
	bool has_wait_status;
	uint32_t wait_status;      /* value read at qi_iwd_status_addr() */
	bool wait_done;            /* wait_status == status data */
};

/* The queue as the crashed kernel set it up: an IQA value, and the
 * physical address of its desc_status[] array (VTD_NOADDR if unknown). */
struct vtd_qi {
	uint64_t iqa;
	uint64_t status_pa;
	int free_head, free_tail;  /* software ring indices, -1 if unknown */
};

/* Iterate every slot whose descriptor is not all zeroes, in index order. */
typedef int (*vtd_qi_cb)(void *arg, const struct vtd_qi_slot *slot,
			 const struct vtd_error *err);
int vtd_qi_iter(const struct vtd_mem *mem, const char *unit, const struct vtd_qi *qi,
		vtd_qi_cb cb, void *arg);

#endif
