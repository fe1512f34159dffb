import Foundation
import QuillTensor

// The one training loop: any model with its data (a ``TrainingObjective``), any ``Optimizer``, checkpoints through a
// ``TrainingRecorder``. See docs/training.md.

/// A flat tensor under a name: how the loop hands state to a checkpoint without knowing where checkpoints go.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// What the forward pass of one batch measured.
public struct BatchLoss: Sendable, Equatable {
    /// The mean loss per target (nats for a cross-entropy), whatever reduction the gradient was taken of.
    public var loss: Double
    /// Targets the batch predicted; the weight of ``loss`` in an epoch's mean.
    public var targets: Int

    public init(loss: Double, targets: Int) {
        self.loss = loss
        self.targets = targets
    }
}

/// A model and its training data, as the loop sees them: parameters, a forward pass over the next batch to a loss,
/// and the backward pass of that batch.
///
/// State carried from one batch to the next (a recurrent model's final state under truncated BPTT) belongs to the
/// objective: ``startEpoch(_:)`` clears it, ``commit()`` carries it after an applied update, ``carriedState`` and
/// ``resume(at:carried:)`` save and restore it between two batches.
public protocol TrainingObjective: AnyObject {
    /// The parameters and, in a twin buffer, their gradients.
    var parameters: ParameterSet { get }
    /// Batches in one pass over the data.
    var batchesPerEpoch: Int { get }
    /// The next batch's index and the shape of the data it belongs to (a checkpoint saves it; a resume with data of
    /// another shape is refused).
    var dataPosition: DataPosition { get }
    /// Moves to the first batch of epoch `epoch` (1-based) and clears any carried state.
    func startEpoch(_ epoch: Int)
    /// Continues an epoch at `position` with the state ``carriedState`` saved there.
    /// - Throws: ``TrainError`` when the position or the state belongs to another shape.
    func resume(at position: DataPosition, carried: [NamedTensor]) throws
    /// Runs forward over the next batch to its loss, keeping what backward needs.
    /// - Returns: the loss, or `nil` when the epoch is done.
    func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss?
    /// Adds the gradient of the last forward's loss into `parameters.gradients` (which the loop zeroed).
    func backward(pool: ThreadPool)
    /// The last batch's update was applied: carry what the next batch starts from.
    func commit()
    /// The state carried into the next batch, as named tensors (empty when nothing is carried).
    var carriedState: [NamedTensor] { get }
    /// The mean validation loss per target under the current parameters, or `nil` without validation data.
    func validationLoss(pool: ThreadPool) throws -> Double?
    /// Whether an epoch's mean loss (training or validation) means training diverged. By default: NaN or infinite.
    func hasDiverged(loss: Double) -> Bool
    /// The rows of an embedding table the last batch touched, when only they have a gradient: a data-parallel job
    /// then sends only those (``DataParallel``). By default nil: the whole gradient is dense.
    var sparseGradientRows: SparseRows? { get }
}

extension TrainingObjective {
    public func hasDiverged(loss: Double) -> Bool { !loss.isFinite }
    public var sparseGradientRows: SparseRows? { nil }
}

/// An embedding table in the flat gradient buffer, and the rows of it a batch touched (any order, repeats allowed):
/// the other rows' gradients are zero.
public struct SparseRows: Sendable {
    /// Where the table `[rowCount][width]` starts in the flat buffer.
    public var offset: Int
    public var rowCount: Int
    public var width: Int
    public var rows: [Int32]

    public init(offset: Int, rowCount: Int, width: Int, rows: [Int32]) {
        (self.offset, self.rowCount, self.width, self.rows) = (offset, rowCount, width, rows)
    }
}

/// Where the loop writes checkpoints and keeps the best model: a store, a directory, or nothing (`nil`).
public protocol TrainingRecorder: AnyObject {
    /// Writes a checkpoint (everything besides `tensors` is in `state`) together with `metrics`, atomically.
    func saveCheckpoint(state: TrainingState, tensors: [NamedTensor], metrics: [TrainingMetric]) throws
    /// The epoch just validated is the best so far (or there is no validation): keep its parameters as the model.
    func saveBest(epoch: Int, trainLoss: Double, validLoss: Double?) throws
}

