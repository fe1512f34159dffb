// bfloat16 GEMM: conversion, packing, and the AVX512_BF16 / portable kernels (see include/quill_gemm_bf16.h for the
// layouts; docs/kernels.md for training in mixed precision, docs/decoding.md for scoring).
//
// bfloat16 needs no zero points, offset compensation or activation scales: an activation is rounded to 8 significant
// bits and every product is exact in float32, so the same kernel serves training (where the gradients' range rules
// out int8) and scoring. For scoring alone, int8 (gemm_i8.c, `vpdpbusd`) doubles the multiply-adds again.
#include "quill_gemm_bf16.h"
#include "quill_kernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define BF16_INLINE static inline __attribute__((always_inline))

enum { NR = QUILL_BF16_NR, X_MR = 8 };

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// MARK: - Conversion

BF16_INLINE uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    const uint32_t nan = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7FFFFFFFu) > 0x7F800000u ? nan : rounded);
}

BF16_INLINE float from_bf16(uint16_t x) {
    const uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t quill_bf16_from_float(float x) { return to_bf16(x); }
float quill_bf16_to_float(uint16_t x) { return from_bf16(x); }

BF16_INLINE void convert_rows_body(const float *a, int64_t lda, int64_t m, int64_t k, uint16_t *dst, int64_t ldd) {
    for (int64_t i = 0; i < m; i++) {
        const float *s = a + i * lda;
        uint16_t *d = dst + i * ldd;
        for (int64_t j = 0; j < k; j++) d[j] = to_bf16(s[j]);
        for (int64_t j = k; j < ldd; j++) d[j] = 0;
    }
}

static void convert_rows_portable(const float *a, int64_t lda, int64_t m, int64_t k, uint16_t *dst, int64_t ldd) {
    convert_rows_body(a, lda, m, k, dst, ldd);
}

#if defined(__x86_64__)
#define ATTR_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,fma")))
#define ATTR_BW __attribute__((target("avx512f,avx512vl,avx512bw")))
// The same integer rounding as the portable path, vectorized by the compiler: the same bits on both paths.
static ATTR_BW void convert_rows_avx512(const float *a, int64_t lda, int64_t m, int64_t k, uint16_t *dst,
                                          int64_t ldd) {
    convert_rows_body(a, lda, m, k, dst, ldd);
}
#endif

// MARK: - Dispatch

/// What the CPU has: bit 0 AVX-512 F/BW/VL (the vectorized conversion), bit 1 also AVX512_BF16 (the kernel).
static int32_t cpu_features(void) {
    static int32_t features = -1;
    int32_t f = __atomic_load_n(&features, __ATOMIC_RELAXED);
    if (f < 0) {
        f = 0;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl")) {
            f = 1;
            if (__builtin_cpu_supports("avx512bf16")) f = 3;
        }
#endif
        __atomic_store_n(&features, f, __ATOMIC_RELAXED);
    }
    return f;
}

int32_t quill_bf16_best_path(void) {
    static int32_t path = -1;
    int32_t p = __atomic_load_n(&path, __ATOMIC_RELAXED);
    if (p < 0) {
        const char *forced = getenv("QUILL_BF16_PATH");
        p = (forced && forced[0] == '0') ? 0 : (cpu_features() & 2) ? 2 : 0;
        __atomic_store_n(&path, p, __ATOMIC_RELAXED);
    }
    return p;
}

static int32_t resolve(int32_t path) {
    if (path < 0) return quill_bf16_best_path();
    return path == 2 && (cpu_features() & 2) ? 2 : 0;
}

void quill_bf16_convert_rows(const float *a, int64_t lda, int64_t m, int64_t k, uint16_t *dst, int64_t ldd) {
#if defined(__x86_64__)
    if (cpu_features() & 1) { convert_rows_avx512(a, lda, m, k, dst, ldd); return; }
#endif
    convert_rows_portable(a, lda, m, k, dst, ldd);
}

// MARK: - Packing

int64_t quill_bf16_packed_count(int64_t k, int64_t n) { return round_up(k, 2) * round_up(n, NR); }

