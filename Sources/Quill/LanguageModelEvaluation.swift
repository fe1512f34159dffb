import Foundation

/// A stored language model evaluated on a text file, as
/// ``Store/evaluateLanguageModel(named:text:batch:steps:lossy:pool:progress:)`` measures it.
///
/// Encodes as one flat object (`quill eval --format json`): `model`, `file`, `level`, `tokens`, `unknownTokens`,
/// `unknownRate`, `characters`, `replacements`, `batch`, `bptt`, `precision`, `targets`, `loss` (the mean),
/// `perplexity`, `bitsPerToken`, `bitsPerCharacter` (the keys `quill eval --format json` always printed). Decoding
/// takes the total loss as `loss · targets`, exact to rounding.
public struct TextEvaluation: Sendable, Equatable, Codable {
    /// The model's name.
    public var model: String
    /// The file evaluated.
    public var file: String
    /// The model's vocabulary's token level: `character` models report bits per character directly.
    public var level: TokenLevel
    /// Tokens of the text (with the model's vocabulary and tokenizer settings).
    public var tokens: Int
    /// Tokens outside the vocabulary (`<unk>`).
    public var unknownTokens: Int
    /// Characters of the file: Unicode extended grapheme clusters (what the `character` level calls a token), before
    /// normalization.
    public var characters: Int
    /// Replacement characters put in for invalid UTF-8 (with `lossy`).
    public var replacements: Int
    /// The cross-entropy of the predicted tokens.
    public var evaluation: Evaluation
    /// Parallel streams and steps per window the text was scored with, and the precision of the weights.
    public var batch = 1
    public var steps = 35
    public var precision = Stepper.Precision.float32

    public init(model: String, file: String, level: TokenLevel, tokens: Int, unknownTokens: Int, characters: Int,
                replacements: Int, evaluation: Evaluation, batch: Int = 1, steps: Int = 35,
                precision: Stepper.Precision = .float32) {
        self.model = model
        self.file = file
        self.level = level
        self.tokens = tokens
        self.unknownTokens = unknownTokens
        self.characters = characters
        self.replacements = replacements
        self.evaluation = evaluation
        self.batch = batch
        self.steps = steps
        self.precision = precision
    }

    enum CodingKeys: String, CodingKey {
        case model, file, level, tokens, unknownTokens, unknownRate, characters, replacements, batch, steps = "bptt"
        case precision, targets, loss, perplexity, bitsPerToken, bitsPerCharacter
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(file, forKey: .file)
        try c.encode(level, forKey: .level)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(unknownTokens, forKey: .unknownTokens)
        try c.encode(unknownRate, forKey: .unknownRate)
        try c.encode(characters, forKey: .characters)
        try c.encode(replacements, forKey: .replacements)
        try c.encode(batch, forKey: .batch)
        try c.encode(steps, forKey: .steps)
        try c.encode(precision, forKey: .precision)
        try c.encode(evaluation.targets, forKey: .targets)
        try c.encode(evaluation.meanLoss, forKey: .loss)
        try c.encode(evaluation.perplexity, forKey: .perplexity)
        try c.encode(evaluation.bitsPerToken, forKey: .bitsPerToken)
        try c.encode(bitsPerCharacter, forKey: .bitsPerCharacter)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys) throws -> T { try c.decode(T.self, forKey: key) }
        self.init(model: try value(.model), file: try value(.file), level: try value(.level), tokens: try value(.tokens),
                  unknownTokens: try value(.unknownTokens), characters: try value(.characters),
                  replacements: try value(.replacements),
                  evaluation: Evaluation(targets: try value(.targets),
                                         totalLoss: try value(.loss) as Double * Double(try value(.targets) as Int)),
                  batch: try value(.batch), steps: try value(.steps), precision: try value(.precision))
    }

    /// Share of tokens outside the vocabulary, in `0...1`.
    public var unknownRate: Double { tokens == 0 ? 0 : Double(unknownTokens) / Double(tokens) }

    /// Bits per character of the text.
    ///
    /// For a character model, the bits per token (`meanLoss / ln 2`, the usual bpc). For other levels, the nats the
    /// whole text costs at the measured mean, `meanLoss · tokens`, over `ln 2 · characters`: so word and character
    /// models of the same text compare. (The first token is never predicted, so the text's total is extrapolated from
    /// the mean rather than summed; for a character model both formulas agree.)
    public var bitsPerCharacter: Double {
        if level == .character || characters == 0 { return evaluation.bitsPerToken }
        return evaluation.meanLoss * Double(tokens) / (M_LN2 * Double(characters))
    }
}

