#!/usr/bin/python3
"""Host-side DMA load for the real-kernel harness: timestamped UDP packets.

    udp_sender.py --port HOSTPORT [--port HOSTPORT ...] --log FILE
                  [--rate PPS] [--max-seconds S] [--max-count N] [--stop-file F]

Sends to 127.0.0.1 only (QEMU user-net hostfwd=udp:127.0.0.1:PORT-... forwards
the datagrams to the guest NICs); there is deliberately no option for another
address.  Packets go round-robin to the ports, `--rate` packets per second per
port.  It stops by itself after --max-seconds or --max-count packets, when
--stop-file appears, or on SIGTERM/SIGINT.

Payload (64 bytes, little-endian), searched for in the dumps by ground_truth.py:
    0  16s  magic  b"VTDSCOPE:DMA:PKT"
   16  H    nic    index of the --port (0 = first)
   18  H    port   host port
   20  I    crc    zlib.crc32 of bytes 24..40
   24  Q    seq    global sequence number (0, 1, 2, ...)
   32  Q    ts_ns  host CLOCK_REALTIME (time.time_ns()) just before sendto()
   40  16s  tail   b"VTDSCOPE:DMA:END"
   56  8s   fill   b"\\xa5" * 8
Log: one tab-separated line per packet sent: seq, nic, port, ts_ns.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import time
import zlib

MAGIC = b"VTDSCOPE:DMA:PKT"
TAIL = b"VTDSCOPE:DMA:END"
FMT = "<16sHHIQQ16s8s"
SIZE = struct.calcsize(FMT)


def packet(nic, port, seq, ts_ns):
    body = struct.pack("<QQ", seq, ts_ns)
    return struct.pack(FMT, MAGIC, nic, port, zlib.crc32(body), seq, ts_ns, TAIL, b"\xa5" * 8)


def parse(buf, off=0):
    """Decode a payload at buf[off:]; None unless magic, tail and crc all match."""
    if len(buf) - off < SIZE:
        return None
    magic, nic, port, crc, seq, ts_ns, tail, _ = struct.unpack_from(FMT, buf, off)
    if magic != MAGIC or tail != TAIL:
        return None
    if zlib.crc32(struct.pack("<QQ", seq, ts_ns)) != crc:
        return None
    return {"nic": nic, "port": port, "seq": seq, "ts_ns": ts_ns}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rate", type=float, default=20.0, help="packets/s per port")
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--max-count", type=int, default=100000)
    ap.add_argument("--stop-file")
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    interval = 1.0 / (args.rate * len(args.port))
    t_end = time.monotonic() + args.max_seconds
    next_t = time.monotonic()
    seq = 0
    errors = 0
    with open(args.log, "w") as log:
        while not stop and seq < args.max_count and time.monotonic() < t_end:
            if args.stop_file and seq % 16 == 0 and os.path.exists(args.stop_file):
                break
            nic = seq % len(args.port)
            port = args.port[nic]
            ts = time.time_ns()
            try:
                sock.sendto(packet(nic, port, seq, ts), ("127.0.0.1", port))
                log.write("%d\t%d\t%d\t%d\n" % (seq, nic, port, ts))
            except OSError:
                errors += 1	# e.g. ECONNREFUSED from an earlier ICMP; not sent
            seq += 1
            if seq % 64 == 0:
                log.flush()
            next_t += interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.monotonic()
    print("real: udp-sender: %d packets, %d send errors" % (seq, errors), file=sys.stderr)


if __name__ == "__main__":
    main()
