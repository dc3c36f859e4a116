/* libvtd — errors as values.
 *
 * Every failure below the front ends is described by a struct vtd_error that
 * says what went wrong and where: unit, PCI segment:bus:dev.fn, PASID, table
 * level, index, table address and the raw entry.  Nothing in libvtd prints,
 * exits or longjmps.
 */
#ifndef VTD_ERROR_H
#define VTD_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum vtd_errcode {
	VTD_OK = 0,
	VTD_E_READ,   /* memory could not be read (excluded page, hole, beyond RAM) */
	VTD_E_RSVD,   /* reserved bits set in an entry */
	VTD_E_INVAL,  /* an entry or field holds a value the spec does not allow */
	VTD_E_LOOP,   /* a table was reached twice in one walk */
	VTD_E_LIMIT,  /* a walk bound was reached */
	VTD_E_ARG,    /* the caller asked for something impossible */
	VTD_E_NOMEM,
};

#define VTD_NOADDR UINT64_MAX

struct vtd_error {
	enum vtd_errcode code;
	char unit[24];        /* "dmar0"; empty when not known */
	int segment;          /* -1 when not applicable */
	int bus, devfn;       /* -1 when not applicable */
	int64_t pasid;        /* -1 when not applicable */
	int level;            /* paging level (5..1), -1 when not applicable */
	int index;            /* entry index inside its table, -1 when n/a */
	uint64_t table;       /* physical address of the table, VTD_NOADDR if none */
	uint64_t raw[8];      /* the raw entry, nraw qwords */
	unsigned nraw;
	char msg[256];        /* what went wrong, in words */
};

/* Reset to "no error, nothing known". */
void vtd_error_init(struct vtd_error *e);

/* Record code and message (printf format); keeps the location fields.  The
 * arguments may include e->msg itself (to wrap a message with context).
 * Returns -(int)code so callers can `return vtd_error_set(...)`. */
int vtd_error_set(struct vtd_error *e, enum vtd_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Attach the raw entry (n qwords, n <= 8). */
void vtd_error_raw(struct vtd_error *e, const uint64_t *raw, unsigned n);

/* One line: "dmar0 0000:00:02.0 PASID 0 level 3 index 5 table 0x1234000
 * raw 0x...: <msg>" (fields that are not known are left out). */
size_t vtd_error_str(const struct vtd_error *e, char *buf, size_t len);

/* Name of an error code ("read error", "reserved bits", ...). */
const char *vtd_errcode_name(enum vtd_errcode code);

#endif
