import Foundation

/// How to train a language model on a corpus: data, model shape, optimisation and checkpointing, as plain data.
///
///     var training = LanguageModelTraining(preset: .ptbSmall, corpus: "ptb.train.txt", name: "ptb")
///     training.valid = "ptb.valid.txt"
///     let result = try training.run(in: store) { progress in print(progress.window, progress.loss) }
///
/// The options that decide the result are the run's configuration: ``run(in:progress:epochEnd:shouldStop:)`` stores
/// them as the run's JSON, and ``resuming(run:in:)`` reads them back. Truncated BPTT (``LanguageModelObjective``: `B`
/// parallel streams, windows of `T` steps, the state carried across the windows of an epoch) through the one
/// ``TrainingLoop``.
public struct LanguageModelTraining: TrainingRunOptions, Equatable {
    /// The update rule (the one enum of optimizers, ``OptimizerKind``).
    public typealias Optimizer = OptimizerKind

    // MARK: Data

    /// The training corpus, a UTF-8 text file.
    public var corpus: String
    /// A validation text file: its perplexity is measured after each epoch, the best epoch's model is kept, and
    /// plateau schedules and early stopping follow it.
    public var valid: String?
    /// The stored vocabulary to encode the text with; `nil` builds one from the corpus with ``tokenizer`` and stores
    /// it under the model's ``name``.
    public var vocabulary: String?
    /// How to tokenize when the vocabulary is built from the corpus (word level by default). With a stored
    /// ``vocabulary`` its level must agree, when set.
    public var tokenizer: TokenizerSettings?
    /// Building the vocabulary: keep tokens seen at least this often.
    public var minCount = 1
    /// Building the vocabulary: at most this many entries (the specials included).
    public var maxVocabulary: Int?
    /// The name to save the model under (and the run's name).
    public var name: String
    /// The preset the options came from, if any (a note; the options themselves are what counts).
    public var preset: String?

    // MARK: Model

    /// A recurrent cell, or ``ModelCell/gcnn`` for a gated convolutional model.
    public var cell: ModelCell = .lstm
    /// Recurrent layers, or the convolutional model's residual blocks.
    public var layers = 1
    /// The recurrent state's width, or the convolutional model's channels.
    public var hidden = 128
    /// The convolutional model's kernel width, in steps, each included (``ModelCell/gcnn`` only; `nil` for
    /// ``defaultWidth``).
    public var width: Int?
    /// The embedding width; `nil` for ``hidden``.
    public var embedding: Int?
    /// Share the input embedding with the output layer (needs embedding width = hidden).
    public var tiedEmbeddings = false
    /// Dropout between layers while training (Zaremba et al.'s placement), in `[0, 1)`.
    public var dropout: Float = 0
    /// The arithmetic of the matrix products: ``Precision/bfloat16`` trains in mixed precision (bfloat16 GEMM
    /// operands; float32 weights, optimizer state and sums); `nil` is float32, and leaves the stored configuration as
    /// before.
    public var precision: Precision?
    /// Parameters start uniform in `±initScale` (Zaremba et al.'s small model: 0.1).
    public var initScale: Float = 0.1

    // MARK: Optimisation

    /// `T`: the BPTT window (20 as Zaremba et al.'s small model).
    public var steps = 20
    /// `B`: parallel streams (20 as Zaremba et al.'s small model).
    public var batch = 20
    public var epochs = 1
    public var optimizer = Optimizer.adam
    /// The learning rate of the first epoch; `nil` for ``defaultLearningRate``.
    public var learningRate: Float?
    /// SGD momentum (0: plain SGD).
    public var momentum: Float = 0
    /// SGD with Nesterov momentum (needs ``momentum``); `nil` is off, and leaves the stored configuration as before.
    public var nesterov: Bool?
    /// L2 penalty (SGD, Adam) or decoupled decay (AdamW); `nil` for 0, or PyTorch's 0.01 with AdamW.
    public var weightDecay: Float?
    /// How the rate changes between epochs: constant, step decay after ``decayAfter`` epochs (Zaremba), or decay when
    /// the validation loss plateaus for more than ``decayPatience`` epochs.
    public var schedule = LearningRateSchedule.Kind.constant
    /// Step decay: epochs at the initial rate before each following epoch multiplies it by ``decayFactor``.
    public var decayAfter = 4
    /// Step decay and plateau: the multiplier of each decay, in (0, 1].
    public var decayFactor = 0.5
    /// Plateau: epochs without improvement tolerated before a decay.
    public var decayPatience = 0
    /// The global gradient norm is clipped to this; `nil` for no clipping.
    public var clip: Float? = 5
    /// How a window's token losses are reduced: the mean (PyTorch), or summed over time (Zaremba et al.'s code, whose
    /// learning rate 1 assumes it).
    public var loss = LossReduction.mean
    /// Stop after this many epochs without a better validation loss; `nil` never stops early.
    public var patience: Int?
    /// Seeds the parameter initialisation and the dropout masks.
    public var seed: UInt64 = 1
    /// At most this many windows per epoch (`nil`: the whole corpus), for smoke runs.
    public var maxWindowsPerEpoch: Int?
    /// Minutes of training over all sessions of the run; when they have passed, the epoch in progress ends, is
    /// validated and is the last (`nil`: no limit). Comparing models under one budget needs it.
    public var timeBudget: Double?

