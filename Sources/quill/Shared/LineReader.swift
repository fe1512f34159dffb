import Foundation
import Quill

/// Lines of a file or standard input, read in 1 MiB chunks (constant memory), each checked as UTF-8.
final class LineReader {
    struct Line {
        let number: Int
        /// The text without its line break (and a CR before it), or the byte offset of the first invalid byte.
        let text: Result<String, InvalidUTF8>
    }

    struct InvalidUTF8: Error { let offset: Int }

    let name: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var number = 0
    private(set) var bytesRead = 0
    let totalBytes: Int?

    init(path: String) throws {
        if path == "-" {
            name = "standard input"
            handle = FileHandle.standardInput
            totalBytes = nil
        } else {
            name = path
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw CLIError("\(path): cannot open the file for reading; check the path")
            }
            self.handle = handle
            totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        }
    }

    func next() throws -> Line? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = take(upTo: newline)
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = take(upTo: buffer.count)
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true }
            bytesRead += chunk.count
            buffer.append(contentsOf: chunk)
        }
    }

    private func take(upTo end: Int) -> Line {
        number += 1
        var bytes = buffer[start..<end]
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        if let offset = firstInvalidUTF8Offset(bytes) {
            return Line(number: number, text: .failure(InvalidUTF8(offset: offset)))
        }
        return Line(number: number, text: .success(String(decoding: bytes, as: UTF8.self)))
    }
}

/// Reads `reader`'s lines in batches of `batch` and hands each to `each` with its first line's number; a line that
/// is not UTF-8 is an error naming the file and line.
func readLines(_ reader: LineReader, batch: Int = 256, each: ([String], Int) throws -> Void) throws {
    var pending: [String] = [], first = 1
    while let line = try reader.next() {
        switch line.text {
        case let .success(text): pending.append(text)
        case let .failure(invalid):
            throw CLIError("\(reader.name): line \(line.number) is not valid UTF-8 (byte \(invalid.offset) of the "
                + "line); fix the file or convert it with iconv")
        }
        if pending.count == batch {
            try each(pending, first)
            first += pending.count
            pending.removeAll(keepingCapacity: true)
        }
    }
    if !pending.isEmpty { try each(pending, first) }
}
