#!/usr/bin/python3
"""make bench: performance figures, printed as a table and written to
docs/performance.md.

crash> vtd map: bench/crash_map.py gives a device of the real tier's 6.1
dump a 1 Mi-page table and times the command in crash.

Walk: bench/walk-1m.scn (1 Mi 4 KiB leaves and 512 2 MiB ones in one
device's domain): leaf PTEs decoded per second by vtd_map_walk over the
in-memory image (bench_walk), and `vtd map` on its kdump file against a drgn
script producing the same mapping list from the same file (bench/
drgn_walk.py: whole-page reads, and per-entry reads as an object-API script
would do).  Scan: `vtd DUMP scan` on the real dumps, GB/s of dump pages
read.  Memory: peak RSS of `vtd DUMP check` on bench/sparse-1t.scn (1 TiB
of RAM, almost none of it in the dump) against bench/sparse-1g.scn.

Capture overhead (makedumpfile-vtd / makedumpfile, design.md §7): on the
real-kernel tier's dumps (build/real/MODE/vmcore.elf standing in for
/proc/vmcore), the same makedumpfile options run side by side, alternating,
RUNS times each; the median wall times and their ratio.  Also the guest's
own figures from the last real run (capture-times.txt: makedumpfile-vtd and
plain makedumpfile on the same /proc/vmcore, under TCG)."""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("O", "build")
REAL = os.environ.get("REALDIR", os.path.join(BUILD, "real"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
MDV = os.path.join(BUILD, "makedumpfile-vtd")
OUT = os.environ.get("BENCH_DOC", "docs/performance.md")


def timed(cmd, stdout=None):
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.monotonic() - t, p.returncode, p.stderr.decode(errors="replace")


def crash_map_rows():
    """crash> vtd map over 1 Mi mappings: the real tier's 6.1 dump with a
    device given a 1 Mi-page table (bench/crash_map.py)."""
    rel = sorted(d for d in os.listdir(os.path.join(REAL, "cache")) if d.startswith("linux-6.1.0-")) \
        if os.path.isdir(os.path.join(REAL, "cache")) else []
    dump = os.path.join(REAL, "legacy", "vmcore.kdump")
    if not rel or not os.path.exists(dump):
        return [("crash> vtd map, 1 Mi mappings", "n/a", "no real 6.1 dump: make real-dumps")]
    r = rel[-1][len("linux-"):]
    vmlinux = os.path.join(REAL, "cache", "linux-" + r, "vmlinux-" + r)
    p = subprocess.run(["/usr/bin/python3", "bench/crash_map.py", dump, vmlinux,
                        os.path.abspath(os.path.join(BUILD, "vtd.so")), str(min(RUNS, 3))],
                       capture_output=True, text=True)
    if p.returncode:
        return [("crash> vtd map, 1 Mi mappings", "n/a", p.stderr.strip()[-200:])]
    n, cold, warm, cli = p.stdout.split()
    return [("crash> vtd map, 1 Mi mappings", "%.2fs" % float(cold),
             "%s mappings (each its own run) on the real %s dump, output to a file; the first vtd "
             "command of the session (reads the kernel's BTF, locates the state); again in the same "
             "session %.2fs; the CLI (process start to exit) %.2fs; target < 2 s" % (n, r, float(warm), float(cli)))]


def capture_rows():
    rows = []
    tmp = tempfile.mkdtemp()
    for mode in ("legacy", "scalable"):
        vmcore = os.path.join(REAL, mode, "vmcore.elf")
        if not os.path.exists(vmcore):
            rows.append(("capture overhead, %s" % mode, "n/a", "no %s: make real-dumps" % vmcore))
            continue
        for label, opts in (("-l -d 31 (file)", ["-l", "-d", "31"]), ("-F -c -d 31 (stream)", ["-F", "-c", "-d", "31"])):
            plain, vtd, early = [], [], []
            for i in range(RUNS):
                for who in ("plain", "vtd"):
                    out = os.path.join(tmp, "o")
                    if os.path.exists(out):
                        os.unlink(out)
                    cmd = (["makedumpfile"] if who == "plain" else [MDV]) + opts + [vmcore]
                    if "-F" in opts:
                        with open(out, "wb") as f:
                            secs, rc, err = timed(cmd, stdout=f)
                    else:
                        secs, rc, err = timed(cmd + [out])
                    if rc != 0:
                        sys.exit("bench: %s failed: %s" % (" ".join(cmd), err[-300:]))
                    (plain if who == "plain" else vtd).append(secs)
                    m = re.search(r"early snapshot: .*\((\d+\.\d+)s\)", err)
                    if m:
                        early.append(float(m.group(1)))
            p, v = statistics.median(plain), statistics.median(vtd)
            rows.append(("capture overhead, %s %s" % (mode, label), "%.2f" % (v / p),
                         "makedumpfile %.3fs, makedumpfile-vtd %.3fs (early snapshot %.3fs), "
                         "median of %d, host" % (p, v, statistics.median(early) if early else 0, RUNS)))
        times = {}
        try:
            for line in open(os.path.join(REAL, mode, "capture-times.txt")):
                w = line.split()
                if len(w) == 3:
                    times[w[0]] = float(w[2]) - float(w[1])
        except OSError:
            pass
        for v, p, label in (("vtd-kdump", "kdump-again", "-l -d 31"), ("vtd-flat", "flat", "-F -c -d 31")):
            if v in times and p in times:
                rows.append(("capture overhead, %s %s, in the guest" % (mode, label),
                             "%.2f" % (times[v] / times[p]),
                             "makedumpfile %.2fs, makedumpfile-vtd %.2fs; one run each, QEMU TCG, "
                             "capture kernel" % (times[p], times[v])))
    return rows


def rss_and_time(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    last = p.stderr.strip().splitlines()[-1].split()
    return int(last[0]), float(last[1]), p.returncode


def synthetic_rows():
    rows = []
    gen = tempfile.mkdtemp()
    mock = os.path.join(BUILD, "mock-vmlinux")
    subprocess.run([os.path.join(BUILD, "vtd-gen"), "-k", mock, "-o", gen, "bench/walk-1m.scn",
                    "bench/sparse-1t.scn", "bench/sparse-1g.scn"], check=True)
    out = subprocess.run([os.path.join(BUILD, "bench_walk"), "bench/walk-1m.scn", "3b:00.0", "20"],
                         capture_output=True, text=True, check=True).stdout.split()
    leaves, secs = int(out[0]), float(out[1])
    rows.append(("walk: leaf PTEs decoded per second (in memory)", "%.0fM/s" % (leaves / secs / 1e6),
                 "%d leaves (1 Mi 4 KiB + 512 2 MiB) in %.1f ms; target >= 50M/s" % (leaves, secs * 1e3)))
    dump = os.path.join(gen, "walk-1m.kdump")
    vt = []
    for _ in range(RUNS):
        secs, rc, err = timed([os.path.join(BUILD, "vtd"), "-x", mock, dump, "map", "3b:00.0"])
        vt.append(secs)
    v = statistics.median(vt)
    for mode, extra in (("whole-page reads", []), ("per-entry reads", ["per-entry"])):
        p = subprocess.run(["/usr/bin/python3", "bench/drgn_walk.py", dump, "0x1000000", "0x3b", "0"] + extra,
                           capture_output=True, text=True)
        if p.returncode:
            rows.append(("walk: drgn script / vtd map, %s" % mode, "n/a", p.stderr.strip()[-200:]))
            continue
        n, d = p.stdout.split()
        rows.append(("walk: drgn script / vtd map, %s" % mode, "%.0fx" % (float(d) / v),
                     "drgn %.3fs for %s leaves (walk only), vtd map %.3fs (open, locate, walk, print); "
                     "target >= 100x" % (float(d), n, v)))
    rows += crash_map_rows()
    r1, t1, _ = rss_and_time([os.path.join(BUILD, "vtd"), "-x", mock, os.path.join(gen, "sparse-1g.kdump"), "check"])
    r2, t2, _ = rss_and_time([os.path.join(BUILD, "vtd"), "-x", mock, os.path.join(gen, "sparse-1t.kdump"), "check"])
    rows.append(("memory: peak RSS, 1 TiB sparse / 1 GiB", "%.2f" % (r2 / r1),
                 "vtd check: %d KB (1 TiB, %.2fs) vs %d KB (1 GiB, %.2fs); target <= 1.10" % (r2, t2, r1, t1)))
    return rows


def scan_rows():
    rows = []
    for mode in ("legacy", "scalable"):
        for kind in ("kdump", "elf"):
            dump = os.path.join(REAL, mode, "vmcore." + kind)
            if not os.path.exists(dump):
                continue
            t = time.monotonic()
            p = subprocess.run([os.path.join(BUILD, "vtd"), "--json", dump, "scan", "1"],
                               capture_output=True, text=True)
            secs = time.monotonic() - t
            if p.returncode:
                continue
            import json
            n = json.loads(p.stdout)["pages_read"]
            rows.append(("scan: %s vmcore.%s" % (mode, kind), "%.2f GB/s" % (n * 4096 / secs / 1e9),
                         "%d pages read in %.2fs (whole command)" % (n, secs)))
    return rows


def main():
    rows = synthetic_rows() + scan_rows() + capture_rows()
    w = max(len(r[0]) for r in rows)
    print("%-*s  %-6s  %s" % (w, "BENCHMARK", "RESULT", "DETAIL"))
    for r in rows:
        print("%-*s  %-6s  %s" % (w, r[0], r[1], r[2]))
    with open(OUT, "w") as f:
        f.write("# Performance\n\nWritten by `make bench` (scripts/bench.py) on %s; the machine: %s.\n\n"
                % (time.strftime("%Y-%m-%d"), os.uname().machine + ", %d CPUs" % os.cpu_count()))
        f.write("| benchmark | result | detail |\n|---|---|---|\n")
        for r in rows:
            f.write("| %s | %s | %s |\n" % r)
        f.write("""
## Targets

- **Walk, ≥ 50 M leaf PTEs/s in memory**: met.  Every leaf used to reset the
  walk's error location (a memset and an snprintf) and run the field-by-field
  reserved-bit check; the location is now set only on a problem and a
  per-format mask of always-clean bits skips the check for clean entries.
- **drgn script / vtd, ≥ 100×**: not met (≈ 20–25×).  `vtd map` does the
  whole job (open the dump, read the kernel's information, locate the unit,
  walk 2048 table pages, print) in ≈ 15–20 ms; a drgn script that reads
  whole table pages and unpacks them with `struct` needs ≈ 0.3 s, one that
  reads every entry ≈ 0.35 s.  Both scripts here are tight loops; a script
  going through drgn's object API (`Object` per PTE, member access) would be
  several times slower and would pass the target.  What would make the
  ratio reach 100× against these scripts: nothing on our side (the walk is
  8 ms of the 15–20 ms; the rest is process start and dump open).
- **crash> vtd map of 1 Mi mappings, < 2 s**: met.  crash needs a real
  kernel, so bench/crash_map.py gives a device of the real tier's 6.1 dump a
  1 Mi-page table (in page frames the dump had left out) and times the
  command inside crash.  It took 19 s at first: ~70 layout questions to gdb
  at ~70 ms each (now answered from the kernel's own BTF, read once per
  session, gdb the fallback), every cell of 1 Mi rows kept in memory before
  printing (text tables now stream past 4096 rows), and crash's unbuffered
  fp (one write per cell; the command now writes through a buffered stream
  on the same file).
- **Peak RSS, 1 TiB sparse vs 1 GiB, within 10 %**: met (the kdump reader
  keeps the page bitmap in the file).
- **Capture overhead (makedumpfile-vtd / makedumpfile), ≤ 1.05**: met for the
  flattened stream (Debian's `-F -c`), not for the lzo-compressed `-l`
  file on these 1 GiB guests (≈ 1.3 in the guest, ≈ 1.45 on the host).
  makedumpfile-vtd's own work is O(tables + watched pages): reading the
  kernel's BTF (≈ 5 MB) and kallsyms (≈ 150 k symbols) out of the dump,
  locating the IOMMU state, walking the tables and reading the ≈ 4.5 k
  watched pages twice — ≈ 50–70 ms on the host, ≈ 0.7 s under TCG —
  while makedumpfile's is O(RAM): 0.14 s on the host for a 1 GiB guest.  On
  a machine with tens of GiB makedumpfile takes seconds to minutes and the
  ratio falls toward 1; on these guests, only doing less (lazily decoding
  kallsyms, a smaller BTF parse) would reach 1.05.  A large sparse
  synthetic input for the ratio is not possible with the real makedumpfile:
  it needs a real kernel's memory-management metadata to filter.
""")
    print("written to %s" % OUT)


if __name__ == "__main__":
    main()
