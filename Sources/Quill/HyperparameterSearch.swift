import Foundation

/// What `quill search` samples from: a JSON object whose keys are all optional (docs/search.md). Unknown keys are an
/// error, so a typo does not silently leave a default in place.
public struct SearchSpace: Codable, Equatable, Sendable {
    /// Neural families to sample: `lstm`, `gru`, `rnnTanh`, `gcnn`.
    public var cells: [ModelCell] = [.lstm, .gru, .gcnn]
    /// Orders of the modified Kneser-Ney n-gram models to compare with (each trained once; empty for none).
    public var ngramOrders: [Int] = [3, 5]
    public var layers: [Int] = [1, 2]
    public var hidden: [Int] = [128, 256]
    /// Kernel widths of the gated convolutional model.
    public var widths: [Int] = [3, 4]
    public var dropout: [Float] = [0, 0.25, 0.5]
    /// Whether a recurrent trial ties its input embedding and output layer (the gated CNN never does).
    public var tie: [Bool] = [true]
    /// The learning-rate schedule of every trial: constant, plateau (halve the rate when validation stalls), or step
    /// (keep the rate for `decayAfter` epochs, then multiply it by `decayFactor` each epoch, as Zaremba et al.). A
    /// step schedule depends on the epoch's number only, so a trial continued to a later rung follows the schedule of
    /// one run straight through.
    public var schedule = LearningRateSchedule.Kind.plateau
    public var decayAfter = 4
    public var decayFactor = 0.5
    /// How each window's loss is reduced: `mean` (PyTorch's), or `sum` over time (Zaremba et al.'s, for SGD at rate 1).
    public var loss = LossReduction.mean
    /// The global gradient norm every trial clips to.
    public var clip: Float = 5
    /// The learning rate, log-uniform in `[min, max]`.
    public var learningRate = LogUniform(min: 1e-3, max: 1e-2)
    public var optimizers: [OptimizerKind] = [.adam]
    public var bptt: [Int] = [20, 35]
    public var batch: [Int] = [20]
    /// Neural configurations in the first rung.
    public var trials = 9
    /// η: each rung keeps the best `1/η` of the one before and trains them `η` times as many epochs.
    public var reduction = 3
    public var minEpochs = 1
    public var maxEpochs = 9
    /// Seeds the sampling (and each trial's initialisation).
    public var seed: UInt64 = 1

