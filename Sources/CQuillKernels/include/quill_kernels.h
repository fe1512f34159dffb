// Quill's compute kernels in C (see docs/kernels.md). Umbrella header: each kernel family has its own header.
#ifndef QUILL_KERNELS_H
#define QUILL_KERNELS_H
#include <stdint.h>
#include <stddef.h>

/// The SIMD path chosen at run time: 0 portable, 1 AVX2+FMA, 2 AVX-512, 3 NEON.
int32_t quill_cpu_path(void);

#endif
