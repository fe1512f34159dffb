import Testing
@testable import QuillStore

/// The one rule for stored names, how they are shown, and the names a not-found error suggests.
@Suite struct StoreNameTests {
    static let invalid: [(name: String, reason: String)] = [
        ("", "empty"),
        ("a\nb", "\\u{A}"),
        ("red\u{1B}[31m", "\\u{1B}"),
        ("tab\there", "\\u{9}"),
        ("line\u{2028}separator", "\\u{2028}"),
        ("\u{202E}reversed", "\\u{202E}"),
        ("   ", "only whitespace"),
        (" leading", "starts or ends with whitespace"),
        ("trailing\u{A0}", "starts or ends with whitespace"),
        (String(repeating: "x", count: 5_000), "5000 characters"),
        (String(repeating: "é", count: 201), "201 characters"),
    ]

    @Test(arguments: invalid)
    func refused(name: String, reason: String) {
        let problem = StoreName.problem(with: name)
        #expect(problem?.contains(reason) == true, "\(problem ?? "accepted")")
        #expect(throws: StoreError.self) { try StoreName.validate(name, kind: "model") }
    }

    @Test(arguments: ["ptb-word", "de→en 2016", "モデル", "a", "inner  spaces", "👩‍💻 dev",
                      String(repeating: "x", count: 200)])
    func accepted(name: String) {
        #expect(StoreName.problem(with: name) == nil)
    }

    @Test func theErrorSaysWhatIsAllowedAndNeverShowsTheNameRaw() {
        let error = StoreError.invalidName(kind: "model", name: "x\u{1B}[2J" + String(repeating: "y", count: 5_000),
                                           reason: "…")
        #expect(error.description.contains("1–200 characters"))
        #expect(!error.description.contains("\u{1B}") && error.description.count < 300, "\(error.description)")
    }

    @Test func escapedShowsControlsAsCodes() {
        #expect(StoreName.escaped("plain name") == "plain name")
        #expect(StoreName.escaped("a\nb\u{1B}[31m\u{9B}c") == "a\\u{A}b\\u{1B}[31m\\u{9B}c")
        #expect(StoreName.escaped("\u{202E}x") == "\\u{202E}x")
    }

    @Test func closestIsAllWhenFewElseTheNearestByEditDistance() {
        #expect(StoreName.closest(to: "x", among: ["b", "a"]) == ["a", "b"])
        let names = ["ptb-word", "ptb-char", "wiki-bpe", "wiki-word", "shakespeare", "tiny", "multi30k"]
        #expect(StoreName.closest(to: "ptb-wrd", among: names, limit: 2) == ["ptb-word", "ptb-char"])
        #expect(StoreName.closest(to: "PTB-WORD", among: names, limit: 1) == ["ptb-word"])
        #expect(StoreName.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(StoreName.editDistance([], Array("abc")) == 3)
    }

    @Test(arguments: StoreLocation.allCases)
    func everySavePathChecksTheName(location: StoreLocation) throws {
        try withStore(location) { store in
            let bad = "evil\u{1B}]0;title\u{7}"
            #expect(throws: StoreError.invalidName(kind: "vocabulary", name: bad, reason: "the name holds the "
                + "control character \\u{1B}")) { try store.saveVocabulary(makeVocabulary(), name: bad) }
            try store.saveVocabulary(makeVocabulary(), name: "v")
            #expect(throws: StoreError.self) {
                try store.saveModel(name: "  ", kind: "lstm-lm", hyperparametersJSON: "{}", vocabulary: "v",
                                    tensors: [])
            }
            #expect(throws: StoreError.self) { try store.createRun(name: "a\nb", configJSON: "{}") }
            #expect(try store.vocabularies().map(\.name) == ["v"])
            #expect(try store.models().isEmpty && store.runs().isEmpty)
        }
    }

    @Test func notFoundNamesTheClosestOfItsKind() throws {
        let store = try Store(path: ":memory:")
        #expect(throws: StoreError.notFound(kind: "vocabulary", name: "v", closest: [])) {
            try store.vocabulary(named: "v")
        }
        for name in ["ptb-word", "ptb-char", "wiki-bpe", "wiki-word", "shakespeare", "tiny"] {
            try store.saveVocabulary(makeVocabulary(), name: name)
        }
        do {
            _ = try store.vocabulary(named: "ptb-wrd")
            Issue.record("found a vocabulary that is not there")
        } catch let error as StoreError {
            guard case let .notFound(_, _, closest?) = error else { Issue.record("\(error)"); return }
            #expect(closest.count == 5 && closest.first == "ptb-word" && !closest.contains("shakespeare"))
            #expect(error.description.contains("the closest it holds: 'ptb-word'"), "\(error.description)")
        }
        try saveSampleModel(in: store, name: "m", vocabulary: "tiny")
        #expect(throws: StoreError.notFound(kind: "model", name: "n", closest: ["m"])) { try store.model(named: "n") }
        #expect(StoreError.notFound(kind: "model", name: "n", closest: ["m"]).description.contains("it holds 'm'"))
        let run = try store.createRun(name: "m", configJSON: "{}")
        #expect(throws: StoreError.notFound(kind: "run", name: "#9", closest: ["#\(run)"])) {
            try store.run(id: 9)
        }
    }
}
