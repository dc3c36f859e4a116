"""The second bitmap of a kdump-compressed file (which pages it holds), read
independently of our C readers, for the tests and the bench."""
import struct


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