/// A measurement the loop records with a checkpoint.
public struct TrainingMetric: Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    /// Measured on the validation data, else on the training data.
    public var isValidation: Bool
    public var loss: Double
    /// Targets per second over the epoch; `nil` for the running loss written at a checkpoint between two batches.
    public var targetsPerSecond: Double?
    public var wallSeconds: Double

    public init(step: Int, epoch: Int, isValidation: Bool = false, loss: Double, targetsPerSecond: Double? = nil,
                wallSeconds: Double) {
        self.step = step
        self.epoch = epoch
        self.isValidation = isValidation
        self.loss = loss
        self.targetsPerSecond = targetsPerSecond
        self.wallSeconds = wallSeconds
    }
}

/// Where in a run a checkpoint was taken.
public struct CheckpointPlace: Equatable, Sendable, CustomStringConvertible {
    public var epoch: Int
    /// Windows done in the epoch, and the epoch's windows; equal at an epoch's end.
    public var window: Int
    public var windows: Int
    /// Optimizer steps since the start of the run.
    public var step: Int

    public init(epoch: Int, window: Int, windows: Int, step: Int) {
        self.epoch = epoch
        self.window = window
        self.windows = windows
        self.step = step
    }

    public var description: String {
        window >= windows ? "the end of epoch \(epoch), step \(step)"
            : "epoch \(epoch), window \(window) of \(windows), step \(step)"
    }
}

/// What one trained batch measured.
public struct StepResult: Sendable, Equatable {
    /// The mean loss per target.
    public var loss: Double
    public var targets: Int
    /// The global gradient norm before clipping.
    public var gradientNorm: Float
    /// Whether the loss and the gradient are finite. When not, the parameters were left unchanged.
    public var isFinite: Bool { loss.isFinite && gradientNorm.isFinite }
}

/// Progress within an epoch, after each batch.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    /// Batches done in the epoch.
    public var window: Int
    /// Batches the epoch will train.
    public var windows: Int
    /// The mean loss per target of the last batch.
    public var loss: Double
    /// Targets per second in this epoch, since it started or was resumed.
    public var tokensPerSecond: Double
    public var seconds: Double
    /// Estimated seconds to the end of the epoch, from the rate so far.
    public var etaSeconds: Double?
}

/// What one epoch measured.
public struct EpochReport: Sendable, Equatable {
    public var epoch: Int
    /// The optimizer steps taken since the start of the run.
    public var step: Int
    /// The learning rate of the epoch.
    public var learningRate: Double
    /// Mean training loss per target over the epoch.
    public var trainLoss: Double
    public var trainPerplexity: Double { exp(trainLoss) }
    public var validLoss: Double?
    public var validPerplexity: Double? { validLoss.map(exp) }
    /// Whether this epoch's model is the best so far (and so the one saved).
    public var isBest: Bool
    /// Targets per second over the epoch.
    public var tokensPerSecond: Double
    public var seconds: Double
}

/// One batch: forward, zero the gradients, backward, the whole job's gradient when `group` is a data-parallel job
/// (``DataParallel``), the global norm (clipped to `clipNorm`), and the optimizer's update unless the loss or the
/// norm is NaN or infinite; then the objective carries its state.
/// - Returns: what the batch measured (over all ranks of `group`), or `nil` when the epoch is done.
public func trainStep<Objective: TrainingObjective>(
    _ objective: Objective, optimizer: any Optimizer, clipNorm: Float?, rng: inout RNG, pool: ThreadPool = .shared,
    group: (any ProcessGroup)? = nil
) -> StepResult? {
    let forward: BatchLoss?
    if let group {
        var mine = DataParallel.rankGenerator(&rng, group: group)  // this rank's masks; `rng` stays the job's
        forward = objective.forward(rng: &mine, pool: pool)
    } else {
        forward = objective.forward(rng: &rng, pool: pool)
    }
    guard let local = forward else { return nil }
    let parameters = objective.parameters
    parameters.zeroGradients()
    objective.backward(pool: pool)
    let batch = group.map {
        DataParallel.reduce(local, gradients: parameters.gradients.buffer, sparse: objective.sparseGradientRows,
                            over: $0)
    } ?? local
    let norm = if let clipNorm {
        GradientClipping.clipGlobalNorm(parameters, maxNorm: clipNorm, pool: pool)
    } else {
        GradientClipping.globalNorm(UnsafeBufferPointer(parameters.gradients.buffer), pool: pool)
    }
    let result = StepResult(loss: batch.loss, targets: batch.targets, gradientNorm: norm)
    guard result.isFinite else { return result }
    optimizer.update(parameters, pool: pool)
    objective.commit()
    return result
}

