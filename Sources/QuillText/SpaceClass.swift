/// Unicode White_Space split into line breaks and horizontal space, read from UTF-8.
enum SpaceClass {
    case other, space, lineBreak

    /// The class of the scalar at `p[i]` and its length in bytes (valid UTF-8 assumed).
    @inline(__always)
    static func of(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (kind: SpaceClass, length: Int) {
        let b = p[i]
        if b < 0x80 {
            switch b {
            case 0x20, 0x09: return (.space, 1)
            case 0x0A...0x0D: return (.lineBreak, 1)
            default: return (.other, 1)
            }
        }
        if b < 0xE0 {
            guard b == 0xC2, i + 1 < n else { return (.other, 2) }
            switch p[i + 1] {
            case 0x85: return (.lineBreak, 2)  // NEL
            case 0xA0: return (.space, 2)      // NO-BREAK SPACE
            default: return (.other, 2)
            }
        }
        if b < 0xF0 {
            guard i + 2 < n else { return (.other, 3) }
            let b1 = p[i + 1], b2 = p[i + 2]
            switch (b, b1) {
            case (0xE1, 0x9A): return (b2 == 0x80 ? .space : .other, 3)             // U+1680
            case (0xE2, 0x80):
                if b2 <= 0x8A || b2 == 0xAF { return (.space, 3) }                     // U+2000–200A, U+202F
                if b2 == 0xA8 || b2 == 0xA9 { return (.lineBreak, 3) }                 // U+2028, U+2029
                return (.other, 3)
            case (0xE2, 0x81): return (b2 == 0x9F ? .space : .other, 3)             // U+205F
            case (0xE3, 0x80): return (b2 == 0x80 ? .space : .other, 3)             // U+3000
            default: return (.other, 3)
            }
        }
        return (.other, 4)
    }
}
