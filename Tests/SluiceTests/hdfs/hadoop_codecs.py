#!/usr/bin/env python3
"""Decompression of Hadoop codec streams, written from the codecs' format
descriptions (not from Sluice's writer), for the test readers:
gzip members, zlib streams (DefaultCodec / DeflateCodec), bzip2 streams,
zstd frames, and Hadoop's BlockCompressorStream framing of snappy and lz4
(int32 uncompressed size, then int32 compressed size + raw block per chunk,
until that many bytes came out). A stream may hold several units back to
back, as Hadoop's codec input streams accept.

As a command: `hadoop_codecs.py FILE [OUT]` writes FILE's decompressed bytes
to stdout (or to OUT), choosing the codec by extension (.gz .bz2 .deflate .snappy .lz4 .zst,
also under an in-use suffix .tmp)."""
import bz2
import struct
import sys
import zlib

BY_CLASS = {
    "org.apache.hadoop.io.compress.GzipCodec": "gzip",
    "org.apache.hadoop.io.compress.BZip2Codec": "bzip2",
    "org.apache.hadoop.io.compress.DefaultCodec": "zlib",
    "org.apache.hadoop.io.compress.DeflateCodec": "zlib",
    "org.apache.hadoop.io.compress.SnappyCodec": "snappy",
    "org.apache.hadoop.io.compress.Lz4Codec": "lz4",
    "org.apache.hadoop.io.compress.ZStandardCodec": "zstd",
}
BY_EXTENSION = {".gz": "gzip", ".bz2": "bzip2", ".deflate": "zlib", ".snappy": "snappy",
                ".lz4": "lz4", ".zst": "zstd"}


def _each_unit(data, make):
    """Runs decompressor objects over `data` until it is used up; each unit must end."""
    out = []
    while data:
        d = make()
        out.append(d.decompress(data))
        if not d.eof:
            raise ValueError("torn compressed unit (%d bytes left)" % len(data))
        data = d.unused_data
    return b"".join(out)


def _hadoop_blocks(data, decompress_chunk):
    out, at = [], 0
    while at < len(data):
        (raw,) = struct.unpack_from(">i", data, at)
        at += 4
        done = 0
        while done < raw:
            (n,) = struct.unpack_from(">i", data, at)
            at += 4
            if n <= 0 or at + n > len(data):
                raise ValueError("torn block chunk at %d" % at)
            chunk = decompress_chunk(data[at:at + n], raw - done)
            done += len(chunk)
            out.append(chunk)
            at += n
        if done != raw:
            raise ValueError("block expands to %d bytes, header says %d" % (done, raw))
    return b"".join(out)


def decompress(kind, data):
    if kind == "gzip":
        return _each_unit(data, lambda: zlib.decompressobj(16 + 15))
    if kind == "zlib":
        return _each_unit(data, lambda: zlib.decompressobj(15))
    if kind == "bzip2":
        return _each_unit(data, bz2.BZ2Decompressor)
    if kind == "zstd":
        import zstandard
        return _each_unit(data, lambda: zstandard.ZstdDecompressor().decompressobj())
    if kind == "snappy":
        import snappy
        return _hadoop_blocks(data, lambda c, limit: snappy.uncompress(c))
    if kind == "lz4":
        import lz4.block
        return _hadoop_blocks(data, lambda c, limit: lz4.block.decompress(c, uncompressed_size=limit, return_bytearray=False))
    raise ValueError("unknown codec " + kind)


if __name__ == "__main__":
    path = sys.argv[1]
    name = path[:-4] if path.endswith(".tmp") else path
    kind = next((k for ext, k in BY_EXTENSION.items() if name.endswith(ext)), None)
    if kind is None:
        sys.exit("no codec for the extension of " + path)
    data = decompress(kind, open(path, "rb").read())
    if len(sys.argv) > 2:
        with open(sys.argv[2], "wb") as out:
            out.write(data)
    else:
        sys.stdout.buffer.write(data)
