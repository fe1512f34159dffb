import Foundation
import Quill
import QuillTestSupport
import Testing

/// The embedded corpus and its exported vocabulary stay what the README promises.
@Suite struct EmbeddedCorpusTests {
    let corpus = TestSupport.packageRoot.appendingPathComponent("corpora/default/train.txt").path
    let vocabularyFile = TestSupport.packageRoot.appendingPathComponent("vocab/default.vocab").path

    @Test func corpusIsLargeValidUTF8() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus))
        #expect(data.count >= 200_000)
        #expect(String(validating: data, as: UTF8.self) != nil)
        #expect(!data.contains(0x0D), "LF line endings only")
    }

    @Test func exportedVocabularyMatchesTheCorpus() throws {
        var builder = VocabularyBuilder(settings: TokenizerSettings())
        try builder.addTokens(of: TextReader(path: corpus))
        let built = builder.build()
        let (exported, name) = try VocabularyFile.read(try TextReader(path: vocabularyFile).readAll(),
                                                       file: vocabularyFile)
        #expect(name == "default")
        #expect(exported.fingerprint == built.fingerprint,
                "vocab/default.vocab is stale: regenerate it as vocab/README.md says")
        #expect(exported.counts == built.counts)
    }
}
