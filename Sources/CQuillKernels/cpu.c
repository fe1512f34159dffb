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

/// The body of each loop: 16 independent chains of `step` (enough to cover the latency on both pipes), `iterations`
/// rounds, then a sum that depends on every chain, so none is optimised away.
#define PEAK_LOOP(accumulator, start, step, add, reduce) \
    accumulator acc[16]; \
    for (int i = 0; i < 16; i++) acc[i] = start(i); \
    for (int64_t n = 0; n < iterations; n++) \
        for (int i = 0; i < 16; i++) acc[i] = step; \
    accumulator sum = acc[0]; \
    for (int i = 1; i < 16; i++) sum = add(sum, acc[i]); \
    return (float)reduce(sum);

#define START_PS(i) _mm512_set1_ps((float)(i))
#define START_EPI32(i) _mm512_set1_epi32(i)

__attribute__((target("avx512f"), noinline)) float quill_peak_fma_f32(int64_t iterations) {
    const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-7f);
    PEAK_LOOP(__m512, START_PS, _mm512_fmadd_ps(acc[i], x, y), _mm512_add_ps, _mm512_reduce_add_ps)
}

__attribute__((target("avx512f,avx512bf16"), noinline)) float quill_peak_dpbf16(int64_t iterations) {
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80), y = (__m512bh)_mm512_set1_epi32(0x33D633D6);
    PEAK_LOOP(__m512, START_PS, _mm512_dpbf16_ps(acc[i], x, y), _mm512_add_ps, _mm512_reduce_add_ps)
}

__attribute__((target("avx512f,avx512vnni"), noinline)) float quill_peak_dpbusd(int64_t iterations) {
    const __m512i x = _mm512_set1_epi32(0x01010101), y = _mm512_set1_epi32(0x01FF01FF);
    PEAK_LOOP(__m512i, START_EPI32, _mm512_dpbusd_epi32(acc[i], x, y), _mm512_add_epi32, _mm512_reduce_add_epi32)
}
#else
float quill_peak_fma_f32(int64_t iterations) { (void)iterations; return 0; }
float quill_peak_dpbf16(int64_t iterations) { (void)iterations; return 0; }
float quill_peak_dpbusd(int64_t iterations) { (void)iterations; return 0; }
#endif
