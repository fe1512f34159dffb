// Inference kernels: GEMV over float32 or int8 weights, int8 quantization, log-softmax and its fused gather (see
// include/quill_gemv.h and docs/decoding.md).
//
// Letters: `R` weight rows (outputs), `K` columns (inputs), `n` vectors, `V` vocabulary. Weights `W[R][ldw]`,
// vectors `x[n][ldx]`, results `y[n][ldy]`, row-major.
//
// GEMV layout of the work: rows in blocks of 4; inside a block, for each vector, one accumulator register per row
// runs along K (16 lanes on AVX-512, 8 on AVX2, 8 scalar lanes portable; the K tail is masked, never a separate
// scalar loop), then a fixed reduction tree. The 4 rows of a block (4·K·4 bytes, ≤ 32 KB for K ≤ 2048) stay in L1
// while every vector passes over them, so n vectors read the weights from memory once. Rows left over after the
// blocks run the same per-row code with a block of 1: a row's bits depend on nothing but the row, the vector and the
// path, so the caller may split rows over threads freely.
#include "quill_gemv.h"
#include "elementwise_simd.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---------------------------------------------------------------------------------------------------------------
// Naive references are in Swift (Sources/QuillDecode/InferenceKernels.swift); the portable path below is the same
// algorithm with 8 scalar lanes.

QUILL_INLINE void rows_f32_portable(int R, const float *W, int64_t ldw, const float *x, int64_t K, float *out) {
    float acc[4][8];
    for (int i = 0; i < R; i++) for (int j = 0; j < 8; j++) acc[i][j] = 0;
    for (int64_t k = 0; k < K; k += 8) {
        int64_t m = K - k < 8 ? K - k : 8;
        for (int i = 0; i < R; i++)
            for (int64_t j = 0; j < m; j++) acc[i][j] += W[i * ldw + k + j] * x[k + j];
    }
    for (int i = 0; i < R; i++)
        out[i] = ((acc[i][0] + acc[i][4]) + (acc[i][2] + acc[i][6]))
               + ((acc[i][1] + acc[i][5]) + (acc[i][3] + acc[i][7]));
}

QUILL_INLINE void rows_i8_portable(int R, const int8_t *Q, int64_t ldq, const float *x, int64_t K, float *out) {
    float acc[4][8];
    for (int i = 0; i < R; i++) for (int j = 0; j < 8; j++) acc[i][j] = 0;
    for (int64_t k = 0; k < K; k += 8) {
        int64_t m = K - k < 8 ? K - k : 8;
        for (int i = 0; i < R; i++)
            for (int64_t j = 0; j < m; j++) acc[i][j] += (float)Q[i * ldq + k + j] * x[k + j];
    }
    for (int i = 0; i < R; i++)
        out[i] = ((acc[i][0] + acc[i][4]) + (acc[i][2] + acc[i][6]))
               + ((acc[i][1] + acc[i][5]) + (acc[i][3] + acc[i][7]));
}

#if defined(__x86_64__)
#define QUILL_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#define QUILL_AVX2 __attribute__((target("avx2,fma")))

QUILL_AVX512 QUILL_INLINE void rows_f32_avx512(int R, const float *W, int64_t ldw, const float *x, int64_t K,
                                               float *out) {
    __m512 acc[4];
    for (int i = 0; i < R; i++) acc[i] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv = _mm512_loadu_ps(x + k);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(W + i * ldw + k), xv, acc[i]);
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, W + i * ldw + k), xv, acc[i]);
    }
    for (int i = 0; i < R; i++) out[i] = _mm512_reduce_add_ps(acc[i]);
}

QUILL_AVX512 QUILL_INLINE void rows_i8_avx512(int R, const int8_t *Q, int64_t ldq, const float *x, int64_t K,
                                              float *out) {
    __m512 acc[4];
    for (int i = 0; i < R; i++) acc[i] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv = _mm512_loadu_ps(x + k);
        for (int i = 0; i < R; i++) {
            __m512 w = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(Q + i * ldq + k))));
            acc[i] = _mm512_fmadd_ps(w, xv, acc[i]);
        }
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        for (int i = 0; i < R; i++) {
            __m512 w = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, Q + i * ldq + k)));
            acc[i] = _mm512_fmadd_ps(w, xv, acc[i]);
        }
    }
    for (int i = 0; i < R; i++) out[i] = _mm512_reduce_add_ps(acc[i]);
}

QUILL_AVX2 QUILL_INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

QUILL_AVX2 QUILL_INLINE __m256i tail_mask8(int64_t m) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

