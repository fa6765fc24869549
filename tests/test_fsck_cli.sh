#!/usr/bin/env bash
# test_fsck_cli.sh BUILD_DIR -- the sxp-fsck command's exit statuses, as
# fsck/checks.h defines them, on copies of tests/data/legacy (upgraded to a
# framed store, then damaged with dd). The library is tested in
# test_fsck.c; this checks the binary around it.
set -u

build=${1:?usage: test_fsck_cli.sh BUILD_DIR}
fsck="$build/fsck/sxp-fsck"
sxp="$build/cli/sxp"
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$fsck" ] || { echo "no $fsck"; exit 77; }
command -v flock >/dev/null || { echo "no flock(1)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sxp-fsck-cli-XXXXXX")
server=
trap '[ -n "$server" ] && kill -KILL "$server" 2>/dev/null; [ -n "${shm:-}" ] && rm -rf "$shm"; rm -rf "$work"' EXIT
fails=0

# expect STATUS WHAT -- COMMAND...: runs it, compares the exit status.
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$work/out" 2>"$work/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"
        sed 's/^/  out: /' "$work/out"
        sed 's/^/  err: /' "$work/err"
        fails=$((fails + 1))
    else
        echo "ok: $what (exit $got)"
    fi
}

# contains FILE TEXT WHAT
contains() {
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL: $3: no '$2' in:"
        sed 's/^/  /' "$1"
        fails=$((fails + 1))
    fi
}

fresh() {
    rm -rf "$work/s"
    cp -r "$here/data/legacy" "$work/s"
}

log="$work/s/streams/6f7264657273.log"

expect 0 "--help" -- "$fsck" --help
contains "$work/out" "seq-unreadable" "--help lists the codes"
contains "$work/out" "16  bad usage" "--help lists the exit statuses"
expect 16 "unknown option" -- "$fsck" --frobnicate
expect 16 "two modes" -- "$fsck" -n -y "$work"
expect 16 "--upgrade with -n" -- "$fsck" -n --upgrade "$work"
expect 16 "two directories" -- "$fsck" "$work" "$work"
expect 8 "missing store" -- "$fsck" "$work/nope"

fresh
expect 0 "legacy store: warnings only" -- "$fsck" "$work/s"
contains "$work/out" "[legacy-line, warning]" "legacy lines are reported"
contains "$work/out" "no FORMAT file: a legacy store written by the reference" "the reference's store is named so"
[ -s "$work/err" ] && { echo "FAIL: stderr not empty without a terminal"; fails=$((fails + 1)); }
expect 0 "--upgrade alone implies -p" -- "$fsck" --upgrade "$work/s"
contains "$work/out" " upgraded); exit 0" "the summary counts what --upgrade did"
expect 0 "upgraded store is clean" -- "$fsck" -n "$work/s"
contains "$work/out" "0 warnings" "no warnings after --upgrade"

# -n leaves even access times, of directories too (docs/fsck.md, Modes).
# Old atimes make any read update them, relatime or not; a control copy
# listed with ls(1) shows that this filesystem does, else the check is moot.
# (stat(1), as find(1) would read the directories it reports.)
atimes() { stat -c '%x %n' "$1" "$1/streams" "$1/kv" "$1/blobs"; }
cp -r "$work/s" "$work/ctl"
find "$work/s" "$work/ctl" -exec touch -a -d 2020-01-01 {} +
ls -R "$work/ctl" >/dev/null
if [ "$(stat -c %X "$work/ctl")" = "$(stat -c %X "$work/s")" ]; then
    echo "skip: listing a directory does not set its atime here"
else
    before=$(atimes "$work/s")
    expect 0 "-n on a store with old access times" -- "$fsck" -n "$work/s"
    [ "$(atimes "$work/s")" = "$before" ] || {
        echo "FAIL: -n changed directory access times:"
        diff <(echo "$before") <(atimes "$work/s") | sed 's/^/  /'
        fails=$((fails + 1))
    }
fi
rm -rf "$work/ctl"

# Half a line at the end of a store closed cleanly (-p left LOCK clean):
# nothing was unsynced, so it is damage, not a crash (rule R-3d).
printf '{:item "widget-4" :se' >>"$log"
expect 4 "-n: half a line under a clean LOCK" -- "$fsck" -n "$work/s"
contains "$work/out" "incomplete last line (no LF), in a store closed cleanly [checksum, corruption]" "is corruption, named as an incomplete line"
expect 4 "-p leaves it" -- "$fsck" -p "$work/s"

