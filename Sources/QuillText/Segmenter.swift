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
        var ends: [Int] = []
        try utf16.withUnsafeBufferPointer { try iterator.appendBoundaries(of: $0, identity: true, to: &ends) }
        var start = 0
        return ends.map { end in
            defer { start = end }
            return String(decoding: utf16[start..<end], as: UTF16.self)
        }
    }
}
