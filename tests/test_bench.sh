#!/usr/bin/env bash
# test_bench.sh -- sxp-bench --quick runs, exits 0, prints every row of its
# registry, writes valid JSON, leaves no scratch directory behind and, when
# gnuplot is installed, draws the three charts; --rounds runs each row in
# turns and pools them (a count-bound row sums its rounds' events).
# Usage: test_bench.sh BUILD_DIR
set -u
build=${1:?usage: test_bench.sh BUILD_DIR}
bench="$build/bench/sxp-bench"
if [ ! -x "$bench" ]; then
    echo "test_bench: $bench not built" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sxp-test-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0

plot_args=()
if command -v gnuplot >/dev/null 2>&1; then
    plot_args=(--plot "$tmp/plot")
fi

start=$(date +%s)
timeout 120 "$bench" --quick --dir "$tmp" --json "$tmp/out.json" "${plot_args[@]}" \
    >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
elapsed=$(( $(date +%s) - start ))
if [ "$rc" -ne 0 ]; then
    echo "test_bench: sxp-bench --quick exited $rc" >&2
    cat "$tmp/out.txt" "$tmp/err.txt" >&2
    exit 1
fi
echo "test_bench: --quick took ${elapsed}s"

# Every row of the registry is printed (a row that cannot run on this
# machine is printed as SKIPPED with the reason), and none failed.
"$bench" --list >"$tmp/rows.txt" || { echo "test_bench: --list failed" >&2; exit 1; }
nrows=0
while read -r name; do
    nrows=$((nrows + 1))
    if ! grep -q -- "^$name " "$tmp/out.txt"; then
        echo "test_bench: row $name is missing from the table" >&2
        fail=1
    fi
done <"$tmp/rows.txt"
if [ "$nrows" -lt 20 ]; then
    echo "test_bench: --list printed only $nrows rows" >&2
    fail=1
fi
if grep -q "FAILED" "$tmp/out.txt"; then
    echo "test_bench: a row failed:" >&2
    grep "FAILED" "$tmp/out.txt" >&2
    fail=1
fi
if ! grep -q "^Target ratios" "$tmp/out.txt"; then
    echo "test_bench: the target ratios are missing" >&2
    fail=1
fi
# Each MISS is counted in one closing line that says it does not fail.
misses=$(grep -c " MISS$" "$tmp/out.txt")
if [ "$misses" -gt 0 ] && ! grep -q "^$misses targets\? missed (MISS is a finding" "$tmp/out.txt"; then
    echo "test_bench: $misses MISS lines but no line counting them" >&2
    fail=1
fi

# The JSON file holds one entry per row.
if command -v python3 >/dev/null 2>&1; then
    if ! python3 - "$tmp/out.json" "$nrows" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["rows"]
assert len(rows) == int(sys.argv[2]), (len(rows), sys.argv[2])
assert all(r["ok"] or r["skipped"] for r in rows), [r["name"] for r in rows if not r["ok"]]
# R-6: the close after the region is timed for the engines' write rows,
# and only there.
ran = {r["name"]: r for r in rows if not r["skipped"]}
for name in ("sxp/append", "sxp/writers-8-own-streams", "sxp/growth-streams-1000"):
    c = ran[name]["close_s"]
    assert isinstance(c, float) and c >= 0, (name, c)
for name in ("limit/write-fdatasync", "limit/per-8-lines"):
    assert ran[name]["close_s"] is None, (name, ran[name]["close_s"])
# Opens are no rate: null in the JSON, as "-" in the table.
opens = [r for r in ran.values() if r["name"].startswith("sxp/open-")]
assert opens and all(r["no_rate"] is True and r["events_per_s"] is None for r in opens)
assert ran["sxp/append"]["no_rate"] is False and ran["sxp/append"]["events_per_s"] > 0
# The 100,000-stream ratio with the closes' time: below the region's own,
# since the wide row's close takes longer than the one stream's.
ratios = {x["label"]: x for x in doc["ratios"]}
for mode in ("durable", "no-sync"):
    closed = ratios["100,000 streams vs 1 stream, %s, with the closes' time" % mode]
    assert closed["pass"] is None and closed["value"] > 0, closed
PY
    then
        echo "test_bench: bad JSON output" >&2
        fail=1
    fi
fi

# The scratch directory is gone.
if ls -d "$tmp"/sxp-bench.* >/dev/null 2>&1; then
    echo "test_bench: the scratch directory was left behind" >&2
    fail=1
fi

# --rounds 2: rows that stop at their count (200 events under --quick) run
# twice each, 100 events a time, and each is printed once with 200; the
# row that appends to a shared fixture goes on after its first run.
if ! timeout 120 "$bench" --quick --rounds 2 --seconds 20 --dir "$tmp" \
    --only 'limit/write-fdatasyn[c],sxp/appen[d],sxp/growth-log-1[m]' --json "$tmp/rounds.json" \
    >"$tmp/rounds.txt" 2>&1; then
    echo "test_bench: sxp-bench --rounds 2 failed" >&2
    cat "$tmp/rounds.txt" >&2
    fail=1
fi
for name in limit/write-fdatasync sxp/append sxp/growth-log-1m; do
    if [ "$(grep -c -- "^$name " "$tmp/rounds.txt")" -ne 1 ]; then
        echo "test_bench: --rounds 2 did not print $name exactly once" >&2
        fail=1
    fi
done
if command -v python3 >/dev/null 2>&1; then
    if ! python3 - "$tmp/rounds.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["rounds"] == 2, doc["rounds"]
ran = {r["name"]: r for r in doc["rows"] if not r["skipped"]}
assert set(ran) == {"limit/write-fdatasync", "sxp/append", "sxp/growth-log-1m"}, sorted(ran)
for r in ran.values():
    assert r["ok"] and r["events"] == 200, (r["name"], r["events"])
assert ran["sxp/append"]["close_s"] >= 0, ran["sxp/append"]["close_s"]
assert ran["limit/write-fdatasync"]["close_s"] is None
PY
    then
        echo "test_bench: --rounds 2 did not pool its rounds" >&2
        fail=1
    fi
fi
if "$bench" --rounds 0 --list >/dev/null 2>&1; then
    echo "test_bench: --rounds 0 was accepted" >&2
    fail=1
fi

if [ ${#plot_args[@]} -gt 0 ]; then
    for png in throughput_writers.png latency_cdf_1.png latency_cdf_8.png; do
        if [ ! -s "$tmp/plot/$png" ]; then
            echo "test_bench: chart $png was not drawn" >&2
            fail=1
        fi
    done
fi
exit $fail
