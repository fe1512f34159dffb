import CQuillKernels
import Foundation
import QuillNN
import QuillTensor

/// Scores many token sequences without gradients: the sum of the log-probabilities each sequence's model gives its
/// tokens, and how many tokens were predicted.
///
///     let scorer = Scorer(model: model)
///     let scores = scorer.score(sequences)     // scores[i].logProbability, scores[i].tokens
///
/// Sequences run `batch` at a time in windows of `window` steps, the recurrent state carried from window to window;
/// a sequence of `n` tokens predicts its tokens `1..<n` (the first is context only). Ragged sequences are padded:
/// a finished sequence's input is `−1` (a zero embedding) and its targets are ignored.
///
/// A window runs the model's own embedding and recurrent stack (`Embedding.forward`, `RecurrentStack.forward`: one
/// GEMM for the input projections of all steps, packed `W_hh` per step), then the decoder fused with the
/// log-softmax-gather: items of ``decoderRows`` rows over the pool, each multiplying its rows by blocks of
/// ``decoderColumns`` vocabulary entries (weights packed once per ``score(_:)`` call) and folding each block of
/// logits, while in cache, into a running maximum and sum of exponentials per row (`quill_logsumexp_update`, an
/// online softmax): neither a full row of logits, nor a softmax, nor a gradient is written. Sums are added in Double
/// in a fixed order: the same bits for every thread count.
///
/// With ``Precision/bfloat16`` (opt-in; float32 is the default) the same work runs on bfloat16 operands with float32
/// sums (`quill_gemm_bf16`: `vdpbf16ps` on CPUs with AVX512_BF16, a portable loop elsewhere): ``prepare()`` rounds
/// and packs the decoder and every layer's `W_ih`, `W_hh` once; a window rounds its activations (embeddings, each
/// layer's outputs, each step's `h`) to bfloat16 before each GEMM, and keeps gates, cell states, logits and the
/// log-sum-exp in float32. The recurrent stack then runs here rather than in the model (no forward caches are
/// touched), the input projections and per-step GEMMs split over the pool by columns. Results are again the same
/// for every thread count.
///
/// In float32 it uses the model's forward caches: do not score while the same model trains or steps a window on
/// another thread.
public final class Scorer {
    /// The number formats of ``Stepper/Precision`` a scorer runs.
    public typealias Precision = Stepper.Precision
    /// float32 (exact) and bfloat16.
    public static let scoringPrecisions: [Precision] = [.float32, .bfloat16]

    /// The result for one sequence.
    public struct Score: Equatable, Sendable {
        /// `Σ log p(token | previous tokens)` over the predicted tokens (natural log).
        public var logProbability: Double
        /// Predicted tokens: the sequence's length − 1 (0 for an empty or one-token sequence).
        public var tokens: Int

        public init(logProbability: Double, tokens: Int) {
            self.logProbability = logProbability
            self.tokens = tokens
        }
    }

    /// The recurrent state of `B` streams: `[L][B][H]` hidden (and cell, for an LSTM) states, zeros to begin with.
    public struct BatchState: Equatable, Sendable {
        public var hidden: [Float]
        /// Empty but for an LSTM.
        public var cell: [Float]
    }

