import CQuillKernels
import Foundation
import QuillNN
import QuillTensor

/// Steps a language model one token at a time for inference: next-token log-probabilities of one or many streams,
/// each stream carrying its own recurrent state, so a caller (an autocompleter, a beam search, a batch predictor)
/// steps only the tokens that are new.
///
///     let stepper = try Stepper(model: model)
///     var state = stepper.initialState()
///     let logProbabilities = stepper.step(token: id, state: &state)   // [V]
///
/// The weights are copied at construction into an inference layout (see docs/decoding.md): per layer one matrix
/// `[G][Dp + Hp]` holding `[W_ih | W_hh]` side by side (`Dp`, `Hp` the input and hidden widths rounded up to 16), so
/// a step of a layer is one GEMV over `[x; h]` (the GRU runs the two halves separately, since its `r` gates only the
/// hidden part of `n`); the decoder `[V][Hp]`; float32, or int8 with a scale per output row. Later changes to the
/// model do not reach the stepper. A step is: embedding gather, per layer the GEMV plus biases and the fused cell
/// (the same `quill_lstm_forward` / `quill_gru_forward` / tanh kernels as training), the decoder GEMV, a log-softmax.
/// Fewer than ``gemmThreshold`` streams use the GEMV kernels (`quill_gemv_f32` / `quill_gemv_i8`), rows spread over
/// the pool; float32 with more streams uses GEMM. Results are bit-identical for every thread count.
///
/// A stepper keeps scratch buffers: do not step one from several threads at once.
public final class Stepper {
    /// How the weights (and for bfloat16 the activations) are held for inference. Not every engine runs every
    /// format: the stepper runs ``steppingPrecisions`` (float32, int8: a step is bound by reading weights), the
    /// ``Scorer`` ``Scorer/scoringPrecisions`` (float32, bfloat16: scoring is bound by multiply-adds).
    public enum Precision: String, Sendable, CaseIterable {
        /// The model's own 32-bit weights: exactly the model's probabilities.
        case float32
        /// 8-bit weights with a scale per output row: a quarter of the memory traffic of a step.
        case int8
        /// Weights and activations rounded to bfloat16 (8 significant bits), products summed in float32: twice the
        /// multiply-adds per instruction of float32 on CPUs with AVX512_BF16. Batch scoring only.
        case bfloat16
    }

    /// The precisions a stepper runs.
    public static let steppingPrecisions: [Precision] = [.float32, .int8]

    /// A precision an engine does not run.
    public struct UnsupportedPrecision: Error, Equatable, CustomStringConvertible {
        public let precision: Precision
        public let engine: String
        public let supported: [Precision]

        public var description: String {
            "\(engine) does not run \(precision.rawValue); it runs "
                + supported.map(\.rawValue).joined(separator: " or ")
        }
    }

    /// The recurrent state of one stream: `[layers][hidden]` hidden states, and cell states for an LSTM.
    public struct State: Equatable, Sendable {
        public var hidden: [Float]
        /// Empty but for an LSTM.
        public var cell: [Float]

        public init(hidden: [Float], cell: [Float]) {
            self.hidden = hidden
            self.cell = cell
        }
    }

    /// One recurrent layer in the inference layout.
    struct Layer {
        /// `[G][Dp + Hp]`: `W_ih` in columns `0..<D`, `W_hh` in `Dp..<Dp + H`.
        let weights: InferenceMatrix
        let inputWidth: Int, inputStride: Int
        /// LSTM and RNN: `[G]` `b_ih + b_hh`; GRU: `[2][G]` `b_ih` then `b_hh`.
        let bias: AlignedBuffer
    }

    public let model: LanguageModel
    public let precision: Precision
    public var vocabularySize: Int { configuration.vocabulary }
    /// From this many streams on, float32 steps multiply with GEMM instead of GEMV. 64: measured on ptb-small and
    /// ptb-medium shapes, the multi-vector GEMV was 1.5–2.6× faster than GEMM (which packs the weights per call) at 8
    /// and 32 streams, about equal at 64, and GEMM 1.4× faster at 128.
    public var gemmThreshold = 64
    private let pool: ThreadPool
    private let configuration: LanguageModel.Configuration
    private let embedding: AlignedBuffer   // [V][E], float32 in both precisions
    private let layers: [Layer]
    private let decoder: InferenceMatrix   // [V][Hp]
    private let decoderBias: AlignedBuffer // [V]
    // Scratch, grown as needed: inputs [n][Dp + Hp], gates [n][G] (GRU also gh), states [n][H].
    private var xh = AlignedBuffer(count: 0), gates = AlignedBuffer(count: 0), gh = AlignedBuffer(count: 0)
    private var hPrev = AlignedBuffer(count: 0), cPrev = AlignedBuffer(count: 0)
    private var hNew = AlignedBuffer(count: 0), cNew = AlignedBuffer(count: 0)
    private var logits = AlignedBuffer(count: 0)

