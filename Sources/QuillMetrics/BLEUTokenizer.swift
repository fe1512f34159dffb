/// The tokenizers sacreBLEU applies before counting BLEU's word n-grams (Post 2018): `13a`, the default, which
/// reproduces `mteval-v13a.pl` (the script of the WMT evaluations), and `intl`, which reproduces the international
/// tokenization of `mteval-v14.pl`.
///
/// Reproduced from sacreBLEU 2.6's `tokenizers/tokenizer_13a.py`, `tokenizer_re.py` and `tokenizer_intl.py`.
/// Both work on Unicode scalars (Python code points) and reproduce Python's regular-expression substitutions exactly:
/// each rule is applied to the whole line in turn, matching left to right without overlaps.
public enum BLEUTokenizer: String, Codable, CaseIterable, Sendable {
    /// `mteval-v13a.pl`: unescapes `&quot; &amp; &lt; &gt;`, splits ASCII punctuation and symbols, splits `.` and `,`
    /// except between digits, splits `-` after a digit. Non-ASCII punctuation stays attached to words.
    case thirteenA = "13a"
    /// `mteval-v14.pl --international-tokenization`: splits every Unicode punctuation mark (`\p{P}`) not between
    /// numbers and every symbol (`\p{S}`). Entities are not unescaped, and the line is not padded, so a number ending
    /// a sentence keeps its period (`1.5.` stays one token, as in `mteval-v14.pl`).
    case intl

    /// The name sacreBLEU puts in the signature (`tok:13a`).
    public var signatureName: String { rawValue }

    /// The tokenized line: tokens joined by single spaces.
    public func callAsFunction(_ line: String) -> String {
        String(scalars: tokenize(Array(line.unicodeScalars)))
    }

    /// The tokenized line as scalars: tokens joined by single spaces, no leading or trailing space.
    func tokenize(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch self {
        case .thirteenA: return Self.thirteenA(line)
        case .intl: return Self.international(line)
        }
    }

    // MARK: 13a

    private static func thirteenA(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s = input
        for (old, new) in [("<skipped>", ""), ("-\n", ""), ("\n", " "), ("&quot;", "\""), ("&amp;", "&"),
                           ("&lt;", "<"), ("&gt;", ">")] {
            s = PythonText.replacing(Array(old.unicodeScalars), with: Array(new.unicodeScalars), in: s)
        }
        // Padded with a space on each side, so a period or comma ending the line is split like any other.
        var padded: [Unicode.Scalar] = [" "]
        padded.reserveCapacity(s.count * 2 + 2)
        // `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → ` \1 `: ASCII symbols and most punctuation, and the space itself.
        for c in s {
            if isThirteenASymbol(c) {
                padded.append(" "); padded.append(c); padded.append(" ")
            } else {
                padded.append(c)
            }
        }
        padded.append(" ")
        // `([^0-9])([\.,])` → `\1 \2 `: a period or comma not preceded by a digit.
        s = substitutePairs(padded, { !isDigit($0) }, isPeriodOrComma) { a, b in [a, " ", b, " "] }
        // `([\.,])([^0-9])` → ` \1 \2`: a period or comma not followed by a digit.
        s = substitutePairs(s, isPeriodOrComma, { !isDigit($0) }) { a, b in [" ", a, " ", b] }
        // `([0-9])(-)` → `\1 \2 `: a dash after a digit.
        s = substitutePairs(s, isDigit, { $0 == "-" }) { a, b in [a, " ", b, " "] }
        return PythonText.normalizeSpaces(s)
    }

    @inline(__always)
    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    @inline(__always)
    private static func isPeriodOrComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }

    /// The class `[\{-\~\[-\` -\&\(-\+\:-\@\/]`: `{ | } ~`, ``[ \ ] ^ _ ` ``, space to `&`, `( ) * +`, `:` to `@`, `/`.
    @inline(__always)
    private static func isThirteenASymbol(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: return true
        default: return false
        }
    }

    // MARK: intl

    private static func international(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // `(\P{N})(\p{P})` → `\1 \2 `: punctuation preceded by a non-number.
        var s = substitutePairs(input, { !isNumber($0) }, isPunctuation) { a, b in [a, " ", b, " "] }
        // `(\p{P})(\P{N})` → ` \1 \2`: punctuation followed by a non-number.
        s = substitutePairs(s, isPunctuation, { !isNumber($0) }) { a, b in [" ", a, " ", b] }
        // `(\p{S})` → ` \1 `: every symbol.
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            if isSymbol(c) {
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(c)
            }
        }
        return PythonText.normalizeSpaces(out)
    }

    /// `\p{P}`: general category Pc, Pd, Ps, Pe, Pi, Pf or Po.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// `\p{S}`: general category Sm, Sc, Sk or So.
    static func isSymbol(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return true
        default: return false
        }
    }

    /// `\p{N}`: general category Nd, Nl or No.
    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    // MARK: Substitution

    /// A regular-expression substitution of a two-scalar pattern `(A)(B)`, as Python's `re.sub` applies it: scanning
    /// left to right, a match replaces both scalars and scanning resumes after them (so matches never overlap).
    private static func substitutePairs(
        _ s: [Unicode.Scalar], _ first: (Unicode.Scalar) -> Bool, _ second: (Unicode.Scalar) -> Bool,
        _ replacement: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]
    ) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + s.count / 2)
        var i = 0
        while i < s.count {
            if i + 1 < s.count && first(s[i]) && second(s[i + 1]) {
                out.append(contentsOf: replacement(s[i], s[i + 1]))
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