# The same after a crash (LOCK names the writer that died): a torn tail.
echo "pid 4242" >"$work/s/LOCK"
expect 4 "-n finds a torn tail" -- "$fsck" -n "$work/s"
expect 4 "--json finds it too" -- "$fsck" --json "$work/s"
contains "$work/out" '"code": "torn-tail", "class": "residue"' "JSON names code and class"
expect 1 "-p cuts it" -- "$fsck" -p "$work/s"
contains "$work/out" "the bytes cut saved to lost+found/6f7264657273.log.1" "-p saves the cut bytes"
[ "$(cat "$work/s/lost+found/6f7264657273.log.1")" = '{:item "widget-4" :se' ] || {
    echo "FAIL: the saved tail is not the bytes cut"
    fails=$((fails + 1))
}
expect 0 "then clean" -- "$fsck" -n "$work/s"

# An incomplete last line after a crash, but the .seq (3) covers its event:
# durable, so corruption (R-3c), and the message says so, not "closed
# cleanly" (LOCK names the writer that died).
cp -r "$work/s" "$work/r3c"
echo "pid 4242" >"$work/r3c/LOCK"
truncate -s -5 "$work/r3c/streams/6f7264657273.log"
expect 4 "-n: an incomplete last line the .seq covers" -- "$fsck" -n "$work/r3c"
contains "$work/out" "line 3, byte 86: incomplete last line (no LF), not a torn tail: the high-water mark 3 says an event after the last good line was durable [checksum, corruption]" "names R-3c as the reason"
grep -q "closed cleanly" "$work/out" && { echo "FAIL: says closed cleanly of a crashed store"; fails=$((fails + 1)); }
rm -rf "$work/r3c"

# A symbolic link where a .seq belongs: foreign, which -p leaves, so -p
# must not write the .seq over it (the rename would destroy the link).
# After a crash (LOCK names the writer that died): else the missing .seq
# is seq-lost, which -p leaves anyway.
cp -r "$work/s" "$work/lnk"
echo "pid 4242" >"$work/lnk/LOCK"
rm "$work/lnk/streams/6f7264657273.seq"
ln -s "$work/elsewhere" "$work/lnk/streams/6f7264657273.seq"
expect 4 "-p with a link in a .seq's place" -- "$fsck" -p "$work/lnk"
contains "$work/out" "not written: a symbolic link stands in its place" "-p says why the .seq is not created"
[ -L "$work/lnk/streams/6f7264657273.seq" ] || { echo "FAIL: -p destroyed the link it reports as left"; fails=$((fails + 1)); }
expect 1 "-y moves the link, then creates the .seq" -- "$fsck" -y "$work/lnk"
[ "$(cat "$work/lnk/streams/6f7264657273.seq")" = 3 ] || { echo "FAIL: -y did not create the .seq"; fails=$((fails + 1)); }
[ -L "$work/lnk/lost+found/6f7264657273.seq.1" ] || { echo "FAIL: the link is not in lost+found"; fails=$((fails + 1)); }
rm -rf "$work/lnk"

