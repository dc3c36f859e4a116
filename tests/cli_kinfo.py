#!/usr/bin/python3
"""The vtd CLI without a vmlinux, on the generated scenario dumps:
- the dump's own BTF and kallsyms give every command the same JSON as the
  mock vmlinux's DWARF (flattened and kdump-compressed);
- --btf FILE plus --kallsyms FILE (nm of the mock vmlinux moved by the
  dump's KASLR offset, as /proc/kallsyms of that boot would read) too;
- a dump with no kernel information at all (NAME.nokinfo.kdump) falls back
  to the structural scan: `scan` puts a real root table first, and the
  commands answer from it as --root would, saying so on stderr.
Prints PASS/FAIL lines."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

GEN = os.environ.get("VTD_GEN", "build/gen")
BUILD = os.environ.get("VTD_BUILD", "build")
VTD = os.path.join(BUILD, "vtd")
VMLINUX = os.path.join(BUILD, "mock-vmlinux")
COMMANDS = [["units"], ["context"], ["domains"], ["devices"], ["check"], ["irte"], ["qi"],
            ["log"], ["faults"], ["marks"], ["who", "0x1000000", "0x100000"]]
failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(str(p) for p in problems[:3])))
    else:
        print("PASS %s" % name)


def run(*args):
    p = subprocess.run([VTD] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def units_of(expect):
    out = []
    for line in open(expect):
        w = line.split()
        if w and w[0] == "unit":
            kv = dict(x.split("=", 1) for x in w[2:] if "=" in x)
            rt = int(kv["rtaddr"], 16)
            out.append((w[1], rt & ~0xfff, "scalable" if rt & 0x400 else "legacy"))
    return out


def has_ctx(expect):
    return any(l.startswith("ctx ") for l in open(expect))


def kaslr():
    src = open("testdata/mock_kernel.c").read()
    return int(re.search(r"#define KASLR (0x[0-9a-f]+)", src).group(1), 16)


def main():
    files = sorted(glob.glob(os.path.join(GEN, "*.expect")))
    if len(files) < 10:
        report("cli-kinfo", ["only %d .expect files in %s" % (len(files), GEN)])
    tmp = tempfile.mkdtemp()
    # /proc/kallsyms of the mock's boot: its symbols moved by KASLR
    nm = subprocess.run(["nm", VMLINUX], capture_output=True, text=True).stdout
    ksyms = os.path.join(tmp, "kallsyms")
    with open(ksyms, "w") as f:
        for line in nm.splitlines():
            a, t, n = line.split()[:3]
            v = int(a, 16)
            f.write("%016x %s %s\n" % (v + kaslr() if v >= 0xffffffff80000000 else v, t, n))
    for expect in files:
        name = os.path.basename(expect)[:-len(".expect")]
        for fmt in ("flat", "kdump"):
            dump = os.path.join(GEN, "%s.%s" % (name, fmt))
            probs = []
            for c in COMMANDS:
                a = run("-x", VMLINUX, "--json", dump, *c)
                b = run("--no-vmlinux", "--json", dump, *c)
                if a[:2] != b[:2] or not a[1].strip():
                    probs.append("%s: exit %d/%d, outputs %s; %s" % (" ".join(c), a[0], b[0],
                                 "differ" if a[1] != b[1] else "same", b[2].strip()[:200]))
            report("cli-kinfo/%s.%s dump BTF+kallsyms == DWARF (%d commands)" % (name, fmt, len(COMMANDS)), probs)
        dump = os.path.join(GEN, name + ".kdump")
        probs = []
        for c in (["units"], ["context"], ["check"]):
            a = run("-x", VMLINUX, "--json", dump, *c)
            b = run("--btf", VMLINUX, "--kallsyms", ksyms, "--json", dump, *c)
            if a[:2] != b[:2]:
                probs.append("%s: %s" % (" ".join(c), b[2].strip()[:200]))
        report("cli-kinfo/%s --btf FILE --kallsyms FILE == DWARF" % name, probs)

        # no kernel information: the scan
        nok = os.path.join(GEN, name + ".nokinfo.kdump")
        units = units_of(expect)
        if not has_ctx(expect) or name.startswith("hostile"):
            continue
        probs = []
        rc, out, err = run("--json", nok, "scan", "3")
        cands = json.loads(out).get("candidates", []) if rc == 0 else []
        roots = {(r, m) for _, r, m in units}
        if not cands or (int(cands[0]["root"], 16), cands[0]["mode"]) not in roots:
            probs.append("scan's best %s is not one of %s" % (cands[:1], sorted(roots)))
        report("cli-kinfo/%s scan: a root table first" % name, probs)

        probs = []
        rc, out, err = run("--json", nok, "context")
        if rc != 0 or "structural scan found" not in err:
            probs.append("exit %d, stderr %s" % (rc, err.strip()[:200]))
        else:
            got = json.loads(out).get("contexts", [])
            for unit in sorted({r["unit"] for r in got}):
                root = int(unit.split("@")[1], 16)
                mode = [m for _, r, m in units if r == root]
                if not mode:
                    probs.append("unit %s is no scenario unit" % unit)
                    continue
                rc2, out2, _ = run("--root", hex(root), "--mode", mode[0], "--json",
                                   os.path.join(GEN, name + ".kdump"), "context")
                want = [r for r in json.loads(out2).get("contexts", [])]
                if [r for r in got if r["unit"] == unit] != want:
                    probs.append("unit %s: fallback rows differ from --root" % unit)
            # and the same devices, translations and tables as with the kernel's structures
            rc3, out3, _ = run("-x", VMLINUX, "--json", os.path.join(GEN, name + ".kdump"), "context")
            # (the segment is the kernel's knowledge: a root table alone says segment 0)
            key = lambda r: json.dumps([r.get("bdf", "")[5:]] + [r.get(k) for k in (
                "pasid", "xlate", "did", "sl_root", "fl_root", "context")])
            if sorted(map(key, got)) != sorted(map(key, json.loads(out3).get("contexts", []))):
                probs.append("fallback contexts differ from the located kernel's")
        report("cli-kinfo/%s no kernel information: the scan's root tables" % name, probs)

        # the kernel's structures excluded from the dump (issue 10): said,
        # with the dump level; the tables still answered; check's finding
        lossy = os.path.join(GEN, name + ".lossy.kdump")
        probs = []
        rc, out, err = run("--json", lossy, "context")
        if rc != 0 or "IOMMU state is not in the dump (dump level 31 excluded it; -d 23" not in err \
                or "excluded page" not in err:
            probs.append("context: exit %d, stderr %s" % (rc, err.strip()[:300]))
        else:
            rows = json.loads(out).get("contexts", [])
            rc2, out2, _ = run("--json", nok, "context")
            if rows != json.loads(out2).get("contexts", []):
                probs.append("contexts differ from the scan's on the same tables")
        rc, out, err = run("--json", lossy, "check")
        f = [x for x in json.loads(out).get("findings", [])] if out.strip() else []
        lost = [x for x in f if x["kind"] == "kernel-state-lost"]
        if rc != 1 or not lost or lost[0]["severity"] != "error" or "dump level 31" not in lost[0]["evidence"]:
            probs.append("check: exit %d, findings %s" % (rc, [x["kind"] for x in f]))
        report("cli-kinfo/%s kernel structures excluded: diagnosed, tables still walked" % name, probs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
