import QuillTensor

/// A gated convolutional language model (Dauphin et al. 2017): embedding → `L` residual blocks → dense → softmax
/// cross-entropy. Block `l` is a ``CausalConvolution`` of width `k` to `2C` channels and a ``GatedLinearUnit`` back to
/// `C`, added to its input when the widths match (every block but a first one whose embedding width `E ≠ C`):
/// `x₍ₗ₊₁₎ = x₍ₗ₎ + glu(conv(x₍ₗ₎))`.
///
/// No recurrence: every step of a window is computed at once, and a step sees the `L·(k − 1)` tokens before it. The
/// state handed from one window to the next (``carriedStateLayout(batch:)``, `state.context`) is therefore the last
/// `k − 1` inputs of every block, `[k − 1][B][E]` then `L − 1` times `[k − 1][B][C]`: with it, windows in a row give
/// exactly the outputs of one long sequence, and a decoder steps one token at a time by running windows of one step.
///
/// Simplifications of the paper, on purpose: no weight normalization, no bottleneck blocks, a full softmax. Dropout
/// (``dropout``, inverted, while ``isTraining``) applies to the embeddings and to each block's gated output before the
/// residual sum, with masks drawn from the ``RNG`` given to forward in that order.
///
/// Parameter names: `embedding.weight` `[V][E]`, `blocks.<l>.weight` `[k][2C][E or C]`, `blocks.<l>.bias` `[2C]`,
/// `decoder.weight` `[V][C]`, `decoder.bias` `[V]`.
public final class GatedConvolutionalLanguageModel: StreamLanguageModel {
    /// The shape of a model.
    public struct Configuration: Equatable, Sendable {
        public var vocabulary: Int
        public var embedding: Int
        /// `C`: channels of every block's output (the convolution makes `2C`).
        public var channels: Int
        public var blocks: Int
        /// `k`: steps each convolution sees, itself included.
        public var width: Int

        public init(vocabulary: Int, embedding: Int, channels: Int, blocks: Int, width: Int) {
            self.vocabulary = vocabulary
            self.embedding = embedding
            self.channels = channels
            self.blocks = blocks
            self.width = width
        }

        /// The input width of block `l`: `E` for the first, `C` after.
        public func inputs(ofBlock l: Int) -> Int { l == 0 ? embedding : channels }

        /// Tokens before a step that it sees: `L·(k − 1)`.
        public var receptiveField: Int { blocks * (width - 1) }

        /// The parameter layout of this shape.
        public var layout: ParameterLayout {
            Embedding.layout(prefix: "embedding", vocabulary: vocabulary, dimension: embedding)
                + (0..<blocks).flatMap { l in
                    CausalConvolution.layout(prefix: "blocks.\(l)", inputs: inputs(ofBlock: l), outputs: 2 * channels,
                                             width: width)
                }
                + Dense.layout(prefix: "decoder", inputs: channels, outputs: vocabulary)
        }

        /// Floats of `state.context` per stream: `(k − 1)·(E + (L − 1)·C)`.
        public var contextPerStream: Int { (width - 1) * (0..<blocks).reduce(0) { $0 + inputs(ofBlock: $1) } }
    }

    public let configuration: Configuration
    public let parameters: ParameterSet
    public let embedding: Embedding
    public let convolutions: [CausalConvolution]
    public let decoder: Dense
    /// The id of positions that count for nothing in the loss.
    public var ignoreIndex: Int32 = -1
    public var lossReduction = LossReduction.mean
    /// The probability of zeroing an embedding or a block's gated output while training.
    /// The arithmetic of the convolutions' and the decoder's products (``LanguageModel/precision``).
    public var precision: Precision {
        get { decoder.precision }
        set {
            decoder.precision = newValue
            for convolution in convolutions { convolution.precision = newValue }
        }
    }
    public var dropout: Float = 0 {
        didSet { precondition(dropout >= 0 && dropout < 1, "dropout \(dropout) outside [0, 1)") }
    }
    public var isTraining = true
    /// Whether forward computes the loss gradient that backward needs (PyTorch's `no_grad` when false).
    public var computesGradient = true

    private var ids = [Int32](), targetIDs = [Int32]()
    /// Per block: its input with the carried steps in front `[k − 1 + T][B][D]`, the convolution's output `[N][2C]`
    /// and the gates `[N][C]`.
    private var padded: [Scratch], convolved: [Scratch], gates: [Scratch]
    private var top = Scratch(), logitsCache = Scratch(), dLogits = Scratch(), masks = Scratch()
    private var dPadded = [Scratch(), Scratch()], dTopScratch = Scratch(), dGated = Scratch(), dConvolved = Scratch()
    private var dContext = Scratch()
    private var steps = 0, batch = 0, dropped = false
    /// Whether the last forward computed the loss gradient that backward needs.
    private var hasLossGradient = false

