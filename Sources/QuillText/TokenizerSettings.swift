import Foundation

/// How text is cut into tokens. Each level keeps every byte of the (normalized) text, so detokenizing is concatenation.
public enum TokenLevel: String, Codable, Sendable, CaseIterable {
    /// Words, numbers and punctuation by ICU's word boundaries (Unicode UAX #29, tailored by the locale).
    case word
    /// Maximal runs of non-whitespace: for corpora that are already tokenized (Penn Treebank, WikiText).
    case whitespace
    /// Extended grapheme clusters (what a reader sees as one character; emoji sequences and flags stay whole).
    case character
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

    public init(level: TokenLevel = .word, normalization: Normalization = .nfc, caseFold: Bool = false,
                locale: String = "en") {
        self.level = level
        self.normalization = normalization
        self.caseFold = caseFold
        self.locale = locale
    }

    /// A stable, key-sorted JSON form: stored with vocabularies and hashed into their fingerprint.
    public var canonicalJSON: String {
        "{\"caseFold\":\(caseFold),\"level\":\"\(level.rawValue)\",\"locale\":\(jsonQuoted(locale)),"
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
