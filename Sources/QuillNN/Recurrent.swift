import QuillTensor

// Letters: `T` steps, `B` batch, `D` input width, `H` hidden, `G = gates·H` (4H LSTM, 3H GRU, H Elman RNN), `L` layers.
// Layout: time-major `[T][B][…]`, row-major. Weights as PyTorch: `weightIH` `[G][D]`, `weightHH` `[G][H]`, `biasIH`
// and `biasHH` `[G]`, gate blocks in PyTorch's orders (LSTM i,f,g,o from `LSTMCell.Gate`; GRU r,z,n from
// `GRUCell.Gate`).

/// The recurrence of a layer: PyTorch's formulations of `nn.LSTM`, `nn.GRU` and `nn.RNN(nonlinearity: "tanh")`.
public enum CellKind: String, Codable, Sendable, CaseIterable {
    /// `i,f,g,o = σ,σ,tanh,σ(x·Wᵢₕᵀ + bᵢₕ + h·Wₕₕᵀ + bₕₕ)`, `c' = f⊙c + i⊙g`, `h' = o⊙tanh(c')`
    /// (Hochreiter & Schmidhuber 1997; Gers et al. 2000).
    case lstm
    /// `r,z = σ(xᵣ,z + hᵣ,z)`, `n = tanh(xₙ + r⊙hₙ)`, `h' = (1−z)⊙n + z⊙h`, with `x = x·Wᵢₕᵀ + bᵢₕ` and
    /// `h = h·Wₕₕᵀ + bₕₕ` (Cho et al. 2014, PyTorch's variant with `bₕₙ` inside `r⊙(…)`).
    case gru
    /// `h' = tanh(x·Wᵢₕᵀ + bᵢₕ + h·Wₕₕᵀ + bₕₕ)` (Elman 1990).
    case rnnTanh

    /// Gate blocks of `H` per row: `G = gates·H`.
    public var gates: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnnTanh: return 1
        }
    }

    /// Whether the state has a cell `c` beside `h` (LSTM only).
    public var hasCellState: Bool { self == .lstm }
}

/// One recurrent layer: a one-step cell and its unroll over `T` steps, forward and backward through time.
///
/// Parameters `<prefix>.<k>.weightIH` `[G][D]`, `.weightHH` `[G][H]`, `.biasIH` `[G]`, `.biasHH` `[G]` — PyTorch's
/// `weight_ih_l<k>`, `weight_hh_l<k>`, `bias_ih_l<k>`, `bias_hh_l<k>` with the same layouts.
///
/// Forward projects the inputs of all `T` steps with one GEMM (`x·Wᵢₕᵀ` for all `T·B` rows, plus the biases), so only
/// `h·Wₕₕᵀ` runs per step. Caches, sized for `(T, B)` and reused across calls of that size or smaller: the gate
/// activations `[T][B][G]` (GRU also the hidden projections `[T][B][G]`), the states `h` `[T+1][B][H]` (index 0 the
/// initial state; `1...T` is the output) and for the LSTM `c` `[T+1][B][H]`. Backward reads these and the input.
public final class RecurrentLayer {
    public let kind: CellKind
    public let inputSize: Int, hiddenSize: Int
    public let weightIH: Tensor, dWeightIH: Tensor, weightHH: Tensor, dWeightHH: Tensor
    public let biasIH: Tensor, dBiasIH: Tensor, biasHH: Tensor, dBiasHH: Tensor

    private var gatesCache = Scratch(), hiddenProjection = Scratch(), hCache = Scratch(), cCache = Scratch()
    private var dGates = Scratch(), dHiddenProjection = Scratch(), dH = Scratch(), dHTotal = Scratch()
    private var dC = Scratch(), dCPrev = Scratch(), biasSums = Scratch(), tokenTable = Scratch()
    private var biasSum = Scratch()
    private var steps = 0, batch = 0
    private var input: UnsafePointer<Float>?
    /// Set by ``forward(tokens:table:vocabulary:steps:batch:h0:c0:pool:)``: the input rows are `table[ids[n]]`.
    private var tokens: (ids: UnsafePointer<Int32>, table: UnsafePointer<Float>, vocabulary: Int)?
    private var tableRows = [Int32]()

