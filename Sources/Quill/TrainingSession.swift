import Foundation

extension LanguageModelTraining {
    /// Trains and saves the model, recording the run, its metrics and checkpoints in `store`.
    ///
    /// A checkpoint (parameters, optimizer state, schedule, data position, recurrent state, RNG state) is written in
    /// one transaction at each epoch's end, every ``checkpointEvery`` windows and every ``checkpointMinutes``, so a
    /// run stopped anywhere loses at most the windows since; with ``resume`` it continues from the latest one and ends
    /// bit-identical to a run never stopped. The model is saved whenever an epoch's validation loss is the best so
    /// far (each epoch without ``valid``), so the stored model is the best one.
    ///
    /// - Parameters:
    ///   - progress: called after each window.
    ///   - epochEnd: called after each epoch (and its checkpoint); an error it throws stops the run, which is marked
    ///     failed and can be resumed from that checkpoint.
    ///   - shouldStop: asked after each window; `true` (Ctrl-C, SIGTERM) writes a checkpoint, marks the run
    ///     interrupted and throws ``LanguageModelError/interrupted(run:place:)``.
    /// - Throws: ``LanguageModelError`` for bad options, a diverging loss (the run is marked failed, the last good
    ///   checkpoint kept) or a stop; ``StoreError`` (e.g. a model of that name exists and ``replace`` is off);
    ///   ``TextError`` / ``TrainError`` for a corpus that cannot be read or is too small.
    public func run(in store: Store, progress: ((Progress) -> Void)? = nil,
                    epochEnd: ((EpochReport) throws -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil) throws -> Result {
        try validate()
        return try TrainingSession(self, store: store).run(progress: progress, epochEnd: epochEnd,
                                                           shouldStop: shouldStop)
    }
}

/// One session of a training run: sets the run up (new, or restored from its latest checkpoint), then trains epoch by
/// epoch, checkpointing, validating and saving the best model.
final class TrainingSession {
    private let options: LanguageModelTraining
    private let store: Store
    private let start = Date()
    private let vocabularyName: String
    private let vocabulary: Vocabulary
    private let trainIDs: TokenIDs
    private let validIDs: TokenIDs?
    private let model: LanguageModel
    private let trainer: LanguageModelTrainer
    private let runID: Int64

    // The run's state beyond the trainer's, as a checkpoint saves it.
    private var schedule: LearningRateSchedule
    private var earlyStopping: EarlyStopping
    /// The epoch in progress.
    private var epoch = 1
    /// Steps taken in earlier sessions of the run.
    private var stepOffset = 0
    private var tokensSeen = 0
    /// Training seconds of earlier sessions.
    private var earlierWallTime = 0.0
    /// Where a checkpoint taken between two windows left the epoch in progress.
    private var resumeInEpoch: (batcher: Batcher.State, hidden: [Float]?, cell: [Float]?, loss: RunningMean)?
    private var lastCheckpoint: CheckpointPlace?
    private var lastCheckpointTime = Date()
    private var savedEpoch: Int?

