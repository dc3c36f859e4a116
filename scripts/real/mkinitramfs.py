#!/usr/bin/python3
"""Build the real-kernel harness initramfs (run with Debian's /usr/bin/python3).

    mkinitramfs.py --kdir CACHE/linux-REL --release REL --sink udp-sink --out DIR

Writes into DIR:
  initrd.img        gzip'ed newc cpio: busybox-static, /init (scripts/real/init.sh),
                    kexec + makedumpfile with their shared libraries, the udp-sink
                    helper, and the kernel modules listed below with their
                    dependencies (in load order, /lib/modules/{first,capture}.list).
                    This is the capture kernel's initramfs.
  initrd-first.img  initrd.img followed by an uncompressed cpio holding
                    /boot/vmlinuz and /boot/initrd.img (= initrd.img), which the
                    first kernel hands to `kexec -p`.  The kernel unpacks
                    concatenated cpio archives into one rootfs.
No root privileges are needed: the cpio is written directly (device node
/dev/console included).
"""
import argparse
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys

# modules each kernel loads (dependencies are added automatically, loaded first)
FIRST_MODULES = ["qemu_fw_cfg", "virtio_pci", "virtio_blk", "virtio_net", "e1000e"]
CAPTURE_MODULES = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]
BINARIES = ["/usr/sbin/kexec", "/usr/bin/makedumpfile"]
BUSYBOX = "/bin/busybox"


class Cpio:
    """Minimal writer for the kernel's "newc" cpio format."""

    def __init__(self):
        self.buf = bytearray()
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        self.buf += hdr.encode() + name_b
        self.buf += b"\0" * (-len(self.buf) % 4)
        self.buf += data
        self.buf += b"\0" * (-len(self.buf) % 4)

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, 0o040755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if "/" in path:
            self.mkdir(os.path.dirname(path))
        self._entry(path, 0o100000 | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        if "/" in path:
            self.mkdir(os.path.dirname(path))
        self._entry(path, 0o120777, target.encode())

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, 0o020000 | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.buf += b"\0" * (-len(self.buf) % 512)
        return bytes(self.buf)


def read_module(path):
    """A module's ELF bytes; 6.12's Debian modules are .ko.xz (busybox insmod
    passes the bytes to init_module, which takes no compressed image)."""
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".ko.xz") else data


def modinfo(path):
    """Return the key=value strings of a .ko's .modinfo section."""
    elf = read_module(path)
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise ValueError("%s: not an ELF64 object" % path)
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)

    def shdr(i):
        return struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize)

    strtab = shdr(shstrndx)
    info = {}
    for i in range(shnum):
        sh = shdr(i)
        start = strtab[4] + sh[0]
        name = elf[start:elf.index(b"\0", start)]
        if name == b".modinfo":
            for kv in elf[sh[4]:sh[4] + sh[5]].split(b"\0"):
                if b"=" in kv:
                    k, v = kv.decode(errors="replace").split("=", 1)
                    info.setdefault(k, []).append(v)
    return info


def module_index(moddir):
    """Map module name (with '_') -> path of its .ko under moddir/kernel."""
    index = {}
    for root, _, files in os.walk(os.path.join(moddir, "kernel")):
        for fn in files:
            for ext in (".ko", ".ko.xz"):
                if fn.endswith(ext):
                    index[fn[:-len(ext)].replace("-", "_")] = os.path.join(root, fn)
    builtin = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            for line in f:
                builtin.add(os.path.basename(line.strip()).split(".ko")[0].replace("-", "_"))
    except OSError:
        pass
    return index, builtin


def resolve(wanted, index, builtin):
    """Return wanted modules plus dependencies, dependencies first."""
    order, state = [], {}

    def visit(m):
        m = m.replace("-", "_")
        if m in builtin or state.get(m) == 2:
            return
        if state.get(m) == 1:
            raise ValueError("module dependency cycle at %s" % m)
        if m not in index:
            raise ValueError("module %s not found" % m)
        state[m] = 1
        for dep in modinfo(index[m]).get("depends", [""])[0].split(","):
            if dep:
                visit(dep)
        state[m] = 2
        order.append(m)

    for m in wanted:
        visit(m)
    return order


