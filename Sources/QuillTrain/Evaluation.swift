import Foundation
import QuillNN
import QuillTensor

/// What evaluating a language model on an id stream measured: the cross-entropy of every target it predicted.
public struct Evaluation: Sendable, Equatable {
    /// Targets scored: `B·(L − 1)` for `B` streams of `L = N / B` ids (`N − 1` with one stream).
    public var targets: Int
    /// The cross-entropy summed over all targets, in nats (kept in `Double`).
    public var totalLoss: Double

    public init(targets: Int, totalLoss: Double) {
        self.targets = targets
        self.totalLoss = totalLoss
    }

    /// Mean cross-entropy per target, in nats.
    public var meanLoss: Double { targets == 0 ? 0 : totalLoss / Double(targets) }
    /// `exp(meanLoss)`.
    public var perplexity: Double { Perplexity.perplexity(meanLoss: meanLoss) }
    /// `meanLoss / ln 2`: bits per token (bits per character for a character model).
    public var bitsPerToken: Double { Perplexity.bitsPerCharacter(meanLoss: meanLoss) }
}

/// Evaluates `model` on `ids` without training: the mean cross-entropy per target, the recurrent state carried from
/// one window to the next (from zeros at the start), dropout off. Any ``StreamLanguageModel``: recurrent or
/// convolutional, the state is the model's.
///
/// The ids are cut into `batch` streams and windows of `steps` exactly as ``Batcher`` does for training (and as
/// ``LanguageModelObjective/validationLoss(pool:)`` does after each epoch), so with `batch` 1 every token but
/// the first is predicted from all the tokens before it: the exact sequential perplexity of the text, whatever
/// `steps` is (the window length only trades memory for speed). With `batch` > 1 the `N mod B` remainder is dropped
/// and each stream starts from zero state, which costs a little perplexity but runs `B` streams at once.
///
/// The model's ``StreamLanguageModel/isTraining`` is restored afterwards.
/// - Parameters:
///   - batch: `B`, parallel streams (1 for the exact sequential perplexity).
///   - steps: `T`, steps per window (35 as pytorch/examples' word_language_model evaluation).
///   - progress: called after each window with (windows done, windows in all).
/// - Throws: ``TrainError/corpusTooSmall(tokens:batchSize:)`` when `ids` has fewer than `2·batch` ids,
///   ``TrainError/invalidShape(batchSize:steps:)`` for a batch or window below 1.
public func evaluate(model: any StreamLanguageModel, ids: [Int32], batch: Int = 1, steps: Int = 35,
                     pool: ThreadPool = .shared, progress: ((Int, Int) -> Void)? = nil) throws -> Evaluation {
    var total = RunningMean()
    try forEachEvaluationWindow(model: model, ids: ids, batch: batch, steps: steps, pool: pool,
                                progress: progress) { t, _, _, windowLoss in
        total.add(model.lossReduction.perTokenLoss(windowLoss, steps: t), weight: t * batch)
    }
    return Evaluation(targets: total.count, totalLoss: total.sum)
}

/// The log-probability (natural log) the model gives each token of `ids` from the tokens before it, windows and
/// streams cut exactly as ``evaluate(model:ids:batch:steps:pool:progress:)`` cuts them (their mean is its loss): what
/// a mixture with another model needs, position by position. Positions the model does not predict (each stream's
/// first token, the `N mod B` remainder) are NaN.
public func targetLogProbabilities(model: any StreamLanguageModel, ids: [Int32], batch: Int = 1, steps: Int = 35,
                                   pool: ThreadPool = .shared, progress: ((Int, Int) -> Void)? = nil) throws
    -> [Float] {
    var result = [Float](repeating: .nan, count: ids.count)
    let V = model.vocabularySize, L = ids.count / max(1, batch)
    try forEachEvaluationWindow(model: model, ids: ids, batch: batch, steps: steps, pool: pool,
                                progress: progress) { t, done, targets, _ in
        let logits = model.logits
        result.withUnsafeMutableBufferPointer { out in
            pool.parallelFor(t * batch) { row in
                let (step, stream) = row.quotientAndRemainder(dividingBy: batch)
                let z = logits.baseAddress! + row * V
                var top = -Float.infinity
                for v in 0..<V { top = max(top, z[v]) }
                var sum = 0.0
                for v in 0..<V { sum += Double(expf(z[v] - top)) }
                out[stream * L + done + step + 1] = z[Int(targets[row])] - top - Float(log(sum))
            }
        }
    }
    return result
}

/// The one walk of evaluation: `ids` cut by a ``Batcher`` into `batch` streams and windows of `steps`, each window run
/// from the state the one before left (zeros first) with dropout off and no loss gradient; `body` gets the window's
/// steps, the steps of each stream before it, its targets `[t][B]` and its loss. The model's modes are restored.
private func forEachEvaluationWindow(model: any StreamLanguageModel, ids: [Int32], batch: Int, steps: Int,
                                     pool: ThreadPool, progress: ((Int, Int) -> Void)?,
                                     _ body: (_ steps: Int, _ done: Int, _ targets: [Int32], _ loss: Double) -> Void)
    throws {
    var windows = try Batcher(ids: ids, batchSize: batch, steps: steps)
    let (wasTraining, hadGradient) = (model.isTraining, model.computesGradient)
    model.isTraining = false  // no dropout
    model.computesGradient = false  // and no loss gradient
    defer { (model.isTraining, model.computesGradient) = (wasTraining, hadGradient) }
    var inputs = [Int32](repeating: 0, count: windows.windowCapacity)
    var targets = inputs
    var state: [[Float]?] = []
    var noMasks = RNG(seed: 0)  // evaluation draws none
    var done = 0
    while let t = windows.next(inputs: &inputs, targets: &targets) {
        let n = t * batch
        let windowTargets = n == targets.count ? targets : Array(targets[..<n])
        let loss = model.forward(inputs: n == inputs.count ? inputs : Array(inputs[..<n]), targets: windowTargets,
                                 steps: t, batch: batch, state: state, rng: &noMasks, pool: pool)
        state = model.finalState
        body(t, done, windowTargets, loss)
        done += t
        progress?(windows.position, windows.windowCount)
    }
}
