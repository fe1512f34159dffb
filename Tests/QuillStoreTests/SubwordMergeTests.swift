import Foundation
import QuillText
import Testing
@testable import QuillStore

/// A BPE vocabulary's merges in the store: saved, loaded, replaced and deleted with the vocabulary.
@Suite struct SubwordMergeTests {
    static func bpeVocabulary(merges: Int = 100) -> Vocabulary {
        SubwordLearner(merges: merges).vocabulary(
            settings: TokenizerSettings(level: .bpe, merges: merges),
            wordCounts: ["low": 5, "lower": 2, "newest": 6, "widest": 3, " the": 9, "\n": 4])
    }

    @Test(arguments: StoreLocation.allCases)
    func mergesRoundTripWithTheFingerprint(location: StoreLocation) throws {
        try withStore(location) { store in
            let v = Self.bpeVocabulary()
            #expect(!v.merges.isEmpty)
            try store.saveVocabulary(v, name: "bpe")
            let loaded = try store.vocabulary(named: "bpe")
            #expect(loaded.merges == v.merges && loaded.fingerprint == v.fingerprint && loaded == v)
            #expect(try store.vocabularies().first?.settings.level == .bpe)
            #expect(try rowCount("vocabulary_merges", in: store) == v.merges.count)

            // Replacing keeps the new merges only; deleting cascades.
            let fewer = Self.bpeVocabulary(merges: 3)
            try store.saveVocabulary(fewer, name: "bpe", replace: true)
            #expect(try store.vocabulary(named: "bpe").merges == fewer.merges)
            #expect(try rowCount("vocabulary_merges", in: store) == 3)
            try store.deleteVocabulary(named: "bpe")
            #expect(try rowCount("vocabulary_merges", in: store) == 0)
        }
    }

    @Test func anEditedMergeIsCaughtByTheFingerprint() throws {
        try withStore(.memory) { store in
            try store.saveVocabulary(Self.bpeVocabulary(), name: "bpe")
            try store.database.execute("UPDATE vocabulary_merges SET right_token = 'x' WHERE rank = 0")
            #expect(throws: StoreError.self) { try store.vocabulary(named: "bpe") }
        }
    }

    @Test func aModelRecordHasNoTargetVocabularyFingerprintUntilOneIsWritten() throws {
        try withStore(.memory) { store in
            try store.saveVocabulary(makeVocabulary(), name: "v")
            try store.saveModel(name: "m", kind: "lstm-lm", hyperparametersJSON: "{}", vocabulary: "v", tensors: [])
            #expect(try store.model(named: "m").targetVocabularyFingerprint == nil)
            try store.database.execute("UPDATE models SET target_vocabulary_fingerprint = 'abc'")
            #expect(try store.model(named: "m").targetVocabularyFingerprint == "abc")
        }
    }
}