    /// The parameter names of layer `index` under `prefix`, with their shapes.
    public static func layout(prefix: String, index: Int, kind: CellKind, inputSize: Int, hiddenSize: Int)
        -> ParameterLayout {
        let g = kind.gates * hiddenSize
        return [("\(prefix).\(index).weightIH", [g, inputSize]), ("\(prefix).\(index).weightHH", [g, hiddenSize]),
                ("\(prefix).\(index).biasIH", [g]), ("\(prefix).\(index).biasHH", [g])]
    }

    /// PyTorch's state_dict name for a Quill suffix (`weightIH` → `weight_ih_l<k>`), nil for an unknown one.
    public static func pytorchSuffix(_ suffix: String, index: Int) -> String? {
        switch suffix {
        case "weightIH": return "weight_ih_l\(index)"
        case "weightHH": return "weight_hh_l\(index)"
        case "biasIH": return "bias_ih_l\(index)"
        case "biasHH": return "bias_hh_l\(index)"
        default: return nil
        }
    }

    /// Binds layer `index` under `prefix` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, index: Int, kind: CellKind, inputSize: Int,
                hiddenSize: Int) throws {
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let g = kind.gates * hiddenSize, p = "\(prefix).\(index)"
        (weightIH, dWeightIH) = try parameters.views("\(p).weightIH", [g, inputSize])
        (weightHH, dWeightHH) = try parameters.views("\(p).weightHH", [g, hiddenSize])
        (biasIH, dBiasIH) = try parameters.views("\(p).biasIH", [g])
        (biasHH, dBiasHH) = try parameters.views("\(p).biasHH", [g])
    }

    /// The outputs `h₁…h_T` `[T][B][H]` of the last forward (valid until the next forward).
    public var output: UnsafeMutablePointer<Float> { hCache.buffer.base + batch * hiddenSize }
    /// The final hidden state `h_T` `[B][H]` of the last forward.
    public var finalHidden: UnsafeMutablePointer<Float> { hCache.buffer.base + steps * batch * hiddenSize }
    /// The final cell state `c_T` `[B][H]` of the last forward (LSTM only).
    public var finalCell: UnsafeMutablePointer<Float> { cCache.buffer.base + steps * batch * hiddenSize }
    /// The gradient of the initial hidden state `[B][H]`, after backward.
    public var dInitialHidden: UnsafeMutablePointer<Float> { dH.buffer.base }
    /// The gradient of the initial cell state `[B][H]`, after backward (LSTM only).
    public var dInitialCell: UnsafeMutablePointer<Float> { dC.buffer.base }

    /// Runs the layer over `T` steps.
    /// - Parameters:
    ///   - input: `[T][B][D]`; must stay valid and unchanged until ``backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)``.
    ///   - h0: `[B][H]` the initial hidden state, nil for zeros; `c0` likewise (LSTM only).
    /// The outputs are in ``output``, the final states in ``finalHidden`` and ``finalCell``.
    public func forward(_ input: UnsafePointer<Float>, steps T: Int, batch B: Int, h0: UnsafePointer<Float>?,
                        c0: UnsafePointer<Float>?, pool: ThreadPool = .shared) {
        let G = kind.gates * hiddenSize, D = inputSize
        self.input = input
        tokens = nil
        // The input projection of all T steps, one GEMM.
        let gates = gatesCache.pointer(T * B * G)
        gemm(transposeB: true, m: T * B, n: G, k: D, a: input, lda: D, b: weightIH.base, ldb: D, c: gates, ldc: G,
             bias: inputBias(), pool: pool)
        recur(steps: T, batch: B, h0: h0, c0: c0, pool: pool)
    }

    /// Runs the layer over `T` steps whose inputs are rows of a table: `input[n] = table[ids[n]]` (a negative id
    /// reads a zero row), as after an embedding lookup, without gathering them.
    ///
    /// The table is projected once, `P = table·Wᵢₕᵀ + biases` `[V][G]`, and each step's input projection is the row
    /// `P[ids[n]]`: bit-identical to projecting the gathered rows (each element is the same dot product), and
    /// `V·G·D` multiply-adds instead of `T·B·G·D`, so a win when `V < T·B` (character models). Backward then
    /// accumulates the gradient of the table itself (see ``backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)``).
    /// - Parameters:
    ///   - ids: `[T][B]` in `0..<V` or negative; `table`: `[V][D]`. Both must stay valid and unchanged until backward.
    public func forward(tokens ids: UnsafePointer<Int32>, table: UnsafePointer<Float>, vocabulary V: Int,
                        steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                        pool: ThreadPool = .shared) {
        let G = kind.gates * hiddenSize, D = inputSize, N = T * B
        input = nil
        tokens = (ids, table, V)
        // `P` `[V + 1][G]`: row V is the projection of a zero row (the biases alone), for negative ids.
        let p = tokenTable.pointer((V + 1) * G), bias = inputBias()
        gemm(transposeB: true, m: V, n: G, k: D, a: table, lda: D, b: weightIH.base, ldb: D, c: p, ldc: G,
             bias: bias, pool: pool)
        (p + V * G).update(from: bias, count: G)
        tableRows.removeAll(keepingCapacity: true)
        for n in 0..<N { tableRows.append(ids[n] < 0 ? Int32(V) : ids[n]) }
        let gates = gatesCache.pointer(N * G)
        tableRows.withUnsafeBufferPointer {
            EmbeddingLookup.gather(table: p, vocabulary: V + 1, dimension: G, ids: $0.baseAddress!, count: N,
                                   output: gates, pool: pool)
        }
        recur(steps: T, batch: B, h0: h0, c0: c0, pool: pool)
    }

    /// The bias `[G]` that enters with the input projection (added in the GEMM's write-back): `biasIH`, plus
    /// `biasHH` but for the GRU (whose `biasHH` stays inside `r⊙(…)`).
    private func inputBias() -> UnsafePointer<Float> {
        guard kind != .gru else { return UnsafePointer(biasIH.base) }
        let G = kind.gates * hiddenSize, sum = biasSum.pointer(G)
        for j in 0..<G { sum[j] = biasIH.base[j] + biasHH.base[j] }
        return UnsafePointer(sum)
    }

    /// The recurrence over `T` steps, from the input projections already in the gates cache.
    private func recur(steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                       pool: ThreadPool) {
        let H = hiddenSize, G = kind.gates * H
        steps = T
        batch = B
        let gates = gatesCache.pointer(T * B * G), h = hCache.pointer((T + 1) * B * H)
        let gh = kind == .gru ? hiddenProjection.pointer(T * B * G) : gates
        let c = kind.hasCellState ? cCache.pointer((T + 1) * B * H) : h
        if let h0 { h.update(from: h0, count: B * H) } else { h.update(repeating: 0, count: B * H) }
        if kind.hasCellState {
            if let c0 { c.update(from: c0, count: B * H) } else { c.update(repeating: 0, count: B * H) }
        }
        // `Wₕₕᵀ` packed once for the T per-step GEMMs (the weights do not change within a window); bit-identical
        // to the unpacked call.
        let whh = PackedMatrix(transposed: true, rows: H, columns: G, b: weightHH.base, ldb: H, pool: pool)
        for t in 0..<T {
            let g = gates + t * B * G, hPrev = h + t * B * H, hNext = h + (t + 1) * B * H
            switch kind {
            case .lstm:
                gemm(m: B, a: hPrev, lda: H, packedB: whh, beta: 1, c: g, ldc: G, pool: pool)
                LSTMCell.forward(gates: g, cPrev: c + t * B * H, c: c + (t + 1) * B * H, h: hNext, batch: B,
                                 hidden: H, pool: pool)
            case .gru:
                let ght = gh + t * B * G
                gemm(m: B, a: hPrev, lda: H, packedB: whh, c: ght, ldc: G, bias: biasHH.base, pool: pool)
                GRUCell.forward(gx: g, gh: ght, hPrev: hPrev, h: hNext, batch: B, hidden: H, pool: pool)
            case .rnnTanh:
                gemm(m: B, a: hPrev, lda: H, packedB: whh, beta: 1, c: g, ldc: G, pool: pool)
                Tanh.forward(g, hNext, count: B * H, pool: pool)
            }
        }
    }

    /// Backpropagates through the `T` steps of the last forward: ADDS the parameter gradients, WRITES `dInput`, and
    /// leaves the gradients of the initial states in ``dInitialHidden`` / ``dInitialCell``.
    /// - Parameters:
    ///   - dOutput: `[T][B][H]` the gradient of the outputs `h₁…h_T` (from the layer above or the loss).
    ///   - dFinalHidden: `[B][H]` an extra gradient of `h_T` (from beyond the window), nil for none; `dFinalCell`
    ///     likewise for `c_T`.
    ///   - dInput: `[T][B][D]` receives the gradient of the input, nil to skip it. After a forward from `tokens`, it
    ///     is the table's gradient `[V][D]` instead, and is ACCUMULATED into.
    public func backward(dOutput: UnsafePointer<Float>, dFinalHidden: UnsafePointer<Float>? = nil,
                         dFinalCell: UnsafePointer<Float>? = nil, dInput: UnsafeMutablePointer<Float>?,
                         pool: ThreadPool = .shared) {
        guard input != nil || tokens != nil else { preconditionFailure("RecurrentLayer.backward before forward") }
        let T = steps, B = batch, H = hiddenSize, G = kind.gates * H, D = inputSize
        let gates = gatesCache.buffer.base, h = hCache.buffer.base, c = cCache.buffer.base
        let gh = hiddenProjection.buffer.base
        let dG = dGates.pointer(T * B * G)
        let dGh = kind == .gru ? dHiddenProjection.pointer(T * B * G) : dG
        let dh = dH.pointer(B * H), dhTotal = dHTotal.pointer(B * H)
        var dc = dC.pointer(B * H), dcPrev = dCPrev.pointer(B * H)
        if let dFinalHidden { dh.update(from: dFinalHidden, count: B * H) } else { dh.update(repeating: 0, count: B * H) }
        if kind.hasCellState {
            if let dFinalCell { dc.update(from: dFinalCell, count: B * H) } else { dc.update(repeating: 0, count: B * H) }
        }
        let whh = PackedMatrix(rows: G, columns: H, b: weightHH.base, ldb: H, pool: pool)  // dh = dGates·Wₕₕ
        for t in stride(from: T - 1, through: 0, by: -1) {
            let dOut = dOutput + t * B * H
            for i in 0..<(B * H) { dhTotal[i] = dOut[i] + dh[i] }
            let g = gates + t * B * G, dg = dG + t * B * G
            switch kind {
            case .lstm:
                LSTMCell.backward(gates: g, cPrev: c + t * B * H, c: c + (t + 1) * B * H, dH: dhTotal, dC: dc,
                                  dGates: dg, dCPrev: dcPrev, batch: B, hidden: H, pool: pool)
                swap(&dc, &dcPrev)
                gemm(m: B, a: dg, lda: G, packedB: whh, c: dh, ldc: H, pool: pool)
            case .gru:
                let dght = dGh + t * B * G
                GRUCell.backward(gx: g, gh: gh + t * B * G, hPrev: h + t * B * H, dH: dhTotal, dGx: dg, dGh: dght,
                                 dHPrev: dh, batch: B, hidden: H, pool: pool)
                gemm(m: B, a: dght, lda: G, packedB: whh, beta: 1, c: dh, ldc: H, pool: pool)
            case .rnnTanh:
                Tanh.backward(output: h + (t + 1) * B * H, dOutput: dhTotal, dInput: dg, count: B * H, pool: pool)
                gemm(m: B, a: dg, lda: G, packedB: whh, c: dh, ldc: H, pool: pool)
            }
        }
        if kind.hasCellState && dc != dC.buffer.base { dC.buffer.base.update(from: dc, count: B * H) }
        // Weight gradients of all T steps, one GEMM each.
        if let input {
            gemm(transposeA: true, m: G, n: D, k: T * B, a: dG, lda: G, b: input, ldb: D, beta: 1,
                 c: dWeightIH.base, ldc: D, pool: pool)
        }
        gemm(transposeA: true, m: G, n: H, k: T * B, a: dGh, lda: G, b: h, ldb: H, beta: 1, c: dWeightHH.base,
             ldc: H, pool: pool)
        if kind == .gru {
            Bias.accumulateColumnSums(of: dG, rows: T * B, columns: G, into: dBiasIH.base, pool: pool)
            Bias.accumulateColumnSums(of: dGh, rows: T * B, columns: G, into: dBiasHH.base, pool: pool)
        } else {
            // Both biases enter every gate the same way, so their gradients are the same column sums: one pass.
            let sums = biasSums.pointer(G)
            sums.update(repeating: 0, count: G)
            Bias.accumulateColumnSums(of: dG, rows: T * B, columns: G, into: sums, pool: pool)
            for j in 0..<G {
                dBiasIH.base[j] += sums[j]
                dBiasHH.base[j] += sums[j]
            }
        }
        if let tokens {
            // Through the table: `S = Σ_{n: ids[n] = v} dGates[n]` `[V][G]`, then `dWᵢₕ += Sᵀ·table` and
            // `dTable += S·Wᵢₕ` (V rows instead of T·B).
            let V = tokens.vocabulary, s = tokenTable.pointer(V * G)
            s.update(repeating: 0, count: V * G)
            EmbeddingLookup.scatterAdd(dOutput: dG, ids: tokens.ids, count: T * B, dTable: s, vocabulary: V,
                                       dimension: G, pool: pool)
            gemm(transposeA: true, m: G, n: D, k: V, a: s, lda: G, b: tokens.table, ldb: D, beta: 1,
                 c: dWeightIH.base, ldc: D, pool: pool)
            if let dInput {
                gemm(m: V, n: D, k: G, a: s, lda: G, b: weightIH.base, ldb: D, beta: 1, c: dInput, ldc: D, pool: pool)
            }
        } else if let dInput {
            gemm(m: T * B, n: D, k: G, a: dG, lda: G, b: weightIH.base, ldb: D, c: dInput, ldc: D, pool: pool)
        }
    }
}

