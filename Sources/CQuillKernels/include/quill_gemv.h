// Inference kernels for stepping a language model (see docs/decoding.md): matrix-vector products over float32 or
// int8 weights for a few vectors at once, per-row int8 quantization, log-softmax, and the fused log-softmax-gather of
// batch scoring (an online log-sum-exp over blocks of logits).
//
// Letters: `R` rows of the weight matrix (outputs), `K` its columns (inputs), `n` vectors, `V` vocabulary.
// Layouts, all row-major: weights `W[R][ldw]`, vectors `x[n][ldx]`, results `y[n][ldy]`.
//
// Each exported name runs the best SIMD path of this CPU; `…_on_path(path, …)` runs a chosen one (0 portable,
// 1 AVX2+FMA, 2 AVX-512; a path the CPU lacks runs the best it has), for the tests.
#ifndef QUILL_GEMV_H
#define QUILL_GEMV_H
#include <stdint.h>

/// `y[b][r] = bias[r] + Σ_k W[r][k]·x[b][k]` for rows `r0 ≤ r < r1` and vectors `b < n`; `bias` may be NULL (0).
/// A row's result does not depend on `r0`, `r1` or `n` (the same operations in the same order), so splitting rows
/// over threads gives the same bits.
void quill_gemv_f32(const float *W, int64_t ldw, const float *bias, const float *x, int64_t ldx, int64_t n,
                    int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1);
void quill_gemv_f32_on_path(int32_t path, const float *W, int64_t ldw, const float *bias, const float *x, int64_t ldx,
                            int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1);

/// `y[b][r] = bias[r] + scale[r]·Σ_k Q[r][k]·x[b][k]` over int8 weights `Q[R][ldq]` with a float scale per row,
/// dequantized in registers (sign-extend, convert, fused multiply-add); `bias` may be NULL.
void quill_gemv_i8(const int8_t *Q, int64_t ldq, const float *scale, const float *bias, const float *x, int64_t ldx,
                   int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0, int64_t r1);
void quill_gemv_i8_on_path(int32_t path, const int8_t *Q, int64_t ldq, const float *scale, const float *bias,
                           const float *x, int64_t ldx, int64_t n, int64_t K, float *y, int64_t ldy, int64_t r0,
                           int64_t r1);

/// Symmetric per-row int8 quantization: `scale[r] = max_k |W[r][k]| / 127` (1 for a zero row) and
/// `Q[r][k] = round(W[r][k] / scale[r])` in [−127, 127]. Columns `K ≤ k < ldq` of Q are set to 0.
void quill_quantize_rows_i8(const float *W, int64_t ldw, int64_t R, int64_t K, int8_t *Q, int64_t ldq, float *scale);

/// `y[r][v] = x[r][v] − log Σ_u exp x[r][u]` over `rows` rows of `V` (in place allowed). Maximum and sum use 16
/// fixed lanes, the sum in double at the end.
void quill_log_softmax(const float *x, int64_t rows, int64_t V, float *y);
void quill_log_softmax_on_path(int32_t path, const float *x, int64_t rows, int64_t V, float *y);

/// Folds a block of logits, columns `col0 ..< col0 + cols` of rows `r < rows` (`tile[rows][ldt]`), into running
/// per-row maxima and sums of exponentials (online softmax): adds `bias[0..<cols]` (may be NULL) to the tile in
/// place, sets `runMax[r] = max(runMax[r], max of the row)`, rescales `runSum[r]` to it and adds the block's
/// `Σ exp(l − runMax)`, and stores the row's target logit into `targetLogit[r]` when `targets[r]` falls in the
/// block.
/// Rows whose target is `ignoreIndex` are skipped. Start with `runMax = −∞`, `runSum = 0`; after the last block
/// `log p(target) = targetLogit − runMax − log runSum`.
void quill_logsumexp_update(float *tile, int64_t rows, int64_t cols, int64_t ldt, int64_t col0, const float *bias,
                            const int32_t *targets, int32_t ignoreIndex, float *runMax, double *runSum,
                            float *targetLogit);
void quill_logsumexp_update_on_path(int32_t path, float *tile, int64_t rows, int64_t cols, int64_t ldt, int64_t col0,
                                    const float *bias, const int32_t *targets, int32_t ignoreIndex, float *runMax,
                                    double *runSum, float *targetLogit);

#endif