    /// A model of `configuration` with zero parameters.
    /// - Throws: ``LayerError/invalidConfiguration(_:)`` for a size below 1.
    public init(_ configuration: Configuration) throws {
        let c = configuration
        guard min(c.vocabulary, c.embedding, c.channels, c.blocks, c.width) >= 1 else {
            throw LayerError.invalidConfiguration("sizes must be at least 1 (vocabulary \(c.vocabulary), embedding "
                + "\(c.embedding), channels \(c.channels), blocks \(c.blocks), width \(c.width))")
        }
        self.configuration = c
        let parameters = try ParameterSet(c.layout)
        self.parameters = parameters
        embedding = try Embedding(parameters, prefix: "embedding", vocabulary: c.vocabulary, dimension: c.embedding)
        convolutions = try (0..<c.blocks).map { l in
            try CausalConvolution(parameters, prefix: "blocks.\(l)", inputs: c.inputs(ofBlock: l),
                                  outputs: 2 * c.channels, width: c.width)
        }
        decoder = try Dense(parameters, prefix: "decoder", inputs: c.channels, outputs: c.vocabulary)
        padded = Array(repeating: Scratch(), count: c.blocks)
        convolved = padded
        gates = padded
    }

    public var vocabularySize: Int { configuration.vocabulary }

