import QuillText
import Testing
@testable import QuillStore

@Suite("Vocabularies")
struct VocabularyTests {
    /// Tokens a corpus can hold: spaces, newlines, tabs, emoji sequences, combining marks, a NUL, specials' text.
    static let awkwardTokens = [
        "hello world", "line\nbreak", "\t", " ", "\r\n", "🐈‍⬛", "🇫🇷", "e\u{301}", "a\0b", "<unk>", "\"quoted\"", "'",
        "\\", "%", "_",
    ]

    @Test("a vocabulary round-trips with awkward tokens and its settings", arguments: StoreLocation.allCases)
    func roundTrip(location: StoreLocation) throws {
        let settings = TokenizerSettings(level: .character, normalization: .nfkc, caseFold: true, locale: "fr")
        let vocabulary = makeVocabulary(VocabularyTests.awkwardTokens, settings: settings)
        try withStore(location) { store throws in
            let id = try store.saveVocabulary(vocabulary, name: "awkward")
            let loaded = try store.vocabulary(named: "awkward")
            #expect(loaded == vocabulary)
            #expect(loaded.tokens == vocabulary.tokens)
            #expect(loaded.counts == vocabulary.counts)
            #expect(loaded.settings == settings)
            #expect(loaded.fingerprint == vocabulary.fingerprint)
            #expect(try store.vocabulary(id: id) == vocabulary)

            let records = try store.vocabularies()
            #expect(records.count == 1)
            #expect(records.first?.id == id)
            #expect(records.first?.settings == settings)
            #expect(records.first?.size == vocabulary.count)
            #expect(records.first?.fingerprint == vocabulary.fingerprint)
            #expect(try rowCount("vocabularies", in: store, where: "level = 'character'") == 1)
        }
    }

    @Test("vocabularies are listed by name")
    func listedByName() throws {
        let store = try Store(path: ":memory:")
        for name in ["zh", "en", "fr"] { try store.saveVocabulary(makeVocabulary(), name: name) }
        #expect(try store.vocabularies().map(\.name) == ["en", "fr", "zh"])
    }

    @Test("a second save under a name is refused unless replacing, which keeps the id")
    func saveTwice() throws {
        let store = try Store(path: ":memory:")
        let id = try store.saveVocabulary(makeVocabulary(["a"]), name: "v")
        let error = #expect(throws: StoreError.self) { try store.saveVocabulary(makeVocabulary(["b"]), name: "v") }
        #expect(error == .alreadyExists(kind: "vocabulary", name: "v"))
        #expect(try store.vocabulary(named: "v").tokens.last == "a")

        let replaced = try store.saveVocabulary(makeVocabulary(["b", "c"]), name: "v", replace: true)
        #expect(replaced == id)
        #expect(try store.vocabulary(named: "v") == makeVocabulary(["b", "c"]))
        #expect(try rowCount("vocabulary_tokens", in: store) == 6)
    }

    @Test("replacing or deleting a vocabulary a model uses is refused, naming the models")
    func inUse() throws {
        let store = try Store(path: ":memory:")
        try saveSampleModel(in: store, name: "ptb-lstm")
        try saveSampleModel(in: store, name: "ptb-gru")
        let users = ["model 'ptb-gru'", "model 'ptb-lstm'"]

        let replace = #expect(throws: StoreError.self) {
            try store.saveVocabulary(makeVocabulary(["x"]), name: "v", replace: true)
        }
        #expect(replace == .inUse(kind: "vocabulary", name: "v", users: users))
        let delete = #expect(throws: StoreError.self) { try store.deleteVocabulary(named: "v") }
        #expect(delete == .inUse(kind: "vocabulary", name: "v", users: users))
        #expect(delete?.description.contains("in use by model 'ptb-gru', model 'ptb-lstm'") == true)
        #expect(try store.vocabulary(named: "v") == makeVocabulary())
    }

    @Test("deleting an unused vocabulary removes its tokens")
    func delete() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        try store.deleteVocabulary(named: "v")
        #expect(try store.vocabularies().isEmpty)
        #expect(try rowCount("vocabulary_tokens", in: store) == 0)
        #expect(throws: StoreError.notFound(kind: "vocabulary", name: "v", closest: [])) {
            try store.deleteVocabulary(named: "v")
        }
    }

    @Test("an unknown name is not found")
    func notFound() throws {
        let store = try Store(path: ":memory:")
        #expect(throws: StoreError.notFound(kind: "vocabulary", name: "nope", closest: [])) {
            try store.vocabulary(named: "nope")
        }
    }

    @Test("an empty token or name is refused and nothing is written")
    func emptyTokenRefused() throws {
        let store = try Store(path: ":memory:")
        let error = #expect(throws: StoreError.self) { try store.saveVocabulary(makeVocabulary(["a", ""]), name: "v") }
        guard case let .invalidRecord(kind, name, reason)? = error else {
            Issue.record("expected invalidRecord, got \(String(describing: error))")
            return
        }
        #expect(kind == "vocabulary" && name == "v" && reason.contains("token id 5"))
        #expect(throws: StoreError.self) { try store.saveVocabulary(makeVocabulary(), name: "") }
        #expect(try store.vocabularies().isEmpty)
    }

    @Test("tokens changed behind the store's back are caught by the fingerprint, even without a checksum")
    func tamperedTokens() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        // As a vocabulary saved before schema version 4 (no checksum); with one, the checksum catches it first.
        try store.database.execute("UPDATE vocabularies SET checksum = NULL")
        try store.database.execute("UPDATE vocabulary_tokens SET token = 'dog' WHERE token = 'cat'")
        let error = #expect(throws: StoreError.self) { try store.vocabulary(named: "v") }
        guard case let .corrupt(path, reason)? = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(path == ":memory:")
        #expect(reason.contains("fingerprint"))
    }

    @Test("a missing token row is caught")
    func missingToken() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        try store.database.execute("DELETE FROM vocabulary_tokens WHERE token_id = 5")
        let error = #expect(throws: StoreError.self) { try store.vocabulary(named: "v") }
        guard case let .corrupt(_, reason)? = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("token id 5 is missing"))
    }

    /// No wall-clock bound here (a loaded machine makes one flaky): the speed of saving and loading is the
    /// benchmarks' to measure.
    @Test("30k tokens round-trip", arguments: StoreLocation.allCases)
    func largeVocabulary(location: StoreLocation) throws {
        let vocabulary = makeVocabulary((0..<30_000).map { "token\($0)" })
        try withStore(location) { store throws in
            try store.saveVocabulary(vocabulary, name: "big")
            #expect(try store.vocabulary(named: "big") == vocabulary)
        }
    }
}
