import QuillNN
import QuillTensor
import Testing

/// Dropout, tied embeddings, the loss convention, initialisation and thread-count independence of `LanguageModel`.
@Suite struct LanguageModelOptionsTests {
    static func model(_ kind: CellKind = .lstm, V: Int = 7, E: Int = 4, H: Int = 4, L: Int = 2, tied: Bool = false,
                      seed: UInt64 = 21) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: V, embedding: E, hidden: H, layers: L,
                                            tiedEmbeddings: tied))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        return model
    }

    static func ids(_ count: Int, below V: Int, seed: UInt64) -> [Int32] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % UInt64(V)) }
    }

    /// Loss, gradients and `dh0` of one forward + backward.
    static func step(_ model: LanguageModel, _ x: [Int32], _ y: [Int32], T: Int, B: Int, rng: inout RNG,
                     pool: ThreadPool = .shared) -> (loss: Double, gradients: [Float], dH0: [Float]) {
        let loss = model.forward(inputs: x, targets: y, steps: T, batch: B, rng: &rng, pool: pool)
        model.parameters.zeroGradients()
        model.backward(pool: pool)
        return (loss, Array(model.parameters.gradients.buffer), model.dInitialHidden)
    }

    /// Central differences of `objective` against the analytic gradient of every parameter.
    static func checkGradients(_ model: LanguageModel, _ what: String, objective: () -> Double,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        _ = objective()
        model.parameters.zeroGradients()
        model.backward()
        let analytic = Array(model.parameters.gradients.buffer)
        let values = model.parameters.values.base, epsilon = GradientCheckTests.epsilon
        for entry in model.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j
                values[i] += epsilon
                let plus = objective()
                values[i] -= 2 * epsilon
                let minus = objective()
                values[i] += epsilon
                GradientCheckTests.expectGradient((plus - minus) / (2 * Double(epsilon)), analytic[i],
                                                  "\(what) \(entry.name)[\(j)]", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func dropoutZeroEqualsNoDropoutBitForBit() throws {
        let (T, B) = (5, 3)
        let x = Self.ids(T * B, below: 7, seed: 1), y = Self.ids(T * B, below: 7, seed: 2)
        let plain = try Self.model(), zero = try Self.model()
        zero.dropout = 0
        var rng = RNG(seed: 9)
        let a = Self.step(plain, x, y, T: T, B: B, rng: &rng)
        let b = Self.step(zero, x, y, T: T, B: B, rng: &rng)
        #expect(a.loss == b.loss && a.gradients == b.gradients && a.dH0 == b.dH0)
        #expect(rng == RNG(seed: 9), "no dropout draws no mask")
    }

    @Test func evaluationModeIgnoresDropout() throws {
        let (T, B) = (5, 3)
        let x = Self.ids(T * B, below: 7, seed: 1), y = Self.ids(T * B, below: 7, seed: 2)
        let plain = try Self.model(), evaluating = try Self.model()
        evaluating.dropout = 0.5
        var rng = RNG(seed: 9)
        let a = Self.step(plain, x, y, T: T, B: B, rng: &rng)
        evaluating.isTraining = false
        let b = Self.step(evaluating, x, y, T: T, B: B, rng: &rng)
        #expect(a.loss == b.loss && a.gradients == b.gradients)
        #expect(evaluating.forward(inputs: x, targets: y, steps: T, batch: B) == a.loss)
        // In training mode the same model does drop, reproducibly from the seed.
        evaluating.isTraining = true
        var r1 = RNG(seed: 4), r2 = RNG(seed: 4)
        let d1 = Self.step(evaluating, x, y, T: T, B: B, rng: &r1)
        let d2 = Self.step(evaluating, x, y, T: T, B: B, rng: &r2)
        #expect(d1.loss != a.loss)
        #expect(d1.loss == d2.loss && d1.gradients == d2.gradients && r1 == r2)
    }

    /// With the masks fixed (the same seed for every evaluation), the gradients through all three dropout sites are
    /// exact: embedding output, between the layers, before the decoder.
    @Test(arguments: CellKind.allCases)
    func dropoutGradientsWithFixedMask(kind: CellKind) throws {
        let (T, B) = (3, 2)
        let model = try Self.model(kind, V: 5, E: 3, H: 4, L: 2)
        model.dropout = 0.4
        let x = Self.ids(T * B, below: 5, seed: 3), y = Self.ids(T * B, below: 5, seed: 4)
        Self.checkGradients(model, "dropout \(kind)") {
            var rng = RNG(seed: 77)
            return model.forward(inputs: x, targets: y, steps: T, batch: B, rng: &rng)
        }
    }

    @Test func tiedEmbeddings() throws {
        let (T, B) = (3, 2)
        let model = try Self.model(.lstm, V: 6, E: 4, H: 4, L: 2, tied: true)
        #expect(!model.parameters.names.contains("decoder.weight"))
        #expect(model.decoder.weight.base == model.embedding.weight.base)
        let x = Self.ids(T * B, below: 6, seed: 5), y = Self.ids(T * B, below: 6, seed: 6)
        Self.checkGradients(model, "tied") { model.forward(inputs: x, targets: y, steps: T, batch: B) }
        #expect(throws: LayerError.self) {
            try LanguageModel(.init(kind: .lstm, vocabulary: 6, embedding: 3, hidden: 4, layers: 1,
                                    tiedEmbeddings: true))
        }
    }

    /// Zaremba's loss is `T ×` the mean (no ignored targets) and so are its gradients.
    @Test(arguments: CellKind.allCases)
    func summedLossIsStepsTimesMean(kind: CellKind) throws {
        let (T, B) = (6, 3)
        let x = Self.ids(T * B, below: 7, seed: 7), y = Self.ids(T * B, below: 7, seed: 8)
        let model = try Self.model(kind)
        var rng = RNG(seed: 1)
        let mean = Self.step(model, x, y, T: T, B: B, rng: &rng)
        model.lossReduction = .sumOverTime
        let summed = Self.step(model, x, y, T: T, B: B, rng: &rng)
        #expect(abs(summed.loss - Double(T) * mean.loss) <= 1e-6 * summed.loss)
        expectMatch(summed.gradients, mean.gradients.map { $0 * Float(T) }, "summed gradients", tolerance: 1e-6)
        expectMatch(summed.dH0, mean.dH0.map { $0 * Float(T) }, "summed dh0", tolerance: 1e-6)
    }

    @Test func initialization() throws {
        let model = try Self.model(.lstm, V: 50, E: 8, H: 16, L: 2)
        var rng = RNG(seed: 3)
        model.parameters.initialize(.uniform(scale: 0.05), rng: &rng)
        let values = Array(model.parameters.values.buffer)
        #expect(values.allSatisfy { abs($0) <= 0.05 } && values.contains { abs($0) > 0.04 })
        var again = RNG(seed: 3)
        let other = try Self.model(.lstm, V: 50, E: 8, H: 16, L: 2, seed: 99)
        other.parameters.initialize(.uniform(scale: 0.05), rng: &again)
        #expect(Array(other.parameters.values.buffer) == values)

        model.parameters.initialize(.xavier, rng: &rng)
        for entry in model.parameters.entries {
            let v = model.parameters.value(entry.name)!.scalars
            if entry.shape.count == 1 {
                #expect(v.allSatisfy { $0 == 0 }, "\(entry.name) bias is zero")
            } else {
                let bound = (6 / Float(entry.shape[0] + entry.shape[1])).squareRoot()
                #expect(v.allSatisfy { abs($0) <= bound } && v.contains { abs($0) > 0.8 * bound }, "\(entry.name)")
            }
        }
    }

    /// Shapes big enough to split GEMMs, masks and losses over threads give the same bits on 1 and 2 threads.
    @Test func bitIdenticalForAnyThreadCount() throws {
        let (T, B) = (6, 8)
        var results: [(loss: Double, gradients: [Float], dH0: [Float])] = []
        for threads in [1, 2, 3] {
            let model = try Self.model(.lstm, V: 300, E: 64, H: 64, L: 2, tied: true)
            model.dropout = 0.3
            model.lossReduction = .sumOverTime
            let x = Self.ids(T * B, below: 300, seed: 1), y = Self.ids(T * B, below: 300, seed: 2)
            var rng = RNG(seed: 5)
            results.append(Self.step(model, x, y, T: T, B: B, rng: &rng, pool: ThreadPool(threads: threads)))
        }
        for r in results.dropFirst() {
            #expect(r.loss == results[0].loss && r.gradients == results[0].gradients && r.dH0 == results[0].dH0)
        }
    }
}
