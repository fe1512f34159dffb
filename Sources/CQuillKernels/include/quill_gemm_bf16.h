// bfloat16 GEMM for mixed-precision training and batch scoring (docs/kernels.md, docs/decoding.md): C = op(A)·op(B)
// with A and B rounded to bfloat16 (8-bit significand) and products summed in float32.
//
// Letters: `M` rows of C and A, `N` columns of C, `K` the reduction, `Kp = K` rounded up to even (pairs of k).
// bfloat16 values are `uint16_t`: the upper half of a float32, rounded to nearest even.
//
//   A: float32 rows converted once into bfloat16 rows `[M][lda]` (`lda` even, ≥ Kp; columns K..<lda zero), so that
//      a pair (k = 2p, 2p + 1) of one row is one 32-bit word.
//   B: op(B) `K×N` packed once into panels of QUILL_BF16_NR columns: panel `q` (columns 32q ..< 32q + 32) holds, for
//      each pair p, 32 columns × 2 bfloat16 (k = 2p then 2p + 1), zero-padded in k and n. Panel q starts at element
//      `q · Kp · QUILL_BF16_NR`. The layout is the same for every SIMD path.
//
// The AVX-512 path (AVX512_BF16, `vdpbf16ps`) multiplies MR = 8 rows × 32 columns per microkernel call, 16 zmm
// accumulators; the portable path (any CPU) sums the same exact products in float32 in plain C. Each element of C is
// one accumulator run over all of K in order, whatever the tile or call it falls in: splitting rows or columns over
// threads gives the same bits. The two paths agree to float32 rounding (they may differ in the order of the two
// products of a pair and in denormals, which `vdpbf16ps` flushes).
#ifndef QUILL_GEMM_BF16_H
#define QUILL_GEMM_BF16_H
#include <stdint.h>

enum { QUILL_BF16_NR = 32 };

/// 2 when this CPU runs the AVX512_BF16 path, else 0 (portable). `QUILL_BF16_PATH=0` in the environment forces the
/// portable path (read once).
int32_t quill_bf16_best_path(void);

/// bfloat16 of `x`, rounded to nearest even (NaN stays NaN).
uint16_t quill_bf16_from_float(float x);
/// The float32 value of a bfloat16 (exact).
float quill_bf16_to_float(uint16_t x);

/// Converts rows `[M][K]` of `a` (row stride `lda` floats) into bfloat16 rows `[M][ldd]` (`ldd` even, ≥ K rounded up
/// to even), zero-filling columns `K ..< ldd`.
void quill_bf16_convert_rows(const float *a, int64_t lda, int64_t m, int64_t k, uint16_t *dst, int64_t ldd);

/// A stored transposed, `[K][M]` (row stride `lda ≥ M`), as the *pair-major* operand of `quill_gemm_bf16_words`:
/// word `dst[p * ldw + i]` (`ldw ≥ M`) holds row i's pair (k = 2p, 2p + 1), the first in the low half (zero past K).
/// Both rows of a pair are read contiguously, so this is as fast as the row conversion: no transposition in memory.
void quill_bf16_convert_pairs(const float *a, int64_t lda, int64_t m, int64_t k, uint32_t *dst, int64_t ldw);

/// Elements (uint16) of a packed op(B) `K×N`: Kp × N rounded up to 32.
int64_t quill_bf16_packed_count(int64_t k, int64_t n);
/// Packs panels `[q0, q1)` of op(B): B stored `K×N` (`b[p * ldb + j]`), or `N×K` when `trans_b` (`b[j * ldb + p]`,
/// a weight matrix `[N][K]` as PyTorch stores it). `dst` is the whole packed array.
void quill_bf16_pack_b(int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb, uint16_t *dst,
                       int64_t q0, int64_t q1);

/// The calling thread's scratch of at least `count` bfloat16 elements, 64-byte aligned, reused across calls: slot 0
/// for converted A rows, 1 for a packed B (see `quill_gemm_scratch`).
uint16_t *quill_bf16_scratch(int32_t slot, int64_t count);

/// `C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k A[i][k]·B[k][j] + (bias ? bias[j] : 0)` for rows `i < m` and columns
/// `j0 ≤ j < j1` (`j0` a multiple of 32; `j1 ≤ n`). `a` bfloat16 rows `[m][lda]`, `packed` the whole packed op(B)
/// of `k × n`; `bias` is indexed by absolute column. The sum is rounded once, then C, then the bias are added.
void quill_gemm_bf16(int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda, const uint16_t *packed,
                     int64_t j0, int64_t j1, float *c, int64_t ldc, const float *bias, int32_t accumulate);
/// The same with the left operand as 32-bit words, each a pair (k = 2p, 2p + 1) of one row: word (row i, pair p) at
/// `a[i * a_row + p * a_pair]`. Rows as above are `a_row = lda / 2`, `a_pair = 1`; the pair-major operand of
/// `quill_bf16_convert_pairs` is `a_row = 1`, `a_pair = ldw`. `path` as below.
void quill_gemm_bf16_words(int32_t path, int64_t m, int64_t k, const uint32_t *a, int64_t a_row, int64_t a_pair,
                           const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc, const float *bias,
                           int32_t accumulate);
/// The same on a chosen path: 0 portable, 2 AVX512_BF16 (a path the CPU lacks runs the portable one).
void quill_gemm_bf16_on_path(int32_t path, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                             const uint16_t *packed, int64_t j0, int64_t j1, float *c, int64_t ldc,
                             const float *bias, int32_t accumulate);

#endif
