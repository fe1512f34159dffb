import Foundation

/// The bookkeeping of a training run in a store that every model family shares: who may start or resume a run,
/// restoring its latest checkpoint, and recording how it ended. A family's session supplies its options, data, model
/// and objective; the epochs are the one ``QuillTrain/TrainingLoop``.
enum StoreTrainingRun {
    /// Makes a session on every rank of `group` (or the one process) and agrees that all could: a rank whose `make`
    /// threw says so to the others, and every rank then stops (rank 0 marks a run it created failed). The other
    /// ranks learn rank 0's run id here.
    static func start<Session: StartedRun>(group: (any ProcessGroup)?, store: Store, _ make: () throws -> Session)
        throws -> Session {
        guard let group, group.size > 1 else { return try make() }
        let session: Session
        do {
            session = try make()
        } catch {
            _ = group.sum([1, 0])
            throw error
        }
        let agreed = group.sum([0, group.rank == 0 ? Double(session.runID) : 0])
        guard agreed[0] == 0 else {
            if group.rank == 0 { try? store.finishRun(session.runID, status: .failed) }
            throw TrainingRunError.otherRankFailed(ranks: Int(agreed[0]))
        }
        session.runID = Int64(agreed[1])
        return session
    }

    /// Checks that a run named `name` can start (no live run owns the name; no model of that name unless `replace`),
    /// or that run `resume` can continue (not finished, not running elsewhere, options that `check` accepts).
    /// - Returns: the run to resume, or nil for a new run.
    /// - Throws: ``TrainingRunError``, ``QuillStore/StoreError/invalidName(kind:name:reason:)`` or
    ///   ``QuillStore/StoreError/alreadyExists(kind:name:)``.
    /// - Parameter epochs: the epochs asked for; a finished run continues only when they are more than it trained
    ///   (training it further), and is refused otherwise.
    /// - Parameter leads: false for a rank other than 0 of a data-parallel job: it checks the options of a resume
    ///   but not who owns the name or the run (rank 0 does, and claims the run meanwhile).
    static func checkStart(name: String, resume: Int64?, replace: Bool, epochs: Int? = nil, in store: Store,
                           leads: Bool = true, checkOptions: (_ run: Int64) throws -> Void) throws -> RunRecord? {
        if resume == nil { try StoreName.validate(name, kind: "model") }  // before any slow work
        if !leads {
            guard let resume else { return nil }
            try checkOptions(resume)
            return try store.run(id: resume)
        }
        let me = RunOwner.current
        if let resume {
            let run = try store.run(id: resume)
            if run.status == .finished {
                let trained = try store.metrics(run: resume).filter { $0.split == .train }.map(\.epoch).max() ?? 0
                guard let epochs, epochs > trained else { throw TrainingRunError.finished(run: resume) }
            }
            if run.status == .running, let owner = run.owner, owner != me {
                throw TrainingRunError.busy(run: resume, owner: owner)
            }
            try checkOptions(resume)
            return run
        }
        if let live = try store.liveRuns(named: name).first, let owner = live.owner {
            throw TrainingRunError.nameInUse(name: name, run: live.id, owner: owner)
        }
        if !replace, try store.models().contains(where: { $0.name == name }) {
            throw StoreError.alreadyExists(kind: "model", name: name)
        }
        return nil
    }

    /// Throws ``TrainingRunError/stoppedBeforeStart`` when `shouldStop` says so. Asked between the chunks of the
    /// slow work before a run starts (building a vocabulary, encoding text), so a Ctrl-C there stops at once, with
    /// nothing stored.
    static func checkStop(_ shouldStop: (() -> Bool)?) throws {
        if shouldStop?() == true { throw TrainingRunError.stoppedBeforeStart }
    }

    /// Text a vocabulary is built from: a whole file, or one column of a two-column TSV file.
    enum CorpusText {
        case file(String)
        case tsvColumn(String, first: Bool)

        var path: String {
            switch self {
            case let .file(path), let .tsvColumn(path, _): return path
            }
        }
    }

    /// The vocabulary a new run builds from `texts` under `name`: the stored one of that name when the texts give
    /// the same fingerprint, else the one built (`isNew`: to be stored once the run can start), which may take the
    /// place of a different stored one only with `replace`.
    /// - Throws: ``QuillText/TextError`` for a file that cannot be read or holds no token;
    ///   ``QuillTrain/ParallelCorpusError/tabs(file:line:count:)`` for a TSV line without one TAB;
    ///   ``TrainingRunError/vocabularyDiffers(name:corpus:)``; ``TrainingRunError/stoppedBeforeStart`` when
    ///   `shouldStop` asks.
    static func vocabulary(named name: String, buildingFrom texts: [CorpusText], settings: TokenizerSettings,
                           minCount: Int, maxSize: Int?, replace: Bool, in store: Store,
                           shouldStop: (() -> Bool)? = nil) throws -> (vocabulary: Vocabulary, isNew: Bool) {
        var builder = VocabularyBuilder(settings: settings)
        for text in texts {
            let before = builder.totalTokens
            switch text {
            case let .file(path):
                try builder.addTokens(of: try TextReader(path: path)) { _ in try checkStop(shouldStop) }
            case let .tsvColumn(path, first):
                try addTokens(ofColumn: first, tsv: path, to: &builder, shouldStop: shouldStop)
            }
            guard builder.totalTokens > before else { throw TextError.emptyCorpus(file: text.path) }
        }
        let built = builder.build(minCount: minCount, maxSize: maxSize)
        if let stored = try? store.vocabulary(named: name) {
            if stored.fingerprint == built.fingerprint { return (stored, false) }
            guard replace else {
                throw TrainingRunError.vocabularyDiffers(name: name,
                                                         corpus: texts.map(\.path).joined(separator: " and "))
            }
        }
        return (built, true)
    }

