import ArgumentParser
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
                printJSON([
                    "bench": "tokenize", "file": (path as NSString).lastPathComponent, "level": level.rawValue,
                    "normalization": normalization.rawValue, "case_fold": caseFold, "bytes": bytes,
                    "tokens": tokens, "unknown": unknown, "vocabulary": vocabulary.count,
                    "seconds_median": median, "seconds_min": seconds[0], "seconds_max": seconds.last!,
                    "mb_per_s": Double(bytes) / 1e6 / median,
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

/// Prints one JSON object on one line, keys sorted.
func printJSON(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
