#!/usr/bin/python3
"""makedumpfile-vtd on synthetic dumps: a generated scenario's ELF dump plays
/proc/vmcore, tests/fake/makedumpfile writes the generator's own dump of the
same image.  Checked: the record travels in each output (kdump note, ELF
note, trailer after a flattened stream's end marker) and `vtd marks` reads it;
the page data is makedumpfile's (restore --undo gives its file back byte for
byte; the flattened stream is its stream plus the trailer); pages written
while makedumpfile runs are CHANGED; an in-place takeover's entries are
restored; failing or killing the helper at every step leaves exactly
makedumpfile's dump and exit status; makedumpfile's own failures and other
modes pass through.  Prints PASS/FAIL lines."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import kdumpbits

GEN = os.environ.get("VTD_GEN", "build/gen")
BUILD = os.environ.get("VTD_BUILD", "build")
VTD = os.path.join(BUILD, "vtd")
MDV = os.path.join(BUILD, "makedumpfile-vtd")
FAKE = os.path.abspath("tests/fake/makedumpfile")
failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print("FAIL mdf-vtd/%s: %s" % (name, "; ".join(str(p) for p in problems[:3])))
    else:
        print("PASS mdf-vtd/%s" % name)


def mdv(tmp, args, stdout=None, **env):
    e = dict(os.environ, VTD_MAKEDUMPFILE=FAKE, FAKE_MDF_GEN=GEN,
             FAKE_MDF_ARGS=os.path.join(tmp, "args"))
    e.pop("VTD_FAILPOINT", None)
    e.pop("VTD_KILLPOINT", None)
    e.update(env)
    with open(stdout, "wb") if stdout else open(os.devnull, "wb") as out:
        p = subprocess.run([MDV] + args, stdout=out, stderr=subprocess.PIPE, env=e, timeout=120)
    return p.returncode, p.stderr.decode(errors="replace")


def vtd_json(*args):
    p = subprocess.run([VTD, "--json"] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else {}), p.stderr


def same(a, b):
    return open(a, "rb").read() == open(b, "rb").read()


def elf_offset(path, pa):
    """File offset of physical address pa in an ELF dump."""
    d = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", d, 32)
    phentsize, phnum = struct.unpack_from("<HH", d, 54)
    for i in range(phnum):
        t, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", d, phoff + i * phentsize)
        if t == 1 and paddr <= pa < paddr + filesz:
            return off + pa - paddr
    return None


def answers_as_full(o, full):
    """vtd on o answers as on the full dump, and o's record says pages were
    put back (kept-pages)."""
    p = []
    for w in (["units"], ["root"], ["context"], ["domains"], ["devices"], ["irte"], ["qi"], ["log"]):
        a, b = vtd_json(o, *w), vtd_json(full, *w)
        if a[:2] != b[:2] or "not in the dump" in a[2]:
            p.append("%s differs from the full dump's: %s" % (w[0], a[2][-200:]))
    r, c, e = vtd_json(o, "check")
    kinds = [f["kind"] for f in c.get("recorded_findings", [])]
    if "kept-pages" not in kinds or c.get("problems_found") != 0:
        p.append("check: findings %s, %s problems" % (kinds, c.get("problems_found")))
    return p


def leftovers(tmp):
    return [f for f in os.listdir(tmp) if ".vtd-new" in f or ".vtd" in f and f.startswith(".")]


def main():
    tmp = tempfile.mkdtemp()
    name = "legacy-4level"
    vmcore = os.path.join(tmp, name + ".elf")
    shutil.copyfile(os.path.join(GEN, name + ".elf"), vmcore)

    # each output format carries the record; the page data is makedumpfile's
    for fmt, flag, out in (("kdump", ["-l"], "dump.kdump"), ("elf", ["-E"], "dump.elf")):
        o = os.path.join(tmp, out)
        rc, err = mdv(tmp, flag + ["-d", "31", vmcore, o])
        p = []
        if rc != 0:
            p.append("exit %d: %s" % (rc, err[-300:]))
        r, m, e = vtd_json(o, "marks")
        if m.get("source") != "note in %s" % o:
            p.append("marks source %s (%s)" % (m.get("source"), e.strip()[-200:]))
        reasons = {x["reason"] for x in m.get("marks", [])}
        if "TABLE" not in reasons or "DMA_WRITABLE" not in reasons:
            p.append("reasons %s" % sorted(reasons))
        r, c, e = vtd_json(o, "check")
        kinds = [f["kind"] for f in c.get("recorded_findings", [])]
        if "capture" not in kinds:
            p.append("no capture finding in check: %s" % kinds)
        undo = os.path.join(tmp, out + ".undo")
        subprocess.run([VTD, "restore", "--undo", o, undo], capture_output=True)
        if not os.path.exists(undo) or not same(undo, os.path.join(GEN, name + "." + fmt)):
            p.append("restore --undo is not makedumpfile's file")
        if leftovers(tmp):
            p.append("left behind: %s" % leftovers(tmp))
        report("%s: record attached, data untouched" % fmt, p)

    # makedumpfile left out the kernel's IOMMU structures (a makedumpfile that
    # does not know the kernel): makedumpfile-vtd adds them back, and vtd
    # answers as from the full dump
    o = os.path.join(tmp, "lossy.kdump")
    lossy = os.path.join(GEN, name + ".lossy.kdump")
    rc, err = mdv(tmp, ["-l", "-d", "31", vmcore, o], FAKE_MDF_LOSSY="1")
    p = []
    if rc != 0 or "added them back" not in err:
        p.append("exit %d: %s" % (rc, err[-300:]))
    r, _, e = vtd_json(lossy, "units")
    if "not in the dump" not in e:
        p.append("the fake's lossy dump is not lossy: %s" % e[-200:])
    p += answers_as_full(o, os.path.join(GEN, name + ".kdump"))
    if leftovers(tmp):
        p.append("left behind: %s" % leftovers(tmp))
    report("lossy kdump: the excluded structures added back", p)
    # a failure or a kill while adding them leaves makedumpfile's dump
    for env in ({"VTD_FAILPOINT": "rename"}, {"VTD_KILLPOINT": "appended"},
                {"VTD_KILLPOINT": "pointed"}, {"VTD_KILLPOINT": "rename"}):
        rc, err = mdv(tmp, ["-l", "-d", "31", vmcore, o], FAKE_MDF_LOSSY="1", **env)
        p = []
        if rc != 0 or not same(o, lossy):
            p.append("exit %d, dump %s" % (rc, "makedumpfile's" if same(o, lossy) else "changed"))
        if leftovers(tmp):
            p.append("left behind: %s" % leftovers(tmp))
        report("lossy kdump, %s=%s: makedumpfile's dump" % list(env.items())[0], p)

    # --keep-dma-pages: a DMA-writable page makedumpfile dropped comes back
    # (and only with it: such pages are not needed by default)
    r, m, e = vtd_json("-x", os.path.join(BUILD, "mock-vmlinux"), os.path.join(GEN, name + ".kdump"),
                       "marks", "--reason", "DMA_WRITABLE")
    dpfn = int(m["marks"][0]["pfn"], 0) if m.get("marks") else None
    for keep in (False, True):
        o = os.path.join(tmp, "dma%d.kdump" % keep)
        p = []
        if dpfn is None:
            p.append("no DMA_WRITABLE page in %s" % name)
        else:
            rc, err = mdv(tmp, ["-l", "-d", "31"] + (["--keep-dma-pages"] if keep else []) + [vmcore, o],
                          FAKE_MDF_DROP=str(dpfn))
            args = open(os.path.join(tmp, "args")).read().split()
            import drgn
            prog = drgn.Program()
            prog.set_core_dump(o)
            try:
                prog.read(dpfn << 12, 4096, True)
                present = True
            except drgn.FaultError:
                present = False
            if rc != 0 or present != keep or "--keep-dma-pages" in args:
                p.append("exit %d, page 0x%x %s, makedumpfile's arguments %s" % (
                    rc, dpfn, "present" if present else "absent", args))
        report("DMA-writable page dropped by makedumpfile, %s --keep-dma-pages: %s" % (
            "with" if keep else "without", "kept" if keep else "left out"), p)

    # -F: the same, as the stream passes (interleaved page_desc and data
    # records, as makedumpfile writes them); checked through makedumpfile -R
    # and drgn (libkdumpfile) too
    o = os.path.join(tmp, "lossy.flat")
    rc, err = mdv(tmp, ["-F", "-d", "31", vmcore], stdout=o, FAKE_MDF_LOSSY="1")
    p = []
    if rc != 0 or "excluded pages back into the stream" not in err:
        p.append("exit %d: %s" % (rc, err[-300:]))
    p += answers_as_full(o, os.path.join(GEN, name + ".kdump"))
    rr = os.path.join(tmp, "lossy-r.kdump")
    if os.path.exists(rr):
        os.unlink(rr)
    r1 = subprocess.run(["makedumpfile", "-R", rr], stdin=open(o, "rb"), capture_output=True)
    if r1.returncode:
        p.append("makedumpfile -R: %s" % r1.stderr[-200:])
    else:
        import drgn
        full, got = drgn.Program(), drgn.Program()
        full.set_core_dump(os.path.join(GEN, name + ".kdump"))
        got.set_core_dump(rr)
        lossy_bm, _ = kdumpbits.bitmap(lossy)
        for q in kdumpbits.present(os.path.join(GEN, name + ".kdump")):
            try:
                g = got.read(q << 12, 4096, True)
            except drgn.FaultError:
                g = None
            if kdumpbits.has(lossy_bm, q) and g != full.read(q << 12, 4096, True):
                p.append("page 0x%x (in makedumpfile's stream) differs after -R" % q)
                break
    report("lossy flattened stream: the excluded structures put back as it passes", p)
    # a stream laid out otherwise (one record): passed on unchanged, and said
    rc, err = mdv(tmp, ["-F", "-d", "31", vmcore], stdout=o, FAKE_MDF_LOSSY="1", FAKE_MDF_CHUNK="0")
    p = []
    want = subprocess.run([FAKE, "-F", "-d", "31", vmcore], capture_output=True,
                          env=dict(os.environ, FAKE_MDF_GEN=GEN, FAKE_MDF_LOSSY="1", FAKE_MDF_CHUNK="0")).stdout
    if rc != 0 or not open(o, "rb").read().startswith(want):
        p.append("exit %d; the stream is not makedumpfile's" % rc)
    r, c, e = vtd_json(o, "check")
    kf = [f for f in c.get("recorded_findings", []) if f["kind"] == "kept-pages"]
    if not kf or kf[0]["severity"] != "error" or "could not be put back" not in kf[0]["evidence"]:
        p.append("no kept-pages error finding: %s" % kf)
    report("lossy flattened stream in one record: unchanged, the loss recorded", p)
    # the helper killed: the parent still puts the pages back; no trailer
    rc, err = mdv(tmp, ["-F", "-d", "31", vmcore], stdout=o, FAKE_MDF_LOSSY="1", VTD_KILLPOINT="compare")
    r, u, e = vtd_json(o, "units")
    report("lossy flattened stream, helper killed: pages put back all the same",
           [] if rc == 0 and u == vtd_json(os.path.join(GEN, name + ".kdump"), "units")[1] and
           "not in the dump" not in e else ["exit %d: %s" % (rc, e[-200:])])

    # -F: makedumpfile's stream, then the record after its end marker
    o = os.path.join(tmp, "dump.flat")
    rc, err = mdv(tmp, ["-F", "-l", "-d", "31", vmcore], stdout=o)
    want = open(os.path.join(GEN, name + ".flat"), "rb").read()
    got = open(o, "rb").read()
    p = []
    if rc != 0 or not got.startswith(want) or len(got) <= len(want):
        p.append("exit %d, stream %s" % (rc, "not makedumpfile's" if not got.startswith(want) else "has no trailer"))
    r, m, e = vtd_json(o, "marks")
    if m.get("source") != "trailer of %s" % o:
        p.append("marks source %s" % m.get("source"))
    r1 = subprocess.run(["makedumpfile", "-R", os.path.join(tmp, "r1")], stdin=open(o, "rb"), capture_output=True)
    r2 = subprocess.run(["makedumpfile", "-R", os.path.join(tmp, "r2")],
                        stdin=open(os.path.join(GEN, name + ".flat"), "rb"), capture_output=True)
    if r1.returncode or r2.returncode or not same(os.path.join(tmp, "r1"), os.path.join(tmp, "r2")):
        p.append("makedumpfile -R does not give makedumpfile's dump")
    report("flattened: stream untouched, record in the trailer", p)

    # a DMA-writable page written while makedumpfile runs: CHANGED
    r, m, e = vtd_json("-x", os.path.join(BUILD, "mock-vmlinux"), os.path.join(GEN, name + ".kdump"),
                       "marks", "--reason", "DMA_WRITABLE")
    p = []
    runs = m.get("marks", [])
    if not runs:
        p.append("no DMA_WRITABLE page in %s" % name)
    else:
        pfn = int(runs[0]["pfn"], 0)
        off = elf_offset(vmcore, pfn * 4096 + 0x100)
        o = os.path.join(tmp, "changed.kdump")
        rc, err = mdv(tmp, ["-l", "-d", "31", vmcore, o], FAKE_MDF_MUTATE="%d:%s" % (off, "ab" * 8))
        r, m2, e = vtd_json(o, "marks", "--reason", "CHANGED")
        ch = [x for x in m2.get("marks", []) if int(x["pfn"], 0) == pfn]
        if rc != 0 or not ch or "8 bytes" not in ch[0].get("evidence", ""):
            p.append("exit %d, CHANGED marks %s" % (rc, m2.get("marks")))
        if len(m2.get("marks", [])) != 1:
            p.append("%d CHANGED runs, want 1" % len(m2.get("marks", [])))
        shutil.copyfile(os.path.join(GEN, name + ".elf"), vmcore)
    report("pages written during the capture are CHANGED", p)

    # an in-place takeover: restored from evidence, and undo gives makedumpfile's file
    tk = os.path.join(tmp, "takeover-legacy.takeover.elf")
    shutil.copyfile(os.path.join(GEN, "takeover-legacy.takeover.elf"), tk)
    o = os.path.join(tmp, "tk.kdump")
    rc, err = mdv(tmp, ["-l", "-d", "31", tk, o])
    r, c, e = vtd_json(o, "marks", "--reason", "RESTORED")
    p = []
    if rc != 0 or not c.get("marks"):
        p.append("exit %d, RESTORED marks %s: %s" % (rc, c.get("marks"), err[-200:]))
    r, c, e = vtd_json("-x", os.path.join(BUILD, "mock-vmlinux"), o, "check")
    if c.get("restorable_bytes", 1) != 0:
        p.append("still %s restorable bytes after makedumpfile-vtd" % c.get("restorable_bytes"))
    undo = os.path.join(tmp, "tk.undo")
    subprocess.run([VTD, "restore", "--undo", o, undo], capture_output=True)
    if not os.path.exists(undo) or not same(undo, os.path.join(GEN, "takeover-legacy.takeover.kdump")):
        p.append("restore --undo is not makedumpfile's file")
    report("in-place takeover restored at capture time", p)
    for step in ("appended", "pointed"):
        os.unlink(o)
        rc, err = mdv(tmp, ["-l", "-d", "31", tk, o], VTD_KILLPOINT=step)
        report("takeover, helper killed at %s: makedumpfile's dump" % step,
               [] if rc == 0 and same(o, os.path.join(GEN, "takeover-legacy.takeover.kdump"))
               else ["exit %d, dump differs: %s" % (rc, err[-200:])])

    # the helper fails or is killed at each step: makedumpfile's dump and status
    steps = {"kdump": ("snapshot", "compare", "patch", "appended", "pointed"),
             "elf": ("snapshot", "patch", "rename"), "flat": ("snapshot", "compare", "patch")}
    flags = {"kdump": ["-l"], "elf": ["-E"], "flat": ["-F", "-l"]}
    for how in ("VTD_FAILPOINT", "VTD_KILLPOINT"):
        for fmt in ("kdump", "elf", "flat"):
            for step in steps[fmt]:
                p = []
                o = os.path.join(tmp, "f." + fmt)
                if os.path.exists(o):
                    os.unlink(o)
                if fmt == "flat":
                    rc, err = mdv(tmp, flags[fmt] + ["-d", "31", vmcore], stdout=o, **{how: step})
                else:
                    rc, err = mdv(tmp, flags[fmt] + ["-d", "31", vmcore, o], **{how: step})
                if rc != 0:
                    p.append("exit %d" % rc)
                if not os.path.exists(o) or not same(o, os.path.join(GEN, name + "." + fmt)):
                    p.append("the dump is not makedumpfile's")
                if "makedumpfile-vtd:" not in err or ("killed" not in err and "fail" not in err
                                                      and "stopped" not in err):
                    p.append("nothing logged: %s" % err[-200:])
                if leftovers(tmp):
                    p.append("left behind: %s" % leftovers(tmp))
                    for f in leftovers(tmp):
                        os.unlink(os.path.join(tmp, f))
                report("%s=%s (%s): makedumpfile's dump, exit 0" % (how, step, fmt), p)

    # makedumpfile fails: its status, nothing patched
    o = os.path.join(tmp, "fail.kdump")
    rc, err = mdv(tmp, ["-l", "-d", "31", vmcore, o], FAKE_MDF_EXIT="3")
    report("makedumpfile's failure is the exit status", [] if rc == 3 and not os.path.exists(o)
           else ["exit %d, output %s" % (rc, os.path.exists(o))])

    # other modes and our own options: makedumpfile gets exactly its arguments
    p = []
    rc, err = mdv(tmp, ["--dump-dmesg", vmcore, os.path.join(tmp, "dmesg")])
    args = open(os.path.join(tmp, "args")).read().split("\n")[:-1]
    if args != ["--dump-dmesg", vmcore, os.path.join(tmp, "dmesg")]:
        p.append("--dump-dmesg passed as %s" % args)
    rc, err = mdv(tmp, ["-l", "--message-level", "7", "-d", "31", "--vtd-snapshot-mb", "1", vmcore,
                        os.path.join(tmp, "opt.kdump")])
    args = open(os.path.join(tmp, "args")).read().split("\n")[:-1]
    if args != ["-l", "--message-level", "7", "-d", "31", vmcore, os.path.join(tmp, "opt.kdump")]:
        p.append("options passed as %s" % args)
    report("makedumpfile gets its own arguments, unchanged", p)

    # the snapshot bound is honoured and reported
    o = os.path.join(tmp, "bound.kdump")
    rc, err = mdv(tmp, ["-l", "-d", "31", "--vtd-snapshot-mb", "0", vmcore, o])
    r, c, e = vtd_json(o, "check")
    text = " ".join(f["evidence"] for f in c.get("recorded_findings", []))
    report("the snapshot bound is reported", [] if rc == 0 and "0 pages watched" in text and
           "over the 0 MiB bound" in text else ["exit %d: %s" % (rc, text or err[-200:])])
    shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
