#!/usr/bin/env bash
# test_cli.sh -- the `sxp` command end to end (SPEC.md section 6).
#
#   bash tests/test_cli.sh BUILD_DIR
#
# Runs BUILD_DIR/cli/sxp on fresh stores in a temporary directory and checks
# the result text of every operation, the exit statuses (0 ok, 1 failed
# request, 2 usage), that a failed request prints nothing on stdout and
# leaves the store unchanged, that a wrong request creates no store where
# there is none, `serve --stdio` (and its (sxp/stat)), the lock,
# `--help` of every command, `recover`, `stat` and `demo`.
set -euo pipefail

BUILD=${1:?usage: test_cli.sh BUILD_DIR}
SXP=$BUILD/cli/sxp
if [ ! -x "$SXP" ]; then
    echo "test_cli: $SXP not built" >&2
    exit 1
fi
SXP=$(cd "$(dirname "$SXP")" && pwd)/sxp

T=$(mktemp -d "${TMPDIR:-/tmp}/sxp-test-cli-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

D=$T/store
EMPTY_CID=bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
NTEST=0

# ---- helpers -----------------------------------------------------------------

# run ARG...: runs sxp; sets RC, OUT (stdout) and ERR (stderr).
run() {
    RC=0
    "$SXP" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# run_in INPUT ARG...: as run, with INPUT on stdin.
run_in() {
    local input=$1
    shift
    RC=0
    printf '%s' "$input" | "$SXP" "$@" >"$T/out" 2>"$T/err" || RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

fail() {
    echo "not ok - $*" >&2
    echo "  exit: $RC" >&2
    echo "  stdout: $OUT" >&2
    echo "  stderr: $ERR" >&2
    exit 1
}

pass() {
    NTEST=$((NTEST + 1))
    echo "ok $NTEST - $*"
}

# snap: the store as a reader sees it: every file under streams/, kv/ and
# blobs/ with its content hash (LOCK, which records the holder, is left out).
snap() {
    if [ -d "$D" ]; then
        (cd "$D" && find streams kv blobs -type f 2>/dev/null | LC_ALL=C sort |
            while read -r f; do sha256sum "$f"; done)
    fi
}

# ok WANT ARG...: sxp --dir $D ARG... exits 0 and prints exactly WANT.
ok() {
    local want=$1
    shift
    run --dir "$D" "$@"
    [ "$RC" = 0 ] || fail "sxp $* exits 0"
    [ "$OUT" = "$want" ] || fail "sxp $* prints '$want'"
    pass "sxp $* prints '${want//$'\n'/\\n}'"
}

# op REQUEST WANT: sxp op REQUEST prints WANT.
op() {
    ok "$2" op "$1"
}

# bad STATUS KIND ARG...: sxp --dir $D ARG... exits STATUS, prints nothing on
# stdout, names KIND on stderr ("sxp: KIND: ..."; exit 1: in one line), and
# leaves the store unchanged.
bad() {
    local want_rc=$1 kind=$2 before after
    shift 2
    before=$(snap)
    run --dir "$D" "$@"
    [ "$RC" = "$want_rc" ] || fail "sxp $* exits $want_rc"
    [ ! -s "$T/out" ] || fail "sxp $* prints nothing on stdout"
    case "$ERR" in
    "sxp: $kind"*) ;;
    *) fail "sxp $* says 'sxp: $kind' on stderr" ;;
    esac
    if [ "$want_rc" = 1 ]; then
        [ "$(wc -l <"$T/err")" = 1 ] || fail "sxp $* prints one line on stderr"
    fi
    after=$(snap)
    [ "$before" = "$after" ] || fail "sxp $* leaves the store unchanged"
    pass "sxp $* fails with status $want_rc and '$kind'"
}

# badop REQUEST KIND: sxp op REQUEST fails with status 1 and KIND.
badop() {
    bad 1 "${2:+$2: }" op "$1"
}

# nostore ARG...: sxp --dir NEW ARG..., NEW a directory that does not exist,
# fails as sxp --dir $D ARG... does on the existing store: status 1, the
# same one line on stderr, nothing on stdout; and NEW is still not there.
nostore() {
    local new=$T/nostore want
    run --dir "$D" "$@"
    [ "$RC" = 1 ] || fail "sxp $* fails on an existing store"
    want=$ERR
    run --dir "$new" "$@"
    [ "$RC" = 1 ] || fail "sxp $* exits 1 where there is no store"
    [ ! -s "$T/out" ] || fail "sxp $* prints nothing on stdout"
    [ "$(wc -l <"$T/err")" = 1 ] || fail "sxp $* prints one line on stderr"
    [ "$ERR" = "$want" ] || fail "sxp $* says what it says on a store: '$want'"
    [ ! -e "$new" ] || fail "sxp $* creates no store"
    pass "sxp $* fails with '$want' and creates no store"
}

# close_srv: closes the input of the coprocess SRV, if still open.
close_srv() {
    if [ -n "${SRV[1]:-}" ]; then
        eval "exec ${SRV[1]}>&-"
    fi
}

# ---- version, help, usage ------------------------------------------------------

run --version
[ "$RC" = 0 ] && [[ "$OUT" == "sxp "* ]] || fail "--version"
pass "--version prints the version"

run --help
[ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp"* ]] || fail "--help"
pass "--help prints the usage"

for c in op serve append read last-seq streams truncate kv blob recover stat demo; do
    run "$c" --help
    [ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp $c"* ]] && [ ! -s "$T/err" ] ||
        fail "sxp $c --help exits 0 with its usage"
    pass "sxp $c --help exits 0 with its usage"
done
run kv get --help
[ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp kv"* ]] || fail "kv get --help"
pass "sxp kv get --help exits 0"
run help blob
[ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp blob"* ]] || fail "help blob"
pass "sxp help blob exits 0"
run help
[ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp [GLOBAL OPTIONS]"* ]] || fail "help"
pass "sxp help prints the overview"
# help is a command like the others: its --help (and `sxp help help`) is the
# overview, not "no such command".
for h in help --help -h; do
    run help "$h"
    [ "$RC" = 0 ] && [[ "$OUT" == *"usage: sxp [GLOBAL OPTIONS]"* ]] && [ ! -s "$T/err" ] ||
        fail "sxp help $h prints the overview"
    pass "sxp help $h prints the overview"
done

# Bad usage: exit 2, nothing on stdout, and no store is created.
bad 2 "" # no command
bad 2 "no such command" frobnicate
bad 2 "unknown option" --bogus streams
bad 2 "--sync" --sync maybe streams
bad 2 "--io" --io floppy streams
bad 2 "" op
bad 2 "" op '(persist/streams)' extra
bad 2 "unknown option" op --frob '(persist/streams)'
bad 2 "" read
bad 2 "--limit" read s --limit many
bad 2 "--limit" read s --limit -1
bad 2 "--from" read s --from x
bad 2 "unknown option" read s --frm 3
# A global option after the command (a natural slip) says where it goes.
bad 2 "'--dir' is a global option: give it before 'serve'" serve --stdio --dir "$T/other"
bad 2 "'--read-only' is a global option: give it before 'kv'" kv get k --read-only
bad 2 "" append s
bad 2 "'-' reads the events from stdin" append s - '{:seq 1}'
bad 2 "'-' reads the events from stdin" append s '{:seq 1}' -
bad 2 "" last-seq
bad 2 "" last-seq a b
bad 2 "" streams extra
bad 2 "N must be" truncate s abc
bad 2 "" truncate s
bad 2 "" kv
bad 2 "no such kv" kv frob k
bad 2 "" kv get
bad 2 "" kv put k
bad 2 "" blob
bad 2 "" blob get
bad 2 "" blob put a b
bad 2 "option '-o' needs a value" blob get "$EMPTY_CID" -o
bad 2 "option '--output' needs a value" blob get "$EMPTY_CID" --output
bad 2 "-o/--output goes with blob get only" blob has "$EMPTY_CID" --output x
bad 2 "" serve
bad 2 "--max-line" serve --stdio --max-line 0
bad 2 "option '--socket' needs a value" serve --socket
bad 2 "choose one of --stdio and --socket" serve --stdio --socket "$T/sock"
bad 2 "--workers goes with --socket" serve --stdio --workers 4
bad 2 "" recover extra
[ ! -e "$D" ] || fail "bad usage creates no store"
pass "bad usage creates no store"

# Malformed SX is refused before the store is opened.
bad 1 "parse: " op '(persist/append "orders" {:seq 1'
[ ! -e "$D" ] || fail "malformed SX creates no store"
pass "malformed SX creates no store"

# ---- every operation, through sxp op -----------------------------------------

op '(persist/append "orders" {:seq 1 :total 9.5})' nil
op '(persist/read "orders")' '(list {:seq 1 :total 9.5})'
op '(persist/append "orders" {:seq 2 :item "x"})' nil
op '(persist/read "orders")' '(list {:seq 1 :total 9.5} {:item "x" :seq 2})'
op '(persist/last-seq "orders")' 2
op '(persist/last-seq "nope")' 0
op '(persist/read "nope")' '(list)'
op '(persist/append-batch "b" (list {:seq 1} {:seq 5} {:seq 7}))' nil
op '(persist/read "b")' '(list {:seq 1} {:seq 5} {:seq 7})'
op '(persist/read-range "b" 2 5)' '(list {:seq 5} {:seq 7})'
op '(persist/read-range "b" 5 1)' '(list {:seq 5})'
op '(persist/read-range "b" 8 3)' '(list)'
op '(persist/append "zeta" {:seq 1})' nil
op '(persist/append "alpha" {:seq 1})' nil
op '(persist/streams)' '(list "alpha" "b" "orders" "zeta")'
op '(persist/truncate "orders" 1)' nil
op '(persist/read "orders")' '(list {:item "x" :seq 2})'
op '(persist/last-seq "orders")' 2
op '(persist/truncate "alpha" 5)' nil
op '(persist/read "alpha")' '(list)'
op '(persist/last-seq "alpha")' 1
op '(persist/streams)' '(list "alpha" "b" "orders" "zeta")'
op '(persist/kv-get "k")' nil
op '(persist/kv-has? "k")' false
op '(persist/kv-put "k" {:b (list 1 2.5 "s") :a true})' nil
op '(persist/kv-get "k")' '{:a true :b (list 1 2.5 "s")}'
op '(persist/kv-has? "k")' true
op '(persist/kv-put "j" "tab\there")' nil
op '(persist/kv-get "j")' '"tab\there"'
op '(persist/kv-keys)' '(list "j" "k")'
op '(persist/kv-put "k" 42)' nil
op '(persist/kv-get "k")' 42
op '(persist/kv-delete "k")' nil
op '(persist/kv-has? "k")' false
op '(persist/kv-delete "k")' nil
op '(persist/kv-keys)' '(list "j")'
op '(blob/put "")' "\"$EMPTY_CID\""
op "(blob/has? \"$EMPTY_CID\")" true
op "(blob/get \"$EMPTY_CID\")" '""'
# The cid of "hello", computed here from its definition (SPEC.md section 5):
# "b" and the base32 of 0x01 0x55 0x12 0x20 and the sha2-256 of the bytes.
cid_of() {
    (printf '\x01\x55\x12\x20' && printf '%s' "$1" | openssl dgst -sha256 -binary) |
        base32 -w0 | tr 'A-Z' 'a-z' | tr -d '=' | sed 's/^/b/'
}
if command -v openssl >/dev/null && command -v base32 >/dev/null; then
    [ "$(cid_of "")" = "$EMPTY_CID" ] || fail "cid_of computes the empty cid"
    HELLO_CID=$(cid_of hello)
else
    HELLO_CID=$("$SXP" --dir "$D" op '(blob/put "hello")' | tr -d '"')
fi
op '(blob/put "hello")' "\"$HELLO_CID\""
op '(blob/put "hello")' "\"$HELLO_CID\""
op "(blob/get \"$HELLO_CID\")" '"hello"'
ABSENT_CID=$(printf 'never stored' | "$SXP" --dir "$T/other" blob put -)
op "(blob/has? \"$ABSENT_CID\")" false
op "(blob/get \"$ABSENT_CID\")" nil

# A request may come from stdin, and may span lines.
run_in $'(persist/last-seq\n  "orders")\n' --dir "$D" op -
[ "$RC" = 0 ] && [ "$OUT" = 2 ] || fail "op - reads the request from stdin"
pass "op - reads the request from stdin"

# ---- failing requests: status 1, one line, nothing on stdout, no change -------

badop '(persist/append "orders" {:seq 3' parse
badop '(persist/append "orders" {:seq 3}) extra' parse
badop '"just a string"' parse
badop '(persist/frob "orders")' op
badop '(persist/read)' arity
badop '(persist/append "orders")' arity
badop '(persist/append "orders" {:seq 3} {:seq 4})' arity
badop '(persist/append "orders" {:seq 2})' seq
badop '(persist/append "orders" {:seq 1})' seq
badop '(persist/append "orders" {:seq -4})' seq
badop '(persist/append-batch "b" (list {:seq 8} {:seq 8}))' seq
badop '(persist/append-batch "b" (list {:seq 9} {:seq 7}))' seq
badop '(persist/append-batch "b" (list {:seq 7} {:seq 8}))' seq
badop '(persist/append "orders" (list 1 2))' ""
badop '(persist/append "orders" {:total 3})' ""
badop '(persist/append "orders" {:seq "3"})' ""
badop '(persist/append "orders" {:seq 3.5})' ""
badop '(persist/append "" {:seq 1})' name
badop "(persist/append \"$(printf 'x%.0s' $(seq 1 126))\" {:seq 1})" name
badop '(persist/kv-put "" 1)' name
badop '(persist/read-range "b" 1 -1)' ""
badop '(persist/truncate "b" "x")' ""
badop '(blob/get "../../etc/passwd")' cid
badop '(blob/has? "../../etc/passwd")' cid
badop '(blob/get "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk")' cid
badop '(persist/append "orders" {:seq 9 :x 99999999999999999999})' parse
op '(persist/read "orders")' '(list {:item "x" :seq 2})'
op '(persist/read "b")' '(list {:seq 1} {:seq 5} {:seq 7})'

# A request that is wrong whatever the store holds is refused before a store
# is opened, with the store's own message: none is created for it.
nostore op '(persist/raed "x")'
nostore op '(persist/append "s")'
nostore op '(persist/streams 1)'
nostore op '(persist/read 5)'
nostore op '(persist/read "")'
nostore op "(persist/append \"$(printf 'x%.0s' $(seq 1 126))\" {:seq 1})"
nostore op '(persist/append "s" {:x 1})'
nostore op '(persist/append "s" {:seq "1"})'
nostore op '(persist/append "s" (list 1))'
nostore op '(persist/append-batch "b" {:seq 8})'
nostore op '(persist/append-batch "b" (list {:seq 9} {:seq 8}))'
nostore op '(persist/read-range "b" 1 -1)'
nostore op '(persist/truncate "b" "x")'
nostore op '(persist/kv-put "" 1)'
nostore op '(persist/kv-has? 7)'
nostore op '(blob/put 1)'
nostore op '(blob/get "../../etc/passwd")'
nostore op '(blob/has? "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk")'
nostore append "" '{:seq 1}'
nostore append s '{:x 1}'
nostore append s '{:seq 1.5}'
nostore append s '{:seq 9}' '{:seq 8}'
nostore read ""
nostore last-seq ""
nostore truncate "" 1
nostore kv get ""
nostore kv put "" 1
nostore kv delete ""
nostore kv has ""
nostore blob get BADCID
nostore blob has ../../etc/passwd
# A request that is right opens the store, and so creates it (docs/cli.md:
# --dir is created if absent), reads included.
ok "(list)" --dir "$T/readnew" op '(persist/read "x")'
[ -d "$T/readnew/streams" ] || fail "a read creates the store"
pass "a right request on a directory that does not exist creates the store"
# A directory of other files is not made a store (engine/store.c STORE OR
# NOT): kind notstore, and nothing is written in it.
mkdir "$T/notstore"
printf 'mine' >"$T/notstore/notes.txt"
run --dir "$T/notstore" append orders '{:seq 1}'
[ "$RC" = 1 ] && [ ! -s "$T/out" ] && [[ "$ERR" == "sxp: notstore: "* ]] ||
    fail "a directory of other files is refused"
[ "$(ls -A "$T/notstore")" = notes.txt ] || fail "nothing is written in a directory of other files"
# A read-only view refuses it too: a mistyped --dir must not read as an
# empty store.
for verb in stat 'last-seq orders' streams; do
    # shellcheck disable=SC2086 # the verb's words
    run --dir "$T/notstore" --read-only $verb
    [ "$RC" = 1 ] && [ ! -s "$T/out" ] && [[ "$ERR" == "sxp: notstore: "* ]] ||
        fail "--read-only $verb refuses a directory of other files"
done
[ "$(ls -A "$T/notstore")" = notes.txt ] || fail "a read-only view wrote in a directory of other files"
pass "a directory of other files is refused (notstore) and left as it was, read-only too"

# ---- friendly verbs -----------------------------------------------------------

ok "" append fr '{:seq 1 :a "x"}'
ok "" append fr '{:seq 2}' '{:seq 3}'
ok $'{:a "x" :seq 1}\n{:seq 2}\n{:seq 3}' read fr
ok '{:seq 2}' read fr --from 2 --limit 1
ok $'{:seq 2}\n{:seq 3}' read fr --from=2
ok '{:a "x" :seq 1}' read fr --limit 1
ok "" read never-appended
ok 3 last-seq fr
ok 0 last-seq never-appended
ok $'alpha\nb\nfr\norders\nzeta' streams
bad 1 "seq: " append fr '{:seq 3}'
bad 1 "seq: " append fr '{:seq 4}' '{:seq 4}'
bad 1 "parse: " append fr '{:seq 4'
bad 1 "name: " append "" '{:seq 1}'
ok "" truncate fr 2
ok '{:seq 3}' read fr
ok 3 last-seq fr
run_in $'{:seq 4}\n\n\f\v \n{:seq 5 :via "stdin"}\n' --dir "$D" append fr -
[ "$RC" = 0 ] || fail "append STREAM - appends the events of stdin"
ok $'{:seq 3}\n{:seq 4}\n{:seq 5 :via "stdin"}' read fr
# No event on stdin is an error, not a silent success, and opens no store.
for input in "" $'\n  \n'; do
    run_in "$input" --dir "$T/noevents" append fr -
    [ "$RC" = 1 ] && [ ! -s "$T/out" ] && [ "$ERR" = "sxp: arg: no events on standard input" ] &&
        [ ! -e "$T/noevents" ] || fail "append STREAM - with no events fails"
done
bad 1 "arg: no events on standard input" append fr -
pass "append STREAM - with no event on stdin fails with status 1 and creates nothing"
ok "" append "$(printf 'caf\xc3\xa9')" '{:seq 1}'
ok "$(printf '(list "alpha" "b" "caf\xc3\xa9" "fr" "orders" "zeta")')" op '(persist/streams)'
ok '{:seq 1}' read "$(printf 'caf\xc3\xa9')"

ok nil kv get color
ok false kv has color
ok "" kv put color '"blue"'
ok '"blue"' kv get color
ok true kv has color
ok "" kv put n -5
ok -5 kv get n
run_in '{:nested {:deep (list 1 2)}}' --dir "$D" kv put cfg -
[ "$RC" = 0 ] || fail "kv put KEY - reads the value from stdin"
ok '{:nested {:deep (list 1 2)}}' kv get cfg
ok $'cfg\ncolor\nj\nn' kv keys
ok "" kv delete color
ok "" kv delete color
ok false kv has color
bad 1 "parse: " kv put color '"unterminated'
bad 1 "name: " kv get ""

ok "$EMPTY_CID" blob put /dev/null
head -c 100000 /dev/urandom >"$T/random.bin"
printf '\x00\x01\n\t"\\' >>"$T/random.bin"
run --dir "$D" blob put "$T/random.bin"
[ "$RC" = 0 ] || fail "blob put FILE"
RCID=$OUT
[ ${#RCID} = 59 ] && [[ "$RCID" == b* ]] || fail "blob put prints a cid"
pass "blob put FILE prints a cid"
run_in "" --dir "$D" blob put -
[ "$OUT" = "$EMPTY_CID" ] || fail "blob put - of empty stdin gives the empty cid"
pass "blob put - of empty stdin gives the empty cid"
RC=0
"$SXP" --dir "$D" blob put - <"$T/random.bin" >"$T/out2" || RC=$?
[ "$RC" = 0 ] && [ "$(cat "$T/out2")" = "$RCID" ] || fail "blob put - gives the cid of blob put FILE"
pass "blob put - is idempotent with blob put FILE"
"$SXP" --dir "$D" blob get "$RCID" >"$T/back.bin"
cmp -s "$T/random.bin" "$T/back.bin" || fail "blob get returns the bytes put"
pass "blob get CID writes the bytes to stdout"
ok "" blob get "$RCID" -o "$T/back2.bin"
cmp -s "$T/random.bin" "$T/back2.bin" || fail "blob get -o writes the bytes put"
pass "blob get -o FILE writes the bytes"
ok "" blob get "$EMPTY_CID"
ok true blob has "$RCID"
ok false blob has "$ABSENT_CID"
bad 1 "absent: " blob get "$ABSENT_CID" -o "$T/absent.bin"
[ ! -e "$T/absent.bin" ] || fail "blob get of an absent blob creates no file"
pass "blob get of an absent blob creates no file"
bad 1 "cid: " blob get ../../etc/passwd
bad 1 "cid: " blob has ../../etc/passwd
bad 1 "io: " blob put "$T/no-such-file"
# A directory is not a file: the error says so (EISDIR, not a bare EIO), names
# the path, and nothing is stored, not even a new store's directory.
mkdir "$T/a-dir"
bad 1 "io: read $T/a-dir: Is a directory" blob put "$T/a-dir"
run --dir "$T/dirput" blob put "$T/a-dir"
[ "$RC" = 1 ] && [ "$ERR" = "sxp: io: read $T/a-dir: Is a directory" ] && [ ! -e "$T/dirput" ] ||
    fail "blob put DIR creates no store"
pass "blob put of a directory says it is a directory and creates no store"

# `read` pages through a long stream; a reader that leaves early (| head)
# does not leave the store unclean.
PAD=$(printf 'p%.0s' $(seq 1 100))
for i in $(seq 1 2500); do printf '{:seq %d :pad "%s"}\n' "$i" "$PAD"; done >"$T/many"
RC=0
"$SXP" --dir "$T/big" append many - <"$T/many" >/dev/null 2>"$T/err" || RC=$?
[ "$RC" = 0 ] || fail "append - of 2500 events"
[ "$("$SXP" --dir "$T/big" read many | wc -l)" = 2500 ] || fail "read prints 2500 events"
pass "read prints every event of a stream longer than a page"
"$SXP" --dir "$T/big" read many --from 100 --limit 1500 >"$T/range"
[ "$(wc -l <"$T/range")" = 1500 ] && [ "$(head -1 "$T/range")" = "{:pad \"$PAD\" :seq 100}" ] &&
    [ "$(tail -1 "$T/range")" = "{:pad \"$PAD\" :seq 1599}" ] || fail "read --from --limit over pages"
pass "read --from 100 --limit 1500 prints seqs 100 to 1599"
FIRST=$("$SXP" --dir "$T/big" read many 2>"$T/err" | head -1 || true)
[ ! -s "$T/err" ] || fail "a reader leaving early gets no message"
[ "$FIRST" = "{:pad \"$PAD\" :seq 1}" ] || fail "read | head -1"
run --dir "$T/big" recover
[ "$RC" = 0 ] && [[ "$OUT" == *"was closed cleanly"* ]] || fail "a reader leaving early leaves the store clean"
pass "read | head leaves the store closed cleanly"
# blob get and serve --stdio say nothing either when their reader leaves.
head -c 300000 /dev/zero | tr '\0' x >"$T/bigblob"
BCID=$("$SXP" --dir "$T/big" blob put - <"$T/bigblob")
"$SXP" --dir "$T/big" blob get "$BCID" 2>"$T/err" | head -c 10 >/dev/null || true
[ ! -s "$T/err" ] || { ERR=$(cat "$T/err"); fail "blob get | head gets no message"; }
for _ in $(seq 1 3000); do echo '(persist/last-seq "many")'; done >"$T/asks"
"$SXP" --dir "$T/big" serve --stdio <"$T/asks" 2>"$T/err" | head -c 100 >/dev/null || true
[ ! -s "$T/err" ] || { ERR=$(cat "$T/err"); fail "serve --stdio | head gets no message"; }
pass "blob get | head and serve --stdio | head exit without a message"
# A damaged line that a later page meets: the pages before it are printed
# (cli.md), then exit 1 with one line naming the line's byte offset, never
# a line number counted from where the page began (line 2000 is not 976).
LOG=$T/big/streams/6d616e79.log
OFF=$(head -n 1999 "$LOG" | wc -c)
printf 'X' | dd of="$LOG" bs=1 seek=$((OFF + 3)) conv=notrunc 2>/dev/null
run --dir "$T/big" read many
[ "$RC" = 1 ] && [ "$(wc -l <"$T/out")" = 1024 ] || fail "read of a damaged stream exits 1 after a page"
[[ "$ERR" == "sxp: checksum: "*"byte $OFF;"* ]] && [ "$(wc -l <"$T/err")" = 1 ] ||
    fail "read names the damaged line's offset"
[[ "$ERR" != *"line "* || "$ERR" == *"line 2000,"* ]] || fail "read names no other line than 2000"
pass "read of a stream damaged after its first page exits 1 naming the byte, not a wrong line"

# ---- serve --stdio --------------------------------------------------------------

printf '%s\n' \
    '(persist/append "sv" {:seq 1})' \
    '(persist/append "sv" {:seq 1})' \
    '' \
    '   ' \
    $' \t\v\f\r' \
    '(persist/read "sv")' \
    '(persist/frob "sv")' \
    '(nonsense' \
    '(persist/kv-put "e" (list (quote error) "x"))' \
    '(persist/kv-get "e")' \
    '(persist/last-seq "sv")' >"$T/requests"
printf '(persist/last-seq "sv")' >>"$T/requests" # a last line without LF
RC=0
"$SXP" --dir "$D" serve --stdio <"$T/requests" >"$T/answers" 2>"$T/err" || RC=$?
OUT=$(cat "$T/answers")
ERR=$(cat "$T/err")
[ "$RC" = 0 ] || fail "serve --stdio exits 0 at end of input"
mapfile -t A <"$T/answers"
[ "${#A[@]}" = 9 ] || fail "serve answers each non-empty line once"
[ "${A[0]}" = "(ok nil)" ] || fail "serve: append answers (ok nil)"
[[ "${A[1]}" == '(error "seq" "'*'")' ]] || fail "serve: a repeated seq answers (error \"seq\" ...)"
[ "${A[2]}" = '(ok (list {:seq 1}))' ] || fail "serve: read after an error still answers"
[ "${A[3]}" = '(error "op" "unknown operation \"persist/frob\"")' ] ||
    fail "serve: the message is an escaped SX string"
[[ "${A[4]}" == '(error "parse" "'*'")' ]] || fail "serve: malformed SX answers a parse error"
[ "${A[5]}" = "(ok nil)" ] || fail "serve: kv-put"
[ "${A[6]}" = '(ok (list (quote error) "x"))' ] || fail "serve: a stored error-like value is wrapped in ok"
[ "${A[7]}" = "(ok 1)" ] || fail "serve: last-seq"
[ "${A[8]}" = "(ok 1)" ] || fail "serve: a last line without LF is answered"
pass "serve --stdio answers in order, with ok and error lines, and goes on after errors"

# Started with stdout or stderr closed, sxp writes nothing into the store
# (LOCK took descriptor 1 or 2 on the plain-syscall backend, and a
# command's output or error went into it): the command fails, LOCK reads
# clean.
for io in sync uring; do
    RC=0
    "$SXP" --dir "$D" --io "$io" read sv >&- 2>"$T/err" || RC=$?
    ERR=$(cat "$T/err")
    [ "$RC" = 1 ] && [[ "$ERR" == *"writing stdout: Bad file descriptor"* ]] ||
        fail "read with stdout closed fails with EBADF ($io)"
    [ "$(cat "$D/LOCK")" = clean ] || fail "LOCK is untouched by a read with stdout closed ($io)"
    RC=0
    "$SXP" --dir "$D" --io "$io" append sv '{:seq 1}' >/dev/null 2>&- || RC=$?
    [ "$RC" = 1 ] && [ "$(cat "$D/LOCK")" = clean ] ||
        fail "a failing append with stderr closed leaves LOCK clean ($io)"
done
pass "with stdout or stderr closed, output never lands in the store's files"

LONG="(persist/kv-put \"long\" \"$(printf 'y%.0s' $(seq 1 200))\")"
printf '%s\n%s\n' "$LONG" '(persist/kv-has? "long")' |
    "$SXP" --dir "$D" serve --stdio --max-line 100 >"$T/answers"
mapfile -t A <"$T/answers"
[ "${#A[@]}" = 2 ] && [[ "${A[0]}" == '(error "limit" "'* ]] && [ "${A[1]}" = "(ok false)" ] ||
    { OUT=$(cat "$T/answers"); fail "serve: a line over --max-line answers a limit error and is skipped"; }
pass "serve: a line over --max-line answers (error \"limit\" ...) and the next is served"

# (sxp/stat) is answered as the socket server answers it, without the socket
# figures; requests and errors count the answers before it.
printf '%s\n' '(persist/last-seq "sv")' '(persist/frob)' '(sxp/stat)' '(persist/last-seq "sv")' |
    "$SXP" --dir "$D" serve --stdio >"$T/answers"
mapfile -t A <"$T/answers"
OUT=$(cat "$T/answers")
[ "${#A[@]}" = 4 ] && [ "${A[0]}" = "(ok 1)" ] && [ "${A[3]}" = "(ok 1)" ] ||
    fail "serve: (sxp/stat) is one answer among the others"
[[ "${A[2]}" == "(ok {:appends 0 :batches 0 :bytes 0 :dir \"$D\" :errors 1 :fsyncs "[0-9]*" :io \""*"\" :queued 0 :refusing 0 :requests 2 :revived 0 :streams "[0-9]*" :sync \"always\" :uptime-ms "[0-9]*"})" ]] ||
    fail "serve --stdio answers (sxp/stat) with the store's figures"
pass "serve --stdio answers (sxp/stat) like the socket server, without the socket figures"
printf '%s\n' '(sxp/stat 1)' '( sxp/stat)' | "$SXP" --dir "$D" serve --stdio >"$T/answers"
mapfile -t A <"$T/answers"
OUT=$(cat "$T/answers")
[ "${#A[@]}" = 2 ] && [ "${A[0]}" = '(error "arity" "sxp/stat takes 0 arguments, not 1: (sxp/stat)")' ] &&
    [[ "${A[1]}" == "(ok {:appends "* ]] ||
    fail "serve --stdio: (sxp/stat 1) is an arity error, ( sxp/stat) is (sxp/stat)"
pass "serve --stdio: (sxp/stat 1) is an arity error and ( sxp/stat) is (sxp/stat)"

# --sync-each-log: 64 streams appended through the journal, then a truncate,
# which checkpoints them first: one syncfs by default, 64 fdatasyncs with
# the option (journal.c J-11), which (sxp/stat)'s fsyncs count.
each_log_fsyncs() { # $1: the store, then global options; sets FS
    local dir=$1
    shift
    {
        for i in $(seq 1 64); do printf '(persist/append "e%d" {:seq 1})\n' "$i"; done
        printf '%s\n' '(persist/append "e1" {:seq 2})' '(persist/truncate "e1" 1)' '(sxp/stat)'
    } | "$SXP" --dir "$dir" "$@" serve --stdio >"$T/answers"
    mapfile -t A <"$T/answers"
    [ "${#A[@]}" = 67 ] && [ "${A[65]}" = "(ok nil)" ] || {
        OUT=$(cat "$T/answers")
        fail "serve: 64 appends, a truncate and (sxp/stat) ($*)"
    }
    [[ "${A[66]}" =~ :fsyncs\ ([0-9]+) ]] || fail "(sxp/stat) has :fsyncs ($*)"
    FS=${BASH_REMATCH[1]}
}
each_log_fsyncs "$T/each1"
FS_ONE=$FS
each_log_fsyncs "$T/each2" --sync-each-log
FS_EACH=$FS
[ "$FS_EACH" -ge $((FS_ONE + 60)) ] ||
    fail "--sync-each-log: the checkpoint of 64 logs fdatasyncs each ($FS_EACH fsyncs, $FS_ONE without)"
pass "--sync-each-log: a checkpoint of 64 logs syncs each one ($FS_EACH fsyncs, $FS_ONE with one syncfs)"
run --sync-each-log op --socket "$T/nosock" '(persist/streams)'
[ "$RC" = 2 ] && [[ "$ERR" == *"--sync-each-log"* ]] || fail "--sync-each-log does not go with --socket"
pass "--sync-each-log is a usage error with op --socket"

# ---- the lock: one read-write process per store --------------------------------

BEFORE=$(snap)
coproc SRV { exec "$SXP" --dir "$D" serve --stdio 2>"$T/srv.err"; }
SERVER_PID=$SRV_PID
echo '(persist/last-seq "sv")' >&"${SRV[1]}"
read -r ANSWER <&"${SRV[0]}"
[ "$ANSWER" = "(ok 1)" ] || fail "the server answers while holding the store"
run --dir "$D" op '(persist/append "sv" {:seq 2})'
[ "$RC" = 1 ] && [ ! -s "$T/out" ] || fail "a second read-write open fails with status 1"
[ "$(snap)" = "$BEFORE" ] || fail "the refused append changed a file of the store"
[[ "$ERR" == *locked* ]] || fail "the lock error says locked"
[[ "$ERR" == *"$SERVER_PID"* ]] || fail "the lock error names the holder's pid $SERVER_PID"
[[ "$ERR" == *"$D"* ]] || fail "the lock error names the directory"
pass "a second read-write open fails naming the directory and the holder's pid"
run --dir "$D" read sv
[ "$RC" = 1 ] && [[ "$ERR" == "sxp: locked: "* ]] || fail "read verbs also need the lock"
pass "friendly verbs fail the same way on a locked store"
run --dir "$D" --read-only read sv
[ "$RC" = 0 ] && [ "$OUT" = '{:seq 1}' ] || fail "--read-only reads a store another process holds"
pass "--read-only reads a store another process holds"
echo '(persist/append "sv" {:seq 2})' >&"${SRV[1]}"
read -r ANSWER <&"${SRV[0]}"
[ "$ANSWER" = "(ok nil)" ] || fail "the server still writes"
run --dir "$D" --read-only last-seq sv
[ "$RC" = 0 ] && [ "$OUT" = 2 ] || fail "--read-only last-seq is the log's, not the lagging .seq's"
pass "--read-only last-seq of a store another process holds says its last append"
close_srv
RC=0
wait "$SERVER_PID" || RC=$?
SERVER_PID=
[ "$RC" = 0 ] || fail "serve exits 0 when its input ends"
ok $'{:seq 1}\n{:seq 2}' read sv
pass "the store is usable again once the server exits"
op '(persist/truncate "sv" 1)' nil

# ---- recover and stat -----------------------------------------------------------

# killed_after_append DIR REQUEST: a serve --stdio on DIR acknowledges
# REQUEST and is killed, leaving the store not closed cleanly.
killed_after_append() {
    coproc SRV { exec "$SXP" --dir "$1" serve --stdio 2>"$T/srv.err"; }
    SERVER_PID=$SRV_PID
    echo "$2" >&"${SRV[1]}"
    read -r ANSWER <&"${SRV[0]}"
    [ "$ANSWER" = "(ok nil)" ] || fail "append through serve"
    {
        kill -KILL "$SERVER_PID"
        wait "$SERVER_PID"
    } 2>/dev/null || true
    SERVER_PID=
    close_srv || true
}

ok "$D: was closed cleanly; nothing to recover"$'\n'"7 streams; store closed cleanly" recover
killed_after_append "$D" '(persist/append "sv" {:seq 3})'
# A read-only view cannot read what the journal holds: it says so as crash
# residue (unrecovered), not as corruption.
run --dir "$D" --read-only read sv
[ "$RC" = 1 ] && [[ "$ERR" == "sxp: unrecovered: "*"JOURNAL holds 1 appends"* ]] ||
    fail "a read-only view of a store with journal records left"
pass "a read-only view of a crashed store with journal records left says unrecovered"
run --dir "$D" recover
[ "$RC" = 0 ] && [[ "$OUT" == "$D: was not closed cleanly"* ]] || fail "recover after a kill"
# The killed server wrote one stream: recovery read that log only.
[[ "$OUT" == *"recovery read 1 log; 6 others were not written by the crashed session"* ]] ||
    fail "recover reads only the dirty list's logs: $OUT"
pass "recover after a killed writer says recovery ran, on the one log it wrote"
# recover repairs a store and makes none: a directory that does not exist
# (a mistyped --dir) is refused, not created and called closed cleanly.
run --dir "$T/no-such-store" recover
[ "$RC" = 1 ] && [ ! -s "$T/out" ] && [[ "$ERR" == "sxp: notstore: "*"does not exist"* ]] &&
    [ ! -e "$T/no-such-store" ] || fail "recover of a directory that does not exist"
pass "recover refuses a directory that does not exist and creates nothing"
# The example of docs/cli.md: a torn tail on one of two streams.
"$SXP" --dir "$T/rec" append orders '{:seq 1 :total 9.5}' '{:seq 2 :total 3}'
"$SXP" --dir "$T/rec" append audit '{:seq 1}'
killed_after_append "$T/rec" '(persist/append "orders" {:seq 3})'
printf '{:seq 4 :tot' >>"$T/rec/streams/6f7264657273.log"
ok "$T/rec: was not closed cleanly; recovery cut 1 torn tail (12 bytes), rolled 1 high-water mark forward, recreated 0 .seq files and removed 0 temp files
recovery read 1 log; 1 other was not written by the crashed session
2 streams; store closed cleanly" --dir "$T/rec" recover
ok "$T/rec: was closed cleanly; nothing to recover
2 streams; store closed cleanly" --dir "$T/rec" recover
# A crash during a stream's first append can leave its empty log, with no
# .seq (recover.c R-4b): never listed, and recovery removes it.
killed_after_append "$T/rec" '(persist/append "audit" {:seq 2})'
: >"$T/rec/streams/6e6577.log"
ok "$T/rec: was not closed cleanly; recovery cut 0 torn tails (0 bytes), rolled 1 high-water mark forward, recreated 0 .seq files and removed 0 temp files
1 stream never appended to (the first append failed or never became durable): its empty log removed
recovery read 2 logs; 1 other was not written by the crashed session
2 streams; store closed cleanly" --dir "$T/rec" recover
[ ! -e "$T/rec/streams/6e6577.log" ] || fail "recover removes an unborn stream's empty log"
pass "recover removes an unborn stream's empty log"
ok '{:seq 2}'$'\n''{:seq 3}' read sv
run --dir "$D" stat
[ "$RC" = 0 ] && [[ "$OUT" == *"streams:    7"* ]] && [[ "$OUT" == *"kv keys:    4"* ]] &&
    [[ "$OUT" == *"io:         "* ]] || fail "stat prints counts"
pass "stat prints the counts"
run --dir "$D" --io sync stat
[ "$RC" = 0 ] && [[ "$OUT" == *"io:         sync"* ]] || fail "--io sync uses plain syscalls"
pass "--io sync uses plain syscalls"
ok "" --io sync --sync none append sv '{:seq 4}'
ok 4 last-seq sv

# ---- the global options -------------------------------------------------------------

# Every global option `sxp --help` lists comes from one table (cli/globals.c)
# that main.c parses before the command and args.c looks names up in after
# it. So each one listed works before a command, in its long, short and "="
# forms, and each that sets something (all but --help and --version, which
# print and stop) is refused after a command with a usage error saying where
# it goes.
G=$T/globals
"$SXP" --dir "$G" append g '{:seq 1}'
run --help
HELP=$OUT

# global_form NAME ARG...: the global option NAME, given as ARG..., works
# before a command and, when it sets something and ARG is long, is refused
# after one.
global_form() {
    local name=$1
    shift
    case $name in
    --help)
        run "$@" streams
        [ "$RC" = 0 ] && [ "$OUT" = "$HELP" ] || fail "sxp $* streams prints the overview"
        ;;
    --version)
        run "$@" streams
        [ "$RC" = 0 ] && [[ "$OUT" == "sxp "* ]] || fail "sxp $* streams prints the version"
        ;;
    *)
        run --dir "$G" "$@" streams
        [ "$RC" = 0 ] && [ "$OUT" = g ] || fail "sxp --dir G $* streams lists the streams"
        if [[ "$1" == --* ]]; then
            run --dir "$G" streams "$@"
            [ "$RC" = 2 ] && [ ! -s "$T/out" ] &&
                [[ "$ERR" == "sxp: '$name' is a global option: give it before 'streams'"* ]] ||
                fail "sxp streams $* says to give $name before the command"
        fi
        ;;
    esac
}

SEEN=
SPECS=()
in_globals=0
while IFS= read -r line; do
    case $line in
    "Global options"*) in_globals=1 ;;
    "") in_globals=0 ;;
    esac
    if [ "$in_globals" = 0 ] || [[ "$line" != "  -"* ]]; then
        continue
    fi
    spec=${line#  }
    spec=${spec%%  *} # "--dir DIR", "-v, --verbose"
    short=
    if [[ "$spec" == -?,\ * ]]; then
        short=${spec%%,*}
        spec=${spec#*, }
    fi
    name=${spec%% *}
    value=
    if [[ "$spec" == *" "* ]]; then
        value=${spec#* }
    fi
    SEEN="$SEEN $name"
    SPECS+=("${short:+$short, }$name${value:+ $value}")
    case $value in
    "")
        global_form "$name" "$name"
        if [ -n "$short" ]; then
            global_form "$name" "$short"
        fi
        ;;
    *)
        case $value in
        DIR) v=$G ;;
        *"|"*) v=${value%%|*} ;;
        *) fail "test_cli.sh has no value to give '$name $value': add one" ;;
        esac
        global_form "$name" "$name" "$v"
        global_form "$name" "$name=$v"
        if [ -n "$short" ]; then
            global_form "$name" "$short" "$v"
        fi
        ;;
    esac
    case $name in
    --help | --version) pass "global option ${short:+$short, }$name: before a command it prints and stops" ;;
    *) pass "global option ${short:+$short, }$name${value:+ $value}: taken before a command, refused after one" ;;
    esac
