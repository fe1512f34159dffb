/// The one rule for the names the store keeps (vocabularies, models, runs), how a name is shown on a terminal, and
/// which names to suggest for one that is not there.
///
/// A name is typed on command lines, printed in tables and error messages and written into exported files, so it
/// must be one line of visible text of a sane length: 1–200 Unicode characters (code points), no control character
/// (Unicode category Cc: line breaks, tabs, the ESC of terminal escape codes), no line or paragraph separator, no
/// bidirectional formatting character (which reorders the text around it), no whitespace at either end (so not only
/// whitespace). Anything else goes: `ptb-word`, `de→en 2016`, `モデル`.
public enum StoreName {
    /// The most Unicode characters (code points) a name may have.
    public static let maximumLength = 200

    /// What a name may be, said in one sentence (for error messages and documentation).
    public static let rule = "a name has 1–\(maximumLength) characters, no control characters (line breaks, tabs, "
        + "escape codes), and no whitespace at either end"

    /// Checks `name` against the rule.
    /// - Parameter kind: what is named (`vocabulary`, `model`, `run`), for the error.
    /// - Throws: ``StoreError/invalidName(kind:name:reason:)`` saying what is wrong and what is allowed.
    public static func validate(_ name: String, kind: String) throws {
        if let reason = problem(with: name) { throw StoreError.invalidName(kind: kind, name: name, reason: reason) }
    }

    /// What is wrong with `name`, or nil when it follows the rule.
    public static func problem(with name: String) -> String? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return "the name is empty" }
        if scalars.count > maximumLength {
            return "the name has \(scalars.count) characters, more than \(maximumLength)"
        }
        if let bad = scalars.first(where: isUnprintable) {
            return "the name holds the control character \(escaped(bad))"
        }
        if scalars.allSatisfy(\.properties.isWhitespace) { return "the name is only whitespace" }
        if scalars.first!.properties.isWhitespace || scalars.last!.properties.isWhitespace {
            return "the name starts or ends with whitespace"
        }
        return nil
    }

    /// `name` safe to print on a terminal: each character the rule forbids (a name from a store written by other
    /// software may hold them) shown as `\u{1B}`, so no escape code reaches the terminal and every name is one line.
    public static func escaped(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: isUnprintable) else { return name }
        var shown = ""
        for scalar in name.unicodeScalars {
            if isUnprintable(scalar) { shown += escaped(scalar) } else { shown.unicodeScalars.append(scalar) }
        }
        return shown
    }

    /// The names of `names` to suggest for `name`, which is not among them: all of them when there are at most
    /// `limit`, else the `limit` closest by edit distance (ties by name).
    public static func closest(to name: String, among names: [String], limit: Int = 5) -> [String] {
        guard names.count > limit else { return names.sorted() }
        let target = Array(name.lowercased())
        return names.map { (name: $0, distance: editDistance(target, Array($0.lowercased()))) }
            .sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.name < $1.name }
            .prefix(limit).map(\.name)
    }

    /// Whether a terminal would act on `scalar` rather than show it: controls (Cc), line and paragraph separators
    /// (Zl, Zp), and the bidirectional formatting characters (marks, embeddings, overrides, isolates).
    static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        default: return scalar.properties.isBidiControl
        }
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
    }

    /// Levenshtein distance between two character sequences, one row at a time.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count), current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension Store {
    /// The error for a `kind` (`vocabulary`, `model`, `run`) named `name` that is not in the store, with the names it
    /// holds closest to it (``StoreName/closest(to:among:limit:)``), so the message says what to type instead.
    func notFound(_ kind: String, _ name: String) -> StoreError {
        let names: [String]?
        switch kind {
        case "vocabulary": names = try? vocabularies().map(\.name)
        case "model": names = try? models().map(\.name)
        case "run": names = try? runs().map { "#\($0.id)" }
        default: names = nil
        }
        return .notFound(kind: kind, name: name, closest: names.map { StoreName.closest(to: name, among: $0) })
    }
}
