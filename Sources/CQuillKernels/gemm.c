// GEMM driver, packing and microkernels: C = alpha * op(A) * op(B) + beta * C, row-major Float32.
//
// Letters: `M` rows of C, `N` columns of C, `K` the reduction. op(A)[i,p] is a[i*lda+p] (or a[p*lda+i] when
// transposed); op(B)[p,j] is b[p*ldb+j] (or b[j*ldb+p] when transposed).
//
// Algorithm (GotoBLAS / BLIS: Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", TOMS 2008):
//   K is cut into blocks of at most KC (balanced, from K alone). op(A) and op(B) are packed once per call:
//     packed A: for each K block (start p0, length kc), for each MR-row panel: kc × MR floats, k-major, rows padded
//               with zeros to MR. Panel (p0, ip) starts at p0 * Mpad + ip * MR * kc, Mpad = M rounded up to MR.
//     packed B: for each K block, for each NR-column panel: kc × NR floats, k-major, padded with zeros to NR.
//               Panel (p0, jp) starts at p0 * Npad + jp * NR * kc. A pre-packed B (PackedMatrix) is the same array.
//   C is cut into compute items of MC rows × NC columns. An item runs, for each K block in order, for each MR panel
//   (its A micro-panel stays in L1), for each NR panel of its columns (its B block of kc × NC stays in L2): one
//   microkernel call that accumulates an MR × NR tile over kc in registers and then writes
//     first K block: C = alpha * acc + beta * C   (beta = 0: C = alpha * acc, C is not read)
//     later blocks:  C = alpha * acc + C
//   Tails (m < MR, n < NR) use the same instructions with masked loads/stores, so every element of C has the same
//   sequence of roundings wherever its tile falls and whichever thread computes it.
#include "quill_gemm.h"
#include "quill_kernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

enum { KC_MAX = 384, MC_TARGET = 128, NC_ITEM = 128, MC_WIDE_MAX = 1024 };

/// One MR × NR tile of C over `kc`. op(A)[i, p] of the tile is `a[i * rs + p * ks]`: a packed micro-panel
/// (`rs = 1, ks = MR`), or op(A) read in place (`rs = lda, ks = 1`; transposed: `rs = 1, ks = lda`). `bias` (or
/// NULL): `[n]` added to the tile after the write-back (the last K block), a separate rounding as a separate pass
/// would do.
typedef void (*microkernel)(int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c,
                            int64_t ldc, int m, int n, float alpha, float beta, int first, const float *bias);

// MARK: - Portable microkernel (MR = 4, NR = 8): plain C the compiler may vectorize with the baseline ISA.

enum { P_MR = 4, P_NR = 8 };

/// Writes an accumulated tile (row stride `nr`) into C: the scalar write-back shared by the portable and NEON paths.
static void write_tile(const float *t, int nr, float *c, int64_t ldc, int m, int n, float alpha, float beta,
                       int first, const float *bias) {
    for (int i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (int j = 0; j < n; j++) {
            const float v = alpha * t[i * nr + j];
            if (!first) row[j] = v + row[j];
            else if (beta == 0) row[j] = v;
            else row[j] = v + beta * row[j];
            if (bias) row[j] = row[j] + bias[j];
        }
    }
}

static void uk_portable(int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c, int64_t ldc,
                        int m, int n, float alpha, float beta, int first, const float *bias) {
    float acc[P_MR * P_NR] = {0};
    for (int64_t p = 0; p < kc; p++) {
        for (int i = 0; i < m; i++) {
            const float ai = a[i * rs + p * ks];
            for (int j = 0; j < P_NR; j++) acc[i * P_NR + j] += ai * b[j];
        }
        b += P_NR;
    }
    write_tile(acc, P_NR, c, ldc, m, n, alpha, beta, first, bias);
}

// MARK: - AVX-512 microkernel (MR = 8, NR = 32): 16 zmm accumulators, two B vectors, A broadcast from memory.

#if defined(__x86_64__)
#define ATTR512 __attribute__((target("avx512f,avx512vl,fma")))
#define ATTR256 __attribute__((target("avx2,fma")))

enum { X_MR = 8, X_NR = 32 };

