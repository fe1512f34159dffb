import FuzzSupport
import QuillText

/// UTF-8 validation (`firstInvalidUTF8Offset`, and `TextReader`, which validates in chunks that may cut a character)
/// against the standard library's decoder as the oracle.
///
/// - The first invalid offset is nil exactly when the standard library accepts the bytes, and the bytes before it
///   are valid.
/// - A strict reader throws exactly on invalid input, naming the first invalid offset, and otherwise gives the bytes
///   back unchanged.
/// - A lossy reader gives what `String(decoding:as:)` gives (U+FFFD for each maximal ill-formed subpart).
/// The input goes through a 16-byte reader (the smallest chunk), so a character or ill-formed sequence often
/// straddles a chunk boundary.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let valid = String(validating: bytes, as: UTF8.self) != nil
    let offset = firstInvalidUTF8Offset(bytes)
    require((offset == nil) == valid, "first invalid offset \(String(describing: offset)), valid \(valid)")
    if let offset {
        require(String(validating: bytes[..<offset], as: UTF8.self) != nil, "bytes before offset \(offset) invalid")
    }

    scratch.replace(with: UnsafeRawBufferPointer(bytes))
    do {
        let text = try TextReader(path: scratch.path, chunkSize: 16).readAll()
        require(valid, "a strict reader accepted invalid UTF-8")
        require(text.utf8.elementsEqual(bytes), "a strict reader changed the bytes")
    } catch TextError.invalidUTF8(_, _, _, let at) {
        require(!valid, "a strict reader refused valid UTF-8")
        require(at == offset, "a strict reader reports offset \(at), the first invalid byte is at \(offset!)")
    } catch {
        require(false, "unexpected error \(error)")
    }
    do {
        let reader = try TextReader(path: scratch.path, chunkSize: 16, lossy: true)
        var chunks: [UInt8] = []
        try reader.forEachChunk { chunk in
            require(String(validating: chunk, as: UTF8.self) != nil, "a lossy chunk is not valid UTF-8")
            chunks.append(contentsOf: chunk)
        }
        require(chunks.elementsEqual(String(decoding: bytes, as: UTF8.self).utf8),
                "lossy reading differs from String(decoding:as:)")
        require((reader.replacements == 0) == valid, "\(reader.replacements) replacements, valid \(valid)")
    } catch {
        require(false, "a lossy reader threw \(error)")
    }
    return 0
}

private let scratch = ScratchFile("utf8.txt")
