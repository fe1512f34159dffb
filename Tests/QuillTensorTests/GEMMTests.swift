import Testing
import QuillTensor

/// A GEMM problem: `M×N×K`, plus extra row stride beyond each stored width (tests leading dimensions).
struct GEMMShape: CustomStringConvertible, Sendable {
    var m, n, k: Int
    var pad = 0
    var description: String { "\(m)×\(n)×\(k)" + (pad > 0 ? " +\(pad)" : "") }
}

/// Stored operands of one problem, filled with a fixed pseudo-random sequence.
struct GEMMOperands {
    let shape: GEMMShape
    let transposeA: Bool, transposeB: Bool
    let lda: Int, ldb: Int, ldc: Int
    let a: [Float], b: [Float], c0: [Float]

    init(_ s: GEMMShape, transposeA: Bool, transposeB: Bool, seed: UInt64 = 1) {
        shape = s
        self.transposeA = transposeA; self.transposeB = transposeB
        lda = max(1, transposeA ? s.m : s.k) + s.pad
        ldb = max(1, transposeB ? s.k : s.n) + s.pad
        ldc = max(1, s.n) + s.pad
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                return Float(Int(state % 2001) - 1000) / 500
            }
        }
        a = values(max(1, (transposeA ? s.k : s.m) * lda))
        b = values(max(1, (transposeB ? s.n : s.k) * ldb))
        c0 = values(max(1, s.m * ldc))
    }

    init(shape: GEMMShape, transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int, a: [Float], b: [Float],
         c0: [Float]) {
        self.shape = shape
        self.transposeA = transposeA; self.transposeB = transposeB
        self.lda = lda; self.ldb = ldb; self.ldc = ldc
        self.a = a; self.b = b; self.c0 = c0
    }

    /// `gemm` into a copy of `c0` (or of `c`, e.g. NaN-filled).
    func run(alpha: Float, beta: Float, c: [Float]? = nil, pool: ThreadPool, kernel: GEMMKernel = .best,
             packedB: PackedMatrix? = nil) -> [Float] {
        var out = c ?? c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    if let packedB {
                        gemm(transposeA: transposeA, m: shape.m, alpha: alpha, a: a.baseAddress!, lda: lda,
                             packedB: packedB, beta: beta, c: out.baseAddress!, ldc: ldc, pool: pool)
                    } else {
                        gemm(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k,
                             alpha: alpha, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta,
                             c: out.baseAddress!, ldc: ldc, pool: pool, kernel: kernel)
                    }
                }
            }
        }
        return out
    }

    /// `gemmReference` of `|op(A)|·|op(B)|` or `op(A)·op(B)` (alpha 1, beta 0).
    func reference(absolute: Bool = false) -> [Float] {
        let a = absolute ? self.a.map(abs) : self.a, b = absolute ? self.b.map(abs) : self.b
        var out = [Float](repeating: 0, count: c0.count)
        gemmReference(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k,
                      a: a, lda: lda, b: b, ldb: ldb, c: &out, ldc: ldc)
        return out
    }

    func packB(kernel: GEMMKernel = .best, pool: ThreadPool) -> PackedMatrix {
        b.withUnsafeBufferPointer {
            PackedMatrix(transposed: transposeB, rows: shape.k, columns: shape.n, b: $0.baseAddress!, ldb: ldb,
                         kernel: kernel, pool: pool)
        }
    }
}

let gemmPools = (1...4).map { ThreadPool(threads: $0) }
let gemmTransposes: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]
let gemmScalings: [(alpha: Float, beta: Float)] = [(1, 0), (0.5, -1.5), (1, 1), (-2, 0.25), (0, 2), (0, 0)]

/// Awkward shapes: 1×1×1, primes, 1×N, M×1, K = 0, every row and column tail of every kernel's tile (up to 8×32),
/// K split into several blocks, several compute items, leading dimensions larger than the widths.
let gemmAwkwardShapes: [GEMMShape] = [
    GEMMShape(m: 1, n: 1, k: 1), GEMMShape(m: 7, n: 13, k: 17), GEMMShape(m: 1, n: 67, k: 9),
    GEMMShape(m: 37, n: 1, k: 5), GEMMShape(m: 5, n: 7, k: 0), GEMMShape(m: 3, n: 4, k: 5, pad: 3),
    GEMMShape(m: 20, n: 70, k: 800), GEMMShape(m: 131, n: 150, k: 21, pad: 5),
    // op(A) packed (lda = 1024 floats, not transposed / transposed); a wide C in one row block.
    GEMMShape(m: 9, n: 17, k: 1000, pad: 24), GEMMShape(m: 1000, n: 9, k: 17, pad: 24), GEMMShape(m: 141, n: 1030, k: 7),
] + (1...9).map { GEMMShape(m: $0, n: 33, k: 6, pad: $0 % 2) } + (1...33).map { GEMMShape(m: 9, n: $0, k: 4) }

