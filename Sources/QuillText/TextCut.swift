/// Where UTF-8 text may be cut so that tokenizing the parts gives the tokens of the whole: before a space that
/// follows a non-space. Every tokenizer level breaks there, and normalization and case folding are unaffected.
/// ``TextReader`` cuts a long line into chunks there; a reader that holds only the start or the end of a line longer
/// than it will hold cuts it there too.
public enum TextCut {
    /// Whether `bytes` may be cut before `bytes[i]`.
    public static func isBreak(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        i > 0 && i < bytes.count && bytes[i] == 0x20 && !isASCIISpace(bytes[i - 1])
    }

    /// The last break before `end` (to keep a text's start), or nil when there is none.
    public static func lastBreak(in bytes: UnsafeBufferPointer<UInt8>, before end: Int) -> Int? {
        var i = min(end, bytes.count) - 1
        while i > 0 {
            if isBreak(bytes, at: i) { return i }
            i -= 1
        }
        return nil
    }

    /// The first break at or after `start` (to keep a text's end), or nil when there is none.
    public static func firstBreak(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = max(start, 1)
        while i < bytes.count {
            if isBreak(bytes, at: i) { return i }
            i += 1
        }
        return nil
    }

    static func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}
