import QuillTensor

// Letters: `T` steps, `B` batch, `D` input width, `H` hidden, `G = gates·H` (see `RecurrentCell.swift`).
// Layout: time-major `[T][B][…]`, row-major. Weights as PyTorch: `weightIH` `[G][D]`, `weightHH` `[G][H]`, `biasIH`
// and `biasHH` `[G]`.

/// One recurrent layer: the unroll of its kind's ``RecurrentCell`` over `T` steps, forward and backward through time
/// (or one step at a time, see ``beginSteps(capacity:batch:h0:c0:pool:)``). Written once for every cell.
///
/// Parameters `<prefix>.<k>.weightIH` `[G][D]`, `.weightHH` `[G][H]`, `.biasIH` `[G]`, `.biasHH` `[G]` — PyTorch's
/// `weight_ih_l<k>`, `weight_hh_l<k>`, `bias_ih_l<k>`, `bias_hh_l<k>` with the same layouts.
///
/// Forward projects the inputs of all `T` steps with one GEMM (`x·Wᵢₕᵀ` for all `T·B` rows, plus the cell's input
/// bias), so only the cell's step (`h·Wₕₕᵀ` as a packed GEMM, then the fused kernel) runs per step. Caches, sized for
/// `(T, B)` and reused across calls of that size or smaller: the gate activations `[T][B][G]` (GRU also the hidden
/// projections `[T][B][G]`), the states `h` `[T+1][B][H]` (index 0 the initial state; `1...T` is the output) and for
/// the LSTM `c` `[T+1][B][H]`. Backward reads these and the input.
public final class RecurrentLayer {
    public let kind: CellKind
    /// The cell of ``kind``: the one step this layer unrolls.
    public let cell: any RecurrentCell.Type
    public let inputSize: Int, hiddenSize: Int
    public let weightIH: Tensor, dWeightIH: Tensor, weightHH: Tensor, dWeightHH: Tensor
    public let biasIH: Tensor, dBiasIH: Tensor, biasHH: Tensor, dBiasHH: Tensor
    /// The arithmetic of every product (the input projection, each step's `Wₕₕ` forward and back, the weight and
    /// input gradients); float32 by default. The cell's step itself is float32 in both.
    public var precision = Precision.float32

    private var gatesCache = Scratch(), hiddenProjection = Scratch(), hCache = Scratch(), cCache = Scratch()
    private var dGates = Scratch(), dHiddenProjection = Scratch(), dH = Scratch(), dHTotal = Scratch()
    private var dC = Scratch(), dCPrev = Scratch(), biasSums = Scratch(), tokenTable = Scratch()
    private var biasSum = Scratch(), stepInputs = Scratch()
    private var steps = 0, batch = 0
    /// The per-step API's state: its capacity, `Wₕₕᵀ` packed for its steps, and the next step back.
    private var stepCapacity = 0, backwardCursor = 0
    private var packedForward: PackedMatrix?, packedBackward: PackedMatrix?
    /// The per-step API's `Wᵢₕᵀ` (forward) and `Wᵢₕ` (the input's gradient), packed once per sequence.
    private var packedInput: PackedMatrix?, packedInputBackward: PackedMatrix?
    /// Storage reused by every packing of `Wₕₕᵀ` (forward) and `Wₕₕ` (backward) (see `PackedMatrix.packing`).
    private var hiddenPacking: PackedMatrix?, hiddenBackwardPacking: PackedMatrix?
    private var input: UnsafePointer<Float>?
    /// Set by ``forward(tokens:table:vocabulary:steps:batch:h0:c0:pool:)``: the input rows are `table[ids[n]]`.
    private var tokens: (ids: UnsafePointer<Int32>, table: UnsafePointer<Float>, vocabulary: Int)?
    private var tableRows = [Int32]()

    /// The parameter names of layer `index` under `prefix`, with their shapes; `reverse` names the reversed-time
    /// direction of a ``BidirectionalLayer`` (`<prefix>.<k>.reverse.weightIH`, … as PyTorch's
    /// `weight_ih_l<k>_reverse`, …).
    public static func layout(prefix: String, index: Int, kind: CellKind, inputSize: Int, hiddenSize: Int,
                              reverse: Bool = false) -> ParameterLayout {
        let g = kind.gates * hiddenSize, p = "\(prefix).\(index).\(reverse ? "reverse." : "")"
        return [(p + "weightIH", [g, inputSize]), (p + "weightHH", [g, hiddenSize]), (p + "biasIH", [g]),
                (p + "biasHH", [g])]
    }

