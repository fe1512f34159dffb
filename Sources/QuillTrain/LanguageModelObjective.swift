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
///
/// In a data-parallel job (`group`) each rank trains its share of the streams
/// (``DataParallel/languageModelShard(of:batch:rank:size:)``) while its position, carried state and validation are
/// those of the whole batch: a checkpoint is the one a single process at the whole batch writes, and the
/// validation loss is summed over the ranks' shares of the validation streams.
public final class LanguageModelObjective: TrainingObjective {
    public let model: any StreamLanguageModel
    public private(set) var batcher: Batcher
    /// The state the next window starts from, in the model's layout; `nil` is zeros.
    public private(set) var carried: [[Float]]?
    /// Validation ids, evaluated with `B = validationBatch` streams and windows of `T`.
    public let validIDs: [Int32]?
    public let validationBatch: Int
    /// The job this objective is one rank of; `nil` for one process.
    public let group: (any ProcessGroup)?

    private var inputs: [Int32]
    private var targets: [Int32]
    private var lastSteps = 0

    /// - Parameters:
    ///   - batch: the whole job's batch (streams), a multiple of the group's size.
    ///   - validIDs: validation ids; evaluated with `min(batch, count / 2)` streams (at least 1).
    ///   - group: the data-parallel job, if any; every rank passes the same ids.
    /// - Throws: ``TrainError`` when the stream is too small for `batch` streams; ``DataParallel/ShapeError`` when
    ///   `batch` does not split over the group.
    public init(model: any StreamLanguageModel, trainIDs: [Int32], batch: Int, steps: Int,
                validIDs: [Int32]? = nil, group: (any ProcessGroup)? = nil) throws {
        self.model = model
        self.group = group
        let size = group?.size ?? 1
        if size > 1 {
            _ = try Batcher(ids: trainIDs, batchSize: batch, steps: steps)  // the whole corpus's own error first
            let shard = try DataParallel.languageModelShard(of: trainIDs, batch: batch, rank: group!.rank, size: size)
            batcher = try Batcher(ids: Array(shard), batchSize: batch / size, steps: steps)
        } else {
            batcher = try Batcher(ids: trainIDs, batchSize: batch, steps: steps)
        }
        self.validIDs = validIDs
        validationBatch = max(1, min(batch, (validIDs?.count ?? 0) / 2))
        inputs = [Int32](repeating: 0, count: batcher.windowCapacity)
        targets = inputs
    }

    public var parameters: ParameterSet { model.parameters }
    public var batchesPerEpoch: Int { batcher.windowCount }
    /// The position in the whole batch's terms (a rank's batcher holds `1/size` of the streams).
    public var dataPosition: DataPosition {
        var state = batcher.state
        state.batchSize *= ranks
        return .stream(state)
    }

    private var ranks: Int { group?.size ?? 1 }

    public func startEpoch(_ epoch: Int) {
        batcher.startEpoch()
        carried = nil
    }

    /// Continues an epoch at `position` from the carried tensors the model names (absent: zeros).
    /// - Throws: ``TrainError`` when the position belongs to another stream shape, or a state has the wrong size.
    public func resume(at position: DataPosition, carried tensors: [NamedTensor]) throws {
        guard case var .stream(position) = position, position.batchSize % ranks == 0 else {
            throw TrainError.batcherMismatch(saved: position.shape, current: dataPosition.shape)
        }
        position.batchSize /= ranks
        let layout = model.carriedStateLayout(batch: batcher.batchSize)
        let wholeLayout = model.carriedStateLayout(batch: batcher.batchSize * ranks)
        var state: [[Float]] = []
        for ((name, shape), (_, wholeShape)) in zip(layout, wholeLayout) {
            guard let saved = tensors.first(where: { $0.name == name }) else { break }
            let size = wholeShape.reduce(1, *)
            guard saved.values.count == size else {
                throw TrainError.stateFormat(reason: "the saved state '\(name)' has \(saved.values.count) values; this "
                    + "model and batch carry \(size)")
            }
            state.append(ranks == 1 ? saved.values
                : DataParallel.streams(of: saved.values, localShape: shape, wholeShape: wholeShape,
                                       rank: group!.rank, size: ranks))
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

    /// The whole batch's carried state: in a data-parallel job, gathered from every rank (a collective call).
    public var carriedState: [NamedTensor] {
        let layout = model.carriedStateLayout(batch: batcher.batchSize)
        guard let group, ranks > 1 else {
            guard let carried else { return [] }
            return zip(layout, carried).map { NamedTensor(name: $0.0.name, shape: $0.0.shape, values: $0.1) }
        }
        // Every rank takes part whatever its own state; zeros stand for one not yet carried.
        guard group.any([carried != nil])[0] else { return [] }
        let wholeLayout = model.carriedStateLayout(batch: batcher.batchSize * ranks)
        let local = carried ?? layout.map { [Float](repeating: 0, count: $0.1.reduce(1, *)) }
        return zip(zip(layout, wholeLayout), local).map { shapes, values in
            let ((name, shape), (_, wholeShape)) = shapes
            return NamedTensor(name: name, shape: wholeShape,
                               values: DataParallel.gatherStreams(values, localShape: shape, wholeShape: wholeShape,
                                                                  group: group))
        }
    }

    /// The validation loss of the whole validation set. In a data-parallel job whose validation batch splits over
    /// the ranks, each rank evaluates its share of the streams and the sums are added over the ranks (the same loss
    /// as one process's up to the order of the additions); otherwise every rank evaluates all of it.
    public func validationLoss(pool: ThreadPool) throws -> Double? {
        guard let validIDs else { return nil }
        guard let group, ranks > 1, validationBatch % ranks == 0 else {
            return try QuillTrain.evaluate(model: model, ids: validIDs, batch: validationBatch, steps: batcher.steps,
                                           pool: pool).meanLoss
        }
        let shard = try DataParallel.languageModelShard(of: validIDs, batch: validationBatch, rank: group.rank,
                                                        size: ranks)
        let mine = try QuillTrain.evaluate(model: model, ids: Array(shard), batch: validationBatch / ranks,
                                           steps: batcher.steps, pool: pool)
        let totals = group.sum([mine.totalLoss, Double(mine.targets)])
        return totals[0] / totals[1]
    }

    /// The rows of `embedding.weight` the last window fed in, unless the decoder shares the table (tied): only they
    /// have a gradient.
    public var sparseGradientRows: SparseRows? {
        let parameters = model.parameters
        guard let table = parameters.entry("embedding.weight"), table.shape.count == 2,
              parameters.entry("decoder.weight") != nil else { return nil }
        return SparseRows(offset: table.offset, rowCount: table.shape[0], width: table.shape[1],
                          rows: Array(inputs[..<(lastSteps * batcher.batchSize)]))
    }

    /// A cross-entropy whose perplexity `exp(loss)` overflows has diverged, though the loss itself is finite.
    public func hasDiverged(loss: Double) -> Bool { !exp(loss).isFinite }

    /// A window's loss as the mean per target, whatever the model's loss reduction (the summed one is `T ×` it).
    private func perToken(_ windowLoss: Double, steps: Int) -> Double {
        model.lossReduction.perTokenLoss(windowLoss, steps: steps)
    }
}
