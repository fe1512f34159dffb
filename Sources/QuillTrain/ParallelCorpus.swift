import QuillText

/// Aligned sentence pairs (source, target) encoded as ids, with what the length filters dropped.
///
/// Read from two aligned UTF-8 files (line `i` of one is the translation of line `i` of the other) or from one TSV file
/// (`source TAB target` per line), streaming through ``QuillText/TextReader``: memory grows with the ids kept, and per
/// line by at most ``Filter/maximumLineBytes`` of text. Each side is encoded by its own ``QuillText/TextEncoder`` (two
/// vocabularies, or the same encoder twice for a joint one).
///
/// ## Sequences
/// Each side of a pair is the line's ids **ending on the line break** (``QuillText/TextEncoder/lineIDs(of:)``: the
/// vocabulary's ``QuillText/Vocabulary/lineBreakID``, `"\n"`, or `<eos>` in a vocabulary without a line-break token),
/// exactly as the line reads in a corpus and as Quill's language models see lines end. So a side of `n` tokens is
/// `n + 1` ids; the line break is the decoder's end-of-sentence, and the decoder starts after it (``targetLineStart``).
/// A trailing CR is removed from every line (CRLF files).
///
/// ## Filters
/// Lengths are counted in tokens **without** the line break. A pair is dropped by the first filter, in this order, that
/// refuses it, and counted under that filter in ``report``: ``Filter/minimumLength`` (either side shorter: empty lines),
/// ``Filter/maximumSourceLength`` (a source line over ``Filter/maximumLineBytes`` counts here too),
/// ``Filter/maximumTargetLength`` (likewise), ``Filter/maximumRatio`` (the longer side over the shorter).
public struct ParallelCorpus: Sendable {
    /// Which pairs to keep. The defaults keep every pair with two non-empty sides.
    public struct Filter: Sendable, Equatable, Codable {
        /// Tokens each side needs at least (1: drop pairs with an empty side).
        public var minimumLength: Int
        /// Tokens the source may have at most; `nil`: no limit.
        public var maximumSourceLength: Int?
        /// Tokens the target may have at most; `nil`: no limit.
        public var maximumTargetLength: Int?
        /// The most `max(s, t) / min(s, t)` may be, in tokens (Moses `clean-corpus-n.perl` uses 9); `nil`: no limit.
        public var maximumRatio: Double?
        /// Bytes of one line (one side) held at most; a longer line is skipped without being kept in memory and
        /// counted as too long. 1 MiB: far above any sentence, and a bound on memory for a file without line breaks.
        public var maximumLineBytes: Int

        public init(minimumLength: Int = 1, maximumSourceLength: Int? = nil, maximumTargetLength: Int? = nil,
                    maximumRatio: Double? = nil, maximumLineBytes: Int = 1 << 20) {
            self.minimumLength = minimumLength
            self.maximumSourceLength = maximumSourceLength
            self.maximumTargetLength = maximumTargetLength
            self.maximumRatio = maximumRatio
            self.maximumLineBytes = maximumLineBytes
        }

        /// The same maximum for both sides.
        public init(maximumLength: Int, maximumRatio: Double? = nil) {
            self.init(maximumSourceLength: maximumLength, maximumTargetLength: maximumLength, maximumRatio: maximumRatio)
        }
    }

    /// What reading kept and dropped. `lines == kept + tooShort + sourceTooLong + targetTooLong + badRatio`.
    public struct Report: Sendable, Equatable, Codable {
        /// Pairs (lines) read.
        public var lines = 0
        /// Pairs kept.
        public var kept = 0
        /// Dropped by ``Filter/minimumLength``.
        public var tooShort = 0
        /// Dropped by ``Filter/maximumSourceLength`` or ``Filter/maximumLineBytes`` on the source side.
        public var sourceTooLong = 0
        /// Dropped by ``Filter/maximumTargetLength`` or ``Filter/maximumLineBytes`` on the target side.
        public var targetTooLong = 0
        /// Dropped by ``Filter/maximumRatio``.
        public var badRatio = 0
        /// Tokens of the kept pairs, line breaks excluded.
        public var sourceTokens = 0
        public var targetTokens = 0
        /// Of those, ``QuillText/Vocabulary/unknownID``s.
        public var sourceUnknown = 0
        public var targetUnknown = 0

