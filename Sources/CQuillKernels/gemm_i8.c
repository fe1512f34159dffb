// int8 GEMM for inference: quantization, packing, and the AVX512_VNNI / portable kernels (see include/quill_gemm_i8.h
// for the layouts and the formula, docs/decoding.md for the scorer that uses it).
#include "quill_gemm_i8.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define I8_INLINE static inline __attribute__((always_inline))

enum { NR = QUILL_I8_NR, X_MR = 8 };

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

int32_t quill_i8_best_path(void) {
    static int32_t path = -1;
    int32_t p = __atomic_load_n(&path, __ATOMIC_RELAXED);
    if (p < 0) {
        p = 0;
#if defined(__x86_64__)
        __builtin_cpu_init();
        const char *forced = getenv("QUILL_I8_PATH");
        if (!(forced && forced[0] == '0') && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512vnni"))
            p = 2;
#endif
        __atomic_store_n(&path, p, __ATOMIC_RELAXED);
    }
    return p;
}

// MARK: - Quantization and packing

/// Symmetric scale of `count` values: `max |x| / 127`, 1 for all zeros.
I8_INLINE float row_scale(const float *x, int64_t count) {
    float top = 0;
    for (int64_t k = 0; k < count; k++) top = fabsf(x[k]) > top ? fabsf(x[k]) : top;
    return top > 0 ? top / 127.0f : 1.0f;
}

I8_INLINE int32_t quantize(float x, float scale) {
    const float q = nearbyintf(x / scale);
    return (int32_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
}

int64_t quill_i8_packed_count(int64_t k, int64_t n) { return round_up(k, 4) * round_up(n, NR); }

I8_INLINE void quantize_rows_body(const float *a, int64_t lda, int64_t m, int64_t k, uint8_t *dst, int64_t ldd,
                                   float *scale) {
    for (int64_t i = 0; i < m; i++) {
        const float *row = a + i * lda;
        const float s = row_scale(row, k);
        scale[i] = s;
        uint8_t *d = dst + i * ldd;
        for (int64_t p = 0; p < k; p++) d[p] = (uint8_t)(quantize(row[p], s) + 128);
        for (int64_t p = k; p < ldd; p++) d[p] = 128;
    }
}

I8_INLINE void pack_weights_body(int64_t k, int64_t n, const float *w, int64_t ldw, int8_t *dst, float *scale,
                                  int32_t *colsum, int64_t p0, int64_t p1) {
    const int64_t kq = round_up(k, 4);
    for (int64_t p = p0; p < p1; p++) {
        int8_t *panel = dst + p * kq * NR;
        for (int64_t jj = 0; jj < NR; jj++) {
            const int64_t j = p * NR + jj;
            if (j >= n) {
                for (int64_t q = 0; q < kq; q++) panel[(q >> 2) * 4 * NR + jj * 4 + (q & 3)] = 0;
                scale[j] = 0;
                colsum[j] = 0;
                continue;
            }
            const float *row = w + j * ldw;
            const float s = row_scale(row, k);
            int32_t sum = 0;
            for (int64_t q = 0; q < kq; q++) {
                const int32_t v = q < k ? quantize(row[q], s) : 0;
                panel[(q >> 2) * 4 * NR + jj * 4 + (q & 3)] = (int8_t)v;
                sum += v;
            }
            scale[j] = s;
            colsum[j] = sum;
        }
    }
}

/// The bodies above compiled twice: for any x86-64 and with AVX-512 (`nearbyintf` becomes one rounding instruction
/// instead of a call, the loops vectorize). Both round the same way: the same bytes.
static void quantize_rows_portable(const float *a, int64_t lda, int64_t m, int64_t k, uint8_t *dst, int64_t ldd,
                                   float *scale) {
    quantize_rows_body(a, lda, m, k, dst, ldd, scale);
}
static void pack_weights_portable(int64_t k, int64_t n, const float *w, int64_t ldw, int8_t *dst, float *scale,
                                  int32_t *colsum, int64_t p0, int64_t p1) {
    pack_weights_body(k, n, w, ldw, dst, scale, colsum, p0, p1);
}
#if defined(__x86_64__)
#define ATTR_BW __attribute__((target("avx512f,avx512vl,avx512bw")))
static ATTR_BW void quantize_rows_avx512(const float *a, int64_t lda, int64_t m, int64_t k, uint8_t *dst, int64_t ldd,
                                         float *scale) {
    quantize_rows_body(a, lda, m, k, dst, ldd, scale);
}
static ATTR_BW void pack_weights_avx512(int64_t k, int64_t n, const float *w, int64_t ldw, int8_t *dst, float *scale,
                                        int32_t *colsum, int64_t p0, int64_t p1) {
    pack_weights_body(k, n, w, ldw, dst, scale, colsum, p0, p1);
}
static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}
#endif

void quill_i8_quantize_rows(const float *a, int64_t lda, int64_t m, int64_t k, uint8_t *dst, int64_t ldd,
                            float *scale) {
#if defined(__x86_64__)
    if (has_avx512()) { quantize_rows_avx512(a, lda, m, k, dst, ldd, scale); return; }
#endif
    quantize_rows_portable(a, lda, m, k, dst, ldd, scale);
}

void quill_i8_pack_weights(int64_t k, int64_t n, const float *w, int64_t ldw, int8_t *dst, float *scale,
                           int32_t *colsum, int64_t p0, int64_t p1) {
#if defined(__x86_64__)
    if (has_avx512()) { pack_weights_avx512(k, n, w, ldw, dst, scale, colsum, p0, p1); return; }
#endif
    pack_weights_portable(k, n, w, ldw, dst, scale, colsum, p0, p1);
}

// MARK: - Portable kernel: one row × one panel, 32 int32 sums, then the float epilogue in the header's order.

static void gemm_portable(int64_t m, int64_t k, const uint8_t *a, int64_t lda, const float *sa, const int8_t *packed,
                          const float *sb, const int32_t *colsum, int64_t j0, int64_t j1, float *c, int64_t ldc,
                          const float *bias, int32_t accumulate) {
    const int64_t quads = round_up(k, 4) / 4;
    for (int64_t jb = j0; jb < j1; jb += NR) {
        const int8_t *panel = packed + (jb / NR) * quads * 4 * NR;
        const int cols = (int)(j1 - jb < NR ? j1 - jb : NR);
        for (int64_t i = 0; i < m; i++) {
            const uint8_t *ar = a + i * lda;
            int32_t acc[NR];
            for (int j = 0; j < NR; j++) acc[j] = 0;
            for (int64_t q = 0; q < quads; q++) {
                const int8_t *bq = panel + q * 4 * NR;
                for (int j = 0; j < NR; j++)
                    for (int e = 0; e < 4; e++) acc[j] += (int32_t)ar[4 * q + e] * (int32_t)bq[4 * j + e];
            }
            float *row = c + i * ldc + jb;
            for (int j = 0; j < cols; j++) {
                const int32_t x = acc[j] - 128 * colsum[jb + j];
                float v = (float)x * sb[jb + j];
                v = v * sa[i];
                if (accumulate) v = v + row[j];
                if (bias) v = v + bias[jb + j];
                row[j] = v;
            }
        }
    }
}

// MARK: - AVX512_VNNI kernel: 8 rows × 32 outputs, 16 zmm int32 accumulators, A quads broadcast from memory.

#if defined(__x86_64__)
#define ATTR_VNNI __attribute__((target("avx512f,avx512vl,avx512bw,avx512vnni")))

I8_INLINE ATTR_VNNI void uk_i8_body(const int m, const int wide, int64_t quads, const uint8_t *a, int64_t lda,
                                    const float *sa, const int8_t *b, const float *sb, const int32_t *colsum,
                                    float *c, int64_t ldc, int n, const float *bias, int accumulate) {
    __m512i acc0[X_MR], acc1[X_MR];
    const int32_t *ar[X_MR];
    for (int i = 0; i < X_MR; i++) {
        acc0[i] = _mm512_setzero_si512(); acc1[i] = _mm512_setzero_si512();
        ar[i] = (const int32_t *)(a + (i < m ? i : 0) * lda);
    }
    const int32_t *bw = (const int32_t *)b;
    for (int64_t q = 0; q < quads; q++) {
        const __m512i b0 = _mm512_loadu_si512(bw), b1 = wide ? _mm512_loadu_si512(bw + 16) : _mm512_setzero_si512();
        _mm_prefetch((const char *)(bw + 8 * NR), _MM_HINT_T0);
        for (int i = 0; i < X_MR; i++) {
            if (i < m) {
                const __m512i ai = _mm512_set1_epi32(ar[i][q]);
                acc0[i] = _mm512_dpbusd_epi32(acc0[i], ai, b0);
                if (wide) acc1[i] = _mm512_dpbusd_epi32(acc1[i], ai, b1);
            }
        }
        bw += NR;
    }
    const __mmask16 k0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 k1 = n >= 32 ? (__mmask16)0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    const __m512i shift0 = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(k0, colsum), 7);
    const __m512i shift1 = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(k1, colsum + 16), 7);
    const __m512 sb0 = _mm512_maskz_loadu_ps(k0, sb), sb1 = _mm512_maskz_loadu_ps(k1, sb + 16);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias) { bias0 = _mm512_maskz_loadu_ps(k0, bias); bias1 = _mm512_maskz_loadu_ps(k1, bias + 16); }
    for (int i = 0; i < X_MR; i++) {
        if (i < m) {
            float *row = c + i * ldc;
            const __m512 si = _mm512_set1_ps(sa[i]);
            __m512 x0 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc0[i], shift0)), sb0), si);
            __m512 x1 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc1[i], shift1)), sb1), si);
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

