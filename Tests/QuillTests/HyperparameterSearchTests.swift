import Foundation
@testable import Quill
import QuillTestSupport
import Testing

/// `HyperparameterSearch`: successive halving over trials that are runs in the store, the best promoted, and a
/// search interrupted and continued ending exactly as one never stopped.
@Suite struct HyperparameterSearchTests {
    /// 4 neural trials of 1 epoch, the best 2 continued to 2 epochs, and a bigram model.
    static func tinySpace() -> SearchSpace {
        var space = SearchSpace()
        space.cells = [.lstm, .gcnn, .gru]
        space.ngramOrders = [2]
        space.layers = [1]
        space.hidden = [8, 12]
        space.widths = [2]
        space.dropout = [0, 0.2]
        space.bptt = [10]
        space.batch = [4]
        space.trials = 4
        space.reduction = 2
        space.maxEpochs = 2
        space.seed = 11
        return space
    }

    static func search(_ train: String, _ valid: String) -> HyperparameterSearch {
        HyperparameterSearch(corpus: train, valid: valid, space: tinySpace(), budgetMinutes: 30, name: "best")
    }

    @Test func halvesPromotesAndRecordsEveryTrial() throws {
        try withTemporaryDirectory { directory in
            let (train, valid) = try LanguageModelWorkflowTests.tinyCorpus(in: directory)
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
            var started: [(String, Int)] = []
            let result = try Self.search(train, valid).run(in: store, events: { event in
                if case let .trialStarted(trial, _, epochs) = event { started.append((trial.model, epochs)) }
            })
            #expect(result.trials.count == 5 && !result.budgetExhausted)
            let neural = result.trials.filter { $0.family != "ngram" }
            #expect(neural.allSatisfy { $0.run != nil && $0.validPerplexity != nil })
            // Rung 0: all four for 1 epoch; rung 1: the best two (by validation perplexity after 1 epoch) to 2.
            #expect(started.filter { $0.1 == 1 }.count == 4 && started.filter { $0.1 == 2 }.count == 2)
            let advanced = Set(started.filter { $0.1 == 2 }.map(\.0))
            #expect(neural.filter { $0.epochs == 2 }.map(\.model).sorted() == advanced.sorted())
            // A trial's rung is the last it trained in: 1 for those at maxEpochs (2), 0 for the others.
            #expect(neural.map(\.rung).sorted() == [0, 0, 1, 1])
            let best = try #require(result.best)
            #expect(best.validPerplexity == result.trials.compactMap(\.validPerplexity).min())
            #expect(try store.model(named: "best").vocabularyName == "best")
            // Every trial is a run with its metrics.
            for trial in neural { #expect(try !store.metrics(run: trial.run!).isEmpty) }
            // The same search again without resume is refused; with resume it has nothing left to do.
            #expect(throws: SearchError.self) { try Self.search(train, valid).run(in: store) }
            var again = Self.search(train, valid)
            again.resume = true
            let continued = try again.run(in: store)
            #expect(continued.trials.map(\.validPerplexity) == result.trials.map(\.validPerplexity))
            #expect(continued.trials.map(\.epochs) == result.trials.map(\.epochs))
            #expect(continued.trials.map(\.rung) == result.trials.map(\.rung))
        }
    }

    @Test func interruptedThenContinuedEqualsUninterrupted() throws {
        try withTemporaryDirectory { directory in
            let (train, valid) = try LanguageModelWorkflowTests.tinyCorpus(in: directory)
            let whole = try Store(path: directory.appendingPathComponent("whole.sqlite").path)
            let reference = try Self.search(train, valid).run(in: whole)

            let store = try Store(path: directory.appendingPathComponent("stopped.sqlite").path)
            var windows = 0
            #expect(throws: TrainingRunError.self) {
                try Self.search(train, valid).run(in: store, progress: { _ in windows += 1 },
                                                  shouldStop: { windows >= 30 })
            }
            var resumed = Self.search(train, valid)
            resumed.resume = true
            let result = try resumed.run(in: store)
            let strip = { (trials: [SearchTrial]) in trials.map { t -> SearchTrial in
                var t = t
                t.seconds = 0
                t.run = nil
                return t
            } }
            #expect(strip(result.trials) == strip(reference.trials))
            #expect(result.best?.model == reference.best?.model)
        }
    }

    /// A budget smaller than the search ends it: the trial in training is checkpointed, the best so far is saved.
    @Test func theBudgetEndsTheSearch() throws {
        try withTemporaryDirectory { directory in
            let (train, valid) = try LanguageModelWorkflowTests.tinyCorpus(in: directory)
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
            var search = Self.search(train, valid)
            search.budgetMinutes = 0.01  // 0.6 s
            let result = try search.run(in: store)
            #expect(result.budgetExhausted)
            #expect(result.trials.filter { $0.family != "ngram" }.contains { $0.epochs < 2 })
            let best = try #require(result.best)
            #expect(try store.model(named: "best").kind == (best.family == "ngram" ? "kn-ngram" : "\(best.family)-lm"))
        }
    }

    @Test func aSpaceWithAnUnknownKeyIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("space.json").path
            try Data(#"{"hiden": [64]}"#.utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: LanguageModelError.self) { try SearchSpace.read(path) }
            try Data(#"{"hidden": [64], "trials": 2, "reduction": 2}"#.utf8).write(to: URL(fileURLWithPath: path))
            let space = try SearchSpace.read(path)
            #expect(space.hidden == [64] && space.cells == SearchSpace().cells)
        }
        // The example docs/search.md shows.
        let example = try SearchSpace.read(TestSupport.packageRoot.appendingPathComponent("examples/search-space.json").path)
        #expect(example.cells == [.lstm, .gcnn] && example.ngramOrders == [5])
    }

    /// `tie`, the schedule, the loss and the clipping norm reach the trials drawn (the gated CNN never ties).
    @Test func tiesAndSchedulesReachTheTrials() throws {
        var space = SearchSpace()
        space.cells = [.lstm, .gcnn]
        space.trials = 12
        #expect(space.sampleTrials(corpus: "c", valid: "v", vocabulary: "w", search: "s").allSatisfy {
            $0.tiedEmbeddings == ($0.cell != .gcnn) && $0.schedule == .plateau
        })
        space.tie = [false]
        space.schedule = .constant
        #expect(space.sampleTrials(corpus: "c", valid: "v", vocabulary: "w", search: "s").allSatisfy {
            !$0.tiedEmbeddings && $0.schedule == .constant
        })
        space.schedule = .stepDecay
        space.decayAfter = 6
        space.decayFactor = 0.8
        space.loss = .sumOverTime
        space.clip = 2
        #expect(space.sampleTrials(corpus: "c", valid: "v", vocabulary: "w", search: "s").allSatisfy {
            $0.schedule == .stepDecay && $0.decayAfter == 6 && $0.decayFactor == 0.8 && $0.loss == .sumOverTime
                && $0.clip == 2
        })
        space.decayFactor = 0
        #expect(throws: LanguageModelError.self) { try space.validate() }
        // The PTB search's space (scripts/search-ptb.sh) reads: Zaremba et al.'s SGD with a step schedule.
        let ptb = try SearchSpace.read(TestSupport.packageRoot.appendingPathComponent("examples/ptb-search-space.json").path)
        #expect(ptb.tie == [true] && ptb.schedule == .stepDecay && ptb.loss == .sumOverTime && ptb.optimizers == [.sgd])
    }
}