    init(_ options: LanguageModelTraining, store: Store) throws {
        self.options = options
        self.store = store
        if let resume = options.resume {
            let run = try store.run(id: resume)
            guard run.status != .finished else {
                throw LanguageModelError.invalidOption("run #\(resume) has finished; there is nothing to resume")
            }
            let saved = try LanguageModelTraining.resuming(run: resume, in: store)
            let differing = saved.differences(from: options).filter {
                !LanguageModelTraining.resumableChanges.contains($0)
            }
            guard differing.isEmpty else {
                let (a, b) = (saved.notes, options.notes)
                throw LanguageModelError.invalidOption("run #\(resume) was started with other options: "
                    + differing.map { "\($0) \(a[$0] ?? "unset") (now \(b[$0] ?? "unset"))" }
                    .joined(separator: ", ") + "; resume with the run's options (only "
                    + LanguageModelTraining.resumableChanges.sorted().joined(separator: ", ") + " may change)")
            }
        } else if !options.replace, try store.models().contains(where: { $0.name == options.name }) {
            throw StoreError.alreadyExists(kind: "model", name: options.name)
        }
        (vocabularyName, vocabulary) = try Self.vocabulary(for: options, in: store)
        trainIDs = try TokenIDs.encode(file: options.corpus, vocabulary: vocabulary)
        let vocabulary = vocabulary
        validIDs = try options.valid.map { try TokenIDs.encode(file: $0, vocabulary: vocabulary) }
        if let validIDs, validIDs.count < 2 {
            throw TrainError.corpusTooSmall(tokens: validIDs.count, batchSize: 1)
        }

        model = try LanguageModel(options.configuration(vocabularySize: vocabulary.count))
        model.dropout = options.dropout
        model.lossConvention = options.loss == .sumOverTime ? .sumOverTimeMeanOverBatch : .mean
        var rng = RNG(seed: options.seed)
        model.parameters.initialize(.uniform(scale: options.initScale), rng: &rng)
        let rate = options.resolvedLearningRate
        let decay = options.resolvedWeightDecay
        let optimizer: LanguageModelTrainer.Optimizer = switch options.optimizer {
        case .sgd: .sgd(SGD(for: model.parameters, learningRate: rate, momentum: options.momentum,
                            weightDecay: decay))
        case .adam: .adam(Adam(for: model.parameters, learningRate: rate, weightDecay: decay))
        case .adamw: .adam(Adam.adamW(for: model.parameters, learningRate: rate, weightDecay: decay))
        }
        trainer = try LanguageModelTrainer(model: model, trainIDs: trainIDs.ids, batch: options.batch,
                                           steps: options.steps, optimizer: optimizer, clipNorm: options.clip,
                                           rng: rng.split())
        schedule = options.resolvedSchedule
        earlyStopping = EarlyStopping(patience: options.patience)

        if let resume = options.resume {
            runID = resume
            try restoreLatestCheckpoint()
            try store.finishRun(resume, status: .running)
        } else {
            runID = try store.createRun(name: options.name, configJSON: try options.configurationJSON())
        }
    }

    /// The stored vocabulary the options name, or the one built from the corpus (stored under the model's name).
    private static func vocabulary(for options: LanguageModelTraining, in store: Store) throws
        -> (name: String, vocabulary: Vocabulary) {
        if let name = options.vocabulary {
            let vocabulary = try store.vocabulary(named: name)
            if let level = options.tokenizer?.level, level != vocabulary.settings.level {
                throw LanguageModelError.invalidOption("vocabulary '\(name)' is at the \(vocabulary.settings.level) "
                    + "level, but \(level) level was asked for; build a vocabulary at that level or drop --level")
            }
            return (name, vocabulary)
        }
        let name = options.name
        if options.resume != nil { return (name, try store.vocabulary(named: name)) }
        let reader = try TextReader(path: options.corpus)
        var builder = VocabularyBuilder(settings: options.tokenizer ?? TokenizerSettings())
        try builder.addTokens(of: reader)
        guard builder.totalTokens > 0 else { throw TextError.emptyCorpus(file: reader.name) }
        let built = builder.build(minCount: options.minCount, maxSize: options.maxVocabulary)
        if let stored = try? store.vocabulary(named: name) {
            if stored.fingerprint == built.fingerprint { return (name, stored) }
            guard options.replace else {
                throw LanguageModelError.invalidOption("a vocabulary named '\(name)' exists and differs from the one "
                    + "built from \(options.corpus); train with --vocabulary \(name) to use it, or --replace")
            }
        }
        try store.saveVocabulary(built, name: name, replace: true)
        return (name, built)
    }