    // MARK: Checkpoint cadence (stored with the run, so a resume keeps it; not a note of the model)

    /// Also checkpoint every this many windows (besides each epoch's end).
    public var checkpointEvery: Int?
    /// Also checkpoint when this many minutes have passed since the last checkpoint.
    public var checkpointMinutes: Double? = 10

    // MARK: Session (not part of the run's configuration)

    /// Overwrite a model (and a vocabulary built from the corpus) of the same name.
    public var replace = false
    /// Continue this run from its latest checkpoint instead of starting a new one; see ``resuming(run:in:)``.
    public var resume: Int64?

    public static let resumableChanges: Set<String> = ["epochs", "learningRate", "clip", "patience", "timeBudget"]
    public static let trainedModel = "a language model"

    private enum CodingKeys: String, CodingKey {
        case corpus, valid, vocabulary, tokenizer, minCount, maxVocabulary, name, preset, cell, layers, hidden,
             width, embedding, tiedEmbeddings, dropout, precision, initScale, steps, batch, epochs, optimizer, learningRate, momentum,
             nesterov, weightDecay, schedule, decayAfter, decayFactor, decayPatience, clip, loss, patience, seed,
             maxWindowsPerEpoch, timeBudget, checkpointEvery, checkpointMinutes
    }

    /// Options with the defaults above; `vocabulary` `nil` builds one from the corpus.
    public init(corpus: String, vocabulary: String? = nil, name: String) {
        self.corpus = corpus
        self.vocabulary = vocabulary
        self.name = name
    }

    /// Options set from a preset (its tokenizer, model, optimizer, schedule and shape).
    public init(preset: TrainingPreset, corpus: String, name: String) {
        self.init(corpus: corpus, name: name)
        apply(preset)
    }

    /// Sets every option a preset decides.
    public mutating func apply(_ preset: TrainingPreset) {
        self.preset = preset.name
        tokenizer = preset.tokenizer
        cell = ModelCell(preset.cell)
        layers = preset.layers
        hidden = preset.hiddenSize
        embedding = preset.embeddingSize == preset.hiddenSize ? nil : preset.embeddingSize
        tiedEmbeddings = preset.tiedEmbeddings
        dropout = Float(preset.dropout)
        initScale = Float(preset.initScale)
        optimizer = preset.optimizer
        learningRate = Float(preset.learningRate)
        weightDecay = preset.weightDecay > 0 ? Float(preset.weightDecay) : nil
        schedule = preset.schedule.kind
        decayAfter = preset.schedule.keepEpochs
        decayFactor = preset.schedule.factor
        decayPatience = preset.schedule.patience
        epochs = preset.epochs
        steps = preset.steps
        batch = preset.batchSize
        clip = preset.gradientClip > 0 ? Float(preset.gradientClip) : nil
        loss = preset.loss
    }

    /// The options run `run` was started with (its stored configuration and checkpoint cadence), set to resume it.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``TrainingRunError/notResumable(run:reason:)`` for a run that
    ///   was not started by this kind of training.
    public static func resuming(run: Int64, in store: Store) throws -> LanguageModelTraining {
        var (training, keys) = try decodeRun(run, in: store)
        // Runs recorded before the cadence was stored had the default of the time.
        if !keys.contains("checkpointMinutes") { training.checkpointMinutes = 10 }
        return training
    }

