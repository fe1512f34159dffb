import Foundation
import QuillTensor

// Letters: `B` batch (sentence pairs), `S` source steps, `T` target steps, `E` embedding, `H` decoder width (the
// encoder runs `H/2` per direction), `L` layers, `V_s`/`V_t` vocabularies. Layout: time-major `[step][B][…]`.

/// A sequence-to-sequence model with attention: OpenNMT-py's default RNN model (`-encoder_type brnn
/// -global_attention general -input_feed 1`, no bridge), the model of `../shared/bench/pytorch_seq2seq.py`.
///
///     source ids → embedding E → L bidirectional LSTM layers (H/2 per direction, outputs concatenated: memory [S][B][H])
///     decoder state₀ (layer l) = [final forward; final reverse] (h, c) of encoder layer l
///     step t: x = [embedding(y_{t−1}); a_{t−1}]  (input feeding, a₋₁ = 0) → L LSTM layers of H → h_t
///             a_t = LuongAttention(h_t, memory)   → generator: logits = a_t·Wᵀ + b
///     loss = cross-entropy over the target positions that are not padding, mean per target (optionally smoothed)
///
/// Padding is id −1 (source and target), as `QuillTrain.SentencePairBatcher` produces: padded source steps are
/// outside the encoder's packed sequences and the attention's softmax; padded target steps count for nothing and
/// receive no gradient.
///
/// Dropout (inverted, while ``isTraining``), where the peer puts it: between encoder layers, between decoder layers,
/// and on the attentional output (which both the generator and the next step's input feeding read). Masks come from
/// the ``RNG`` passed to ``forward(source:sourceLengths:decoderInputs:targets:sourceSteps:targetSteps:batch:rng:pool:)``:
/// `L − 1` encoder masks `[S][B][H]`, then `L − 1` decoder masks `[T][B][H]`, then one `[T][B][H]` on the outputs.
///
/// Parameter names (PyTorch's in `QuillFormats.PyTorchNames`): `sourceEmbedding.weight` `[V_s][E]`,
/// `encoder.<l>.{weightIH, weightHH, biasIH, biasHH}` and `encoder.<l>.reverse.…` (LSTM, `H/2` units),
/// `targetEmbedding.weight` `[V_t][E]`, `decoder.<l>.…` (LSTM, `H` units, layer 0 reads `E + H`),
/// `attention.inWeight` `[H][H]`, `attention.outWeight` `[H][2H]`, `generator.weight` `[V_t][H]`, `generator.bias`.
///
/// Without attention (``Configuration/attention`` false: the sequence autoencoder) there are no `attention.*`
/// parameters, decoder layer 0 reads the embedding alone (`E`), and the generator reads the top decoder state.
public final class EncoderDecoder {
    /// The shape of a model.
    public struct Configuration: Equatable, Sendable, Codable {
        public var sourceVocabulary: Int
        public var targetVocabulary: Int
        public var embedding: Int
        /// The decoder's width and the memory's (each encoder direction has half of it).
        public var hidden: Int
        public var layers: Int
        /// Attention with input feeding (a translation model). Without it the decoder sees the source only through
        /// its first state, the encoder's final one: a fixed-size vector (a sequence autoencoder's bottleneck), and
        /// its input is the embedding alone.
        public var attention: Bool

        public init(sourceVocabulary: Int, targetVocabulary: Int, embedding: Int, hidden: Int, layers: Int,
                    attention: Bool = true) {
            self.sourceVocabulary = sourceVocabulary
            self.targetVocabulary = targetVocabulary
            self.embedding = embedding
            self.hidden = hidden
            self.layers = layers
            self.attention = attention
        }

        /// The width of the previous output fed to the decoder with each embedding: `H` with attention, else 0.
        public var feedWidth: Int { attention ? hidden : 0 }

