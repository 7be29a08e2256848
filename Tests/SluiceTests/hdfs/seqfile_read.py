#!/usr/bin/env python3
"""An independent reader of Hadoop SequenceFiles (version 6, uncompressed or
BLOCK-compressed), written from the format description (Hadoop's
SequenceFile.java javadoc), not from Sluice's writer. Prints one JSON line per file:
{"key": "<key class>", "value": "<value class>", "codec": "<class or null>",
 "records": [[key, "body"], ...], "syncs": n, "blocks": n}
Exits non-zero, naming the offset, on anything malformed or left over."""
import json
import struct
import sys

sys.dont_write_bytecode = True
from hadoop_codecs import BY_CLASS, decompress  # noqa: E402


def read_vlong(b, at):
    first = struct.unpack_from(">b", b, at)[0]
    if first >= -112:
        return first, at + 1
    negative = first < -120
    n = -(first + 120) if negative else -(first + 112)
    v = 0
    for i in range(n):
        v = (v << 8) | b[at + 1 + i]
    return (~v if negative else v), at + 1 + n


def read_text(b, at):
    n, at = read_vlong(b, at)
    return b[at:at + n].decode("utf-8"), at + n


def read_file(path):
    b = open(path, "rb").read()
    if b[:3] != b"SEQ" or b[3] != 6:
        raise ValueError("not a version 6 SequenceFile")
    at = 4
    key_class, at = read_text(b, at)
    value_class, at = read_text(b, at)
    compressed, block = b[at], b[at + 1]
    at += 2
    codec = None
    if compressed:
        codec, at = read_text(b, at)
        if not block:
            raise ValueError("record-compressed files are not handled by this reader")
    (meta,) = struct.unpack_from(">i", b, at)
    at += 4
    for _ in range(meta * 2):
        _, at = read_text(b, at)
    sync = b[at:at + 16]
    at += 16
    if block:
        return read_blocks(b, at, sync, key_class, value_class, codec)
    records, syncs = [], 0
    while at < len(b):
        (length,) = struct.unpack_from(">i", b, at)
        at += 4
        if length == -1:
            if b[at:at + 16] != sync:
                raise ValueError("bad sync marker at %d" % at)
            at += 16
            syncs += 1
            continue
        (key_len,) = struct.unpack_from(">i", b, at)
        at += 4
        if key_len != 8 or key_class != "org.apache.hadoop.io.LongWritable":
            raise ValueError("unexpected key at %d" % at)
        (key,) = struct.unpack_from(">q", b, at)
        body = split_value(value_class, b[at + 8:at + length], at)
        records.append([key, body.decode("utf-8", "replace")])
        at += length
    if at != len(b):
        raise ValueError("trailing bytes")
    return {"key": key_class, "value": value_class, "codec": None, "records": records, "syncs": syncs, "blocks": 0}


def split_value(value_class, value, at):
    if value_class == "org.apache.hadoop.io.BytesWritable":
        (n,) = struct.unpack_from(">i", value, 0)
        body = value[4:]
    elif value_class == "org.apache.hadoop.io.Text":
        n, start = read_vlong(value, 0)
        body = value[start:]
    else:
        raise ValueError("unexpected value class " + value_class)
    if n != len(body):
        raise ValueError("value length %d != %d at %d" % (n, len(body), at))
    return body


def read_blocks(b, at, sync, key_class, value_class, codec_class):
    """Each block: sync escape + marker, vlong count, then key lengths, keys,
    value lengths, values: each a vlong size + compressed bytes."""
    kind = BY_CLASS[codec_class]
    records, blocks = [], 0
    while at < len(b):
        (escape,) = struct.unpack_from(">i", b, at)
        if escape != -1 or b[at + 4:at + 20] != sync:
            raise ValueError("block at %d does not start with the sync marker" % at)
        block_at = at
        at += 20
        count, at = read_vlong(b, at)
        buffers = []
        for _ in range(4):
            size, at = read_vlong(b, at)
            if at + size > len(b):
                raise ValueError("torn block at %d" % block_at)
            buffers.append(decompress(kind, b[at:at + size]))
            at += size
        key_lens, keys, value_lens, values = buffers
        kat = vat = klat = vlat = 0
        for _ in range(count):
            klen, klat = read_vlong(key_lens, klat)
            vlen, vlat = read_vlong(value_lens, vlat)
            if klen != 8 or key_class != "org.apache.hadoop.io.LongWritable":
                raise ValueError("unexpected key in block at %d" % block_at)
            (key,) = struct.unpack_from(">q", keys, kat)
            body = split_value(value_class, values[vat:vat + vlen], block_at)
            kat += klen
            vat += vlen
            records.append([key, body.decode("utf-8", "replace")])
        if (kat, vat, klat, vlat) != (len(keys), len(values), len(key_lens), len(value_lens)):
            raise ValueError("block at %d has bytes beyond its %d records" % (block_at, count))
        blocks += 1
    return {"key": key_class, "value": value_class, "codec": codec_class, "records": records,
            "syncs": blocks, "blocks": blocks}


for p in sys.argv[1:]:
    print(json.dumps(read_file(p)))
