/* Sparse physical memory image (see image.h). */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot { uint64_t pfn; uint8_t *page; };

struct img {
	struct img_range *ram;
	size_t nram;
	struct slot *tab;      /* open addressing, pfn + 1 as key (0 = empty) */
	size_t cap, n;
	uint64_t *pfns;        /* sorted cache of present pfns */
	bool pfns_valid;
};

struct img *img_new(void)
{
	struct img *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->cap = 1024;
	im->tab = calloc(im->cap, sizeof(*im->tab));
	if (!im->tab) {
		free(im);
		return NULL;
	}
	return im;
}

void img_free(struct img *im)
{
	if (!im)
		return;
	for (size_t i = 0; i < im->cap; i++)
		free(im->tab[i].page);
	free(im->tab);
	free(im->ram);
	free(im->pfns);
	free(im);
}

static int cmp_range(const void *a, const void *b)
{
	const struct img_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int img_add_ram(struct img *im, uint64_t start, uint64_t end)
{
	if ((start | end) % IMG_PAGE || end <= start)
		return -1;
	for (size_t i = 0; i < im->nram; i++)
		if (start < im->ram[i].end && im->ram[i].start < end)
			return -1;
	struct img_range *r = realloc(im->ram, (im->nram + 1) * sizeof(*r));
	if (!r)
		return -1;
	im->ram = r;
	im->ram[im->nram++] = (struct img_range){ start, end };
	qsort(im->ram, im->nram, sizeof(*im->ram), cmp_range);
	return 0;
}

size_t img_nram(const struct img *im) { return im->nram; }
const struct img_range *img_ram(const struct img *im) { return im->ram; }

bool img_is_ram(const struct img *im, uint64_t pfn)
{
	uint64_t pa = pfn * IMG_PAGE;
	for (size_t i = 0; i < im->nram; i++)
		if (pa >= im->ram[i].start && pa < im->ram[i].end)
			return true;
	return false;
}

uint64_t img_max_pfn(const struct img *im)
{
	return im->nram ? im->ram[im->nram - 1].end / IMG_PAGE : 0;
}

static size_t hash(uint64_t pfn, size_t cap)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static struct slot *find(const struct img *im, uint64_t pfn)
{
	for (size_t i = hash(pfn, im->cap);; i = (i + 1) & (im->cap - 1)) {
		if (!im->tab[i].page)
			return &im->tab[i];
		if (im->tab[i].pfn == pfn)
			return &im->tab[i];
	}
}

static int grow(struct img *im)
{
	size_t ocap = im->cap;
	struct slot *old = im->tab;
	im->cap *= 2;
	im->tab = calloc(im->cap, sizeof(*im->tab));
	if (!im->tab) {
		im->tab = old;
		im->cap = ocap;
		return -1;
	}
	for (size_t i = 0; i < ocap; i++)
		if (old[i].page)
			*find(im, old[i].pfn) = old[i];
	free(old);
	return 0;
}

uint8_t *img_page(struct img *im, uint64_t pfn, bool create)
{
	struct slot *s = find(im, pfn);
	if (s->page || !create)
		return s->page;
	if (!img_is_ram(im, pfn))
		return NULL;
	if ((im->n + 1) * 2 > im->cap) {
		if (grow(im))
			return NULL;
		s = find(im, pfn);
	}
	s->page = calloc(1, IMG_PAGE);
	if (!s->page)
		return NULL;
	s->pfn = pfn;
	im->n++;
	im->pfns_valid = false;
	return s->page;
}

const uint8_t *img_page_const(const struct img *im, uint64_t pfn)
{
	return find(im, pfn)->page;
}

int img_write(struct img *im, uint64_t pa, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		uint8_t *pg = img_page(im, pa / IMG_PAGE, true);
		size_t off = pa % IMG_PAGE, n = IMG_PAGE - off;
		if (!pg)
			return -1;
		if (n > len)
			n = len;
		memcpy(pg + off, p, n);
		p += n, pa += n, len -= n;
	}
	return 0;
}

int img_write64(struct img *im, uint64_t pa, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return img_write(im, pa, b, 8);
}

int img_read(const struct img *im, uint64_t pa, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		const uint8_t *pg = img_page_const(im, pa / IMG_PAGE);
		size_t off = pa % IMG_PAGE, n = IMG_PAGE - off;
		if (!pg)
			return -1;
		if (n > len)
			n = len;
		memcpy(p, pg + off, n);
		p += n, pa += n, len -= n;
	}
	return 0;
}

size_t img_npages(const struct img *im) { return im->n; }

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

const uint64_t *img_pfns(struct img *im)
{
	if (im->pfns_valid)
		return im->pfns;
	free(im->pfns);
	im->pfns = malloc((im->n ? im->n : 1) * sizeof(uint64_t));
	if (!im->pfns)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < im->cap; i++)
		if (im->tab[i].page)
			im->pfns[k++] = im->tab[i].pfn;
	qsort(im->pfns, k, sizeof(uint64_t), cmp_u64);
	im->pfns_valid = true;
	return im->pfns;
}

static int mem_read(void *ctx, uint64_t pa, void *buf, size_t len, char *why, size_t whylen)
{
	const struct img *im = ctx;
	if (img_read(im, pa, buf, len) == 0)
		return 0;
	for (uint64_t a = pa & ~(uint64_t)(IMG_PAGE - 1); a < pa + len; a += IMG_PAGE)
		if (!img_page_const(im, a / IMG_PAGE)) {
			snprintf(why, whylen, "%s at 0x%llx",
				 img_is_ram(im, a / IMG_PAGE) ? "excluded page" : "not RAM",
				 (unsigned long long)a);
			break;
		}
	return -1;
}

struct vtd_mem img_mem(const struct img *im)
{
	return (struct vtd_mem){ .read = mem_read, .ctx = (void *)im };
}
