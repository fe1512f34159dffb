import CQuillKernels
import Foundation
import QuillNN
import QuillTensor

// Letters: `B` sentences in a batch, `S` their longest source, `K` beam width, `N` live rows (hypotheses) of a step,
// `E` embedding, `H` hidden, `G = 4H`, `V` target vocabulary, `L` decoder layers.

/// Translates with an ``QuillNN/EncoderDecoder``: greedy decoding (a beam of 1) and beam search, batched across
/// sentences.
///
/// Each batch of sentences is encoded once; then every step runs all live hypotheses of all sentences as one batch
/// of rows through the decoder (the model's ``QuillNN/LSTM`` cell over packed GEMMs, the model's
/// ``QuillNN/LuongAttention`` with each row reading its sentence's memory, the generator, a log-softmax), and each
/// sentence keeps its `K` best continuations. A sentence leaves the batch when it is done, as in OpenNMT-py.
///
/// Search (the fairseq rule): among a sentence's candidates in order of summed log-probability, one ending the
/// sentence within the first `K` is finished; the first `K` that do not end stay live. A finished hypothesis scores
/// `log P / lp` with GNMT's length penalty `lp = ((5 + |Y|) / 6)^α` (|Y| counts the end; `α = 0` is the plain sum).
/// A sentence is done when it has ``Options/nbest`` finished hypotheses and none of its live ones can still beat the
/// best of them (a live one's bound is its log-probability over the penalty at the length cap, since log-probabilities
/// only fall), or at the cap `⌊ratio · source length⌋ + extra`, where the live ones are finished as they stand.
///
/// With ``QuillDecode/Stepper/Precision/bfloat16`` the decoder's GEMMs (its layers' input and hidden products and
/// the generator) run on bfloat16 operands with float32 sums (`vdpbf16ps`: twice the multiply-adds of float32 per
/// instruction); the encoder, the attention, the cell, the softmax and the search stay float32. Translations may
/// then differ a little from float32's.
///
/// Results do not depend on the thread count or on how sentences are batched (each row's arithmetic is its own).
/// A translator keeps scratch buffers: use one per thread.
public final class Translator {
    /// How to search.
    public struct Options: Sendable, Equatable, Codable {
        /// Hypotheses kept per sentence (1: greedy).
        public var beam: Int
        /// Translations returned per sentence, best first (at most ``beam``).
        public var nbest: Int
        /// GNMT's `α` (Wu et al. 2016); 0 ranks by the summed log-probability.
        public var lengthPenalty: Double
        /// A translation has at most `⌊maxLengthRatio · source ids⌋ + maxLengthExtra` ids.
        public var maxLengthRatio: Double
        public var maxLengthExtra: Int
        /// Sentences decoded together.
        public var batch: Int
        /// Keep each translation's attention weights (target × source).
        public var attention: Bool
        /// Never end a sentence before its cap (benchmarks: a fixed amount of work whatever the model).
        public var suppressEnd: Bool

        public init(beam: Int = 5, nbest: Int = 1, lengthPenalty: Double = 0, maxLengthRatio: Double = 1.5,
                    maxLengthExtra: Int = 5, batch: Int = 64, attention: Bool = false, suppressEnd: Bool = false) {
            self.beam = beam
            self.nbest = nbest
            self.lengthPenalty = lengthPenalty
            self.maxLengthRatio = maxLengthRatio
            self.maxLengthExtra = maxLengthExtra
            self.batch = batch
            self.attention = attention
            self.suppressEnd = suppressEnd
        }

        /// Greedy decoding: one hypothesis, the most likely token at every step.
        public static var greedy: Options { Options(beam: 1) }
    }

    /// One translation of a sentence.
    public struct Hypothesis: Sendable, Equatable, Codable {
        /// The target ids, without the end of sentence.
        public var ids: [Int32]
        /// Whether the decoder ended the sentence (false: it reached the length cap).
        public var ended: Bool
        /// The summed log-probability of the ids (and of the end, when ended).
        public var logProbability: Double
        /// ``logProbability`` over the length penalty: what the hypotheses are ranked by.
        public var score: Double
        /// `[target step][source id]` the attention of each step (the end's included), when asked for.
        public var attention: [[Float]]?
    }