    public struct LogUniform: Codable, Equatable, Sendable {
        public var min: Float
        public var max: Float
        public init(min: Float, max: Float) {
            self.min = min
            self.max = max
        }
    }

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case cells, ngramOrders, layers, hidden, widths, dropout, tie, schedule, decayAfter, decayFactor, loss, clip,
             learningRate, optimizers, bptt, batch, trials, reduction, minEpochs, maxEpochs, seed
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            .filter { CodingKeys(rawValue: $0) == nil }
        if let key = unknown.first {
            throw LanguageModelError.invalidOption("the search space has an unknown key '\(key)' (known: "
                + CodingKeys.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SearchSpace()
        cells = try c.decodeIfPresent([ModelCell].self, forKey: .cells) ?? d.cells
        ngramOrders = try c.decodeIfPresent([Int].self, forKey: .ngramOrders) ?? d.ngramOrders
        layers = try c.decodeIfPresent([Int].self, forKey: .layers) ?? d.layers
        hidden = try c.decodeIfPresent([Int].self, forKey: .hidden) ?? d.hidden
        widths = try c.decodeIfPresent([Int].self, forKey: .widths) ?? d.widths
        dropout = try c.decodeIfPresent([Float].self, forKey: .dropout) ?? d.dropout
        tie = try c.decodeIfPresent([Bool].self, forKey: .tie) ?? d.tie
        schedule = try c.decodeIfPresent(LearningRateSchedule.Kind.self, forKey: .schedule) ?? d.schedule
        decayAfter = try c.decodeIfPresent(Int.self, forKey: .decayAfter) ?? d.decayAfter
        decayFactor = try c.decodeIfPresent(Double.self, forKey: .decayFactor) ?? d.decayFactor
        loss = try c.decodeIfPresent(LossReduction.self, forKey: .loss) ?? d.loss
        clip = try c.decodeIfPresent(Float.self, forKey: .clip) ?? d.clip
        learningRate = try c.decodeIfPresent(LogUniform.self, forKey: .learningRate) ?? d.learningRate
        optimizers = try c.decodeIfPresent([OptimizerKind].self, forKey: .optimizers) ?? d.optimizers
        bptt = try c.decodeIfPresent([Int].self, forKey: .bptt) ?? d.bptt
        batch = try c.decodeIfPresent([Int].self, forKey: .batch) ?? d.batch
        trials = try c.decodeIfPresent(Int.self, forKey: .trials) ?? d.trials
        reduction = try c.decodeIfPresent(Int.self, forKey: .reduction) ?? d.reduction
        minEpochs = try c.decodeIfPresent(Int.self, forKey: .minEpochs) ?? d.minEpochs
        maxEpochs = try c.decodeIfPresent(Int.self, forKey: .maxEpochs) ?? d.maxEpochs
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    /// Reads a space from a JSON file.
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` naming the file and what is wrong.
    public static func read(_ path: String) throws -> SearchSpace {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LanguageModelError.invalidOption("cannot read the search space \(path): \(error.localizedDescription)")
        }
        do {
            let space = try JSONDecoder().decode(SearchSpace.self, from: data)
            try space.validate()
            return space
        } catch let error as LanguageModelError {
            throw LanguageModelError.invalidOption("\(path): \(error.description)")
        } catch {
            throw LanguageModelError.invalidOption("\(path) is not a search space: \(error)")
        }
    }

    /// Checks that every list has a choice and every value its range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw LanguageModelError.invalidOption("the search space: " + message) }
        }
        try check(!cells.isEmpty || !ngramOrders.isEmpty, "no cells and no n-gram orders: nothing to search")
        try check(ngramOrders.allSatisfy { (1...KneserNeyModel.maximumOrder).contains($0) },
                  "n-gram orders must be in 1...\(KneserNeyModel.maximumOrder)")
        for (name, list) in [("layers", layers), ("hidden", hidden), ("widths", widths), ("bptt", bptt),
                             ("batch", batch)] {
            try check(!list.isEmpty && list.allSatisfy { $0 >= 1 }, "\(name) needs values of at least 1")
        }
        try check(!dropout.isEmpty && dropout.allSatisfy { $0 >= 0 && $0 < 1 }, "dropout values must be in [0, 1)")
        try check(!optimizers.isEmpty, "optimizers needs a value")
        try check(!tie.isEmpty, "tie needs a value")
        try check(decayAfter >= 0, "decayAfter must not be negative")
        try check(decayFactor > 0 && decayFactor <= 1, "decayFactor must be in (0, 1]")
        try check(clip > 0 && clip.isFinite, "clip must be positive")
        try check(learningRate.min > 0 && learningRate.min <= learningRate.max && learningRate.max.isFinite,
                  "learningRate needs 0 < min ≤ max")
        try check(trials >= 1, "trials must be at least 1")
        try check(reduction >= 2, "reduction (η) must be at least 2")
        try check(minEpochs >= 1 && minEpochs <= maxEpochs, "needs 1 ≤ minEpochs ≤ maxEpochs")
    }

    /// The epochs of rung `r`: `minEpochs·η^r`, at most `maxEpochs`.
    public func epochs(rung r: Int) -> Int {
        var epochs = minEpochs
        for _ in 0..<r where epochs < maxEpochs { epochs *= reduction }
        return min(epochs, maxEpochs)
    }

    /// The neural trials' options, drawn from `seed` (the same space and seed give the same trials).
    func sampleTrials(corpus: String, valid: String, vocabulary: String, search: String) -> [LanguageModelTraining] {
        guard !cells.isEmpty else { return [] }
        var rng = RNG(seed: seed)
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        return (1...trials).map { i in
            var t = LanguageModelTraining(corpus: corpus, vocabulary: vocabulary, name: "\(search).trial-\(i)")
            t.valid = valid
            t.cell = pick(cells)
            t.layers = pick(layers)
            t.hidden = pick(hidden)
            let width = pick(widths)
            if t.cell == .gcnn { t.width = width }
            t.dropout = pick(dropout)
            let tied = pick(tie)
            if t.cell != .gcnn { t.tiedEmbeddings = tied }
            t.schedule = schedule
            t.decayAfter = decayAfter
            t.decayFactor = decayFactor
            t.loss = loss
            t.clip = clip
            t.optimizer = pick(optimizers)
            let u = Float(rng.next() >> 40) / Float(1 << 24)
            t.learningRate = exp(log(learningRate.min) + u * (log(learningRate.max) - log(learningRate.min)))
            t.steps = pick(bptt)
            t.batch = pick(batch)
            t.seed = seed &+ UInt64(i)
            t.checkpointMinutes = 5
            return t
        }
    }
}

/// One candidate of a search: a neural training run or an n-gram model, and how far it got.
public struct SearchTrial: Codable, Sendable, Equatable {
    /// The model's name in the store: `NAME.trial-i` or `NAME.kn<order>`.
    public var model: String
    /// `lstm`, `gru`, `rnnTanh`, `gcnn` or `ngram`.
    public var family: String
    /// The options that define it, as `key=value` pairs (for the table).
    public var settings: String
    /// The training run (nil for an n-gram model).
    public var run: Int64?
    /// The last rung it was trained in (0 first) and the epochs it has.
    public var rung: Int
    public var epochs: Int
    /// Its best validation perplexity so far (nil before its first epoch ends).
    public var validPerplexity: Double?
    /// Training time in seconds (as its run recorded it).
    public var seconds: Double
}

/// What a search found.
public struct SearchResult: Codable, Sendable, Equatable {
    public var name: String
    public var trials: [SearchTrial]
    /// The trial promoted to ``name`` (nil when no trial has a validation perplexity yet).
    public var best: SearchTrial?
    /// Whether the time budget ended the search before its last rung.
    public var budgetExhausted: Bool
    public var seconds: Double
}

/// Why a search cannot start or continue.
public enum SearchError: Error, Equatable, CustomStringConvertible {
    /// Trials of this search exist and neither resume nor replace was asked for.
    case exists(name: String, trials: Int)
    /// A stored trial was made from another space or settings than the ones given.
    case otherSpace(name: String, trial: String)
    /// Asked to stop while trials trained in other processes; each checkpointed its run.
    case interrupted(name: String)
    /// A trial's process failed (`detail`: what it said last).
    case trialFailed(trial: String, detail: String)
    /// A worker was asked for a trial this search does not draw.
    case unknownTrial(name: String, trial: String)

    public var description: String {
        switch self {
        case let .exists(name, trials):
            return "search '\(name)' has \(trials) trial run(s) in the store; resume it with the same settings, or "
                + "start again with replace"
        case let .otherSpace(name, trial):
            return "trial '\(trial)' of search '\(name)' was made from another search space or corpus; use the "
                + "settings it was started with, another name, or replace"
        case let .interrupted(name):
            return "search '\(name)' stopped; every trial in training was checkpointed"
        case let .trialFailed(trial, detail):
            return "trial '\(trial)' failed: \(detail)"
        case let .unknownTrial(name, trial):
            return "search '\(name)' has no trial '\(trial)' with these settings"
        }
    }
}

/// Automated hyperparameter search by successive halving (Jamieson & Talwalkar 2016; the synchronous core of ASHA,
/// Li et al. 2020) on validation perplexity, under a wall-clock budget.
///
/// Neural trials sampled from a ``SearchSpace`` train for ``SearchSpace/minEpochs`` epochs; the best `1/η` by
/// validation perplexity continue to `η` times as many epochs (their runs resumed, not restarted), and so on up to
/// ``SearchSpace/maxEpochs``. Modified Kneser-Ney models of the space's orders are trained once and compared on the
/// same validation text. Every trial is a training run (or a model) in the store, with its metrics. The best trial's
/// model is saved under the search's ``name``.
///
/// Interrupting (`shouldStop`, the budget running out) checkpoints the trial in training. Running the same search
/// again (same name, space, corpus) continues it: the trials are drawn again from the same seed, the stored runs say
/// how far each got, an interrupted run resumes bit-identically, and the budget counts the time the trials already
/// spent.
public struct HyperparameterSearch: Sendable {
    public var corpus: String
    public var valid: String
    public var space: SearchSpace
    /// Wall-clock minutes for the whole search, the time already spent by stored trials included.
    public var budgetMinutes: Double
    /// The search's name: its vocabulary, its trials' prefix, and the name the best model is saved under.
    public var name: String
    /// A stored vocabulary to use; nil builds one from the corpus (word level) stored under ``name``.
    public var vocabulary: String?
    /// Continue a search whose trials are in the store.
    public var resume = false
    /// Delete this search's trials and start again.
    public var replace = false
    /// Trains the trials of a rung in other processes, several at once; nil trains them one after another here.
    public var processes: TrialProcesses?

    public init(corpus: String, valid: String, space: SearchSpace = SearchSpace(), budgetMinutes: Double,
                name: String) {
        self.corpus = corpus
        self.valid = valid
        self.space = space
        self.budgetMinutes = budgetMinutes
        self.name = name
    }

    /// What the search reports as it goes.
    public enum Event: Sendable {
        case trialStarted(SearchTrial, rung: Int, targetEpochs: Int)
        case trialEnded(SearchTrial)
        case rungEnded(rung: Int, kept: [String])
    }

    /// Runs (or continues) the search; see the type's description.
    /// - Parameters:
    ///   - progress: each training window of the trial in training.
    ///   - shouldStop: asked after each window; true checkpoints the trial and ends the search (resumable).
    /// - Throws: ``SearchError``; ``LanguageModelError`` for a bad space; the training's errors;
    ///   ``TrainingRunError/interrupted(run:place:)`` when stopped.
    public func run(in store: Store, events: ((Event) -> Void)? = nil,
                    progress: ((LanguageModelTraining.Progress) -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil) throws -> SearchResult {
        try space.validate()
        guard budgetMinutes > 0, budgetMinutes.isFinite else {
            throw LanguageModelError.invalidOption("the budget must be a positive number of minutes")
        }
        let started = Date()
        let vocabularyName = vocabulary ?? name
        if vocabulary == nil, (try? store.vocabulary(named: name)) == nil || replace {
            _ = try store.buildVocabulary(corpus: corpus, name: name, replace: true)
        }
        let neural = space.sampleTrials(corpus: corpus, valid: valid, vocabulary: vocabularyName, search: name)
        // Runs before this one belong to the search only when it continues (with replace they are history).
        let firstRun = replace ? (try store.runs().map(\.id).max() ?? 0) + 1 : 0
        try prepare(neural, in: store)

        var trials: [String: SearchTrial] = [:]
        var order: [String] = []
        func record(_ trial: SearchTrial) {
            if trials[trial.model] == nil { order.append(trial.model) }
            trials[trial.model] = trial
        }
        // The n-gram models: quick, trained once.
        for order in space.ngramOrders {
            record(try ngramTrial(order: order, vocabulary: vocabularyName, in: store))
        }
        for options in neural { record(try storedTrial(options, in: store, since: firstRun)) }
        // The neural trials' time in earlier sessions (the n-gram models' is part of this session's).
        let spentBefore = trials.values.filter { $0.family != "ngram" }.reduce(0) { $0 + $1.seconds }
        let deadline = started.addingTimeInterval(budgetMinutes * 60 - spentBefore)
        var budgetExhausted = false
        let stop = {
            if shouldStop?() == true { return true }
            if Date() >= deadline { budgetExhausted = true; return true }
            return false
        }

        var survivors = neural
        var rung = 0
        rungs: while !survivors.isEmpty {
            let target = space.epochs(rung: rung)
            if let processes {
                let pending = survivors.filter { trials[$0.name]!.epochs < target }
                let ended = try train(pending, to: target, rung: rung, with: processes, deadline: deadline,
                                      known: trials, since: firstRun, in: store, events: events,
                                      shouldStop: shouldStop)
                ended.forEach(record)
                if Date() >= deadline, ended.contains(where: { $0.epochs < target }) || ended.count < pending.count {
                    budgetExhausted = true
                    break rungs
                }
            } else {
                for options in survivors {
                    let trial = trials[options.name]!
                    if trial.epochs >= target { continue }  // done in an earlier session
                    if Date() >= deadline { budgetExhausted = true; break rungs }
                    events?(.trialStarted(trial, rung: rung, targetEpochs: target))
                    do {
                        try train(options, to: target, existing: trial.run, in: store, progress: progress,
                                  shouldStop: stop)
                    } catch TrainingRunError.interrupted(let run, let place) {
                        record(try storedTrial(options, in: store, rung: rung, since: firstRun))
                        if budgetExhausted { break rungs }
                        throw TrainingRunError.interrupted(run: run, place: place)
                    } catch TrainingRunError.stoppedBeforeStart where budgetExhausted {
                        break rungs  // the budget ran out while the text was encoded: nothing of it is stored
                    }
                    let updated = try storedTrial(options, in: store, rung: rung, since: firstRun)
                    record(updated)
                    events?(.trialEnded(updated))
                }
            }
            if target >= space.maxEpochs || survivors.count == 1 { break }
            let keep = max(1, (survivors.count + space.reduction - 1) / space.reduction)
            survivors = survivors.sorted {
                (trials[$0.name]!.validPerplexity ?? .infinity) < (trials[$1.name]!.validPerplexity ?? .infinity)
            }.prefix(keep).map { $0 }
            events?(.rungEnded(rung: rung, kept: survivors.map(\.name)))
            rung += 1
        }

        let all = order.map { trials[$0]! }
        let best = all.filter { $0.validPerplexity?.isFinite == true }.min { $0.validPerplexity! < $1.validPerplexity! }
        if let best { try promote(best, vocabulary: vocabularyName, in: store) }
        return SearchResult(name: name, trials: all, best: best, budgetExhausted: budgetExhausted,
                            seconds: Date().timeIntervalSince(started))
    }

    /// Trains the `pending` trials of a rung in other processes, `processes.jobs` at a time, each stopping by
    /// `deadline`; a stop asked for (`shouldStop`) is passed on to them, and ends the search once they have
    /// checkpointed.
    /// - Returns: The trials as the store has them after their processes ended.
    private func train(_ pending: [LanguageModelTraining], to target: Int, rung: Int, with processes: TrialProcesses,
                       deadline: Date, known: [String: SearchTrial], since firstRun: Int64, in store: Store,
                       events: ((Event) -> Void)?, shouldStop: (() -> Bool)?) throws -> [SearchTrial] {
        var waiting = pending[...]
        var running: [(options: LanguageModelTraining, process: any TrialProcess)] = []
        var ended: [SearchTrial] = []
        var stopping = false
        var failure: Error?
        while !running.isEmpty || (!waiting.isEmpty && !stopping && failure == nil && Date() < deadline) {
            while running.count < processes.jobs, !stopping, failure == nil, Date() < deadline,
                  let options = waiting.popFirst() {
                let trial = known[options.name]!
                events?(.trialStarted(trial, rung: rung, targetEpochs: target))
                do {
                    // The trials that train at once from now on share the threads (a rung's last one gets them all).
                    let parallel = min(processes.jobs, running.count + 1 + waiting.count)
                    running.append((options, try processes.launch(TrialRequest(
                        trial: options.name, epochs: target, run: trial.run, deadline: deadline,
                        parallel: parallel))))
                } catch { failure = error }
            }
            if !stopping, shouldStop?() == true {
                stopping = true
                running.forEach { $0.process.stop() }
            }
            Thread.sleep(forTimeInterval: 0.05)
            for (i, job) in running.enumerated().reversed() where !job.process.isRunning {
                running.remove(at: i)
                do { try job.process.finish() } catch {
                    if failure == nil { failure = error }
                    running.forEach { $0.process.stop() }
                }
                let trial = try storedTrial(job.options, in: store, rung: rung, since: firstRun)
                ended.append(trial)
                events?(.trialEnded(trial))
            }
        }
        if let failure { throw failure }
        if stopping { throw SearchError.interrupted(name: name) }
        return ended
    }

    /// Trains one trial of this search to `epochs` epochs, continuing `run` when given: the work of one process of
    /// a search whose ``processes`` train trials in parallel.
    /// - Throws: ``SearchError/unknownTrial(name:trial:)``; the training's errors (``TrainingRunError``).
    public func train(trial: String, to epochs: Int, continuing run: Int64?, in store: Store,
                      progress: ((LanguageModelTraining.Progress) -> Void)? = nil,
                      shouldStop: @escaping () -> Bool) throws {
        let neural = space.sampleTrials(corpus: corpus, valid: valid, vocabulary: vocabulary ?? name, search: name)
        guard let options = neural.first(where: { $0.name == trial }) else {
            throw SearchError.unknownTrial(name: name, trial: trial)
        }
        try train(options, to: epochs, existing: run, in: store, progress: progress, shouldStop: shouldStop)
    }

    /// Checks the stored trials against the ones drawn (with ``replace`` their runs stay as history and their
    /// models are overwritten).
    private func prepare(_ neural: [LanguageModelTraining], in store: Store) throws {
        let names = Set(neural.map(\.name))
        let stored = try store.runs().filter { names.contains($0.name) }
        if replace { return }
        guard !stored.isEmpty else { return }
        guard resume else { throw SearchError.exists(name: name, trials: Set(stored.map(\.name)).count) }
        for options in neural {
            guard let run = stored.last(where: { $0.name == options.name }) else { continue }
            // What decides the results, epochs aside (a trial's grow rung by rung).
            var saved = try LanguageModelTraining.resuming(run: run.id, in: store)
            saved.epochs = options.epochs
            guard try saved.configurationJSON() == options.configurationJSON() else {
                throw SearchError.otherSpace(name: name, trial: options.name)
            }
        }
    }

    /// Trains (or continues) a neural trial until it has `epochs` epochs.
    private func train(_ options: LanguageModelTraining, to epochs: Int, existing run: Int64?, in store: Store,
                       progress: ((LanguageModelTraining.Progress) -> Void)?, shouldStop: @escaping () -> Bool)
        throws {
        var training: LanguageModelTraining
        if let run {
            training = try LanguageModelTraining.resuming(run: run, in: store)
            training.resume = run
        } else {
            training = options
            training.replace = true
        }
        training.epochs = epochs
        _ = try training.run(in: store, progress: progress, shouldStop: shouldStop)
    }

    /// A neural trial as the store has it: its latest run, epochs and best validation perplexity.
    func storedTrial(_ options: LanguageModelTraining, in store: Store, rung: Int = 0, since firstRun: Int64)
        throws -> SearchTrial {
        var trial = SearchTrial(model: options.name, family: options.cell.rawValue, settings: settings(of: options),
                                run: nil, rung: 0, epochs: 0, validPerplexity: nil, seconds: 0)
        guard let run = try store.runs().last(where: { $0.name == options.name && $0.id >= firstRun }) else {
            return trial
        }
        let metrics = try store.metrics(run: run.id)
        trial.run = run.id
        // An epoch counts once validated (a stop between an epoch's last window and its validation leaves the
        // validation to the resumed run).
        trial.epochs = metrics.filter { $0.split == .valid }.map(\.epoch).max() ?? 0
        // The last rung whose epochs it has reached, among the rungs that add epochs (past maxEpochs none do).
        let rungs = (0...16).prefix { $0 == 0 || space.epochs(rung: $0 - 1) < space.epochs(rung: $0) }
        trial.rung = max(rung, rungs.last { space.epochs(rung: $0) <= trial.epochs } ?? 0)
        trial.validPerplexity = metrics.filter { $0.split == .valid }.compactMap(\.perplexity).min()
        trial.seconds = metrics.compactMap(\.wallSeconds).max() ?? 0
        return trial
    }

    func settings(of t: LanguageModelTraining) -> String {
        var parts = ["layers=\(t.layers)", "hidden=\(t.hidden)"]
        if let width = t.width { parts.append("width=\(width)") }
        if t.tiedEmbeddings { parts.append("tied") }
        parts += ["dropout=\(t.dropout)", "\(t.optimizer.rawValue) lr=" + String(format: "%.2g", t.resolvedLearningRate),
                  "bptt=\(t.steps)", "batch=\(t.batch)"]
        return parts.joined(separator: " ")
    }

    /// An n-gram trial: trained unless stored, scored on the validation text as the neural models are (every token
    /// from the ones before it).
    private func ngramTrial(order: Int, vocabulary: String, in store: Store) throws -> SearchTrial {
        let model = "\(name).kn\(order)"
        var seconds = 0.0  // the time spent training it now (none when it is stored)
        if (try? store.model(named: model)) == nil || replace {
            let start = Date()
            _ = try store.trainNGramModel(corpus: corpus, vocabulary: vocabulary, order: order, model: model,
                                          replace: true)
            seconds = Date().timeIntervalSince(start)
        }
        let (ngram, stored) = try store.loadNGramModel(named: model)
        let ids = try TokenIDs.encode(file: valid, vocabulary: stored).ids
        let p = Store.ngramProbabilities(ngram, ids: ids, vocabulary: stored)
        let loss = p.dropFirst().reduce(0.0) { $0 - log(Double($1)) } / Double(max(1, p.count - 1))
        return SearchTrial(model: model, family: "ngram", settings: "order=\(order) modified Kneser-Ney", run: nil,
                           rung: 0, epochs: 0, validPerplexity: exp(loss), seconds: seconds)
    }

    /// Saves the best trial's model under the search's name.
    private func promote(_ best: SearchTrial, vocabulary: String, in store: Store) throws {
        let notes = ["search": name, "trial": best.model, "settings": best.settings]
        if best.family == "ngram" {
            let (ngram, _) = try store.loadNGramModel(named: best.model)
            let tokens = try TokenIDs.encode(file: corpus, vocabulary: try store.vocabulary(named: vocabulary)).count
            try store.saveNGramModel(ngram, name: name, vocabulary: vocabulary, tokens: tokens, replace: true)
        } else {
            let (model, _) = try store.loadStreamLanguageModel(named: best.model)
            try store.saveLanguageModel(model, name: name, vocabulary: vocabulary, training: notes, replace: true)
        }
    }
}

/// A trial to train in another process: `quill search --jobs` starts one `quill` per trial.
public struct TrialRequest: Sendable, Equatable {
    /// The trial's name, `NAME.trial-i`.
    public var trial: String
    /// The epochs it should have when done.
    public var epochs: Int
    /// Its run to continue (nil: a new run).
    public var run: Int64?
    /// When the search's budget ends: the trial checkpoints and stops then.
    public var deadline: Date
    /// How many trials train at once with it: its share of the threads is `1/parallel`.
    public var parallel: Int
}

/// A trial training in another process.
public protocol TrialProcess: AnyObject {
    var isRunning: Bool { get }
    /// Asks it to checkpoint and stop.
    func stop()
    /// After it ended: throws when it failed (a stop asked for, or the deadline, is not a failure).
    func finish() throws
}

/// How a search trains trials in parallel: `jobs` processes at a time, each started by `launch`.
public struct TrialProcesses: Sendable {
    public var jobs: Int
    public var launch: @Sendable (TrialRequest) throws -> any TrialProcess

    public init(jobs: Int, launch: @escaping @Sendable (TrialRequest) throws -> any TrialProcess) {
        self.jobs = jobs
        self.launch = launch
    }
}
