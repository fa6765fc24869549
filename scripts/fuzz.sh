#!/usr/bin/env bash
# fuzz.sh -- build the libFuzzer targets of tests/fuzz/ with clang (ASan +
# UBSan) and run each one for a bounded time, one after another.
#
#   scripts/fuzz.sh                      every target for 30 s (what CI runs)
#   scripts/fuzz.sh --seconds 3600       every target for an hour (a long run)
#   scripts/fuzz.sh --targets "sx request" --seconds 600
#
# Options:
#   --seconds N     time per target (default 30)
#   --targets LIST  space-separated subset of: sx frame request seq cid names
#                   store_damage journal (default: all)
#   --build DIR     build directory (default: build-fuzz in the repository)
#   --no-build      use the binaries already in --build
#   --timeout S     one input running longer than S seconds is a hang (default 10)
#
# Each target starts from its seed corpus tests/fuzz/corpus/<target>/ and its
# regression inputs tests/fuzz/regress/<target>/ (read only), and keeps what
# it learns in DIR/fuzz-corpus/<target>/, so later runs go on from there.
# Crashes, leaks, hangs and broken properties are written to
# DIR/fuzz-artifacts/<target>/; the log of each run is DIR/fuzz-logs/<target>.log.
# A found input belongs in tests/fuzz/regress/<target>/ (docs/fuzzing.md).
#
# Exit status: 0 when every target ran its time without a finding, 1 when any
# found something (or failed to build or start), 2 on bad usage.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=30
targets="sx frame request seq cid names store_damage journal"
build="$here/build-fuzz"
do_build=1
timeout=10

usage() {
    sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) [ $# -ge 2 ] || usage; seconds="$2"; shift 2 ;;
    --targets) [ $# -ge 2 ] || usage; targets="$2"; shift 2 ;;
    --build) [ $# -ge 2 ] || usage; build="$2"; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h | --help) usage ;;
    *) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    esac
done
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: --seconds takes a number" >&2; exit 2 ;; esac
case "$timeout" in '' | *[!0-9]*) echo "fuzz.sh: --timeout takes a number" >&2; exit 2 ;; esac

if [ "$do_build" = 1 ]; then
    if ! command -v clang >/dev/null 2>&1; then
        echo "fuzz.sh: clang is needed for libFuzzer" >&2
        exit 1
    fi
    cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DSXP_FUZZ=ON -DSXP_SANITIZE=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.cmake.log" 2>&1 ||
        { cat "$build.cmake.log" >&2; echo "fuzz.sh: cmake failed" >&2; exit 1; }
    cmake --build "$build" -j2 --target fuzz_all >"$build.build.log" 2>&1 ||
        { tail -40 "$build.build.log" >&2; echo "fuzz.sh: build failed" >&2; exit 1; }
fi

# The stateful targets make their stores under $TMPDIR: a tmpfs is much
# faster than a disk for the thousands of small trees they write.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
# Open findings of the nonnull-attribute kind are listed in ubsan.supp; every
# other UBSan check halts. Leaks are errors.
export UBSAN_OPTIONS="suppressions=$here/tests/fuzz/ubsan.supp:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

mkdir -p "$build/fuzz-logs"
status=0
summary=""
for t in $targets; do
    bin="$build/tests/fuzz/fuzz_$t"
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: no target $t ($bin)" >&2
        status=1
        continue
    fi
    work="$build/fuzz-corpus/$t"
    arts="$build/fuzz-artifacts/$t"
    log="$build/fuzz-logs/$t.log"
    mkdir -p "$work" "$arts"
    seeds=("$here/tests/fuzz/corpus/$t")
    [ -d "$here/tests/fuzz/regress/$t" ] && seeds+=("$here/tests/fuzz/regress/$t")
    extra=()
    case "$t" in
    sx | request) extra=(-dict="$here/tests/fuzz/sx.dict") ;;
    # A damage script needs room for several ops from the start; each input
    # is slow (a whole store written, recovered and checked three times), so
    # libFuzzer's slow growth of the length limit would waste the run.
    store_damage) extra=(-max_len=512 -len_control=0) ;;
    journal) extra=(-max_len=256 -len_control=0) ;;
    esac
    echo "fuzz.sh: $t for ${seconds}s (log: $log)"
    start=$(date +%s)
    "$bin" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$arts/" "${extra[@]}" \
        "$work" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    if [ "$rc" = 0 ]; then
        verdict="ok"
    else
        verdict="FOUND (exit $rc): see $arts/ and $log"
        status=1
        grep -E 'fuzz: .*property broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
            "$log" | head -5 >&2
    fi
    line=$(printf '%-13s %6ss %12s execs  %s' "$t" "$took" "${execs:-?}" "$verdict")
    echo "fuzz.sh: $line"
    summary="$summary$line"$'\n'
done

echo
echo "fuzz.sh: summary"
printf '%s' "$summary"
exit $status
