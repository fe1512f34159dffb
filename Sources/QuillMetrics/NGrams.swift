// Clipped n-gram matching without hashing strings: n-grams are packed into fixed-size keys, sorted, and merged.
// Each n-gram of order n ≤ 6 over 21-bit Unicode scalars, or of order n ≤ 4 over 32-bit token ids, fits in 128 bits.

/// One n-gram packed into 128 bits (order is implied: n-grams of different orders are never compared).
struct NGramKey: Comparable, Hashable {
    var high: UInt64
    var low: UInt64

    @inline(__always)
    static func < (a: NGramKey, b: NGramKey) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

/// Counts of n-grams of one order for one hypothesis/reference pair: hypothesis n-grams, reference n-grams, and
/// matches clipped by the reference (`Σ min(count in hypothesis, count in reference)`).
struct NGramMatch {
    var hypothesis = 0
    var reference = 0
    var matched = 0

    /// Sorts both key lists and merges them, counting clipped matches.
    init(hypothesis hyp: inout [NGramKey], reference ref: inout [NGramKey]) {
        hypothesis = hyp.count
        reference = ref.count
        guard !hyp.isEmpty && !ref.isEmpty else { return }
        hyp.sort()
        ref.sort()
        var i = 0, j = 0
        while i < hyp.count && j < ref.count {
            let a = hyp[i], b = ref[j]
            if a < b {
                i += 1
            } else if b < a {
                j += 1
            } else {
                var ni = 0, nj = 0
                while i < hyp.count && hyp[i] == a { i += 1; ni += 1 }
                while j < ref.count && ref[j] == a { j += 1; nj += 1 }
                matched += min(ni, nj)
            }
        }
    }
}

enum NGrams {
    /// The character n-grams of order `n` (1…6) of a scalar sequence, as keys: 21 bits per scalar, three per word.
    static func characterKeys(_ s: [Unicode.Scalar], order n: Int) -> [NGramKey] {
        precondition(n >= 1 && n <= 6, "character n-gram order must be 1…6")
        guard s.count >= n else { return [] }
        var keys: [NGramKey] = []
        keys.reserveCapacity(s.count - n + 1)
        for start in 0...(s.count - n) {
            var high: UInt64 = 0, low: UInt64 = 0
            for k in 0..<n {
                let v = UInt64(s[start + k].value)
                if k < 3 { low |= v << (21 * UInt64(k)) } else { high |= v << (21 * UInt64(k - 3)) }
            }
            keys.append(NGramKey(high: high, low: low))
        }
        return keys
    }

    /// The word n-grams of order `n` (1…4) of a sequence of token ids, as keys: 32 bits per token.
    static func wordKeys(_ ids: [UInt32], order n: Int) -> [NGramKey] {
        precondition(n >= 1 && n <= 4, "word n-gram order must be 1…4")
        guard ids.count >= n else { return [] }
        var keys: [NGramKey] = []
        keys.reserveCapacity(ids.count - n + 1)
        for start in 0...(ids.count - n) {
            var high: UInt64 = 0, low: UInt64 = 0
            for k in 0..<n {
                let v = UInt64(ids[start + k])
                switch k {
                case 0: low |= v
                case 1: low |= v << 32
                case 2: high |= v
                default: high |= v << 32
                }
            }
            keys.append(NGramKey(high: high, low: low))
        }
        return keys
    }

    /// Numbers the distinct words of two word lists (compared scalar by scalar, as Python compares strings) and
    /// returns each list as ids. Id 0 is never used, so a packed n-gram never looks like a shorter one.
    static func ids(_ a: [ArraySlice<Unicode.Scalar>],
                    _ b: [ArraySlice<Unicode.Scalar>]) -> ([UInt32], [UInt32]) {
        var table: [ArraySlice<Unicode.Scalar>: UInt32] = [:]
        table.reserveCapacity(a.count + b.count)
        func number(_ words: [ArraySlice<Unicode.Scalar>]) -> [UInt32] {
            words.map { word in
                if let id = table[word] { return id }
                let id = UInt32(table.count + 1)
                table[word] = id
                return id
            }
        }
        let first = number(a)
        return (first, number(b))
    }
}
