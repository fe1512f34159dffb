import Foundation
import QuillNN
import QuillTensor

/// An ``QuillNN/EncoderDecoder`` on sentence pairs, as a ``TrainingObjective``: each batch is the next batch of a
/// ``SentencePairBatcher`` (pairs of similar lengths, padded, reshuffled every epoch), trained with teacher forcing.
/// Nothing is carried from one batch to the next.
public final class TranslationObjective: TrainingObjective {
    public let model: EncoderDecoder
    public private(set) var batcher: SentencePairBatcher
    /// Validation pairs, scored in batches of `validationBatch` rows.
    public let validation: ParallelCorpus?
    public let validationBatch: Int

    private var batch = SentencePairBatch()
    private var sourceLengths: [Int32] = []

    /// - Parameter group: the data-parallel job, if any: each rank trains its share of every batch's rows.
    public init(model: EncoderDecoder, batcher: SentencePairBatcher, validation: ParallelCorpus? = nil,
                validationBatch: Int? = nil, group: (any ProcessGroup)? = nil) {
        self.model = model
        self.batcher = batcher
        if let group { (self.batcher.rank, self.batcher.ranks) = (group.rank, group.size) }
        self.validation = validation
        self.validationBatch = max(1, validationBatch ?? batcher.batchSize)
    }

    public var parameters: ParameterSet { model.parameters }
    public var batchesPerEpoch: Int { batcher.batchCount }
    public var dataPosition: DataPosition { .sentencePairs(batcher.state) }

    public func startEpoch(_ epoch: Int) { batcher.startEpoch(epoch) }

    public func resume(at position: DataPosition, carried: [NamedTensor]) throws {
        guard case let .sentencePairs(state) = position else {
            throw TrainError.batcherMismatch(saved: position.shape, current: dataPosition.shape)
        }
        try batcher.restore(state)
    }

    public func forward(rng: inout RNG, pool: ThreadPool) -> BatchLoss? {
        guard batcher.next(into: &batch) else { return nil }
        // A batch with fewer rows than ranks leaves some ranks none: no targets, no gradient.
        guard batch.rows > 0 else { return BatchLoss(loss: 0, targets: 0) }
        let loss = Self.loss(of: batch, model: model, lengths: &sourceLengths, rng: &rng, pool: pool)
        return BatchLoss(loss: loss, targets: batch.targetTokens)
    }

    public func backward(pool: ThreadPool) {
        if batch.rows > 0 { model.backward(pool: pool) }
    }
    public func commit() {}
    public var carriedState: [NamedTensor] { [] }

    /// The mean cross-entropy per target over the validation pairs (without dropout or label smoothing: the figure
    /// whose exponential is the perplexity).
    public func validationLoss(pool: ThreadPool) throws -> Double? {
        guard let validation else { return nil }
        return try Self.meanLoss(of: model, on: validation, batch: validationBatch, pool: pool)
    }

    /// A cross-entropy whose perplexity `exp(loss)` overflows has diverged (the language model's rule).
    public func hasDiverged(loss: Double) -> Bool { !exp(loss).isFinite }

    /// The mean cross-entropy per target of `model` over `corpus`, in evaluation mode without label smoothing (the
    /// model's settings are restored after).
    public static func meanLoss(of model: EncoderDecoder, on corpus: ParallelCorpus, batch: Int,
                                pool: ThreadPool = .shared) throws -> Double {
        let (wasTraining, smoothing) = (model.isTraining, model.labelSmoothing)
        model.isTraining = false
        model.labelSmoothing = 0
        defer { (model.isTraining, model.labelSmoothing) = (wasTraining, smoothing) }
        var batcher = try SentencePairBatcher(corpus: corpus, batchSize: batch, seed: 0)
        var pairs = SentencePairBatch(), lengths: [Int32] = [], rng = RNG(seed: 0)
        var total = 0.0, targets = 0
        while batcher.next(into: &pairs) {
            total += loss(of: pairs, model: model, lengths: &lengths, rng: &rng, pool: pool) * Double(pairs.targetTokens)
            targets += pairs.targetTokens
        }
        return targets > 0 ? total / Double(targets) : 0
    }

    private static func loss(of batch: SentencePairBatch, model: EncoderDecoder, lengths: inout [Int32],
                             rng: inout RNG, pool: ThreadPool) -> Double {
        lengths.removeAll(keepingCapacity: true)
        for length in batch.sourceLengths { lengths.append(Int32(length)) }
        return model.forward(source: batch.source, sourceLengths: lengths, decoderInputs: batch.decoderInputs,
                             targets: batch.targets, sourceSteps: batch.sourceSteps, targetSteps: batch.targetSteps,
                             batch: batch.rows, rng: &rng, pool: pool)
    }
}
