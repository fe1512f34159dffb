/// A token ↔ id mapping built from a corpus, with the tokenizer settings it belongs to.
///
/// Ids 0–3 are the specials `<unk> <bos> <eos> <pad>`; the rest are ordered by corpus count (descending), then by
/// token bytes, so the same corpus and settings always give the same ids. The ``fingerprint`` hashes the settings and
/// the token list: models record it, and a model is refused with a vocabulary whose fingerprint differs.
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
    /// Lowercase hex SHA-256 of the settings and the token list.
    public let fingerprint: String
    /// The corpus's line break: a line of text starts after this token and ends on it (see ``lineStartID``).
    public let lineBreakID: Int32
    private let ids: ByteTable

    /// Makes a vocabulary from an explicit token list, which must start with ``specialTokens``.
    public init(settings: TokenizerSettings, tokens: [String], counts: [Int]) {
        precondition(Array(tokens.prefix(4)) == Vocabulary.specialTokens, "a vocabulary starts with the specials")
        precondition(tokens.count == counts.count)
        self.settings = settings
        self.tokens = tokens
        self.counts = counts
        self.fingerprint = Vocabulary.fingerprint(settings: settings, tokens: tokens)
        var table = ByteTable(capacity: tokens.count)
        // Specials are matched only by id, never from text: a corpus may contain the literal text "<unk>" (PTB does),
        // and that is an ordinary token.
        for (id, token) in tokens.enumerated() where id >= Vocabulary.specialTokens.count {
            table.set(id, for: token)
        }
        self.ids = table
        lineBreakID = Vocabulary.lineBreak(in: tokens)
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

    /// SHA-256 over the canonical settings JSON and each token followed by a NUL byte.
    public static func fingerprint(settings: TokenizerSettings, tokens: [String]) -> String {
        var h = SHA256()
        h.update(Array("quill-vocabulary-v1\n".utf8))
        h.update(Array(settings.canonicalJSON.utf8))
        h.update([0x0A])
        for t in tokens { h.update(Array(t.utf8)); h.update([0]) }
        return h.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

extension Vocabulary: Equatable {
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.fingerprint == b.fingerprint && a.counts == b.counts
    }
}
