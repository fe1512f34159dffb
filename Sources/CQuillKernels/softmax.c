// Softmax + cross-entropy (see include/quill_softmax.h). Maxima and sums use 16 fixed lanes, so results are the same
// on every SIMD path.
#include "quill_softmax.h"
#include "elementwise_simd.h"

QUILL_INLINE double quill_softmax_cross_entropy_body(const float *logits, const int32_t *targets, int32_t ignoreIndex,
                                                     float scale, float *dLogits, int64_t rows, int64_t V) {
    double total = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *l = logits + r * V;
        float *d = dLogits ? dLogits + r * V : 0;
        int32_t t = targets[r];
        if (t == ignoreIndex) {
            if (d) for (int64_t j = 0; j < V; j++) d[j] = 0.0f;
            continue;
        }
        float target = l[t];
        float m = quill_row_max(l, V, -INFINITY);
        double sum = quill_row_sum_exp(l, V, m, d);
        total += (double)m + log(sum) - (double)target;
        if (d) {
            float inv = (float)((double)scale / sum);
            for (int64_t j = 0; j < V; j++) d[j] *= inv;
            d[t] -= scale;
        }
    }
    return total;
}
QUILL_DISPATCH(double, quill_softmax_cross_entropy,
               (const float *logits, const int32_t *targets, int32_t ignoreIndex, float scale, float *dLogits,
                int64_t rows, int64_t vocabulary),
               (logits, targets, ignoreIndex, scale, dLogits, rows, vocabulary))