/// One 32-bit word of a packed panel: the bfloat16 of k = 2p in the low half, of k = 2p + 1 in the high half (the
/// element order of the layout on a little-endian CPU).
typedef uint32_t __attribute__((may_alias)) word_alias;
BF16_INLINE uint32_t pair_word(float lo, float hi) { return (uint32_t)to_bf16(lo) | ((uint32_t)to_bf16(hi) << 16); }

/// Panels `[q0, q1)`, written word by word: `d[p][jj]` for pair p and column jj of the panel. Every word is one pair
/// of the same rounding, whichever loop writes it, so the two compiled copies below give the same bits.
BF16_INLINE void pack_b_body(int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb, uint16_t *dst,
                             int64_t q0, int64_t q1) {
    const int64_t kp = round_up(k, 2), full = k / 2;
    for (int64_t q = q0; q < q1; q++) {
        word_alias *d = (word_alias *)(dst + q * kp * NR);
        const int64_t j0 = q * NR;
        const int cols = (int)(n - j0 < NR ? n - j0 : NR);
        if (trans_b) {
            // B stored [N][K]: column j of op(B) is row j of b, contiguous in k.
            for (int jj = 0; jj < cols; jj++) {
                const float *s = b + (j0 + jj) * ldb;
                for (int64_t p = 0; p < full; p++) d[p * NR + jj] = pair_word(s[2 * p], s[2 * p + 1]);
                if (k & 1) d[full * NR + jj] = pair_word(s[k - 1], 0.0f);
            }
        } else {
            // B stored [K][N]: the two rows of a pair, contiguous in j.
            for (int64_t p = 0; p < full; p++) {
                const float *r0 = b + 2 * p * ldb + j0, *r1 = r0 + ldb;
                for (int jj = 0; jj < cols; jj++) d[p * NR + jj] = pair_word(r0[jj], r1[jj]);
            }
            if (k & 1) {
                const float *r0 = b + (k - 1) * ldb + j0;
                for (int jj = 0; jj < cols; jj++) d[full * NR + jj] = pair_word(r0[jj], 0.0f);
            }
        }
        if (cols < NR) {
            for (int64_t p = 0; p < kp / 2; p++)
                for (int jj = cols; jj < NR; jj++) d[p * NR + jj] = 0;
        }
    }
}

/// The pair-major operand of A stored `[K][M]`: word `dst[p][i]` holds the pair (k = 2p, 2p + 1) of row i, so both
/// source rows of a pair and the destination are read and written contiguously (no transposition in memory).
BF16_INLINE void convert_pairs_body(const float *a, int64_t lda, int64_t m, int64_t k, word_alias *dst,
                                    int64_t ldw) {
    const int64_t full = k / 2;
    for (int64_t p = 0; p < full; p++) {
        const float *r0 = a + 2 * p * lda, *r1 = r0 + lda;
        word_alias *d = dst + p * ldw;
        for (int64_t i = 0; i < m; i++) d[i] = pair_word(r0[i], r1[i]);
    }
    if (k & 1) {
        const float *r0 = a + (k - 1) * lda;
        word_alias *d = dst + full * ldw;
        for (int64_t i = 0; i < m; i++) d[i] = pair_word(r0[i], 0.0f);
    }
}

static void pack_b_portable(int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb, uint16_t *dst,
                            int64_t q0, int64_t q1) {
    pack_b_body(trans_b, k, n, b, ldb, dst, q0, q1);
}

static void convert_pairs_portable(const float *a, int64_t lda, int64_t m, int64_t k, word_alias *dst,
                                   int64_t ldw) {
    convert_pairs_body(a, lda, m, k, dst, ldw);
}

#if defined(__x86_64__)
static ATTR_BW void pack_b_avx512(int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb, uint16_t *dst,
                                  int64_t q0, int64_t q1) {
    pack_b_body(trans_b, k, n, b, ldb, dst, q0, q1);
}

static ATTR_BW void convert_pairs_avx512(const float *a, int64_t lda, int64_t m, int64_t k, word_alias *dst,
                                         int64_t ldw) {
    convert_pairs_body(a, lda, m, k, dst, ldw);
}
#endif