# A .seq lowered in a store closed cleanly (an old one restored from a
# backup): a clean close writes every .seq, so no crash leaves that; it is
# corruption (hw-lowered), which -p leaves and -y moves to lost+found.
low="$work/low"
if [ -x "$sxp" ]; then
    "$sxp" --dir "$low" append s '{:seq 1}' '{:seq 2}' '{:seq 3}' '{:seq 4}' '{:seq 5}' >/dev/null
    printf 3 >"$low/streams/73.seq"
    expect 4 "-n: a .seq lowered under a clean LOCK" -- "$fsck" -n "$low"
    contains "$work/out" "streams/73.seq: high-water mark 3 is below the log's max seq 5, in a store closed cleanly (which writes every .seq): it was lowered, by hand or by a restore [hw-lowered, corruption]" "is corruption"
    expect 4 "-p leaves it" -- "$fsck" -p "$low"
    [ "$(cat "$low/streams/73.seq")" = 3 ] || { echo "FAIL: -p changed a lowered .seq"; fails=$((fails + 1)); }
    expect 1 "-y moves it and writes the log's max" -- "$fsck" -y "$low"
    contains "$work/out" "-> moved to lost+found/73.seq.1; recreated holding 5" "-y says what it did"
    [ "$(cat "$low/streams/73.seq")" = 5 ] || { echo "FAIL: -y did not recreate the .seq"; fails=$((fails + 1)); }
    [ "$(cat "$low/lost+found/73.seq.1")" = 3 ] || { echo "FAIL: the lowered .seq is not in lost+found"; fails=$((fails + 1)); }
    contains "$low/lost+found/MANIFEST" "$(printf '73.seq.1\tstreams/73.seq\toffset=0\tline=0\tlen=1\tcode=hw-lowered')" "MANIFEST gives the moved .seq's length"
    # The same for a .seq too long to read (over 32 bytes).
    head -c 40 /dev/zero | tr '\0' 7 >"$low/streams/73.seq"
    expect 1 "-y moves a .seq too long to read" -- "$fsck" -y "$low"
    contains "$work/out" "high-water mark is not an integer (longer than 32 bytes)" "says why"
    contains "$low/lost+found/MANIFEST" "$(printf '73.seq.2\tstreams/73.seq\toffset=0\tline=0\tlen=40\tcode=seq-unreadable')" "MANIFEST gives its length"
    [ "$(cat "$low/streams/73.seq")" = 5 ] || { echo "FAIL: -y did not recreate the .seq"; fails=$((fails + 1)); }
    expect 0 "then clean" -- "$fsck" -n "$low"
    # The engine, meanwhile, takes no seq twice: its first use of the stream
    # reads the log's last seq (engine/store_int.h ST-8), and its close
    # writes the .seq.
    printf 3 >"$low/streams/73.seq"
    expect 1 "the engine refuses seq 4 after a lowered .seq" -- "$sxp" --dir "$low" append s '{:seq 4}'
    contains "$work/err" "seq 4 is not above the high-water mark 5" "the engine names the log's max"
    expect 0 "its close wrote the .seq" -- "$fsck" -n "$low"
    # A .seq removed after a clean close (seq-lost): corruption too, as the
    # mark it held may be above the log (a truncate keeps it). -p leaves it;
    # -y writes the log's max.
    "$sxp" --dir "$low" truncate s 5 >/dev/null
    rm "$low/streams/73.seq"
    expect 4 "-n: a .seq removed after a clean close" -- "$fsck" -n "$low"
    contains "$work/out" "streams/73.seq: missing in a store closed cleanly (which writes every .seq): it was removed, and the high-water mark it held may have been above the log's max seq 0 (a truncate keeps it) [seq-lost, corruption]" "is corruption"
    expect 4 "-p leaves it" -- "$fsck" -p "$low"
    [ -e "$low/streams/73.seq" ] && { echo "FAIL: -p wrote a .seq whose mark it does not know"; fails=$((fails + 1)); }
    [ -e "$low/streams/73.log" ] || { echo "FAIL: -p removed a truncated stream's log"; fails=$((fails + 1)); }
    expect 1 "-y writes the log's max" -- "$fsck" -y "$low"
    [ "$(cat "$low/streams/73.seq")" = 0 ] || { echo "FAIL: -y did not create the .seq"; fails=$((fails + 1)); }
    expect 0 "then clean" -- "$fsck" -n "$low"
    rm -rf "$low"
fi

# A failed settle of a session without syncs (engine/lock.h K-6): -n
# reports settle-pending and leaves it; -p writes every file again, syncs,
# and marks the store clean.
cp -r "$work/s" "$work/rs"
printf 'unsynced resettle\n' >"$work/rs/LOCK"
expect 4 "-n: a failed settle" -- "$fsck" -n "$work/rs"
contains "$work/out" "LOCK: a syncfs of what the last session wrote without syncs failed: some of it may not be durable until every file is written again [settle-pending, residue]" "names it"
expect 1 "-p settles it" -- "$fsck" -p "$work/rs"
contains "$work/out" "[settle-pending, residue] -> every file written again and synced" "says what it did"
[ "$(cat "$work/rs/LOCK")" = clean ] || { echo "FAIL: -p did not mark the settled store clean"; fails=$((fails + 1)); }
cmp -s "$work/s/streams/6f7264657273.log" "$work/rs/streams/6f7264657273.log" || { echo "FAIL: the settle changed a log"; fails=$((fails + 1)); }
expect 0 "then clean" -- "$fsck" -n "$work/rs"
rm -rf "$work/rs"

