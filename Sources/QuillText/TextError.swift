/// Errors of the text pipeline. Each names what failed, where, and how to fix it in the library's terms (a front end
/// adds its own hints, e.g. the CLI's flag names).
public enum TextError: Error, Equatable, CustomStringConvertible {
    /// Invalid UTF-8 at a 1-based line, 1-based byte column and 0-based byte offset in the file.
    case invalidUTF8(file: String, line: Int, column: Int, offset: Int)
    case unreadable(file: String, reason: String)
    case icu(operation: String, code: Int32, name: String)
    case invalidSettings(String)
    case emptyCorpus(file: String)
    case vocabularyFormat(file: String, line: Int, reason: String)
    /// A BPE vocabulary whose byte tokens or merges do not fit its tokens.
    case invalidSubwords(reason: String)

    public var description: String {
        switch self {
        case let .invalidUTF8(file, line, column, offset):
            return "\(file):\(line):\(column): invalid UTF-8 at byte offset \(offset); "
                + "fix the file (e.g. `iconv -f LATIN1 -t UTF-8`) or read it lossily, replacing bad bytes with U+FFFD"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .icu(operation, code, name):
            return "ICU \(operation) failed: \(name) (\(code))"
        case let .invalidSettings(json):
            return "invalid tokenizer settings JSON: \(json)"
        case let .emptyCorpus(file):
            return "\(file): the corpus holds no tokens; give a non-empty UTF-8 text file"
        case let .vocabularyFormat(file, line, reason):
            return "\(file):\(line): not a Quill vocabulary file: \(reason)"
        case let .invalidSubwords(reason):
            return "not a well-formed BPE vocabulary: \(reason); rebuild it from its corpus"
        }
    }
}
