import Testing
@testable import QuillTensor

@Suite struct BiasTests {
    @Test(arguments: [(1, 1), (7, 16), (17, 7), (3, 1003), (1003, 3), (100, 700)])
    func addAndColumnSumsMatchReference(rows N: Int, columns D: Int) {
        let values = randomFloats(N * D, seed: 1), bias = tensor(randomFloats(D, seed: 2))
        let x = tensor(values), xRef = tensor(values)
        Bias.add(bias.base, to: x.base, rows: N, columns: D)
        Bias.addReference(bias.base, to: xRef.base, rows: N, columns: D)
        expectIdentical(x.scalars, xRef.scalars, "bias add")

        let initial = randomFloats(D, seed: 3)
        let sums = tensor(initial), sumsRef = tensor(initial)   // accumulates
        Bias.accumulateColumnSums(of: x.base, rows: N, columns: D, into: sums.base)
        Bias.columnSumsReference(of: x.base, rows: N, columns: D, into: sumsRef.base)
        expectIdentical(sums.scalars, sumsRef.scalars, "column sums")
    }

    @Test func columnSumsAreTheSameForOneAndThreeThreads() {
        let (N, D) = (100, 700)
        let x = tensor(randomFloats(N * D, seed: 4))
        var results: [[Float]] = []
        for threads in [1, 3] {
            let sums = Tensor(zeros: [D])
            Bias.accumulateColumnSums(of: x.base, rows: N, columns: D, into: sums.base,
                                      pool: ThreadPool(threads: threads))
            results.append(sums.scalars)
        }
        expectIdentical(results[0], results[1], "1 vs 3 threads")
    }
}
