/* Scenarios: a text description of a crashed machine's VT-d state (units,
 * devices, domains, mappings, IRTEs, QI state, corruptions) that the generator
 * turns into physical memory (struct img), dumps, and expected answers.
 *
 * Expected answers come from the scenario itself (what was mapped, what was
 * corrupted), never from running libvtd's walkers.  The format is documented
 * in testdata/scenarios/README.md. */
#ifndef TESTDATA_SCENARIO_H
#define TESTDATA_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include "dumpfile.h"
#include "image.h"
#include "vtd/walk.h"

/* Expected coalesced mapping run of one device context. */
struct scn_map {
	char unit[24];
	uint16_t sid;
	int64_t pasid;            /* VTD_NO_PASID for legacy */
	uint64_t iova, size, pa, page_size;
	unsigned perm;            /* VTD_PERM_R | VTD_PERM_W */
	enum vtd_xtype xtype;
};

/* Expected result of one translation request. */
struct scn_xlate {
	char unit[24];
	struct vtd_request rq;
	unsigned fault;           /* 0 or the spec's fault reason */
	uint64_t pa;              /* when fault == 0 */
	uint64_t page_size;       /* when fault == 0 */
	int level;                /* for faults at a paging level: the level, else -1 */
};

/* Expected reverse-map hit: physical [pa, pa+size) reached by unit/sid/pasid
 * at iova with perm. */
struct scn_rmap {
	uint64_t query_pa, query_len;   /* the question */
	char unit[24];
	uint16_t sid;
	int64_t pasid;
	uint64_t iova, pa, size;
	unsigned perm;
	enum vtd_xtype xtype;
};

/* Expected present IRTE. */
struct scn_irte {
	char unit[24];
	uint32_t index;
	struct vtd_irte irte;     /* raw, as the generator wrote it */
	int posted;
	unsigned vector;          /* V (remapped) or VV (posted) */
	uint32_t dest;            /* remapped: destination APIC ID */
	uint64_t pda;             /* posted: descriptor address */
	unsigned sid, sq, svt;
};

/* Expected non-empty QI slot. */
struct scn_qi {
	char unit[24];
	unsigned index;
	unsigned type;
	int status;               /* desc_status[index] or -1 */
	int is_wait;
	uint64_t status_addr;     /* wait descriptors */
	uint32_t status_data;
	int wait_done;            /* status word already equals status data */
};

/* Expected diagnostic of a hostile scenario: a walk of this device context
 * (or unit, sid -1) must end in or report an error with these fields
 * (-1 = don't care). */
struct scn_diag {
	char unit[24];
	int sid;                  /* -1: unit-level (root table) */
	int64_t pasid;
	enum vtd_errcode code;
	int level, index;
	const char *what;         /* a word the message must contain, or NULL */
};

/* A takeover statement (applied by scn_takeover(), after the mock kernel). */
struct scn_tkline { int line, unit; char text[200]; };
/* A physical range the takeover wrote: restored to the pre-takeover bytes
 * (evidence exists), or kept as captured (no evidence: hardware, DMA). */
struct scn_span { uint64_t pa, len; unsigned mark; };

struct scn {
	char name[64];
	struct img *img;
	struct dump_info info;
	struct vtd_unit *units;  size_t nunits;
	struct scn_map *maps;    size_t nmaps;
	struct scn_xlate *xlates; size_t nxlates;
	struct scn_rmap *rmaps;  size_t nrmaps;
	struct scn_irte *irtes;  size_t nirtes;
	struct scn_qi *qis;      size_t nqis;
	struct scn_diag *diags;  size_t ndiags;
	/* present device contexts expected from vtd_unit_walk: sid/pasid/xtype/did */
	struct vtd_devctx *ctxs; size_t nctxs;
	char **ctx_units;        /* unit name of each ctxs[i] */
	/* takeover statements, and once scn_takeover() ran: the image before
	 * the takeover and what the takeover wrote */
	struct scn_tkline *tks;  size_t ntks;
	struct img *pre;
	struct scn_span *tk_restore; size_t ntk_restore;
	struct scn_span *tk_keep;    size_t ntk_keep;
};

/* Parse the scenario file and build its memory image and expectations.
 * NULL with a message ("file:line: ...") in err on failure. */
struct scn *scn_load(const char *path, char *err, size_t errlen);
void scn_free(struct scn *s);

/* Simulate the scenario's takeover statements on its (complete) image:
 * s->pre keeps the image before, s->img becomes the dump's, tk_restore and
 * tk_keep say what was written (documented in testdata/scenarios/README.md).
 * crashk_start is where the capture kernel's own pages lie.  0, or -1 with
 * a message "file:line: ...". */
int scn_takeover(struct scn *s, const char *file, uint64_t crashk_start, char *err, size_t errlen);
/* The takeover's expectations as text ("restore PA LEN MARK", "keep PA LEN MARK"). */
int scn_write_takeover_expect(const struct scn *s, const char *path, char *err, size_t errlen);

/* Write the expected answers as text (documented in the scenarios README). */
int scn_write_expect(const struct scn *s, const char *path, char *err, size_t errlen);

/* The dump files vtd-gen writes for a scenario: "<name>.elf",
 * "<name>.kdump" (uncompressed), "<name>.kdump-zlib", "-lzo", "-snappy",
 * "-zstd", and "<name>.flat" (flattened, zlib). */
struct scn_output { const char *suffix; enum dump_format fmt; enum dump_compress comp; };
extern const struct scn_output scn_outputs[];
extern const size_t scn_noutputs;

#endif
