#!/usr/bin/python3
"""vtd_oracle: an independent decoder of a crashed kernel's Intel VT-d state.

    /usr/bin/python3 tests/real/vtd_oracle.py --vmlinux VMLINUX [-o OUT.json] DUMP

DUMP is a kdump-compressed or ELF vmcore (drgn 0.0.22 cannot read the
flattened format).  The script walks the crashed kernel's own structures with
drgn (dmar_drhd_units -> struct dmar_drhd_unit -> struct intel_iommu), then
decodes the hardware tables from physical memory: root table, legacy or
scalable-mode context entries, PASID directories and tables, every leaf of the
second- or first-level page tables of each present device (coalesced into
[iova, iova_end) -> pa runs), the interrupt-remapping table and the
invalidation queue.  Output: JSON as documented in docs/oracle-schema.md.

It deliberately shares no code with libvtd: every table format is decoded here
from the bit layouts in vtd-reference.md section 1, so that the C library and
this script can be compared.  Must be run with Debian's /usr/bin/python3
(python3-drgn).
"""
import argparse
import json
import os
import struct
import sys
import time

try:
    import drgn
    from drgn import FaultError
    from drgn.helpers.linux.list import list_for_each_entry
except ImportError:
    sys.exit("vtd_oracle: drgn not importable; run with /usr/bin/python3 (python3-drgn)")

SCHEMA = "vtdscope-oracle/1"
PAGE = 4096
ADDR_MASK = ((1 << 52) - 1) & ~0xfff	# address bits 51:12 of any table entry
IR_ENTRIES = 65536
QI_ENTRIES = 256
MAX_TABLES_PER_WALK = 1 << 18	# bound on page-table pages visited by one walk


def hx(v):
    return "0x%x" % v


def hx64(v):
    return "0x%016x" % v


def bits(v, hi, lo):
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def bdf_str(seg, bus, devfn):
    return "%04x:%02x:%02x.%x" % (seg, bus, devfn >> 3, devfn & 7)


class Mem:
    """Physical memory of the dump, read a whole 4 KiB page at a time (cached)."""

    def __init__(self, prog):
        self.prog = prog
        self.cache = {}
        self.missing = set()

    def page(self, pa):
        """bytes of the page at pa (aligned), or None if the dump lacks it."""
        pa &= ~(PAGE - 1)
        if pa not in self.cache:
            try:
                self.cache[pa] = self.prog.read(pa, PAGE, True)
            except FaultError:
                self.cache[pa] = None
                self.missing.add(pa)
        return self.cache[pa]

    def qwords(self, pa):
        """The 512 qwords of the page at pa; a page missing from the dump reads as zeros."""
        data = self.page(pa)
        return struct.unpack("<512Q", data) if data else (0,) * 512

    def read(self, pa, size):
        out = bytearray()
        while size > 0:
            off = pa & (PAGE - 1)
            n = min(size, PAGE - off)
            data = self.page(pa)
            out += data[off:off + n] if data else bytes(n)
            pa += n
            size -= n
        return bytes(out)


class Kernel:
    """The few crashed-kernel facts the oracle needs, from drgn and the vmlinux DWARF."""

    def __init__(self, prog, mem):
        self.prog = prog
        self.mem = mem
        self.page_offset_base = prog["page_offset_base"].value_()
        self.l5 = bool(self.var("__pgtable_l5_enabled", 0))

    def var(self, name, default=None):
        try:
            return self.prog[name].value_()
        except (KeyError, LookupError):
            return default

    def v2p(self, va):
        """Kernel virtual -> physical: direct map, else a walk of init_top_pgt."""
        va = int(va)
        if va == 0:
            return None
        if self.page_offset_base <= va < self.page_offset_base + (1 << 52):
            return va - self.page_offset_base
        return self.walk_kernel_pgt(va)

    def walk_kernel_pgt(self, va):
        """x86-64 4/5-level walk; the top table is read virtually, the rest physically."""
        levels = 5 if self.l5 else 4
        top = self.prog.read(self.prog.symbol("init_top_pgt").address, PAGE)
        table = struct.unpack("<512Q", top)
        for level in range(levels, 0, -1):
            shift = 12 + 9 * (level - 1)
            e = table[(va >> shift) & 511]
            if not e & 1:
                raise ValueError("kernel address 0x%x not mapped" % va)
            if level == 1 or (level in (2, 3) and e & 0x80):
                return (e & ADDR_MASK & ~((1 << shift) - 1)) | (va & ((1 << shift) - 1))
            table = self.mem.qwords(e & ADDR_MASK)
        raise ValueError("kernel address 0x%x: bad page-table walk" % va)


