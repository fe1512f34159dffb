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

    /// - Throws: ``TextError`` when the vocabulary's tokenizer settings cannot be set up (ICU).
    public init(_ vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        tokenizer = try Tokenizer(vocabulary.settings)
    }

    public var settings: TokenizerSettings { vocabulary.settings }

    /// The token a line starts after (and ends on): ``Vocabulary/lineBreakID``.
    public var lineStart: Int32 { vocabulary.lineBreakID }

    /// The tokens of `text`, as strings (what ``ids(of:)`` looks up).
    public func tokens(of text: String) throws -> [String] { try tokenizer.tokenize(text) }

    /// The ids of the tokens of `text`; a token outside the vocabulary is ``Vocabulary/unknownID``.
    public func ids(of text: String) throws -> [Int32] { try tokenizer.ids(of: text, in: vocabulary) }

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

    /// The text of ids: their tokens concatenated, specials included as spelled.
    public func text(of ids: some Sequence<Int32>) -> String {
        var out = ""
        for id in ids { out += vocabulary[id] }
        return out
    }

    /// Streams the ids of everything a reader gives (constant memory, nothing allocated per token).
    public func forEachID(in reader: TextReader, _ body: (Int32) throws -> Void) throws {
        let vocabulary = self.vocabulary  // a local: no property access (and retain) per token
        try tokenizer.forEachToken(in: reader) { try body(vocabulary.id(utf8: $0)) }
    }

    /// Streams every token of a reader's text with its id; the bytes are valid only during the call.
    public func forEachToken(in reader: TextReader, _ body: (UnsafeRawBufferPointer, Int32) throws -> Void) throws {
        let vocabulary = self.vocabulary
        try tokenizer.forEachToken(in: reader) { try body($0, vocabulary.id(utf8: $0)) }
    }
}
