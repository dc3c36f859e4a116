# vtd names what is wrong with bad input, exits 2, and never crashes.
B=${VTD_BUILD:-build}; G=${VTD_GEN:-build/gen}
VTD=$B/vtd; VML=$B/mock-vmlinux; D=$G/legacy-3level
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

expect_err() {  # name, expected text, command...
	name=$1; want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$want" "$T/err"; then echo "PASS cli-errors/$name"
	else echo "FAIL cli-errors/$name: exit $rc, stderr: $(head -c 300 "$T/err")"; fi
}

expect_err missing-dump "$T/nope: cannot open" $VTD -x $VML "$T/nope" units
head -c 20000 $D.kdump-zlib > "$T/trunc.kdump"
expect_err truncated-kdump "$T/trunc.kdump" $VTD -x $VML "$T/trunc.kdump" units
head -c 9000 $D.flat > "$T/trunc.flat"
expect_err truncated-flat "flattened stream truncated: record" $VTD -x $VML "$T/trunc.flat" units
printf 'not a dump at all, just text\n%.0s' $(seq 200) > "$T/text"
expect_err not-a-dump "$T/text" $VTD -x $VML "$T/text" units
expect_err no-vmlinux "no vmlinux for kernel 6.1.0-vtdmock" $VTD $D.kdump-zlib units
expect_err not-elf-vmlinux "not an ELF file" $VTD -x "$T/text" $D.kdump-zlib units
# a vmlinux whose build-id differs from the dump's
/usr/bin/python3 - "$VML" "$T/other-vmlinux" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"GNU\0") + 4          # the build-id note's descriptor
b[i] ^= 0xff
open(sys.argv[2], "wb").write(b)
PY
expect_err wrong-vmlinux "does not match" $VTD -x "$T/other-vmlinux" $D.kdump-zlib units
expect_err bad-bdf "bad bus:dev.fn" $VTD -x $VML $D.kdump-zlib context 00:1x.0
expect_err bad-option "unknown option" $VTD -x $VML $D.kdump-zlib map 00:02.0 --frobnicate
expect_err bad-mode "--mode must be" $VTD --root 0x1000 --mode turbo $D.kdump-zlib context