# A flipped byte in the first line: corruption.
printf 'x' | dd of="$log" bs=1 seek=3 conv=notrunc status=none
expect 4 "-n finds the checksum mismatch" -- "$fsck" -n "$work/s"
contains "$work/out" "line 1, byte 0: checksum mismatch [checksum, corruption]" "text report"
expect 4 "-p leaves corruption" -- "$fsck" -p "$work/s"
expect 1 "-y moves it" -- "$fsck" -y "$work/s"
contains "$work/out" "moved to lost+found/6f7264657273.log.2" "-y says where"
[ -s "$work/s/lost+found/MANIFEST" ] || { echo "FAIL: no MANIFEST"; fails=$((fails + 1)); }
expect 0 "then clean" -- "$fsck" -n "$work/s"
expect 0 "and -y again does nothing" -- "$fsck" -y "$work/s"

# A live writer holds the lock.
echo "pid 4242" >"$work/s/LOCK"
expect 8 "locked store" -- flock "$work/s/LOCK" "$fsck" -n "$work/s"
contains "$work/err" "locked by pid 4242" "names the holder"
[ -s "$work/out" ] && { echo "FAIL: stdout not empty when nothing was checked"; fails=$((fails + 1)); }
expect 0 "--force checks it read-only" -- flock "$work/s/LOCK" "$fsck" -n --force "$work/s"
contains "$work/out" "live-writer" "--force warns"
expect 8 "-p never repairs a live store" -- flock "$work/s/LOCK" "$fsck" -p --force "$work/s"
# What the writer's session explains is no error (fsck/check_live.c): with
# no dirty list in LOCK, any log may be one it appended to, whose .seq it
# writes at close...
printf 2 >"$work/s/streams/6f7264657273.seq"
expect 0 "--force: a .seq behind its log may be the session's" -- flock "$work/s/LOCK" "$fsck" -n --force "$work/s"
contains "$work/out" "not counted as errors, as its session explains them: 1 .seq behind its log (written at close)" "the warning counts it"
# ...but a log its list does not name, it has not written: an error.
printf 'pid 4242 +dirty\n' >"$work/s/LOCK"
expect 4 "--force: a .seq behind a log the session did not write" -- flock "$work/s/LOCK" "$fsck" -n --force "$work/s"
contains "$work/out" "high-water mark 2 is below the log's max seq 3, in a log the live writer has not written this session (neither LOCK's dirty list nor JOURNAL names the log) [hw-behind, residue]" "says why it is an error"
printf 3 >"$work/s/streams/6f7264657273.seq"

# A healthy store that `sxp serve` holds, after appends through it (one
# stream a new one, one busy enough to be written ahead in zeros): -n
# --force finds no error.
if [ -x "$sxp" ]; then
    "$sxp" --dir "$work/live" append a '{:seq 1}' >/dev/null
    "$sxp" --dir "$work/live" serve --socket "$work/live.sock" 2>"$work/serve.log" &
    server=$!
    for _ in $(seq 600); do
        "$sxp" op --socket "$work/live.sock" '(persist/last-seq "a")' >/dev/null 2>&1 && break
        sleep 0.05
    done
    {
        for i in $(seq 2 100); do echo "(persist/append \"a\" {:seq $i})"; done
        echo '(persist/append "b" {:seq 7})'
        echo '(persist/kv-put "k" 1)'
    } | while read -r req; do "$sxp" op --socket "$work/live.sock" "$req" >/dev/null; done
    expect 0 "--force on a healthy store a server holds" -- "$fsck" -n --force "$work/live"
    contains "$work/out" "1 .seq behind its log (written at close), 1 new stream (its .seq written at close), 1 log end being written [live-writer, warning]" "the session's lag is counted in the warning"
    kill -TERM "$server"
    wait "$server"
    server=
    expect 0 "and after the server's clean close" -- "$fsck" -n "$work/live"
fi

