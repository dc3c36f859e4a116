#!/usr/bin/python3
"""Checks of the real-kernel tier (make check-real), run after scripts/real/real-dumps.sh.

    /usr/bin/python3 tests/real/check_real.py --realdir REALDIR [MODE...]

Prints "PASS name" / "FAIL name: reason" per check (plus "INFO ..." detail
lines and "SKIP name: reason" lines, which are not counted), then
"N passed, N failed" as the last line; exits 1 if any check failed.  Per mode (legacy, scalable) it checks:

  run-M                    the guest cycle completed (run.json ok, .complete written)
  dumps-exist-M            vmcore.kdump / .flat / .elf present, non-empty, right magic
  crash-M-{kdump,flat,elf} crash -s opens the dump: `sys` shows the release and the
                           sysrq panic, `mod` lists e1000e, `rd -p` of the root table
                           agrees with the oracle
  drgn-M-{kdump,elf}       drgn opens the dump and the oracle completes on it
  oracle-kdump-vs-elf-M    both dumps give the same oracle output
  oracle-sane-M            >=1 unit in the expected mode, present context entries,
                           writable mappings for virtio-net, virtio-blk and e1000e,
                           present IRTEs (and PASID entries in scalable mode)
  oracle-kernel-view-M     each device's page-table root in the hardware entries is
                           its dmar_domain's pgd (the kernel's own view)
  ground-truth-M           expected keys; capture-kernel takeover lines; post-takeover
                           DMA pages (must be non-empty for legacy); crashkernel range
                           agrees with the oracle's crashk_res
  dma-pages-mapped-M       every post-takeover DMA page is mapped writable, per the
                           oracle, to the NIC the packet arrived on
  vtd-vs-oracle-M          `vtd --json` agrees with the oracle on every dump format
  takeover-*, restore-*, vtd-log-*, crash-vtd-*   see docs/real-harness.md
  no-vmlinux-M-{kdump,flat,elf}  every command's JSON from the dump's BTF + kallsyms
                           equals its JSON with the vmlinux
  scan-M-{kdump,flat}      the structural scan puts the kernel's root table first
  valgrind-M               vtd check/marks/scan under memcheck: clean
  makedumpfile-vtd-kills-M its helper failed or killed at every step: plain
                           makedumpfile's dump byte for byte
  makedumpfile-vtd-M-{kdump,flat}  what makedumpfile-vtd wrote in the capture kernel:
                           read by crash, makedumpfile, libkdumpfile and drgn; the
                           record present; the ground truth's DMA pages marked
Oracle outputs are kept as REALDIR/M/oracle-{kdump,elf}.json.
"""
import argparse
import concurrent.futures
import filecmp
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "vtd_oracle.py")
PY = "/usr/bin/python3"
DUMPS = {"kdump": ("vmcore.kdump", b"KDUMP   "),
         "flat": ("vmcore.flat", b"makedumpfile\0"),
         "elf": ("vmcore.elf", b"\x7fELF")}
# PCI IDs of the devices QEMU puts behind the IOMMU (run_guest.py)
DEVICES = {"virtio-net": ("0x1af4", "0x1041"), "virtio-blk": ("0x1af4", "0x1042"),
           "e1000e": ("0x8086", "0x10d3")}
GROUND_TRUTH_KEYS = ("schema", "release", "mode", "kernel_cmdline", "crashkernel", "iommu_log",
                     "host_times_ns", "packets", "post_takeover_dma", "post_takeover_dma_pages")


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, name, detail=""):
        self.passed += 1
        print("PASS %s" % name, flush=True)
        if detail:
            print("INFO %s: %s" % (name, detail), flush=True)

    def fail(self, name, reason):
        self.failed += 1
        print("FAIL %s: %s" % (name, one_line(reason)), flush=True)

    def skip(self, name, reason):
        print("SKIP %s: %s" % (name, reason), flush=True)

    def check(self, name, cond, reason, detail=""):
        (self.ok(name, detail) if cond else self.fail(name, reason))
        return cond


def one_line(text, limit=400):
    text = " | ".join(x.strip() for x in str(text).splitlines() if x.strip())
    return text if len(text) <= limit else text[:limit] + "..."


def tail(text, n=3):
    """The last n non-empty lines of a tool's output, as one line."""
    return one_line("\n".join([x for x in text.splitlines() if x.strip()][-n:]))


def run(cmd, timeout, stdin=None, env=None):
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=stdin if stdin is not None else subprocess.DEVNULL,
                           env=dict(os.environ, **env) if env else None)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t
    except subprocess.TimeoutExpired:
        return -1, "", "timed out after %ds" % timeout, time.monotonic() - t


def run_oracle(vmlinux, dump, out):
    if not os.path.exists(dump):
        return -1, "", "%s does not exist" % dump, 0.0
    return run([PY, ORACLE, "--vmlinux", vmlinux, "-o", out, dump], 600)


def run_crash(vmlinux, dump, cmdfile):
    if not os.path.exists(dump):
        return -1, "", "%s does not exist" % dump, 0.0
    return run(["crash", "-s", "-i", cmdfile, vmlinux, dump], 600)


def strip_volatile(o):
    o = json.loads(json.dumps(o))
    o.pop("dump", None)
    o.get("summary", {}).pop("seconds", None)
    o.get("summary", {}).pop("missing_pages", None)
    for u in o.get("units", []):
        u.pop("ir_table_missing_pages", None)	# zero pages: kept in -l, dropped in -E
    return o


def writable_intervals(oracle):
    """[(pa_start, pa_end, bdf)] of every writable mapping in the oracle output."""
    iv = []
    for u in oracle["units"]:
        for m in u["mappings"]:
            for r in m["ranges"]:
                if r["w"]:
                    pa = int(r["pa"], 16)
                    iv.append((pa, pa + int(r["iova_end"], 16) - int(r["iova"], 16), m["bdf"]))
    iv.sort()
    return iv


def devices_by_name(oracle):
    res = {}
    for d in oracle.get("pci_devices", []):
        for name, (ven, dev) in DEVICES.items():
            if d["vendor"] == ven and d["device"] == dev:
                res[name] = d
    return res


# ------------------------------------------------------------------------------------------
# checks


def check_dumps_exist(R, mode, rdir):
    bad = []
    for kind, (fn, magic) in DUMPS.items():
        p = os.path.join(rdir, fn)
        if not os.path.exists(p) or os.path.getsize(p) == 0:
            bad.append("%s missing or empty" % fn)
            continue
        with open(p, "rb") as f:
            if f.read(len(magic)) != magic:
                bad.append("%s: wrong magic" % fn)
    sizes = ", ".join("%s %.1f MB" % (fn, os.path.getsize(os.path.join(rdir, fn)) / 1e6)
                      for fn, _ in DUMPS.values() if os.path.exists(os.path.join(rdir, fn)))
    return R.check("dumps-exist-%s" % mode, not bad, "; ".join(bad), sizes)


def check_crash(R, mode, kind, res, release, root_pa, root_raw):
    name = "crash-%s-%s" % (mode, kind)
    rc, out, err, secs = res
    problems = []
    if rc != 0:
        return R.fail(name, "crash exit status %d: %s" % (rc, tail(err or out)))
    if not re.search(r"RELEASE:\s*%s\b" % re.escape(release), out):
        problems.append("`sys` does not show RELEASE %s" % release)
    if "sysrq triggered crash" not in out:
        problems.append("`sys` does not show the sysrq panic")
    if not re.search(r"\be1000e\b", out):
        problems.append("`mod` does not list e1000e")
    if root_pa is not None:
        m = re.search(r"^\s*%x:\s+([0-9a-f]{16})\s+([0-9a-f]{16})" % root_pa, out, re.M)
        if not m:
            problems.append("`rd -p 0x%x` printed nothing" % root_pa)
        elif root_raw and ["0x" + m.group(1), "0x" + m.group(2)] != root_raw:
            problems.append("root table bytes differ from the oracle: crash %s %s, oracle %s"
                            % (m.group(1), m.group(2), root_raw))
    R.check(name, not problems, "; ".join(problems), "%.1fs" % secs)


def check_oracle_sane(R, mode, o):
    name = "oracle-sane-%s" % mode
    p = []
    units = o.get("units", [])
    if not units:
        return R.fail(name, "no DMAR unit")
    if any(u["mode"] != mode for u in units):
        p.append("unit mode %s, expected %s" % ([u["mode"] for u in units], mode))
    if not any(u["root_table_pa"] for u in units):
        p.append("no root table")
    ctx = [c for u in units for c in u["contexts"] if c["present"]]
    if not ctx:
        p.append("no present context entry")
    devs = devices_by_name(o)
    for dname in DEVICES:
        d = devs.get(dname)
        if not d:
            p.append("%s not among the kernel's PCI devices" % dname)
            continue
        maps = [m for u in units for m in u["mappings"] if m["bdf"] == d["bdf"]]
        if not maps:
            p.append("no mapping for %s (%s)" % (dname, d["bdf"]))
        elif not any(m["writable_pages_4k"] for m in maps):
            p.append("no writable page mapped for %s (%s)" % (dname, d["bdf"]))
        if mode == "scalable" and not any(m["pasid"] == 0 for m in maps):
            p.append("no PASID 0 (RID2PASID) mapping for %s" % dname)
    if not any(u["irtes"] for u in units):
        p.append("no present IRTE")
    if mode == "scalable" and not o["summary"]["pasid_entries"]:
        p.append("no present PASID entry")
    s = o["summary"]
    R.check(name, not p, "; ".join(p),
            "%d unit(s), %d contexts, %d PASID entries, %d mappings, %d ranges, %d pages, %d IRTEs"
            % (s["units"], s["contexts"], s["pasid_entries"], s["mappings"], s["ranges"],
               s["mapped_pages_4k"], s["irtes"]))


