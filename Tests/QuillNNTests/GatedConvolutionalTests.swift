import QuillNN
import QuillTensor
import Testing

/// The gated convolutional language model and its layers: finite-difference gradients, the GLU kernel against its
/// reference, and the carried context (windows in a row equal one long sequence).
@Suite struct GatedConvolutionalTests {
    static func randomModel(_ configuration: GatedConvolutionalLanguageModel.Configuration, seed: UInt64)
        throws -> GatedConvolutionalLanguageModel {
        let model = try GatedConvolutionalLanguageModel(configuration)
        var rng = RNG(seed: seed)
        for i in 0..<model.parameters.flatCount { model.parameters.values.base[i] = rng.uniform(-0.6, 0.6) }
        return model
    }

    /// Every parameter and every float of the starting context, for blocks with and without a residual path (the
    /// first block has one only when `E == C`), widths 1 and 3, with and without dropout (masks from a fixed seed).
    @Test(arguments: [(3, 3, Float(0)), (4, 3, 0), (3, 1, 0), (4, 2, 0.3)])
    func gradients(embedding E: Int, width k: Int, dropout: Float) throws {
        let (V, C, L, T, B) = (5, 4, 2, 3, 2)
        let configuration = GatedConvolutionalLanguageModel.Configuration(vocabulary: V, embedding: E, channels: C,
                                                                          blocks: L, width: k)
        let model = try Self.randomModel(configuration, seed: 11)
        model.dropout = dropout
        var rng = RNG(seed: 5)
        let inputs: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, Float(V) - 0.01)) }
        var targets: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, Float(V) - 0.01)) }
        targets[2] = -1
        var context = (0..<(B * configuration.contextPerStream)).map { _ in rng.uniform(-0.8, 0.8) }

        func objective() -> Double {
            var masks = RNG(seed: 99)
            return model.forward(inputs: inputs, targets: targets, steps: T, batch: B, state: [context], rng: &masks,
                                 pool: .shared)
        }
        func numeric(_ perturb: (Float) -> Void) -> Double {
            let e = GradientCheckTests.epsilon
            perturb(e)
            let plus = objective()
            perturb(-2 * e)
            let minus = objective()
            perturb(e)
            return (plus - minus) / (2 * Double(e))
        }
        _ = objective()
        model.parameters.zeroGradients()
        model.backward(pool: .shared)
        let analytic = model.parameters.gradients.buffer.map { $0 }, dContext = model.dInitialContext
        #expect(dContext.count == context.count)
        for entry in model.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j, values = model.parameters.values.base
                GradientCheckTests.expectGradient(numeric { values[i] += $0 }, analytic[i], "\(entry.name)[\(j)]")
            }
        }
        for j in 0..<context.count {
            GradientCheckTests.expectGradient(numeric { context[j] += $0 }, dContext[j], "context[\(j)]")
        }
    }

    /// Windows of 1, 2 and 5 steps, each starting from the context the one before left, give the losses of one
    /// window over the whole sequence: the carried context is exactly the past the convolutions need.
    @Test func windowsInARowEqualOneSequence() throws {
        let configuration = GatedConvolutionalLanguageModel.Configuration(vocabulary: 7, embedding: 5, channels: 6,
                                                                          blocks: 3, width: 3)
        let model = try Self.randomModel(configuration, seed: 3)
        model.isTraining = false
        model.lossReduction = .mean
        var rng = RNG(seed: 8)
        let (T, B) = (10, 2)
        let inputs: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, 6.99)) }
        let targets: [Int32] = (0..<(T * B)).map { _ in Int32(rng.uniform(0, 6.99)) }
        let whole = model.forward(inputs: inputs, targets: targets, steps: T, batch: B) * Double(T * B)
        let wholeContext = model.finalContext
        for window in [1, 2, 5] {
            var total = 0.0, context: [Float]? = nil
            for start in stride(from: 0, to: T, by: window) {
                let slice = start * B..<(start + window) * B
                total += model.forward(inputs: Array(inputs[slice]), targets: Array(targets[slice]), steps: window,
                                       batch: B, context: context) * Double(window * B)
                context = model.finalContext
            }
            #expect(abs(total - whole) <= 1e-4 * abs(whole), "windows of \(window): \(total) vs \(whole)")
            #expect(zip(context!, wholeContext).allSatisfy { abs($0 - $1) <= 1e-5 }, "windows of \(window): context")
        }
    }

    /// The GLU kernel against its `Double` reference, on awkward shapes and thread counts.
    @Test(arguments: [(1, 1), (3, 5), (37, 19), (300, 130)])
    func gluKernel(rows: Int, channels C: Int) {
        var rng = RNG(seed: UInt64(rows * 1000 + C))
        let z = (0..<(rows * 2 * C)).map { _ in rng.uniform(-6, 6) }
        var expected = [Float](repeating: 0, count: rows * C)
        GatedLinearUnit.forwardReference(z, rows: rows, channels: C, output: &expected)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            var y = [Float](repeating: .nan, count: rows * C), s = y
            GatedLinearUnit.forward(z, rows: rows, channels: C, gates: &s, output: &y, pool: ThreadPool(threads: threads))
            for i in 0..<y.count { #expect(abs(y[i] - expected[i]) <= 1e-5 * max(1, abs(expected[i]))) }
            results.append(y)
        }
        #expect(results.allSatisfy { $0 == results[0] }, "the same bits for 1, 2 and 3 threads")
    }
}
