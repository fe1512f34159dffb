import Foundation

/// Trains a word-level (or any-level) language model on a corpus file with a stored vocabulary, recording the run in
/// the store: a run row, metrics per epoch, a checkpoint at each epoch end, and the final model.
///
///     var training = LanguageModelTraining(corpus: "train.txt", vocabulary: "default", name: "tiny")
///     training.valid = "valid.txt"
///     let result = try training.run(in: store) { report in print(report.epoch, report.trainPerplexity) }
///
/// Truncated BPTT through ``LanguageModelTrainer``: `B` parallel streams, windows of `T` steps, state carried across
/// the windows of an epoch, global-norm clipping, parameters initialised uniformly in ±``initScale`` from ``seed``.
public struct LanguageModelTraining: Sendable {
    /// The update rule.
    public enum Optimizer: String, Codable, Sendable, CaseIterable {
        case sgd
        case adam
    }

    /// The training corpus, a UTF-8 text file.
    public var corpus: String
    /// The stored vocabulary to encode it with.
    public var vocabulary: String
    /// The name to save the model under (and the run's name).
    public var name: String
    /// A validation text file: its perplexity is measured after each epoch.
    public var valid: String?
    public var cell: CellKind = .lstm
    public var layers = 1
    public var hidden = 128
    /// The embedding width; `nil` for ``hidden``.
    public var embedding: Int?
    /// `T`: the BPTT window (20 as Zaremba et al.'s small model).
    public var steps = 20
    /// `B`: parallel streams (20 as Zaremba et al.'s small model).
    public var batch = 20
    public var epochs = 1
    public var optimizer = Optimizer.adam
    /// The learning rate; `nil` for the optimizer's usual one: 20 for SGD (pytorch/examples' word_language_model,
    /// mean loss) and 0.003 for Adam (a little above PyTorch's 0.001, as these models are small).
    public var learningRate: Float?
    /// The global gradient norm is clipped to this (pytorch/examples uses 0.25 with SGD lr 20; 5 with Adam is loose);
    /// `nil` for no clipping.
    public var clip: Float? = 5
    /// Parameters start uniform in `±initScale` (Zaremba et al.'s small model: 0.1).
    public var initScale: Float = 0.1
    public var seed: UInt64 = 1
    /// At most this many windows per epoch (`nil`: the whole corpus), for smoke runs.
    public var maxWindowsPerEpoch: Int?
    /// Overwrite a model of the same name.
    public var replace = false
    /// Continue this run from its latest checkpoint instead of starting a new one. The options must be the run's
    /// (only ``epochs`` may differ). Checkpoints are written at epoch ends, where the recurrent state is zero, so the
    /// continued run ends bit-identical to one that was never interrupted.
    public var resume: Int64?

    public init(corpus: String, vocabulary: String, name: String) {
        self.corpus = corpus
        self.vocabulary = vocabulary
        self.name = name
    }

    /// The learning rate used: ``learningRate`` or the optimizer's default.
    public var resolvedLearningRate: Float { learningRate ?? (optimizer == .sgd ? 20 : 0.003) }

    /// Progress within an epoch, after each window.
    public struct Progress: Sendable {
        public var epoch: Int
        public var window: Int
        public var windows: Int
        public var loss: Double
        public var tokensPerSecond: Double
        public var seconds: Double
    }

    /// What one epoch measured.
    public struct EpochReport: Sendable, Equatable {
        public var epoch: Int
        /// The optimizer steps taken since the start of the run.
        public var step: Int
        /// Mean training loss per token (nats) over the epoch.
        public var trainLoss: Double
        public var trainPerplexity: Double { exp(trainLoss) }
        public var validLoss: Double?
        public var validPerplexity: Double? { validLoss.map(exp) }
        public var tokensPerSecond: Double
        public var seconds: Double
    }

    /// What the run produced.
    public struct Result: Sendable {
        public var runID: Int64
        public var modelID: Int64
        public var epochs: [EpochReport]
        public var parameterCount: Int
        public var trainTokens: Int
        public var validTokens: Int?
        /// Share of training tokens outside the vocabulary.
        public var unknownRate: Double
        public var seconds: Double
    }

