// CRC32C over bytes (see include/quill_crc32c.h). The register holds the CRC inverted (~crc) while bytes go in, as
// the standard (RFC 3720, iSCSI) defines it: initial value 0xFFFFFFFF, reflected, final XOR 0xFFFFFFFF.
#include "quill_crc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#endif

// MARK: Portable reference: slicing by 8 (eight 256-entry tables, built once)

static uint32_t table[8][256];
static int tableReady = 0;

static void buildTable(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int s = 1; s < 8; s++) table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xFF];
    }
    __atomic_store_n(&tableReady, 1, __ATOMIC_RELEASE);
}

static uint32_t crc32cPortable(uint32_t crc, const unsigned char *p, size_t n) {
    // Two threads building at once write the same values, so a race is harmless.
    if (!__atomic_load_n(&tableReady, __ATOMIC_ACQUIRE)) buildTable();
    uint32_t c = ~crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) { c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF]; n--; }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24]
          ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
    return ~c;
}

// MARK: Hardware

#if defined(__x86_64__)
// Three independent streams would hide the instruction's 3-cycle latency; one stream already runs at ~8 bytes per 3
// cycles (several GB/s), far above what loading from SQLite needs, so the code stays the plain loop.
__attribute__((target("sse4.2")))
static uint32_t crc32cHardware(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = ~crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) { c = _mm_crc32_u8((uint32_t)c, *p++); n--; }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int hasHardware(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
static uint32_t crc32cHardware(uint32_t crc, const unsigned char *p, size_t n) {
    uint32_t c = ~crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) { c = __crc32cb(c, *p++); n--; }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __crc32cd(c, v);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = __crc32cb(c, *p++);
    return ~c;
}

static int hasHardware(void) { return 1; }
#else
static uint32_t crc32cHardware(uint32_t crc, const unsigned char *p, size_t n) { return crc32cPortable(crc, p, n); }

static int hasHardware(void) { return 0; }
#endif

int32_t quill_crc32c_is_hardware(void) { return hasHardware(); }

uint32_t quill_crc32c_on_path(int32_t path, uint32_t crc, const void *data, size_t n) {
    if (path != 0 && hasHardware()) return crc32cHardware(crc, (const unsigned char *)data, n);
    return crc32cPortable(crc, (const unsigned char *)data, n);
}

uint32_t quill_crc32c(uint32_t crc, const void *data, size_t n) {
    static int hardware = -1;  // the CPU does not change; a race writes the same value
    int h = __atomic_load_n(&hardware, __ATOMIC_RELAXED);
    if (h < 0) {
        h = hasHardware();
        __atomic_store_n(&hardware, h, __ATOMIC_RELAXED);
    }
    if (h) return crc32cHardware(crc, (const unsigned char *)data, n);
    return crc32cPortable(crc, (const unsigned char *)data, n);
}