#define UK_I8_CASE(rows, wide) \
    case rows: uk_i8_body(rows, wide, quads, a, lda, sa, b, sb, colsum, c, ldc, n, bias, accumulate); break;
#define UK_I8_ROWS(wide) \
    switch (m) { \
    UK_I8_CASE(8, wide) UK_I8_CASE(7, wide) UK_I8_CASE(6, wide) UK_I8_CASE(5, wide) \
    UK_I8_CASE(4, wide) UK_I8_CASE(3, wide) UK_I8_CASE(2, wide) \
    default: uk_i8_body(1, wide, quads, a, lda, sa, b, sb, colsum, c, ldc, n, bias, accumulate); break; \
    }

static ATTR_VNNI void uk_i8(int m, int64_t quads, const uint8_t *a, int64_t lda, const float *sa, const int8_t *b,
                            const float *sb, const int32_t *colsum, float *c, int64_t ldc, int n, const float *bias,
                            int accumulate) {
    if (n > 16) { UK_I8_ROWS(1) } else { UK_I8_ROWS(0) }
}

static ATTR_VNNI void gemm_avx512(int64_t m, int64_t k, const uint8_t *a, int64_t lda, const float *sa,
                                  const int8_t *packed, const float *sb, const int32_t *colsum, int64_t j0,
                                  int64_t j1, float *c, int64_t ldc, const float *bias, int32_t accumulate) {
    const int64_t quads = round_up(k, 4) / 4;
    for (int64_t jb = j0; jb < j1; jb += NR) {
        const int8_t *panel = packed + (jb / NR) * quads * 4 * NR;
        const int cols = (int)(j1 - jb < NR ? j1 - jb : NR);
        for (int64_t ib = 0; ib < m; ib += X_MR) {
            const int rows = (int)(m - ib < X_MR ? m - ib : X_MR);
            uk_i8(rows, quads, a + ib * lda, lda, sa + ib, panel, sb + jb, colsum + jb, c + ib * ldc + jb, ldc, cols,
                  bias ? bias + jb : NULL, accumulate);
        }
    }
}

#endif

void quill_gemm_i8(int32_t path, int64_t m, int64_t k, const uint8_t *a, int64_t lda, const float *sa,
                   const int8_t *packed, const float *sb, const int32_t *colsum, int64_t j0, int64_t j1, float *c,
                   int64_t ldc, const float *bias, int32_t accumulate) {
    if (m <= 0 || j1 <= j0) return;
#if defined(__x86_64__)
    if ((path < 0 ? quill_i8_best_path() : (path == 2 ? quill_i8_best_path() : 0)) == 2) {
        gemm_avx512(m, k, a, lda, sa, packed, sb, colsum, j0, j1, c, ldc, bias, accumulate);
        return;
    }
#endif
    gemm_portable(m, k, a, lda, sa, packed, sb, colsum, j0, j1, c, ldc, bias, accumulate);
}
