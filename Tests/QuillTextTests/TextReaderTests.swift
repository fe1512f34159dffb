import Foundation
import Testing
@testable import QuillText

/// Writes bytes to a fresh temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], name: String = "text.txt") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quill-text-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// All chunks of a reader, and the chunks' byte lengths.
func chunks(of path: String, chunkSize: Int, lossy: Bool = false) throws -> [[UInt8]] {
    var out: [[UInt8]] = []
    try TextReader(path: path, chunkSize: chunkSize, lossy: lossy).forEachChunk { out.append(Array($0)) }
    return out
}

@Suite struct TextReaderTests {
    @Test(arguments: [16, 17, 31, 64, 1000, 1 << 20])
    func chunksConcatenateToTheFileAndEndAtSafeBoundaries(chunkSize: Int) throws {
        let text = "first line\nsecond line is longer than sixteen bytes\n\n" + String(repeating: "wordy ", count: 30)
            + "\nno-newline-at-all-for-a-long-run-of-more-than-thirty-two-bytes é👍🏽 end"
        let path = try temporaryFile(Array(text.utf8))
        let parts = try chunks(of: path, chunkSize: chunkSize)
        #expect(parts.flatMap { $0 } == Array(text.utf8))
        for part in parts.dropLast() {
            let last = part.last!
            // After a line break, or before a space that follows a non-space.
            #expect(last == 0x0A || last != 0x20, "chunk ends with \(last)")
            #expect(String(validating: part, as: UTF8.self) != nil, "every chunk is valid UTF-8 on its own")
        }
    }

    @Test(arguments: TokenLevel.allCases)
    func streamingEqualsWholeTextTokenization(level: TokenLevel) throws {
        var rng = SplitMix(seed: 11)
        let pieces = ["the", " cat", "  ", "\n", "\r\n", " \n", "é", "e\u{301}", "👍🏽", "🇫🇷", "東京", "l'", "x", ",",
                      "\t", " ", "ΣΑΣ", "ﬁ"]
        let text = (0..<3000).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
        let path = try temporaryFile(Array(text.utf8))
        for settings in [TokenizerSettings(level: level, normalization: .none),
                         TokenizerSettings(level: level, normalization: .nfkc, caseFold: true, locale: "fr")] {
            let whole = try Tokenizer(settings).tokenize(text)
            for chunkSize in [16, 100, 4096] {
                var streamed: [String] = []
                try Tokenizer(settings).forEachToken(in: TextReader(path: path, chunkSize: chunkSize)) {
                    streamed.append(String(decoding: $0, as: UTF8.self))
                }
                #expect(streamed == whole, "\(settings) chunk \(chunkSize)")
            }
        }
    }

    @Test func invalidUTF8NamesLineColumnAndOffset() throws {
        let bytes = Array("ok line\nsecond ".utf8) + [0xC3, 0x28] + Array(" rest\n".utf8)
        let path = try temporaryFile(bytes)
        for chunkSize in [16, 1 << 20] {
            #expect(throws: TextError.invalidUTF8(file: path, line: 2, column: 8, offset: 15)) {
                try chunks(of: path, chunkSize: chunkSize)
            }
        }
        let error = TextError.invalidUTF8(file: path, line: 2, column: 8, offset: 15)
        #expect(error.description.contains("\(path):2:8"))
        // The library says the fix in its own terms; the CLI adds the flag (ErrorHints).
        #expect(error.description.contains("lossily") && !error.description.contains("--"))
    }

    @Test(arguments: [
        ([0xFF], 0), ([0xC0, 0x80], 0), ([0xE0, 0x80, 0x80], 0), ([0xED, 0xA0, 0x80], 0),  // overlong, surrogate
        ([0xF4, 0x90, 0x80, 0x80], 0), ([0x80], 0), ([0x61, 0xE2, 0x82], 1),  // too large, stray, truncated at EOF
    ] as [([UInt8], Int)])
    func illFormedSequencesAreRejected(bytes: [UInt8], offset: Int) throws {
        let path = try temporaryFile(bytes)
        #expect(throws: TextError.invalidUTF8(file: path, line: 1, column: offset + 1, offset: offset)) {
            try chunks(of: path, chunkSize: 16)
        }
    }

    @Test func invalidByteOnALongLineSpanningChunks() throws {
        let line = String(repeating: "abc ", count: 100)  // 400 bytes, no newline: cut at spaces
        let bytes = Array("x\n".utf8) + Array(line.utf8) + [0xFE] + Array("\n".utf8)
        let path = try temporaryFile(bytes)
        #expect(throws: TextError.invalidUTF8(file: path, line: 2, column: 401, offset: 402)) {
            try chunks(of: path, chunkSize: 32)
        }
    }

    /// Found by fuzz/ (fuzz-utf8): a full chunk without a line break whose last character is cut off left
    /// `validated` below the chunk size, and the reader waited for input it never read.
    @Test(.timeLimit(.minutes(1))) func aFullChunkEndingInsideACharacterIsCutBeforeIt() throws {
        let crash = Array("Towit+ 'y=hat  ".utf8) + [0xD8]  // 16 bytes: a lead byte at the end of the file
        let path = try temporaryFile(crash)
        #expect(throws: TextError.invalidUTF8(file: path, line: 1, column: 16, offset: 15)) {
            try chunks(of: path, chunkSize: 16)
        }
        #expect(try TextReader(path: path, chunkSize: 16, lossy: true).readAll() == "Towit+ 'y=hat  \u{FFFD}")

        let text = "a" + String(repeating: "é", count: 20) + "\n"  // each 16-byte chunk ends inside an é
        let parts = try chunks(of: try temporaryFile(Array(text.utf8)), chunkSize: 16)
        #expect(parts.flatMap { $0 } == Array(text.utf8))
        #expect(parts.allSatisfy { String(validating: $0, as: UTF8.self) != nil })
    }

    @Test func lossyReplacesMaximalSubpartsAndCounts() throws {
        let bytes = Array("a".utf8) + [0xE2, 0x82] + Array("b".utf8) + [0xFF, 0xFE] + Array("c\n".utf8)
        let path = try temporaryFile(bytes)
        let reader = try TextReader(path: path, chunkSize: 16, lossy: true)
        let text = try reader.readAll()
        #expect(text == "a\u{FFFD}b\u{FFFD}\u{FFFD}c\n")
        #expect(text == String(decoding: bytes, as: UTF8.self), "the same policy as Swift's decoder")
        #expect(reader.replacements == 3)
    }

    @Test func missingFileAndDirectoryAreClearErrors() throws {
        #expect(throws: TextError.self) { try TextReader(path: "/nonexistent/quill.txt") }
        do {
            _ = try TextReader(path: "/nonexistent/quill.txt")
        } catch let error as TextError {
            #expect(error.description.contains("/nonexistent/quill.txt"))
        }
        #expect(throws: TextError.unreadable(file: "/tmp", reason: "is a directory")) { try TextReader(path: "/tmp") }
    }

    @Test func emptyFileHasNoChunks() throws {
        let path = try temporaryFile([])
        #expect(try chunks(of: path, chunkSize: 16).isEmpty)
    }
}
