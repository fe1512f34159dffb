import QuillNN
import QuillTensor
import Testing

/// The attention layer and the whole encoder-decoder: finite differences on padded batches, padding that changes
/// nothing, and the same bits for any thread count.
@Suite struct EncoderDecoderTests {
    static func randomize(_ parameters: ParameterSet, seed: UInt64, scale: Float = 0.5) {
        var rng = RNG(seed: seed)
        for i in 0..<parameters.flatCount { parameters.values.base[i] = rng.uniform(-scale, scale) }
    }

    /// Central differences of `objective` with respect to one value that `perturb` moves.
    static func numeric(_ objective: () -> Double, _ perturb: (Float) -> Void) -> Double {
        let e = GradientCheckTests.epsilon
        perturb(e)
        let plus = objective()
        perturb(-2 * e)
        let minus = objective()
        perturb(e)
        return (plus - minus) / (2 * Double(e))
    }

    @Test func attentionGradients() throws {
        let (S, B, H, T) = (4, 3, 5, 3)
        let lengths: [Int32] = [4, 1, 3]
        let parameters = try ParameterSet(LuongAttention.layout(prefix: "attention", width: H))
        Self.randomize(parameters, seed: 3, scale: 0.6)
        let attention = try LuongAttention(parameters, prefix: "attention", width: H)
        var rng = RNG(seed: 5)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }
        var memory = draw(S * B * H), queries = draw(T * B * H)
        // Memory past a row's length is never read: make it huge so any leak shows.
        for s in 0..<S { for b in 0..<B where s >= lengths[b] { for i in 0..<H { memory[(s * B + b) * H + i] = 1e6 } } }
        let w = draw(T * B * H)
        func objective() -> Double {
            var f = 0.0
            memory.withUnsafeBufferPointer { m in
                lengths.withUnsafeBufferPointer { l in
                    attention.begin(memory: m.baseAddress!, sourceSteps: S, memoryRows: B, lengths: l.baseAddress!,
                                    batch: B, capacity: T)
                    for t in 0..<T {
                        let a = queries.withUnsafeBufferPointer { attention.forward(query: $0.baseAddress! + t * B * H, slot: t) }
                        for i in 0..<(B * H) { f += Double(a[i]) * Double(w[t * B * H + i]) }
                    }
                }
            }
            return f
        }
        _ = objective()
        for b in 0..<B {
            let alpha = attention.weights(slot: 0) + b * S
            let sum = (0..<S).reduce(Float(0)) { $0 + alpha[$1] }
            #expect(abs(sum - 1) < 1e-6)
            #expect((Int(lengths[b])..<S).allSatisfy { alpha[$0] == 0 })
        }
        parameters.zeroGradients()
        var dMemory = [Float](repeating: 0, count: S * B * H), dQueries = [Float](repeating: .nan, count: T * B * H)
        for t in stride(from: T - 1, through: 0, by: -1) {
            w.withUnsafeBufferPointer { w in
                dQueries.withUnsafeMutableBufferPointer { dq in
                    dMemory.withUnsafeMutableBufferPointer { dm in
                        attention.backward(slot: t, dOutput: w.baseAddress! + t * B * H,
                                           dQuery: dq.baseAddress! + t * B * H, dMemory: dm.baseAddress!)
                    }
                }
            }
        }
        attention.finishBackward()
        let analytic = Array(UnsafeBufferPointer(start: parameters.gradients.base, count: parameters.flatCount))
        for entry in parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j, values = parameters.values.base
                GradientCheckTests.expectGradient(Self.numeric(objective) { values[i] += $0 }, analytic[i],
                                                  "\(entry.name)[\(j)]")
            }
        }
        for i in 0..<queries.count {
            GradientCheckTests.expectGradient(Self.numeric(objective) { queries[i] += $0 }, dQueries[i], "query[\(i)]")
        }
        for s in 0..<S {
            for b in 0..<B {
                for k in 0..<H {
                    let i = (s * B + b) * H + k
                    if s >= lengths[b] { #expect(dMemory[i] == 0); continue }
                    GradientCheckTests.expectGradient(Self.numeric(objective) { memory[i] += $0 }, dMemory[i],
                                                      "memory[\(s)][\(b)][\(k)]")
                }
            }
        }
    }

    /// A padded batch of three pairs: sources of 4, 1 and 3 ids, targets of 2, 4 and 1.
    struct Batch {
        static let (S, T, B) = (4, 4, 3)
        var source: [Int32] = [3, 1, 4,
                               5, -1, 2,
                               0, -1, 6,
                               2, -1, -1]
        var lengths: [Int32] = [4, 1, 3]
        var inputs: [Int32] = [0, 0, 0,
                               4, 2, -1,
                               -1, 3, -1,
                               -1, 1, -1]
        var targets: [Int32] = [4, 2, 1,
                                1, 3, -1,
                                -1, 1, -1,
                                -1, 4, -1]
    }

    static func model(layers: Int, seed: UInt64 = 11, attention: Bool = true) throws -> EncoderDecoder {
        let model = try EncoderDecoder(.init(sourceVocabulary: 7, targetVocabulary: 5, embedding: 3, hidden: 4,
                                             layers: layers, attention: attention))
        randomize(model.parameters, seed: seed)
        return model
    }

    @Test(arguments: [(1, Float(0), Float(0), true), (2, Float(0.1), Float(0), true), (2, Float(0), Float(0.3), true),
                      (2, Float(0.1), Float(0.3), false)])
    func modelGradients(layers: Int, smoothing: Float, dropout: Float, attention: Bool) throws {
        let model = try Self.model(layers: layers, attention: attention)
        #expect(model.parameters.entries.contains { $0.name.hasPrefix("attention.") } == attention)
        model.labelSmoothing = smoothing
        model.dropout = dropout
        let batch = Batch()
        func objective() -> Double {
            var rng = RNG(seed: 99)  // the same masks at every evaluation
            return model.forward(source: batch.source, sourceLengths: batch.lengths, decoderInputs: batch.inputs,
                                 targets: batch.targets, sourceSteps: Batch.S, targetSteps: Batch.T, batch: Batch.B,
                                 rng: &rng)
        }
        let loss = objective()
        #expect(loss.isFinite && loss > 0)
        model.parameters.zeroGradients()
        model.backward()
        let analytic = Array(UnsafeBufferPointer(start: model.parameters.gradients.base,
                                                 count: model.parameters.flatCount))
        let values = model.parameters.values.base
        for entry in model.parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j
                GradientCheckTests.expectGradient(Self.numeric(objective) { values[i] += $0 }, analytic[i],
                                                  "L=\(layers) ε=\(smoothing) p=\(dropout) attention \(attention) \(entry.name)[\(j)]")
            }
        }
    }

    /// A row's logits do not depend on the rows beside it or on how much padding they bring.
    @Test func paddingChangesNothing() throws {
        let model = try Self.model(layers: 2)
        let batch = Batch()
        _ = model.forward(source: batch.source, sourceLengths: batch.lengths, decoderInputs: batch.inputs,
                          targets: batch.targets, sourceSteps: Batch.S, targetSteps: Batch.T, batch: Batch.B)
        let together = Array(model.logits), V = 5
        // Row 2 alone: 3 source ids, 1 target.
        _ = model.forward(source: [4, 2, 6], sourceLengths: [3], decoderInputs: [0], targets: [1], sourceSteps: 3,
                          targetSteps: 1, batch: 1)
        let alone = Array(model.logits)
        for v in 0..<V { #expect(abs(alone[v] - together[2 * V + v]) < 1e-6) }
    }

    @Test func sameBitsForAnyThreadCount() throws {
        let batch = Batch()
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let model = try Self.model(layers: 2)
            model.dropout = 0.2
            var rng = RNG(seed: 1)
            let pool = ThreadPool(threads: threads)
            _ = model.forward(source: batch.source, sourceLengths: batch.lengths, decoderInputs: batch.inputs,
                              targets: batch.targets, sourceSteps: Batch.S, targetSteps: Batch.T, batch: Batch.B,
                              rng: &rng, pool: pool)
            model.parameters.zeroGradients()
            model.backward(pool: pool)
            results.append(Array(model.logits) + Array(UnsafeBufferPointer(start: model.parameters.gradients.base,
                                                                           count: model.parameters.flatCount)))
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }
}
