#!/usr/bin/python3
"""kdump_set_pages (build/kdump-pages) on the generated scenario dumps, every
compression: pages dropped are excluded and every other page reads as
before; added back, every page and vtd's answers equal the original's.  The
reader is drgn (libkdumpfile), not ours; the present pages come from the
file's own bitmap, parsed here.  Bad requests and bad files: a clear error
and no output left.  Prints PASS/FAIL lines."""
import os
import struct
import subprocess
import sys
import tempfile

import drgn

from kdumpbits import present

GEN = os.environ.get("VTD_GEN", "build/gen")
BUILD = os.environ.get("VTD_BUILD", "build")
TOOL = os.path.join(BUILD, "kdump-pages")
VTD = os.path.join(BUILD, "vtd")
failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print("FAIL kdump-pages/%s: %s" % (name, "; ".join(str(p) for p in problems[:3])))
    else:
        print("PASS kdump-pages/%s" % name)


def pages(path, pfns):
    prog = drgn.Program()
    prog.set_core_dump(path)
    out = {}
    for p in pfns:
        try:
            out[p] = prog.read(p << 12, 4096, True)
        except drgn.FaultError as e:
            out[p] = "fault: %s" % e
    return out


def tool(*args):
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stderr


def main():
    tmp = tempfile.mkdtemp()
    for name in ("legacy-4level", "sm-nested", "irte", "two-units"):
        for ext in (".kdump", ".kdump-zlib", ".kdump-lzo", ".kdump-snappy", ".kdump-zstd"):
            src = os.path.join(GEN, name + ext)
            if not os.path.exists(src):
                report("%s%s" % (name, ext), ["%s missing" % src])
                continue
            have = present(src)
            drop = sorted({have[0], have[len(have) // 2], have[-1]})
            a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
            for f in (a, b):
                if os.path.exists(f):
                    os.unlink(f)
            p = []
            rc, err = tool(src, a, "drop", *drop)
            if rc:
                p.append("drop: exit %d: %s" % (rc, err.strip()))
            else:
                want, got = pages(src, have), pages(a, have)
                for q in have:
                    if q in drop:
                        if not isinstance(got[q], str) or "Excluded" not in got[q]:
                            p.append("dropped page 0x%x still reads" % q)
                    elif got[q] != want[q]:
                        p.append("page 0x%x differs after the drop" % q)
                if present(a) != [q for q in have if q not in drop]:
                    p.append("bitmap after the drop is wrong")
                rc, err = tool(a, b, "add", src, *drop)
                if rc:
                    p.append("add: exit %d: %s" % (rc, err.strip()))
                else:
                    got = pages(b, have)
                    bad = [q for q in have if got[q] != want[q]]
                    if bad or present(b) != have:
                        p.append("after adding back, %d pages differ (0x%x...)" % (len(bad), bad[0] if bad else 0))
                    for w in (["units"], ["context"], ["check"]):
                        x = subprocess.run([VTD, "--json", src] + w, capture_output=True, text=True)
                        y = subprocess.run([VTD, "--json", b] + w, capture_output=True, text=True)
                        if x.stdout != y.stdout or x.returncode != y.returncode:
                            p.append("vtd %s differs after the round trip" % w[0])
            report("%s%s: drop %d pages and add them back (%d pages compared by drgn)" % (
                name, ext, len(drop), len(have)), p)

    src = os.path.join(GEN, "legacy-4level.kdump")
    have = present(src)
    # keep: only the pages in the ranges stay (check-real's worst dump level)
    lo, hi = have[len(have) // 4], have[len(have) // 2]
    k = os.path.join(tmp, "keep")
    rc, err = tool(src, k, "keep", "0x%x-0x%x" % (lo, hi), "%d-%d" % (have[-1], have[-1] + 1))
    p = []
    if rc:
        p.append("keep: exit %d: %s" % (rc, err.strip()))
    else:
        want = [q for q in have if lo <= q < hi or q == have[-1]]
        if present(k) != want:
            p.append("keep left %d pages, want %d" % (len(present(k)), len(want)))
        a, b = pages(src, want), pages(k, want)
        if a != b:
            p.append("kept pages differ")
    report("keep two ranges (%d of %d pages)" % (len([q for q in have if lo <= q < hi]) + 1, len(have)), p)
    rc, err = tool(src, k + "2", "keep", "5-3")
    report("error: keep with a bad range", [] if rc == 2 and "bad range '5-3'" in err and
           not os.path.exists(k + "2") else ["exit %d: %s" % (rc, err.strip())])
    out = os.path.join(tmp, "bad")
    absent = next(q for q in range(have[-1]) if q not in have)
    cut = os.path.join(tmp, "cut.kdump")
    d = open(src, "rb").read()
    bs, sub_blocks, bm_blocks = struct.unpack_from("<III", d, 428)
    desc_off = bs * (1 + sub_blocks + bm_blocks)
    open(cut, "wb").write(d[:desc_off + 24 * 3])
    cases = [
        ("add a page present", [src, out, "add", src, have[0]], "0x%x to add is in the dump already" % have[0]),
        ("drop a page absent", [src, out, "drop", absent], "0x%x to drop is not in the dump" % absent),
        ("beyond max_mapnr", [src, out, "drop", 1 << 40], "beyond max_mapnr"),
        ("not a kdump file", [os.path.join(GEN, "legacy-4level.elf"), out, "drop", have[0]], "no KDUMP signature"),
        ("truncated descriptor table", [cut, out, "drop", have[0]], "page_desc table"),
        ("output exists", [src, src, "drop", have[0]], "File exists"),
    ]
    for label, args, want in cases:
        before = open(src, "rb").read()
        rc, err = tool(*args)
        p = []
        if rc == 0 or want not in err:
            p.append("exit %d, message %r (want %r)" % (rc, err.strip()[-200:], want))
        if os.path.exists(out):
            p.append("output left behind")
            os.unlink(out)
        if open(src, "rb").read() != before:
            p.append("the input changed")
        report("error: %s" % label, p)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
