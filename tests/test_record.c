/* The marks record (lib/record.c): exact round trip of every field, and
 * clear errors on bad records. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vtd/record.h"

static struct vtd_analysis *sample(void)
{
	struct vtd_analysis *a = calloc(1, sizeof(*a));
	a->nfindings = 2;
	a->findings = calloc(2, sizeof(*a->findings));
	a->findings[0] = (struct vtd_finding){ VTD_SEV_ERROR, "root-rewritten", "dmar0", -1, -1,
					       VTD_NO_PASID, 0x1005010, "root entry of bus 01\twith a tab\nand a newline" };
	a->findings[1] = (struct vtd_finding){ VTD_SEV_INFO, "pass-through", "dmar1", 1, 0x8000, 0,
					       VTD_NOADDR, "0001:80:00.0 = pass-through" };
	struct vtd_mark m[3] = {
		{ 0x1005, 1, VTD_MARK_TABLE, "dmar0", -1, -1, VTD_NO_PASID, 0, "root table" },
		{ 0x3000, 16, VTD_MARK_DMA_WRITABLE, "dmar1", 1, 0x0010, 5, 0x10000, "mapped writable (first-level)" },
		{ 0xfffffffff, 1, VTD_MARK_RESTORED, "", -1, -1, VTD_NO_PASID, 0, "16 bytes" },
	};
	for (int i = 0; i < 3; i++)
		vtd_marks_add(&a->marks, &m[i]);
	vtd_marks_sort(&a->marks);
	a->nrestores = 1;
	a->restores = calloc(1, sizeof(*a->restores));
	a->restores[0].pa = 0x1005010;
	a->restores[0].len = 16;
	for (int i = 0; i < 16; i++) {
		a->restores[0].original[i] = (uint8_t)i;
		a->restores[0].captured[i] = (uint8_t)(0xf0 | i);
	}
	snprintf(a->restores[0].source, sizeof(a->restores[0].source), "context table found at 0x1007000");
	return a;
}

static int parse(const char *t, struct vtd_analysis **a, struct vtd_error *e)
{
	vtd_error_init(e);
	return vtd_record_parse(t, strlen(t), a, NULL, NULL, e);
}

TEST(record_round_trip)
{
	struct vtd_analysis *a = sample(), *b = NULL;
	struct vtd_record_meta m = { "vtd restore 0.1", "diskdump" }, mb;
	struct vtd_error e;
	char *t = NULL, *j = NULL;
	size_t n;
	vtd_error_init(&e);
	EXPECT(vtd_record_format(a, &m, &t, &n, &e) == 0);
	/* the patcher appends its journal and the end line */
	char *full = malloc(n + 100);
	snprintf(full, n + 100, "%sjournal\tformat=diskdump\tsize=0x10\nend\n", t);
	EXPECT_MSG(vtd_record_parse(full, strlen(full), &b, &mb, &j, &e) == 0, "%s", e.msg);
	if (b) {
		EXPECT_STR(mb.generator, "vtd restore 0.1");
		EXPECT_STR(mb.dump_format, "diskdump");
		EXPECT_STR(j, "journal\tformat=diskdump\tsize=0x10\n");
		EXPECT_EQ(b->nfindings, 2);
		EXPECT_EQ(b->findings[0].sev, VTD_SEV_ERROR);
		EXPECT_STR(b->findings[0].kind, "root-rewritten");
		EXPECT_STR(b->findings[0].text, "root entry of bus 01 with a tab and a newline");
		EXPECT_EQ(b->findings[0].pa, 0x1005010);
		EXPECT_EQ(b->findings[0].sid, -1);
		EXPECT_EQ(b->findings[1].sid, 0x8000);
		EXPECT_EQ(b->findings[1].segment, 1);
		EXPECT_EQ(b->findings[1].pasid, 0);
		EXPECT_EQ(b->findings[1].pa, VTD_NOADDR);
		EXPECT_EQ(b->marks.n, 3);
		for (size_t i = 0; i < 3 && b->marks.n == 3; i++) {
			const struct vtd_mark *x = &a->marks.v[i], *y = &b->marks.v[i];
			EXPECT(x->pfn == y->pfn && x->npages == y->npages && x->reason == y->reason &&
			       x->sid == y->sid && x->segment == y->segment && x->pasid == y->pasid &&
			       x->iova == y->iova && !strcmp(x->unit, y->unit) && !strcmp(x->what, y->what));
		}
		EXPECT_EQ(b->nrestores, 1);
		EXPECT(!memcmp(&a->restores[0], &b->restores[0], sizeof(a->restores[0])));
	}
	free(full);
	free(t);
	free(j);
	vtd_analysis_free(a);
	vtd_analysis_free(b);
}

