import Foundation
import Testing
@testable import QuillTensor

@Suite struct OptimizerTests {
    /// A set with one scalar parameter `w` (and padding after it), value `p`.
    static func single(_ p: Float) throws -> ParameterSet {
        let set = try ParameterSet([("w", [1])])
        set.value("w")![flat: 0] = p
        return set
    }

    static func step(_ set: ParameterSet, gradient: Float, _ update: (ParameterSet) -> Void) -> Float {
        set.gradient("w")![flat: 0] = gradient
        update(set)
        return set.value("w")![flat: 0]
    }

    @Test func adamMatchesAHandComputedStep() throws {
        // lr 0.1, β1 0.9, β2 0.999, ε 1e-8; p = 1; gradients 0.5 then −0.2.
        // t=1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25, p = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002.
        // t=2: m = 0.045 − 0.02 = 0.025, v = 0.00024975 + 0.00004 = 0.00028975,
        //      m̂ = 0.025/0.19 = 0.1315789474, v̂ = 0.00028975/0.001999 = 0.1449474737, √v̂ = 0.3807196788,
        //      p = 0.900000002 − 0.1·0.1315789474/0.3807196888 = 0.8654394181.
        let set = try Self.single(1)
        let adam = Adam(for: set, learningRate: 0.1)
        #expect(abs(Self.step(set, gradient: 0.5) { adam.update($0) } - 0.900000002) < 1e-7)
        // Float moments: 1 − β2 rounds to 0.0010000467 in Float (as in PyTorch), hence tolerances of ~1e-4 relative.
        #expect(abs(adam.m.base[0] - 0.05) < 1e-7 && abs(adam.v.base[0] - 0.00025) < 3e-8)
        #expect(abs(Self.step(set, gradient: -0.2) { adam.update($0) } - 0.8654394181) < 1e-6)
        #expect(abs(adam.m.base[0] - 0.025) < 1e-7 && abs(adam.v.base[0] - 0.00028975) < 3e-8)
        #expect(adam.step == 2)
        #expect(adam.m.base[1] == 0 && set.values.base[1] == 0, "padding stays zero")
    }

    @Test func adamWDecaysDecoupledAndAdamL2Couples() throws {
        // AdamW, zero gradient: m = v = 0, so only the decay acts: p = 1·(1 − 0.1·0.01) = 0.999.
        let set = try Self.single(1)
        let adamW = Adam.adamW(for: set, learningRate: 0.1)
        #expect(adamW.weightDecay == 0.01 && adamW.decoupledWeightDecay)
        #expect(abs(Self.step(set, gradient: 0) { adamW.update($0) } - 0.999) < 1e-7)
        // AdamW with gradient 0.5: p = 1·0.999 − 0.1 = 0.899.
        let set2 = try Self.single(1)
        let adamW2 = Adam.adamW(for: set2, learningRate: 0.1)
        #expect(abs(Self.step(set2, gradient: 0.5) { adamW2.update($0) } - 0.899) < 1e-6)
        // Adam with L2 0.5 and zero gradient: g = 0.5·1 = 0.5, so the first step moves by lr: p = 0.9.
        let set3 = try Self.single(1)
        let adam = Adam(for: set3, learningRate: 0.1, weightDecay: 0.5)
        #expect(abs(Self.step(set3, gradient: 0) { adam.update($0) } - 0.9) < 1e-6)
    }

