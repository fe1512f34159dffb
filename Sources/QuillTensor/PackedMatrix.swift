import CQuillKernels

/// A right-hand GEMM operand op(B), `K×N`, packed once into the microkernel's panel layout for reuse.
///
/// An LSTM multiplies the same weights at every time step with a small `M` (the batch): packing them once instead of
/// per call is what makes those shapes fast. A ``Precision/bfloat16`` packing holds op(B) rounded to bfloat16 in the
/// layout of `quill_gemm_bf16`; an ``Precision/int8`` one holds weights `W[N][K]` (op(B) = Wᵀ, `transposed`)
/// quantized per output for `quill_gemm_i8`. Immutable after `init`; use with `gemm(…, packedB:)`.
public final class PackedMatrix: @unchecked Sendable {  // immutable storage after init: safe to share
    /// `K`: rows of op(B).
    public let rows: Int
    /// `N`: columns of op(B).
    public let columns: Int
    /// The microkernel family the layout is for (float32 packings).
    public let kernel: GEMMKernel
    /// The element type of the packing: float32, or bfloat16 for the mixed-precision kernel.
    public let precision: Precision
    private let storage: UnsafeMutableRawPointer

    var floatStorage: UnsafeMutablePointer<Float> { storage.assumingMemoryBound(to: Float.self) }
    var bfloat16Storage: UnsafeMutablePointer<UInt16> { storage.assumingMemoryBound(to: UInt16.self) }
    /// The int8 packing's parts (an ``Precision/int8`` packing).
    var int8Weights: Int8Weights {
        let layout = Int8Weights.layout(k: rows, n: columns)
        return Int8Weights(packed: UnsafePointer(storage.assumingMemoryBound(to: Int8.self)),
                           scale: UnsafePointer((storage + layout.scale).assumingMemoryBound(to: Float.self)),
                           columnSums: UnsafePointer((storage + layout.sums).assumingMemoryBound(to: Int32.self)))
    }

    /// Packs op(B): B stored `K×N` (row stride `ldb ≥ N`), or `N×K` when `transposed` (`ldb ≥ K`).
    public convenience init(transposed: Bool = false, rows k: Int, columns n: Int, b: UnsafePointer<Float>,
                            ldb: Int, kernel: GEMMKernel = .best, precision: Precision = .float32,
                            pool: ThreadPool = .shared) {
        precondition(ldb >= max(1, transposed ? k : n), "ldb \(ldb) is smaller than the width of B")
        self.init(rows: k, columns: n, kernel: kernel, precision: precision)
        pack(transposed: transposed, b: b, ldb: ldb, pool: pool)
    }

    /// Packs a dense op(B) array: `K×N`, or `N×K` when `transposed`.
    public convenience init(transposed: Bool = false, rows k: Int, columns n: Int, b: [Float],
                            kernel: GEMMKernel = .best, precision: Precision = .float32, pool: ThreadPool = .shared) {
        precondition(b.count == k * n, "PackedMatrix array size does not match K×N")
        self.init(rows: k, columns: n, kernel: kernel, precision: precision)
        b.withUnsafeBufferPointer {
            pack(transposed: transposed, b: $0.baseAddress!, ldb: max(1, transposed ? k : n), pool: pool)
        }
    }

    private init(rows k: Int, columns n: Int, kernel: GEMMKernel, precision: Precision) {
        precondition(k >= 0 && n >= 0, "PackedMatrix dimensions must be non-negative")
        precondition(kernel.isSupported, "GEMM kernel \(kernel) is not supported on this CPU")
        rows = k; columns = n; self.kernel = kernel; self.precision = precision
        let bytes = switch precision {
        case .float32: 4 * Int(quill_gemm_packed_b_count(kernel.rawValue, Int64(k), Int64(n)))
        case .bfloat16: 2 * Int(quill_bf16_packed_count(Int64(k), Int64(n)))
        case .int8: Int8Weights.layout(k: k, n: n).bytes
        }
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
    }

    /// `existing` repacked from `b` when it has this shape, kernel and precision, else a new packing: a layer that
    /// repacks the same weights after every update reuses its storage instead of allocating (and faulting in) fresh
    /// pages. The caller must be the only user of `existing`.
    public static func packing(_ existing: PackedMatrix?, transposed: Bool = false, rows k: Int, columns n: Int,
                               b: UnsafePointer<Float>, ldb: Int, kernel: GEMMKernel = .best,
                               precision: Precision = .float32, pool: ThreadPool = .shared) -> PackedMatrix {
        guard let existing, existing.rows == k, existing.columns == n, existing.kernel == kernel,
              existing.precision == precision else {
            return PackedMatrix(transposed: transposed, rows: k, columns: n, b: b, ldb: ldb, kernel: kernel,
                                precision: precision, pool: pool)
        }
        precondition(ldb >= max(1, transposed ? k : n), "ldb \(ldb) is smaller than the width of B")
        existing.pack(transposed: transposed, b: b, ldb: ldb, pool: pool)
        return existing
    }

    private func pack(transposed: Bool, b: UnsafePointer<Float>, ldb: Int, pool: ThreadPool) {
        let (k, n) = (rows, columns)
        switch precision {
        case .bfloat16:
            return bfloat16Pack(transposed: transposed, k: k, n: n, b: b, ldb: ldb, into: bfloat16Storage, pool: pool)
        case .int8:
            precondition(transposed, "an int8 packing holds weights W[N][K] as op(B) = Wᵀ (transposed)")
            _ = Int8Weights.packing(k: k, n: n, w: b, ldw: ldb, into: storage, pool: pool)
            return
        case .float32:
            break
        }
        let (path, storage) = (kernel.rawValue, floatStorage)
        let panel = 128  // a multiple of every kernel's tile width
        pool.parallelFor((n + panel - 1) / panel) { item in
            quill_gemm_pack_b(path, transposed ? 1 : 0, Int64(k), Int64(n), b, Int64(ldb), storage,
                              Int64(item * panel), Int64(min(n, (item + 1) * panel)))
        }
    }

    /// Calls `body` with the bfloat16 panels of a ``Precision/bfloat16`` packing (for ``bfloat16Multiply``).
    public func withBFloat16Storage<R>(_ body: (UnsafePointer<UInt16>) throws -> R) rethrows -> R {
        precondition(precision == .bfloat16, "withBFloat16Storage on a float32 packing")
        return try withExtendedLifetime(self) { try body(bfloat16Storage) }
    }

    /// Calls `body` with the parts of an ``Precision/int8`` packing (for ``int8Multiply``).
    public func withInt8Weights<R>(_ body: (Int8Weights) throws -> R) rethrows -> R {
        precondition(precision == .int8, "withInt8Weights on a \(precision) packing")
        return try withExtendedLifetime(self) { try body(int8Weights) }
    }

    deinit { storage.deallocate() }
}
