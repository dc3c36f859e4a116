"""kdump-compressed files, independently of our C readers, for the tests and
the bench: the second bitmap (which pages a file holds), and the flattened
stream makedumpfile -F would write of a file.

    python3 tests/kdumpbits.py flatten FILE > STREAM"""
import struct
import sys


def bitmap(path):
    """(second bitmap bytes, max_mapnr)."""
    with open(path, "rb") as f:
        h = f.read(4096)
        bs, sub_blocks, bm_blocks = struct.unpack_from("<III", h, 428)
        f.seek(bs + 96)
        max_mapnr, = struct.unpack("<Q", f.read(8))
        f.seek(bs * (1 + sub_blocks) + bm_blocks * bs // 2)
        bm = f.read((max_mapnr + 7) // 8)
    return bm, max_mapnr


def has(bm, pfn):
    return bm[pfn // 8] >> (pfn % 8) & 1


def present(path):
    """Page frames the file holds, ascending."""
    bm, max_mapnr = bitmap(path)
    return [p for p in range(max_mapnr) if has(bm, p)]


def flat_from_kdump(path, chunk=1, out=None):
    """makedumpfile -F's stream of the kdump file at path, laid out as
    makedumpfile writes one: headers and bitmaps, then page_desc and
    page-data records interleaved, each in file order (chunk=0: one record)."""
    d = open(path, "rb").read()
    out = out or sys.stdout.buffer
    hdr = b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)
    out.write(hdr.ljust(4096, b"\0"))

    def rec(dst, data):
        out.write(struct.pack(">qq", dst, len(data)) + data)
    if not chunk:
        rec(0, d)
    else:
        bs, sub_blocks, bm_blocks = struct.unpack_from("<III", d, 428)
        desc_off = bs * (1 + sub_blocks + bm_blocks)
        max_mapnr, = struct.unpack_from("<Q", d, bs + 96)
        bm2 = bs * (1 + sub_blocks) + bm_blocks * bs // 2
        ndesc = sum(bin(b).count("1") for b in d[bm2:bm2 + (max_mapnr + 7) // 8])
        data_off = desc_off + 24 * ndesc
        for at in range(0, desc_off, bs):
            rec(at, d[at:at + bs])
        # two caches, as makedumpfile: descriptors in 4 KiB, data in 4-page writes
        da, pa = desc_off, data_off
        while da < data_off or pa < len(d):
            if pa < len(d):
                rec(pa, d[pa:min(pa + 4 * 4096, len(d))])
                pa = min(pa + 4 * 4096, len(d))
            if da < data_off and (pa >= len(d) or (pa - data_off) // 3 >= da - desc_off):
                rec(da, d[da:min(da + 4080, data_off)])
                da = min(da + 4080, data_off)
    out.write(struct.pack(">qq", -1, -1))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "flatten":
        sys.exit("usage: kdumpbits.py flatten FILE > STREAM")
    flat_from_kdump(sys.argv[2])
