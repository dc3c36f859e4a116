#!/bin/sh
# Run every fuzz target for N seconds over its corpus, seeds and regression
# inputs; PASS/FAIL per target, then "N passed, N failed".
#   scripts/fuzz-run.sh FUZZDIR SECONDS TARGET...
fz=$1; secs=$2; shift 2
pass=0; fail=0
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$(pwd)/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for t in "$@"; do
	mkdir -p "$fz/corpus/$t" "$fz/crashes/$t"
	dirs="$fz/corpus/$t $fz/seeds/$t"
	[ -d "fuzz/regressions/$t" ] && dirs="$dirs fuzz/regressions/$t"
	log=$fz/$t.log
	# regressions first: each must run clean
	if [ -d "fuzz/regressions/$t" ] && ls "fuzz/regressions/$t"/* >/dev/null 2>&1; then
		if ! "$fz/$t" -runs=0 fuzz/regressions/$t/* >"$log" 2>&1; then
			echo "FAIL fuzz/$t: a regression input fails again ($log)"; fail=$((fail + 1)); continue
		fi
	fi
	max=4096; [ "$t" = fuzz_dumpfile ] && max=1048576; [ "$t" = fuzz_flatfix ] && max=1048576; [ "$t" = fuzz_tables ] && max=262208
	[ "$t" = fuzz_btf ] && max=65536; [ "$t" = fuzz_kallsyms ] && max=65536
	if "$fz/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -max_len=$max \
		-artifact_prefix="$fz/crashes/$t/" -print_final_stats=1 $dirs >"$log" 2>&1; then
		echo "PASS fuzz/$t: $(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${secs}s, corpus $(ls "$fz/corpus/$t" | wc -l)"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz/$t: $(grep -a -m1 -E 'ERROR:|runtime error|Timeout|out-of-memory' "$log") (artifacts in $fz/crashes/$t, log $log)"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