/// The kernel body for a compile-time row count `m`, A layout (`strided`: rows `rs` apart with unit stride in k;
/// else rows adjacent, `ks` apart in k) and width (`wide`: 32 columns, else 16 — a column tail of at most 16 runs
/// half the FMAs); inlined into one copy per case.
static inline __attribute__((always_inline)) ATTR512 void uk512_body(const int m, const int strided, const int wide,
        int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c, int64_t ldc, int n,
        float alpha, float beta, int first, const float *bias) {
    __m512 acc0[X_MR], acc1[X_MR];
    const float *ar[X_MR];
    for (int i = 0; i < X_MR; i++) {
        acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps();
        ar[i] = a + (strided ? i * rs : i);
    }
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = wide ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
        _mm_prefetch((const char *)(b + 8 * X_NR), _MM_HINT_T0);
        for (int i = 0; i < X_MR; i++) {
            if (i < m) {
                const __m512 ai = _mm512_set1_ps(strided ? ar[i][p] : ar[i][p * ks]);
                acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
                if (wide) acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
            }
        }
        b += X_NR;
    }
    const __mmask16 k0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 k1 = n >= 32 ? (__mmask16)0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias) { bias0 = _mm512_maskz_loadu_ps(k0, bias); bias1 = _mm512_maskz_loadu_ps(k1, bias + 16); }
    for (int i = 0; i < X_MR; i++) {
        if (i < m) {
            float *row = c + i * ldc;
            __m512 x0, x1 = _mm512_setzero_ps();
            if (first && beta == 0) {
                x0 = _mm512_mul_ps(va, acc0[i]);
                if (wide) x1 = _mm512_mul_ps(va, acc1[i]);
            } else {
                __m512 c0 = _mm512_maskz_loadu_ps(k0, row);
                if (first) c0 = _mm512_mul_ps(vb, c0);
                x0 = _mm512_fmadd_ps(va, acc0[i], c0);
                if (wide) {
                    __m512 c1 = _mm512_maskz_loadu_ps(k1, row + 16);
                    if (first) c1 = _mm512_mul_ps(vb, c1);
                    x1 = _mm512_fmadd_ps(va, acc1[i], c1);
                }
            }
            if (bias) { x0 = _mm512_add_ps(x0, bias0); x1 = _mm512_add_ps(x1, bias1); }
            _mm512_mask_storeu_ps(row, k0, x0);
            if (wide) _mm512_mask_storeu_ps(row + 16, k1, x1);
        }
    }
}

