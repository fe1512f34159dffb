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
/// The weights live in an immutable, `Sendable` ``InferenceWeights`` (see there for the layout), shared by any
/// number of steppers: one per session, each with its own scratch, on any threads at once.
///
///     let weights = try InferenceWeights(model: model, precision: .int8)
///     let session = Stepper(weights: weights)     // per session: cheap, no weights copied
///
/// A step is: embedding gather, per layer the model's ``RecurrentCell`` step (the same cell as training) over the
/// stepper's product (for a cell whose hidden projection adds into the gates, one GEMV over `[x; h]`, biases folded;
/// for the GRU, the input and hidden halves separately), the decoder GEMV, a log-softmax. Fewer than
/// ``gemmThreshold`` streams use the GEMV kernels (`quill_gemv_f32` / `quill_gemv_i8`), rows spread over the pool;
/// float32 with more streams uses GEMM. Results are bit-identical for every thread count.
///
/// A stepper keeps scratch buffers: do not step one from several threads at once (make one per thread instead).
public final class Stepper {
    /// How the weights (and for bfloat16 the activations) are held for inference. Not every engine runs every
    /// format: the stepper runs ``steppingPrecisions`` (float32, int8: a step is bound by reading weights), the
    /// ``Scorer`` ``Scorer/scoringPrecisions`` (float32, bfloat16, int8: scoring is bound by multiply-adds, and there
    /// int8 also quantizes the activations per row to use `vpdpbusd`).
    public enum Precision: String, Codable, Sendable, CaseIterable {
        /// The model's own 32-bit weights: exactly the model's probabilities.
        case float32
        /// 8-bit weights with a scale per output row: a quarter of the memory traffic of a step (and, in the scorer,
        /// activations quantized per row: integer products).
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

        public init(precision: Precision, engine: String, supported: [Precision]) {
            self.precision = precision
            self.engine = engine
            self.supported = supported
        }

        public var description: String {
            "\(engine) does not run \(precision.rawValue); it runs "
                + supported.map(\.rawValue).joined(separator: " or ")
        }
    }

    /// The state of one stream. A recurrent model's: `[layers][hidden]` hidden states, and cell states for an LSTM. A
    /// gated convolutional model's: in `hidden`, each block's last `k − 1` inputs (`[k − 1][D]`, block by block, as
    /// training's `state.context` holds one stream), then the top block's output `[C]`. Either way the last
    /// ``outputWidth`` floats of `hidden` are what the decoder read.
    public struct State: Equatable, Sendable {
        public var hidden: [Float]
        /// Empty but for an LSTM.
        public var cell: [Float]

        public init(hidden: [Float], cell: [Float]) {
            self.hidden = hidden
            self.cell = cell
        }
    }

    /// The shared weights this stepper reads.
    public let weights: InferenceWeights
    public var precision: Precision { weights.precision }
    /// The recurrent model's shape; nil for a convolutional model (see ``InferenceWeights/architecture``).
    public var configuration: LanguageModel.Configuration? { weights.configuration }
    public var vocabularySize: Int { weights.vocabularySize }
    /// The width of the top layer's output: the last floats of ``State/hidden``.
    public var outputWidth: Int { weights.outputWidth }
    /// From this many streams on, float32 steps multiply with GEMM instead of GEMV. 64: measured on ptb-small and
    /// ptb-medium shapes, the multi-vector GEMV was 1.5–2.6× faster than GEMM (which packs the weights per call) at 8
    /// and 32 streams, about equal at 64, and GEMM 1.4× faster at 128.
    public var gemmThreshold = 64
    private let pool: ThreadPool
    // Scratch, grown as needed: inputs [n][Dp + Hp], gates [n][G] (GRU also gh), states [n][H].
    private var xh = AlignedBuffer(count: 0), gates = AlignedBuffer(count: 0), gh = AlignedBuffer(count: 0)
    private var hPrev = AlignedBuffer(count: 0), cPrev = AlignedBuffer(count: 0)
    private var hNew = AlignedBuffer(count: 0), cNew = AlignedBuffer(count: 0)

