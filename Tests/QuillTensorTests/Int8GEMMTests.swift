import CQuillKernels
import Testing
import QuillTensor

/// `gemm(…, precision: .int8)` and int8 ``PackedMatrix``: inference products `x·Wᵀ` with weights quantized per output
/// and activations per row.
///
/// The reference quantizes the operands the same way in Swift and evaluates the header's formula in Double: the kernel
/// sums the integers exactly, so it may differ only by the float32 roundings of its epilogue (the integer sum to
/// float32, two products, the adds of C and the bias): a few units in the last place of the magnitudes involved.
@Suite struct Int8GEMMTests {
    static let paths: [Int32] = quill_i8_best_path() == 2 ? [0, 2] : [0]
    static let shapes: [GEMMShape] = [
        GEMMShape(m: 1, n: 1, k: 1), GEMMShape(m: 7, n: 13, k: 17), GEMMShape(m: 1, n: 67, k: 9),
        GEMMShape(m: 37, n: 1, k: 5), GEMMShape(m: 3, n: 4, k: 5, pad: 3), GEMMShape(m: 20, n: 70, k: 800),
        GEMMShape(m: 131, n: 150, k: 21, pad: 5), GEMMShape(m: 9, n: 33, k: 6), GEMMShape(m: 16, n: 32, k: 650),
    ] + (1...9).map { GEMMShape(m: $0, n: 33, k: 7, pad: $0 % 2) }

    /// Symmetric per-row quantization as `quill_gemm_i8.h` states it: scale `max |x| / 127` (1 for zeros), values
    /// rounded to nearest even in [−127, 127].
    static func quantize(_ row: ArraySlice<Float>) -> (values: [Int], scale: Float) {
        let top = row.map(abs).max() ?? 0
        let scale: Float = top > 0 ? top / 127 : 1
        return (row.map { Int(max(-127, min(127, ($0 / scale).rounded(.toNearestOrEven)))) }, scale)
    }

    @Test(arguments: shapes)
    func matchesTheQuantizedReference(shape: GEMMShape) {
        let x = GEMMOperands(shape, transposeA: false, transposeB: true)
        let bias = (0..<shape.n).map { Float($0 % 5) / 4 - 0.5 }
        let (M, N, K) = (shape.m, shape.n, shape.k)
        let a = (0..<M).map { Self.quantize(x.a[($0 * x.lda)..<($0 * x.lda + K)]) }
        let w = (0..<N).map { Self.quantize(x.b[($0 * x.ldb)..<($0 * x.ldb + K)]) }
        for path in Self.paths {
            for beta: Float in [0, 1] {
                let got = x.runInt8(beta: beta, bias: bias, pool: gemmPools[1], path: path)
                for i in 0..<M {
                    for j in 0..<N {
                        let sum = (0..<K).reduce(0) { $0 + a[i].values[$1] * w[j].values[$1] }
                        let product = Double(sum) * Double(w[j].scale) * Double(a[i].scale)
                        let offset = Double(beta) * Double(x.c0[i * x.ldc + j]) + Double(bias[j])
                        let expected = product + offset
                        let bound = 0x1p-21 * (abs(product) + abs(offset) + abs(expected)) + 1e-30
                        #expect(abs(Double(got[i * x.ldc + j]) - expected) <= bound,
                                "\(shape) path \(path) beta \(beta) at \(i),\(j)")
                    }
                }
            }
        }
    }

    /// The same bits on both kernels, for 1–4 threads, and packed as unpacked.
    @Test(arguments: [GEMMShape(m: 20, n: 800, k: 200), GEMMShape(m: 300, n: 257, k: 129, pad: 2)])
    func isBitIdenticalForEveryPathThreadCountAndPacking(shape: GEMMShape) {
        let x = GEMMOperands(shape, transposeA: false, transposeB: true)
        let expected = gemmBits(x.runInt8(beta: 1, bias: nil, pool: gemmPools[0], path: 0))
        for pool in gemmPools {
            #expect(gemmBits(x.runInt8(beta: 1, bias: nil, pool: pool, path: -1)) == expected,
                    "\(shape) threads \(pool.threadCount)")
            let packed = x.b.withUnsafeBufferPointer {
                PackedMatrix(transposed: true, rows: shape.k, columns: shape.n, b: $0.baseAddress!, ldb: x.ldb,
                             precision: .int8, pool: pool)
            }
            #expect(gemmBits(x.run(alpha: 1, beta: 1, pool: pool, packedB: packed)) == expected,
                    "packed \(shape) threads \(pool.threadCount)")
        }
    }

    @Test func onlyInferenceProductsTrain() {
        #expect(!Precision.int8.trains)
        #expect(Precision.float32.trains && Precision.bfloat16.trains)
    }
}

extension GEMMOperands {
    /// The int8 product `A·Bᵀ` into a copy of `c0`, on kernel `path` (−1 the best: through `gemm`).
    func runInt8(beta: Float, bias: [Float]?, pool: ThreadPool, path: Int32) -> [Float] {
        var out = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    bias.withOptionalPointer { bias in
                        if path < 0 {
                            gemm(transposeB: true, m: shape.m, n: shape.n, k: shape.k, a: a.baseAddress!, lda: lda,
                                 b: b.baseAddress!, ldb: ldb, beta: beta, c: out.baseAddress!, ldc: ldc, bias: bias,
                                 pool: pool, precision: .int8)
                        } else {
                            let packed = PackedMatrix(transposed: true, rows: shape.k, columns: shape.n,
                                                      b: b.baseAddress!, ldb: ldb, precision: .int8, pool: pool)
                            packed.withInt8Weights { weights in
                                int8Multiply(m: shape.m, n: shape.n, k: shape.k, a: a.baseAddress!, lda: lda,
                                             weights: weights, c: out.baseAddress!, ldc: ldc, bias: bias,
                                             accumulate: beta == 1, pool: pool, path: path)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