done <<<"$HELP"
[[ "$SEEN " == *" --dir "* ]] && [[ "$SEEN " == *" --help "* ]] ||
    fail "sxp --help lists --dir and --help among the global options (found:$SEEN)"

# docs/cli.md's table of global options has a row for each, and only those,
# in the form `sxp --help` shows them ("`-v`, `--verbose`", "`--dir DIR`").
DOC=$(cd "$(dirname "$0")/.." && pwd)/docs/cli.md
DOC_SPECS=$(sed -n '/^## Global options/,/^## /p' "$DOC" | { grep '^| `' || true; } | sed 's/\\|/@/g' |
    cut -d'|' -f2 | tr -d '`' | sed 's/^ *//; s/ *$//; s/@/|/g' | LC_ALL=C sort)
HELP_SPECS=$(printf '%s\n' "${SPECS[@]}" | LC_ALL=C sort)
[ "$DOC_SPECS" = "$HELP_SPECS" ] ||
    fail "docs/cli.md lists the global options of sxp --help: $(diff <(echo "$HELP_SPECS") <(echo "$DOC_SPECS"))"
pass "docs/cli.md lists the same global options as sxp --help"

# ---- where the store is ------------------------------------------------------------

RC=0
SX_PERSIST_DIR=$T/env "$SXP" op '(persist/append "e" {:seq 1})' >/dev/null || RC=$?
[ "$RC" = 0 ] && [ -d "$T/env/streams" ] || fail "\$SX_PERSIST_DIR names the default store"
pass "\$SX_PERSIST_DIR names the default store"
mkdir "$T/cwd"
RC=0
(cd "$T/cwd" && env -u SX_PERSIST_DIR "$SXP" op '(persist/append "e" {:seq 1})' >/dev/null) || RC=$?
[ "$RC" = 0 ] && [ -d "$T/cwd/persist-data/streams" ] || fail "./persist-data is the default store"
pass "./persist-data is the default store"

