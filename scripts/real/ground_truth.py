#!/usr/bin/python3
"""Ground truth of one real-kernel harness run: where did post-takeover DMA land?

    ground_truth.py RUNDIR

Reads RUNDIR/{run.json,console.log,packets.tsv,dmesg-capture.txt,vmcore.elf}
(written by run_guest.py and the guest) and writes RUNDIR/ground-truth.json.

Method (see docs/real-harness.md):
 * T_copied = host CLOCK_REALTIME at which the serial-console line
   "DMAR: Copied translation tables from previous kernel" of the capture
   kernel reached the host (run_guest.py timestamps every console line on
   arrival; the kernel prints it synchronously, so the line is printed no later
   than T_copied).
 * Every UDP packet carries its host send time (udp_sender.py).  A packet sent
   after T_copied reached the guest NIC after the takeover.
 * The ELF dump (makedumpfile -E, written after the other plain dumps) is
   scanned directly: every PT_LOAD's file data is searched for the payload magic;
   each hit with intact tail and CRC that also matches a line of packets.tsv is a
   landed packet at physical address p_paddr + (offset - p_offset).  The
   crashkernel reservation is not part of /proc/vmcore, so the capture kernel's
   own copies of packets cannot appear; the crashed kernel's CPUs were stopped,
   so a post-takeover packet found in the dump was written there by device DMA.
 * post_takeover_dma_pages = the 4 KiB pages holding the 64-byte payload of
   every packet sent after T_copied that was found.
"""
import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from udp_sender import MAGIC, SIZE, parse  # noqa: E402

NIC_NAMES = ["virtio-net", "e1000e"]	# order of run_guest.py's --port arguments
PAGE = 4096
CHUNK = 32 << 20


