#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Run the libFuzzer targets, one after another, for SECONDS each:
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is a build configured with clang and -DSSHPOOL_FUZZ=ON (and
# built with "cmake --build BUILD_DIR --target fuzz").  Each target starts
# from a copy of its seed corpus (fuzz/corpus/TARGET, without the "fuzz_"
# prefix) in a temporary directory, so nothing is ever written into the
# repository.  Prints the executions, exec/s and coverage of each target;
# exits 1 if any target crashed, leaked, ran out of memory or timed out, and
# then keeps the temporary directory and prints the reproducer's path.

set -uo pipefail

usage() {
	echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
build=$(cd "$1" 2>/dev/null && pwd -P) || {
	echo "$0: no build directory $1" >&2
	exit 2
}
secs=$2
shift 2
case $secs in '' | *[!0-9]*) usage ;; esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_proto fuzz_event fuzz_config fuzz_knownhosts fuzz_agentmsg)

here=$(cd "$(dirname "$0")" && pwd -P)
work=$(mktemp -d /tmp/sshpool-fuzz.XXXXXX) || exit 1
failed=0

# A crash stops a target early; UBSan must abort so libFuzzer sees it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Fields of libFuzzer's final report; "?" when missing.
stat() {
	local v
	v=$(sed -n "s/^stat::$1: *//p" "$2" | tail -n 1)
	echo "${v:-?}"
}

for t in "${targets[@]}"; do
	bin=$build/fuzz/$t
	name=${t#fuzz_}
	if [ ! -x "$bin" ]; then
		echo "$t: $bin not built" >&2
		failed=1
		continue
	fi
	mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
	cp "$here/corpus/$name/"* "$work/$name/corpus/" 2>/dev/null
	dict=()
	[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
	log=$work/$name/log
	echo "== $t: ${secs}s"
	# One process per target (no -jobs, which would also write
	# fuzz-N.log files into the current directory); run from the
	# temporary directory so nothing else lands in the caller's.
	(cd "$work" && "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$work/$name/artifacts/" "${dict[@]}" \
	    "$work/$name/corpus") >"$log" 2>&1
	rc=$?
	# The last status line carries the final coverage numbers.
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 |
	    sed -n 's/.*\(cov: [0-9]* ft: [0-9]* corp: [^ ]*\).*/\1/p')
	printf '%s: execs %s, exec/s %s, %s, new units %s, peak rss %s MB\n' \
	    "$t" "$(stat number_of_executed_units "$log")" \
	    "$(stat average_exec_per_sec "$log")" "${cov:-cov ?}" \
	    "$(stat new_units_added "$log")" "$(stat peak_rss_mb "$log")"
	if [ $rc -ne 0 ]; then
		failed=1
		echo "$t: FAILED (exit $rc); log: $log" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|.*runtime error)' \
		    "$log" | head -n 5 >&2
		repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		    tail -n 1)
		if [ -n "$repro" ]; then
			echo "$t: reproducer: $repro" >&2
			echo "$t: replay with: $bin $repro" >&2
		fi
	fi
done

if [ $failed -ne 0 ]; then
	echo "fuzzing failed; kept $work" >&2
	exit 1
fi
rm -rf "$work"
echo "== fuzzing: no findings"