# ---- demo ------------------------------------------------------------------------------

mkdir "$T/demotmp"
RC=0
TMPDIR=$T/demotmp "$SXP" demo >"$T/out" 2>"$T/err" || RC=$?
OUT=$(cat "$T/out")
ERR=$(cat "$T/err")
[ "$RC" = 0 ] || fail "demo exits 0"
[[ "$OUT" == *"persist/append-batch"* ]] && [[ "$OUT" == *"Done"* ]] || fail "demo tours the store"
[ -z "$(ls -A "$T/demotmp")" ] || fail "demo removes its temporary store"
pass "demo runs on a temporary store and exits 0"
run --dir "$T/demo" demo
[ "$RC" = 0 ] || fail "demo --dir exits 0"
ok $'{:item "coffee" :seq 1 :total 3.5}\n{:item "bagel" :seq 2 :total 2.25}' \
    --dir "$T/demo" read orders
pass "demo with --dir keeps its store"
run --dir "$T/demo" demo
[ "$RC" = 0 ] && [[ "$OUT" == *"continue above"* ]] && [[ "$OUT" == *"Done"* ]] ||
    fail "demo runs again on its own store"
ok 4 --dir "$T/demo" last-seq orders
ok 6 --dir "$T/demo" last-seq audit
ok '{:seq 6 :who "cy"}' --dir "$T/demo" read audit
pass "demo runs again on the same store, its seqs above the old ones"

