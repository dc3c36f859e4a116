/* Internal to the scenario parser and builder (testdata/scn_*.c).
 *
 * The builder keeps its own model of what it wrote: units, devices,
 * translation contexts (a legacy context entry or an SM PASID entry), their
 * page-table trees and the mapping lists they came from.  Every entry is
 * encoded here from the VT-d spec's tables; nothing in libvtd is called to
 * encode or walk.  Expectations are derived from the model. */
#ifndef TESTDATA_SCN_INT_H
#define TESTDATA_SCN_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include "scenario.h"

#define SCN_MAXTOK 48
#define PG 4096ull

/* One statement: tokens of a line.  Tokens with '=' are options, known bare
 * flags are flags, the rest are positional. */
struct sline {
	int no;                 /* line number */
	int unit;               /* index of the unit block it is in, -1 before any */
	int ntok;
	char *tok[SCN_MAXTOK];
	uint64_t used;          /* tokens consumed by the handler (bit i) */
	uint64_t flagged;       /* tokens consumed as flags */
};

/* A page-table page of the generator's own trees. */
struct ptnode {
	uint64_t pa;            /* where the table lives */
	uint64_t ptr;           /* what the entry above stores (GPA for nested FL) */
	unsigned level;
	uint64_t e[512];
	struct ptnode *child[512];
};

struct dom;

struct tree {
	bool fl;                /* first-level (IA-32e) format, else second-level */
	bool xd;                /* FL: set XD (bit 63) everywhere, as Linux 5.x-6.1 */
	unsigned levels;
	struct ptnode *root;
};

/* A contiguous piece of a map line: [iova, iova+size) -> pa, in pages of ps. */
struct chunk {
	uint64_t iova, pa, size, ps;
	unsigned perm;
	bool nofill;
	/* composed (nested) runs only: the stages' own page sizes and perms */
	uint64_t fl_ps, sl_ps;
	unsigned fl_perm, sl_perm;
};

struct range { uint64_t lo, last; };   /* [lo, last], inclusive: ranges may end at 2^64 */

/* The tables and mapping lists of one translation (a Linux domain); several
 * contexts may share one. */
struct dom {
	enum vtd_xtype xt;
	struct tree sl, fl;
	struct chunk *maps; size_t nmaps, capmaps;     /* SL/FL: IOVA->PA; nested: IOVA->GPA */
	struct chunk *gmaps; size_t ngmaps, capgmaps;  /* nested: GPA->HPA */
	struct range *drop; size_t ndrop, capdrop;     /* IOVA ranges cut by corruptions */
	struct range *gdrop; size_t ngdrop, capgdrop;  /* nested: GPA ranges cut */
	uint64_t gpa_next;                             /* nested: next GPA for FL tables */
};

/* A device context as the unit walk reports it. */
struct mctx {
	int unit, dev;
	uint16_t sid;
	int64_t pasid;          /* VTD_NO_PASID for legacy */
	enum vtd_xtype xt;
	int did;
	struct dom *dom;
	unsigned sl_levels, fl_levels;
	uint64_t entry_pa;      /* legacy context entry / PASID-table entry */
	uint64_t sl_ptr, fl_ptr;  /* table pointers in the entry (after corruptions) */
	bool valid;             /* the entry is valid per spec */
	const char *why_invalid;
	bool dropped;           /* cut off by a corruption: not reported */
	bool maps_gone;         /* reported, but its top table is unreadable */
	int line;
};

struct ptab { unsigned didx; uint64_t pa; };

struct mdev {
	int unit, line;
	unsigned bus, devfn;
	uint64_t ctx_entry_pa;
	int ctx;                /* legacy: its context, -1 */
	/* scalable */
	unsigned pdts, rid_pasid;
	bool paside;
	uint64_t dir_pa;
	struct ptab *ptabs; size_t nptabs, capptabs;
	bool tainted;           /* its context/PASID structures were corrupted */
};

struct qdesc_m {
	unsigned slot, type;
	uint64_t q[4];
	bool wait_sw;
	uint64_t addr;
	uint32_t data;
	bool done;
};

