import ArgumentParser
import Quill

/// `quill tokenize`: streams a text through the tokenizer and prints its tokens (or their ids in a vocabulary).
struct TokenizeCommand: ParsableCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the tokens of a text, one per line (or as JSON Lines, or as vocabulary ids).",
        discussion: """
            Reads a UTF-8 file, or standard input, in constant memory and prints every token. No byte is dropped: \
            concatenating the tokens gives the (normalized) text back. A single space is attached to the front of \
            the token that follows it.

            --format lines (the default) prints one token per line, escaped as in vocabulary files: \\s space, \
            \\t tab, \\n line feed, \\r carriage return, \\\\ backslash, \\u{XXXX} any other whitespace or control \
            character. So a token holding a line break still takes exactly one line.

            --format jsonl prints one JSON object per line of input text: {"line": N, "tokens": [...]}, the tokens \
            as plain JSON strings, the line's line break token last.

            With --vocabulary NAME the vocabulary's tokenizer settings are used (a tokenizer option that contradicts \
            them is an error), and --ids prints each token's id in it (0 for a token it does not hold, <unk>).

            Examples:
              echo "Don't panic, café!" | quill tokenize
              quill tokenize --level character --format jsonl poem.txt
              quill tokenize --ids --vocabulary ptb-word valid.txt
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case lines, jsonl
    }

    @Argument(help: ArgumentHelp("A UTF-8 text file, or - for standard input.", valueName: "file"))
    var file = "-"

    @Option(help: ArgumentHelp("lines: one token per line, escaped (\\s, \\n, …) so that every token is one "
            + "line; jsonl: one JSON object per input line."))
    var format: Format = .lines

    @Flag(help: "Print token ids in the vocabulary instead of tokens (needs --vocabulary).")
    var ids = false

    @Option(help: ArgumentHelp("A vocabulary in the store whose tokenizer settings (and, with --ids, ids) to use.",
                               valueName: "name"), completion: StoreNameCompletion.vocabularies)
    var vocabulary: String?

    @OptionGroup(title: "Tokenizer options")
    var tokenizer: TokenizerOptions

    @Flag(help: "Replace invalid UTF-8 with U+FFFD (and report how many) instead of failing.")
    var lossy = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if ids && vocabulary == nil {
            throw ValidationError("--ids needs --vocabulary NAME: an id is a position in a vocabulary")
        }
    }

    func run() throws {
        let reader: TextReader
        var writer = TokenWriter(format: format, ids: ids, output: OutputBuffer())
        if let vocabulary {
            let found = try store.open(.readOnly).vocabulary(named: vocabulary)
            _ = try tokenizer.settings(agreeingWith: found.settings, name: vocabulary)
            reader = try TextReader(path: file, lossy: lossy)
            try TextEncoder(found).forEachToken(in: reader) { token, id in
                // A BPE byte token (one byte of a character the vocabulary lacks) shows as spelled: <0xC3>.
                guard found.byte(of: id) != nil else { return try writer.write(token, id: id) }
                var spelled = found[id]
                try spelled.withUTF8 { try writer.write(UnsafeRawBufferPointer($0), id: id) }
            }
        } else {
            reader = try TextReader(path: file, lossy: lossy)
            try Tokenizer(tokenizer.settings).forEachToken(in: reader) { try writer.write($0, id: nil) }
        }
        try writer.finish()
        if lossy { note("\(reader.name): replaced \(reader.replacements) invalid UTF-8 sequence(s) with U+FFFD") }
    }
}

/// Writes tokens (or ids) in one of the `tokenize` formats, streaming: it holds no more than the current token.
struct TokenWriter {
    let format: TokenizeCommand.Format
    /// Whether ids are written rather than tokens.
    let ids: Bool
    let output: OutputBuffer
    private var line = 0
    private var lineOpen = false

    init(format: TokenizeCommand.Format, ids: Bool, output: OutputBuffer) {
        self.format = format
        self.ids = ids
        self.output = output
    }

    /// Writes a token, or its id when ``ids`` (the id is then given: the ``TextEncoder`` looks it up).
    mutating func write(_ token: UnsafeRawBufferPointer, id: Int32?) throws {
        switch format {
        case .lines:
            if ids, let id {
                try output.write(Int(id))
            } else {
                try writeEscaped(token)
            }
            try output.write(byte: 0x0A)
        case .jsonl:
            if lineOpen {
                try output.write(byte: UInt8(ascii: ","))
            } else {
                line += 1
                lineOpen = true
                try output.write("{\"line\":\(line),\"\(ids ? "ids" : "tokens")\":[")
            }
            if ids, let id {
                try output.write(Int(id))
            } else {
                try output.write(byte: UInt8(ascii: "\""))
                try writeJSONStringBody(token, to: output)
                try output.write(byte: UInt8(ascii: "\""))
            }
            if endsWithLineBreak(token) { try closeLine() }
        }
    }

    mutating func finish() throws {
        if lineOpen { try closeLine() }
        try output.flush()
    }

    private mutating func closeLine() throws {
        try output.write("]}\n")
        lineOpen = false
    }

    /// The token escaped as in ``VocabularyFile``. Printable ASCII and spaces (most tokens) are escaped here in one
    /// pass straight into the output block, without making a `String`; anything else goes through
    /// `VocabularyFile.escape`.
    private func writeEscaped(_ token: UnsafeRawBufferPointer) throws {
        let n = token.count
        if n * 2 <= output.blockSize {
            var plain = true
            try output.withSpace(n * 2) { out in
                var written = 0
                for b in token {
                    guard b >= 0x20 && b < 0x7F && b != 0x5C else { plain = false; return 0 }
                    if b == 0x20 {
                        out[written] = 0x5C
                        out[written + 1] = UInt8(ascii: "s")
                        written += 2
                    } else {
                        out[written] = b
                        written += 1
                    }
                }
                return written
            }
            if plain { return }
        }
        try output.write(VocabularyFile.escape(String(decoding: token, as: UTF8.self)))
    }

    /// Whether the token ends with a line break (LF, VT, FF, CR, NEL, U+2028, U+2029): it then ends its line.
    private func endsWithLineBreak(_ token: UnsafeRawBufferPointer) -> Bool {
        let n = token.count
        guard n > 0 else { return false }
        if (0x0A...0x0D).contains(token[n - 1]) { return true }
        if n >= 2 && token[n - 2] == 0xC2 && token[n - 1] == 0x85 { return true }
        return n >= 3 && token[n - 3] == 0xE2 && token[n - 2] == 0x80 && (token[n - 1] == 0xA8 || token[n - 1] == 0xA9)
    }
}
