import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// The translator against the training model's own teacher-forced probabilities: greedy picks each step's most
/// likely id, beam search with a beam wide enough to keep everything finds the exhaustive optimum, and neither the
/// batching nor the thread count changes a result.
@Suite struct TranslatorTests {
    static let (end, V) = (Int32(1), 6)

    static func model(seed: UInt64 = 4, layers: Int = 2, attention: Bool = true) throws -> EncoderDecoder {
        let model = try EncoderDecoder(.init(sourceVocabulary: 7, targetVocabulary: V, embedding: 4, hidden: 6,
                                             layers: layers, attention: attention))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.8), rng: &rng)
        model.isTraining = false
        return model
    }

    static let sources: [[Int32]] = [[3, 4, 5, 1], [2, 1], [6, 6, 2, 3, 4, 1], [5, 1]]

    /// The summed log-probability of `ids` (then the end, when `ended`) after `source`, by teacher forcing.
    static func logProbability(_ model: EncoderDecoder, source: [Int32], ids: [Int32], ended: Bool) -> Double {
        let targets = ended ? ids + [end] : ids
        guard !targets.isEmpty else { return 0 }
        let inputs = [end] + targets.dropLast()
        let loss = model.forward(source: source, sourceLengths: [Int32(source.count)], decoderInputs: inputs,
                                 targets: targets, sourceSteps: source.count, targetSteps: targets.count, batch: 1)
        return -loss * Double(targets.count)
    }

    @Test(arguments: [true, false])
    func greedyFollowsTheMostLikelyIdOfTheTrainingModel(attention: Bool) throws {
        let model = try Self.model(attention: attention)
        let translator = try Translator(model: model, startID: Self.end, endID: Self.end)
        let results = translator.translate(Self.sources, options: .greedy)
        for (source, hypotheses) in zip(Self.sources, results) {
            let best = try #require(hypotheses.first)
            let targets = best.ended ? best.ids + [Self.end] : best.ids
            let inputs = [Self.end] + targets.dropLast()
            _ = model.forward(source: source, sourceLengths: [Int32(source.count)], decoderInputs: inputs,
                              targets: targets, sourceSteps: source.count, targetSteps: targets.count, batch: 1)
            for (t, id) in targets.enumerated() {
                let row = Array(model.logits[(t * Self.V)..<((t + 1) * Self.V)])
                #expect(row.indices.max { row[$0] < row[$1] } == Int(id), "step \(t)")
            }
            let expected = Self.logProbability(model, source: source, ids: best.ids, ended: best.ended)
            #expect(abs(best.logProbability - expected) < 1e-4)
            #expect(best.ids.count <= Int(1.5 * Double(source.count)) + 5)
        }
    }

    /// With a beam that keeps every prefix, the best hypothesis is the best of all sequences up to the cap.
    @Test(arguments: [0.0, 1.0])
    func wideBeamFindsTheExhaustiveOptimum(alpha: Double) throws {
        let model = try Self.model(seed: 9, layers: 1)
        let translator = try Translator(model: model, startID: Self.end, endID: Self.end)
        let cap = 3
        var options = Translator.Options(beam: 200, nbest: 3, lengthPenalty: alpha, maxLengthRatio: 0,
                                         maxLengthExtra: cap)
        options.batch = 2
        let results = translator.translate(Self.sources, options: options)
        func penalty(_ n: Int) -> Double { alpha == 0 ? 1 : pow((5 + Double(n)) / 6, alpha) }
        for (source, hypotheses) in zip(Self.sources, results) {
            // Every sequence: ended ones of 0..<cap ids, and unended ones of exactly cap ids.
            var best = -Double.infinity
            var prefixes: [[Int32]] = [[]]
            for length in 0...cap {
                for ids in prefixes where ids.count == length {
                    if length < cap {
                        best = max(best, Self.logProbability(model, source: source, ids: ids, ended: true)
                                   / penalty(length + 1))
                    } else {
                        best = max(best, Self.logProbability(model, source: source, ids: ids, ended: false)
                                   / penalty(length))
                    }
                }
                if length < cap {
                    prefixes = prefixes.filter { $0.count == length }.flatMap { ids in
                        (0..<Int32(Self.V)).filter { $0 != Self.end }.map { ids + [$0] }
                    }
                }
            }
            let top = try #require(hypotheses.first)
            #expect(abs(top.score - best) < 1e-4, "beam \(top.score), exhaustive \(best)")
            #expect(hypotheses.count == 3)
            #expect(zip(hypotheses, hypotheses.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(Set(hypotheses.map { $0.ids + [$0.ended ? 1 : 0] }).count == 3)
        }
    }

    @Test func batchingAndThreadsChangeNothing() throws {
        var outcomes: [[[Translator.Hypothesis]]] = []
        for (threads, batch) in [(1, 1), (2, 64), (3, 3)] {
            let translator = try Translator(model: try Self.model(), startID: Self.end, endID: Self.end,
                                        pool: ThreadPool(threads: threads))
            outcomes.append(translator.translate(Self.sources, options: .init(beam: 3, nbest: 2, lengthPenalty: 0.6,
                                                                              batch: batch, attention: true)))
        }
        #expect(outcomes[0] == outcomes[1] && outcomes[1] == outcomes[2])
    }

    @Test func attentionHasARowPerStepOverTheSource() throws {
        let translator = try Translator(model: try Self.model(), startID: Self.end, endID: Self.end)
        let results = translator.translate(Self.sources, options: .init(beam: 2, attention: true))
        for (source, hypotheses) in zip(Self.sources, results) {
            let best = try #require(hypotheses.first)
            let weights = try #require(best.attention)
            #expect(weights.count == best.ids.count + (best.ended ? 1 : 0))
            for row in weights {
                #expect(row.count == source.count)
                #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            }
        }
    }

    @Test func suppressedEndRunsToTheCap() throws {
        let translator = try Translator(model: try Self.model(), startID: Self.end, endID: Self.end)
        let results = translator.translate(Self.sources, options: .init(beam: 5, suppressEnd: true))
        for (source, hypotheses) in zip(Self.sources, results) {
            #expect(hypotheses[0].ids.count == Int(1.5 * Double(source.count)) + 5 && !hypotheses[0].ended)
        }
    }

    /// bfloat16 products: the same bits for any thread count, and hypotheses whose float32 log-probability is close to
    /// the one the bfloat16 search computed (8 significant bits in the operands, float32 sums).
    @Test func bfloat16DecodingIsCloseAndThreadIndependent() throws {
        let model = try Self.model()
        var outcomes: [[[Translator.Hypothesis]]] = []
        for threads in [1, 2] {
            let translator = try Translator(model: model, startID: Self.end, endID: Self.end, precision: .bfloat16,
                                            pool: ThreadPool(threads: threads))
            outcomes.append(translator.translate(Self.sources, options: .init(beam: 3)))
        }
        #expect(outcomes[0] == outcomes[1])
        for (source, hypotheses) in zip(Self.sources, outcomes[0]) {
            let best = try #require(hypotheses.first)
            let exact = Self.logProbability(model, source: source, ids: best.ids, ended: best.ended)
            #expect(abs(best.logProbability - exact) <= 0.02 * abs(exact) + 0.02, "\(best.logProbability) vs \(exact)")
        }
        #expect(throws: Stepper.UnsupportedPrecision.self) {
            _ = try Translator(model: model, startID: Self.end, endID: Self.end, precision: .int8)
        }
    }
}
