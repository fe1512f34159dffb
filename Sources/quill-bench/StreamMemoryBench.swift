import ArgumentParser
import Foundation
import Quill

/// Streams a large generated file through tokenizer + vocabulary lookup and reports peak memory (max RSS).
struct StreamMemoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream-memory",
        abstract: "Peak RSS while streaming a large generated file (default 1 GB) through tokenize + lookup.")

    @Option(help: "Size of the generated file in MB.")
    var megabytes = 1000
    @Option(help: "Where to write the generated file (removed afterwards).")
    var path = NSTemporaryDirectory() + "quill-stream-\(getpid()).txt"
    @Option(help: "Level.")
    var level: TokenLevel = .word

    func run() throws {
        try generate()
        defer { unlink(path) }
        let settings = TokenizerSettings(level: level)
        let rssBefore = peakRSSBytes()
        var builder = VocabularyBuilder(settings: settings)
        let start = Date()
        try builder.addTokens(of: TextReader(path: path))
        let vocabulary = builder.build(minCount: 2, maxSize: 30_000)
        let tokenizer = try Tokenizer(settings)
        var tokens = 0
        try tokenizer.forEachToken(in: TextReader(path: path)) { token in
            if vocabulary.id(utf8: token) >= 0 { tokens &+= 1 }
        }
        printJSON([
            "bench": "stream-memory", "megabytes": megabytes, "level": level.rawValue, "tokens": tokens,
            "distinct": builder.distinctTokens, "seconds": Date().timeIntervalSince(start),
            "peak_rss_mb_before": Double(rssBefore) / 1e6, "peak_rss_mb": Double(peakRSSBytes()) / 1e6,
        ])
    }

    /// Writes pseudo-random English-like lines (a fixed seed), so the vocabulary stays bounded like a real corpus's.
    private func generate() throws {
        guard let out = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw ValidationError("cannot write \(path)") }
        defer { try? out.close() }
        let words = ["the", "of", "and", "a", "to", "in", "is", "was", "he", "for", "it", "with", "as", "his", "on",
                     "be", "at", "by", "had", "are", "but", "from", "or", "have", "an", "they", "which", "one",
                     "café", "naïve", "Straße", "東京", "👍🏽", "don't", "3.14", "e-mail"]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var block = [UInt8]()
        block.reserveCapacity(1 << 20)
        var written = 0
        let target = megabytes * 1_000_000
        while written < target {
            block.removeAll(keepingCapacity: true)
            while block.count < (1 << 20) - 200 {
                let n = 5 + Int(next(&state) % 20)
                for i in 0..<n {
                    if i > 0 { block.append(0x20) }
                    let r = next(&state)
                    // A rare numbered word keeps a long tail of distinct tokens, as real text has.
                    if r % 97 == 0 { block.append(contentsOf: "w\(r % 200_000)".utf8) }
                    else { block.append(contentsOf: words[Int(r % UInt64(words.count))].utf8) }
                }
                block.append(contentsOf: ".\n".utf8)
            }
            out.write(Data(block))
            written += block.count
        }
    }

    private func next(_ s: inout UInt64) -> UInt64 {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return s
    }
}

/// The process's peak resident set size.
func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024  // kilobytes on Linux
}