# A FIFO where a store file belongs. Opening one waits for a writer, for
# ever, so nothing may open it: every mode names it and only -y moves it,
# under a timeout that fails a hang. The engine refuses it the same way.
if command -v mkfifo >/dev/null && command -v timeout >/dev/null; then
    fresh
    expect 0 "-p upgrades the store for the FIFO checks" -- "$fsck" --upgrade "$work/s"
    mkfifo "$work/s/kv/6c" "$work/s/streams/74.log" "$work/s/blobs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    printf 1 >"$work/s/streams/74.seq"
    expect 4 "-n: FIFOs in kv/, streams/ and blobs/" -- timeout 60 "$fsck" -n "$work/s"
    for f in kv/6c streams/74.log blobs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku; do
        contains "$work/out" "$f: a FIFO, device or socket that is not the store's [foreign-file, corruption]" "-n names $f"
    done
    expect 1 "engine: kv get of a FIFO is refused" -- timeout 60 "$sxp" --dir "$work/s" kv get l
    contains "$work/err" "sxp: corrupt: read $work/s/kv/6c" "as corrupt"
    expect 1 "engine: an append to a FIFO log is refused" -- timeout 60 "$sxp" --dir "$work/s" append t '{:seq 2}'
    contains "$work/err" "sxp: corrupt: open $work/s/streams/74.log" "as corrupt"
    expect 1 "engine: blob get of a FIFO is refused" -- timeout 60 "$sxp" --dir "$work/s" blob get bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
    expect 4 "-n: the refused calls added nothing" -- timeout 60 "$fsck" -n "$work/s"
    contains "$work/out" "3 errors (0 residue, 3 corruption)" "the three FIFOs and nothing more"
    expect 1 "-y moves the FIFOs to lost+found" -- timeout 60 "$fsck" -y "$work/s"
    [ -p "$work/s/lost+found/6c.1" ] && [ -p "$work/s/lost+found/74.log.1" ] || {
        echo "FAIL: the FIFOs are not in lost+found"
        fails=$((fails + 1))
    }
    expect 0 "then clean" -- timeout 60 "$fsck" -n "$work/s"
fi

# A foreign file whose name holds a newline: its finding stays one line,
# the control byte written \x0a (the JSON report escapes it as \u000a).
fresh
expect 0 "-p upgrades the store for the name check" -- "$fsck" --upgrade "$work/s"
echo junk >"$work/s/streams/a
b"
expect 4 "-n: a name with a newline" -- "$fsck" -n "$work/s"
contains "$work/out" 'streams/a\x0ab: a file that is not the store'"'"'s [foreign-file, corruption]' "the name is escaped"
[ "$(wc -l <"$work/out")" -eq 2 ] || { echo "FAIL: the finding is not one line"; fails=$((fails + 1)); }

# A lost+found/ that is a symbolic link is not followed: -y puts nothing
# aside outside the store, says why, and leaves the file it would move.
fresh
expect 0 "-p upgrades the store for the link check" -- "$fsck" --upgrade "$work/s"
mkdir "$work/outside"
ln -s "$work/outside" "$work/s/lost+found"
echo junk >"$work/s/streams/zz"
expect 4 "-y with lost+found a symbolic link" -- "$fsck" -y "$work/s"
contains "$work/out" "lost+found is not a directory (a file, or a symbolic link, which is not followed out of the store): move it away" "says why"
[ -z "$(ls -A "$work/outside")" ] && [ -f "$work/s/streams/zz" ] || {
    echo "FAIL: -y wrote through the lost+found link or moved the file"
    fails=$((fails + 1))
}
rm -rf "$work/outside"

# A dangling symbolic link in lost+found/ (one an earlier -y moved there)
# is a name taken: the next item goes to the next number, the link stays,
# and the repair succeeds (before, the link was taken for a free name: a
# rename replaced it, or an exclusive create failed on it at every run).
fresh
expect 0 "-p upgrades the store for the lost+found link check" -- "$fsck" --upgrade "$work/s"
ln -s "$work/nowhere" "$work/s/streams/zz"
expect 1 "-y moves a dangling link" -- "$fsck" -y "$work/s"
[ -L "$work/s/lost+found/zz.1" ] || { echo "FAIL: the link is not lost+found/zz.1"; fails=$((fails + 1)); }
echo hello >"$work/s/streams/zz"
expect 1 "-y moves a file of the same name" -- "$fsck" -y "$work/s"
[ -L "$work/s/lost+found/zz.1" ] && [ "$(cat "$work/s/lost+found/zz.2" 2>/dev/null)" = hello ] || {
    echo "FAIL: the second item did not go to zz.2 beside the link"
    ls -l "$work/s/lost+found"
    fails=$((fails + 1))
}
expect 0 "-y again changes nothing" -- "$fsck" -y "$work/s"

