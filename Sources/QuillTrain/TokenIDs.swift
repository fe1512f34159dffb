import QuillText

/// A corpus encoded as one contiguous stream of token ids, with its token and unknown-token counts.
///
/// Tokens of every line follow each other with nothing added: the tokenizer already gives each line break as a
/// token (the `<eos>` of the language-modelling literature), so the stream is the text, token by token.
public struct TokenIDs: Sendable, Equatable {
    /// The ids, in text order.
    public var ids: [Int32]
    /// How many of ``ids`` are ``Vocabulary/unknownID`` (tokens not in the vocabulary).
    public var unknownCount: Int
    /// Fingerprint of the vocabulary that gave the ids.
    public var vocabularyFingerprint: String

    public init(ids: [Int32], unknownCount: Int, vocabularyFingerprint: String) {
        self.ids = ids
        self.unknownCount = unknownCount
        self.vocabularyFingerprint = vocabularyFingerprint
    }

    /// Number of tokens.
    public var count: Int { ids.count }

    /// Fraction of tokens that are unknown (`<unk>`), in `0...1`; 0 for an empty stream.
    public var unknownRate: Double { ids.isEmpty ? 0 : Double(unknownCount) / Double(ids.count) }

    /// Encodes a text file with a vocabulary, streaming it in chunks and tokenizing with the vocabulary's own settings.
    /// - Parameters:
    ///   - path: the file, or "-" for standard input.
    ///   - vocabulary: gives the ids and the tokenizer settings.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of throwing.
    ///   - chunkSize: bytes read at a time.
    ///   - progress: called every 65,536 tokens; an error it throws (a stop request) ends the encoding.
    /// - Throws: ``QuillText/TextError`` when the file cannot be read or is not UTF-8, and
    ///   ``QuillText/TextError/emptyCorpus(file:)`` naming the file when it holds no tokens.
    public static func encode(file path: String, vocabulary: Vocabulary, lossy: Bool = false,
                              chunkSize: Int = 1 << 20, progress: (() throws -> Void)? = nil) throws -> TokenIDs {
        let reader = try TextReader(path: path, chunkSize: chunkSize, lossy: lossy)
        return try encode(reader, vocabulary: vocabulary, progress: progress)
    }

    /// Encodes everything a reader gives; see ``encode(file:vocabulary:lossy:chunkSize:progress:)``.
    public static func encode(_ reader: TextReader, vocabulary: Vocabulary,
                              progress: (() throws -> Void)? = nil) throws -> TokenIDs {
        let encoder = try TextEncoder(vocabulary)
        var ids: [Int32] = []
        if let bytes = reader.totalBytes { ids.reserveCapacity(bytes / 5 + 16) }  // ~5 bytes per English word token
        var unknown = 0
        try encoder.forEachID(in: reader) { id in
            if id == Vocabulary.unknownID { unknown += 1 }
            ids.append(id)
            if ids.count & 0xFFFF == 0, let progress { try progress() }
        }
        guard !ids.isEmpty else { throw TextError.emptyCorpus(file: reader.name) }
        return TokenIDs(ids: ids, unknownCount: unknown, vocabularyFingerprint: vocabulary.fingerprint)
    }
}
