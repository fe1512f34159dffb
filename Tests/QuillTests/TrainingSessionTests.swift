import Foundation
import Quill
import QuillTestSupport
import Testing

/// Checkpoints between windows, stops, divergence, vocabularies built from the corpus, presets and the best model.
@Suite struct TrainingSessionTests {
    /// Tiny options on the tiny corpus: 3 epochs of 12 windows.
    static func options(_ name: String, train: String, valid: String) -> LanguageModelTraining {
        var training = LanguageModelTraining(corpus: train, vocabulary: "tiny", name: name)
        training.valid = valid
        training.hidden = 8
        training.layers = 2
        training.dropout = 0.3  // the dropout masks' generator is part of the state to restore
        training.steps = 10
        training.batch = 4
        training.epochs = 3
        training.learningRate = 0.01
        training.maxWindowsPerEpoch = 12
        return training
    }

    struct Stop: Sendable, CustomTestStringConvertible {
        /// Stop when this many windows have been trained in the session.
        let afterWindows: Int
        let optimizer: LanguageModelTraining.Optimizer
        var cell = ModelCell.lstm
        var testDescription: String { "\(cell), stop after \(afterWindows) windows, \(optimizer)" }
    }

    /// A run stopped between two windows (twice) and resumed ends bit-identical to one never stopped, for a recurrent
    /// model (its hidden and cell states carried) and a convolutional one (its blocks' last inputs carried).
    @Test(arguments: [Stop(afterWindows: 5, optimizer: .adam), Stop(afterWindows: 17, optimizer: .sgd),
                      Stop(afterWindows: 7, optimizer: .adam, cell: .gcnn)])
    func stoppedBetweenWindowsThenResumedIsBitIdentical(_ stop: Stop) throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var whole = Self.options("whole", train: train, valid: valid)
            whole.optimizer = stop.optimizer
            whole.momentum = stop.optimizer == .sgd ? 0.9 : 0
            whole.cell = stop.cell
            if stop.cell == .gcnn { whole.width = 3 }
            let reference = try whole.run(in: store)

