import ArgumentParser
import Foundation
import Quill

/// `quill translation train`: trains an encoder-decoder with attention on two aligned files.
struct TranslationTrainCommand: StoreBackedCommand, TrainingRunCommand {
    static let openMode = Store.OpenMode.create
    static let resumePath = "quill translation train"

    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model (bi-LSTM encoder, LSTM decoder with attention) on aligned files.",
        discussion: """
            Line i of --target translates line i of --source (both UTF-8); or each line of --tsv holds a pair, \
            `source<TAB>target` (--tsv-columns target-source for the other direction). The vocabularies are \
            built from the training files and stored as NAME.source and NAME.target (or one, NAME, with \
            --joint-vocabulary), or taken from the store (--source-vocabulary, --target-vocabulary). Pairs with a \
            side longer than --max-length tokens are left out. Batches hold pairs of similar lengths, reshuffled \
            every epoch.

            The model: embeddings → bidirectional LSTM encoder (--layers, --hidden/2 units per direction) → LSTM \
            decoder (--hidden units) with Luong 'general' attention and input feeding (OpenNMT-py's default RNN \
            model); dropout, label smoothing, Adam. With --valid-source and --valid-target, the learning rate is \
            halved after an epoch whose validation loss did not improve, the model saved is the best epoch's, and \
            --patience epochs without improvement stop the run.

            Runs, metrics and checkpoints go to the store exactly as for `quill train`: Ctrl-C writes a checkpoint \
            and stops; `quill translation train --resume RUN` continues. --time-budget MINUTES ends the run when \
            that much training time is spent (the epoch in progress ends early, is validated and saved).

            Presets (--preset; any option given overrides the preset's):
            \(TranslationPreset.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

            Examples:
              quill translation train --source train.de --target train.en --valid-source val.de \\
                --valid-target val.en --name de-en --preset multi30k --time-budget 90
              quill translation train --tsv train.tsv --valid-tsv valid.tsv --tsv-columns target-source \\
                --name fr-en --preset multi30k
              quill translation train --resume 4
            """)

    @Option(help: ArgumentHelp("The training sources, one sentence per line.", valueName: "file"))
    var source: String?

    @Option(help: ArgumentHelp("The training targets, aligned with --source line by line.", valueName: "file"))
    var target: String?

    @Option(help: ArgumentHelp("Validation sources.", valueName: "file"))
    var validSource: String?

    @Option(help: ArgumentHelp("Validation targets.", valueName: "file"))
    var validTarget: String?

    @Option(help: ArgumentHelp("Training pairs from one file instead of --source and --target: `source<TAB>target` "
        + "on every line.", valueName: "file"))
    var tsv: String?

    @Option(help: ArgumentHelp("Validation pairs from one TSV file (with --tsv).", valueName: "file"))
    var validTSV: String?

    @Option(help: ArgumentHelp("The order of the TSV columns: source-target, or target-source to train the other "
        + "direction from the same files. (default: source-target)", valueName: "order"))
    var tsvColumns: TSVColumns?

    @Option(help: "The name to save the model (and its run) under.")
    var name: String?

    @Option(help: ArgumentHelp("Start from a recipe: " + TranslationPreset.all.map(\.name).joined(separator: ", ")
        + ".", valueName: "name"))
    var preset: String?

    @Option(parsing: .number,
            help: ArgumentHelp("Stop training after this many minutes (over all sessions of the run).",
                               valueName: "minutes"))
    var timeBudget: Double?

    @Option(help: ArgumentHelp("A stored vocabulary for the sources (with --target-vocabulary).", valueName: "name"))
    var sourceVocabulary: String?

    @Option(help: ArgumentHelp("A stored vocabulary for the targets (with --source-vocabulary).", valueName: "name"))
    var targetVocabulary: String?

    @Flag(help: "Build one vocabulary over both sides.")
    var jointVocabulary = false

    @Option(help: ArgumentHelp("Token level of vocabularies built from the files: word, whitespace, character (or "
        + "char) or bpe (subwords learned inside the words, with a byte fallback)."
        + " (default: word)"))
    var level: TokenLevel?

    @Option(parsing: .number,
            help: ArgumentHelp("With --level bpe: merges to learn from each side's training file (or both, with "
        + "--joint-vocabulary). (default: \(TokenizerSettings.defaultMerges))", valueName: "n"))
    var merges: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Vocabularies built from the files: keep tokens seen at least this often. (default: "
        + "1; multi30k: 2)", valueName: "n"))
    var minCount: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Vocabularies built from the files: at most this many entries.", valueName: "n"))
    var maxVocabulary: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Leave out pairs with a side longer than this many tokens. (default: 80)",
                               valueName: "n"))
    var maxLength: Int?

    @Option(parsing: .number, help: "Embedding size. (default: 256)")
    var embedding: Int?

    @Option(parsing: .number, help: "Decoder hidden size; the encoder has half per direction. Even. (default: 512)")
    var hidden: Int?

    @Option(parsing: .number, help: "Layers of the encoder and of the decoder. (default: 2)")
    var layers: Int?

    @Option(parsing: .number, help: "Dropout between layers and on the attentional output, in [0, 1). (default: 0.3)")
    var dropout: Float?

    @Option(parsing: .number, help: "Label smoothing ε of the loss, in [0, 1). (default: 0.1)")
    var labelSmoothing: Float?

    @Option(parsing: .number, help: "Parameters start uniform in ±this. (default: 0.1)")
    var initScale: Float?

    @Option(parsing: .number, help: "Sentence pairs per batch. (default: 64)")
    var batch: Int?

    @Option(parsing: .number, help: ArgumentHelp("Padded tokens per batch at most.", valueName: "n"))
    var maxTokens: Int?

    @Option(parsing: .number, help: "Passes over the training pairs. (default: 15)")
    var epochs: Int?

    @Option(help: "sgd, adam or adamw. (default: adam)")
    var optimizer: OptimizerKind?

    @Option(parsing: .number, help: "Learning rate. (default: 0.001)")
    var lr: Float?

    @Option(parsing: .number,
            help: ArgumentHelp("Multiply the rate by this after an epoch without a better validation loss. "
        + "(default: 0.5)", valueName: "factor"))
    var decay: Double?

    @Option(parsing: .number, help: "Clip the global gradient norm to this; 0 for no clipping. (default: 5)")
    var clip: Float?

    @Option(parsing: .number,
            help: ArgumentHelp("Stop after this many epochs without a better validation loss. (default: 3)",
                               valueName: "epochs"))
    var patience: Int?

    @Option(parsing: .number, help: "Seed of the initialisation, the batches and the dropout masks. (default: 1)")
    var seed: UInt64?

    @Option(parsing: .number,
            help: ArgumentHelp("Train at most this many batches per epoch (a smoke run).", valueName: "n"))
    var maxBatches: Int?

    @Option(parsing: .number, help: ArgumentHelp("Also checkpoint every this many batches.", valueName: "n"))
    var checkpointEvery: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Also checkpoint when this many minutes have passed since the last one. "
        + "(default: 10)", valueName: "minutes"))
    var checkpointMinutes: Double?

    @Flag(help: "Replace a model (and vocabularies built from the files) of the same name.")
    var replace = false

    @Option(parsing: .number,
            help: ArgumentHelp("Continue this run from its latest checkpoint, with its options.", valueName: "run"))
    var resume: Int64?

    @OptionGroup
    var store: StoreOptions

    func useVocabularyHint(_ name: String) -> String {
        "train with --source-vocabulary and --target-vocabulary to use '\(name)'"
    }

    func validate() throws {
        try validateName(name)
        if resume == nil {
            if (source == nil || target == nil) && tsv == nil {
                throw ValidationError("give the aligned training files with --source and --target, or the pairs "
                                      + "with --tsv (or --resume a run)")
            }
            if name == nil { throw ValidationError("give the model a name with --name (or --resume a run)") }
        }
        for (option, value) in [("--layers", layers), ("--hidden", hidden), ("--embedding", embedding),
                                ("--batch", batch), ("--epochs", epochs), ("--max-batches", maxBatches),
                                ("--checkpoint-every", checkpointEvery), ("--patience", patience),
                                ("--min-count", minCount), ("--max-length", maxLength), ("--max-tokens", maxTokens),
                                ("--merges", merges)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
        if merges != nil, let level, level != .bpe {
            throw ValidationError("--merges is for --level bpe (got --level \(level.rawValue))")
        }
        if let hidden, hidden % 2 != 0 { throw ValidationError("--hidden must be even (got \(hidden))") }
        try NumberRange.positive(lr, "--lr")
        try NumberRange.positive(initScale, "--init-scale")
        try NumberRange.positive(timeBudget, "--time-budget")
        try NumberRange.positive(checkpointMinutes, "--checkpoint-minutes")
        try NumberRange.nonNegative(clip, "--clip", zero: "no clipping")
        for (option, value) in [("--dropout", dropout), ("--label-smoothing", labelSmoothing)] {
            try NumberRange.within(value, option, "[0, 1)") { $0 >= 0 && $0 < 1 }
        }
        try NumberRange.within(decay, "--decay", "(0, 1]") { $0 > 0 && $0 <= 1 }
        if tsv != nil && (source != nil || target != nil) {
            throw ValidationError("give the training pairs with --tsv or with --source and --target, not both")
        }
        if validTSV != nil && tsv == nil {
            throw ValidationError("--valid-tsv goes with --tsv (with --source and --target, validate with "
                                  + "--valid-source and --valid-target)")
        }
        if tsv != nil && (validSource != nil || validTarget != nil) {
            throw ValidationError("with --tsv, give the validation pairs with --valid-tsv")
        }
        if tsvColumns != nil && tsv == nil { throw ValidationError("--tsv-columns goes with --tsv") }
        if (validSource == nil) != (validTarget == nil) {
            throw ValidationError("give both --valid-source and --valid-target, or neither")
        }
        if (sourceVocabulary == nil) != (targetVocabulary == nil) {
            throw ValidationError("give both --source-vocabulary and --target-vocabulary, or neither")
        }
        if let preset, !TranslationPreset.all.contains(where: { $0.name == preset }) {
            throw ValidationError("--preset must be one of "
                + TranslationPreset.all.map(\.name).joined(separator: ", ") + " (got '\(preset)')")
        }
    }

    /// The options: the resumed run's, or a preset's, or the defaults; then every option given.
    func training(store: Store) throws -> TranslationTraining {
        var t: TranslationTraining
        if let resume {
            t = try TranslationTraining.resuming(run: resume, in: store)
        } else {
            if let tsv {
                t = TranslationTraining(tsv: tsv, columns: tsvColumns ?? .sourceTarget, name: name!)
            } else {
                t = TranslationTraining(source: source!, target: target!, name: name!)
            }
            if let preset { t.apply(try TranslationPreset.named(preset)) }
        }
        if let source { t.source = source }
        if let target { t.target = target }
        if let name { t.name = name }
        if let validSource { t.validSource = validSource }
        if let validTarget { t.validTarget = validTarget }
        if let tsv { (t.source, t.target) = (tsv, tsv) }
        if let validTSV { (t.validSource, t.validTarget) = (validTSV, validTSV) }
        if let tsvColumns { t.tsvColumns = tsvColumns }
        if let sourceVocabulary { t.sourceVocabulary = sourceVocabulary }
        if let targetVocabulary { t.targetVocabulary = targetVocabulary }
        if jointVocabulary { t.jointVocabulary = true }
        if let level {
            var settings = t.tokenizer ?? TokenizerSettings()
            settings.level = level
            t.tokenizer = settings
        }
        if let merges {
            var settings = t.tokenizer ?? TokenizerSettings(level: .bpe)
            settings.merges = merges
            t.tokenizer = settings
        }
        if let minCount { t.minCount = minCount }
        if let maxVocabulary { t.maxVocabulary = maxVocabulary }
        if let maxLength { t.maxLength = maxLength }
        if let embedding { t.embedding = embedding }
        if let hidden { t.hidden = hidden }
        if let layers { t.layers = layers }
        if let dropout { t.dropout = dropout }
        if let labelSmoothing { t.labelSmoothing = labelSmoothing }
        if let initScale { t.initScale = initScale }
        if let batch { t.batch = batch }
        if let maxTokens { t.maxTokens = maxTokens }
        if let epochs { t.epochs = epochs }
        if let optimizer { t.optimizer = optimizer }
        if let lr { t.learningRate = lr }
        if let decay { t.decayFactor = decay }
        if let clip { t.clip = clip > 0 ? clip : nil }
        if let patience { t.patience = patience }
        if let seed { t.seed = seed }
        if let maxBatches { t.maxBatchesPerEpoch = maxBatches }
        if let timeBudget { t.timeBudget = timeBudget }
        if let checkpointEvery { t.checkpointEvery = checkpointEvery }
        if let checkpointMinutes { t.checkpointMinutes = checkpointMinutes }
        t.replace = replace
        return t
    }

    func run() throws {
        try run(store: try openStore(resuming: resume))
    }

    func run(store: Store) throws {
        let training = try training(store: store)
        let result = try train(epochs: training.epochs) { progress, epochEnd, shouldStop in
            try training.run(in: store, progress: progress, epochEnd: epochEnd, shouldStop: shouldStop,
                             group: Job.group)
        }
        if Job.isFollower { return }
        if result.stoppedEarly, let saved = result.savedEpoch {
            note("early stopping: validation loss has not improved for \(training.patience ?? 0) epochs; the model "
                + "of epoch \(saved) is saved")
        }
        if result.budgetSpent { note("the time budget of \(training.timeBudget ?? 0) minutes is spent") }
        print(Self.summary(of: result, training: training))
    }

    /// The last line on standard output: what was trained and saved, and the run's number.
    static func summary(of result: TranslationTraining.Result, training t: TranslationTraining) -> String {
        let report = result.trainReport
        var line = "model '\(shown(t.name))': bi-LSTM \(t.layers)×\(t.hidden) with attention, "
            + "\(result.parameterCount) parameters, vocabularies '\(shown(result.sourceVocabulary))' and "
            + "'\(shown(result.targetVocabulary))'; "
            + "\(report.kept) training pairs (\(report.dropped) left out), \(report.targetTokens) target tokens"
        if let last = result.epochs.last {
            line += "; \(result.epochs.count) epoch" + (result.epochs.count == 1 ? "" : "s") + ", train perplexity "
                + String(format: "%.2f", last.trainPerplexity)
            if let valid = last.validPerplexity { line += ", valid " + String(format: "%.2f", valid) }
        }
        if let saved = result.savedEpoch, saved != result.epochs.last?.epoch { line += "; saved epoch \(saved)" }
        return line + "; run #\(result.runID); " + String(format: "%.1f s", result.seconds)
    }
}

extension TSVColumns: ExpressibleByArgument {}
