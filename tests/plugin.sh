# crash> vtd: the extension needs nothing beyond crash's exports and libc,
# registers from a constructor, and carries crash-style help.
B=${VTD_BUILD:-build}
SO=$B/vtd.so
if [ "$(basename "$B")" = san ]; then exit 0; fi     # the .so is not built with sanitizers
if [ ! -f "$SO" ]; then echo "FAIL plugin/built: no $SO"; exit 1; fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
nm -D --undefined-only "$SO" | awk '{print $2}' | sed 's/@.*//' | sort -u > "$T/undef"
nm -D --defined-only /usr/bin/crash | awk '{print $3}' | sort -u > "$T/crash"
comm -23 "$T/undef" "$T/crash" > "$T/rest"
# what crash does not export must come from libc (GLIBC-versioned imports)
nm -D --undefined-only "$SO" | awk '{print $2}' | grep -v '@GLIBC' | sed 's/@.*//' | sort -u > "$T/unversioned"
bad=$(comm -12 "$T/rest" "$T/unversioned" | grep -v '^_\(_gmon_start__\|ITM_\)' | grep -v '^$')
if [ -z "$bad" ]; then echo "PASS plugin/symbols: only crash exports and libc"
else echo "FAIL plugin/symbols: unresolved: $(echo $bad | head -c 300)"; fi
if readelf -d "$SO" | grep NEEDED | grep -qv 'libc\.so'; then
	echo "FAIL plugin/needed: $(readelf -d "$SO" | grep NEEDED | tr -s ' ' | head -c 300)"
else echo "PASS plugin/needed: libc only"; fi
for s in register_extension readmem symbol_value datatype_info; do
	grep -qx "$s" "$T/undef" || { echo "FAIL plugin/uses-$s: not imported"; continue; }
	echo "PASS plugin/uses-$s"
done
if strings "$SO" | grep -q '^Intel VT-d (IOMMU) state of the crashed kernel$'; then
	echo "PASS plugin/help"; else echo "FAIL plugin/help: no help text"; fi
