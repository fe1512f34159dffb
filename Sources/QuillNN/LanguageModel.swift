import QuillTensor

/// A recurrent language model: embedding → `L` stacked recurrent layers → dense → softmax cross-entropy.
///
/// Letters: `T` steps, `B` batch, `N = T·B`, `V` vocabulary, `E` embedding width, `H` hidden, `L` layers. Inputs and
/// targets are token ids `[T][B]` (time-major); states `[L][B][H]`. The loss is the mean over the `N` positions
/// (targets equal to `ignoreIndex` count for nothing), as PyTorch's `F.cross_entropy`, or per ``lossReduction``.
///
/// Options of the literature recipes (Zaremba et al. 2014): inverted ``dropout`` on the non-recurrent connections only
/// (the embedding output, between layers, before the decoder), active while ``isTraining``, with masks drawn from an
/// ``RNG`` the caller passes to ``forward(inputs:targets:steps:batch:h0:c0:rng:pool:)``; tied input/output embeddings
/// (``Configuration/tiedEmbeddings``: the decoder multiplies by `embedding.weight`, which then has no
/// `decoder.weight` twin and receives both gradients); initialisation through ``ParameterSet/initialize(_:rng:)``.
///
/// Parameter names (the checkpoint's keys), in this order:
/// `embedding.weight` `[V][E]`, `rnn.<l>.weightIH` `[G][E or H]`, `rnn.<l>.weightHH` `[G][H]`, `rnn.<l>.biasIH` `[G]`,
/// `rnn.<l>.biasHH` `[G]`, `decoder.weight` `[V][H]` (absent when tied), `decoder.bias` `[V]`; see
/// `QuillFormats.PyTorchNames`.
public final class LanguageModel {
    /// The shape of a model.
    public struct Configuration: Equatable, Sendable {
        public var kind: CellKind
        public var vocabulary: Int
        public var embedding: Int
        public var hidden: Int
        public var layers: Int
        /// The decoder multiplies by the embedding table (Press & Wolf 2017; Inan et al. 2017): needs
        /// `embedding == hidden`, and the layout has no `decoder.weight`.
        public var tiedEmbeddings: Bool

        public init(kind: CellKind, vocabulary: Int, embedding: Int, hidden: Int, layers: Int,
                    tiedEmbeddings: Bool = false) {
            self.kind = kind
            self.vocabulary = vocabulary
            self.embedding = embedding
            self.hidden = hidden
            self.layers = layers
            self.tiedEmbeddings = tiedEmbeddings
        }

        /// The parameter layout of this shape.
        public var layout: ParameterLayout {
            Embedding.layout(prefix: "embedding", vocabulary: vocabulary, dimension: embedding)
                + RecurrentStack.layout(prefix: "rnn", kind: kind, inputSize: embedding, hiddenSize: hidden,
                                        count: layers)
                + Dense.layout(prefix: "decoder", inputs: hidden, outputs: vocabulary)
                .filter { !tiedEmbeddings || $0.name != "decoder.weight" }
        }
    }

    public let configuration: Configuration
    /// All parameters and their gradients.
    public let parameters: ParameterSet
    public let embedding: Embedding
    public let rnn: RecurrentStack
    public let decoder: Dense
    /// The id of positions that count for nothing in the loss.
    public var ignoreIndex: Int32 = -1
    /// How position losses combine; ``LossReduction/mean`` by default (PyTorch's).
    public var lossReduction = LossReduction.mean
    /// The probability of zeroing a non-recurrent activation while training (0: no dropout, the default as in
    /// PyTorch's `nn.Dropout(0)`; Zaremba's medium model uses 0.5).
    public var dropout: Float = 0 {
        didSet { precondition(dropout >= 0 && dropout < 1, "dropout \(dropout) outside [0, 1)") }
    }
    /// The arithmetic of the recurrent layers' and the decoder's products: ``Precision/bfloat16`` for mixed-precision
    /// training and scoring (float32 parameters, gradients and sums; bfloat16 GEMM operands). float32 by default.
    public var precision: Precision {
        get { decoder.precision }
        set { decoder.precision = newValue; rnn.precision = newValue }
    }
    /// Training mode (dropout active) or evaluation mode (dropout ignored); training by default, as PyTorch's modules.
    public var isTraining = true
    /// Whether forward computes the loss gradient that backward needs: off for pure scoring, which then writes no
    /// `N·V` gradient (PyTorch's `no_grad`).
    public var computesGradient = true

    private var ids = [Int32](), targetIDs = [Int32]()
    private var embedded = Scratch(), logitsCache = Scratch(), dLogits = Scratch(), dTop = Scratch()
    private var dEmbedded = Scratch(), masks = Scratch(), droppedTop = Scratch()
    private var steps = 0, batch = 0
    /// Whether the last forward applied dropout (its masks are in `masks`).
    private var dropped = false
    /// Whether the last forward computed the loss gradient that backward needs.
    private var hasLossGradient = false
    /// Whether the last forward fed the embedding table to the first layer through its ids (see
    /// ``RecurrentStack/forward(tokens:table:vocabulary:steps:batch:h0:c0:dropoutMasks:pool:)``) instead of gathering
    /// the embedded rows.
    private var projectedTokens = false
    /// Feed the first layer through the embedding table when that costs less (nil: when `V < T·B` and no dropout
    /// masks the embeddings); tests force either path.
    var projectsTokens: Bool? = nil

