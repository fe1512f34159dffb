import Foundation
import Quill
import QuillTestSupport
import Testing

/// Saving, loading, training and sampling language models through the store (kept tiny: debug builds are slow).
@Suite struct LanguageModelWorkflowTests {
    /// The first 80 lines (~3,000 tokens) of the embedded corpus, and the next 20 as validation text.
    static func tinyCorpus(in directory: URL) throws -> (train: String, valid: String) {
        let text = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("corpora/default/train.txt"),
                              encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let train = directory.appendingPathComponent("train.txt")
        let valid = directory.appendingPathComponent("valid.txt")
        try (lines[0..<80].joined(separator: "\n") + "\n").write(to: train, atomically: true, encoding: .utf8)
        try (lines[80..<100].joined(separator: "\n") + "\n").write(to: valid, atomically: true, encoding: .utf8)
        return (train.path, valid.path)
    }

    /// A store holding the vocabulary `tiny` of the tiny corpus.
    static func storeWithVocabulary(in directory: URL) throws -> (Store, train: String, valid: String) {
        let (train, valid) = try tinyCorpus(in: directory)
        let store = try Store(path: directory.appendingPathComponent("store.sqlite").path)
        _ = try store.buildVocabulary(corpus: train, name: "tiny")
        return (store, train, valid)
    }

    static func randomModel(_ kind: CellKind, vocabulary: Int, seed: UInt64 = 7) throws -> LanguageModel {
        let model = try LanguageModel(LanguageModel.Configuration(kind: kind, vocabulary: vocabulary, embedding: 6,
                                                                  hidden: 5, layers: 2))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        return model
    }

    @Test(arguments: [CellKind.lstm, .gru, .rnnTanh])
    func saveThenLoadIsBitExact(kind: CellKind) throws {
        try withTemporaryDirectory { directory in
            let (store, _, _) = try Self.storeWithVocabulary(in: directory)
            let vocabulary = try store.vocabulary(named: "tiny")
            let model = try Self.randomModel(kind, vocabulary: vocabulary.count)
            try store.saveLanguageModel(model, name: "m", vocabulary: "tiny")
            #expect(try store.model(named: "m").kind == "\(kind.rawValue)-lm")
            let (loaded, loadedVocabulary) = try store.loadLanguageModel(named: "m")
            #expect(loaded.configuration == model.configuration)
            let bitExact = loaded.parameters.storedTensors == model.parameters.storedTensors
            #expect(bitExact)
            #expect(loadedVocabulary == vocabulary)
        }
    }

