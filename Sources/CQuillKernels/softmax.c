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
        float lane[16];
        for (int k = 0; k < 16; k++) lane[k] = -INFINITY;
        int64_t j = 0;
        for (; j + 16 <= V; j += 16)
            for (int k = 0; k < 16; k++) lane[k] = l[j + k] > lane[k] ? l[j + k] : lane[k];
        for (int k = 0; j < V; j++, k++) lane[k] = l[j] > lane[k] ? l[j] : lane[k];
        float m = lane[0];
        for (int k = 1; k < 16; k++) m = lane[k] > m ? lane[k] : m;

        float acc[16] = {0};
        j = 0;
        if (d) {
            for (; j + 16 <= V; j += 16)
                for (int k = 0; k < 16; k++) { float e = quill_exp(l[j + k] - m); d[j + k] = e; acc[k] += e; }
            for (int k = 0; j < V; j++, k++) { float e = quill_exp(l[j] - m); d[j] = e; acc[k] += e; }
        } else {
            for (; j + 16 <= V; j += 16)
                for (int k = 0; k < 16; k++) acc[k] += quill_exp(l[j + k] - m);
            for (int k = 0; j < V; j++, k++) acc[k] += quill_exp(l[j] - m);
        }
        double sum = 0;
        for (int k = 0; k < 16; k++) sum += (double)acc[k];
        total += (double)m + log(sum) - (double)target;
        if (d) {
            float inv = (float)((double)scale / sum);
            for (j = 0; j < V; j++) d[j] *= inv;
            d[t] -= scale;
        }
    }
    return total;
}
QUILL_DISPATCH(double, quill_softmax_cross_entropy,
               (const float *logits, const int32_t *targets, int32_t ignoreIndex, float scale, float *dLogits,
                int64_t rows, int64_t vocabulary),
               (logits, targets, ignoreIndex, scale, dLogits, rows, vocabulary))