def check_kernel_view(R, mode, o):
    name = "oracle-kernel-view-%s" % mode
    p, n = [], 0
    unit_agaw = {u["segment"]: u["agaw"] for u in o["units"]}
    for d in o["pci_devices"]:
        dom = d.get("domain")
        if not dom or dom["agaw"] != unit_agaw.get(int(d["bdf"][:4], 16)):
            continue	# no domain, or top levels skipped (agaw > unit's): root differs legitimately
        roots = {m["root_pa"] for u in o["units"] for m in u["mappings"]
                 if m["bdf"] == d["bdf"] and m["translation"] != "pass-through"}
        if not roots:
            continue
        n += 1
        if roots != {dom["pgd_pa"]}:
            p.append("%s: table root %s in hardware entries, dmar_domain pgd %s"
                     % (d["bdf"], sorted(roots), dom["pgd_pa"]))
    if n == 0:
        p.append("no device with a domain to compare")
    R.check(name, not p, "; ".join(p), "%d devices" % n)


def check_ground_truth(R, mode, gt, release, oracle):
    name = "ground-truth-%s" % mode
    if gt is None:
        return R.fail(name, "ground-truth.json missing or unreadable")
    p = ["missing key %s" % k for k in GROUND_TRUTH_KEYS if k not in gt]
    if not p:
        if gt["mode"] != mode:
            p.append("mode %s" % gt["mode"])
        if gt["release"] != release:
            p.append("release %s, expected %s" % (gt["release"], release))
        log = gt["iommu_log"]
        if not log.get("copied_translation_tables"):
            p.append("no 'Copied translation tables' line")
        if not log.get("copied_ir_table"):
            p.append("no 'Copied IR table' line")
        if mode == "legacy" and not gt["post_takeover_dma_pages"]:
            p.append("no post-takeover DMA page")
        ck = oracle and oracle["kernel"].get("crashk_res")
        if ck and gt["crashkernel"] and ck != gt["crashkernel"]:
            p.append("crashkernel %s (guest /proc/iomem) vs crashk_res %s (oracle)"
                     % (gt["crashkernel"], ck))
    pk = gt.get("packets", {})
    R.check(name, not p, "; ".join(p),
            "%s packets sent, %s after takeover, %s found after takeover on %d pages %s"
            % (pk.get("sent"), pk.get("sent_after_tables_copied"),
               pk.get("found_after_tables_copied"), len(gt.get("post_takeover_dma_pages", [])),
               pk.get("found_after_tables_copied_by_nic")))


def check_dma_mapped(R, mode, gt, o):
    name = "dma-pages-mapped-%s" % mode
    if gt is None or o is None:
        return R.fail(name, "needs ground-truth.json and the oracle output")
    iv = writable_intervals(o)
    devs = devices_by_name(o)
    nic_bdf = {n: devs[n]["bdf"] for n in ("virtio-net", "e1000e") if n in devs}

    def bdfs_writing(pa):
        return {b for s, e, b in iv if s <= pa < e}

    p, counts = [], {}
    for page in gt["post_takeover_dma_pages"]:
        if not bdfs_writing(int(page, 16)):
            p.append("page %s mapped writable to no device" % page)
    for hit in gt["post_takeover_dma"]:
        want = nic_bdf.get(hit["nic"])
        got = bdfs_writing(int(hit["page"], 16))
        if want and want not in got:
            p.append("packet %d (%s) at %s: page not writable by %s (writable by %s)"
                     % (hit["seq"], hit["nic"], hit["pa"], want, sorted(got) or "none"))
        counts[hit["nic"]] = counts.get(hit["nic"], 0) + 1
    if mode == "legacy" and not gt["post_takeover_dma_pages"]:
        p.append("nothing to check (no post-takeover DMA page)")
    R.check(name, not p, "; ".join(p[:5]) + (" (+%d more)" % (len(p) - 5) if len(p) > 5 else ""),
            "%d pages, packets per NIC %s" % (len(gt["post_takeover_dma_pages"]), counts))


def vtd_json(vtd, vmlinux, dump, *words):
    rc, out, err, _ = run([vtd, "-x", vmlinux, "--json", dump] + list(words), 600)
    if rc not in (0, 1):
        raise RuntimeError("vtd %s: exit %d: %s" % (" ".join(words), rc, tail(err)))
    return json.loads(out)


def vtd_state(vtd, vmlinux, dump):
    """The oracle's schema subset (docs/oracle-schema.md), assembled from the
    vtd CLI's own commands (docs/json-schema.md)."""
    units = {u["unit"]: {"name": u["unit"], "root_table_pa": u["root"], "contexts": {},
                         "mappings": [], "irtes": []}
             for u in vtd_json(vtd, vmlinux, dump, "units")["units"]}
    for c in vtd_json(vtd, vmlinux, dump, "context")["contexts"]:
        if "bdf" not in c:
            raise RuntimeError("vtd context reported a problem: %s" % c.get("problem"))
        u = units[c["unit"]]
        u["contexts"][c["bdf"]] = c["context"]          # scalable: one row per PASID
        m = {"bdf": c["bdf"], "pasid": c["pasid"], "ranges": []}
        if c["xlate"] != "pass-through":                 # the oracle lists no identity run
            words = ["map", c["bdf"]] + (["--pasid", str(c["pasid"])] if c["pasid"] is not None else [])
            for r in vtd_json(vtd, vmlinux, dump, *words)["mappings"]:
                if "iova" not in r:                          # a problem row
                    continue
                m["ranges"].append({"iova": r["iova"], "iova_end": r["iova_end"], "pa": r["pa"],
                                    "r": int("r" in r["perm"]), "w": int("w" in r["perm"])})
        u["mappings"].append(m)
    for i in vtd_json(vtd, vmlinux, dump, "irte")["irtes"]:
        units[i["unit"]]["irtes"].append({"index": i["index"], "raw": i["raw"]})
    out = []
    for u in units.values():
        u["contexts"] = [{"bdf": b, "raw": raw} for b, raw in u["contexts"].items()]
        out.append(u)
    return {"units": out}


def compare_crash_vtd(R, mode, rdir, vmlinux):
    """crash> vtd (build/vtd.so) must print exactly what the vtd CLI prints,
    command for command, text and JSON, on the kdump and flattened dumps."""
    vtd = os.environ.get("VTD", "build/vtd")
    so = os.path.abspath(os.environ.get("VTD_SO", "build/vtd.so"))
    if not os.path.exists(so):
        return R.fail("crash-vtd-%s" % mode, "%s not built" % so)
    for kind in ("kdump", "flat"):
        name = "crash-vtd-%s-%s" % (mode, kind)
        dump = os.path.join(rdir, DUMPS[kind][0])
        try:
            ctx = vtd_json(vtd, vmlinux, dump, "context")["contexts"]
            bdf = ctx[0]["bdf"] if ctx else "00:00.0"
            runs = vtd_json(vtd, vmlinux, dump, "map", bdf)["mappings"]
            iova, pa = (runs[0]["iova"], runs[0]["pa"]) if runs else ("0x1000", "0x1000")
        except (RuntimeError, ValueError, KeyError, IndexError) as e:
            R.fail(name, "vtd CLI: %s" % e)
            continue
        cmds = ["units", "root", "context", "pasid %s" % bdf, "map %s" % bdf,
                "translate %s %s --write" % (bdf, iova), "who %s 0x1000" % pa, "domains",
                "devices", "irte", "qi", "check", "log", "faults", "--json context",
                "--json map %s" % bdf, "--json check", "marks", "marks --reason TABLE",
                "--json marks --pfn %s" % hex(int(pa, 16) >> 12)]
        tmp = os.path.join(rdir, "crash-vtd-%s" % kind)
        os.makedirs(tmp, exist_ok=True)
        script = ["extend %s" % so] + ["vtd %s > %s/%d.out" % (c, tmp, i) for i, c in enumerate(cmds)] + ["exit"]
        with open(os.path.join(tmp, "cmds"), "w") as f:
            f.write("\n".join(script) + "\n")
        # crash> vtd takes layouts from the kernel's BTF; on the flattened
        # dump from gdb (its fallback), so both ways are compared with the CLI
        rc, out, err, secs = run(["crash", "-s", vmlinux, dump, "-i", os.path.join(tmp, "cmds")], 600,
                                 stdin=subprocess.DEVNULL,
                                 env={"VTD_CRASH_NO_BTF": "1"} if kind == "flat" else None)
        diff = []
        for i, c in enumerate(cmds):
            words = c.split()
            json_ = words[0] == "--json"
            # crash writes a command's complaints to fp, the CLI to stderr
            r = run([vtd, "-x", vmlinux] + (["--json"] if json_ else []) + [dump] +
                    (words[1:] if json_ else words), 600)
            cli = r[1] + r[2]
            try:
                got = open(os.path.join(tmp, "%d.out" % i)).read()
            except OSError:
                got = None
            if got != cli:
                diff.append(c)
        R.check(name, not diff, "crash output differs from the CLI for: %s (crash: %s)" % (
            ", ".join(diff), tail(out + err)), "%d commands identical to the CLI (layouts from %s)" % (
                len(cmds), "gdb" if kind == "flat" else "the kernel's BTF"))


