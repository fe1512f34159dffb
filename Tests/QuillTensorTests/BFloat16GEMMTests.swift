import CQuillKernels
import Testing
import QuillTensor

/// `gemm(…, precision: .bfloat16)`, unpacked and against a bfloat16 ``PackedMatrix``: the mixed-precision products of
/// training.
///
/// The reference sums in Double the products of the operands rounded to bfloat16: the kernel multiplies those exactly
/// and sums K of them in float32, so it may differ by the float32 summation error, at most `K·2⁻²⁴·Σ|aₖbₖ|`, plus one
/// rounding each of C and the bias (bounded below with the whole magnitude).
@Suite struct BFloat16GEMMTests {
    static func rounded(_ x: Float) -> Float { quill_bf16_to_float(quill_bf16_from_float(x)) }

    static let shapes: [GEMMShape] = gemmAwkwardShapes.filter { $0.k > 0 } + [
        GEMMShape(m: 20, n: 800, k: 200), GEMMShape(m: 257, n: 129, k: 300, pad: 1), GEMMShape(m: 140, n: 65, k: 701),
    ]

    /// op(A)·op(B) (+ beta·C0) (+ bias) against the reference over rounded operands, every transpose, beta 0 and 1.
    @Test(arguments: shapes)
    func matchesTheRoundedReference(shape: GEMMShape) {
        for (transposeA, transposeB) in gemmTransposes {
            let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB)
            let bias = (0..<shape.n).map { Float($0 % 7) / 4 - 0.75 }
            let rounded = GEMMOperands(copying: x, transform: Self.rounded)
            let product = rounded.reference(), magnitude = rounded.reference(absolute: true)
            for beta: Float in [0, 1] {
                let got = x.runBFloat16(beta: beta, bias: bias, pool: gemmPools[1])
                for i in 0..<shape.m {
                    for j in 0..<shape.n {
                        let e = i * x.ldc + j
                        let offset = Double(beta) * Double(x.c0[e]) + Double(bias[j])
                        let expected = Double(product[e]) + offset
                        let bound = (Double(shape.k) * 0x1p-24 * 1.01 + 0x1p-22) * Double(magnitude[e])
                            + 0x1p-22 * (abs(expected) + abs(offset)) + 1e-30
                        #expect(abs(Double(got[e]) - expected) <= bound,
                                "\(shape) tA \(transposeA) tB \(transposeB) beta \(beta) at \(i),\(j)")
                    }
                }
            }
        }
    }

    /// The same bits for 1–4 threads, and the packed call equals the unpacked one.
    @Test(arguments: [GEMMShape(m: 20, n: 800, k: 200), GEMMShape(m: 131, n: 150, k: 21, pad: 5),
                      GEMMShape(m: 300, n: 257, k: 129)])
    func isBitIdenticalForEveryThreadCountAndPacking(shape: GEMMShape) {
        for (transposeA, transposeB) in gemmTransposes {
            let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB)
            let expected = gemmBits(x.runBFloat16(beta: 1, bias: nil, pool: gemmPools[0]))
            for pool in gemmPools {
                #expect(gemmBits(x.runBFloat16(beta: 1, bias: nil, pool: pool)) == expected,
                        "\(shape) tA \(transposeA) tB \(transposeB) threads \(pool.threadCount)")
                let packed = x.b.withUnsafeBufferPointer {
                    PackedMatrix(transposed: transposeB, rows: shape.k, columns: shape.n, b: $0.baseAddress!,
                                 ldb: x.ldb, precision: .bfloat16, pool: pool)
                }
                #expect(gemmBits(x.run(alpha: 1, beta: 1, pool: pool, packedB: packed)) == expected,
                        "packed \(shape) tA \(transposeA) tB \(transposeB) threads \(pool.threadCount)")
            }
        }
    }

    /// Both operand layouts (rows, and pair-major from a transposed A) on the portable kernel agree with the best
    /// kernel of this CPU to float32 summation (they sum the same exact products, a pair's two in either order).
    @Test(arguments: [GEMMShape(m: 13, n: 70, k: 33), GEMMShape(m: 130, n: 40, k: 257, pad: 3)])
    func operandLayoutsAgreeOnEveryPath(shape: GEMMShape) {
        for transposeA in [false, true] {
            let x = GEMMOperands(shape, transposeA: transposeA, transposeB: true)
            let packed = x.b.withUnsafeBufferPointer {
                PackedMatrix(transposed: true, rows: shape.k, columns: shape.n, b: $0.baseAddress!, ldb: x.ldb,
                             precision: .bfloat16)
            }
            let words = [UInt32](repeating: 0, count: BFloat16Operand.wordCount(m: shape.m, k: shape.k))
            let magnitude = GEMMOperands(copying: x, transform: { abs(Self.rounded($0)) }).reference()
            var results: [[Float]] = []
            for path: Int32 in [0, -1] {
                var out = x.c0
                words.withUnsafeBufferPointer { w in
                    x.a.withUnsafeBufferPointer { a in
                        let operand = BFloat16Operand.converting(
                            transposed: transposeA, m: shape.m, k: shape.k, a: a.baseAddress!, lda: x.lda,
                            into: UnsafeMutablePointer(mutating: w.baseAddress!), pool: gemmPools[1])
                        packed.withBFloat16Storage { packed in
                            out.withUnsafeMutableBufferPointer {
                                bfloat16Multiply(m: shape.m, n: shape.n, k: shape.k, a: operand, packed: packed,
                                                 c: $0.baseAddress!, ldc: x.ldc, bias: nil, accumulate: false,
                                                 pool: gemmPools[1], path: path)
                            }
                        }
                    }
                }
                results.append(out)
            }
            for i in 0..<shape.m {
                for j in 0..<shape.n {
                    let e = i * x.ldc + j
                    #expect(abs(results[0][e] - results[1][e]) <= Float(shape.k) * 0x1p-23 * magnitude[e] + 1e-30,
                            "\(shape) tA \(transposeA) at \(i),\(j)")
                }
            }
        }
    }

    /// Repacking into a bfloat16 packing of the same shape reuses it; another precision gets a new one.
    @Test func packingReusesOnlyTheSamePrecision() {
        let b = [Float](repeating: 1, count: 12)
        b.withUnsafeBufferPointer { b in
            let first = PackedMatrix.packing(nil, rows: 3, columns: 4, b: b.baseAddress!, ldb: 4, precision: .bfloat16)
            let again = PackedMatrix.packing(first, rows: 3, columns: 4, b: b.baseAddress!, ldb: 4, precision: .bfloat16)
            let float = PackedMatrix.packing(first, rows: 3, columns: 4, b: b.baseAddress!, ldb: 4)
            #expect(first === again)
            #expect(float !== first && float.precision == .float32)
        }
    }
}

extension GEMMOperands {
    /// The same problem with every stored value mapped by `transform`.
    init(copying x: GEMMOperands, transform: (Float) -> Float) {
        self = GEMMOperands(shape: x.shape, transposeA: x.transposeA, transposeB: x.transposeB, lda: x.lda,
                            ldb: x.ldb, ldc: x.ldc, a: x.a.map(transform), b: x.b.map(transform), c0: x.c0)
    }

    /// The bfloat16 `gemm` into a copy of `c0`.
    func runBFloat16(beta: Float, bias: [Float]?, pool: ThreadPool) -> [Float] {
        var out = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    withOptional(bias) { bias in
                        gemm(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k,
                             a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta,
                             c: out.baseAddress!, ldc: ldc, bias: bias, pool: pool, precision: .bfloat16)
                    }
                }
            }
        }
        return out
    }
}

private func withOptional<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
