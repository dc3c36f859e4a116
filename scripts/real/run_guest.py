#!/usr/bin/python3
"""One real-kernel harness cycle: boot, DMA load, crash, kdump capture, collect.

    run_guest.py --mode legacy|scalable --kdir CACHE/linux-REL --release REL
                 --initramfs DIR --out DIR [--timeout 300] [--mem 1024]
                 [--crashkernel 256M] [--smp 2] [--rate 20] [--append ...]

Boots Debian's kernel under QEMU/TCG (q35, intel-iommu in legacy or scalable
mode; virtio-blk + virtio-net with iommu_platform=on and an e1000e behind it),
drives UDP traffic into the guest from udp_sender.py over loopback-only
hostfwd port forwards, lets the guest crash into its kexec'd capture kernel,
and afterwards copies what the capture kernel wrote onto the ext4 dump disk
(read on the host with debugfs; nothing is mounted) into --out:

  vmcore.kdump vmcore.flat vmcore.elf   makedumpfile -l / -F -c / -E, all -d 31
  dmesg-capture.txt dmesg-crashed.txt   capture kernel's log, crashed kernel's log
  capture-times.txt makedumpfile-*.log  guest-side timings and tool output
  console.log     every serial-console line as "<host time_ns> <text>"
  packets.tsv     every UDP packet sent: seq, nic, port, host time_ns
  qemu-stderr.log, run.json (command lines, timings, result)

Exit status 0 only if the capture kernel reported completion and all three
dumps arrived.  Every QEMU run has a hard timeout (--timeout, plus coreutils
timeout(1) as a backstop).
"""
import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
DUMPS = ("vmcore.kdump", "vmcore.flat", "vmcore.elf")
GUEST_PORTS = (5555, 5556)
MACS = ("52:54:00:56:74:01", "52:54:00:56:74:02")	# virtio-net, e1000e (init.sh knows them)

# console markers -> timing keys (first match after the previous key's time wins)
MARKERS = [
    ("first_init", re.compile(r"VTDSCOPE: first kernel")),
    ("capture_loaded", re.compile(r"VTDSCOPE: capture kernel loaded")),
    ("net_up", re.compile(r"VTDSCOPE: net-up")),
    ("crashing", re.compile(r"VTDSCOPE: crashing")),
    ("panic", re.compile(r"Kernel panic - not syncing")),
    ("capture_boot", re.compile(r"Linux version")),
    ("ir_copied", re.compile(r"DMAR-IR: Copied IR table")),
    ("tables_copied", re.compile(r"DMAR: Copied translation tables")),
    ("capture_init", re.compile(r"VTDSCOPE: capture kernel")),
    ("kdump_written", re.compile(r"VTDSCOPE: vmcore\.kdump written")),
    ("flat_written", re.compile(r"VTDSCOPE: vmcore\.flat written")),
    ("elf_written", re.compile(r"VTDSCOPE: vmcore\.elf written")),
    ("capture_done", re.compile(r"VTDSCOPE: capture-done")),
]


def free_udp_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def make_disk(path, size="1G"):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["truncate", "-s", size, path], check=True)
    # no journal, no metadata checksums: nothing to replay, fewer modules needed
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "vtddump", "-O", "^has_journal,^metadata_csum",
                    path], check=True)


def extract_disk(disk, out):
    """Copy every regular file in the ext4 image's root directory to out/ (debugfs, no mount)."""
    ls = subprocess.run(["debugfs", "-R", "ls -p /", disk], capture_output=True, text=True)
    names = []
    for line in ls.stdout.splitlines():
        f = line.strip().strip("/").split("/")	# /ino/mode/uid/gid/name/size/
        if len(f) >= 5 and f[1].startswith("100") and f[4]:
            names.append(f[4])
    if not names:
        return []
    cmds = os.path.join(out, ".debugfs-cmds")
    with open(cmds, "w") as c:
        for n in names:
            c.write('dump -p "/%s" "%s"\n' % (n, os.path.join(out, n)))
    subprocess.run(["debugfs", "-f", cmds, disk], capture_output=True)
    os.unlink(cmds)
    return names


