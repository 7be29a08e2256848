#!/usr/bin/env python3
"""An independent reader of Hadoop SequenceFiles (uncompressed, version 6),
written from the format description (Hadoop's SequenceFile.java javadoc), not
from Sluice's writer. Prints one JSON line per file:
{"key": "<key class>", "value": "<value class>", "records": [[key, "body"], ...], "syncs": n}
Exits non-zero, naming the offset, on anything malformed or left over."""
import json
import struct
import sys


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
    if compressed or block:
        raise ValueError("compressed files are not handled by this reader")
    (meta,) = struct.unpack_from(">i", b, at)
    at += 4
    for _ in range(meta * 2):
        _, at = read_text(b, at)
    sync = b[at:at + 16]
    at += 16
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
        value = b[at + 8:at + length]
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
        records.append([key, body.decode("utf-8", "replace")])
        at += length
    if at != len(b):
        raise ValueError("trailing bytes")
    return {"key": key_class, "value": value_class, "records": records, "syncs": syncs}


for p in sys.argv[1:]:
    print(json.dumps(read_file(p)))
