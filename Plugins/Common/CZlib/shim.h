#include <zlib.h>

/* deflateInit2 and inflateInit2 are macros (they pass the header's version and
   z_stream size), which Swift cannot call: these wrappers fix the gzip framing
   Kafka uses, windowBits 15 + 16 (RFC 1952 header and trailer), memLevel 8. */
static inline int sluice_deflate_init_gzip(z_stream *strm, int level) {
    return deflateInit2(strm, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int sluice_inflate_init_gzip(z_stream *strm) {
    return inflateInit2(strm, 15 + 16);
}
