#!/usr/bin/env bash
# test_low_fd_limit.sh BUILD_DIR -- a store used by a process whose
# RLIMIT_NOFILE is low (128 here; 1,024 is a common default). A session
# that writes 1,000 streams through the journal and is killed leaves 1,000
# records; the next open must write them back without holding a descriptor
# per log at once (engine/journal.c, recovery/recover.c), and so must
# sxp-fsck -p. Every acknowledged event is then there and fsck is clean.
set -u

build=${1:?usage: test_low_fd_limit.sh BUILD_DIR}
sxp="$build/cli/sxp"
fsck="$build/fsck/sxp-fsck"
[ -x "$sxp" ] && [ -x "$fsck" ] || { echo "skip: sxp or sxp-fsck not built"; exit 77; }
ulimit -n 128 || { echo "skip: cannot lower RLIMIT_NOFILE"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sxp-low-fd-XXXXXX")
trap 'rm -rf "$work"' EXIT
store="$work/store"
streams=1000
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# A first session creates the streams and closes cleanly.
for ((i = 0; i < streams; i++)); do
    printf '(persist/append "w%d" {:seq 1})\n' "$i"
done | "$sxp" --dir "$store" serve --stdio >"$work/out1" 2>&1
[ "$(grep -c '^(ok nil)$' "$work/out1")" -eq "$streams" ] || fail "session 1: $(head -3 "$work/out1")"

# A second one appends seq 2 to every stream (a session's first append to
# a log goes through the journal), each acknowledged, then is killed.
coproc SRV { exec "$sxp" --dir "$store" serve --stdio 2>&1; }
acked=0
pid=$SRV_PID
for ((i = 0; i < streams; i++)); do
    if [ -z "${SRV[1]:-}" ]; then
        fail "the server stopped after $acked appends"
        break
    fi
    printf '(persist/append "w%d" {:seq 2})\n' "$i" >&"${SRV[1]}"
    IFS= read -r answer <&"${SRV[0]}" || answer="(no answer)"
    [ "$answer" = '(ok nil)' ] && acked=$((acked + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ "$acked" -eq "$streams" ] || fail "session 2 acknowledged $acked of $streams appends"

cp -a "$store" "$work/copy"

# The open recovers under the limit; every stream is at seq 2.
for ((i = 0; i < streams; i++)); do
    printf '(persist/last-seq "w%d")\n' "$i"
done | "$sxp" --dir "$store" serve --stdio >"$work/out3" 2>&1
[ "$(grep -c '^(ok 2)$' "$work/out3")" -eq "$streams" ] ||
    fail "after recovery: $(grep -v '^(ok 2)$' "$work/out3" | head -3)"
"$fsck" -n "$store" >"$work/fsck" 2>&1 || fail "sxp-fsck -n after recovery: $(tail -1 "$work/fsck")"

# sxp-fsck -p writes the journal back under the limit too.
"$fsck" -p "$work/copy" >"$work/fsck" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "sxp-fsck -p on the killed store: exit $rc: $(tail -1 "$work/fsck")"
"$fsck" -n "$work/copy" >"$work/fsck" 2>&1 || fail "sxp-fsck -n after -p: $(tail -1 "$work/fsck")"
[ "$("$sxp" --dir "$work/copy" last-seq w999)" = 2 ] || fail "w999 after sxp-fsck -p"

# A close under a lower limit still writes its marks: the .seq files go
# out in chunks of a quarter of RLIMIT_NOFILE (engine/seqfile.c), not 64
# temp files at once (which ran out of descriptors under 64: the close
# failed and left LOCK unclean).
low="$work/low"
(
    ulimit -n 48 || exit 77
    for ((i = 0; i < 200; i++)); do
        printf '(persist/append "n%d" {:seq 1})\n' "$i"
    done | "$sxp" --dir "$low" serve --stdio >"$work/out4" 2>&1
) || fail "200 new streams under RLIMIT_NOFILE 48: $(grep -v '^(ok nil)$' "$work/out4" | head -3)"
[ "$(head -1 "$low/LOCK" 2>/dev/null)" = clean ] || fail "under RLIMIT_NOFILE 48 LOCK reads: $(head -1 "$low/LOCK")"
[ "$("$sxp" --dir "$low" last-seq n199)" = 1 ] || fail "n199 after the close under RLIMIT_NOFILE 48"

[ "$fails" -eq 0 ] || exit 1
echo "test_low_fd_limit: ok ($streams streams, RLIMIT_NOFILE $(ulimit -n))"