def shared_libs(binary):
    """Paths of the shared libraries (and loader) a dynamic binary needs, per ldd."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            p = parts[parts.index("=>") + 1]
            if p.startswith("/"):
                libs.append(p)
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def build(args):
    moddir = os.path.join(args.kdir, "lib", "modules", args.release)
    index, builtin = module_index(moddir)
    first = resolve(FIRST_MODULES, index, builtin)
    capture = resolve(CAPTURE_MODULES, index, builtin)

    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "mnt",
              "lib/modules", "lib/x86_64-linux-gnu", "lib64", "etc"):
        c.mkdir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    with open(BUSYBOX, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    c.symlink("bin/sh", "busybox")
    with open(args.init, "rb") as f:
        c.file("init", f.read(), 0o755)
    with open(args.sink, "rb") as f:
        c.file("bin/udp-sink", f.read(), 0o755)
    seen = set()
    for b, dest_b in [(b, b) for b in BINARIES] + [(e, "/usr/bin/" + os.path.basename(e))
                                                   for e in args.extra]:
        with open(b, "rb") as f:
            c.file(dest_b, f.read(), 0o755)
        for lib in shared_libs(b):
            real = os.path.realpath(lib)
            # at the path ldd names and in the multiarch directory (LD_LIBRARY_PATH)
            for dest in (lib, "/lib/x86_64-linux-gnu/" + os.path.basename(lib)):
                if dest in seen:
                    continue
                seen.add(dest)
                with open(real, "rb") as f:
                    c.file(dest, f.read(), 0o755)
    for m in sorted(set(first) | set(capture)):
        c.file("lib/modules/%s.ko" % m, read_module(index[m]))
    c.file("lib/modules/first.list", ("\n".join(first) + "\n").encode())
    c.file("lib/modules/capture.list", ("\n".join(capture) + "\n").encode())
    c.file("etc/vtdscope-initramfs", ("release=%s\n" % args.release).encode())
    main = gzip.compress(c.finish(), compresslevel=6, mtime=0)

    os.makedirs(args.out, exist_ok=True)
    tmp = os.path.join(args.out, "initrd.img.tmp")
    with open(tmp, "wb") as f:
        f.write(main)
    os.replace(tmp, os.path.join(args.out, "initrd.img"))

    boot = Cpio()
    boot.mkdir("boot")
    with open(os.path.join(args.kdir, "vmlinuz-" + args.release), "rb") as f:
        boot.file("boot/vmlinuz", f.read())
    boot.file("boot/initrd.img", main)
    tmp = os.path.join(args.out, "initrd-first.img.tmp")
    with open(tmp, "wb") as f:
        f.write(main + b"\0" * (-len(main) % 512) + boot.finish())
    os.replace(tmp, os.path.join(args.out, "initrd-first.img"))
    print("real: initramfs %s: %d KiB (first kernel %d KiB), modules first=%s capture=%s"
          % (args.out, len(main) // 1024,
             os.path.getsize(os.path.join(args.out, "initrd-first.img")) // 1024,
             ",".join(first), ",".join(capture)), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kdir", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--sink", required=True, help="static udp-sink binary")
    ap.add_argument("--init", default=os.path.join(os.path.dirname(__file__), "init.sh"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", action="append", default=[],
                    help="another binary (with its libraries) for /usr/bin: makedumpfile-vtd")
    args = ap.parse_args()
    for tool in (BUSYBOX, *BINARIES, *args.extra):
        if not os.access(tool, os.X_OK):
            sys.exit("mkinitramfs: %s missing (scripts/install-deps real)" % tool)
    if not shutil.which("ldd"):
        sys.exit("mkinitramfs: ldd missing")
    build(args)


if __name__ == "__main__":
    main()
