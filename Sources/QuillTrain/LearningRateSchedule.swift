/// A learning-rate schedule with its state, `Codable` so a checkpoint restores it exactly.
///
/// Epochs are numbered from 1. Three kinds:
/// - ``Kind/constant``: `lr₀` every epoch.
/// - ``Kind/stepDecay``: Zaremba et al. 2014 (their `max_epoch` / `decay`): `lr₀` for the first ``keepEpochs``
///   epochs, then multiplied by ``factor`` every epoch: `lr(e) = lr₀ · factor^max(0, e − keepEpochs)`.
///   ptb-small: `lr₀ = 1`, keep 4, factor 1/2; ptb-medium: keep 6, factor 1/1.2.
/// - ``Kind/plateau``: PyTorch `ReduceLROnPlateau(mode="min", threshold_mode="rel")`: after each validation, a loss
///   below `best · (1 − threshold)` is an improvement; after more than ``patience`` epochs without one the rate is
///   multiplied by ``factor`` (not below ``minLR``), then ``cooldown`` epochs pass before bad epochs count again.
///
/// Use: `lr(forEpoch:)` before an epoch, `update(validationLoss:)` after its validation.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case constant
        case stepDecay = "step"
        case plateau
    }

    public var kind: Kind
    /// `lr₀`, the rate of the first epoch.
    public var initialLR: Double
    /// Step decay: epochs at `lr₀` before decay starts.
    public var keepEpochs: Int
    /// Step decay and plateau: the multiplier of each decay.
    public var factor: Double
    /// Plateau: epochs without improvement tolerated before a decay (PyTorch default 10).
    public var patience: Int
    /// Plateau: the rate never goes below this.
    public var minLR: Double
    /// Plateau: relative improvement needed (PyTorch default 1e-4).
    public var threshold: Double
    /// Plateau: epochs after a decay during which bad epochs are not counted (PyTorch default 0).
    public var cooldown: Int

    // State (plateau only; the other kinds are pure functions of the epoch).
    /// Plateau: the current rate.
    public private(set) var currentLR: Double
    /// Plateau: the best validation loss so far (`nil` before the first).
    public private(set) var bestLoss: Double?
    /// Plateau: epochs since the last improvement.
    public private(set) var badEpochs = 0
    /// Plateau: cooldown epochs left.
    public private(set) var cooldownLeft = 0

    private init(kind: Kind, initialLR: Double, keepEpochs: Int = 0, factor: Double = 1, patience: Int = 0,
                 minLR: Double = 0, threshold: Double = 0, cooldown: Int = 0) {
        precondition(initialLR > 0 && factor > 0 && keepEpochs >= 0 && patience >= 0 && cooldown >= 0)
        self.kind = kind
        self.initialLR = initialLR
        self.keepEpochs = keepEpochs
        self.factor = factor
        self.patience = patience
        self.minLR = minLR
        self.threshold = threshold
        self.cooldown = cooldown
        self.currentLR = initialLR
    }

    /// The same rate every epoch.
    public static func constant(_ lr: Double) -> LearningRateSchedule {
        LearningRateSchedule(kind: .constant, initialLR: lr)
    }

    /// `lr` for the first `keepEpochs` epochs, then multiplied by `factor` each epoch (Zaremba et al. 2014).
    public static func stepDecay(lr: Double, keepEpochs: Int, factor: Double) -> LearningRateSchedule {
        LearningRateSchedule(kind: .stepDecay, initialLR: lr, keepEpochs: keepEpochs, factor: factor)
    }

    /// Decay on validation plateau; defaults are PyTorch's `ReduceLROnPlateau` defaults.
    public static func plateau(lr: Double, factor: Double = 0.1, patience: Int = 10, minLR: Double = 0,
                               threshold: Double = 1e-4, cooldown: Int = 0) -> LearningRateSchedule {
        LearningRateSchedule(kind: .plateau, initialLR: lr, factor: factor, patience: patience, minLR: minLR,
                             threshold: threshold, cooldown: cooldown)
    }

    /// The rate for epoch `epoch` (1-based). For ``Kind/plateau`` the current rate, whatever the epoch.
    public func lr(forEpoch epoch: Int) -> Double {
        switch kind {
        case .constant:
            return initialLR
        case .stepDecay:
            // Repeated multiplication, as Zaremba's code divides its `lr` once per epoch.
            var lr = initialLR
            for _ in 0..<max(0, epoch - keepEpochs) { lr *= factor }
            return lr
        case .plateau:
            return currentLR
        }
    }

    /// Records an epoch's validation loss (only ``Kind/plateau`` reacts).
    /// - Returns: whether the rate was just reduced.
    @discardableResult
    public mutating func update(validationLoss loss: Double) -> Bool {
        guard kind == .plateau else { return false }
        if let best = bestLoss, !(loss < best * (1 - threshold)) {
            badEpochs += 1
        } else {
            bestLoss = loss
            badEpochs = 0
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badEpochs = 0
        }
        guard badEpochs > patience else { return false }
        cooldownLeft = cooldown
        badEpochs = 0
        let reduced = max(currentLR * factor, minLR)
        // PyTorch's eps = 1e-8: a change smaller than that is ignored.
        guard currentLR - reduced > 1e-8 else { return false }
        currentLR = reduced
        return true
    }
}
