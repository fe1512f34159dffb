import Foundation
import QuillText
import QuillTestSupport
import Testing

/// BPE: the learner's merges and their order, encoding by rank, the byte fallback, exact round trips, the fingerprint
/// and the vocabulary file.
@Suite struct SubwordTests {
    /// Sennrich et al.'s example (without end-of-word marks): counts chosen so every tie-break rule is exercised.
    static let words = ["low": 5, "lower": 2, "newest": 6, "widest": 3]
    static let settings = TokenizerSettings(level: .bpe, normalization: .none, merges: 100)

    /// Worked by hand (SubwordLearner's rules): symbols are numbered e w s t l o n d i r (count, then scalar);
    /// `es` and `st` tie at 9 and `e` is older than `s`; `lo` and `ow` tie at 7 (`l` older); `ew`, `ne` and `w est`
    /// tie at 6 (`e` oldest); `wi`, `id`, `d est` tie at 3 (`w`), then `d est` beats `wi d` (`d` older than `wi`).
    static let expectedMerges = [("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w"), ("e", "w"), ("n", "ew"),
                                 ("new", "est"), ("w", "i"), ("d", "est"), ("wi", "dest"), ("e", "r"), ("low", "er")]

    @Test func learnerFindsTheHandCheckedMergesInOrder() {
        let v = SubwordLearner(merges: 100).vocabulary(settings: Self.settings, wordCounts: Self.words)
        #expect(v.merges == Self.expectedMerges.map { SubwordMerge($0.0, $0.1) })
        // Specials, bytes, the 10 characters by count, then one subword per merge.
        #expect(v.count == 4 + 256 + 10 + 12)
        #expect(Array(v.tokens[260..<270]) == ["e", "w", "s", "t", "l", "o", "n", "d", "i", "r"])
        #expect(v.tokens.last == "lower" && v.counts[v.tokens.count - 1] == 2)
        #expect(v.counts[Int(v.id("es"))] == 9)
    }

    @Test func learnerStopsAtTheMergeCountAndIgnoresWordOrder() {
        let four = SubwordLearner(merges: 4).vocabulary(settings: Self.settings, wordCounts: Self.words)
        #expect(four.merges.map { $0.left + $0.right } == ["es", "est", "lo", "low"])
        // Same counts given in another order: the same vocabulary.
        let reversed = SubwordLearner(merges: 4).vocabulary(settings: Self.settings) { add in
            for (word, count) in Self.words.sorted(by: { $0.key > $1.key }) {
                var w = word
                w.withUTF8 { add(UnsafeRawBufferPointer($0), count) }
            }
        }
        #expect(reversed.fingerprint == four.fingerprint)
    }

    @Test func mergesNeverCrossAWordAndRepeatedPairsMergeLeftToRight() {
        // "aaaa" twice: a a → aa (count 6: three overlapping pairs per word); then " a" and "aa aa" tie at 2 and
        // " " (id 1) is older than "aa"; " a" never joins "aaaa".
        let v = SubwordLearner(merges: 10).vocabulary(settings: Self.settings, wordCounts: ["aaaa": 2, " a": 2])
        #expect(v.merges.map { $0.left + "+" + $0.right } == ["a+a", " +a", "aa+aa"])
        #expect(v.counts[Int(v.id("aa"))] == 6)
    }

    @Test func encodingAppliesMergesByRank() throws {
        let encoder = try TextEncoder(SubwordLearner(merges: 100).vocabulary(settings: Self.settings,
                                                                             wordCounts: Self.words))
        #expect(try encoder.tokens(of: "lowest") == ["low", "est"])
        #expect(try encoder.tokens(of: "newer") == ["new", "er"])
        #expect(try encoder.tokens(of: "widest lower") == ["widest", "<0x20>", "lower"])  // " " was never seen
    }

    @Test func unseenCharactersFallBackToBytesNeverUnknown() throws {
        let encoder = try TextEncoder(SubwordLearner(merges: 100).vocabulary(settings: Self.settings,
                                                                             wordCounts: Self.words))
        let ids = try encoder.ids(of: "low😀")
        #expect(ids.first == encoder.vocabulary.id("low"))
        #expect(Array(ids.dropFirst()) == [0xF0, 0x9F, 0x98, 0x80].map { Vocabulary.firstByteID + Int32($0) })
        #expect(try encoder.tokens(of: "😀") == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"])
        #expect(encoder.text(of: ids) == "low😀")
        // The literal text of a byte token is ordinary text, not the byte.
        #expect(try encoder.text(of: encoder.ids(of: "<0x41>")) == "<0x41>")
        #expect(!(try encoder.ids(of: "<0x41>")).contains(Vocabulary.firstByteID + 0x41))
    }

    static let awkward = [
        "",
        "\n\n\n",
        "   leading and trailing spaces   \n\t\ttabs\t\n",
        "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 keycap 1️⃣\n",
        "combining: e\u{301} a\u{300}\u{316} n\u{303}\u{303}\u{303} (not NFC on purpose)\n",
        "CJK 漢字かなカナ한국어 mixed世界hello\n",
        "rare: \u{0}\u{1}\u{7F}\u{80}\u{FEFF}\u{200B}\u{10FFFF}\u{E000} NBSP\u{A0}x\u{2028}y\u{85}z\r\nwin\rold mac\n",
        "no final newline, and a long word: " + String(repeating: "abcdefgh", count: 300),
        "l'homme qu'il a vu aujourd'hui — “quotes” ‘single’ … \u{3000}ideographic space\n\n\n  \n",
    ]

