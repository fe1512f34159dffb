import QuillTensor

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

/// A language model's output over `N = T·B` rows: the decoder's logits `[N][V]`, then the softmax cross-entropy with
/// `targets` and its gradient in `dLogits` (nil in evaluation: `N·V` floats not written), reduced per `reduction`
/// (the sum over time is per stream: divided by `B`, as Zaremba et al.'s code). One home for the loss convention of
/// every language model.
func decodeToLoss(_ input: UnsafePointer<Float>, decoder: Dense, targets: [Int32], rows N: Int, batch B: Int,
                  ignoreIndex: Int32, reduction: LossReduction, logits: UnsafeMutablePointer<Float>,
                  dLogits: UnsafeMutablePointer<Float>?, pool: ThreadPool) -> Double {
    let V = decoder.outputs
    decoder.forward(input, rows: N, output: logits, pool: pool)
    let summed = reduction == .sumOverTime
    let result = targets.withUnsafeBufferPointer {
        SoftmaxCrossEntropy.compute(logits: logits, targets: $0.baseAddress!, rows: N, vocabulary: V,
                                    ignoreIndex: ignoreIndex, reduction: summed ? .sum : .mean, dLogits: dLogits,
                                    pool: pool)
    }
    guard summed else { return result.loss }
    if let dLogits { scale(dLogits, count: N * V, by: 1 / Float(B), pool: pool) }
    return result.loss / Double(B)
}