    public let model: LanguageModel
    /// Sequences scored together (the GEMMs' `B`): 64 by default, as the peer benchmark.
    public let batch: Int
    /// Steps per window (state carried between windows): 35 by default, as the peer benchmark.
    public let window: Int
    /// Rows of the decoder a thread takes at a time (one item of the parallel loop).
    public var decoderRows = 128
    /// Vocabulary entries per block of logits: a `decoderRows × decoderColumns` tile (256 KB) stays in L2 between the
    /// GEMM that writes it and the log-sum-exp that reads it. (Tiles from 64×1024 to 256×512 measured the same.)
    public var decoderColumns = 512
    /// The number format of the GEMMs.
    public let precision: Precision
    /// The bfloat16 kernel: −1 the best this CPU has, 0 the portable one (for tests; `QUILL_BF16_PATH=0` in the
    /// environment does the same for a whole process).
    public var bfloat16Path: Int32 = -1
    private let pool: ThreadPool
    private let serial = ThreadPool(threads: 1)
    private var embedded = AlignedBuffer(count: 0)
    private var packedDecoder: [PackedMatrix]?
    fileprivate var reduced: ReducedWeights?
    // bfloat16 scratch: rows of the current GEMM's left operand; a layer's gates [N][G] (GRU also gh [B][G]); the
    // hidden states [T+1][B][H] of the layer running and of the one below; cell states [2][B][H].
    fileprivate let rowsBF16 = BFloat16Rows(), stepBF16 = BFloat16Rows()
    fileprivate var gates = AlignedBuffer(count: 0), hiddenGates = AlignedBuffer(count: 0)
    fileprivate var states = [AlignedBuffer(count: 0), AlignedBuffer(count: 0)], cells = AlignedBuffer(count: 0)

    /// A float32 scorer.
    public convenience init(model: LanguageModel, batch: Int = 64, window: Int = 35, pool: ThreadPool = .shared) {
        self.init(model: model, checkedPrecision: .float32, batch: batch, window: window, pool: pool)
    }

    /// A scorer in `precision` (float32 or bfloat16).
    /// - Throws: ``Stepper/UnsupportedPrecision`` for int8 (a format for stepping).
    public convenience init(model: LanguageModel, precision: Precision, batch: Int = 64, window: Int = 35,
                            pool: ThreadPool = .shared) throws {
        guard Self.scoringPrecisions.contains(precision) else {
            throw Stepper.UnsupportedPrecision(precision: precision, engine: "scoring",
                                               supported: Self.scoringPrecisions)
        }
        self.init(model: model, checkedPrecision: precision, batch: batch, window: window, pool: pool)
    }

    private init(model: LanguageModel, checkedPrecision precision: Precision, batch: Int, window: Int,
                 pool: ThreadPool) {
        precondition(batch > 0 && window > 0, "batch and window must be positive")
        self.model = model
        self.precision = precision
        self.batch = batch
        self.window = window
        self.pool = pool
    }

    /// The state before any token, for `B` streams.
    public func initialState(batch B: Int) -> BatchState {
        let c = model.configuration, count = c.layers * B * c.hidden
        return BatchState(hidden: [Float](repeating: 0, count: count),
                          cell: c.kind.hasCellState ? [Float](repeating: 0, count: count) : [])
    }

    /// Scores every sequence; `result[i]` belongs to `sequences[i]`. `progress` is called after each window with
    /// (windows done, windows in all).
    public func score(_ sequences: [[Int32]], progress: ((Int, Int) -> Void)? = nil) -> [Score] {
        var windowCount = 0, windowsDone = 0
        if progress != nil {
            for start in stride(from: 0, to: sequences.count, by: batch) {
                let longest = sequences[start..<min(sequences.count, start + batch)].map(\.count).max() ?? 0
                windowCount += (max(0, longest - 1) + window - 1) / window
            }
        }
        prepare()
        defer { packedDecoder = nil; reduced = nil }
        var results: [Score] = []
        results.reserveCapacity(sequences.count)
        for start in stride(from: 0, to: sequences.count, by: batch) {
            let group = sequences[start..<min(sequences.count, start + batch)]
            let B = group.count
            let longest = group.map(\.count).max() ?? 0
            var state = initialState(batch: B)
            var sums = [Double](repeating: 0, count: B)
            var counts = [Int](repeating: 0, count: B)
            for t0 in stride(from: 0, to: max(0, longest - 1), by: window) {
                let T = min(window, longest - 1 - t0)
                var inputs = [Int32](repeating: -1, count: T * B), targets = inputs
                for (b, sequence) in group.enumerated() {
                    for t in 0..<T where t0 + t + 1 < sequence.count {
                        inputs[t * B + b] = sequence[t0 + t]
                        targets[t * B + b] = sequence[t0 + t + 1]
                        counts[b] += 1
                    }
                }
                sums.withUnsafeMutableBufferPointer {
                    scoreWindow(inputs: inputs, targets: targets, steps: T, batch: B, state: &state, adding: $0)
                }
                windowsDone += 1
                progress?(windowsDone, windowCount)
            }
            for b in 0..<B { results.append(Score(logProbability: sums[b], tokens: counts[b])) }
        }
        return results
    }

