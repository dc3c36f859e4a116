#!/usr/bin/python3
"""Seed corpora for the fuzz targets, from the generated scenario dumps.

    scripts/fuzz-seeds.py GENDIR OUTDIR

fuzz_dumpfile: small generated dumps in every format; fuzz_tables: a unit
header and the 64 pages from 16 MiB of each scenario (where the scenarios
put their tables; the fuzz memory repeats the input's pages modulo their
count, so the tables' own addresses stay right); fuzz_record: the marks
record of a restored takeover dump; fuzz_flatfix: the flattened streams, and
lossy ones laid out as makedumpfile writes them (tests/fake/makedumpfile);
fuzz_kallsyms: kallsyms tables of the
mock kernel's symbols at the harness's fixed offsets, and a /proc/kallsyms
text; fuzz_btf: the mock vmlinux's .BTF."""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

gen, out = sys.argv[1], sys.argv[2]
build = os.path.dirname(os.path.abspath(gen))


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for path in sorted(glob.glob(os.path.join(gen, "*"))):
    base = os.path.basename(path)
    if base.endswith((".expect", ".txt", ".stamp")) or os.path.getsize(path) > (1 << 20):
        continue
    put("fuzz_dumpfile", base, open(path, "rb").read())
    if base.endswith(".flat"):
        put("fuzz_flatfix", base, open(path, "rb").read())

fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fake", "makedumpfile")
for name in ("legacy-4level", "two-units"):
    if os.path.exists(os.path.join(gen, name + ".lossy.kdump")):
        r = subprocess.run([fake, "-F", "-d", "31", name + ".elf"], capture_output=True,
                           env=dict(os.environ, FAKE_MDF_GEN=gen, FAKE_MDF_LOSSY="1"))
        if r.returncode == 0:
            put("fuzz_flatfix", name + ".lossy.flat", r.stdout)


def elf_pages(path, start, n):
    d = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", d, 32)
    phentsize, phnum = struct.unpack_from("<HH", d, 54)
    mem = bytearray(n * 4096)
    for i in range(phnum):
        t, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", d, phoff + i * phentsize)
        if t != 1:
            continue
        s, e = max(paddr, start), min(paddr + filesz, start + n * 4096)
        if s < e:
            mem[s - start:e - start] = d[off + s - paddr:off + e - paddr]
    return bytes(mem)


for expect in sorted(glob.glob(os.path.join(gen, "*.expect"))):
    name = os.path.basename(expect)[:-7]
    elf = os.path.join(gen, name + ".elf")
    for line in open(expect):
        w = line.split()
        if not w or w[0] != "unit":
            continue
        kv = dict(x.split("=", 1) for x in w[2:] if "=" in x)
        rt = int(kv["rtaddr"], 16)
        num = lambda k: int(kv.get(k, "0"), 16) if kv.get(k, "-") not in ("-", "") else 0
        hdr = struct.pack("<QQQQQQQQ", (rt & ~0xfff) | (1 if rt & 0x400 else 0), int(kv["cap"], 16),
                          int(kv["ecap"], 16), num("irta"), num("iqa"), 0,
                          0x10 | (0 << 20), 0x1000)
        hdr = bytes([hdr[0] | (1 if rt & 0x400 else 0)]) + hdr[1:]
        put("fuzz_tables", "%s-%s" % (name, w[1]), hdr + elf_pages(elf, 0x1000000, 64))

tk = os.path.join(gen, "takeover-legacy.takeover.kdump")
if os.path.exists(tk):
    tmp = tempfile.mkdtemp()
    o = os.path.join(tmp, "r.kdump")
    subprocess.run([os.path.join(build, "vtd"), "-x", os.path.join(build, "mock-vmlinux"),
                    "restore", tk, o], capture_output=True)
    if os.path.exists(o):
        d = open(o, "rb").read()
        i = d.find(b"VTDSCOPE-MARKS")
        j = d.find(b"\nend\n", i)
        if i >= 0 and j > i:
            put("fuzz_record", "takeover-legacy", d[i:j + 5])
    shutil.rmtree(tmp)
put("fuzz_record", "minimal", b"VTDSCOPE-MARKS\t1\nmeta\tgenerator=x\tdump_format=diskdump\nend\n")

# kallsyms: the layout fuzz_kallsyms.c names (num 0, base 8, index 16,
# tokens 0x300, names 0x1000, offsets 0x2000)
nm = subprocess.run(["nm", os.path.join(build, "mock-vmlinux")], capture_output=True, text=True).stdout
syms = [(int(a, 16), t, n) for a, t, n in (l.split()[:3] for l in nm.splitlines() if len(l.split()) >= 3)]
syms = [s for s in syms if s[0] >= 0xffffffff80000000][:150]
buf = bytearray(0x2000 + 4 * len(syms))
rbase = min(s[0] for s in syms) if syms else 0xffffffff81000000
struct.pack_into("<IxxxxQ", buf, 0, len(syms), rbase)
tt = b""
for b in range(256):
    struct.pack_into("<H", buf, 16 + 2 * b, len(tt))
    tt += (bytes([b]) if 0x20 <= b < 0x7f else b"?") + b"\0"
buf[0x300:0x300 + len(tt)] = tt
p = 0x1000
for i, (a, t, n) in enumerate(syms):
    enc = (t + n).encode()[:120]
    buf[p] = len(enc)
    buf[p + 1:p + 1 + len(enc)] = enc
    p += 1 + len(enc)
    struct.pack_into("<i", buf, 0x2000 + 4 * i, max(-(1 << 31), rbase - 1 - a))
put("fuzz_kallsyms", "mock-tables", bytes(buf))
put("fuzz_kallsyms", "proc-kallsyms", "".join("%016x %s %s\n" % s for s in syms).encode())

btf = os.path.join(tempfile.mkdtemp(), "btf")
subprocess.run(["objcopy", "--dump-section", ".BTF=" + btf, os.path.join(build, "mock-vmlinux"), "/dev/null"],
               capture_output=True)
if os.path.exists(btf):
    put("fuzz_btf", "mock", open(btf, "rb").read())
print("fuzz seeds in %s: %s" % (out, ", ".join("%s %d" % (t, len(os.listdir(os.path.join(out, t))))
                                            for t in sorted(os.listdir(out)))))