    /// Restores the run's latest checkpoint, if it has one.
    private func restoreLatestCheckpoint() throws {
        guard let (checkpoint, tensors) = try store.latestCheckpoint(run: runID) else { return }
        let state = try TrainingState(json: checkpoint.stateJSON)
        if let saved = state.vocabularyFingerprint, saved != vocabulary.fingerprint {
            throw LanguageModelError.vocabularyMismatch(model: options.name, expected: saved,
                                                        found: vocabulary.fingerprint)
        }
        let current = trainer.batcher.state
        guard state.batcher.batchSize == current.batchSize, state.batcher.steps == current.steps,
              state.batcher.streamLength == current.streamLength else {
            throw TrainError.batcherMismatch(
                saved: "B=\(state.batcher.batchSize), T=\(state.batcher.steps), L=\(state.batcher.streamLength)",
                current: "B=\(current.batchSize), T=\(current.steps), L=\(current.streamLength)")
        }
        try model.parameters.load(tensors.filter { !$0.name.hasPrefix("optimizer.") && !$0.name.hasPrefix("state.") },
                                  model: options.name)
        try restoreOptimizer(step: state.optimizerStep, from: tensors)
        trainer.rng = RNG(state: state.rngState)
        // A new --lr restarts the schedule from that rate; otherwise the saved schedule (with its plateau state) goes
        // on.
        schedule = state.schedule.initialLR == Double(options.resolvedLearningRate) ? state.schedule
            : options.resolvedSchedule
        earlyStopping = state.earlyStopping
        earlyStopping.patience = options.patience
        stepOffset = state.globalStep
        tokensSeen = state.tokensSeen
        earlierWallTime = state.wallTime
        let windows = windowsPerEpoch
        if state.epochComplete {
            epoch = state.epoch + 1
            lastCheckpoint = CheckpointPlace(epoch: state.epoch, window: windows, windows: windows,
                                             step: state.globalStep)
        } else {
            epoch = state.epoch
            func values(_ name: String) -> [Float]? { tensors.first { $0.name == name }?.values }
            resumeInEpoch = (state.batcher, values("state.hidden"), values("state.cell"), state.epochLoss)
            lastCheckpoint = CheckpointPlace(epoch: state.epoch, window: state.batcher.position, windows: windows,
                                             step: state.globalStep)
        }
    }

    private var windowsPerEpoch: Int { min(trainer.batcher.windowCount, options.maxWindowsPerEpoch ?? .max) }
    private var globalStep: Int { stepOffset + trainer.step }
    private var wallTime: Double { earlierWallTime + Date().timeIntervalSince(start) }

    func run(progress: ((LanguageModelTraining.Progress) -> Void)?,
             epochEnd: ((LanguageModelTraining.EpochReport) throws -> Void)?,
             shouldStop: (() -> Bool)?) throws -> LanguageModelTraining.Result {
        var reports: [LanguageModelTraining.EpochReport] = []
        var stoppedEarly = false
        do {
            while epoch <= options.epochs {
                reports.append(try trainEpoch(progress: progress, shouldStop: shouldStop))
                try epochEnd?(reports[reports.count - 1])
                epoch += 1
                if earlyStopping.shouldStop {
                    stoppedEarly = epoch <= options.epochs
                    break
                }
                if epoch <= options.epochs, shouldStop?() == true, let lastCheckpoint {
                    try store.finishRun(runID, status: .interrupted)
                    throw LanguageModelError.interrupted(run: runID, place: lastCheckpoint)
                }
            }
            if savedEpoch == nil, (try? store.model(named: options.name)) == nil {
                try saveModel(notes: [:])  // nothing trained in this session and no model yet: save what there is
            }
            let modelID = try store.model(named: options.name).id
            try store.finishRun(runID, status: .finished, modelID: modelID)
            return LanguageModelTraining.Result(
                runID: runID, modelID: modelID, vocabulary: vocabularyName, epochs: reports, savedEpoch: savedEpoch,
                stoppedEarly: stoppedEarly, parameterCount: model.parameters.parameterCount,
                trainTokens: trainIDs.count, validTokens: validIDs?.count, unknownRate: trainIDs.unknownRate,
                seconds: Date().timeIntervalSince(start))
        } catch LanguageModelError.interrupted(let run, let place) {
            throw LanguageModelError.interrupted(run: run, place: place)  // the run is marked interrupted already
        } catch {
            try? store.finishRun(runID, status: .failed)
            throw error
        }
    }

