import ArgumentParser
import CICU
import Foundation
import Quill

/// Tokenization + vocabulary lookup throughput, the tokenizer's hot path, on real corpora.
struct TokenizeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "MB/s (one core) of reading + tokenizing + looking up ids, per corpus and level.")

    @Option(help: "Corpus files (default: PTB train and Tiny Shakespeare from ../shared/corpora).")
    var file: [String] = []
    @Option(help: "Levels to measure.")
    var level: [TokenLevel] = [.word, .whitespace, .character]
    @Option(help: "Normalization.")
    var normalization: Normalization = .nfc
    @Flag(help: "Case folding.")
    var caseFold = false
    @Option(help: "Timed repeats per measure (the median is reported).")
    var repeats = 5

    func run() throws {
        let files = file.isEmpty ? BenchCorpora.defaultFiles() : file
        if files.isEmpty { throw ValidationError("no corpus found: pass --file or put ../shared/corpora beside the repo") }
        for path in files {
            for level in level {
                let settings = TokenizerSettings(level: level, normalization: normalization, caseFold: caseFold)
                var builder = VocabularyBuilder(settings: settings)
                try builder.addTokens(of: TextReader(path: path))
                let vocabulary = builder.build(maxSize: 50_000)
                let tokenizer = try Tokenizer(settings)
                let bytes = try TextReader(path: path).totalBytes ?? 0
                var seconds: [Double] = []
                var tokens = 0
                var unknown = 0
                for _ in 0..<repeats {
                    tokens = 0; unknown = 0
                    let reader = try TextReader(path: path)
                    let start = DispatchTime.now().uptimeNanoseconds
                    try tokenizer.forEachToken(in: reader) { token in
                        tokens &+= 1
                        if vocabulary.id(utf8: token) == Vocabulary.unknownID { unknown &+= 1 }
                    }
                    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                seconds.sort()
                let median = seconds[seconds.count / 2]
                let icu = level == .whitespace ? nil : try ICUBreakPeer.secondsMedian(
                    path: path, kind: level == .word ? .word : .character, locale: settings.locale, repeats: repeats)
                printJSON([
                    "bench": "tokenize", "file": (path as NSString).lastPathComponent, "level": level.rawValue,
                    "normalization": normalization.rawValue, "case_fold": caseFold, "bytes": bytes,
                    "tokens": tokens, "unknown": unknown, "vocabulary": vocabulary.count,
                    "seconds_median": median, "seconds_min": seconds[0], "seconds_max": seconds.last!,
                    "mb_per_s": Double(bytes) / 1e6 / median,
                    "icu_break_only_mb_per_s": icu.map { Double(bytes) / 1e6 / $0 } ?? NSNull(),
                    "ratio_to_icu_break_only": icu.map { $0 / median } ?? NSNull(),
                ])
            }
        }
    }
}

enum BenchCorpora {
    /// The shared corpora beside the repository, when present.
    static func defaultFiles() -> [String] {
        let root = ProcessInfo.processInfo.environment["QUILL_SHARED_CORPORA"] ?? "../shared/corpora"
        return ["ptb/ptb.train.txt", "tinyshakespeare/input.txt"]
            .map { "\(root)/\($0)" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}

/// The peer: ICU's break iterator alone over the same text, already in UTF-16 in memory, only counting boundaries.
/// Quill's tokenizer does more (reads, validates, normalizes, transcodes, applies the whitespace scheme, looks up
/// ids), so this is its ceiling when it uses ICU.
enum ICUBreakPeer {
    enum Kind: Int32 { case character = 0, word = 1 }

    static func secondsMedian(path: String, kind: Kind, locale: String, repeats: Int) throws -> Double {
        let text = Array(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).utf16)
        var status: Int32 = 0
        guard let iterator = quill_break_open(kind.rawValue, locale, &status) else {
            throw ValidationError("ICU break iterator failed: \(status)")
        }
        defer { quill_break_close(iterator) }
        var out = [Int32](repeating: 0, count: 4096)
        var seconds: [Double] = []
        var boundaries = 0
        for _ in 0..<repeats {
            boundaries = 0
            let start = DispatchTime.now().uptimeNanoseconds
            text.withUnsafeBufferPointer { p in
                quill_break_set_text(iterator, p.baseAddress, Int32(p.count), &status)
                while true {
                    let n = Int(quill_break_fill(iterator, &out, Int32(out.count)))
                    if n == 0 { break }
                    boundaries &+= n
                }
            }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        precondition(boundaries > 0)
        return seconds.sorted()[seconds.count / 2]
    }
}