    @Test func loadRefusesAnotherVocabulary() throws {
        try withTemporaryDirectory { directory in
            let (store, _, _) = try Self.storeWithVocabulary(in: directory)
            let vocabulary = try store.vocabulary(named: "tiny")
            try store.saveLanguageModel(try Self.randomModel(.lstm, vocabulary: vocabulary.count), name: "m",
                                        vocabulary: "tiny")
            // Same size, one token changed: another fingerprint.
            var tokens = vocabulary.tokens
            tokens[tokens.count - 1] = "zzz-not-a-token"
            let other = Vocabulary(settings: vocabulary.settings, tokens: tokens, counts: vocabulary.counts)
            #expect(throws: StoredModelError.vocabularyMismatch(model: "m", modelVocabulary: "tiny",
                                                                expected: vocabulary.fingerprint, given: nil,
                                                                found: other.fingerprint)) {
                try store.loadLanguageModel(named: "m", vocabulary: other)
            }
            // A stored vocabulary is named.
            try store.saveVocabulary(other, name: "other")
            do {
                _ = try store.loadLanguageModel(named: "m", vocabulary: other)
                Issue.record("another vocabulary was accepted")
            } catch let error as StoredModelError {
                let message = "\(error)"
                #expect(message.contains("model 'm' uses vocabulary 'tiny'") && message.contains("'other'")
                    && message.contains("fingerprint"), "\(message)")
            }
        }
    }

    @Test func loadRefusesTensorsThatDoNotFit() throws {
        try withTemporaryDirectory { directory in
            let (store, _, _) = try Self.storeWithVocabulary(in: directory)
            let vocabulary = try store.vocabulary(named: "tiny")
            let model = try Self.randomModel(.gru, vocabulary: vocabulary.count)
            let json = try LanguageModelHyperparameters(model.configuration).jsonString()
            var tensors = model.parameters.storedTensors.filter { $0.name != "decoder.bias" }
            tensors.append(StoredTensor(name: "extra", shape: [1], values: [0]))
            tensors[0] = StoredTensor(name: tensors[0].name, shape: [1, tensors[0].values.count],
                                      values: tensors[0].values)
            try store.saveModel(name: "bad", kind: "gru-lm", hyperparametersJSON: json, vocabulary: "tiny",
                                tensors: tensors)
            do {
                _ = try store.loadLanguageModel(named: "bad")
                Issue.record("loading mismatched tensors should fail")
            } catch let error as ParameterLoadError {
                #expect(error.source == "model 'bad'")
                #expect(error.missing == ["decoder.bias"])
                #expect(error.unexpected == ["extra"])
                #expect(error.misshapen.map(\.name) == ["embedding.weight"])
            }
        }
    }

    @Test func tinyTrainingLowersTheLossAndRecordsTheRun() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try Self.storeWithVocabulary(in: directory)
            let size = try store.vocabulary(named: "tiny").count
            var training = LanguageModelTraining(corpus: train, vocabulary: "tiny", name: "tiny-lm")
            training.valid = valid
            training.hidden = 24
            training.steps = 10
            training.batch = 4
            training.learningRate = 0.01
            var windows = 0
            var reports: [LanguageModelTraining.EpochReport] = []
            let result = try training.run(in: store, progress: { _ in windows += 1 }, epochEnd: { reports.append($0) })
            #expect(windows > 50)
            #expect(reports == result.epochs && reports.count == 1)
            let report = try #require(result.epochs.first)
            // A uniform guess costs ln V nats per token; training must do clearly better, on train and valid text.
            #expect(report.trainLoss < log(Double(size)) - 0.5,
                    "train loss \(report.trainLoss), ln V \(log(Double(size)))")
            let validLoss = try #require(report.validLoss)
            #expect(validLoss < log(Double(size)) - 0.5)

            let run = try store.run(id: result.runID)
            #expect(run.status == .finished && run.modelID == result.modelID)
            let metrics = try store.metrics(run: result.runID)
            #expect(metrics.map(\.split) == [.train, .valid])
            #expect(metrics[0].loss == report.trainLoss && metrics[0].step == report.step)
            let checkpoints = try store.checkpoints(run: result.runID)
            #expect(checkpoints.count == 1 && checkpoints[0].epoch == 1)
            let (checkpoint, tensors) = try #require(try store.latestCheckpoint(run: result.runID))
            let state = try TrainingState(json: checkpoint.stateJSON)
            #expect(state.globalStep == report.step)
            #expect(state.vocabularyFingerprint == (try store.vocabulary(named: "tiny")).fingerprint)
            #expect(Set(tensors.map(\.name)).isSuperset(of: ["embedding.weight", "decoder.bias", "optimizer.m",
                                                            "optimizer.v"]))

            let (model, _) = try store.loadLanguageModel(named: "tiny-lm")
            #expect(model.parameters.parameterCount == result.parameterCount)
            let fromCheckpoint = tensors.filter { !$0.name.hasPrefix("optimizer.") }
            let sameParameters = fromCheckpoint.sorted { $0.name < $1.name }
                == model.parameters.storedTensors.sorted { $0.name < $1.name }
            #expect(sameParameters, "the last checkpoint holds the saved model's parameters")
        }
    }

    @Test func trainingRefusesAnExistingModelName() throws {
        try withTemporaryDirectory { directory in
            let (store, train, _) = try Self.storeWithVocabulary(in: directory)
            let vocabulary = try store.vocabulary(named: "tiny")
            try store.saveLanguageModel(try Self.randomModel(.lstm, vocabulary: vocabulary.count), name: "taken",
                                        vocabulary: "tiny")
            #expect(throws: StoreError.alreadyExists(kind: "model", name: "taken")) {
                try LanguageModelTraining(corpus: train, vocabulary: "tiny", name: "taken").run(in: store)
            }
            #expect(try store.runs().isEmpty)
        }
    }

    @Test func completionIsDeterministicAndGreedyAtTemperatureZero() throws {
        try withTemporaryDirectory { directory in
            let (store, _, _) = try Self.storeWithVocabulary(in: directory)
            let vocabulary = try store.vocabulary(named: "tiny")
            let model = try Self.randomModel(.lstm, vocabulary: vocabulary.count, seed: 3)
            let prompt = "The harbour"
            let a = try model.complete(prompt, vocabulary: vocabulary, maxTokens: 12, temperature: 1, seed: 5)
            let b = try model.complete(prompt, vocabulary: vocabulary, maxTokens: 12, temperature: 1, seed: 5)
            #expect(a == b)
            let samples = try (1...6).map {
                try model.complete(prompt, vocabulary: vocabulary, maxTokens: 12, temperature: 1, seed: $0)
            }
            #expect(Set(samples).count > 1, "different seeds should give different samples")

            let greedy = try model.complete(prompt, vocabulary: vocabulary, maxTokens: 12, temperature: 0, seed: 1)
            #expect(try model.complete(prompt, vocabulary: vocabulary, maxTokens: 12, temperature: 0, seed: 99)
                == greedy)
            // The first greedy token is the most likely non-special token after the prompt.
            let ids = try Tokenizer(vocabulary.settings).ids(of: prompt, in: vocabulary)
            model.isTraining = false
            _ = model.forward(inputs: ids, targets: ids, steps: ids.count, batch: 1)
            let last = Array(model.logits[(ids.count - 1) * vocabulary.count ..< ids.count * vocabulary.count])
            var best = 4
            for v in 4..<last.count where last[v] > last[best] { best = v }
            let first = try model.complete(prompt, vocabulary: vocabulary, maxTokens: 1, temperature: 0)
            let token = vocabulary[Int32(best)]
            #expect(first == (token.contains(where: \.isNewline) ? "" : token))
            #expect(try model.complete(prompt, vocabulary: vocabulary, maxTokens: 0) == "")
        }
    }
}

