import QuillTensor

// Letters: `B` batch, `D` input width, `H` hidden, `G = gates·H` (4H LSTM, 3H GRU, H Elman RNN).
// Layout: row-major `[B][…]`; weights as PyTorch: `W_ih` `[G][D]`, `W_hh` `[G][H]`, `b_ih`, `b_hh` `[G]`, gate blocks
// in PyTorch's orders (LSTM i,f,g,o from `LSTMCell.Gate`; GRU r,z,n from `GRUCell.Gate`).
//
// This file is the one place that knows how the kinds differ. Everything else (the unroll over time in
// `RecurrentLayer`, the inference stepper, the bfloat16 scorer) asks a cell through `CellKind.cell`.

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

    /// The cell that runs this kind's step.
    public var cell: any RecurrentCell.Type {
        switch self {
        case .lstm: LSTM.self
        case .gru: GRU.self
        case .rnnTanh: TanhRNN.self
        }
    }

    /// Gate blocks of `H` per row: `G = gates·H`.
    public var gates: Int { cell.gates }

    /// Whether the state has a cell `c` beside `h` (LSTM only).
    public var hasCellState: Bool { cell.hasCellState }
}

/// An engine's product by `Wₕₕ` for one step: `out[B][G] = (accumulate ? out : 0) + h·Wₕₕᵀ + bias` (`bias` `[G]` or
/// nil), where `h` is `[B][H]`.
///
/// Training supplies a packed float32 GEMM, the stepper a float32/int8 GEMV, the scorer a bfloat16 GEMM. An engine
/// may fold the input projection into the same call when ``RecurrentCell/addsHiddenIntoGates`` (the stepper's single
/// GEMV over `[x; h]`): `out` then need not hold the input projection beforehand.
public typealias HiddenMultiply = (_ h: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                   _ bias: UnsafePointer<Float>?, _ accumulate: Bool) -> Void

/// An engine's product of a step's gate gradients by `Wₕₕ`: `dH[B][H] = (accumulate ? dH : 0) + dGates·Wₕₕ`, with
/// `dGates` `[B][G]`.
public typealias HiddenMultiplyBackward = (_ dGates: UnsafePointer<Float>, _ dH: UnsafeMutablePointer<Float>,
                                           _ accumulate: Bool) -> Void

/// The buffers of one forward step of `B` rows.
///
/// `gates` `[B][G]` holds the input projection on entry (`x·Wᵢₕᵀ` plus ``RecurrentCell`` `inputBias`) and the gate
/// activations on exit (what backward reads). `hiddenGates` `[B][G]` receives `h·Wₕₕᵀ + bₕₕ` for a cell that keeps it
/// apart (the GRU; backward reads it too), with `hiddenBias` (``RecurrentCell/hiddenBias(_:)``); other cells ignore
/// both. `cPrev` and `c` are ignored by cells without a cell state (pass any pointer). No output may overlap an input.
public struct CellForward {
    public var gates: UnsafeMutablePointer<Float>
    public var hiddenGates: UnsafeMutablePointer<Float>
    public var hiddenBias: UnsafePointer<Float>?
    public var hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>
    public var cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    public var batch: Int, hidden: Int

    public init(gates: UnsafeMutablePointer<Float>, hiddenGates: UnsafeMutablePointer<Float>,
                hiddenBias: UnsafePointer<Float>?, hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, batch: Int, hidden: Int) {
        self.gates = gates
        self.hiddenGates = hiddenGates
        self.hiddenBias = hiddenBias
        self.hPrev = hPrev
        self.h = h
        self.cPrev = cPrev
        self.c = c
        self.batch = batch
        self.hidden = hidden
    }
}

/// The buffers of one backward step of `B` rows: the forward step's buffers (as left by the forward), the incoming
/// gradients, and what the step WRITES.
///
/// `dH` `[B][H]` is the total gradient of `h` (from the output and from the next step); `dC` that of `c` from the next
/// step (cells with a cell state; nil for none). Written: `dGates` `[B][G]` (the gradient of the gates'
/// pre-activations, i.e. of the input projection), `dHiddenGates` `[B][G]` (of the hidden projection, for a cell that
/// keeps it apart), `dHPrev` `[B][H]` (complete: through `Wₕₕ` and any direct path) and `dCPrev` `[B][H]`.
public struct CellBackward {
    public var forward: CellForward
    public var dH: UnsafePointer<Float>, dC: UnsafePointer<Float>?
    public var dGates: UnsafeMutablePointer<Float>, dHiddenGates: UnsafeMutablePointer<Float>
    public var dHPrev: UnsafeMutablePointer<Float>, dCPrev: UnsafeMutablePointer<Float>

    public init(forward: CellForward, dH: UnsafePointer<Float>, dC: UnsafePointer<Float>?,
                dGates: UnsafeMutablePointer<Float>, dHiddenGates: UnsafeMutablePointer<Float>,
                dHPrev: UnsafeMutablePointer<Float>, dCPrev: UnsafeMutablePointer<Float>) {
        self.forward = forward
        self.dH = dH
        self.dC = dC
        self.dGates = dGates
        self.dHiddenGates = dHiddenGates
        self.dHPrev = dHPrev
        self.dCPrev = dCPrev
    }
}