def dma_misses(gt, nic_bdf, dw):
    """The ground truth's post-takeover DMA packets whose page is not in a
    DMA_WRITABLE mark (vtd marks JSON rows) of the NIC that wrote it."""
    iv = [(int(m["pfn"], 16), int(m["pfn"], 16) + m["pages"], m["bdf"]) for m in dw]
    miss = []
    for hit in gt.get("post_takeover_dma", []):
        pfn, want = int(hit["page"], 16) >> 12, nic_bdf.get(hit["nic"])
        if not any(s <= pfn < e and b == want for s, e, b in iv):
            miss.append("packet %d (%s) page %s" % (hit["seq"], hit["nic"], hit["page"]))
    return miss


def check_takeover(R, mode, rdir, vmlinux, gt, oracle):
    """Takeover analysis on an upstream (6.1, copying) takeover: nothing to
    restore, nothing written by the takeover, and every page a NIC wrote
    after the takeover is DMA_WRITABLE for that NIC (design.md §5)."""
    vtd = os.environ.get("VTD", "build/vtd")
    devs = devices_by_name(oracle) if oracle else {}
    nic_bdf = {n: devs[n]["bdf"] for n in ("virtio-net", "e1000e") if n in devs}
    for kind in ("kdump", "flat", "elf"):
        dump = os.path.join(rdir, DUMPS[kind][0])
        name = "takeover-%s-%s" % (mode, kind)
        try:
            ck = vtd_json(vtd, vmlinux, dump, "check")
            dw = vtd_json(vtd, vmlinux, dump, "marks", "--reason", "DMA_WRITABLE")["marks"]
        except (RuntimeError, ValueError, KeyError) as e:
            R.fail(name, "vtd: %s" % e)
            continue
        pages = {r["reason"]: r["pages"] for r in ck["marked_pages"]}
        errors = [f for f in ck["findings"] if f["severity"] == "error"]
        p = []
        if ck["restorable_bytes"] != 0:
            p.append("%d restorable bytes" % ck["restorable_bytes"])
        if pages.get("TAKEOVER_WRITTEN") != 0:
            p.append("%s TAKEOVER_WRITTEN pages" % pages.get("TAKEOVER_WRITTEN"))
        if errors:
            p.append("error findings: %s" % "; ".join(f["evidence"] for f in errors[:3]))
        if not pages.get("TABLE") or not pages.get("DMA_WRITABLE"):
            p.append("no TABLE or DMA_WRITABLE pages: %s" % pages)
        R.check(name, not p, "; ".join(p), "marked pages %s" % pages)
        name = "dma-writable-marks-%s-%s" % (mode, kind)
        if gt is None or not nic_bdf:
            R.fail(name, "needs ground-truth.json and the oracle's devices")
            continue
        miss = dma_misses(gt, nic_bdf, dw)
        counts = {}
        for hit in gt["post_takeover_dma"]:
            counts[hit["nic"]] = counts.get(hit["nic"], 0) + 1
        if not gt["post_takeover_dma"]:
            miss.append("no post-takeover DMA in the ground truth")
        R.check(name, not miss, "not DMA_WRITABLE for the NIC that wrote it: %s (+%d more)" % (
            "; ".join(miss[:3]), max(0, len(miss) - 3)),
            "%d post-takeover packets, 100%% on DMA_WRITABLE pages of their NIC %s"
            % (len(gt["post_takeover_dma"]), counts))


def check_restore(R, mode, rdir, vmlinux):
    """vtd restore on each dump format: 0 bytes restored (6.1 copies), the
    record travels with the output, independent readers still read it, and
    restore --undo gives the dump back byte for byte."""
    vtd = os.environ.get("VTD", "build/vtd")
    so = os.path.abspath(os.environ.get("VTD_SO", "build/vtd.so"))
    dmesg = os.path.join(rdir, "dmesg-crashed.txt")
    for kind in ("kdump", "flat", "elf"):
        name = "restore-%s-%s" % (mode, kind)
        dump = os.path.join(rdir, DUMPS[kind][0])
        out, back = os.path.join(rdir, "restored." + kind), os.path.join(rdir, "undone." + kind)
        p = []
        rc, o, e, _ = run([vtd, "-x", vmlinux, "--json", "restore", dump, out], 600)
        try:
            res = json.loads(o)
            root = vtd_json(vtd, vmlinux, dump, "units")["units"][0]["root"]
        except (ValueError, RuntimeError, KeyError, IndexError) as x:
            R.fail(name, "vtd restore: exit %d: %s %s" % (rc, x, tail(e)))
            continue
        if res.get("restored_bytes") != 0:
            p.append("restored %s bytes" % res.get("restored_bytes"))
        try:
            m = vtd_json(vtd, vmlinux, out, "marks")
            if ("note in" not in m["source"]) and ("sidecar" not in m["source"]):
                p.append("marks of the output not from its record: %s" % m["source"])
            if m["marks_shown"] != res["marks"]:
                p.append("record holds %d marks, restore wrote %d" % (m["marks_shown"], res["marks"]))
        except (RuntimeError, ValueError, KeyError) as e:
            p.append("vtd marks on the output: %s" % e)
        rc, o, e, _ = run([vtd, "restore", "--undo", out, back], 600)
        if rc != 0 or not filecmp.cmp(dump, back, shallow=False):
            p.append("restore --undo did not give the dump back byte for byte (%s)" % tail(e))
        # independent readers on the restored dump
        if kind in ("kdump", "elf"):
            dm = os.path.join(rdir, "restored-dmesg.txt")
            if os.path.exists(dm):
                os.unlink(dm)
            rc, o, e, _ = run(["makedumpfile", "--dump-dmesg", out, dm], 600)
            if rc != 0 or not os.path.exists(dmesg) or open(dm, "rb").read() != open(dmesg, "rb").read():
                p.append("makedumpfile --dump-dmesg on the output: exit %d %s" % (rc, tail(e)))
            rc, o, e, _ = run([PY, "-c", "import drgn,sys\n"
                               "a=drgn.Program(); a.set_core_dump(sys.argv[1])\n"
                               "b=drgn.Program(); b.set_core_dump(sys.argv[2])\n"
                               "pa=int(sys.argv[3],16)\n"
                               "sys.exit(0 if a.read(pa,4096,True)==b.read(pa,4096,True) else 3)",
                               out, dump, root], 600)
            if rc != 0:
                p.append("drgn on the output: exit %d %s" % (rc, tail(e)))
        else:
            rk = os.path.join(rdir, "restored-R.kdump")
            with open(out, "rb") as f:
                rc, o, e, _ = run(["makedumpfile", "-R", rk], 600, stdin=f)
            if rc != 0:
                p.append("makedumpfile -R of the output: exit %d %s" % (rc, tail(e)))
            for x in (rk,):
                if os.path.exists(x):
                    os.unlink(x)
        script = os.path.join(rdir, "restored-crash.cmds")
        with open(script, "w") as f:
            f.write("extend %s\nvtd marks --reason TABLE\nexit\n" % so)
        rc, o, e, _ = run(["crash", "-s", vmlinux, out, "-i", script], 600)
        if "(marks: " not in o or ("note in" not in o and "sidecar" not in o):
            p.append("crash on the output: %s" % tail(o + e))
        R.check(name, not p, "; ".join(p), "0 bytes restored, record: %s; undo identical; "
                "read by %s" % (res.get("record"), "makedumpfile --dump-dmesg, drgn, crash"
                                if kind != "flat" else "makedumpfile -R, crash"))
        for x in (out, out + ".vtd", back):
            if os.path.exists(x):
                os.unlink(x)


