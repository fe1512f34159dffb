import ArgumentParser
import Foundation
import Quill

/// `quill autoencoder`: the sequence autoencoder's commands.
struct AutoencoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Sequence autoencoder: an encoder-decoder trained to reproduce each line through a fixed-size vector.",
        discussion: """
            Once trained, `quill embed` gives each line its vector and `quill anomaly` scores how badly the model \
            reproduces a line: lines unlike the training text (shuffled, another language, noise) score high.

            Examples:
              quill autoencoder train --corpus train.en --valid val.en --name ae-en --time-budget 20
              quill embed --model ae-en sentences.txt
              quill anomaly --model ae-en incoming.txt
            """,
        subcommands: [AutoencoderTrainCommand.self])
}

/// `quill autoencoder train`: the encoder-decoder without attention, its target its own input.
struct AutoencoderTrainCommand: StoreBackedCommand, TrainingRunCommand {
    static let openMode = Store.OpenMode.create
    static let resumePath = "quill autoencoder train"

    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sequence autoencoder on the lines of a corpus.",
        discussion: """
            The model is `quill translation train`'s encoder-decoder with the corpus on both sides, one vocabulary \
            (stored under the model's name), and no attention: the decoder sees a line only through the encoder's \
            final state, so that state has to hold the line. Checkpoints, --resume, runs and metrics as for every \
            training.
            """)

    @Option(help: ArgumentHelp("The training lines (UTF-8).", valueName: "file"))
    var corpus: String?

    @Option(help: ArgumentHelp("Validation lines: the best epoch's model is kept.", valueName: "file"))
    var valid: String?

    @Option(help: "The name to save the model (and its run) under.")
    var name: String?

    @Option(parsing: .number, help: ArgumentHelp("Stop training after this many minutes.", valueName: "minutes"))
    var timeBudget: Double?

    @Option(parsing: .number, help: "Passes over the lines. (default: 10)")
    var epochs: Int?

    @Option(parsing: .number, help: "Embedding size. (default: 128)")
    var embedding: Int?

    @Option(parsing: .number, help: "Decoder hidden size and vector size; even. (default: 256)")
    var hidden: Int?

    @Option(parsing: .number, help: "Layers of the encoder and of the decoder. (default: 1)")
    var layers: Int?

    @Option(parsing: .number, help: "Dropout, in [0, 1). (default: 0.1)")
    var dropout: Float?

    @Option(parsing: .number, help: "Lines per batch. (default: 64)")
    var batch: Int?

    @Option(parsing: .number, help: "Learning rate (Adam). (default: 0.002)")
    var lr: Float?

    @Option(parsing: .number, help: ArgumentHelp("Keep tokens seen at least this often in the vocabulary. (default: 2)",
                               valueName: "n"))
    var minCount: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Leave out lines longer than this many tokens. (default: 60)", valueName: "n"))
    var maxLength: Int?

    @Option(parsing: .number, help: "Seed. (default: 1)")
    var seed: UInt64?

    @Option(parsing: .number,
            help: ArgumentHelp("Train at most this many batches per epoch (a smoke run).", valueName: "n"))
    var maxBatches: Int?

    @Flag(help: "Replace a model (and its vocabulary) of the same name.")
    var replace = false

    @Option(parsing: .number, help: ArgumentHelp("Continue this run from its latest checkpoint.", valueName: "run"))
    var resume: Int64?

    @OptionGroup
    var store: StoreOptions

    func useVocabularyHint(_ name: String) -> String { "train under another --name, or pass --replace to rebuild '\(name)'" }

    func validate() throws {
        if resume == nil && (corpus == nil || name == nil) {
            throw ValidationError("give the lines with --corpus and a --name (or --resume a run)")
        }
        for (option, value) in [("--epochs", epochs), ("--embedding", embedding), ("--hidden", hidden),
                                ("--layers", layers), ("--batch", batch), ("--min-count", minCount),
                                ("--max-length", maxLength), ("--max-batches", maxBatches)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
        if let hidden, hidden % 2 != 0 { throw ValidationError("--hidden must be even (got \(hidden))") }
        try validateName(name)
        try NumberRange.within(dropout, "--dropout", "[0, 1)") { $0 >= 0 && $0 < 1 }
        try NumberRange.positive(lr, "--lr")
        try NumberRange.positive(timeBudget, "--time-budget")
    }

    func training(store: Store) throws -> TranslationTraining {
        var t: TranslationTraining
        if let resume {
            t = try TranslationTraining.resuming(run: resume, in: store)
        } else {
            t = TranslationTraining(source: corpus!, target: corpus!, name: name!)
            t.validSource = valid
            t.validTarget = valid
            t.jointVocabulary = true
            t.attention = false
            (t.embedding, t.hidden, t.layers, t.dropout, t.labelSmoothing) = (128, 256, 1, 0.1, 0)
            (t.epochs, t.learningRate, t.minCount, t.maxLength, t.patience) = (10, 0.002, 2, 60, 3)
        }
        if let epochs { t.epochs = epochs }
        if let embedding { t.embedding = embedding }
        if let hidden { t.hidden = hidden }
        if let layers { t.layers = layers }
        if let dropout { t.dropout = dropout }
        if let batch { t.batch = batch }
        if let lr { t.learningRate = lr }
        if let minCount { t.minCount = minCount }
        if let maxLength { t.maxLength = maxLength }
        if let seed { t.seed = seed }
        if let maxBatches { t.maxBatchesPerEpoch = maxBatches }
        if let timeBudget { t.timeBudget = timeBudget }
        t.replace = replace
        return t
    }

    func run() throws { try run(store: try openStore(resuming: resume)) }

    func run(store: Store) throws {
        let training = try training(store: store)
        let result = try train(epochs: training.epochs) { progress, epochEnd, shouldStop in
            try training.run(in: store, progress: progress, epochEnd: epochEnd, shouldStop: shouldStop)
        }
        if result.budgetSpent { note("the time budget of \(training.timeBudget ?? 0) minutes is spent") }
        let last = result.epochs.last
        print("model '\(training.name)': sequence autoencoder \(training.layers)×\(training.hidden), "
            + "\(result.parameterCount) parameters, vocabulary '\(result.sourceVocabulary)'; "
            + "\(result.trainReport.kept) lines; \(result.epochs.count) epochs"
            + (last.map { ", train perplexity " + String(format: "%.2f", $0.trainPerplexity) } ?? "")
            + (last?.validPerplexity.map { ", valid " + String(format: "%.2f", $0) } ?? "")
            + "; run #\(result.runID); " + String(format: "%.1f s", result.seconds))
    }
}

