#!/usr/bin/env python3
"""gen_store.py DIR [MB] [STREAMS] -- writes a legacy (reference-layout) store
of about MB megabytes of logs (default 1100) in STREAMS streams (default 64),
plus some kv files and blobs, for measuring sxp-fsck. Give it trailers with
`sxp-fsck --upgrade DIR` (which also times the rewrite), then measure with
`sxp-fsck -n DIR`. Python has no XXH3, hence the detour through --upgrade.
"""
import hashlib
import os
import sys


def b32(data):
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    bits, n, out = 0, 0, []
    for byte in data:
        bits = (bits << 8) | byte
        n += 8
        while n >= 5:
            n -= 5
            out.append(alphabet[(bits >> n) & 31])
    if n:
        out.append(alphabet[(bits << (5 - n)) & 31])
    return "".join(out)


def cid(data):
    return "b" + b32(bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest())


def main():
    root = sys.argv[1]
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 1100
    nstreams = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    for d in ("streams", "kv", "blobs"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    per_stream = mb * 1000 * 1000 // nstreams
    for s in range(nstreams):
        name = "stream-%04d" % s
        hexname = name.encode().hex()
        seq = 0
        size = 0
        with open(os.path.join(root, "streams", hexname + ".log"), "w") as f:
            while size < per_stream:
                chunk = []
                csize = 0
                while len(chunk) < 2000 and size + csize < per_stream:
                    seq += 1
                    chunk.append(
                        '{:amount %d.%02d :customer "cust-%07d" :items (list "widget-%d" '
                        '"gadget-%d") :note "order placed via web, deliver before noon" '
                        ':paid true :seq %d}\n'
                        % (seq % 997, seq % 100, seq * 7919 % 10000000, seq % 5000,
                           seq % 300, seq))
                    csize += len(chunk[-1])
                text = "".join(chunk)
                f.write(text)
                size += len(text)
        with open(os.path.join(root, "streams", hexname + ".seq"), "w") as f:
            f.write(str(seq))
    for k in range(100):
        with open(os.path.join(root, "kv", ("key-%03d" % k).encode().hex()), "w") as f:
            f.write('{:owner "team-%d" :retries %d :verbose false}' % (k, k % 5))
    for b in range(20):
        data = os.urandom(256 * 1024)
        with open(os.path.join(root, "blobs", cid(data)), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
