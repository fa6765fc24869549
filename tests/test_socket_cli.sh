#!/usr/bin/env bash
# test_socket_cli.sh -- `sxp serve --socket` and its clients `sxp op --socket`
# and `sxp stat --socket`, end to end, as a person or a script uses them.
#
#   bash tests/test_socket_cli.sh BUILD_DIR
#
# Checks the usage errors of the socket options, the output and exit status
# of `op --socket` (the same as local `op`), `stat --socket`, the socket's
# mode, the log, a live socket refused and a stale one replaced, a bad
# socket path refused before any store is created, SIGTERM, SIGINT and SIGHUP
# (exit 0, store closed cleanly, socket removed) and SIGKILL (what was
# acknowledged survives). The concurrency, pipelining and bad-input cases
# are in test_socket.c. A server is waited for by retrying a request in a
# bounded loop, never by a fixed sleep.
set -euo pipefail

BUILD=${1:?usage: test_socket_cli.sh BUILD_DIR}
SXP=$BUILD/cli/sxp
if [ ! -x "$SXP" ]; then
    echo "test_socket_cli: $SXP not built" >&2
    exit 1
fi
SXP=$(cd "$(dirname "$SXP")" && pwd)/sxp

T=$(mktemp -d "${TMPDIR:-/tmp}/sxp-test-sock-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

D=$T/store
S=$T/sock
NTEST=0

run() {
    RC=0
    "$SXP" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

fail() {
    echo "not ok - $*" >&2
    echo "  exit: ${RC:-}" >&2
    echo "  stdout: ${OUT:-}" >&2
    echo "  stderr: ${ERR:-}" >&2
    if [ -f "$T/log" ]; then
        echo "  server log:" >&2
        sed 's/^/    /' "$T/log" >&2
    fi
    exit 1
}

pass() {
    NTEST=$((NTEST + 1))
    echo "ok $NTEST - $*"
}

# start ARG...: starts `sxp --dir $D serve --socket $S ARG...` in the
# background, its stderr into $T/log, and waits until it answers (bounded).
start() {
    "$SXP" --dir "$D" serve --socket "$S" "$@" 2>>"$T/log" &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        if "$SXP" op --socket "$S" '(persist/streams)' >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before answering"
        sleep 0.05
    done
    fail "the server did not answer on $S within 30 s"
}

# stop SIGNAL: sends the signal and waits; sets RC to the exit status.
stop() {
    kill "-$1" "$SERVER_PID"
    RC=0
    { wait "$SERVER_PID"; } 2>/dev/null || RC=$?
    SERVER_PID=
}

# sok WANT REQUEST: `sxp op --socket` prints WANT and exits 0.
sok() {
    run op --socket "$S" "$2"
    [ "$RC" = 0 ] && [ "$OUT" = "$1" ] && [ ! -s "$T/err" ] ||
        fail "op --socket '$2' prints '$1'"
    pass "op --socket '$2' prints '$1'"
}

# sbad KIND REQUEST: `sxp op --socket` exits 1, prints nothing on stdout and
# one line "sxp: KIND: ..." on stderr.
sbad() {
    run op --socket "$S" "$2"
    [ "$RC" = 1 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
        [[ "$ERR" == "sxp: $1: "* ]] || fail "op --socket '$2' fails with '$1'"
    pass "op --socket '$2' fails with status 1 and '$1'"
}

# usage WANT ARG...: `sxp ARG...` exits 2 naming WANT, creating nothing.
usage() {
    local want=$1
    shift
    run "$@"
    [ "$RC" = 2 ] && [ ! -s "$T/out" ] && [[ "$ERR" == *"$want"* ]] ||
        fail "sxp $* is a usage error naming '$want'"
    [ ! -e "$D" ] && [ ! -e "$S" ] || fail "sxp $* creates nothing"
    pass "sxp $* is a usage error"
}

# ---- usage --------------------------------------------------------------------

run serve --help
[ "$RC" = 0 ] && [[ "$OUT" == *"--socket PATH"* ]] && [[ "$OUT" == *"--allow-uid"* ]] ||
    fail "serve --help describes --socket"
pass "serve --help describes --socket and its options"
run op --help
[ "$RC" = 0 ] && [[ "$OUT" == *"--socket PATH"* ]] || fail "op --help describes --socket"
pass "op --help describes --socket"
run stat --help
[ "$RC" = 0 ] && [[ "$OUT" == *"stat --socket PATH"* ]] || fail "stat --help describes --socket"
pass "stat --help describes --socket"

usage "--socket needs a path" --dir "$D" serve --socket ""
usage "--workers takes a number" --dir "$D" serve --socket "$S" --workers 0
usage "--workers takes a number" --dir "$D" serve --socket "$S" --workers many
usage "--max-conns takes a number" --dir "$D" serve --socket "$S" --max-conns -1
usage "--mode takes octal" --dir "$D" serve --socket "$S" --mode 0999
usage "--mode takes octal" --dir "$D" serve --socket "$S" --mode rw
usage "--group: no such group" --dir "$D" serve --socket "$S" --group no-such-group-sxp
usage "--allow-uid takes" --dir "$D" serve --socket "$S" --allow-uid 1,,2
usage "--allow-uid takes" --dir "$D" serve --socket "$S" --allow-uid no-such-user-sxp
usage "--log-level takes" --dir "$D" serve --socket "$S" --log-level loud
usage "--drain-timeout takes" --dir "$D" serve --socket "$S" --drain-timeout -1
usage "cannot run with --read-only" --dir "$D" --read-only serve --socket "$S"
usage "--dir does not go with --socket" --dir "$D" op --socket "$S" '(persist/streams)'
usage "--dir does not go with --socket" --dir "$D" stat --socket "$S"
# The options of a local store are refused too: the server would ignore
# them, and --read-only would let a write through.
usage "--read-only does not go with --socket" --read-only op --socket "$S" '(persist/append "a" {:seq 1})'
usage "--sync does not go with --socket" --sync none op --socket "$S" '(persist/streams)'
usage "--io does not go with --socket" --io sync stat --socket "$S"
usage "--log-level goes with --socket" --dir "$D" serve --stdio --log-level info

# A socket path in a missing directory: the message names the path and the
# cause, and is given before the store is opened, so no store is created.
run --dir "$D" serve --socket "$T/no-such-dir/s.sock"
[ "$RC" = 1 ] && [ ! -s "$T/out" ] &&
    [ "$ERR" = "sxp: io: cannot create the socket $T/no-such-dir/s.sock: $T/no-such-dir: No such file or directory" ] ||
    fail "serve --socket in a missing directory fails naming the socket and the cause"
[ ! -e "$D" ] && [ ! -e "$T/no-such-dir" ] || fail "a bad socket path creates no store"
pass "serve --socket in a missing directory exits 1 naming the socket path and creates nothing"
: >"$T/a-file"
run --dir "$D" serve --socket "$T/a-file/s.sock"
[ "$RC" = 1 ] && [[ "$ERR" == "sxp: io: cannot create the socket $T/a-file/s.sock: Not a directory" ]] &&
    [ ! -e "$D" ] || fail "serve --socket under a file fails and creates no store"
pass "serve --socket under a file exits 1 and creates no store"
rm -f "$T/a-file"

run op --socket "$S" '(persist/streams)'
[ "$RC" = 1 ] && [ ! -s "$T/out" ] && [[ "$ERR" == "sxp: io: connect $S: No such file"* ]] ||
    fail "op --socket with no server fails naming the socket"
pass "op --socket with no server exits 1 naming the socket"

# ---- a server --------------------------------------------------------------------

start --log-level info
[ "$(stat -c %a "$S")" = 600 ] || fail "the socket is created mode 0600"
[ "$(stat -c %F "$S")" = socket ] || fail "PATH is a socket"
[ -z "$(find "$T" -maxdepth 1 -name '*.tmp')" ] || fail "no temporary socket name is left"
pass "the socket is created mode 0600"

sok nil '(persist/append "orders" {:seq 1 :total 9.5})'
sok nil '(persist/append "orders" {:seq 2 :total 3})'
sok '(list {:seq 1 :total 9.5} {:seq 2 :total 3})' '(persist/read "orders")'
sok 2 '(persist/last-seq "orders")'
sok '(list "orders")' '(persist/streams)'
sbad seq '(persist/append "orders" {:seq 2})'
sbad parse '(persist/read "orders"'
sbad op '(persist/nope)'
sbad arity '(persist/read)'
sbad cid '(blob/get "../../etc/passwd")'
# A blank request is malformed SX, as for a local `op`: the server skips
# blank lines without an answer, so a client that sent one waited forever.
for blank in '' '   ' $'\t'; do
    RC=0
    timeout 60 "$SXP" op --socket "$S" "$blank" >"$T/out" 2>"$T/err" </dev/null || RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
    [ "$RC" = 1 ] && [ -z "$OUT" ] && [[ "$ERR" == "sxp: parse: "* ]] ||
        fail "op --socket with a blank request fails with 'parse'"
done
pass "op --socket with a blank request fails with 'parse' at once"
sok nil '(persist/kv-put "nl" "line 1\nline 2")'
sok '"line 1\nline 2"' '(persist/kv-get "nl")'

# A request over several lines (op -) goes as one line.
RC=0
printf '(persist/append\n  "orders"\n  {:seq 3 :note "two\nlines"})\n' |
    "$SXP" op --socket "$S" - >"$T/out" 2>"$T/err" || RC=$?
OUT=$(cat "$T/out")
ERR=$(cat "$T/err")
[ "$RC" = 0 ] && [ "$OUT" = nil ] || fail "op --socket - sends a request spanning lines"
sok '(list {:note "two\nlines" :seq 3})' '(persist/read-range "orders" 3 10)'
pass "op --socket - sends a request that spans lines as one line"

# Spanning lines changes no value: a whole double stays a double, which
# the server refuses as a :seq or a limit, as a one-line request is.
for req in $'(persist/append "orders"\n {:seq 4.0})' $'(persist/read-range "orders" 0\n 1e3)' \
    $'(persist/truncate "orders"\n 1.0)'; do
    RC=0
    printf '%s' "$req" | "$SXP" op --socket "$S" - >"$T/out" 2>"$T/err" || RC=$?
    [ "$RC" = 1 ] && [ ! -s "$T/out" ] && grep -q '^sxp: type: ' "$T/err" ||
        fail "op --socket - refuses a double argument over two lines: $req"
done
sok 3 '(persist/last-seq "orders")'
sok '(list {:seq 1 :total 9.5} {:seq 2 :total 3} {:note "two\nlines" :seq 3})' '(persist/read "orders")'
pass "op --socket - changes no value's type when it joins lines"

# The same store through the server and through a local read-only open.
run --dir "$D" --read-only read orders
[ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | wc -l)" = 3 ] || fail "the server's writes are on disk"
pass "what the server acknowledged is in the store"

# stat --socket: every figure, the counts exact.
run stat --socket "$S"
[ "$RC" = 0 ] || fail "stat --socket exits 0"
for k in connections accepted refused requests errors running workers appends batches fsyncs \
    bytes streams dir socket io sync uptime-ms queued refusing revived; do
    [[ "$OUT" == *"$k:"* ]] || fail "stat --socket shows $k"
done
[[ "$OUT" == *$'\nconnections: 1\n'* ]] || fail "stat --socket counts its own connection"
[[ "$OUT" == *$'\nappends:     3\n'* ]] || fail "stat --socket counts 3 appends"
[[ "$OUT" == *$'\nerrors:      8\n'* ]] || fail "stat --socket counts the 8 error answers"
[[ "$OUT" == *"socket:      $S"* ]] || fail "stat --socket names the socket"
[[ "$OUT" == *"dir:         $D"* ]] || fail "stat --socket names the store"
[[ "$OUT" == *$'\nrefusing:    0\nrevived:     0'* ]] || fail "stat --socket: no stream refuses writes"
pass "stat --socket shows connections, requests, errors, appends, batches, fsyncs and bytes"

# (sxp/stat) is an operation like the others: arguments are an arity error
# (not "unknown operation"), and whitespace may follow the '('.
sbad arity '(sxp/stat 1)'
[[ "$ERR" == "sxp: arity: sxp/stat takes 0 arguments, not 1: (sxp/stat)" ]] ||
    fail "(sxp/stat 1) names the arity"
run op --socket "$S" $'(\t sxp/stat )'
[ "$RC" = 0 ] && [[ "$OUT" == "{:accepted "* ]] || fail "op --socket '( sxp/stat )' is (sxp/stat)"
pass "op --socket '( sxp/stat )' is answered as (sxp/stat)"

# The log: a line per connection event at info.
grep -q "info: serving $D on $S" "$T/log" || fail "the log says what is served"
grep -q "info: conn [0-9]* open: pid [0-9]* uid $(id -u)" "$T/log" || fail "the log has opens"
grep -q "info: conn [0-9]* closed: " "$T/log" || fail "the log has closes"
pass "the log has a line per connection event"

# A live socket is not taken over, by a server of another store or of this one.
RC=0
"$SXP" --dir "$T/other" serve --socket "$S" 2>"$T/err2" || RC=$?
[ "$RC" = 1 ] && grep -q "another server is listening there" "$T/err2" ||
    { ERR=$(cat "$T/err2"); fail "a second server on a live socket exits 1"; }
[ ! -e "$T/other" ] || fail "a second server on a live socket creates no store"
pass "a second server on a live socket exits 1, leaves it alone and creates no store"
RC=0
"$SXP" --dir "$D" serve --socket "$T/sock2" 2>"$T/err2" || RC=$?
[ "$RC" = 1 ] && grep -q "sxp: locked: " "$T/err2" && [ ! -e "$T/sock2" ] ||
    { ERR=$(cat "$T/err2"); fail "a second server on a held store exits 1 with no socket"; }
pass "a second server on a held store exits 1 (locked) and makes no socket"
sok 3 '(persist/last-seq "orders")'

# SIGTERM: exit 0, store closed cleanly, socket gone.
stop TERM
[ "$RC" = 0 ] || fail "SIGTERM ends the server with status 0"
[ "$(cat "$D/LOCK")" = clean ] || fail "SIGTERM leaves LOCK clean"
[ ! -e "$S" ] || fail "SIGTERM removes the socket"
grep -q "info: SIGTERM: draining" "$T/log" || fail "the log says it drains"
grep -q "info: store closed cleanly" "$T/log" || fail "the log says the store closed cleanly"
run --dir "$D" recover
[ "$RC" = 0 ] && [[ "$OUT" == "$D: was closed cleanly"* ]] || fail "no recovery after SIGTERM"
pass "SIGTERM drains, closes the store cleanly (no recovery next) and removes the socket"

# ---- SIGKILL: a stale socket, and what was acknowledged survives ----------------------

start --log-level warn --mode 0660
[ "$(stat -c %a "$S")" = 660 ] || fail "--mode 0660 widens the socket"
pass "--mode 0660 widens the socket"
sok nil '(persist/append "orders" {:seq 4})'
stop KILL
[ -S "$S" ] || fail "a killed server leaves its socket"
run op --socket "$S" '(persist/streams)'
[ "$RC" = 1 ] && [[ "$ERR" == "sxp: io: connect $S: Connection refused"* ]] ||
    fail "op --socket on a stale socket fails"
pass "op --socket on a dead server's socket exits 1 (connection refused)"
: >"$T/log"
start --log-level info
grep -q "replaced the stale socket $S" "$T/log" || fail "the stale socket is replaced"
[ "$(stat -c %a "$S")" = 600 ] || fail "the new socket is mode 0600 again"
pass "a stale socket is replaced by the next server"
# L-4: a server removes its socket at exit only while PATH is still its
# own: a successor's socket (or any file) put there meanwhile stays.
mv "$S" "$T/own-sock"
: >"$S"
stop TERM
[ "$RC" = 0 ] && [ -f "$S" ] && [ ! -S "$S" ] ||
    fail "a server leaves the file another put at its socket path"
[ -S "$T/own-sock" ] || fail "the server's own socket (moved) is not removed by its inode"
rm -f "$S" "$T/own-sock"
pass "a server's exit removes its socket only while PATH is still its own"
: >"$T/log"
start --log-level info
# `streams` of stat --socket counts the streams the server has used, not
# those on disk (which local stat counts), and the help says so.
run --dir "$D" --read-only stat
[[ "$OUT" == *$'\nstreams:    0\n'* ]] && fail "the store has streams on disk"
run stat --socket "$S"
[[ "$OUT" == *$'\nstreams:     0\n'* ]] || fail "stat --socket counts no stream before any is used"
sok 4 '(persist/last-seq "orders")'
run stat --socket "$S"
[[ "$OUT" == *$'\nstreams:     1\n'* ]] || fail "stat --socket counts the stream just used"
run stat --help
[[ "$OUT" == *"kv keys (all"*"of them, on disk)"* ]] && [[ "$OUT" == *'"streams" counts the streams the server has used'*"not those on disk"* ]] ||
    fail "stat --help says what each streams figure counts"
pass "stat counts the streams on disk, stat --socket those the server used, as --help says"
sok '(list {:seq 4})' '(persist/read-range "orders" 4 1)'
pass "an append acknowledged before SIGKILL is there after recovery"
stop INT
[ "$RC" = 0 ] && [ "$(cat "$D/LOCK")" = clean ] && [ ! -e "$S" ] || fail "SIGINT drains too"
pass "SIGINT drains like SIGTERM"
# SIGHUP (the terminal or session that started it went away) drains too,
# instead of killing the server with LOCK dirty and the socket left.
: >"$T/log"
start --log-level info
sok 4 '(persist/last-seq "orders")'
stop HUP
[ "$RC" = 0 ] && [ "$(cat "$D/LOCK")" = clean ] && [ ! -e "$S" ] || fail "SIGHUP drains too"
grep -q "info: SIGHUP: draining" "$T/log" || fail "the log says SIGHUP drains"
pass "SIGHUP drains like SIGTERM"

# ---- a socket path too long for the temporary name is bound directly -----------------

LONG=$T/$(printf 'd%.0s' $(seq 1 $((100 - ${#T} - 7))))
mkdir -p "$LONG"
SAVE_S=$S
S=$LONG/s.sock
[ "${#S}" -le 107 ] && [ "${#S}" -ge 98 ] || fail "the long path is ${#S} bytes"
start --log-level warn
[ "$(stat -c %a "$S")" = 600 ] || fail "a long socket path is mode 0600"
sok 4 '(persist/last-seq "orders")'
stop TERM
[ "$RC" = 0 ] && [ ! -e "$S" ] || fail "a server on a long path stops cleanly"
pass "a socket path of ${#S} bytes (no room for a temporary name) works"
S=$LONG/$(printf 'x%.0s' $(seq 1 $((108 - ${#LONG}))))
run --dir "$D" serve --socket "$S"
[ "$RC" = 2 ] && [[ "$ERR" == *"a socket path has at most 107 bytes, not ${#S}"* ]] &&
    [ ! -e "$S" ] || fail "a socket path over 107 bytes is a usage error"
pass "a socket path over 107 bytes is a usage error"
S=$SAVE_S

# ---- a request over --max-line ---------------------------------------------------------

# The server answers `limit` after max-line bytes and closes, while the
# client still sends: 4 MB is far more than a socket buffer holds, so the
# send breaks (EPIPE), and the answer waiting behind it is what is said.
start --log-level error --max-line 1024
{ printf '(persist/kv-put "big" "'; head -c 4000000 /dev/zero | tr '\0' a; printf '")'; } >"$T/big"
RC=0
"$SXP" op --socket "$S" - <"$T/big" >"$T/out" 2>"$T/err" || RC=$?
OUT=$(cat "$T/out")
ERR=$(cat "$T/err")
[ "$RC" = 1 ] && [ "$ERR" = "sxp: limit: request line longer than 1024 bytes (--max-line)" ] ||
    fail "op --socket with a request over --max-line reports the server's limit answer"
pass "op --socket with a request over --max-line reports limit, not the broken send"
sok nil '(persist/kv-get "big")'
stop TERM
rm -f "$T/big"

# ---- debug logs each request ----------------------------------------------------------

: >"$T/log"
start --log-level debug
sok 4 '(persist/last-seq "orders")'
stop TERM
grep -q 'debug: conn [0-9]*: (persist/last-seq "orders") -> ok' "$T/log" ||
    fail "--log-level debug logs each request"
pass "--log-level debug logs each request and its outcome"

echo "1..$NTEST"
