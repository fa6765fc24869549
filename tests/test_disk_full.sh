#!/usr/bin/env bash
# test_disk_full.sh BUILD_DIR -- a real full disk: a store on a small tmpfs
# takes appends until the filesystem has no space left, through each
# backend (io_uring and plain syscalls). Every append is answered, the
# failures with a clear error; every acknowledged event is there after the
# space comes back and the store is reopened (recovery), sxp-fsck -n then
# finds the store clean, and appends go on. Kv and blob writes on the full
# disk fail the same way and leave nothing behind.
# Needs root to mount a tmpfs (exit 77 where that is not allowed).
set -u

build=${1:?usage: test_disk_full.sh BUILD_DIR}
sxp="$build/cli/sxp"
fsck="$build/fsck/sxp-fsck"
[ -x "$sxp" ] && [ -x "$fsck" ] || { echo "skip: sxp or sxp-fsck not built"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sxp-disk-full-XXXXXX")
mnt="$work/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=2m tmpfs "$mnt" 2>/dev/null; then
    rm -rf "$work"
    echo "skip: cannot mount a tmpfs here"
    exit 77
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# requests N: N appends of 100-byte payloads, round robin over s0, s1, s2.
requests() {
    local n=$1 i pad
    pad=$(printf 'x%.0s' $(seq 1 100))
    for ((i = 1; i <= n; i++)); do
        printf '(persist/append "s%d" {:seq %d :data "%s"})\n' $((i % 3)) $(((i + 2) / 3)) "$pad"
    done
}

for io in uring sync; do
    fails_before=$fails
    rm -rf "${mnt:?}"/*
    store="$mnt/store"
    # Leave about 300 KiB free, so the disk fills after a few thousand appends.
    dd if=/dev/zero of="$mnt/filler" bs=1k count=1700 status=none
    requests 3000 | SXP_IO=$io "$sxp" --dir "$store" serve --stdio >"$work/out" 2>"$work/err"
    answers=$(wc -l <"$work/out")
    [ "$answers" -eq 3000 ] || fail "$io: $answers answers to 3000 requests"
    grep -q '^(error "io" "append to stream \\"s[012]\\": No space left on device")$' "$work/out" ||
        fail "$io: no append failed with 'No space left on device'"
    if grep -v '^(ok' "$work/out" | grep -qv 'No space left on device'; then
        fail "$io: an error that does not name the full disk:"
        grep -v '^(ok' "$work/out" | grep -v 'No space left on device' | head -3
    fi
    # The highest acknowledged seq of each stream.
    declare -A acked=([s0]=0 [s1]=0 [s2]=0)
    n=0
    while read -r line; do
        n=$((n + 1))
        if [[ $line == "(ok"* ]]; then
            acked[s$((n % 3))]=$(((n + 2) / 3))
        fi
    done <"$work/out"
    [ "${acked[s0]}" -gt 0 ] || fail "$io: nothing was acknowledged before the disk filled"

    # Space comes back; the reopen recovers; every acknowledged event is there.
    rm -f "$mnt/filler"
    for s in s0 s1 s2; do
        seqs=$(SXP_IO=$io "$sxp" --dir "$store" read "$s" | grep -o ':seq [0-9]*' | cut -d' ' -f2)
        want=$(seq 1 "${acked[$s]}")
        got=$(printf '%s\n' "$seqs" | head -n "${acked[$s]}")
        [ "$got" = "$want" ] || fail "$io: $s lost acknowledged events (acked 1..${acked[$s]})"
        last=$(printf '%s\n' "$seqs" | tail -1)
        [ "${last:-0}" -le $((acked[$s] + 1)) ] ||
            fail "$io: $s holds seq $last, past the one append that failed"
    done
    SXP_IO=$io "$sxp" --dir "$store" append s1 '{:seq 100000}' >/dev/null ||
        fail "$io: append after the space came back"
    "$fsck" -n "$store" >"$work/fsck" 2>&1 || {
        fail "$io: sxp-fsck -n after the reopen"
        cat "$work/fsck"
    }
    [ "$fails" -eq "$fails_before" ] &&
        echo "ok: $io: acknowledged s0..s2 = ${acked[s0]} ${acked[s1]} ${acked[s2]}, all kept"
    unset acked

    # Kv and blob writes on a full disk fail cleanly and leave nothing.
    fails_before=$fails
    rm -rf "${mnt:?}"/*
    kvs="$mnt/kvstore"
    SXP_IO=$io "$sxp" --dir "$kvs" kv put old '"kept"' >/dev/null || fail "$io: kv put on room"
    # The server has the store open (it answered) before the disk fills up.
    coproc SRV { SXP_IO=$io "$sxp" --dir "$kvs" serve --stdio 2>&1; }
    ask() {
        local answer
        printf '%s\n' "$1" >&"${SRV[1]}"
        IFS= read -r answer <&"${SRV[0]}"
        printf '%s\n' "$answer"
    }
    [ "$(ask '(persist/kv-get "old")')" = '(ok "kept")' ] || fail "$io: kv-get before"
    dd if=/dev/zero of="$mnt/filler" bs=4k status=none 2>/dev/null # until the disk is full
    big=$(printf 'y%.0s' $(seq 1 8192))
    blob=$(head -c 100000 /dev/urandom | base32 -w0)
    a=$(ask "(persist/kv-put \"new\" \"$big\")")
    [[ $a == '(error "io" '*'No space left on device")' ]] || fail "$io: kv-put on a full disk: $a"
    a=$(ask "(blob/put \"$blob\")")
    [[ $a == '(error "io" '*'No space left on device")' ]] || fail "$io: blob/put on a full disk: $a"
    [ "$(ask '(persist/kv-get "old")')" = '(ok "kept")' ] || fail "$io: kv-get after"
    [ "$(ask '(persist/kv-get "new")')" = '(ok nil)' ] || fail "$io: the failed kv-put shows"
    exec {SRV[1]}>&-
    wait "$SRV_PID"
    [ -z "$(find "$kvs" -name '*.tmp')" ] || fail "$io: a temp file stayed"
    rm -f "$mnt/filler"
    [ "$(SXP_IO=$io "$sxp" --dir "$kvs" kv get old)" = '"kept"' ] || fail "$io: the old value"
    [ "$(SXP_IO=$io "$sxp" --dir "$kvs" kv get new)" = 'nil' ] || fail "$io: the failed put shows"
    SXP_IO=$io "$sxp" --dir "$kvs" kv put new '"now"' >/dev/null || fail "$io: kv put with room"
    "$fsck" -n "$kvs" >"$work/fsck" 2>&1 || {
        fail "$io: sxp-fsck -n after the failed kv and blob writes"
        cat "$work/fsck"
    }
    [ "$fails" -eq "$fails_before" ] && echo "ok: $io: kv and blob writes on a full disk"
done

[ "$fails" -eq 0 ] || exit 1
echo "test_disk_full: ok"
