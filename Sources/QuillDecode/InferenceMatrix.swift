import CQuillKernels
import Foundation
import QuillTensor

/// A weight matrix `[R][K]` held for inference: float32, or int8 with a float scale per row (symmetric,
/// `scale = max|w| / 127`), each row padded with zeros to `stride` columns (a multiple of 16, so rows start 64-byte
/// aligned in float32).
///
/// ``multiply(_:ldx:vectors:columnOffset:columns:bias:into:ldy:pool:)`` is `y = W·x + b` for a few vectors at once
/// (`quill_gemv_f32` / `quill_gemv_i8`), rows spread over the pool in blocks fixed by the shape; a row's result does
/// not depend on the block it falls in, so every thread count gives the same bits.
public final class InferenceMatrix: @unchecked Sendable {  // immutable after init: safe to share
    public let rows: Int
    public let columns: Int
    /// Row stride in elements: `columns` rounded up to 16.
    public let stride: Int
    public let precision: Stepper.Precision
    /// `[R][stride]` float32 weights (``Stepper/Precision/float32``), else nil.
    public let floats: UnsafeMutablePointer<Float>?
    /// `[R][stride]` int8 weights and `[R]` scales (``Stepper/Precision/int8``), else nil.
    public let quantized: UnsafeMutablePointer<Int8>?
    public let scales: UnsafeMutablePointer<Float>?

    /// Bytes the weights occupy (what one GEMV reads).
    public var byteCount: Int { precision == .float32 ? rows * stride * 4 : rows * stride + rows * 4 }

    /// Converts `[R][K]` weights: `fill` writes the float32 values into a zeroed `[R][stride]` buffer.
    public init(rows: Int, columns: Int, precision: Stepper.Precision,
                fill: (_ destination: UnsafeMutablePointer<Float>, _ stride: Int) -> Void) {
        self.rows = rows
        self.columns = columns
        self.precision = precision
        stride = max(16, (columns + 15) / 16 * 16)
        let f = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * stride) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, rows * stride))
        f.initialize(repeating: 0, count: max(1, rows * stride))
        fill(f, stride)
        switch precision {
        case .float32:
            floats = f
            quantized = nil
            scales = nil
        case .bfloat16:
            preconditionFailure("InferenceMatrix holds float32 or int8 (Stepper.steppingPrecisions)")
        case .int8:
            let q = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * stride), alignment: 64)
                .bindMemory(to: Int8.self, capacity: max(1, rows * stride))
            let s = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows))
            quill_quantize_rows_i8(f, Int64(stride), Int64(rows), Int64(stride), q, Int64(stride), s)
            f.deallocate()
            floats = nil
            quantized = q
            scales = s
        }
    }

    /// Copies `[R][K]` row-major weights with row stride `ld`.
    public convenience init(copying source: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int? = nil,
                            precision: Stepper.Precision) {
        self.init(rows: rows, columns: columns, precision: precision) { destination, stride in
            for r in 0..<rows {
                (destination + r * stride).update(from: source + r * (ld ?? columns), count: columns)
            }
        }
    }

    deinit {
        floats?.deallocate()
        quantized?.deallocate()
        scales?.deallocate()
    }

    /// The weight the matrix holds at `(row, column)`: the float32 value, or the dequantized int8 one.
    public func value(row: Int, column: Int) -> Float {
        if let floats { return floats[row * stride + column] }
        return Float(quantized![row * stride + column]) * scales![row]
    }

    /// `y[b][r] = bias[r] + Σ_k W[r][columnOffset + k]·x[b][k]` for `k < columns`, every row `r`, vectors `b < n`.
    ///
    /// For int8 weights the row's one scale applies to the slice too. Rows run in blocks over `pool` when the work
    /// is large enough (≥ 64 K multiply-adds), on the caller otherwise.
    public func multiply(_ x: UnsafePointer<Float>, ldx: Int, vectors n: Int, columnOffset: Int = 0,
                         columns K: Int? = nil, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         ldy: Int, pool: ThreadPool, path: Int32 = -1) {
        let K = K ?? columns
        precondition(columnOffset >= 0 && columnOffset + K <= stride, "columns out of range")
        let R = rows, work = R * K * n
        func run(_ r0: Int, _ r1: Int) {
            if let floats {
                quill_gemv_f32_on_path(path, floats + columnOffset, Int64(stride), bias, x, Int64(ldx), Int64(n),
                                       Int64(K), y, Int64(ldy), Int64(r0), Int64(r1))
            } else {
                quill_gemv_i8_on_path(path, quantized! + columnOffset, Int64(stride), scales!, bias, x, Int64(ldx),
                                      Int64(n), Int64(K), y, Int64(ldy), Int64(r0), Int64(r1))
            }
        }
        guard work >= 65_536, pool.threadCount > 1 else { return run(0, R) }
        // Blocks of ~32 K multiply-adds, a multiple of 4 rows: fixed by the shape alone.
        let block = max(4, (32_768 / max(1, K * n) + 3) / 4 * 4)
        pool.parallelFor((R + block - 1) / block) { i in run(i * block, min(R, (i + 1) * block)) }
    }

    /// The naive product (sums in Double): the tests' oracle for
    /// ``multiply(_:ldx:vectors:columnOffset:columns:bias:into:ldy:pool:path:)``.
    public func multiplyReference(_ x: UnsafePointer<Float>, ldx: Int, vectors n: Int, columnOffset: Int = 0,
                                  columns K: Int? = nil, bias: UnsafePointer<Float>?,
                                  into y: UnsafeMutablePointer<Float>, ldy: Int) {
        let K = K ?? columns
        for b in 0..<n {
            for r in 0..<rows {
                var sum = 0.0
                for k in 0..<K { sum += Double(value(row: r, column: columnOffset + k)) * Double(x[b * ldx + k]) }
                y[b * ldy + r] = Float(sum) + (bias?[r] ?? 0)
            }
        }
    }
}
