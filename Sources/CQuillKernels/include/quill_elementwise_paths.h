// Every element-wise kernel on an explicit SIMD path: `path` 0 portable, 1 AVX2+FMA, 2 AVX-512 (x86-64); a path the
// CPU lacks (or -1) runs the best it has; on other architectures the argument is ignored. For tests (every path
// against the reference) and benchmarks; the plain names pick the best path themselves.
#ifndef QUILL_ELEMENTWISE_PATHS_H
#define QUILL_ELEMENTWISE_PATHS_H
#include <stdint.h>

void quill_exp_forward_on_path(int32_t path, const float *x, float *y, int64_t n);
void quill_tanh_forward_on_path(int32_t path, const float *x, float *y, int64_t n);
void quill_tanh_backward_on_path(int32_t path, const float *y, const float *dy, float *dx, int64_t n);
void quill_sigmoid_forward_on_path(int32_t path, const float *x, float *y, int64_t n);
void quill_sigmoid_backward_on_path(int32_t path, const float *y, const float *dy, float *dx, int64_t n);
void quill_relu_forward_on_path(int32_t path, const float *x, float *y, int64_t n);
void quill_relu_backward_on_path(int32_t path, const float *y, const float *dy, float *dx, int64_t n);
void quill_multiply_on_path(int32_t path, const float *a, const float *b, float *y, int64_t n);
void quill_scale_on_path(int32_t path, float *x, float s, int64_t n);
void quill_bias_add_on_path(int32_t path, float *x, const float *bias, int64_t rows, int64_t cols);
void quill_column_sums_add_on_path(int32_t path, const float *x, int64_t rows, int64_t cols, int64_t ld, float *sums);
double quill_sum_squares_on_path(int32_t path, const float *x, int64_t n);
void quill_embedding_gather_on_path(int32_t path, const float *table, int64_t ldTable, const int32_t *ids, int64_t n,
                                    int64_t cols, float *out, int64_t ldOut);
void quill_embedding_scatter_add_on_path(int32_t path, const float *dOut, int64_t ldOut, const int32_t *ids, int64_t n,
                                         int64_t cols, float *dTable, int64_t ldTable);
void quill_lstm_forward_on_path(int32_t path, float *gates, const float *cPrev, float *c, float *h, int64_t batch,
                                int64_t hidden);
void quill_lstm_backward_on_path(int32_t path, const float *gates, const float *cPrev, const float *c, const float *dH,
                                 const float *dC, float *dGates, float *dCPrev, int64_t batch, int64_t hidden);
void quill_gru_forward_on_path(int32_t path, float *gx, const float *gh, const float *hPrev, float *h, int64_t batch,
                               int64_t hidden);
void quill_gru_backward_on_path(int32_t path, const float *gx, const float *gh, const float *hPrev, const float *dH,
                                float *dGx, float *dGh, float *dHPrev, int64_t batch, int64_t hidden);
double quill_softmax_cross_entropy_on_path(int32_t path, const float *logits, const int32_t *targets,
                                           int32_t ignoreIndex, float scale, float *dLogits, int64_t rows,
                                           int64_t vocabulary);
void quill_sgd_step_on_path(int32_t path, float *parameters, const float *gradients, float *momentumBuffer, int64_t n,
                            float learningRate, float momentum, float dampening, float weightDecay, int32_t nesterov,
                            int32_t firstStep);
void quill_adam_step_on_path(int32_t path, float *parameters, const float *gradients, float *m, float *v, int64_t n,
                             float learningRate, float beta1, float beta2, float epsilon, float weightDecay,
                             int32_t decoupled, float stepSize, float biasCorrection2Sqrt);

#endif
