/// Cuts text into tokens such that concatenating the tokens gives the (normalized) text back exactly.
///
/// ## The whitespace scheme
/// No byte is dropped, so ``detokenize(_:)`` is plain concatenation. Whitespace is attached where a language model
/// can predict it:
/// - a single space before a word or punctuation mark is attached to its front: `"a cat"` → `"a"`, `" cat"`
///   (as GPT-2 and SentencePiece do), so word models also learn where spaces go;
/// - horizontal whitespace before a line break is attached to the line break: `"end \n"` → `"end"`, `" \n"`. A line
///   break (LF, CR LF, CR, VT, FF, NEL, U+2028, U+2029) is a token of its own, so a line of a pre-tokenized corpus
///   gives its words and one end-of-line token, as in the language-modelling literature;
/// - any other whitespace is a token of its own: `"a   b"` → `"a"`, `"  "`, `" b"`; `"\tx"` → `"\t"`, `"x"`.
/// At the ``TokenLevel/character`` level every grapheme cluster, spaces included, is a token. At the
/// ``TokenLevel/bpe`` level this type gives the word level's tokens (the words BPE learns from and splits, never
/// across); ``TextEncoder`` splits them into subwords.
///
/// ## Elision
/// UAX #29 keeps `l'homme` as one word and leaves elision to tailoring, which ICU does not ship. For French, Italian
/// and Catalan locales the word level splits after an elided article or pronoun (`l'`, `qu'`, `dell'`, …, with `'` or
/// `’`): `"L'homme qu'il"` → `"L'"`, `"homme"`, `" qu'"`, `"il"`; `aujourd'hui` stays whole.
///
/// A `Tokenizer` keeps ICU state and scratch buffers: reuse one per thread, do not share it between threads.
public final class Tokenizer {
    public let settings: TokenizerSettings
    private let normalizer: TextNormalizer
    private let breaker: BreakIterator?
    private let elisions: Elisions?
    private var utf16: [UInt16] = []
    private var normalizedUTF8: [UInt8] = []
    private var ends: [Int] = []

    public init(_ settings: TokenizerSettings) throws {
        self.settings = settings
        normalizer = try TextNormalizer(normalization: settings.normalization, caseFold: settings.caseFold)
        switch settings.level {
        case .word, .bpe: breaker = try BreakIterator(.word, locale: settings.locale)
        case .character: breaker = try BreakIterator(.character, locale: settings.locale)
        case .whitespace: breaker = nil
        }
        elisions = settings.level == .word || settings.level == .bpe ? Elisions(locale: settings.locale) : nil
    }

    /// Concatenates tokens: the inverse of tokenization.
    public static func detokenize<S: Sequence>(_ tokens: S) -> String where S.Element: StringProtocol {
        var out = ""
        for t in tokens { out += t }
        return out
    }

    /// The tokens of `text`.
    public func tokenize(_ text: String) throws -> [String] {
        var tokens: [String] = []
        var t = text
        try t.withUTF8 { p in
            try forEachToken(inUTF8: UnsafeRawBufferPointer(p)) { tokens.append(String(decoding: $0, as: UTF8.self)) }
        }
        return tokens
    }

    /// The ids of the tokens of `text` in `vocabulary` (unknown tokens get ``Vocabulary/unknownID``).
    public func ids(of text: String, in vocabulary: Vocabulary) throws -> [Int32] {
        var ids: [Int32] = []
        var t = text
        try t.withUTF8 { p in
            try forEachToken(inUTF8: UnsafeRawBufferPointer(p)) { ids.append(vocabulary.id(utf8: $0)) }
        }
        return ids
    }

    /// The text after this tokenizer's normalization and case folding: what the tokens concatenate to.
    public func normalize(_ text: String) throws -> String { try normalizer.normalize(text) }

    /// Streams every token of a reader's text (constant memory).
    public func forEachToken(in reader: TextReader, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try reader.forEachChunk { chunk in try forEachToken(inUTF8: chunk, body) }
    }

    /// Calls `body` with the UTF-8 bytes of each token of `text`, which must be valid UTF-8 (as ``TextReader`` gives).
    /// The bytes are valid only during the call. Allocates nothing once the scratch buffers have grown.
    public func forEachToken(inUTF8 text: UnsafeRawBufferPointer,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !text.isEmpty else { return }
        let ascii = isASCII(text)
        if normalizer.isIdentity || (ascii && !normalizer.caseFold) {
            // ASCII is invariant under NFC and NFKC: no ICU needed.
            return try emit(text, ascii: ascii, utf16Units: nil, body)
        }
        if ascii {
            // The full case folding of ASCII is A–Z → a–z.
            let n = text.count
            if normalizedUTF8.count < n { normalizedUTF8 = [UInt8](repeating: 0, count: n) }
            normalizedUTF8.withUnsafeMutableBufferPointer { out in
                for (i, b) in text.enumerated() { out[i] = (b &- 0x41) < 26 ? b | 0x20 : b }
            }
            return try normalizedUTF8.withUnsafeBytes { p in
                try emit(UnsafeRawBufferPointer(rebasing: p[0..<n]), ascii: true, utf16Units: nil, body)
            }
        }
        let transcoded = try transcodeToUTF16(text, into: &utf16)
        let (units, changed) = try normalizer.normalize(&utf16, count: transcoded)
        guard changed else { return try emit(text, ascii: false, utf16Units: units, body) }
        let bytes = try utf16.withUnsafeBufferPointer {
            try transcodeToUTF8(UnsafeBufferPointer(rebasing: $0[0..<units]), into: &normalizedUTF8)
        }
        try normalizedUTF8.withUnsafeBytes { p in
            try emit(UnsafeRawBufferPointer(rebasing: p[0..<bytes]), ascii: false, utf16Units: units, body)
        }
    }

