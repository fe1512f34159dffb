import Foundation
import Quill
import QuillTestSupport
import Testing

@Suite struct VocabularyWorkflowTests {
    private func corpus(_ text: String, in dir: TemporaryDirectory) throws -> String {
        let url = dir.file("corpus.txt")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func buildCountsCoverageAndSaves() throws {
        let dir = try TemporaryDirectory()
        let store = try Store(path: dir.file("q.sqlite").path)
        let path = try corpus("the cat sat\nthe cat ran\nthe dog\n", in: dir)
        let (vocabulary, stats) = try store.buildVocabulary(
            corpus: path, name: "v", settings: TokenizerSettings(level: .whitespace), minCount: 2)
        // Tokens: "the" ×3, " cat" ×2, "\n" ×3, " sat", " ran", " dog" ×1 each.
        #expect(stats.totalTokens == 11 && stats.distinctTokens == 6)
        #expect(Array(vocabulary.tokens.dropFirst(4)) == ["\n", "the", " cat"])
        #expect(stats.coveredTokens == 8 && abs(stats.coverage - 8.0 / 11.0) < 1e-12)
        #expect(stats.bytesRead == 32)
        #expect(try store.vocabulary(named: "v").fingerprint == vocabulary.fingerprint)
    }

    @Test func aNameClashFailsBeforeReadingAndReplaceOverwrites() throws {
        let dir = try TemporaryDirectory()
        let store = try Store(path: dir.file("q.sqlite").path)
        let path = try corpus("a b\n", in: dir)
        _ = try store.buildVocabulary(corpus: path, name: "v")
        #expect(throws: StoreError.alreadyExists(kind: "vocabulary", name: "v")) {
            try store.buildVocabulary(corpus: "/nonexistent/corpus.txt", name: "v")  // fails on the name, not the file
        }
        let replaced = try store.buildVocabulary(corpus: try corpus("c d e\n", in: dir), name: "v", replace: true)
        #expect(try store.vocabulary(named: "v").fingerprint == replaced.vocabulary.fingerprint)
    }

    @Test func emptyCorpusIsRefused() throws {
        let dir = try TemporaryDirectory()
        let store = try Store(path: dir.file("q.sqlite").path)
        let path = try corpus("", in: dir)
        #expect(throws: TextError.emptyCorpus(file: path)) { try store.buildVocabulary(corpus: path, name: "v") }
        #expect(try store.vocabularies().isEmpty, "nothing saved")
    }

    @Test func exportImportRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let store = try Store(path: dir.file("q.sqlite").path)
        let (built, _) = try store.buildVocabulary(corpus: try corpus("Don't stop\tthe café 👍🏽\r\n", in: dir), name: "v")
        let file = dir.file("v.vocab")
        try Data(try store.exportVocabulary(named: "v").utf8).write(to: file)
        let (name, imported) = try store.importVocabulary(file: file.path, name: "copy")
        #expect(name == "copy" && imported.fingerprint == built.fingerprint)
        let (headerName, _) = try store.importVocabulary(file: file.path, name: nil, replace: true)
        #expect(headerName == "v")
    }
}
