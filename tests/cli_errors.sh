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
expect_err no-kinfo "VMCOREINFO has no kallsyms" $VTD --no-vmlinux $D.nokinfo.kdump units
expect_err bad-btf "$T/text: cannot read BTF" $VTD --btf "$T/text" $D.kdump-zlib units
printf 'ffffffff81000000 T init_top_pgt\nffffffff81001000 T _text\n' > "$T/kallsyms"
expect_err kallsyms-other-boot "is not from the dumped boot" $VTD --kallsyms "$T/kallsyms" $D.kdump-zlib units
expect_err kallsyms-garbage "$T/text: kallsyms line 1" $VTD --kallsyms "$T/text" $D.kdump-zlib units
expect_err scan-usage "usage: scan [N]" $VTD $D.kdump-zlib scan 0
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
# restore: never over the dump itself, never a partial output
expect_err restore-usage "usage: vtd [-x VMLINUX] [--json] restore" $VTD -x $VML restore $D.kdump-zlib
expect_err restore-in-place "refusing to write over the dump itself" $VTD -x $VML restore $D.kdump-zlib $D.kdump-zlib
expect_err restore-bad-dir "/nonexistent-dir/out" $VTD -x $VML restore $D.kdump-zlib /nonexistent-dir/out
expect_err undo-no-record "carries no marks record" $VTD restore --undo $D.kdump-zlib "$T/back"
$VTD -x $VML restore $D.kdump-zlib "$T/r.kdump" >/dev/null 2>&1
expect_err restore-twice "already carries a marks record" $VTD -x $VML restore "$T/r.kdump" "$T/r2.kdump"
expect_err marks-bad-reason "unknown reason 'DIRTY'" $VTD -x $VML $D.kdump-zlib marks --reason DIRTY
if ls -a "$T" | grep -q '\.vtd[A-Za-z0-9]\{6\}$' || [ -e "$T/r2.kdump" ] || [ -e "$T/back" ]; then
	echo "FAIL cli-errors/no-leftovers: $(ls -a "$T" | tr '\n' ' ')"
else echo "PASS cli-errors/no-leftovers"; fi
