import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor: a streaming command collects its output in a 64 KB block and writes each
/// full block with one `write(2)`, rather than one `print` per token. The block is raw memory and integers are
/// formatted into it directly: `quill tokenize` writes millions of short tokens, and a `String` or an array append
/// per token would cost more than tokenizing them.
final class OutputBuffer {
    private let fd: Int32
    private let name: String
    private let ownsDescriptor: Bool
    private let storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private let capacity: Int

    /// Writes to standard output.
    init(capacity: Int = 1 << 16) {
        fd = 1; name = "<stdout>"; ownsDescriptor = false; self.capacity = max(64, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    /// Writes to a file, created or truncated; "-" is standard output.
    init(path: String, capacity: Int = 1 << 16) throws {
        self.capacity = max(64, capacity)
        if path == "-" {
            fd = 1; name = "<stdout>"; ownsDescriptor = false
        } else {
            let d = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if d < 0 { throw CLIError("\(path): cannot write: \(String(cString: strerror(errno)))") }
            fd = d; name = path; ownsDescriptor = true
        }
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        try? flush()
        if ownsDescriptor { close(fd) }
        storage.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity { try writeAll(bytes); return }
        if let base = bytes.baseAddress { (storage + count).update(from: base.assumingMemoryBound(to: UInt8.self),
                                                                   count: bytes.count) }
        count += bytes.count
    }

    func write(_ string: String) throws {
        var s = string
        try s.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    func write(byte: UInt8) throws {
        if count == capacity { try flush() }
        storage[count] = byte
        count += 1
    }

    /// Writes a decimal integer, formatted in place.
    func write(_ value: Int) throws {
        if count + 20 > capacity { try flush() }
        var magnitude = value.magnitude, digits = 0
        repeat { digits += 1; magnitude /= 10 } while magnitude > 0
        if value < 0 { storage[count] = UInt8(ascii: "-"); count += 1 }
        magnitude = value.magnitude
        for i in stride(from: digits - 1, through: 0, by: -1) {
            storage[count + i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        }
        count += digits
    }

    /// Lets `body` write at most `maximum` bytes straight into the block; it returns how many it wrote.
    func withSpace(_ maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) throws {
        if count + maximum > capacity { try flush() }
        precondition(maximum <= capacity, "a write of \(maximum) bytes does not fit the \(capacity)-byte block")
        count += body(storage + count)
    }

    /// The block's size: a single ``withSpace(_:_:)`` may ask for up to this.
    var blockSize: Int { capacity }

    func flush() throws {
        guard count > 0 else { return }
        let pending = count
        count = 0
        try writeAll(UnsafeRawBufferPointer(start: storage, count: pending))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = writeDescriptor(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("\(name): cannot write: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}

/// `write(2)`, named apart from `OutputBuffer.write`.
private func writeDescriptor(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}

/// A failure worded by the CLI itself; ArgumentParser prints it as `quill: error: <description>` and exits with 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An argument problem found only while running (e.g. an option contradicting a stored vocabulary's settings):
/// prints `quill: error: <message>` and returns exit code 64, as ArgumentParser does for a `ValidationError` found
/// while parsing (whose usage line would, from `run()`, wrongly be the root command's).
func usageFailure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("quill: error: \(message)\n".utf8))
    return .validationFailure
}

/// Messages on standard error that are not errors: `quill: note: …` (unbuffered, so they interleave in order).
func note(_ message: String) {
    FileHandle.standardError.write(Data("quill: note: \(message)\n".utf8))
}

/// Writes UTF-8 text as the body of a JSON string (no quotes): `"`, `\` and control characters escaped, the rest
/// verbatim (valid UTF-8 is valid JSON).
func writeJSONStringBody(_ text: UnsafeRawBufferPointer, to out: OutputBuffer) throws {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    var start = 0
    for (i, b) in text.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
        if i > start { try out.write(UnsafeRawBufferPointer(rebasing: text[start..<i])) }
        switch b {
        case 0x22: try out.write("\\\"")
        case 0x5C: try out.write("\\\\")
        case 0x0A: try out.write("\\n")
        case 0x0D: try out.write("\\r")
        case 0x09: try out.write("\\t")
        default:
            try out.write("\\u00")
            try out.write(byte: hex[Int(b >> 4)])
            try out.write(byte: hex[Int(b & 15)])
        }
        start = i + 1
    }
    if text.count > start { try out.write(UnsafeRawBufferPointer(rebasing: text[start...])) }
}

/// One JSON object as a line: keys sorted, so output is stable across runs.
func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// One `Encodable` value as a JSON line: keys sorted, as ``jsonLine(_:)-([String: Any])`` writes them. The JSON Lines of
/// `complete`, `predict`, `generate --format jsonl` and the evaluations are the library's own result types, printed
/// with this (docs/cli.md lists their keys).
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A `Codable` record as a JSON object, with the keys it encodes (camelCase, as the store's records).
func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
    let data = try JSONEncoder().encode(value)
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
}

/// Pads each column to its widest cell; columns listed in `rightAligned` are aligned right (numbers).
func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    guard let first = rows.first else { return "" }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return rows.map { row in
        row.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            return rightAligned.contains(i) ? pad + cell : (i == row.count - 1 ? cell : cell + pad)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// `1.2 MB`, `340 KB`, `12 B`.
func formatBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1e9 { return String(format: "%.2f GB", b / 1e9) }
    if b >= 1e6 { return String(format: "%.1f MB", b / 1e6) }
    if b >= 1e3 { return String(format: "%.1f KB", b / 1e3) }
    return "\(bytes) B"
}