@Test(arguments: gemmAwkwardShapes)
func gemmMatchesReference(shape: GEMMShape) {
    for (transposeA, transposeB) in gemmTransposes {
        let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB)
        checkGEMM(x, kernels: GEMMKernel.supported, scalings: gemmScalings)
    }
}

/// 257×129×300 (several compute items, every tail), with a padded leading dimension when A is transposed.
@Test(arguments: 0..<4)
func gemmMatchesReferenceOnALargeShape(transpose: Int) {
    let (transposeA, transposeB) = gemmTransposes[transpose]
    let shape = GEMMShape(m: 257, n: 129, k: 300, pad: transposeA ? 1 : 0)
    let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB)
    checkGEMM(x, kernels: [.best], scalings: [(1, 0), (-2, 0.25)])
}

/// Compares `gemm` with the reference, element by element, within the float error bound of a K-term sum:
/// `|C − C_ref| ≤ (K + 4)·ε·(|alpha|·Σ|a||b| + |beta|·|c|)`.
func checkGEMM(_ x: GEMMOperands, kernels: [GEMMKernel], scalings: [(alpha: Float, beta: Float)],
           sourceLocation: SourceLocation = #_sourceLocation) {
    let product = x.reference(), magnitude = x.reference(absolute: true)
    let s = x.shape
    let nan = [Float](repeating: .nan, count: x.c0.count)
    for kernel in kernels {
        for (alpha, beta) in scalings {
            let c = x.run(alpha: alpha, beta: beta, c: beta == 0 ? nan : nil, pool: gemmPools[1], kernel: kernel)
            var worst: (i: Int, j: Int, got: Float, want: Double)?
            for i in 0..<s.m {
                for j in 0..<s.n {
                    let e = i * x.ldc + j
                    let want = Double(alpha) * Double(product[e]) + (beta == 0 ? 0 : Double(beta) * Double(x.c0[e]))
                    let bound = Double(s.k + 4) * Double(Float.ulpOfOne)
                        * (Double(abs(alpha)) * Double(magnitude[e]) + Double(abs(beta)) * Double(abs(x.c0[e])))
                    if !(abs(Double(c[e]) - want) <= bound) && worst == nil { worst = (i, j, c[e], want) }
                }
                // Padding between rows is never written.
                for j in s.n..<x.ldc where i < s.m - 1 || j < s.n {
                    let e = i * x.ldc + j
                    if c[e].bitPattern != (beta == 0 ? nan : x.c0)[e].bitPattern && worst == nil {
                        worst = (i, j, c[e], Double(x.c0[e]))
                    }
                }
            }
            #expect(worst == nil, "\(s) tA \(x.transposeA) tB \(x.transposeB) α \(alpha) β \(beta) \(kernel): \(worst.map { "C[\($0.i),\($0.j)] = \($0.got), want \($0.want)" } ?? "")",
                    sourceLocation: sourceLocation)
        }
    }
}

func gemmBits(_ c: [Float]) -> [UInt32] { c.map(\.bitPattern) }

@Test(arguments: [GEMMShape(m: 257, n: 129, k: 300), GEMMShape(m: 20, n: 800, k: 400),
                  GEMMShape(m: 130, n: 300, k: 800, pad: 2)])
func gemmIsBitIdenticalForEveryThreadCount(shape: GEMMShape) {
    for (transposeA, transposeB) in gemmTransposes {
        let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB, seed: 7)
        for kernel in GEMMKernel.supported {
            let one = gemmBits(x.run(alpha: 0.75, beta: -0.5, pool: gemmPools[0], kernel: kernel))
            for pool in gemmPools.dropFirst() {
                #expect(gemmBits(x.run(alpha: 0.75, beta: -0.5, pool: pool, kernel: kernel)) == one,
                        "\(shape) tA \(transposeA) tB \(transposeB) \(kernel) threads \(pool.threadCount)")
            }
        }
    }
}

@Test(arguments: [GEMMShape(m: 20, n: 70, k: 800), GEMMShape(m: 32, n: 200, k: 100, pad: 3),
                  GEMMShape(m: 9, n: 33, k: 7), GEMMShape(m: 1, n: 1, k: 1), GEMMShape(m: 4, n: 5, k: 0)])
