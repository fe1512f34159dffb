import Foundation
import Testing
@testable import QuillText

/// `../shared/corpora` beside the repository, when present.
private let corporaRoot: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpora").path
    return FileManager.default.fileExists(atPath: root) ? root : nil
}()

private let corpusFiles: [String] = {
    guard let root = corporaRoot, let e = FileManager.default.enumerator(atPath: root) else { return [] }
    return e.compactMap { $0 as? String }.filter { !$0.hasSuffix(".md") && !$0.contains("/.") }
        .map { "\(root)/\($0)" }.filter { var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }.sorted()
}()

/// Exact round trip on every real corpus: the tokens, concatenated, are the file byte for byte (no normalization),
/// and the normalized text (NFKC + case folding) when normalizing.
@Suite(.enabled(if: corporaRoot != nil, "../shared/corpora is absent"))
struct CorpusRoundTripTests {
    @Test(arguments: corpusFiles)
    func everyLevelReassemblesTheFile(path: String) throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        for level in TokenLevel.allCases {
            let tokenizer = try Tokenizer(TokenizerSettings(level: level, normalization: .none))
            var rebuilt = Data(capacity: original.count)
            var tokens = 0
            try tokenizer.forEachToken(in: TextReader(path: path)) { rebuilt.append(contentsOf: $0); tokens += 1 }
            #expect(rebuilt == original, "\(level) \(path)")
            #expect(tokens > 0)
        }
    }

    @Test(arguments: corpusFiles)
    func normalizedWordsReassembleTheNormalizedText(path: String) throws {
        let settings = TokenizerSettings(level: .word, normalization: .nfkc, caseFold: true, locale: "en")
        let tokenizer = try Tokenizer(settings)
        let normalizer = try TextNormalizer(normalization: .nfkc, caseFold: true)
        var expected = ""
        try TextReader(path: path).forEachChunk { chunk in
            expected += try normalizer.normalize(String(decoding: chunk, as: UTF8.self))
        }
        var rebuilt = [UInt8]()
        try tokenizer.forEachToken(in: TextReader(path: path)) { rebuilt.append(contentsOf: $0) }
        #expect(rebuilt == Array(expected.utf8), "\(path)")
    }
}