    /// The learning rate of the first epoch: ``learningRate`` or ``defaultLearningRate``.
    public var resolvedLearningRate: Float { learningRate ?? defaultLearningRate }

    /// The usual rate of the optimizer: SGD 20 with the mean loss (pytorch/examples' word_language_model) or 1 with
    /// the summed loss (Zaremba et al.); Adam and AdamW 0.003 (a little above PyTorch's 0.001: these models are small).
    public var defaultLearningRate: Float {
        switch optimizer {
        case .sgd: loss == .mean ? 20 : 1
        case .adam, .adamw: 0.003
        }
    }

    /// The weight decay used: ``weightDecay``, or 0.01 for AdamW and 0 otherwise (PyTorch's defaults).
    public var resolvedWeightDecay: Float { weightDecay ?? optimizer.defaultWeightDecay }

    /// The optimizer these options describe, for `parameters`.
    public func makeOptimizer(for parameters: ParameterSet) -> any QuillTensor.Optimizer {
        optimizer.make(for: parameters, learningRate: resolvedLearningRate, momentum: momentum,
                       nesterov: nesterov ?? false, weightDecay: resolvedWeightDecay)
    }

    /// Bytes of memory training needs, roughly: the parameters with their gradients, optimizer state and checkpoint
    /// copies; each layer's activations for a window (`T·B` rows of gates and states); the logits and their
    /// gradient (`T·B·V`). In `Double`, so absurd sizes give a figure rather than an overflow.
    public func estimatedMemory(vocabularySize: Int) -> Double {
        let (v, h, l) = (Double(vocabularySize), Double(hidden), Double(layers))
        let e = Double(embedding ?? hidden)
        let body: Double, rowFloats: Double
        if let kind = cell.recurrent {
            let g = Double(kind.gates) * h
            body = g * (e + h) + 2 * g + (l - 1) * (g * (h + h) + 2 * g)
            rowFloats = e + l * (3 * g + 3 * h)
        } else {
            let k = Double(resolvedWidth)
            body = k * 2 * h * e + 2 * h + (l - 1) * (k * 2 * h * h + 2 * h)
            rowFloats = e + l * (2 * h + h + h) + 4 * h  // padded inputs, convolution, gates; backward's scratch
        }
        let parameters = v * e + body + (tiedEmbeddings ? 0 : v * h) + v
        let copies: Double = switch optimizer {
        case .sgd: momentum != 0 ? 5 : 4
        case .adam, .adamw: 6
        }
        let rows = Double(steps) * Double(batch)
        let activations = rows * (rowFloats + 3 * v)
        return 4 * (parameters * copies + activations)
    }

    /// The kernel width of a convolutional model when ``width`` is not given: Dauphin et al.'s GCNN-8 uses 4.
    public static let defaultWidth = 4
    /// ``width``, or ``defaultWidth``.
    public var resolvedWidth: Int { width ?? Self.defaultWidth }

    /// The learning-rate schedule these options describe.
    public var resolvedSchedule: LearningRateSchedule {
        let rate = Double(resolvedLearningRate)
        return switch schedule {
        case .constant: .constant(rate)
        case .stepDecay: .stepDecay(lr: rate, keepEpochs: decayAfter, factor: decayFactor)
        case .plateau: .plateau(lr: rate, factor: decayFactor, patience: decayPatience)
        }
    }

    /// The recurrent model's shape for a vocabulary of `size` entries (nil for ``ModelCell/gcnn``).
    public func configuration(vocabularySize size: Int) -> LanguageModel.Configuration? {
        cell.recurrent.map {
            LanguageModel.Configuration(kind: $0, vocabulary: size, embedding: embedding ?? hidden, hidden: hidden,
                                        layers: layers, tiedEmbeddings: tiedEmbeddings)
        }
    }

    /// The model these options describe for a vocabulary of `size` entries, with zero parameters.
    public func makeModel(vocabularySize size: Int) throws -> any StreamLanguageModel {
        if let configuration = configuration(vocabularySize: size) { return try LanguageModel(configuration) }
        return try GatedConvolutionalLanguageModel(.init(vocabulary: size, embedding: embedding ?? hidden,
                                                         channels: hidden, blocks: layers, width: resolvedWidth))
    }

