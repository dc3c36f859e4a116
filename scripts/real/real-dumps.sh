#!/bin/sh
# Build (or reuse) the real-kernel harness runs: kernel, initramfs, one guest
# cycle per mode, ground truth.
#
#   scripts/real/real-dumps.sh REALDIR [MODE...]      (MODE: legacy scalable legacy-6.12)
#
# Environment (all optional; mk/real.mk passes them through):
#   REAL_KVER         kernel release of the legacy and scalable modes (default: newest
#                     6.1.0-N-amd64 with a -dbg package); legacy-6.12: newest 6.12.N+deb12-amd64
#   REAL_TIMEOUT      hard limit per guest run in seconds (300; a cycle takes ~35 s)
#   REAL_MEM          guest RAM in MiB (1024)
#   REAL_CRASHKERNEL  crashkernel= of the first kernel (256M)
#   REAL_APPEND       extra words for the first kernel's command line (e.g. no5lvl)
#   REAL_ATTEMPTS     guest runs per mode before giving up (2)
#   REAL_QMP          1: give each guest a QMP socket REALDIR/MODE/qmp.sock (optional,
#                     unused by the checks; see docs/real-harness.md before pausing)
#
# Layout under REALDIR:
#   cache/linux-REL/          kernel files (scripts/real/fetch-kernel.sh)
#   initramfs-REL/            initrd.img, initrd-first.img, udp-sink, .stamp
#   MODE/                     one run (scripts/real/run_guest.py) + ground-truth.json;
#                             MODE/.complete holds the key of the inputs it was built from
# A run is reused when MODE/.complete matches the current key (release, initramfs
# inputs, run_guest.py, settings); ground-truth.json is regenerated whenever
# ground_truth.py or udp_sender.py is newer than it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
realdir=${1:?usage: real-dumps.sh REALDIR [MODE...]}
shift
modes=${*:-legacy scalable legacy-6.12}
py=/usr/bin/python3
timeout=${REAL_TIMEOUT:-300}
mem=${REAL_MEM:-1024}
ck=${REAL_CRASHKERNEL:-256M}
append=${REAL_APPEND:-}
attempts=${REAL_ATTEMPTS:-2}
qmp=${REAL_QMP:-0}

say() { echo "real: $*" >&2; }
now() { date +%s; }
mkdir -p "$realdir"

# kernel RELEASE and initramfs for a mode: MODE-SERIES (legacy-6.12) runs the
# newest Debian SERIES kernel (bookworm-security ships 6.12 for Debian 12);
# plain modes run REAL_KVER or the newest 6.1
prepare() {	# MODE -> sets rel, kdir, idir, ikey
	case $1 in
	*-[0-9]*) rel=$(sh "$here/fetch-kernel.sh" "$realdir" "${1#*-}" | tail -n 1) ;;
	*) rel=$(sh "$here/fetch-kernel.sh" "$realdir" "${REAL_KVER:-}" | tail -n 1) ;;
	esac
	[ -n "$rel" ] || return 1
	kdir=$realdir/cache/linux-$rel
	idir=$realdir/initramfs-$rel
	ikey=$(cat "$here/init.sh" "$here/mkinitramfs.py" "$here/udp-sink.c" /bin/busybox \
		/usr/sbin/kexec /usr/bin/makedumpfile "$mdfvtd" | sha256sum | cut -c1-16)
	if [ "$(cat "$idir/.stamp" 2>/dev/null)" != "$rel $ikey" ]; then
		say "building initramfs for $rel"
		mkdir -p "$idir"
		gcc -static -O2 -Wall -Wextra -o "$idir/udp-sink" "$here/udp-sink.c"
		$py "$here/mkinitramfs.py" --kdir "$kdir" --release "$rel" --sink "$idir/udp-sink" \
			--init "$here/init.sh" --out "$idir" --extra "$mdfvtd" || return 1
		echo "$rel $ikey" >"$idir/.stamp"
	fi
}

# makedumpfile-vtd (REAL_MDF_VTD, default build/makedumpfile-vtd) runs in the
# capture kernel too, next to plain makedumpfile
mdfvtd=${REAL_MDF_VTD:-build/makedumpfile-vtd}
[ -x "$mdfvtd" ] || { say "no $mdfvtd: build it first (make)"; exit 1; }

failed=""
for mode in $modes; do
	case $mode in legacy|scalable|legacy-6.12) ;; *) say "unknown mode $mode"; exit 2 ;; esac
	out=$realdir/$mode
	t=$(now)
	prepare "$mode" || { say "$mode: no kernel or initramfs"; failed="$failed $mode"; continue; }
	rkey="$rel $ikey $(sha256sum <"$here/run_guest.py" | cut -c1-16) mem=$mem ck=$ck append=$append"
	if [ "$(cat "$out/.complete" 2>/dev/null)" = "$rkey" ]; then
		say "$mode run: cached in $out"
	else
		rm -f "$out/.complete"
		n=0
		set --
		[ "$qmp" = 1 ] && set -- --qmp "$(cd "$realdir" && pwd)/$mode/qmp.sock"
		while :; do
			n=$((n + 1))
			say "$mode run: attempt $n of $attempts"
			if $py "$here/run_guest.py" --mode "$mode" --kdir "$kdir" --release "$rel" \
				--initramfs "$idir" --out "$out" --timeout "$timeout" --mem "$mem" \
				--crashkernel "$ck" --append "$append" "$@"; then
				break
			fi
			[ $n -lt "$attempts" ] && continue
			say "$mode run failed $n times; see $out/console.log"
			failed="$failed $mode"
			continue 2
		done
		rm -f "$out/ground-truth.json"
	fi
	if [ ! -f "$out/ground-truth.json" ] || [ -n "$(find "$here/ground_truth.py" \
		"$here/udp_sender.py" -newer "$out/ground-truth.json")" ]; then
		$py "$here/ground_truth.py" "$out" || { failed="$failed $mode"; continue; }
	fi
	echo "$rkey" >"$out/.complete"
	say "$mode step: $(($(now) - t)) s"
done
[ -z "$failed" ] || { say "failed:$failed"; exit 1; }
