#include "quill_kernels.h"

int32_t quill_cpu_path(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
#elif defined(__aarch64__)
    return 3;
#else
    return 0;
#endif
}

// MARK: - Peak rates (quill-bench peak): the ceilings the benchmarks report achieved GFLOP/s against.

#if defined(__x86_64__)
#include <immintrin.h>

/// 16 independent chains of `vfmadd231ps zmm` (enough to cover the latency on both FMA pipes), `iterations` rounds:
/// 16 · iterations · 16 lanes · 2 flops. Returns a value that depends on every chain, so none is optimised away.
__attribute__((target("avx512f"), noinline)) float quill_peak_fma_f32(int64_t iterations) {
    __m512 acc[16];
    const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps((float)i);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < 16; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

/// The same with `vdpbf16ps zmm`: 16 · iterations · 16 lanes · 2 products · 2 flops.
__attribute__((target("avx512f,avx512bf16"), noinline)) float quill_peak_dpbf16(int64_t iterations) {
    __m512 acc[16];
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80), y = (__m512bh)_mm512_set1_epi32(0x33D633D6);
    for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps((float)i);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < 16; i++) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < 16; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}
#else
float quill_peak_fma_f32(int64_t iterations) { (void)iterations; return 0; }
float quill_peak_dpbf16(int64_t iterations) { (void)iterations; return 0; }
#endif