    /// Packs the decoder weights for the windows that follow, in blocks of ``decoderColumns`` vocabulary entries
    /// (``score(_:)`` does it itself; call it once before scoring windows directly, and again after the weights
    /// change).
    public func prepare() {
        let c = model.configuration, H = c.hidden, V = c.vocabulary, weight = model.decoder.weight.base
        if precision == .bfloat16 {
            reduced = ReducedWeights(model: model, pool: pool)
            return
        }
        packedDecoder = stride(from: 0, to: V, by: decoderColumns).map { v0 in
            PackedMatrix(transposed: true, rows: H, columns: min(decoderColumns, V - v0), b: weight + v0 * H, ldb: H,
                         pool: pool)
        }
    }

    /// Scores one window of `B` streams: `inputs`, `targets` are `[T][B]` (time-major; input `−1` is a zero
    /// embedding, target `−1` is ignored); adds each stream's target log-probabilities into `sums[b]` and carries
    /// `state` to the window's end. Call ``prepare()`` first.
    public func scoreWindow(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, state: inout BatchState,
                            adding sums: UnsafeMutableBufferPointer<Double>) {
        guard packedDecoder != nil || reduced != nil else { preconditionFailure("call prepare() before scoreWindow") }
        let c = model.configuration, N = T * B, E = c.embedding, H = c.hidden
        precondition(inputs.count == N && targets.count == N && sums.count >= B, "window shapes do not match")
        if embedded.count < N * E { embedded = AlignedBuffer(count: N * E) }
        let x = embedded.base
        inputs.withUnsafeBufferPointer {
            model.embedding.forward(ids: $0.baseAddress!, count: N, output: x, pool: pool)
        }
        let top: UnsafePointer<Float>
        if let reduced {
            top = recurBFloat16(x, steps: T, batch: B, state: &state, weights: reduced)
        } else {
            state.hidden.withUnsafeBufferPointer { h0 in
                state.cell.withUnsafeBufferPointer { c0 in
                    model.rnn.forward(x, steps: T, batch: B, h0: h0.baseAddress!,
                                      c0: c.kind.hasCellState ? c0.baseAddress! : nil, pool: pool)
                }
            }
            let stateCount = c.layers * B * H
            state.hidden.withUnsafeMutableBufferPointer {
                $0.baseAddress!.update(from: model.rnn.finalHidden, count: stateCount)
            }
            if c.kind.hasCellState {
                state.cell.withUnsafeMutableBufferPointer {
                    $0.baseAddress!.update(from: model.rnn.finalCell, count: stateCount)
                }
            }
            top = UnsafePointer(model.rnn.output)
        }
        var logProbabilities = [Double](repeating: 0, count: N)
        logProbabilities.withUnsafeMutableBufferPointer { lp in
            targets.withUnsafeBufferPointer { targets in
                decode(top, rows: N, targets: targets.baseAddress!, into: lp.baseAddress!)
            }
        }
        for t in 0..<T {
            for b in 0..<B { sums[b] += logProbabilities[t * B + b] }
        }
    }

