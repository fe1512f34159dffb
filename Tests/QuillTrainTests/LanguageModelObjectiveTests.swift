import Foundation
import QuillNN
import QuillTensor
import QuillTestSupport
import QuillText
import Testing
@testable import QuillTrain

/// A ``LanguageModelObjective`` trained window by window through ``trainStep(_:optimizer:clipNorm:rng:pool:afterBackward:)``,
/// as the loop and the benchmarks drive it.
final class WindowTrainer {
    let objective: LanguageModelObjective
    let optimizer: any Optimizer
    var rng = RNG(seed: 0)
    private(set) var step = 0

    init(_ objective: LanguageModelObjective, optimizer: any Optimizer) {
        self.objective = objective
        self.optimizer = optimizer
    }

    var model: LanguageModel { objective.model as! LanguageModel }
    var batcher: Batcher { objective.batcher }

    /// Trains up to `windows` windows of the epoch: (the mean loss per target, the windows trained).
    @discardableResult
    func train(windows: Int = .max, pool: ThreadPool = .shared) -> (Double, windows: Int) {
        var loss = RunningMean(), done = 0
        while done < windows, let result = trainStep(objective, optimizer: optimizer, clipNorm: 5, rng: &rng,
                                                      pool: pool) {
            loss.add(result.loss, weight: result.targets)
            done += 1
            step += 1
        }
        return (loss.mean, done)
    }

    func evaluate(_ ids: [Int32], batch: Int, steps: Int) throws -> Double {
        try QuillTrain.evaluate(model: model, ids: ids, batch: batch, steps: steps).meanLoss
    }
}

@Suite struct LanguageModelObjectiveTests {
    /// The first 4,000 token ids of the embedded corpus, in a 500-entry vocabulary built from it.
    static let ids: [Int32] = {
        let path = TestSupport.packageRoot.appendingPathComponent("corpora/default/train.txt").path
        var builder = VocabularyBuilder(settings: TokenizerSettings())
        try! builder.addTokens(of: TextReader(path: path))
        let vocabulary = builder.build(maxSize: 500)
        return Array(try! TokenIDs.encode(file: path, vocabulary: vocabulary).ids.prefix(4000))
    }()

    private func trainer(seed: UInt64) throws -> WindowTrainer {
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: 500, embedding: 32, hidden: 32, layers: 1))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        return WindowTrainer(try LanguageModelObjective(model: model, trainIDs: Self.ids, batch: 8, steps: 10),
                             optimizer: Adam(for: model.parameters, learningRate: 0.01))
    }

    @Test func trainingLowersTheLoss() throws {
        let t = try trainer(seed: 1)
        let before = try t.evaluate(Self.ids, batch: 8, steps: 10)
        #expect(abs(before - log(500.0)) < 0.2, "an untrained model is near uniform: \(before)")
        var epochLosses: [Double] = []
        for _ in 0..<3 {
            t.objective.startEpoch(1)
            let (loss, windows) = t.train()
            #expect(windows == 50)  // 4000 / 8 = 500 ids per stream, (500 − 1) / 10 → 50 windows
            epochLosses.append(loss)
        }
        let after = try t.evaluate(Self.ids, batch: 8, steps: 10)
        #expect(epochLosses[2] < epochLosses[0], "\(epochLosses)")
        #expect(after < before - 1.0, "loss \(before) → \(after)")
        #expect(t.step == 150)
    }

    @Test func trainingIsBitIdenticalAcrossRunsAndThreadCounts() throws {
        var results: [[UInt32]] = []
        for threads in [1, 2, 1] {
            let pool = ThreadPool(threads: threads)
            let t = try trainer(seed: 7)
            t.train(windows: 12, pool: pool)
            results.append(Array(UnsafeBufferPointer(start: t.model.parameters.values.base,
                                                     count: t.model.parameters.flatCount)).map(\.bitPattern))
        }
        #expect(results[0] == results[2], "the same seed gives the same parameters")
        #expect(results[0] == results[1], "1 and 2 threads give the same bits")
    }

    @Test func dropoutTrainsReproduciblyAndEvaluationIgnoresIt() throws {
        var parameters: [[UInt32]] = []
        for _ in 0..<2 {
            let t = try trainer(seed: 5)
            t.model.dropout = 0.3
            let before = try t.evaluate(Self.ids, batch: 8, steps: 10)
            #expect(try t.evaluate(Self.ids, batch: 8, steps: 10) == before, "evaluation draws no masks")
            t.train(windows: 5)
            #expect(t.model.isTraining)
            parameters.append(Array(UnsafeBufferPointer(start: t.model.parameters.values.base,
                                                        count: t.model.parameters.flatCount)).map(\.bitPattern))
        }
        #expect(parameters[0] == parameters[1], "the masks come from the trainer's seeded RNG")
    }

    @Test func reportedLossIsPerTokenUnderEitherLossReduction() throws {
        let t = try trainer(seed: 9)
        let mean = try t.evaluate(Self.ids, batch: 8, steps: 10)
        t.model.lossReduction = .sumOverTime
        let summed = try t.evaluate(Self.ids, batch: 8, steps: 10)
        #expect(abs(mean - summed) < 1e-5 * mean, "\(mean) vs \(summed)")
    }

    @Test func trainingStopsAtTheEpochEndAndResumesFromAPosition() throws {
        let t = try trainer(seed: 3)
        #expect(t.train(windows: 30).windows == 30)
        #expect(t.batcher.position == 30)
        #expect(t.train().windows == 20, "the rest of the epoch")
        #expect(t.train().windows == 0, "nothing until a new epoch starts")
    }
}
