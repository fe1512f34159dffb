/// A left-hand operand `A` `[M][K]` prepared once for several products by packings of one ``Precision``: a scorer's
/// decoder multiplies the same rows by every block of the vocabulary, and rounding (bfloat16) or quantizing (int8)
/// them once per block would cost as much as the products. float32 keeps the pointer; bfloat16 holds the rounded rows;
/// int8 the quantized rows and their scales. The storage grows and is reused; the owner prepares between products.
public final class PreparedRows: @unchecked Sendable {  // written by `prepare`, read by products that follow it
    public let precision: Precision
    public private(set) var m = 0, k = 0
    private var source: UnsafePointer<Float>?, lda = 0
    private var storage = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), capacity = 64
    private var scales = UnsafeMutablePointer<Float>.allocate(capacity: 1), scaleCapacity = 1

    public init(precision: Precision) { self.precision = precision }

    deinit {
        storage.deallocate()
        scales.deallocate()
    }

    /// Prepares `a` `[m][k]` (row stride `lda`); for float32 `a` must stay valid while products read it.
    public func prepare(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, pool: ThreadPool) {
        self.m = m
        self.k = k
        switch precision {
        case .float32:
            source = a
            self.lda = lda
        case .bfloat16:
            let words = reserve(bytes: 4 * BFloat16Operand.wordCount(m: m, k: k)).assumingMemoryBound(to: UInt32.self)
            _ = BFloat16Operand.converting(m: m, k: k, a: a, lda: lda, into: words, pool: pool)
        case .int8:
            let ldd = (k + 3) / 4 * 4
            let rows = reserve(bytes: m * ldd).assumingMemoryBound(to: UInt8.self)
            if scaleCapacity < m {
                scales.deallocate()
                scales = .allocate(capacity: m)
                scaleCapacity = m
            }
            int8Quantize(m: m, k: k, a: a, lda: lda, into: rows, ldd: ldd, scales: scales, pool: pool)
        }
    }

    private func reserve(bytes: Int) -> UnsafeMutableRawPointer {
        if capacity < bytes {
            storage.deallocate()
            storage = .allocate(byteCount: bytes, alignment: 64)
            capacity = bytes
        }
        return storage
    }

    /// `c = (accumulate ? c : 0) + A[rows]·op(B) (+ bias)` for prepared rows `rows` by a packing of this precision
    /// (the same result as `gemm(m:a:lda:packedB:…)` on those rows).
    public func multiply(rows: Range<Int>, packedB: PackedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int,
                         bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, pool: ThreadPool) {
        precondition(packedB.precision == precision, "prepared \(precision) rows times a \(packedB.precision) packing")
        precondition(packedB.rows == k && rows.upperBound <= m, "prepared rows do not match the product's shape")
        let r0 = rows.lowerBound, count = rows.count, n = packedB.columns
        switch precision {
        case .float32:
            gemm(m: count, a: source! + r0 * lda, lda: lda, packedB: packedB, beta: accumulate ? 1 : 0, c: c, ldc: ldc,
                 bias: bias, pool: pool)
        case .bfloat16:
            let pairs = (k + 1) / 2, words = UnsafePointer(storage.assumingMemoryBound(to: UInt32.self))
            packedB.withBFloat16Storage { packed in
                bfloat16Multiply(m: count, n: n, k: k,
                                 a: BFloat16Operand(words: words + r0 * pairs, rowStride: pairs, pairStride: 1),
                                 packed: packed, c: c, ldc: ldc, bias: bias, accumulate: accumulate, pool: pool)
            }
        case .int8:
            let ldd = (k + 3) / 4 * 4, bytes = UnsafePointer(storage.assumingMemoryBound(to: UInt8.self))
            packedB.withInt8Weights { weights in
                int8Multiply(m: count, n: n, k: k, rows: bytes + r0 * ldd, ldd: ldd, scales: scales + r0,
                             weights: weights, c: c, ldc: ldc, bias: bias, accumulate: accumulate, pool: pool)
            }
        }
    }
}
