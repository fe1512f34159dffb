import Foundation
import Quill
import Testing

/// `RunHistory` from a store, its figures, and `RunComparison`'s JSON: what `quill runs compare` prints.
@Suite struct RunComparisonTests {
    /// A store with run #1 (model `m`, two epochs with validation and a test row), run #2 (no model; a GRU by its
    /// configuration) and run #3 (a translation run, no model, no metrics).
    static func store() throws -> Store {
        let store = try Store(path: ":memory:")
        let tokens = Vocabulary.specialTokens + ["the", "cat"]
        try store.saveVocabulary(Vocabulary(settings: TokenizerSettings(), tokens: tokens, counts: [0, 0, 0, 0, 2, 1]),
                                 name: "v")
        let model = try store.saveModel(
            name: "m", kind: "lstm-lm", hyperparametersJSON: "{}", vocabulary: "v",
            tensors: [StoredTensor(name: "a", shape: [3, 4], values: Array(repeating: 0, count: 12)),
                      StoredTensor(name: "b", shape: [5], values: Array(repeating: 0, count: 5))])
        let one = try store.createRun(name: "m", modelID: model, configJSON: #"{"cell":"lstm"}"#)
        try store.appendMetrics([
            MetricRow(runID: one, step: 5, epoch: 1, split: .train, perplexity: 90, wallSeconds: 1),  // a checkpoint
            MetricRow(runID: one, step: 10, epoch: 1, split: .train, perplexity: 80, tokensPerSecond: 100,
                      wallSeconds: 2),
            MetricRow(runID: one, step: 10, epoch: 1, split: .valid, perplexity: 70, wallSeconds: 2.5),
            MetricRow(runID: one, step: 20, epoch: 2, split: .train, perplexity: 50, tokensPerSecond: 300,
                      wallSeconds: 4),
            MetricRow(runID: one, step: 20, epoch: 2, split: .valid, perplexity: 72, wallSeconds: 4.5),
            MetricRow(runID: one, step: 20, epoch: 2, split: .test, perplexity: 75, wallSeconds: 5),
        ])
        try store.finishRun(one, status: .finished)
        let two = try store.createRun(name: "g", configJSON: #"{"cell":"gru","hidden":8}"#)
        try store.appendMetrics([MetricRow(runID: two, step: 3, epoch: 1, split: .train, loss: nil,
                                           tokensPerSecond: 50, wallSeconds: 0.5)])
        try store.finishRun(two, status: .failed)
        try store.createRun(name: "de-en", configJSON: #"{"source":"a.de","target":"a.en"}"#)
        return store
    }

    @Test func figuresOfEachRun() throws {
        let histories = try Self.store().runHistories()
        #expect(histories.map(\.id) == [1, 2, 3])
        let rows = histories.map(\.comparison)
        #expect(rows[0] == RunComparison(
            id: 1, name: "m", status: .finished, model: "m", kind: "lstm-lm", family: "recurrentLanguageModel",
            parameters: 17, bestValidPerplexity: 70, bestValidEpoch: 1, testPerplexity: 75, trainingSeconds: 5,
            tokensPerSecond: 200))
        #expect(rows[1] == RunComparison(
            id: 2, name: "g", status: .failed, model: nil, kind: "gru-lm", family: "recurrentLanguageModel",
            parameters: nil, bestValidPerplexity: nil, bestValidEpoch: nil, testPerplexity: nil, trainingSeconds: 0.5,
            tokensPerSecond: 50))
        #expect(rows[2].kind == "seq2seq" && rows[2].family == "translation" && rows[2].status == .running)
        #expect(rows[2].trainingSeconds == nil && rows[2].tokensPerSecond == nil)
    }

    @Test func selectsRunsInTheOrderAskedOnce() throws {
        let store = try Self.store()
        #expect(try store.runHistories([3, 1, 3]).map(\.id) == [3, 1])
        #expect(try store.runHistory(id: 2).name == "g")
    }

    @Test func unknownRunsAreNamedWithTheRunsThereAre() throws {
        let store = try Self.store()
        let error = #expect(throws: RunSelectionError.unknownRuns(missing: [7, 9], existing: [1, 2, 3])) {
            try store.runHistories([1, 7, 9])
        }
        #expect(error?.description == "no runs #7, #9 in the store; it holds runs #1–#3")
        #expect(RunSelectionError.unknownRuns(missing: [4], existing: []).description
            == "no run #4 in the store; it holds no runs")
        #expect(RunSelectionError.unknownRuns(missing: [4], existing: [1, 2, 5, 7, 8, 9, 12]).description
            == "no run #4 in the store; it holds runs #1, #2, #5, #7–#9, #12")
        #expect(throws: StoreError.self) { try store.runHistory(id: 4) }
    }

    @Test func jsonHasEveryKeyWithNullForMissingFigures() throws {
        let row = try Self.store().runHistories([2])[0].comparison
        let data = try JSONEncoder().encode(row)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["id", "name", "status", "model", "kind", "family", "parameters",
                                     "bestValidPerplexity", "bestValidEpoch", "testPerplexity", "trainingSeconds",
                                     "tokensPerSecond"])
        #expect(object["model"] is NSNull && object["testPerplexity"] is NSNull)
        #expect(object["kind"] as? String == "gru-lm" && object["status"] as? String == "failed")
        #expect(try JSONDecoder().decode(RunComparison.self, from: data) == row)
    }
}
