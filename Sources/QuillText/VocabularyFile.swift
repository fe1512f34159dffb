/// The plain-text form of a vocabulary (the files in `vocab/`): a header of `# key: value` lines, then one line per
/// token, `id<TAB>count<TAB>token`, in id order.
///
/// Tokens are escaped so that every token is one line without literal whitespace: `\\` backslash, `\s` space,
/// `\t` tab, `\n` line feed, `\r` carriage return, `\u{XXXX}` any other control or white-space character or a byte-order mark.
/// A token with its leading space, `" the"`, is written `\sthe`.
///
/// A BPE vocabulary's merges follow its tokens, by rank, one per line: `merge<TAB>left<TAB>right`, escaped the same way.
public enum VocabularyFile {
    public static let magic = "# quill-vocabulary 1"

    public static func write(_ vocabulary: Vocabulary, name: String) -> String {
        var out = magic + "\n"
        out += "# name: \(name)\n"
        out += "# settings: \(vocabulary.settings.canonicalJSON)\n"
        out += "# size: \(vocabulary.count)\n"
        out += "# fingerprint: \(vocabulary.fingerprint)\n"
        out += "# columns: id, count, token (escapes: \\\\ \\s \\t \\n \\r \\u{XXXX})\n"
        if vocabulary.settings.level == .bpe {
            out += "# merges: \(vocabulary.merges.count), after the tokens, by rank: merge, left, right\n"
        }
        for (id, token) in vocabulary.tokens.enumerated() {
            out += "\(id)\t\(vocabulary.counts[id])\t\(escape(token))\n"
        }
        for m in vocabulary.merges { out += "merge\t\(escape(m.left))\t\(escape(m.right))\n" }
        return out
    }

    /// Parses a vocabulary file; `file` names it in errors. Returns the vocabulary and the name in its header.
    /// - Throws: ``TextError/vocabularyFormat(file:line:reason:)`` naming the line and what is wrong.
    public static func read(_ text: String, file: String) throws -> (vocabulary: Vocabulary, name: String?) {
        var header: [String: String] = [:]
        var tokens: [String] = []
        var counts: [Int] = []
        var merges: [SubwordMerge] = []
        func fail(_ line: Int, _ reason: String) -> TextError { .vocabularyFormat(file: file, line: line, reason: reason) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == magic else {
            throw fail(1, "the first line must be `\(magic)`")
        }
        for (index, raw) in lines.enumerated().dropFirst() {
            let number = index + 1
            if raw.isEmpty { continue }
            if raw.hasPrefix("#") {
                let body = raw.dropFirst().drop { $0 == " " }
                if let colon = body.firstIndex(of: ":") {
                    header[String(body[..<colon])] = String(body[body.index(after: colon)...].drop { $0 == " " })
                }
                continue
            }
            let fields = raw.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.first == "merge" {
                guard fields.count == 3, !fields[1].isEmpty, !fields[2].isEmpty else {
                    throw fail(number, "expected `merge<TAB>left<TAB>right`")
                }
                merges.append(SubwordMerge(try unescape(fields[1]) { fail(number, $0) },
                                           try unescape(fields[2]) { fail(number, $0) }))
                continue
            }
            guard merges.isEmpty else { throw fail(number, "a token after the merges: tokens come first") }
            guard fields.count == 3, let id = Int(fields[0]), let count = Int(fields[1]), count >= 0 else {
                throw fail(number, "expected `id<TAB>count<TAB>token`")
            }
            guard id == tokens.count else { throw fail(number, "id \(id) out of order: expected \(tokens.count)") }
            let token = try unescape(fields[2]) { fail(number, $0) }
            if id < Vocabulary.specialTokens.count && token != Vocabulary.specialTokens[id] {
                throw fail(number, "id \(id) must be the special token \(Vocabulary.specialTokens[id])")
            }
            tokens.append(token)
            counts.append(count)
        }
        guard tokens.count >= Vocabulary.specialTokens.count else {
            throw fail(lines.count, "a vocabulary needs at least the \(Vocabulary.specialTokens.count) special tokens")
        }
        guard let settingsJSON = header["settings"] else { throw fail(1, "missing `# settings:` header line") }
        let settings = try TokenizerSettings(json: settingsJSON)
        if settings.level != .bpe && !merges.isEmpty {
            throw fail(1, "merges are only for the bpe level, not \(settings.level.rawValue)")
        }
        let vocabulary = Vocabulary(settings: settings, tokens: tokens, counts: counts, merges: merges)
        if let expected = header["fingerprint"], expected != vocabulary.fingerprint {
            throw fail(1, "fingerprint \(expected.prefix(12))… does not match the tokens (\(vocabulary.fingerprint.prefix(12))…): "
                + "the file was changed; remove the `# fingerprint:` line to accept the edit")
        }
        if let size = header["size"], Int(size) != tokens.count {
            throw fail(1, "header says size \(size) but the file has \(tokens.count) tokens")
        }
        return (vocabulary, header["name"])
    }

    public static func escape(_ token: String) -> String {
        var out = ""
        for u in token.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case " ": out += "\\s"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case _ where u.properties.isWhitespace || u.properties.generalCategory == .control || u == "\u{FEFF}":
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func unescape(_ text: Substring, _ fail: (String) -> TextError) throws -> String {
        var out = String.UnicodeScalarView()
        var it = text.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\\" else { out.append(u); continue }
            switch it.next() {
            case "\\": out.append("\\")
            case "s": out.append(" ")
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "u":
                guard it.next() == "{" else { throw fail("`\\u` must be followed by `{hex}`") }
                var hex = ""
                while let h = it.next(), h != "}" { hex.unicodeScalars.append(h) }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw fail("bad escape `\\u{\(hex)}`")
                }
                out.append(scalar)
            case let other: throw fail("unknown escape `\\\(other.map(String.init) ?? "")`")
            }
        }
        return String(out)
    }
}
