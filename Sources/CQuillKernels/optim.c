// Optimizer updates (see include/quill_optim.h).
#include "quill_optim.h"
#include "elementwise_simd.h"

QUILL_INLINE void quill_sgd_step_body(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
                                      float lr, float mu, float dampening, float wd, int32_t nesterov,
                                      int32_t firstStep) {
    if (mu == 0.0f || !buf) {
        for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    if (firstStep) {
        for (int64_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            buf[i] = d;
            p[i] -= lr * (nesterov ? d + mu * d : d);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = mu * buf[i] + (1.0f - dampening) * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mu * b : b);
    }
}
QUILL_DISPATCH(void, quill_sgd_step,
               (float *parameters, const float *gradients, float *momentumBuffer, int64_t n, float learningRate,
                float momentum, float dampening, float weightDecay, int32_t nesterov, int32_t firstStep),
               (parameters, gradients, momentumBuffer, n, learningRate, momentum, dampening, weightDecay, nesterov,
                firstStep))

QUILL_INLINE void quill_adam_step_body(float *restrict p, const float *restrict g, float *restrict m,
                                       float *restrict v, int64_t n, float lr, float beta1, float beta2, float eps,
                                       float wd, int32_t decoupled, float stepSize, float bc2Sqrt) {
    const float decay = decoupled ? 1.0f - lr * wd : 1.0f;
    const float l2 = decoupled ? 0.0f : wd;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i] * decay;
        float gi = g[i] + l2 * p[i];
        float mi = m[i] + (1.0f - beta1) * (gi - m[i]);
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] = pi - stepSize * (mi / (QUILL_SQRTF(vi) / bc2Sqrt + eps));
    }
}
QUILL_DISPATCH(void, quill_adam_step,
               (float *parameters, const float *gradients, float *m, float *v, int64_t n, float learningRate,
                float beta1, float beta2, float epsilon, float weightDecay, int32_t decoupled, float stepSize,
                float biasCorrection2Sqrt),
               (parameters, gradients, m, v, n, learningRate, beta1, beta2, epsilon, weightDecay, decoupled,
                stepSize, biasCorrection2Sqrt))
