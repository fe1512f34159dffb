import CQuillKernels
import Foundation
import QuillDecode
import QuillTensor
import Testing

/// The inference kernels (`quill_gemv_f32`, `quill_gemv_i8`, quantization, log-softmax, the online log-sum-exp)
/// against naive references, on awkward shapes and every SIMD path this CPU runs.
@Suite struct InferenceKernelTests {
    /// (rows R, columns K, vectors n): row tails 1…3 after blocks of 4, K tails of every SIMD width, K below one
    /// vector, several vectors.
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 5, 2), (4, 16, 1), (5, 17, 3), (7, 31, 1), (9, 33, 2),
                                            (13, 100, 4), (37, 300, 1), (64, 1003, 2)]

    @Test(arguments: simdPaths)
    func gemvMatchesTheReference(path: Int32) {
        for (R, K, n) in Self.shapes {
            for precision in Stepper.steppingPrecisions {
                let w = randomFloats(R * K, seed: UInt64(R * K), low: -2, high: 2)
                let matrix = w.withUnsafeBufferPointer {
                    InferenceMatrix(copying: $0.baseAddress!, rows: R, columns: K, precision: precision)
                }
                let ldx = K + 3, ldy = R + 2
                let x = randomFloats(n * ldx, seed: 9), bias = randomFloats(R, seed: 10)
                var y = [Float](repeating: .nan, count: n * ldy), expected = y
                x.withUnsafeBufferPointer { x in
                    bias.withUnsafeBufferPointer { bias in
                        matrix.multiply(x.baseAddress!, ldx: ldx, vectors: n, bias: bias.baseAddress!, into: &y,
                                        ldy: ldy, pool: ThreadPool(threads: 1), path: path)
                        matrix.multiplyReference(x.baseAddress!, ldx: ldx, vectors: n, bias: bias.baseAddress!,
                                                 into: &expected, ldy: ldy)
                    }
                }
                for b in 0..<n {
                    for r in 0..<R {
                        // (K + 4)·ε·Σ|w·x| + |b|·ε: the usual bound of a float sum of K products.
                        let magnitude = (0..<K).map { abs(Double(matrix.value(row: r, column: $0) * x[b * ldx + $0])) }
                            .reduce(0, +) + abs(Double(bias[r]))
                        let bound = Double(K + 4) * 1.2e-7 * magnitude + 1e-7
                        #expect(abs(Double(y[b * ldy + r] - expected[b * ldy + r])) <= bound,
                                "\(precision) path \(path) R \(R) K \(K) n \(n) row \(r)")
                    }
                    #expect(y[(b * ldy + R)..<((b + 1) * ldy)].allSatisfy { $0.isNaN }, "padding untouched")
                }
            }
        }
    }

    /// A vector's result has the same bits alone or among others (a server steps many clients' streams together, and
    /// each must get what it gets alone): int8 blocks widened once for several vectors, float32, and rows too wide to
    /// widen.
    @Test(arguments: simdPaths)
    func aVectorsResultDoesNotDependOnItsNeighbours(path: Int32) {
        for (R, K) in [(9, 650), (6, 37), (5, 4100)] {
            let w = randomFloats(R * K, seed: UInt64(K))
            let n = 5, x = randomFloats(n * K, seed: 11), bias = randomFloats(R, seed: 12)
            for precision in Stepper.steppingPrecisions {
                let matrix = w.withUnsafeBufferPointer {
                    InferenceMatrix(copying: $0.baseAddress!, rows: R, columns: K, precision: precision)
                }
                var together = [Float](repeating: 0, count: n * R)
                matrix.multiply(x, ldx: K, vectors: n, bias: bias, into: &together, ldy: R,
                                pool: ThreadPool(threads: 1), path: path)
                for b in 0..<n {
                    var alone = [Float](repeating: 0, count: R)
                    x.withUnsafeBufferPointer { x in
                        matrix.multiply(x.baseAddress! + b * K, ldx: K, vectors: 1, bias: bias, into: &alone, ldy: R,
                                        pool: ThreadPool(threads: 1), path: path)
                    }
                    #expect(bits(alone) == bits(Array(together[(b * R)..<((b + 1) * R)])),
                            "\(precision) path \(path) R \(R) K \(K) vector \(b)")
                }
            }
        }
    }

    /// A column slice (the GRU's `W_hh` half) and no bias; rows split over threads give the same bits.
    @Test(arguments: simdPaths)
    func slicesAndThreadsGiveTheSameBits(path: Int32) {
        let (R, K) = (203, 77)
        let w = randomFloats(R * K, seed: 3)
        for precision in Stepper.steppingPrecisions {
            let matrix = w.withUnsafeBufferPointer {
                InferenceMatrix(copying: $0.baseAddress!, rows: R, columns: K, precision: precision)
            }
            let x = randomFloats(2 * 50, seed: 4)
            var results: [[UInt32]] = []
            for threads in 1...4 {
                var y = [Float](repeating: 0, count: 2 * R)
                matrix.multiply(x, ldx: 50, vectors: 2, columnOffset: 20, columns: 50, bias: nil, into: &y, ldy: R,
                                pool: ThreadPool(threads: threads), path: path)
                results.append(bits(y))
                var expected = y
                matrix.multiplyReference(x, ldx: 50, vectors: 2, columnOffset: 20, columns: 50, bias: nil,
                                         into: &expected, ldy: R)
                #expect(zip(y, expected).allSatisfy { abs($0 - $1) <= 1e-4 }, "\(precision) slice path \(path)")
            }
            #expect(results.allSatisfy { $0 == results[0] }, "\(precision) 1–4 threads, path \(path)")
        }
    }

    /// int8: `|w − dequantized| ≤ scale/2`, the row's largest magnitude maps to ±127, zero rows stay zero.
    @Test func quantizationRoundTrip() {
        let (R, K) = (6, 45)
        var w = randomFloats(R * K, seed: 11, low: -3, high: 3)
        for k in 0..<K { w[2 * K + k] = 0 }  // a zero row
        w[4 * K + 7] = 50                     // an outlier
        let matrix = w.withUnsafeBufferPointer {
            InferenceMatrix(copying: $0.baseAddress!, rows: R, columns: K, precision: .int8)
        }
        for r in 0..<R {
            let top = (0..<K).map { abs(w[r * K + $0]) }.max()!
            let scale = matrix.scales![r]
            #expect(top == 0 ? scale == 1 : abs(scale - top / 127) <= 1e-6 * top)
            #expect((0..<K).contains { abs(Int(matrix.quantized![r * matrix.stride + $0])) == (top == 0 ? 0 : 127) })
            for k in 0..<K {
                #expect(abs(matrix.value(row: r, column: k) - w[r * K + k]) <= scale / 2 * 1.0001)
            }
            for k in K..<matrix.stride { #expect(matrix.quantized![r * matrix.stride + k] == 0) }
        }
    }

    @Test(arguments: simdPaths)
    func logSoftmaxMatchesTheReference(path: Int32) {
        for V in [1, 7, 16, 17, 1003] {
            let rows = 3
            let x = randomFloats(rows * V, seed: UInt64(V), low: -30, high: 30)
            var y = [Float](repeating: 0, count: rows * V)
            quill_log_softmax_on_path(path, x, Int64(rows), Int64(V), &y)
            for r in 0..<rows {
                let row = x[(r * V)..<((r + 1) * V)].map(Double.init), top = row.max()!
                let logSum = top + log(row.map { exp($0 - top) }.reduce(0, +))
                for v in 0..<V {
                    #expect(abs(Double(y[r * V + v]) - (row[v] - logSum)) <= 1e-5 * max(1, abs(row[v] - logSum)),
                            "V \(V) path \(path)")
                }
            }
        }
    }

    /// The online log-sum-exp over column blocks equals the log-softmax of whole rows at the targets; ignored rows
    /// are skipped.
    @Test(arguments: simdPaths)
    func onlineLogSumExpMatchesTheReference(path: Int32) {
        let (rows, V) = (5, 1003)
        let logits = randomFloats(rows * V, seed: 21, low: -8, high: 8), bias = randomFloats(V, seed: 22)
        let targets: [Int32] = [0, 1002, -1, 17, 512]
        for block in [1, 16, 17, 100, 1003] {
            var runMax = [Float](repeating: -.infinity, count: rows), runSum = [Double](repeating: 0, count: rows)
            var target = [Float](repeating: 0, count: rows)
            for v0 in stride(from: 0, to: V, by: block) {
                let cols = min(block, V - v0)
                var tile = [Float](repeating: 0, count: rows * block)
                for r in 0..<rows { for j in 0..<cols { tile[r * block + j] = logits[r * V + v0 + j] } }
                bias.withUnsafeBufferPointer { bias in
                    quill_logsumexp_update_on_path(path, &tile, Int64(rows), Int64(cols), Int64(block), Int64(v0),
                                                   bias.baseAddress! + v0, targets, -1, &runMax, &runSum, &target)
                }
            }
            for r in 0..<rows where targets[r] != -1 {
                let row = (0..<V).map { Double(logits[r * V + $0] + bias[$0]) }, top = row.max()!
                let expected = row[Int(targets[r])] - top - log(row.map { exp($0 - top) }.reduce(0, +))
                let got = Double(target[r]) - Double(runMax[r]) - log(runSum[r])
                #expect(abs(got - expected) <= 1e-5 * max(1, abs(expected)), "block \(block) path \(path) row \(r)")
            }
            #expect(runSum[2] == 0 && runMax[2] == -.infinity, "an ignored row is untouched")
        }
    }
}