# ---------------------------------------------------------------------------------------
# page-table walks


def walk(mem, root_pa, levels, first_level):
    """All leaf mappings under a second-level (first_level=False) or first-level table.

    Returns (ranges, stats): ranges = [start, end, pa, r, w, page_size] runs with
    contiguous IOVA and PA and equal attributes; r/w are the AND over all levels.
    """
    ranges = []
    stats = {"tables": 0, "missing_tables": [], "loops": 0, "truncated": False}
    width = 12 + 9 * levels

    def emit(iova, size, pa, r, w):
        if first_level and iova & (1 << (width - 1)):	# canonical form
            iova |= ~((1 << width) - 1) & ((1 << 64) - 1)
        if ranges:
            last = ranges[-1]
            if (last[1] == iova and last[2] + (last[1] - last[0]) == pa and
                    last[3] == r and last[4] == w and last[5] == size):
                last[1] += size
                return
        ranges.append([iova, iova + size, pa, r, w, size])

    def rec(table, level, base, r, w, path):
        if stats["tables"] >= MAX_TABLES_PER_WALK:
            stats["truncated"] = True
            return
        if table in path:
            stats["loops"] += 1
            return
        stats["tables"] += 1
        if mem.page(table) is None:
            stats["missing_tables"].append(hx(table))
            return
        shift = 12 + 9 * (level - 1)
        for i, e in enumerate(mem.qwords(table)):
            if first_level:
                if not e & 1:
                    continue
                er, ew = True, bool(e & 2)
            else:
                er, ew = bool(e & 1), bool(e & 2)
                if not (er or ew):
                    continue
            iova = base | (i << shift)
            rr, ww = r and er, w and ew
            if level == 1 or (level in (2, 3) and e & 0x80):
                size = 1 << shift
                emit(iova, size, e & ADDR_MASK & ~(size - 1), rr, ww)
            else:
                rec(e & ADDR_MASK, level - 1, iova, rr, ww, path | {table})

    if levels < 1 or levels > 5:
        stats["bad_levels"] = levels
        return ranges, stats
    rec(root_pa, levels, 0, True, True, frozenset())
    return ranges, stats


def mapping_record(mem, cache, bdf, pasid, did, kind, root, levels):
    key = (kind, root, levels)
    if key not in cache:
        cache[key] = walk(mem, root, levels, kind == "first-level")
    ranges, stats = cache[key]
    pages = sum((r[1] - r[0]) >> 12 for r in ranges)
    wpages = sum((r[1] - r[0]) >> 12 for r in ranges if r[4])
    rec = {
        "bdf": bdf, "pasid": pasid, "did": did, "translation": kind,
        "root_pa": hx(root), "levels": levels,
        "ranges": [{"iova": hx(s), "iova_end": hx(e), "pa": hx(pa), "r": r, "w": w,
                    "page_size": ps} for s, e, pa, r, w, ps in ranges],
        "n_ranges": len(ranges), "pages_4k": pages, "writable_pages_4k": wpages,
        "tables": stats["tables"],
    }
    for k in ("missing_tables", "loops", "truncated", "bad_levels"):
        if stats.get(k):
            rec[k] = stats[k]
    return rec


# ---------------------------------------------------------------------------------------
# entry decoders (vtd-reference.md 1.2 - 1.6, 1.10)


def decode_legacy_context(lo, hi):
    return {
        "present": bool(lo & 1), "fpd": bits(lo, 1, 1), "tt": bits(lo, 3, 2),
        "slptptr": hx(lo & ADDR_MASK), "aw": bits(hi, 2, 0), "avail": bits(hi, 6, 3),
        "did": bits(hi, 23, 8),
    }


