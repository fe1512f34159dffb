/// Tracks the best validation loss and says when to stop after `patience` epochs without improvement.
///
/// `record(epoch:validationLoss:)` after each validation returns whether this epoch is the new best (save the model
/// then); ``shouldStop`` turns true once ``patience`` epochs in a row brought no improvement of more than
/// ``minDelta``. With `patience == nil` it only tracks the best model and never stops.
public struct EarlyStopping: Codable, Equatable, Sendable {
    /// Epochs without improvement before stopping, or `nil` never to stop.
    public var patience: Int?
    /// An improvement must lower the best loss by more than this.
    public var minDelta: Double
    /// The best validation loss so far, `nil` before the first.
    public private(set) var bestLoss: Double?
    /// The epoch of ``bestLoss``.
    public private(set) var bestEpoch: Int?
    /// Epochs in a row since the last improvement.
    public private(set) var epochsWithoutImprovement = 0

    public init(patience: Int? = nil, minDelta: Double = 0) {
        precondition(patience.map { $0 >= 1 } ?? true, "patience must be at least 1")
        self.patience = patience
        self.minDelta = minDelta
    }

    /// Records an epoch's validation loss.
    /// - Returns: whether it is the best so far (a NaN or infinite loss never is).
    @discardableResult
    public mutating func record(epoch: Int, validationLoss loss: Double) -> Bool {
        if loss.isFinite, bestLoss.map({ loss < $0 - minDelta }) ?? true {
            bestLoss = loss
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            return true
        }
        epochsWithoutImprovement += 1
        return false
    }

    /// Whether training should stop now.
    public var shouldStop: Bool {
        guard let patience else { return false }
        return epochsWithoutImprovement >= patience
    }
}
