import CQuillKernels

/// CRC32C (Castagnoli), the checksum stored with every tensor and vocabulary and verified on every load.
///
/// Computed by `quill_crc32c` in CQuillKernels: the SSE4.2 `crc32` instruction on x86-64 (several GB/s, so checking an
/// 80 MB model costs milliseconds), a portable slicing-by-8 table elsewhere. The value is the standard one
/// (RFC 3720): `CRC32C("123456789") == 0xE3069283`, the same as Python's `crc32c` package or Go's
/// `crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))`. See docs/store.md for what each row's checksum covers.
public struct CRC32C: Equatable, Sendable {
    /// The checksum of the bytes so far.
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Continues the checksum over `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        value = quill_crc32c(value, base, bytes.count)
    }

    /// Continues the checksum over a string's UTF-8 bytes.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Continues the checksum over an integer as 8 bytes, little-endian.
    public mutating func update(_ integer: UInt64) {
        withUnsafeBytes(of: integer.littleEndian) { update($0) }
    }

    /// Continues the checksum over a length-prefixed string: its UTF-8 byte count (8 bytes, little-endian), then the
    /// bytes, so that `["ab", "c"]` and `["a", "bc"]` differ.
    mutating func updateLengthPrefixed(_ text: String) {
        update(UInt64(text.utf8.count))
        update(text)
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of a string's UTF-8 bytes.
    public static func checksum(_ text: String) -> UInt32 {
        var crc = CRC32C()
        crc.update(text)
        return crc.value
    }
}

/// What each stored record's checksum covers: one home for the byte layouts docs/store.md describes.
enum StoredChecksum {
    /// A tensor's: the CRC32C of its `data` column, exactly the bytes stored.
    static func tensor(_ data: UnsafeRawBufferPointer) -> UInt32 { CRC32C.checksum(data) }

    /// A vocabulary's: the CRC32C of, in order (integers 8 bytes little-endian, texts as their UTF-8 byte count then
    /// the bytes): `settings_json`; the number of tokens; for each token by id, its text and its count; the number of
    /// merges; for each merge by rank, its left and right tokens.
    static func vocabulary(settingsJSON: String, tokens: [String], counts: [Int], merges: [(String, String)])
        -> UInt32
    {
        var crc = CRC32C()
        crc.updateLengthPrefixed(settingsJSON)
        crc.update(UInt64(tokens.count))
        for (token, count) in zip(tokens, counts) {
            crc.updateLengthPrefixed(token)
            crc.update(UInt64(bitPattern: Int64(count)))  // a damaged store may hold a negative count
        }
        crc.update(UInt64(merges.count))
        for (left, right) in merges {
            crc.updateLengthPrefixed(left)
            crc.updateLengthPrefixed(right)
        }
        return crc.value
    }
}
