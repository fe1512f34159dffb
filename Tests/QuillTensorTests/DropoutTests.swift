import Testing
@testable import QuillTensor

@Suite struct DropoutTests {
    @Test func maskIsReproducibleAndScaledAndDropsAboutP() {
        let n = 100_000, p: Float = 0.3
        let mask = Tensor(zeros: [n]), again = Tensor(zeros: [n])
        var rng = RNG(seed: 11), rng2 = RNG(seed: 11)
        Dropout.makeMask(mask.base, count: n, probability: p, rng: &rng)
        Dropout.makeMask(again.base, count: n, probability: p, rng: &rng2)
        expectIdentical(mask.scalars, again.scalars, "same seed, same mask")
        let keep = 1 / (1 - p)
        #expect(mask.scalars.allSatisfy { $0 == 0 || $0 == keep })
        let dropped = Double(mask.scalars.filter { $0 == 0 }.count) / Double(n)
        #expect(abs(dropped - 0.3) < 0.01)
        let mean = mask.scalars.reduce(0, +) / Float(n)
        #expect(abs(mean - 1) < 0.02, "inverted scaling keeps the expectation")
    }

    @Test func edgeProbabilities() {
        let mask = Tensor(zeros: [17])
        var rng = RNG(seed: 1)
        Dropout.makeMask(mask.base, count: 17, probability: 0, rng: &rng)
        #expect(mask.scalars.allSatisfy { $0 == 1 })
        Dropout.makeMask(mask.base, count: 17, probability: 1, rng: &rng)
        #expect(mask.scalars.allSatisfy { $0 == 0 })
    }

    @Test(arguments: awkwardSizes)
    func forwardAndBackwardMatchReference(n: Int) {
        let x = tensor(randomFloats(n, seed: 1)), mask = Tensor(zeros: [n])
        var rng = RNG(seed: UInt64(n))
        Dropout.makeMask(mask.base, count: n, probability: 0.5, rng: &rng)
        let y = Tensor(zeros: [n]), yRef = Tensor(zeros: [n]), dx = Tensor(zeros: [n])
        Dropout.forward(x.base, mask: mask.base, y.base, count: n)
        Dropout.forwardReference(x.base, mask: mask.base, yRef.base, count: n)
        expectIdentical(y.scalars, yRef.scalars, "forward")
        Dropout.backward(dOutput: x.base, mask: mask.base, dInput: dx.base, count: n)
        expectIdentical(dx.scalars, yRef.scalars, "backward is the same product")
    }
}
