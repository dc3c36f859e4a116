#!/usr/bin/python3
"""End-to-end: the vtd CLI on every generated scenario dump (with the mock
crashed kernel's vmlinux) against the scenario's expected answers
(build/gen/NAME.expect, written by vtd-gen from the scenario, never from our
walkers).  Formats: flattened (our reader) and kdump-zstd (libkdumpfile);
translations on the flattened dump.  Prints PASS/FAIL lines."""
import glob
import json
import os
import subprocess
import sys

GEN = os.environ.get("VTD_GEN", "build/gen")
BUILD = os.environ.get("VTD_BUILD", "build")
VTD = os.path.join(BUILD, "vtd")
VMLINUX = os.path.join(BUILD, "mock-vmlinux")
XT = {"sl": "second-level", "fl": "first-level", "nested": "nested", "pt": "pass-through"}
failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems[:3])))
    else:
        print("PASS %s" % name)


def vtd(dump, *words):
    p = subprocess.run([VTD, "-x", VMLINUX, "--json", dump] + list(words),
                       capture_output=True, text=True, timeout=120)
    if p.returncode not in (0, 1):
        raise RuntimeError("vtd %s: exit %d: %s" % (" ".join(words), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout) if p.stdout.strip() else {}


def parse(path):
    e = {"unit": [], "ctx": [], "map": [], "xlate": [], "diag": [], "irte": [], "rmap": [], "qi": []}
    for line in open(path):
        w = line.split()
        if not w or w[0] not in e:
            continue
        kv = {k: v for k, _, v in (x.partition("=") for x in w[1:] if "=" in x)}
        kv["_pos"] = [x for x in w[1:] if "=" not in x]
        e[w[0]].append(kv)
    return e


def h(x):
    return int(x, 16) if isinstance(x, str) and x.startswith("0x") else int(x)


def pasid_args(p):
    return [] if p in ("-", None) else ["--pasid", str(p)]


def check_scenario(expect):
    name = os.path.basename(expect)[:-len(".expect")]
    e = parse(expect)
    seg = {u["_pos"][0]: int(u["segment"]) for u in e["unit"]}
    for fmt in ("flat", "kdump-zstd"):
        dump = os.path.join(GEN, "%s.%s" % (name, fmt))
        tag = "%s/cli %%s [%s]" % (name, fmt)
        try:
            units = vtd(dump, "units")["units"]
            probs = []
            want = [(u["_pos"][0], int(u["segment"]), h(u["cap"]), h(u["ecap"]),
                     h(u["rtaddr"]) & ~0xfff, "scalable" if h(u["rtaddr"]) & 0x400 else "legacy")
                    for u in e["unit"]]
            got = [(u["unit"], u["segment"], h(u["cap"]), h(u["ecap"]), h(u["root"]), u["mode"])
                   for u in units]
            if got != want:
                probs.append("units %s != %s" % (got, want))
            report(tag % "units", probs)

            rows = [r for r in vtd(dump, "context").get("contexts", []) if "bdf" in r]
            got = sorted((r["unit"], r["bdf"], r["pasid"], r["xlate"], r["did"],
                          h(r.get("sl_root", "0x0")), r.get("sl_levels", 0),
                          h(r.get("fl_root", "0x0")), r.get("fl_levels", 0)) for r in rows)
            want = sorted((c["_pos"][0], "%04x:%s" % (seg[c["_pos"][0]], c["_pos"][1]),
                           None if c["pasid"] == "-" else int(c["pasid"]), XT[c["xtype"]], int(c["did"]),
                           h(c["sl-root"]), int(c["sl-levels"]), h(c["fl-root"]), int(c["fl-levels"]))
                          for c in e["ctx"])
            report(tag % "context", [] if got == want else ["got %s want %s" % (got, want)])

            probs = []
            for c in e["ctx"]:
                u, bdf, p = c["_pos"][0], c["_pos"][1], c["pasid"]
                runs = vtd(dump, "map", "%04x:%s" % (seg[u], bdf), "--unit", u, *pasid_args(p))
                got = [(h(r["iova"]), h(r["size"]), h(r["pa"]), r["perm"].replace("-", ""))
                       for r in runs.get("mappings", []) if "iova" in r]
                want = [(h(m["iova"]), h(m["size"]), h(m["pa"]), m["perm"]) for m in e["map"]
                        if m["_pos"][0] == u and m["_pos"][1] == bdf and m["pasid"] == p]
                if c["xtype"] == "pt":        # the identity run spans the unit's HAW
                    got = [g[:1] + g[2:] for g in got]
                    want = [w[:1] + w[2:] for w in want]
                if got != want:
                    probs.append("%s %s pasid %s: %d runs, want %d" % (u, bdf, p, len(got), len(want)))
            report(tag % "map", probs)

            res = vtd(dump, "check")
            n = len([r for r in res.get("problems", []) if "problem" in r])
            probs = [] if n == len(e["diag"]) else ["%d problems, want %d diagnostics" % (n, len(e["diag"]))]
            # the mock kernel keeps a shadow per expected IRTE; posted ones are not compared
            nsh = min(60, len(e["irte"]))
            nremap = len([i for i in e["irte"][:60] if i["posted"] == "0"])
            if (res.get("irte_shadows"), res.get("irte_shadows_compared")) != (nsh, nremap):
                probs.append("IRTE shadows %s/%s compared, want %d/%d" % (
                    res.get("irte_shadows"), res.get("irte_shadows_compared"), nsh, nremap))
            report(tag % "check", probs)

            if e["irte"]:
                got = {(r["unit"], r["index"], h(r["raw"][0]), h(r["raw"][1]))
                       for r in vtd(dump, "irte").get("irtes", []) if "index" in r}
                want = {(i["_pos"][0], int(i["index"]), h(i["low"]), h(i["high"])) for i in e["irte"]}
                report(tag % "irte", [] if want <= got else ["missing %s" % sorted(want - got)[:3]])

            # --root: no kernel structures, just the first unit's root table
            if e["unit"]:
                u0 = e["unit"][0]
                rt = h(u0["rtaddr"])
                p = subprocess.run([VTD, "--json", "--root", hex(rt & ~0xfff), "--mode",
                                    "scalable" if rt & 0x400 else "legacy", "--cap", u0["cap"],
                                    "--ecap", u0["ecap"], dump, "context"],
                                   capture_output=True, text=True, timeout=120)
                got = sorted((r["bdf"][5:], r["pasid"], r["did"], r["xlate"])
                             for r in json.loads(p.stdout or "{}").get("contexts", []) if "bdf" in r)
                want = sorted((c["_pos"][1], None if c["pasid"] == "-" else int(c["pasid"]), int(c["did"]),
                               XT[c["xtype"]]) for c in e["ctx"] if c["_pos"][0] == u0["_pos"][0])
                report(tag % "--root context", [] if got == want else ["got %s want %s" % (got, want)])

            # who: the reverse map of each question the scenario asks
            probs = []
            for q in sorted({r["_pos"][0] for r in e["rmap"]}):
                pa, ln = q.split("+")
                got = sorted((r["unit"], r["bdf"], r["pasid"], h(r["iova"]), h(r["pa"]), h(r["size"]),
                              r["perm"].replace("-", "")) for r in
                             vtd(dump, "who", pa, ln).get("reached_by", []) if "bdf" in r)
                want = sorted((r["_pos"][1], "%04x:%s" % (seg[r["_pos"][1]], r["_pos"][2]),
                               None if r["pasid"] == "-" else int(r["pasid"]), h(r["iova"]), h(r["pa"]),
                               h(r["size"]), r["perm"]) for r in e["rmap"]
                              if r["_pos"][0] == q and r["_pos"][1] != "none")
                if got != want:
                    probs.append("who %s: %s, want %s" % (q, got, want))
            report(tag % "who", probs)

            # qi: the kernel's ring (located through the mock's q_inval)
            if e["qi"]:
                got = {(r["unit"], r["index"], r["status"]) for r in vtd(dump, "qi").get("qi_slots", [])
                       if "index" in r}
                want = {(q["_pos"][0], int(q["index"]), int(q["status"]) if "status" in q else None)
                        for q in e["qi"]}
                report(tag % "qi", [] if want <= got else ["missing %s" % sorted(want - got)[:3]])

            # devices and domains: one device per RID_PASID/legacy context
            devs = [r for r in vtd(dump, "devices").get("devices", []) if "bdf" in r]
            nctx = len([c for c in e["ctx"] if c["pasid"] in ("-", "0")])
            doms = vtd(dump, "domains").get("domains", [])
            report(tag % "devices+domains", [] if len(devs) == nctx and
                   all(d["domain"] in {x["domain"] for x in doms} for d in devs) else
                   ["%d devices for %d contexts" % (len(devs), nctx)])

            # every command in text mode too: crash-style columns, no crash
            probs = []
            bdf0 = "%04x:%s" % (seg[e["ctx"][0]["_pos"][0]], e["ctx"][0]["_pos"][1]) if e["ctx"] else None
            for words in (["units"], ["root"], ["context"], ["domains"], ["devices"], ["irte"],
                          ["qi"], ["check"], ["log"], ["faults"], ["who", "0x1000"]) + (
                          (["map", bdf0], ["pasid", bdf0] if e["unit"] and "scalable" in
                           [("scalable" if h(u["rtaddr"]) & 0x400 else "legacy") for u in e["unit"]
                            if u["_pos"][0] == e["ctx"][0]["_pos"][0]] else ["context", bdf0],
                           ["translate", bdf0, "0x1000"]) if bdf0 else ()):
                p = subprocess.run([VTD, "-x", VMLINUX, dump] + words, capture_output=True,
                                   text=True, timeout=120)
                if p.returncode not in (0, 1) or (p.returncode == 0 and words[0] not in
                                                  ("irte", "qi", "faults") and not p.stdout.strip()):
                    probs.append("%s: exit %d %s" % (" ".join(words), p.returncode, p.stderr.strip()[:200]))
            report(tag % "text mode", probs)

            # the mock kernel logs up to four of the first unit's expected faults
            res = vtd(dump, "faults")
            rows = res.get("faults", [])
            first = e["unit"][0]["_pos"][0] if e["unit"] else None
            nwant = min(4, len([x for x in e["xlate"] if "fault" in x and x["_pos"][0] == first]))
            # a line names no unit: with several units and no context for the
            # device, vtd must say it cannot tell rather than pick one
            probs = ["%s %s: logged %s, now %s" % (r["bdf"], r.get("addr"), r["logged"], r.get("now"))
                     for r in rows if r.get("now") != r["logged"] and not (
                         r.get("now") is None and len(e["unit"]) > 1 and
                         "units disagree" in r.get("explained", ""))]
            if len(rows) != nwant:
                probs.append("%d fault lines, want %d" % (len(rows), nwant))
            report(tag % "faults", probs)

            if fmt != "flat":
                continue
            probs = []
            for x in e["xlate"]:
                u, bdf = x["_pos"][0], x["_pos"][1]
                args = ["translate", "%04x:%s" % (seg[u], bdf), x["iova"], "--unit", u]
                args += pasid_args(x["pasid"]) + (["--write"] if x["access"] == "w" else [])
                r = vtd(dump, *args)
                if "fault" in x:
                    if h(r.get("fault", "0x0")) != h(x["fault"]):
                        probs.append("%s %s: fault %s, want %s" % (bdf, x["iova"], r.get("fault"), x["fault"]))
                elif "fault" in r or h(r["pa"]) != h(x["pa"]) or h(r["page"]) != h(x["ps"]):
                    probs.append("%s %s: %s, want pa %s" % (bdf, x["iova"], r.get("pa", r.get("fault")), x["pa"]))
            report(tag % ("translate x%d" % len(e["xlate"])), probs)
        except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as err:
            report(tag % "run", ["%s: %s" % (type(err).__name__, err)])


def main():
    files = sorted(glob.glob(os.path.join(GEN, "*.expect")))
    if len(files) < 10:
        report("cli-scenarios", ["only %d .expect files in %s" % (len(files), GEN)])
    for f in files:
        check_scenario(f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
