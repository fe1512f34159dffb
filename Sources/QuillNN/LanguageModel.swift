import QuillTensor

/// A recurrent language model: embedding → `L` stacked recurrent layers → dense → softmax cross-entropy.
///
/// Letters: `T` steps, `B` batch, `N = T·B`, `V` vocabulary, `E` embedding width, `H` hidden, `L` layers. Inputs and
/// targets are token ids `[T][B]` (time-major); states `[L][B][H]`. The loss is the mean over the `N` positions
/// (targets equal to `ignoreIndex` count for nothing), as PyTorch's `F.cross_entropy`.
///
/// Parameter names (the checkpoint's keys), in this order:
/// `embedding.weight` `[V][E]`, `rnn.<l>.weightIH` `[G][E or H]`, `rnn.<l>.weightHH` `[G][H]`, `rnn.<l>.biasIH` `[G]`,
/// `rnn.<l>.biasHH` `[G]`, `decoder.weight` `[V][H]`, `decoder.bias` `[V]`; see ``pytorchName(_:embedding:rnn:decoder:)``.
public final class LanguageModel {
    /// The shape of a model.
    public struct Configuration: Equatable, Sendable {
        public var kind: CellKind
        public var vocabulary: Int
        public var embedding: Int
        public var hidden: Int
        public var layers: Int

        public init(kind: CellKind, vocabulary: Int, embedding: Int, hidden: Int, layers: Int) {
            self.kind = kind
            self.vocabulary = vocabulary
            self.embedding = embedding
            self.hidden = hidden
            self.layers = layers
        }

        /// The parameter layout of this shape.
        public var layout: ParameterLayout {
            Embedding.layout(prefix: "embedding", vocabulary: vocabulary, dimension: embedding)
                + RecurrentStack.layout(prefix: "rnn", kind: kind, inputSize: embedding, hiddenSize: hidden,
                                        count: layers)
                + Dense.layout(prefix: "decoder", inputs: hidden, outputs: vocabulary)
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

    private var ids = [Int32](), targetIDs = [Int32]()
    private var embedded = Scratch(), logitsCache = Scratch(), dLogits = Scratch(), dTop = Scratch()
    private var dEmbedded = Scratch()
    private var steps = 0, batch = 0

    /// A model of `configuration` with zero parameters (load or initialise them through ``parameters``).
    public init(_ configuration: Configuration) throws {
        self.configuration = configuration
        parameters = try ParameterSet(configuration.layout)
        embedding = try Embedding(parameters, prefix: "embedding", vocabulary: configuration.vocabulary,
                                  dimension: configuration.embedding)
        rnn = try RecurrentStack(parameters, prefix: "rnn", kind: configuration.kind,
                                 inputSize: configuration.embedding, hiddenSize: configuration.hidden,
                                 count: configuration.layers)
        decoder = try Dense(parameters, prefix: "decoder", inputs: configuration.hidden,
                            outputs: configuration.vocabulary)
    }

    /// PyTorch's state_dict name of a Quill parameter, for a module with submodules named `embedding`, `rnn` and
    /// `decoder` (e.g. `rnn.1.weightHH` → `rnn.weight_hh_l1`, `decoder.bias` → `out.bias` with `decoder: "out"`).
    public static func pytorchName(_ name: String, embedding: String = "embedding", rnn: String = "rnn",
                                   decoder: String = "decoder") -> String {
        let parts = name.split(separator: ".").map(String.init)
        switch parts.first {
        case "embedding": return ([embedding] + parts.dropFirst()).joined(separator: ".")
        case "decoder": return ([decoder] + parts.dropFirst()).joined(separator: ".")
        case "rnn" where parts.count == 3:
            if let index = Int(parts[1]), let suffix = RecurrentLayer.pytorchSuffix(parts[2], index: index) {
                return "\(rnn).\(suffix)"
            }
            return name
        default: return name
        }
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

    /// Runs the model over a window and returns the loss; also computes `dLogits` for ``backward(dFinalHidden:dFinalCell:)``.
    /// - Parameters:
    ///   - inputs, targets: `[T][B]` token ids, flattened time-major.
    ///   - h0, c0: `[L][B][H]` initial states, nil for zeros (`c0` is ignored but by the LSTM).
    /// - Returns: the mean cross-entropy over the positions that count.
    public func forward(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, h0: [Float]? = nil,
                        c0: [Float]? = nil, pool: ThreadPool = .shared) -> Double {
        let c = configuration, N = T * B, stateCount = c.layers * B * c.hidden
        precondition(inputs.count == N && targets.count == N, "inputs and targets must hold T·B = \(N) ids")
        precondition(h0.map { $0.count == stateCount } ?? true, "h0 must hold L·B·H = \(stateCount) floats")
        precondition(c0.map { $0.count == stateCount } ?? true, "c0 must hold L·B·H = \(stateCount) floats")
        steps = T
        batch = B
        ids = inputs
        targetIDs = targets
        let x = embedded.pointer(N * c.embedding)
        ids.withUnsafeBufferPointer { embedding.forward(ids: $0.baseAddress!, count: N, output: x, pool: pool) }
        withOptionalPointer(h0) { h0 in
            withOptionalPointer(c0) { c0 in rnn.forward(x, steps: T, batch: B, h0: h0, c0: c0, pool: pool) }
        }
        let logits = logitsCache.pointer(N * c.vocabulary), dl = dLogits.pointer(N * c.vocabulary)
        decoder.forward(rnn.output, rows: N, output: logits, pool: pool)
        return targetIDs.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.compute(logits: logits, targets: $0.baseAddress!, rows: N, vocabulary: c.vocabulary,
                                        ignoreIndex: ignoreIndex, reduction: .mean, dLogits: dl, pool: pool).loss
        }
    }

    /// Backpropagates the loss of the last forward: ADDS every parameter gradient into ``parameters``, and leaves the
    /// gradients of the initial states in ``dInitialHidden`` and ``dInitialCell``.
    /// - Parameters: `dFinalHidden`, `dFinalCell`: `[L][B][H]` extra gradients of the final states, nil for none.
    public func backward(dFinalHidden: [Float]? = nil, dFinalCell: [Float]? = nil, pool: ThreadPool = .shared) {
        let c = configuration, N = steps * batch
        let dTop = dTop.pointer(N * c.hidden), dx = dEmbedded.pointer(N * c.embedding)
        decoder.backward(input: rnn.output, dOutput: dLogits.buffer.base, rows: N, dInput: dTop, pool: pool)
        withOptionalPointer(dFinalHidden) { dh in
            withOptionalPointer(dFinalCell) { dc in
                rnn.backward(dOutput: dTop, dFinalHidden: dh, dFinalCell: dc, dInput: dx, pool: pool)
            }
        }
        ids.withUnsafeBufferPointer { embedding.backward(ids: $0.baseAddress!, count: N, dOutput: dx, pool: pool) }
    }
}

/// Calls `body` with a pointer to the elements of `array`, or nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
