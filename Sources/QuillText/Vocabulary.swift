/// One learned merge of a BPE vocabulary: two adjacent subwords that become one (their concatenation).
public struct SubwordMerge: Hashable, Sendable {
    public var left: String
    public var right: String

    public init(_ left: String, _ right: String) {
        self.left = left
        self.right = right
    }
}

/// A token ↔ id mapping built from a corpus, with the tokenizer settings it belongs to.
///
/// Ids 0–3 are the specials `<unk> <bos> <eos> <pad>`; the rest are ordered by corpus count (descending), then by
/// token bytes, so the same corpus and settings always give the same ids. The ``fingerprint`` hashes the settings and
/// the token list (and a BPE vocabulary's merges): models record it, and a model is refused with a vocabulary whose
/// fingerprint differs.
///
/// A ``TokenLevel/bpe`` vocabulary instead has the specials, then the 256 byte tokens `<0x00>`…`<0xFF>` (ids 4–259,
/// matched by id only, never from text), then the characters and the merged subwords its ``SubwordLearner`` found, and
/// its ``merges`` in rank order.
public struct Vocabulary: Sendable {
    public static let unknownID: Int32 = 0
    public static let beginID: Int32 = 1
    public static let endID: Int32 = 2
    public static let padID: Int32 = 3
    public static let specialTokens = ["<unk>", "<bos>", "<eos>", "<pad>"]

    public let settings: TokenizerSettings
    /// `tokens[id]`; the first four are ``specialTokens``.
    public let tokens: [String]
    /// Corpus count of each token (0 for the specials).
    public let counts: [Int]
    /// A BPE vocabulary's merges, by rank (the first is applied first); empty at the other levels.
    public let merges: [SubwordMerge]
    /// Lowercase hex SHA-256 of the settings and the token list.
    public let fingerprint: String
    /// The corpus's line break: a line of text starts after this token and ends on it (see ``lineStartID``).
    public let lineBreakID: Int32
    private let ids: ByteTable

    /// Makes a vocabulary from an explicit token list, which must start with ``specialTokens`` (and, at the BPE
    /// level, continue with the byte tokens; ``SubwordEncoder`` checks the rest of a BPE vocabulary's structure).
    public init(settings: TokenizerSettings, tokens: [String], counts: [Int], merges: [SubwordMerge] = []) {
        precondition(Array(tokens.prefix(4)) == Vocabulary.specialTokens, "a vocabulary starts with the specials")
        precondition(tokens.count == counts.count)
        self.settings = settings
        self.tokens = tokens
        self.counts = counts
        self.merges = merges
        self.fingerprint = Vocabulary.fingerprint(settings: settings, tokens: tokens, merges: merges)
        var table = ByteTable(capacity: tokens.count)
        // Specials are matched only by id, never from text: a corpus may contain the literal text "<unk>" (PTB does),
        // and that is an ordinary token. Byte tokens likewise: "<0x41>" in a text is not the byte 0x41.
        let firstMatched = Vocabulary.specialTokens.count + (settings.level == .bpe ? Vocabulary.byteTokenCount : 0)
        for (id, token) in tokens.enumerated() where id >= firstMatched {
            table.set(id, for: token)
        }
        self.ids = table
        lineBreakID = settings.level == .bpe
            ? Vocabulary.subwordLineBreak(in: tokens, counts: counts) : Vocabulary.lineBreak(in: tokens)
    }

    /// The token a line starts after and ends on: ``lineBreakID``.
    public var lineStartID: Int32 { lineBreakID }

    /// The first (most frequent) token that is a line break with only horizontal whitespace before it, as the
    /// tokenizer gives the end of a line: `"\n"`, or `" \n"` where lines end with a space (PTB). `<eos>` when there
    /// is none. Derived from the tokens, not stored, so every vocabulary already in a store gets it.
    static func lineBreak(in tokens: [String]) -> Int32 {
        for (id, token) in tokens.enumerated().dropFirst(specialTokens.count) {
            guard let last = token.last, last.isNewline else { continue }
            if token.dropLast().allSatisfy({ $0.isWhitespace && !$0.isNewline }) { return Int32(id) }
        }
        return endID
    }

