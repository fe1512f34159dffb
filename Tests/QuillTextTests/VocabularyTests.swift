import Foundation
import Testing
@testable import QuillText

private func vocabulary(_ text: String, _ settings: TokenizerSettings = TokenizerSettings(),
                        minCount: Int = 1, maxSize: Int? = nil) throws -> Vocabulary {
    var builder = VocabularyBuilder(settings: settings)
    for token in try Tokenizer(settings).tokenize(text) { builder.add(token) }
    return builder.build(minCount: minCount, maxSize: maxSize)
}

@Suite struct VocabularyTests {
    @Test func orderIsSpecialsThenCountDescendingThenBytes() throws {
        let v = try vocabulary("b a c a b a d <unk>")
        #expect(Array(v.tokens.prefix(4)) == Vocabulary.specialTokens)
        #expect(v.tokens[4] == " a" && v.counts[4] == 3)
        // Ties broken by UTF-8 bytes: " <" (0x20 0x3C) < " b" < " c" < " d" < ">" < "b" < "unk".
        #expect(Array(v.tokens.dropFirst(5)) == [" <", " b", " c", " d", ">", "b", "unk"])
        #expect(v.counts == [0, 0, 0, 0, 3, 1, 1, 1, 1, 1, 1, 1])
    }

    @Test func minCountAndMaxSizeIncludeSpecials() throws {
        let text = "x x x y y z"
        #expect(try vocabulary(text, minCount: 2).tokens.dropFirst(4) == [" x", " y"])
        #expect(try vocabulary(text, maxSize: 5).tokens == Vocabulary.specialTokens + [" x"])
        #expect(try vocabulary(text, maxSize: 2).count == 4, "never fewer than the specials")
    }

    @Test func lookupsFromStringsAndBytesAgreeAndSpecialsAreNotMatchedFromText() throws {
        let v = try vocabulary("the cat <unk> sat")
        // All counts are 1, so ids follow byte order: " <", " cat", " sat", ">", "the", "unk".
        #expect(v.id(" <") == 4 && v.id(" cat") == 5 && v.id("unk") == 9)
        var token = " cat"
        let fromBytes = token.withUTF8 { v.id(utf8: UnsafeRawBufferPointer($0)) }
        #expect(fromBytes == v.id(" cat"))
        #expect(v.id("dog") == Vocabulary.unknownID)
        #expect(v.id("<unk>") == Vocabulary.unknownID, "literal <unk> text is not special (it is an ordinary token)")
        #expect(!v.contains("<eos>"))
        #expect(v[v.id(" sat")] == " sat")
    }

    @Test func buildingIsDeterministicAndTheFingerprintTracksSettingsAndTokens() throws {
        let text = "one two three two three three café Café"
        let a = try vocabulary(text), b = try vocabulary(text)
        #expect(a == b && a.fingerprint == b.fingerprint)
        #expect(a.fingerprint.count == 64)
        #expect(try vocabulary(text, TokenizerSettings(caseFold: true)).fingerprint != a.fingerprint)
        #expect(try vocabulary(text, TokenizerSettings(locale: "fr")).fingerprint != a.fingerprint,
                "settings change the fingerprint even when the tokens are the same")
        #expect(try vocabulary(text + " four").fingerprint != a.fingerprint)
    }

    @Test func builderStreamsAFile() throws {
        let path = try temporaryFile(Array("a b a\nb a c\n".utf8))
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: .whitespace))
        try builder.addTokens(of: TextReader(path: path, chunkSize: 16))
        #expect(builder.totalTokens == 8)
        let v = builder.build()
        // Tokens: "a" " b" " a" "\n" "b" " a" " c" "\n"; ties in byte order ("\n" is 0x0A).
        #expect(Array(v.tokens.dropFirst(4)) == ["\n", " a", " b", " c", "a", "b"])
        #expect(Array(v.counts.dropFirst(4)) == [2, 2, 1, 1, 1, 1])
    }

    @Test func sha256KnownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array(String(repeating: "a", count: 1000).utf8))
            == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func byteTableGrowsAndCounts() {
        var table = ByteTable(capacity: 4)
        for i in 0..<10_000 {
            var key = "k\(i % 2500)"
            _ = key.withUTF8 { table.add(1, to: UnsafeRawBufferPointer($0)) }
        }
        #expect(table.count == 2500)
        #expect(table.value(for: "k0") == 4 && table.value(for: "k2499") == 4 && table.value(for: "k2500") == nil)
        var empty = ""
        _ = empty.withUTF8 { table.add(7, to: UnsafeRawBufferPointer($0)) }
        #expect(table.value(for: "") == 7)
    }
}