def check_no_vmlinux(R, mode, rdir, vmlinux):
    """With no vmlinux at all (--no-vmlinux: the dump's own kallsyms and BTF),
    every command's JSON equals its JSON with the vmlinux's DWARF, on every
    dump format, including map for each device; the time to open the dump
    each way; and the structural scan puts the real root table first."""
    vtd = os.environ.get("VTD", "build/vtd")

    def go(src, dump, *words):
        t = time.monotonic()
        rc, out, err, _ = run([vtd] + src + ["--json", dump] + list(words), 600)
        return rc, out, err, time.monotonic() - t

    for kind in DUMPS:
        dump = os.path.join(rdir, DUMPS[kind][0])
        name = "no-vmlinux-%s-%s" % (mode, kind)
        rc, out, err, _ = go(["-x", vmlinux], dump, "context")
        if rc != 0:
            R.fail(name, "vtd -x context: exit %d: %s" % (rc, tail(err)))
            continue
        words = [["units"], ["root"], ["context"], ["domains"], ["devices"], ["check"], ["irte"],
                 ["qi"], ["log"], ["faults"], ["marks"]]
        for c in json.loads(out)["contexts"]:
            if c.get("xlate") not in (None, "pass-through"):
                words.append(["map", c["bdf"]] + (["--pasid", str(c["pasid"])]
                                                  if c["pasid"] is not None else []))
                words.append(["who", c["sl_root" if "sl_root" in c else "fl_root"]])
        p = []
        for w in words:
            a, b = go(["-x", vmlinux], dump, *w), go(["--no-vmlinux"], dump, *w)
            if a[:2] != b[:2] or not b[1].strip():
                p.append("%s: exit %d/%d, %s; %s" % (" ".join(w), a[0], b[0],
                         "outputs differ" if a[1] != b[1] else "no output", tail(b[2])))
        t_dw = min(go(["-x", vmlinux], dump, "units")[3] for _ in range(3))
        t_bt = min(go(["--no-vmlinux"], dump, "units")[3] for _ in range(3))
        R.check(name, not p, "; ".join(p[:3]),
                "%d commands identical; open + units: %.3fs with the vmlinux (DWARF), "
                "%.3fs from the dump's BTF + kallsyms" % (len(words), t_dw, t_bt))
    for kind in ("kdump", "flat"):
        dump = os.path.join(rdir, DUMPS[kind][0])
        name = "scan-%s-%s" % (mode, kind)
        rc, out, err, _ = go(["-x", vmlinux], dump, "units")
        u = json.loads(out)["units"][0] if rc == 0 else None
        rc2, out2, err2, secs = go([], dump, "scan", "3")
        if u is None or rc2 != 0:
            R.fail(name, "exit %d/%d: %s %s" % (rc, rc2, tail(err), tail(err2)))
            continue
        sc = json.loads(out2)
        best = sc["candidates"][0] if sc["candidates"] else {}
        R.check(name, best.get("root") == u["root"] and best.get("mode") == u["mode"],
                "best candidate %s, the kernel's root table %s (%s)" % (best, u["root"], u["mode"]),
                "root table %s (%s) first of %d candidates; %d pages read in %.2fs" % (
                    u["root"], u["mode"], sc["candidates_found"], sc["pages_read"], secs))


def capture_times(rdir):
    """capture-times.txt: label -> seconds the step took in the guest."""
    t = {}
    try:
        for line in open(os.path.join(rdir, "capture-times.txt")):
            w = line.split()
            if len(w) == 3:
                t[w[0]] = float(w[2]) - float(w[1])
    except (OSError, ValueError):
        pass
    return t


def changed_window(rdir):
    """Host times (ns) of makedumpfile-vtd's console lines "early snapshot"
    (the snapshot is done) and "re-reading" (the re-read starts), and the
    packets' send times by sequence number."""
    t1 = t2 = None
    try:
        for line in open(os.path.join(rdir, "console.log"), errors="replace"):
            ts, _, text = line.rstrip("\n").partition(" ")
            if "makedumpfile-vtd: early snapshot:" in text and t1 is None:
                t1 = int(ts)
            elif "makedumpfile-vtd: makedumpfile done; re-reading" in text and t2 is None:
                t2 = int(ts)
    except (OSError, ValueError):
        pass
    sent = {}
    try:
        for line in open(os.path.join(rdir, "packets.tsv")):
            w = line.split()
            if len(w) >= 4 and w[0].isdigit():
                sent[int(w[0])] = int(w[3])
    except (OSError, ValueError):
        pass
    return t1, t2, sent


def check_makedumpfile_vtd_kills(R, mode, rdir, vmlinux):
    """makedumpfile-vtd on the host with the real ELF dump as /proc/vmcore:
    its helper made to fail, or killed, at every step leaves exactly plain
    makedumpfile's output (byte for byte) and exit status 0.  And undisturbed, vtd restore --undo of its output gives plain
    makedumpfile's output."""
    vtd = os.environ.get("VTD", "build/vtd")
    mdv = os.environ.get("MDV", "build/makedumpfile-vtd")
    vmcore = os.path.join(rdir, "vmcore.elf")
    tmp = tempfile.mkdtemp(dir=rdir)
    name = "makedumpfile-vtd-kills-%s" % mode
    p, n = [], 0
    try:
        ref = {}
        for kind, opts in (("kdump", ["-l", "-d", "31"]), ("flat", ["-F", "-c", "-d", "31"])):
            ref[kind] = os.path.join(tmp, "plain." + kind)
            with open(ref[kind] if kind == "flat" else os.devnull, "wb") as f:
                subprocess.run(["makedumpfile"] + opts + [vmcore] + ([] if kind == "flat" else [ref[kind]]),
                               stdout=f, stderr=subprocess.DEVNULL)
            steps = ("snapshot", "compare", "patch") + (("appended", "pointed") if kind == "kdump" else ())
            for how in ("VTD_FAILPOINT", "VTD_KILLPOINT"):
                for step in steps:
                    out = os.path.join(tmp, "out." + kind)
                    if os.path.exists(out):
                        os.unlink(out)
                    env = dict(os.environ, **{how: step})
                    with open(out, "wb") if kind == "flat" else open(os.devnull, "wb") as f:
                        rc = subprocess.run([mdv] + opts + [vmcore] + ([] if kind == "flat" else [out]),
                                            stdout=f, stderr=subprocess.DEVNULL, env=env).returncode
                    n += 1
                    if rc != 0 or not filecmp.cmp(out, ref[kind], shallow=False):
                        p.append("%s=%s (%s): exit %d, %s" % (how, step, kind, rc,
                                 "same dump" if filecmp.cmp(out, ref[kind], shallow=False) else "dump differs"))
        out = os.path.join(tmp, "out.kdump")
        os.unlink(out)
        subprocess.run([mdv, "-l", "-d", "31", vmcore, out], capture_output=True)
        undo = os.path.join(tmp, "undo.kdump")
        subprocess.run([vtd, "restore", "--undo", out, undo], capture_output=True)
        if not os.path.exists(undo) or not filecmp.cmp(undo, ref["kdump"], shallow=False):
            p.append("restore --undo of makedumpfile-vtd's file is not plain makedumpfile's")
        # (no crash here: makedumpfile 1.7.2 re-filtering this 6.1 ELF drops
        # the mem_section root pages crash needs, with or without us)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.check(name, not p, "; ".join(p[:3]),
            "%d failed/killed helpers, each left plain makedumpfile's dump byte for byte; "
            "undo of the patched file gives it too" % n)