        /// The parameter layout of this shape.
        public var layout: ParameterLayout {
            let E = embedding, H = hidden
            return Embedding.layout(prefix: "sourceEmbedding", vocabulary: sourceVocabulary, dimension: E)
                + (0..<layers).flatMap { l in
                    BidirectionalLayer.layout(prefix: "encoder", index: l, kind: .lstm, inputSize: l == 0 ? E : H,
                                              hiddenSize: H / 2)
                }
                + Embedding.layout(prefix: "targetEmbedding", vocabulary: targetVocabulary, dimension: E)
                + RecurrentStack.layout(prefix: "decoder", kind: .lstm, inputSize: E + feedWidth, hiddenSize: H,
                                        count: layers)
                + (attention ? LuongAttention.layout(prefix: "attention", width: H) : [])
                + Dense.layout(prefix: "generator", inputs: H, outputs: targetVocabulary)
        }

        /// Why this shape cannot be built, or nil.
        var problem: String? {
            if hidden < 2 || hidden % 2 != 0 { return "the hidden size \(hidden) must be even (half per direction)" }
            if layers < 1 { return "an encoder-decoder needs at least one layer, not \(layers)" }
            if embedding < 1 || sourceVocabulary < 1 || targetVocabulary < 1 {
                return "embedding and vocabulary sizes must be positive"
            }
            return nil
        }
    }

