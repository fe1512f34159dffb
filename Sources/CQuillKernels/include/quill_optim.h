// Optimizer updates over flat buffers of n parameters (PyTorch semantics; see Sources/QuillTensor/Optimizers.swift).
#ifndef QUILL_OPTIM_H
#define QUILL_OPTIM_H
#include <stdint.h>

/// SGD as torch.optim.SGD: g += wd·p; with momentum μ: buf = g on the first step, else buf = μ·buf + (1−dampening)·g,
/// then g = g + μ·buf (Nesterov) or g = buf; p −= lr·g. `momentumBuffer` may be NULL when μ = 0. `gradients` is
/// not modified.
void quill_sgd_step(float *parameters, const float *gradients, float *momentumBuffer, int64_t n, float learningRate,
                    float momentum, float dampening, float weightDecay, int32_t nesterov, int32_t firstStep);

/// Adam / AdamW as torch.optim.Adam/AdamW (single-tensor path): decoupled ? p *= 1 − lr·wd : g += wd·p;
/// m = lerp(m, g, 1−β1); v = β2·v + (1−β2)·g²; p −= stepSize · m / (√v / biasCorrection2Sqrt + ε), with
/// stepSize = lr / (1 − β1^t) and biasCorrection2Sqrt = √(1 − β2^t) computed by the caller.
void quill_adam_step(float *parameters, const float *gradients, float *m, float *v, int64_t n, float learningRate,
                     float beta1, float beta2, float epsilon, float weightDecay, int32_t decoupled, float stepSize,
                     float biasCorrection2Sqrt);

#endif
