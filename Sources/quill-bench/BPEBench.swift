import ArgumentParser
import Foundation
import Quill

/// BPE learning time and encoding throughput, the figures the issue compares with SentencePiece
/// (`scripts/bench-bpe.sh` runs both).
struct BPEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpe",
        abstract: "Seconds to learn N BPE merges from a file, and MB/s (one core) of encoding it with them.")

    @Option(help: "The corpus (default: WikiText-2 train from ../shared/corpora).")
    var file: String?
    @Option(help: "Merges to learn.")
    var merges = 8000
    @Option(help: "Normalization.")
    var normalization: Normalization = .nfc
    @Option(help: "Timed repeats per measure (the median is reported).")
    var repeats = 5

    func run() throws {
        let root = ProcessInfo.processInfo.environment["QUILL_SHARED_CORPORA"] ?? "../shared/corpora"
        let path = file ?? "\(root)/wikitext2/wiki.train.tokens"
        let settings = TokenizerSettings(level: .bpe, normalization: normalization, merges: merges)
        let bytes = try TextReader(path: path).totalBytes ?? 0

        // Learning, the whole way a corpus takes: read, pre-tokenize and count words, learn merges.
        var countSeconds: [Double] = [], learnSeconds: [Double] = [], totalSeconds: [Double] = []
        var learned: Vocabulary?
        var words = 0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            var builder = VocabularyBuilder(settings: settings)
            try builder.addTokens(of: TextReader(path: path))
            let counted = DispatchTime.now().uptimeNanoseconds
            learned = builder.build()
            let end = DispatchTime.now().uptimeNanoseconds
            words = builder.distinctTokens
            countSeconds.append(Double(counted - start) / 1e9)
            learnSeconds.append(Double(end - counted) / 1e9)
            totalSeconds.append(Double(end - start) / 1e9)
        }
        let vocabulary = learned!

        // Encoding: read, pre-tokenize, split into subword ids; a fresh encoder (empty word cache) per repeat. Each
        // repeat also times the word level alone (the same reading and ICU pass, one lookup per word): the ceiling,
        // measured right after so that both see the same load on a shared machine.
        let wordSettings = TokenizerSettings(level: .word, normalization: normalization)
        var wordBuilder = VocabularyBuilder(settings: wordSettings)
        try wordBuilder.addTokens(of: TextReader(path: path))
        let wordVocabulary = wordBuilder.build()
        var encodeSeconds: [Double] = [], wordSeconds: [Double] = []
        var ids = 0, byteFallbacks = 0
        for _ in 0..<repeats {
            let encoder = try TextEncoder(vocabulary)
            ids = 0; byteFallbacks = 0
            var start = DispatchTime.now().uptimeNanoseconds
            try encoder.forEachID(in: TextReader(path: path)) { id in
                ids &+= 1
                if vocabulary.byte(of: id) != nil { byteFallbacks &+= 1 }
            }
            encodeSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)

            let wordEncoder = try TextEncoder(wordVocabulary)
            var n = 0
            start = DispatchTime.now().uptimeNanoseconds
            try wordEncoder.forEachID(in: TextReader(path: path)) { _ in n &+= 1 }
            wordSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        func median(_ s: [Double]) -> Double { s.sorted()[s.count / 2] }
        func mbPerSecond(_ seconds: Double) -> Double { Double(bytes) / 1e6 / seconds }
        let subwords: Int = Set(vocabulary.merges.map { $0.left + $0.right }).count
        let characters: Int = vocabulary.count - 4 - Vocabulary.byteTokenCount - subwords
        let learning: [String: Any] = [
            "learn_total_seconds_median": median(totalSeconds), "learn_total_seconds_min": totalSeconds.min()!,
            "learn_total_seconds_max": totalSeconds.max()!,
            "count_words_seconds_median": median(countSeconds), "learn_merges_seconds_median": median(learnSeconds),
        ]
        let encoding: [String: Any] = [
            "encode_ids": ids, "encode_byte_fallbacks": byteFallbacks,
            "encode_mb_per_s_median": mbPerSecond(median(encodeSeconds)),
            "encode_mb_per_s_min": mbPerSecond(encodeSeconds.max()!),
            "encode_mb_per_s_max": mbPerSecond(encodeSeconds.min()!),
            "word_level_mb_per_s_median": mbPerSecond(median(wordSeconds)),
        ]
        let header: [String: Any] = [
            "bench": "bpe", "file": (path as NSString).lastPathComponent, "bytes": bytes, "repeats": repeats,
            "merges_asked": merges, "merges_learned": vocabulary.merges.count, "vocabulary": vocabulary.count,
            "characters": characters, "distinct_words": words,
        ]
        printJSON(header.merging(learning) { a, _ in a }.merging(encoding) { a, _ in a })
    }
}
