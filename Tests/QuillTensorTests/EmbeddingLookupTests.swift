import Testing
@testable import QuillTensor

@Suite struct EmbeddingLookupTests {
    @Test(arguments: [(1, 1, 1), (7, 16, 17), (5, 17, 40), (1003, 3, 2000)])
    func gatherAndScatterAddMatchReference(vocabulary V: Int, dimension D: Int, count N: Int) {
        let table = tensor(randomFloats(V * D, seed: 1))
        var rng = RNG(seed: 2)
        let ids: [Int32] = (0..<N).map { n in n % 5 == 4 ? -1 : Int32(rng.next() % UInt64(V)) }
        let out = Tensor(zeros: [N, D]), outRef = Tensor(zeros: [N, D])
        EmbeddingLookup.gather(table: table.base, vocabulary: V, dimension: D, ids: ids, count: N, output: out.base)
        EmbeddingLookup.gatherReference(table: table.base, dimension: D, ids: ids, count: N, output: outRef.base)
        expectIdentical(out.scalars, outRef.scalars, "gather")

        let dOut = tensor(randomFloats(N * D, seed: 3))
        let initial = randomFloats(V * D, seed: 4)
        let dTable = tensor(initial), dTableRef = tensor(initial)   // scatter-add accumulates
        EmbeddingLookup.scatterAdd(dOutput: dOut.base, ids: ids, count: N, dTable: dTable.base, vocabulary: V,
                                   dimension: D)
        EmbeddingLookup.scatterAddReference(dOutput: dOut.base, ids: ids, count: N, dTable: dTableRef.base,
                                            dimension: D)
        expectIdentical(dTable.scalars, dTableRef.scalars, "scatter-add")
    }

    @Test func repeatedIdsAccumulateAndPaddingIsSkipped() {
        let dOut = tensor([1, 2, 10, 20, 100, 200])
        let dTable = Tensor(zeros: [3, 2])
        EmbeddingLookup.scatterAdd(dOutput: dOut.base, ids: [2, -1, 2], count: 3, dTable: dTable.base, vocabulary: 3,
                                   dimension: 2)
        #expect(dTable.scalars == [0, 0, 0, 0, 101, 202])
    }

    @Test func scatterAddIsTheSameForOneAndThreeThreads() {
        let (V, D, N) = (50, 600, 400)
        var rng = RNG(seed: 3)
        let ids: [Int32] = (0..<N).map { _ in Int32(rng.next() % UInt64(V)) }
        let dOut = tensor(randomFloats(N * D, seed: 4))
        var results: [[Float]] = []
        for threads in [1, 3] {
            let dTable = Tensor(zeros: [V, D])
            EmbeddingLookup.scatterAdd(dOutput: dOut.base, ids: ids, count: N, dTable: dTable.base, vocabulary: V,
                                       dimension: D, pool: ThreadPool(threads: threads))
            results.append(dTable.scalars)
        }
        expectIdentical(results[0], results[1], "1 vs 3 threads")
    }
}