/// `L` recurrent layers stacked: layer 0 reads the input `[T][B][D]`, layer `l > 0` reads the outputs of `l − 1`.
///
/// States are `[L][B][H]` as PyTorch's `h0`/`c0`. Parameters `<prefix>.<l>.{weightIH, weightHH, biasIH, biasHH}`.
public final class RecurrentStack {
    public let kind: CellKind
    public let layers: [RecurrentLayer]
    public let inputSize: Int, hiddenSize: Int
    private var dBetween = Scratch(), finalH = Scratch(), finalC = Scratch(), dH0 = Scratch(), dC0 = Scratch()
    private var droppedOutputs = Scratch()
    private var masks: UnsafePointer<Float>?
    private var steps = 0, batch = 0

    /// The parameter layout of `count` layers under `prefix`.
    public static func layout(prefix: String, kind: CellKind, inputSize: Int, hiddenSize: Int, count: Int)
        -> ParameterLayout {
        (0..<count).flatMap { l in
            RecurrentLayer.layout(prefix: prefix, index: l, kind: kind, inputSize: l == 0 ? inputSize : hiddenSize,
                                  hiddenSize: hiddenSize)
        }
    }

    /// Binds `count` layers under `prefix` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, kind: CellKind, inputSize: Int, hiddenSize: Int,
                count: Int) throws {
        precondition(count >= 1, "a recurrent stack needs at least one layer")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        layers = try (0..<count).map { l in
            try RecurrentLayer(parameters, prefix: prefix, index: l, kind: kind,
                               inputSize: l == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize)
        }
    }

    /// The outputs of the top layer `[T][B][H]` after forward.
    public var output: UnsafeMutablePointer<Float> { layers[layers.count - 1].output }
    /// The final hidden states `[L][B][H]` after forward.
    public var finalHidden: UnsafeMutablePointer<Float> { finalH.buffer.base }
    /// The final cell states `[L][B][H]` after forward (LSTM only).
    public var finalCell: UnsafeMutablePointer<Float> { finalC.buffer.base }
    /// The gradient of `h0` `[L][B][H]` after backward.
    public var dInitialHidden: UnsafeMutablePointer<Float> { dH0.buffer.base }
    /// The gradient of `c0` `[L][B][H]` after backward (LSTM only).
    public var dInitialCell: UnsafeMutablePointer<Float> { dC0.buffer.base }

    /// Runs all layers; `h0`, `c0` are `[L][B][H]` or nil for zeros. `input` must stay valid until backward.
    /// - Parameter dropoutMasks: `[L−1][T][B][H]` masks (see `Dropout`) applied to the outputs of layers `0…L−2`
    ///   before the layer above reads them (Zaremba et al. 2014's dropout between layers, never on the recurrent
    ///   connections), or nil for none; must stay valid until backward.
    public func forward(_ input: UnsafePointer<Float>, steps T: Int, batch B: Int, h0: UnsafePointer<Float>?,
                        c0: UnsafePointer<Float>?, dropoutMasks: UnsafePointer<Float>? = nil,
                        pool: ThreadPool = .shared) {
        forward(steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropoutMasks, pool: pool) { h0, c0 in
            layers[0].forward(input, steps: T, batch: B, h0: h0, c0: c0, pool: pool)
        }
    }

    /// Runs all layers on the rows `table[ids[n]]` (an embedding lookup) without gathering them; see
    /// ``RecurrentLayer/forward(tokens:table:vocabulary:steps:batch:h0:c0:pool:)``. Backward's `dInput` is then the
    /// table's gradient `[V][D]`, accumulated into. `ids` and `table` must stay valid until backward.
    public func forward(tokens ids: UnsafePointer<Int32>, table: UnsafePointer<Float>, vocabulary V: Int,
                        steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                        dropoutMasks: UnsafePointer<Float>? = nil, pool: ThreadPool = .shared) {
        forward(steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropoutMasks, pool: pool) { h0, c0 in
            layers[0].forward(tokens: ids, table: table, vocabulary: V, steps: T, batch: B, h0: h0, c0: c0,
                              pool: pool)
        }
    }

    private func forward(steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                         dropoutMasks: UnsafePointer<Float>?, pool: ThreadPool,
                         first: (UnsafePointer<Float>?, UnsafePointer<Float>?) -> Void) {
        steps = T
        batch = B
        masks = dropoutMasks
        let H = hiddenSize, L = layers.count, N = T * B
        let fh = finalH.pointer(L * B * H), fc = finalC.pointer(L * B * H)
        let dropped = dropoutMasks == nil ? nil : droppedOutputs.pointer((L - 1) * N * H)
        var x: UnsafePointer<Float>? = nil  // the input of layer l > 0
        for (l, layer) in layers.enumerated() {
            if l == 0 {
                first(h0, c0)
            } else {
                layer.forward(x!, steps: T, batch: B, h0: h0.map { $0 + l * B * H }, c0: c0.map { $0 + l * B * H },
                              pool: pool)
            }
            fh.advanced(by: l * B * H).update(from: layer.finalHidden, count: B * H)
            if kind.hasCellState { fc.advanced(by: l * B * H).update(from: layer.finalCell, count: B * H) }
            x = UnsafePointer(layer.output)
            if let dropoutMasks, let dropped, l < L - 1 {
                let y = dropped + l * N * H
                Dropout.forward(x!, mask: dropoutMasks + l * N * H, y, count: N * H, pool: pool)
                x = UnsafePointer(y)
            }
        }
    }

    /// Backpropagates through all layers and steps; see ``RecurrentLayer/backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)``.
    /// - Parameters: `dOutput` `[T][B][H]` of the top layer; `dFinalHidden`, `dFinalCell` `[L][B][H]` or nil;
    ///   `dInput` `[T][B][D]` written, or nil (after a forward from tokens: the table's gradient `[V][D]`,
    ///   accumulated into).
    public func backward(dOutput: UnsafePointer<Float>, dFinalHidden: UnsafePointer<Float>? = nil,
                         dFinalCell: UnsafePointer<Float>? = nil, dInput: UnsafeMutablePointer<Float>?,
                         pool: ThreadPool = .shared) {
        let T = steps, B = batch, H = hiddenSize, L = layers.count
        let dh0 = dH0.pointer(L * B * H), dc0 = dC0.pointer(L * B * H)
        // Two halves: the gradient flowing into layer l's output, and the one layer l writes for layer l − 1.
        let between = dBetween.pointer(2 * T * B * H)
        var dOut = dOutput
        for l in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[l]
            let dIn = l == 0 ? dInput : between + (l % 2) * T * B * H
            layer.backward(dOutput: dOut, dFinalHidden: dFinalHidden.map { $0 + l * B * H },
                           dFinalCell: dFinalCell.map { $0 + l * B * H }, dInput: dIn, pool: pool)
            dh0.advanced(by: l * B * H).update(from: layer.dInitialHidden, count: B * H)
            if kind.hasCellState { dc0.advanced(by: l * B * H).update(from: layer.dInitialCell, count: B * H) }
            if let dIn {
                if l > 0, let masks {
                    Dropout.backward(dOutput: dIn, mask: masks + (l - 1) * T * B * H, dInput: dIn, count: T * B * H,
                                     pool: pool)
                }
                dOut = UnsafePointer(dIn)
            }
        }
    }
}
