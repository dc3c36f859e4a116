/* Synthetic physical memory for the generator and the tests: a sparse set of
 * 4 KiB pages over declared RAM ranges.  A RAM page that was never written is
 * "excluded": dumps leave it out (2nd bitmap clear), readers get an error. */
#ifndef TESTDATA_IMAGE_H
#define TESTDATA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vtd/mem.h"

#define IMG_PAGE 4096u

struct img_range { uint64_t start, end; };   /* [start, end), page aligned */

struct img;

struct img *img_new(void);
void img_free(struct img *im);

/* Declare RAM [start, end) (page aligned).  Ranges must not overlap. */
int img_add_ram(struct img *im, uint64_t start, uint64_t end);
size_t img_nram(const struct img *im);
const struct img_range *img_ram(const struct img *im);   /* sorted by start */
bool img_is_ram(const struct img *im, uint64_t pfn);
uint64_t img_max_pfn(const struct img *im);              /* end of highest RAM / 4096 */

/* The page at pfn, or NULL if absent; with create, a new zeroed page (only
 * inside RAM; NULL outside). */
uint8_t *img_page(struct img *im, uint64_t pfn, bool create);
const uint8_t *img_page_const(const struct img *im, uint64_t pfn);

/* Write/read bytes at a physical address.  Write creates pages (fails
 * outside RAM); read fails if any page is absent.  Return 0 or -1. */
int img_write(struct img *im, uint64_t pa, const void *buf, size_t len);
int img_write64(struct img *im, uint64_t pa, uint64_t v);  /* little-endian */
int img_read(const struct img *im, uint64_t pa, void *buf, size_t len);

/* Present pages, sorted ascending (valid until the next img_page create). */
size_t img_npages(const struct img *im);
const uint64_t *img_pfns(struct img *im);

/* A struct vtd_mem reading this image ("page not in image" for absent). */
struct vtd_mem img_mem(const struct img *im);

#endif