TEST(record_errors_name_the_line)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "", "not a marks record" },
		{ "VTDSCOPE-MARKS 2\nend\n", "version 2" },
		{ "VTDSCOPE-MARKS 1\nmark\tpfn=0x1\tn=1\treason=TABLE\tunit=-\tbdf=-\tpasid=-\tiova=0x0\twhat=x\n",
		  "truncated" },
		{ "VTDSCOPE-MARKS 1\nmark\tpfn=0x1\tn=1\treason=BOGUS\tunit=-\tbdf=-\tpasid=-\tiova=0x0\twhat=x\nend\n",
		  "line 2 (mark): reason=BOGUS" },
		{ "VTDSCOPE-MARKS 1\nmeta\tx=1\nmark\tpfn=0x1\tn=0\treason=TABLE\tunit=-\tbdf=-\tpasid=-\tiova=0x0\twhat=x\nend\n",
		  "line 3 (mark)" },
		{ "VTDSCOPE-MARKS 1\nfinding\tsev=fatal\tkind=k\tunit=-\tbdf=-\tpasid=-\tpa=-\ttext=t\nend\n", "sev=fatal" },
		{ "VTDSCOPE-MARKS 1\nfinding\tsev=info\tkind=k\tunit=-\tbdf=0000:1:2\tpasid=-\tpa=-\ttext=t\nend\n", "bdf=0000:1:2" },
		{ "VTDSCOPE-MARKS 1\nrestore\tpa=0x1000\tlen=2\toriginal=00zz\tcaptured=0000\tsource=s\nend\n", "original is not hex" },
		{ "VTDSCOPE-MARKS 1\nrestore\tpa=0x1ffe\tlen=4\toriginal=00000000\tcaptured=00000000\tsource=s\nend\n", "within a page" },
		{ "VTDSCOPE-MARKS 1\nrestore\tpa=0x1000\tlen=2\toriginal=0000\tsource=s\nend\n", "no captured=" },
		{ "VTDSCOPE-MARKS 1\nmark\tpfn=12x\tn=1\treason=TABLE\tunit=-\tbdf=-\tpasid=-\tiova=0x0\twhat=x\nend\n", "pfn=12x" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vtd_analysis *a = NULL;
		struct vtd_error e;
		check_begin("bad_record_%zu", i);
		EXPECT(parse(bad[i].text, &a, &e) != 0 && !a);
		EXPECT_MSG(strstr(e.msg, bad[i].want), "got '%s', want '%s'", e.msg, bad[i].want);
		check_end();
	}
	/* unknown line kinds and keys of the same major version are skipped */
	struct vtd_analysis *a = NULL;
	struct vtd_error e;
	EXPECT_MSG(parse("VTDSCOPE-MARKS 1.3\nfuture\tx=1\nmark\tpfn=0x5\tn=2\treason=CHANGED\tunit=dmar0\t"
			 "bdf=-\tpasid=-\tiova=0x0\tnew=1\twhat=w\nend\n", &a, &e) == 0, "%s", e.msg);
	EXPECT(a && a->marks.n == 1 && a->marks.v[0].pfn == 5 && a->marks.v[0].npages == 2);
	vtd_analysis_free(a);
	/* a NUL byte inside */
	const char nul[] = "VTDSCOPE-MARKS 1\n\0end\n";
	EXPECT(vtd_record_parse(nul, sizeof(nul) - 1, &a, NULL, NULL, &e) != 0);
}
