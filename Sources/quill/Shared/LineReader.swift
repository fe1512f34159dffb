import Foundation
import Quill

/// Lines of a file or standard input, read in 1 MiB chunks, each checked as UTF-8.
///
/// By default a line is held whole. A reader made with ``Holding/start(bytes:)`` or ``Holding/end(bytes:)`` holds at
/// most about that many bytes of a line (and twice that while reading), so memory stays bounded for a line of any
/// length: a longer line's text is its start or its end, cut where tokenization breaks anyway (``TextCut``), and is
/// marked ``Line/isPart``. The whole line is still checked as UTF-8.
final class LineReader {
    struct Line {
        let number: Int
        /// The text without its line break (and a CR before it), or where its first invalid byte is.
        let text: Result<String, InvalidUTF8>
        /// Whether `text` is only the start or the end of the line (see ``Holding``).
        var isPart = false
    }

    /// A line that is not UTF-8: its file, number and the offset of the first invalid byte in it.
    struct InvalidUTF8: Error, CustomStringConvertible {
        let file: String
        let line: Int
        let offset: Int

        var description: String {
            "\(file):\(line): not valid UTF-8 at byte \(offset) of the line; fix or drop the line, or convert the "
                + "file (e.g. with iconv)"
        }
    }

    /// How much of a line the reader holds.
    enum Holding {
        case whole
        /// The first `bytes` of a longer line (scoring reads a line from its start).
        case start(bytes: Int)
        /// The last `bytes` of a longer line (suggestions follow its end).
        case end(bytes: Int)
    }

    let name: String
    private let handle: FileHandle
    private let holding: Holding
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var number = 0
    private(set) var bytesRead = 0
    let totalBytes: Int?

    init(path: String, holding: Holding = .whole) throws {
        self.holding = holding
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
        var line = PartialLine()
        var scanned = start  // buffer[start..<scanned] holds no line break
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let taken = take(upTo: newline, &line)
                start = newline + 1
                return taken
            }
            if atEnd {
                guard start < buffer.count || line.passed > 0 else { return nil }
                let taken = take(upTo: buffer.count, &line)
                start = buffer.count
                return taken
            }
            forget(&line)
            buffer.removeFirst(start)
            start = 0
            scanned = buffer.count
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true }
            bytesRead += chunk.count
            buffer.append(contentsOf: chunk)
        }
    }

    /// What is known of a line longer than the reader holds.
    private struct PartialLine {
        /// Bytes of the line before `buffer[start]` no longer held.
        var passed = 0
        /// With ``Holding/start(bytes:)``: the line's first bytes, once it outgrew them.
        var head: [UInt8]?
        /// The offset in the line of its first invalid byte.
        var invalid: Int?

        /// Checks the next `bytes` of the line (they end before a byte that starts a code point, or at its end).
        mutating func check(_ bytes: ArraySlice<UInt8>) {
            if invalid == nil, let offset = firstInvalidUTF8Offset(bytes) { invalid = passed + offset }
        }
    }

    /// Lets go of the held part of a line that outgrew ``holding``, after checking it.
    private func forget(_ line: inout PartialLine) {
        let held = buffer.count - start
        switch holding {
        case .whole:
            return
        case .start(let limit) where line.head == nil:
            guard held > limit else { return }
            let cut = codePointStart(atOrBefore: start + limit)
            line.check(buffer[start..<cut])
            line.head = Array(buffer[start..<cut])
            line.passed += cut - start
            start = cut
        case .start:
            let cut = codePointStart(atOrBefore: buffer.count - 1)
            guard cut > start else { return }
            line.check(buffer[start..<cut])
            line.passed += cut - start
            start = cut
        case .end(let limit):
            guard held > 2 * limit else { return }
            let cut = codePointStart(atOrBefore: buffer.count - limit)
            line.check(buffer[start..<cut])
            line.passed += cut - start
            start = cut
        }
    }

    /// `index`, or up to 3 bytes before it, where a code point starts (not a continuation byte), so that the bytes
    /// on either side are checked as UTF-8 on their own.
    private func codePointStart(atOrBefore index: Int) -> Int {
        var i = index
        while i > start + 1, i > index - 3, buffer[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    private func take(upTo end: Int, _ line: inout PartialLine) -> Line {
        number += 1
        var bytes = buffer[start..<end]
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        line.check(bytes)
        if let offset = line.invalid {
            return Line(number: number, text: .failure(InvalidUTF8(file: name, line: number, offset: offset)))
        }
        // The last chunk read may hold more of the line than the reader keeps.
        switch holding {
        case .start(let limit) where line.head == nil && bytes.count > limit:
            line.head = Array(buffer[start..<codePointStart(atOrBefore: start + limit)])
        case .end(let limit) where bytes.count > limit:
            let cut = codePointStart(atOrBefore: bytes.endIndex - limit)
            line.passed += cut - start
            bytes = buffer[cut..<bytes.endIndex]
        default:
            break
        }
        if let head = line.head {
            // The start of the line, up to its last break.
            let text = head.withUnsafeBufferPointer { head in
                String(decoding: head[..<(TextCut.lastBreak(in: head, before: head.count) ?? head.count)], as: UTF8.self)
            }
            return Line(number: number, text: .success(text), isPart: true)
        }
        if line.passed > 0 {
            // The end of the line, from its first break.
            let text = Array(bytes).withUnsafeBufferPointer { tail in
                String(decoding: tail[(TextCut.firstBreak(in: tail, from: 1) ?? 0)...], as: UTF8.self)
            }
            return Line(number: number, text: .success(text), isPart: true)
        }
        return Line(number: number, text: .success(String(decoding: bytes, as: UTF8.self)))
    }
}

/// Reads `reader`'s lines in batches of `batch` and hands each to `each` with its first line's number; a line that
/// is not UTF-8 is an error naming the file and line.
func readLines(_ reader: LineReader, batch: Int = 256, each: ([String], Int) throws -> Void) throws {
    var pending: [String] = [], first = 1
    while let line = try reader.next() {
        pending.append(try line.text.get())
        if pending.count == batch {
            try each(pending, first)
            first += pending.count
            pending.removeAll(keepingCapacity: true)
        }
    }
    if !pending.isEmpty { try each(pending, first) }
}
