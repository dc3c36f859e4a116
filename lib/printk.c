/* The kernel log from the lockless printk ring buffer (Linux 5.10+,
 * kernel/printk/printk_ringbuffer.h): descriptors from tail_id to head_id,
 * each naming a data block [begin, next) of logical positions in the text
 * ring; a block that wraps starts again at the ring's beginning. */
#include "vtd/kernel.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DESC_FLAGS_SHIFT 62
#define DESC_ID_MASK ((1ull << DESC_FLAGS_SHIFT) - 1)
enum { DESC_RESERVED, DESC_COMMITTED, DESC_FINALIZED, DESC_REUSABLE };

struct lay {
	uint64_t dr, tr;                         /* printk_ringbuffer.{desc_ring,text_data_ring} */
	uint64_t count_bits, descs, infos, head_id, tail_id;
	uint64_t size_bits, data;
	uint64_t desc_size, state_var, lpos, lbegin, lnext;
	uint64_t info_size, seq, ts, text_len;
};

static int mbr(const struct vtd_kinfo *ki, const char *t, const char *m, uint64_t *off, int *bad)
{
	struct vtd_member x;
	if (ki->member(ki->ctx, t, m, &x)) {
		*bad = 1;
		return -1;
	}
	*off = x.offset;
	return 0;
}

static int layout(const struct vtd_kinfo *ki, struct lay *l)
{
	int bad = 0;
	mbr(ki, "struct printk_ringbuffer", "desc_ring", &l->dr, &bad);
	mbr(ki, "struct printk_ringbuffer", "text_data_ring", &l->tr, &bad);
	mbr(ki, "struct prb_desc_ring", "count_bits", &l->count_bits, &bad);
	mbr(ki, "struct prb_desc_ring", "descs", &l->descs, &bad);
	mbr(ki, "struct prb_desc_ring", "infos", &l->infos, &bad);
	mbr(ki, "struct prb_desc_ring", "head_id", &l->head_id, &bad);
	mbr(ki, "struct prb_desc_ring", "tail_id", &l->tail_id, &bad);
	mbr(ki, "struct prb_data_ring", "size_bits", &l->size_bits, &bad);
	mbr(ki, "struct prb_data_ring", "data", &l->data, &bad);
	mbr(ki, "struct prb_desc", "state_var", &l->state_var, &bad);
	mbr(ki, "struct prb_desc", "text_blk_lpos", &l->lpos, &bad);
	mbr(ki, "struct prb_data_blk_lpos", "begin", &l->lbegin, &bad);
	mbr(ki, "struct prb_data_blk_lpos", "next", &l->lnext, &bad);
	mbr(ki, "struct printk_info", "seq", &l->seq, &bad);
	mbr(ki, "struct printk_info", "ts_nsec", &l->ts, &bad);
	mbr(ki, "struct printk_info", "text_len", &l->text_len, &bad);
	if (ki->type_size(ki->ctx, "struct prb_desc", &l->desc_size) ||
	    ki->type_size(ki->ctx, "struct printk_info", &l->info_size))
		bad = 1;
	return bad ? -1 : 0;
}

static uint64_t rd(const struct vtd_kmem *km, uint64_t va, unsigned n, int *bad, struct vtd_error *err)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	if (vtd_kmem_read(km, va, b, n, err)) {
		*bad = 1;
		return 0;
	}
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

int vtd_printk_iter(const struct vtd_kmem *km, const struct vtd_kinfo *ki,
		    vtd_printk_cb cb, void *arg, struct vtd_error *err)
{
	struct lay l;
	uint64_t prbp;
	int bad = 0;
	if (ki->symbol(ki->ctx, "prb", &prbp))
		return vtd_error_set(err, VTD_E_INVAL, "no prb symbol: not a lockless printk "
				     "ring buffer kernel (before 5.10?)");
	if (layout(ki, &l))
		return vtd_error_set(err, VTD_E_INVAL, "no type information for the printk ring buffer");
	uint64_t rb = rd(km, prbp, 8, &bad, err);
	uint64_t count_bits = rd(km, rb + l.dr + l.count_bits, 4, &bad, err);
	uint64_t descs = rd(km, rb + l.dr + l.descs, 8, &bad, err);
	uint64_t infos = rd(km, rb + l.dr + l.infos, 8, &bad, err);
	uint64_t head = rd(km, rb + l.dr + l.head_id, 8, &bad, err);
	uint64_t tail = rd(km, rb + l.dr + l.tail_id, 8, &bad, err);
	uint64_t size_bits = rd(km, rb + l.tr + l.size_bits, 4, &bad, err);
	uint64_t data = rd(km, rb + l.tr + l.data, 8, &bad, err);
	if (bad)
		return vtd_error_set(err, err->code, "printk ring buffer at 0x%" PRIx64 ": %s", rb, err->msg);
	if (count_bits > 24 || size_bits > 31 || size_bits < 4)
		return vtd_error_set(err, VTD_E_INVAL, "printk ring buffer at 0x%" PRIx64 ": implausible "
				     "count_bits %" PRIu64 " / size_bits %" PRIu64, rb, count_bits, size_bits);
	uint64_t count = 1ull << count_bits, size = 1ull << size_bits;
	char *text = malloc(size);
	if (!text)
		return vtd_error_set(err, VTD_E_NOMEM, "out of memory");
	int rc = 0;
	/* ids are 62-bit counters; walk at most one ring's worth */
	for (uint64_t id = tail & DESC_ID_MASK, n = 0; n < count; id = (id + 1) & DESC_ID_MASK, n++) {
		uint64_t idx = id & (count - 1), d = descs + idx * l.desc_size, in = infos + idx * l.info_size;
		struct vtd_error e;
		int b = 0;
		vtd_error_init(&e);
		uint64_t sv = rd(km, d + l.state_var, 8, &b, &e);
		uint64_t begin = rd(km, d + l.lpos + l.lbegin, 8, &b, &e);
		uint64_t next = rd(km, d + l.lpos + l.lnext, 8, &b, &e);
		uint64_t seq = rd(km, in + l.seq, 8, &b, &e), ts = rd(km, in + l.ts, 8, &b, &e);
		uint64_t tlen = rd(km, in + l.text_len, 2, &b, &e);
		unsigned state = (unsigned)(sv >> DESC_FLAGS_SHIFT);
		if (!b && (sv & DESC_ID_MASK) == id && (state == DESC_COMMITTED || state == DESC_FINALIZED) &&
		    begin != next) {
			uint64_t bi = begin & (size - 1), ni = next & (size - 1), off, len;
			if (begin >> size_bits == next >> size_bits && ni > bi)
				off = bi, len = ni - bi;
			else if ((begin >> size_bits) + 1 == next >> size_bits)
				off = 0, len = ni;       /* wrapped: the block starts at the beginning */
			else
				len = 0, off = 0;
			if (len > 8 && len <= size && vtd_kmem_read(km, data + off + 8, text, len - 8, &e) == 0) {
				if (tlen > len - 8)
					tlen = len - 8;
				if ((rc = cb(arg, seq, ts, text, tlen)))
					break;
			}
		}
		if (id == (head & DESC_ID_MASK))
			break;
	}
	free(text);
	return rc;
}
