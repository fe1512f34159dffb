// Softmax + cross-entropy fused: loss and dLogits in one pass per row, log-sum-exp stable.
// Letters: N rows (B·T positions), V vocabulary. logits[N][V] row-major, targets[N] class ids.
// Naive reference and Swift API: Sources/QuillTensor/SoftmaxCrossEntropy.swift.
#ifndef QUILL_SOFTMAX_H
#define QUILL_SOFTMAX_H
#include <stdint.h>

/// For each of `rows` rows: loss_r = log Σ_j e^(l_j) − l_target (computed as m + log Σ e^(l_j − m), m = max l).
/// Returns Σ_r loss_r in row order (rows whose target equals `ignoreIndex` contribute 0). When `dLogits` is not
/// NULL it is written: (softmax(l) − onehot(target)) · scale, and a zero row for an ignored target. `dLogits` may be
/// `logits` itself (in place). Targets other than `ignoreIndex` must lie in [0, V).
double quill_softmax_cross_entropy(const float *logits, const int32_t *targets, int32_t ignoreIndex, float scale,
                                   float *dLogits, int64_t rows, int64_t vocabulary);

#endif
