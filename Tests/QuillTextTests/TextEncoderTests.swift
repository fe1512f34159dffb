import Foundation
import QuillText
import Testing

/// The one text → ids path, and the line convention: a line starts after and ends on the corpus's line break.
@Suite struct TextEncoderTests {
    /// Lines as PTB writes them: a space before every word and before the line break.
    static let ptb = " the cat sat \n a dog ran \n the dog sat \n"
    /// Ordinary prose: no space before the line break.
    static let prose = "The cat sat.\nA dog ran.\nThe dog sat.\n"

    static func encoder(_ text: String, level: TokenLevel) throws -> TextEncoder {
        let settings = TokenizerSettings(level: level)
        var builder = VocabularyBuilder(settings: settings)
        for token in try Tokenizer(settings).tokenize(text) { builder.add(token) }
        return try TextEncoder(builder.build())
    }

    @Test(arguments: [TokenLevel.whitespace, .word])
    func aPTBLineStartsAfterAndEndsOnItsSpaceLineBreak(level: TokenLevel) throws {
        let encoder = try Self.encoder(Self.ptb, level: level)
        let v = encoder.vocabulary
        #expect(!v.contains("\n") && v.contains(" \n"))
        #expect(encoder.lineStart == v.id(" \n") && v.lineStartID == encoder.lineStart)
        let expected = [" the", " cat", " sat", " \n"].map { v.id($0) }
        // With its trailing space (as a line of the file reads) or without, the line is the corpus's tokens.
        #expect(try encoder.lineIDs(of: " the cat sat ") == expected)
        #expect(try encoder.lineIDs(of: " the cat sat") == expected)
        #expect(try encoder.lineIDs(of: "").count == 1)
        #expect(!expected.contains(Vocabulary.unknownID))
    }

    @Test(arguments: [TokenLevel.whitespace, .word])
    func aProseLineEndsOnItsBareLineBreak(level: TokenLevel) throws {
        let encoder = try Self.encoder(Self.prose, level: level)
        let v = encoder.vocabulary
        #expect(encoder.lineStart == v.id("\n"))
        let ids = try encoder.lineIDs(of: "The dog ran. ")
        #expect(ids.last == v.id("\n") && !ids.contains(Vocabulary.unknownID))
        #expect(ids.dropLast() == (try encoder.ids(of: "The dog ran."))[...])
    }

    @Test func aCharacterLineKeepsItsSpacesAndEndsOnTheLineBreak() throws {
        let encoder = try Self.encoder("ab \nba\n", level: .character)
        let v = encoder.vocabulary
        #expect(encoder.lineStart == v.id("\n"))
        #expect(try encoder.lineIDs(of: "ab ") == ["a", "b", " ", "\n"].map { v.id($0) })
    }

    @Test func theMostFrequentLineBreakWinsAndNoneMeansEndOfSequence() throws {
        // Two lines end with " \n", one with "\n".
        let mixed = try Self.encoder(" a \n b \nc\n", level: .whitespace)
        #expect(mixed.lineStart == mixed.vocabulary.id(" \n"))
        let flat = try Self.encoder("a b c", level: .whitespace)
        #expect(flat.lineStart == Vocabulary.endID)
    }

    @Test func streamingGivesTheSameIdsAsAString() throws {
        let encoder = try Self.encoder(Self.ptb, level: .whitespace)
        let text = Self.ptb + " the zebra sat \n"
        var streamed: [Int32] = []
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("encoder-\(UUID()).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try encoder.forEachID(in: try TextReader(path: path, chunkSize: 7)) { streamed.append($0) }
        #expect(streamed == (try encoder.ids(of: text)))
        #expect(streamed.contains(Vocabulary.unknownID))  // " zebra"
        #expect(encoder.text(of: streamed.filter { $0 != Vocabulary.unknownID })
                == text.replacingOccurrences(of: " zebra", with: ""))
    }
}
