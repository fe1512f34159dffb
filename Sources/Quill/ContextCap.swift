/// How much of a long text a prediction reads (`quill predict --max-context`, `quill complete --max-context`), in
/// one place: a recurrent model carries its state, but holding every token of an unbounded text (its ids, and for
/// typing a state per token) costs memory in proportion to the text, so a text is cut to a window of tokens.
public enum ContextCap {
    /// 512 tokens: a few paragraphs, beyond which a recurrent model's next-token distribution barely changes.
    public static let defaultTokens = 512

    /// Which end of a long text a prediction keeps.
    public enum End: Sendable {
        /// The first tokens: scoring reads a line from its start.
        case start
        /// The last tokens: suggestions and continuations follow the end of the text.
        case end
    }

    /// `ids` cut to `maxContext` tokens at `end`, and whether anything was cut.
    public static func cut(_ ids: [Int32], to maxContext: Int, keeping end: End) -> (ids: [Int32], truncated: Bool) {
        precondition(maxContext >= 1, "a context of \(maxContext) tokens")
        guard ids.count > maxContext else { return (ids, false) }
        return (end == .start ? Array(ids.prefix(maxContext)) : Array(ids.suffix(maxContext)), true)
    }

    /// The bytes of a line worth holding for `maxContext` tokens: 64 per token, at least 64 KiB. A reader holds at
    /// most this much of a longer line (its start or its end, cut where tokenization breaks anyway), so a line of any
    /// length costs bounded memory; only text averaging over 64 bytes per token then yields fewer tokens.
    public static func bytes(forTokens maxContext: Int) -> Int { max(1 << 16, maxContext * 64) }
}