def elf_loads(path):
    """PT_LOAD segments of an ELF64 core: (p_offset, p_paddr, p_filesz)."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            raise ValueError("%s: not an ELF64 file" % path)
        phoff, = struct.unpack_from("<Q", eh, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    loads = []
    for i in range(phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", ph, i * phentsize)
        if p_type == 1 and p_filesz:
            loads.append((p_offset, p_paddr, p_filesz))
    return loads


def scan_elf(path):
    """Yield (paddr, payload dict) for every intact packet payload in the dump."""
    with open(path, "rb") as f:
        for off, paddr, size in elf_loads(path):
            pos = 0
            while pos < size:
                f.seek(off + pos)
                buf = f.read(min(CHUNK + SIZE, size - pos))
                i = buf.find(MAGIC)
                while i >= 0:
                    if i < CHUNK or pos + CHUNK >= size:
                        p = parse(buf, i)
                        if p:
                            yield paddr + pos + i, p
                    i = buf.find(MAGIC, i + 1)
                pos += CHUNK


def load_packets(path):
    sent = {}
    with open(path) as f:
        for line in f:
            seq, nic, port, ts = (int(x) for x in line.split())
            sent[seq] = (nic, port, ts)
    return sent


def console_lines(path):
    with open(path) as f:
        for line in f:
            ts, _, text = line.rstrip("\n").partition(" ")
            yield int(ts), text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ground_truth.py RUNDIR")
    run_dir = sys.argv[1]
    with open(os.path.join(run_dir, "run.json")) as f:
        run = json.load(f)
    times = run["times_ns"]
    t_copied = times.get("tables_copied")
    if t_copied is None:
        sys.exit("ground_truth: no 'Copied translation tables' line on the console of %s" % run_dir)

    crashkernel = None
    for _, text in console_lines(os.path.join(run_dir, "console.log")):
        m = re.search(r"VTDSCOPE: crashkernel:\s*([0-9a-f]+)-([0-9a-f]+)", text)
        if m:
            crashkernel = ["0x" + m.group(1), "0x%x" % (int(m.group(2), 16) + 1)]
    iommu_lines = []
    with open(os.path.join(run_dir, "dmesg-capture.txt"), errors="replace") as f:
        for line in f:
            if "DMAR" in line or "iommu" in line.lower():
                iommu_lines.append(line.rstrip("\n"))

    def first(sub):
        return next((ln for ln in iommu_lines if sub in ln), None)

    sent = load_packets(os.path.join(run_dir, "packets.tsv"))
    found, bad, seen = [], 0, set()
    for pa, p in scan_elf(os.path.join(run_dir, "vmcore.elf")):
        if pa in seen:	# PT_LOADs overlap: the kernel-image segment repeats RAM
            continue
        seen.add(pa)
        s = sent.get(p["seq"])
        if not s or s != (p["nic"], p["port"], p["ts_ns"]):
            bad += 1
            continue
        found.append((pa, p))
    post = [(pa, p) for pa, p in found if p["ts_ns"] > t_copied]
    panic = times.get("panic")
    between = [(pa, p) for pa, p in found if panic and panic < p["ts_ns"] <= t_copied]

    def pages(hits):
        res = set()
        for pa, _ in hits:
            res.add(pa & ~(PAGE - 1))
            res.add((pa + SIZE - 1) & ~(PAGE - 1))
        return ["0x%x" % x for x in sorted(res)]

    def nic_counts(hits):
        c = {}
        for _, p in hits:
            name = NIC_NAMES[p["nic"]] if p["nic"] < len(NIC_NAMES) else str(p["nic"])
            c[name] = c.get(name, 0) + 1
        return c

    gt = {
        "schema": "vtdscope-ground-truth/1",
        "release": run["release"],
        "mode": run["mode"],
        "kernel_cmdline": run["kernel_cmdline"],
        "crashkernel": crashkernel,
        "iommu_log": {
            "copied_translation_tables": first("Copied translation tables"),
            "copied_ir_table": first("Copied IR table"),
            "translation_already_enabled": first("Translation already enabled"),
            "capture_kernel_lines": iommu_lines,
        },
        "host_times_ns": {k: times.get(k) for k in (
            "crashing", "panic", "capture_boot", "ir_copied", "tables_copied",
            "capture_init", "kdump_written", "flat_written", "elf_written", "capture_done",
            "qemu_exit")},
        "method": "payload magic searched in vmcore.elf PT_LOADs; packet counts as post-takeover "
                  "when its host send time is later than the host arrival time of the capture "
                  "kernel's 'Copied translation tables' console line",
        "searched_dump": "vmcore.elf",
        "packets": {
            "sent": len(sent),
            "sent_after_panic": sum(1 for v in sent.values() if panic and v[2] > panic),
            "sent_after_tables_copied": sum(1 for v in sent.values() if v[2] > t_copied),
            "found": len(found),
            "found_unique_seq": len({p["seq"] for _, p in found}),
            "found_corrupt_or_unknown": bad,
            "found_after_panic_before_tables_copied": len(between),
            "found_after_tables_copied": len(post),
            "found_after_tables_copied_unique_seq": len({p["seq"] for _, p in post}),
            "found_after_tables_copied_by_nic": nic_counts(post),
            "last_found_after_tables_copied_s": round(
                max((p["ts_ns"] - t_copied for _, p in post), default=0) / 1e9, 3),
        },
        "post_takeover_dma": [
            {"pa": "0x%x" % pa, "page": "0x%x" % (pa & ~(PAGE - 1)),
             "nic": NIC_NAMES[p["nic"]] if p["nic"] < len(NIC_NAMES) else p["nic"],
             "seq": p["seq"], "sent_after_copied_s": round((p["ts_ns"] - t_copied) / 1e9, 3)}
            for pa, p in sorted(post)],
        "post_takeover_dma_pages": pages(post),
        "post_panic_pre_takeover_dma_pages": pages(between),
    }
    tmp = os.path.join(run_dir, "ground-truth.json.tmp")
    with open(tmp, "w") as f:
        json.dump(gt, f, indent=1)
    os.replace(tmp, os.path.join(run_dir, "ground-truth.json"))
    pk = gt["packets"]
    print("real: [%s] ground truth: %d packets sent (%d after takeover), %d found in vmcore.elf, "
          "%d after takeover on %d pages %s" % (
              run["mode"], pk["sent"], pk["sent_after_tables_copied"], pk["found"],
              pk["found_after_tables_copied"], len(gt["post_takeover_dma_pages"]),
              pk["found_after_tables_copied_by_nic"]), file=sys.stderr)


if __name__ == "__main__":
    main()
