/* libbz2 (Debian's libbz2-dev): the bzip2 stream format of Hadoop's
   BZip2Codec and of Avro's bzip2 codec. */
#include <bzlib.h>
