// Private helpers of the element-wise kernels (not a public header): vectorizable exp/tanh/sigmoid approximations and
// the macro that compiles one loop body three times (portable, AVX2+FMA, AVX-512) and picks a variant at run time.
//
// Why this shape: Package.swift has no unsafeFlags, so the C target is compiled for baseline x86-64 (SSE2). A loop
// body written once as an `always_inline` function, inlined into functions carrying `__attribute__((target(...)))`,
// is auto-vectorized by clang for each instruction set; `quill_cpu_path()` picks one at run time. On arm64 the
// portable variant is already NEON (path 3).
#ifndef QUILL_ELEMENTWISE_SIMD_H
#define QUILL_ELEMENTWISE_SIMD_H
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "quill_kernels.h"

#define QUILL_INLINE static inline __attribute__((always_inline))

#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define QUILL_SQRTF(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef QUILL_SQRTF
#define QUILL_SQRTF(x) sqrtf(x)
#endif

QUILL_INLINE float quill_bits_to_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
QUILL_INLINE int32_t quill_float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

/// e^x for x in [-87, 88] with relative error below 2e-7 (Cephes `expf` polynomial, Moshier); 0 below -87 and
/// e^88 above 88. Branch-free, so loops calling it vectorize.
QUILL_INLINE float quill_exp(float x) {
    const float hi = 88.0f, lo = -87.0f;
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    // n = round(x / ln 2) by the 1.5·2^23 trick (no floorf call, so it vectorizes on every path).
    const float shifter = 12582912.0f;
    float t = xc * 1.44269504088896341f + shifter;
    int32_t n = quill_float_to_bits(t) - quill_float_to_bits(shifter);
    float fn = t - shifter;
    float r = xc - fn * 0.693359375f;           // ln 2 split in two for an exact first product
    r = r - fn * -2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * r2 + r + 1.0f;
    y = y * quill_bits_to_float((n + 127) << 23);
    return x < lo ? 0.0f : y;
}

/// The logistic sigmoid 1/(1+e^-x); relative error below 5e-7.
QUILL_INLINE float quill_sigmoid(float x) { return 1.0f / (1.0f + quill_exp(-x)); }

/// tanh x with relative error below 1e-6: Cephes `tanhf` (odd polynomial for |x| < 0.625, else 1 - 2/(e^2|x| + 1)).
QUILL_INLINE float quill_tanh(float x) {
    float a = x < 0 ? -x : x;
    float e = quill_exp(2.0f * a);
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0 ? -big : big;
    float z = x * x;
    float s = -5.70498872745E-3f;
    s = s * z + 2.06390887954E-2f;
    s = s * z - 5.37397155531E-2f;
    s = s * z + 1.33314422036E-1f;
    s = s * z - 3.33332819422E-1f;
    float small = s * z * x + x;
    return a < 0.625f ? small : big;
}

/// The maximum of `start` and x[0..n), over 16 fixed lanes: the same bits on every SIMD path. (Lanes start at −∞
/// and a NaN never replaces a lane, so a NaN in x is skipped here and shows in the sum of exponentials instead.)
QUILL_INLINE float quill_row_max(const float *x, int64_t n, float start) {
    float lane[16];
    for (int k = 0; k < 16; k++) lane[k] = -INFINITY;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++) lane[k] = x[j + k] > lane[k] ? x[j + k] : lane[k];
    for (int k = 0; j < n; j++, k++) lane[k] = x[j] > lane[k] ? x[j] : lane[k];
    float m = start;
    for (int k = 0; k < 16; k++) m = lane[k] > m ? lane[k] : m;
    return m;
}

/// Σ e^(x[j] − m) over x[0..n), accumulated in 16 fixed float lanes that are added in double at the end (the same
/// bits on every path); each e^(x[j] − m) is also written to `e` unless it is null (softmax's numerators).
QUILL_INLINE double quill_row_sum_exp(const float *x, int64_t n, float m, float *e) {
    float acc[16] = {0};
    int64_t j = 0;
    if (e) {
        for (; j + 16 <= n; j += 16)
            for (int k = 0; k < 16; k++) { float v = quill_exp(x[j + k] - m); e[j + k] = v; acc[k] += v; }
        for (int k = 0; j < n; j++, k++) { float v = quill_exp(x[j] - m); e[j] = v; acc[k] += v; }
    } else {
        for (; j + 16 <= n; j += 16)
            for (int k = 0; k < 16; k++) acc[k] += quill_exp(x[j + k] - m);
        for (int k = 0; j < n; j++, k++) acc[k] += quill_exp(x[j] - m);
    }
    double sum = 0;
    for (int k = 0; k < 16; k++) sum += (double)acc[k];
    return sum;
}

/// The SIMD path, asked once.
QUILL_INLINE int32_t quill_path_cached(void) {
    static int32_t path = -1;
    int32_t p = __atomic_load_n(&path, __ATOMIC_RELAXED);
    if (p < 0) { p = quill_cpu_path(); __atomic_store_n(&path, p, __ATOMIC_RELAXED); }
    return p;
}

// QUILL_DISPATCH(ret, name, (params), (args)): given `QUILL_INLINE ret name##_body(params)`, defines the exported
// `ret name(params)`, which runs the AVX-512, AVX2+FMA or portable compilation of the body (the best the CPU has),
// and `ret name##_on_path(int32_t path, params)`, which runs the one asked for (tests compare every path; a path the
// CPU lacks falls back to the best it has). Declared in quill_elementwise_paths.h.
#define QUILL_STRIP(...) __VA_ARGS__
#if defined(__x86_64__)
#define QUILL_DISPATCH(ret, name, params, args) \
    __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) static ret name##_avx512 params { \
        return name##_body args; } \
    __attribute__((target("avx2,fma"))) static ret name##_avx2 params { return name##_body args; } \
    static ret name##_portable params { return name##_body args; } \
    ret name##_on_path(int32_t quill_path, QUILL_STRIP params) { \
        int32_t best = quill_path_cached(); \
        if (quill_path < 0 || quill_path > best) quill_path = best; \
        switch (quill_path) { \
        case 2: return name##_avx512 args; \
        case 1: return name##_avx2 args; \
        default: return name##_portable args; } } \
    ret name params { return name##_on_path(quill_path_cached(), QUILL_STRIP args); }
#else
#define QUILL_DISPATCH(ret, name, params, args) \
    ret name##_on_path(int32_t quill_path, QUILL_STRIP params) { (void)quill_path; return name##_body args; } \
    ret name params { return name##_body args; }
#endif

#endif
