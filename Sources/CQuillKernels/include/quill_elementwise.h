// Element-wise kernels: activations, bias add / column sums, products (dropout), embedding rows, sums of squares
// (clipping). Naive references and the Swift API: Sources/QuillTensor/Activations.swift and friends.
// Letters: N rows, D columns (features), V vocabulary rows. Row-major; `ld` is the distance between rows in floats.
// Unless a parameter says otherwise, input and output may be the same buffer (in place) but must not partially overlap.
#ifndef QUILL_ELEMENTWISE_H
#define QUILL_ELEMENTWISE_H
#include <stdint.h>

/// y = e^x with the vectorized approximation (relative error < 2e-7 on [-87, 88]; 0 below, e^88 above).
void quill_exp_forward(const float *x, float *y, int64_t n);
/// y = tanh x (vectorized approximation, relative error < 1e-6).
void quill_tanh_forward(const float *x, float *y, int64_t n);
/// dx = dy ⊙ (1 - y²), from the forward output y.
void quill_tanh_backward(const float *y, const float *dy, float *dx, int64_t n);
/// y = 1/(1+e^-x) (vectorized approximation, relative error < 1e-6).
void quill_sigmoid_forward(const float *x, float *y, int64_t n);
/// dx = dy ⊙ y ⊙ (1 - y), from the forward output y.
void quill_sigmoid_backward(const float *y, const float *dy, float *dx, int64_t n);
/// y = max(x, 0).
void quill_relu_forward(const float *x, float *y, int64_t n);
/// dx = dy where y > 0, else 0 (from the forward output y).
void quill_relu_backward(const float *y, const float *dy, float *dx, int64_t n);
/// y = a ⊙ b (dropout: mask ⊙ x forward, mask ⊙ dy backward).
void quill_multiply(const float *a, const float *b, float *y, int64_t n);
/// x *= s.
void quill_scale(float *x, float s, int64_t n);
/// x[N][D] += bias[D] on every row.
void quill_bias_add(float *x, const float *bias, int64_t rows, int64_t cols);
/// sums[c] += Σ_r x[r*ld + c] for c < cols, rows summed in order (bias gradients). `sums` must not overlap `x`.
void quill_column_sums_add(const float *x, int64_t rows, int64_t cols, int64_t ld, float *sums);
/// Σ x², accumulated in 16 fixed lanes (then lanes in order), so the result is the same on every SIMD path.
double quill_sum_squares(const float *x, int64_t n);
/// out[r][0..<cols] = table[ids[r]][0..<cols] for r < n; a negative id gives a zero row. No overlap.
void quill_embedding_gather(const float *table, int64_t ldTable, const int32_t *ids, int64_t n, int64_t cols,
                            float *out, int64_t ldOut);
/// dTable[ids[r]][0..<cols] += dOut[r][0..<cols] for r in order; negative ids are skipped. No overlap.
void quill_embedding_scatter_add(const float *dOut, int64_t ldOut, const int32_t *ids, int64_t n, int64_t cols,
                                 float *dTable, int64_t ldTable);

#endif
