#!/usr/bin/env bash
# test_crash.sh -- the CI smoke of sxp-crash (fault-injection/): a few
# hundred process kills (random and at deterministic kill points), every
# simulated power-loss point of short workloads (sessions without syncs
# and their settle among them, and longer sessions over 3 streams),
# injected I/O errors and the fail-the-Nth-call loop, all seeded, in well
# under three minutes. It fails when any run lost an acknowledged
# operation or broke another guarantee (the summary line's "lost" and
# "bad" must both be 0).
#
# Usage: test_crash.sh BUILD_DIR   (exit 77: sxp-crash was not built)
# The long soak is documented in docs/durability.md.
set -u
build=${1:?usage: test_crash.sh BUILD_DIR}
crash="$build/fault-injection/sxp-crash"
[ -x "$crash" ] || { echo "skip: $crash not built"; exit 77; }
work=$(mktemp -d /tmp/sxp-crash-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
seed=${SXP_CRASH_SEED:-4242}
echo "# seed $seed (set SXP_CRASH_SEED to change it)"
status=0

run() {
    local name=$1
    shift
    local start=$SECONDS
    local out
    out=$("$crash" --seed "$seed" --dir "$work/$name" "$@" 2>&1)
    local rc=$?
    local summary
    summary=$(printf '%s\n' "$out" | grep '^sxp-crash: mode' | tail -1)
    echo "$summary ($((SECONDS - start)) s)"
    if [ "$rc" -ne 0 ] || ! printf '%s\n' "$summary" | grep -q ' lost 0 bad 0 '; then
        printf '%s\n' "$out" | grep -v '^sxp-crash: mode' | head -40
        echo "FAIL: sxp-crash $name (exit $rc): $*"
        status=1
    fi
}

# SXP_CRASH_QUICK=1 (the sanitizer build in ./check) runs a sixth to a
# third of it: under ASan it is the longest test of CI, which has 15 minutes.
if [ "${SXP_CRASH_QUICK:-0}" = 1 ]; then
    run kill --mode kill --runs 25 --duration-ms 60 --threads 4
    run points --mode points --ops 3
    run sim --mode sim --runs 2 --ops 12 --threads 4 --max-points 60
    run sim-wide --mode sim --runs 2 --ops 40 --streams 3 --threads 1 --max-points 80 --seed 99
    run errors --mode errors --runs 1
    run loop --mode loop --ops 3
    exit $status
fi
run kill --mode kill --runs 150 --duration-ms 60 --threads 4
run points --mode points --ops 8
run sim --mode sim --runs 8 --ops 12 --threads 4 --max-points 120
run sim-long --mode sim --runs 2 --ops 120 --streams 1 --threads 4 --max-points 60
# Longer sessions over 3 streams, at a fixed seed whose runs 6 and 17 found
# two bugs (a torn .seq under SXP_SYNC_NONE, docs/durability.md; a clean
# close after a failed directory fsync marked LOCK clean, lock.h K-3):
# about 40 s.
run sim-wide --mode sim --runs 18 --ops 40 --streams 3 --threads 1 --max-points 80 --seed 99
run errors --mode errors --runs 2
run loop --mode loop --ops 8
exit $status