# A MANIFEST whose last record a crash tore (no LF): the next record
# starts a line of its own instead of running on from it.
fresh
expect 0 "-p upgrades the store for the MANIFEST check" -- "$fsck" --upgrade "$work/s"
mkdir "$work/s/lost+found"
printf 'old.1\tstreams/old\toff' >"$work/s/lost+found/MANIFEST"
echo junk >"$work/s/streams/zz"
expect 1 "-y after a torn MANIFEST record" -- "$fsck" -y "$work/s"
[ "$(wc -l <"$work/s/lost+found/MANIFEST")" = 2 ] &&
    [ "$(head -1 "$work/s/lost+found/MANIFEST")" = "$(printf 'old.1\tstreams/old\toff')" ] &&
    sed -n 2p "$work/s/lost+found/MANIFEST" | grep -q "^zz\.1$(printf '\t')streams/zz$(printf '\t')" || {
    echo "FAIL: the new record does not start a line of its own"
    cat -A "$work/s/lost+found/MANIFEST"
    fails=$((fails + 1))
}

# A killed session that appended to 70 streams: -p writes the journal's
# 70 records back, makes every log durable and rolls 70 .seq files
# forward, by syncfs from 64 files (fsck/repair.c SYNCFS), or by an
# fdatasync each under --sync-each-log; either way the store reads back
# whole and a second run finds nothing. strace, where it runs, counts the
# syncfs calls: 4 (the replay, the logs, two chunks of .seq files), and
# none under --sync-each-log.
rm -rf "$work/k0"
for i in $(seq 1 70); do printf '(persist/append "s%d" {:seq 1})\n' "$i"; done |
    "$sxp" --dir "$work/k0" serve --stdio >/dev/null
coproc SRV { exec "$sxp" --dir "$work/k0" serve --stdio; }
for i in $(seq 1 70); do printf '(persist/append "s%d" {:seq 2})\n' "$i" >&"${SRV[1]}"; done
srv=$SRV_PID
for i in $(seq 1 70); do read -r _ <&"${SRV[0]}"; done
{ kill -KILL "$srv" && wait "$srv"; } 2>/dev/null
tracer=
command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null && tracer=strace
for each in "" --sync-each-log; do
    rm -rf "$work/k"
    cp -r "$work/k0" "$work/k"
    if [ -n "$tracer" ]; then
        expect 1 "-p $each after a killed session over 70 streams" -- \
            strace -f -e trace=syncfs -o "$work/trace" "$fsck" -p $each "$work/k"
        n=$(grep -c '^[0-9]* *syncfs(' "$work/trace")
        want=4
        [ -n "$each" ] && want=0
        [ "$n" -eq "$want" ] || { echo "FAIL: -p $each made $n syncfs calls, want $want"; fails=$((fails + 1)); }
    else
        expect 1 "-p $each after a killed session over 70 streams" -- "$fsck" -p $each "$work/k"
    fi
    contains "$work/out" "71 errors (71 residue, 0 corruption), 71 repaired, 0 left" "-p $each repairs the journal and the 70 marks"
    contains "$work/out" "[journal-pending, residue] -> written back" "-p $each writes the journal back"
    expect 0 "-n after -p $each" -- "$fsck" -n "$work/k"
    expect 0 "last-seq after -p $each" -- "$sxp" --dir "$work/k" op '(persist/last-seq "s70")'
    contains "$work/out" "2" "s70 holds its second event after -p $each"
done
# A new stream whose only append is still in JOURNAL after a kill has no
# .seq: -n says -p writes the record back first (it is residue, not a
# case for -y), and -p does.
rm -rf "$work/j"
coproc SRV { exec "$sxp" --dir "$work/j" serve --stdio; }
printf '(persist/append "new" {:seq 1})\n' >&"${SRV[1]}"
srv=$SRV_PID
read -r _ <&"${SRV[0]}"
{ kill -KILL "$srv" && wait "$srv"; } 2>/dev/null
expect 4 "-n: a new stream's append only in JOURNAL" -- "$fsck" -n "$work/j"
contains "$work/out" "may still add lines to it: -p writes them back first [seq-missing, residue]" "-n points to -p"
expect 1 "-p writes it back and makes the .seq" -- "$fsck" -p "$work/j"
contains "$work/out" "-> created holding 1" "-p makes the .seq"
expect 16 "--sync-each-log after the directory is still an option" -- "$fsck" -p "$work/k" --sync-each-log --frobnicate

