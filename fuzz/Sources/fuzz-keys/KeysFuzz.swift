import FuzzSupport
import QuillTerminal

/// The REPL's key decoder on any bytes a terminal (or a paste, or line noise) may send, cut into reads at the
/// places the first byte chooses, as `read` may cut them: it decodes without crashing, never gives an empty text or
/// paste, and after ``KeyDecoder/flush()`` nothing waits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let cuts = input.first else { return 0 }
    let bytes = Array(input.dropFirst())
    var decoder = KeyDecoder()
    var keys: [Key] = []
    // Reads of 1 to 8 bytes, their lengths cycling through the bits of the first byte.
    var start = 0
    var read = 0
    while start < bytes.count {
        let length = 1 + Int((cuts >> (read % 6)) & 7)
        let end = min(bytes.count, start + length)
        keys += decoder.decode(bytes[start..<end])
        start = end
        read += 1
    }
    keys += decoder.flush()
    require(!decoder.isPending, "bytes wait after a flush")
    for key in keys {
        switch key {
        case .text(let text): require(!text.isEmpty, "an empty text key")
        case .paste(let text): require(!text.isEmpty, "an empty paste")
        default: break
        }
    }
    // The same bytes in one read, flushed: only crashes are looked for (how reads are cut may change the keys).
    _ = KeyDecoder.decodeAll(bytes)
    return 0
}