    /// Checks the options.
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` naming the option and its range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw LanguageModelError.invalidOption(message) }
        }
        try check(!name.isEmpty, "the model name must not be empty")
        try check(minCount >= 1, "the minimum count must be at least 1 (got \(minCount))")
        try check((maxVocabulary ?? 5) >= 5, "a vocabulary needs room for the 4 specials and a token")
        try check(layers >= 1, "layers must be at least 1 (got \(layers))")
        try check(hidden >= 1, "hidden size must be at least 1 (got \(hidden))")
        try check((embedding ?? 1) >= 1, "embedding size must be at least 1")
        try check(!tiedEmbeddings || (embedding ?? hidden) == hidden,
                  "tied embeddings need the embedding size (\(embedding ?? hidden)) to equal the hidden size "
                    + "(\(hidden))")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1) (got \(dropout))")
        try check((precision ?? .float32).trains,
                  "int8 is an inference format (quill eval --precision int8): train in float32 or bfloat16")
        try check(width == nil || cell == .gcnn, "the kernel width applies to the gated convolutional model only "
                    + "(cell gcnn)")
        try check(resolvedWidth >= 1, "the kernel width must be at least 1 (got \(resolvedWidth))")
        try check(cell != .gcnn || !tiedEmbeddings, "the gated convolutional model does not tie embeddings")
        try check(initScale > 0, "the initialisation scale must be positive")
        try check(steps >= 1, "the BPTT window must be at least 1 step (got \(steps))")
        try check(batch >= 1, "the batch size must be at least 1 (got \(batch))")
        try check(epochs >= 1, "epochs must be at least 1 (got \(epochs))")
        try check(resolvedLearningRate > 0 && resolvedLearningRate.isFinite, "the learning rate must be positive")
        try check(momentum >= 0 && momentum < 1, "momentum must be in [0, 1) (got \(momentum))")
        try check(momentum == 0 || optimizer == .sgd, "momentum applies to SGD only (Adam has its own)")
        try check(nesterov != true || (optimizer == .sgd && momentum > 0), "Nesterov momentum needs SGD with momentum")
        try check(resolvedWeightDecay >= 0, "weight decay must not be negative")
        try check(decayAfter >= 0, "the epochs before a step decay must not be negative")
        try check(decayFactor > 0 && decayFactor <= 1, "the decay factor must be in (0, 1] (got \(decayFactor))")
        try check(decayPatience >= 0, "the plateau patience must not be negative")
        try check(schedule != .plateau || valid != nil, "a plateau schedule follows the validation loss: give a "
                    + "validation file")
        try check((clip ?? 1) > 0, "the clipping norm must be positive")
        try check((patience ?? 1) >= 1, "early-stopping patience must be at least 1 epoch")
        try check(patience == nil || valid != nil, "early stopping follows the validation loss: give a validation "
                    + "file")
        try check((maxWindowsPerEpoch ?? 1) >= 1, "at most 0 windows per epoch would train nothing")
        try check((checkpointEvery ?? 1) >= 1, "checkpoint every 0 windows is not possible")
        try check((checkpointMinutes ?? 1) > 0, "checkpoint minutes must be positive")
        try check((timeBudget ?? 1) > 0 && (timeBudget ?? 1).isFinite,
                  "the time budget must be a positive number of minutes")
    }

    // MARK: Results

    /// Progress within an epoch, after each window (the loop's).
    public typealias Progress = TrainingProgress

    /// What one epoch measured (the loop's).
    public typealias EpochReport = QuillTrain.EpochReport

    /// What the run produced.
    public struct Result: Sendable {
        public var runID: Int64
        public var modelID: Int64
        /// The vocabulary the model uses (built from the corpus when none was named).
        public var vocabulary: String
        /// The epochs trained in this session.
        public var epochs: [EpochReport]
        /// The epoch whose parameters were saved as the model (the best validation loss, else the last).
        public var savedEpoch: Int?
        /// Whether early stopping ended the run before ``LanguageModelTraining/epochs``.
        public var stoppedEarly: Bool
        /// Whether ``LanguageModelTraining/timeBudget`` ended the run before ``LanguageModelTraining/epochs``.
        public var budgetSpent: Bool
        public var parameterCount: Int
        public var trainTokens: Int
        public var validTokens: Int?
        /// Share of training tokens outside the vocabulary.
        public var unknownRate: Double
        public var seconds: Double
    }
}
