// The fused LSTM cell (see include/quill_lstm.h for shapes; Hochreiter & Schmidhuber 1997, with a forget gate as in
// Gers et al. 2000 and PyTorch's gate order). One pass over each row: 4H gate values read and written, H each of
// cPrev, c, h. Backward recomputes tanh(c) instead of storing it.
#include "quill_lstm.h"
#include "elementwise_simd.h"

// One row. The gate blocks come in as separate `restrict` parameters: LLVM honours `restrict` on parameters (also after
// inlining), not on local pointers, and without it the in-place gate updates defeat the vectorizer's alias checks.
QUILL_INLINE void quill_lstm_forward_row(float *restrict gi, float *restrict gf, float *restrict gg,
                                         float *restrict go, const float *restrict cp, float *restrict cb,
                                         float *restrict hb, int64_t H) {
    for (int64_t j = 0; j < H; j++) {
        float i = quill_sigmoid(gi[j]), f = quill_sigmoid(gf[j]);
        float g = quill_tanh(gg[j]), o = quill_sigmoid(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
        float cn = f * cp[j] + i * g;
        cb[j] = cn;
        hb[j] = o * quill_tanh(cn);
    }
}

QUILL_INLINE void quill_lstm_forward_body(float *gates, const float *cPrev, float *c, float *h, int64_t batch,
                                          int64_t hidden) {
    const int64_t H = hidden;
    for (int64_t b = 0; b < batch; b++) {
        float *row = gates + b * 4 * H;
        quill_lstm_forward_row(row + QUILL_LSTM_GATE_I * H, row + QUILL_LSTM_GATE_F * H, row + QUILL_LSTM_GATE_G * H,
                               row + QUILL_LSTM_GATE_O * H, cPrev + b * H, c + b * H, h + b * H, H);
    }
}
QUILL_DISPATCH(void, quill_lstm_forward,
               (float *gates, const float *cPrev, float *c, float *h, int64_t batch, int64_t hidden),
               (gates, cPrev, c, h, batch, hidden))

QUILL_INLINE void quill_lstm_backward_body(const float *restrict gates, const float *restrict cPrev,
                                           const float *restrict c, const float *restrict dH,
                                           const float *restrict dC, float *restrict dGates,
                                           float *restrict dCPrev, int64_t batch, int64_t hidden) {
    const int64_t H = hidden;
    for (int64_t b = 0; b < batch; b++) {
        const float *restrict gi = gates + b * 4 * H + QUILL_LSTM_GATE_I * H;
        const float *restrict gf = gates + b * 4 * H + QUILL_LSTM_GATE_F * H;
        const float *restrict gg = gates + b * 4 * H + QUILL_LSTM_GATE_G * H;
        const float *restrict go = gates + b * 4 * H + QUILL_LSTM_GATE_O * H;
        float *restrict di = dGates + b * 4 * H + QUILL_LSTM_GATE_I * H;
        float *restrict df = dGates + b * 4 * H + QUILL_LSTM_GATE_F * H;
        float *restrict dg = dGates + b * 4 * H + QUILL_LSTM_GATE_G * H;
        float *restrict dOut = dGates + b * 4 * H + QUILL_LSTM_GATE_O * H;
        const float *restrict cp = cPrev + b * H;
        const float *restrict cb = c + b * H;
        const float *restrict dh = dH + b * H;
        float *restrict dcp = dCPrev + b * H;
        if (dC) {
            const float *restrict dcn = dC + b * H;
            for (int64_t j = 0; j < H; j++) {
                float i = gi[j], f = gf[j], g = gg[j], o = go[j];
                float tc = quill_tanh(cb[j]);
                float dc = dcn[j] + dh[j] * o * (1.0f - tc * tc);
                di[j] = dc * g * i * (1.0f - i);
                df[j] = dc * cp[j] * f * (1.0f - f);
                dg[j] = dc * i * (1.0f - g * g);
                dOut[j] = dh[j] * tc * o * (1.0f - o);
                dcp[j] = dc * f;
            }
        } else {
            for (int64_t j = 0; j < H; j++) {
                float i = gi[j], f = gf[j], g = gg[j], o = go[j];
                float tc = quill_tanh(cb[j]);
                float dc = dh[j] * o * (1.0f - tc * tc);
                di[j] = dc * g * i * (1.0f - i);
                df[j] = dc * cp[j] * f * (1.0f - f);
                dg[j] = dc * i * (1.0f - g * g);
                dOut[j] = dh[j] * tc * o * (1.0f - o);
                dcp[j] = dc * f;
            }
        }
    }
}
QUILL_DISPATCH(void, quill_lstm_backward,
               (const float *gates, const float *cPrev, const float *c, const float *dH, const float *dC,
                float *dGates, float *dCPrev, int64_t batch, int64_t hidden),
               (gates, cPrev, c, dH, dC, dGates, dCPrev, batch, hidden))
