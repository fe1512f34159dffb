import CQuillKernels

/// Weights `W[N][K]` quantized to int8 per output and packed for `quill_gemm_i8` (`include/quill_gemm_i8.h`): the
/// panels, and per output its scale and the sum of its int8 values (the kernel's correction for the activations'
/// +128 shift).
public struct Int8Weights {
    public var packed: UnsafePointer<Int8>
    public var scale: UnsafePointer<Float>
    public var columnSums: UnsafePointer<Int32>

    /// Bytes of the packing of `W[n][k]` and of its scales and sums: where each part starts in one allocation.
    static func layout(k: Int, n: Int) -> (scale: Int, sums: Int, bytes: Int) {
        let packedBytes = (Int(quill_i8_packed_count(Int64(k), Int64(n))) + 63) / 64 * 64
        let outputs = (n + 31) / 32 * 32
        return (packedBytes, packedBytes + 4 * outputs, packedBytes + 8 * outputs)
    }

    /// Quantizes and packs `W[n][k]` (row stride `ldw`) into `storage` (``layout(k:n:)``'s bytes), panels over the
    /// pool.
    static func packing(k: Int, n: Int, w: UnsafePointer<Float>, ldw: Int, into storage: UnsafeMutableRawPointer,
                        pool: ThreadPool) -> Int8Weights {
        let layout = layout(k: k, n: n)
        let packed = storage.assumingMemoryBound(to: Int8.self)
        let scale = (storage + layout.scale).assumingMemoryBound(to: Float.self)
        let sums = (storage + layout.sums).assumingMemoryBound(to: Int32.self)
        let panels = (n + 31) / 32, perItem = 4, items = (panels + perItem - 1) / perItem
        let pack = { (item: Int) in
            quill_i8_pack_weights(Int64(k), Int64(n), w, Int64(ldw), packed, scale, sums, Int64(item * perItem),
                                  Int64(min(panels, (item + 1) * perItem)))
        }
        if k * n < serialMultiplyAdds { for i in 0..<items { pack(i) } } else { pool.parallelFor(items, pack) }
        return Int8Weights(packed: packed, scale: scale, columnSums: sums)
    }
}

/// `c = (accumulate ? c : 0) + a·Wᵀ (+ bias)` in int8: the rows of `a` `[m][k]` (row stride `lda`) quantized per row
/// into the calling thread's scratch, then ``int8Multiply(m:n:k:rows:ldd:scales:weights:c:ldc:bias:accumulate:pool:path:)``.
public func int8Multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, weights: Int8Weights,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, accumulate: Bool,
                         pool: ThreadPool, path: Int32 = -1) {
    guard m > 0, n > 0 else { return }
    let ldd = (k + 3) / 4 * 4
    let rows = UnsafeMutableRawPointer(quill_gemm_scratch(3, Int64(m * ldd / 4 + 1))!)
        .assumingMemoryBound(to: UInt8.self)
    let scales = quill_gemm_scratch(5, Int64(m))!
    int8Quantize(m: m, k: k, a: a, lda: lda, into: rows, ldd: ldd, scales: scales, pool: pool)
    int8Multiply(m: m, n: n, k: k, rows: rows, ldd: ldd, scales: scales, weights: weights, c: c, ldc: ldc, bias: bias,
                 accumulate: accumulate, pool: pool, path: path)
}

/// Quantizes rows `[m][k]` of `a` into uint8 rows `[m][ldd]` (`ldd` a multiple of 4, ≥ k) and their scales, in
/// blocks of rows over the pool (`quill_i8_quantize_rows`).
public func int8Quantize(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, into rows: UnsafeMutablePointer<UInt8>,
                         ldd: Int, scales: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let block = 64, items = (m + block - 1) / block
    let quantize = { (item: Int) in
        let r0 = item * block
        quill_i8_quantize_rows(a + r0 * lda, Int64(lda), Int64(min(block, m - r0)), Int64(k), rows + r0 * ldd,
                               Int64(ldd), scales + r0)
    }
    if m * k < serialMultiplyAdds { for i in 0..<items { quantize(i) } } else { pool.parallelFor(items, quantize) }
}

/// The product of quantized rows (`int8Quantize`) by int8 weights: the kernel in items of up to 128 rows × 128
/// outputs over the pool. The integer sums are exact and the rescaling is the same on every path, so every thread
/// count and both kernels give the same bits. `path`: −1 the best of this CPU, 0 the portable kernel (tests).
public func int8Multiply(m: Int, n: Int, k: Int, rows: UnsafePointer<UInt8>, ldd: Int, scales: UnsafePointer<Float>,
                         weights: Int8Weights, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                         accumulate: Bool, pool: ThreadPool, path: Int32 = -1) {
    guard m > 0, n > 0 else { return }
    precondition(k < 65_536, "an int8 product sums at most 65,535 terms (K \(k))")
    let rowBlock = 128, columnBlock = 128
    let columnItems = (n + columnBlock - 1) / columnBlock, rowItems = (m + rowBlock - 1) / rowBlock
    let item = { (item: Int) in
        let r0 = item / columnItems * rowBlock, j0 = item % columnItems * columnBlock
        quill_gemm_i8(path, Int64(min(rowBlock, m - r0)), Int64(k), rows + r0 * ldd, Int64(ldd), scales + r0,
                      weights.packed, weights.scale, weights.columnSums, Int64(j0), Int64(min(n, j0 + columnBlock)),
                      c + r0 * ldc, Int64(ldc), bias, accumulate ? 1 : 0)
    }
    if m * n * k < serialMultiplyAdds {
        for i in 0..<(rowItems * columnItems) { item(i) }
    } else {
        pool.parallelFor(rowItems * columnItems, item)
    }
}
