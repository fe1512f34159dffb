import Foundation
import QuillTestSupport
import QuillText
import Testing
@testable import QuillTrain

@Suite struct ParallelCorpusTests {
    static let settings = TokenizerSettings(level: .whitespace)

    static func encoder(_ lines: [String]) throws -> TextEncoder {
        var builder = VocabularyBuilder(settings: settings)
        for token in try Tokenizer(settings).tokenize(lines.map { $0 + "\n" }.joined()) { builder.add(token) }
        return try TextEncoder(builder.build())
    }

    static let english = ["a man rides a horse", "two dogs play", "the woman is reading a book"]
    static let german = ["ein mann reitet ein pferd", "zwei hunde spielen", "die frau liest ein buch"]

    static func write(_ text: String, _ name: String, in directory: TemporaryDirectory) throws -> String {
        let url = directory.file(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func write(_ bytes: [UInt8], _ name: String, in directory: TemporaryDirectory) throws -> String {
        let url = directory.file(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func lines(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

    // MARK: Round trips

    @Test func twoFilesRoundTripWithTwoVocabularies() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        let de = try Self.write(Self.lines(Self.german), "train.de", in: directory)
        let source = try Self.encoder(Self.english), target = try Self.encoder(Self.german)
        let corpus = try ParallelCorpus.read(source: en, target: de, sourceEncoder: source, targetEncoder: target)
        #expect(corpus.count == 3)
        #expect(corpus.lineNumbers == [1, 2, 3])
        #expect(corpus.report.kept == 3 && corpus.report.dropped == 0)
        #expect(corpus.report.sourceUnknown == 0 && corpus.report.targetUnknown == 0)
        #expect(corpus.sourceFingerprint == source.vocabulary.fingerprint)
        #expect(corpus.targetFingerprint == target.vocabulary.fingerprint)
        #expect(corpus.targetLineStart == target.vocabulary.lineBreakID)
        for i in 0..<3 {
            #expect(source.text(of: corpus.source(i)) == Self.english[i] + "\n")
            #expect(target.text(of: corpus.target(i)) == Self.german[i] + "\n")
            #expect(corpus.source(i).last == source.vocabulary.lineBreakID)
            #expect(corpus.target(i).last == target.vocabulary.lineBreakID)
            #expect(Array(corpus.source(i)) == (try source.lineIDs(of: Self.english[i])))
        }
        // Tokens without the line breaks: one per word at the whitespace level.
        #expect(corpus.report.sourceTokens == 5 + 3 + 6)
        #expect(corpus.report.targetTokens == 5 + 3 + 5)
    }

    @Test func tsvGivesTheSameIdsAsTwoFiles() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        let de = try Self.write(Self.lines(Self.german), "train.de", in: directory)
        // CRLF and a missing final line break are read like LF lines.
        let tsvText = zip(Self.english, Self.german).map { "\($0)\t\($1)" }.joined(separator: "\r\n")
        let tsv = try Self.write(tsvText, "train.tsv", in: directory)
        let joint = try Self.encoder(Self.english + Self.german)  // one vocabulary, the same encoder twice
        let files = try ParallelCorpus.read(source: en, target: de, sourceEncoder: joint, targetEncoder: joint)
        let table = try ParallelCorpus.read(tsv: tsv, sourceEncoder: joint, targetEncoder: joint, chunkSize: 16)
        #expect(table.sourceIDs == files.sourceIDs)
        #expect(table.targetIDs == files.targetIDs)
        #expect(table.sourceOffsets == files.sourceOffsets)
        #expect(table.targetOffsets == files.targetOffsets)
        #expect(table.lineNumbers == [1, 2, 3])
        #expect(joint.text(of: table.target(2)) == Self.german[2] + "\n")
    }

    // MARK: Errors

    @Test func filesOfDifferentLengthsNameTheOneThatEndedFirst() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        let de = try Self.write(Self.lines(Array(Self.german.prefix(2))), "train.de", in: directory)
        let encoder = try Self.encoder(Self.english + Self.german)
        let expected = ParallelCorpusError.lineCountMismatch(endedFirst: de, lines: 2, other: en, otherLines: 3)
        #expect(throws: expected) {
            try ParallelCorpus.read(source: en, target: de, sourceEncoder: encoder, targetEncoder: encoder)
        }
        #expect(expected.description.hasPrefix("\(de):3: the file ends after 2 lines but \(en) has 3"))
        let swapped = ParallelCorpusError.lineCountMismatch(endedFirst: de, lines: 2, other: en, otherLines: 3)
        #expect(throws: swapped) {
            try ParallelCorpus.read(source: de, target: en, sourceEncoder: encoder, targetEncoder: encoder)
        }
    }