            var stopped = whole
            stopped.name = "stopped"
            var windows = 0
            do {
                _ = try stopped.run(in: store, progress: { _ in windows += 1 },
                                    shouldStop: { windows >= stop.afterWindows })
                Issue.record("the run should have stopped")
            } catch let TrainingRunError.interrupted(run, place) {
                #expect(place.step == stop.afterWindows)
                #expect(place.window == stop.afterWindows % 12 && place.epoch == stop.afterWindows / 12 + 1)
                #expect(try store.run(id: run).status == .interrupted)
                let (checkpoint, tensors) = try #require(try store.latestCheckpoint(run: run))
                #expect(checkpoint.step == stop.afterWindows)
                let carried = stop.cell == .gcnn ? ["state.context"] : ["state.hidden", "state.cell"]
                #expect(carried.allSatisfy { name in tensors.contains { $0.name == name } })
                // Resume from the stored configuration alone, and stop once more a few windows later.
                var resumed = try LanguageModelTraining.resuming(run: run, in: store)
                #expect(resumed.name == "stopped" && resumed.dropout == whole.dropout)
                windows = 0
                #expect(throws: TrainingRunError.self) {
                    try resumed.run(in: store, progress: { _ in windows += 1 }, shouldStop: { windows >= 3 })
                }
                resumed = try LanguageModelTraining.resuming(run: run, in: store)
                let result = try resumed.run(in: store)
                #expect(result.runID == run && result.epochs.last == reference.epochs.last.map {
                    var report = $0
                    report.tokensPerSecond = result.epochs.last!.tokensPerSecond
                    report.seconds = result.epochs.last!.seconds
                    return report
                })
                #expect(try store.run(id: run).status == .finished)
            }
            let a = try store.loadStreamLanguageModel(named: "whole").model.parameters.storedTensors
            let b = try store.loadStreamLanguageModel(named: "stopped").model.parameters.storedTensors
            let identical = a == b
            #expect(identical, "the resumed run's model differs from the uninterrupted run's")
        }
    }

    @Test func checkpointEveryNWindowsKeepsTheLatest() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.epochs = 1
            training.checkpointEvery = 5
            let result = try training.run(in: store)
            // Steps 5 and 10 between windows, 12 at the epoch's end; the store keeps the last 3.
            #expect(try store.checkpoints(run: result.runID).map(\.step) == [5, 10, 12])
            let metrics = try store.metrics(run: result.runID)
            #expect(metrics.map(\.step) == [5, 10, 12, 12] && metrics.map(\.split) == [.train, .train, .train, .valid])
        }
    }

    @Test func aDivergingRunStopsAndKeepsItsLastGoodCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.dropout = 0
            training.optimizer = .sgd
            training.learningRate = 1e38
            training.clip = nil
            training.checkpointEvery = 1
            do {
                _ = try training.run(in: store)
                Issue.record("a learning rate of 1e38 should diverge")
            } catch let TrainingRunError.diverged(run, epoch, step, checkpoint) {
                #expect(epoch == 1 && step >= 2)
                let place = try #require(checkpoint)
                #expect(place.step == step - 1)
                #expect(try store.run(id: run).status == .failed)
                let (record, tensors) = try #require(try store.latestCheckpoint(run: run))
                #expect(record.step == place.step)
                #expect(tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) }, "the kept checkpoint is finite")
                let message = "\(TrainingRunError.diverged(run: run, epoch: epoch, step: step, checkpoint: place))"
                #expect(message.contains("run #\(run)") && message.contains("\(place)"))
                #expect(!message.contains("--"), "library messages name no command-line options: \(message)")
            }
        }
    }

    @Test func theModelSavedIsTheBestEpochs() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.epochs = 4
            training.learningRate = 0.2  // Adam at 0.2 overshoots: validation gets worse after the first epochs
            let result = try training.run(in: store)
            let best = try #require(result.epochs.min { $0.validLoss! < $1.validLoss! })
            #expect(result.savedEpoch == best.epoch && best.isBest)
            #expect(result.epochs.filter(\.isBest).last?.epoch == best.epoch)
            let (model, vocabulary) = try store.loadLanguageModel(named: "m")
            let notes = try #require(try JSONSerialization.jsonObject(
                with: Data(try store.model(named: "m").hyperparametersJSON.utf8)) as? [String: Any])
            #expect((notes["training"] as? [String: String])?["savedEpoch"] == String(best.epoch))
            // The stored model reproduces the best epoch's validation loss.
            let ids = try TokenIDs.encode(file: valid, vocabulary: vocabulary)
            let objective = try LanguageModelObjective(model: model, trainIDs: ids.ids, batch: 4, steps: 10,
                                                       validIDs: ids.ids)
            let loss = try #require(try objective.validationLoss(pool: .shared))
            #expect(abs(loss - best.validLoss!) < 1e-9)
        }
    }

    @Test func earlyStoppingEndsTheRunAfterPatienceEpochsWithoutImprovement() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.epochs = 12
            training.learningRate = 0.2
            training.patience = 2
            let result = try training.run(in: store)
            #expect(result.stoppedEarly && result.epochs.count < 12)
            #expect(result.epochs.suffix(2).allSatisfy { !$0.isBest })
            #expect(result.epochs.dropLast(2).last?.isBest == true)
        }
    }

    @Test func aVocabularyIsBuiltFromTheCorpusAtTheLevelAsked() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("chars", train: train, valid: valid)
            training.vocabulary = nil
            training.tokenizer = TokenizerSettings(level: .character)
            training.epochs = 1
            let result = try training.run(in: store)
            #expect(result.vocabulary == "chars")
            let vocabulary = try store.vocabulary(named: "chars")
            #expect(vocabulary.settings.level == .character && vocabulary.count < 100)
            #expect(try store.loadLanguageModel(named: "chars").vocabulary == vocabulary)
            // Again under the same name: the same corpus gives the same vocabulary, reused with --replace.
            training.replace = true
            _ = try training.run(in: store)
            // Another level under a name whose vocabulary differs needs --replace.
            training.replace = false
            training.name = "other"
            training.vocabulary = "chars"
            training.tokenizer = TokenizerSettings(level: .word)
            #expect(throws: TrainingRunError.vocabularyLevel(name: "chars", stored: .character, asked: .word)) {
                try training.run(in: store)
            }
        }
    }

    @Test func presetsSetTheirRecipe() {
        let small = LanguageModelTraining(preset: .ptbSmall, corpus: "ptb.train.txt", name: "ptb")
        #expect(small.layers == 2 && small.hidden == 200 && small.steps == 20 && small.batch == 20)
        #expect(small.optimizer == .sgd && small.resolvedLearningRate == 1 && small.loss == .sumOverTime)
        #expect(small.resolvedSchedule == .stepDecay(lr: 1, keepEpochs: 4, factor: 0.5) && small.epochs == 13)
        #expect(small.clip == 5 && small.initScale == 0.1 && small.dropout == 0)
        #expect(small.tokenizer?.level == .whitespace && small.preset == "ptb-small")
        let medium = LanguageModelTraining(preset: .ptbMedium, corpus: "ptb.train.txt", name: "ptb")
        #expect(medium.hidden == 650 && medium.dropout == 0.5 && medium.steps == 35 && medium.epochs == 39)
        #expect(medium.resolvedSchedule.lr(forEpoch: 8) == 1 / 1.2 / 1.2)
        let char = LanguageModelTraining(preset: .charShakespeare, corpus: "input.txt", name: "bard")
        #expect(char.tokenizer?.level == .character && char.optimizer == .adam && char.hidden == 512)
    }

    @Test func theConfigurationRoundTripsThroughTheRun() throws {
        var training = LanguageModelTraining(preset: .ptbMedium, corpus: "a.txt", name: "m")
        training.valid = "v.txt"
        training.optimizer = .adamw
        training.patience = 3
        training.checkpointEvery = 9  // stored with the run (a resume keeps it), but not a note of the model
        training.replace = true  // a session option: not part of the configuration
        let decoded = try JSONDecoder().decode(LanguageModelTraining.self,
                                               from: Data(try training.configurationJSON().utf8))
        training.replace = false
        #expect(decoded == training)
        #expect(decoded.notes["checkpointEvery"] == nil && decoded.notes["checkpointMinutes"] == nil)
        #expect(decoded.resolvedWeightDecay == 0.01)
        var other = decoded
        other.hidden = 10
        other.epochs = 2
        #expect(decoded.differences(from: other) == ["epochs", "hidden"])
    }

    @Test func badOptionsAreRefusedBeforeAnythingRuns() throws {
        var training = LanguageModelTraining(corpus: "a.txt", name: "m")
        training.tiedEmbeddings = true
        training.embedding = 64
        #expect(throws: LanguageModelError.self) { try training.validate() }
        training = LanguageModelTraining(corpus: "a.txt", name: "m")
        training.patience = 2
        #expect(throws: LanguageModelError.self) { try training.validate() }  // early stopping needs --valid
        training = LanguageModelTraining(corpus: "a.txt", name: "m")
        training.momentum = 0.9
        #expect(throws: LanguageModelError.self) { try training.validate() }  // momentum is SGD's
        training.optimizer = .sgd
        try training.validate()
    }

    // MARK: Item 6 defects of issue 12

    /// A run stopped and resumed from its stored configuration keeps checkpointing every N windows.
    @Test func aResumedRunKeepsItsCheckpointCadence() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.epochs = 2
            training.checkpointEvery = 5
            training.checkpointMinutes = 7
            var windows = 0
            let run: Int64
            do {
                _ = try training.run(in: store, progress: { _ in windows += 1 }, shouldStop: { windows >= 3 })
                Issue.record("the run should have stopped")
                return
            } catch let TrainingRunError.interrupted(stopped, _) {
                run = stopped
            }
            let resumed = try LanguageModelTraining.resuming(run: run, in: store)
            #expect(resumed.checkpointEvery == 5 && resumed.checkpointMinutes == 7)
            _ = try resumed.run(in: store)
            // Steps 3 (the stop), 5 and 10 between windows, 12 at epoch 1's end, then 15, 20 and 24 in epoch 2;
            // the store keeps the last 3.
            #expect(try store.checkpoints(run: run).map(\.step) == [15, 20, 24])
        }
    }

    /// A name another live process is training cannot be taken by a second run, and that run cannot be resumed.
    @Test func aLiveRunOwnsItsName() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            let parent = try #require(RunOwner.process(getppid()), "the test's parent process is alive")
            let other = try store.createRun(name: "m", configJSON: try Self.options("m", train: train, valid: valid)
                .configurationJSON(), owner: parent)
            var training = Self.options("m", train: train, valid: valid)
            training.replace = true
            #expect(throws: TrainingRunError.nameInUse(name: "m", run: other, owner: parent)) {
                try training.run(in: store)
            }
            var resume = try LanguageModelTraining.resuming(run: other, in: store)
            resume.replace = false
            #expect(throws: TrainingRunError.busy(run: other, owner: parent)) { try resume.run(in: store) }
            #expect(try store.runs().count == 1, "no run was recorded for the refused start")
        }
    }

    /// A model saved under the run's name by someone else while the run trains is not replaced: the run stops.
    @Test func aModelSavedUnderTheNameDuringTheRunIsNotReplaced() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.valid = nil  // every epoch is saved
            training.epochs = 2
            let intruder = try LanguageModelWorkflowTests.randomModel(
                .gru, vocabulary: try store.vocabulary(named: "tiny").count)
            #expect(throws: TrainingRunError.self) {
                _ = try training.run(in: store, epochEnd: { report in
                    if report.epoch == 1 {
                        try store.saveLanguageModel(intruder, name: "m", vocabulary: "tiny", replace: true)
                    }
                })
            }
            #expect(try store.model(named: "m").kind == "gru-lm", "the other model is kept")
            #expect(try store.runs().last?.status == .failed)
        }
    }

    /// A learning rate that makes the perplexity infinite fails the run like a NaN loss, and saves no model.
    @Test func anInfinitePerplexityIsNeverTheBestModel() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.dropout = 0
            training.learningRate = 1e9
            do {
                _ = try training.run(in: store)
                Issue.record("a learning rate of 1e9 should diverge")
            } catch let TrainingRunError.diverged(run, epoch, _, _) {
                #expect(epoch == 1)
                #expect(try store.run(id: run).status == .failed)
            }
            #expect(try store.models().isEmpty, "no model was saved")
        }
    }

    /// Sizes that cannot fit in memory are refused up front, naming the figure, before anything is written.
    @Test(arguments: [(100_000_000, 20, 1), (128, 100_000_000, 1), (128, 20, 100_000)])
    func aConfigurationTooLargeIsRefused(hidden: Int, steps: Int, layers: Int) throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.vocabulary = nil
            training.hidden = hidden
            training.steps = steps
            training.layers = layers
            do {
                _ = try training.run(in: store)
                Issue.record("should be refused")
            } catch let TrainingRunError.tooLarge(bytes, available) {
                #expect(bytes > available && available > 0)
                #expect("\(TrainingRunError.tooLarge(bytes: bytes, available: available))".contains("of memory"))
            }
            #expect(try store.runs().isEmpty && store.vocabularies().map(\.name) == ["tiny"])
        }
    }

    /// A start that fails (a one-token corpus) writes nothing, so a retry under the same name works.
    @Test func aFailedStartLeavesNoOrphanVocabulary() throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            let one = directory.appendingPathComponent("one.txt").path
            try "word".write(toFile: one, atomically: true, encoding: .utf8)
            var training = Self.options("m", train: one, valid: valid)
            training.vocabulary = nil
            #expect(throws: TrainError.self) { try training.run(in: store) }
            #expect(try store.vocabularies().map(\.name) == ["tiny"] && store.runs().isEmpty)
            training.corpus = train
            training.epochs = 1
            _ = try training.run(in: store)
            #expect(try store.vocabularies().map(\.name).sorted() == ["m", "tiny"])
        }
    }

    /// A stop asked while the vocabulary is built (or the text encoded) ends before the run starts, storing nothing;
    /// a stop asked only once training runs still checkpoints the run.
    @Test(arguments: [nil, "tiny"] as [String?])
    func aStopBeforeTheRunStartsStoresNothing(vocabulary: String?) throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("m", train: train, valid: valid)
            training.vocabulary = vocabulary  // nil: built from the corpus; "tiny": the corpus is only encoded
            var asked = 0
            #expect(throws: TrainingRunError.stoppedBeforeStart) {
                try training.run(in: store, shouldStop: { asked += 1; return true })
            }
            #expect(asked >= 1)
            #expect(try store.vocabularies().map(\.name) == ["tiny"] && store.runs().isEmpty)
        }
    }

    /// A name that breaks the store's rule is refused before the corpus is read.
    @Test func aBadNameIsRefusedBeforeAnythingIsRead() throws {
        try withTemporaryDirectory { directory in
            let (store, _, _) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = Self.options("bad\nname", train: "/no/such/corpus.txt", valid: "/no/such/valid.txt")
            training.vocabulary = nil
            #expect(throws: StoreError.invalidName(kind: "model", name: "bad\nname",
                                                   reason: "the name holds the control character \\u{A}")) {
                try training.run(in: store)
            }
        }
    }
}