def decode_sm_context(q):
    lo, hi = q[0], q[1]
    return {
        "present": bool(lo & 1), "fpd": bits(lo, 1, 1), "dte": bits(lo, 2, 2),
        "paside": bits(lo, 3, 3), "pre": bits(lo, 4, 4), "pdts": bits(lo, 11, 9),
        "pasid_dir_pa": hx(lo & ADDR_MASK), "rid_pasid": bits(hi, 19, 0),
        "rid_priv": bits(hi, 20, 20),
    }


def decode_pasid_entry(v):
    return {
        "present": bool(v[0] & 1), "fpd": bits(v[0], 1, 1), "aw": bits(v[0], 4, 2),
        "pgtt": bits(v[0], 8, 6), "slade": bits(v[0], 9, 9), "slptptr": hx(v[0] & ADDR_MASK),
        "did": bits(v[1], 15, 0), "pwsnp": bits(v[1], 23, 23), "pgsnp": bits(v[1], 24, 24),
        "sre": bits(v[2], 0, 0), "flpm": bits(v[2], 3, 2), "wpe": bits(v[2], 4, 4),
        "eafe": bits(v[2], 7, 7), "flptptr": hx(v[2] & ADDR_MASK),
    }


def decode_irte(index, lo, hi, eim):
    sid = bits(hi, 15, 0)
    e = {
        "index": index, "raw": [hx64(lo), hx64(hi)], "present": bool(lo & 1),
        "fpd": bits(lo, 1, 1), "avail": bits(lo, 11, 8),
        "sid": "%02x:%02x.%x" % (sid >> 8, (sid >> 3) & 0x1f, sid & 7),
        "sq": bits(hi, 17, 16), "svt": bits(hi, 19, 18),
    }
    if lo & (1 << 15):
        e.update({"format": "posted", "urg": bits(lo, 14, 14), "vector": bits(lo, 23, 16),
                  "pda": hx((bits(lo, 63, 38) << 6) | (bits(hi, 63, 32) << 32))})
    else:
        dst = bits(lo, 63, 32)
        e.update({"format": "remapped", "dm": bits(lo, 2, 2), "rh": bits(lo, 3, 3),
                  "tm": bits(lo, 4, 4), "dlm": bits(lo, 7, 5), "vector": bits(lo, 23, 16),
                  "dest_raw": hx(dst), "dest": dst if eim else (dst >> 8) & 0xff})
    return e


# ---------------------------------------------------------------------------------------
# per unit


def decode_unit(prog, kern, mem, drhd, sm_requested, eim):
    iommu = drhd.iommu
    cap, ecap = iommu.cap.value_(), iommu.ecap.value_()
    seg = iommu.segment.value_()
    scalable = bool(sm_requested) and bool(ecap & (1 << 43))
    u = {
        "name": iommu.name.string_().decode(errors="replace"),
        "segment": seg, "seq_id": iommu.seq_id.value_(),
        "reg_base_addr": hx(drhd.reg_base_addr.value_()), "reg_phys": hx(iommu.reg_phys.value_()),
        "cap": hx(cap), "ecap": hx(ecap), "gcmd": hx(iommu.gcmd.value_()),
        "flags": hx(iommu.flags.value_()), "agaw": iommu.agaw.value_(),
        "msagaw": iommu.msagaw.value_(), "ignored": bool(drhd.ignored.value_()),
        "mode": "scalable" if scalable else "legacy",
        "root_table_va": hx(iommu.root_entry.value_()),
        "root_table_pa": None, "root_entries": [], "contexts": [], "mappings": [],
        "ir_table_pa": None, "irtes": [], "qi": None,
    }
    try:
        u["copied_tables"] = hx(iommu.copied_tables.value_())
    except (AttributeError, LookupError):
        pass
    root_pa = kern.v2p(iommu.root_entry.value_())
    walks = {}
    if root_pa is not None:
        u["root_table_pa"] = hx(root_pa)
        decode_root(mem, u, seg, root_pa, scalable, walks)
    decode_ir(kern, mem, u, iommu, eim)
    decode_qi(kern, mem, u, iommu, ecap)
    return u