    @Test(arguments: awkward.indices)
    func awkwardTextRoundTripsExactly(index: Int) throws {
        let text = Self.awkward[index]
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: .bpe, normalization: .none, merges: 200))
        for token in try Tokenizer(builder.settings).tokenize("the cat sat on the mat.\nthe cat ran\n") {
            builder.add(token)
        }
        let encoder = try TextEncoder(builder.build())
        let ids = try encoder.ids(of: text)
        #expect(!ids.contains(Vocabulary.unknownID))
        #expect(Array(encoder.text(of: ids).utf8) == Array(text.utf8))
        // Twice: the second time from the word cache.
        #expect(try encoder.ids(of: text) == ids)
    }

    @Test func aFileRoundTripsThroughTheStreamingPath() throws {
        let text = Self.awkward.joined(separator: "\n")
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("awkward.txt")
            try Data(text.utf8).write(to: url)
            let settings = TokenizerSettings(level: .bpe, normalization: .none, merges: 300)
            var builder = VocabularyBuilder(settings: settings)
            try builder.addTokens(of: TextReader(path: url.path))
            let encoder = try TextEncoder(builder.build())
            var ids: [Int32] = []
            try encoder.forEachID(in: TextReader(path: url.path)) { ids.append($0) }
            #expect(encoder.text(of: ids) == text)
            #expect(!ids.contains(Vocabulary.unknownID))
            var bytes: [UInt8] = []
            try encoder.forEachToken(in: TextReader(path: url.path)) { token, _ in bytes.append(contentsOf: token) }
            #expect(bytes == Array(text.utf8))
        }
    }

    @Test func theFingerprintCoversTheMergesAndOtherLevelsHashAsBefore() {
        let v = SubwordLearner(merges: 100).vocabulary(settings: Self.settings, wordCounts: Self.words)
        var swapped = v.merges
        swapped.swapAt(0, 2)
        let other = Vocabulary(settings: v.settings, tokens: v.tokens, counts: v.counts, merges: swapped)
        #expect(other.fingerprint != v.fingerprint)
        let fewer = Vocabulary(settings: v.settings, tokens: v.tokens, counts: v.counts, merges: Array(v.merges.dropLast()))
        #expect(fewer.fingerprint != v.fingerprint)
        var moreMerges = v.settings
        moreMerges.merges = 101
        #expect(Vocabulary(settings: moreMerges, tokens: v.tokens, counts: v.counts, merges: v.merges).fingerprint
                != v.fingerprint)
        // A word vocabulary's settings JSON and fingerprint do not mention merges (stored fingerprints still hold).
        let word = TokenizerSettings(level: .word, merges: 123)
        #expect(!word.canonicalJSON.contains("merges"))
        #expect(Vocabulary.fingerprint(settings: word, tokens: Vocabulary.specialTokens)
                == Vocabulary.fingerprint(settings: TokenizerSettings(), tokens: Vocabulary.specialTokens))
    }

    @Test func theVocabularyFileKeepsTheMerges() throws {
        let v = SubwordLearner(merges: 100).vocabulary(settings: Self.settings, wordCounts: Self.words)
        let file = VocabularyFile.write(v, name: "bpe")
        #expect(file.contains("merge\tlow\ter\n"))
        let (read, name) = try VocabularyFile.read(file, file: "bpe.vocab")
        #expect(name == "bpe" && read.merges == v.merges && read.fingerprint == v.fingerprint)
        #expect(try TokenizerSettings(json: v.settings.canonicalJSON) == v.settings)
        // A changed merge is caught by the fingerprint line.
        let edited = file.replacingOccurrences(of: "merge\tlow\ter\n", with: "merge\tlo\tw\n")
        #expect(throws: TextError.self) { try VocabularyFile.read(edited, file: "bpe.vocab") }
    }

    @Test func aMalformedBPEVocabularyIsRefused() {
        let v = SubwordLearner(merges: 100).vocabulary(settings: Self.settings, wordCounts: Self.words)
        let broken = Vocabulary(settings: v.settings, tokens: v.tokens, counts: v.counts,
                                merges: v.merges + [SubwordMerge("zz", "q")])
        #expect(throws: TextError.self) { try TextEncoder(broken) }
    }
}

/// The line convention at the BPE level: the line end the corpus has, merged or not.
@Suite struct SubwordLineBreakTests {
    static func encoder(_ text: String) throws -> TextEncoder {
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: .bpe, merges: 50))
        for token in try Tokenizer(builder.settings).tokenize(text) { builder.add(token) }
        return try TextEncoder(builder.build())
    }

    @Test func wikiTextStyleLinesEndOnTheMergedSpaceLineBreak() throws {
        let encoder = try Self.encoder(String(repeating: " the cat sat \n a dog ran \n", count: 5) + "x\n")
        #expect(encoder.vocabulary[encoder.lineStart] == " \n")
        #expect(try encoder.lineIDs(of: " the cat sat").last == encoder.lineStart)
        #expect(try encoder.ids(of: " the cat sat \n").last == encoder.lineStart)
    }

    @Test func proseLinesEndOnTheLineFeed() throws {
        let encoder = try Self.encoder(String(repeating: "The cat sat.\nA dog ran.\n", count: 5) + "odd \nodd \n")
        #expect(encoder.vocabulary[encoder.lineStart] == "\n")
    }
}