    public let model: EncoderDecoder
    /// The id the decoder starts after, and the id that ends a sentence (Quill's line break for both).
    public let startID: Int32, endID: Int32
    /// float32 or bfloat16 (see the type's documentation).
    public let precision: Stepper.Precision
    /// The precisions a translator runs.
    public static let precisions: [Stepper.Precision] = [.float32, .bfloat16]
    private let pool: ThreadPool
    /// Each layer's `W_ih`, `W_hh` and the generator, packed once in the translator's precision (bfloat16: rounded;
    /// the rows are then rounded per product, inside `gemm`).
    private let packedInput: [PackedMatrix], packedHidden: [PackedMatrix], packedGenerator: PackedMatrix
    private var biases: [[Float]]
    // Row buffers, current and next: h and c per layer [L][N][H], the fed attentional outputs [N][H].
    private var hidden = [Scratch(), Scratch()], cells = [Scratch(), Scratch()], feeds = [Scratch()]
    private var input = Scratch(), gates = Scratch(), logits = Scratch(), embedded = Scratch()
    private var topIDs: [Int32] = [], topValues: [Float] = []

    /// A translator over `model`'s current parameters (packed once: later changes to them are not seen).
    /// - Throws: ``Stepper/UnsupportedPrecision`` for int8.
    public init(model: EncoderDecoder, startID: Int32, endID: Int32, precision: Stepper.Precision = .float32,
                pool: ThreadPool = .shared) throws {
        guard Self.precisions.contains(precision) else {
            throw Stepper.UnsupportedPrecision(precision: precision, engine: "translation", supported: Self.precisions)
        }
        self.model = model
        self.startID = startID
        self.endID = endID
        self.precision = precision
        self.pool = pool
        let H = model.configuration.hidden, V = model.configuration.targetVocabulary
        let products = QuillTensor.Precision(rawValue: precision.rawValue)!
        packedInput = model.decoder.map {
            PackedMatrix(transposed: true, rows: $0.inputSize, columns: 4 * H, b: $0.weightIH.base, ldb: $0.inputSize,
                         precision: products, pool: pool)
        }
        packedHidden = model.decoder.map {
            PackedMatrix(transposed: true, rows: H, columns: 4 * H, b: $0.weightHH.base, ldb: H, precision: products,
                         pool: pool)
        }
        packedGenerator = PackedMatrix(transposed: true, rows: H, columns: V, b: model.generator.weight.base, ldb: H,
                                       precision: products, pool: pool)
        biases = model.decoder.map { layer in
            var bias = [Float](repeating: 0, count: 4 * H)
            bias.withUnsafeMutableBufferPointer {
                LSTM.inputBias(biasIH: layer.biasIH.base, biasHH: layer.biasHH.base, into: $0.baseAddress!, count: 4 * H)
            }
            return bias
        }
    }