# A LOCK that is a FIFO (not a file sxp or a crash makes) is named as
# such, not read as a damaged LOCK, and nothing opens it as a store.
Q=$T/fifo-lock
run --dir "$Q" append a '{:seq 1}'
[ "$RC" = 0 ] || fail "append before the FIFO"
rm "$Q/LOCK"
mkfifo "$Q/LOCK"
run --dir "$Q" read a
[ "$RC" = 1 ] && [ "$ERR" = "sxp: corrupt: $Q/LOCK is not a regular file: run sxp-fsck" ] ||
    fail "a FIFO as LOCK is named"
[ -p "$Q/LOCK" ] || fail "the FIFO stays as it was"
pass "a LOCK that is a FIFO is refused, named as not a regular file"

# blob put of a file over the blob limit (1 GiB) is refused by its size,
# before a byte is read or a store made (sparse: it takes no room).
truncate -s 1073741825 "$T/over-limit"
run --dir "$T/bigstore" blob put "$T/over-limit"
[ "$RC" = 1 ] && [[ "$ERR" == "sxp: limit: $T/over-limit is 1073741825 bytes: a blob is at most 1073741824" ]] ||
    fail "blob put of a file over the limit"
[ ! -e "$T/bigstore" ] || fail "blob put over the limit made a store"
rm -f "$T/over-limit"
pass "blob put refuses a file over the limit by its size, and makes no store"

