import CICU

/// Throws a ``TextError/icu(operation:code:name:)`` when an ICU status is a failure.
func checkICU(_ status: Int32, _ operation: String) throws {
    if quill_icu_failure(status) != 0 {
        throw TextError.icu(operation: operation, code: status, name: String(cString: quill_icu_error_name(status)))
    }
}

/// The ICU version Quill runs against, e.g. "72.1".
public var icuVersion: String { String(cString: quill_icu_version()) }

/// An ICU break iterator of one kind and locale; reused across texts, not shared between threads.
final class BreakIterator {
    enum Kind: Int32 { case character = 0, word = 1, line = 2, sentence = 3 }
    private let handle: UnsafeMutableRawPointer
    private var scratch = [Int32](repeating: 0, count: 4096)

    init(_ kind: Kind, locale: String) throws {
        var status: Int32 = 0
        let h = quill_break_open(kind.rawValue, locale, &status)
        try checkICU(status, "ubrk_open(\(kind), \"\(locale)\")")
        guard let h else { throw TextError.icu(operation: "ubrk_open", code: status, name: "no iterator") }
        handle = h
    }

    deinit { quill_break_close(handle) }

    /// Appends the boundaries of `text` after 0 to `ends`, in increasing order (the last is `text.count`), mapped from
    /// UTF-16 offsets to UTF-8 offsets of the same text unless `identity` (ASCII text, where they are equal).
    func appendBoundaries(of text: UnsafeBufferPointer<UInt16>, identity: Bool, to ends: inout [Int]) throws {
        var status: Int32 = 0
        quill_break_set_text(handle, text.baseAddress, Int32(text.count), &status)
        try checkICU(status, "ubrk_setText")
        let capacity = Int32(scratch.count)
        var u16 = 0
        var u8 = 0
        scratch.withUnsafeMutableBufferPointer { out in
            while true {
                let n = Int(quill_break_fill(handle, out.baseAddress, capacity))
                if n == 0 { break }
                if identity {
                    for i in 0..<n { ends.append(Int(out[i])) }
                    continue
                }
                for i in 0..<n {
                    let boundary = Int(out[i])
                    while u16 < boundary {
                        let c = text[u16]
                        // Bytes this unit takes in UTF-8: a surrogate is half of a 4-byte sequence.
                        u8 &+= c < 0x80 ? 1 : (c < 0x800 ? 2 : ((c & 0xF800) == 0xD800 ? 2 : 3))
                        u16 &+= 1
                    }
                    ends.append(u8)
                }
            }
        }
    }

}

/// Growable scratch buffers filled by ICU calls that report the length they need.
extension Array where Element: FixedWidthInteger {
    /// Runs an ICU fill call with this array as output, growing it once if ICU asks for more; returns the length.
    mutating func fillICU(_ operation: String,
                          _ call: (UnsafeMutablePointer<Element>, Int32, inout Int32) -> Int32) throws -> Int {
        if count == 0 { append(contentsOf: repeatElement(0, count: 64)) }
        var status: Int32 = 0
        var n = withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32($0.count), &status) }
        if Int(n) > count || status == 15 /* U_BUFFER_OVERFLOW_ERROR */ {
            self = [Element](repeating: 0, count: Int(n) + Int(n) / 4 + 64)
            status = 0
            n = withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32($0.count), &status) }
        }
        try checkICU(status, operation)
        return Int(n)
    }
}

/// UTF-8 → UTF-16 into `out` (valid input); returns the number of UTF-16 units.
func transcodeToUTF16(_ text: UnsafeRawBufferPointer, into out: inout [UInt16]) throws -> Int {
    if text.isEmpty { return 0 }
    let src = text.baseAddress!.assumingMemoryBound(to: UInt8.self)
    let needed = text.count  // a UTF-8 text never has more UTF-16 units than bytes
    if out.count < needed { out = [UInt16](repeating: 0, count: needed + needed / 8 + 64) }
    return try out.fillICU("u_strFromUTF8") { quill_utf8_to_utf16(src, Int32(text.count), $0, $1, &$2) }
}

/// UTF-16 → UTF-8 into `out` (valid input); returns the number of bytes.
func transcodeToUTF8(_ text: UnsafeBufferPointer<UInt16>, into out: inout [UInt8]) throws -> Int {
    if text.isEmpty { return 0 }
    let needed = text.count * 3
    if out.count < needed { out = [UInt8](repeating: 0, count: needed + 64) }
    return try out.fillICU("u_strToUTF8") { quill_utf16_to_utf8(text.baseAddress, Int32(text.count), $0, $1, &$2) }
}
