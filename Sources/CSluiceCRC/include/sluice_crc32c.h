#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli) of `len` bytes, continuing from `crc` (0 to start):
 * sluice_crc32c(sluice_crc32c(0, a, n), b, m) == CRC of a followed by b.
 * Uses the SSE4.2 instruction when the CPU has it, a table otherwise. */
uint32_t sluice_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
