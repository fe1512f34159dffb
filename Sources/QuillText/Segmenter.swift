/// Splits text at ICU boundaries: grapheme clusters, words (Unicode UAX #29, tailored by locale) or sentences.
///
/// Segments cover the text without gaps, so joining them gives the text back.
public final class Segmenter {
    public enum Kind: String, Sendable, CaseIterable { case grapheme, word, sentence }
    public let kind: Kind
    private let iterator: BreakIterator

    public init(_ kind: Kind, locale: String = "") throws {
        self.kind = kind
        let k: BreakIterator.Kind = switch kind {
        case .grapheme: .character
        case .word: .word
        case .sentence: .sentence
        }
        iterator = try BreakIterator(k, locale: locale)
    }

    public func segments(of text: String) throws -> [String] {
        let utf16 = Array(text.utf16)
        var result: [String] = []
        var start = 0
        try utf16.withUnsafeBufferPointer { p in
            try iterator.forEachBoundary(in: p) { end in
                result.append(String(decoding: p[start..<end], as: UTF16.self))
                start = end
            }
        }
        return result
    }
}
