// The fused GRU cell (see include/quill_gru.h for shapes and equations).
#include "quill_gru.h"
#include "elementwise_simd.h"

// One row; blocks as separate `restrict` parameters so the in-place updates vectorize (see lstm.c).
QUILL_INLINE void quill_gru_forward_row(float *restrict xr, float *restrict xz, float *restrict xn,
                                        const float *restrict hr, const float *restrict hz, const float *restrict hn,
                                        const float *restrict hp, float *restrict hb, int64_t H) {
    for (int64_t j = 0; j < H; j++) {
        float r = quill_sigmoid(xr[j] + hr[j]);
        float z = quill_sigmoid(xz[j] + hz[j]);
        float n = quill_tanh(xn[j] + r * hn[j]);
        xr[j] = r; xz[j] = z; xn[j] = n;
        hb[j] = (1.0f - z) * n + z * hp[j];
    }
}

QUILL_INLINE void quill_gru_forward_body(float *gx, const float *gh, const float *hPrev, float *h, int64_t batch,
                                         int64_t hidden) {
    const int64_t H = hidden;
    for (int64_t b = 0; b < batch; b++) {
        float *x = gx + b * 3 * H;
        const float *p = gh + b * 3 * H;
        quill_gru_forward_row(x + QUILL_GRU_GATE_R * H, x + QUILL_GRU_GATE_Z * H, x + QUILL_GRU_GATE_N * H,
                              p + QUILL_GRU_GATE_R * H, p + QUILL_GRU_GATE_Z * H, p + QUILL_GRU_GATE_N * H,
                              hPrev + b * H, h + b * H, H);
    }
}
QUILL_DISPATCH(void, quill_gru_forward,
               (float *gx, const float *gh, const float *hPrev, float *h, int64_t batch, int64_t hidden),
               (gx, gh, hPrev, h, batch, hidden))

QUILL_INLINE void quill_gru_backward_body(const float *restrict gx, const float *restrict gh,
                                          const float *restrict hPrev, const float *restrict dH,
                                          float *restrict dGx, float *restrict dGh, float *restrict dHPrev,
                                          int64_t batch, int64_t hidden) {
    const int64_t H = hidden;
    for (int64_t b = 0; b < batch; b++) {
        const float *restrict ar = gx + b * 3 * H + QUILL_GRU_GATE_R * H;
        const float *restrict az = gx + b * 3 * H + QUILL_GRU_GATE_Z * H;
        const float *restrict an = gx + b * 3 * H + QUILL_GRU_GATE_N * H;
        const float *restrict hn = gh + b * 3 * H + QUILL_GRU_GATE_N * H;
        float *restrict dxr = dGx + b * 3 * H + QUILL_GRU_GATE_R * H;
        float *restrict dxz = dGx + b * 3 * H + QUILL_GRU_GATE_Z * H;
        float *restrict dxn = dGx + b * 3 * H + QUILL_GRU_GATE_N * H;
        float *restrict dhr = dGh + b * 3 * H + QUILL_GRU_GATE_R * H;
        float *restrict dhz = dGh + b * 3 * H + QUILL_GRU_GATE_Z * H;
        float *restrict dhn = dGh + b * 3 * H + QUILL_GRU_GATE_N * H;
        const float *restrict hp = hPrev + b * H;
        const float *restrict dh = dH + b * H;
        float *restrict dhp = dHPrev + b * H;
        for (int64_t j = 0; j < H; j++) {
            float r = ar[j], z = az[j], n = an[j], d = dh[j];
            float dAn = d * (1.0f - z) * (1.0f - n * n);
            float dAz = d * (hp[j] - n) * z * (1.0f - z);
            float dAr = dAn * hn[j] * r * (1.0f - r);
            dxr[j] = dAr; dhr[j] = dAr;
            dxz[j] = dAz; dhz[j] = dAz;
            dxn[j] = dAn; dhn[j] = dAn * r;
            dhp[j] = d * z;
        }
    }
}
QUILL_DISPATCH(void, quill_gru_backward,
               (const float *gx, const float *gh, const float *hPrev, const float *dH, float *dGx, float *dGh,
                float *dHPrev, int64_t batch, int64_t hidden),
               (gx, gh, hPrev, dH, dGx, dGh, dHPrev, batch, hidden))
