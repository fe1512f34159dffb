// Quill's compute kernels in C (see docs/kernels.md). Umbrella header: each kernel family has its own header.
#ifndef QUILL_KERNELS_H
#define QUILL_KERNELS_H
#include <stdint.h>
#include <stddef.h>

/// The SIMD path chosen at run time: 0 portable, 1 AVX2+FMA, 2 AVX-512, 3 NEON.
int32_t quill_cpu_path(void);

/// Peak-rate loops for `quill-bench peak` (x86-64 with AVX-512; 0 elsewhere): `iterations` rounds of 16 independent
/// `vfmadd231ps zmm` (512 flops a round), `vdpbf16ps zmm` (1024 flops a round; needs AVX512_BF16) or `vpdpbusd zmm`
/// (2048 int8 ops a round; needs AVX512_VNNI). The caller checks the CPU has the instruction.
float quill_peak_fma_f32(int64_t iterations);
float quill_peak_dpbf16(int64_t iterations);
float quill_peak_dpbusd(int64_t iterations);

#endif

// GEMM (packed, cache-blocked, register-tiled; runtime-dispatched microkernels) and the thread pool under it.
#include "quill_gemm.h"

// Element-wise kernel families (activations, LSTM/GRU cells, softmax + cross-entropy, optimizers).
#include "quill_elementwise.h"
#include "quill_lstm.h"
#include "quill_gru.h"
#include "quill_softmax.h"
#include "quill_optim.h"
#include "quill_elementwise_paths.h"

// Inference: GEMV over float32 / int8 weights, log-softmax, log-softmax-gather (QuillDecode).
#include "quill_gemv.h"
// Inference: bfloat16 GEMM (batch scoring in reduced precision).
#include "quill_gemm_bf16.h"
#include "quill_gemm_i8.h"
// Checksums: CRC32C of the store's tensors and vocabularies (QuillStore).
#include "quill_crc32c.h"