/// Trains a ``TrainingObjective`` epoch by epoch: the learning-rate schedule, validation, the best model, early
/// stopping, the stop on a non-finite loss, and checkpoints at each epoch's end, every N batches, every N minutes
/// and on a stop request.
///
/// A checkpoint holds the parameters, the optimizer's state buffers (`optimizer.<name>`), the objective's carried
/// state and a ``TrainingState``; ``restore(_:tensors:)`` from it continues bit-identically to a run never stopped.
public final class TrainingLoop<Objective: TrainingObjective> {
    /// How long and how to train, and when to checkpoint.
    public struct Configuration: Sendable {
        public var epochs: Int
        /// At most this many batches per epoch (`nil`: all), for smoke runs.
        public var maxBatchesPerEpoch: Int?
        /// The global gradient norm is clipped to this; `nil` for no clipping.
        public var clipNorm: Float?
        public var schedule: LearningRateSchedule
        /// Stop after this many epochs without a better validation loss; `nil` never stops early.
        public var patience: Int?
        /// Also checkpoint every this many steps (besides each epoch's end).
        public var checkpointEvery: Int?
        /// Also checkpoint when this many minutes have passed since the last checkpoint.
        public var checkpointMinutes: Double?
        /// Identifies the data's encoding (a vocabulary's fingerprint); recorded in each checkpoint.
        public var dataFingerprint: String?
        /// Training seconds the run may spend (over all its sessions); `nil` for no limit. When they are spent, the
        /// epoch in progress ends at the batch then running (validated and checkpointed as any epoch's end) and the
        /// run ends.
        public var timeBudget: Double?

        public init(epochs: Int, maxBatchesPerEpoch: Int? = nil, clipNorm: Float? = nil,
                    schedule: LearningRateSchedule, patience: Int? = nil, checkpointEvery: Int? = nil,
                    checkpointMinutes: Double? = nil, dataFingerprint: String? = nil, timeBudget: Double? = nil) {
            self.epochs = epochs
            self.maxBatchesPerEpoch = maxBatchesPerEpoch
            self.clipNorm = clipNorm
            self.schedule = schedule
            self.patience = patience
            self.checkpointEvery = checkpointEvery
            self.checkpointMinutes = checkpointMinutes
            self.dataFingerprint = dataFingerprint
            self.timeBudget = timeBudget
        }
    }

    /// What a run of the loop did.
    public struct Summary: Sendable {
        /// The epochs trained in this session.
        public var epochs: [EpochReport]
        /// The epoch whose parameters were kept as the best, in this session.
        public var savedEpoch: Int?
        /// Whether early stopping ended the run before ``Configuration/epochs``.
        public var stoppedEarly: Bool
        /// Whether ``Configuration/timeBudget`` ended the run.
        public var budgetSpent = false
    }

    public let objective: Objective
    public let optimizer: any Optimizer
    public let configuration: Configuration
    public let recorder: (any TrainingRecorder)?
    public let pool: ThreadPool
    /// Draws the dropout masks (and any other randomness of the objective); part of a checkpoint.
    public var rng: RNG
    /// The job this process is one rank of, for data-parallel training (``DataParallel``); `nil` for one process.
    /// Every rank runs the same loop over its own share of the data (the objective's), with every decision (a stop,
    /// the time budget, a checkpoint's minutes) agreed over the group so all take the same path; only rank 0 should
    /// have a recorder.
    public let group: (any ProcessGroup)?