    /// Trains the epoch in progress to its end (from a mid-epoch checkpoint if the session resumed one), validates,
    /// saves the model if it is the best so far, and checkpoints.
    private func trainEpoch(progress: ((LanguageModelTraining.Progress) -> Void)?,
                            shouldStop: (() -> Bool)?) throws -> LanguageModelTraining.EpochReport {
        let epochStart = Date()
        let rate = schedule.lr(forEpoch: epoch)
        trainer.learningRate = Float(rate)
        var epochLoss = RunningMean()
        if let saved = resumeInEpoch {
            try trainer.resume(at: saved.batcher, hidden: saved.hidden, cell: saved.cell)
            epochLoss = saved.loss
            resumeInEpoch = nil
        } else {
            trainer.startEpoch()
        }
        let windows = windowsPerEpoch
        let firstWindow = trainer.batcher.position
        var tokens = 0
        while trainer.batcher.position < windows, let window = trainer.trainWindow() {
            guard window.isFinite else {
                throw LanguageModelError.divergence(run: runID, epoch: epoch, step: globalStep,
                                                    checkpoint: lastCheckpoint)
            }
            epochLoss.add(window.loss, weight: window.targets)
            tokensSeen += window.targets
            tokens += window.targets
            let done = trainer.batcher.position
            let seconds = Date().timeIntervalSince(epochStart)
            progress?(LanguageModelTraining.Progress(
                epoch: epoch, epochs: options.epochs, window: done, windows: windows, loss: window.loss,
                tokensPerSecond: seconds > 0 ? Double(tokens) / seconds : 0, seconds: seconds,
                etaSeconds: seconds > 0 ? Double(windows - done) * seconds / Double(done - firstWindow) : nil))
            guard done < windows else { break }
            let stop = shouldStop?() ?? false
            if stop || checkpointDue {
                let place = try checkpoint(epochLoss: epochLoss, complete: false, metrics: [
                    MetricRow(runID: runID, step: globalStep, epoch: epoch, split: .train, loss: epochLoss.mean,
                              perplexity: exp(epochLoss.mean), wallSeconds: wallTime),
                ])
                if stop {
                    try store.finishRun(runID, status: .interrupted)
                    throw LanguageModelError.interrupted(run: runID, place: place)
                }
            }
        }
        let trainSeconds = Date().timeIntervalSince(epochStart)
        let tokensPerSecond = trainSeconds > 0 ? Double(tokens) / trainSeconds : 0

        var validLoss: Double?
        var isBest = true
        if let validIDs {
            let loss = try trainer.evaluate(validIDs.ids, batch: max(1, min(options.batch, validIDs.count / 2)),
                                            steps: options.steps)
            validLoss = loss
            schedule.update(validationLoss: loss)
            isBest = earlyStopping.record(epoch: epoch, validationLoss: loss)
        }
        if isBest {
            var notes = ["savedEpoch": String(epoch), "trainPerplexity": String(format: "%.3f", exp(epochLoss.mean))]
            if let validLoss { notes["validPerplexity"] = String(format: "%.3f", exp(validLoss)) }
            try saveModel(notes: notes)
            savedEpoch = epoch
        }
        var metrics = [MetricRow(runID: runID, step: globalStep, epoch: epoch, split: .train, loss: epochLoss.mean,
                                 perplexity: exp(epochLoss.mean), tokensPerSecond: tokensPerSecond,
                                 wallSeconds: wallTime)]
        if let validLoss {
            metrics.append(MetricRow(runID: runID, step: globalStep, epoch: epoch, split: .valid, loss: validLoss,
                                     perplexity: exp(validLoss), wallSeconds: wallTime))
        }
        try checkpoint(epochLoss: epochLoss, complete: true, metrics: metrics)
        return LanguageModelTraining.EpochReport(
            epoch: epoch, step: globalStep, learningRate: rate, trainLoss: epochLoss.mean, validLoss: validLoss,
            isBest: isBest, tokensPerSecond: tokensPerSecond, seconds: Date().timeIntervalSince(epochStart))
    }

