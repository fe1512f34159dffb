// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of every tensor and vocabulary in
// the store (docs/store.md). The SSE4.2 `crc32` instruction on x86-64 (and the CRC32 extension on ARMv8 where the
// compiler targets it); elsewhere the portable slicing-by-8 table reference below it.
#ifndef QUILL_CRC32C_H
#define QUILL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Continues a CRC32C over `n` more bytes: pass 0 to start, then the previous result (as zlib's `crc32`), so the CRC
/// of `a ‖ b` is `quill_crc32c(quill_crc32c(0, a, na), b, nb)`. `quill_crc32c(0, "123456789", 9)` is 0xE3069283.
uint32_t quill_crc32c(uint32_t crc, const void *data, size_t n);

/// The same on an explicit path: 0 the portable table, 1 the hardware instruction (a path the CPU lacks, or -1,
/// runs the best it has). For tests and benchmarks.
uint32_t quill_crc32c_on_path(int32_t path, uint32_t crc, const void *data, size_t n);

/// Whether `quill_crc32c` uses the hardware instruction on this CPU.
int32_t quill_crc32c_is_hardware(void);

#endif