struct munit {
	struct vtd_unit u;
	bool sm;
	uint64_t root;
	uint64_t ctxt[256][2];  /* context table per bus: [0] legacy/lower, [1] upper */
	bool tainted_root;      /* root table corrupted/excluded: no auto probes */
	bool tainted_bus[256];
	/* interrupt remapping */
	bool ir;
	uint64_t ir_pa;
	unsigned ir_s;
	bool eime;
	/* invalidation queue */
	bool qi;
	uint64_t ring, status;
	unsigned qs;
	bool dw;
	struct qdesc_m *qd; size_t nqd, capqd;
	int32_t *qstatus;       /* desc_status[] values (entries of the ring) */
	unsigned nslots;
};

struct bld {
	const char *file;
	char *err;
	size_t errlen;
	jmp_buf jb;
	int line;
	struct scn *s;
	struct img *im;          /* staging image */
	uint64_t next;           /* page allocator */
	bool alloc_set;
	uint64_t *tpfn; size_t ntpfn, captpfn;     /* pages holding VT-d structures */
	uint64_t *xpfn; size_t nxpfn, capxpfn;     /* excluded pages */
	struct sline *lines; size_t nlines, caplines;
	char *text;
	struct munit *units; size_t nunits, capunits;
	struct mdev *devs; size_t ndevs, capdevs;
	struct mctx *ctxs; size_t nctxs, capctxs;
	struct dom **doms; size_t ndoms, capdoms;
	struct ptnode **nodes; size_t nnodes, capnodes;
	/* expectations being collected */
	size_t capx, capd, capr, capi, capq, capm, capc;
	struct { uint64_t pa, len; } *rq; size_t nrq, caprq;
	uint64_t *apfn; size_t napfn, capapfn;     /* pages that must be absent */
	void *scratch;           /* a temporary array, freed if a later step fails */
};

/* scn_util.c */
_Noreturn void scn_fail(struct bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *scn_push(struct bld *b, void **arr, size_t *n, size_t *cap, size_t sz);
#define PUSH(b, arr, n, cap) ((__typeof__(arr))scn_push((b), (void **)&(arr), &(n), &(cap), sizeof(*(arr))))
uint64_t scn_num(struct bld *b, const char *s);
int scn_tok_flag(struct sline *l, const char *name);
const char *scn_tok_opt(struct sline *l, const char *key);
const char *scn_tok_pos(struct sline *l, int i);   /* i-th positional (0 = verb) */
int scn_npos(struct sline *l);
void scn_tok_done(struct bld *b, struct sline *l);  /* fail on unconsumed tokens */
uint64_t scn_opt_num(struct bld *b, struct sline *l, const char *key, uint64_t dflt);
void scn_parse_bdf(struct bld *b, const char *s, const struct munit *u, unsigned *bus, unsigned *devfn);
unsigned scn_parse_perm(struct bld *b, const char *s);
const char *scn_bdf_str(uint16_t sid, char *buf);   /* "bb:dd.f" in buf[16] */

/* scn_build.c */
uint64_t scn_alloc(struct bld *b, unsigned npages);
void scn_mark_table(struct bld *b, uint64_t pa, unsigned npages);
bool scn_is_table(const struct bld *b, uint64_t pfn);
void scn_w64(struct bld *b, uint64_t pa, uint64_t v);
uint64_t scn_r64(struct bld *b, uint64_t pa);
uint32_t scn_r32(struct bld *b, uint64_t pa);
void scn_build(struct bld *b);          /* phase 1: structures */
void scn_corrupt(struct bld *b);        /* phase 2: corruptions and exclusions */
void scn_finish_image(struct bld *b);   /* staging -> final image, data fill */

/* scn_corrupt.c */
bool scn_ctx_request(struct bld *b, const struct mctx *c, int64_t *pasid);
void scn_add_xlate(struct bld *b, int unit, uint16_t sid, int64_t pasid, uint64_t iova,
		   unsigned access, unsigned fault, uint64_t pa, uint64_t ps, int level);

/* scn_expect.c */
void scn_expectations(struct bld *b);
void scn_runs(struct bld *b, const struct mctx *c, struct chunk **out, size_t *n);
int scn_model_walk(const struct tree *t, uint64_t addr, uint64_t *pa, uint64_t *ps,
		   unsigned *perm, int *level);
uint64_t scn_pattern(uint64_t pa);

static inline uint64_t lsize(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }
static inline unsigned lidx(uint64_t a, unsigned level) { return (unsigned)(a >> (12 + 9 * (level - 1))) & 511; }

#endif
