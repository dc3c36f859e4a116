/* Errors as values (see error.h). */
#include "vtd/error.h"
#include "strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vtd_error_init(struct vtd_error *e)
{
	memset(e, 0, sizeof(*e));
	e->segment = e->bus = e->devfn = -1;
	e->pasid = -1;
	e->level = e->index = -1;
	e->table = VTD_NOADDR;
}

int vtd_error_set(struct vtd_error *e, enum vtd_errcode code, const char *fmt, ...)
{
	char msg[sizeof(e->msg)];     /* callers may pass e->msg as an argument */
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(e->msg, msg, sizeof(msg));
	return -(int)code;
}

void vtd_error_raw(struct vtd_error *e, const uint64_t *raw, unsigned n)
{
	if (n > 8)
		n = 8;
	memcpy(e->raw, raw, n * sizeof(*raw));
	e->nraw = n;
}

const char *vtd_errcode_name(enum vtd_errcode code)
{
	switch (code) {
	case VTD_OK: return "ok";
	case VTD_E_READ: return "read error";
	case VTD_E_RSVD: return "reserved bits";
	case VTD_E_INVAL: return "invalid entry";
	case VTD_E_LOOP: return "table loop";
	case VTD_E_LIMIT: return "walk limit";
	case VTD_E_ARG: return "bad argument";
	case VTD_E_NOMEM: return "out of memory";
	}
	return "unknown error";
}

/* Append to buf at *pos, never overrunning; *pos keeps counting past the end
 * so the caller learns the length needed. */

size_t vtd_error_str(const struct vtd_error *e, char *buf, size_t len)
{
	size_t pos = 0;
	if (len)
		buf[0] = 0;
	if (e->unit[0])
		bufput(buf, len, &pos, "%s ", e->unit);
	if (e->bus >= 0 && e->devfn >= 0)
		bufput(buf, len, &pos, "%04x:%02x:%02x.%x ", e->segment >= 0 ? e->segment : 0,
		    e->bus, e->devfn >> 3, e->devfn & 7);
	if (e->pasid >= 0)
		bufput(buf, len, &pos, "PASID %" PRId64 " ", e->pasid);
	if (e->level >= 0)
		bufput(buf, len, &pos, "level %d ", e->level);
	if (e->index >= 0)
		bufput(buf, len, &pos, "index %d ", e->index);
	if (e->table != VTD_NOADDR)
		bufput(buf, len, &pos, "table 0x%" PRIx64 " ", e->table);
	if (e->nraw) {
		bufput(buf, len, &pos, "raw");
		for (unsigned i = e->nraw; i-- > 0;)
			bufput(buf, len, &pos, "%s%016" PRIx64, i == e->nraw - 1 ? " 0x" : ":", e->raw[i]);
		bufput(buf, len, &pos, " ");
	}
	if (pos && pos <= len && buf[pos - 1] == ' ')
		pos--;                 /* "... raw 0x..: msg", not "raw 0x.. : msg" */
	if (pos)
		bufput(buf, len, &pos, ": ");
	bufput(buf, len, &pos, "%s", e->msg[0] ? e->msg : vtd_errcode_name(e->code));
	return pos;
}
