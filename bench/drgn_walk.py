#!/usr/bin/python3
"""make bench: the mapping list of one legacy-mode device, walked in Python
over drgn's physical reads of the same dump (the drgn way, for the ratio).
    drgn_walk.py DUMP ROOT_PA BUS DEVFN [per-entry]  ->  "LEAVES SECONDS"
per-entry reads every entry with prog.read_u64, as a script written
against drgn's object API would; without it, whole table pages."""
import struct
import sys
import time

import drgn

dump, root, bus, devfn = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0), int(sys.argv[4], 0)
prog = drgn.Program()
prog.set_core_dump(dump)
t = time.monotonic()
rd = lambda pa, n: prog.read(pa, n, True)
lo, = struct.unpack("<Q", rd(root + 16 * bus, 8))
ctx = lo & ~0xfff
clo, chi = struct.unpack("<QQ", rd(ctx + 16 * devfn, 16))
levels = (chi & 7) + 2
runs = []


per_entry = len(sys.argv) > 5


def entries(table):
    if per_entry:
        return [prog.read_u64(table + 8 * i, True) for i in range(512)]
    return struct.unpack("<512Q", rd(table, 4096))


def walk(table, level, base):
    q = entries(table)
    size = 1 << (12 + 9 * (level - 1))
    for i, e in enumerate(q):
        if not e & 3:
            continue
        addr = e & 0x000ffffffffff000
        if level == 1 or (e & 0x80):
            runs.append((base + i * size, addr & ~(size - 1), size))
        else:
            walk(addr, level - 1, base + i * size)


walk(clo & ~0xfff, levels, 0)
print(len(runs), "%.6f" % (time.monotonic() - t))