def check_makedumpfile_vtd(R, mode, rdir, vmlinux, gt, oracle):
    """makedumpfile-vtd ran in the capture kernel (kdump-compressed file and
    flattened stream): crash, makedumpfile --dump-dmesg / -R, libkdumpfile
    (vtd) and drgn read the results; the marks record is there; every page of
    the ground truth's post-takeover DMA is DMA_WRITABLE for its NIC in the
    record, CHANGED pages are watched pages; the time it took against plain
    makedumpfile run right after it on the same /proc/vmcore."""
    vtd = os.environ.get("VTD", "build/vtd")
    devs = devices_by_name(oracle) if oracle else {}
    nic_bdf = {n: devs[n]["bdf"] for n in ("virtio-net", "e1000e") if n in devs}
    times = capture_times(rdir)
    for kind, fname in (("kdump", "vmcore-vtd.kdump"), ("flat", "vmcore-vtd.flat")):
        dump = os.path.join(rdir, fname)
        name = "makedumpfile-vtd-%s-%s" % (mode, kind)
        if not os.path.exists(dump) or not os.path.getsize(dump):
            R.fail(name, "%s missing (see makedumpfile-vtd-%s.log)" % (dump, kind))
            continue
        p = []
        try:
            mk = vtd_json(vtd, vmlinux, dump, "marks")
            ck = vtd_json(vtd, vmlinux, dump, "check")
        except (RuntimeError, ValueError) as e:
            R.fail(name, "vtd: %s" % e)
            continue
        want_src = ("note in " if kind == "kdump" else "trailer of ") + dump
        if mk.get("source") != want_src:
            p.append("marks from %s, want %s" % (mk.get("source"), want_src))
        rec = {r["reason"]: r["pages"] for r in ck.get("recorded_marked_pages", [])}
        cap = [f["evidence"] for f in ck.get("recorded_findings", []) if f["kind"] == "capture"]
        if not cap:
            p.append("no capture finding in the record")
        if not rec.get("TABLE") or not rec.get("DMA_WRITABLE"):
            p.append("record marks %s" % rec)
        if ck.get("problems_found"):
            p.append("vtd check problems: %s" % ck["problems"][:2])
        # the independent readers
        rc, out, err, _ = run_crash(vmlinux, dump, os.path.join(rdir, "crash-cmds.txt"))
        if rc != 0 or "RELEASE:" not in out:
            p.append("crash: exit %d %s" % (rc, tail(err)))
        if kind == "kdump":
            dmesg = os.path.join(rdir, "vtd-kdump-dmesg.txt")
            if os.path.exists(dmesg):                  # makedumpfile will not overwrite it
                os.unlink(dmesg)
            rc, out, err, _ = run(["makedumpfile", "--dump-dmesg", dump, dmesg], 600)
            if rc != 0:
                p.append("makedumpfile --dump-dmesg: exit %d %s" % (rc, tail(err)))
            rc, out, err, _ = run([PY, "-c", "import drgn,sys; pr=drgn.Program(); "
                                   "pr.set_core_dump(sys.argv[1]); pr.load_debug_info([sys.argv[2]]); "
                                   "print(pr['init_uts_ns'].name.release.string_().decode())",
                                   dump, vmlinux], 600)
            if rc != 0 or not out.strip():
                p.append("drgn: exit %d %s" % (rc, tail(err)))
        else:
            r_out = os.path.join(rdir, "vtd-flat-reassembled.kdump")
            with open(dump, "rb") as f:
                rc, out, err, _ = run(["makedumpfile", "-R", r_out], 600, stdin=f)
            if rc != 0:
                p.append("makedumpfile -R: exit %d %s" % (rc, tail(err)))
            elif subprocess.run([vtd, "-x", vmlinux, r_out, "units"], capture_output=True).returncode:
                p.append("vtd cannot read the reassembled dump")
            if os.path.exists(r_out):
                os.unlink(r_out)
        # the ground truth's DMA pages, in the record
        dw = [m for m in mk.get("marks", []) if m["reason"] == "DMA_WRITABLE"]
        watched = [(int(m["pfn"], 16), int(m["pfn"], 16) + m["pages"]) for m in mk.get("marks", [])
                   if m["reason"] in ("DMA_WRITABLE", "TABLE", "HW_WRITABLE")]
        changed = [m for m in mk.get("marks", []) if m["reason"] == "CHANGED"]
        miss = dma_misses(gt or {}, nic_bdf, dw)
        if not gt or not nic_bdf:
            p.append("needs ground-truth.json and the oracle's devices")
        if miss:
            p.append("not DMA_WRITABLE for the NIC in the record: %s" % "; ".join(miss[:3]))
        stray = [m["pfn"] for m in changed
                 if not any(s <= int(m["pfn"], 16) < e for s, e in watched)]
        if stray:
            p.append("CHANGED pages that were not watched: %s" % stray[:3])
        # packets sent between the early snapshot and the re-read (host
        # times: the console lines' arrival, the packets' send times) landed
        # in between: their pages must be CHANGED
        inside = []
        if kind == "kdump":
            t1, t2, sent = changed_window(rdir)
            chp = {int(m["pfn"], 16) + k for m in changed for k in range(m["pages"])}
            for hit in (gt or {}).get("post_takeover_dma", []):
                ts = sent.get(hit["seq"])
                if t1 and t2 and ts and t1 < ts < t2 - 200_000_000:
                    inside.append(hit)
                    if int(hit["page"], 16) >> 12 not in chp:
                        p.append("packet %d sent inside the capture window, page %s not CHANGED"
                                 % (hit["seq"], hit["page"]))
            if not (t1 and t2):
                p.append("no makedumpfile-vtd snapshot/re-read lines on the console")
        t_v, t_p = times.get("vtd-" + kind), times.get("kdump-again" if kind == "kdump" else "flat")
        ratio = "%.2fs vs plain makedumpfile %.2fs (ratio %.2f)" % (t_v, t_p, t_v / t_p) \
            if t_v and t_p else "no capture times"
        R.check(name, not p, "; ".join(p[:4]),
                "%s; record %s; %d post-takeover DMA pages all DMA_WRITABLE for their NIC; "
                "%d CHANGED during the capture%s; %s" % (
                    fname, rec, len((gt or {}).get("post_takeover_dma", [])),
                    sum(m["pages"] for m in changed),
                    " (%d packets landed inside the window, all on CHANGED pages)" % len(inside)
                    if kind == "kdump" else "", ratio))


def check_valgrind(R, mode, rdir, vmlinux):
    """valgrind memcheck finds nothing in vtd over the real dumps: no invalid
    read or write, no use of uninitialised memory, no leak."""
    vtd = os.environ.get("VTD", "build/vtd")
    p, n = [], 0
    for kind in ("kdump", "flat", "elf"):
        dump = os.path.join(rdir, DUMPS[kind][0])
        for words in (["check"], ["marks"], ["scan", "1"]) if kind != "elf" else (["check"],):
            rc, out, err, secs = run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                                      "--errors-for-leak-kinds=definite,indirect", vtd, "--no-vmlinux",
                                      "--json", dump] + words, 900)
            n += 1
            if rc not in (0, 1):
                p.append("%s %s: exit %d: %s" % (kind, " ".join(words), rc, tail(err, 6)))
    R.check("valgrind-%s" % mode, not p, "; ".join(p[:2]), "%d runs of vtd under memcheck, clean" % n)


def compare_vtd_log(R, mode, rdir, vmlinux):
    """vtd log (the printk ring buffer) must equal makedumpfile --dump-dmesg
    of the same crashed kernel, byte for byte, on every dump format."""
    vtd = os.environ.get("VTD", "build/vtd")
    ref = os.path.join(rdir, "dmesg-crashed.txt")
    if not os.path.exists(ref):
        return R.fail("vtd-log-%s" % mode, "no %s" % ref)
    want = open(ref, "rb").read()
    for kind in ("kdump", "flat", "elf"):
        p = subprocess.run([vtd, "-x", vmlinux, os.path.join(rdir, DUMPS[kind][0]), "log"],
                           capture_output=True, timeout=600)
        R.check("vtd-log-%s-%s" % (mode, kind), p.returncode == 0 and p.stdout == want,
                "exit %d, %d of %d bytes, first difference at %s" % (
                    p.returncode, len(p.stdout), len(want),
                    next((i for i, (a, b) in enumerate(zip(p.stdout, want)) if a != b), "end")),
                "%d lines equal to makedumpfile --dump-dmesg" % want.count(b"\n"))


def compare_vtd_with_oracle(R, mode, rdir, vmlinux, oracle):
    """vtd --json must agree with the oracle field for field on every dump format:
    units, root table, context entries (raw), every coalesced mapping run, IRTEs."""
    name = "vtd-vs-oracle-%s" % mode
    vtd = os.environ.get("VTD", "build/vtd")
    if not os.access(vtd, os.X_OK):
        return R.fail(name, "%s not built (make all)" % vtd)
    if oracle is None:
        return R.fail(name, "no oracle output")

    def project(o):
        return [{
            "name": u.get("name"), "root_table_pa": u.get("root_table_pa"),
            "contexts": sorted((c["bdf"], tuple(c["raw"])) for c in u.get("contexts", [])
                               if c.get("present", True)),
            "mappings": sorted((m["bdf"], m.get("pasid"), tuple(
                (r["iova"], r["iova_end"], r["pa"], int(r["r"]), int(r["w"]))
                for r in m.get("ranges", []))) for m in u.get("mappings", [])),
            "irtes": sorted((i["index"], tuple(i["raw"])) for i in u.get("irtes", [])),
        } for u in o.get("units", [])]

    b = project(oracle)
    for kind in ("kdump", "flat", "elf"):
        dump = os.path.join(rdir, DUMPS[kind][0])
        try:
            a = project(vtd_state(vtd, vmlinux, dump))
        except (RuntimeError, ValueError, KeyError) as e:
            R.fail("%s-%s" % (name, kind), str(e))
            continue
        diff = [k for k in ("name", "root_table_pa", "contexts", "mappings", "irtes")
                if [x[k] for x in a] != [x[k] for x in b]]
        # check: no problems, and every present IRTE equals the kernel's shadow
        try:
            chk = vtd_json(vtd, vmlinux, dump, "check")
        except (RuntimeError, ValueError) as e:
            R.fail("vtd-check-%s-%s" % (mode, kind), str(e))
        else:
            nirte = sum(len(u["irtes"]) for u in b)
            # makedumpfile -E leaves out all-zero pages: an empty page table of
            # a live domain is then "not in the dump" (drgn reads it as zeros)
            probs = [p.get("problem", "") for p in chk.get("problems", [])]
            zero_ok = kind == "elf" and all("table" in p and "an ELF dump also leaves out all-zero pages"
                                            in p for p in probs)
            R.check("vtd-check-%s-%s" % (mode, kind),
                    (chk.get("problems_found") == 0 or zero_ok) and chk.get("irte_shadows_compared") == nirte,
                    "problems %s, IRTE shadows compared %s of %d present: %s" % (
                        chk.get("problems_found"), chk.get("irte_shadows_compared"), nirte,
                        [p.get("problem") for p in chk.get("problems", [])][:2]),
                    "%d problems (%s); %d devices walked, %d IRTEs equal to the kernel's shadows" % (
                        len(probs), "empty tables left out of the ELF dump" if probs else "none",
                        chk.get("devices_walked", 0), chk.get("irte_shadows_compared", 0)))
        nmap = sum(len(m[2]) for u in a for m in u["mappings"])
        R.check("%s-%s" % (name, kind), not diff, "differs in %s" % ", ".join(diff),
                "%d contexts, %d mapping runs, %d IRTEs equal" % (
                    sum(len(u["contexts"]) for u in a), nmap, sum(len(u["irtes"]) for u in a)))


# ------------------------------------------------------------------------------------------



# ------------------------------------------------------------------------------------------
# Dumps that lost the IOMMU state (issue 10)