QUILL_AVX2 QUILL_INLINE void rows_f32_avx2(int R, const float *W, int64_t ldw, const float *x, int64_t K,
                                           float *out) {
    __m256 acc[4];
    for (int i = 0; i < R; i++) acc[i] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv = _mm256_loadu_ps(x + k);
        for (int i = 0; i < R; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(W + i * ldw + k), xv, acc[i]);
    }
    if (k < K) {
        __m256i m = tail_mask8(K - k);
        __m256 xv = _mm256_maskload_ps(x + k, m);
        for (int i = 0; i < R; i++) acc[i] = _mm256_fmadd_ps(_mm256_maskload_ps(W + i * ldw + k, m), xv, acc[i]);
    }
    for (int i = 0; i < R; i++) out[i] = hsum256(acc[i]);
}

QUILL_AVX2 QUILL_INLINE void rows_i8_avx2(int R, const int8_t *Q, int64_t ldq, const float *x, int64_t K,
                                          float *out) {
    __m256 acc[4];
    for (int i = 0; i < R; i++) acc[i] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv = _mm256_loadu_ps(x + k);
        for (int i = 0; i < R; i++) {
            __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(Q + i * ldq + k))));
            acc[i] = _mm256_fmadd_ps(w, xv, acc[i]);
        }
    }
    if (k < K) {
        __m256i m = tail_mask8(K - k);
        __m256 xv = _mm256_maskload_ps(x + k, m);
        for (int i = 0; i < R; i++) {
            int8_t bytes[8] = {0};
            memcpy(bytes, Q + i * ldq + k, (size_t)(K - k));
            __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)bytes)));
            acc[i] = _mm256_fmadd_ps(w, xv, acc[i]);
        }
    }
    for (int i = 0; i < R; i++) out[i] = hsum256(acc[i]);
}
#endif

// The drivers: blocks of 4 rows, each block met by every vector, then single rows. ROWS(R, w, xb, out) is the
// per-path row function; EPILOGUE(value, row) turns a dot product into the result.
#define QUILL_GEMV_DRIVER(ROWS, WT, EPILOGUE) \
    int64_t r = r0; \
    for (; r + 4 <= r1; r += 4) \
        for (int64_t b = 0; b < n; b++) { \
            float dot[4]; \
            ROWS(4, (const WT *)W + r * ldw, ldw, x + b * ldx, K, dot); \
            for (int i = 0; i < 4; i++) y[b * ldy + r + i] = EPILOGUE(dot[i], r + i); \
        } \
    for (; r < r1; r++) \
        for (int64_t b = 0; b < n; b++) { \
            float dot[1]; \
            ROWS(1, (const WT *)W + r * ldw, ldw, x + b * ldx, K, dot); \
            y[b * ldy + r] = EPILOGUE(dot[0], r); \
        }

#define F32_EPILOGUE(v, row) (bias ? (v) + bias[row] : (v))
#define I8_EPILOGUE(v, row) (bias ? (v) * scale[row] + bias[row] : (v) * scale[row])

#define QUILL_GEMV_F32_PARAMS const float *W, int64_t ldw, const float *bias, const float *x, int64_t ldx, \
    int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1
#define QUILL_GEMV_I8_PARAMS const int8_t *W, int64_t ldw, const float *scale, const float *bias, const float *x, \
    int64_t ldx, int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1

static void gemv_f32_portable(QUILL_GEMV_F32_PARAMS) { QUILL_GEMV_DRIVER(rows_f32_portable, float, F32_EPILOGUE) }
static void gemv_i8_portable(QUILL_GEMV_I8_PARAMS) { QUILL_GEMV_DRIVER(rows_i8_portable, int8_t, I8_EPILOGUE) }
#if defined(__x86_64__)
QUILL_AVX512 static void gemv_f32_avx512(QUILL_GEMV_F32_PARAMS) {
    QUILL_GEMV_DRIVER(rows_f32_avx512, float, F32_EPILOGUE)
}
QUILL_AVX512 static void gemv_i8_avx512(QUILL_GEMV_I8_PARAMS) {
    QUILL_GEMV_DRIVER(rows_i8_avx512, int8_t, I8_EPILOGUE)
}
QUILL_AVX2 static void gemv_f32_avx2(QUILL_GEMV_F32_PARAMS) { QUILL_GEMV_DRIVER(rows_f32_avx2, float, F32_EPILOGUE) }
QUILL_AVX2 static void gemv_i8_avx2(QUILL_GEMV_I8_PARAMS) { QUILL_GEMV_DRIVER(rows_i8_avx2, int8_t, I8_EPILOGUE) }
#endif

static int32_t resolve_path(int32_t path) {
    int32_t best = quill_path_cached();
    return (path < 0 || path > best) ? best : path;
}

