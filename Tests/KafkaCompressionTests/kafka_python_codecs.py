"""Cross-checks Sluice's Kafka codecs against kafka-python's (kafka.codec, kafka.record).

Usage: kafka_python_codecs.py DIR

Reads from DIR (written by KafkaPythonInteropTests):
  payload-NAME.bin        raw payloads
  ours-CODEC-NAME.bin     payload NAME compressed by Sluice with CODEC
  batch-CODEC.bin         a v2 record batch built by Sluice with CODEC
  records.json            the records in those batches
Writes to DIR:
  ours-CODEC-NAME.out     kafka.codec's decompression of ours-CODEC-NAME.bin,
                          or ours-CODEC-NAME.err with the exception
  theirs-FORM-NAME.bin    payload NAME compressed by kafka-python and its codec modules
  batch-CODEC.json        kafka-python's reading of batch-CODEC.bin
  pybatch-CODEC.bin       a v2 batch kafka-python built from records.json
"""

import glob
import json
import os
import sys

import lz4.frame
import zstandard
from kafka import codec
from kafka.record import MemoryRecords, MemoryRecordsBuilder

CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
DECODERS = {"gzip": codec.gzip_decode, "snappy": codec.snappy_decode,
            "lz4": codec.lz4_decode, "zstd": codec.zstd_decode}


def halves(p):
    return p[: len(p) // 2], p[len(p) // 2:]


# Every form a Kafka client might send: what kafka-python's producer writes, and variants
# other clients (or other settings) produce.
ENCODERS = {
    "gzip": codec.gzip_encode,
    "gzip2": lambda p: b"".join(codec.gzip_encode(h) for h in halves(p)),  # two members
    "snappy": lambda p: codec.snappy_encode(p, xerial_compatible=True),
    "snappyraw": lambda p: codec.snappy_encode(p, xerial_compatible=False),
    "lz4": codec.lz4_encode,  # independent blocks, content size recorded
    "lz4linked": lambda p: lz4.frame.compress(p, block_linked=True, content_checksum=True,
                                              block_checksum=True, block_size=lz4.frame.BLOCKSIZE_MAX4MB),
    "zstd": codec.zstd_encode,  # content size recorded
    "zstdstream": lambda p: zstd_stream(p),  # streamed: no content size, with a checksum
}


def zstd_stream(p):
    c = zstandard.ZstdCompressor(write_content_size=False, write_checksum=True).compressobj()
    return c.compress(p) + c.flush()


def hex_or_none(b):
    return None if b is None else bytes(b).hex()


def bytes_or_none(h):
    return None if h is None else bytes.fromhex(h)


def main(d):
    for path in sorted(glob.glob(os.path.join(d, "ours-*.bin"))):
        name = os.path.basename(path)[: -len(".bin")]
        codec_name = name.split("-")[1]
        data = open(path, "rb").read()
        try:
            out = DECODERS[codec_name](data)
            open(os.path.join(d, name + ".out"), "wb").write(out)
        except Exception as e:  # reported to the Swift side, which fails the test
            open(os.path.join(d, name + ".err"), "w").write(repr(e))

    for path in sorted(glob.glob(os.path.join(d, "payload-*.bin"))):
        name = os.path.basename(path)[len("payload-"): -len(".bin")]
        payload = open(path, "rb").read()
        for form, encode in ENCODERS.items():
            open(os.path.join(d, "theirs-%s-%s.bin" % (form, name)), "wb").write(encode(payload))

    records = json.load(open(os.path.join(d, "records.json")))
    for codec_name, codec_id in CODECS.items():
        data = open(os.path.join(d, "batch-%s.bin" % codec_name), "rb").read()
        batches = list(MemoryRecords(data))
        result = []
        for batch in batches:
            crc_valid = batch.validate_crc()
            result.append({
                "crc_valid": crc_valid,
                "compression": batch.compression_type,
                "records": [{"offset": r.offset, "timestamp": r.timestamp, "key": hex_or_none(r.key),
                             "value": hex_or_none(r.value),
                             "headers": [[k, hex_or_none(v)] for k, v in r.headers]} for r in batch],
            })
        json.dump(result, open(os.path.join(d, "batch-%s.json" % codec_name), "w"))

        builder = MemoryRecordsBuilder(magic=2, compression_type=codec_id, batch_size=1 << 20)
        for r in records:
            builder.append(timestamp=r["timestamp"], key=bytes_or_none(r["key"]), value=bytes_or_none(r["value"]),
                           headers=[(k, bytes_or_none(v)) for k, v in r["headers"]])
        builder.close()
        open(os.path.join(d, "pybatch-%s.bin" % codec_name), "wb").write(bytes(builder.buffer()))


if __name__ == "__main__":
    main(sys.argv[1])
