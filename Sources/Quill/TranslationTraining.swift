import Foundation

/// Everything that decides a translation model's training run: the aligned files, the vocabularies, the model's
/// shape, the optimisation, and the run's bookkeeping. Plain data, `Codable`: the store keeps it as the run's
/// configuration, so `--resume` rebuilds exactly this.
///
/// The epochs run in the one ``QuillTrain/TrainingLoop`` (over a ``QuillTrain/TranslationObjective``), with the
/// checkpoints, resume, metrics and run records of every other model (``StoreTrainingRun``).
public struct TranslationTraining: TrainingRunOptions, Equatable {
    /// The aligned training files: line `i` of ``target`` translates line `i` of ``source``.
    public var source: String
    public var target: String
    public var validSource: String?
    public var validTarget: String?
    /// Set when the pairs come from TSV files, one pair per line: then ``source`` and ``target`` are the same file
    /// (as are ``validSource`` and ``validTarget``), its two columns in this order. `nil`: aligned files.
    public var tsvColumns: TSVColumns?
    public var name: String
    /// The preset these options started from, if any (``TranslationPreset``).
    public var preset: String?
    /// Stored vocabularies to use; `nil` builds them from the training files (stored as `<name>.source` and
    /// `<name>.target`, or `<name>` when ``jointVocabulary``).
    public var sourceVocabulary: String?
    public var targetVocabulary: String?
    /// One vocabulary built over both sides.
    public var jointVocabulary = false
    /// How new vocabularies tokenize; `nil` for Quill's default (ICU words).
    public var tokenizer: TokenizerSettings?
    /// Tokens seen fewer times are left out of a new vocabulary.
    public var minCount = 1
    /// At most this many entries in a new vocabulary (the most frequent).
    public var maxVocabulary: Int?
    /// Pairs with a side longer than this many tokens are left out of training.
    public var maxLength = 80
    public var embedding = 256
    public var hidden = 512
    public var layers = 2
    /// The decoder attends to the encoder's outputs (translation); false makes a sequence autoencoder's bottleneck.
    public var attention = true
    public var dropout: Float = 0.3
    public var labelSmoothing: Float = 0.1
    public var initScale: Float = 0.1
    /// Sentence pairs per batch at most.
    public var batch = 64
    /// Padded tokens per batch at most; `nil` for no cap.
    public var maxTokens: Int?
    public var epochs = 15
    public var optimizer = OptimizerKind.adam
    public var learningRate: Float = 0.001
    /// The learning rate is multiplied by ``decayFactor`` after each epoch whose validation loss did not improve.
    public var decayFactor = 0.5
    public var clip: Float? = 5
    /// Stop after this many epochs without a better validation loss; `nil` never stops early.
    public var patience: Int? = 3
    public var seed: UInt64 = 1
    public var maxBatchesPerEpoch: Int?
    /// Minutes of training the run may spend over all its sessions; `nil` for no limit.
    public var timeBudget: Double?
    public var checkpointEvery: Int?
    public var checkpointMinutes: Double? = 10
    /// Replace a model of the same name (and its vocabularies, when rebuilt).
    public var replace = false
    public var resume: Int64?

    public static let resumableChanges: Set<String> = ["epochs", "learningRate", "clip", "patience", "timeBudget"]
    public static let trainedModel = "a translation model"

    private enum CodingKeys: String, CodingKey {
        case source, target, validSource, validTarget, tsvColumns, name, preset, sourceVocabulary, targetVocabulary,
             jointVocabulary, tokenizer, minCount, maxVocabulary, maxLength, embedding, hidden, layers, attention, dropout,
             labelSmoothing, initScale, batch, maxTokens, epochs, optimizer, learningRate, decayFactor, clip,
             patience, seed, maxBatchesPerEpoch, timeBudget, checkpointEvery, checkpointMinutes
    }

    public init(source: String, target: String, name: String) {
        self.source = source
        self.target = target
        self.name = name
    }

