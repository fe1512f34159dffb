/// Errors of the training side. Each names what failed and how to fix it.
public enum TrainError: Error, Equatable, CustomStringConvertible {
    /// The id stream is too short to give `batchSize` streams of at least 2 tokens (one input, one target); `file`
    /// names the text it came from, when known.
    case corpusTooSmall(tokens: Int, batchSize: Int, file: String? = nil)
    /// A batch size or window length that is not positive.
    case invalidShape(batchSize: Int, steps: Int)
    /// A saved batcher position outside `0...windowCount`.
    case invalidPosition(position: Int, windowCount: Int)
    /// A saved batcher state made for another stream shape (batch size, window length or stream length).
    case batcherMismatch(saved: String, current: String)
    /// No preset of that name.
    case unknownPreset(name: String, available: [String])
    /// Training state JSON that does not decode.
    case stateFormat(reason: String)
    /// A loss or gradient became NaN or infinite (or an epoch's loss diverged) in `epoch` at `step`; nothing of it was
    /// kept, and the last checkpoint (if any) is where to continue from with a lower learning rate.
    case diverged(epoch: Int, step: Int, checkpoint: CheckpointPlace?)
    /// Training was asked to stop; a checkpoint was written at the place given.
    case stopped(at: CheckpointPlace)

    public var description: String {
        switch self {
        case let .corpusTooSmall(tokens, batchSize, file):
            return (file.map { "\($0): " } ?? "") + "the corpus has \(tokens) token\(tokens == 1 ? "" : "s"), too few for \(batchSize) parallel streams "
                + "of at least 2 tokens: it needs at least \(2 * batchSize) tokens; use a larger corpus or a smaller "
                + "batch size"
        case let .invalidShape(batchSize, steps):
            return "batch size (\(batchSize)) and window length (\(steps)) must both be at least 1"
        case let .invalidPosition(position, windowCount):
            return "batcher position \(position) is outside 0...\(windowCount) (the windows of one epoch)"
        case let .batcherMismatch(saved, current):
            return "the saved data position was made for \(saved) but the data now gives \(current); resume with the "
                + "same corpus, vocabulary, batch size and window length"
        case let .unknownPreset(name, available):
            return "no training preset named '\(name)'; available: \(available.joined(separator: ", "))"
        case let .stateFormat(reason):
            return "not a Quill training state: \(reason)"
        case let .diverged(epoch, step, checkpoint):
            return "the training loss diverged (NaN, infinite or an infinite perplexity) in epoch \(epoch) at step "
                + "\(step); " + (checkpoint.map { "the last good checkpoint (\($0)) is kept" } ?? "there is no checkpoint yet")
                + "; continue with a lower learning rate or a tighter gradient clip"
        case let .stopped(place):
            return "training stopped; checkpointed at \(place)"
        }
    }
}
