import QuillNN
import QuillTensor
import Testing

/// Central finite differences `(f(θ+ε) − f(θ−ε)) / 2ε` in Float against every analytic gradient, on tiny shapes.
///
/// With ε = 1e-2 the rounding noise of a Float forward (~1e-7 of a loss near 1) is ~1e-5 and the truncation error is
/// O(ε²), so a tolerance of 1e-3 + 3% is loose for those yet far below what a wrong term costs.
@Suite struct GradientCheckTests {
    static let epsilon: Float = 1e-2

    static func expectGradient(_ numeric: Double, _ analytic: Float, _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let a = Double(analytic)
        #expect(abs(numeric - a) <= 1e-3 + 3e-2 * abs(a), "\(what): numeric \(numeric), analytic \(a)",
                sourceLocation: sourceLocation)
    }

    /// Every parameter, `h0` and `c0` of a 2-layer model, for the loss plus `⟨w, h_T⟩ + ⟨u, c_T⟩` (so the gradients
    /// arriving at the final states are checked too).
    @Test(arguments: CellKind.allCases)
    func languageModel(kind: CellKind) throws {
        let (V, E, H, L, T, B) = (5, 3, 4, 2, 3, 2)
        let model = try LanguageModel(.init(kind: kind, vocabulary: V, embedding: E, hidden: H, layers: L))
        var rng = RNG(seed: 7)
        for i in 0..<model.parameters.flatCount { model.parameters.values.base[i] = rng.uniform(-0.6, 0.6) }
        let inputs: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, Float(V) - 0.01)) }
        var targets: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, Float(V) - 0.01)) }
        targets[1] = -1  // one ignored position
        let S = L * B * H
        var h0 = (0..<S).map { _ in rng.uniform(-0.5, 0.5) }
        var c0 = (0..<S).map { _ in rng.uniform(-0.5, 0.5) }
        let w = (0..<S).map { _ in rng.uniform(-1, 1) }, u = (0..<S).map { _ in rng.uniform(-1, 1) }

        func objective() -> Double {
            var f = model.forward(inputs: inputs, targets: targets, steps: T, batch: B, h0: h0, c0: c0)
            f += zip(model.finalHidden, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            if kind.hasCellState { f += zip(model.finalCell, u).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
            return f
        }
        func numeric(_ perturb: (Float) -> Void) -> Double {
            perturb(Self.epsilon)
            let plus = objective()
            perturb(-2 * Self.epsilon)
            let minus = objective()
            perturb(Self.epsilon)
            return (plus - minus) / (2 * Double(Self.epsilon))
        }

        _ = objective()
        model.parameters.zeroGradients()
        model.backward(dFinalHidden: w, dFinalCell: kind.hasCellState ? u : nil)
        let dH0 = model.dInitialHidden, dC0 = model.dInitialCell
        let analytic = model.parameters.gradients.buffer.map { $0 }
        for entry in model.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j
                let values = model.parameters.values.base
                let fd = numeric { values[i] += $0 }
                Self.expectGradient(fd, analytic[i], "\(kind) \(entry.name)[\(j)]")
            }
        }
        for j in 0..<S {
            Self.expectGradient(numeric { h0[j] += $0 }, dH0[j], "\(kind) h0[\(j)]")
            if kind.hasCellState { Self.expectGradient(numeric { c0[j] += $0 }, dC0[j], "\(kind) c0[\(j)]") }
        }
    }

    /// Every weight and bias of the Dense → sigmoid → Dense → ReLU → Dense network with the MSE loss.
    @Test func denseWithMeanSquaredError() throws {
        let network = try FeedForwardFixture()
        var rng = RNG(seed: 3)
        for i in 0..<network.parameters.flatCount { network.parameters.values.base[i] = rng.uniform(-1, 1) }
        for entry in network.parameters.entries where entry.name.hasSuffix("bias") {
            // Keep the ReLU inputs away from its kink, where finite differences are meaningless.
            for j in 0..<entry.count { network.parameters.values.base[entry.offset + j] += 0.3 }
        }
        let rows = 4
        let input = (0..<(rows * 4)).map { _ in rng.uniform(-1, 1) }
        let target = (0..<(rows * 3)).map { _ in rng.uniform(-1, 1) }
        network.parameters.zeroGradients()
        _ = network.lossAndGradients(input: input, target: target, rows: rows)
        let analytic = network.parameters.gradients.buffer.map { $0 }
        let values = network.parameters.values.base
        for entry in network.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j
                values[i] += Self.epsilon
                let plus = network.lossAndGradients(input: input, target: target, rows: rows).0
                values[i] -= 2 * Self.epsilon
                let minus = network.lossAndGradients(input: input, target: target, rows: rows).0
                values[i] += Self.epsilon
                Self.expectGradient((plus - minus) / (2 * Double(Self.epsilon)), analytic[i], "\(entry.name)[\(j)]")
            }
        }
    }

    /// `MeanSquaredError` against its definition.
    @Test func meanSquaredError() {
        let y: [Float] = [1, 2, 3, 4], t: [Float] = [0, 2, 5, 3]
        var d = [Float](repeating: 0, count: 4)
        let loss = MeanSquaredError.compute(output: y, target: t, count: 4, dOutput: &d)
        #expect(loss == (1 + 0 + 4 + 1) / 4.0)
        #expect(d == [0.5, 0, -1, 0.5])
    }
}