        public init() {}

        /// Pairs dropped by any filter.
        public var dropped: Int { lines - kept }
    }

    /// Ids of all kept source sequences, one after another; pair `i` is `sourceIDs[sourceOffsets[i]..<sourceOffsets[i+1]]`.
    public let sourceIDs: [Int32]
    /// `count + 1` offsets into ``sourceIDs``.
    public let sourceOffsets: [Int]
    /// Ids of all kept target sequences, as ``sourceIDs``.
    public let targetIDs: [Int32]
    /// `count + 1` offsets into ``targetIDs``.
    public let targetOffsets: [Int]
    /// The 1-based line of each kept pair in its file(s).
    public let lineNumbers: [Int]
    /// The token the decoder starts after: the target vocabulary's ``QuillText/Vocabulary/lineBreakID``.
    public let targetLineStart: Int32
    /// Fingerprints of the two vocabularies ("" for a corpus made from ids).
    public let sourceFingerprint: String
    public let targetFingerprint: String
    /// What the filters dropped.
    public let report: Report

    /// Number of pairs.
    public var count: Int { lineNumbers.count }

    /// The source ids of pair `i`, ending on the line break.
    public func source(_ i: Int) -> ArraySlice<Int32> { sourceIDs[sourceOffsets[i]..<sourceOffsets[i + 1]] }
    /// The target ids of pair `i`, ending on the line break.
    public func target(_ i: Int) -> ArraySlice<Int32> { targetIDs[targetOffsets[i]..<targetOffsets[i + 1]] }
    /// Ids of pair `i`'s source, line break included: its steps `S` in a batch.
    public func sourceLength(_ i: Int) -> Int { sourceOffsets[i + 1] - sourceOffsets[i] }
    /// Ids of pair `i`'s target, line break included: its steps `T` in a batch.
    public func targetLength(_ i: Int) -> Int { targetOffsets[i + 1] - targetOffsets[i] }

    /// A corpus of already encoded pairs (each side non-empty, normally ending on the line break), unfiltered.
    public init(pairs: [(source: [Int32], target: [Int32])], targetLineStart: Int32) {
        precondition(pairs.allSatisfy { !$0.source.isEmpty && !$0.target.isEmpty }, "a side of a pair is empty")
        var source = Side(), target = Side()
        for pair in pairs {
            source.append(pair.source[...], overlong: false)
            target.append(pair.target[...], overlong: false)
        }
        var report = Report()
        report.lines = pairs.count
        report.kept = pairs.count
        report.sourceTokens = source.ids.count - pairs.count
        report.targetTokens = target.ids.count - pairs.count
        self.init(source: source, target: target, lineNumbers: (0..<pairs.count).map { $0 + 1 },
                  targetLineStart: targetLineStart, sourceFingerprint: "", targetFingerprint: "", report: report)
    }

    private init(source: Side, target: Side, lineNumbers: [Int], targetLineStart: Int32, sourceFingerprint: String,
                 targetFingerprint: String, report: Report) {
        sourceIDs = source.ids
        sourceOffsets = source.offsets
        targetIDs = target.ids
        targetOffsets = target.offsets
        self.lineNumbers = lineNumbers
        self.targetLineStart = targetLineStart
        self.sourceFingerprint = sourceFingerprint
        self.targetFingerprint = targetFingerprint
        self.report = report
    }

    // MARK: Reading

