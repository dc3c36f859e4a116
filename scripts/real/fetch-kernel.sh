#!/bin/sh
# Fetch Debian's 6.1 kernel (image + debug vmlinux) for the real-kernel tier.
#
#   scripts/real/fetch-kernel.sh REALDIR [RELEASE|SERIES]
#
# RELEASE defaults to the newest 6.1.0-N-amd64 for which apt knows a
# linux-image-6.1.0-N-amd64-dbg package; SERIES "6.12" picks the newest
# 6.12.N+deb12-amd64 (bookworm-security ships Debian 13's 6.12 for Debian 12).  Everything lands in
# REALDIR/cache/linux-RELEASE/:
#   vmlinux-RELEASE            debug vmlinux (from the -dbg .deb, which is deleted after)
#   vmlinuz-RELEASE, config-RELEASE, System.map-RELEASE
#   lib/modules/RELEASE/...    the image package's module tree
#   image.deb                  the image package (kept, 70 MB)
#   .complete                  written last; its presence means "nothing to do"
# The release is printed on stdout (last line); progress goes to stderr.
# Nothing is installed on the host.
set -eu

realdir=${1:?usage: fetch-kernel.sh REALDIR [RELEASE]}
rel=${2:-}
cache=$realdir/cache
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "real: $*" >&2; }

series=6.1
case $rel in [0-9]*.[0-9]*-*|*+*) ;; ?*) series=$rel; rel="" ;; esac
newest_release() {
	case $series in
	6.1) re='6\.1\.0-[0-9]+-amd64' ;;
	*) re="$(echo "$series" | sed 's/\./\\./g')\\.[0-9]+\\+deb12-amd64" ;;
	esac
	apt-cache search --names-only "^linux-image-$re-dbg\$" 2>/dev/null |
		sed -n 's/^linux-image-\([^ ]*-amd64\)-dbg .*/\1/p' | sort -V | tail -n 1
}

if [ -z "$rel" ]; then
	rel=$(newest_release)
	if [ -z "$rel" ]; then
		say "apt knows no linux-image-6.1.0-*-amd64-dbg; running apt-get update"
		apt-get update -qq >/dev/null 2>&1 || true
		rel=$(newest_release)
	fi
	if [ -z "$rel" ]; then
		# offline and no lists: fall back to the newest complete cached kernel
		rel=$(ls -d "$cache"/linux-"$series"[.-]*-amd64 2>/dev/null | sed 's|.*/linux-||' | sort -V |
			while read -r r; do [ -f "$cache/linux-$r/.complete" ] && echo "$r"; done | tail -n 1)
	fi
	[ -n "$rel" ] || { say "cannot determine a kernel release"; exit 1; }
fi

kdir=$cache/linux-$rel
if [ -f "$kdir/.complete" ]; then
	say "kernel $rel: cached in $kdir"
	echo "$rel"
	exit 0
fi

t0=$(date +%s)
mkdir -p "$kdir"
dl=$kdir/dl.tmp	# downloads land here first (a .deb left by an interrupted run is reused if intact)
mkdir -p "$dl"
for f in "$dl"/*.deb; do
	[ -f "$f" ] && ! dpkg-deb --info "$f" >/dev/null 2>&1 && rm -f "$f"
done

# download PKG: print the path of PKG's .deb in $dl, downloading it unless present
download() {
	f=$(ls "$dl/$1"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		say "downloading $1"
		# apt warns that it downloads unsandboxed as root; harmless
		(cd "$dl" && apt-get download -q "$1" 2>&1 | grep -v 'unsandboxed as root' >&2) || true
		f=$(ls "$dl/$1"_*.deb 2>/dev/null | head -n 1)
		[ -n "$f" ] || { say "apt-get download $1 failed"; exit 1; }
	fi
	echo "$f"
}

# 1. the image package (vmlinuz, config, modules)
if [ ! -s "$kdir/image.deb" ]; then
	deb=$(download "linux-image-$rel")
	mv "$deb" "$kdir/image.deb"
fi
if [ ! -f "$kdir/vmlinuz-$rel" ] || [ ! -d "$kdir/lib/modules/$rel" ]; then
	say "extracting vmlinuz, config and modules of $rel"
	rm -rf "${kdir:?}/lib" "${dl:?}/x"
	mkdir -p "$dl/x"
	dpkg-deb --fsys-tarfile "$kdir/image.deb" |
		tar -x -C "$dl/x" "./boot/vmlinuz-$rel" "./boot/config-$rel" "./boot/System.map-$rel" \
			"./lib/modules/$rel"
	mv "$dl/x/boot/vmlinuz-$rel" "$dl/x/boot/config-$rel" "$dl/x/boot/System.map-$rel" "$kdir/"
	mkdir -p "$kdir/lib/modules"
	mv "$dl/x/lib/modules/$rel" "$kdir/lib/modules/"
fi

# 2. the debug vmlinux (the .deb is ~860 MB; keep only the vmlinux)
if [ ! -s "$kdir/vmlinux-$rel" ]; then
	deb=$(download "linux-image-$rel-dbg")
	say "extracting vmlinux-$rel"
	rm -rf "$dl/x"
	mkdir -p "$dl/x"
	# tar stops at the first match; dpkg-deb then dies of SIGPIPE (expected, hence 2>/dev/null)
	dpkg-deb --fsys-tarfile "$deb" 2>/dev/null |
		tar -x -C "$dl/x" --occurrence=1 "./usr/lib/debug/boot/vmlinux-$rel"
	[ -s "$dl/x/usr/lib/debug/boot/vmlinux-$rel" ] || { say "vmlinux-$rel not found in $deb"; exit 1; }
	mv "$dl/x/usr/lib/debug/boot/vmlinux-$rel" "$kdir/vmlinux-$rel.tmp"
	rm -f "$deb"
	mv "$kdir/vmlinux-$rel.tmp" "$kdir/vmlinux-$rel"
fi

rm -rf "$dl"
date -u +%Y-%m-%dT%H:%M:%SZ >"$kdir/.complete"
say "kernel $rel: fetched in $(($(date +%s) - t0)) s"
echo "$rel"