    /// Binds layer `index` under `prefix` in `parameters` (`reverse`: the names of a reversed-time direction, see
    /// ``layout(prefix:index:kind:inputSize:hiddenSize:reverse:)``).
    public init(_ parameters: ParameterSet, prefix: String, index: Int, kind: CellKind, inputSize: Int,
                hiddenSize: Int, reverse: Bool = false) throws {
        self.kind = kind
        cell = kind.cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let g = kind.gates * hiddenSize, p = "\(prefix).\(index).\(reverse ? "reverse." : "")"
        (weightIH, dWeightIH) = try parameters.views(p + "weightIH", [g, inputSize])
        (weightHH, dWeightHH) = try parameters.views(p + "weightHH", [g, hiddenSize])
        (biasIH, dBiasIH) = try parameters.views(p + "biasIH", [g])
        (biasHH, dBiasHH) = try parameters.views(p + "biasHH", [g])
    }

    /// The outputs `h₁…h_T` `[T][B][H]` of the last forward (valid until the next forward).
    public var output: UnsafeMutablePointer<Float> { hCache.buffer.base + batch * hiddenSize }
    /// The hidden states `h₀…h_T` `[T+1][B][H]` of the last forward (`h₀` the initial state).
    public var hiddenStates: UnsafeMutablePointer<Float> { hCache.buffer.base }
    /// The cell states `c₀…c_T` `[T+1][B][H]` of the last forward (LSTM only).
    public var cellStates: UnsafeMutablePointer<Float> { cCache.buffer.base }
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
             bias: inputBias(), pool: pool, precision: precision)
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
             bias: bias, pool: pool, precision: precision)
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

    /// The bias `[G]` that enters with the input projection (added in the GEMM's write-back): the cell's rule,
    /// ``RecurrentCell/inputBias(biasIH:biasHH:into:count:)``.
    private func inputBias() -> UnsafePointer<Float> {
        let G = cell.gates * hiddenSize, sum = biasSum.pointer(G)
        cell.inputBias(biasIH: biasIH.base, biasHH: biasHH.base, into: sum, count: G)
        return UnsafePointer(sum)
    }

    /// Sizes the caches for `T` steps of `B` rows and writes the initial states into them.
    private func start(steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?) {
        let H = hiddenSize, G = cell.gates * H
        steps = T
        batch = B
        let h = hCache.pointer((T + 1) * B * H)
        _ = hiddenProjection.pointer(cell.addsHiddenIntoGates ? 0 : T * B * G)
        if let h0 { h.update(from: h0, count: B * H) } else { h.update(repeating: 0, count: B * H) }
        if cell.hasCellState {
            let c = cCache.pointer((T + 1) * B * H)
            if let c0 { c.update(from: c0, count: B * H) } else { c.update(repeating: 0, count: B * H) }
        }
    }

    /// The buffers of step `t` (0-based: it reads state `t` and writes state `t + 1`) in the caches.
    private func stepBuffers(_ t: Int) -> CellForward {
        let H = hiddenSize, G = cell.gates * H, B = batch
        let h = hCache.buffer.base, c = cell.hasCellState ? cCache.buffer.base : h
        let g = gatesCache.buffer.base + t * B * G
        return CellForward(gates: g, hiddenGates: cell.addsHiddenIntoGates ? g : hiddenProjection.buffer.base + t * B * G,
                           hiddenBias: cell.hiddenBias(biasHH.base), hPrev: h + t * B * H, h: h + (t + 1) * B * H,
                           cPrev: c + t * B * H, c: c + (t + 1) * B * H, batch: B, hidden: H)
    }

    /// The recurrence over `T` steps, from the input projections already in the gates cache.
    private func recur(steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                       pool: ThreadPool) {
        let H = hiddenSize, G = cell.gates * H
        start(steps: T, batch: B, h0: h0, c0: c0)
        // `Wₕₕᵀ` packed once for the T per-step GEMMs (the weights do not change within a window); bit-identical
        // to the unpacked call.
        let whh = PackedMatrix.packing(hiddenPacking, transposed: true, rows: H, columns: G, b: weightHH.base, ldb: H,
                                       precision: precision, pool: pool)
        hiddenPacking = whh
        for t in 0..<T {
            cell.forward(stepBuffers(t), multiply: { h, out, bias, accumulate in
                gemm(m: B, a: h, lda: H, packedB: whh, beta: accumulate ? 1 : 0, c: out, ldc: G, bias: bias,
                     pool: pool)
            }, pool: pool)
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
        backward(dOutput: dOutput, dFinalHidden: dFinalHidden, dFinalCell: dFinalCell, lengths: nil, dInput: dInput,
                 pool: pool)
    }

    /// ``backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)`` where row `b`'s final states are those after
    /// `lengths[b]` steps (`1...T`): `dFinalHidden[b]`, `dFinalCell[b]` enter there (a padded batch; see
    /// ``BidirectionalLayer``). nil lengths: all rows end at `T`.
    func backward(dOutput: UnsafePointer<Float>, dFinalHidden: UnsafePointer<Float>?,
                  dFinalCell: UnsafePointer<Float>?, lengths: UnsafePointer<Int32>?,
                  dInput: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        guard input != nil || tokens != nil else { preconditionFailure("RecurrentLayer.backward before forward") }
        let T = steps, B = batch, H = hiddenSize
        beginBackward(dFinalHidden: lengths == nil ? dFinalHidden : nil, dFinalCell: lengths == nil ? dFinalCell : nil,
                      pool: pool)
        for t in stride(from: T - 1, through: 0, by: -1) {
            if let lengths { inject(dFinalHidden, dFinalCell, atStep: t, lengths: lengths) }
            backStep(t, dOutput: dOutput + t * B * H, pool: pool)
        }
        finishBackward(dInput: dInput, pool: pool)
    }

    /// Zeroes (or sets to `dFinalHidden`, `dFinalCell`) the carried `dh`, `dc` and packs `Wₕₕ` for the steps back.
    private func beginBackward(dFinalHidden: UnsafePointer<Float>?, dFinalCell: UnsafePointer<Float>?,
                               pool: ThreadPool) {
        let T = steps, B = batch, H = hiddenSize, G = cell.gates * H
        _ = dGates.pointer(T * B * G)
        _ = dHiddenProjection.pointer(cell.addsHiddenIntoGates ? 0 : T * B * G)
        _ = dHTotal.pointer(B * H)
        let dh = dH.pointer(B * H), dc = dC.pointer(B * H)
        _ = dCPrev.pointer(B * H)
        if let dFinalHidden { dh.update(from: dFinalHidden, count: B * H) } else { dh.update(repeating: 0, count: B * H) }
        if cell.hasCellState {
            if let dFinalCell { dc.update(from: dFinalCell, count: B * H) } else { dc.update(repeating: 0, count: B * H) }
        }
        hiddenBackwardPacking = PackedMatrix.packing(hiddenBackwardPacking, rows: G, columns: H, b: weightHH.base,
                                                     ldb: H, precision: precision, pool: pool)
        packedBackward = hiddenBackwardPacking  // dh = dGates·Wₕₕ
        backwardCursor = T
    }

    /// Adds `dFinalHidden[b]` (and `dFinalCell[b]`) into the carried gradients of the rows whose sequence ends after
    /// step `t`.
    private func inject(_ dFinalHidden: UnsafePointer<Float>?, _ dFinalCell: UnsafePointer<Float>?, atStep t: Int,
                        lengths: UnsafePointer<Int32>) {
        let H = hiddenSize, dh = dH.buffer.base, dc = dC.buffer.base
        for b in 0..<batch where Int(lengths[b]) == t + 1 {
            if let dFinalHidden { for j in 0..<H { dh[b * H + j] += dFinalHidden[b * H + j] } }
            if cell.hasCellState, let dFinalCell { for j in 0..<H { dc[b * H + j] += dFinalCell[b * H + j] } }
        }
    }

    /// Step `t` back: `dhₜ = dOutputₜ + dh`, the cell's backward into `dGates[t]` (and `dHiddenGates[t]`), which
    /// leaves the gradient of state `t` in `dh` (and `dc`).
    private func backStep(_ t: Int, dOutput dOut: UnsafePointer<Float>, pool: ThreadPool) {
        let B = batch, H = hiddenSize, G = cell.gates * H
        let dh = dH.buffer.base, dhTotal = dHTotal.buffer.base
        for i in 0..<(B * H) { dhTotal[i] = dOut[i] + dh[i] }
        let dg = dGates.buffer.base + t * B * G
        let dgh = cell.addsHiddenIntoGates ? dg : dHiddenProjection.buffer.base + t * B * G
        // `dc` and `dcPrev` alternate between two buffers; the gradient of state t ends in `dC`.
        let dc = dC.buffer.base, dcPrev = dCPrev.buffer.base, whh = packedBackward!
        cell.backward(CellBackward(forward: stepBuffers(t), dH: dhTotal, dC: dc, dGates: dg, dHiddenGates: dgh,
                                   dHPrev: dh, dCPrev: dcPrev),
                      multiply: { dGates, dHidden, accumulate in
                          gemm(m: B, a: dGates, lda: G, packedB: whh, beta: accumulate ? 1 : 0, c: dHidden, ldc: H,
                               pool: pool)
                      }, pool: pool)
        if cell.hasCellState { swap(&dC, &dCPrev) }
        backwardCursor = t
    }

    /// After the last step back: the weight and bias gradients of all steps, one GEMM each, and `dInput` (nil to
    /// skip it, or when each step's was written already).
    private func finishBackward(dInput: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let T = steps, B = batch, H = hiddenSize, G = cell.gates * H, D = inputSize
        let h = hCache.buffer.base, dG = dGates.buffer.base
        let dGh = cell.addsHiddenIntoGates ? dG : dHiddenProjection.buffer.base
        packedBackward = nil
        if let input {
            gemm(transposeA: true, m: G, n: D, k: T * B, a: dG, lda: G, b: input, ldb: D, beta: 1,
                 c: dWeightIH.base, ldc: D, pool: pool, precision: precision)
        }
        gemm(transposeA: true, m: G, n: H, k: T * B, a: dGh, lda: G, b: h, ldb: H, beta: 1, c: dWeightHH.base,
             ldc: H, pool: pool, precision: precision)
        if cell.addsHiddenIntoGates {
            // Both biases enter every gate the same way, so their gradients are the same column sums: one pass.
            let sums = biasSums.pointer(G)
            sums.update(repeating: 0, count: G)
            Bias.accumulateColumnSums(of: dG, rows: T * B, columns: G, into: sums, pool: pool)
            for j in 0..<G {
                dBiasIH.base[j] += sums[j]
                dBiasHH.base[j] += sums[j]
            }
        } else {
            Bias.accumulateColumnSums(of: dG, rows: T * B, columns: G, into: dBiasIH.base, pool: pool)
            Bias.accumulateColumnSums(of: dGh, rows: T * B, columns: G, into: dBiasHH.base, pool: pool)
        }
        if let tokens {
            // Through the table: `S = Σ_{n: ids[n] = v} dGates[n]` `[V][G]`, then `dWᵢₕ += Sᵀ·table` and
            // `dTable += S·Wᵢₕ` (V rows instead of T·B).
            let V = tokens.vocabulary, s = tokenTable.pointer(V * G)
            s.update(repeating: 0, count: V * G)
            EmbeddingLookup.scatterAdd(dOutput: dG, ids: tokens.ids, count: T * B, dTable: s, vocabulary: V,
                                       dimension: G, pool: pool)
            gemm(transposeA: true, m: G, n: D, k: V, a: s, lda: G, b: tokens.table, ldb: D, beta: 1,
                 c: dWeightIH.base, ldc: D, pool: pool, precision: precision)
            if let dInput {
                gemm(m: V, n: D, k: G, a: s, lda: G, b: weightIH.base, ldb: D, beta: 1, c: dInput, ldc: D, pool: pool,
                     precision: precision)
            }
        } else if let dInput {
            gemm(m: T * B, n: D, k: G, a: dG, lda: G, b: weightIH.base, ldb: D, c: dInput, ldc: D, pool: pool,
                 precision: precision)
        }
    }
}