def decode_root(mem, u, seg, root_pa, scalable, walks):
    rq = mem.qwords(root_pa)
    if mem.page(root_pa) is None:
        u["root_table_missing"] = True
    for bus in range(256):
        lo, hi = rq[2 * bus], rq[2 * bus + 1]
        if not (lo | hi):
            continue
        re = {"bus": bus, "raw": [hx64(lo), hx64(hi)], "present": bool(lo & 1)}
        halves = []
        if scalable:
            re["upper_present"] = bool(hi & 1)
            re["lctp"] = hx(lo & ADDR_MASK)
            re["uctp"] = hx(hi & ADDR_MASK)
            if lo & 1:
                halves.append((lo & ADDR_MASK, 0))
            if hi & 1:
                halves.append((hi & ADDR_MASK, 128))
        else:
            re["ctp"] = hx(lo & ADDR_MASK)
            if lo & 1:
                halves.append((lo & ADDR_MASK, 0))
        u["root_entries"].append(re)
        for ctp, first_devfn in halves:
            cq = mem.qwords(ctp)
            if mem.page(ctp) is None:
                re.setdefault("missing_context_tables", []).append(hx(ctp))
            if scalable:
                for i in range(128):
                    q = cq[4 * i:4 * i + 4]
                    if any(q):
                        sm_context(mem, u, seg, bus, first_devfn + i, q, walks)
            else:
                for devfn in range(256):
                    lo2, hi2 = cq[2 * devfn], cq[2 * devfn + 1]
                    if lo2 | hi2:
                        legacy_context(mem, u, seg, bus, devfn, lo2, hi2, walks)


def legacy_context(mem, u, seg, bus, devfn, lo, hi, walks):
    bdf = bdf_str(seg, bus, devfn)
    c = {"bdf": bdf, "raw": [hx64(lo), hx64(hi)]}
    c.update(decode_legacy_context(lo, hi))
    u["contexts"].append(c)
    if not c["present"]:
        return
    if c["tt"] in (0, 1):
        u["mappings"].append(mapping_record(mem, walks, bdf, None, c["did"], "second-level",
                                            lo & ADDR_MASK, c["aw"] + 2))
    elif c["tt"] == 2:
        u["mappings"].append({"bdf": bdf, "pasid": None, "did": c["did"],
                              "translation": "pass-through", "ranges": [], "n_ranges": 0,
                              "pages_4k": 0, "writable_pages_4k": 0})


def sm_context(mem, u, seg, bus, devfn, q, walks):
    bdf = bdf_str(seg, bus, devfn)
    c = {"bdf": bdf, "raw": [hx64(x) for x in q]}
    c.update(decode_sm_context(q))
    c["pasid_dir_entries"] = 1 << (c["pdts"] + 7)
    c["pasids"] = []
    u["contexts"].append(c)
    if not c["present"]:
        return
    dir_pa = q[0] & ADDR_MASK
    dir_bytes = mem.read(dir_pa, c["pasid_dir_entries"] * 8)
    for di, de in enumerate(struct.unpack("<%dQ" % c["pasid_dir_entries"], dir_bytes)):
        if not de & 1:
            continue
        table = de & ADDR_MASK
        tq = mem.qwords(table)
        if mem.page(table) is None:
            c.setdefault("missing_pasid_tables", []).append(hx(table))
        for ti in range(64):
            v = tq[8 * ti:8 * ti + 8]
            if not any(v):
                continue
            pasid = di * 64 + ti
            pe = {"pasid": pasid, "dir_entry": hx64(de), "raw": [hx64(x) for x in v]}
            pe.update(decode_pasid_entry(v))
            c["pasids"].append(pe)
            if not pe["present"]:
                continue
            pgtt = pe["pgtt"]
            if pgtt in (1, 3):
                u["mappings"].append(mapping_record(
                    mem, walks, bdf, pasid, pe["did"], "first-level", v[2] & ADDR_MASK,
                    4 + (pe["flpm"] & 1)))
            if pgtt in (2, 3):
                u["mappings"].append(mapping_record(
                    mem, walks, bdf, pasid, pe["did"], "second-level", v[0] & ADDR_MASK,
                    pe["aw"] + 2))
            if pgtt == 4:
                u["mappings"].append({"bdf": bdf, "pasid": pasid, "did": pe["did"],
                                      "translation": "pass-through", "ranges": [],
                                      "n_ranges": 0, "pages_4k": 0, "writable_pages_4k": 0})


