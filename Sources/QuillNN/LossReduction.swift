/// How a window's loss is reduced over its `t·B` token losses: the one spelling of the loss reduction, for the model
/// (``LanguageModel/lossReduction``), the training options, the presets and the CLI.
public enum LossReduction: String, Codable, Sendable, CaseIterable {
    /// Mean over all `t·B` tokens (PyTorch `CrossEntropyLoss`, pytorch/examples).
    case mean
    /// Sum over the `t` time steps of the mean over the batch (Zaremba et al.'s code): `t` times the mean, so with SGD
    /// the effective rate per token is `t` times larger, which their `lr = 1` assumes.
    case sumOverTime = "sum"

    /// The mean loss per token of a window's loss reduced this way over `steps` time steps.
    public func perTokenLoss(_ loss: Double, steps: Int) -> Double {
        switch self {
        case .mean: return loss
        case .sumOverTime: return loss / Double(steps)
        }
    }
}
