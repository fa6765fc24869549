#!/usr/bin/env python3
"""Writes the hand-written seed corpora of tests/fuzz/corpus/<target>/.

Run it from anywhere: python3 tests/fuzz/seeds.py. It replaces only the
files named seed-*; inputs that libFuzzer added (named by their SHA-1) and
regression inputs (tests/fuzz/regress/) are left alone. Framed lines need
XXH3-64, which it takes from the system's libxxhash through ctypes.
"""
import ctypes
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

_xxh = ctypes.CDLL("libxxhash.so.0")
_xxh.XXH3_64bits.restype = ctypes.c_uint64
_xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def frame(payload: bytes) -> bytes:
    return payload + b"\t" + b"%016x" % _xxh.XXH3_64bits(payload, len(payload)) + b"\n"


def b32(data: bytes) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    bits = "".join("{:08b}".format(x) for x in data)
    bits += "0" * (-len(bits) % 5)
    return "".join(alphabet[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


def cid_of(data: bytes) -> str:
    return "b" + b32(bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest())


def write(target, items):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.unlink(os.path.join(d, name))
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = item.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(item)


SX = [
    "nil", "true", "false", "0", "-12", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "0.1", "-2.5", "1e+300", "1e999", "1.234567890123456e+15",
    "1234567890123456", "-0.0", ".5", "5.", "1e5", "nan", "inf",
    '"plain"', '"esc \\" \\\\ \\n \\r \\t"', b'"raw \x00 \xff bytes"', '"bad \\q escape"',
    '"unterminated', "(quote name)", "(quote (quote x))", "(quote)", "(quote a b)", "sym",
    ":kw", ":", "(list a b c)", "(list)", "(a b c)", "()", "{:k1 v1 :k2 v2}", "{}",
    "{:b 1 :a 2}", '{"a" 1}', '{"a b" 1}', "{:a 1 :a 2}", "{:a}", "{1 2}",
    "{:seq 1 :total 9.5}", "(quote {:seq 3})", "{:seq (quote 5)}", '{"seq" 4 :x nil}',
    "{:seq 1 :seq 2}", "{:seq -1}", "{:seq 1.5}",
    '{:a (quote s) :b (list 1 2.5 "x\\ty")}', " \t\n\v\f\r nil \n", "nil nil", "(list",
    ")", "}", "{:a (list {:b (list {:c {}})})}", "(" * 300 + ")" * 300, "(" * 255 + ")" * 255,
    "{:x " * 100 + "1" + "}" * 100, "(list (quote a) :b \"c\" 1 2.0 nil true)",
    '{:note "line\\none" :seq 40}', "-", "--1", "1-", "0x10", "1e", "1e+", "00012",
]

FRAME = [
    frame(b"{:seq 1}"),
    frame(b"{:seq 1 :total 9.5}") + frame(b"{:seq 2}"),
    b"{:seq 1}\n{:seq 2}\n",
    b"   \n",
    b"\n",
    b"{:seq 1}\tnot-a-checksum!!\n",
    b"{:seq 1}\t0123456789abcdef\n",
    b"{:seq 1}\t0123456789ABCDEF\n",
    frame(b"{:seq 1}")[:-5],
    frame(b"{:seq 1}") + b"\x00" * 40,
    frame(b"{:seq 1}") + b"{:seq 2 :x",
    b"{:seq 1}",
    b"\t",
    b"a\tb\tc\n",
    frame(b"") + frame(b"\t"),
    frame(b'{:s "a\\tb"}'),
    frame(b"x" * 200)[:-1],
]

REQ = [
    '(persist/append "orders" {:seq 1 :total 9.5})',
    '(persist/append "orders" {:seq 1})',
    '(persist/append "orders" {:total 1})',
    '(persist/append "orders" (list))',
    '(persist/append-batch "orders" (list {:seq 2} {:seq 3}))',
    '(persist/append-batch "orders" (list {:seq 5} {:seq 4}))',
    '(persist/append-batch "o" (list))',
    '(persist/read "orders")',
    '(persist/read-range "orders" 2 10)',
    '(persist/read-range "orders" 0 -1)',
    '(persist/last-seq "orders")',
    "(persist/streams)",
    '(persist/truncate "orders" 2)',
    '(persist/truncate "orders" -9223372036854775808)',
    '(persist/kv-get "config")',
    '(persist/kv-put "config" {:retries 3 :verbose true})',
    '(persist/kv-delete "config")',
    '(persist/kv-has? "config")',
    "(persist/kv-keys)",
    '(blob/put "hello world")',
    '(blob/put "")',
    '(blob/get "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")',
    '(blob/has? "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")',
    '(blob/get "../../etc/passwd")',
    '(blob/get "%s")' % cid_of(b"hello world"),
    "(persist/nope)",
    '(persist/read "orders" "extra")',
    "(persist/read 1)",
    '(persist/read "")',
    '(persist/read "%s")' % ("x" * 126),
    '(persist/kv-put "%s" 1)' % ("k" * 128),
    "persist/read",
    '("persist/read" "x")',
    "()",
    '(persist/append "a\\nb" {:seq 9223372036854775807})',
    '(persist/append "a" {:seq 9223372036854775808})',
    b'(persist/append "\x00\xff" {:seq 1})',
    '(quote (persist/streams))',
]

SEQ = ["20", " 5 \n", "-1", "0", "007", "9223372036854775807", "-9223372036854775808",
       "9223372036854775808", "-9223372036854775809", "garbage", "", " ", "-", "+5",
       "1 2", "\t\v\f\r12\n", "99999999999999999999999", "-0", "5x", b"5\x00"]

EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
CID = [
    EMPTY_CID, cid_of(b"hello world"), cid_of(b"\x00"),
    EMPTY_CID.upper(), EMPTY_CID[:-1], EMPTY_CID + "a", "a" + EMPTY_CID[1:],
    EMPTY_CID[:-1] + "l",  # a pad bit set
    "b" + b32(bytes([1, 0x70, 0x12, 0x20]) + bytes(32)),  # codec dag-pb, not raw
    "b" + b32(bytes([1, 0x55, 0x13, 0x20]) + bytes(32)),
    EMPTY_CID[:20] + "/" + EMPTY_CID[21:], EMPTY_CID[:20] + "1" + EMPTY_CID[21:],
    "", "b", "Qmfoo",
]

NAMES = [
    "6f7264657273.log", "6f7264657273.seq", "7573657273.log", "tmp.123.4.tmp", ".tmp",
    "6F7264657273.log", "abc.log", "ab.log", ".log", "6f.seq.tmp", "6f7264657273",
    "zz.log", "ab.txt", "a" * 250 + ".log", "ab" * 125 + ".seq", "ab" * 126 + ".log",
    b"6f\x00.log", "6f/2e.log", "", "x",
]

# fuzz_store_damage scripts: byte 0 flags, then ops (see fuzz_store_damage.c).
FLIP, SET, ZERO, TRUNC, CUT, DUP, SWAP, INSERT, EXTEND, RENAME, DELETE, JUNK = range(12)


def s(*ops):
    out = bytearray()
    for op in ops:
        for x in op:
            if isinstance(x, (bytes, bytearray)):
                out += x
            else:
                out.append(x & 0xff)
    return bytes(out)


def u16(n):
    return bytes(struct.pack(">H", n))


DAMAGE = [
    s([0]),  # no damage, recovery runs
    s([1]),  # no damage, LOCK clean
]
for f in range(0, 17):
    DAMAGE += [
        s([0], [FLIP, f, u16(40), 4]),
        s([1], [ZERO, f, u16(60), 200]),
        s([0], [TRUNC, f, u16(100)]),
        s([0], [DUP, f, u16(0), 80, u16(200)]),
        s([0], [EXTEND, f, u16(1000)]),
        s([0], [RENAME, f, 2]),
        s([1], [DELETE, f]),
    ]
# Template files, in fz_load order: 0 streams/65.log ("e"), 1 65.seq,
# 2 legacy.log, 3 legacy.seq, 4 orders.log, 5 orders.seq, 6 t.log, 7 t.seq,
# 8 users.log, 9 users.seq, 10..13 kv, 14..16 blobs.
ORDERS, USERS = 4, 8
DAMAGE += [
    s([0], [SET, ORDERS, u16(30), ord("\t")]),
    s([0], [SET, ORDERS, u16(62), ord("9")]),
    s([0], [CUT, ORDERS, u16(50), 17]),
    s([0], [CUT, USERS, u16(20), 30]),
    s([0], [SWAP, ORDERS, u16(0), u16(150), 40]),
    s([0], [DUP, ORDERS, u16(0), 120, u16(300)]),
    s([1], [DUP, USERS, u16(0), 250, u16(0)]),
    s([0], [INSERT, ORDERS, u16(10), 5, b"\n\x00\t{}"]),
    s([0], [INSERT, USERS, u16(0), 11, b"{:seq 999}\n"]),
    s([0], [TRUNC, ORDERS, u16(333)], [EXTEND, ORDERS, u16(3000)]),
    s([0], [ZERO, ORDERS, u16(400), 255]),
    s([1], [ZERO, ORDERS, u16(60), 29]),
    s([0], [RENAME, ORDERS, 0, USERS]),
    s([0], [RENAME, ORDERS, 1]),
    s([0], [RENAME, 11, 3, 1]),
    s([0], [RENAME, ORDERS, 4]),
    s([0], [RENAME, ORDERS + 1, 4]),
    s([0], [RENAME, 14, 0, 15]),
    s([0], [RENAME, USERS, 5, 5, b"abcde"]),
    s([0], [JUNK, 1, 0, 7, 9, b"garbage"]),
    s([0], [JUNK, 2, 2, 1, b"k", 3, b"abc"]),
    s([0], [JUNK, 3, 3, b"01234567", 4, b"blob"]),
    s([0], [JUNK, 0, 4, 3, b"abc", 255]),
    s([0], [JUNK, 1, 1, 1, b"z", 0, 10, b"{:seq 999}\n"]),
    s([0], [JUNK, 1, 5, 3, b"abc", 255]),
    s([1], [ZERO, ORDERS, u16(60), 30], [FLIP, 11, u16(3), 1], [DELETE, USERS]),
    s([0], [FLIP, 2, u16(5), 2], [SET, 3, u16(0), ord("x")], [CUT, 13, u16(2), 3]),
]

# fuzz_journal scripts (see fuzz_journal.c): a record of stream k is op k,
# | 8 when it ends its round; FLIP 3 POS16 MASK, ZERO 4 POS16 LEN, JUNK
# 5 | n << 3 and n bytes, CUT 6 POS16. Positions count from the first
# record; a record here is about 110 bytes.
JA, JB, JC = 0, 1, 2
E = 8
J_FLIP, J_ZERO, J_CUT = 3, 4, 6


def j_junk(data):
    return [5 | len(data) << 3, data]


JOURNAL = [
    s(),
    s([JA | E], [JB | E], [JC | E]),  # three whole rounds
    s([JA | E], [JB | E], [JC | E], [J_FLIP, u16(130), 4]),  # damaged
    s([JA], [JB | E], [J_FLIP, u16(10), 1]),  # a torn round
    s([JA], [JB | E], [JC | E], [J_FLIP, u16(10), 1]),  # damaged
    s([JA | E], [JB], [JC | E], [J_FLIP, u16(130), 1]),  # torn round 2
    s([JA | E], [JB | E], j_junk(b"junk!"), [JC | E]),  # junk starts round 3
    s([JA | E], [JB | E], j_junk(b"junk!"), [JC | E], [JA | E]),  # damaged
    s([JA | E], [J_CUT, u16(60)]),  # a torn end
    s([JA | E], [JB | E], [J_ZERO, u16(150), 40], [JA | E], [JB | E]),
    s([JA | E | 16], [JB | E | 48], [JC | E], [JA], [JB], [JC | E]),
    s([7 | 1 << 5], [7 | 2 << 5], [J_FLIP, u16(5), 2]),
]

if __name__ == "__main__":
    write("sx", SX)
    write("frame", FRAME)
    write("request", REQ)
    write("seq", SEQ)
    write("cid", CID)
    write("names", NAMES)
    write("store_damage", DAMAGE)
    write("journal", JOURNAL)