/// One time step of one recurrence kind: its gate count, bias rule, state shape, and step forward and backward over
/// an engine's product by `Wₕₕ`.
///
/// A step is: the hidden projection through the engine's ``HiddenMultiply`` (added into the gates, or into its own
/// buffer), then the fused kernel of `QuillTensor` (`LSTMCell`, `GRUCell`, `Tanh`). Backward is the kernel's backward,
/// then `dh` through `Wₕₕ` with the cell's write/accumulate rule.
///
/// The bias rule follows from ``addsHiddenIntoGates``: `bₕₕ` travels with the hidden projection, so where that adds
/// into the gates both biases fold into the input projection (`bᵢₕ + bₕₕ`, added once for all steps), and where it
/// stays apart (the GRU, whose `r` gates only the hidden part of `n`) `bₕₕ` is added with it at every step.
public protocol RecurrentCell {
    /// The kind this cell runs.
    static var kind: CellKind { get }
    /// Gate blocks of `H` per row: `G = gates·H`.
    static var gates: Int { get }
    /// Whether the state has a cell `c` beside `h`.
    static var hasCellState: Bool { get }
    /// Whether `h·Wₕₕᵀ` adds into the gates (LSTM, RNN) or goes into ``CellForward/hiddenGates`` (GRU).
    static var addsHiddenIntoGates: Bool { get }

    /// One step forward: the hidden projection through `multiply`, then the fused kernel; see ``CellForward``.
    static func forward(_ step: CellForward, multiply: HiddenMultiply, pool: ThreadPool)

    /// One step backward (see ``CellBackward``): the fused kernel's backward, then `dHPrev` through `multiply`.
    static func backward(_ step: CellBackward, multiply: HiddenMultiplyBackward, pool: ThreadPool)
}

extension RecurrentCell {
    /// Writes the bias `[G]` that enters with the input projection: `bᵢₕ + bₕₕ`, or `bᵢₕ` alone when the hidden
    /// projection stays apart (it then carries `bₕₕ`, see ``hiddenBias(_:)``).
    public static func inputBias(biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>,
                                 into bias: UnsafeMutablePointer<Float>, count G: Int) {
        if addsHiddenIntoGates {
            for j in 0..<G { bias[j] = biasIH[j] + biasHH[j] }
        } else {
            bias.update(from: biasIH, count: G)
        }
    }

    /// The bias the engine adds with each step's hidden projection: `bₕₕ` when the projection stays apart, else nil
    /// (it is in ``inputBias(biasIH:biasHH:into:count:)``).
    public static func hiddenBias(_ biasHH: UnsafePointer<Float>) -> UnsafePointer<Float>? {
        addsHiddenIntoGates ? nil : biasHH
    }

    /// The gradient of the hidden projection in a ``CellBackward``: `dGates` when the projection adds into the gates.
    public static func dHiddenProjection(_ step: CellBackward) -> UnsafeMutablePointer<Float> {
        addsHiddenIntoGates ? step.dGates : step.dHiddenGates
    }
}

/// The LSTM cell: gates `i, f, g, o` (`G = 4H`), state `(h, c)`.
public enum LSTM: RecurrentCell {
    public static var kind: CellKind { .lstm }
    public static var gates: Int { 4 }
    public static var hasCellState: Bool { true }
    public static var addsHiddenIntoGates: Bool { true }

    public static func forward(_ s: CellForward, multiply: HiddenMultiply, pool: ThreadPool) {
        multiply(s.hPrev, s.gates, nil, true)
        LSTMCell.forward(gates: s.gates, cPrev: s.cPrev, c: s.c, h: s.h, batch: s.batch, hidden: s.hidden, pool: pool)
    }

    public static func backward(_ s: CellBackward, multiply: HiddenMultiplyBackward, pool: ThreadPool) {
        let f = s.forward
        LSTMCell.backward(gates: f.gates, cPrev: f.cPrev, c: f.c, dH: s.dH, dC: s.dC, dGates: s.dGates,
                          dCPrev: s.dCPrev, batch: f.batch, hidden: f.hidden, pool: pool)
        multiply(s.dGates, s.dHPrev, false)
    }
}

/// The GRU cell (PyTorch's variant): gates `r, z, n` (`G = 3H`), state `h`; the hidden projection stays apart.
public enum GRU: RecurrentCell {
    public static var kind: CellKind { .gru }
    public static var gates: Int { 3 }
    public static var hasCellState: Bool { false }
    public static var addsHiddenIntoGates: Bool { false }

    public static func forward(_ s: CellForward, multiply: HiddenMultiply, pool: ThreadPool) {
        multiply(s.hPrev, s.hiddenGates, s.hiddenBias, false)
        GRUCell.forward(gx: s.gates, gh: s.hiddenGates, hPrev: s.hPrev, h: s.h, batch: s.batch, hidden: s.hidden,
                        pool: pool)
    }

    public static func backward(_ s: CellBackward, multiply: HiddenMultiplyBackward, pool: ThreadPool) {
        let f = s.forward
        GRUCell.backward(gx: f.gates, gh: f.hiddenGates, hPrev: f.hPrev, dH: s.dH, dGx: s.dGates,
                         dGh: s.dHiddenGates, dHPrev: s.dHPrev, batch: f.batch, hidden: f.hidden, pool: pool)
        multiply(s.dHiddenGates, s.dHPrev, true)
    }
}

/// The Elman RNN cell with `tanh`: one gate block (`G = H`), state `h`.
public enum TanhRNN: RecurrentCell {
    public static var kind: CellKind { .rnnTanh }
    public static var gates: Int { 1 }
    public static var hasCellState: Bool { false }
    public static var addsHiddenIntoGates: Bool { true }

    public static func forward(_ s: CellForward, multiply: HiddenMultiply, pool: ThreadPool) {
        multiply(s.hPrev, s.gates, nil, true)
        Tanh.forward(s.gates, s.h, count: s.batch * s.hidden, pool: pool)
    }

    public static func backward(_ s: CellBackward, multiply: HiddenMultiplyBackward, pool: ThreadPool) {
        let f = s.forward
        Tanh.backward(output: f.h, dOutput: s.dH, dInput: s.dGates, count: f.batch * f.hidden, pool: pool)
        multiply(s.dGates, s.dHPrev, false)
    }
}
