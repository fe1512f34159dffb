import QuillTensor

/// A language model over `B` parallel id streams, run one window of `T` steps at a time with a state handed from
/// each window to the next: what truncated training (`LanguageModelObjective`) and evaluation need of a model,
/// whatever carries the context — a recurrent model its hidden (and cell) states, a convolutional one the last
/// inputs of each block.
public protocol StreamLanguageModel: AnyObject {
    /// All parameters and their gradients.
    var parameters: ParameterSet { get }
    /// Entries of the output distribution.
    var vocabularySize: Int { get }
    /// How position losses combine.
    var lossReduction: LossReduction { get set }
    /// Training mode (dropout active) or evaluation mode.
    var isTraining: Bool { get set }
    /// The probability of zeroing an activation while training, where the model places dropout.
    var dropout: Float { get set }
    /// The arithmetic of the model's matrix products: float32, or bfloat16 operands with float32 sums (mixed
    /// precision; parameters, gradients and the rest stay float32).
    var precision: Precision { get set }
    /// Whether forward computes the loss gradient backward needs (off: scoring only, PyTorch's `no_grad`).
    var computesGradient: Bool { get set }
    /// The tensors one window hands the next with `batch` streams: names (a checkpoint's keys) and shapes.
    func carriedStateLayout(batch: Int) -> ParameterLayout
    /// Runs a window of `[T][B]` inputs and targets from `state` (in ``carriedStateLayout(batch:)`` order; nil or a
    /// missing entry is zeros), drawing dropout masks from `rng` when training; returns the loss.
    func forward(inputs: [Int32], targets: [Int32], steps: Int, batch: Int, state: [[Float]?], rng: inout RNG,
                 pool: ThreadPool) -> Double
    /// Backpropagates the last forward's loss, adding into the parameter gradients; no gradient reaches the state
    /// the window started from (truncation).
    func backward(pool: ThreadPool)
    /// The state the last forward ended in, in ``carriedStateLayout(batch:)`` order.
    var finalState: [[Float]] { get }
    /// The logits `[T][B][V]` of the last forward.
    var logits: UnsafeBufferPointer<Float> { get }
}

extension LanguageModel: StreamLanguageModel {
    public var vocabularySize: Int { configuration.vocabulary }

    /// `state.hidden` `[L][B][H]`, and for an LSTM `state.cell` `[L][B][H]`.
    public func carriedStateLayout(batch: Int) -> ParameterLayout {
        let shape = [configuration.layers, batch, configuration.hidden]
        return [("state.hidden", shape)] + (configuration.kind.hasCellState ? [("state.cell", shape)] : [])
    }

    public func forward(inputs: [Int32], targets: [Int32], steps: Int, batch: Int, state: [[Float]?],
                        rng: inout RNG, pool: ThreadPool) -> Double {
        let h0 = state.first ?? nil, c0 = state.count > 1 ? state[1] : nil
        return forward(inputs: inputs, targets: targets, steps: steps, batch: batch, h0: h0, c0: c0, rng: &rng,
                       pool: pool)
    }

    public func backward(pool: ThreadPool) { backward(dFinalHidden: nil, dFinalCell: nil, pool: pool) }

    public var finalState: [[Float]] { configuration.kind.hasCellState ? [finalHidden, finalCell] : [finalHidden] }
}
