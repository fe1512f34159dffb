/// Text → token ids with a vocabulary and its own tokenizer settings: the one place where text becomes ids.
///
/// Everything that feeds text to a model (training files, `predict`, the autocompleter, generation, keystroke
/// savings, `tokenize --ids`) encodes through this type, so a new kind of tokenizer (subwords) plugs in here once.
///
/// ## Lines
/// A corpus is a stream of lines, each ending on its line-break token (``Vocabulary/lineBreakID``: `"\n"`, or
/// `" \n"` in PTB, where every line ends with a space). A model trained on it has seen every line start after that
/// token, so a single line given on its own (a prompt, a line to score or complete) is read the same way: it starts
/// after the line break (``lineStart``) and, when its end is wanted, ends on it (``lineIDs(of:)``). A line's trailing
/// horizontal whitespace belongs to its line break, as the tokenizer attaches it there.
///
/// A `TextEncoder` keeps the tokenizer's ICU state and scratch buffers: use one per thread.
public final class TextEncoder {
    public let vocabulary: Vocabulary
    private let tokenizer: Tokenizer
    /// At the BPE level: splits each of the tokenizer's words into subword ids.
    private let subwords: SubwordEncoder?

    /// - Throws: ``TextError`` when the vocabulary's tokenizer settings cannot be set up (ICU), or a BPE vocabulary
    ///   is malformed (``TextError/invalidSubwords(reason:)``).
    public init(_ vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        tokenizer = try Tokenizer(vocabulary.settings)
        subwords = vocabulary.settings.level == .bpe ? try SubwordEncoder(vocabulary) : nil
    }

    public var settings: TokenizerSettings { vocabulary.settings }

    /// The token a line starts after (and ends on): ``Vocabulary/lineBreakID``.
    public var lineStart: Int32 { vocabulary.lineBreakID }

    /// The tokens of `text`, as strings (what ``ids(of:)`` looks up); at the BPE level the subwords, a byte token
    /// spelled `<0xNN>`.
    public func tokens(of text: String) throws -> [String] {
        guard subwords != nil else { return try tokenizer.tokenize(text) }
        return try ids(of: text).map { vocabulary[$0] }
    }

    /// The ids of the tokens of `text`; a token outside the vocabulary is ``Vocabulary/unknownID`` (never at the BPE
    /// level, which falls back to bytes).
    public func ids(of text: String) throws -> [Int32] {
        guard let subwords else { return try tokenizer.ids(of: text, in: vocabulary) }
        var ids: [Int32] = []
        var t = text
        try t.withUTF8 { p in
            try tokenizer.forEachToken(inUTF8: UnsafeRawBufferPointer(p)) { word in
                subwords.forEachID(ofWord: word) { ids.append($0) }
            }
        }
        return ids
    }

    /// The id of one token as ``tokens(of:)`` gives it.
    public func id(of token: String) -> Int32 { vocabulary.id(token) }

    /// The ids of tokens as ``tokens(of:)`` gives them.
    public func ids(of tokens: some Sequence<String>) -> [Int32] { tokens.map { vocabulary.id($0) } }

    /// The ids of one line of text (given without its line break), ending on the corpus's line break: the line is
    /// tokenized as it reads in a file, followed by a line break, and that last token (with any trailing horizontal
    /// whitespace the tokenizer attached to it) is ``lineStart``. So `" the cat "` gives `" the"`, `" cat"`, `" \n"`
    /// in PTB, exactly the tokens of the line in the corpus, rather than an unknown `" "` and an unknown `"\n"`.
    public func lineIDs(of line: String) throws -> [Int32] {
        var ids = try self.ids(of: line + "\n")
        ids[ids.count - 1] = lineStart
        return ids
    }

    /// The text of ids: their tokens concatenated, specials included as spelled (byte tokens as their bytes).
    public func text(of ids: some Sequence<Int32>) -> String { vocabulary.text(of: ids) }

    /// Streams the ids of everything a reader gives (constant memory, nothing allocated per token).
    public func forEachID(in reader: TextReader, _ body: (Int32) throws -> Void) throws {
        if let subwords {
            try tokenizer.forEachToken(in: reader) { try subwords.forEachID(ofWord: $0, body) }
            return
        }
        let vocabulary = self.vocabulary  // a local: no property access (and retain) per token
        try tokenizer.forEachToken(in: reader) { try body(vocabulary.id(utf8: $0)) }
    }

    /// Streams every token of a reader's text with its id; the bytes are valid only during the call. At the BPE
    /// level each subword's bytes: a byte token's one byte (not valid UTF-8 on its own when it is part of a
    /// character).
    public func forEachToken(in reader: TextReader, _ body: (UnsafeRawBufferPointer, Int32) throws -> Void) throws {
        let vocabulary = self.vocabulary
        if let subwords {
            try tokenizer.forEachToken(in: reader) { word in
                var offset = 0
                try subwords.forEachID(ofWord: word) { id in
                    let length = vocabulary.byte(of: id) == nil ? vocabulary[id].utf8.count : 1
                    try body(UnsafeRawBufferPointer(rebasing: word[offset..<(offset + length)]), id)
                    offset += length
                }
            }
            return
        }
        try tokenizer.forEachToken(in: reader) { try body($0, vocabulary.id(utf8: $0)) }
    }
}
