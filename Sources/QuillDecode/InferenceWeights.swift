import QuillNN
import QuillTensor

/// A language model's weights copied into the stepper's inference layout: immutable after `init`, so one copy serves
/// any number of ``Stepper`` sessions on any threads at once (each session keeps its own state and scratch).
///
/// Layout (see docs/decoding.md): the embedding `[V][E]` in float32; per recurrent layer one matrix `[G][Dp + Hp]`
/// holding `[W_ih | W_hh]` side by side (`Dp`, `Hp` the input and hidden widths rounded up to 16), so the step of a
/// cell whose hidden projection adds into its gates is one GEMV over `[x; h]`; the decoder `[V][Hp]`. Matrices are
/// float32, or int8 with a scale per output row (``InferenceMatrix``). Later changes to the model do not reach them.
///
/// A gated convolutional model has blocks instead of recurrent layers: per block one matrix `[2C][k·D]` whose row `r`
/// holds tap 0's `W₀[r]`, then tap 1's, …, so a step's convolution is one GEMV over the window
/// `[x₍ₜ₋ₖ₊₁₎; …; x₍ₜ₎]` that the stream's state keeps.
public final class InferenceWeights: Sendable {
    /// Which model the weights are of, and its shape.
    public enum Architecture: Equatable, Sendable {
        case recurrent(LanguageModel.Configuration)
        case gatedConvolutional(GatedConvolutionalLanguageModel.Configuration)
    }

    /// One gated convolutional block in the inference layout.
    struct Block: Sendable {
        /// `[2C][k·D]`: the taps side by side.
        let weights: InferenceMatrix
        let inputWidth: Int
        /// `[2C]`.
        let bias: AlignedBuffer
    }

    /// One recurrent layer in the inference layout.
    struct Layer: Sendable {
        /// `[G][Dp + Hp]`: `W_ih` in columns `0..<D`, `W_hh` in `Dp..<Dp + H`.
        let weights: InferenceMatrix
        let inputWidth: Int, inputStride: Int
        /// `[2][G]`: the cell's input bias (``RecurrentCell/inputBias(biasIH:biasHH:into:count:)``), then `b_hh` (the
        /// hidden projection's bias for a cell that keeps that projection apart).
        let bias: AlignedBuffer
    }

    public let architecture: Architecture
    public let precision: Stepper.Precision
    /// `[V][E]`, float32 in both precisions.
    let embedding: AlignedBuffer
    let layers: [Layer]
    let blocks: [Block]
    /// `[V][Hp]`.
    let decoder: InferenceMatrix
    /// `[V]`.
    let decoderBias: AlignedBuffer

    /// Bytes of weights one step reads (recurrent layers or blocks, and decoder; the embedding reads one row).
    public var weightBytes: Int {
        layers.reduce(decoder.byteCount) { $0 + $1.weights.byteCount } + blocks.reduce(0) { $0 + $1.weights.byteCount }
    }

    /// The recurrent model's shape; nil for a convolutional model.
    public var configuration: LanguageModel.Configuration? {
        if case let .recurrent(configuration) = architecture { return configuration }
        return nil
    }

    public var vocabularySize: Int {
        switch architecture {
        case let .recurrent(c): c.vocabulary
        case let .gatedConvolutional(c): c.vocabulary
        }
    }

    /// The width of the top layer's output, which the decoder reads: the last floats of a ``Stepper/State/hidden``
    /// (what a continuous cache remembers).
    public var outputWidth: Int {
        switch architecture {
        case let .recurrent(c): c.hidden
        case let .gatedConvolutional(c): c.channels
        }
    }

    /// Copies (and for `.int8` quantizes) the weights of either language model.
    public convenience init(model: any StreamLanguageModel, precision: Stepper.Precision = .float32) throws {
        switch model {
        case let model as LanguageModel: try self.init(model: model, precision: precision)
        case let model as GatedConvolutionalLanguageModel: try self.init(model: model, precision: precision)
        default: preconditionFailure("no inference layout for \(type(of: model))")
        }
    }

    /// Copies (and for `.int8` quantizes) a gated convolutional model's weights.
    /// - Throws: ``Stepper/UnsupportedPrecision`` for `.bfloat16`.
    public init(model: GatedConvolutionalLanguageModel, precision: Stepper.Precision = .float32) throws {
        try Self.checkStepping(precision)
        self.precision = precision
        let c = model.configuration
        architecture = .gatedConvolutional(c)
        let V = c.vocabulary, E = c.embedding, C = c.channels, k = c.width
        embedding = AlignedBuffer(count: V * E)
        embedding.base.update(from: model.embedding.weight.base, count: V * E)
        layers = []
        blocks = model.convolutions.map { convolution in
            let D = convolution.inputs, O = 2 * C, taps = convolution.weight.base
            let weights = InferenceMatrix(rows: O, columns: k * D, precision: precision) { destination, stride in
                for r in 0..<O {
                    for j in 0..<k { (destination + r * stride + j * D).update(from: taps + (j * O + r) * D, count: D) }
                }
            }
            let bias = AlignedBuffer(count: O)
            bias.base.update(from: convolution.bias.base, count: O)
            return Block(weights: weights, inputWidth: D, bias: bias)
        }
        decoder = InferenceMatrix(copying: model.decoder.weight.base, rows: V, columns: C, precision: precision)
        decoderBias = AlignedBuffer(count: V)
        decoderBias.base.update(from: model.decoder.bias.base, count: V)
    }

    private static func checkStepping(_ precision: Stepper.Precision) throws {
        guard Stepper.steppingPrecisions.contains(precision) else {
            throw Stepper.UnsupportedPrecision(precision: precision, engine: "stepping",
                                               supported: Stepper.steppingPrecisions)
        }
    }

    /// Copies (and for `.int8` quantizes) the model's weights.
    /// - Throws: ``Stepper/UnsupportedPrecision`` for `.bfloat16` (a format for batch scoring, see ``Scorer``).
    public init(model: LanguageModel, precision: Stepper.Precision = .float32) throws {
        try Self.checkStepping(precision)
        self.precision = precision
        let c = model.configuration
        architecture = .recurrent(c)
        blocks = []
        let V = c.vocabulary, E = c.embedding, H = c.hidden, G = c.kind.gates * H, cell = c.kind.cell
        embedding = AlignedBuffer(count: V * E)
        embedding.base.update(from: model.embedding.weight.base, count: V * E)
        layers = model.rnn.layers.enumerated().map { l, layer in
            let D = l == 0 ? E : H, Dp = (D + 15) / 16 * 16
            let weightIH = layer.weightIH.base, weightHH = layer.weightHH.base
            let weights = InferenceMatrix(rows: G, columns: Dp + H, precision: precision) { destination, stride in
                for r in 0..<G {
                    (destination + r * stride).update(from: weightIH + r * D, count: D)
                    (destination + r * stride + Dp).update(from: weightHH + r * H, count: H)
                }
            }
            let bias = AlignedBuffer(count: 2 * G)
            cell.inputBias(biasIH: layer.biasIH.base, biasHH: layer.biasHH.base, into: bias.base, count: G)
            (bias.base + G).update(from: layer.biasHH.base, count: G)
            return Layer(weights: weights, inputWidth: D, inputStride: Dp, bias: bias)
        }
        decoder = InferenceMatrix(copying: model.decoder.weight.base, rows: V, columns: H, precision: precision)
        decoderBias = AlignedBuffer(count: V)
        decoderBias.base.update(from: model.decoder.bias.base, count: V)
    }
}
