#!/usr/bin/env bash
# test_disk_full.sh BUILD_DIR -- a real full disk: a store on a small tmpfs
# takes appends until the filesystem has no space left, through each
# backend (io_uring and plain syscalls). Every append is answered, the
# failures with a clear error. Once the space comes back the same server
# session takes appends on every stream again (engine/revive.c), each
# stream holds exactly the acknowledged events, the close is clean, the
# reopen reads the same, and sxp-fsck -n finds the store clean. Kv and blob
# writes on the full disk fail the same way and leave nothing behind.
# Needs root to mount a tmpfs (exit 77 where that is not allowed).
set -u

build=${1:?usage: test_disk_full.sh BUILD_DIR}
sxp="$build/cli/sxp"
fsck="$build/fsck/sxp-fsck"
[ -x "$sxp" ] && [ -x "$fsck" ] || { echo "skip: sxp or sxp-fsck not built"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sxp-disk-full-XXXXXX")
mnt="$work/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
    rm -rf "$work"
    echo "skip: cannot mount a tmpfs here"
    exit 77
fi
trap 'umount "$mnt" 2>/dev/null; umount "$work/ro" 2>/dev/null; rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# requests N K: N appends of 100-byte payloads, round robin over s0..s(K-1);
# request i (from 0) goes to s(i % K) with seq i / K + 1.
requests() {
    local n=$1 k=$2 i pad
    pad=$(printf 'x%.0s' $(seq 1 100))
    for ((i = 0; i < n; i++)); do
        printf '(persist/append "s%d" {:seq %d :data "%s"})\n' $((i % k)) $((i / k + 1)) "$pad"
    done
}

# fill IO K N FREE_KB: a server session on a fresh store over a disk with
# about FREE_KB left takes N appends over K streams until the disk is full;
# then the room comes back and the checks of the header above run.
fill() {
    local io=$1 k=$2 n=$3 free_kb=$4 fails_before=$fails line i s got
    local store="$mnt/store"
    rm -rf "${mnt:?}"/*
    local total_kb
    total_kb=$(df -k --output=avail "$mnt" | tail -1)
    dd if=/dev/zero of="$mnt/filler" bs=1k count=$((total_kb - free_kb)) status=none
    # One server session for all of it: the requests go in through one FIFO
    # (from the background, so that neither side waits on a full pipe) and
    # the answers come back through another.
    rm -f "$work/in" "$work/out.fifo"
    mkfifo "$work/in" "$work/out.fifo"
    SXP_IO=$io "$sxp" --dir "$store" serve --stdio <"$work/in" >"$work/out.fifo" 2>"$work/err" &
    local srv=$!
    exec {to_srv}>"$work/in" {from_srv}<"$work/out.fifo"
    requests "$n" "$k" >&"$to_srv" &
    local feeder=$!
    : >"$work/out"
    for ((i = 0; i < n; i++)); do
        IFS= read -r line <&"$from_srv" || break
        printf '%s\n' "$line" >>"$work/out"
    done
    wait "$feeder"
    [ "$(wc -l <"$work/out")" -eq "$n" ] || fail "$io/$k: $(wc -l <"$work/out") answers to $n"
    grep -q '^(error "io" "append to stream \\"s[0-9]*\\": No space left on device")$' \
        "$work/out" || fail "$io/$k: no append failed with 'No space left on device'"
    if grep -v '^(ok' "$work/out" | grep -qv 'No space left on device'; then
        fail "$io/$k: an error that does not name the full disk:"
        grep -v '^(ok' "$work/out" | grep -v 'No space left on device' | head -3
    fi
    # The acknowledged seqs of each stream, in order.
    local -A acked=()
    i=0
    while read -r line; do
        [[ $line == "(ok"* ]] && acked[s$((i % k))]+="$((i / k + 1))"$'\n'
        i=$((i + 1))
    done <"$work/out"
    [ -n "${acked[s0]:-}" ] || fail "$io/$k: nothing was acknowledged before the disk filled"

    # Space comes back. The same session takes appends on every stream
    # again (a stream whose log write failed is revived, engine/revive.c),
    # and each holds exactly what was acknowledged: nothing of a failed
    # append.
    rm -f "$mnt/filler"
    for ((i = 0; i < k; i++)); do
        s=s$i
        printf '(persist/append "%s" {:seq 100000 :data "room again"})\n' "$s" >&"$to_srv"
        IFS= read -r line <&"$from_srv"
        [[ $line == "(ok"* ]] || fail "$io/$k: append to $s once the space came back: $line"
        acked[$s]+=$'100000\n'
        printf '(persist/read "%s")\n' "$s" >&"$to_srv"
        IFS= read -r line <&"$from_srv"
        got=$(printf '%s\n' "$line" | grep -o ':seq [0-9]*' | cut -d' ' -f2)
        [ "$got"$'\n' = "${acked[$s]}" ] ||
            fail "$io/$k: $s holds other events than those acknowledged, in the same session"
    done
    exec {to_srv}>&- {from_srv}<&-
    wait "$srv" || fail "$io/$k: the server's close failed: $(tail -2 "$work/err")"
    # The close was clean: the reopen recovers nothing, and reads the same.
    SXP_IO=$io "$sxp" --dir "$store" stat | grep -q '^recovered: *no$' ||
        fail "$io/$k: the store was not closed cleanly"
    for ((i = 0; i < k; i++)); do
        got=$(SXP_IO=$io "$sxp" --dir "$store" read "s$i" | grep -o ':seq [0-9]*' | cut -d' ' -f2)
        [ "$got"$'\n' = "${acked[s$i]}" ] || fail "$io/$k: s$i after the reopen"
    done
    "$fsck" -n "$store" >"$work/fsck" 2>&1 || {
        fail "$io/$k: sxp-fsck -n after the reopen"
        cat "$work/fsck"
    }
    local nacked=0
    for s in "${!acked[@]}"; do
        nacked=$((nacked + $(printf '%s' "${acked[$s]}" | wc -l) - 1))
    done
    [ "$fails" -eq "$fails_before" ] &&
        echo "ok: $io: $k streams: $nacked of $n appends acknowledged before the disk filled," \
            "all kept, none failed shown; appends go on in the same session"
}

for io in uring sync; do
    fill "$io" 3 3000 300 # a few streams: their logs fill the disk
    fill "$io" 60 9000 1100 # many: journaled rounds, creations and logs fill it

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
    srv_in=${SRV[1]}
    exec {srv_in}>&- # the server's input ends: it closes the store and exits
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

# A store on a filesystem mounted read-only: a writer is refused, and told
# that a read-only open reads it; the read-only open does.
ro="$work/ro"
mkdir -p "$ro"
if mount -t tmpfs -o size=1m tmpfs "$ro" 2>/dev/null; then
    "$sxp" --dir "$ro/s" append a '{:seq 1}' >/dev/null || fail "append before the remount"
    if mount -o remount,ro "$ro" 2>/dev/null; then
        if out=$("$sxp" --dir "$ro/s" append a '{:seq 2}' 2>&1); then
            fail "an append on a read-only filesystem succeeded"
        fi
        [[ $out == *"Read-only file system: a writer cannot take the store here; a read-only open reads it"* ]] ||
            fail "the refusal on a read-only filesystem: $out"
        [ "$("$sxp" --read-only --dir "$ro/s" read a)" = '{:seq 1}' ] || fail "the read-only open"
        echo "ok: a read-only filesystem: the writer is pointed to --read-only"
    fi
    umount "$ro"
fi

[ "$fails" -eq 0 ] || exit 1
echo "test_disk_full: ok"