# The same store with streams/ moved to another filesystem (tmpfs, where
# the machine has one apart from $work) and a symbolic link in its place:
# a syncfs through LOCK would not write the logs back, so -p and the
# engine's recovery (R-8) sync each file by itself: no syncfs at all.
shm=
if [ -n "$tracer" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$work")" ]; then
    shm=$(mktemp -d /dev/shm/sxp-fsck-cli-XXXXXX)
fi
if [ -n "$shm" ]; then
    for who in fsck sxp; do
        rm -rf "$work/k" "$shm/streams"
        cp -r "$work/k0" "$work/k"
        mv "$work/k/streams" "$shm/streams"
        ln -s "$shm/streams" "$work/k/streams"
        if [ "$who" = fsck ]; then
            expect 1 "-p with streams/ on another filesystem" -- \
                strace -f -e trace=syncfs -o "$work/trace" "$fsck" -p "$work/k"
            contains "$work/out" "71 repaired, 0 left" "-p with streams/ elsewhere repairs all"
        else
            expect 0 "a recovering open with streams/ on another filesystem" -- \
                strace -f -e trace=syncfs -o "$work/trace" "$sxp" --verbose --dir "$work/k" op '(persist/last-seq "s70")'
            contains "$work/err" "is not on the filesystem of" "the open says it syncs each file"
        fi
        n=$(grep -c '^[0-9]* *syncfs(' "$work/trace")
        [ "$n" -eq 0 ] || { echo "FAIL: $who made $n syncfs calls with streams/ on another filesystem"; fails=$((fails + 1)); }
        expect 0 "-n after $who with streams/ elsewhere" -- "$fsck" -n "$work/k"
        expect 0 "last-seq after $who with streams/ elsewhere" -- "$sxp" --dir "$work/k" op '(persist/last-seq "s70")'
        contains "$work/out" "2" "s70 holds its second event after $who with streams/ elsewhere"
    done
    rm -rf "$shm"
else
    echo "skip: no strace, or no tmpfs apart from $work, for streams/ on another filesystem"
fi

# A directory that is not a store (none of FORMAT, LOCK, streams/, kv/,
# blobs/): no mode checks it, and none makes a store of it.
mkdir -p "$work/ns/sub"
echo hi >"$work/ns/a.txt"
for m in -n -p -y --upgrade; do
    expect 8 "$m on a directory that is not a store" -- "$fsck" $m "$work/ns"
    contains "$work/err" "cannot check $work/ns: not a store" "$m says it is not a store"
done
[ "$(ls "$work/ns")" = "$(printf 'a.txt\nsub')" ] || { echo "FAIL: fsck wrote into a directory that is not a store"; fails=$((fails + 1)); }
# An empty one (but for a filesystem's lost+found/) is a store nothing was
# written to yet.
mkdir -p "$work/empty/lost+found"
expect 0 "an empty directory is a clean store" -- "$fsck" -n "$work/empty"
contains "$work/out" "no FORMAT file: a store nothing was written to yet [format-missing, warning]" "an empty store is not called the reference's"

# streams/ a symbolic link whose target is gone (a volume not mounted),
# after a crash: not an empty folder. Every mode fails (8) and leaves LOCK
# as it was, so the open that follows the volume's return still recovers.
fresh
expect 0 "-p upgrades the store for the dangling-link checks" -- "$fsck" --upgrade "$work/s"
echo "pid 4242" >"$work/s/LOCK"
printf '{:item "widget-4" :se' >>"$log"
mv "$work/s/streams" "$work/streams.away"
ln -s "$work/streams.away.gone" "$work/s/streams"
for mode in -n -p -y; do
    expect 8 "$mode: streams/ a dangling link" -- "$fsck" "$mode" "$work/s"
    contains "$work/err" "leads to no directory" "$mode says why"