    public private(set) var schedule: LearningRateSchedule
    public private(set) var earlyStopping: EarlyStopping
    /// The epoch in progress (1-based).
    public private(set) var epoch = 1
    /// Batches trained in this session (a non-finite one included).
    public private(set) var sessionSteps = 0
    public private(set) var targetsSeen = 0
    /// The last checkpoint written or restored.
    public private(set) var lastCheckpoint: CheckpointPlace?

    private var stepOffset = 0
    private let start = Date()
    private var earlierWallTime = 0.0
    private var lastCheckpointTime = Date()
    private var resumeInEpoch: (position: DataPosition, carried: [NamedTensor], loss: RunningMean)?

    public init(objective: Objective, optimizer: any Optimizer, configuration: Configuration,
                recorder: (any TrainingRecorder)?, rng: RNG, pool: ThreadPool = .shared,
                group: (any ProcessGroup)? = nil) {
        self.objective = objective
        self.group = group
        self.optimizer = optimizer
        self.configuration = configuration
        self.recorder = recorder
        self.rng = rng
        self.pool = pool
        schedule = configuration.schedule
        earlyStopping = EarlyStopping(patience: configuration.patience)
    }

    /// Steps since the start of the run, over all its sessions.
    public var globalStep: Int { stepOffset + sessionSteps }
    /// Training seconds since the start of the run, over all its sessions.
    public var wallTime: Double { earlierWallTime + Date().timeIntervalSince(start) }
    /// Batches the epoch trains: all, or ``Configuration/maxBatchesPerEpoch``.
    public var batchesPerEpoch: Int { min(objective.batchesPerEpoch, configuration.maxBatchesPerEpoch ?? .max) }

    /// Checks that a checkpoint's data position belongs to data of this shape (batch, window, stream length), before
    /// anything of it is loaded.
    /// - Throws: ``TrainError/batcherMismatch(saved:current:)``.
    public func checkData(of state: TrainingState) throws {
        let current = objective.dataPosition
        guard state.data.hasSameShape(as: current) else {
            throw TrainError.batcherMismatch(saved: state.data.shape, current: current.shape)
        }
    }

    /// Continues from a checkpoint: `state` and the tensors besides the parameters (which the caller loads with its
    /// own checks): `optimizer.<name>` for each of the optimizer's state buffers, and the objective's carried state.
    /// A schedule whose initial rate differs from the saved one restarts from the configured rate.
    /// - Throws: ``TrainError/batcherMismatch(saved:current:)`` for data of another shape (``checkData(of:)``),
    ///   ``TrainError/stateFormat(reason:)`` for a missing or misshapen optimizer buffer.
    public func restore(_ state: TrainingState, tensors: [NamedTensor]) throws {
        try checkData(of: state)
        for (name, buffer) in optimizer.stateBuffers {
            guard let tensor = tensors.first(where: { $0.name == "optimizer." + name }),
                  tensor.values.count == buffer.count else {
                throw TrainError.stateFormat(reason: "the checkpoint has no optimizer.\(name) of \(buffer.count) "
                    + "values for this optimizer")
            }
            tensor.values.withUnsafeBufferPointer { _ = buffer.buffer.update(fromContentsOf: $0) }
        }
        optimizer.step = state.optimizerStep
        rng = RNG(state: state.rngState)
        schedule = state.schedule.initialLR == configuration.schedule.initialLR ? state.schedule
            : configuration.schedule
        earlyStopping = state.earlyStopping
        earlyStopping.patience = configuration.patience
        stepOffset = state.globalStep
        targetsSeen = state.tokensSeen
        earlierWallTime = state.wallTime
        let windows = batchesPerEpoch
        if state.epochComplete {
            epoch = state.epoch + 1
            lastCheckpoint = CheckpointPlace(epoch: state.epoch, window: windows, windows: windows,
                                             step: state.globalStep)
        } else {
            epoch = state.epoch
            let carried = tensors.filter { !$0.name.hasPrefix("optimizer.") }
            resumeInEpoch = (state.data, carried, state.epochLoss)
            lastCheckpoint = CheckpointPlace(epoch: state.epoch, window: state.data.batch, windows: windows,
                                             step: state.globalStep)
        }
    }

