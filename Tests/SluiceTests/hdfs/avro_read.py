#!/usr/bin/env python3
"""An independent reader of Avro object container files holding Flume's
event records (headers map<string>, body bytes), written from the Avro
specification's description of the container format, not from Sluice's
writer. Codecs: null, deflate, snappy (+ CRC-32), bzip2, zstandard.
Prints one JSON object per file:
{"schema": "...", "codec": "...", "blocks": n,
 "records": [{"headers": {...}, "body": "<utf-8>"}, ...]}
Exits non-zero on anything malformed or left over."""
import bz2
import json
import struct
import sys
import zlib


def read_long(b, at):
    shift = n = 0
    while True:
        byte = b[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte & 0x80 == 0:
            return (n >> 1) ^ -(n & 1), at
        shift += 7


def read_bytes(b, at):
    n, at = read_long(b, at)
    if n < 0 or at + n > len(b):
        raise ValueError("bad length %d at %d" % (n, at))
    return b[at:at + n], at + n


def read_map(b, at, value):
    out = {}
    while True:
        n, at = read_long(b, at)
        if n == 0:
            return out, at
        if n < 0:
            _, at = read_long(b, at)
            n = -n
        for _ in range(n):
            k, at = read_bytes(b, at)
            out[k.decode("utf-8")], at = value(b, at)


def decode_block(codec, data):
    if codec == "null":
        return data
    if codec == "deflate":
        return zlib.decompress(data, -15)
    if codec == "snappy":
        import snappy
        raw = snappy.uncompress(data[:-4])
        if struct.unpack(">I", data[-4:])[0] != zlib.crc32(raw):
            raise ValueError("snappy block CRC mismatch")
        return raw
    if codec == "bzip2":
        return bz2.decompress(data)
    if codec == "zstandard":
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    raise ValueError("unknown codec " + codec)


def read_file(path):
    b = open(path, "rb").read()
    if b[:4] != b"Obj\x01":
        raise ValueError("not an Avro container file")
    meta, at = read_map(b, 4, read_bytes)
    schema = meta["avro.schema"].decode("utf-8")
    codec = meta.get("avro.codec", b"null").decode("utf-8")
    sync = b[at:at + 16]
    at += 16
    records, blocks = [], 0
    while at < len(b):
        count, at = read_long(b, at)
        data, at = read_bytes(b, at)
        if b[at:at + 16] != sync:
            raise ValueError("block without its sync marker at %d" % at)
        at += 16
        blocks += 1
        raw = decode_block(codec, data)
        rat = 0
        for _ in range(count):
            headers, rat = read_map(raw, rat, lambda bb, a: (lambda v: (v[0].decode("utf-8"), v[1]))(read_bytes(bb, a)))
            body, rat = read_bytes(raw, rat)
            records.append({"headers": headers, "body": body.decode("utf-8", "replace")})
        if rat != len(raw):
            raise ValueError("block of %d records has %d bytes left" % (count, len(raw) - rat))
    return {"schema": schema, "codec": codec, "blocks": blocks, "records": records}


for p in sys.argv[1:]:
    print(json.dumps(read_file(p)))