// MARK: - One step at a time

extension RecurrentLayer {
    /// Starts a sequence run one step at a time, for a caller that must interleave the steps with other work (an
    /// attention decoder feeding each step's attention into the next step's input).
    ///
    ///     layer.beginSteps(capacity: T, batch: B, h0: nil, c0: nil)
    ///     for t in 0..<T { let h = layer.step(x[t]) … }            // h: [B][H]
    ///     layer.beginBackwardSteps(dFinalHidden: nil, dFinalCell: nil)
    ///     for t in (0..<T).reversed() { layer.backwardStep(dOutput: dh[t], dInput: dx[t]) }
    ///
    /// The steps fill the same caches as ``forward(_:steps:batch:h0:c0:pool:)`` (the input rows are copied in), so
    /// after them ``output``, ``finalHidden``, ``finalCell`` and even the whole-window
    /// ``backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)`` work as after a forward of ``stepCount`` steps.
    /// - Parameters:
    ///   - capacity: the most steps that will run (the caches are sized once, so step pointers stay valid).
    ///   - h0, c0: `[B][H]` initial states, nil for zeros (`c0`: LSTM only).
    public func beginSteps(capacity: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                           pool: ThreadPool = .shared) {
        let H = hiddenSize, G = cell.gates * H, D = inputSize
        precondition(capacity >= 1 && B >= 1, "beginSteps needs a positive capacity and batch")
        _ = gatesCache.pointer(capacity * B * G)
        input = UnsafePointer(stepInputs.pointer(capacity * B * D))
        tokens = nil
        // Sized for the capacity, then started empty.
        start(steps: capacity, batch: B, h0: h0, c0: c0)
        steps = 0
        stepCapacity = capacity
        hiddenPacking = PackedMatrix.packing(hiddenPacking, transposed: true, rows: H, columns: G, b: weightHH.base,
                                             ldb: H, precision: precision, pool: pool)
        packedForward = hiddenPacking
        packedInput = PackedMatrix.packing(packedInput, transposed: true, rows: D, columns: G, b: weightIH.base, ldb: D,
                                           precision: precision, pool: pool)
    }

