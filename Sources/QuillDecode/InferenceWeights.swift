import QuillNN
import QuillTensor

/// A language model's weights copied into the stepper's inference layout: immutable after `init`, so one copy serves
/// any number of ``Stepper`` sessions on any threads at once (each session keeps its own state and scratch).
///
/// Layout (see docs/decoding.md): the embedding `[V][E]` in float32; per recurrent layer one matrix `[G][Dp + Hp]`
/// holding `[W_ih | W_hh]` side by side (`Dp`, `Hp` the input and hidden widths rounded up to 16), so the step of a
/// cell whose hidden projection adds into its gates is one GEMV over `[x; h]`; the decoder `[V][Hp]`. Matrices are
/// float32, or int8 with a scale per output row (``InferenceMatrix``). Later changes to the model do not reach them.
public final class InferenceWeights: Sendable {
    /// One recurrent layer in the inference layout.
    struct Layer: Sendable {
        /// `[G][Dp + Hp]`: `W_ih` in columns `0..<D`, `W_hh` in `Dp..<Dp + H`.
        let weights: InferenceMatrix
        let inputWidth: Int, inputStride: Int
        /// `[2][G]`: the cell's input bias (``RecurrentCell/inputBias(biasIH:biasHH:into:count:)``), then `b_hh` (the
        /// hidden projection's bias for a cell that keeps that projection apart).
        let bias: AlignedBuffer
    }

    public let configuration: LanguageModel.Configuration
    public let precision: Stepper.Precision
    /// `[V][E]`, float32 in both precisions.
    let embedding: AlignedBuffer
    let layers: [Layer]
    /// `[V][Hp]`.
    let decoder: InferenceMatrix
    /// `[V]`.
    let decoderBias: AlignedBuffer

    /// Bytes of weights one step reads (recurrent layers and decoder; the embedding reads one row).
    public var weightBytes: Int { layers.reduce(decoder.byteCount) { $0 + $1.weights.byteCount } }

    /// Copies (and for `.int8` quantizes) the model's weights.
    /// - Throws: ``Stepper/UnsupportedPrecision`` for `.bfloat16` (a format for batch scoring, see ``Scorer``).
    public init(model: LanguageModel, precision: Stepper.Precision = .float32) throws {
        guard Stepper.steppingPrecisions.contains(precision) else {
            throw Stepper.UnsupportedPrecision(precision: precision, engine: "stepping",
                                               supported: Stepper.steppingPrecisions)
        }
        self.precision = precision
        let c = model.configuration
        configuration = c
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