func packedBEqualsUnpackedBitForBit(shape: GEMMShape) {
    for (transposeA, transposeB) in gemmTransposes {
        let x = GEMMOperands(shape, transposeA: transposeA, transposeB: transposeB, seed: 3)
        for kernel in GEMMKernel.supported {
            let packed = x.packB(kernel: kernel, pool: gemmPools[2])
            #expect(packed.rows == shape.k && packed.columns == shape.n && packed.kernel == kernel)
            for (alpha, beta) in gemmScalings {
                let plain = x.run(alpha: alpha, beta: beta, pool: gemmPools[1], kernel: kernel)
                for pool in [gemmPools[0], gemmPools[3]] {
                    #expect(gemmBits(x.run(alpha: alpha, beta: beta, pool: pool, packedB: packed)) == gemmBits(plain),
                            "\(shape) tA \(transposeA) tB \(transposeB) \(kernel) α \(alpha) β \(beta)")
                }
            }
        }
    }
}

@Test func arrayConvenienceMatchesPointerCall() {
    let x = GEMMOperands(GEMMShape(m: 6, n: 10, k: 12), transposeA: true, transposeB: false, seed: 5)
    var c = x.c0
    gemm(transposeA: true, m: 6, n: 10, k: 12, alpha: 2, a: x.a, b: x.b, beta: 0.5, c: &c, pool: gemmPools[1])
    #expect(gemmBits(c) == gemmBits(x.run(alpha: 2, beta: 0.5, pool: gemmPools[0])))
    let packed = PackedMatrix(rows: 12, columns: 10, b: x.b)
    #expect(gemmBits(x.run(alpha: 2, beta: 0.5, pool: gemmPools[0], packedB: packed)) == gemmBits(c))
}

@Test func bestKernelIsSupported() {
    #expect(GEMMKernel.best.isSupported)
    #expect(GEMMKernel.supported.contains(.portable))
    #if arch(x86_64)
    #expect(GEMMKernel.best != .portable || !GEMMKernel.avx2.isSupported)
    #endif
}

/// The bias write-back equals a separate bias add bit for bit (after the last K block), on every kernel, transpose
/// and 1–4 threads, unpacked and pre-packed. op(A) is read in place but when `lda` is a multiple of 1024 floats
/// (9×17×1000 +24 not transposed, 1000×9×17 +24 transposed): those pack it. 400×1030×20: one row block (wide C).
@Test(arguments: [GEMMShape(m: 7, n: 13, k: 17), GEMMShape(m: 20, n: 70, k: 800), GEMMShape(m: 37, n: 33, k: 5, pad: 3),
                  GEMMShape(m: 9, n: 17, k: 1000, pad: 24), GEMMShape(m: 1000, n: 9, k: 17, pad: 24),
                  GEMMShape(m: 131, n: 150, k: 21), GEMMShape(m: 403, n: 1030, k: 20)])
func gemmBiasEqualsSeparateBiasAdd(shape: GEMMShape) {
    let bias = (0..<shape.n).map { Float($0 % 7) * 0.37 - 1.1 }
    for kernel in GEMMKernel.supported {
        for t in 0..<4 {
            let x = GEMMOperands(shape, transposeA: t & 1 != 0, transposeB: t & 2 != 0)
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, -1.5)] {
                var expected = x.run(alpha: alpha, beta: beta, pool: ThreadPool(threads: 1), kernel: kernel)
                for i in 0..<shape.m { for j in 0..<shape.n { expected[i * x.ldc + j] += bias[j] } }
                for threads in 1...4 {
                    var out = x.c0
                    x.a.withUnsafeBufferPointer { a in
                        x.b.withUnsafeBufferPointer { b in
                            out.withUnsafeMutableBufferPointer { out in
                                gemm(transposeA: x.transposeA, transposeB: x.transposeB, m: shape.m, n: shape.n,
                                     k: shape.k, alpha: alpha, a: a.baseAddress!, lda: x.lda, b: b.baseAddress!,
                                     ldb: x.ldb, beta: beta, c: out.baseAddress!, ldc: x.ldc, bias: bias,
                                     pool: ThreadPool(threads: threads), kernel: kernel)
                            }
                        }
                    }
                    #expect(gemmBits(out) == gemmBits(expected), "\(kernel) t\(t) α\(alpha) \(threads) threads")
                }
                let packed = x.packB(kernel: kernel, pool: ThreadPool(threads: 2))
                var out = x.c0
                x.a.withUnsafeBufferPointer { a in
                    out.withUnsafeMutableBufferPointer { out in
                        gemm(transposeA: x.transposeA, m: shape.m, alpha: alpha, a: a.baseAddress!, lda: x.lda,
                             packedB: packed, beta: beta, c: out.baseAddress!, ldc: x.ldc, bias: bias,
                             pool: ThreadPool(threads: 3))
                    }
                }
                #expect(gemmBits(out) == gemmBits(expected), "\(kernel) t\(t) α\(alpha) packed")
            }
        }
    }
}