def decode_ir(kern, mem, u, iommu, eim):
    if not iommu.ir_table:
        return
    base_pa = kern.v2p(iommu.ir_table.base.value_())
    if base_pa is None:
        return
    u["ir_table_pa"] = hx(base_pa)
    u["ir_eim"] = bool(eim)
    missing = 0
    for p in range(IR_ENTRIES * 16 // PAGE):
        pa = base_pa + p * PAGE
        if mem.page(pa) is None:	# all-zero pages are left out of -E dumps
            missing += 1
            continue
        q = mem.qwords(pa)
        for i in range(256):
            lo, hi = q[2 * i], q[2 * i + 1]
            if lo & 1:
                u["irtes"].append(decode_irte(p * 256 + i, lo, hi, eim))
    u["ir_table_missing_pages"] = missing


def decode_qi(kern, mem, u, iommu, ecap):
    qi = iommu.qi
    if not qi:
        return
    desc_pa = kern.v2p(qi.desc.value_())
    status_pa = kern.v2p(qi.desc_status.value_())
    dsize = 32 if ecap & (1 << 43) else 16	# Linux: 256-bit descriptors iff ECAP.SMTS
    status = struct.unpack("<%di" % QI_ENTRIES, mem.read(status_pa, 4 * QI_ENTRIES))\
        if status_pa is not None else ()
    hist = {}
    for s in status:
        hist[str(s)] = hist.get(str(s), 0) + 1
    u["qi"] = {
        "desc_pa": hx(desc_pa) if desc_pa is not None else None,
        "desc_status_pa": hx(status_pa) if status_pa is not None else None,
        "descriptor_size": dsize, "free_head": qi.free_head.value_(),
        "free_tail": qi.free_tail.value_(), "free_cnt": qi.free_cnt.value_(),
        "status_histogram": hist,
    }


# ---------------------------------------------------------------------------------------
# kernel-side context: PCI devices and their domains


def pci_name(d):
    """The kernel's name for the device (dev_name, "SSSS:BB:DD.F").  The
    string is a small slab object of its own, which a -d 31 dump of a
    kernel newer than its makedumpfile may have lost with nothing else
    of the IOMMU state (vtd never reads it): then the same name from the
    numbers, the segment from device_domain_info (IOMMU state) or else
    the root bus's pci_sysdata, as pci_domain_nr() has it."""
    try:
        return d.dev.kobj.name.string_().decode(errors="replace")
    except FaultError:
        pass
    seg = None
    try:
        if d.dev.iommu and d.dev.iommu.priv:
            seg = drgn.cast("struct device_domain_info *", d.dev.iommu.priv).segment.value_()
    except (FaultError, LookupError, AttributeError):
        pass
    if seg is None:
        seg = drgn.cast("struct pci_sysdata *", d.bus.sysdata).domain.value_()
    devfn = d.devfn.value_()
    return "%04x:%02x:%02x.%d" % (seg, d.bus.number.value_(), devfn >> 3, devfn & 7)


def pci_devices(prog, kern):
    devs = []

    def visit_bus(bus):
        for d in list_for_each_entry("struct pci_dev", bus.devices.address_of_(), "bus_list"):
            dev = {
                "bdf": pci_name(d),
                "vendor": hx(d.vendor.value_()), "device": hx(d.device.value_()),
                "class": hx(d.member_("class").value_()),
                "driver": d.driver.name.string_().decode() if d.driver else None,
            }
            try:
                info = drgn.cast("struct device_domain_info *", d.dev.iommu.priv) \
                    if d.dev.iommu else None
                if info and info.domain:
                    dom = info.domain
                    dev["domain"] = {"pgd_pa": hx(kern.v2p(dom.pgd.value_()) or 0),
                                     "agaw": dom.agaw.value_(),
                                     "type": dom.domain.type.value_()}
                    try:
                        dev["domain"]["flags"] = dom.flags.value_()
                    except (AttributeError, LookupError):
                        dev["domain"]["use_first_level"] = dom.use_first_level.value_()
            except (FaultError, LookupError, AttributeError) as e:
                dev["domain_error"] = str(e)
            devs.append(dev)
        for child in list_for_each_entry("struct pci_bus", bus.children.address_of_(), "node"):
            visit_bus(child)

    for bus in list_for_each_entry("struct pci_bus", prog["pci_root_buses"].address_of_(),
                                   "node"):
        visit_bus(bus)
    return devs


def oracle(dump, vmlinux):
    t0 = time.monotonic()
    prog = drgn.Program()
    prog.set_core_dump(dump)
    prog.load_debug_info([vmlinux])
    mem = Mem(prog)
    kern = Kernel(prog, mem)
    sm_requested = kern.var("intel_iommu_sm", 0)
    eim = kern.var("eim_mode", 0)
    crashk = prog["crashk_res"]
    out = {
        "schema": SCHEMA,
        "dump": dump,
        "kernel": {
            "release": prog["init_uts_ns"].name.release.string_().decode(),
            "page_offset_base": hx(kern.page_offset_base),
            "pgtable_l5_enabled": kern.var("__pgtable_l5_enabled"),
            "intel_iommu_sm": sm_requested, "eim_mode": eim,
            "crashk_res": [hx(crashk.start.value_()), hx(crashk.end.value_() + 1)]
            if crashk.end.value_() else None,
        },
        "pci_devices": pci_devices(prog, kern),
        "units": [],
    }
    for drhd in list_for_each_entry("struct dmar_drhd_unit",
                                    prog["dmar_drhd_units"].address_of_(), "list"):
        if not drhd.iommu:
            continue
        out["units"].append(decode_unit(prog, kern, mem, drhd, sm_requested, eim))
    units = out["units"]
    out["summary"] = {
        "units": len(units),
        "root_entries": sum(len(u["root_entries"]) for u in units),
        "contexts": sum(1 for u in units for c in u["contexts"] if c["present"]),
        "pasid_entries": sum(1 for u in units for c in u["contexts"]
                             for p in c.get("pasids", ()) if p["present"]),
        "mappings": sum(len(u["mappings"]) for u in units),
        "ranges": sum(m["n_ranges"] for u in units for m in u["mappings"]),
        "mapped_pages_4k": sum(m["pages_4k"] for u in units for m in u["mappings"]),
        "writable_pages_4k": sum(m["writable_pages_4k"] for u in units for m in u["mappings"]),
        "irtes": sum(len(u["irtes"]) for u in units),
        "missing_pages": len(mem.missing),
        "seconds": round(time.monotonic() - t0, 2),
    }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("-o", "--output", help="write JSON here (default: stdout)")
    ap.add_argument("--summary", action="store_true", help="print a one-line summary on stderr")
    args = ap.parse_args()
    try:
        out = oracle(args.dump, args.vmlinux)
    except (drgn.FaultError, drgn.MissingDebugInfoError, ValueError, OSError) as e:
        sys.exit("vtd_oracle: %s: %s" % (args.dump, e))
    text = json.dumps(out, indent=1)
    if args.output:
        with open(args.output + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.output + ".tmp", args.output)
    else:
        print(text)
    if args.summary:
        s = out["summary"]
        print("vtd_oracle: %s: %d unit(s) [%s], %d context entries, %d PASID entries, "
              "%d mappings (%d ranges, %d pages), %d IRTEs, %.1fs" % (
                  args.dump, s["units"], ",".join(u["mode"] for u in out["units"]),
                  s["contexts"], s["pasid_entries"], s["mappings"], s["ranges"],
                  s["mapped_pages_4k"], s["irtes"], s["seconds"]), file=sys.stderr)


if __name__ == "__main__":
    main()
