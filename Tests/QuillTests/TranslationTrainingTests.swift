import Foundation
import Quill
import QuillTestSupport
import Testing

/// Translation runs through the one loop: stopped mid-epoch and resumed, a run ends bit-identical to one never
/// stopped; the stored model reloads with both vocabularies and translates as the trained one does.
@Suite struct TranslationTrainingTests {
    static func files(in directory: URL) throws -> (source: String, target: String) {
        var source = "", target = ""
        let words = ["ein", "hund", "rennt", "die", "katze", "schläft", "im", "garten"]
        let english = ["a", "dog", "runs", "the", "cat", "sleeps", "in", "garden"]
        for i in 0..<48 {
            let picks = (0..<(2 + i % 4)).map { ($0 * 5 + i * 3) % words.count }
            source += picks.map { words[$0] }.joined(separator: " ") + "\n"
            target += picks.map { english[$0] }.joined(separator: " ") + "\n"
        }
        let s = directory.appendingPathComponent("train.de").path, t = directory.appendingPathComponent("train.en").path
        try source.write(toFile: s, atomically: true, encoding: .utf8)
        try target.write(toFile: t, atomically: true, encoding: .utf8)
        return (s, t)
    }

    static func options(_ name: String, _ files: (source: String, target: String)) -> TranslationTraining {
        var t = TranslationTraining(source: files.source, target: files.target, name: name)
        t.validSource = files.source
        t.validTarget = files.target
        (t.embedding, t.hidden, t.layers, t.batch, t.epochs) = (8, 12, 2, 8, 2)
        (t.dropout, t.labelSmoothing, t.learningRate) = (0.2, 0.1, 0.01)
        return t
    }

    @Test func stoppedThenResumedIsBitIdentical() throws {
        try withTemporaryDirectory { directory in
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path, create: true)
            let files = try Self.files(in: directory)
            let reference = try Self.options("whole", files).run(in: store)
            #expect(reference.epochs.count == 2 && reference.trainReport.kept == 48)

            var batches = 0
            do {
                _ = try Self.options("stopped", files).run(in: store, progress: { _ in batches += 1 },
                                                           shouldStop: { batches >= 8 })
                Issue.record("the run should have stopped")
            } catch let TrainingRunError.interrupted(run, place) {
                #expect(place.epoch == 2 && place.step == 8)
                let resumed = try TranslationTraining.resuming(run: run, in: store)
                let result = try resumed.run(in: store)
                #expect(result.runID == run && result.epochs.last?.validLoss == reference.epochs.last?.validLoss)
            }
            let a = try store.loadTranslationModel(named: "whole"), b = try store.loadTranslationModel(named: "stopped")
            #expect(a.model.parameters.storedTensors == b.model.parameters.storedTensors)
            #expect(a.source.count == b.source.count && a.target.fingerprint != a.source.fingerprint)
            let record = try store.model(named: "whole")
            #expect(record.targetVocabularyName == "whole.target" && record.targetVocabularyFingerprint == a.target.fingerprint)

            // The reloaded model translates as the system over it does, and the options it was trained with are
            // its notes.
            let system = try TranslationSystem(a)
            let out = try system.translate(["ein hund rennt"], options: .init(beam: 3, nbest: 2))
            #expect(out[0].translations.count == 2 && out[0].sourceTokens.last == "\n")
            #expect(a.training["hidden"] == "12")

            // Exported, its tensors have exactly the names of the PyTorch peer's module (the parity fixture's).
            let file = directory.appendingPathComponent("whole.safetensors")
            try store.exportModel(named: "whole", to: file)
            let exported = Set(try SafeTensors(contentsOf: file).tensors.keys)
            let peer = Set(try SafeTensors(contentsOf: TestSupport.fixture("pytorch-seq2seq.safetensors")).tensors.keys
                .filter { $0.hasPrefix("encoder.") || $0.hasPrefix("decoder.") || $0.hasPrefix("generator.") })
            #expect(exported == peer)
        }
    }

    @Test func theTimeBudgetEndsTheRun() throws {
        try withTemporaryDirectory { directory in
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path, create: true)
            var options = Self.options("budget", try Self.files(in: directory))
            options.epochs = 50
            options.timeBudget = 0.000_01  // minutes: spent by the first batch
            let result = try options.run(in: store)
            #expect(result.budgetSpent && result.epochs.count == 1)
            #expect(try store.model(named: "budget").kind == Store.translationKind)
        }
    }

    /// A TSV file, in either column order, trains exactly the model the two aligned files train: the same pairs, the
    /// same vocabularies (built from one column each, or jointly from both).
    @Test(arguments: [false, true]) func aTSVFileTrainsAsTheAlignedFilesDo(joint: Bool) throws {
        try withTemporaryDirectory { directory in
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path, create: true)
            let files = try Self.files(in: directory)
            var reference = Self.options("files", files)
            (reference.epochs, reference.jointVocabulary) = (1, joint)
            let expected = try reference.run(in: store)

            let source = try String(contentsOfFile: files.source, encoding: .utf8).split(separator: "\n")
            let target = try String(contentsOfFile: files.target, encoding: .utf8).split(separator: "\n")
            let tsv = directory.appendingPathComponent("pairs.tsv").path
            try zip(target, source).map { "\($0)\t\($1)\r\n" }.joined().write(toFile: tsv, atomically: true,
                                                                                 encoding: .utf8)
            var options = reference
            options.name = "tsv"
            (options.source, options.target, options.validSource, options.validTarget) = (tsv, tsv, tsv, tsv)
            options.tsvColumns = .targetSource
            let result = try options.run(in: store)
            #expect(result.trainReport == expected.trainReport && result.validPairs == expected.validPairs)
            #expect(result.epochs.last?.validLoss == expected.epochs.last?.validLoss)

            let a = try store.loadTranslationModel(named: "files"), b = try store.loadTranslationModel(named: "tsv")
            #expect(a.source.fingerprint == b.source.fingerprint && a.target.fingerprint == b.target.fingerprint)
            #expect(a.model.parameters.storedTensors == b.model.parameters.storedTensors)
        }
    }

    /// A name that fits the rule but makes NAME.target too long is refused before any file is read.
    @Test func aNameTooLongForItsVocabulariesIsRefusedUpFront() throws {
        try withTemporaryDirectory { directory in
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path, create: true)
            let name = String(repeating: "n", count: StoreName.maximumLength - 2)
            let options = TranslationTraining(source: "/nonexistent.de", target: "/nonexistent.en", name: name)
            #expect(throws: StoreError.self) { try options.run(in: store) }
            do { _ = try options.run(in: store) } catch { #expect("\(error)".contains("vocabulary")) }
        }
    }
}
