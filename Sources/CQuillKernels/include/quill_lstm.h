// The fused LSTM cell: one time step of gate non-linearities and cell update (the GEMMs happen elsewhere).
// Letters: B batch, H hidden, G = 4H gates. Row-major: gates[B][G] holds, per row, the four gate blocks of H each
// in PyTorch's order i, f, g, o — the order is defined here and only here (QUILL_LSTM_GATE_*).
// Naive reference and Swift API: Sources/QuillTensor/LSTMCell.swift.
#ifndef QUILL_LSTM_H
#define QUILL_LSTM_H
#include <stdint.h>

/// Gate block indices within a row of gates[B][4H] (PyTorch order: input, forget, cell candidate, output).
enum { QUILL_LSTM_GATE_I = 0, QUILL_LSTM_GATE_F = 1, QUILL_LSTM_GATE_G = 2, QUILL_LSTM_GATE_O = 3 };

/// Forward: gates[B][4H] holds pre-activations on entry and the activations (σ(i), σ(f), tanh(g), σ(o)) on exit;
/// c[B][H] = f⊙cPrev + i⊙g; h[B][H] = o⊙tanh(c). No buffer may overlap another.
void quill_lstm_forward(float *gates, const float *cPrev, float *c, float *h, int64_t batch, int64_t hidden);

/// Backward: from the activations gates[B][4H], cPrev[B][H] and c[B][H] of the forward step, dH[B][H] (total
/// gradient of h) and dC[B][H] (gradient of c from the next step, or NULL for none), writes dGates[B][4H]
/// (gradient of the pre-activations) and dCPrev[B][H]. No buffer may overlap another.
void quill_lstm_backward(const float *gates, const float *cPrev, const float *c, const float *dH, const float *dC,
                         float *dGates, float *dCPrev, int64_t batch, int64_t hidden);

#endif
