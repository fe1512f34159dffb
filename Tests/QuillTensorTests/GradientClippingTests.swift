import Testing
@testable import QuillTensor

@Suite struct GradientClippingTests {
    @Test func clipsToMaxNormAndReturnsTheNormBefore() {
        let g = tensor([3, 4])
        let norm = GradientClipping.clipGlobalNorm(g.buffer, maxNorm: 1)
        #expect(norm == 5)
        expectClose(g.scalars, [0.6, 0.8], relative: 1e-6, "clipped")
        let h = tensor([3, 4])
        #expect(GradientClipping.clipGlobalNorm(h.buffer, maxNorm: 10) == 5)
        #expect(h.scalars == [3, 4], "below the limit: unchanged")
    }

    @Test func clipsAParameterSetAcrossTensors() throws {
        let set = try ParameterSet([("a", [3]), ("b.weight", [2, 2])])
        _ = set.gradient("a")!.buffer.update(from: [1, 2, 2])        // norm² 9
        _ = set.gradient("b.weight")!.buffer.update(from: [0, 4, 0, 0])   // norm² 16
        let norm = GradientClipping.clipGlobalNorm(set, maxNorm: 2.5)
        #expect(norm == 5)
        expectClose(set.gradient("a")!.scalars, [0.5, 1, 1], relative: 1e-6)
        expectClose(set.gradient("b.weight")!.scalars, [0, 2, 0, 0], relative: 1e-6)
    }

    @Test(arguments: [1, 7, 16, 17, 1003, 300_000])
    func normMatchesReference(n: Int) {
        let g = tensor(randomFloats(n, seed: UInt64(n)))
        let fast = GradientClipping.globalNorm(UnsafeBufferPointer(g.buffer))
        let reference = GradientClipping.globalNormReference(UnsafeBufferPointer(g.buffer))
        #expect(abs(fast - reference) <= 1e-6 * reference)
    }

    @Test func normIsTheSameForOneAndThreeThreads() {
        let g = tensor(randomFloats(300_000, seed: 5))
        let one = GradientClipping.globalNorm(UnsafeBufferPointer(g.buffer), pool: ThreadPool(threads: 1))
        let three = GradientClipping.globalNorm(UnsafeBufferPointer(g.buffer), pool: ThreadPool(threads: 3))
        #expect(one.bitPattern == three.bitPattern)
    }
}
