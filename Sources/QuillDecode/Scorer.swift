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
/// With ``Precision/bfloat16`` or ``Precision/int8`` (opt-in; float32 is the default) the same work runs with those
/// products (QuillTensor's `Precision`): the recurrent stack through the model's own layers with their `precision` set
/// for the call (the same unroll and cell step as float32 and training), and the decoder's blocks packed once in that
/// precision. bfloat16 rounds both operands of every product and sums in float32 (`vdpbf16ps`); int8 quantizes the
/// weights per output and each product's activations per row, and sums exactly in int32 (`vpdpbusd`, AVX512_VNNI).
/// Gates, cell states, logits and the log-sum-exp stay float32. Results are again the same for every thread count.
///
/// It uses the model's forward caches (and sets its layers' precision while a window runs): do not score while the
/// same model trains or steps a window on another thread.
public final class Scorer {
    /// The number formats of ``Stepper/Precision`` a scorer runs.
    public typealias Precision = Stepper.Precision
    /// float32 (exact), bfloat16 and int8.
    public static let scoringPrecisions: [Precision] = [.float32, .bfloat16, .int8]

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
    /// The same format as the products' arithmetic (`QuillTensor.Precision`).
    private var products: QuillTensor.Precision { QuillTensor.Precision(rawValue: precision.rawValue)! }
    private let pool: ThreadPool
    private let serial = ThreadPool(threads: 1)
    private var embedded = AlignedBuffer(count: 0)
    private var packedDecoder: [PackedMatrix]?
    /// The decoder's input rows, rounded or quantized once per window for all blocks of the vocabulary.
    private lazy var decoderRowsPrepared = PreparedRows(precision: products)

    /// A float32 scorer.
    public convenience init(model: LanguageModel, batch: Int = 64, window: Int = 35, pool: ThreadPool = .shared) {
        self.init(model: model, checkedPrecision: .float32, batch: batch, window: window, pool: pool)
    }

    /// A scorer in `precision` (float32, bfloat16 or int8).
    /// - Throws: ``Stepper/UnsupportedPrecision`` for a format it does not run (none today).
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
        defer { packedDecoder = nil }
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
        packedDecoder = stride(from: 0, to: V, by: decoderColumns).map { v0 in
            PackedMatrix(transposed: true, rows: H, columns: min(decoderColumns, V - v0), b: weight + v0 * H, ldb: H,
                         precision: products, pool: pool)
        }
    }

    /// Scores one window of `B` streams: `inputs`, `targets` are `[T][B]` (time-major; input `−1` is a zero
    /// embedding, target `−1` is ignored); adds each stream's target log-probabilities into `sums[b]` and carries
    /// `state` to the window's end. Call ``prepare()`` first.
    public func scoreWindow(inputs: [Int32], targets: [Int32], steps T: Int, batch B: Int, state: inout BatchState,
                            adding sums: UnsafeMutableBufferPointer<Double>) {
        guard packedDecoder != nil else { preconditionFailure("call prepare() before scoreWindow") }
        let c = model.configuration, N = T * B, E = c.embedding, H = c.hidden
        precondition(inputs.count == N && targets.count == N && sums.count >= B, "window shapes do not match")
        if embedded.count < N * E { embedded = AlignedBuffer(count: N * E) }
        let x = embedded.base
        inputs.withUnsafeBufferPointer {
            model.embedding.forward(ids: $0.baseAddress!, count: N, output: x, pool: pool)
        }
        let trainingPrecision = model.rnn.precision
        model.rnn.precision = products
        defer { model.rnn.precision = trainingPrecision }
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
        let top = UnsafePointer(model.rnn.output)
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
        let H = model.configuration.hidden, bias = model.decoder.bias.base
        let rowsPerItem = decoderRows, columns = decoderColumns, serial = self.serial, packed = packedDecoder!
        let prepared = decoderRowsPrepared
        prepared.prepare(m: N, k: H, a: top, lda: H, pool: pool)
        // Tiles are taken from and returned to a free list: at most `threads` items run at once.
        let tiles = TileList(count: rowsPerItem * columns)
        pool.parallelFor((N + rowsPerItem - 1) / rowsPerItem) { item in
            let r0 = item * rowsPerItem, rows = min(rowsPerItem, N - r0)
            let tile = tiles.take()
            defer { tiles.give(tile) }
            var runMax = [Float](repeating: -.infinity, count: rows), targetLogit = [Float](repeating: 0, count: rows)
            var runSum = [Double](repeating: 0, count: rows)
            for (j, block) in packed.enumerated() {
                let v0 = j * columns, width = block.columns
                prepared.multiply(rows: r0..<(r0 + rows), packedB: block, c: tile.base, ldc: columns, pool: serial)
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
