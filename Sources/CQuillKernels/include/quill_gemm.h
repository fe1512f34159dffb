// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major Float32 (see docs/kernels.md, section "GEMM").
//
// Dimension letters: `M` rows of C and op(A), `N` columns of C and op(B), `K` the reduction. op(A) is `M×K`
// (A stored `M×K`, or `K×M` when transposed); op(B) is `K×N` (B stored `K×N`, or `N×K` when transposed).
//
// The driver is split so that Swift's thread pool runs it: `quill_gemm_plan_init` fixes the blocking from the shape
// alone, then `pack_items` packing items and `compute_items` compute items may run in any order on any threads
// (packing items before compute items). Each compute item owns a disjoint block of C and sums K in the same order
// (KC blocks in order, k in order inside the microkernel), so C is bit-identical for every thread count.
#ifndef QUILL_GEMM_H
#define QUILL_GEMM_H
#include <stdint.h>
#include <stddef.h>

/// Microkernel tile of a path (0 portable, 1 AVX2+FMA, 2 AVX-512, 3 NEON): `mr` rows × `nr` columns of C.
/// Returns 0 if the path is not compiled into this binary or not supported by this CPU.
int32_t quill_gemm_path_supported(int32_t path);
int32_t quill_gemm_mr(int32_t path);
int32_t quill_gemm_nr(int32_t path);

/// Number of floats of a packed op(B) (`K×N`) for `path`: K × N rounded up to the tile width.
int64_t quill_gemm_packed_b_count(int32_t path, int64_t k, int64_t n);
/// Packs op(B) columns `[n0, n1)` (multiples of the tile width, except `n1 = n`) into `dst` in the packed layout.
void quill_gemm_pack_b(int32_t path, int32_t trans_b, int64_t k, int64_t n, const float *b, int64_t ldb,
                       float *dst, int64_t n0, int64_t n1);

typedef struct quill_gemm_plan {
    int32_t path, mr, nr, trans_a, trans_b;
    int64_t m, n, k;
    float alpha, beta;
    const float *a; int64_t lda;
    const float *b; int64_t ldb;        // unused when B is pre-packed
    float *c; int64_t ldc;
    float *packed_a;                     // scratch of `packed_a_count` floats (set by the caller)
    float *packed_b;                     // scratch of `packed_b_count` floats, or the pre-packed B
    int32_t b_is_packed;
    int32_t pack_b_per_item;             // B is packed by each compute item (one row block): no B pack items
    int32_t a_direct;                    // op(A) is read in place (not transposed): its pack items do nothing
    const float *bias;                   // `[n]` added to every row of C after the product (NULL: none); set by
                                         // the caller after plan_init
    int64_t kc;                          // K block length (the last block may be shorter)
    int64_t mc, nc;                      // a compute item covers `mc` rows × `nc` columns of C
    int64_t items_m, items_n;            // compute items: items_m × items_n; pack items: items_m + items_n (or
    int64_t pack_items, compute_items;   // items_m alone when B is pre-packed)
    int64_t packed_a_count, packed_b_count;
} quill_gemm_plan;

/// Fixes the blocking of one GEMM (from the shape only). Requires m, n, k > 0.
void quill_gemm_plan_init(quill_gemm_plan *plan, int32_t path, int32_t trans_a, int32_t trans_b,
                          int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void quill_gemm_pack_item(const quill_gemm_plan *plan, int64_t item);
void quill_gemm_compute_item(const quill_gemm_plan *plan, int64_t item);

/// C = beta * C over `M×N` (beta = 0 writes zeros without reading C): the whole GEMM when K = 0 or alpha = 0.
void quill_gemm_scale(int64_t m, int64_t n, float beta, float *c, int64_t ldc);

/// A 64-byte-aligned scratch buffer of at least `count` floats, owned by the calling thread and reused across
/// calls (grown, never shrunk, until `quill_gemm_scratch_release`). `slot` in `0 ..< QUILL_GEMM_SCRATCH_SLOTS`:
/// independent buffers (0 packed A, 1 packed B, 2 a compute item's B block; 3 and 4 the bfloat16 or int8 GEMM's A
/// rows and packed B, see `quill_bf16_scratch`; 5 and 6 the int8 GEMM's row scales and its B's scales and sums).
enum { QUILL_GEMM_SCRATCH_SLOTS = 7 };
float *quill_gemm_scratch(int32_t slot, int64_t count);
void quill_gemm_scratch_release(void);

// MARK: - Thread pool (the engine of ThreadPool.swift)

/// A persistent pool of `workers` threads parked on a condition variable between jobs. The caller of
/// `quill_pool_run` works too, so a pool for T threads has T − 1 workers.
typedef struct quill_pool quill_pool;
quill_pool *quill_pool_create(int32_t workers);
void quill_pool_destroy(quill_pool *pool);
/// Runs `body(context, i)` once for every i in `[0, count)` and returns when all have finished. Items are claimed
/// dynamically. If the pool is already running a job (a nested call from inside a body, or a concurrent caller),
/// the items run serially on the calling thread.
void quill_pool_run(quill_pool *pool, int64_t count, void (*body)(void *context, int64_t i), void *context);

#endif