    /// Trains the remaining epochs.
    /// - Parameters:
    ///   - progress: called after each batch.
    ///   - epochEnd: called after each epoch (and its checkpoint); an error it throws stops the run.
    ///   - shouldStop: asked after each batch; `true` writes a checkpoint and throws ``TrainError/stopped(at:)``.
    /// - Throws: ``TrainError/diverged(epoch:step:checkpoint:)`` when a training or validation loss (or the
    ///   gradient) is NaN or infinite: nothing of that batch or epoch is applied or kept. ``TrainError/stopped(at:)``.
    ///   The recorder's errors.
    public func run(progress: ((TrainingProgress) -> Void)? = nil, epochEnd: ((EpochReport) throws -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil) throws -> Summary {
        var reports: [EpochReport] = []
        var savedEpoch: Int?
        var stoppedEarly = false
        while epoch <= configuration.epochs {
            let report = try trainEpoch(progress: progress, shouldStop: shouldStop)
            if report.isBest { savedEpoch = report.epoch }
            reports.append(report)
            try epochEnd?(report)
            epoch += 1
            let (budgetSpent, stop) = agree(isBudgetSpent, epoch <= configuration.epochs && shouldStop?() == true)
            if budgetSpent {
                return Summary(epochs: reports, savedEpoch: savedEpoch, stoppedEarly: false, budgetSpent: true)
            }
            if earlyStopping.shouldStop {
                stoppedEarly = epoch <= configuration.epochs
                break
            }
            if stop, let lastCheckpoint {
                throw TrainError.stopped(at: lastCheckpoint)
            }
        }
        return Summary(epochs: reports, savedEpoch: savedEpoch, stoppedEarly: stoppedEarly)
    }

    /// Trains the epoch in progress to its end (from a mid-epoch checkpoint when one was restored), validates, keeps
    /// the model if it is the best so far, and checkpoints.
    private func trainEpoch(progress: ((TrainingProgress) -> Void)?, shouldStop: (() -> Bool)?) throws
        -> EpochReport {
        let epochStart = Date()
        let rate = schedule.lr(forEpoch: epoch)
        optimizer.learningRate = Float(rate)
        var epochLoss = RunningMean()
        if let saved = resumeInEpoch {
            try objective.resume(at: saved.position, carried: saved.carried)
            epochLoss = saved.loss
            resumeInEpoch = nil
        } else {
            objective.startEpoch(epoch)
        }
        let windows = batchesPerEpoch
        let firstWindow = objective.dataPosition.batch
        var targets = 0
        while objective.dataPosition.batch < windows,
              let step = trainStep(objective, optimizer: optimizer, clipNorm: configuration.clipNorm, rng: &rng,
                                   pool: pool, group: group) {
            sessionSteps += 1
            guard step.isFinite else {
                throw TrainError.diverged(epoch: epoch, step: globalStep, checkpoint: lastCheckpoint)
            }
            epochLoss.add(step.loss, weight: step.targets)
            targetsSeen += step.targets
            targets += step.targets
            let done = objective.dataPosition.batch
            let seconds = Date().timeIntervalSince(epochStart)
            progress?(TrainingProgress(
                epoch: epoch, epochs: configuration.epochs, window: done, windows: windows, loss: step.loss,
                tokensPerSecond: seconds > 0 ? Double(targets) / seconds : 0, seconds: seconds,
                etaSeconds: seconds > 0 ? Double(windows - done) * seconds / Double(done - firstWindow) : nil))
            guard done < windows else { break }
            let (budgetSpent, stop, due) = agree(isBudgetSpent, shouldStop?() ?? false, checkpointDue)
            if budgetSpent { break }
            if stop || due {
                let place = try checkpoint(epochLoss: epochLoss, complete: false, metrics: [
                    TrainingMetric(step: globalStep, epoch: epoch, loss: epochLoss.mean, wallSeconds: wallTime),
                ])
                if stop { throw TrainError.stopped(at: place) }
            }
        }
        let trainSeconds = Date().timeIntervalSince(epochStart)
        let targetsPerSecond = trainSeconds > 0 ? Double(targets) / trainSeconds : 0

        let validLoss = try objective.validationLoss(pool: pool)
        // A diverged epoch (e.g. a loss whose perplexity overflows) stops the run; it is never the best model.
        guard !objective.hasDiverged(loss: epochLoss.mean), !(validLoss.map(objective.hasDiverged) ?? false) else {
            throw TrainError.diverged(epoch: epoch, step: globalStep, checkpoint: lastCheckpoint)
        }
        var isBest = true
        if let validLoss {
            schedule.update(validationLoss: validLoss)
            isBest = earlyStopping.record(epoch: epoch, validationLoss: validLoss)
        }
        if isBest { try recorder?.saveBest(epoch: epoch, trainLoss: epochLoss.mean, validLoss: validLoss) }
        var metrics = [TrainingMetric(step: globalStep, epoch: epoch, loss: epochLoss.mean,
                                      targetsPerSecond: targetsPerSecond, wallSeconds: wallTime)]
        if let validLoss {
            metrics.append(TrainingMetric(step: globalStep, epoch: epoch, isValidation: true, loss: validLoss,
                                          wallSeconds: wallTime))
        }
        try checkpoint(epochLoss: epochLoss, complete: true, metrics: metrics)
        return EpochReport(epoch: epoch, step: globalStep, learningRate: rate, trainLoss: epochLoss.mean,
                           validLoss: validLoss, isBest: isBest, tokensPerSecond: targetsPerSecond,
                           seconds: Date().timeIntervalSince(epochStart))
    }

    /// The flags as the whole job raised them (any rank), so that every rank takes the same path; as they are for one
    /// process.
    private func agree(_ a: Bool, _ b: Bool) -> (Bool, Bool) {
        let all = group?.any([a, b]) ?? [a, b]
        return (all[0], all[1])
    }

    private func agree(_ a: Bool, _ b: Bool, _ c: Bool) -> (Bool, Bool, Bool) {
        let all = group?.any([a, b, c]) ?? [a, b, c]
        return (all[0], all[1], all[2])
    }

    /// Whether the run has spent ``Configuration/timeBudget`` (on this rank's clock; see ``agree(_:_:)``).
    private var isBudgetSpent: Bool { configuration.timeBudget.map { wallTime >= $0 } ?? false }

    private var checkpointDue: Bool {
        if let every = configuration.checkpointEvery, globalStep % every == 0 { return true }
        if let minutes = configuration.checkpointMinutes,
           Date().timeIntervalSince(lastCheckpointTime) >= minutes * 60 {
            return true
        }
        return false
    }

    /// The state a checkpoint records now.
    public func state(epochLoss: RunningMean, complete: Bool) -> TrainingState {
        TrainingState(
            epoch: epoch, epochComplete: complete, globalStep: globalStep, data: objective.dataPosition,
            schedule: schedule, earlyStopping: earlyStopping, rngState: rng.state, optimizerStep: optimizer.step,
            tokensSeen: targetsSeen, wallTime: wallTime, epochLoss: epochLoss,
            vocabularyFingerprint: configuration.dataFingerprint)
    }

    /// Writes a checkpoint of the run as it is now, with `metrics` (when there is a recorder).
    @discardableResult
    private func checkpoint(epochLoss: RunningMean, complete: Bool, metrics: [TrainingMetric]) throws
        -> CheckpointPlace {
        let windows = batchesPerEpoch
        let place = CheckpointPlace(epoch: epoch, window: complete ? windows : objective.dataPosition.batch,
                                    windows: windows, step: globalStep)
        // A data-parallel objective gathers its carried state from every rank: all ranks come here, recorder or not.
        let carried = complete ? [] : objective.carriedState
        guard let recorder else { return place }
        let parameters = objective.parameters
        var tensors = parameters.entries.map { entry in
            NamedTensor(name: entry.name, shape: entry.shape, values: parameters.value(entry.name)!.scalars)
        }
        tensors += optimizer.stateBuffers.map { name, buffer in
            NamedTensor(name: "optimizer." + name, shape: [buffer.count], values: Array(buffer.buffer))
        }
        tensors += carried
        try recorder.saveCheckpoint(state: state(epochLoss: epochLoss, complete: complete), tensors: tensors,
                                    metrics: metrics)
        lastCheckpointTime = Date()
        lastCheckpoint = place
        return place
    }
}