    /// `out[r] = log softmax(top[r]·W_decᵀ + b_dec)[targets[r]]` (0 for an ignored target), in items of
    /// ``decoderRows`` rows over the pool; inside an item, one GEMM per block of vocabulary columns and the online
    /// log-sum-exp (`quill_logsumexp_update`), so only a `decoderRows × decoderColumns` tile of logits exists.
    private func decode(_ top: UnsafePointer<Float>, rows N: Int, targets: UnsafePointer<Int32>,
                        into out: UnsafeMutablePointer<Double>) {
        let H = model.configuration.hidden, V = model.configuration.vocabulary, bias = model.decoder.bias.base
        let rowsPerItem = decoderRows, columns = decoderColumns, serial = self.serial
        let packed = packedDecoder ?? [], decoderBF16 = reduced?.decoder, path = bfloat16Path
        // bfloat16: the rows rounded once, before the loop (each item reads its own).
        let lda = decoderBF16?.rowStride ?? 0, a = rowsBF16
        if decoderBF16 != nil { a.convert(top, lda: H, rows: N, columns: H, ldd: lda, pool: pool) }
        let blocks = decoderBF16 != nil ? (V + columns - 1) / columns : packed.count
        // Tiles are taken from and returned to a free list: at most `threads` items run at once.
        let tiles = TileList(count: rowsPerItem * columns)
        pool.parallelFor((N + rowsPerItem - 1) / rowsPerItem) { item in
            let r0 = item * rowsPerItem, rows = min(rowsPerItem, N - r0)
            let tile = tiles.take()
            defer { tiles.give(tile) }
            var runMax = [Float](repeating: -.infinity, count: rows), targetLogit = [Float](repeating: 0, count: rows)
            var runSum = [Double](repeating: 0, count: rows)
            for j in 0..<blocks {
                let v0 = j * columns, width = min(columns, V - v0)
                if let decoderBF16 {
                    decoderBF16.multiply(rows: rows, a: a.base + r0 * lda, lda: lda, columns: v0..<(v0 + width),
                                         c: tile.base - v0, ldc: columns, path: path)
                } else {
                    gemm(m: rows, a: top + r0 * H, lda: H, packedB: packed[j], c: tile.base, ldc: columns,
                         pool: serial)
                }
                quill_logsumexp_update(tile.base, Int64(rows), Int64(width), Int64(columns), Int64(v0),
                                       bias + v0, targets + r0, -1, &runMax, &runSum, &targetLogit)
            }
            for r in 0..<rows {
                out[r0 + r] = targets[r0 + r] == -1
                    ? 0 : Double(targetLogit[r]) - Double(runMax[r]) - log(runSum[r])
            }
        }
    }
}

// MARK: - bfloat16

extension Scorer {
    /// The recurrent stack over one window in bfloat16 (see the type's documentation): from the embedded inputs `x`
    /// `[T][B][E]` and `state`, returns the top layer's outputs `[T][B][H]` (valid until the next window) and carries
    /// `state` to the window's end.
    fileprivate func recurBFloat16(_ x: UnsafePointer<Float>, steps T: Int, batch B: Int, state: inout BatchState,
                                   weights: ReducedWeights) -> UnsafePointer<Float> {
        let c = model.configuration, H = c.hidden, G = c.kind.gates * H, N = T * B, cell = c.kind.cell
        if gates.count < N * G { gates = AlignedBuffer(count: N * G) }
        if !cell.addsHiddenIntoGates && hiddenGates.count < B * G { hiddenGates = AlignedBuffer(count: B * G) }
        for i in 0..<2 where states[i].count < (T + 1) * B * H { states[i] = AlignedBuffer(count: (T + 1) * B * H) }
        if cell.hasCellState && cells.count < 2 * B * H { cells = AlignedBuffer(count: 2 * B * H) }
        var input = x, D = c.embedding
        for (l, layer) in weights.layers.enumerated() {
            let h = states[l % 2].base, g0 = gates.base
            // The input projections of all T steps, with the cell's input bias, one GEMM.
            let lda = layer.input.rowStride
            rowsBF16.convert(input, lda: D, rows: N, columns: D, ldd: lda, pool: pool)
            layer.input.multiply(rows: N, a: rowsBF16.base, lda: lda, c: g0, ldc: G, bias: layer.inputBias.base,
                                 accumulate: false, pool: pool, path: bfloat16Path)
            state.hidden.withUnsafeBufferPointer { h.update(from: $0.baseAddress! + l * B * H, count: B * H) }
            if cell.hasCellState {
                state.cell.withUnsafeBufferPointer { cells.base.update(from: $0.baseAddress! + l * B * H, count: B * H) }
            }
            let ldh = layer.recurrent.rowStride
            stepBF16.reserve(B * ldh)
            for t in 0..<T {
                let g = g0 + t * B * G
                let step = CellForward(gates: g, hiddenGates: cell.addsHiddenIntoGates ? g : hiddenGates.base,
                                       hiddenBias: layer.hiddenBias?.base, hPrev: h + t * B * H,
                                       h: h + (t + 1) * B * H, cPrev: cells.base + (t % 2) * B * H,
                                       c: cells.base + ((t + 1) % 2) * B * H, batch: B, hidden: H)
                cell.forward(step, multiply: { hPrev, product, bias, accumulate in
                    stepBF16.convert(hPrev, lda: H, rows: B, columns: H, ldd: ldh)
                    layer.recurrent.multiply(rows: B, a: stepBF16.base, lda: ldh, c: product, ldc: G, bias: bias,
                                             accumulate: accumulate, pool: pool, path: self.bfloat16Path)
                }, pool: pool)
            }
            state.hidden.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + l * B * H).update(from: h + T * B * H, count: B * H)
            }
            if cell.hasCellState {
                state.cell.withUnsafeMutableBufferPointer {
                    ($0.baseAddress! + l * B * H).update(from: cells.base + (T % 2) * B * H, count: B * H)
                }
            }
            input = UnsafePointer(h + B * H)
            D = H
        }
        return input
    }
}

