import QuillNN
import QuillTensor
import Testing

/// The feed-forward network: central finite differences against every analytic gradient, and the losses by hand.
@Suite struct FeedForwardTests {
    /// ε 1e-2 as the recurrent check; 1e-3 for ReLU, whose kinks a larger step would cross more often.
    static func epsilon(_ activation: FeedForward.Activation) -> Float { activation == .relu ? 1e-3 : 1e-2 }

    struct Case: Sendable, CustomTestStringConvertible {
        let activation: FeedForward.Activation
        let loss: FeedForward.Loss
        var testDescription: String { "\(activation), \(loss)" }
    }

    static let cases = FeedForward.Activation.allCases.flatMap { a in
        FeedForward.Loss.allCases.map { Case(activation: a, loss: $0) }
    }

    /// Every parameter of a 3-layer network (`D` 3, hidden 4 and 5, `O` 2) on a batch of 3 rows.
    @Test(arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: Case) throws {
        let (N, D, O) = (40, 3, 2)
        let model = try FeedForward(.init(sizes: [D, 4, 5, O], activation: c.activation, loss: c.loss))
        var rng = RNG(seed: 11)
        for i in 0..<model.parameters.flatCount { model.parameters.values.base[i] = rng.uniform(-0.8, 0.8) }
        let input = (0..<(N * D)).map { _ in rng.uniform(-1, 1) }
        let targets: FeedForward.Targets = c.loss == .meanSquaredError
            ? .values((0..<(N * O)).map { _ in rng.uniform(-1, 1) })
            : .classes((0..<N).map { Int32($0 % 2) })
        func loss() -> Double { model.forward(input, rows: N, targets: targets) }

        _ = loss()
        model.parameters.zeroGradients()
        model.backward()
        let analytic = Array(model.parameters.gradients.buffer)
        #expect(analytic.contains { $0 != 0 })
        for entry in model.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j, values = model.parameters.values.base, e = Self.epsilon(c.activation)
                values[i] += e
                let plus = loss()
                values[i] -= 2 * e
                let minus = loss()
                values[i] += e
                let numeric = (plus - minus) / (2 * Double(e)), a = Double(analytic[i])
                #expect(abs(numeric - a) <= 1e-3 + 3e-2 * abs(a),
                        "\(c.activation) \(entry.name)[\(j)]: numeric \(numeric), analytic \(a)")
            }
        }
    }

    /// Backward adds into the gradients: twice is double.
    @Test func backwardAccumulates() throws {
        let model = try FeedForward(.init(sizes: [2, 3, 1], activation: .tanh))
        var rng = RNG(seed: 2)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        _ = model.forward([0.5, -1, 0.25, 2], rows: 2, targets: .values([1, -1]))
        model.parameters.zeroGradients()
        model.backward()
        let once = Array(model.parameters.gradients.buffer)
        model.backward()
        #expect(zip(once, model.parameters.gradients.buffer).allSatisfy { $1 == 2 * $0 })
    }

    /// One layer, no hidden: `y = w·x + b`, so the loss is checkable by hand.
    @Test func aSingleLayerIsAnAffineMap() throws {
        let model = try FeedForward(.init(sizes: [2, 1]))
        model.parameters.value("layers.0.weight")![flat: 0] = 2
        model.parameters.value("layers.0.weight")![flat: 1] = -1
        model.parameters.value("layers.0.bias")![flat: 0] = 0.5
        #expect(model.predict([1, 3, 0, 0], rows: 2) == [-0.5, 0.5])
        // MSE against [0, 0]: (0.25 + 0.25) / 2.
        #expect(model.forward([1, 3, 0, 0], rows: 2, targets: .values([0, 0])) == 0.25)
        #expect(throws: LayerError.self) { try FeedForward(.init(sizes: [3])) }
    }
}