    // MARK: - Segments and tokens

    /// Tokens of `text`, already normalized. `utf16Units` is the length of the same text in `utf16` when it is
    /// already there (ICU levels transcode it otherwise).
    private func emit(_ text: UnsafeRawBufferPointer, ascii: Bool, utf16Units: Int?,
                      _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        ends.removeAll(keepingCapacity: true)
        if settings.level == .character && ascii {
            asciiGraphemes(text)
        } else if let breaker {
            let units = try utf16Units ?? transcodeToUTF16(text, into: &utf16)
            try icuSegments(breaker, units: units, ascii: ascii)
        } else {
            whitespaceSegments(text)
        }
        let base = text.baseAddress!
        if settings.level == .character {
            var start = 0
            for end in ends {
                try body(UnsafeRawBufferPointer(start: base + start, count: end - start))
                start = end
            }
        } else {
            try attachSpaces(text, body)
        }
    }

    private func isASCII(_ text: UnsafeRawBufferPointer) -> Bool {
        let p = text.baseAddress!
        let n = text.count
        var i = 0
        var any: UInt64 = 0
        while i &+ 8 <= n { any |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self); i &+= 8 }
        while i < n { any |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)); i &+= 1 }
        return any & 0x8080_8080_8080_8080 == 0
    }

    /// ICU boundaries of the text in `utf16`, as UTF-8 offsets, into `ends`.
    private func icuSegments(_ breaker: BreakIterator, units: Int, ascii: Bool) throws {
        var out = ends  // a local copy: appending to a stored property re-checks its uniqueness every time
        ends = []
        defer { ends = out }
        try utf16.withUnsafeBufferPointer { all in
            try breaker.appendBoundaries(of: UnsafeBufferPointer(rebasing: all[0..<units]), identity: ascii, to: &out)
        }
    }

    /// Grapheme clusters of ASCII text without ICU: every byte is one, except that CR LF is one (UAX #29 GB3; no
    /// other rule applies to ASCII).
    private func asciiGraphemes(_ text: UnsafeRawBufferPointer) {
        let n = text.count
        var i = 0
        while i < n {
            i += (text[i] == 0x0D && i + 1 < n && text[i + 1] == 0x0A) ? 2 : 1
            ends.append(i)
        }
    }

    /// Segments for the whitespace level: runs of non-space, runs of horizontal space, and single line breaks.
    private func whitespaceSegments(_ text: UnsafeRawBufferPointer) {
        let p = text.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let n = text.count
        var i = 0
        var runKind = SpaceClass.other
        var runStart = 0
        while i < n {
            let (kind, length) = SpaceClass.of(p, i, n)
            if kind == .lineBreak {
                if i > runStart { ends.append(i) }
                // CR LF is one line break.
                let len = (p[i] == 0x0D && i + 1 < n && p[i + 1] == 0x0A) ? 2 : length
                ends.append(i + len)
                i += len
                runStart = i
                continue
            }
            if kind != runKind && i > runStart {
                ends.append(i)
                runStart = i
            }
            runKind = kind
            i += length
        }
        if n > runStart { ends.append(n) }
    }

    /// Applies the whitespace scheme (see the type's documentation) to the segments in `ends`.
    private func attachSpaces(_ text: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let base = text.baseAddress!
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = text.count
        var pending = -1  // start of a run of horizontal space not yet emitted
        var start = 0
        func token(_ s: Int, _ e: Int) throws { try body(UnsafeRawBufferPointer(start: base + s, count: e - s)) }
        for end in ends {
            switch SpaceClass.of(p, start, n).kind {
            case .space:
                if pending < 0 { pending = start }
            case .lineBreak:
                try token(pending >= 0 ? pending : start, end)
                pending = -1
            case .other:
                let cut = elisions?.cut(p, start, end) ?? end
                if pending >= 0 {
                    if p[start - 1] == 0x20 {
                        if start - 1 > pending { try token(pending, start - 1) }
                        try token(start - 1, cut)
                    } else {
                        try token(pending, start)
                        try token(start, cut)
                    }
                    pending = -1
                } else {
                    try token(start, cut)
                }
                if cut < end { try token(cut, end) }
            }
            start = end
        }
        if pending >= 0 { try token(pending, n) }
    }
}