def qemu_command(args, disk, hostports):
    scalable = args.mode == "scalable"
    iommu = "intel-iommu,intremap=on" + (",x-scalable-mode=on,aw-bits=48" if scalable else "")
    append = " ".join(filter(None, [
        "console=ttyS0", "quiet",
        "intel_iommu=on,sm_on" if scalable else "intel_iommu=on",
        "crashkernel=" + args.crashkernel, "panic=1",
        "vtd.ports=%d,%d" % GUEST_PORTS, args.append]))
    nets = []
    for i, (hp, gp) in enumerate(zip(hostports, GUEST_PORTS)):
        nets += ["-netdev", "user,id=n%d,restrict=on,net=10.0.%d.0/24,"
                 "hostfwd=udp:127.0.0.1:%d-10.0.%d.15:%d" % (i, 2 + i, hp, 2 + i, gp)]
    return [
        "qemu-system-x86_64", "-name", "vtdscope-" + args.mode,
        "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", str(args.smp), "-m", str(args.mem),
        "-machine", "q35,kernel-irqchip=split", "-device", iommu,
        "-nodefaults", "-display", "none", "-vga", "none", "-serial", "stdio", "-monitor", "none",
        "-no-reboot",
        "-kernel", os.path.join(args.kdir, "vmlinuz-" + args.release),
        "-initrd", os.path.join(args.initramfs, "initrd-first.img"),
        "-append", append,
        "-drive", "file=%s,if=none,id=d0,format=raw,cache=unsafe" % disk,
        "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=0x5",
        *nets,
        "-device", "virtio-net-pci,netdev=n0,mac=%s,iommu_platform=on,disable-legacy=on,addr=0x3"
        % MACS[0],
        "-device", "e1000e,netdev=n1,mac=%s,addr=0x4" % MACS[1],
        "-device", "vmcoreinfo",
    ] + (["-qmp", "unix:%s,server=on,wait=off" % args.qmp] if args.qmp else []), append


