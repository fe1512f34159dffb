import FuzzSupport
import QuillText

/// The tokenizers at every level, on any text: the first byte chooses the settings (level, normalization, case
/// folding, locale), the rest is the text (ill-formed UTF-8 repaired to U+FFFD, as a lossy reader gives it).
///
/// The property is the one `Tokenizer` promises: no byte is dropped, so the tokens, each non-empty, concatenate to
/// the normalized text exactly (byte for byte: `String ==` would forgive a change of normalization). At the BPE
/// level the subword ids, all real tokens (the byte fallback leaves no `<unk>`), decode to the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let text = String(decoding: input.dropFirst(), as: UTF8.self)
    let settings = TokenizerSettings(level: TokenLevel.allCases[Int(selector & 3)],
                                     normalization: Normalization.allCases[Int(selector >> 3) % 3],
                                     caseFold: selector & 4 != 0, locale: locales[Int(selector >> 5)],
                                     merges: bpeMerges)
    do {
        let tokenizer = try cached(settings, in: &tokenizers) { try Tokenizer($0) }
        let normalized = Array(try tokenizer.normalize(text).utf8)
        if settings.level == .bpe {
            let encoder = try cached(settings, in: &encoders) { try TextEncoder(bpeVocabulary($0)) }
            let ids = try encoder.ids(of: text)
            let firstReal = Int32(Vocabulary.specialTokens.count)
            require(ids.allSatisfy { $0 >= firstReal && $0 < encoder.vocabulary.count }, "ids out of range: \(ids)")
            let decoded = Array(encoder.text(of: ids).utf8)
            require(decoded == normalized, "\(settings.canonicalJSON): ids decode to \(decoded), not \(normalized)")
        } else {
            let tokens = try tokenizer.tokenize(text)
            require(tokens.allSatisfy { !$0.isEmpty }, "\(settings.canonicalJSON): an empty token in \(tokens)")
            let joined = Array(Tokenizer.detokenize(tokens).utf8)
            require(joined == normalized,
                    "\(settings.canonicalJSON): tokens \(tokens) join to \(joined), not \(normalized)")
        }
    } catch {
        require(false, "\(settings.canonicalJSON): valid text threw \(error)")
    }
    return 0
}

/// Locales whose word boundaries differ: elisions (fr, it), dictionary-based breaking (ja, th, zh), ICU's root ("").
private let locales = ["en", "fr", "it", "de", "ja", "th", "zh", ""]

/// Few merges: learning stays quick, and most words still split into several subwords and byte tokens.
private let bpeMerges = 300

/// Tokenizers and encoders by settings, made on first use (ICU setup costs far more than one input).
nonisolated(unsafe) private var tokenizers: [TokenizerSettings: Tokenizer] = [:]
nonisolated(unsafe) private var encoders: [TokenizerSettings: TextEncoder] = [:]

private func cached<T>(_ settings: TokenizerSettings, in cache: inout [TokenizerSettings: T],
                       make: (TokenizerSettings) throws -> T) throws -> T {
    if let made = cache[settings] { return made }
    let made = try make(settings)
    cache[settings] = made
    return made
}

/// A BPE vocabulary learned from the repository's default corpus (corpora/default/train.txt) and a few lines of
/// other scripts, so that merges join multi-byte characters too.
private func bpeVocabulary(_ settings: TokenizerSettings) throws -> Vocabulary {
    let root = String(#filePath.split(separator: "/fuzz/Sources/", maxSplits: 1)[0])
    var builder = VocabularyBuilder(settings: settings)
    try builder.addTokens(of: TextReader(path: root + "/corpora/default/train.txt"))
    let tokenizer = try Tokenizer(settings)
    var other = "L'homme qu'il aimait était là. Ça va très bien, merci.\n"
        + "Die Straße ist groß. Übermäßig schön.\n東京は日本の首都です。漢字と仮名。\n"
        + "สวัสดีครับ ภาษาไทย\n👩‍👩‍👧 🇫🇷 🏳️‍🌈 ﬁ ｆｕｌｌ\n"
    for _ in 0..<3 {
        try other.withUTF8 { try builder.addTokens(inUTF8: UnsafeRawBufferPointer($0), using: tokenizer) }
    }
    return builder.build()
}
