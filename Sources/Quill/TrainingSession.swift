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
    /// Nothing is written before every check passed (options, vocabulary, corpus size, memory), so a failed start
    /// leaves the store as it was. The run then owns the model's name: another process cannot start a run of that
    /// name, and a model saved under it by someone else during the run stops the run rather than being replaced.
    ///
    /// - Parameters:
    ///   - progress: called after each window.
    ///   - epochEnd: called after each epoch (and its checkpoint); an error it throws stops the run, which is marked
    ///     failed and can be resumed from that checkpoint.
    ///   - shouldStop: asked after each window; `true` (Ctrl-C, SIGTERM) writes a checkpoint, marks the run
    ///     interrupted and throws ``TrainingRunError/interrupted(run:place:)``. Asked too while the vocabulary is
    ///     built and the text encoded, before the run starts: `true` there stores nothing and throws
    ///     ``TrainingRunError/stoppedBeforeStart``.
    ///   - group: the data-parallel job this process is one rank of (docs/scale-out.md), or nil. Every rank calls
    ///     `run` with the same options and the same store path (a filesystem every rank reads); each trains its
    ///     share of the batch's streams, and rank 0 alone writes to the store. The result is that of one process at
    ///     the whole batch, up to the order of the additions.
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` for bad options; ``TrainingRunError`` for a run that cannot
    ///   start or resume, a diverging loss (the run is marked failed, the last good checkpoint kept) or a stop;
    ///   ``StoreError`` (e.g. a model of that name exists and ``replace`` is off); ``TextError`` / ``TrainError`` for
    ///   a corpus that cannot be read or is too small; ``TrainingRunError/otherRankFailed`` in a data-parallel job
    ///   when another rank could not start.
    public func run(in store: Store, progress: ((Progress) -> Void)? = nil,
                    epochEnd: ((EpochReport) throws -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil, group: (any ProcessGroup)? = nil) throws -> Result {
        let session = try StoreTrainingRun.start(group: group, store: store) {
            try validate()
            return try TrainingSession(self, store: store, shouldStop: shouldStop, group: group)
        }
        return try session.run(progress: progress, epochEnd: epochEnd, shouldStop: shouldStop)
    }
}

/// One session of a language model's training run: resolves the vocabulary and data, builds the model, checks the
/// run can start, and hands the epochs to a ``TrainingLoop``, which records checkpoints and the best model in the
/// store through a ``StoreRecorder``.
///
/// In a data-parallel job, ranks other than 0 follow: the same checks, vocabulary, data and initial parameters, read
/// only; their share of the streams; no recorder and no store writes.
final class TrainingSession: StartedRun {
    private let options: LanguageModelTraining
    private let store: Store
    private let start = Date()
    private let vocabularyName: String
    private let trainIDs: TokenIDs
    private let validIDs: TokenIDs?
    private let model: any StreamLanguageModel
    private let loop: TrainingLoop<LanguageModelObjective>
    /// Rank 0's (or a single process's) store side; nil on the other ranks of a data-parallel job.
    private let recorder: StoreRecorder?
    var runID: Int64

    init(_ options: LanguageModelTraining, store: Store, shouldStop: (() -> Bool)? = nil,
         group: (any ProcessGroup)? = nil) throws {
        self.options = options
        self.store = store
        let sessionStart = StoreRecorder.now()
        let me = RunOwner.current
        let leads = (group?.rank ?? 0) == 0
        let resumed = try StoreTrainingRun.checkStart(name: options.name, resume: options.resume,
                                                      replace: options.replace, epochs: options.epochs, in: store,
                                                      leads: leads) { resume in
            try options.checkResumable(try LanguageModelTraining.resuming(run: resume, in: store), run: resume)
        }
        // Everything up to the first write is checked first, so a failed start leaves the store as it was.
        let (vocabularyName, vocabulary, isNew) = try Self.vocabulary(for: options, in: store, shouldStop: shouldStop)
        self.vocabularyName = vocabularyName
        let checkStop = { try StoreTrainingRun.checkStop(shouldStop) }
        trainIDs = try TokenIDs.encode(file: options.corpus, vocabulary: vocabulary, progress: checkStop)
        validIDs = try options.valid.map { try TokenIDs.encode(file: $0, vocabulary: vocabulary, progress: checkStop) }
        if let validIDs, validIDs.count < 2 {
            throw TrainError.corpusTooSmall(tokens: validIDs.count, batchSize: 1, file: options.valid)
        }
        let needed = options.estimatedMemory(vocabularySize: vocabulary.count)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= available else { throw TrainingRunError.tooLarge(bytes: needed, available: available) }

        let model = try options.makeModel(vocabularySize: vocabulary.count)
        self.model = model
        model.dropout = options.dropout
        model.precision = options.precision ?? .float32
        model.lossReduction = options.loss
        var rng = RNG(seed: options.seed)
        model.parameters.initialize(.uniform(scale: options.initScale), rng: &rng)
        let objective: LanguageModelObjective
        do {
            objective = try LanguageModelObjective(model: model, trainIDs: trainIDs.ids, batch: options.batch,
                                                   steps: options.steps, validIDs: validIDs?.ids, group: group)
        } catch let TrainError.corpusTooSmall(tokens, batchSize, nil) {
            throw TrainError.corpusTooSmall(tokens: tokens, batchSize: batchSize, file: options.corpus)
        }

        try checkStop()
        if let resumed {
            runID = resumed.id
        } else if leads {
            if isNew { try store.saveVocabulary(vocabulary, name: vocabularyName, replace: true) }
            runID = try store.createRun(name: options.name, configJSON: try options.configurationJSON(), owner: me)
        } else {
            runID = 0  // rank 0's, once every rank has started (StoreTrainingRun.start)
        }
        recorder = !leads ? nil : StoreRecorder(store: store, runID: runID, name: options.name, notes: options.notes,
                                                sessionStart: sessionStart) { [model, name = options.name] notes in
            let wasTraining = model.isTraining
            model.isTraining = false
            defer { model.isTraining = wasTraining }
            return try store.saveLanguageModel(model, name: name, vocabulary: vocabularyName, training: notes,
                                               replace: true)
        }
        let configuration = TrainingLoop<LanguageModelObjective>.Configuration(
            epochs: options.epochs, maxBatchesPerEpoch: options.maxWindowsPerEpoch, clipNorm: options.clip,
            schedule: options.resolvedSchedule, patience: options.patience, checkpointEvery: options.checkpointEvery,
            checkpointMinutes: options.checkpointMinutes, dataFingerprint: vocabulary.fingerprint,
            timeBudget: options.timeBudget.map { $0 * 60 })
        loop = TrainingLoop(objective: objective, optimizer: options.makeOptimizer(for: model.parameters),
                            configuration: configuration, recorder: recorder, rng: rng.split(), group: group)
        if resumed != nil {
            try StoreTrainingRun.restoreLatestCheckpoint(run: runID, model: options.name,
                                                         fingerprint: vocabulary.fingerprint, loop: loop, in: store)
            if leads { try store.claimRun(runID, owner: me) }
        }
    }

    /// The stored vocabulary the options name, or the one built from the corpus (to be stored under the model's name
    /// when `isNew`, once the run can start).
    private static func vocabulary(for options: LanguageModelTraining, in store: Store,
                                   shouldStop: (() -> Bool)?) throws
        -> (name: String, vocabulary: Vocabulary, isNew: Bool) {
        if let name = options.vocabulary {
            let vocabulary = try store.vocabulary(named: name)
            if let level = options.tokenizer?.level, level != vocabulary.settings.level {
                throw TrainingRunError.vocabularyLevel(name: name, stored: vocabulary.settings.level, asked: level)
            }
            return (name, vocabulary, false)
        }
        let name = options.name
        if options.resume != nil { return (name, try store.vocabulary(named: name), false) }
        let (vocabulary, isNew) = try StoreTrainingRun.vocabulary(
            named: name, buildingFrom: [.file(options.corpus)], settings: options.tokenizer ?? TokenizerSettings(),
            minCount: options.minCount, maxSize: options.maxVocabulary, replace: options.replace, in: store,
            shouldStop: shouldStop)
        return (name, vocabulary, isNew)
    }

    func run(progress: ((LanguageModelTraining.Progress) -> Void)?,
             epochEnd: ((LanguageModelTraining.EpochReport) throws -> Void)?,
             shouldStop: (() -> Bool)?) throws -> LanguageModelTraining.Result {
        let (summary, modelID) = try StoreTrainingRun.train(loop, run: runID, recorder: recorder, progress: progress,
                                                            epochEnd: epochEnd, shouldStop: shouldStop)
        return LanguageModelTraining.Result(
            runID: runID, modelID: modelID, vocabulary: vocabularyName, epochs: summary.epochs,
            savedEpoch: summary.savedEpoch, stoppedEarly: summary.stoppedEarly,
            budgetSpent: summary.budgetSpent, parameterCount: model.parameters.parameterCount, trainTokens: trainIDs.count,
            validTokens: validIDs?.count, unknownRate: trainIDs.unknownRate,
            seconds: Date().timeIntervalSince(start))
    }
}