    /// Bytes of weights one step reads (recurrent layers and decoder; the embedding reads one row).
    public var weightBytes: Int { weights.weightBytes }

    /// Copies (and for `.int8` quantizes) the model's weights into the inference layout: a stepper with weights of
    /// its own (``weights`` can be shared with more steppers).
    /// - Throws: ``UnsupportedPrecision`` for `.bfloat16` (a format for batch scoring, see ``Scorer``).
    public init(model: any StreamLanguageModel, precision: Precision = .float32, pool: ThreadPool = .shared) throws {
        weights = try InferenceWeights(model: model, precision: precision)
        self.pool = pool
    }

    /// A session over shared `weights`: its own state scratch, no copy of the weights.
    public init(weights: InferenceWeights, pool: ThreadPool = .shared) {
        self.weights = weights
        self.pool = pool
    }

    /// The state before any token: zeros.
    public func initialState() -> State {
        guard let c = configuration else {
            guard case let .gatedConvolutional(c) = weights.architecture else { preconditionFailure() }
            return State(hidden: [Float](repeating: 0, count: c.contextPerStream + c.channels), cell: [])
        }
        let count = c.layers * c.hidden
        return State(hidden: [Float](repeating: 0, count: count),
                     cell: c.kind.hasCellState ? [Float](repeating: 0, count: count) : [])
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

    /// Steps each stream `i` by `tokens[i]`, updating `states[i]`, without the decoder: for tokens whose next-token
    /// distribution nobody reads (all but the last of a text being read in), about half a step's work for a word
    /// model. ``distributions(after:logProbabilities:)`` gives a distribution later from the state.
    public func advance(tokens: [Int32], states: inout [State]) {
        precondition(tokens.count == states.count, "one token per stream")
        states.withUnsafeMutableBufferPointer { run(tokens: tokens, states: $0, into: nil) }
    }

    /// ``advance(tokens:states:)`` for one stream.
    public func advance(token: Int32, state: inout State) {
        withUnsafeMutablePointer(to: &state) { s in
            run(tokens: [token], states: UnsafeMutableBufferPointer(start: s, count: 1), into: nil)
        }
    }

    /// ``distributions(after:logProbabilities:)`` for one stream, `[V]`.
    public func distribution(after state: State) -> [Float] {
        var logProbabilities: [Float] = []
        distributions(after: [state], logProbabilities: &logProbabilities)
        return logProbabilities
    }

    /// The next-token log-probabilities after each of `states`, `[n][V]` into `logProbabilities` (resized as needed):
    /// the decoder over the state's top output (its last ``outputWidth`` values), the same numbers the step that made
    /// the state returned.
    public func distributions(after states: [State], logProbabilities: inout [Float]) {
        let n = states.count, V = vocabularySize, width = outputWidth
        guard n > 0 else { return }
        if logProbabilities.count != n * V { logProbabilities = [Float](repeating: 0, count: n * V) }
        let top = grow(&hNew, n * width)
        for (b, state) in states.enumerated() {
            precondition(state.hidden.count >= width, "a state of another model shape (use initialState())")
            state.hidden.withUnsafeBufferPointer {
                (top + b * width).update(from: $0.baseAddress! + $0.count - width, count: width)
            }
        }
        logProbabilities.withUnsafeMutableBufferPointer {
            decode(top, ldx: width, columns: width, n: n, into: $0, gemm: precision == .float32 && n >= gemmThreshold)
        }
    }

    private func grow(_ buffer: inout AlignedBuffer, _ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = AlignedBuffer(count: count) }
        return buffer.base
    }

    /// One step; `out` nil skips the decoder.
    private func run(tokens: [Int32], states: UnsafeMutableBufferPointer<State>,
                     into out: UnsafeMutableBufferPointer<Float>?) {
        switch weights.architecture {
        case let .recurrent(c): runRecurrent(c, tokens: tokens, states: states, into: out)
        case let .gatedConvolutional(c): runConvolutional(c, tokens: tokens, states: states, into: out)
        }
    }