/// `quill embed`: one vector per input line.
struct EmbedCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print each line's vector from a stored encoder-decoder (a sequence autoencoder), as JSON Lines.",
        discussion: """
            One object per input line: {"line": N, "vector": [...]}, the encoder's final state (forward and \
            reverse halves of the top layer). Lines whose vectors are close read alike to the model.

            Example:
              quill embed --model ae-en sentences.txt > vectors.jsonl
            """)

    @Option(help: "The stored model.", completion: StoreNameCompletion.models)
    var model: String

    @Argument(help: ArgumentHelp("Lines to embed; - or none for standard input.", valueName: "file"))
    var input = "-"

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let autoencoder = try SequenceAutoencoder(try store.loadTranslationModel(named: model),
                                                  requireReconstruction: false)
        let output = OutputBuffer()
        try readLines(try LineReader(path: input)) { lines, first in
            for embedding in try autoencoder.embed(lines, firstLine: first) {
                try output.write(try jsonLine(embedding) + "\n")
            }
            try output.flush()
        }
    }
}

/// `quill anomaly`: each line's reconstruction loss.
struct AnomalyCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomaly",
        abstract: "Score lines by how badly a sequence autoencoder reproduces them (high: unlike its training text).",
        discussion: """
            One JSON object per input line: {"line", "text", "score", "tokens"}, the score being the mean negative \
            log-likelihood per token (nats) of reproducing the line. --top K prints only the K highest, highest first.

            Example:
              quill anomaly --model ae-en incoming.txt --top 20
            """)

    @Option(help: "The stored sequence autoencoder.", completion: StoreNameCompletion.models)
    var model: String

    @Option(parsing: .number,
            help: ArgumentHelp("Print only the K highest-scoring lines, highest first.", valueName: "k"))
    var top: Int?

    @Argument(help: ArgumentHelp("Lines to score; - or none for standard input.", valueName: "file"))
    var input = "-"

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run(store: Store) throws {
        let autoencoder = try SequenceAutoencoder(try store.loadTranslationModel(named: model),
                                                  requireReconstruction: true)
        let output = OutputBuffer()
        var kept: [SequenceAutoencoder.Anomaly] = []
        try readLines(try LineReader(path: input)) { lines, first in
            let scored = try autoencoder.anomalies(lines, firstLine: first)
            if let top {
                kept = Array((kept + scored).sorted { ($0.score, -$0.line) > ($1.score, -$1.line) }.prefix(top))
            } else {
                for anomaly in scored { try output.write(try jsonLine(anomaly) + "\n") }
                try output.flush()
            }
        }
        if top != nil {
            for anomaly in kept { try output.write(try jsonLine(anomaly) + "\n") }
            try output.flush()
        }
    }
}