    /// Reads two aligned files, line `i` of `source` paired with line `i` of `target`.
    /// - Parameters:
    ///   - source: the source file, one sentence per line.
    ///   - target: the target file, aligned with it.
    ///   - sourceEncoder: encodes the source side.
    ///   - targetEncoder: encodes the target side (may be `sourceEncoder`: a joint vocabulary).
    ///   - filter: which pairs to keep.
    ///   - chunkSize: bytes read at a time.
    /// - Throws: ``ParallelCorpusError/lineCountMismatch(endedFirst:lines:other:otherLines:)`` naming the file that
    ///   ended first; ``QuillText/TextError/invalidUTF8(file:line:column:offset:)`` (from `TextReader`) naming the file
    ///   and line; ``ParallelCorpusError/emptyCorpus(file:)``; ``ParallelCorpusError/nothingKept(file:report:)``;
    ///   ``QuillText/TextError/unreadable(file:reason:)``.
    /// `progress` is called every 4,096 lines of each side; an error it throws (a stop request) ends the reading.
    public static func read(source: String, target: String, sourceEncoder: TextEncoder, targetEncoder: TextEncoder,
                            filter: Filter = Filter(), chunkSize: Int = 1 << 20,
                            progress: (() throws -> Void)? = nil) throws -> ParallelCorpus {
        // Both opened first: an unreadable target fails before the source is read.
        let sourceReader = try TextReader(path: source, chunkSize: chunkSize)
        let targetReader = try TextReader(path: target, chunkSize: chunkSize)
        var sourceSide = Side(), targetSide = Side()
        try LineSplitter.forEachLine(in: sourceReader, maximumBytes: filter.maximumLineBytes) { line in
            try sourceSide.append(line.overlong ? nil : line.bytes, encoder: sourceEncoder)
            if sourceSide.count & 0xFFF == 0, let progress { try progress() }
        }
        try LineSplitter.forEachLine(in: targetReader, maximumBytes: filter.maximumLineBytes) { line in
            try targetSide.append(line.overlong ? nil : line.bytes, encoder: targetEncoder)
            if targetSide.count & 0xFFF == 0, let progress { try progress() }
        }
        let s = sourceSide.count, t = targetSide.count
        if s != t {
            throw s < t
                ? ParallelCorpusError.lineCountMismatch(endedFirst: source, lines: s, other: target, otherLines: t)
                : ParallelCorpusError.lineCountMismatch(endedFirst: target, lines: t, other: source, otherLines: s)
        }
        guard s > 0 else { throw ParallelCorpusError.emptyCorpus(file: source) }
        return try filtered(source: sourceSide, target: targetSide, file: "\(source) and \(target)",
                            sourceEncoder: sourceEncoder, targetEncoder: targetEncoder, filter: filter)
    }

    /// Reads one TSV file: `source TAB target` on every line (exactly one TAB), or `target TAB source` when
    /// `targetFirst`.
    /// - Parameters: as ``read(source:target:sourceEncoder:targetEncoder:filter:chunkSize:progress:)``, with `tsv` the
    ///   file.
    /// - Throws: ``ParallelCorpusError/tabs(file:line:count:)`` for a line without exactly one TAB, naming the file and
    ///   line; otherwise as ``read(source:target:sourceEncoder:targetEncoder:filter:chunkSize:progress:)``.
    public static func read(tsv: String, targetFirst: Bool = false, sourceEncoder: TextEncoder,
                            targetEncoder: TextEncoder, filter: Filter = Filter(),
                            chunkSize: Int = 1 << 20, progress: (() throws -> Void)? = nil) throws -> ParallelCorpus {
        var sourceSide = Side(), targetSide = Side()
        try forEachPair(tsv: tsv, maximumBytes: filter.maximumLineBytes, chunkSize: chunkSize) { _, left, right in
            try sourceSide.append(targetFirst ? right : left, encoder: sourceEncoder)
            try targetSide.append(targetFirst ? left : right, encoder: targetEncoder)
            if sourceSide.count & 0xFFF == 0, let progress { try progress() }
        }
        guard sourceSide.count > 0 else { throw ParallelCorpusError.emptyCorpus(file: tsv) }
        return try filtered(source: sourceSide, target: targetSide, file: tsv,
                            sourceEncoder: sourceEncoder, targetEncoder: targetEncoder, filter: filter)
    }

