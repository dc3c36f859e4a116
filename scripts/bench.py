#!/usr/bin/python3
"""make bench: performance figures, printed as a table and written to
docs/performance.md.

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


def main():
    rows = capture_rows()
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
        f.write("\nCapture overhead is the ratio of wall times (target ≤ 1.05, issue 8). "
                "makedumpfile-vtd's own work is O(tables + watched pages): reading the kernel's "
                "BTF (≈5 MB) and kallsyms (≈150k symbols) from the dump, locating the IOMMU "
                "state, walking the tables, and reading the watched pages twice; makedumpfile's "
                "is O(RAM).  On these 1 GiB guests makedumpfile itself takes ≈0.1 s on the host, so "
                "the fixed cost of the analysis shows as a ratio above the target; it falls "
                "toward 1 as RAM grows.\n")
    print("written to %s" % OUT)


if __name__ == "__main__":
    main()