void quill_bf16_pack_b(int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb, uint16_t *dst,
                       int64_t q0, int64_t q1) {
#if defined(__x86_64__)
    if (cpu_features() & 1) { pack_b_avx512(trans_b, k, n, b, ldb, dst, q0, q1); return; }
#endif
    pack_b_portable(trans_b, k, n, b, ldb, dst, q0, q1);
}

void quill_bf16_convert_pairs(const float *a, int64_t lda, int64_t m, int64_t k, uint32_t *dst, int64_t ldw) {
#if defined(__x86_64__)
    if (cpu_features() & 1) { convert_pairs_avx512(a, lda, m, k, (word_alias *)dst, ldw); return; }
#endif
    convert_pairs_portable(a, lda, m, k, (word_alias *)dst, ldw);
}

uint16_t *quill_bf16_scratch(int32_t slot, int64_t count) {
    return (uint16_t *)quill_gemm_scratch(3 + slot, (count + 1) / 2);
}

// MARK: - Portable kernel: one row × one panel at a time, 32 float32 lanes, the two products of a pair in k order.

/// The left operand as words: word (row i, pair p) at `a[i * a_row + p * a_pair]`.
static void gemm_portable(int64_t m, int64_t k, const uint32_t *a, int64_t a_row, int64_t a_pair,
                          const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc, const float *bias,
                          int32_t accumulate) {
    const int64_t pairs = round_up(k, 2) / 2;
    for (int64_t jb = j0; jb < j1; jb += NR) {
        const uint16_t *panel = packed + (jb / NR) * pairs * 2 * NR;
        const int cols = (int)(j1 - jb < NR ? j1 - jb : NR);
        for (int64_t i = 0; i < m; i++) {
            float acc[NR];
            for (int j = 0; j < NR; j++) acc[j] = 0;
            for (int64_t p = 0; p < pairs; p++) {
                const uint32_t w = a[i * a_row + p * a_pair];
                const float a0 = from_bf16((uint16_t)w), a1 = from_bf16((uint16_t)(w >> 16));
                const uint16_t *bp = panel + p * 2 * NR;
                for (int j = 0; j < NR; j++) {
                    acc[j] += a0 * from_bf16(bp[2 * j]);
                    acc[j] += a1 * from_bf16(bp[2 * j + 1]);
                }
            }
            float *row = c + i * ldc + jb;
            for (int j = 0; j < cols; j++) {
                float v = accumulate ? acc[j] + row[j] : acc[j];
                if (bias) v = v + bias[jb + j];
                row[j] = v;
            }
        }
    }
}

// MARK: - AVX512_BF16 kernel: 8 rows × 32 columns, 16 zmm accumulators, A pairs broadcast from memory.

#if defined(__x86_64__)
BF16_INLINE ATTR_BF16 void uk_bf16_body(const int m, const int wide, int64_t pairs, const uint32_t *a, int64_t a_row,
                                        int64_t a_pair, const uint16_t *b, float *c, int64_t ldc, int n,
                                        const float *bias, int accumulate) {
    __m512 acc0[X_MR], acc1[X_MR];
    const int32_t *ar[X_MR];
    for (int i = 0; i < X_MR; i++) {
        acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps();
        ar[i] = (const int32_t *)(a + (i < m ? i : 0) * a_row);
    }
    const int32_t *bw = (const int32_t *)b;
    for (int64_t p = 0, off = 0; p < pairs; p++, off += a_pair) {
        const __m512i b0 = _mm512_loadu_si512(bw), b1 = wide ? _mm512_loadu_si512(bw + 16) : _mm512_setzero_si512();
        _mm_prefetch((const char *)(bw + 8 * NR), _MM_HINT_T0);
        for (int i = 0; i < X_MR; i++) {
            if (i < m) {
                const __m512i ai = _mm512_set1_epi32(ar[i][off]);
                acc0[i] = _mm512_dpbf16_ps(acc0[i], (__m512bh)ai, (__m512bh)b0);
                if (wide) acc1[i] = _mm512_dpbf16_ps(acc1[i], (__m512bh)ai, (__m512bh)b1);
            }
        }
        bw += NR;
    }
    const __mmask16 k0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 k1 = n >= 32 ? (__mmask16)0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias) { bias0 = _mm512_maskz_loadu_ps(k0, bias); bias1 = _mm512_maskz_loadu_ps(k1, bias + 16); }
    for (int i = 0; i < X_MR; i++) {
        if (i < m) {
            float *row = c + i * ldc;
            __m512 x0 = acc0[i], x1 = acc1[i];
            if (accumulate) {
                x0 = _mm512_add_ps(x0, _mm512_maskz_loadu_ps(k0, row));
                if (wide) x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(k1, row + 16));
            }
            if (bias) { x0 = _mm512_add_ps(x0, bias0); x1 = _mm512_add_ps(x1, bias1); }
            _mm512_mask_storeu_ps(row, k0, x0);
            if (wide) _mm512_mask_storeu_ps(row + 16, k1, x1);
        }
    }
}

