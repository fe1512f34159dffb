import Foundation

/// How text is cut into tokens. Each level keeps every byte of the (normalized) text, so detokenizing is concatenation.
public enum TokenLevel: String, Codable, Sendable, CaseIterable {
    /// Words, numbers and punctuation by ICU's word boundaries (Unicode UAX #29, tailored by the locale).
    case word
    /// Maximal runs of non-whitespace: for corpora that are already tokenized (Penn Treebank, WikiText).
    case whitespace
    /// Extended grapheme clusters (what a reader sees as one character; emoji sequences and flags stay whole).
    case character
    /// Learned subwords (byte-pair encoding, Sennrich et al. 2016) inside the word level's tokens, whitespace scheme
    /// included, with a byte fallback: see ``SubwordLearner`` and ``SubwordEncoder`` (docs/bpe.md).
    case bpe
}

/// Unicode normalization applied before tokenization.
public enum Normalization: String, Codable, Sendable, CaseIterable {
    case none
    /// Canonical composition: changes no visible character, so it is the safe default.
    case nfc
    /// Compatibility composition: also folds ligatures, full-width forms and the like.
    case nfkc
}

/// Everything that decides which tokens a text produces. Part of a vocabulary's fingerprint.
public struct TokenizerSettings: Codable, Hashable, Sendable {
    public var level: TokenLevel
    public var normalization: Normalization
    /// Full Unicode case folding (ICU `u_strFoldCase`), after normalization.
    public var caseFold: Bool
    /// ICU locale for word boundaries (e.g. `en`, `fr`, `ja`); empty means ICU's root locale.
    public var locale: String
    /// How many merges a ``TokenLevel/bpe`` vocabulary learns (at most: learning stops early when no pair of
    /// symbols occurs twice). Ignored, and left out of ``canonicalJSON``, at the other levels.
    public var merges: Int

    /// The merges of a BPE vocabulary when none are asked for: about SentencePiece's default 8k vocabulary.
    public static let defaultMerges = 8000

    public init(level: TokenLevel = .word, normalization: Normalization = .nfc, caseFold: Bool = false,
                locale: String = "en", merges: Int = TokenizerSettings.defaultMerges) {
        self.level = level
        self.normalization = normalization
        self.caseFold = caseFold
        self.locale = locale
        self.merges = merges
    }

    private enum CodingKeys: String, CodingKey { case level, normalization, caseFold, locale, merges }

    /// Decodes the keys of ``canonicalJSON``; `merges` may be absent (settings stored before BPE existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decode(TokenLevel.self, forKey: .level)
        normalization = try c.decode(Normalization.self, forKey: .normalization)
        caseFold = try c.decode(Bool.self, forKey: .caseFold)
        locale = try c.decode(String.self, forKey: .locale)
        merges = try c.decodeIfPresent(Int.self, forKey: .merges) ?? TokenizerSettings.defaultMerges
    }

    /// A stable, key-sorted JSON form: stored with vocabularies and hashed into their fingerprint. `merges` appears
    /// only at the BPE level, so the settings (and fingerprints) of every other vocabulary read as before.
    public var canonicalJSON: String {
        "{\"caseFold\":\(caseFold),\"level\":\"\(level.rawValue)\",\"locale\":\(jsonQuoted(locale)),"
            + (level == .bpe ? "\"merges\":\(merges)," : "")
            + "\"normalization\":\"\(normalization.rawValue)\"}"
    }

    /// Parses the JSON written by `canonicalJSON` (or any JSON object with the same keys).
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(TokenizerSettings.self, from: Data(json.utf8))
        } catch {
            throw TextError.invalidSettings(json)
        }
    }
}

/// JSON string literal with the escapes JSON requires.
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20:
            let hex = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