    /// The steps run since ``beginSteps(capacity:batch:h0:c0:pool:)``.
    public var stepCount: Int { steps }

    /// Whether ``backwardStep(dOutput:dInput:pool:)`` has stepped back through step 0.
    var isBackAtStart: Bool { backwardCursor == 0 && packedBackward == nil }

    /// Runs one step on `x` `[B][D]` (copied; need not stay valid) and returns its hidden state `[B][H]`, valid until
    /// the next ``beginSteps(capacity:batch:h0:c0:pool:)`` or forward. The cell state is at ``finalCell``.
    @discardableResult
    public func step(_ x: UnsafePointer<Float>, pool: ThreadPool = .shared) -> UnsafeMutablePointer<Float> {
        precondition(steps < stepCapacity, "step \(steps + 1) is beyond the capacity \(stepCapacity) of beginSteps")
        let t = steps, B = batch, H = hiddenSize, G = cell.gates * H, D = inputSize
        let xt = stepInputs.buffer.base + t * B * D
        xt.update(from: x, count: B * D)
        gemm(m: B, a: xt, lda: D, packedB: packedInput!, c: gatesCache.buffer.base + t * B * G, ldc: G,
             bias: inputBias(), pool: pool)
        let whh = packedForward!
        cell.forward(stepBuffers(t), multiply: { h, out, bias, accumulate in
            gemm(m: B, a: h, lda: H, packedB: whh, beta: accumulate ? 1 : 0, c: out, ldc: G, bias: bias, pool: pool)
        }, pool: pool)
        steps = t + 1
        return hCache.buffer.base + (t + 1) * B * H
    }