@Suite struct VocabularyFileTests {
    @Test func roundTripKeepsEveryTokenExactly() throws {
        let tokens = Vocabulary.specialTokens + [" the", "\n", " \n", "\r\n", "\t", "a\\b", "\\s", "\u{00A0}", "👍🏽",
                                                 "\u{FEFF}x", "\u{7}", "\u{2028}", "东京", " "]
        let v = Vocabulary(settings: TokenizerSettings(level: .character, caseFold: true),
                           tokens: tokens, counts: [0, 0, 0, 0] + (1...(tokens.count - 4)).reversed())
        let text = VocabularyFile.write(v, name: "weird")
        let (back, name) = try VocabularyFile.read(text, file: "weird.vocab")
        #expect(name == "weird")
        #expect(back.tokens == v.tokens && back.counts == v.counts && back.settings == v.settings)
        #expect(back.fingerprint == v.fingerprint)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(!line.split(separator: "\t", maxSplits: 2)[2].contains { $0.isWhitespace })
        }
        #expect(text.contains("\\sthe"))
    }

    @Test(arguments: [
        ("nonsense\n", 1, "first line"),
        ("# quill-vocabulary 1\n# settings: {\"level\":\"word\",\"normalization\":\"nfc\",\"caseFold\":false,\"locale\":\"en\"}\n0\t0\t<unk>\n2\t0\t<eos>\n", 4, "out of order"),
        ("# quill-vocabulary 1\n# settings: {\"level\":\"word\",\"normalization\":\"nfc\",\"caseFold\":false,\"locale\":\"en\"}\n0\t0\t<bos>\n", 3, "special"),
        ("# quill-vocabulary 1\n0\t0\t<unk>\n1\tx\t<bos>\n", 3, "id<TAB>count<TAB>token"),
        ("# quill-vocabulary 1\n0\t0\t<unk>\n1\t0\t<bos>\n2\t0\t<eos>\n3\t0\t<pad>\n4\t1\tbad\\q\n", 6, "unknown escape"),
    ] as [(String, Int, String)])
    func malformedFilesNameTheLine(text: String, line: Int, reason: String) {
        do {
            _ = try VocabularyFile.read(text, file: "v.vocab")
            Issue.record("accepted a malformed file")
        } catch let TextError.vocabularyFormat(file, l, r) {
            #expect(file == "v.vocab")
            #expect(l == line)
            #expect(r.contains(reason), "\(r)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anEditedFileFailsItsFingerprint() throws {
        let v = Vocabulary(settings: TokenizerSettings(), tokens: Vocabulary.specialTokens + [" a", " b"],
                           counts: [0, 0, 0, 0, 2, 1])
        let edited = VocabularyFile.write(v, name: "v").replacingOccurrences(of: "\\sb", with: "\\sc")
        #expect(throws: TextError.self) { try VocabularyFile.read(edited, file: "v.vocab") }
        let accepted = edited.split(separator: "\n").filter { !$0.hasPrefix("# fingerprint") }.joined(separator: "\n")
        #expect(try VocabularyFile.read(accepted, file: "v.vocab").vocabulary.tokens.last == " c")
    }
}
