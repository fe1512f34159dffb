import CQuillKernels
import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// Paths of `quill_gemm_bf16` this CPU runs: portable, and AVX512_BF16 when present.
let bfloat16Paths: [Int32] = quill_bf16_best_path() == 2 ? [0, 2] : [0]

/// `quill_gemm_bf16` against a naive double-precision reference, on shapes that are not multiples of the 8 × 32 tile
/// (K odd, one row, one column, tails of every size), on every path, and split over 1, 2 and 3 threads.
///
/// Tolerances. The kernel multiplies bfloat16 values exactly (8 + 8 significant bits fit in float32) and sums K
/// products in float32, so against the reference over the *same rounded* operands its error is the float32
/// summation error: at most `K·2⁻²⁴·Σ|aₖbₖ|` (recursive summation), plus one rounding each for C and the bias. Against
/// the unrounded float32 operands, rounding each of `a` and `b` to bfloat16 (unit roundoff 2⁻⁸: 8 significant bits)
/// changes a product by at most `(2·2⁻⁸ + 2⁻¹⁶)` of itself, so the sum moves by at most `≈ 2⁻⁷·Σ|aₖbₖ|` more.
@Suite struct BFloat16KernelTests {
    /// (M, N, K).
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 33, 7), (3, 5, 2), (8, 32, 16), (9, 33, 3), (7, 31, 1),
                                            (17, 65, 31), (16, 64, 650), (70, 97, 129), (13, 200, 101)]

    static func roundTrip(_ x: Float) -> Float { quill_bf16_to_float(quill_bf16_from_float(x)) }

    @Test func roundingIsToNearestEven() {
        #expect(quill_bf16_from_float(1.0) == 0x3F80)
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties to the even significand (1).
        #expect(quill_bf16_from_float(1 + 0x1p-8) == 0x3F80)
        #expect(quill_bf16_from_float(1 + 0x1p-8 + 0x1p-20) == 0x3F81)
        #expect(quill_bf16_from_float(1 + 3 * 0x1p-8) == 0x3F82)  // halfway above an odd one: rounds up
        #expect(quill_bf16_from_float(-2.5) == 0xC020)
        #expect(quill_bf16_to_float(quill_bf16_from_float(.infinity)) == .infinity)
        #expect(quill_bf16_to_float(quill_bf16_from_float(.nan)).isNaN)
        for x in randomFloats(1000, seed: 1, low: -100, high: 100) {
            #expect(abs(Self.roundTrip(x) - x) <= abs(x) * 0x1p-8)  // unit roundoff 2⁻⁸
        }
    }

    @Test(arguments: bfloat16Paths)
    func matchesTheReference(path: Int32) {
        for (M, N, K) in Self.shapes {
            for transposed in [true, false] {
                for accumulate in [false, true] {
                    check(M: M, N: N, K: K, transposed: transposed, accumulate: accumulate, path: path)
                }
            }
        }
    }

    func check(M: Int, N: Int, K: Int, transposed: Bool, accumulate: Bool, path: Int32) {
        let a = randomFloats(M * K, seed: UInt64(M * 31 + K), low: -2, high: 2)
        let b = randomFloats(N * K, seed: UInt64(N * 17 + K))  // [N][K] when transposed, else [K][N]
        let bias = randomFloats(N, seed: 3), start = randomFloats(M * N, seed: 4)
        let kp = (K + 1) / 2 * 2, lda = kp + 2
        var packed = [UInt16](repeating: 0xFFFF, count: Int(quill_bf16_packed_count(Int64(K), Int64(N))))
        var rows = [UInt16](repeating: 0xFFFF, count: M * lda)
        let panels = (N + 31) / 32
        b.withUnsafeBufferPointer { bp in
            quill_bf16_pack_b(transposed ? 1 : 0, Int64(K), Int64(N), bp.baseAddress!, Int64(transposed ? K : N),
                              &packed, 0, Int64(panels))
        }
        quill_bf16_convert_rows(a, Int64(K), Int64(M), Int64(K), &rows, Int64(lda))
        var c = start
        quill_gemm_bf16_on_path(path, Int64(M), Int64(N), Int64(K), rows, Int64(lda), packed, 0, Int64(N), &c,
                                Int64(N), bias, accumulate ? 1 : 0)
        for i in 0..<M {
            for j in 0..<N {
                var rounded = 0.0, exact = 0.0, magnitude = 0.0
                for k in 0..<K {
                    let x = a[i * K + k], y = transposed ? b[j * K + k] : b[k * N + j]
                    rounded += Double(Self.roundTrip(x)) * Double(Self.roundTrip(y))
                    exact += Double(x) * Double(y)
                    magnitude += abs(Double(x) * Double(y))
                }
                let offset = (accumulate ? Double(start[i * N + j]) : 0) + Double(bias[j])
                let got = Double(c[i * N + j])
                let outer = abs(rounded + offset) * 0x1p-23 + abs(offset) * 0x1p-23
                let summation = Double(K) * 0x1p-24 * magnitude * 1.01 + outer + 1e-30
                #expect(abs(got - (rounded + offset)) <= summation,
                        "path \(path) \(M)×\(N)×\(K) [\(i)][\(j)]: \(got) vs \(rounded + offset)")
                #expect(abs(got - (exact + offset)) <= summation + 0x1p-7 * magnitude * 1.01,
                        "path \(path) \(M)×\(N)×\(K) [\(i)][\(j)] against float32 operands")
            }
        }
    }

    /// Rows and column panels split over 1, 2 or 3 threads (in blocks of 5 rows × 32 columns) give the bits of one
    /// call.
    @Test(arguments: bfloat16Paths)
    func threadsAndBlocksGiveTheSameBits(path: Int32) {
        let (M, N, K) = (37, 203, 77)
        let w = randomFloats(N * K, seed: 8), x = randomFloats(M * K, seed: 9)
        // W [N][K] packed as op(B) = Wᵀ; x rounded into rows of stride lda.
        let lda = (K + 1) / 2 * 2
        var packed = [UInt16](repeating: 0, count: Int(quill_bf16_packed_count(Int64(K), Int64(N))))
        w.withUnsafeBufferPointer {
            quill_bf16_pack_b(1, Int64(K), Int64(N), $0.baseAddress!, Int64(K), &packed, 0, Int64((N + 31) / 32))
        }
        var rows = [UInt16](repeating: 0, count: M * lda)
        quill_bf16_convert_rows(x, Int64(K), Int64(M), Int64(K), &rows, Int64(lda))
        let bias = randomFloats(N, seed: 10)
        var whole = [Float](repeating: 0, count: M * N)
        quill_gemm_bf16_on_path(path, Int64(M), Int64(N), Int64(K), rows, Int64(lda), packed, 0, Int64(N), &whole,
                                Int64(N), bias, 0)
        for threads in 1...3 {
            let pool = ThreadPool(threads: threads)
            let out = AlignedBuffer(count: M * N)
            let rowItems = (M + 4) / 5, columnItems = (N + 31) / 32
            rows.withUnsafeBufferPointer { rows in
                packed.withUnsafeBufferPointer { packed in
                    bias.withUnsafeBufferPointer { bias in
                        pool.parallelFor(rowItems * columnItems) { item in
                            let r0 = item / columnItems * 5, j0 = item % columnItems * 32
                            quill_gemm_bf16_on_path(path, Int64(min(5, M - r0)), Int64(N), Int64(K),
                                                    rows.baseAddress! + r0 * lda, Int64(lda), packed.baseAddress!,
                                                    Int64(j0), Int64(min(N, j0 + 32)), out.base + r0 * N, Int64(N),
                                                    bias.baseAddress!, 0)
                        }
                    }
                }
            }
            #expect(bits(Array(out.buffer)) == bits(whole), "\(threads) threads, path \(path)")
        }
    }
}