done
[ "$(cat "$work/s/LOCK")" = "pid 4242" ] || { echo "FAIL: LOCK changed: $(cat "$work/s/LOCK")"; fails=$((fails + 1)); }
rm "$work/s/streams"
mv "$work/streams.away" "$work/s/streams"
expect 1 "the volume back: -p cuts the torn tail" -- "$fsck" -p "$work/s"
contains "$work/out" "[torn-tail, residue]" "a torn tail, not corruption"

# A LOCK that is no regular file (a FIFO, a directory): the engine cannot
# open the store, so no mode calls it clean.
if command -v mkfifo >/dev/null && command -v timeout >/dev/null; then
    for kind in fifo dir; do
        fresh
        rm "$work/s/LOCK"
        if [ $kind = fifo ]; then mkfifo "$work/s/LOCK"; else mkdir "$work/s/LOCK"; fi
        for mode in -n -p -y; do
            expect 8 "$mode: LOCK a $kind" -- timeout 60 "$fsck" "$mode" "$work/s"
            contains "$work/err" "LOCK is not a regular file" "$mode says why"
        done
    done
fi

# A legacy line of 40 MiB (the reference writes any length): what sxp-fsck
# finds good, a read returns; and a line over 64 MiB is reported.
# legacy_line MIB: a fresh store whose "orders" ends in a legacy event
# (seq 1000, its .seq too) padded to MIB MiB.
legacy_line() {
    fresh
    python3 - "$log" "$1" <<'PY'
import sys
with open(sys.argv[1], "ab") as f:
    f.write(b'{:seq 1000 :pad "' + b"x" * (int(sys.argv[2]) << 20) + b'"}\n')
PY
    printf 1000 >"${log%.log}.seq"
}
legacy_line 40
expect 0 "-n: a 40 MiB legacy line is no error" -- "$fsck" -n "$work/s"
expect 0 "a read returns it" -- "$sxp" --dir "$work/s" read orders --from 1000
[ "$(wc -c <"$work/out")" -gt $((40 << 20)) ] || { echo "FAIL: the 40 MiB event was not read"; fails=$((fails + 1)); }
legacy_line 64
expect 4 "-n: a line over 64 MiB is an error" -- "$fsck" -n "$work/s"
contains "$work/out" "[checksum, corruption]" "named as a bad line"
expect 1 "and a read refuses it" -- "$sxp" --dir "$work/s" read orders

# A crashed reference store (engine/store.c A STORE WITHOUT FORMAT): it
# wrote the .seq before the line and never synced, so a mark above a torn
# last line, or an empty .seq, is residue, as the open judges it, not
# corruption; -p cuts the line (saving it: the mark may cover it), keeps
# the mark, writes the empty one again from the log.
fresh
printf '{:item "widget-4" :se' >>"$log"
printf 4 >"${log%.log}.seq"
: >"$work/s/streams/6e6f746573.seq"
expect 4 "-n: a crashed reference store holds residue" -- "$fsck" -n "$work/s"
contains "$work/out" "[torn-tail, residue]" "its torn line is a torn tail"
contains "$work/out" "[seq-torn, residue]" "its empty .seq is a torn mark"
grep -qF "corruption]" "$work/out" && { echo "FAIL: called corruption"; fails=$((fails + 1)); }
expect 1 "-p repairs it" -- "$fsck" -p "$work/s"
expect 0 "and it checks clean" -- "$fsck" -n "$work/s"
expect 0 "orders keeps its mark" -- "$sxp" --dir "$work/s" last-seq orders
[ "$(cat "$work/out")" = 4 ] || { echo "FAIL: last-seq orders: $(cat "$work/out"), want 4"; fails=$((fails + 1)); }
expect 0 "notes' mark is its last event" -- "$sxp" --dir "$work/s" last-seq notes
[ "$(cat "$work/out")" = 2 ] || { echo "FAIL: last-seq notes: $(cat "$work/out"), want 2"; fails=$((fails + 1)); }

# A missing store: said once, on stderr.
expect 8 "missing store" -- "$fsck" -n "$work/nope"
[ "$(wc -l <"$work/err")" -eq 1 ] || { echo "FAIL: the error is not one line"; fails=$((fails + 1)); }
contains "$work/err" "cannot check $work/nope: No such file or directory" "says why"
[ -s "$work/out" ] && { echo "FAIL: stdout not empty for a missing store"; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then
    echo "$fails failures"
    exit 1
fi
echo "all passed"