/// An interrupted run resumed from its checkpoint ends bit-identical to an uninterrupted one.
@Suite struct LanguageModelResumeTests {
    struct Stop: Error {}

    @Test(arguments: [LanguageModelTraining.Optimizer.adam, .sgd])
    func resumedRunIsBitIdentical(optimizer: LanguageModelTraining.Optimizer) throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            func options(_ name: String) -> LanguageModelTraining {
                var training = LanguageModelTraining(corpus: train, vocabulary: "tiny", name: name)
                training.valid = valid
                training.hidden = 8
                training.steps = 10
                training.batch = 4
                training.epochs = 3
                training.optimizer = optimizer
                training.learningRate = optimizer == .sgd ? 1 : 0.01
                training.maxWindowsPerEpoch = 20
                return training
            }
            let whole = try options("whole").run(in: store)

            var interrupted = options("resumed")
            // An error once the run exists comes back naming the run, so the caller knows what to resume.
            let runID = try #require(try store.runs().last?.id) + 1
            #expect(throws: TrainingRunError.failed(run: runID, reason: "Stop()")) {
                try interrupted.run(in: store, epochEnd: { if $0.epoch == 2 { throw Stop() } })
            }
            #expect(try store.run(id: runID).status == .failed)
            interrupted.resume = runID
            let resumed = try interrupted.run(in: store)
            #expect(resumed.runID == runID && resumed.epochs.map(\.epoch) == [3])
            #expect(resumed.epochs == [whole.epochs[2]].map {
                var report = $0
                report.tokensPerSecond = resumed.epochs[0].tokensPerSecond
                report.seconds = resumed.epochs[0].seconds
                return report
            })
            let a = try store.loadLanguageModel(named: "whole").model.parameters.storedTensors
            let b = try store.loadLanguageModel(named: "resumed").model.parameters.storedTensors
            let identical = a == b
            #expect(identical, "the resumed run's parameters differ from the uninterrupted run's")
            #expect(try store.metrics(run: runID).filter { $0.split == .train }.map(\.step)
                == (try store.metrics(run: whole.runID)).filter { $0.split == .train }.map(\.step))

            var other = options("resumed")
            other.resume = runID
            other.hidden = 9
            #expect(throws: TrainingRunError.self) { try other.run(in: store) }
        }
    }
}