    /// The logits `[T][B][V]` of the last forward.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logitsCache.buffer.base, count: steps * batch * configuration.vocabulary)
    }

    /// `state.context`: `[B][(k − 1)·(E + (L − 1)·C)]` floats, as ``finalContext`` lays them out.
    public func carriedStateLayout(batch: Int) -> ParameterLayout {
        configuration.width > 1 ? [("state.context", [batch, configuration.contextPerStream])] : []
    }

    public func forward(inputs: [Int32], targets: [Int32], steps: Int, batch: Int, state: [[Float]?],
                        rng: inout RNG, pool: ThreadPool) -> Double {
        withUnsafeMutablePointer(to: &rng) { rng in
            run(inputs: inputs, targets: targets, steps: steps, batch: batch, context: state.first ?? nil, rng: rng,
                pool: pool)
        }
    }

    /// Runs a window without dropout (evaluation, or a dropout of 0); see the protocol's forward.
    /// - Parameter context: `state.context` of the window before, nil for zeros (a stream's start).
    public func forward(inputs: [Int32], targets: [Int32], steps: Int, batch: Int, context: [Float]? = nil,
                        pool: ThreadPool = .shared) -> Double {
        precondition(!isTraining || dropout == 0, "a training forward with dropout needs an RNG for its masks")
        return run(inputs: inputs, targets: targets, steps: steps, batch: batch, context: context, rng: nil, pool: pool)
    }

    private func run(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, context: [Float]?,
                     rng: UnsafeMutablePointer<RNG>?, pool: ThreadPool) -> Double {
        let c = configuration, N = T * B, C = c.channels, E = c.embedding, k = c.width
        precondition(inputs.count == N && targets.count == N, "inputs and targets must hold T·B = \(N) ids")
        precondition(context.map { $0.count == B * c.contextPerStream } ?? true,
                     "a context must hold B·\(c.contextPerStream) floats")
        steps = T
        batch = B
        ids = inputs
        targetIDs = targets
        dropped = isTraining && dropout > 0
        hasLossGradient = computesGradient
        let m = masks.pointer(dropped ? N * (E + c.blocks * C) : 0)
        if dropped { Dropout.makeMask(m, count: N * (E + c.blocks * C), probability: dropout, rng: &rng!.pointee) }
        let P = (0..<c.blocks).map { padded[$0].pointer((k - 1 + T) * B * c.inputs(ofBlock: $0)) }
        scatterContext(context, into: P, batch: B)
        let x0 = P[0] + (k - 1) * B * E
        ids.withUnsafeBufferPointer { embedding.forward(ids: $0.baseAddress!, count: N, output: x0, pool: pool) }
        if dropped { Dropout.forward(x0, mask: m, x0, count: N * E, pool: pool) }
        let out = top.pointer(N * C)
        for (l, convolution) in convolutions.enumerated() {
            let D = c.inputs(ofBlock: l), x = P[l] + (k - 1) * B * D
            let z = convolved[l].pointer(N * 2 * C), s = gates[l].pointer(N * C)
            let y = l + 1 < c.blocks ? P[l + 1] + (k - 1) * B * C : out
            convolution.forward(P[l], steps: T, batch: B, output: z, pool: pool)
            GatedLinearUnit.forward(z, rows: N, channels: C, gates: s, output: y, pool: pool)
            if dropped { Dropout.forward(y, mask: m + N * E + l * N * C, y, count: N * C, pool: pool) }
            if D == C { for i in 0..<(N * C) { y[i] += x[i] } }
        }
        return decodeToLoss(out, decoder: decoder, targets: targetIDs, rows: N, batch: B, ignoreIndex: ignoreIndex,
                            reduction: lossReduction, logits: logitsCache.pointer(N * c.vocabulary),
                            dLogits: computesGradient ? dLogits.pointer(N * c.vocabulary) : nil, pool: pool)
    }

    /// Copies a `[B][context]` state into the first `k − 1` steps of every block's padded input (zeros for nil).
    private func scatterContext(_ context: [Float]?, into P: [UnsafeMutablePointer<Float>], batch B: Int) {
        let c = configuration
        guard c.width > 1 else { return }
        guard let context else {
            for (l, p) in P.enumerated() { p.update(repeating: 0, count: (c.width - 1) * B * c.inputs(ofBlock: l)) }
            return
        }
        context.withUnsafeBufferPointer { state in
            for (l, p) in P.enumerated() { transfer(block: l, steps: p, state: state.baseAddress!, batch: B, toState: false) }
        }
    }

    /// Moves block `l`'s `k − 1` steps `[k − 1][B][D]` at `steps` to or from its part of a `[B][context]` state: for
    /// each stream, block by block, `[k − 1][D]` (one stream's context is contiguous, so a decoder keeps streams
    /// apart).
    private func transfer(block l: Int, steps: UnsafeMutablePointer<Float>, state: UnsafePointer<Float>, batch B: Int,
                          toState: Bool) {
        let c = configuration, D = c.inputs(ofBlock: l), k = c.width
        let blockOffset = (k - 1) * (0..<l).reduce(0) { $0 + c.inputs(ofBlock: $1) }
        let state = UnsafeMutablePointer(mutating: state)
        for b in 0..<B {
            for t in 0..<(k - 1) {
                let inState = state + b * c.contextPerStream + blockOffset + t * D, inSteps = steps + (t * B + b) * D
                if toState { inState.update(from: inSteps, count: D) } else { inSteps.update(from: inState, count: D) }
            }
        }
    }

    /// The state the last forward ended in (`state.context`): every block's last `k − 1` inputs, `[B][context]`.
    public var finalContext: [Float] {
        let c = configuration, B = batch, T = steps
        guard c.width > 1 else { return [] }
        var context = [Float](repeating: 0, count: B * c.contextPerStream)
        context.withUnsafeMutableBufferPointer { state in
            for l in 0..<c.blocks {
                let D = c.inputs(ofBlock: l)
                transfer(block: l, steps: padded[l].buffer.base + T * B * D, state: state.baseAddress!, batch: B,
                         toState: true)
            }
        }
        return context
    }

    public var finalState: [[Float]] { configuration.width > 1 ? [finalContext] : [] }

    /// The gradient of the context the last forward started from, `[B][context]` (after ``backward(pool:)``; it
    /// reaches no earlier window: training truncates there).
    public var dInitialContext: [Float] {
        Array(UnsafeBufferPointer(start: dContext.buffer.base, count: batch * configuration.contextPerStream))
    }

    public func backward(pool: ThreadPool = .shared) {
        precondition(hasLossGradient, "backward needs a forward that computed the loss gradient (computesGradient)")
        let c = configuration, N = steps * batch, B = batch, T = steps, C = c.channels, E = c.embedding
        let k = c.width, m = masks.buffer.base
        let dTop = dTopScratch.pointer(N * C), dz = dConvolved.pointer(N * 2 * C), dg = dGated.pointer(N * C)
        let dState = dContext.pointer(B * c.contextPerStream)
        decoder.backward(input: top.buffer.base, dOutput: dLogits.buffer.base, rows: N, dInput: dTop, pool: pool)
        var dx = dTop  // the gradient of the current block's output
        for l in stride(from: c.blocks - 1, through: 0, by: -1) {
            let D = c.inputs(ofBlock: l)
            let dP = dPadded[l % 2].pointer((k - 1 + T) * B * D)
            if dropped { Dropout.backward(dOutput: dx, mask: m + N * E + l * N * C, dInput: dg, count: N * C, pool: pool) }
            GatedLinearUnit.backward(convolved[l].buffer.base, gates: gates[l].buffer.base, dOutput: dropped ? dg : dx,
                                     rows: N, channels: C, dInput: dz, pool: pool)
            convolutions[l].backward(padded: padded[l].buffer.base, dOutput: dz, steps: T, batch: B, dPadded: dP,
                                     pool: pool)
            if k > 1 { transfer(block: l, steps: dP, state: dState, batch: B, toState: true) }
            let dInput = dP + (k - 1) * B * D
            if D == C { for i in 0..<(N * C) { dInput[i] += dx[i] } }
            dx = dInput
        }
        if dropped { Dropout.backward(dOutput: dx, mask: m, dInput: dx, count: N * E, pool: pool) }
        ids.withUnsafeBufferPointer { embedding.backward(ids: $0.baseAddress!, count: N, dOutput: dx, pool: pool) }
    }
}
