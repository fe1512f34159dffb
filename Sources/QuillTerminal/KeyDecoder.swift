/// A key press, or a paste, decoded from the bytes a terminal in raw mode sends.
public enum Key: Equatable, Sendable {
    /// Printable characters: one key, or several typed faster than they were read.
    case text(String)
    /// Text pasted between the bracketed-paste markers `ESC [200~` and `ESC [201~`.
    case paste(String)
    case enter, tab, shiftTab, backspace, delete, escape
    case left, right, up, down, home, end
    /// Ctrl-Left and Ctrl-Right (also Alt-Left and Alt-Right): a word to the left or right.
    case wordLeft, wordRight
    /// Ctrl with a letter, as the lowercase letter: Ctrl-A is `.control("a")`.
    case control(Character)
    /// Alt (Meta) with a character, sent as `ESC` followed by the character: Alt-1 is `.alt("1")`; Alt-Backspace is
    /// `.alt("\u{7F}")`.
    case alt(Character)
}

/// Turns the bytes read from a terminal into ``Key``s: UTF-8 text, control keys, `ESC` sequences (CSI `ESC [ … final`,
/// SS3 `ESC O x`, Alt as an `ESC` prefix) and bracketed paste.
///
/// A read may end inside a sequence or a multi-byte character; those bytes wait for the next ``decode(_:)``. A lone
/// `ESC` cannot be told from the start of a sequence until more bytes come or none do: the caller waits briefly
/// while ``isPending`` and then calls ``flush()``, which takes it as the Escape key (as readline and vim do).
public struct KeyDecoder {
    private var pending: [UInt8] = []
    /// Inside a bracketed paste: the bytes are pasted text until `ESC [201~`.
    private var pasting = false

    /// Whether bytes wait for the rest of a sequence or character.
    public var isPending: Bool { !pending.isEmpty }

    private static let pasteEnd: [UInt8] = Array("\u{1B}[201~".utf8)

    public init() {}

    /// Decodes `bytes` after any waiting from earlier reads; an incomplete sequence at the end waits.
    public mutating func decode(_ bytes: some Sequence<UInt8>) -> [Key] {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var i = 0
        while i < pending.count {
            guard let (key, next) = decodeOne(at: i) else { break }
            if let key { append(key, to: &keys) }
            i = next
        }
        pending.removeFirst(i)
        return keys
    }

    /// Takes what waits as complete: a lone `ESC` is the Escape key, a cut-off sequence is dropped, a cut-off
    /// character becomes U+FFFD, and a paste that has not ended yet is delivered so far.
    public mutating func flush() -> [Key] {
        defer { pending.removeAll() }
        if pasting { return pending.isEmpty ? [] : [.paste(String(decoding: pending, as: UTF8.self))] }
        guard let first = pending.first else { return [] }
        if first == 0x1B {
            if pending.count == 1 { return [.escape] }
            if pending[1] == UInt8(ascii: "[") || pending[1] == UInt8(ascii: "O") { return [] }
            return [.escape] + KeyDecoder.decodeAll(Array(pending.dropFirst()), flushing: true)
        }
        return [.text(String(decoding: pending, as: UTF8.self))]
    }

    /// Decodes a complete byte string (for tests and for flushing): everything is taken as complete.
    public static func decodeAll(_ bytes: [UInt8], flushing: Bool = true) -> [Key] {
        var decoder = KeyDecoder()
        var keys = decoder.decode(bytes)
        if flushing { for key in decoder.flush() { decoder.append(key, to: &keys) } }
        return keys
    }

    /// Adds a key, joining runs of text into one key.
    private func append(_ key: Key, to keys: inout [Key]) {
        if case .text(let more) = key, case .text(let text)? = keys.last {
            keys[keys.count - 1] = .text(text + more)
        } else {
            keys.append(key)
        }
    }

