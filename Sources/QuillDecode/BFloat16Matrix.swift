import CQuillKernels
import QuillTensor

/// A weight matrix `[N][K]` (as PyTorch stores a layer: `N` outputs of `K` inputs) rounded to bfloat16 and packed once
/// for `quill_gemm_bf16` as the right-hand operand `Wᵀ` (`K×N`); see `include/quill_gemm_bf16.h` for the layout.
/// Immutable after `init`: safe to share between threads.
public final class BFloat16Matrix: @unchecked Sendable {
    /// `N`: outputs (columns of the product).
    public let outputs: Int
    /// `K`: inputs (the reduction).
    public let inputs: Int
    let storage: UnsafeMutablePointer<UInt16>

    /// Packs `weights` `[N][K]` with row stride `ld ≥ K`, panels spread over `pool`.
    public init(weights: UnsafePointer<Float>, outputs n: Int, inputs k: Int, ld: Int, pool: ThreadPool = .shared) {
        precondition(n >= 0 && k >= 0 && ld >= k, "BFloat16Matrix: bad shape \(n)×\(k), ld \(ld)")
        outputs = n
        inputs = k
        let count = max(1, Int(quill_bf16_packed_count(Int64(k), Int64(n))))
        storage = UnsafeMutableRawPointer.allocate(byteCount: count * 2, alignment: 64)
            .bindMemory(to: UInt16.self, capacity: count)
        bfloat16Pack(transposed: true, k: k, n: n, b: weights, ldb: ld, into: storage, pool: pool)
    }

    deinit { storage.deallocate() }

    /// Row stride (in bfloat16 elements) of left-hand rows for this matrix: `K` rounded up to even.
    public var rowStride: Int { (inputs + 1) / 2 * 2 }

    /// `c[i][j] = (accumulate ? c[i][j] : 0) + Σ_k a[i][k]·W[j][k] + bias[j]` for rows `i < m` and output columns
    /// `j` in `columns` (its lower bound a multiple of 32). `a`: bfloat16 rows `[m][lda]` (``BFloat16Rows``).
    /// `path`: −1 the best of this CPU, 0 portable (tests).
    @inline(__always)
    public func multiply(rows m: Int, a: UnsafePointer<UInt16>, lda: Int, columns: Range<Int>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                         accumulate: Bool = false, path: Int32 = -1) {
        quill_gemm_bf16_on_path(path, Int64(m), Int64(outputs), Int64(inputs), a, Int64(lda), storage,
                                Int64(columns.lowerBound), Int64(columns.upperBound), c, Int64(ldc), bias,
                                accumulate ? 1 : 0)
    }

    /// `c = a·Wᵀ (+ c) (+ bias)` over `rows` bfloat16 rows, over the pool (``bfloat16Multiply``: the same bits for
    /// any thread count).
    public func multiply(rows m: Int, a: UnsafePointer<UInt16>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         bias: UnsafePointer<Float>?, accumulate: Bool, pool: ThreadPool, path: Int32 = -1) {
        bfloat16Multiply(m: m, n: outputs, k: inputs, a: BFloat16Operand(rows: a, lda: lda), packed: storage, c: c,
                         ldc: ldc, bias: bias, accumulate: accumulate, pool: pool, path: path)
    }
}

/// A growable, 64-byte aligned buffer of bfloat16 rows (`UInt16`), for the left-hand operand of ``BFloat16Matrix``.
public final class BFloat16Rows: @unchecked Sendable {  // owned by one scorer; written between parallel loops
    public private(set) var base: UnsafeMutablePointer<UInt16>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(1, capacity)
        base = Self.allocate(self.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `count` elements (contents are not kept when it grows).
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        base.deallocate()
        capacity = count
        base = Self.allocate(count)
    }

    /// Rounds rows `[m][k]` of `a` (row stride `lda`) into `[m][ldd]` starting at row `row0` of this buffer.
    public func convert(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, columns k: Int, ldd: Int, row0: Int = 0) {
        quill_bf16_convert_rows(a, Int64(lda), Int64(m), Int64(k), base + row0 * ldd, Int64(ldd))
    }

    /// Makes room for and rounds rows `[m][k]` of `a` (row stride `lda`) into `[m][ldd]`, over the pool.
    public func convert(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, columns k: Int, ldd: Int, pool: ThreadPool) {
        reserve(m * ldd)
        let block = 256
        pool.parallelFor((m + block - 1) / block) { item in
            let r0 = item * block
            convert(a + r0 * lda, lda: lda, rows: min(block, m - r0), columns: k, ldd: ldd, row0: r0)
        }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        UnsafeMutableRawPointer.allocate(byteCount: count * 2, alignment: 64).bindMemory(to: UInt16.self,
                                                                                       capacity: count)
    }
}
