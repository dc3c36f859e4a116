# vtd with no vmlinux: the dump's own BTF and kallsyms, the structural scan
# (tests/cli_kinfo.py).
exec /usr/bin/python3 tests/cli_kinfo.py
