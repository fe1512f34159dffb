#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads UTF-8 text in chunks of bounded size, each cut at a boundary where tokenization of the parts equals
/// tokenization of the whole: so a file larger than memory streams in constant memory.
///
/// A chunk ends after its last line break. A line longer than the chunk size is cut before a space that follows a
/// non-space (``TextCut``: every tokenizer level breaks there); a run of over
/// `chunkSize` bytes without line break or space is cut at a code point boundary, the only case that may split a token.
///
/// Invalid UTF-8 throws ``TextError/invalidUTF8(file:line:column:offset:)`` naming the line and byte offset, unless the
/// reader is `lossy`, which replaces each maximal ill-formed subpart with U+FFFD and counts them in ``replacements``.
public final class TextReader {
    public let name: String
    public let chunkSize: Int
    public let lossy: Bool
    /// The file size when known (a regular file), for progress bars.
    public let totalBytes: Int?
    /// Bytes of input consumed so far.
    public private(set) var bytesRead = 0
    /// Replacement characters inserted (lossy mode).
    public private(set) var replacements = 0

    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    private var filled = 0          // bytes in buffer
    private var validated = 0       // buffer[0..<validated] is valid UTF-8
    private var bufferOffset = 0    // input offset of buffer[0] (strict mode; lossy mode never reports offsets)
    private var linesBefore = 0     // line breaks (LF) before buffer[0]
    private var columnBefore = 0    // bytes between the last LF and buffer[0]
    private var eof = false

    /// Opens a file, or standard input when `path` is "-".
    public init(path: String, chunkSize: Int = 1 << 20, lossy: Bool = false) throws {
        if path == "-" {
            fd = 0; ownsDescriptor = false; name = "<stdin>"
        } else {
            let d = open(path, O_RDONLY)
            if d < 0 { throw TextError.unreadable(file: path, reason: String(cString: strerror(errno))) }
            fd = d; ownsDescriptor = true; name = path
        }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { totalBytes = Int(st.st_size) } else { totalBytes = nil }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if ownsDescriptor { close(fd) }
            throw TextError.unreadable(file: path, reason: "is a directory")
        }
        self.chunkSize = max(chunkSize, 16)
        self.lossy = lossy
        buffer = [UInt8](repeating: 0, count: self.chunkSize + 4096)
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Calls `body` with each chunk of valid UTF-8, in order; the chunks concatenated are the whole (repaired) text.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            try fill()
            if filled == 0 && eof { return }
            let cut = try validateAndFindCut()
            guard cut > 0 else { continue }  // need more input to decide
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<cut])) }
            consume(cut)
        }
    }

    /// Reads the whole input into one string (for small inputs and tests).
    public func readAll() throws -> String {
        var bytes: [UInt8] = []
        try forEachChunk { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func fill() throws {
        while !eof && filled < chunkSize {
            if buffer.count - filled < 4096 { buffer.append(contentsOf: repeatElement(0, count: 4096)) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TextError.unreadable(file: name, reason: String(cString: strerror(errno)))
            }
            if n == 0 { eof = true } else { filled += n; bytesRead += n }
        }
    }

    /// Validates what was read and returns where the next chunk ends (0 when the buffer holds no whole character).
    private func validateAndFindCut() throws -> Int {
        while true {
            let result = buffer.withUnsafeBufferPointer {
                UTF8Validation.validate($0.baseAddress!, from: validated, count: filled, final: eof)
            }
            switch result {
            case let .valid(end):
                validated = end
            case let .invalid(offset, length):
                guard lossy else { throw invalidError(at: offset) }
                buffer.replaceSubrange(offset..<offset + length, with: [0xEF, 0xBF, 0xBD])
                filled += 3 - length
                replacements += 1
                validated = offset + 3
                continue
            }
            break
        }
        if eof { return validated }
        return buffer.withUnsafeBufferPointer { b -> Int in
            // After the last line break.
            var i = validated
            while i > 0 { if b[i - 1] == 0x0A { return i }; i -= 1 }
            // No line break, and the chunk is full (`fill` stops short only at the end), even when a character cut
            // off at its end leaves `validated` below `chunkSize`: waiting for more input there never ended.
            // Pathological when there is no break: no line break or space in a whole chunk.
            return TextCut.lastBreak(in: b, before: validated) ?? validated
        }
    }

    private func consume(_ cut: Int) {
        buffer.withUnsafeBufferPointer { b in
            var lastBreak = -1
            for i in 0..<cut where b[i] == 0x0A { linesBefore += 1; lastBreak = i }
            columnBefore = lastBreak < 0 ? columnBefore + cut : cut - lastBreak - 1
        }
        buffer.withUnsafeMutableBytes { p in
            _ = memmove(p.baseAddress!, p.baseAddress! + cut, filled - cut)
        }
        filled -= cut
        validated -= cut
        bufferOffset += cut
    }

    private func invalidError(at index: Int) -> TextError {
        var line = linesBefore + 1
        var column = columnBefore + index + 1
        for i in 0..<index where buffer[i] == 0x0A { line += 1; column = index - i }
        return TextError.invalidUTF8(file: name, line: line, column: column, offset: bufferOffset + index)
    }
}