    /// Calls `body` with the 1-based number and the two columns of every line of a TSV file of `left TAB right` lines
    /// (a trailing CR removed); a column over `maximumBytes` bytes is `nil` (not held in memory). The bytes are valid
    /// only during the call. What vocabularies are built from and
    /// ``read(tsv:targetFirst:sourceEncoder:targetEncoder:filter:chunkSize:progress:)`` reads.
    /// - Throws: ``ParallelCorpusError/tabs(file:line:count:)`` for a line without exactly one TAB;
    ///   ``QuillText/TextError`` for an unreadable file or invalid UTF-8.
    public static func forEachPair(tsv: String, maximumBytes: Int = Filter().maximumLineBytes,
                                   chunkSize: Int = 1 << 20,
                                   _ body: (_ line: Int, _ left: UnsafeRawBufferPointer?,
                                            _ right: UnsafeRawBufferPointer?) throws -> Void) throws {
        // The whole line is held up to twice the per-column limit; a column over the limit is then `nil`.
        try LineSplitter.forEachLine(in: TextReader(path: tsv, chunkSize: chunkSize),
                                     maximumBytes: 2 * maximumBytes + 1) { line in
            guard line.tabs == 1 else {
                throw ParallelCorpusError.tabs(file: tsv, line: line.number, count: line.tabs)
            }
            if line.overlong { return try body(line.number, nil, nil) }
            let tab = line.bytes.firstIndex(of: 0x09)!
            let left = UnsafeRawBufferPointer(rebasing: line.bytes[..<tab])
            let right = UnsafeRawBufferPointer(rebasing: line.bytes[(tab + 1)...])
            try body(line.number, left.count > maximumBytes ? nil : left, right.count > maximumBytes ? nil : right)
        }
    }

    private static func filtered(source: Side, target: Side, file: String, sourceEncoder: TextEncoder,
                                 targetEncoder: TextEncoder, filter: Filter) throws -> ParallelCorpus {
        var report = Report()
        report.lines = source.count
        var keptSource = Side(), keptTarget = Side()
        var lineNumbers: [Int] = []
        for i in 0..<source.count {
            // Tokens without the line break; an overlong line has no ids and is too long.
            let s = source.overlong[i] ? Int.max : source.length(i) - 1
            let t = target.overlong[i] ? Int.max : target.length(i) - 1
            if min(s, t) < filter.minimumLength { report.tooShort += 1; continue }
            if s == .max || s > (filter.maximumSourceLength ?? .max) { report.sourceTooLong += 1; continue }
            if t == .max || t > (filter.maximumTargetLength ?? .max) { report.targetTooLong += 1; continue }
            if let ratio = filter.maximumRatio, Double(max(s, t)) > ratio * Double(max(1, min(s, t))) {
                report.badRatio += 1; continue
            }
            let x = source.ids(i), y = target.ids(i)
            keptSource.append(x, overlong: false)
            keptTarget.append(y, overlong: false)
            lineNumbers.append(i + 1)
            report.sourceTokens += s
            report.targetTokens += t
            for id in x where id == Vocabulary.unknownID { report.sourceUnknown += 1 }
            for id in y where id == Vocabulary.unknownID { report.targetUnknown += 1 }
        }
        report.kept = lineNumbers.count
        guard report.kept > 0 else { throw ParallelCorpusError.nothingKept(file: file, report: report) }
        return ParallelCorpus(source: keptSource, target: keptTarget, lineNumbers: lineNumbers,
                              targetLineStart: targetEncoder.lineStart,
                              sourceFingerprint: sourceEncoder.vocabulary.fingerprint,
                              targetFingerprint: targetEncoder.vocabulary.fingerprint, report: report)
    }

    /// One side's encoded lines, one after another.
    struct Side {
        var ids: [Int32] = []
        var offsets: [Int] = [0]
        var overlong: [Bool] = []

        var count: Int { overlong.count }
        func length(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }
        func ids(_ i: Int) -> ArraySlice<Int32> { ids[offsets[i]..<offsets[i + 1]] }

        mutating func append(_ line: ArraySlice<Int32>, overlong: Bool) {
            ids.append(contentsOf: line)
            offsets.append(ids.count)
            self.overlong.append(overlong)
        }

