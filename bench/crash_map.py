#!/usr/bin/python3
"""crash> vtd map over 1 Mi mappings, on a real kernel's dump.

crash needs a real kernel (its vmlinux), and real guests map a few thousand
pages; so the real tier's 6.1 dump gets a device whose second-level table
maps 1 Mi 4 KiB pages: a new 3-level tree (2053 pages) is put in page frames
the dump left out (build/kdump-pages addfile), and the device's context
entry is repointed at it (its context-table page dropped and added back
changed).  Every mapping goes to a different, scattered page, so none
coalesce: 1 Mi lines of output.

    bench/crash_map.py VMCORE.kdump VMLINUX VTD_SO RUNS

Prints: "mappings crash_cold crash_warm cli" in seconds (medians; crash's
times measured inside the session, around the command)."""
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import kdumpbits  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("O", "build")
VTD = os.path.join(BUILD, "vtd")
TOOL = os.path.join(BUILD, "kdump-pages")
N = 1 << 20


def vtd_json(dump, vmlinux, *words):
    p = subprocess.run([VTD, "-x", vmlinux, "--json", dump] + list(words), capture_output=True,
                       text=True, check=True)
    return json.loads(p.stdout)


def main():
    src, vmlinux, so, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tmp = tempfile.mkdtemp()
    ctx = [c for c in vtd_json(src, vmlinux, "context")["contexts"]
           if c.get("xlate") == "second-level" and c.get("sl_levels") == 3]
    if not ctx:
        sys.exit("no 3-level second-level context in %s" % src)
    c = ctx[0]
    bus = int(c["bdf"].split(":")[1], 16)
    dev, fn = (int(x, 16) for x in c["bdf"].split(":")[2].split("."))
    ctp = int([r for r in vtd_json(src, vmlinux, "root")["root_entries"] if r["bus"] == bus][0]["ctp"], 16)
    bm, max_mapnr = kdumpbits.bitmap(src)
    free = [p for p in range(0x1000, max_mapnr) if not kdumpbits.has(bm, p)]
    if len(free) < 2100:
        sys.exit("not enough excluded page frames for the tables")
    # 3 levels: one top table, 4 middle, 2048 leaves (512 entries each)
    top, mids, leaves = free[0], free[1:5], free[5:5 + 2048]
    pages = {}
    t = bytearray(4096)
    for i, m in enumerate(mids):
        struct.pack_into("<Q", t, 8 * i, (m << 12) | 3)
    pages[top] = bytes(t)
    for i, m in enumerate(mids):
        t = bytearray(4096)
        for j in range(512):
            struct.pack_into("<Q", t, 8 * j, (leaves[i * 512 + j] << 12) | 3)
        pages[m] = bytes(t)
    span = max_mapnr - 0x1000
    for k, leaf in enumerate(leaves):
        t = bytearray(4096)
        for j in range(512):
            n = k * 512 + j
            pfn = 0x1000 + (n * 7919) % span          # scattered: no two coalesce
            struct.pack_into("<Q", t, 8 * j, (pfn << 12) | 3)
        pages[leaf] = bytes(t)
    # the context-table page, with the device repointed at the new top
    import drgn
    prog = drgn.Program()
    prog.set_core_dump(src)
    cpage = bytearray(prog.read(ctp, 4096, True))
    off = ((dev << 3) | fn) * 16
    lo, = struct.unpack_from("<Q", cpage, off)
    struct.pack_into("<Q", cpage, off, (lo & 0xfff) | (top << 12))
    pages[ctp >> 12] = bytes(cpage)
    mid_dump, out = os.path.join(tmp, "mid.kdump"), os.path.join(tmp, "bench.kdump")
    subprocess.run([TOOL, src, mid_dump, "drop", str(ctp >> 12)], check=True)
    order = sorted(pages)
    with open(os.path.join(tmp, "pages"), "wb") as f:
        for p in order:
            f.write(pages[p])
    subprocess.run([TOOL, mid_dump, out, "addfile", os.path.join(tmp, "pages")] + [str(p) for p in order],
                   check=True)
    os.unlink(mid_dump)
    bdf = c["bdf"]
    # the CLI, for reference, and the count of mappings it prints
    cli, lines = [], 0
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.run([VTD, "-x", vmlinux, out, "map", bdf], capture_output=True, text=True)
        cli.append(time.monotonic() - t0)
        lines = sum(1 for ln in p.stdout.splitlines() if ln.startswith("0x"))
        if os.environ.get("CRASH_MAP_DEBUG"):
            print(p.stdout[:600], p.stderr[-600:], file=sys.stderr)
    # crash: the command timed inside the session (shell escapes print the
    # time around it): the first vtd command of the session (cold: the
    # kernel's BTF read, the state located) and the same again (warm)
    mapped = os.path.join(tmp, "map.out")
    with open(os.path.join(tmp, "cmds"), "w") as f:
        f.write("\n".join(["extend %s" % so, "!date +%s.%N", "vtd map %s > %s" % (bdf, mapped),
                           "!date +%s.%N", "vtd map %s > %s" % (bdf, mapped), "!date +%s.%N", "exit"]) + "\n")
    cold, warm = [], []
    for _ in range(runs):
        p = subprocess.run(["crash", "-s", vmlinux, out, "-i", os.path.join(tmp, "cmds")],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        t = [float(x) for x in p.stdout.split() if x.count(".") == 1 and x.replace(".", "").isdigit()]
        if p.returncode or len(t) != 3:
            sys.exit("crash failed: %s" % (p.stderr + p.stdout)[-300:])
        cold.append(t[1] - t[0])
        warm.append(t[2] - t[1])
    got = sum(1 for ln in open(mapped) if ln.startswith("0x"))
    if got != lines or lines < N:
        sys.exit("crash> vtd map printed %d mappings, the CLI %d (want >= %d)" % (got, lines, N))
    print(lines, "%.3f" % statistics.median(cold), "%.3f" % statistics.median(warm),
          "%.3f" % statistics.median(cli))
    if os.environ.get("CRASH_MAP_KEEP"):
        print(out, file=sys.stderr)
        return
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    return


if __name__ == "__main__":
    main()
