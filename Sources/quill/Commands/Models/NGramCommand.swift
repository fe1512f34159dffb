import ArgumentParser
import Foundation
import Quill

/// `quill ngram`: interpolated Kneser-Ney n-gram models, the baseline a recurrent model is compared with and a prior
/// mixed into its suggestions (`quill complete --mix`).
struct NGramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ngram",
        abstract: "Train and evaluate n-gram models (interpolated Kneser-Ney), the baseline for recurrent models.",
        discussion: """
            Example:
              quill ngram train --corpus ptb.train.txt --vocabulary ptb-small --order 4 --name ptb-4gram
              quill ngram eval --model ptb-4gram --text ptb.valid.txt
              quill complete --model ptb-small --mix ptb-4gram
            """,
        subcommands: [NGramTrainCommand.self, NGramEvalCommand.self])
}

/// `quill ngram train`: counts a corpus's n-grams with a stored vocabulary and stores the model.
struct NGramTrainCommand: StoreBackedCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Count the n-grams of a corpus and store an interpolated Kneser-Ney model.",
        discussion: """
            The corpus is encoded with the stored vocabulary (line breaks are tokens, as for the recurrent models), \
            and every n-gram up to --order is counted: counts at the highest order, continuation counts below it, \
            one absolute discount per order from its counts of counts. The model is stored as its n-grams and counts \
            (docs/store.md), under the vocabulary, so it can be mixed into any model of that vocabulary.
            """)
    static var openMode: Store.OpenMode { .readWrite }

    @Option(help: ArgumentHelp("The UTF-8 training text.", valueName: "file"))
    var corpus: String

    @Option(help: "A stored vocabulary to encode the corpus with (at most 65,536 entries).")
    var vocabulary: String

    @Option(parsing: .number, help: "The largest n: 1…4.")
    var order = 4

    @Option(help: "The name to store the model under.")
    var name: String

    @Flag(help: "Replace a model of the same name.")
    var replace = false

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if !(1...4).contains(order) { throw ValidationError("--order must be 1…4 (got \(order))") }
        try validateName(name)
    }

    func run(store: Store) throws {
        let start = Date()
        let (model, tokens) = try store.trainNGramModel(corpus: corpus, vocabulary: vocabulary, order: order,
                                                        model: name, replace: replace, lossy: lossy)
        let grams = (1...model.order).map { model.grams(order: $0).count }
        print("saved n-gram model '\(shown(name))': order \(model.order), \(tokens) tokens counted, "
            + grams.enumerated().map { "\($1) \($0 + 1)-grams" }.joined(separator: ", ")
            + String(format: " (%.1f s)", Date().timeIntervalSince(start)))
    }
}

/// `quill ngram eval`: the perplexity of a stored n-gram model on a text.
struct NGramEvalCommand: StoreBackedCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a stored n-gram model on a text file: loss, perplexity and bits per token.",
        discussion: """
            Every token is scored from the ones before it, the first from the start of a line, as `quill eval \
            --batch 1` scores a recurrent model: the two perplexities compare.
            """)

    @Option(help: "The stored n-gram model.")
    var model: String

    @Option(help: ArgumentHelp("The UTF-8 text file to evaluate on.", valueName: "file"))
    var text: String

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @Option(help: "text: aligned fields; json: one JSON object.")
    var format: EvalCommand.Format = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let result = try store.evaluateNGramModel(named: model, text: text, lossy: lossy)
        let perplexity = exp(result.loss)
        switch format {
        case .text:
            print(table([
                ["model:", model],
                ["text:", "\(text): \(result.tokens) tokens"],
                ["loss:", String(format: "%.4f nats per token", result.loss)],
                ["perplexity:", String(format: "%.2f", perplexity)],
                ["bits per token:", String(format: "%.4f", result.loss / log(2))],
            ]))
        case .json:
            print(try jsonLine([
                "model": model, "file": text, "tokens": result.tokens, "loss": result.loss,
                "perplexity": perplexity, "bits_per_token": result.loss / log(2),
            ]))
        }
    }
}
