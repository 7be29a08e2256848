/* The C API of the C++ snappy library. */
#include <snappy-c.h>