    /// Bytes of weights one step reads (recurrent layers and decoder; the embedding reads one row).
    public var weightBytes: Int { layers.reduce(decoder.byteCount) { $0 + $1.weights.byteCount } }

    /// Copies (and for `.int8` quantizes) the model's weights into the inference layout.
    /// - Throws: ``UnsupportedPrecision`` for `.bfloat16` (a format for batch scoring, see ``Scorer``).
    public init(model: LanguageModel, precision: Precision = .float32, pool: ThreadPool = .shared) throws {
        guard Self.steppingPrecisions.contains(precision) else {
            throw UnsupportedPrecision(precision: precision, engine: "stepping", supported: Self.steppingPrecisions)
        }
        self.model = model
        self.precision = precision
        self.pool = pool
        let c = model.configuration
        configuration = c
        let V = c.vocabulary, E = c.embedding, H = c.hidden, G = c.kind.gates * H
        let table = model.embedding.weight
        embedding = AlignedBuffer(count: V * E)
        embedding.base.update(from: table.base, count: V * E)
        var built: [Layer] = []
        for (l, layer) in model.rnn.layers.enumerated() {
            let D = l == 0 ? E : H, Dp = (D + 15) / 16 * 16
            let weightIH = layer.weightIH.base, weightHH = layer.weightHH.base
            let weights = InferenceMatrix(rows: G, columns: Dp + H, precision: precision) { destination, stride in
                for r in 0..<G {
                    (destination + r * stride).update(from: weightIH + r * D, count: D)
                    (destination + r * stride + Dp).update(from: weightHH + r * H, count: H)
                }
            }
            let bias = AlignedBuffer(count: 2 * G)
            for r in 0..<G {
                if c.kind == .gru {
                    bias.base[r] = layer.biasIH.base[r]
                    bias.base[G + r] = layer.biasHH.base[r]
                } else {
                    bias.base[r] = layer.biasIH.base[r] + layer.biasHH.base[r]
                }
            }
            built.append(Layer(weights: weights, inputWidth: D, inputStride: Dp, bias: bias))
        }
        layers = built
        decoder = InferenceMatrix(copying: model.decoder.weight.base, rows: V, columns: H, precision: precision)
        decoderBias = AlignedBuffer(count: V)
        decoderBias.base.update(from: model.decoder.bias.base, count: V)
    }

    /// The state before any token: zeros.
    public func initialState() -> State {
        let c = configuration
        let count = c.layers * c.hidden
        return State(hidden: [Float](repeating: 0, count: count),
                     cell: c.kind == .lstm ? [Float](repeating: 0, count: count) : [])
    }

    /// Steps one stream by `token` and returns the log-probabilities of its next token, `[V]`.
    public func step(token: Int32, state: inout State) -> [Float] {
        [Float](unsafeUninitializedCapacity: vocabularySize) { buffer, count in
            step(token: token, state: &state, into: buffer)
            count = vocabularySize
        }
    }

    /// Steps one stream by `token`, writing the log-probabilities of its next token into `logProbabilities[0..<V]`:
    /// no allocation per step.
    public func step(token: Int32, state: inout State, into logProbabilities: UnsafeMutableBufferPointer<Float>) {
        withUnsafeMutablePointer(to: &state) { s in
            run(tokens: [token], states: UnsafeMutableBufferPointer(start: s, count: 1), into: logProbabilities)
        }
    }

    /// Steps each stream `i` by `tokens[i]`, updating `states[i]`, and writes the log-probabilities of each stream's
    /// next token into `logProbabilities` as `[n][V]` (resized as needed).
    public func step(tokens: [Int32], states: inout [State], logProbabilities: inout [Float]) {
        precondition(tokens.count == states.count, "one token per stream")
        let n = tokens.count, V = vocabularySize
        if logProbabilities.count != n * V { logProbabilities = [Float](repeating: 0, count: n * V) }
        logProbabilities.withUnsafeMutableBufferPointer { out in
            states.withUnsafeMutableBufferPointer { run(tokens: tokens, states: $0, into: out) }
        }
    }

    /// Steps each stream `i` by `tokens[i]`, updating `states[i]`, and writes `[n][V]` log-probabilities into
    /// `logProbabilities` (at least `n·V` floats).
    public func step(tokens: [Int32], states: inout [State], into logProbabilities: UnsafeMutableBufferPointer<Float>) {
        precondition(tokens.count == states.count, "one token per stream")
        states.withUnsafeMutableBufferPointer { run(tokens: tokens, states: $0, into: logProbabilities) }
    }