    /// At the BPE level the characters (`"\n"`) come before the subwords (`" \n"`), so id order says nothing of
    /// which line end the corpus has. A line-end token's count, less the counts of the line-end subwords one
    /// character longer that were merged from it, estimates how many lines end exactly on it; the largest wins.
    /// So WikiText (every line ends `" \n"`) gets `" \n"` and prose gets `"\n"`.
    static func subwordLineBreak(in tokens: [String], counts: [Int]) -> Int32 {
        func isLineEnd(_ token: String) -> Bool {
            guard let last = token.last, last.isNewline else { return false }
            return token.dropLast().allSatisfy { $0.isWhitespace && !$0.isNewline }
        }
        let first = specialTokens.count + byteTokenCount
        guard tokens.count > first else { return endID }
        let ends = (first..<tokens.count).filter { isLineEnd(tokens[$0]) }
        var exact = Dictionary(uniqueKeysWithValues: ends.map { (tokens[$0], counts[$0]) })
        for id in ends where tokens[id].unicodeScalars.count > 1 {
            exact[String(tokens[id].unicodeScalars.dropFirst()), default: 0] -= counts[id]
        }
        // The most lines; among equals the smallest id.
        let best = ends.max { a, b in
            let (ca, cb) = (exact[tokens[a]]!, exact[tokens[b]]!)
            return ca != cb ? ca < cb : a > b
        }
        return best.map { Int32($0) } ?? endID
    }

    public var count: Int { tokens.count }

    /// The id of a token given as UTF-8 bytes, or ``unknownID``. Allocates nothing.
    public func id(utf8 token: UnsafeRawBufferPointer) -> Int32 {
        ids.value(for: token).map { Int32(truncatingIfNeeded: $0) } ?? Vocabulary.unknownID
    }

    /// The id of a token, or ``unknownID``.
    public func id(_ token: String) -> Int32 {
        ids.value(for: token).map { Int32(truncatingIfNeeded: $0) } ?? Vocabulary.unknownID
    }

    /// Whether the token is in the vocabulary (specials are not matched from text).
    public func contains(_ token: String) -> Bool { ids.value(for: token) != nil }

    public subscript(id: Int32) -> String { tokens[Int(id)] }

    /// SHA-256 over the canonical settings JSON and each token followed by a NUL byte; then, for a BPE vocabulary,
    /// a `merges` line and each merge's two sides, each followed by a NUL byte. Vocabularies of the other levels hash
    /// exactly as before merges existed, so their stored fingerprints still hold.
    public static func fingerprint(settings: TokenizerSettings, tokens: [String],
                                   merges: [SubwordMerge] = []) -> String {
        var h = SHA256()
        h.update(Array("quill-vocabulary-v1\n".utf8))
        h.update(Array(settings.canonicalJSON.utf8))
        h.update([0x0A])
        for t in tokens { h.update(Array(t.utf8)); h.update([0]) }
        if settings.level == .bpe || !merges.isEmpty {
            h.update(Array("merges\n".utf8))
            for m in merges {
                h.update(Array(m.left.utf8)); h.update([0])
                h.update(Array(m.right.utf8)); h.update([0])
            }
        }
        return h.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // MARK: - Byte tokens (BPE)

    /// A BPE vocabulary holds one token per byte value, so any text encodes without `<unk>`.
    public static let byteTokenCount = 256
    /// The id of byte `0x00`; byte `b` is `firstByteID + b`.
    public static let firstByteID = Int32(specialTokens.count)

    /// How a byte token is spelled in the token list: `<0x0A>`.
    public static func byteToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (byte < 16 ? "0" : "") + hex + ">"
    }

    /// The byte a BPE vocabulary's id stands for, or nil when it is not a byte token (or the level is not BPE).
    @inline(__always)
    public func byte(of id: Int32) -> UInt8? {
        guard settings.level == .bpe else { return nil }
        let b = id &- Vocabulary.firstByteID
        return b >= 0 && b < Int32(Vocabulary.byteTokenCount) ? UInt8(truncatingIfNeeded: b) : nil
    }

    /// The UTF-8 text of ids: tokens concatenated, byte tokens as their bytes (so a split character re-assembles),
    /// specials as spelled. Bytes that do not form UTF-8 (only possible from generated ids) become U+FFFD.
    public func text(of ids: some Sequence<Int32>) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let b = byte(of: id) { bytes.append(b) } else { bytes.append(contentsOf: tokens[Int(id)].utf8) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Vocabulary: Equatable {
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.fingerprint == b.fingerprint && a.counts == b.counts
    }
}
