import ArgumentParser
import Foundation
import Quill
import QuillTrain

/// Build, store, load and query a Kneser-Ney n-gram model on a word-level corpus (PTB, WikiText-2): seconds for each
/// step, n-gram probabilities per second, and the test perplexity.
struct NGramBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ngram",
        abstract: "Build a Kneser-Ney n-gram model (whitespace-level vocabulary from --train), store and load it, and "
            + "time queries over --test; prints one JSON line.",
        discussion: """
            Example (WikiText-2, the issue's speed targets: build ≤ 10 s, ≥ 2 M probabilities/s, load ≤ 1 s):
              swift run -c release quill-bench ngram --train ../shared/corpora/wikitext2/wiki.train.tokens \\
                --test ../shared/corpora/wikitext2/wiki.test.tokens
            """)

    @Option(help: ArgumentHelp("The training text, one sentence a line.", valueName: "file"))
    var train: String
    @Option(help: ArgumentHelp("The text scored for perplexity and query speed.", valueName: "file"))
    var test: String
    @Option(help: "The largest n.")
    var order = 5
    @Option(help: "modified or plain.")
    var smoothing: KneserNeyModel.Smoothing = .modified
    @Option(help: "Score the test text this many times for the query rate.")
    var repeats = 5

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quill-bench-ngram-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("bench.sqlite").path)
        let vocabulary = try store.buildVocabulary(corpus: train, name: "words",
                                                   settings: TokenizerSettings(level: .whitespace)).vocabulary
        let sentences = NGramSentences(vocabulary: vocabulary)

        var clock = Date()
        let trainIDs = sentences.sentences(try TokenIDs.encode(file: train, vocabulary: vocabulary).ids)
        let encodeSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        let built = KneserNeyModel(sentences: trainIDs, boundary: vocabulary.lineBreakID,
                                   vocabularySize: vocabulary.count, order: order, smoothing: smoothing)
        let buildSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        try store.saveNGramModel(built, name: "kn", vocabulary: "words", tokens: trainIDs.count)
        let saveSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        _ = try store.tensors(ofModel: try store.model(named: "kn").id)
        let readSeconds = Date().timeIntervalSince(clock)  // the SQLite part of a load
        clock = Date()
        let model = try store.loadNGramModel(named: "kn", vocabulary: vocabulary).model
        let loadSeconds = Date().timeIntervalSince(clock)

        let testIDs = sentences.sentences(try TokenIDs.encode(file: test, vocabulary: vocabulary).ids)
        let boundary = vocabulary.lineBreakID
        var loss = 0.0
        clock = Date()
        for _ in 0..<repeats {
            loss = 0
            var state = model.sentenceStart
            for id in testIDs {
                loss -= Double(log(model.score(id, state: &state)))
                if id == boundary { state = model.sentenceStart }
            }
        }
        let querySeconds = Date().timeIntervalSince(clock)
        printJSON([
            "bench": "ngram", "train": train, "test": test, "order": order, "smoothing": smoothing.rawValue,
            "vocabulary": vocabulary.count, "train_tokens": trainIDs.count,
            "ngrams": (1...order).map { model.gramCount(order: $0) }.reduce(0, +),
            "encode_seconds": encodeSeconds, "build_seconds": buildSeconds, "save_seconds": saveSeconds,
            "load_seconds": loadSeconds, "load_read_tensors_seconds": readSeconds,
            "queries_per_second": Double(testIDs.count * repeats) / querySeconds,
            "test_tokens": testIDs.count, "test_perplexity": exp(loss / Double(testIDs.count)),
        ])
    }
}

extension KneserNeyModel.Smoothing: ExpressibleByArgument {}
