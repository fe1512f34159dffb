/// Elided words of French, Italian and Catalan, split off the word they are attached to.
struct Elisions {
    /// Each prefix's lowercase ASCII letters packed into a UInt64, so matching allocates nothing.
    private let prefixes: Set<UInt64>
    private let longest: Int

    init?(locale: String) {
        let language = locale.prefix { $0.isLetter }.lowercased()
        let words: [String]
        switch language {
        case "fr": words = ["c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
                            "presqu", "quelqu"]
        case "it": words = ["c", "d", "l", "m", "n", "s", "t", "v", "un", "all", "dall", "dell", "nell", "sull",
                            "coll", "quest", "quell", "sant", "tutt", "bell"]
        case "ca": words = ["d", "l", "m", "n", "s", "t"]
        default: return nil
        }
        prefixes = Set(words.map { $0.utf8.reduce(0) { $0 << 8 | UInt64($1) } })
        longest = words.map(\.count).max()!
    }

    /// Where to split the segment `p[start..<end]` (after the apostrophe), or nil.
    func cut(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start
        var word: UInt64 = 0
        while i < end && i - start <= longest {
            let b = p[i]
            if b == 0x27 || (b == 0xE2 && i + 2 < end && p[i + 1] == 0x80 && p[i + 2] == 0x99) {
                let after = i + (b == 0x27 ? 1 : 3)
                return after < end && prefixes.contains(word) ? after : nil
            }
            guard (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) else { return nil }
            word = word << 8 | UInt64(b | 0x20)
            i += 1
        }
        return nil
    }
}