    /// A model of `configuration` with zero parameters (load or initialise them through ``parameters``).
    /// - Throws: ``LayerError/invalidConfiguration(_:)`` for tied embeddings with `embedding ≠ hidden`.
    public init(_ configuration: Configuration) throws {
        if configuration.tiedEmbeddings && configuration.embedding != configuration.hidden {
            throw LayerError.invalidConfiguration(
                "tied embeddings need embedding size \(configuration.embedding) == hidden size \(configuration.hidden)")
        }
        self.configuration = configuration
        parameters = try ParameterSet(configuration.layout)
        embedding = try Embedding(parameters, prefix: "embedding", vocabulary: configuration.vocabulary,
                                  dimension: configuration.embedding)
        rnn = try RecurrentStack(parameters, prefix: "rnn", kind: configuration.kind,
                                 inputSize: configuration.embedding, hiddenSize: configuration.hidden,
                                 count: configuration.layers)
        decoder = try Dense(parameters, weight: configuration.tiedEmbeddings ? "embedding.weight" : "decoder.weight",
                            bias: "decoder.bias", inputs: configuration.hidden, outputs: configuration.vocabulary)
    }

    /// The logits `[T][B][V]` of the last forward.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logitsCache.buffer.base, count: steps * batch * configuration.vocabulary)
    }
    /// The final hidden states `[L][B][H]` of the last forward.
    public var finalHidden: [Float] {
        Array(UnsafeBufferPointer(start: rnn.finalHidden, count: configuration.layers * batch * configuration.hidden))
    }
    /// The final cell states `[L][B][H]` of the last forward (LSTM only; empty otherwise).
    public var finalCell: [Float] {
        guard configuration.kind.hasCellState else { return [] }
        return Array(UnsafeBufferPointer(start: rnn.finalCell, count: configuration.layers * batch * configuration.hidden))
    }
    /// The gradient of `h0` `[L][B][H]` after ``backward(dFinalHidden:dFinalCell:)``.
    public var dInitialHidden: [Float] {
        Array(UnsafeBufferPointer(start: rnn.dInitialHidden, count: configuration.layers * batch * configuration.hidden))
    }
    /// The gradient of `c0` `[L][B][H]` after backward (LSTM only; empty otherwise).
    public var dInitialCell: [Float] {
        guard configuration.kind.hasCellState else { return [] }
        return Array(UnsafeBufferPointer(start: rnn.dInitialCell, count: configuration.layers * batch * configuration.hidden))
    }

    /// Runs the model over a window and returns the loss; also computes `dLogits` for ``backward(dFinalHidden:dFinalCell:pool:)``.
    ///
    /// Without an ``RNG`` no dropout can be drawn: this requires ``dropout`` 0 or evaluation mode (``isTraining``
    /// false); see ``forward(inputs:targets:steps:batch:h0:c0:rng:pool:)``.
    /// - Parameters:
    ///   - inputs, targets: `[T][B]` token ids, flattened time-major.
    ///   - h0, c0: `[L][B][H]` initial states, nil for zeros (`c0` is ignored but by the LSTM).
    /// - Returns: the loss over the positions that count, per ``lossReduction``.
    public func forward(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, h0: [Float]? = nil,
                        c0: [Float]? = nil, pool: ThreadPool = .shared) -> Double {
        precondition(!isTraining || dropout == 0, "a training forward with dropout needs an RNG for its masks")
        return run(inputs: inputs, targets: targets, steps: T, batch: B, h0: h0, c0: c0, rng: nil, pool: pool)
    }

    /// Runs the model over a window, drawing the dropout masks (when training with ``dropout`` > 0) from `rng`: one
    /// mask over the embeddings `[T][B][E]`, then the `L − 1` between layers and the one before the decoder
    /// `[T][B][H]`, in that order. `rng` is left untouched when no dropout applies.
    public func forward(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, h0: [Float]? = nil,
                        c0: [Float]? = nil, rng: inout RNG, pool: ThreadPool = .shared) -> Double {
        withUnsafeMutablePointer(to: &rng) { rng in
            run(inputs: inputs, targets: targets, steps: T, batch: B, h0: h0, c0: c0, rng: rng, pool: pool)
        }
    }

    private func run(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, h0: [Float]?, c0: [Float]?,
                     rng: UnsafeMutablePointer<RNG>?, pool: ThreadPool) -> Double {
        let c = configuration, N = T * B, E = c.embedding, H = c.hidden, stateCount = c.layers * B * H
        precondition(inputs.count == N && targets.count == N, "inputs and targets must hold T·B = \(N) ids")
        precondition(h0.map { $0.count == stateCount } ?? true, "h0 must hold L·B·H = \(stateCount) floats")
        precondition(c0.map { $0.count == stateCount } ?? true, "c0 must hold L·B·H = \(stateCount) floats")
        steps = T
        batch = B
        ids = inputs
        targetIDs = targets
        dropped = isTraining && dropout > 0
        hasLossGradient = computesGradient
        // Masks: embeddings `[N][E]`, then `L − 1` between layers and one before the decoder, each `[N][H]`.
        let maskCount = N * E + c.layers * N * H
        let m = masks.pointer(dropped ? maskCount : 0)
        if dropped { Dropout.makeMask(m, count: maskCount, probability: dropout, rng: &rng!.pointee) }
        // Through the table, the first layer's input projection and its gradients cost `V` rows instead of `N`.
        projectedTokens = !dropped && (projectsTokens ?? (c.vocabulary < N))
        let x = embedded.pointer(projectedTokens ? 0 : N * E)
        if !projectedTokens {
            ids.withUnsafeBufferPointer { embedding.forward(ids: $0.baseAddress!, count: N, output: x, pool: pool) }
            if dropped { Dropout.forward(x, mask: m, x, count: N * E, pool: pool) }
        }
        withOptionalPointer(h0) { h0 in
            withOptionalPointer(c0) { c0 in
                if projectedTokens {
                    // `ids` is a stored property: its storage stays put until the next forward.
                    ids.withUnsafeBufferPointer {
                        rnn.forward(tokens: $0.baseAddress!, table: embedding.weight.base, vocabulary: c.vocabulary,
                                    steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropped ? m + N * E : nil,
                                    pool: pool)
                    }
                } else {
                    rnn.forward(x, steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropped ? m + N * E : nil,
                                pool: pool)
                }
            }
        }
        if dropped {
            Dropout.forward(rnn.output, mask: m + N * E + (c.layers - 1) * N * H, droppedTop.pointer(N * H),
                            count: N * H, pool: pool)
        }
        return decodeToLoss(decoderInput, decoder: decoder, targets: targetIDs, rows: N, batch: B,
                            ignoreIndex: ignoreIndex, reduction: lossReduction,
                            logits: logitsCache.pointer(N * c.vocabulary),
                            dLogits: computesGradient ? dLogits.pointer(N * c.vocabulary) : nil, pool: pool)
    }

    /// The input of the decoder in the last forward: the top layer's output, or its dropped-out copy.
    private var decoderInput: UnsafeMutablePointer<Float> { dropped ? droppedTop.buffer.base : rnn.output }

    /// Backpropagates the loss of the last forward (through its dropout masks): ADDS every parameter gradient into
    /// ``parameters``, and leaves the gradients of the initial states in ``dInitialHidden`` and ``dInitialCell``.
    /// - Parameters: `dFinalHidden`, `dFinalCell`: `[L][B][H]` extra gradients of the final states, nil for none.
    public func backward(dFinalHidden: [Float]? = nil, dFinalCell: [Float]? = nil, pool: ThreadPool = .shared) {
        precondition(hasLossGradient, "backward needs a forward that computed the loss gradient (computesGradient)")
        let c = configuration, N = steps * batch, E = c.embedding, H = c.hidden
        let dTop = dTop.pointer(N * H), dx = dEmbedded.pointer(projectedTokens ? 0 : N * E), m = masks.buffer.base
        decoder.backward(input: decoderInput, dOutput: dLogits.buffer.base, rows: N, dInput: dTop, pool: pool)
        if dropped {
            Dropout.backward(dOutput: dTop, mask: m + N * E + (c.layers - 1) * N * H, dInput: dTop, count: N * H,
                             pool: pool)
        }
        withOptionalPointer(dFinalHidden) { dh in
            withOptionalPointer(dFinalCell) { dc in
                rnn.backward(dOutput: dTop, dFinalHidden: dh, dFinalCell: dc,
                             dInput: projectedTokens ? embedding.dWeight.base : dx, pool: pool)
            }
        }
        if projectedTokens { return }  // the first layer added the embedding's gradient itself
        if dropped { Dropout.backward(dOutput: dx, mask: m, dInput: dx, count: N * E, pool: pool) }
        ids.withUnsafeBufferPointer { embedding.backward(ids: $0.baseAddress!, count: N, dOutput: dx, pool: pool) }
    }
}

/// `x[i] *= factor` for `count` elements, in fixed chunks (element-wise, so any thread count gives the same bits).
func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float, pool: ThreadPool) {
    let chunk = 1 << 15
    pool.parallelFor((count + chunk - 1) / chunk) { item in
        let start = item * chunk
        for i in start..<min(count, start + chunk) { x[i] *= factor }
    }
}

/// Calls `body` with a pointer to the elements of `array`, or nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
