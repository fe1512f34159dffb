import Foundation
import QuillTestSupport
import QuillText
import Testing
@testable import QuillTrain

@Suite struct TokenIDsTests {
    static let settings = TokenizerSettings(level: .whitespace)

    static func vocabulary(_ text: String) throws -> Vocabulary {
        var builder = VocabularyBuilder(settings: settings)
        for token in try Tokenizer(settings).tokenize(text) { builder.add(token) }
        return builder.build()
    }

    @Test func encodesAFileAndCountsUnknownTokens() throws {
        let vocabulary = try Self.vocabulary("the cat sat\nthe dog\n")
        let directory = try TemporaryDirectory()
        let path = directory.file("valid.txt").path
        let text = "the cat ran\nthe bird sat\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        // A small chunk size makes the reader stream the file in several chunks.
        let encoded = try TokenIDs.encode(file: path, vocabulary: vocabulary, chunkSize: 16)
        #expect(encoded.ids == (try Tokenizer(Self.settings).ids(of: text, in: vocabulary)))
        #expect(encoded.count == 8)  // the, cat, ran, \n, the, bird, sat, \n
        #expect(encoded.unknownCount == 2)  // " ran", " bird"
        #expect(encoded.unknownRate == 0.25)
        #expect(encoded.vocabularyFingerprint == vocabulary.fingerprint)
        #expect(encoded.ids.filter { $0 == Vocabulary.unknownID }.count == 2)
    }

    @Test func emptyCorpusNamesTheFile() throws {
        let vocabulary = try Self.vocabulary("a b\n")
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.txt").path
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TextError.emptyCorpus(file: path)) {
            _ = try TokenIDs.encode(file: path, vocabulary: vocabulary)
        }
    }

    @Test func encodedStreamFeedsTheBatcher() throws {
        let text = String(repeating: "a b c d\n", count: 10)
        let vocabulary = try Self.vocabulary(text)
        let directory = try TemporaryDirectory()
        let path = directory.file("train.txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let encoded = try TokenIDs.encode(file: path, vocabulary: vocabulary)
        #expect(encoded.unknownCount == 0)
        let batcher = try Batcher(ids: encoded.ids, batchSize: 4, steps: 3)
        #expect(batcher.streamLength == encoded.count / 4)
    }
}
