// int8 GEMM for inference (batch scoring, docs/decoding.md): C = op(A)·Wᵀ with A quantized per row and W per output,
// products summed exactly in int32 (`vpdpbusd`, AVX512_VNNI: 64 multiply-adds per instruction, 4× float32's).
//
// Letters: `M` rows of A and C, `N` outputs (columns of C, rows of the weights `W[N][K]` as PyTorch stores them), `K`
// the reduction, `Kq = K` rounded up to a multiple of 4 (quads of k).
//
//   A: each row i scaled by `sa[i] = max_k |a[i][k]| / 127` (1 for a zero row), rounded to nearest in [−127, 127]
//      and shifted by 128 into uint8 `[M][lda]` (`lda` a multiple of 4, ≥ Kq; bytes K..<lda are 128, i.e. 0), so a
//      quad (k = 4q … 4q + 3) of one row is one 32-bit word.
//   W: each output j scaled by `sb[j] = max_k |W[j][k]| / 127` and rounded into int8, packed into panels of 32 outputs:
//      panel p, quad q holds 32 outputs × 4 int8 (k = 4q … 4q + 3), zero-padded in k and j; `colsum[j] = Σ_k Q[j][k]`.
//
//   C[i][j] = (accumulate ? C[i][j] : 0) + ((float)(Σ_k (qa + 128)·qw − 128·colsum[j]) · sb[j]) · sa[i] + bias[j]
//
// evaluated in that order on every path: the integer sum is exact, so the AVX512_VNNI kernel and the portable one give
// the same bits, and so does any split of rows or columns over threads.
#ifndef QUILL_GEMM_I8_H
#define QUILL_GEMM_I8_H
#include <stdint.h>

enum { QUILL_I8_NR = 32 };

/// 2 when this CPU runs the AVX512_VNNI path, else 0 (portable). `QUILL_I8_PATH=0` forces the portable path.
int32_t quill_i8_best_path(void);

/// Quantizes rows `[M][K]` of `a` (row stride `lda`) into uint8 rows `[M][ldd]` and their scales (see above).
void quill_i8_quantize_rows(const float *a, int64_t lda, int64_t m, int64_t k, uint8_t *dst, int64_t ldd,
                            float *scale);

/// Bytes of a packed `W[N][K]`: Kq × N rounded up to 32.
int64_t quill_i8_packed_count(int64_t k, int64_t n);
/// Quantizes and packs panels `[p0, p1)` of `W[N][K]` (row stride `ldw`): `dst` the whole packed array, `scale` and
/// `colsum` `[N rounded up to 32]` (padded outputs get 0).
void quill_i8_pack_weights(int64_t k, int64_t n, const float *w, int64_t ldw, int8_t *dst, float *scale,
                           int32_t *colsum, int64_t p0, int64_t p1);

/// C for rows `i < m` and outputs `j0 ≤ j < j1` (`j0` a multiple of 32), `a` uint8 rows `[m][lda]` with scales `sa`;
/// `bias` indexed by absolute output, or NULL. `path`: −1 the best of this CPU, 0 portable, 2 AVX512_VNNI. `k` must
/// be below 65,536 (the int32 sums cannot overflow).
void quill_gemm_i8(int32_t path, int64_t m, int64_t k, const uint8_t *a, int64_t lda, const float *sa,
                   const int8_t *packed, const float *sb, const int32_t *colsum, int64_t j0, int64_t j1, float *c,
                   int64_t ldc, const float *bias, int32_t accumulate);

#endif
