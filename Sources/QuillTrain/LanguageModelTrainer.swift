import QuillNN
import QuillTensor

/// Trains a ``LanguageModel`` on one id stream by truncated backpropagation through time.
///
/// Each window: forward from the state the previous window left (detached: no gradient crosses a window boundary),
/// backward, clip the global gradient norm, one optimizer step. The state is carried across the windows of an epoch
/// and starts from zeros at each epoch, as in Zaremba et al. (2014) and pytorch/examples' word_language_model.
public final class LanguageModelTrainer {
    /// The update rule, with its state (momentum, Adam moments, step count).
    public enum Optimizer {
        case sgd(SGD)
        case adam(Adam)
    }

    public let model: LanguageModel
    public private(set) var batcher: Batcher
    public let optimizer: Optimizer
    /// The global gradient norm is clipped to this (PyTorch's `clip_grad_norm_`); `nil` for no clipping.
    public let clipNorm: Float?
    /// Windows trained in this trainer's lifetime (the optimizer's steps).
    public private(set) var step = 0
    /// Draws the dropout masks (when the model has dropout); part of a checkpoint's state.
    public var rng: RNG

    private var hidden: [Float]?
    private var cell: [Float]?

    /// - Throws: ``TrainError`` when the stream is too small for `batch` streams.
    /// - Parameter rng: the generator of dropout masks (unused when the model has no dropout).
    public init(model: LanguageModel, trainIDs: [Int32], batch: Int, steps: Int, optimizer: Optimizer,
                clipNorm: Float?, rng: RNG = RNG(seed: 0)) throws {
        self.model = model
        self.rng = rng
        batcher = try Batcher(ids: trainIDs, batchSize: batch, steps: steps)
        self.optimizer = optimizer
        self.clipNorm = clipNorm
    }

    /// The optimizer's learning rate (set it per epoch from a ``LearningRateSchedule``).
    public var learningRate: Float {
        get {
            switch optimizer {
            case .sgd(let sgd): sgd.learningRate
            case .adam(let adam): adam.learningRate
            }
        }
        set {
            switch optimizer {
            case .sgd(let sgd): sgd.learningRate = newValue
            case .adam(let adam): adam.learningRate = newValue
            }
        }
    }

    /// Starts a new epoch: the first window, and zero state.
    public func startEpoch() {
        batcher.startEpoch()
        hidden = nil
        cell = nil
    }

    /// Trains on up to `windows` windows, stopping at the end of the epoch.
    /// - Parameter progress: called after each window with (windows done in the epoch, windows per epoch, the
    ///   window's mean loss).
    /// - Returns: the mean loss per target (in nats, under either loss convention) over the windows trained, and how many there were (0 at the epoch's end).
    @discardableResult
    public func train(windows: Int = .max, pool: ThreadPool = .shared,
                      progress: ((Int, Int, Double) -> Void)? = nil) -> (meanLoss: Double, windows: Int) {
        var loss = RunningMean()
        var done = 0
        var inputs = [Int32](repeating: 0, count: batcher.windowCapacity)
        var targets = inputs
        model.isTraining = true
        while done < windows, let t = batcher.next(inputs: &inputs, targets: &targets) {
            let n = t * batcher.batchSize
            let windowLoss = model.forward(
                inputs: n == inputs.count ? inputs : Array(inputs[..<n]),
                targets: n == targets.count ? targets : Array(targets[..<n]),
                steps: t, batch: batcher.batchSize, h0: hidden, c0: cell, rng: &rng, pool: pool)
            model.parameters.zeroGradients()
            model.backward(pool: pool)
            if let clipNorm { _ = GradientClipping.clipGlobalNorm(model.parameters, maxNorm: clipNorm, pool: pool) }
            switch optimizer {
            case .sgd(let sgd): sgd.update(model.parameters, pool: pool)
            case .adam(let adam): adam.update(model.parameters, pool: pool)
            }
            hidden = model.finalHidden
            cell = model.configuration.kind == .lstm ? model.finalCell : nil
            loss.add(perToken(windowLoss, steps: t), weight: n)
            done += 1
            step += 1
            progress?(batcher.position, batcher.windowCount, windowLoss)
        }
        return (loss.mean, done)
    }

    /// A window's loss as the mean per target, whatever the model's loss convention (the summed one is `T ×` it).
    private func perToken(_ windowLoss: Double, steps: Int) -> Double {
        model.lossConvention == .sumOverTimeMeanOverBatch ? windowLoss / Double(steps) : windowLoss
    }

    /// The mean loss per target of `ids` under the current parameters, without training: the same windowing, state
    /// carried across windows from zeros.
    public func evaluate(_ ids: [Int32], batch: Int, steps: Int, pool: ThreadPool = .shared) throws -> Double {
        let wasTraining = model.isTraining
        model.isTraining = false  // no dropout
        defer { model.isTraining = wasTraining }
        var windows = try Batcher(ids: ids, batchSize: batch, steps: steps)
        var loss = RunningMean()
        var inputs = [Int32](repeating: 0, count: windows.windowCapacity)
        var targets = inputs
        var h: [Float]?
        var c: [Float]?
        while let t = windows.next(inputs: &inputs, targets: &targets) {
            let n = t * batch
            let windowLoss = model.forward(inputs: n == inputs.count ? inputs : Array(inputs[..<n]),
                                           targets: n == targets.count ? targets : Array(targets[..<n]),
                                           steps: t, batch: batch, h0: h, c0: c, pool: pool)
            h = model.finalHidden
            c = model.configuration.kind == .lstm ? model.finalCell : nil
            loss.add(perToken(windowLoss, steps: t), weight: n)
        }
        return loss.mean
    }
}