    /// The key at byte `i` (nil when the bytes mean nothing, such as an unknown sequence) and the index after it, or
    /// nil when the bytes from `i` are incomplete.
    private mutating func decodeOne(at i: Int) -> (Key?, Int)? {
        if pasting {
            guard let end = KeyDecoder.find(KeyDecoder.pasteEnd, in: pending, from: i) else { return nil }
            pasting = false
            let text = String(decoding: pending[i..<end], as: UTF8.self)
            return (text.isEmpty ? nil : .paste(text), end + KeyDecoder.pasteEnd.count)
        }
        let byte = pending[i]
        switch byte {
        case 0x1B: return decodeEscape(at: i)
        case 0x0D, 0x0A: return (.enter, i + 1)
        case 0x09: return (.tab, i + 1)
        case 0x7F, 0x08: return (.backspace, i + 1)
        case 0x01...0x1A: return (.control(Character(Unicode.Scalar(byte + 0x60))), i + 1)
        case 0x00, 0x1C...0x1F: return (.control(Character(Unicode.Scalar(byte + 0x40))), i + 1)
        default:
            // A run of printable bytes, up to the next control byte; a character cut off at the end waits.
            var end = i
            while end < pending.count, pending[end] >= 0x20, pending[end] != 0x7F { end += 1 }
            if end == pending.count { end = KeyDecoder.completeUTF8End(pending, from: i, to: end) }
            guard end > i else { return nil }
            return (.text(String(decoding: pending[i..<end], as: UTF8.self)), end)
        }
    }

    private mutating func decodeEscape(at i: Int) -> (Key?, Int)? {
        guard i + 1 < pending.count else { return nil }
        let next = pending[i + 1]
        switch next {
        case UInt8(ascii: "["):
            // CSI: parameter and intermediate bytes 0x20–0x3F, then a final byte 0x40–0x7E.
            var j = i + 2
            while j < pending.count, (0x20...0x3F).contains(pending[j]) { j += 1 }
            guard j < pending.count else {
                // A sequence longer than any key's is garbage: drop the ESC and go on.
                return j - i > 32 ? (nil, i + 1) : nil
            }
            let parameters = String(decoding: pending[(i + 2)..<j], as: UTF8.self)
            return (csiKey(parameters: parameters, final: pending[j]), j + 1)
        case UInt8(ascii: "O"):
            guard i + 2 < pending.count else { return nil }
            return (KeyDecoder.cursorKey(pending[i + 2]), i + 3)
        case 0x1B:
            return (.escape, i + 1)
        case 0x7F, 0x08:
            return (.alt("\u{7F}"), i + 2)
        case 0x00..<0x20:
            return (.escape, i + 1)
        default:
            let end = KeyDecoder.completeUTF8End(pending, from: i + 1,
                                                 to: min(pending.count, i + 1 + KeyDecoder.utf8Length(next)))
            guard end > i + 1, end == i + 1 + KeyDecoder.utf8Length(next) else { return nil }
            let character = String(decoding: pending[(i + 1)..<end], as: UTF8.self)
            return (character.first.map { .alt($0) }, end)
        }
    }

    private mutating func csiKey(parameters: String, final: UInt8) -> Key? {
        let fields = parameters.split(separator: ";", omittingEmptySubsequences: false)
        // Modifier 3 is Alt, 5 is Ctrl (xterm's `1;5C`).
        let modified = fields.count > 1 && (fields[1] == "3" || fields[1] == "5")
        switch final {
        case UInt8(ascii: "C") where modified: return .wordRight
        case UInt8(ascii: "D") where modified: return .wordLeft
        case UInt8(ascii: "Z"): return .shiftTab
        case UInt8(ascii: "~"):
            switch fields.first.flatMap({ Int($0) }) {
            case 1, 7: return .home
            case 4, 8: return .end
            case 3: return .delete
            case 200: pasting = true; return nil
            default: return nil
            }
        default: return KeyDecoder.cursorKey(final)
        }
    }

    /// The final byte of `ESC [ A` or `ESC O A` and their kin.
    private static func cursorKey(_ final: UInt8) -> Key? {
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return .right
        case UInt8(ascii: "D"): return .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        default: return nil
        }
    }

    /// The length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte, decoded as U+FFFD).
    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC0...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF7: return 4
        default: return 1
        }
    }

    /// `end`, or the start of a multi-byte character that `end` cuts off.
    private static func completeUTF8End(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        var lead = end - 1
        while lead >= start, lead > end - 4, bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= start else { return end }
        return lead + utf8Length(bytes[lead]) > end ? lead : end
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count - start >= needle.count else { return nil }
        for i in start...(bytes.count - needle.count) where bytes[i] == needle[0] {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}