    private func runRecurrent(_ c: LanguageModel.Configuration, tokens: [Int32], states: UnsafeMutableBufferPointer<State>,
                              into out: UnsafeMutableBufferPointer<Float>?) {
        let n = tokens.count, V = c.vocabulary, E = c.embedding, H = c.hidden, G = c.kind.gates * H
        let cell = c.kind.cell, hasCell = cell.hasCellState, w = weights
        guard n > 0 else { return }
        precondition((out?.count ?? n * V) >= n * V, "the output holds \(out?.count ?? 0) floats, not n·V = \(n * V)")
        for state in states {
            precondition(state.hidden.count == c.layers * H && state.cell.count == (hasCell ? c.layers * H : 0),
                         "a state of another model shape (use initialState())")
        }
        let Kmax = w.layers.map { $0.weights.stride }.max() ?? 16
        let xh = grow(&self.xh, n * Kmax), gates = grow(&self.gates, n * G), gh = grow(&self.gh, n * G)
        let hPrev = grow(&self.hPrev, n * H), cPrev = grow(&self.cPrev, n * H)
        let hNew = grow(&self.hNew, n * H), cNew = grow(&self.cNew, n * H)
        let useGEMM = precision == .float32 && n >= gemmThreshold
        for (l, layer) in w.layers.enumerated() {
            let K = layer.weights.stride, D = layer.inputWidth, Dp = layer.inputStride
            xh.update(repeating: 0, count: n * K)
            for b in 0..<n {
                let row = xh + b * K
                if l == 0 {
                    let id = Int(tokens[b])
                    precondition(id >= 0 && id < V, "token \(id) is outside the vocabulary of \(V)")
                    row.update(from: w.embedding.base + id * E, count: E)
                } else {
                    row.update(from: hNew + b * H, count: H)
                }
                states[b].hidden.withUnsafeBufferPointer { h in
                    (row + Dp).update(from: h.baseAddress! + l * H, count: H)
                    (hPrev + b * H).update(from: h.baseAddress! + l * H, count: H)
                }
                if hasCell {
                    states[b].cell.withUnsafeBufferPointer {
                        (cPrev + b * H).update(from: $0.baseAddress! + l * H, count: H)
                    }
                }
            }
            let inputBias = layer.bias.base
            // Where the hidden projection adds into the gates, one GEMV over `[x; h]` with the folded biases is the
            // input projection and the hidden one at once; otherwise the input half runs first, the hidden half as
            // the cell's product.
            let fused = cell.addsHiddenIntoGates
            if !fused {
                project(layer.weights, xh, ldx: K, n: n, columnOffset: 0, columns: D, bias: inputBias, into: gates,
                        gemm: useGEMM)
            }
            let step = CellForward(gates: gates, hiddenGates: gh, hiddenBias: cell.hiddenBias(inputBias + G),
                                   hPrev: hPrev, h: hNew, cPrev: cPrev, c: cNew, batch: n, hidden: H)
            cell.forward(step, multiply: { _, product, bias, _ in
                // `h` is read from its copy in `xh` (beside `x`), where the matrix's `W_hh` columns meet it.
                if fused {
                    project(layer.weights, xh, ldx: K, n: n, columnOffset: 0, columns: Dp + H, bias: inputBias,
                            into: product, gemm: useGEMM)
                } else {
                    project(layer.weights, xh + Dp, ldx: K, n: n, columnOffset: Dp, columns: H, bias: bias!,
                            into: product, gemm: useGEMM)
                }
            }, pool: pool)
            for b in 0..<n {
                states[b].hidden.withUnsafeMutableBufferPointer {
                    ($0.baseAddress! + l * H).update(from: hNew + b * H, count: H)
                }
                if hasCell {
                    states[b].cell.withUnsafeMutableBufferPointer {
                        ($0.baseAddress! + l * H).update(from: cNew + b * H, count: H)
                    }
                }
            }
        }
        if let out { decode(hNew, ldx: H, columns: H, n: n, into: out, gemm: useGEMM) }
    }

