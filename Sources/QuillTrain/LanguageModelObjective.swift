import Foundation
import QuillNN
import QuillTensor

/// A ``LanguageModel`` on one id stream, as a ``TrainingObjective``: truncated backpropagation through time.
///
/// Each batch is the next window of the ``Batcher``: forward from the state the previous window left (detached: no
/// gradient crosses a window boundary), backward. The state is carried across the windows of an epoch and starts
/// from zeros at each epoch, as in Zaremba et al. (2014) and pytorch/examples' word_language_model; it is this
/// objective's, not the loop's: ``carriedState`` saves it as `state.hidden` and `state.cell` (`[layers, B, hidden]`).
public final class LanguageModelObjective: TrainingObjective {
    public let model: LanguageModel
    public private(set) var batcher: Batcher
    /// The recurrent state the next window starts from, `[layers, B, hidden]`; `nil` is zeros.
    public private(set) var carriedHidden: [Float]?
    /// The LSTM cell state the next window starts from; `nil` is zeros (and always for GRU and RNN).
    public private(set) var carriedCell: [Float]?
    /// Validation ids, evaluated with `B = validationBatch` streams and windows of `T`.
    public let validIDs: [Int32]?
    public let validationBatch: Int

    private var inputs: [Int32]
    private var targets: [Int32]
    private var lastSteps = 0

    /// - Parameters:
    ///   - validIDs: validation ids; evaluated with `min(batch, count / 2)` streams (at least 1).
    /// - Throws: ``TrainError`` when the stream is too small for `batch` streams.
    public init(model: LanguageModel, trainIDs: [Int32], batch: Int, steps: Int, validIDs: [Int32]? = nil) throws {
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
        carriedHidden = nil
        carriedCell = nil
    }

    /// The size of a carried state: `layers · B · hidden`.
    private var stateShape: [Int] { [model.configuration.layers, batcher.batchSize, model.configuration.hidden] }

    /// Continues an epoch at `position` from the `state.hidden` / `state.cell` tensors (absent: zeros).
    /// - Throws: ``TrainError`` when the position belongs to another stream shape, or a state has the wrong size.
    public func resume(at position: DataPosition, carried: [NamedTensor]) throws {
        guard case let .stream(position) = position else {
            throw TrainError.batcherMismatch(saved: position.shape, current: dataPosition.shape)
        }
        func values(_ name: String) -> [Float]? { carried.first { $0.name == name }?.values }
        try resume(at: position, hidden: values("state.hidden"), cell: values("state.cell"))
    }

    /// Continues an epoch from a checkpoint: the next window and the state carried into it.
    public func resume(at saved: Batcher.State, hidden: [Float]?, cell: [Float]?) throws {
        let size = stateShape.reduce(1, *)
        for state in [hidden, cell] where state.map({ $0.count != size }) ?? false {
            throw TrainError.stateFormat(reason: "a saved recurrent state has \(state!.count) values; this model and "
                + "batch carry \(size)")
        }
        try batcher.restore(saved)
        carriedHidden = hidden
        carriedCell = model.configuration.kind.hasCellState ? cell : nil
    }

    public func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss? {
        guard let t = batcher.next(inputs: &inputs, targets: &targets) else { return nil }
        let n = t * batcher.batchSize
        let windowLoss = model.forward(
            inputs: n == inputs.count ? inputs : Array(inputs[..<n]),
            targets: n == targets.count ? targets : Array(targets[..<n]),
            steps: t, batch: batcher.batchSize, h0: carriedHidden, c0: carriedCell, rng: &rng, pool: pool)
        lastSteps = t
        return BatchLoss(loss: perToken(windowLoss, steps: t), targets: n)
    }

    public func backward(pool: ThreadPool) {
        model.backward(pool: pool)
    }

    public func commit() {
        carriedHidden = model.finalHidden
        carriedCell = model.configuration.kind.hasCellState ? model.finalCell : nil
    }

    public var carriedState: [NamedTensor] {
        var tensors: [NamedTensor] = []
        if let carriedHidden { tensors.append(NamedTensor(name: "state.hidden", shape: stateShape, values: carriedHidden)) }
        if let carriedCell { tensors.append(NamedTensor(name: "state.cell", shape: stateShape, values: carriedCell)) }
        return tensors
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