#define UK512_ROWS(strided, wide) \
    switch (m) { \
    case 8: uk512_body(8, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 7: uk512_body(7, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 6: uk512_body(6, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 5: uk512_body(5, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 4: uk512_body(4, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 3: uk512_body(3, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    case 2: uk512_body(2, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    default: uk512_body(1, strided, wide, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break; \
    }

static ATTR512 void uk_avx512(int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c,
                              int64_t ldc, int m, int n, float alpha, float beta, int first, const float *bias) {
    if (ks == 1) {
        if (n > 16) { UK512_ROWS(1, 1) } else { UK512_ROWS(1, 0) }
    } else {
        if (n > 16) { UK512_ROWS(0, 1) } else { UK512_ROWS(0, 0) }
    }
}

// MARK: - AVX2 + FMA microkernel (MR = 6, NR = 16): 12 ymm accumulators.

enum { Y_MR = 6, Y_NR = 16 };

static inline __attribute__((always_inline)) ATTR256 void uk256_rows(const int m, int64_t kc, const float *a,
        int64_t rs, int64_t ks, const float *b, float *c, int64_t ldc, int n, float alpha, float beta, int first,
        const float *bias) {
    __m256 acc0[Y_MR], acc1[Y_MR];
    for (int i = 0; i < Y_MR; i++) { acc0[i] = _mm256_setzero_ps(); acc1[i] = _mm256_setzero_ps(); }
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        for (int i = 0; i < Y_MR; i++) {
            if (i < m) {
                const __m256 ai = _mm256_broadcast_ss(a + i * rs + p * ks);
                acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
                acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
            }
        }
        b += Y_NR;
    }
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
    const __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lanes);
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias) { bias0 = _mm256_maskload_ps(bias, k0); bias1 = _mm256_maskload_ps(bias + 8, k1); }
    for (int i = 0; i < Y_MR; i++) {
        if (i < m) {
            float *row = c + i * ldc;
            __m256 x0, x1;
            if (first && beta == 0) {
                x0 = _mm256_mul_ps(va, acc0[i]);
                x1 = _mm256_mul_ps(va, acc1[i]);
            } else {
                __m256 c0 = _mm256_maskload_ps(row, k0), c1 = _mm256_maskload_ps(row + 8, k1);
                if (first) { c0 = _mm256_mul_ps(vb, c0); c1 = _mm256_mul_ps(vb, c1); }
                x0 = _mm256_fmadd_ps(va, acc0[i], c0);
                x1 = _mm256_fmadd_ps(va, acc1[i], c1);
            }
            if (bias) { x0 = _mm256_add_ps(x0, bias0); x1 = _mm256_add_ps(x1, bias1); }
            _mm256_maskstore_ps(row, k0, x0);
            _mm256_maskstore_ps(row + 8, k1, x1);
        }
    }
}

static ATTR256 void uk_avx2(int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c,
                            int64_t ldc, int m, int n, float alpha, float beta, int first, const float *bias) {
    switch (m) {
    case 6: uk256_rows(6, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 5: uk256_rows(5, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 4: uk256_rows(4, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 3: uk256_rows(3, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 2: uk256_rows(2, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    default: uk256_rows(1, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    }
}
#endif

// MARK: - NEON microkernel (MR = 8, NR = 8): 16 q-register accumulators.

#if defined(__aarch64__)
enum { N_MR = 8, N_NR = 8 };

static inline __attribute__((always_inline)) void ukneon_rows(const int m, int64_t kc, const float *a,
        int64_t rs, int64_t ks, const float *b, float *c, int64_t ldc, int n, float alpha, float beta, int first,
        const float *bias) {
    float32x4_t acc0[N_MR], acc1[N_MR];
    for (int i = 0; i < N_MR; i++) { acc0[i] = vdupq_n_f32(0); acc1[i] = vdupq_n_f32(0); }
    for (int64_t p = 0; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        for (int i = 0; i < N_MR; i++) {
            if (i < m) {
                const float ai = a[i * rs + p * ks];
                acc0[i] = vfmaq_n_f32(acc0[i], b0, ai);
                acc1[i] = vfmaq_n_f32(acc1[i], b1, ai);
            }
        }
        b += N_NR;
    }
    float t[N_MR * N_NR];
    for (int i = 0; i < N_MR; i++) { vst1q_f32(t + i * N_NR, acc0[i]); vst1q_f32(t + i * N_NR + 4, acc1[i]); }
    write_tile(t, N_NR, c, ldc, m, n, alpha, beta, first, bias);
}

static void uk_neon(int64_t kc, const float *a, int64_t rs, int64_t ks, const float *b, float *c, int64_t ldc,
                    int m, int n, float alpha, float beta, int first, const float *bias) {
    switch (m) {
    case 8: ukneon_rows(8, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 7: ukneon_rows(7, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 6: ukneon_rows(6, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 5: ukneon_rows(5, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 4: ukneon_rows(4, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 3: ukneon_rows(3, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    case 2: ukneon_rows(2, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    default: ukneon_rows(1, kc, a, rs, ks, b, c, ldc, n, alpha, beta, first, bias); break;
    }
}
#endif

// MARK: - Dispatch

int32_t quill_gemm_path_supported(int32_t path) {
    switch (path) {
    case 0: return 1;
#if defined(__x86_64__)
    case 1: return quill_cpu_path() >= 1;
    case 2: return quill_cpu_path() == 2;
#endif
#if defined(__aarch64__)
    case 3: return 1;
#endif
    default: return 0;
    }
}

int32_t quill_gemm_mr(int32_t path) {
    switch (path) {
#if defined(__x86_64__)
    case 1: return Y_MR;
    case 2: return X_MR;
#endif
#if defined(__aarch64__)
    case 3: return N_MR;
#endif
    default: return P_MR;
    }
}

int32_t quill_gemm_nr(int32_t path) {
    switch (path) {
#if defined(__x86_64__)
    case 1: return Y_NR;
    case 2: return X_NR;
#endif
#if defined(__aarch64__)
    case 3: return N_NR;
#endif
    default: return P_NR;
    }
}

static microkernel kernel_for(int32_t path) {
    switch (path) {
#if defined(__x86_64__)
    case 1: return uk_avx2;
    case 2: return uk_avx512;
#endif
#if defined(__aarch64__)
    case 3: return uk_neon;
#endif
    default: return uk_portable;
    }
}

// MARK: - Blocking and packing

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/// The K block length: K cut into ceil(K / KC_MAX) nearly equal blocks (from K alone, so a pre-packed B matches).
static int64_t k_block(int64_t k) {
    if (k <= 0) return 1;
    const int64_t blocks = (k + KC_MAX - 1) / KC_MAX;
    return (k + blocks - 1) / blocks;
}

int64_t quill_gemm_packed_b_count(int32_t path, int64_t k, int64_t n) {
    return k * round_up(n, quill_gemm_nr(path));
}

/// `d[p * ld + j] = s[j * lds + p]` for `j < cols`, `p < kc`: the transposing copy of packing (op(B) stored `N×K`
/// into k-major panels, or op(A) stored `M×K` into MR-row panels); columns `cols…width` of `d` are left alone.
static void transpose_copy_scalar(const float *s, int64_t lds, float *d, int64_t ld, int64_t cols, int64_t kc) {
    for (int64_t j = 0; j < cols; j++)
        for (int64_t p = 0; p < kc; p++) d[p * ld + j] = s[j * lds + p];
}

#if defined(__x86_64__)
/// The same with 8 × 8 AVX transposes for full blocks (the scalar copy's strided stores ran at ~3 GB/s).
static ATTR256 void transpose_copy_avx2(const float *s, int64_t lds, float *d, int64_t ld, int64_t cols,
                                        int64_t kc) {
    const int64_t c8 = cols / 8 * 8, k8 = kc / 8 * 8;
    for (int64_t j = 0; j < c8; j += 8) {
        const float *sj = s + j * lds;
        for (int64_t p = 0; p < k8; p += 8) {
            const __m256 r0 = _mm256_loadu_ps(sj + p), r1 = _mm256_loadu_ps(sj + lds + p);
            const __m256 r2 = _mm256_loadu_ps(sj + 2 * lds + p), r3 = _mm256_loadu_ps(sj + 3 * lds + p);
            const __m256 r4 = _mm256_loadu_ps(sj + 4 * lds + p), r5 = _mm256_loadu_ps(sj + 5 * lds + p);
            const __m256 r6 = _mm256_loadu_ps(sj + 6 * lds + p), r7 = _mm256_loadu_ps(sj + 7 * lds + p);
            const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *dp = d + p * ld + j;
            _mm256_storeu_ps(dp, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(dp + ld, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(dp + 2 * ld, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(dp + 3 * ld, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(dp + 4 * ld, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(dp + 5 * ld, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(dp + 6 * ld, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(dp + 7 * ld, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        if (k8 < kc) transpose_copy_scalar(sj + k8, lds, d + k8 * ld + j, ld, 8, kc - k8);
    }
    if (c8 < cols) transpose_copy_scalar(s + c8 * lds, lds, d + c8, ld, cols - c8, kc);
}
#endif

static void transpose_copy(const float *s, int64_t lds, float *d, int64_t ld, int64_t cols, int64_t kc) {
#if defined(__x86_64__)
    if (quill_cpu_path() >= 1) { transpose_copy_avx2(s, lds, d, ld, cols, kc); return; }
#endif
    transpose_copy_scalar(s, lds, d, ld, cols, kc);
}

/// Packs op(A) rows `[i0, i1)` (i0 a multiple of MR) for every K block.
static void pack_a(const quill_gemm_plan *pl, int64_t i0, int64_t i1, float *dst) {
    const int64_t mr = pl->mr, mpad = round_up(pl->m, mr);
    for (int64_t p0 = 0; p0 < pl->k; p0 += pl->kc) {
        const int64_t kc = pl->k - p0 < pl->kc ? pl->k - p0 : pl->kc;
        for (int64_t ib = i0; ib < i1; ib += mr) {
            float *d = dst + p0 * mpad + ib * kc;
            const int64_t rows = pl->m - ib < mr ? pl->m - ib : mr;
            if (pl->trans_a) {
                for (int64_t p = 0; p < kc; p++) {
                    const float *s = pl->a + (p0 + p) * pl->lda + ib;
                    int64_t r = 0;
                    for (; r < rows; r++) d[p * mr + r] = s[r];
                    for (; r < mr; r++) d[p * mr + r] = 0;
                }
            } else {
                transpose_copy(pl->a + ib * pl->lda + p0, pl->lda, d, mr, rows, kc);
                for (int64_t r = rows; r < mr; r++)
                    for (int64_t p = 0; p < kc; p++) d[p * mr + r] = 0;
            }
        }
    }
}

/// Packs op(B) rows `[p0, p0 + kc)` and columns `[n0, n1)` (n0 a multiple of NR) into `dst`: kc × NR panels, one
/// after the other.
static void pack_b_block(int64_t nr, int32_t trans_b, int64_t n, const float *b, int64_t ldb, float *dst,
                         int64_t p0, int64_t kc, int64_t n0, int64_t n1) {
    for (int64_t jb = n0; jb < n1; jb += nr) {
        float *d = dst + (jb - n0) * kc;
        const int64_t cols = n - jb < nr ? n - jb : nr;
        if (trans_b) {
            transpose_copy(b + jb * ldb + p0, ldb, d, nr, cols, kc);
            for (int64_t j = cols; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) d[p * nr + j] = 0;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                const float *s = b + (p0 + p) * ldb + jb;
                int64_t j = 0;
                for (; j < cols; j++) d[p * nr + j] = s[j];
                for (; j < nr; j++) d[p * nr + j] = 0;
            }
        }
    }
}

void quill_gemm_pack_b(int32_t path, int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb,
                       float *dst, int64_t n0, int64_t n1) {
    const int64_t nr = quill_gemm_nr(path), npad = round_up(n, nr), kcb = k_block(k);
    for (int64_t p0 = 0; p0 < k; p0 += kcb) {
        const int64_t kc = k - p0 < kcb ? k - p0 : kcb;
        pack_b_block(nr, trans_b, n, b, ldb, dst + p0 * npad + n0 * kc, p0, kc, n0, n1);
    }
}

// MARK: - Driver

void quill_gemm_plan_init(quill_gemm_plan *pl, int32_t path, int32_t trans_a, int32_t trans_b,
                          int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    memset(pl, 0, sizeof *pl);
    pl->path = path; pl->mr = quill_gemm_mr(path); pl->nr = quill_gemm_nr(path);
    pl->trans_a = trans_a; pl->trans_b = trans_b;
    pl->m = m; pl->n = n; pl->k = k; pl->alpha = alpha; pl->beta = beta;
    pl->a = a; pl->lda = lda; pl->b = b; pl->ldb = ldb; pl->c = c; pl->ldc = ldc;
    pl->kc = k_block(k);
    pl->mc = round_up(MC_TARGET, pl->mr);
    pl->nc = NC_ITEM;  // a multiple of every path's NR
    // A wide C over moderate M (a decoder's logits, an input projection): one row block, so that each column block
    // of B is packed by the one item that uses it, while hot, instead of a packed B of K × N going out to memory and
    // being read back once per row block. There are still N / NC ≥ 8 items to share among threads.
    if (m <= MC_WIDE_MAX && n >= 8 * NC_ITEM) pl->mc = round_up(m, pl->mr);
    // One row block of few rows (an LSTM step, B × G): narrower items, about 24 of them, so that threads share the
    // work evenly (7 items of 128 columns over 2 threads leave one thread idle an eighth of the time).
    if (m <= pl->mc) {
        const int64_t nc = n / 24 / 32 * 32;
        pl->nc = nc < 32 ? 32 : nc > NC_ITEM ? NC_ITEM : nc;
    }
    pl->items_m = (m + pl->mc - 1) / pl->mc;
    pl->items_n = (n + pl->nc - 1) / pl->nc;
    pl->pack_items = pl->items_m + pl->items_n;
    pl->compute_items = pl->items_m * pl->items_n;
    pl->packed_a_count = round_up(m, pl->mr) * k;
    pl->packed_b_count = quill_gemm_packed_b_count(path, k, n);
    // With one row block, each B column block is used by one compute item only: that item packs it into a
    // per-thread buffer while it is hot in cache, instead of a whole packed B going out to memory and back.
    pl->pack_b_per_item = pl->items_m == 1;
    // op(A) is read in place by the microkernel (rows `lda` apart, or for a transposed A the MR values of one k
    // adjacent): no packing pass, no copy to memory and back. Not when `lda` is a multiple of 4 KiB: then the
    // lines a tile reads all fall in the same L1 sets.
    pl->a_direct = (lda * (int64_t)sizeof(float)) % 4096 != 0;
}

void quill_gemm_pack_item(const quill_gemm_plan *pl, int64_t item) {
    if (item < pl->items_m) {
        if (pl->a_direct) return;
        const int64_t i0 = item * pl->mc, i1 = i0 + pl->mc < pl->m ? i0 + pl->mc : pl->m;
        pack_a(pl, i0, i1, pl->packed_a);
    } else if (!pl->b_is_packed && !pl->pack_b_per_item) {
        const int64_t j0 = (item - pl->items_m) * pl->nc, j1 = j0 + pl->nc < pl->n ? j0 + pl->nc : pl->n;
        quill_gemm_pack_b(pl->path, pl->trans_b, pl->k, pl->n, pl->b, pl->ldb, pl->packed_b, j0, j1);
    }
}

void quill_gemm_compute_item(const quill_gemm_plan *pl, int64_t item) {
    const microkernel uk = kernel_for(pl->path);
    const int64_t mr = pl->mr, nr = pl->nr, mpad = round_up(pl->m, mr), npad = round_up(pl->n, nr);
    const int64_t i0 = item / pl->items_n * pl->mc, j0 = item % pl->items_n * pl->nc;
    const int64_t i1 = i0 + pl->mc < pl->m ? i0 + pl->mc : pl->m, j1 = j0 + pl->nc < pl->n ? j0 + pl->nc : pl->n;
    const int local_b = !pl->b_is_packed && pl->pack_b_per_item;
    float *local = local_b ? quill_gemm_scratch(2, pl->kc * pl->nc) : NULL;
    for (int64_t p0 = 0; p0 < pl->k; p0 += pl->kc) {
        const int64_t kc = pl->k - p0 < pl->kc ? pl->k - p0 : pl->kc;
        const int first = p0 == 0, last = p0 + kc >= pl->k;
        // This item's kc × NC block of B: packed here (while it is hot in cache) or taken from the packed B.
        const float *bblock = local ? local : pl->packed_b + p0 * npad + j0 * kc;
        if (local) pack_b_block(nr, pl->trans_b, pl->n, pl->b, pl->ldb, local, p0, kc, j0, j1);
        for (int64_t ib = i0; ib < i1; ib += mr) {
            const float *ap = !pl->a_direct ? pl->packed_a + p0 * mpad + ib * kc
                            : pl->trans_a ? pl->a + p0 * pl->lda + ib : pl->a + ib * pl->lda + p0;
            const int64_t rs = pl->a_direct && !pl->trans_a ? pl->lda : 1;
            const int64_t ks = !pl->a_direct ? mr : pl->trans_a ? pl->lda : 1;
            const int rows = (int)(i1 - ib < mr ? i1 - ib : mr);
            for (int64_t jb = j0; jb < j1; jb += nr) {
                const float *bp = bblock + (jb - j0) * kc;
                const int cols = (int)(j1 - jb < nr ? j1 - jb : nr);
                uk(kc, ap, rs, ks, bp, pl->c + ib * pl->ldc + jb, pl->ldc, rows, cols, pl->alpha, pl->beta, first,
                   last && pl->bias ? pl->bias + jb : NULL);
            }
        }
    }
}

void quill_gemm_scale(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0) for (int64_t j = 0; j < n; j++) row[j] = 0;
        else for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
}

// MARK: - Per-thread scratch

static _Thread_local float *scratch_ptr[QUILL_GEMM_SCRATCH_SLOTS];
static _Thread_local int64_t scratch_cap[QUILL_GEMM_SCRATCH_SLOTS];

// A thread's scratch is freed when the thread exits (a pool's workers when the pool goes, a dispatch worker when it
// idles out): a key whose destructor runs at exit, set once the thread has scratch. LeakSanitizer found them leaked.
static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;
static void scratch_thread_exit(void *unused) { (void)unused; quill_gemm_scratch_release(); }
static void scratch_key_create(void) { pthread_key_create(&scratch_key, scratch_thread_exit); }

float *quill_gemm_scratch(int32_t slot, int64_t count) {
    if (count < 1) count = 1;
    if (scratch_cap[slot] < count) {
        int any = 0;
        for (int s = 0; s < QUILL_GEMM_SCRATCH_SLOTS; s++) any |= scratch_ptr[s] != NULL;
        if (!any) {
            pthread_once(&scratch_key_once, scratch_key_create);
            pthread_setspecific(scratch_key, scratch_ptr);  // any non-NULL value: the destructor runs
        }
        free(scratch_ptr[slot]);
        const size_t bytes = (size_t)round_up(count * (int64_t)sizeof(float), 64);
        scratch_ptr[slot] = aligned_alloc(64, bytes);
        scratch_cap[slot] = scratch_ptr[slot] ? count : 0;
    }
    return scratch_ptr[slot];
}

void quill_gemm_scratch_release(void) {
    for (int s = 0; s < QUILL_GEMM_SCRATCH_SLOTS; s++) { free(scratch_ptr[s]); scratch_ptr[s] = NULL; scratch_cap[s] = 0; }
}