    public let configuration: Configuration
    public let parameters: ParameterSet
    public let sourceEmbedding: Embedding, targetEmbedding: Embedding
    public let encoder: [BidirectionalLayer]
    public let decoder: [RecurrentLayer]
    /// The attention layer; nil in a model without (``Configuration/attention``).
    public let attention: LuongAttention?
    public let generator: Dense
    /// The probability of zeroing an activation where the peer drops out (0 by default).
    public var dropout: Float = 0 {
        didSet { precondition(dropout >= 0 && dropout < 1, "dropout \(dropout) outside [0, 1)") }
    }
    /// `ε` of a label-smoothed loss (0: plain cross-entropy).
    public var labelSmoothing: Float = 0 {
        didSet { precondition(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing outside [0, 1)") }
    }
    /// Training mode (dropout active) or evaluation mode.
    public var isTraining = true

    private var sourceIDs = [Int32](), lengths = [Int32](), inputIDs = [Int32](), targetIDs = [Int32]()
    private var sourceSteps = 0, targetSteps = 0, batch = 0, dropped = false
    private var embeddedSource = Scratch(), embeddedTarget = Scratch(), masks = Scratch()
    private var encoderDropped = Scratch(), h0 = Scratch(), c0 = Scratch(), stepInput = Scratch()
    private var between = Scratch(), feeds = Scratch(), logitsCache = Scratch(), dLogits = Scratch()
    private var dFeeds = Scratch(), dMemory = Scratch(), dTop = Scratch(), dBetween = Scratch()
    private var dStepInput = Scratch(), dNextFeed = Scratch(), dEmbeddedTarget = Scratch()
    private var dEncoderFinalH = Scratch(), dEncoderFinalC = Scratch(), dEncoderBetween = Scratch()
    private var dEmbeddedSource = Scratch()

    /// A model of `configuration` with zero parameters (load or initialise them through ``parameters``).
    /// - Throws: ``LayerError/invalidConfiguration(_:)`` for an odd hidden size or no layers.
    public init(_ configuration: Configuration) throws {
        if let problem = configuration.problem { throw LayerError.invalidConfiguration(problem) }
        self.configuration = configuration
        let c = configuration, E = c.embedding, H = c.hidden
        let parameters = try ParameterSet(c.layout)
        self.parameters = parameters
        sourceEmbedding = try Embedding(parameters, prefix: "sourceEmbedding", vocabulary: c.sourceVocabulary,
                                        dimension: E)
        encoder = try (0..<c.layers).map { l in
            try BidirectionalLayer(parameters, prefix: "encoder", index: l, kind: .lstm, inputSize: l == 0 ? E : H,
                                   hiddenSize: H / 2)
        }
        targetEmbedding = try Embedding(parameters, prefix: "targetEmbedding", vocabulary: c.targetVocabulary,
                                        dimension: E)
        decoder = try (0..<c.layers).map { l in
            try RecurrentLayer(parameters, prefix: "decoder", index: l, kind: .lstm,
                               inputSize: l == 0 ? E + c.feedWidth : H,
                               hiddenSize: H)
        }
        attention = c.attention ? try LuongAttention(parameters, prefix: "attention", width: H) : nil
        generator = try Dense(parameters, prefix: "generator", inputs: H, outputs: c.targetVocabulary)
    }

    /// The logits `[T][B][V_t]` of the last forward.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logitsCache.buffer.base, count: targetSteps * batch * configuration.targetVocabulary)
    }
    /// The encoder's outputs `[S][B][H]` of the last forward (zero past a row's length).
    public var memory: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: encoder[encoder.count - 1].output, count: sourceSteps * batch * configuration.hidden)
    }
    /// The attention weights `[B][S]` of target step `t` in the last forward (a model with attention).
    public func attentionWeights(step t: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: attention!.weights(slot: t), count: batch * sourceSteps)
    }

    /// Runs the model over a batch of sentence pairs and returns the mean loss per target; keeps what
    /// ``backward(pool:)`` needs. Requires no dropout (``dropout`` 0 or evaluation mode): see the variant with an RNG.
    /// - Parameters:
    ///   - source: `[S][B]` ids, −1 in the padding.
    ///   - sourceLengths: `[B]` each row's source steps, in `1...S`.
    ///   - decoderInputs: `[T][B]` the target shifted right (a start id first), −1 in the padding.
    ///   - targets: `[T][B]` the ids to predict, −1 in the padding.
    public func forward(source: [Int32], sourceLengths: [Int32], decoderInputs: [Int32], targets: [Int32],
                        sourceSteps S: Int, targetSteps T: Int, batch B: Int, pool: ThreadPool = .shared) -> Double {
        precondition(!isTraining || dropout == 0, "a training forward with dropout needs an RNG for its masks")
        return run(source: source, sourceLengths: sourceLengths, decoderInputs: decoderInputs, targets: targets,
                   S: S, T: T, B: B, rng: nil, pool: pool)
    }

    /// As ``forward(source:sourceLengths:decoderInputs:targets:sourceSteps:targetSteps:batch:pool:)``, drawing the
    /// dropout masks (when training with ``dropout`` > 0) from `rng`.
    public func forward(source: [Int32], sourceLengths: [Int32], decoderInputs: [Int32], targets: [Int32],
                        sourceSteps S: Int, targetSteps T: Int, batch B: Int, rng: inout RNG,
                        pool: ThreadPool = .shared) -> Double {
        withUnsafeMutablePointer(to: &rng) { rng in
            run(source: source, sourceLengths: sourceLengths, decoderInputs: decoderInputs, targets: targets,
                S: S, T: T, B: B, rng: rng, pool: pool)
        }
    }

    /// The offsets of the dropout masks in `masks`: encoder layers, decoder layers, outputs.
    private var maskCounts: (encoder: Int, decoder: Int, outputs: Int) {
        let L = configuration.layers, H = configuration.hidden
        return ((L - 1) * sourceSteps * batch * H, (L - 1) * targetSteps * batch * H, targetSteps * batch * H)
    }

    private func run(source: [Int32], sourceLengths: [Int32], decoderInputs: [Int32], targets: [Int32],
                     S: Int, T: Int, B: Int, rng: UnsafeMutablePointer<RNG>?, pool: ThreadPool) -> Double {
        let c = configuration, E = c.embedding, H = c.hidden, L = c.layers
        precondition(source.count == S * B && sourceLengths.count == B, "source must be [S][B], lengths [B]")
        precondition(decoderInputs.count == T * B && targets.count == T * B, "targets must be [T][B]")
        sourceSteps = S
        targetSteps = T
        batch = B
        sourceIDs = source
        lengths = sourceLengths
        inputIDs = decoderInputs
        targetIDs = targets
        dropped = isTraining && dropout > 0
        let counts = maskCounts
        let m = masks.pointer(dropped ? counts.encoder + counts.decoder + counts.outputs : 0)
        if dropped {
            Dropout.makeMask(m, count: counts.encoder + counts.decoder + counts.outputs, probability: dropout,
                             rng: &rng!.pointee)
        }
        let encoderMasks = m, decoderMasks = m + counts.encoder, outputMasks = m + counts.encoder + counts.decoder

        encode(encoderMasks: dropped ? encoderMasks : nil, pool: pool)
        let hStart = h0.buffer.base, cStart = c0.buffer.base

        let ys = embeddedTarget.pointer(T * B * E)
        inputIDs.withUnsafeBufferPointer { targetEmbedding.forward(ids: $0.baseAddress!, count: T * B, output: ys,
                                                                   pool: pool) }
        for (l, layer) in decoder.enumerated() {
            layer.beginSteps(capacity: T, batch: B, h0: hStart + l * B * H, c0: cStart + l * B * H, pool: pool)
        }
        let memory = encoder[L - 1].output
        lengths.withUnsafeBufferPointer { lengths in
            attention?.begin(memory: memory, sourceSteps: S, memoryRows: B, lengths: lengths.baseAddress!, batch: B,
                             capacity: T, pool: pool)
        }
        let F = c.feedWidth
        let x = stepInput.pointer(B * (E + F)), fed = feeds.pointer(T * B * H), mid = between.pointer(B * H)
        for t in 0..<T {
            for b in 0..<B {
                let row = x + b * (E + F)
                row.update(from: ys + (t * B + b) * E, count: E)
                if F == 0 { continue }
                if t == 0 { (row + E).update(repeating: 0, count: F) }
                else { (row + E).update(from: fed + ((t - 1) * B + b) * H, count: F) }
            }
            var h = UnsafePointer(x)
            for (l, layer) in decoder.enumerated() {
                let out = layer.step(h, pool: pool)
                if l + 1 < L && dropped {
                    Dropout.forward(out, mask: decoderMasks + (l * T + t) * B * H, mid, count: B * H, pool: pool)
                    h = UnsafePointer(mid)
                } else {
                    h = UnsafePointer(out)
                }
            }
            let a = attention?.forward(query: h, slot: t, pool: pool) ?? UnsafeMutablePointer(mutating: h)
            if dropped { Dropout.forward(a, mask: outputMasks + t * B * H, fed + t * B * H, count: B * H, pool: pool) }
            else { (fed + t * B * H).update(from: a, count: B * H) }
        }

        let V = c.targetVocabulary
        let logits = logitsCache.pointer(T * B * V), dl = dLogits.pointer(T * B * V)
        generator.forward(fed, rows: T * B, output: logits, pool: pool)
        return targetIDs.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.compute(logits: logits, targets: $0.baseAddress!, rows: T * B, vocabulary: V,
                                        ignoreIndex: -1, reduction: .mean, labelSmoothing: labelSmoothing,
                                        dLogits: dl, pool: pool).loss
        }
    }

    /// Runs the encoder over a batch of sources (no dropout: evaluation mode or ``dropout`` 0), for decoding:
    /// afterwards ``memory`` holds the encoder's outputs and ``initialHidden`` / ``initialCell`` the decoder's first
    /// states.
    /// - Parameters: `source` `[S][B]` ids (−1 in the padding), `sourceLengths` `[B]` in `1...S`.
    public func encode(source: [Int32], sourceLengths: [Int32], sourceSteps S: Int, batch B: Int,
                       pool: ThreadPool = .shared) {
        precondition(!isTraining || dropout == 0, "encoding for decoding runs without dropout")
        precondition(source.count == S * B && sourceLengths.count == B, "source must be [S][B], lengths [B]")
        sourceSteps = S
        batch = B
        sourceIDs = source
        lengths = sourceLengths
        dropped = false
        encode(encoderMasks: nil, pool: pool)
    }

    /// The decoder's first hidden states `[L][B][H]` after an encode: each encoder layer's final states, both
    /// directions side by side.
    public var initialHidden: UnsafePointer<Float> { UnsafePointer(h0.buffer.base) }
    /// Each row's sentence vector `[B][H]` after an encode (or a forward): the top encoder layer's final states,
    /// forward and reverse side by side — the fixed-size vector a decoder without attention starts from.
    public var sentenceVectors: UnsafeBufferPointer<Float> {
        let H = configuration.hidden
        return UnsafeBufferPointer(start: h0.buffer.base + (configuration.layers - 1) * batch * H, count: batch * H)
    }

    /// Each row's summed negative log-likelihood of its targets `[B]` in the last forward (without label
    /// smoothing): how badly the model predicts that row.
    public func rowLosses() -> [Double] {
        let V = configuration.targetVocabulary, B = batch
        var losses = [Double](repeating: 0, count: B)
        let logits = logitsCache.buffer.base
        for t in 0..<targetSteps {
            for b in 0..<B where targetIDs[t * B + b] >= 0 {
                let row = logits + (t * B + b) * V
                var top = -Float.infinity
                for v in 0..<V { top = max(top, row[v]) }
                var sum = 0.0
                for v in 0..<V { sum += exp(Double(row[v] - top)) }
                losses[b] += Double(top) + log(sum) - Double(row[Int(targetIDs[t * B + b])])
            }
        }
        return losses
    }

    /// The decoder's first cell states `[L][B][H]` after an encode.
    public var initialCell: UnsafePointer<Float> { UnsafePointer(c0.buffer.base) }

    /// The encoder over ``sourceIDs``: embedding, the bidirectional layers (with dropout masks between them when
    /// given), and the decoder's first states from their final ones.
    private func encode(encoderMasks: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let c = configuration, E = c.embedding, H = c.hidden, L = c.layers, half = H / 2
        let S = sourceSteps, B = batch, dropped = encoderMasks != nil
        // The encoder over the whole source.
        let xs = embeddedSource.pointer(S * B * E)
        sourceIDs.withUnsafeBufferPointer { sourceEmbedding.forward(ids: $0.baseAddress!, count: S * B, output: xs,
                                                                    pool: pool) }
        let droppedOutputs = encoderDropped.pointer(dropped ? (L - 1) * S * B * H : 0)
        lengths.withUnsafeBufferPointer { lengths in
            var input = UnsafePointer(xs)
            for (l, layer) in encoder.enumerated() {
                layer.forward(input, steps: S, batch: B, lengths: lengths.baseAddress, h0: nil, c0: nil, pool: pool)
                if l + 1 < L {
                    if dropped {
                        let y = droppedOutputs + l * S * B * H
                        Dropout.forward(layer.output, mask: encoderMasks! + l * S * B * H, y, count: S * B * H,
                                        pool: pool)
                        input = UnsafePointer(y)
                    } else {
                        input = UnsafePointer(layer.output)
                    }
                }
            }
        }

        // The decoder starts from each encoder layer's final states, both directions side by side.
        let hStart = h0.pointer(L * B * H), cStart = c0.pointer(L * B * H)
        for (l, layer) in encoder.enumerated() {
            for (start, final) in [(hStart, layer.finalHidden), (cStart, layer.finalCell)] {
                for b in 0..<B {
                    let row = start + (l * B + b) * H
                    row.update(from: final + b * half, count: half)
                    (row + half).update(from: final + (B + b) * half, count: half)
                }
            }
        }
    }

    /// Backpropagates the loss of the last forward: ADDS every parameter's gradient into ``parameters``.
    public func backward(pool: ThreadPool = .shared) {
        let c = configuration, E = c.embedding, H = c.hidden, L = c.layers, half = H / 2
        let S = sourceSteps, T = targetSteps, B = batch
        let counts = maskCounts, m = masks.buffer.base
        let encoderMasks = m, decoderMasks = m + counts.encoder, outputMasks = m + counts.encoder + counts.decoder
        let df = dFeeds.pointer(T * B * H)
        generator.backward(input: feeds.buffer.base, dOutput: dLogits.buffer.base, rows: T * B, dInput: df, pool: pool)

        let dm = dMemory.pointer(S * B * H)
        dm.update(repeating: 0, count: S * B * H)
        let F = c.feedWidth
        let dh = dTop.pointer(B * H), dMid = dBetween.pointer(2 * B * H), dx = dStepInput.pointer(B * (E + F))
        let dNext = dNextFeed.pointer(B * H), dys = dEmbeddedTarget.pointer(T * B * E)
        dNext.update(repeating: 0, count: B * H)
        for layer in decoder { layer.beginBackwardSteps(dFinalHidden: nil, dFinalCell: nil, pool: pool) }
        for t in stride(from: T - 1, through: 0, by: -1) {
            let da = df + t * B * H
            for i in 0..<B * H { da[i] += dNext[i] }
            if dropped { Dropout.backward(dOutput: da, mask: outputMasks + t * B * H, dInput: da, count: B * H,
                                          pool: pool) }
            if let attention { attention.backward(slot: t, dOutput: da, dQuery: dh, dMemory: dm, pool: pool) }
            else { dh.update(from: da, count: B * H) }
            var dOut = UnsafePointer(dh)
            for l in stride(from: L - 1, through: 0, by: -1) {
                let dIn = l == 0 ? dx : dMid + (l % 2) * B * H
                decoder[l].backwardStep(dOutput: dOut, dInput: dIn, pool: pool)
                if l > 0 {
                    if dropped {
                        Dropout.backward(dOutput: dIn, mask: decoderMasks + ((l - 1) * T + t) * B * H, dInput: dIn,
                                         count: B * H, pool: pool)
                    }
                    dOut = UnsafePointer(dIn)
                }
            }
            for b in 0..<B {
                (dys + (t * B + b) * E).update(from: dx + b * (E + F), count: E)
                if F > 0 { (dNext + b * H).update(from: dx + b * (E + F) + E, count: H) }
            }
        }
        attention?.finishBackward(pool: pool)
        inputIDs.withUnsafeBufferPointer { targetEmbedding.backward(ids: $0.baseAddress!, count: T * B, dOutput: dys,
                                                                    pool: pool) }

        // The decoder's initial states were the encoder's final ones: hand their gradients back, split by direction.
        let dfh = dEncoderFinalH.pointer(L * 2 * B * half), dfc = dEncoderFinalC.pointer(L * 2 * B * half)
        for (l, layer) in decoder.enumerated() {
            for (d, from) in [(dfh, layer.dInitialHidden), (dfc, layer.dInitialCell)] {
                for b in 0..<B {
                    let row = from + b * H, base = d + l * 2 * B * half
                    (base + b * half).update(from: row, count: half)
                    (base + (B + b) * half).update(from: row + half, count: half)
                }
            }
        }
        let dxs = dEmbeddedSource.pointer(S * B * E), dEncoderMid = dEncoderBetween.pointer(2 * S * B * H)
        var dOut = UnsafePointer(dm)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let dIn = l == 0 ? dxs : dEncoderMid + (l % 2) * S * B * H
            encoder[l].backward(dOutput: dOut, dFinalHidden: dfh + l * 2 * B * half, dFinalCell: dfc + l * 2 * B * half,
                                dInput: dIn, pool: pool)
            if l > 0 {
                if dropped {
                    Dropout.backward(dOutput: dIn, mask: encoderMasks + (l - 1) * S * B * H, dInput: dIn,
                                     count: S * B * H, pool: pool)
                }
                dOut = UnsafePointer(dIn)
            }
        }
        sourceIDs.withUnsafeBufferPointer { sourceEmbedding.backward(ids: $0.baseAddress!, count: S * B, dOutput: dxs,
                                                                     pool: pool) }
    }
}