# serve --stdio: SIGINT (a Ctrl-C), SIGTERM or SIGHUP (its terminal went
# away) ends the input. What was answered stays, a line not ended by its
# LF is not run, the store is closed cleanly (LOCK reads "clean"), and the
# exit status is 0.
for sig in INT TERM HUP; do
    S=$T/sig$sig
    coproc SRV { exec "$SXP" --dir "$S" serve --stdio 2>/dev/null; }
    pid=$SRV_PID
    echo '(persist/append "a" {:seq 1})' >&"${SRV[1]}"
    read -r ans <&"${SRV[0]}"
    [ "$ans" = "(ok nil)" ] || fail "serve --stdio answers before SIG$sig: $ans"
    printf '(persist/append "a" {:seq 2})' >&"${SRV[1]}"
    kill -"$sig" "$pid"
    RC=0
    wait "$pid" || RC=$?
    [ "$RC" = 0 ] || fail "serve --stdio exits 0 on SIG$sig"
    [ "$(cat "$S/LOCK")" = clean ] || fail "serve --stdio closes the store cleanly on SIG$sig"
    run --dir "$S" read a
    [ "$RC" = 0 ] && [ "$OUT" = '{:seq 1}' ] || fail "the half line sent before SIG$sig was not run"
    pass "serve --stdio: SIG$sig closes the store cleanly, runs no half line, exits 0"
done

# A file size limit is a full disk: the write past RLIMIT_FSIZE fails with
# EFBIG, said plainly (exit 1), instead of SIGXFSZ killing sxp (exit 153)
# with the line half written; what was stored stays, and reads on.
F=$T/fsize
run --dir "$F" append s '{:seq 1}'
[ "$RC" = 0 ] || fail "append to the store under a file size limit"
big=$(head -c 120000 /dev/zero | tr '\0' z)
RC=0
(
    ulimit -f 100
    exec "$SXP" --dir "$F" append s "{:seq 2 :x \"$big\"}"
) >"$T/out" 2>"$T/err" || RC=$?
OUT=$(cat "$T/out")
ERR=$(cat "$T/err")
[ "$RC" = 1 ] && [[ "$ERR" == *"File too large"* ]] || fail "a write past ulimit -f is an error"
run --dir "$F" read s
[ "$RC" = 0 ] && [ "$OUT" = '{:seq 1}' ] || fail "the store keeps seq 1 after a write past ulimit -f"
run --dir "$F" append s '{:seq 2}'
[ "$RC" = 0 ] || fail "appends go on once under the limit"
pass "a write past the file size limit fails with EFBIG, and the store keeps what it had"

echo "1..$NTEST"