void quill_gemv_f32_on_path(int32_t path, const float *W, int64_t ldw, const float *bias, const float *x, int64_t ldx,
                            int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    switch (resolve_path(path)) {
#if defined(__x86_64__)
    case 2: gemv_f32_avx512(W, ldw, bias, x, ldx, n, K, y, ldy, r0, r1); return;
    case 1: gemv_f32_avx2(W, ldw, bias, x, ldx, n, K, y, ldy, r0, r1); return;
#endif
    default: gemv_f32_portable(W, ldw, bias, x, ldx, n, K, y, ldy, r0, r1); return;
    }
}

void quill_gemv_f32(const float *W, int64_t ldw, const float *bias, const float *x, int64_t ldx, int64_t n,
                    int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    quill_gemv_f32_on_path(-1, W, ldw, bias, x, ldx, n, K, y, ldy, r0, r1);
}

void quill_gemv_i8_on_path(int32_t path, const int8_t *Q, int64_t ldq, const float *scale, const float *bias,
                           const float *x, int64_t ldx, int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0,
                           int64_t r1) {
    switch (resolve_path(path)) {
#if defined(__x86_64__)
    case 2: gemv_i8_avx512(Q, ldq, scale, bias, x, ldx, n, K, y, ldy, r0, r1); return;
    case 1: gemv_i8_avx2(Q, ldq, scale, bias, x, ldx, n, K, y, ldy, r0, r1); return;
#endif
    default: gemv_i8_portable(Q, ldq, scale, bias, x, ldx, n, K, y, ldy, r0, r1); return;
    }
}

void quill_gemv_i8(const int8_t *Q, int64_t ldq, const float *scale, const float *bias, const float *x, int64_t ldx,
                   int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    quill_gemv_i8_on_path(-1, Q, ldq, scale, bias, x, ldx, n, K, y, ldy, r0, r1);
}

void quill_quantize_rows_i8(const float *W, int64_t ldw, int64_t R, int64_t K, int8_t *Q, int64_t ldq, float *scale) {
    for (int64_t r = 0; r < R; r++) {
        const float *w = W + r * ldw;
        float top = 0;
        for (int64_t k = 0; k < K; k++) top = fabsf(w[k]) > top ? fabsf(w[k]) : top;
        float s = top > 0 ? top / 127.0f : 1.0f;
        scale[r] = s;
        for (int64_t k = 0; k < K; k++) {
            float q = nearbyintf(w[k] / s);
            Q[r * ldq + k] = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
        }
        for (int64_t k = K; k < ldq; k++) Q[r * ldq + k] = 0;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Log-softmax: one row's maximum and log-sum-exp with 16 fixed lanes (the same bits on every path up to the exp
// polynomial's vectorization, which is exact per lane).

QUILL_INLINE double row_log_sum_exp(const float *l, int64_t V) {
    float m = quill_row_max(l, V, -INFINITY);
    return (double)m + log(quill_row_sum_exp(l, V, m, 0));
}

QUILL_INLINE void quill_log_softmax_body(const float *x, int64_t rows, int64_t V, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *l = x + r * V;
        float *o = y + r * V;
        float lse = (float)row_log_sum_exp(l, V);
        for (int64_t j = 0; j < V; j++) o[j] = l[j] - lse;
    }
}
QUILL_DISPATCH(void, quill_log_softmax, (const float *x, int64_t rows, int64_t V, float *y), (x, rows, V, y))

// Online log-sum-exp over column blocks (Milakov & Gimelshein, "Online normalizer calculation for softmax", 2018):
// the scorer's decoder produces logits a block of columns at a time and folds each block in here, so a full row of
// logits never exists.
QUILL_INLINE void quill_logsumexp_update_body(float *tile, int64_t rows, int64_t cols, int64_t ldt, int64_t col0,
                                              const float *bias, const int32_t *targets, int32_t ignoreIndex,
                                              float *runMax, double *runSum, float *targetLogit) {
    for (int64_t r = 0; r < rows; r++) {
        int32_t t = targets[r];
        if (t == ignoreIndex) continue;
        float *l = tile + r * ldt;
        if (bias) for (int64_t j = 0; j < cols; j++) l[j] += bias[j];
        float m = quill_row_max(l, cols, runMax[r]);
        double sum = quill_row_sum_exp(l, cols, m, 0);
        runSum[r] = (runSum[r] > 0 ? runSum[r] * exp((double)runMax[r] - (double)m) : 0) + sum;
        runMax[r] = m;
        if (t >= col0 && t < col0 + cols) targetLogit[r] = l[t - col0];
    }
}
QUILL_DISPATCH(void, quill_logsumexp_update,
               (float *tile, int64_t rows, int64_t cols, int64_t ldt, int64_t col0, const float *bias,
                const int32_t *targets, int32_t ignoreIndex, float *runMax, double *runSum, float *targetLogit),
               (tile, rows, cols, ldt, col0, bias, targets, ignoreIndex, runMax, runSum, targetLogit))
