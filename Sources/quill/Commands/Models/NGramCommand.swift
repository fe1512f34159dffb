import ArgumentParser
import Foundation
import Quill

/// `quill ngram`: interpolated (modified) Kneser-Ney n-gram models, the baseline a recurrent model is compared with and a prior
/// mixed into its suggestions (`quill complete --mix`).
struct NGramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ngram",
        abstract: "Train and evaluate n-gram models (interpolated modified Kneser-Ney), the baseline for recurrent models.",
        discussion: """
            Example:
              quill vocab build --corpus ptb.train.txt --level whitespace --name ptb-words
              quill ngram train --corpus ptb.train.txt --vocabulary ptb-words --order 5 --name ptb-kn5
              quill ngram eval --model ptb-kn5 --text ptb.test.txt
            """,
        subcommands: [NGramTrainCommand.self, NGramEvalCommand.self])
}

/// `quill ngram train`: counts a corpus's n-grams with a stored vocabulary and stores the model.
struct NGramTrainCommand: StoreBackedCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Count the n-grams of a corpus and store an interpolated Kneser-Ney model.",
        discussion: """
            The corpus is encoded with the stored vocabulary; each line with a word is a sentence <s> … </s> \
            (tokens of spaces only are not words; the line break is </s>), and every n-gram up to --order is \
            counted, without cut-offs: counts at the highest order, continuation counts below it, three discounts \
            per order (modified Kneser-Ney, Chen & Goodman 1998) or one (--smoothing plain) from its counts of \
            counts, the unigrams interpolated with the uniform distribution — SRILM's and KenLM's conventions. The \
            model is stored as its n-grams and counts (docs/store.md), under the vocabulary, so it can be mixed into \
            any model of that vocabulary.
            """)
    static var openMode: Store.OpenMode { .readWrite }

    @Option(help: ArgumentHelp("The UTF-8 training text.", valueName: "file"))
    var corpus: String

    @Option(help: "A stored vocabulary to encode the corpus with (the whitespace level for PTB and WikiText).",
            completion: StoreNameCompletion.vocabularies)
    var vocabulary: String

    @Option(parsing: .number, help: "The largest n: 1…\(KneserNeyModel.maximumOrder).")
    var order = 5

    @Option(help: "modified: three discounts per order (Chen & Goodman); plain: one.")
    var smoothing: KneserNeyModel.Smoothing = .modified

    @Option(help: "The name to store the model under.")
    var name: String

    @Flag(help: "Replace a model of the same name.")
    var replace = false

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        let maximum = KneserNeyModel.maximumOrder
        if !(1...maximum).contains(order) { throw ValidationError("--order must be 1…\(maximum) (got \(order))") }
        try validateName(name)
    }

    func run(store: Store) throws {
        let start = Date()
        let (model, tokens) = try store.trainNGramModel(corpus: corpus, vocabulary: vocabulary, order: order,
                                                        model: name, smoothing: smoothing, replace: replace,
                                                        lossy: lossy)
        let grams = (1...model.order).map { model.gramCount(order: $0) }
        print("saved n-gram model '\(shown(name))': order \(model.order), \(model.smoothing.rawValue) Kneser-Ney, "
            + "\(tokens) tokens counted, "
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
            Each line with a word is a sentence: its words and </s> are scored, the first word after <s> \
            (perplexity over words and </s>, as SRILM and KenLM count it). A model stored before sentences scores \
            every token from the ones before it, as `quill eval --batch 1` scores a recurrent model.
            """)

    @Option(help: "The stored n-gram model.", completion: StoreNameCompletion.models)
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

extension KneserNeyModel.Smoothing: ExpressibleByArgument {}