        /// Encodes one line (valid UTF-8, without its line break) ending on the line break; `nil`: an overlong line.
        mutating func append(_ line: UnsafeRawBufferPointer?, encoder: TextEncoder) throws {
            guard let line else { append([], overlong: true); return }
            try append(encoder.lineIDs(of: String(decoding: line, as: UTF8.self))[...], overlong: false)
        }
    }
}

/// Errors of reading a parallel corpus. Each names the file and the 1-based line. Invalid UTF-8 is reported by
/// ``QuillText/TextReader`` as ``QuillText/TextError/invalidUTF8(file:line:column:offset:)``.
public enum ParallelCorpusError: Error, Equatable, CustomStringConvertible {
    /// The aligned files differ in length: `endedFirst` has `lines` lines, `other` has `otherLines`.
    case lineCountMismatch(endedFirst: String, lines: Int, other: String, otherLines: Int)
    /// A TSV line with `count` TABs instead of one.
    case tabs(file: String, line: Int, count: Int)
    /// The file(s) hold no lines.
    case emptyCorpus(file: String)
    /// Every pair was dropped by the filters (the report says which).
    case nothingKept(file: String, report: ParallelCorpus.Report)

    public var description: String {
        switch self {
        case let .lineCountMismatch(endedFirst, lines, other, otherLines):
            return "\(endedFirst):\(lines + 1): the file ends after \(lines) line\(lines == 1 ? "" : "s") but "
                + "\(other) has \(otherLines): line \(lines + 1) of \(other) has no partner; the two files must be "
                + "aligned line by line"
        case let .tabs(file, line, count):
            return "\(file):\(line): expected `source<TAB>target` (one TAB), found \(count) TAB\(count == 1 ? "" : "s")"
        case let .emptyCorpus(file):
            return "\(file): the parallel corpus holds no lines; give non-empty aligned UTF-8 files"
        case let .nothingKept(file, report):
            return "\(file): all \(report.lines) pairs were dropped by the filters (\(report.tooShort) too short, "
                + "\(report.sourceTooLong) source too long, \(report.targetTooLong) target too long, "
                + "\(report.badRatio) over the length ratio); loosen the length and ratio limits"
        }
    }
}

/// Splits a reader's text into lines with at most a given number of bytes held per line.
enum LineSplitter {
    struct Line {
        /// 1-based.
        var number: Int
        /// The line without its LF (and trailing CR); empty when ``overlong``.
        var bytes: UnsafeRawBufferPointer
        /// Over the byte limit: its bytes were not kept.
        var overlong: Bool
        /// TABs in the whole line.
        var tabs: Int
    }

    /// Calls `body` with every line, in order; a last line without LF counts when non-empty.
    static func forEachLine(in reader: TextReader, maximumBytes: Int, _ body: (Line) throws -> Void) throws {
        var buffer: [UInt8] = []
        var overlong = false, tabs = 0, number = 0, pending = false
        func emit() throws {
            number += 1
            if !overlong, buffer.last == 0x0D { buffer.removeLast() }
            try buffer.withUnsafeBytes { bytes in
                try body(Line(number: number, bytes: overlong ? UnsafeRawBufferPointer(start: nil, count: 0) : bytes,
                              overlong: overlong, tabs: tabs))
            }
            buffer.removeAll(keepingCapacity: buffer.count <= 1 << 16)
            overlong = false; tabs = 0; pending = false
        }
        try reader.forEachChunk { chunk in
            var start = 0
            while start < chunk.count {
                var i = start
                while i < chunk.count && chunk[i] != 0x0A {
                    if chunk[i] == 0x09 { tabs += 1 }
                    i += 1
                }
                if i > start {
                    pending = true
                    if !overlong {
                        if buffer.count + (i - start) > maximumBytes {
                            overlong = true
                            buffer.removeAll()
                        } else {
                            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<i]))
                        }
                    }
                }
                if i < chunk.count { try emit() }
                start = i + 1
            }
        }
        if pending { try emit() }
    }
}