    /// The decoder and a log-softmax: `out[n][V]` from the top layer's outputs (`columns` floats, rows `ldx` apart).
    private func decode(_ top: UnsafePointer<Float>, ldx: Int, columns: Int, n: Int,
                        into out: UnsafeMutableBufferPointer<Float>, gemm useGEMM: Bool) {
        let o = out.baseAddress!, V = vocabularySize
        project(weights.decoder, top, ldx: ldx, n: n, columnOffset: 0, columns: columns,
                bias: weights.decoderBias.base, into: o, gemm: useGEMM)
        if n == 1 {
            quill_log_softmax(o, 1, Int64(V), o)
        } else {
            pool.parallelFor(n) { b in quill_log_softmax(o + b * V, 1, Int64(V), o + b * V) }
        }
    }

    /// One step of a gated convolutional model: per block, the window `[k − 1 kept inputs; this input]` of each
    /// stream through one GEMV (or GEMM) with the taps side by side, the gated linear unit, the residual sum; the
    /// window then moves on by one step in the state.
    private func runConvolutional(_ c: GatedConvolutionalLanguageModel.Configuration, tokens: [Int32],
                                  states: UnsafeMutableBufferPointer<State>,
                                  into out: UnsafeMutableBufferPointer<Float>?) {
        let n = tokens.count, V = c.vocabulary, E = c.embedding, C = c.channels, k = c.width, w = weights
        guard n > 0 else { return }
        precondition((out?.count ?? n * V) >= n * V, "the output holds \(out?.count ?? 0) floats, not n·V = \(n * V)")
        let stateCount = c.contextPerStream + C
        for state in states {
            precondition(state.hidden.count == stateCount && state.cell.isEmpty,
                         "a state of another model shape (use initialState())")
        }
        let Kmax = w.blocks.map { $0.weights.stride }.max() ?? 16, Dmax = max(E, C)
        let window = grow(&xh, n * Kmax), z = grow(&gates, n * 2 * C), s = grow(&gh, n * C)
        var x = grow(&hPrev, n * Dmax), y = grow(&hNew, n * Dmax)
        let useGEMM = precision == .float32 && n >= gemmThreshold
        for b in 0..<n {
            let id = Int(tokens[b])
            precondition(id >= 0 && id < V, "token \(id) is outside the vocabulary of \(V)")
            (x + b * Dmax).update(from: w.embedding.base + id * E, count: E)
        }
        var offset = 0  // of the block's kept inputs in a state
        for block in w.blocks {
            let D = block.inputWidth, K = block.weights.stride, kept = (k - 1) * D
            for b in 0..<n {
                let row = window + b * K
                states[b].hidden.withUnsafeMutableBufferPointer { h in
                    let past = h.baseAddress! + offset
                    row.update(from: past, count: kept)
                    (row + kept).update(from: x + b * Dmax, count: D)
                    // The window moves on: drop the oldest input, keep this one.
                    if kept > 0 { past.update(from: row + D, count: kept) }
                }
            }
            project(block.weights, window, ldx: K, n: n, columnOffset: 0, columns: k * D, bias: block.bias.base,
                    into: z, gemm: useGEMM)
            for b in 0..<n {
                GatedLinearUnit.forward(z + b * 2 * C, rows: 1, channels: C, gates: s + b * C, output: y + b * Dmax,
                                        pool: pool)
                if D == C { for i in 0..<C { y[b * Dmax + i] += x[b * Dmax + i] } }
            }
            swap(&x, &y)
            offset += kept
        }
        for b in 0..<n {
            states[b].hidden.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + offset).update(from: x + b * Dmax, count: C)
            }
        }
        if let out { decode(x, ldx: Dmax, columns: C, n: n, into: out, gemm: useGEMM) }
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