    /// Checks the options.
    /// - Throws: ``LanguageModelError/invalidOption(_:)``.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw LanguageModelError.invalidOption(message) }
        }
        try check(!name.isEmpty, "the model name must not be empty")
        try check(layers >= 1, "layers must be at least 1 (got \(layers))")
        try check(hidden >= 1, "hidden size must be at least 1 (got \(hidden))")
        try check((embedding ?? 1) >= 1, "embedding size must be at least 1")
        try check(steps >= 1, "the BPTT window must be at least 1 step (got \(steps))")
        try check(batch >= 1, "the batch size must be at least 1 (got \(batch))")
        try check(epochs >= 1, "epochs must be at least 1 (got \(epochs))")
        try check(resolvedLearningRate > 0 && resolvedLearningRate.isFinite, "the learning rate must be positive")
        try check((clip ?? 1) > 0, "the clipping norm must be positive")
        try check(initScale > 0, "the initialisation scale must be positive")
        try check((maxWindowsPerEpoch ?? 1) >= 1, "at most 0 windows per epoch would train nothing")
    }

    /// The options, as the run's configuration and the model's training notes.
    public var notes: [String: String] {
        var notes = ["corpus": corpus, "vocabulary": vocabulary, "cell": cell.rawValue, "layers": String(layers),
                     "hidden": String(hidden), "embedding": String(embedding ?? hidden), "steps": String(steps),
                     "batch": String(batch), "epochs": String(epochs), "optimizer": optimizer.rawValue,
                     "learningRate": String(resolvedLearningRate), "clip": clip.map { String($0) } ?? "none",
                     "initScale": String(initScale), "seed": String(seed)]
        if let valid { notes["valid"] = valid }
        if let maxWindowsPerEpoch { notes["maxWindowsPerEpoch"] = String(maxWindowsPerEpoch) }
        return notes
    }

    /// Trains and saves the model, recording run, metrics and checkpoints in `store`.
    /// - Parameters:
    ///   - progress: called after each window.
    ///   - epochEnd: called after each epoch (and its checkpoint); an error it throws stops the run, which is marked
    ///     failed and can be resumed from that checkpoint.
    /// - Throws: ``LanguageModelError`` for bad options or a diverging loss (the run is marked failed, the last
    ///   epoch's checkpoint kept); ``StoreError`` (e.g. a model of that name exists and ``replace`` is off);
    ///   ``TextError`` / ``TrainError`` for a corpus that cannot be read or is too small.
    public func run(in store: Store, progress: ((Progress) -> Void)? = nil,
                    epochEnd: ((EpochReport) throws -> Void)? = nil) throws -> Result {
        try validate()
        let start = Date()
        if let resume {
            let run = try store.run(id: resume)
            guard run.status != .finished else {
                throw LanguageModelError.invalidOption("run #\(resume) has finished; there is nothing to resume")
            }
            let saved = try JSONSerialization.jsonObject(with: Data(run.configJSON.utf8)) as? [String: String] ?? [:]
            let differing = Set(saved.keys).union(notes.keys).filter { $0 != "epochs" && saved[$0] != notes[$0] }
            guard differing.isEmpty else {
                throw LanguageModelError.invalidOption("run #\(resume) was started with other options: "
                    + differing.sorted().map { "\($0) \(saved[$0] ?? "unset") (now \(notes[$0] ?? "unset"))" }
                    .joined(separator: ", ") + "; resume with the run's options (only the epochs may change)")
            }
        } else if !replace, try store.models().contains(where: { $0.name == name }) {
            throw StoreError.alreadyExists(kind: "model", name: name)
        }
        let vocabulary = try store.vocabulary(named: self.vocabulary)
        let trainIDs = try TokenIDs.encode(file: corpus, vocabulary: vocabulary)
        let validIDs = try valid.map { try TokenIDs.encode(file: $0, vocabulary: vocabulary) }

        let configuration = LanguageModel.Configuration(kind: cell, vocabulary: vocabulary.count,
                                                        embedding: embedding ?? hidden, hidden: hidden, layers: layers)
        let model = try LanguageModel(configuration)
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: initScale), rng: &rng)
        let rate = resolvedLearningRate
        let update: LanguageModelTrainer.Optimizer = switch optimizer {
        case .sgd: .sgd(SGD(for: model.parameters, learningRate: rate))
        case .adam: .adam(Adam(for: model.parameters, learningRate: rate))
        }
        let trainer = try LanguageModelTrainer(model: model, trainIDs: trainIDs.ids, batch: batch, steps: steps,
                                               optimizer: update, clipNorm: clip)
        // Validation batches: as many streams as the text allows, up to the training batch.
        let validBatch = validIDs.map { max(1, min(batch, $0.count / 2)) }
        if let validIDs, validIDs.count < 2 {
            throw TrainError.corpusTooSmall(tokens: validIDs.count, batchSize: 1)
        }

        let configJSON = String(decoding: try JSONSerialization.data(withJSONObject: notes, options: [.sortedKeys]),
                                as: UTF8.self)
        var firstEpoch = 1
        var stepOffset = 0
        var tokensSeen = 0
        var wallTime = 0.0
        var earlyStopping = EarlyStopping()
        let runID: Int64
        if let resume {
            runID = resume
            if let (checkpoint, tensors) = try store.latestCheckpoint(run: resume) {
                let state = try TrainingState(json: checkpoint.stateJSON)
                if let saved = state.vocabularyFingerprint, saved != vocabulary.fingerprint {
                    throw LanguageModelError.vocabularyMismatch(model: name, expected: saved,
                                                                found: vocabulary.fingerprint)
                }
                let current = trainer.batcher.state
                guard state.batcher.batchSize == current.batchSize, state.batcher.steps == current.steps,
                      state.batcher.streamLength == current.streamLength else {
                    throw TrainError.batcherMismatch(
                        saved: "B=\(state.batcher.batchSize), T=\(state.batcher.steps), "
                            + "L=\(state.batcher.streamLength)",
                        current: "B=\(current.batchSize), T=\(current.steps), L=\(current.streamLength)")
                }
                try model.parameters.load(tensors.filter { !$0.name.hasPrefix("optimizer.") }, model: name)
                try restoreOptimizer(update, step: state.optimizerStep, from: tensors)
                rng = RNG(state: state.rngState)
                firstEpoch = state.epoch + 1
                stepOffset = state.globalStep
                tokensSeen = state.tokensSeen
                wallTime = state.wallTime
                earlyStopping = state.earlyStopping
            }
            try store.finishRun(resume, status: .running)
        } else {
            runID = try store.createRun(name: name, configJSON: configJSON)
        }
        do {
            var reports: [EpochReport] = []
            for epoch in firstEpoch..<(max(firstEpoch, epochs + 1)) {
                let epochStart = Date()
                model.isTraining = true
                trainer.startEpoch()
                var tokens = 0
                let (loss, _) = trainer.train(windows: maxWindowsPerEpoch ?? .max) { window, windows, windowLoss in
                    tokens = trainer.batcher.batchSize * min(trainer.batcher.steps * window,
                                                             trainer.batcher.streamLength - 1)
                    let seconds = Date().timeIntervalSince(epochStart)
                    progress?(Progress(epoch: epoch, window: window, windows: windows, loss: windowLoss,
                                       tokensPerSecond: seconds > 0 ? Double(tokens) / seconds : 0,
                                       seconds: seconds))
                }
                guard loss.isFinite else {
                    try? store.finishRun(runID, status: .failed)
                    throw LanguageModelError.divergence(epoch: epoch, step: stepOffset + trainer.step)
                }
                let trainSeconds = Date().timeIntervalSince(epochStart)
                tokensSeen += tokens
                var validLoss: Double?
                if let validIDs, let validBatch {
                    model.isTraining = false
                    validLoss = try trainer.evaluate(validIDs.ids, batch: validBatch, steps: steps)
                    model.isTraining = true
                }
                let seconds = Date().timeIntervalSince(epochStart)
                wallTime += seconds
                let step = stepOffset + trainer.step
                let report = EpochReport(epoch: epoch, step: step, trainLoss: loss, validLoss: validLoss,
                                         tokensPerSecond: trainSeconds > 0 ? Double(tokens) / trainSeconds : 0,
                                         seconds: seconds)
                reports.append(report)

                var metrics = [MetricRow(runID: runID, step: step, epoch: epoch, split: .train, loss: loss,
                                         perplexity: exp(loss), tokensPerSecond: report.tokensPerSecond,
                                         wallSeconds: wallTime)]
                if let validLoss {
                    metrics.append(MetricRow(runID: runID, step: step, epoch: epoch, split: .valid,
                                             loss: validLoss, perplexity: exp(validLoss), wallSeconds: wallTime))
                }
                if let validLoss { _ = earlyStopping.record(epoch: epoch, validationLoss: validLoss) }
                let state = TrainingState(
                    epoch: epoch, globalStep: step, batcher: trainer.batcher.state,
                    schedule: .constant(Double(rate)), earlyStopping: earlyStopping, rngState: rng.state,
                    optimizerStep: optimizerStep(update), tokensSeen: tokensSeen, wallTime: wallTime,
                    vocabularyFingerprint: vocabulary.fingerprint)
                try store.saveCheckpoint(run: runID, step: step, epoch: epoch,
                                         stateJSON: try state.jsonString(),
                                         tensors: model.parameters.storedTensors + optimizerTensors(update),
                                         metrics: metrics)
                try epochEnd?(report)
            }
            model.isTraining = false
            let modelID = try store.saveLanguageModel(model, name: name, vocabulary: self.vocabulary,
                                                      training: notes, replace: replace)
            try store.finishRun(runID, status: .finished, modelID: modelID)
            return Result(runID: runID, modelID: modelID, epochs: reports,
                          parameterCount: model.parameters.parameterCount, trainTokens: trainIDs.count,
                          validTokens: validIDs?.count, unknownRate: trainIDs.unknownRate,
                          seconds: Date().timeIntervalSince(start))
        } catch {
            try? store.finishRun(runID, status: .failed)
            throw error
        }
    }

    private func optimizerStep(_ optimizer: LanguageModelTrainer.Optimizer) -> Int {
        switch optimizer {
        case .adam(let adam): adam.step
        case .sgd(let sgd): sgd.step
        }
    }

    /// Puts back the optimizer state ``optimizerTensors(_:)`` saved.
    private func restoreOptimizer(_ optimizer: LanguageModelTrainer.Optimizer, step: Int,
                                  from tensors: [StoredTensor]) throws {
        func copy(_ name: String, into buffer: AlignedBuffer) throws {
            guard let tensor = tensors.first(where: { $0.name == name }), tensor.values.count == buffer.count else {
                throw LanguageModelError.tensorMismatch(model: self.name, missing: ["checkpoint " + name],
                                                        unexpected: [], misshapen: [])
            }
            tensor.values.withUnsafeBufferPointer { _ = buffer.buffer.update(fromContentsOf: $0) }
        }
        switch optimizer {
        case .adam(let adam):
            try copy("optimizer.m", into: adam.m)
            try copy("optimizer.v", into: adam.v)
            adam.step = step
        case .sgd(let sgd):
            if sgd.momentum != 0 { try copy("optimizer.momentum", into: sgd.momentumBuffer) }
            sgd.step = step
        }
    }

    /// The optimizer's state as flat tensors over the parameter layout (`optimizer.m`, `optimizer.v` for Adam;
    /// `optimizer.momentum` for SGD with momentum).
    private func optimizerTensors(_ optimizer: LanguageModelTrainer.Optimizer) -> [StoredTensor] {
        switch optimizer {
        case .adam(let adam):
            return [StoredTensor(name: "optimizer.m", shape: [adam.m.count], values: Array(adam.m.buffer)),
                    StoredTensor(name: "optimizer.v", shape: [adam.v.count], values: Array(adam.v.buffer))]
        case .sgd(let sgd):
            guard sgd.momentum != 0 else { return [] }
            return [StoredTensor(name: "optimizer.momentum", shape: [sgd.momentumBuffer.count],
                                 values: Array(sgd.momentumBuffer.buffer))]
        }
    }
}