def iommu_page(vmlinux, dump):
    """The page frame of the first unit's struct intel_iommu, read by drgn."""
    code = ("import drgn,sys\n"
            "p=drgn.Program(); p.set_core_dump(sys.argv[2]); p.load_debug_info([sys.argv[1]])\n"
            "from drgn.helpers.linux.list import list_for_each_entry\n"
            "from drgn.helpers.linux.mm import virt_to_phys\n"
            "d=next(list_for_each_entry('struct dmar_drhd_unit', p['dmar_drhd_units'].address_of_(), 'list'))\n"
            "print(virt_to_phys(d.iommu).value_() >> 12, d.iommu.value_())\n")
    rc, out, err, _ = run([PY, "-c", code, vmlinux, dump], 300)
    if rc != 0:
        raise RuntimeError("drgn: %s" % tail(err))
    pfn, va = out.split()
    return int(pfn), int(va)


def readable(vmlinux, dump, va):
    """drgn can read the kernel address va in dump."""
    code = ("import drgn,sys\n"
            "p=drgn.Program(); p.set_core_dump(sys.argv[2]); p.load_debug_info([sys.argv[1]])\n"
            "p.read(int(sys.argv[3]), 8)\n")
    return run([PY, "-c", code, vmlinux, dump, str(va)], 300)[0] == 0


def lost_words_ok(err, va):
    """vtd's diagnosis names the structure, its address, the level that
    excluded it and the level that would have kept it."""
    return ("struct intel_iommu at 0x%x" % va in err and "dump level 31 excluded it; -d 23 would have kept it" in err
            and "structural scan found at" in err)


def check_crash_lost(R, mode, rdir, vmlinux, oracle):
    """crash> vtd on a 6.1 dump whose struct intel_iommu page was dropped
    (build/kdump-pages): the same diagnosis and scan fallback as the CLI; and
    the page added back from the ELF dump gives the original answers."""
    so = os.path.abspath(os.environ.get("VTD_SO", "build/vtd.so"))
    vtd = os.environ.get("VTD", "build/vtd")
    tool = os.environ.get("KDUMP_PAGES", "build/kdump-pages")
    name = "crash-lost-%s" % mode
    kd, elf = os.path.join(rdir, "vmcore.kdump"), os.path.join(rdir, "vmcore.elf")
    lossy, fixed = os.path.join(rdir, "lossy.kdump"), os.path.join(rdir, "lossy-fixed.kdump")
    try:
        pfn, va = iommu_page(vmlinux, kd)
    except RuntimeError as e:
        return R.fail(name, str(e))
    for f in (lossy, fixed):
        if os.path.exists(f):
            os.unlink(f)
    rc, out, err, _ = run([tool, kd, lossy, "drop", str(pfn)], 300)
    rc2, out2, err2, _ = run([tool, lossy, fixed, "add", elf, str(pfn)], 300) if rc == 0 else (rc, "", "", 0)
    if rc or rc2:
        return R.fail(name, "kdump-pages: %s %s" % (tail(err), tail(err2)))
    root = oracle["units"][0]["root_table_pa"] if oracle else None
    tmp = os.path.join(rdir, "crash-lost")
    os.makedirs(tmp, exist_ok=True)
    cmds = ["units", "--json check", "context"]
    res = {}
    for label, dump in (("lossy", lossy), ("fixed", fixed)):
        script = ["extend %s" % so] + ["vtd %s > %s/%s-%d.out" % (c, tmp, label, i)
                                       for i, c in enumerate(cmds)] + ["exit"]
        with open(os.path.join(tmp, "cmds"), "w") as f:
            f.write("\n".join(script) + "\n")
        rcc, o, e, _ = run(["crash", "-s", vmlinux, dump, "-i", os.path.join(tmp, "cmds")], 600)
        res[label] = []
        for i in range(len(cmds)):
            try:
                res[label].append(open(os.path.join(tmp, "%s-%d.out" % (label, i))).read())
            except OSError:
                res[label].append("")
    p = []
    units = res["lossy"][0]
    if not lost_words_ok(units, va):
        p.append("crash> vtd units on the lossy dump does not diagnose the loss: %s" % one_line(units))
    if root is None or ("root@%x" % int(root, 16)) not in units:
        p.append("crash> vtd units does not work from the root table %s" % root)
    try:
        chk = json.loads(res["lossy"][1][res["lossy"][1].index("{"):])
        lost = [f for f in chk["findings"] if f["kind"] == "kernel-state-lost"]
        if not lost or lost[0]["severity"] != "error" or "dump level 31" not in lost[0]["evidence"]:
            p.append("crash> vtd check: no kernel-state-lost error finding")
    except (ValueError, KeyError) as e:
        p.append("crash> vtd --json check: %s" % e)
    # the CLI says the same (text of context equal, diagnosis lines included;
    # crash interleaves them with the output in its own order)
    r = run([vtd, "-x", vmlinux, lossy, "context"], 300)
    if sorted((r[1] + r[2]).splitlines()) != sorted(res["lossy"][2].splitlines()):
        p.append("crash> vtd context differs from the CLI's on the lossy dump")
    # repaired with the page from the ELF dump: crash answers as on the original
    r = run([vtd, "-x", vmlinux, kd, "units"], 300)
    if res["fixed"][0] != r[1] + r[2]:
        p.append("after adding the page back, crash> vtd units differs from the original dump's")
    R.check(name, not p, "; ".join(p[:3]),
            "page 0x%x (struct intel_iommu at 0x%x) dropped: crash> vtd diagnoses it and walks the "
            "scan's root table %s; added back from the ELF dump: units as in the original" % (pfn, va, root))


def check_worst(R, mode, rdir, vmlinux):
    """Whatever the dump level drops, vtd's answers stay: makedumpfile-vtd
    on the ELF dump over a makedumpfile that keeps nothing but the kernel
    image (kdump-pages keep; the worst any makedumpfile can do) must put
    back every page vtd reads, so that every command, with and without the
    vmlinux, answers as on the full ELF dump: the kdump-compressed file
    (-l) and the flattened stream (-F, that file's stream as makedumpfile
    lays one out: tests/kdumpbits.py).  Deterministic, unlike the 6.12
    run's losses (which slab pages 1.7.2 takes for user pages varies)."""
    vtd = os.environ.get("VTD", "build/vtd")
    mdv = os.path.abspath(os.environ.get("MDV", "build/makedumpfile-vtd"))
    tool = os.path.abspath(os.environ.get("KDUMP_PAGES", "build/kdump-pages"))
    flatten = os.path.join(os.path.dirname(HERE), "kdumpbits.py")
    elf = os.path.join(rdir, "vmcore.elf")
    code = ("import drgn,sys\n"
            "p=drgn.Program(); p.set_core_dump(sys.argv[2]); p.load_debug_info([sys.argv[1]])\n"
            "pb=p.read_u64(p.symbol('phys_base').address)\n"
            "a,b=((p.symbol(s).address-0xffffffff80000000+pb) % (1<<64) for s in ('_text','_end'))\n"
            "print('0x%x-0x%x' % (a>>12, (b+4095)>>12))\n")
    rc, out, err, _ = run([PY, "-c", code, vmlinux, elf], 300)
    if rc != 0 or not re.match(r"^0x[0-9a-f]+-0x[0-9a-f]+$", out.strip()):
        return R.fail("repaired-worst-%s" % mode, "kernel image range: %s" % tail(err))
    keep = out.strip()
    wrapper = os.path.join(rdir, "makedumpfile-worst")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n# makedumpfile keeping only the kernel image: -l into the file,\n"
                "# -F that file's stream on standard output\n"
                "for last; do :; done\nt=$(mktemp -d) || exit 1\n"
                "case \" $* \" in\n"
                "*\" -F \"*) makedumpfile -l -d 31 \"$last\" $t/a >&2 && %s $t/a $t/b keep %s >&2 &&"
                " %s %s flatten $t/b; rc=$? ;;\n"
                "*) makedumpfile \"$@\" && %s \"$last\" $t/b keep %s >&2 && mv $t/b \"$last\"; rc=$? ;;\n"
                "esac\nrm -rf $t\nexit $rc\n" % (tool, keep, PY, flatten, tool, keep))
    os.chmod(wrapper, 0o755)
    for fmt in ("kdump", "flat"):
        name = "repaired-worst-%s%s" % (mode, "-flat" if fmt == "flat" else "")
        worst = os.path.join(rdir, "worst." + fmt)
        if os.path.exists(worst):
            os.unlink(worst)
        env = {"VTD_MAKEDUMPFILE": wrapper}
        if fmt == "kdump":
            rc, out, err, _ = run([mdv, "-l", "-d", "31", elf, worst], 600, env=env)
            m = re.search(r"excluded (\d+) pages vtdscope needs", err)
        else:
            with open(worst, "wb") as f:
                r = subprocess.run([mdv, "-F", "-d", "31", elf], stdout=f, stderr=subprocess.PIPE,
                                   text=False, timeout=600, env=dict(os.environ, **env))
            rc, err = r.returncode, r.stderr.decode(errors="replace")
            m = re.search(r"put (\d+) excluded pages back into the stream", err)
        if rc != 0 or not m or not os.path.exists(worst):
            R.fail(name, "makedumpfile-vtd: exit %d: %s" % (rc, tail(err)))
            continue
        p = []
        for src in (["-x", vmlinux], []):
            for w in ("units", "root", "context", "domains", "devices", "irte", "qi", "log", "faults",
                      "check"):
                got, want = (run([vtd] + src + ["--json", d, w], 300) for d in (worst, elf))
                try:
                    a, b = json.loads(got[1]), json.loads(want[1])
                except ValueError:
                    p.append("%s%s: exit %d: %s" % (w, "" if src else " (no vmlinux)", got[0],
                                                    tail(got[2])))
                    continue
                if w == "check":    # the record (capture facts) is the worst dump's alone
                    a = {k: a.get(k) for k in ("problems_found", "problems", "irte_shadows_compared")}
                    b = {k: b.get(k) for k in ("problems_found", "problems", "irte_shadows_compared")}
                if got[0] != want[0] or a != b or "not in the dump" in got[2]:
                    p.append("%s%s differs from the ELF dump's (exit %d/%d) %s" % (
                        w, "" if src else " (no vmlinux)", got[0], want[0], one_line(got[2], 160)))
        R.check(name, not p, "; ".join(p[:3]),
                "a makedumpfile keeping only the kernel image (%s): makedumpfile-vtd added back %s "
                "pages; 10 commands, with and without the vmlinux, answer as on the ELF dump" % (
                    "-F stream" if fmt == "flat" else "-l file", m.group(1)))
        os.unlink(worst)