    /// Counts the tokens of one column of a TSV file as if it were a file of its own: each column's text followed by
    /// a line break, tokenized a megabyte of lines at a time.
    private static func addTokens(ofColumn first: Bool, tsv: String, to builder: inout VocabularyBuilder,
                                  shouldStop: (() -> Bool)?) throws {
        let tokenizer = try Tokenizer(builder.settings)
        var lines: [UInt8] = []
        lines.reserveCapacity(1 << 20 + 4096)
        func flush() throws {
            try lines.withUnsafeBytes { try builder.addTokens(inUTF8: $0, using: tokenizer) }
            lines.removeAll(keepingCapacity: true)
            try checkStop(shouldStop)
        }
        try ParallelCorpus.forEachPair(tsv: tsv) { _, left, right in
            // A column over the line limit is left out, as training leaves its pair out.
            guard let column = first ? left : right else { return }
            lines.append(contentsOf: column)
            lines.append(0x0A)
            if lines.count >= 1 << 20 { try flush() }
        }
        try flush()
    }

    /// Restores run `runID`'s latest checkpoint, if it has one: the parameters with the checked load, the rest in the
    /// loop.
    /// - Throws: ``LanguageModelError/vocabularyMismatch(model:expected:found:)`` when the data is encoded by other
    ///   vocabularies than the checkpoint's (`fingerprint`); ``QuillTrain/TrainError`` for data of another shape.
    static func restoreLatestCheckpoint<Objective>(run runID: Int64, model name: String, fingerprint: String,
                                                   loop: TrainingLoop<Objective>, in store: Store) throws {
        guard let (checkpoint, tensors) = try store.latestCheckpoint(run: runID) else { return }
        let state = try TrainingState(json: checkpoint.stateJSON)
        if let saved = state.vocabularyFingerprint, saved != fingerprint {
            throw LanguageModelError.vocabularyMismatch(model: name, expected: saved, found: fingerprint)
        }
        let isParameter = { (name: String) in !name.hasPrefix("optimizer.") && !name.hasPrefix("state.") }
        try loop.checkData(of: state)
        try loop.objective.parameters.load(tensors.filter { isParameter($0.name) }, model: name)
        try loop.restore(state, tensors: tensors.filter { !isParameter($0.name) }.map {
            NamedTensor(name: $0.name, shape: $0.shape, values: $0.values)
        })
    }

    /// Runs the loop's remaining epochs and records how the run ended: finished with its model, interrupted (a stop
    /// request), or failed (divergence or any error; the last good checkpoint is kept). Without a recorder (a rank
    /// other than 0) nothing is written, and the model's id is rank 0's.
    /// - Returns: what the loop did and the id of the model saved under the run's name.
    /// - Throws: ``TrainingRunError/interrupted(run:place:)``, ``TrainingRunError/diverged(run:epoch:step:checkpoint:)``
    ///   or the error that ended the run.
    static func train<Objective>(_ loop: TrainingLoop<Objective>, run runID: Int64, recorder: StoreRecorder?,
                                 progress: ((TrainingProgress) -> Void)?, epochEnd: ((EpochReport) throws -> Void)?,
                                 shouldStop: (() -> Bool)?) throws -> (summary: TrainingLoop<Objective>.Summary,
                                                                       modelID: Int64) {
        let store = recorder?.store
        do {
            let summary = try loop.run(progress: progress, epochEnd: epochEnd, shouldStop: shouldStop)
            var modelID: Int64 = 0
            if let recorder, let store {
                if summary.savedEpoch == nil, (try? store.model(named: recorder.name)) == nil {
                    try recorder.saveModel(notes: [:])  // nothing trained in this session and no model yet: save it
                }
                modelID = try store.model(named: recorder.name).id
                try store.finishRun(runID, status: .finished, modelID: modelID)
            }
            if let group = loop.group, group.size > 1 { modelID = Int64(group.sum([Double(modelID)])[0]) }
            return (summary, modelID)
        } catch TrainError.stopped(let place) {
            try store?.finishRun(runID, status: .interrupted)
            throw TrainingRunError.interrupted(run: runID, place: place)
        } catch TrainError.diverged(let epoch, let step, let checkpoint) {
            try? store?.finishRun(runID, status: .failed)
            throw TrainingRunError.diverged(run: runID, epoch: epoch, step: step, checkpoint: checkpoint)
        } catch let error as TrainingRunError {
            try? store?.finishRun(runID, status: .failed)
            throw error
        } catch {
            try? store?.finishRun(runID, status: .failed)  // may fail too (a full disk): resuming works either way
            throw TrainingRunError.failed(run: runID, reason: String(describing: error))
        }
    }
}

/// A family's training session as ``StoreTrainingRun/start(group:store:_:)`` sees it: the run it trains, which the
/// ranks other than 0 learn from rank 0.
protocol StartedRun: AnyObject {
    var runID: Int64 { get set }
}
