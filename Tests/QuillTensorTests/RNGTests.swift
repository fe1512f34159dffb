import Testing
@testable import QuillTensor

@Suite struct RNGTests {
    @Test func matchesTheXoshiro256StarStarReferenceStream() {
        // First outputs of the reference xoshiro256** from state {1, 2, 3, 4} (as in rand_xoshiro's test).
        var rng = RNG(state: [1, 2, 3, 4])
        let expected: [UInt64] = [11520, 0, 1509978240, 1215971899390074240]
        #expect((0..<4).map { _ in rng.next() } == expected)
    }

    @Test func reproducibleFromSeedAndState() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let xs = (0..<100).map { _ in a.next() }
        #expect(xs == (0..<100).map { _ in b.next() })
        #expect(xs != (0..<100).map { _ in c.next() })
        let saved = a.state
        let more = (0..<10).map { _ in a.uniform() }
        var resumed = RNG(state: saved)
        #expect(more == (0..<10).map { _ in resumed.uniform() })
    }

    @Test func splitStreamsDiffer() {
        var parent = RNG(seed: 7)
        let copy = parent
        var child = parent.split()
        #expect(child == copy, "the child continues the stream the parent had")
        #expect(parent != copy)
        let fromChild = (0..<1000).map { _ in child.next() }
        let fromParent = (0..<1000).map { _ in parent.next() }
        #expect(Set(fromChild).isDisjoint(with: fromParent))
        var parent2 = RNG(seed: 7)
        _ = parent2.split()
        _ = (0..<1000).map { _ in parent2.next() }
        #expect(parent2 == parent, "split is deterministic")
    }

    @Test func uniformStaysInRange() {
        var rng = RNG(seed: 1)
        for _ in 0..<10_000 {
            let u = rng.uniform()
            #expect(u >= 0 && u < 1)
            let v = rng.uniform(-3, 5)
            #expect(v >= -3 && v < 5)
        }
    }

    @Test func normalHasMeanZeroAndVarianceOne() {
        var rng = RNG(seed: 2024)
        let t = Tensor(zeros: [100_000])
        rng.fillNormal(t)
        let xs = t.scalars.map(Double.init)
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        #expect(abs(mean) < 0.015)
        #expect(abs(variance - 1) < 0.02)
        var single = RNG(seed: 5)
        let ys = (0..<20_000).map { _ in Double(single.normal()) }
        #expect(abs(ys.reduce(0, +) / 20_000) < 0.03)
    }

    @Test func fillUniformCoversTheInterval() {
        var rng = RNG(seed: 3)
        let t = Tensor(zeros: [100_000])
        rng.fillUniform(t, low: -0.1, high: 0.1)
        let xs = t.scalars
        #expect(xs.allSatisfy { $0 >= -0.1 && $0 < 0.1 })
        let mean = xs.reduce(0, +) / Float(xs.count)
        #expect(abs(mean) < 0.002)
    }
}