extension Store {
    /// Evaluates a stored language model on a text file: encodes it with the model's vocabulary (whose fingerprint
    /// ``loadLanguageModel(named:vocabulary:)`` checks), then ``evaluate(model:ids:batch:steps:pool:progress:)``.
    /// - Parameters:
    ///   - text: a UTF-8 text file (not `-`: the file is read twice, for the ids and for the characters).
    ///   - batch: parallel streams; 1 (the default) gives the exact sequential perplexity.
    ///   - steps: steps per window.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    ///   - precision: `.float32` (the default) evaluates with the model itself (recurrent or convolutional);
    ///     `.bfloat16` or `.int8` (recurrent models only) with a ``Scorer`` in that precision over the same streams
    ///     (the same tokens predicted from the same contexts), to measure what the reduced precision costs.
    ///   - progress: called after each window with (windows done, windows in all).
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown model; ``LanguageModelError`` for a model that
    ///   cannot be rebuilt; ``EvaluationError`` for standard input or a text too short for `batch` streams; ``TextError`` for an unreadable file, invalid
    ///   UTF-8 (naming the line and column) or a text without tokens; ``Stepper/UnsupportedPrecision`` for a reduced
    ///   precision on a gated convolutional model.
    public func evaluateLanguageModel(named name: String, text path: String, batch: Int = 1, steps: Int = 35,
                                      lossy: Bool = false, precision: Stepper.Precision = .float32,
                                      pool: ThreadPool = .shared,
                                      progress: ((Int, Int) -> Void)? = nil) throws -> TextEvaluation {
        guard batch >= 1, steps >= 1 else { throw TrainError.invalidShape(batchSize: batch, steps: steps) }
        guard path != "-" else { throw EvaluationError.standardInput }  // read twice: for the ids, for the characters
        let (model, vocabulary) = try loadStreamLanguageModel(named: name)
        let ids = try TokenIDs.encode(file: path, vocabulary: vocabulary, lossy: lossy)
        guard ids.count >= 2 * batch else {
            throw EvaluationError.textTooShort(file: path, model: name, tokens: ids.count, batch: batch)
        }
        let (characters, replacements) = try Self.countCharacters(path: path, lossy: lossy)
        let evaluation: Evaluation
        if precision == .float32 {
            evaluation = try evaluate(model: model, ids: ids.ids, batch: batch, steps: steps, pool: pool,
                                      progress: progress)
        } else {
            guard let model = model as? LanguageModel else {
                throw Stepper.UnsupportedPrecision(precision: precision, engine: "a gated convolutional model",
                                                   supported: [.float32])
            }
            // The streams `evaluate` (its Batcher) cuts: `batch` runs of L = N / batch ids, the remainder dropped;
            // each predicts its ids 1..<L from zero state.
            let scorer = try Scorer(model: model, precision: precision, batch: batch, window: steps, pool: pool)
            let length = ids.ids.count / batch
            let streams = (0..<batch).map { Array(ids.ids[($0 * length)..<(($0 + 1) * length)]) }
            let scores = scorer.score(streams, progress: progress)
            evaluation = Evaluation(targets: scores.reduce(0) { $0 + $1.tokens },
                                    totalLoss: -scores.reduce(0) { $0 + $1.logProbability })
        }
        return TextEvaluation(model: name, file: path, level: vocabulary.settings.level, tokens: ids.count,
                              unknownTokens: ids.unknownCount, characters: characters, replacements: replacements,
                              evaluation: evaluation, batch: batch, steps: steps, precision: precision)
    }

    /// Extended grapheme clusters of a text file, streamed (chunks end after a line break, so no cluster is split),
    /// and the replacements made when `lossy`.
    static func countCharacters(path: String, lossy: Bool) throws -> (characters: Int, replacements: Int) {
        let reader = try TextReader(path: path, lossy: lossy)
        var characters = 0
        try reader.forEachChunk { chunk in
            characters += String(decoding: chunk, as: UTF8.self).count
        }
        return (characters, reader.replacements)
    }

    /// Records `loss` (nats per token, from a test text) as the test metric of the run that trained `model`, at the
    /// run's last step: `quill runs compare` then shows the test perplexity beside the validation one. A search's
    /// promoted model is a copy of its best trial, so its run is the trial's.
    /// - Returns: The run's number.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown model;
    ///   ``LanguageModelError/invalidOption(_:)`` for a model no run in this store trained (an imported one).
    @discardableResult
    public func recordTestMetric(model name: String, loss: Double) throws -> Int64 {
        var record = try model(named: name)
        let notes = (try? JSONSerialization.jsonObject(with: Data(record.hyperparametersJSON.utf8)))
            .flatMap { ($0 as? [String: Any])?["training"] as? [String: String] }
        if let trial = notes?["trial"], notes?["search"] != nil, let copied = try? model(named: trial) {
            record = copied
        }
        guard let run = try runs().last(where: { $0.modelID == record.id }) else {
            throw LanguageModelError.invalidOption("model '\(name)' was not trained in this store, so it has no run "
                + "to record a test perplexity in")
        }
        let last = try metrics(run: run.id).last
        try appendMetrics([MetricRow(runID: run.id, step: last?.step ?? 0, epoch: last?.epoch ?? 0, split: .test,
                                     loss: loss, perplexity: exp(loss))])
        return run.id
    }
}

/// Why a text cannot be evaluated (perplexity or keystroke savings).
public enum EvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is read twice (for the ids, then for the characters): it must be a file, not standard input.
    case standardInput
    /// Fewer tokens than two per stream: one to read, one to predict.
    case textTooShort(file: String, model: String, tokens: Int, batch: Int)
    /// Keystroke savings are measured for word-level models, whose suggestions are whole words.
    case characterModel(model: String)

    public var description: String {
        switch self {
        case .standardInput:
            return "evaluation reads a file, not standard input; save the text to a file first"
        case let .textTooShort(file, model, tokens, batch):
            let needs = tokens < 2 ? "at least 2 (one to read, one to predict)"
                : "at least \(2 * batch) for \(batch) streams; use a smaller batch"
            return "\(file): the text has \(tokens) token\(tokens == 1 ? "" : "s") with the vocabulary of model "
                + "'\(model)'; evaluation needs \(needs)"
        case let .characterModel(model):
            return "model '\(model)' is a character model; keystroke savings are measured for word-level models "
                + "(their suggestions are whole words)"
        }
    }
}
