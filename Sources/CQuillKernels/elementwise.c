// Element-wise kernels (see include/quill_elementwise.h). Each body is compiled per SIMD path by QUILL_DISPATCH.
#include "quill_elementwise.h"
#include "elementwise_simd.h"

QUILL_INLINE void quill_exp_forward_body(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = quill_exp(x[i]);
}
QUILL_DISPATCH(void, quill_exp_forward, (const float *x, float *y, int64_t n), (x, y, n))

QUILL_INLINE void quill_tanh_forward_body(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = quill_tanh(x[i]);
}
QUILL_DISPATCH(void, quill_tanh_forward, (const float *x, float *y, int64_t n), (x, y, n))

QUILL_INLINE void quill_tanh_backward_body(const float *y, const float *dy, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
QUILL_DISPATCH(void, quill_tanh_backward, (const float *y, const float *dy, float *dx, int64_t n), (y, dy, dx, n))

QUILL_INLINE void quill_sigmoid_forward_body(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = quill_sigmoid(x[i]);
}
QUILL_DISPATCH(void, quill_sigmoid_forward, (const float *x, float *y, int64_t n), (x, y, n))

QUILL_INLINE void quill_sigmoid_backward_body(const float *y, const float *dy, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
QUILL_DISPATCH(void, quill_sigmoid_backward, (const float *y, const float *dy, float *dx, int64_t n), (y, dy, dx, n))

QUILL_INLINE void quill_relu_forward_body(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
QUILL_DISPATCH(void, quill_relu_forward, (const float *x, float *y, int64_t n), (x, y, n))

QUILL_INLINE void quill_relu_backward_body(const float *y, const float *dy, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
QUILL_DISPATCH(void, quill_relu_backward, (const float *y, const float *dy, float *dx, int64_t n), (y, dy, dx, n))

QUILL_INLINE void quill_multiply_body(const float *a, const float *b, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}
QUILL_DISPATCH(void, quill_multiply, (const float *a, const float *b, float *y, int64_t n), (a, b, y, n))

QUILL_INLINE void quill_scale_body(float *x, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}
QUILL_DISPATCH(void, quill_scale, (float *x, float s, int64_t n), (x, s, n))

QUILL_INLINE void quill_bias_add_body(float *x, const float *restrict bias, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        float *restrict row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) row[c] += bias[c];
    }
}
QUILL_DISPATCH(void, quill_bias_add, (float *x, const float *bias, int64_t rows, int64_t cols), (x, bias, rows, cols))

QUILL_INLINE void quill_column_sums_add_body(const float *restrict x, int64_t rows, int64_t cols, int64_t ld,
                                             float *restrict sums) {
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict row = x + r * ld;
        for (int64_t c = 0; c < cols; c++) sums[c] += row[c];
    }
}
QUILL_DISPATCH(void, quill_column_sums_add, (const float *x, int64_t rows, int64_t cols, int64_t ld, float *sums),
               (x, rows, cols, ld, sums))

QUILL_INLINE double quill_sum_squares_body(const float *restrict x, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += x[i + k] * x[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += x[i] * x[i];
    double total = 0;
    for (int k = 0; k < 16; k++) total += (double)acc[k];
    return total;
}
QUILL_DISPATCH(double, quill_sum_squares, (const float *x, int64_t n), (x, n))

QUILL_INLINE void quill_embedding_gather_body(const float *restrict table, int64_t ldTable, const int32_t *ids,
                                              int64_t n, int64_t cols, float *restrict out, int64_t ldOut) {
    for (int64_t r = 0; r < n; r++) {
        float *restrict dst = out + r * ldOut;
        if (ids[r] < 0) { for (int64_t c = 0; c < cols; c++) dst[c] = 0.0f; continue; }
        const float *restrict src = table + (int64_t)ids[r] * ldTable;
        for (int64_t c = 0; c < cols; c++) dst[c] = src[c];
    }
}
QUILL_DISPATCH(void, quill_embedding_gather,
               (const float *table, int64_t ldTable, const int32_t *ids, int64_t n, int64_t cols, float *out,
                int64_t ldOut),
               (table, ldTable, ids, n, cols, out, ldOut))

QUILL_INLINE void quill_embedding_scatter_add_body(const float *restrict dOut, int64_t ldOut, const int32_t *ids,
                                                   int64_t n, int64_t cols, float *restrict dTable, int64_t ldTable) {
    for (int64_t r = 0; r < n; r++) {
        if (ids[r] < 0) continue;
        const float *restrict src = dOut + r * ldOut;
        float *restrict dst = dTable + (int64_t)ids[r] * ldTable;
        for (int64_t c = 0; c < cols; c++) dst[c] += src[c];
    }
}
QUILL_DISPATCH(void, quill_embedding_scatter_add,
               (const float *dOut, int64_t ldOut, const int32_t *ids, int64_t n, int64_t cols, float *dTable,
                int64_t ldTable),
               (dOut, ldOut, ids, n, cols, dTable, ldTable))
