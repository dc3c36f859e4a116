#!/usr/bin/python3
"""Hostile dump files: a generated scenario dump truncated at every structure
boundary (and every 512 bytes of its headers), and with its header fields,
page descriptors, bitmaps, page data, ELF program headers and flattened
record headers made to lie.  For each, `vtd DUMP units` and `vtd DUMP check`
(and makedumpfile-vtd's record reader through `vtd marks`) must end within
the time bound with exit status 0, 1 or 2, status 2 with a message naming
the file, and no sanitizer report (the ASan build runs this too).  Prints
one PASS/FAIL line per mutation family."""
import os
import struct
import subprocess
import sys
import tempfile

GEN = os.environ.get("VTD_GEN", "build/gen")
BUILD = os.environ.get("VTD_BUILD", "build")
VTD = os.path.join(BUILD, "vtd")
BOUND = 30
failed = 0


def report(name, problems, n):
    global failed
    if problems:
        failed += 1
        print("FAIL hostile/%s: %s (of %d cases)" % (name, "; ".join(problems[:3]), n))
    else:
        print("PASS hostile/%s: %d cases" % (name, n))


def run_case(path, data, probs, what):
    with open(path, "wb") as f:
        f.write(data)
    for words in (["units"], ["check"], ["marks"]):
        try:
            p = subprocess.run([VTD, "--json", path] + words, capture_output=True, timeout=BOUND)
        except subprocess.TimeoutExpired:
            probs.append("%s: vtd %s did not finish in %ds" % (what, words[0], BOUND))
            return
        err = p.stderr.decode(errors="replace")
        if p.returncode not in (0, 1, 2):
            probs.append("%s: vtd %s exit %d %s" % (what, words[0], p.returncode, err[-200:]))
        elif "Sanitizer" in err or "runtime error" in err:
            probs.append("%s: vtd %s: %s" % (what, words[0], err[-300:]))
        elif p.returncode == 2 and path not in err and "no kernel information" not in err:
            probs.append("%s: vtd %s exit 2 without naming the file: %s" % (what, words[0], err[-200:]))


def kdump_layout(d):
    block = struct.unpack_from("<I", d, 424)[0]
    sub = struct.unpack_from("<I", d, 428)[0]
    bmp = struct.unpack_from("<I", d, 432)[0]
    desc = (1 + sub + bmp) * block
    return block, sub, bmp, desc


def main():
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "dump")
    name = "legacy-3level"

    # kdump-compressed
    d = open(os.path.join(GEN, name + ".kdump-zlib"), "rb").read()
    block, sub, bmp, desc = kdump_layout(d)
    cuts = sorted(set(list(range(0, 16384, 512)) + [block, block + 64, (1 + sub) * block,
                  (1 + sub) * block + bmp * block // 2, desc, desc + 24, desc + 24 * 10,
                  len(d) // 2, len(d) - 4096, len(d) - 1]))
    probs = []
    for c in cuts:
        run_case(path, d[:c], probs, "truncated at %d" % c)
    report("kdump truncated at every boundary", probs, len(cuts))

    probs, n = [], 0
    for off, val, what in ((424, 0, "block_size 0"), (424, 1, "block_size 1"), (424, 1 << 20, "block_size 1M"),
                           (424, 0x7fffffff, "block_size huge"), (428, 0xffffff, "sub_hdr_size huge"),
                           (432, 0, "bitmap_blocks 0"), (432, 0x7fffffff, "bitmap_blocks huge"),
                           (436, 0, "max_mapnr 0"), (436, 0xffffffff, "max_mapnr huge"),
                           (8, 99, "header_version 99"), (456, 0x7fffffff, "nr_cpus huge")):
        m = bytearray(d)
        struct.pack_into("<I", m, off, val)
        run_case(path, bytes(m), probs, what)
        n += 1
    # sub-header: note offset/size lying
    for off, val, what in ((block + 48, 1 << 40, "offset_note beyond the file"),
                           (block + 56, 1 << 40, "size_note huge"), (block + 8, 1 << 40, "phys_base huge")):
        m = bytearray(d)
        struct.pack_into("<Q", m, off, val)
        run_case(path, bytes(m), probs, what)
        n += 1
    report("kdump lying headers", probs, n)

    probs, n = [], 0
    ndesc = 16
    for i in range(ndesc):
        for field, fmt, val, what in ((0, "<Q", 1 << 50, "offset beyond the file"), (8, "<I", 0x7fffffff, "size huge"),
                                      (8, "<I", 0, "size 0"), (12, "<I", 0xff, "unknown compression flags"),
                                      (12, "<I", 1, "zlib flag on bad data")):
            m = bytearray(d)
            struct.pack_into(fmt, m, desc + 24 * i + field, val)
            run_case(path, bytes(m), probs, "page_desc %d %s" % (i, what))
            n += 1
    report("kdump lying page descriptors", probs, n)

    probs, n = [], 0
    bstart = (1 + sub) * block
    for fill, what in ((0xff, "every page present"), (0x00, "no page present"), (0xaa, "alternate pages")):
        m = bytearray(d)
        m[bstart:bstart + bmp * block] = bytes([fill]) * (bmp * block)
        run_case(path, bytes(m), probs, "bitmaps: " + what)
        n += 1
    m = bytearray(d)
    for i in range(desc + 24 * 600, len(m), 97):          # corrupt compressed page data
        m[i] ^= 0x5a
    run_case(path, bytes(m), probs, "compressed pages that do not decompress")
    n += 1
    report("kdump lying bitmaps and page data", probs, n)

    # ELF
    e = open(os.path.join(GEN, name + ".elf"), "rb").read()
    phoff = struct.unpack_from("<Q", e, 32)[0]
    phnum = struct.unpack_from("<H", e, 56)[0]
    probs, n = [], 0
    for c in sorted(set([0, 16, 63, 64, phoff + 56, phoff + 56 * phnum - 1, len(e) // 2, len(e) - 1])):
        run_case(path, e[:c], probs, "ELF truncated at %d" % c)
        n += 1
    for i in range(min(phnum, 4)):
        for field, val, what in ((8, 1 << 50, "p_offset beyond"), (32, 1 << 50, "p_filesz huge"),
                                 (24, 1 << 60, "p_paddr huge"), (0, 4, "a PT_NOTE that is data")):
            m = bytearray(e)
            fmt = "<I" if field == 0 else "<Q"
            struct.pack_into(fmt, m, phoff + 56 * i + field, val)
            run_case(path, bytes(m), probs, "phdr %d %s" % (i, what))
            n += 1
    m = bytearray(e)
    struct.pack_into("<H", m, 56, 0xffff)
    run_case(path, bytes(m), probs, "e_phnum 65535")
    n += 1
    report("ELF truncated and lying", probs, n)

    # flattened
    f = open(os.path.join(GEN, name + ".flat"), "rb").read()
    probs, n = [], 0
    for c in sorted(set([0, 4095, 4096, 4096 + 8, 4096 + 16, 4096 + 16 + 100, len(f) // 2, len(f) - 16, len(f) - 1])):
        run_case(path, f[:c], probs, "flattened truncated at %d" % c)
        n += 1
    for off, val, what in ((4096, 1 << 62, "record offset huge"), (4096 + 8, 1 << 40, "record size huge"),
                           (4096 + 8, 0, "record size 0")):
        m = bytearray(f)
        m[off:off + 8] = struct.pack(">Q", val)
        run_case(path, bytes(m), probs, what)
        n += 1
    report("flattened truncated and lying", probs, n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
