#!/usr/bin/env bash
# Run the libFuzzer harnesses for a bounded time ("make fuzz").
#
#   FUZZ_SECONDS=60 test/fuzz/run.sh TARGET...
#
# Each target fuzz_TARGET (test/fuzz/build/, built by make) runs for
# FUZZ_SECONDS with a scratch corpus in test/fuzz/work/TARGET, seeded from
# the committed corpus test/fuzz/corpus/TARGET.  Then the two are merged
# into a minimal set with the same coverage, which replaces the committed
# corpus (review and commit it: TAP 003 replays it in "make test").
# A crash stops that target and leaves the input as
# test/fuzz/work/TARGET-crash-*; the script then exits 1.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
rc=0
for t in "$@"; do
	bin=test/fuzz/build/fuzz_$t
	corpus=test/fuzz/corpus/$t
	work=test/fuzz/work/$t
	log=test/fuzz/work/$t.log
	mkdir -p "$corpus" "$work"
	if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-artifact_prefix="test/fuzz/work/$t-" "$work" "$corpus" >"$log" 2>&1; then
		echo "fuzz $t: FAILED, see $log and test/fuzz/work/$t-*" >&2
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -n 20 "$log" >&2
		rc=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	# minimal corpus with the coverage of both
	rm -rf "$work.min" && mkdir -p "$work.min"
	"$bin" -merge=1 "$work.min" "$corpus" "$work" >>"$log" 2>&1 || {
		echo "fuzz $t: merge failed, see $log" >&2
		rc=1
		continue
	}
	rm -rf "$corpus" && mv "$work.min" "$corpus"
	echo "fuzz $t: ${runs:-?} executions in ${seconds} s, no crash; corpus $corpus: $(ls "$corpus" | wc -l) inputs, $(cat "$corpus"/* | wc -c) bytes"
done
exit $rc