    /// Pairs from a TSV file of `source TAB target` lines (`target TAB source` with ``TSVColumns/targetSource``).
    public init(tsv: String, columns: TSVColumns = .sourceTarget, name: String) {
        self.init(source: tsv, target: tsv, name: name)
        tsvColumns = columns
    }

    /// The options run `run` was started with, set to resume it.
    public static func resuming(run: Int64, in store: Store) throws -> TranslationTraining {
        try decodeRun(run, in: store).options
    }

    /// Sets every option a preset decides.
    public mutating func apply(_ preset: TranslationPreset) {
        self.preset = preset.name
        minCount = preset.minCount
        maxLength = preset.maxLength
        embedding = preset.embedding
        hidden = preset.hidden
        layers = preset.layers
        dropout = preset.dropout
        labelSmoothing = preset.labelSmoothing
        batch = preset.batch
        epochs = preset.epochs
        learningRate = preset.learningRate
        patience = preset.patience
    }

    /// The model's shape for vocabularies of these sizes.
    public func configuration(sourceVocabulary: Int, targetVocabulary: Int) -> EncoderDecoder.Configuration {
        .init(sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary, embedding: embedding,
              hidden: hidden, layers: layers, attention: attention)
    }

    /// The learning-rate schedule: halved (by ``decayFactor``) after an epoch without a better validation loss, or
    /// constant without validation data.
    public var schedule: LearningRateSchedule {
        validSource == nil ? .constant(Double(learningRate))
            : .plateau(lr: Double(learningRate), factor: decayFactor, patience: 0)
    }