def check_lost_612(R, mode, rdir, vmlinux):
    """A 6.12 kernel captured by bookworm's makedumpfile 1.7.2 with -d 31
    loses struct intel_iommu and more (slab pages taken for user pages):
    vtd must diagnose it and fall back to the scan, answering from the
    tables exactly as drgn does on the full dump; makedumpfile-vtd's dump of
    the same crash lost nothing: every command works and agrees with drgn."""
    vtd = os.environ.get("VTD", "build/vtd")
    lossy, repaired = os.path.join(rdir, "vmcore.kdump"), os.path.join(rdir, "vmcore-vtd.kdump")
    elf = os.path.join(rdir, "vmcore.elf")
    orc = {}
    for label, dump in (("elf", elf), ("vtd-kdump", repaired)):
        out = os.path.join(rdir, "oracle-%s.json" % label)
        rc, _, err, _ = run_oracle(vmlinux, dump, out)
        orc[label] = (rc, json.load(open(out)) if rc == 0 else None, err)
    o = orc["elf"][1]
    R.check("drgn-%s-elf" % mode, o is not None, "oracle failed: %s" % tail(orc["elf"][2]))
    # which structures plain makedumpfile lost varies from run to run (the
    # slab pages it takes for user pages): vtd must name one, drgn must
    # confirm that very address is excluded (and readable in the ELF dump),
    # and when it is a unit's struct intel_iommu vtd must fall back to the scan
    try:
        pfn, va = iommu_page(vmlinux, elf)
    except RuntimeError as e:
        pfn, va = None, 0
        R.fail("lossy-diagnosed-%s" % mode, str(e))
    iommu_lost = va and not readable(vmlinux, lossy, va)
    named = None
    for src in (["-x", vmlinux], []):
        name = "lossy-diagnosed-%s%s" % (mode, "" if src else "-no-vmlinux")
        rc, out, err, _ = run([vtd] + src + [lossy, "units"], 300)
        m = re.search(r"(struct \w+) at 0x([0-9a-f]+): cannot read", err)
        named = named or (m and (m.group(1), int(m.group(2), 16)))
        ok = rc == 0 and m and "dump level 31 excluded it; -d 23 would have kept it" in err and o
        if ok and iommu_lost:
            ok = lost_words_ok(err, va) and ("root@%x" % int(o["units"][0]["root_table_pa"], 16)) in out
        elif ok:
            ok = o["units"][0]["name"] in out
        R.check(name, ok, "exit %d: %s / %s" % (rc, one_line(err), one_line(out)), one_line(err, 300))
    R.check("drgn-sees-loss-%s" % mode, named and not readable(vmlinux, lossy, named[1]) and
            readable(vmlinux, elf, named[1]),
            "drgn reads %s at 0x%x in the plain makedumpfile dump, or not in the ELF dump" % (
                named or ("?", 0)), "drgn confirms %s at 0x%x is excluded from the plain makedumpfile "
            "dump (struct intel_iommu %s)" % (named[0], named[1], "lost too: the scan fallback"
                                              if iommu_lost else "kept") if named else "")
    rc, out, err, _ = run([vtd, "-x", vmlinux, "--json", lossy, "check"], 300)
    try:
        lost = [f for f in json.loads(out)["findings"] if f["kind"] == "kernel-state-lost"]
    except (ValueError, KeyError):
        lost = []
    R.check("lossy-check-%s" % mode, rc == 1 and lost and lost[0]["severity"] == "error" and
            "dump level 31" in lost[0]["evidence"], "exit %d, findings %s: %s" % (rc, lost, tail(err)),
            "vtd check: %s" % (lost[0]["evidence"][:200] if lost else ""))
    if o is None:
        return R.fail("lossy-fallback-%s" % mode, "no oracle output")

    def project(st, names=True):
        return [{"root": u.get("root_table_pa"), "name": u.get("name") if names else None,
                 "contexts": sorted((c["bdf"], tuple(c["raw"])) for c in u.get("contexts", [])
                                    if c.get("present", True)),
                 "mappings": sorted((m["bdf"], m.get("pasid"), tuple(
                     (r["iova"], r["iova_end"], r["pa"], int(r["r"]), int(r["w"]))
                     for r in m.get("ranges", []))) for m in u.get("mappings", []))}
                for u in st.get("units", [])]
    # the fallback's tables: root, contexts and every mapping as drgn has them
    try:
        a = project(vtd_state(vtd, vmlinux, lossy), False)
        b = project(o, False)
        diff = [k for k in ("root", "contexts", "mappings") if [x[k] for x in a] != [x[k] for x in b]]
        R.check("lossy-fallback-%s" % mode, not diff, "differs from drgn's full dump in %s" % diff,
                "%d contexts, %d mapping runs from the scan equal drgn's" % (
                    sum(len(u["contexts"]) for u in a), sum(len(m[2]) for u in a for m in u["mappings"])))
    except (RuntimeError, ValueError, KeyError) as e:
        R.fail("lossy-fallback-%s" % mode, str(e))
    # makedumpfile-vtd's dump: nothing lost
    rv = orc["vtd-kdump"][1]
    R.check("drgn-%s-vtd-kdump" % mode, rv is not None and strip_volatile(rv) == strip_volatile(o),
            "drgn on makedumpfile-vtd's dump: %s" % ("differs from the ELF dump" if rv else tail(orc["vtd-kdump"][2])))
    rc, out, err, _ = run([vtd, "-x", vmlinux, repaired, "units"], 300)
    R.check("repaired-%s" % mode, rc == 0 and "not in the dump" not in err and "dmar" in out,
            "exit %d: %s" % (rc, one_line(err)), one_line(out.splitlines()[-1] if out else "", 200))
    try:
        a = project(vtd_state(vtd, vmlinux, repaired))
        diff = [k for k in ("name", "root", "contexts", "mappings") if [x[k] for x in a] != [x[k] for x in project(o)]]
        R.check("repaired-vs-oracle-%s" % mode, not diff, "differs in %s" % diff,
                "%d contexts, %d mapping runs equal drgn's" % (
                    sum(len(u["contexts"]) for u in a), sum(len(m[2]) for u in a for m in u["mappings"])))
    except (RuntimeError, ValueError, KeyError) as e:
        R.fail("repaired-vs-oracle-%s" % mode, str(e))
    # every command works on it
    nirte = sum(len(u.get("irtes", [])) for u in o["units"])
    bad = []
    for w in (["units"], ["root"], ["context"], ["domains"], ["devices"], ["irte"], ["qi"], ["log"],
              ["faults"], ["marks"], ["check"]):
        rc, out, err, _ = run([vtd, "-x", vmlinux, "--json", repaired] + w, 300)
        if rc != 0 or "not in the dump" in err:
            bad.append("%s: exit %d %s" % (w[0], rc, one_line(err, 160)))
        elif w == ["check"]:
            c = json.loads(out)
            if c.get("problems_found") != 0 or c.get("irte_shadows_compared") != nirte:
                bad.append("check: %s problems, %s of %d IRTE shadows compared: %s" % (
                    c.get("problems_found"), c.get("irte_shadows_compared"), nirte,
                    [x.get("problem") for x in c.get("problems", [])][:2]))
    with open(repaired, "rb") as f:
        kept = b"kept-pages" in f.read()
    sl, sr = os.path.getsize(lossy), os.path.getsize(repaired)
    R.check("repaired-commands-%s" % mode, not bad and kept, "; ".join(bad[:3]) or "no kept-pages finding in the record",
            "11 commands clean, %d IRTE shadows compared; plain makedumpfile %d bytes, "
            "makedumpfile-vtd %d (+%d: pages added back and the marks record)" % (nirte, sl, sr, sr - sl))
    # the flattened stream makedumpfile-vtd passed on (-F -c -d 31): repaired
    # as it passed; makedumpfile -R reassembles it and drgn reads it as the
    # full dump
    flat = os.path.join(rdir, "vmcore-vtd.flat")
    rr = os.path.join(rdir, "vmcore-vtd-flat-R.kdump")
    if os.path.exists(rr):
        os.unlink(rr)
    rc, out, err, _ = run([vtd, "-x", vmlinux, flat, "units"], 300)
    p = [] if rc == 0 and "not in the dump" not in err else ["vtd units: exit %d %s" % (rc, one_line(err, 200))]
    try:
        a = project(vtd_state(vtd, vmlinux, flat))
        if a != project(o):
            p.append("vtd's tables differ from drgn's")
    except (RuntimeError, ValueError, KeyError) as e:
        p.append(str(e))
    with open(flat, "rb") as f:
        r = subprocess.run(["makedumpfile", "-R", rr], stdin=f, capture_output=True, timeout=300)
    if r.returncode:
        p.append("makedumpfile -R failed: %s" % one_line(r.stderr.decode(errors="replace")))
    else:
        orr = os.path.join(rdir, "oracle-vtd-flat-R.json")
        rc2, _, err2, _ = run_oracle(vmlinux, rr, orr)
        if rc2 != 0 or strip_volatile(json.load(open(orr))) != strip_volatile(o):
            p.append("drgn on the reassembled stream: %s" % (tail(err2) if rc2 else "differs from the ELF dump"))
    plain_flat = os.path.join(rdir, "vmcore.flat")
    R.check("repaired-flat-%s" % mode, not p, "; ".join(p[:3]),
            "stream repaired as it passed: vtd and drgn (after makedumpfile -R) see the full state; "
            "%d bytes against plain makedumpfile's %d" % (os.path.getsize(flat), os.path.getsize(plain_flat)))
    # makedumpfile itself reads the repaired file (its log, as from the plain one)
    outs = []
    for dump in (lossy, repaired):
        o2 = dump + ".dmesg"
        if os.path.exists(o2):
            os.unlink(o2)
        rc, _, err, _ = run(["makedumpfile", "--dump-dmesg", dump, o2], 300)
        outs.append(open(o2, "rb").read() if rc == 0 and os.path.exists(o2) else None)
    R.check("repaired-makedumpfile-reads-%s" % mode, outs[1] is not None and outs[0] == outs[1],
            "makedumpfile --dump-dmesg of the repaired dump failed or differs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdir", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("modes", nargs="*", default=["legacy", "scalable", "legacy-6.12"])
    args = ap.parse_args()
    R = Results()
    t0 = time.monotonic()

    ctx = {}
    for mode in args.modes:
        rdir = os.path.join(args.realdir, mode)
        try:
            with open(os.path.join(rdir, "run.json")) as f:
                runinfo = json.load(f)
        except (OSError, ValueError) as e:
            R.fail("run-%s" % mode, "no usable run.json in %s: %s" % (rdir, e))
            continue
        R.check("run-%s" % mode,
                runinfo.get("ok") and os.path.exists(os.path.join(rdir, ".complete")),
                "the guest run failed or is incomplete (%s; see %s/console.log)"
                % ("; ".join(runinfo.get("failures", [])[:3]) or
                   ("timed out" if runinfo.get("timed_out") else "no capture-done"), rdir))
        rel = runinfo["release"]
        vmlinux = os.path.join(args.realdir, "cache", "linux-" + rel, "vmlinux-" + rel)
        d = runinfo.get("durations_s", {})
        print("INFO %s run: %s" % (mode, ", ".join(
            "%s %.1fs" % (label, d[k]) for label, k in (
                ("boot", "boot_to_init"), ("panic->tables copied", "panic_to_tables_copied"),
                ("crash-to-dump", "panic_to_capture_done"), ("total", "total")) if k in d)),
            flush=True)
        if mode.endswith("-6.12"):
            # crash 8.0.2 cannot open 6.12: the lost-state checks, by the CLI and drgn
            check_dumps_exist(R, mode, rdir)
            check_lost_612(R, mode, rdir, vmlinux)
            check_worst(R, mode, rdir, vmlinux)
            continue
        ctx[mode] = {"rdir": rdir, "release": rel, "vmlinux": vmlinux,
                     "exists": check_dumps_exist(R, mode, rdir)}

    # drgn/oracle first (the crash checks compare with its root table), in parallel
    pool = concurrent.futures.ThreadPoolExecutor(max(1, args.jobs))
    futs = {}
    for mode, c in ctx.items():
        for kind in ("kdump", "elf"):
            futs[(mode, kind)] = pool.submit(run_oracle, c["vmlinux"],
                                             os.path.join(c["rdir"], DUMPS[kind][0]),
                                             os.path.join(c["rdir"], "oracle-%s.json" % kind))
    for mode, c in ctx.items():
        c["oracle"] = {}
        for kind in ("kdump", "elf"):
            rc, out, err, secs = futs[(mode, kind)].result()
            path = os.path.join(c["rdir"], "oracle-%s.json" % kind)
            o = None
            if rc == 0:
                try:
                    with open(path) as f:
                        o = json.load(f)
                except (OSError, ValueError):
                    o = None
            c["oracle"][kind] = o
            R.check("drgn-%s-%s" % (mode, kind), o is not None,
                    "oracle failed (status %d): %s" % (rc, tail(err)), "%.1fs" % secs)

    crash_futs = {}
    for mode, c in ctx.items():
        o = c["oracle"].get("kdump") or c["oracle"].get("elf")
        root_pa, root_raw = None, None
        if o and o["units"] and o["units"][0]["root_table_pa"]:
            u = o["units"][0]
            root_pa = int(u["root_table_pa"], 16)
            bus0 = [r for r in u["root_entries"] if r["bus"] == 0]
            root_raw = bus0[0]["raw"] if bus0 else ["0x%016x" % 0] * 2
        c["root"] = (root_pa, root_raw)
        cmdfile = os.path.join(c["rdir"], "crash-cmds.txt")
        with open(cmdfile, "w") as f:
            f.write("sys\nmod\n%sq\n" % ("rd -p -64 0x%x 4\n" % root_pa if root_pa is not None
                                        else ""))
        for kind in DUMPS:
            crash_futs[(mode, kind)] = pool.submit(
                run_crash, c["vmlinux"], os.path.join(c["rdir"], DUMPS[kind][0]), cmdfile)

    for mode, c in ctx.items():
        for kind in DUMPS:
            check_crash(R, mode, kind, crash_futs[(mode, kind)].result(), c["release"], *c["root"])
        ok, oe = c["oracle"].get("kdump"), c["oracle"].get("elf")
        if ok and oe:
            R.check("oracle-kdump-vs-elf-%s" % mode, strip_volatile(ok) == strip_volatile(oe),
                    "oracle output differs between vmcore.kdump and vmcore.elf")
        else:
            R.fail("oracle-kdump-vs-elf-%s" % mode, "an oracle run failed")
        o = ok or oe
        if o:
            check_oracle_sane(R, mode, o)
            check_kernel_view(R, mode, o)
        else:
            R.fail("oracle-sane-%s" % mode, "no oracle output")
        try:
            with open(os.path.join(c["rdir"], "ground-truth.json")) as f:
                gt = json.load(f)
        except (OSError, ValueError):
            gt = None
        check_ground_truth(R, mode, gt, c["release"], o)
        check_dma_mapped(R, mode, gt, o)
        check_takeover(R, mode, c["rdir"], c["vmlinux"], gt, o)
        check_restore(R, mode, c["rdir"], c["vmlinux"])
        compare_vtd_with_oracle(R, mode, c["rdir"], c["vmlinux"], o)
        compare_vtd_log(R, mode, c["rdir"], c["vmlinux"])
        check_no_vmlinux(R, mode, c["rdir"], c["vmlinux"])
        check_makedumpfile_vtd(R, mode, c["rdir"], c["vmlinux"], gt, o)
        check_makedumpfile_vtd_kills(R, mode, c["rdir"], c["vmlinux"])
        check_valgrind(R, mode, c["rdir"], c["vmlinux"])
        compare_crash_vtd(R, mode, c["rdir"], c["vmlinux"])
        check_worst(R, mode, c["rdir"], c["vmlinux"])
        if mode == "legacy":
            check_crash_lost(R, mode, c["rdir"], c["vmlinux"], o)
    pool.shutdown()
    # our BTF decoder (vtd without a vmlinux, crash> vtd) against libbpf on
    # the real kernels' BTF: every struct, union and member
    files = sorted({c["vmlinux"] for c in ctx.values()} | {
        os.path.join(args.realdir, "cache", d, "vmlinux-" + d[len("linux-"):])
        for d in os.listdir(os.path.join(args.realdir, "cache")) if d.startswith("linux-")})
    files = [f for f in files if os.path.exists(f)]
    tb = os.path.join(os.environ.get("VTD_BUILD", "build"), "tests", "test_btf")
    rc, out, err, _ = run([tb], 600, env={"VTD_BTF_FILES": ":".join(files)})
    R.check("btf-vs-libbpf", rc == 0 and "FAIL" not in out and all(f in out for f in files),
            "test_btf: %s" % tail(out + err), "; ".join(l[5:] for l in out.splitlines() if l.startswith("INFO")))
    print("INFO checks took %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (R.passed, R.failed))
    sys.exit(1 if R.failed else 0)


if __name__ == "__main__":
    main()
