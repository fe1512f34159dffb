/// Where an objective is in its training data: the next batch of the epoch, and the shape of the data it belongs to
/// (a checkpoint saves it; a resume over data of another shape is refused).
public enum DataPosition: Equatable, Sendable {
    /// A language model's id stream cut into windows (``Batcher``).
    case stream(Batcher.State)
    /// Batches of sentence pairs (``SentencePairBatcher``).
    case sentencePairs(SentencePairBatcher.State)

    /// The index of the next batch in the epoch.
    public var batch: Int {
        switch self {
        case let .stream(state): state.position
        case let .sentencePairs(state): state.position
        }
    }

    /// Whether `other` is a position in data of the same shape (whatever the batch or epoch).
    public func hasSameShape(as other: DataPosition) -> Bool {
        switch (self, other) {
        case let (.stream(a), .stream(b)):
            return a.batchSize == b.batchSize && a.steps == b.steps && a.streamLength == b.streamLength
        case var (.sentencePairs(a), .sentencePairs(b)):
            (a.epoch, a.position, b.epoch, b.position) = (0, 0, 0, 0)
            return a == b
        default:
            return false
        }
    }

    /// The shape, as a mismatch error shows it.
    public var shape: String {
        switch self {
        case let .stream(state): state.shape
        case let .sentencePairs(state): state.shape
        }
    }
}