    /// Translates `sources` (each a sentence's source ids, ending on its line break), returning each sentence's
    /// ``Options/nbest`` best translations, best first.
    public func translate(_ sources: [[Int32]], options: Options) -> [[Hypothesis]] {
        precondition(options.beam >= 1 && options.nbest >= 1 && options.nbest <= options.beam,
                     "search needs 1 ≤ nbest ≤ beam")
        precondition(sources.allSatisfy { !$0.isEmpty }, "a source sentence needs at least one id")
        // Sentences of similar lengths decode together; results return in input order.
        let order = sources.indices.sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
        var results = [[Hypothesis]](repeating: [], count: sources.count)
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(order.count, start + max(1, options.batch))])
            let translated = translateBatch(chunk.map { sources[$0] }, options: options)
            for (i, hypotheses) in zip(chunk, translated) { results[i] = hypotheses }
            start += chunk.count
        }
        return results
    }

    /// A live row: its parent in the previous step's rows, its last id, its summed log-probability, its sentence.
    private struct Row {
        var parent: Int32
        var token: Int32
        var logProbability: Double
        var sentence: Int32
    }

    /// A hypothesis that left the search at step `step`: row `row` of that step's rows, followed by `token` (the end
    /// when `ended`, else the last id before the cap).
    private struct Finished {
        var step: Int
        var row: Int
        var token: Int32
        var ended: Bool
        var logProbability: Double
        var score: Double
    }

    private func translateBatch(_ sources: [[Int32]], options: Options) -> [[Hypothesis]] {
        let c = model.configuration, B = sources.count, H = c.hidden, E = c.embedding, L = c.layers
        let V = c.targetVocabulary, K = options.beam, F = c.feedWidth
        let S = sources.map(\.count).max()!
        var source = [Int32](repeating: -1, count: S * B)
        for (b, ids) in sources.enumerated() { for (s, id) in ids.enumerated() { source[s * B + b] = id } }
        let lengths = sources.map { Int32($0.count) }
        model.encode(source: source, sourceLengths: lengths, sourceSteps: S, batch: B, pool: pool)
        let caps = sources.map { max(1, Int(options.maxLengthRatio * Double($0.count)) + options.maxLengthExtra) }
        func penalty(_ length: Int) -> Double {
            options.lengthPenalty == 0 ? 1 : pow((5 + Double(length)) / 6, options.lengthPenalty)
        }

        // The rows' states (`[L][N][H]` h and c, `[N][H]` fed outputs) live in the first buffers; a step writes its
        // new states to the second ones, and the survivors are gathered back.
        let most = K * B
        let h = hidden[0].pointer(L * most * H), cs = cells[0].pointer(L * most * H), feed = feeds[0].pointer(most * H)
        let hOut = hidden[1].pointer(L * most * H), cOut = cells[1].pointer(L * most * H)
        for l in 0..<L {
            // Step 0: one row per sentence, from the encoder's final states and a zero feed.
            (h + l * B * H).update(from: model.initialHidden + l * B * H, count: B * H)
            (cs + l * B * H).update(from: model.initialCell + l * B * H, count: B * H)
        }
        feed.update(repeating: 0, count: B * H)
        var rows = (0..<B).map { Row(parent: -1, token: startID, logProbability: 0, sentence: Int32($0)) }
        // Per step: the rows it stepped (to walk a hypothesis back) and their attention `[N][S]` when kept.
        var history: [[Row]] = [], attentionHistory: [[Float]] = []
        var finished = [[Finished]](repeating: [], count: B)
        let x = input.pointer(most * (E + F)), emb = embedded.pointer(most * E), g = gates.pointer(most * 4 * H)
        let logp = logits.pointer(most * V)

        var step = 0
        while !rows.isEmpty {
            let N = rows.count
            let ids = rows.map(\.token)
            ids.withUnsafeBufferPointer { model.targetEmbedding.forward(ids: $0.baseAddress!, count: N, output: emb,
                                                                         pool: pool) }
            for r in 0..<N {
                (x + r * (E + F)).update(from: emb + r * E, count: E)
                (x + r * (E + F) + E).update(from: feed + r * H, count: F)
            }
            var layerInput = UnsafePointer(x)
            for l in 0..<L {
                let hNew = hOut + l * N * H, D = model.decoder[l].inputSize
                biases[l].withUnsafeBufferPointer { bias in
                    gemm(m: N, a: layerInput, lda: D, packedB: packedInput[l], c: g, ldc: 4 * H,
                         bias: bias.baseAddress, pool: pool)
                }
                let whh = packedHidden[l], threads = pool
                LSTM.forward(CellForward(gates: g, hiddenGates: g, hiddenBias: nil, hPrev: h + l * N * H, h: hNew,
                                         cPrev: cs + l * N * H, c: cOut + l * N * H, batch: N, hidden: H),
                             multiply: { hPrev, out, bias, accumulate in
                                 gemm(m: N, a: hPrev, lda: H, packedB: whh, beta: accumulate ? 1 : 0, c: out,
                                      ldc: 4 * H, bias: bias, pool: threads)
                             }, pool: pool)
                layerInput = UnsafePointer(hNew)
            }
            let memoryIndex = rows.map(\.sentence)
            let a: UnsafeMutablePointer<Float> = lengths.withUnsafeBufferPointer { lengths in
                memoryIndex.withUnsafeBufferPointer { index in
                    guard let attention = model.attention else { return UnsafeMutablePointer(mutating: layerInput) }
                    attention.begin(memory: model.memory.baseAddress!, sourceSteps: S, memoryRows: B,
                                    lengths: lengths.baseAddress!, batch: N, memoryIndex: index.baseAddress!,
                                    capacity: 1, weightsUnchanged: step > 0, pool: pool)
                    return attention.forward(query: layerInput, slot: 0, pool: pool)
                }
            }
            if options.attention, let attention = model.attention {
                attentionHistory.append(Array(UnsafeBufferPointer(start: attention.weights(slot: 0),
                                                                  count: N * S)))
            }
            gemm(m: N, a: a, lda: H, packedB: packedGenerator, c: logp, ldc: V, bias: model.generator.bias.base,
                 pool: pool)
            let perChunk = max(1, 32_768 / V)
            pool.parallelFor((N + perChunk - 1) / perChunk) { chunk in
                let first = chunk * perChunk, count = min(N, first + perChunk) - first
                quill_log_softmax(logp + first * V, Int64(count), Int64(V), logp + first * V)
            }
            if options.suppressEnd { for r in 0..<N { logp[r * V + Int(endID)] = -.infinity } }
            history.append(rows)

            // Each row's K best ids, then each sentence's K best continuations (rows stay grouped by sentence).
            selectTop(logp, rows: N, vocabulary: V, k: K)
            let length = step + 1
            var next: [Row] = []
            next.reserveCapacity(most)
            var first = 0
            while first < N {
                let sentence = Int(rows[first].sentence)
                var end = first
                while end < N && Int(rows[end].sentence) == sentence { end += 1 }
                var candidates: [Finished] = []
                for row in first..<end {
                    for j in (row * K)..<(row * K + K) where topIDs[j] >= 0 {
                        let token = topIDs[j], value = topValues[j]
                        let total = rows[row].logProbability + Double(value)
                        candidates.append(Finished(step: step, row: row, token: token, ended: token == endID,
                                                   logProbability: total, score: total / penalty(length)))
                    }
                }
                candidates.sort { ($0.logProbability, -$0.row, -$0.token) > ($1.logProbability, -$1.row, -$1.token) }
                var live = 0
                for (rank, candidate) in candidates.enumerated() {
                    if candidate.ended {
                        if rank < K { finished[sentence].append(candidate) }
                    } else {
                        next.append(Row(parent: Int32(candidate.row), token: candidate.token,
                                        logProbability: candidate.logProbability, sentence: Int32(sentence)))
                        live += 1
                        if live == K { break }
                    }
                }
                let survivors = (next.count - live)..<next.count
                if length >= caps[sentence] {
                    // At the cap the live ones finish as they stand.
                    for i in survivors {
                        let row = next[i]
                        finished[sentence].append(Finished(
                            step: step, row: Int(row.parent), token: row.token, ended: false,
                            logProbability: row.logProbability, score: row.logProbability / penalty(length)))
                    }
                    next.removeLast(live)
                } else if live > 0, finished[sentence].count >= options.nbest {
                    let best = finished[sentence].map(\.score).max()!
                    let bound = next[survivors].map { $0.logProbability / penalty(caps[sentence]) }.max()!
                    if best >= bound { next.removeLast(live) }
                }
                first = end
            }
            // Gather the survivors' states: new states of their parents, and their parents' outputs as the feed.
            for (i, row) in next.enumerated() {
                let p = Int(row.parent)
                for l in 0..<L {
                    (h + (l * next.count + i) * H).update(from: hOut + (l * N + p) * H, count: H)
                    (cs + (l * next.count + i) * H).update(from: cOut + (l * N + p) * H, count: H)
                }
                (feed + i * H).update(from: a + p * H, count: H)
            }
            rows = next
            step += 1
        }
        return (0..<B).map { b in
            finished[b].sorted { ($0.score, $0.ended ? 1 : 0, -$0.step) > ($1.score, $1.ended ? 1 : 0, -$1.step) }
                .prefix(options.nbest).map {
                    backtrack($0, history: history, attention: attentionHistory, S: S, sourceLength: Int(lengths[b]),
                              keep: options.attention && model.attention != nil)
                }
        }
    }

    /// The `k` largest values of each row with their ids, largest first (ties: the smaller id; `-∞` never), into
    /// ``topIDs`` / ``topValues`` `[rows][k]` (id −1 where a row has fewer). A block of 16 whose maximum cannot enter
    /// the row's list is skipped with one comparison, so a row costs little more than reading it.
    private func selectTop(_ x: UnsafeMutablePointer<Float>, rows: Int, vocabulary V: Int, k: Int) {
        topIDs.removeAll(keepingCapacity: true)
        topIDs.append(contentsOf: repeatElement(-1, count: rows * k))
        topValues.removeAll(keepingCapacity: true)
        topValues.append(contentsOf: repeatElement(-.infinity, count: rows * k))
        topIDs.withUnsafeMutableBufferPointer { ids in
            topValues.withUnsafeMutableBufferPointer { values in
                let ids = ids.baseAddress!, values = values.baseAddress!
                let perChunk = max(1, 32_768 / max(1, V))
                pool.parallelFor((rows + perChunk - 1) / perChunk) { chunk in
                    for r in (chunk * perChunk)..<min(rows, (chunk + 1) * perChunk) {
                        Self.selectTop(row: x + r * V, count: V, k: k, ids: ids + r * k, values: values + r * k)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func selectTop(row: UnsafePointer<Float>, count V: Int, k: Int, ids: UnsafeMutablePointer<Int32>,
                                  values: UnsafeMutablePointer<Float>) {
        var threshold = -Float.infinity  // the k-th largest so far (−∞ until k are held)
        var v = 0
        while v < V {
            if v + 16 <= V {
                let block = UnsafeRawPointer(row + v).loadUnaligned(as: SIMD16<Float>.self)
                if !(block.max() > threshold) {
                    v += 16
                    continue
                }
            }
            let end = min(V, v + 16)
            while v < end {
                let value = row[v]
                if value > threshold {
                    var i = k - 1
                    while i > 0 && (ids[i - 1] < 0 || value > values[i - 1]) {
                        values[i] = values[i - 1]
                        ids[i] = ids[i - 1]
                        i -= 1
                    }
                    values[i] = value
                    ids[i] = Int32(v)
                    if ids[k - 1] >= 0 { threshold = values[k - 1] }
                }
                v += 1
            }
        }
    }

    /// The ids (and attention) of a finished hypothesis, walking its rows' parents back to the start.
    private func backtrack(_ f: Finished, history: [[Row]], attention: [[Float]], S: Int, sourceLength: Int,
                           keep: Bool) -> Hypothesis {
        var ids: [Int32] = f.ended ? [] : [f.token], weights: [[Float]] = []
        var t = f.step, r = f.row
        while true {
            if keep { weights.append(Array(attention[t][(r * S)..<(r * S + sourceLength)])) }
            guard t > 0 else { break }
            let row = history[t][r]
            ids.append(row.token)
            r = Int(row.parent)
            t -= 1
        }
        return Hypothesis(ids: ids.reversed(), ended: f.ended, logProbability: f.logProbability, score: f.score,
                          attention: keep ? weights.reversed() : nil)
    }
}