/// A model's weights rounded to bfloat16 and packed for ``Scorer`` (``Scorer/prepare()``).
struct ReducedWeights {
    struct Layer {
        /// `W_ih` `[G][D]` and `W_hh` `[G][H]`.
        let input: BFloat16Matrix, recurrent: BFloat16Matrix
        /// Added with the input projection: the cell's ``RecurrentCell/inputBias(biasIH:biasHH:into:count:)``.
        let inputBias: AlignedBuffer
        /// Added with each step's hidden projection: the cell's ``RecurrentCell/hiddenBias(_:)`` (the GRU's `b_hh`).
        let hiddenBias: AlignedBuffer?
    }

    let layers: [Layer]
    /// `W_dec` `[V][H]`.
    let decoder: BFloat16Matrix

    init(model: LanguageModel, pool: ThreadPool) {
        let c = model.configuration, H = c.hidden, G = c.kind.gates * H, cell = c.kind.cell
        layers = model.rnn.layers.enumerated().map { l, layer in
            let D = l == 0 ? c.embedding : H
            let inputBias = AlignedBuffer(count: G)
            cell.inputBias(biasIH: layer.biasIH.base, biasHH: layer.biasHH.base, into: inputBias.base, count: G)
            let hiddenBias = cell.hiddenBias(layer.biasHH.base).map { biasHH in
                let b = AlignedBuffer(count: G)
                b.base.update(from: biasHH, count: G)
                return b
            }
            return Layer(input: BFloat16Matrix(weights: layer.weightIH.base, outputs: G, inputs: D, ld: D, pool: pool),
                         recurrent: BFloat16Matrix(weights: layer.weightHH.base, outputs: G, inputs: H, ld: H,
                                                   pool: pool),
                         inputBias: inputBias, hiddenBias: hiddenBias)
        }
        decoder = BFloat16Matrix(weights: model.decoder.weight.base, outputs: c.vocabulary, inputs: H, ld: H, pool: pool)
    }
}

/// Scratch tiles shared by the items of one parallel loop: `take` one at an item's start, `give` it back at its end.
private final class TileList: @unchecked Sendable {  // the list is guarded by `lock`
    private let lock = NSLock()
    private var free: [AlignedBuffer] = []
    private let count: Int

    init(count: Int) { self.count = count }

    func take() -> AlignedBuffer {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? AlignedBuffer(count: count)
    }

    func give(_ tile: AlignedBuffer) {
        lock.lock()
        free.append(tile)
        lock.unlock()
    }
}
