import CQuillKernels

/// The arithmetic of a layer's matrix products.
///
/// Everything else (parameters, optimizer state, activations, gradients, every other sum) stays float32:
/// ``bfloat16`` rounds only the two operands of each GEMM to bfloat16 (8 significant bits), and their products,
/// exact in float32, are summed in float32 — mixed precision as on TPUs and in `torch.autocast`. On a CPU with
/// AVX512_BF16 (`vdpbf16ps`) a product then costs about half as much (docs/performance.md). ``int8`` is for inference
/// only (forward products by weights, `x·Wᵀ`): see `include/quill_gemm_i8.h`.
public enum Precision: String, Codable, Sendable, CaseIterable {
    /// float32 operands (the reference).
    case float32
    /// bfloat16 operands, float32 products and sums: training and inference.
    case bfloat16
    /// Inference only: weights quantized to int8 per output, activations per row at each product, exact int32 sums
    /// (`vpdpbusd`, AVX512_VNNI), rescaled to float32.
    case int8

    /// Whether a model can train in this precision (every product of backward included).
    public var trains: Bool { self != .int8 }
}

/// A left-hand GEMM operand op(A) `M×K` rounded to bfloat16, as 32-bit words that each hold a pair (k = 2p, 2p + 1)
/// of one row (the first in the low half): word (row i, pair p) at `words[i · rowStride + p · pairStride]`.
///
/// Rows (`pairStride` 1) come from A stored `M×K`; the pair-major layout (`rowStride` 1) from A stored `K×M`, which
/// it reads without a transposition in memory (`quill_bf16_convert_pairs`).
public struct BFloat16Operand {
    public var words: UnsafePointer<UInt32>
    public var rowStride: Int, pairStride: Int

    public init(words: UnsafePointer<UInt32>, rowStride: Int, pairStride: Int) {
        self.words = words
        self.rowStride = rowStride
        self.pairStride = pairStride
    }

    /// Words needed for op(A) `M×K` in either layout.
    public static func wordCount(m: Int, k: Int) -> Int { m * ((k + 1) / 2) }

    /// Rounds op(A) `M×K` (A stored `M×K`, or `K×M` when `transposed`) into `storage`
    /// (``wordCount(m:k:)`` words), in blocks over the pool: rows, or pair-major when transposed.
    public static func converting(transposed: Bool = false, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                  into storage: UnsafeMutablePointer<UInt32>, pool: ThreadPool) -> BFloat16Operand {
        let pairs = (k + 1) / 2, serial = m * k < serialMultiplyAdds
        if transposed {
            let block = 16, items = (pairs + block - 1) / block
            let convert = { (item: Int) in
                let p0 = item * block, kPart = min(k - 2 * p0, 2 * block)
                quill_bf16_convert_pairs(a + 2 * p0 * lda, Int64(lda), Int64(m), Int64(kPart), storage + p0 * m,
                                         Int64(m))
            }
            if serial { for i in 0..<items { convert(i) } } else { pool.parallelFor(items, convert) }
            return BFloat16Operand(words: storage, rowStride: 1, pairStride: m)
        }
        let rows = UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UInt16.self)
        let block = 64, items = (m + block - 1) / block
        let convert = { (item: Int) in
            let r0 = item * block
            quill_bf16_convert_rows(a + r0 * lda, Int64(lda), Int64(min(block, m - r0)), Int64(k),
                                    rows + r0 * 2 * pairs, Int64(2 * pairs))
        }
        if serial { for i in 0..<items { convert(i) } } else { pool.parallelFor(items, convert) }
        return BFloat16Operand(words: storage, rowStride: pairs, pairStride: 1)
    }
}

/// `c = (accumulate ? c : 0) + a·op(B) (+ bias)` for a bfloat16 operand `a` (`M×K`) and a packed op(B) `K×N`
/// (`include/quill_gemm_bf16.h`), in items of up to 128 rows × 128 columns over the pool.
///
/// Every element of C is one kernel accumulator over all of `k` in order, whichever item computes it: the same bits
/// for any thread count. `path`: −1 the best of this CPU, 0 the portable kernel (tests).
public func bfloat16Multiply(m: Int, n: Int, k: Int, a: BFloat16Operand, packed: UnsafePointer<UInt16>,
                             c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, accumulate: Bool,
                             pool: ThreadPool, path: Int32 = -1) {
    guard m > 0, n > 0 else { return }
    let rowBlock = 128, columnBlock = 128
    let columnItems = (n + columnBlock - 1) / columnBlock, rowItems = (m + rowBlock - 1) / rowBlock
    let item = { (item: Int) in
        let r0 = item / columnItems * rowBlock, j0 = item % columnItems * columnBlock
        quill_gemm_bf16_words(path, Int64(min(rowBlock, m - r0)), Int64(k), a.words + r0 * a.rowStride,
                              Int64(a.rowStride), Int64(a.pairStride), packed, Int64(j0),
                              Int64(min(n, j0 + columnBlock)), c + r0 * ldc, Int64(ldc), bias, accumulate ? 1 : 0)
    }
    if m * n * k < serialMultiplyAdds {
        for i in 0..<(rowItems * columnItems) { item(i) }
    } else {
        pool.parallelFor(rowItems * columnItems, item)
    }
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