    private var checkpointDue: Bool {
        if let every = options.checkpointEvery, globalStep % every == 0 { return true }
        if let minutes = options.checkpointMinutes, Date().timeIntervalSince(lastCheckpointTime) >= minutes * 60 {
            return true
        }
        return false
    }

    /// Writes a checkpoint of the run as it is now, in one transaction with `metrics`.
    @discardableResult
    private func checkpoint(epochLoss: RunningMean, complete: Bool, metrics: [MetricRow]) throws -> CheckpointPlace {
        let state = TrainingState(
            epoch: epoch, epochComplete: complete, globalStep: globalStep, batcher: trainer.batcher.state,
            schedule: schedule, earlyStopping: earlyStopping, rngState: trainer.rng.state,
            optimizerStep: trainer.optimizer.step, tokensSeen: tokensSeen, wallTime: wallTime, epochLoss: epochLoss,
            vocabularyFingerprint: vocabulary.fingerprint)
        var tensors = model.parameters.storedTensors + optimizerTensors
        if !complete {
            let shape = [model.configuration.layers, options.batch, model.configuration.hidden]
            if let hidden = trainer.carriedHidden {
                tensors.append(StoredTensor(name: "state.hidden", shape: shape, values: hidden))
            }
            if let cell = trainer.carriedCell {
                tensors.append(StoredTensor(name: "state.cell", shape: shape, values: cell))
            }
        }
        try store.saveCheckpoint(run: runID, step: globalStep, epoch: epoch, stateJSON: try state.jsonString(),
                                 tensors: tensors, metrics: metrics)
        lastCheckpointTime = Date()
        let place = CheckpointPlace(epoch: epoch, window: complete ? windowsPerEpoch : trainer.batcher.position,
                                    windows: windowsPerEpoch, step: globalStep)
        lastCheckpoint = place
        return place
    }

    private func saveModel(notes: [String: String]) throws {
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        // The name was checked (or --replace given) when the run started; later saves replace this run's own model.
        try store.saveLanguageModel(model, name: options.name, vocabulary: vocabularyName,
                                    training: options.notes.merging(notes) { _, new in new }, replace: true)
    }

    /// Puts back the optimizer state ``optimizerTensors`` saved.
    private func restoreOptimizer(step: Int, from tensors: [StoredTensor]) throws {
        func copy(_ name: String, into buffer: AlignedBuffer) throws {
            guard let tensor = tensors.first(where: { $0.name == name }), tensor.values.count == buffer.count else {
                throw LanguageModelError.tensorMismatch(model: options.name, missing: ["checkpoint " + name],
                                                        unexpected: [], misshapen: [])
            }
            tensor.values.withUnsafeBufferPointer { _ = buffer.buffer.update(fromContentsOf: $0) }
        }
        switch trainer.optimizer {
        case .adam(let adam):
            try copy("optimizer.m", into: adam.m)
            try copy("optimizer.v", into: adam.v)
        case .sgd(let sgd):
            if sgd.momentum != 0 { try copy("optimizer.momentum", into: sgd.momentumBuffer) }
        }
        trainer.optimizer.step = step
    }

    /// The optimizer's state as flat tensors over the parameter layout (`optimizer.m`, `optimizer.v` for Adam;
    /// `optimizer.momentum` for SGD with momentum).
    private var optimizerTensors: [StoredTensor] {
        switch trainer.optimizer {
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
