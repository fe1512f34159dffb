// The fused GRU cell in PyTorch's formulation (Cho et al. 2014): one time step after the two projections.
// Letters: B batch, H hidden; gate blocks in PyTorch's order r, z, n (QUILL_GRU_GATE_*), so rows are 3H wide.
//   r = σ(xr + hr),  z = σ(xz + hz),  n = tanh(xn + r ⊙ hn),  h' = (1 − z) ⊙ n + z ⊙ h
// where x* = x·Wᵢ*ᵀ + bᵢ* (input projection gx[B][3H]) and h* = h·Wₕ*ᵀ + bₕ* (hidden projection gh[B][3H]) —
// given separately because r multiplies only the hidden part of n. Naive reference: Sources/QuillTensor/GRUCell.swift.
#ifndef QUILL_GRU_H
#define QUILL_GRU_H
#include <stdint.h>

enum { QUILL_GRU_GATE_R = 0, QUILL_GRU_GATE_Z = 1, QUILL_GRU_GATE_N = 2 };

/// Forward: gx[B][3H] holds the input projection on entry and the activations (r, z, n) on exit; gh[B][3H] is read
/// (keep it for backward); writes h[B][H] from hPrev[B][H]. No buffer may overlap another.
void quill_gru_forward(float *gx, const float *gh, const float *hPrev, float *h, int64_t batch, int64_t hidden);

/// Backward: from the activations gx[B][3H], gh[B][3H], hPrev[B][H] and dH[B][H], writes dGx[B][3H] (gradient of
/// the input projection), dGh[B][3H] (of the hidden projection) and dHPrev[B][H] = dH ⊙ z (the direct path only;
/// the path through gh comes from dGh·Wₕₕ). No buffer may overlap another.
void quill_gru_backward(const float *gx, const float *gh, const float *hPrev, const float *dH, float *dGx,
                        float *dGh, float *dHPrev, int64_t batch, int64_t hidden);

#endif