    /// Checks the options.
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` naming the option and its range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw LanguageModelError.invalidOption(message) }
        }
        try check(!name.isEmpty, "the model name must not be empty")
        try check((validSource == nil) == (validTarget == nil),
                  "validation needs both a source and a target file, or neither")
        if sourceVocabulary == nil, !jointVocabulary, resume == nil {
            // The vocabularies built are stored as NAME.source and NAME.target: refused now, not after reading.
            for side in [".source", ".target"] { try StoreName.validate(name + side, kind: "vocabulary") }
        }
        try check(tsvColumns == nil || (source == target && validSource == validTarget),
                  "pairs from TSV files take the source and the target from the same file")
        try check(sourceVocabulary == nil || !jointVocabulary, "a joint vocabulary is built, not named")
        try check((sourceVocabulary == nil) == (targetVocabulary == nil),
                  "name both stored vocabularies (source and target), or neither")
        try check(minCount >= 1, "the minimum count must be at least 1 (got \(minCount))")
        try check((maxVocabulary ?? 5) >= 5, "a vocabulary needs room for the 4 specials and a token")
        try check(maxLength >= 1, "the maximum sentence length must be at least 1 token (got \(maxLength))")
        try check(layers >= 1, "layers must be at least 1 (got \(layers))")
        try check(hidden >= 2 && hidden % 2 == 0, "the hidden size must be even, half per encoder direction "
                    + "(got \(hidden))")
        try check(embedding >= 1, "embedding size must be at least 1")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1) (got \(dropout))")
        try check(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1) (got \(labelSmoothing))")
        try check(initScale > 0, "the initialisation scale must be positive")
        try check(batch >= 1, "the batch size must be at least 1 (got \(batch))")
        try check((maxTokens ?? 1) >= 1, "the token cap of a batch must be at least 1")
        try check(epochs >= 1, "epochs must be at least 1 (got \(epochs))")
        try check(learningRate > 0 && learningRate.isFinite, "the learning rate must be positive")
        try check(decayFactor > 0 && decayFactor <= 1, "the decay factor must be in (0, 1] (got \(decayFactor))")
        try check((clip ?? 1) > 0, "the clipping norm must be positive")
        try check((patience ?? 1) >= 1, "early-stopping patience must be at least 1 epoch")
        try check((maxBatchesPerEpoch ?? 1) >= 1, "at most 0 batches per epoch would train nothing")
        try check((timeBudget ?? 1) > 0, "the time budget must be positive")
        try check((checkpointEvery ?? 1) >= 1, "checkpoint every 0 batches is not possible")
        try check((checkpointMinutes ?? 1) > 0, "checkpoint minutes must be positive")
    }

    /// What a training run did.
    public struct Result: Sendable {
        public var runID: Int64
        public var modelID: Int64
        public var sourceVocabulary: String
        public var targetVocabulary: String
        public var epochs: [EpochReport]
        public var savedEpoch: Int?
        public var stoppedEarly: Bool
        /// Whether the time budget ended the run.
        public var budgetSpent: Bool
        public var parameterCount: Int
        /// The pairs kept and what the filters dropped.
        public var trainReport: ParallelCorpus.Report
        public var validPairs: Int?
        public var seconds: Double
    }

    /// Trains and saves the model, recording the run, its metrics and checkpoints in `store`, as
    /// ``LanguageModelTraining/run(in:progress:epochEnd:shouldStop:)`` does for language models.
    public func run(in store: Store, progress: ((TrainingProgress) -> Void)? = nil,
                    epochEnd: ((EpochReport) throws -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil, group: (any ProcessGroup)? = nil) throws -> Result {
        let session = try StoreTrainingRun.start(group: group, store: store) {
            try validate()
            return try TranslationSession(self, store: store, shouldStop: shouldStop, group: group)
        }
        return try session.run(progress: progress, epochEnd: epochEnd, shouldStop: shouldStop)
    }
}

/// A translation recipe: the model's shape and the optimisation, as plain data.
public struct TranslationPreset: Codable, Equatable, Sendable {
    public var name: String
    public var summary: String
    public var minCount: Int
    public var maxLength: Int
    public var embedding: Int
    public var hidden: Int
    public var layers: Int
    public var dropout: Float
    public var labelSmoothing: Float
    public var batch: Int
    public var epochs: Int
    public var learningRate: Float
    public var patience: Int?

    /// Multi30k (29k short image captions): OpenNMT-py's default RNN shape at the peer's size (2 layers, 512 units,
    /// embeddings 256), dropout 0.3, label smoothing 0.1, Adam 0.001 halved on a plateau, batches of 64 pairs, words
    /// seen at least twice.
    public static let multi30k = TranslationPreset(
        name: "multi30k", summary: "bi-LSTM 2×512 with Luong attention for Multi30k (OpenNMT-py's RNN defaults)",
        minCount: 2, maxLength: 80, embedding: 256, hidden: 512, layers: 2, dropout: 0.3, labelSmoothing: 0.1,
        batch: 64, epochs: 15, learningRate: 0.001, patience: 3)

    /// A small model for trying things in seconds.
    public static let tiny = TranslationPreset(
        name: "tiny", summary: "bi-LSTM 1×128, embeddings 64: seconds per epoch on a few thousand pairs",
        minCount: 1, maxLength: 50, embedding: 64, hidden: 128, layers: 1, dropout: 0.1, labelSmoothing: 0.1,
        batch: 32, epochs: 10, learningRate: 0.003, patience: nil)

    public static let all: [TranslationPreset] = [.multi30k, .tiny]

    /// The preset of this name.
    /// - Throws: ``QuillTrain/TrainError/unknownPreset(name:available:)``.
    public static func named(_ name: String) throws -> TranslationPreset {
        guard let preset = all.first(where: { $0.name == name }) else {
            throw TrainError.unknownPreset(name: name, available: all.map(\.name))
        }
        return preset
    }
}

/// The order of the two columns of a TSV file of sentence pairs.
public enum TSVColumns: String, Codable, Sendable, CaseIterable {
    /// `source TAB target`.
    case sourceTarget = "source-target"
    /// `target TAB source`: the same file trains the other direction.
    case targetSource = "target-source"
}

/// One session of a translation model's training run: resolves the vocabularies and the pairs, builds the model,
/// checks the run can start, and hands the epochs to the ``QuillTrain/TrainingLoop``.
final class TranslationSession: StartedRun {
    private let options: TranslationTraining
    private let store: Store
    private let start = Date()
    private let names: (source: String, target: String)
    private let train: ParallelCorpus
    private let valid: ParallelCorpus?
    private let model: EncoderDecoder
    private let loop: TrainingLoop<TranslationObjective>
    /// Rank 0's (or a single process's) store side; nil on the other ranks of a data-parallel job.
    private let recorder: StoreRecorder?
    var runID: Int64

    init(_ options: TranslationTraining, store: Store, shouldStop: (() -> Bool)? = nil,
         group: (any ProcessGroup)? = nil) throws {
        self.options = options
        self.store = store
        let sessionStart = StoreRecorder.now()
        let leads = (group?.rank ?? 0) == 0
        let resumed = try StoreTrainingRun.checkStart(name: options.name, resume: options.resume,
                                                      replace: options.replace, in: store, leads: leads) { resume in
            try options.checkResumable(try TranslationTraining.resuming(run: resume, in: store), run: resume)
        }
        // Everything up to the first write is checked first, so a failed start leaves the store as it was.
        let vocabularies = try Self.vocabularies(for: options, in: store, shouldStop: shouldStop)
        names = (vocabularies.source.name, vocabularies.target.name)
        let sourceEncoder = try TextEncoder(vocabularies.source.vocabulary)
        let targetEncoder = vocabularies.target.name == vocabularies.source.name ? sourceEncoder
            : try TextEncoder(vocabularies.target.vocabulary)
        let checkStop = { try StoreTrainingRun.checkStop(shouldStop) }
        func read(_ source: String, _ target: String, maximumLength: Int) throws -> ParallelCorpus {
            let filter = ParallelCorpus.Filter(maximumLength: maximumLength)
            guard let columns = options.tsvColumns else {
                return try ParallelCorpus.read(source: source, target: target, sourceEncoder: sourceEncoder,
                                               targetEncoder: targetEncoder, filter: filter, progress: checkStop)
            }
            return try ParallelCorpus.read(tsv: source, targetFirst: columns == .targetSource,
                                           sourceEncoder: sourceEncoder, targetEncoder: targetEncoder, filter: filter,
                                           progress: checkStop)
        }
        train = try read(options.source, options.target, maximumLength: options.maxLength)
        valid = try options.validSource.map { try read($0, options.validTarget!, maximumLength: 1_000) }

        model = try EncoderDecoder(options.configuration(sourceVocabulary: sourceEncoder.vocabulary.count,
                                                         targetVocabulary: targetEncoder.vocabulary.count))
        model.dropout = options.dropout
        model.labelSmoothing = options.labelSmoothing
        var rng = RNG(seed: options.seed)
        model.parameters.initialize(.uniform(scale: options.initScale), rng: &rng)
        let batcher = try SentencePairBatcher(corpus: train, batchSize: options.batch, maxTokens: options.maxTokens,
                                              seed: options.seed)
        let objective = TranslationObjective(model: model, batcher: batcher, validation: valid, group: group)

        try StoreTrainingRun.checkStop(shouldStop)
        if let resumed {
            runID = resumed.id
        } else if !leads {
            runID = 0  // rank 0's, once every rank has started (StoreTrainingRun.start)
        } else {
            for side in [vocabularies.source, vocabularies.target] where side.isNew {
                try store.saveVocabulary(side.vocabulary, name: side.name, replace: true)
            }
            runID = try store.createRun(name: options.name, configJSON: try options.configurationJSON(),
                                        owner: RunOwner.current)
        }
        recorder = !leads ? nil : StoreRecorder(store: store, runID: runID, name: options.name, notes: options.notes,
                                                sessionStart: sessionStart) { [model, names, name = options.name] notes in
            let wasTraining = model.isTraining
            model.isTraining = false
            defer { model.isTraining = wasTraining }
            return try store.saveTranslationModel(model, name: name, sourceVocabulary: names.source,
                                                  targetVocabulary: names.target, training: notes, replace: true)
        }
        let fingerprint = Self.fingerprint(vocabularies.source.vocabulary, vocabularies.target.vocabulary)
        let configuration = TrainingLoop<TranslationObjective>.Configuration(
            epochs: options.epochs, maxBatchesPerEpoch: options.maxBatchesPerEpoch, clipNorm: options.clip,
            schedule: options.schedule, patience: options.validSource == nil ? nil : options.patience,
            checkpointEvery: options.checkpointEvery, checkpointMinutes: options.checkpointMinutes,
            dataFingerprint: fingerprint, timeBudget: options.timeBudget.map { $0 * 60 })
        let optimizer = options.optimizer.make(for: model.parameters, learningRate: options.learningRate,
                                               weightDecay: options.optimizer.defaultWeightDecay)
        loop = TrainingLoop(objective: objective, optimizer: optimizer, configuration: configuration,
                            recorder: recorder, rng: rng.split(), group: group)
        if resumed != nil {
            try StoreTrainingRun.restoreLatestCheckpoint(run: runID, model: options.name, fingerprint: fingerprint,
                                                         loop: loop, in: store)
            if leads { try store.claimRun(runID, owner: RunOwner.current) }
        }
    }

    /// The data's fingerprint in a checkpoint: both vocabularies'.
    static func fingerprint(_ source: Vocabulary, _ target: Vocabulary) -> String {
        source.fingerprint == target.fingerprint ? source.fingerprint : source.fingerprint + "+" + target.fingerprint
    }

    typealias Side = (name: String, vocabulary: Vocabulary, isNew: Bool)

    /// The stored vocabularies the options name, or the ones built from the training files (to be stored once the
    /// run can start when `isNew`).
    private static func vocabularies(for options: TranslationTraining, in store: Store,
                                     shouldStop: (() -> Bool)?) throws
        -> (source: Side, target: Side) {
        if let source = options.sourceVocabulary, let target = options.targetVocabulary {
            return ((source, try store.vocabulary(named: source), false),
                    (target, try store.vocabulary(named: target), false))
        }
        let settings = options.tokenizer ?? TokenizerSettings()
        func side(_ name: String, texts: [StoreTrainingRun.CorpusText]) throws -> Side {
            if options.resume != nil { return (name, try store.vocabulary(named: name), false) }
            let (vocabulary, isNew) = try StoreTrainingRun.vocabulary(
                named: name, buildingFrom: texts, settings: settings, minCount: options.minCount,
                maxSize: options.maxVocabulary, replace: options.replace, in: store, shouldStop: shouldStop)
            return (name, vocabulary, isNew)
        }
        let source, target: StoreTrainingRun.CorpusText
        if let columns = options.tsvColumns {
            source = .tsvColumn(options.source, first: columns == .sourceTarget)
            target = .tsvColumn(options.target, first: columns == .targetSource)
        } else {
            (source, target) = (.file(options.source), .file(options.target))
        }
        if options.jointVocabulary {
            let joint = try side(options.name, texts: [source, target])
            return (joint, joint)
        }
        return (try side(options.name + ".source", texts: [source]),
                try side(options.name + ".target", texts: [target]))
    }

    func run(progress: ((TrainingProgress) -> Void)?, epochEnd: ((EpochReport) throws -> Void)?,
             shouldStop: (() -> Bool)?) throws -> TranslationTraining.Result {
        let (summary, modelID) = try StoreTrainingRun.train(loop, run: runID, recorder: recorder, progress: progress,
                                                            epochEnd: epochEnd, shouldStop: shouldStop)
        return TranslationTraining.Result(
            runID: runID, modelID: modelID, sourceVocabulary: names.source, targetVocabulary: names.target,
            epochs: summary.epochs, savedEpoch: summary.savedEpoch, stoppedEarly: summary.stoppedEarly,
            budgetSpent: summary.budgetSpent, parameterCount: model.parameters.parameterCount,
            trainReport: train.report, validPairs: valid?.count, seconds: Date().timeIntervalSince(start))
    }
}
