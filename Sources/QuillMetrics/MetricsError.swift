/// Why hypotheses and references cannot be scored. Each case names what is wrong and where.
public enum MetricsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The lists (or files) hold different numbers of segments.
    case lengthMismatch(hypotheses: Int, references: Int)
    /// A file of hypotheses and a file of references hold different numbers of lines.
    case lineCountMismatch(hypothesisFile: String, hypothesisLines: Int, referenceFile: String, referenceLines: Int)
    /// There is nothing to score.
    case noSegments
    /// The reference file holds no line.
    case emptyReferenceFile(file: String)
    /// The reference at a 0-based index is empty: sacreBLEU refuses empty references.
    case emptyReference(index: Int)
    /// Line `line` (1-based) of a reference file is empty or only whitespace.
    case emptyReferenceLine(file: String, line: Int)

    public var description: String {
        switch self {
        case let .lengthMismatch(hypotheses, references):
            return "\(hypotheses) hypotheses but \(references) references; give one reference per hypothesis"
        case let .lineCountMismatch(hypFile, hypLines, refFile, refLines):
            let first = min(hypLines, refLines) + 1
            let (longer, shorter) = hypLines > refLines ? (hypFile, refFile) : (refFile, hypFile)
            return "\(hypFile) has \(hypLines) line(s) but \(refFile) has \(refLines): line \(first) of \(longer) "
                + "has no counterpart in \(shorter); give one hypothesis per reference line"
        case .noSegments:
            return "there is nothing to score: no hypothesis and no reference"
        case let .emptyReferenceFile(file):
            return "\(file) holds no line, so there is nothing to score; give the reference translations, one per line"
        case let .emptyReference(index):
            return "reference \(index + 1) is empty; sacreBLEU refuses empty references"
        case let .emptyReferenceLine(file, line):
            return "\(file):\(line): the reference line is empty (or only whitespace); sacreBLEU refuses empty "
                + "references: drop the pair from both files"
        }
    }

    /// Checks that the lists pair up, are not empty, and hold no empty reference.
    static func check(hypotheses: [String], references: [String]) throws {
        guard hypotheses.count == references.count else {
            throw MetricsError.lengthMismatch(hypotheses: hypotheses.count, references: references.count)
        }
        guard !references.isEmpty else { throw MetricsError.noSegments }
        if let index = references.firstIndex(where: \.isEmpty) { throw MetricsError.emptyReference(index: index) }
    }
}
