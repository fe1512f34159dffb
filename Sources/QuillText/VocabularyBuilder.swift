/// Counts tokens of a corpus and turns the counts into a ``Vocabulary``.
///
/// Counting is keyed by UTF-8 bytes (no `String` per token), so it streams a corpus at tokenizer speed.
public struct VocabularyBuilder {
    public let settings: TokenizerSettings
    private var table = ByteTable(capacity: 1 << 14)
    /// Tokens counted so far.
    public private(set) var totalTokens = 0

    public init(settings: TokenizerSettings) { self.settings = settings }

    /// Distinct tokens counted so far.
    public var distinctTokens: Int { table.count }

    public mutating func add(utf8 token: UnsafeRawBufferPointer) {
        table.add(1, to: token)
        totalTokens += 1
    }

    public mutating func add(_ token: String) {
        var t = token
        t.withUTF8 { add(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Counts every token of a reader's text with a tokenizer of this builder's settings.
    /// - Parameter progress: called after each chunk with the reader (for bytes read and the total); an error it
    ///   throws (a stop request) ends the count.
    public mutating func addTokens(of reader: TextReader, progress: ((TextReader) throws -> Void)? = nil) throws {
        let tokenizer = try Tokenizer(settings)
        try reader.forEachChunk { chunk in
            try tokenizer.forEachToken(inUTF8: chunk) { add(utf8: $0) }
            try progress?(reader)
        }
    }

    /// Counts every token of some valid UTF-8 text (whole lines, each ending on its line break, as a file would hold
    /// them) with `tokenizer`, which must have this builder's settings.
    public mutating func addTokens(inUTF8 text: UnsafeRawBufferPointer, using tokenizer: Tokenizer) throws {
        precondition(tokenizer.settings == settings, "a tokenizer of other settings than the builder's")
        try tokenizer.forEachToken(inUTF8: text) { add(utf8: $0) }
    }

    /// The vocabulary: the specials, then tokens seen at least `minCount` times, by count descending and then by
    /// UTF-8 bytes, cut so the whole vocabulary (specials included) has at most `maxSize` entries.
    ///
    /// At the ``TokenLevel/bpe`` level the counted tokens are words: ``SubwordLearner`` learns `settings.merges`
    /// merges from all of them (`minCount` and `maxSize` do not apply; the merge count sets the size).
    public func build(minCount: Int = 1, maxSize: Int? = nil) -> Vocabulary {
        if settings.level == .bpe {
            return SubwordLearner(merges: settings.merges).vocabulary(settings: settings) { add in table.forEach(add) }
        }
        var entries: [(bytes: [UInt8], count: Int)] = []
        table.forEach { key, count in
            if count >= minCount { entries.append((Array(key), count)) }
        }
        entries.sort { a, b in a.count != b.count ? a.count > b.count : a.bytes.lexicographicallyPrecedes(b.bytes) }
        let room = max(0, (maxSize ?? Int.max) - Vocabulary.specialTokens.count)
        if entries.count > room { entries.removeLast(entries.count - room) }
        let tokens = Vocabulary.specialTokens + entries.map { String(decoding: $0.bytes, as: UTF8.self) }
        let counts = [Int](repeating: 0, count: Vocabulary.specialTokens.count) + entries.map(\.count)
        return Vocabulary(settings: settings, tokens: tokens, counts: counts)
    }
}