    /// Starts stepping back from the last step run: `dFinalHidden`, `dFinalCell` `[B][H]` are extra gradients of the
    /// last states, nil for none.
    public func beginBackwardSteps(dFinalHidden: UnsafePointer<Float>?, dFinalCell: UnsafePointer<Float>?,
                                   pool: ThreadPool = .shared) {
        precondition(steps > 0, "beginBackwardSteps before any step")
        beginBackward(dFinalHidden: dFinalHidden, dFinalCell: dFinalCell, pool: pool)
        let G = cell.gates * hiddenSize
        packedInputBackward = PackedMatrix.packing(packedInputBackward, rows: G, columns: inputSize, b: weightIH.base,
                                                   ldb: inputSize, precision: precision, pool: pool)
    }

    /// Steps back through the latest step not yet stepped back: `dOutput` `[B][H]` is the gradient of that step's
    /// output from outside the layer; WRITES `dInput` `[B][D]` (nil to skip). After the first step has been stepped
    /// back, the parameter gradients of all steps are ADDED and the initial states' gradients are in
    /// ``dInitialHidden`` / ``dInitialCell``.
    public func backwardStep(dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
                             pool: ThreadPool = .shared) {
        precondition(backwardCursor > 0 && packedBackward != nil, "backwardStep without beginBackwardSteps")
        let t = backwardCursor - 1, B = batch, G = cell.gates * hiddenSize, D = inputSize
        backStep(t, dOutput: dOutput, pool: pool)
        if let dInput {
            gemm(m: B, a: dGates.buffer.base + t * B * G, lda: G, packedB: packedInputBackward!, c: dInput, ldc: D,
                 pool: pool)
        }
        if t == 0 { finishBackward(dInput: nil, pool: pool) }
    }
}
