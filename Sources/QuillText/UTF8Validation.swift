/// UTF-8 validation by the well-formed byte sequences of Unicode's Table 3-7.
enum UTF8Validation {
    enum Result: Equatable {
        /// All bytes up to `validEnd` are valid; what follows (fewer than 4 bytes) is an incomplete sequence that may
        /// be completed by bytes not yet read (`validEnd == count` when everything was valid).
        case valid(validEnd: Int)
        /// An ill-formed sequence at `offset`; `length` is its maximal subpart (Unicode's "U+FFFD substitution of
        /// maximal subparts", the same policy as Swift's `String(decoding:)`).
        case invalid(offset: Int, length: Int)
    }

    /// Validates `p[from..<count]`. When `final` is false, a truncated sequence at the very end is not an error.
    static func validate(_ p: UnsafePointer<UInt8>, from start: Int, count: Int, final: Bool) -> Result {
        var i = start
        while i < count {
            // ASCII fast path, 8 bytes at a time.
            while i &+ 8 <= count,
                  UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i &+= 8
            }
            if i >= count { break }
            let b0 = p[i]
            if b0 < 0x80 { i &+= 1; continue }
            let (need, lo, hi): (Int, UInt8, UInt8)
            switch b0 {
            case 0xC2...0xDF: (need, lo, hi) = (1, 0x80, 0xBF)
            case 0xE0: (need, lo, hi) = (2, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (need, lo, hi) = (2, 0x80, 0xBF)
            case 0xED: (need, lo, hi) = (2, 0x80, 0x9F)
            case 0xF0: (need, lo, hi) = (3, 0x90, 0xBF)
            case 0xF1...0xF3: (need, lo, hi) = (3, 0x80, 0xBF)
            case 0xF4: (need, lo, hi) = (3, 0x80, 0x8F)
            default: return .invalid(offset: i, length: 1)
            }
            // Check continuation bytes; the second byte has the narrowed range.
            var k = 1
            while k <= need {
                if i &+ k >= count { return final ? .invalid(offset: i, length: k) : .valid(validEnd: i) }
                let c = p[i &+ k]
                let ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF)
                if !ok { return .invalid(offset: i, length: k) }
                k &+= 1
            }
            i &+= need &+ 1
        }
        return .valid(validEnd: count)
    }
}

/// The offset of the first byte of the first ill-formed sequence in `bytes` (a truncated sequence at the end counts),
/// or `nil` when they are valid UTF-8.
public func firstInvalidUTF8Offset<C: Collection<UInt8>>(_ bytes: C) -> Int? {
    let array = Array(bytes)
    return array.withUnsafeBufferPointer { buffer -> Int? in
        guard let base = buffer.baseAddress else { return nil }
        switch UTF8Validation.validate(base, from: 0, count: buffer.count, final: true) {
        case .valid: return nil
        case .invalid(let offset, _): return offset
        }
    }
}
