import CICU

/// Unicode normalization (ICU `unorm2`) and optional full case folding (ICU `u_strFoldCase`), in that order.
///
/// When case folding is on and a normalization form is chosen, the folded text is normalized again, because folding
/// can un-normalize (e.g. a folded character that composes with a following mark); the result is then stable:
/// normalizing it again changes nothing.
public final class TextNormalizer {
    public let normalization: Normalization
    public let caseFold: Bool
    private let normalizer: UnsafeRawPointer?
    private var a: [UInt16] = []
    private var b: [UInt16] = []

    public init(normalization: Normalization, caseFold: Bool) throws {
        self.normalization = normalization
        self.caseFold = caseFold
        switch normalization {
        case .none: normalizer = nil
        case .nfc, .nfkc:
            var status: Int32 = 0
            normalizer = quill_normalizer(normalization == .nfc ? 1 : 2, &status)
            try checkICU(status, "unorm2 instance for \(normalization.rawValue)")
        }
    }

    /// Whether this normalizer can change any text at all.
    public var isIdentity: Bool { normalizer == nil && !caseFold }

    public func normalize(_ text: String) throws -> String {
        var utf16 = Array(text.utf16)
        let (n, _) = try normalize(&utf16, count: utf16.count)
        return String(decoding: utf16[0..<n], as: UTF16.self)
    }

    /// Normalizes the first `count` units of `text` in place (the array may be replaced).
    /// - Returns: the new length, and whether the text may have changed (false only when it certainly did not).
    func normalize(_ text: inout [UInt16], count: Int) throws -> (count: Int, changed: Bool) {
        var n = count
        var changed = false
        if let normalizer { (n, changed) = try applyNormalizer(normalizer, &text, count: n) }
        if caseFold && n > 0 {
            n = try text.withUnsafeBufferPointer { src in
                try b.fillICU("u_strFoldCase") { quill_fold_case(src.baseAddress, Int32(n), $0, $1, &$2) }
            }
            swap(&text, &b)
            changed = true
            if let normalizer { n = try applyNormalizer(normalizer, &text, count: n).count }
        }
        return (n, changed)
    }

    private func applyNormalizer(_ normalizer: UnsafeRawPointer, _ text: inout [UInt16],
                                 count: Int) throws -> (count: Int, changed: Bool) {
        if count == 0 { return (0, false) }
        var status: Int32 = 0
        let span = text.withUnsafeBufferPointer { quill_normalized_prefix(normalizer, $0.baseAddress, Int32(count), &status) }
        try checkICU(status, "unorm2_spanQuickCheckYes")
        if Int(span) == count { return (count, false) }  // already normalized: the common case costs one quick check
        let n = try text.withUnsafeBufferPointer { src in
            try a.fillICU("unorm2_normalize") { quill_normalize(normalizer, src.baseAddress, Int32(count), $0, $1, &$2) }
        }
        swap(&text, &a)
        return (n, true)
    }
}