#define UK_BF16_CASE(rows, wide) \
    case rows: uk_bf16_body(rows, wide, pairs, a, a_row, a_pair, b, c, ldc, n, bias, accumulate); break;
#define UK_BF16_ROWS(wide) \
    switch (m) { \
    UK_BF16_CASE(8, wide) UK_BF16_CASE(7, wide) UK_BF16_CASE(6, wide) UK_BF16_CASE(5, wide) \
    UK_BF16_CASE(4, wide) UK_BF16_CASE(3, wide) UK_BF16_CASE(2, wide) \
    default: uk_bf16_body(1, wide, pairs, a, a_row, a_pair, b, c, ldc, n, bias, accumulate); break; \
    }

static ATTR_BF16 void uk_bf16(int m, int64_t pairs, const uint32_t *a, int64_t a_row, int64_t a_pair,
                              const uint16_t *b, float *c, int64_t ldc, int n, const float *bias, int accumulate) {
    if (n > 16) { UK_BF16_ROWS(1) } else { UK_BF16_ROWS(0) }
}

/// Panels outer, rows inner: a panel of B (Kp × 32 bfloat16, 41 KB for K = 650) is read from memory once and then
/// from cache by every block of 8 rows.
static ATTR_BF16 void gemm_avx512(int64_t m, int64_t k, const uint32_t *a, int64_t a_row, int64_t a_pair,
                                  const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc,
                                  const float *bias, int32_t accumulate) {
    const int64_t pairs = round_up(k, 2) / 2;
    for (int64_t jb = j0; jb < j1; jb += NR) {
        const uint16_t *panel = packed + (jb / NR) * pairs * 2 * NR;
        const int cols = (int)(j1 - jb < NR ? j1 - jb : NR);
        for (int64_t ib = 0; ib < m; ib += X_MR) {
            const int rows = (int)(m - ib < X_MR ? m - ib : X_MR);
            uk_bf16(rows, pairs, a + ib * a_row, a_row, a_pair, panel, c + ib * ldc + jb, ldc, cols,
                    bias ? bias + jb : NULL, accumulate);
        }
    }
}
#endif

void quill_gemm_bf16_words(int32_t path, int64_t m, int64_t k, const uint32_t *a, int64_t a_row, int64_t a_pair,
                           const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc, const float *bias,
                           int32_t accumulate) {
    if (m <= 0 || j1 <= j0) return;
#if defined(__x86_64__)
    if (resolve(path) == 2) {
        gemm_avx512(m, k, a, a_row, a_pair, packed, j0, j1, c, ldc, bias, accumulate);
        return;
    }
#endif
    gemm_portable(m, k, a, a_row, a_pair, packed, j0, j1, c, ldc, bias, accumulate);
}

void quill_gemm_bf16_on_path(int32_t path, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                             const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc,
                             const float *bias, int32_t accumulate) {
    (void)n;
    quill_gemm_bf16_words(path, m, k, (const uint32_t *)a, lda / 2, 1, packed, j0, j1, c, ldc, bias, accumulate);
}

void quill_gemm_bf16(int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda, const uint16_t *packed,
                     int64_t j0, int64_t j1, float *c, int64_t ldc, const float *bias, int32_t accumulate) {
    quill_gemm_bf16_on_path(-1, m, n, k, a, lda, packed, j0, j1, c, ldc, bias, accumulate);
}
