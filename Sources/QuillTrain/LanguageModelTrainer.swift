import QuillNN
import QuillTensor

/// Trains a ``LanguageModel`` on one id stream by truncated backpropagation through time.
///
/// Each window: forward from the state the previous window left (detached: no gradient crosses a window boundary),
/// backward, clip the global gradient norm, one optimizer step. The state is carried across the windows of an epoch
/// and starts from zeros at each epoch, as in Zaremba et al. (2014) and pytorch/examples' word_language_model.
///
/// ``trainWindow(pool:)`` trains one window, so a caller can checkpoint, report or stop between any two; the carried
/// state (``carriedHidden``, ``carriedCell``), the batcher's position, ``rng`` and the optimizer are everything a
/// checkpoint needs to continue bit-identically.
public final class LanguageModelTrainer {
    /// The update rule, with its state (momentum, Adam moments, step count).
    public enum Optimizer {
        case sgd(SGD)
        case adam(Adam)

        /// Optimizer steps taken.
        public var step: Int {
            get {
                switch self {
                case .sgd(let sgd): sgd.step
                case .adam(let adam): adam.step
                }
            }
            nonmutating set {
                switch self {
                case .sgd(let sgd): sgd.step = newValue
                case .adam(let adam): adam.step = newValue
                }
            }
        }
    }

    /// What one trained window measured.
    public struct Window: Sendable, Equatable {
        /// The mean loss per target, in nats (under either loss convention).
        public var loss: Double
        /// Targets predicted: `t·B`.
        public var targets: Int
        /// The global gradient norm before clipping.
        public var gradientNorm: Float
        /// Whether the loss and the gradient are finite. When not, the parameters were left unchanged.
        public var isFinite: Bool { loss.isFinite && gradientNorm.isFinite }
    }

    public let model: LanguageModel
    public private(set) var batcher: Batcher
    public let optimizer: Optimizer
    /// The global gradient norm is clipped to this (PyTorch's `clip_grad_norm_`); `nil` for no clipping.
    public let clipNorm: Float?
    /// Windows trained in this trainer's lifetime.
    public private(set) var step = 0
    /// Draws the dropout masks (when the model has dropout); part of a checkpoint's state.
    public var rng: RNG
    /// The recurrent state the next window starts from, `[layers, B, hidden]`; `nil` is zeros.
    public private(set) var carriedHidden: [Float]?
    /// The LSTM cell state the next window starts from; `nil` is zeros (and always for GRU and RNN).
    public private(set) var carriedCell: [Float]?

    private var inputs: [Int32]
    private var targets: [Int32]

    /// - Throws: ``TrainError`` when the stream is too small for `batch` streams.
    /// - Parameter rng: the generator of dropout masks (unused when the model has no dropout).
    public init(model: LanguageModel, trainIDs: [Int32], batch: Int, steps: Int, optimizer: Optimizer,
                clipNorm: Float?, rng: RNG = RNG(seed: 0)) throws {
        self.model = model
        self.rng = rng
        batcher = try Batcher(ids: trainIDs, batchSize: batch, steps: steps)
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        inputs = [Int32](repeating: 0, count: batcher.windowCapacity)
        targets = inputs
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
        carriedHidden = nil
        carriedCell = nil
    }

    /// Continues an epoch from a checkpoint: the next window and the state carried into it.
    /// - Throws: ``TrainError`` when the saved position belongs to another stream shape, or the state has the wrong
    ///   size.
    public func resume(at saved: Batcher.State, hidden: [Float]?, cell: [Float]?) throws {
        let size = model.configuration.layers * batcher.batchSize * model.configuration.hidden
        for state in [hidden, cell] where state.map({ $0.count != size }) ?? false {
            throw TrainError.stateFormat(reason: "a saved recurrent state has \(state!.count) values; this model and "
                + "batch carry \(size)")
        }
        try batcher.restore(saved)
        carriedHidden = hidden
        carriedCell = model.configuration.kind == .lstm ? cell : nil
    }

    /// Trains the next window of the epoch: forward, backward, clip, update.
    ///
    /// When the loss or the gradient is NaN or infinite the parameters are not updated (the caller decides to stop).
    /// - Returns: what the window measured, or `nil` when the epoch is done.
    public func trainWindow(pool: ThreadPool = .shared) -> Window? {
        guard let t = batcher.next(inputs: &inputs, targets: &targets) else { return nil }
        let n = t * batcher.batchSize
        let windowLoss = model.forward(
            inputs: n == inputs.count ? inputs : Array(inputs[..<n]),
            targets: n == targets.count ? targets : Array(targets[..<n]),
            steps: t, batch: batcher.batchSize, h0: carriedHidden, c0: carriedCell, rng: &rng, pool: pool)
        model.parameters.zeroGradients()
        model.backward(pool: pool)
        let norm = if let clipNorm {
            GradientClipping.clipGlobalNorm(model.parameters, maxNorm: clipNorm, pool: pool)
        } else {
            GradientClipping.globalNorm(UnsafeBufferPointer(model.parameters.gradients.buffer), pool: pool)
        }
        let window = Window(loss: perToken(windowLoss, steps: t), targets: n, gradientNorm: norm)
        step += 1
        guard window.isFinite else { return window }
        switch optimizer {
        case .sgd(let sgd): sgd.update(model.parameters, pool: pool)
        case .adam(let adam): adam.update(model.parameters, pool: pool)
        }
        carriedHidden = model.finalHidden
        carriedCell = model.configuration.kind == .lstm ? model.finalCell : nil
        return window
    }

    /// Trains on up to `windows` windows, stopping at the end of the epoch or at a non-finite window.
    /// - Parameter progress: called after each window with (windows done in the epoch, windows per epoch, the
    ///   window's mean loss).
    /// - Returns: the mean loss per target (in nats, under either loss convention) over the windows trained, and how
    ///   many there were (0 at the epoch's end). The mean is NaN or infinite when a window was.
    @discardableResult
    public func train(windows: Int = .max, pool: ThreadPool = .shared,
                      progress: ((Int, Int, Double) -> Void)? = nil) -> (meanLoss: Double, windows: Int) {
        var loss = RunningMean()
        var done = 0
        while done < windows, let window = trainWindow(pool: pool) {
            loss.add(window.isFinite ? window.loss : .nan, weight: window.targets)
            done += 1
            progress?(batcher.position, batcher.windowCount, window.loss)
            if !window.isFinite { break }
        }
        return (loss.mean, done)
    }

    /// A window's loss as the mean per target, whatever the model's loss convention (the summed one is `T ×` it).
    private func perToken(_ windowLoss: Double, steps: Int) -> Double {
        model.lossConvention == .sumOverTimeMeanOverBatch ? windowLoss / Double(steps) : windowLoss
    }

    /// The mean loss per target of `ids` under the current parameters, without training: the same windowing, state
    /// carried across windows from zeros (``QuillTrain/evaluate(model:ids:batch:steps:pool:progress:)``).
    public func evaluate(_ ids: [Int32], batch: Int, steps: Int, pool: ThreadPool = .shared) throws -> Double {
        try QuillTrain.evaluate(model: model, ids: ids, batch: batch, steps: steps, pool: pool).meanLoss
    }
}
