/* liblz4's block API (raw LZ4 blocks, no frame), which Hadoop's Lz4Codec
   wraps in its BlockCompressorStream framing. CLZ4 exposes only the frame
   API (Kafka's format). */
#include <lz4.h>
