# A short fuzzing pass (make check): every fuzz target for FUZZ_SECONDS
# (default 8) over its seeds, corpus and regression inputs.  Long runs:
# make fuzz FUZZ_SECONDS=3600.  Runs once, with the normal build.
[ "${VTD_BUILD:-build}" = build ] || exit 0
[ -x build/fuzz/fuzz_tables ] || { echo "FAIL fuzz: build/fuzz not built (make fuzz-build)"; exit 0; }
sh scripts/fuzz-run.sh build/fuzz "${FUZZ_SECONDS:-8}" $(cd fuzz && ls fuzz_*.c | sed 's/\.c$//') | grep -E '^(PASS|FAIL) '
exit 0
