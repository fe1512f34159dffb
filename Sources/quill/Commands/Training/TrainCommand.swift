import ArgumentParser
import Foundation
import Quill

/// `--cell lstm|gru|rnn|gcnn`: the library's enum of what `train` builds, with the Elman RNN spelled `rnn`.
extension ModelCell: ExpressibleByArgument {
    public init?(argument: String) {
        if argument == "rnn" {
            self = .rnnTanh
        } else if let cell = ModelCell(rawValue: argument), cell != .rnnTanh {
            self = cell
        } else {
            return nil
        }
    }

    /// How `--cell` spells it.
    var argumentName: String { self == .rnnTanh ? "rnn" : rawValue }

    public static var allValueStrings: [String] { allCases.map(\.argumentName) }
}

extension OptimizerKind: ExpressibleByArgument {}

extension LearningRateSchedule.Kind: ExpressibleByArgument {}
extension LossReduction: ExpressibleByArgument {}

/// `quill train`: trains a language model on a corpus and saves it in the store.
struct TrainCommand: StoreBackedCommand, TrainingRunCommand {
    static let resumePath = "quill train"

    func useVocabularyHint(_ name: String) -> String { "train with --vocabulary \(name) to use it" }

    /// A new run creates the store; a resumed one needs it to exist (see ``run()``).
    static let openMode = Store.OpenMode.create

    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a recurrent language model on a corpus and save it in the store.",
        discussion: """
            Encodes the corpus with a stored vocabulary (--vocabulary), or builds one from the corpus at --level \
            and stores it under the model's name; then trains by truncated backpropagation through time (--batch \
            parallel streams, windows of --bptt steps). A progress bar on standard error shows the epoch, window, \
            loss, perplexity, tokens/s and ETA; each epoch ends with one summary line. With --valid, the model \
            saved is the epoch with the best validation perplexity.

            The run, its metrics and its checkpoints are recorded in the store. A checkpoint is written at each \
            epoch's end, every --checkpoint-minutes and every --checkpoint-every windows. Ctrl-C or SIGTERM writes \
            one and stops (a second Ctrl-C quits at once); `quill train --resume RUN` continues from the latest, \
            ending exactly as if never stopped. On resume only --epochs, --lr, --clip, --patience and --time-budget may change.

            Built with MPI (scripts/build-mpi.sh), `mpirun -np N quill train …` trains on N processes, each a share \
            of --batch (a multiple of N), rank 0 alone writing the store (docs/scale-out.md).

            Presets (--preset; any option given overrides the preset's):
            \(TrainingPreset.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

            Examples:
              quill train --corpus corpora/default/train.txt --valid corpora/default/valid.txt --name tiny \\
                --hidden 128 --epochs 2
              quill train --preset ptb-small --corpus ptb.train.txt --valid ptb.valid.txt --name ptb
              quill train --preset char-shakespeare --corpus shakespeare.txt --name bard --epochs 5
              quill train --corpus wiki.train.tokens --name wiki-bpe --level bpe --merges 8000
              quill train --resume 3
            """)

    @Option(help: ArgumentHelp("The training corpus, a UTF-8 text file.", valueName: "file"))
    var corpus: String?

    @Option(help: ArgumentHelp("A validation text file: perplexity after each epoch; the best epoch's model is kept.",
                               valueName: "file"))
    var valid: String?

    @Option(help: ArgumentHelp("A stored vocabulary to encode the text with. (default: build one from the corpus and "
        + "store it under the model's name)", valueName: "name"), completion: StoreNameCompletion.vocabularies)
    var vocabulary: String?

    @Option(help: "The name to save the model (and its run) under.")
    var name: String?

    @Option(help: ArgumentHelp("Start from a recipe: "
        + TrainingPreset.all.map(\.name).joined(separator: ", ") + ".", valueName: "name"))
    var preset: String?

    @Option(help: ArgumentHelp("Token level of a vocabulary built from the corpus: word, whitespace, character (or "
        + "char) or bpe (subwords learned by byte-pair encoding inside the words, with a byte fallback)."
        + " (default: word)"))
    var level: TokenLevel?

    @Option(parsing: .number, help: ArgumentHelp("With --level bpe: merges to learn from the corpus. "
        + "(default: \(TokenizerSettings.defaultMerges))", valueName: "n"))
    var merges: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Vocabulary built from the corpus: keep tokens seen at least this often.",
                               valueName: "n"))
    var minCount: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Vocabulary built from the corpus: at most this many entries.", valueName: "n"))
    var maxVocabulary: Int?

    @Option(help: """
        The recurrent cell: lstm, gru or rnn (Elman, tanh); or gcnn, a gated convolutional model (Dauphin et al. \
        2017: --layers residual blocks of --hidden channels, causal convolutions --width steps wide). \
        (default: lstm)
        """)
    var cell: ModelCell?

    @Option(parsing: .number, help: "Stacked recurrent layers, or gcnn blocks. (default: 1)")
    var layers: Int?

    @Option(parsing: .number, help: "Hidden size, or gcnn channels. (default: 128)")
    var hidden: Int?

    @Option(parsing: .number, help: "gcnn only: steps each convolution sees, itself included. (default: 4)")
    var width: Int?

    @Option(parsing: .number, help: "Embedding size. (default: the hidden size)")
    var embedding: Int?

    @Flag(inversion: .prefixedNo, help: "Tie the input embedding and the output layer (needs embedding = hidden).")
    var tie: Bool?

    @Option(parsing: .number, help: "Dropout between layers while training, in [0, 1). (default: 0)")
    var dropout: Float?

    @Option(help: """
        The arithmetic of the matrix products: float32, or bfloat16 (mixed precision: bfloat16 operands, float32 \
        weights, optimizer state and sums; about 1.4× faster on a CPU with AVX512_BF16, see docs/performance.md). \
        (default: float32)
        """)
    var precision: Precision?

    @Option(parsing: .number, help: "Parameters start uniform in ±this. (default: 0.1)")
    var initScale: Float?

    @Option(parsing: .number, help: "BPTT window: steps per window. (default: 20)")
    var bptt: Int?

    @Option(parsing: .number, help: "Parallel streams per window. (default: 20)")
    var batch: Int?

    @Option(parsing: .number, help: "Passes over the corpus. (default: 1)")
    var epochs: Int?

    @Option(help: "sgd, adam or adamw. (default: adam)")
    var optimizer: LanguageModelTraining.Optimizer?

    @Option(parsing: .number,
            help: ArgumentHelp("Learning rate of the first epoch. (default: 0.003 for adam and adamw; sgd: 20 with "
        + "--loss mean, 1 with --loss sum)"))
    var lr: Float?

    @Option(parsing: .number, help: "SGD momentum. (default: 0)")
    var momentum: Float?

    @Flag(help: "SGD with Nesterov momentum (needs --momentum).")
    var nesterov = false

    @Option(parsing: .number,
            help: "Weight decay: L2 for sgd and adam, decoupled for adamw. (default: 0; 0.01 for adamw)")
    var weightDecay: Float?

    @Option(help: ArgumentHelp("Learning-rate schedule: constant, step (decay each epoch after --decay-after) or "
        + "plateau (decay when validation stalls). (default: constant)"))
    var schedule: LearningRateSchedule.Kind?

    @Option(parsing: .number,
            help: ArgumentHelp("Step schedule: epochs at the initial rate. (default: 4)", valueName: "epochs"))
    var decayAfter: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Step and plateau schedules: multiply the rate by this at each decay. (default: 0.5)",
                               valueName: "factor"))
    var decay: Double?

    @Option(parsing: .number,
            help: ArgumentHelp("Plateau schedule: epochs without improvement before a decay. (default: 0)",
                               valueName: "epochs"))
    var decayPatience: Int?

    @Option(parsing: .number, help: "Clip the global gradient norm to this; 0 for no clipping. (default: 5)")
    var clip: Float?

    @Option(help: ArgumentHelp("Loss of a window: mean over its tokens, or sum over time of the batch mean "
        + "(Zaremba's). (default: mean)"))
    var loss: LossReduction?

    @Option(parsing: .number, help: ArgumentHelp("Stop after this many epochs without a better validation perplexity.",
                               valueName: "epochs"))
    var patience: Int?

    @Option(parsing: .number, help: "Seed of the initialisation and the dropout masks. (default: 1)")
    var seed: UInt64?

    @Option(parsing: .number,
            help: ArgumentHelp("Train at most this many windows per epoch (a smoke run).", valueName: "n"))
    var maxWindows: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Stop when this many minutes of training (over all sessions of the run) have passed: "
        + "the epoch in progress ends there, is validated and is the last.", valueName: "minutes"))
    var timeBudget: Double?

    @Option(parsing: .number,
            help: ArgumentHelp("Also checkpoint every this many windows. (default: never; a resumed run keeps its "
        + "own)", valueName: "n"))
    var checkpointEvery: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Also checkpoint when this many minutes have passed since the last checkpoint. "
        + "(default: 10; a resumed run keeps its own)", valueName: "minutes"))
    var checkpointMinutes: Double?

    @Flag(help: "Replace a model (and a vocabulary built from the corpus) of the same name.")
    var replace = false

    @Option(parsing: .number,
            help: ArgumentHelp("Continue this run (its number, as printed by `quill train`) from its latest "
        + "checkpoint, with its options.", valueName: "run"))
    var resume: Int64?

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        try validateName(name)
        if resume == nil {
            if corpus == nil { throw ValidationError("give the training corpus with --corpus (or --resume a run)") }
            if name == nil { throw ValidationError("give the model a name with --name (or --resume a run)") }
        }
        for (option, value) in [("--layers", layers), ("--hidden", hidden), ("--width", width), ("--embedding", embedding),
                                ("--bptt", bptt), ("--batch", batch), ("--epochs", epochs),
                                ("--max-windows", maxWindows), ("--checkpoint-every", checkpointEvery),
                                ("--patience", patience), ("--min-count", minCount), ("--merges", merges)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
        try NumberRange.positive(lr, "--lr")
        try NumberRange.positive(initScale, "--init-scale")
        try NumberRange.positive(checkpointMinutes, "--checkpoint-minutes")
        try NumberRange.positive(timeBudget, "--time-budget")
        try NumberRange.nonNegative(clip, "--clip", zero: "no clipping")
        try NumberRange.nonNegative(weightDecay, "--weight-decay")
        try NumberRange.within(dropout, "--dropout", "[0, 1)") { $0 >= 0 && $0 < 1 }
        try NumberRange.within(momentum, "--momentum", "[0, 1)") { $0 >= 0 && $0 < 1 }
        try NumberRange.within(decay, "--decay", "(0, 1]") { $0 > 0 && $0 <= 1 }
        if nesterov, (momentum ?? 0) <= 0, resume == nil {
            throw ValidationError("--nesterov needs --momentum above 0")
        }
        if merges != nil, let level, level != .bpe {
            throw ValidationError("--merges is for --level bpe (got --level \(level.rawValue))")
        }
        if let preset, !TrainingPreset.all.contains(where: { $0.name == preset }) {
            throw ValidationError("--preset must be one of " + TrainingPreset.all.map(\.name).joined(separator: ", ")
                + " (got '\(preset)')")
        }
    }

    /// The options: the resumed run's, or a preset's, or the defaults; then every option given on the command line.
    func training(store: Store) throws -> LanguageModelTraining {
        var t: LanguageModelTraining
        if let resume {
            t = try LanguageModelTraining.resuming(run: resume, in: store)
            if let preset, preset != t.preset {
                throw CLIError("run #\(resume) was not started with --preset \(preset); leave --preset out to resume")
            }
        } else if let preset {
            t = LanguageModelTraining(preset: try TrainingPreset.named(preset), corpus: corpus!, name: name!)
        } else {
            t = LanguageModelTraining(corpus: corpus!, name: name!)
        }
        if let corpus { t.corpus = corpus }
        if let name { t.name = name }
        if let valid { t.valid = valid }
        if let vocabulary { t.vocabulary = vocabulary }
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
        if let cell { t.cell = cell }
        if let layers { t.layers = layers }
        if let hidden { t.hidden = hidden }
        if let width { t.width = width }
        if let embedding { t.embedding = embedding }
        if let tie { t.tiedEmbeddings = tie }
        if let dropout { t.dropout = dropout }
        if let precision { t.precision = precision }
        if let initScale { t.initScale = initScale }
        if let bptt { t.steps = bptt }
        if let batch { t.batch = batch }
        if let epochs { t.epochs = epochs }
        if let optimizer { t.optimizer = optimizer }
        if let lr { t.learningRate = lr }
        if let momentum { t.momentum = momentum }
        if nesterov { t.nesterov = true }
        if let weightDecay { t.weightDecay = weightDecay }
        if let schedule { t.schedule = schedule }
        if let decayAfter { t.decayAfter = decayAfter }
        if let decay { t.decayFactor = decay }
        if let decayPatience { t.decayPatience = decayPatience }
        if let clip { t.clip = clip > 0 ? clip : nil }
        if let loss { t.loss = loss }
        if let patience { t.patience = patience }
        if let seed { t.seed = seed }
        if let maxWindows { t.maxWindowsPerEpoch = maxWindows }
        if let timeBudget { t.timeBudget = timeBudget }
        // The cadence of a resumed run is its own unless given again.
        if let checkpointEvery { t.checkpointEvery = checkpointEvery }
        if let checkpointMinutes { t.checkpointMinutes = checkpointMinutes }
        t.replace = replace
        return t
    }

    /// Opens the store (creating it for a new run only: resuming a run of a store that does not exist is an
    /// error, not an empty new store), then trains.
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
            FileHandle.standardError.write(Data(("early stopping: validation perplexity has not improved for "
                + "\(training.patience ?? 0) epochs; the model of epoch \(saved) is saved\n").utf8))
        }
        if result.budgetSpent { note("the time budget of \(training.timeBudget ?? 0) minutes is spent") }
        print(Self.summary(of: result, training: training))
    }

    /// The last line on standard output: what was trained and saved, and the run's number.
    static func summary(of result: LanguageModelTraining.Result, training t: LanguageModelTraining) -> String {
        let cell = t.cell.argumentName
        guard let last = result.epochs.last else {
            return "model '\(shown(t.name))': run #\(result.runID) had already trained \(t.epochs) epoch(s); saved"
        }
        var summary = "model '\(shown(t.name))': \(cell) \(t.layers)×\(t.hidden), \(result.parameterCount) "
            + "parameters, vocabulary '\(shown(result.vocabulary))'; \(result.trainTokens) training tokens ("
            + String(format: "%.2f%%", result.unknownRate * 100) + " unknown), \(result.epochs.count) epoch"
            + (result.epochs.count == 1 ? "" : "s") + "; train perplexity "
            + String(format: "%.1f", last.trainPerplexity)
        if let validPerplexity = last.validPerplexity {
            summary += ", valid " + String(format: "%.1f", validPerplexity)
        }
        if let saved = result.savedEpoch, saved != last.epoch { summary += "; saved the model of epoch \(saved)" }
        return summary + "; run #\(result.runID); " + String(format: "%.1f s", result.seconds)
    }
}
