import Foundation
import Testing
@testable import QuillTensor

@Suite struct SoftmaxCrossEntropyTests {
    static func targets(_ rows: Int, vocabulary: Int, seed: UInt64, ignoreEvery: Int = 0) -> [Int32] {
        var rng = RNG(seed: seed)
        return (0..<rows).map { r in
            ignoreEvery > 0 && r % ignoreEvery == ignoreEvery - 1 ? -1 : Int32(rng.next() % UInt64(vocabulary))
        }
    }

    @Test(arguments: [(1, 1), (1, 7), (3, 16), (4, 17), (2, 1003), (9, 5)])
    func matchesReference(rows N: Int, vocabulary V: Int) {
        let logits = tensor(randomFloats(N * V, seed: 1, low: -5, high: 5))
        let targets = Self.targets(N, vocabulary: V, seed: 2, ignoreEvery: 3)
        for reduction in [SoftmaxCrossEntropy.Reduction.mean, .sum] {
            let d = Tensor(zeros: [N, V]), dRef = Tensor(zeros: [N, V])
            let result = SoftmaxCrossEntropy.compute(logits: logits.base, targets: targets, rows: N, vocabulary: V,
                                                     reduction: reduction, dLogits: d.base)
            let expected = SoftmaxCrossEntropy.reference(logits: logits.base, targets: targets, rows: N,
                                                         vocabulary: V, reduction: reduction, dLogits: dRef.base)
            #expect(result.count == expected.count)
            #expect(abs(result.loss - expected.loss) <= 1e-5 * max(1, abs(expected.loss)))
            expectClose(d.scalars, dRef.scalars, relative: 1e-5, absolute: 1e-7, "dLogits \(reduction)")
            let lossOnly = SoftmaxCrossEntropy.compute(logits: logits.base, targets: targets, rows: N, vocabulary: V,
                                                       reduction: reduction, dLogits: nil)
            #expect(lossOnly == result)
        }
    }

    @Test func gradientMatchesFiniteDifferencesInDouble() {
        let (N, V) = (4, 11)
        let values = randomFloats(N * V, seed: 5, low: -3, high: 3)
        let targets: [Int32] = [3, -1, 0, 10]
        func loss(_ l: [Double]) -> Double {
            var total = 0.0
            for r in 0..<N where targets[r] >= 0 {
                let row = l[r * V..<(r + 1) * V]
                let m = row.max()!
                total += m + log(row.reduce(0) { $0 + exp($1 - m) }) - l[r * V + Int(targets[r])]
            }
            return total / 3
        }
        let logits = tensor(values), d = Tensor(zeros: [N, V])
        let result = SoftmaxCrossEntropy.compute(logits: logits.base, targets: targets, rows: N, vocabulary: V,
                                                 dLogits: d.base)
        #expect(result.count == 3)
        #expect(abs(result.loss - loss(values.map(Double.init))) < 1e-6)
        expectGradient(d.scalars, of: loss, at: values.map(Double.init), "dLogits")
        #expect(d.scalars[V..<2 * V].allSatisfy { $0 == 0 }, "an ignored row gets no gradient")
    }

    @Test func stableForHugeLogitsAndInPlace() {
        let V = 5
        let values: [Float] = [1e4, -1e4, 0, 1e4, 5e3,   -1e4, -1e4, -1e4, -1e4, -9999]
        let logits = tensor(values)
        let targets: [Int32] = [1, 4]
        let result = SoftmaxCrossEntropy.compute(logits: logits.base, targets: targets, rows: 2, vocabulary: V,
                                                 reduction: .sum, dLogits: logits.base)   // in place
        // Row 0: log(2 e^1e4) − (−1e4) = 2e4 + log 2. Row 1: log(4 e^−1e4 + e^−9999) + 9999 = log(1 + 4/e).
        let expected = (2e4 + log(2.0)) + log(1 + 4 / M_E)
        #expect(result.loss.isFinite)
        #expect(abs(result.loss - expected) < 1e-2)
        let d = logits.scalars
        #expect(d.allSatisfy { $0.isFinite })
        expectClose(Array(d[0..<5]), [0.5, -1, 0, 0.5, 0], absolute: 1e-6, "row 0")
        let p = Float(1 / (4 + M_E)), q = Float(M_E / (4 + M_E))
        expectClose(Array(d[5..<10]), [p, p, p, p, q - 1], absolute: 1e-6, "row 1")
    }

    @Test func allIgnoredGivesZero() {
        let logits = tensor([1, 2, 3, 4]), d = tensor([9, 9, 9, 9])
        let result = SoftmaxCrossEntropy.compute(logits: logits.base, targets: [-1, -1], rows: 2, vocabulary: 2,
                                                 dLogits: d.base)
        #expect(result == SoftmaxCrossEntropy.Result(loss: 0, count: 0))
        #expect(d.scalars == [0, 0, 0, 0])
    }

    @Test func resultIsTheSameForOneAndThreeThreads() {
        let (N, V) = (70, 1000)   // 32 rows per chunk: 3 chunks
        let logits = tensor(randomFloats(N * V, seed: 8, low: -8, high: 8))
        let targets = Self.targets(N, vocabulary: V, seed: 9, ignoreEvery: 7)
        var runs: [(SoftmaxCrossEntropy.Result, [Float])] = []
        for threads in [1, 3] {
            let d = Tensor(zeros: [N, V])
            let r = SoftmaxCrossEntropy.compute(logits: logits.base, targets: targets, rows: N, vocabulary: V,
                                                dLogits: d.base, pool: ThreadPool(threads: threads))
            runs.append((r, d.scalars))
        }
        #expect(runs[0].0 == runs[1].0)
        expectIdentical(runs[0].1, runs[1].1, "dLogits 1 vs 3 threads")
    }
}
