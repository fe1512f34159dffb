import QuillText

/// The vocabulary's entries sorted by their UTF-8 bytes, so the entries that extend a typed prefix are one contiguous
/// range found by two binary searches: completing a partial word filters a cached distribution without a model step.
///
/// Specials and entries holding a line break are left out: they are never offered as a completion.
public struct TokenPrefixIndex: Sendable {
    private let sortedIDs: [Int32]
    private let keys: [[UInt8]]

    public init(_ vocabulary: Vocabulary) {
        let ids = (Int32(Vocabulary.specialTokens.count)..<Int32(vocabulary.count)).filter {
            !vocabulary[$0].contains(where: \.isNewline)
        }
        self.init(ids.map { ($0, vocabulary[$0]) })
    }

    /// An index of the given entries under the given spellings (e.g. a corpus's `<unk>` spelled `unk`).
    public init(_ entries: [(id: Int32, text: String)]) {
        let pairs = entries.map { ($0.id, Array($0.text.utf8)) }.sorted { $0.1.lexicographicallyPrecedes($1.1) }
        sortedIDs = pairs.map(\.0)
        keys = pairs.map(\.1)
    }

    /// Every entry offered, in byte order.
    public var allIDs: [Int32] { sortedIDs }

    /// The entries whose text starts with `prefix` (all of them for an empty prefix).
    public func ids(withPrefix prefix: String) -> ArraySlice<Int32> {
        let p = Array(prefix.utf8)
        guard !p.isEmpty else { return sortedIDs[...] }
        // First key ≥ p, then first key that is > p and does not start with p.
        let start = lowerBound { !$0.lexicographicallyPrecedes(p) }
        var end = start
        var high = keys.count
        while end < high {
            let mid = (end + high) / 2
            if keys[mid].starts(with: p) { end = mid + 1 } else { high = mid }
        }
        return sortedIDs[start..<end]
    }

    private func lowerBound(_ isAtOrAfter: ([UInt8]) -> Bool) -> Int {
        var (low, high) = (0, keys.count)
        while low < high {
            let mid = (low + high) / 2
            if isAtOrAfter(keys[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
