/* make bench: leaf PTEs decoded per second by vtd_map_walk over a scenario's
 * in-memory image (no dump reader in the way).
 *   bench_walk SCENARIO BB:DD.F ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "image.h"
#include "scenario.h"
#include "vtd/walk.h"

static uint64_t leaves;
static int on_map(void *a, const struct vtd_devctx *dc, const struct vtd_mapping *m)
{
	(void)a, (void)dc;
	leaves += m->page_size ? m->size / m->page_size : 1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	unsigned b, d, f;
	if (argc != 4 || sscanf(argv[2], "%x:%x.%x", &b, &d, &f) != 3) {
		fprintf(stderr, "usage: bench_walk SCENARIO BB:DD.F ROUNDS\n");
		return 2;
	}
	struct scn *s = scn_load(argv[1], err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench_walk: %s\n", err);
		return 2;
	}
	struct vtd_mem mem = img_mem(s->img);
	struct vtd_devctx dc;
	struct vtd_error e;
	vtd_error_init(&e);
	if (vtd_devctx_get(&mem, &s->units[0], (uint16_t)(b << 8 | d << 3 | f), VTD_NO_PASID, &dc, &e)) {
		fprintf(stderr, "bench_walk: %s\n", e.msg);
		return 2;
	}
	struct vtd_walk_ops ops = { NULL, on_map, NULL, NULL, NULL };
	int rounds = atoi(argv[3]);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < rounds; r++)
		vtd_map_walk(&mem, &s->units[0], &dc, &ops);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %.6f\n", (unsigned long long)(leaves / (unsigned)rounds), secs / rounds);
	scn_free(s);
	return 0;
}