    @Test(arguments: [("a\tb\nc d\ne\tf\n", 2, 0), ("a\tb\nc\td\ne\tf\tg\n", 3, 2), ("a\t\t\n", 1, 2)])
    func tsvLineWithoutExactlyOneTabIsNamed(text: String, line: Int, tabs: Int) throws {
        let directory = try TemporaryDirectory()
        let tsv = try Self.write(text, "pairs.tsv", in: directory)
        let encoder = try Self.encoder(["a b c d e f g"])
        let expected = ParallelCorpusError.tabs(file: tsv, line: line, count: tabs)
        #expect(throws: expected) {
            try ParallelCorpus.read(tsv: tsv, sourceEncoder: encoder, targetEncoder: encoder)
        }
        #expect(expected.description.hasPrefix("\(tsv):\(line): expected `source<TAB>target`"))
    }

    @Test func invalidUTF8NamesTheFileAndLine() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        // Line 2 of the target holds a lone continuation byte after "zw".
        let de = try Self.write(Array("ein mann\nzw".utf8) + [0x80] + Array("ei\ndrei\n".utf8), "train.de", in: directory)
        let tsv = try Self.write(Array("a\tb\nc\td\ne\tf".utf8) + [0xC3, 0x28] + [0x0A], "pairs.tsv", in: directory)
        let encoder = try Self.encoder(Self.english)
        #expect(throws: TextError.invalidUTF8(file: de, line: 2, column: 3, offset: 11)) {
            try ParallelCorpus.read(source: en, target: de, sourceEncoder: encoder, targetEncoder: encoder)
        }
        #expect(throws: TextError.invalidUTF8(file: tsv, line: 3, column: 4, offset: 11)) {
            try ParallelCorpus.read(tsv: tsv, sourceEncoder: encoder, targetEncoder: encoder)
        }
    }

    @Test func emptyCorpusIsAnError() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write("", "empty.en", in: directory)
        let de = try Self.write("", "empty.de", in: directory)
        let tsv = try Self.write("", "empty.tsv", in: directory)
        let encoder = try Self.encoder(Self.english)
        #expect(throws: ParallelCorpusError.emptyCorpus(file: en)) {
            try ParallelCorpus.read(source: en, target: de, sourceEncoder: encoder, targetEncoder: encoder)
        }
        #expect(throws: ParallelCorpusError.emptyCorpus(file: tsv)) {
            try ParallelCorpus.read(tsv: tsv, sourceEncoder: encoder, targetEncoder: encoder)
        }
        // Lines that the filters all drop.
        let blank = try Self.write("\t\n\t\n", "blank.tsv", in: directory)
        var report = ParallelCorpus.Report()
        report.lines = 2
        report.tooShort = 2
        #expect(throws: ParallelCorpusError.nothingKept(file: blank, report: report)) {
            try ParallelCorpus.read(tsv: blank, sourceEncoder: encoder, targetEncoder: encoder)
        }
    }

    @Test func anUnreadableFileIsNamedBeforeAnythingIsRead() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        let missing = directory.file("missing.de").path
        let encoder = try Self.encoder(Self.english)
        #expect(throws: TextError.unreadable(file: missing, reason: "No such file or directory")) {
            try ParallelCorpus.read(source: en, target: missing, sourceEncoder: encoder, targetEncoder: encoder)
        }
    }

    // MARK: Filters

    @Test func filtersCountWhatTheyDrop() throws {
        let directory = try TemporaryDirectory()
        let pairs = [
            ("a b", "x y"),                              // kept
            ("", "x"),                                   // too short (empty source)
            ("a b c d e f", "x y"),                      // source over 5
            ("a", "x y z w v u"),                        // target over 5
            ("a", "x y z w"),                            // ratio 4 > 3
            ("a b c", "x y"),                            // kept (ratio 1.5)
            (String(repeating: "a ", count: 40), "x"),   // 80 bytes > 64: source too long, never held
            ("a", "q"),                                  // kept; "q" is not in the target vocabulary
        ]
        let tsv = try Self.write(Self.lines(pairs.map { "\($0.0)\t\($0.1)" }), "pairs.tsv", in: directory)
        let source = try Self.encoder(["a b c d e f"]), target = try Self.encoder(["x y z w v u"])
        let filter = ParallelCorpus.Filter(minimumLength: 1, maximumSourceLength: 5, maximumTargetLength: 5,
                                           maximumRatio: 3, maximumLineBytes: 64)
        let corpus = try ParallelCorpus.read(tsv: tsv, sourceEncoder: source, targetEncoder: target, filter: filter)
        var expected = ParallelCorpus.Report()
        expected.lines = 8
        expected.kept = 3
        expected.tooShort = 1
        expected.sourceTooLong = 2
        expected.targetTooLong = 1
        expected.badRatio = 1
        expected.sourceTokens = 2 + 3 + 1
        expected.targetTokens = 2 + 2 + 1
        expected.targetUnknown = 1
        #expect(corpus.report == expected)
        #expect(corpus.lineNumbers == [1, 6, 8])
        #expect(target.text(of: corpus.target(1)) == "x y\n")

        // Without filters only the empty side goes.
        let all = try ParallelCorpus.read(tsv: tsv, sourceEncoder: source, targetEncoder: target)
        #expect(all.report.kept == 7 && all.report.tooShort == 1)
        #expect(all.lineNumbers == [1, 3, 4, 5, 6, 7, 8])
    }

    @Test func theSameFilterOnTwoFiles() throws {
        let directory = try TemporaryDirectory()
        let en = try Self.write(Self.lines(Self.english), "train.en", in: directory)
        let de = try Self.write(Self.lines(Self.german), "train.de", in: directory)
        let encoder = try Self.encoder(Self.english + Self.german)
        let corpus = try ParallelCorpus.read(source: en, target: de, sourceEncoder: encoder, targetEncoder: encoder,
                                             filter: .init(maximumLength: 5))
        #expect(corpus.lineNumbers == [1, 2])
        #expect(corpus.report.sourceTooLong == 1 && corpus.report.dropped == 1)
    }

    @Test func overlongLinesAreCountedNotHeld() throws {
        let directory = try TemporaryDirectory()
        let long = String(repeating: "a b ", count: 75)  // 300 bytes
        let en = try Self.write(Self.lines(["a b", long, "b a"]), "long.en", in: directory)
        let de = try Self.write(Self.lines(["x", "y", long]), "long.de", in: directory)
        let tsv = try Self.write(Self.lines(["a b\tx", "\(long)\t\(long)", "a\ty"]), "long.tsv", in: directory)
        let encoder = try Self.encoder(["a b x y"])
        let filter = ParallelCorpus.Filter(maximumLineBytes: 64)
        let files = try ParallelCorpus.read(source: en, target: de, sourceEncoder: encoder, targetEncoder: encoder,
                                            filter: filter, chunkSize: 16)
        #expect(files.lineNumbers == [1])
        #expect(files.report.sourceTooLong == 1 && files.report.targetTooLong == 1)
        let table = try ParallelCorpus.read(tsv: tsv, sourceEncoder: encoder, targetEncoder: encoder, filter: filter,
                                            chunkSize: 16)
        #expect(table.lineNumbers == [1, 3])
        #expect(table.report.sourceTooLong == 1)
        // The TAB count of a line too long to hold is still checked.
        let bad = try Self.write(Self.lines(["a\tx", long + "\t" + long + "\t"]), "bad.tsv", in: directory)
        #expect(throws: ParallelCorpusError.tabs(file: bad, line: 2, count: 2)) {
            try ParallelCorpus.read(tsv: bad, sourceEncoder: encoder, targetEncoder: encoder, filter: filter)
        }
    }

    // MARK: Multi30k

    static var multi30k: URL? {
        guard let url = TestSupport.sharedCorpora?.appendingPathComponent("multi30k"),
              FileManager.default.fileExists(atPath: url.appendingPathComponent("train.de").path) else { return nil }
        return url
    }

    @Test(.enabled(if: multi30k != nil,
                   "needs ../shared/corpora/multi30k/train.{en,de} (absent: the shared corpora are not on this machine)"))
    func firstThousandPairsOfMulti30k() throws {
        let root = try #require(Self.multi30k)
        let directory = try TemporaryDirectory()
        func head(_ name: String) throws -> (path: String, lines: [String]) {
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            let lines = Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(1000)).map(String.init)
            return (try Self.write(Self.lines(lines), name, in: directory), lines)
        }
        let en = try head("train.en"), de = try head("train.de")
        let source = try Self.encoder(en.lines), target = try Self.encoder(de.lines)
        let corpus = try ParallelCorpus.read(source: en.path, target: de.path, sourceEncoder: source,
                                             targetEncoder: target, filter: .init(maximumLength: 50, maximumRatio: 9))
        #expect(corpus.report.lines == 1000)
        #expect(corpus.report.kept > 990)
        #expect(corpus.report.sourceUnknown == 0 && corpus.report.targetUnknown == 0)
        var batcher = try SentencePairBatcher(corpus: corpus, batchSize: 32, maxTokens: 32 * 20, seed: 7)
        var seen = [Int](repeating: 0, count: corpus.count)
        var batch = SentencePairBatch()
        var padded = 0, real = 0
        while batcher.next(into: &batch) {
            for (row, i) in batch.pairs.enumerated() {
                seen[i] += 1
                let line = corpus.lineNumbers[i] - 1
                let ids = (0..<batch.sourceLengths[row]).map { batch.source[$0 * batch.rows + row] }
                #expect(source.text(of: ids) == en.lines[line] + "\n")
                let out = (0..<batch.targetLengths[row]).map { batch.targets[$0 * batch.rows + row] }
                #expect(target.text(of: out) == de.lines[line] + "\n")
            }
            padded += batch.rows * batch.sourceSteps
            real += batch.sourceLengths.reduce(0, +)
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(Double(real) / Double(padded) > 0.9)  // sorted windows: little source padding
    }
}
