import Foundation
import QuillNN
import QuillTensor

/// A language model on one id stream, as a ``TrainingObjective``: truncated backpropagation through time.
///
/// Each batch is the next window of the ``Batcher``: forward from the state the previous window left (detached: no
/// gradient crosses a window boundary), backward. The state is carried across the windows of an epoch and starts
/// from zeros at each epoch, as in Zaremba et al. (2014) and pytorch/examples' word_language_model; it is this
/// objective's, not the loop's: ``carriedState`` saves it under the model's names
/// (``StreamLanguageModel/carriedStateLayout(batch:)``: `state.hidden` and `state.cell` of a recurrent model,
/// `state.context` of a convolutional one).
public final class LanguageModelObjective: TrainingObjective {
    public let model: any StreamLanguageModel
    public private(set) var batcher: Batcher
    /// The state the next window starts from, in the model's layout; `nil` is zeros.
    public private(set) var carried: [[Float]]?
    /// Validation ids, evaluated with `B = validationBatch` streams and windows of `T`.
    public let validIDs: [Int32]?
    public let validationBatch: Int

    private var inputs: [Int32]
    private var targets: [Int32]
    private var lastSteps = 0

    /// - Parameters:
    ///   - validIDs: validation ids; evaluated with `min(batch, count / 2)` streams (at least 1).
    /// - Throws: ``TrainError`` when the stream is too small for `batch` streams.
    public init(model: any StreamLanguageModel, trainIDs: [Int32], batch: Int, steps: Int,
                validIDs: [Int32]? = nil) throws {
        self.model = model
        batcher = try Batcher(ids: trainIDs, batchSize: batch, steps: steps)
        self.validIDs = validIDs
        validationBatch = max(1, min(batch, (validIDs?.count ?? 0) / 2))
        inputs = [Int32](repeating: 0, count: batcher.windowCapacity)
        targets = inputs
    }

    public var parameters: ParameterSet { model.parameters }
    public var batchesPerEpoch: Int { batcher.windowCount }
    public var dataPosition: DataPosition { .stream(batcher.state) }

    public func startEpoch(_ epoch: Int) {
        batcher.startEpoch()
        carried = nil
    }

    /// Continues an epoch at `position` from the carried tensors the model names (absent: zeros).
    /// - Throws: ``TrainError`` when the position belongs to another stream shape, or a state has the wrong size.
    public func resume(at position: DataPosition, carried tensors: [NamedTensor]) throws {
        guard case let .stream(position) = position else {
            throw TrainError.batcherMismatch(saved: position.shape, current: dataPosition.shape)
        }
        let layout = model.carriedStateLayout(batch: batcher.batchSize)
        var state: [[Float]] = []
        for (name, shape) in layout {
            guard let saved = tensors.first(where: { $0.name == name }) else { break }
            let size = shape.reduce(1, *)
            guard saved.values.count == size else {
                throw TrainError.stateFormat(reason: "the saved state '\(name)' has \(saved.values.count) values; this "
                    + "model and batch carry \(size)")
            }
            state.append(saved.values)
        }
        try batcher.restore(position)
        carried = state.count == layout.count && !layout.isEmpty ? state : nil
    }

    public func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss? {
        guard let t = batcher.next(inputs: &inputs, targets: &targets) else { return nil }
        let n = t * batcher.batchSize
        let state: [[Float]?] = carried.map { $0.map { Optional($0) } } ?? []
        let windowLoss = model.forward(
            inputs: n == inputs.count ? inputs : Array(inputs[..<n]),
            targets: n == targets.count ? targets : Array(targets[..<n]),
            steps: t, batch: batcher.batchSize, state: state, rng: &rng, pool: pool)
        lastSteps = t
        return BatchLoss(loss: perToken(windowLoss, steps: t), targets: n)
    }

    public func backward(pool: ThreadPool) {
        model.backward(pool: pool)
    }

    public func commit() {
        carried = model.finalState
    }

    public var carriedState: [NamedTensor] {
        guard let carried else { return [] }
        return zip(model.carriedStateLayout(batch: batcher.batchSize), carried).map {
            NamedTensor(name: $0.0.name, shape: $0.0.shape, values: $0.1)
        }
    }

    public func validationLoss(pool: ThreadPool) throws -> Double? {
        guard let validIDs else { return nil }
        return try QuillTrain.evaluate(model: model, ids: validIDs, batch: validationBatch, steps: batcher.steps,
                                       pool: pool).meanLoss
    }

    /// A cross-entropy whose perplexity `exp(loss)` overflows has diverged, though the loss itself is finite.
    public func hasDiverged(loss: Double) -> Bool { !exp(loss).isFinite }

    /// A window's loss as the mean per target, whatever the model's loss reduction (the summed one is `T ×` it).
    private func perToken(_ windowLoss: Double, steps: Int) -> Double {
        model.lossReduction.perTokenLoss(windowLoss, steps: steps)
    }
}