    private func grow(_ buffer: inout AlignedBuffer, _ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = AlignedBuffer(count: count) }
        return buffer.base
    }

    private func run(tokens: [Int32], states: UnsafeMutableBufferPointer<State>,
                     into out: UnsafeMutableBufferPointer<Float>) {
        let n = tokens.count, c = configuration, V = c.vocabulary, E = c.embedding, H = c.hidden, G = c.kind.gates * H
        guard n > 0 else { return }
        precondition(out.count >= n * V, "the output holds \(out.count) floats, not n·V = \(n * V)")
        for state in states {
            precondition(state.hidden.count == c.layers * H && state.cell.count == (c.kind == .lstm ? c.layers * H : 0),
                         "a state of another model shape (use initialState())")
        }
        let Kmax = layers.map { $0.weights.stride }.max() ?? 16
        let xh = grow(&self.xh, n * Kmax), gates = grow(&self.gates, n * G), gh = grow(&self.gh, n * G)
        let hPrev = grow(&self.hPrev, n * H), cPrev = grow(&self.cPrev, n * H)
        let hNew = grow(&self.hNew, n * H), cNew = grow(&self.cNew, n * H)
        let useGEMM = precision == .float32 && n >= gemmThreshold
        for (l, layer) in layers.enumerated() {
            let K = layer.weights.stride, D = layer.inputWidth, Dp = layer.inputStride
            xh.update(repeating: 0, count: n * K)
            for b in 0..<n {
                let row = xh + b * K
                if l == 0 {
                    let id = Int(tokens[b])
                    precondition(id >= 0 && id < V, "token \(id) is outside the vocabulary of \(V)")
                    row.update(from: embedding.base + id * E, count: E)
                } else {
                    row.update(from: hNew + b * H, count: H)
                }
                states[b].hidden.withUnsafeBufferPointer { h in
                    (row + Dp).update(from: h.baseAddress! + l * H, count: H)
                    (hPrev + b * H).update(from: h.baseAddress! + l * H, count: H)
                }
                if c.kind == .lstm {
                    states[b].cell.withUnsafeBufferPointer {
                        (cPrev + b * H).update(from: $0.baseAddress! + l * H, count: H)
                    }
                }
            }
            let bias = layer.bias.base
            if c.kind == .gru {
                project(layer.weights, xh, ldx: K, n: n, columnOffset: 0, columns: D, bias: bias, into: gates,
                        gemm: useGEMM)
                project(layer.weights, xh + Dp, ldx: K, n: n, columnOffset: Dp, columns: H, bias: bias + G, into: gh,
                        gemm: useGEMM)
                GRUCell.forward(gx: gates, gh: gh, hPrev: hPrev, h: hNew, batch: n, hidden: H, pool: pool)
            } else {
                project(layer.weights, xh, ldx: K, n: n, columnOffset: 0, columns: Dp + H, bias: bias, into: gates,
                        gemm: useGEMM)
                if c.kind == .lstm {
                    LSTMCell.forward(gates: gates, cPrev: cPrev, c: cNew, h: hNew, batch: n, hidden: H, pool: pool)
                } else {
                    Tanh.forward(gates, hNew, count: n * H, pool: pool)
                }
            }
            for b in 0..<n {
                states[b].hidden.withUnsafeMutableBufferPointer {
                    ($0.baseAddress! + l * H).update(from: hNew + b * H, count: H)
                }
                if c.kind == .lstm {
                    states[b].cell.withUnsafeMutableBufferPointer {
                        ($0.baseAddress! + l * H).update(from: cNew + b * H, count: H)
                    }
                }
            }
        }
        let o = out.baseAddress!
        project(decoder, hNew, ldx: H, n: n, columnOffset: 0, columns: H, bias: decoderBias.base, into: o,
                gemm: useGEMM)
        if n == 1 {
            quill_log_softmax(o, 1, Int64(V), o)
        } else {
            pool.parallelFor(n) { b in quill_log_softmax(o + b * V, 1, Int64(V), o + b * V) }
        }
    }

    /// `y[n][R] = x·W[:, columnOffset..<columnOffset + K]ᵀ + bias`: GEMV, or GEMM for many float32 streams.
    private func project(_ w: InferenceMatrix, _ x: UnsafePointer<Float>, ldx: Int, n: Int, columnOffset: Int,
                         columns K: Int, bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, gemm: Bool) {
        if gemm, let floats = w.floats {
            QuillTensor.gemm(transposeB: true, m: n, n: w.rows, k: K, a: x, lda: ldx, b: floats + columnOffset,
                             ldb: w.stride, c: y, ldc: w.rows, pool: pool)
            Bias.add(bias, to: y, rows: n, columns: w.rows, pool: pool)
        } else {
            w.multiply(x, ldx: ldx, vectors: n, columnOffset: columnOffset, columns: K, bias: bias, into: y,
                       ldy: w.rows, pool: pool)
        }
    }
}
