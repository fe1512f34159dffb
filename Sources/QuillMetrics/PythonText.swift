import Foundation

// Python's string semantics where sacreBLEU depends on them: what `str.split()` and `str.rstrip()` call whitespace,
// and what `str.lower()` does. Text is handled as Unicode scalars (Python code points), never as Swift `Character`s,
// and never compared by canonical equivalence: in Python "Café" (NFC) and "Café" (NFD) are different strings.

/// Python 3 string rules, on arrays of Unicode scalars.
enum PythonText {
    /// Whether Python's `str.isspace()` holds for the scalar: general category Zs, or bidirectional class WS, B or S.
    /// This is wider than Unicode's White_Space (it includes U+001C…U+001F); the list is Python 3.11's.
    @inline(__always)
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) || (v >= 0x1C && v <= 0x1F) }
        switch v {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `str.split()` with no separator: the runs of non-whitespace, in order.
    static func split(_ s: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = -1
        for i in s.indices {
            if isSpace(s[i]) {
                if start >= 0 { words.append(s[start..<i]); start = -1 }
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { words.append(s[start...]) }
        return words
    }

    /// `' '.join(s.split())`: the words joined by single spaces, without leading or trailing whitespace.
    static func normalizeSpaces(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var pendingSpace = false
        for c in s {
            if isSpace(c) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.append(c)
            }
        }
        return out
    }

    /// `''.join(s.split())`: every whitespace scalar removed.
    static func removingSpaces(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        s.filter { !isSpace($0) }
    }

    /// `str.rstrip()`: trailing whitespace removed.
    static func rstripped(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var end = s.count
        while end > 0 && isSpace(s[end - 1]) { end -= 1 }
        return end == s.count ? s : Array(s[..<end])
    }

    /// `str.lower()`: each scalar's full lowercase mapping (İ becomes i + U+0307), with capital sigma becoming final
    /// ς where Python's Final_Sigma rule says (after a cased letter, not before one, case-ignorables skipped).
    static func lowercased(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for i in s.indices {
            let c = s[i]
            if c.value < 0x80 {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 0x20)! : c)
            } else if c.value == 0x3A3 {
                out.append(isFinalSigma(s, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else if c.properties.changesWhenLowercased {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Python's `handle_capital_sigma`: `\p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})`.
    private static func isFinalSigma(_ s: [Unicode.Scalar], at index: Int) -> Bool {
        var i = index - 1
        while i >= 0 && s[i].properties.isCaseIgnorable { i -= 1 }
        guard i >= 0 && s[i].properties.isCased else { return false }
        var j = index + 1
        while j < s.count && s[j].properties.isCaseIgnorable { j += 1 }
        return j == s.count || !s[j].properties.isCased
    }

    /// Python's `str.replace(old, new)`: non-overlapping occurrences, left to right.
    static func replacing(_ old: [Unicode.Scalar], with new: [Unicode.Scalar],
                          in s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let first = old.first, s.count >= old.count, s.contains(first) else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == first && i + old.count <= s.count && s[i..<(i + old.count)].elementsEqual(old) {
                out.append(contentsOf: new)
                i += old.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Python's `f"{value:.{places}f}"` (correctly rounded from the binary value, as C's printf is).
    static func fixed(_ value: Double, places: Int) -> String {
        String(format: "%.\(places)f", value)
    }
}

extension String {
    init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }
}
