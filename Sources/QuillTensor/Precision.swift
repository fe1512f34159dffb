import CQuillKernels

/// The arithmetic of a layer's matrix products.
///
/// Everything else (parameters, optimizer state, activations, gradients, every sum) stays float32 in both:
/// ``bfloat16`` rounds only the two operands of each GEMM to bfloat16 (8 significant bits), and their products,
/// exact in float32, are summed in float32 — mixed precision as on TPUs and in `torch.autocast`. On a CPU with
/// AVX512_BF16 (`vdpbf16ps`) a product then costs about half as much (docs/performance.md).
public enum Precision: String, Codable, Sendable, CaseIterable {
    /// float32 operands (the reference).
    case float32
    /// bfloat16 operands, float32 products and sums.
    case bfloat16
}

/// `c = (accumulate ? c : 0) + a·op(B) (+ bias)` for bfloat16 rows `a` `[m][lda]` and a packed op(B) `k×n`
/// (`include/quill_gemm_bf16.h`), in items of up to 128 rows × 128 columns over the pool.
///
/// Every element of C is one kernel accumulator over all of `k` in order, whichever item computes it: the same bits
/// for any thread count. `path`: −1 the best of this CPU, 0 the portable kernel (tests).
public func bfloat16Multiply(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, lda: Int,
                             packed: UnsafePointer<UInt16>, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>?, accumulate: Bool, pool: ThreadPool, path: Int32 = -1) {
    guard m > 0, n > 0 else { return }
    let rowBlock = 128, columnBlock = 128
    let columnItems = (n + columnBlock - 1) / columnBlock, rowItems = (m + rowBlock - 1) / rowBlock
    let item = { (item: Int) in
        let r0 = item / columnItems * rowBlock, j0 = item % columnItems * columnBlock
        quill_gemm_bf16_on_path(path, Int64(min(rowBlock, m - r0)), Int64(n), Int64(k), a + r0 * lda, Int64(lda),
                                packed, Int64(j0), Int64(min(n, j0 + columnBlock)), c + r0 * ldc, Int64(ldc), bias,
                                accumulate ? 1 : 0)
    }
    if m * n * k < serialMultiplyAdds {
        for i in 0..<(rowItems * columnItems) { item(i) }
    } else {
        pool.parallelFor(rowItems * columnItems, item)
    }
}

/// Rounds op(A) `M×K` (A stored `M×K`, or `K×M` when `transposed`) into bfloat16 rows `[M][ldd]` (`ldd` even,
/// ≥ `K`, zero-filled past `K`), in blocks of rows over the pool.
public func bfloat16Rows(transposed: Bool = false, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         into dst: UnsafeMutablePointer<UInt16>, ldd: Int, pool: ThreadPool) {
    let block = 64, items = (m + block - 1) / block
    let convert = { (item: Int) in
        let r0 = item * block, rows = Int64(min(block, m - r0))
        if transposed {
            quill_bf16_convert_rows_transposed(a + r0, Int64(lda), rows, Int64(k), dst + r0 * ldd, Int64(ldd))
        } else {
            quill_bf16_convert_rows(a + r0 * lda, Int64(lda), rows, Int64(k), dst + r0 * ldd, Int64(ldd))
        }
    }
    if m * k < serialMultiplyAdds { for i in 0..<items { convert(i) } } else { pool.parallelFor(items, convert) }
}

/// Packs op(B) `K×N` (B stored `K×N`, or `N×K` when `transposed`) into the bfloat16 panel layout at `dst`
/// (`quill_bf16_packed_count(K, N)` elements), panels spread over the pool.
public func bfloat16Pack(transposed: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
                         into dst: UnsafeMutablePointer<UInt16>, pool: ThreadPool) {
    let nr = Int(QUILL_BF16_NR), panels = (n + nr - 1) / nr, perItem = 4
    let items = (panels + perItem - 1) / perItem
    let pack = { (item: Int) in
        quill_bf16_pack_b(transposed ? 1 : 0, Int64(k), Int64(n), b, Int64(ldb), dst, Int64(item * perItem),
                          Int64(min(panels, (item + 1) * perItem)))
    }
    if k * n < serialMultiplyAdds { for i in 0..<items { pack(i) } } else { pool.parallelFor(items, pack) }
}