/// The scorer's reduced precisions (bfloat16 and int8) against float32, for every cell kind.
@Suite struct BFloat16ScorerTests {
    /// A bound on the per-token difference from float32. Weights U(±0.3) with hidden 24: a logit is a sum of at most
    /// 24 products of magnitude ≤ 0.3 (|h| < 1), Σ|aₖbₖ| ≤ 7.2, so rounding both operands to bfloat16 moves it by at
    /// most 2⁻⁷·7.2 ≈ 0.056 (in practice far less: the errors have random signs); int8's steps of `max/127` per row
    /// move each product by at most `|a|·0.3/254 + 0.3·|w|/254`, again ≤ 0.057 over 24. A log-probability (a logit
    /// minus a log-sum-exp) moves by at most twice that, a bound that also covers the drift the recurrent state adds.
    static let perToken = 0.11

    @Test(arguments: CellKind.allCases, [Stepper.Precision.bfloat16, .int8])
    func closeToFloat32AndThreadIndependent(kind: CellKind, precision: Stepper.Precision) throws {
        let model = try makeModel(kind, vocabulary: 157, embedding: 19, hidden: 24, layers: 2, scale: 0.3)
        let sequences = ScorerTests.sequences(vocabulary: 157)
        let exact = Scorer(model: model, batch: 4, window: 5).score(sequences)
        var reference: [Scorer.Score]?
        for threads in 1...3 {
            let scorer = try Scorer(model: model, precision: precision, batch: 4, window: 5,
                                    pool: ThreadPool(threads: threads))
            scorer.decoderRows = 7
            scorer.decoderColumns = 64
            #expect(scorer.precision == precision)
            let got = scorer.score(sequences)
            #expect(got.map(\.tokens) == exact.map(\.tokens))
            for (g, e) in zip(got, exact) {
                #expect(abs(g.logProbability - e.logProbability) <= Self.perToken * Double(max(1, e.tokens)),
                        "\(kind) \(precision): \(g) vs float32 \(e)")
            }
            if let reference { #expect(got == reference, "\(kind): \(threads) threads give the same bits") }
            reference = got
        }
        // The model's own layers ran the window: they are back in their training precision.
        #expect(model.precision == .float32)
    }

    @Test func precisionsEachEngineRejects() throws {
        let model = try makeModel(.lstm)
        #expect(throws: Stepper.UnsupportedPrecision.self) { try Stepper(model: model, precision: .bfloat16) }
        #expect(try Scorer(model: model, precision: .int8).precision == .int8)
        #expect(try Scorer(model: model, precision: .float32).precision == .float32)
        #expect(Scorer(model: model).precision == .float32)
    }
}