    @Test(arguments: awkwardSizes)
    func adamMatchesDoubleReferenceOverManySteps(n: Int) throws {
        let set = try ParameterSet([("w", [n])])
        let initial = randomFloats(n, seed: 1)
        _ = set.value("w")!.buffer.update(from: initial)
        let adam = Adam.adamW(for: set, learningRate: 0.01, weightDecay: 0.1)
        var (p, m, v) = (initial, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        for t in 1...5 {
            let g = randomFloats(n, seed: 100 + UInt64(t))
            _ = set.gradient("w")!.buffer.update(from: g)
            adam.update(set)
            (p, m, v) = Adam.referenceStep(p: p, g: g, m: m, v: v, step: t, learningRate: 0.01, weightDecay: 0.1,
                                           decoupled: true)
        }
        expectClose(set.value("w")!.scalars, p, relative: 1e-5, absolute: 1e-6, "parameters")
    }

    @Test func sgdMomentumTwoStepsByHand() throws {
        // lr 0.1, μ 0.9, gradients 0.5 then 0.25, p = 1.
        // Plain momentum: buf = 0.5, p = 0.95; buf = 0.45 + 0.25 = 0.7, p = 0.95 − 0.07 = 0.88.
        let a = try Self.single(1), sgd = SGD(for: a, learningRate: 0.1, momentum: 0.9)
        #expect(abs(Self.step(a, gradient: 0.5) { sgd.update($0) } - 0.95) < 1e-7)
        #expect(abs(Self.step(a, gradient: 0.25) { sgd.update($0) } - 0.88) < 1e-7)
        // Nesterov: g + μ·buf = 0.95 → p = 0.905; then buf = 0.7, 0.25 + 0.63 = 0.88 → p = 0.817.
        let b = try Self.single(1), nesterov = SGD(for: b, learningRate: 0.1, momentum: 0.9, nesterov: true)
        #expect(abs(Self.step(b, gradient: 0.5) { nesterov.update($0) } - 0.905) < 1e-7)
        #expect(abs(Self.step(b, gradient: 0.25) { nesterov.update($0) } - 0.817) < 1e-7)
        // Dampening 0.1: the first step is undamped (buf = g), then buf = 0.45 + 0.9·0.25 = 0.675 → p = 0.8825.
        let c = try Self.single(1), damped = SGD(for: c, learningRate: 0.1, momentum: 0.9, dampening: 0.1)
        #expect(abs(Self.step(c, gradient: 0.5) { damped.update($0) } - 0.95) < 1e-7)
        #expect(abs(Self.step(c, gradient: 0.25) { damped.update($0) } - 0.8825) < 1e-7)
        // Plain SGD with weight decay 0.1: g = 0.5 + 0.1 = 0.6 → p = 0.94.
        let d = try Self.single(1), plain = SGD(for: d, learningRate: 0.1, weightDecay: 0.1)
        #expect(abs(Self.step(d, gradient: 0.5) { plain.update($0) } - 0.94) < 1e-7)
        #expect(d.gradient("w")![flat: 0] == 0.5, "gradients are not modified")
    }

    @Test func updatesAreTheSameForOneAndThreeThreads() throws {
        let n = 100_000
        let initial = randomFloats(n, seed: 3), g = randomFloats(n, seed: 4)
        var results: [[Float]] = []
        for threads in [1, 3] {
            let set = try ParameterSet([("w", [n])])
            _ = set.value("w")!.buffer.update(from: initial)
            _ = set.gradient("w")!.buffer.update(from: g)
            let adam = Adam(for: set, learningRate: 0.01)
            let sgd = SGD(for: set, learningRate: 0.1, momentum: 0.9)
            let pool = ThreadPool(threads: threads)
            for _ in 0..<2 { adam.update(set, pool: pool); sgd.update(set, pool: pool) }
            results.append(set.value("w")!.scalars)
        }
        expectIdentical(results[0], results[1], "1 vs 3 threads")
    }

    /// Each kind builds its optimizer, whose whole state is `step` and named buffers of the parameter layout.
    @Test(arguments: OptimizerKind.allCases)
    func kindsBuildTheirOptimizerWithNamedState(kind: OptimizerKind) throws {
        let set = try ParameterSet([("w", [3]), ("b", [2])])
        let optimizer = kind.make(for: set, learningRate: 0.5, momentum: kind == .sgd ? 0.9 : 0)
        #expect(optimizer.learningRate == 0.5 && optimizer.step == 0)
        #expect(optimizer.stateBuffers.map(\.name) == (kind == .sgd ? ["momentum"] : ["m", "v"]))
        #expect(optimizer.stateBuffers.allSatisfy { $0.buffer.count == set.flatCount })
        switch kind {
        case .sgd: #expect((optimizer as? SGD)?.momentum == 0.9)
        case .adam: #expect((optimizer as? Adam).map { !$0.decoupledWeightDecay && $0.weightDecay == 0 } == true)
        case .adamw: #expect((optimizer as? Adam).map { $0.decoupledWeightDecay && $0.weightDecay == 0.01 } == true)
        }
        #expect(SGD(for: set, learningRate: 1).stateBuffers.isEmpty, "plain SGD has no state besides the step")
    }

    /// Nesterov through the kind: `g + μ·buf` with `buf = g` on the first step, so p = 1 − 1·(0.5 + 0.9·0.5).
    @Test func nesterovThroughTheKind() throws {
        let set = try Self.single(1)
        let sgd = OptimizerKind.sgd.make(for: set, learningRate: 1, momentum: 0.9, nesterov: true)
        #expect(abs(Self.step(set, gradient: 0.5) { sgd.update($0, pool: .shared) } - 0.05) < 1e-6)
    }
}