class Run:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.t0 = time.time_ns()
        self.times = {}
        self.failures = []
        self.sender = None
        self.tag = "real: [%s]" % args.mode

    def say(self, msg):
        print("%s +%5.1fs %s" % (self.tag, (time.time_ns() - self.t0) / 1e9, msg),
              file=sys.stderr, flush=True)

    def on_line(self, ts, line):
        for key, rx in MARKERS:
            if key not in self.times and rx.search(line):
                if key == "capture_boot" and "panic" not in self.times:
                    continue	# the first kernel's banner (only shown without "quiet")
                self.times[key] = ts
                self.say(line.strip()[:150])
                if key == "net_up":
                    self.start_sender()
                break
        else:
            if line.startswith("VTDSCOPE:") and "first-dmesg" not in line:
                self.say(line.strip()[:150])
        if "VTDSCOPE: FAIL" in line or ("Kernel panic" in line and "capture_boot" in self.times):
            self.failures.append(line.strip())

    def start_sender(self):
        self.stop_file = os.path.join(self.out, ".sender-stop")
        cmd = [PY, os.path.join(HERE, "udp_sender.py"), "--log",
               os.path.join(self.out, "packets.tsv"), "--rate", str(self.args.rate),
               "--max-seconds", str(self.args.timeout), "--stop-file", self.stop_file]
        for p in self.hostports:
            cmd += ["--port", str(p)]
        self.sender = subprocess.Popen(cmd)
        self.say("udp sender started (127.0.0.1 ports %s, %g pkt/s each)"
                 % (",".join(map(str, self.hostports)), self.args.rate))

    def stop_sender(self):
        if not self.sender:
            return
        open(self.stop_file, "w").close()
        try:
            self.sender.wait(5)
        except subprocess.TimeoutExpired:
            self.sender.terminate()
            try:
                self.sender.wait(5)
            except subprocess.TimeoutExpired:
                self.sender.kill()
                self.sender.wait()
        os.unlink(self.stop_file)

    def run(self):
        a = self.args
        os.makedirs(self.out, exist_ok=True)
        for f in os.listdir(self.out):	# a fresh run replaces everything
            p = os.path.join(self.out, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
        disk = os.path.join(self.out, "disk.img")
        make_disk(disk)
        self.hostports = free_udp_ports(2)
        cmd, append = qemu_command(a, disk, self.hostports)
        with open(os.path.join(self.out, "qemu-cmdline.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self.say("starting QEMU (TCG, %s mode, %d MiB, crashkernel=%s, timeout %ds)"
                 % (a.mode, a.mem, a.crashkernel, a.timeout))
        full = ["timeout", "--kill-after=10", str(a.timeout + 30)] + cmd
        stderr = open(os.path.join(self.out, "qemu-stderr.log"), "wb")
        self.t0 = time.time_ns()
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, start_new_session=True)
        deadline = time.monotonic() + a.timeout
        console = open(os.path.join(self.out, "console.log"), "w")
        pending = b""
        timed_out = False
        fd = proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            r, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not r:
                continue
            chunk = os.read(fd, 65536)
            ts = time.time_ns()
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").replace("\r", "")
                console.write("%d %s\n" % (ts, line))
                self.on_line(ts, line)
            console.flush()
        if pending:
            console.write("%d %s\n" % (time.time_ns(), pending.decode("utf-8", "replace")))
        console.close()
        if timed_out:
            self.say("TIMEOUT after %ds: killing QEMU" % a.timeout)
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
        stderr.close()
        self.times["qemu_exit"] = time.time_ns()
        self.stop_sender()
        self.say("QEMU exited (status %d)" % rc)

        names = extract_disk(disk, self.out)
        missing = [d for d in DUMPS if not os.path.getsize(os.path.join(self.out, d))]\
            if all(os.path.exists(os.path.join(self.out, d)) for d in DUMPS) else list(DUMPS)
        ok = "capture_done" in self.times and not missing and not timed_out
        if ok and not a.keep_disk:
            os.unlink(disk)
        sizes = {d: os.path.getsize(os.path.join(self.out, d))
                 for d in DUMPS if os.path.exists(os.path.join(self.out, d))}
        result = {
            "mode": a.mode, "release": a.release, "ok": ok, "qemu_status": rc,
            "timed_out": timed_out, "failures": self.failures[:20], "missing_dumps": missing,
            "files": sorted(names), "dump_sizes": sizes,
            "qemu_cmdline": cmd, "kernel_cmdline": append, "host_ports": self.hostports,
            "guest_ports": list(GUEST_PORTS), "macs": {"virtio-net": MACS[0], "e1000e": MACS[1]},
            "mem_mib": a.mem, "crashkernel": a.crashkernel, "smp": a.smp, "rate_pps": a.rate,
            "t_start_ns": self.t0,
            "times_ns": self.times,
            "durations_s": self.durations(),
        }
        with open(os.path.join(self.out, "run.json"), "w") as f:
            json.dump(result, f, indent=1)
        d = result["durations_s"]
        self.say("%s: boot %.1fs, crash-to-dump %.1fs, total %.1fs; %s"
                 % ("ok" if ok else "FAILED", d.get("boot_to_init", -1),
                    d.get("panic_to_capture_done", -1), d.get("total", -1),
                    ", ".join("%s %.1f MB" % (k, v / 1e6) for k, v in sizes.items())))
        return 0 if ok else 1

    def durations(self):
        t = dict(self.times, start=self.t0)

        def d(a, b):
            return round((t[b] - t[a]) / 1e9, 2) if a in t and b in t else None

        res = {
            "boot_to_init": d("start", "first_init"),
            "init_to_crash": d("first_init", "panic"),
            "panic_to_capture_boot": d("panic", "capture_boot"),
            "panic_to_ir_copied": d("panic", "ir_copied"),
            "panic_to_tables_copied": d("panic", "tables_copied"),
            "panic_to_capture_init": d("panic", "capture_init"),
            "capture_init_to_kdump": d("capture_init", "kdump_written"),
            "kdump_to_flat": d("kdump_written", "flat_written"),
            "flat_to_elf": d("flat_written", "elf_written"),
            "panic_to_capture_done": d("panic", "capture_done"),
            "total": d("start", "qemu_exit"),
        }
        return {k: v for k, v in res.items() if v is not None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("legacy", "scalable", "legacy-6.12"), required=True)
    ap.add_argument("--kdir", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--initramfs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--crashkernel", default="256M")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--append", default="", help="extra kernel command-line words")
    ap.add_argument("--keep-disk", action="store_true")
    ap.add_argument("--qmp", help="also open a QMP unix socket here (for manual "
                    "dump-guest-memory snapshots; never pause a scalable-mode guest)")
    args = ap.parse_args()
    sys.exit(Run(args).run())


if __name__ == "__main__":
    main()
