import CQuillKernels
import Foundation

/// One time step of an LSTM after its GEMMs: gate non-linearities and the cell update, fused in one pass.
///
/// Letters: `B` batch, `H` hidden, `G = 4H` gates. `gates[B][4H]` holds, per row, four blocks of `H` in PyTorch's
/// order `i, f, g, o` (``Gate``, defined once in `quill_lstm.h`); its pre-activations are
/// `x·Wᵢₕᵀ + bᵢₕ + h·Wₕₕᵀ + bₕₕ`, computed by GEMM elsewhere.
///
///     i = σ(aᵢ)  f = σ(a_f)  g = tanh(a_g)  o = σ(aₒ)
///     c = f ⊙ cPrev + i ⊙ g        h = o ⊙ tanh(c)
///
/// Forward overwrites `gates` with the activations, which is what backward needs (with `cPrev` and `c`).
/// (Hochreiter & Schmidhuber 1997; forget gate: Gers, Schmidhuber & Cummins 2000.)
public enum LSTMCell {
    /// The gate blocks of a row of `gates[B][4H]`, in PyTorch's order.
    public enum Gate: Int, CaseIterable, Sendable {
        case input, forget, cell, output

        /// The block index, from the single definition in `quill_lstm.h`.
        public var block: Int {
            switch self {
            case .input: Int(QUILL_LSTM_GATE_I)
            case .forget: Int(QUILL_LSTM_GATE_F)
            case .cell: Int(QUILL_LSTM_GATE_G)
            case .output: Int(QUILL_LSTM_GATE_O)
            }
        }
    }

    /// Forward step.
    /// - Parameters:
    ///   - gates: `[B][4H]` pre-activations on entry, activations `σ(i), σ(f), tanh(g), σ(o)` on exit.
    ///   - cPrev: `[B][H]` the previous cell state.
    ///   - c: `[B][H]` receives the cell state.
    ///   - h: `[B][H]` receives the hidden state.
    /// No buffer may overlap another.
    public static func forward(gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                               c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                               batch: Int, hidden: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: batch, chunk: ChunkedLoops.rows(width: 4 * hidden), pool: pool) { r in
            let b = r.lowerBound
            quill_lstm_forward(gates + b * 4 * hidden, cPrev + b * hidden, c + b * hidden, h + b * hidden,
                               Int64(r.count), Int64(hidden))
        }
    }

    /// Backward step: writes (does not accumulate) `dGates` and `dCPrev`.
    /// - Parameters:
    ///   - gates: `[B][4H]` the activations left by ``forward(gates:cPrev:c:h:batch:hidden:pool:)``.
    ///   - cPrev, c: `[B][H]` the cell states of the forward step.
    ///   - dH: `[B][H]` the total gradient of `h` (from the output and from the next step).
    ///   - dC: `[B][H]` the gradient of `c` from the next step, or nil for none (the last step).
    ///   - dGates: `[B][4H]` receives the gradient of the pre-activations.
    ///   - dCPrev: `[B][H]` receives the gradient of `cPrev`.
    /// No buffer may overlap another.
    public static func backward(gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, c: UnsafePointer<Float>,
                                dH: UnsafePointer<Float>, dC: UnsafePointer<Float>?,
                                dGates: UnsafeMutablePointer<Float>, dCPrev: UnsafeMutablePointer<Float>,
                                batch: Int, hidden: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: batch, chunk: ChunkedLoops.rows(width: 4 * hidden), pool: pool) { r in
            let b = r.lowerBound
            quill_lstm_backward(gates + b * 4 * hidden, cPrev + b * hidden, c + b * hidden, dH + b * hidden,
                                dC.map { $0 + b * hidden }, dGates + b * 4 * hidden, dCPrev + b * hidden,
                                Int64(r.count), Int64(hidden))
        }
    }

    /// Reference of ``forward(gates:cPrev:c:h:batch:hidden:pool:)``: the maths in plain view, libm functions.
    public static func forwardReference(gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                                        c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                                        batch: Int, hidden: Int) {
        func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
        for b in 0..<batch {
            let row = gates + b * 4 * hidden
            for j in 0..<hidden {
                let ii = Gate.input.block * hidden + j, fi = Gate.forget.block * hidden + j
                let gi = Gate.cell.block * hidden + j, oi = Gate.output.block * hidden + j
                let i = sigmoid(row[ii]), f = sigmoid(row[fi]), g = tanh(row[gi]), o = sigmoid(row[oi])
                row[ii] = i; row[fi] = f; row[gi] = g; row[oi] = o
                let cell = f * cPrev[b * hidden + j] + i * g
                c[b * hidden + j] = cell
                h[b * hidden + j] = o * tanh(cell)
            }
        }
    }

    /// Reference of ``backward(gates:cPrev:c:dH:dC:dGates:dCPrev:batch:hidden:pool:)``.
    public static func backwardReference(gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                         c: UnsafePointer<Float>, dH: UnsafePointer<Float>,
                                         dC: UnsafePointer<Float>?, dGates: UnsafeMutablePointer<Float>,
                                         dCPrev: UnsafeMutablePointer<Float>, batch: Int, hidden: Int) {
        for b in 0..<batch {
            let row = gates + b * 4 * hidden, dRow = dGates + b * 4 * hidden
            for j in 0..<hidden {
                let ii = Gate.input.block * hidden + j, fi = Gate.forget.block * hidden + j
                let gi = Gate.cell.block * hidden + j, oi = Gate.output.block * hidden + j
                let i = row[ii], f = row[fi], g = row[gi], o = row[oi]
                let k = b * hidden + j
                let tc = tanh(c[k])
                let dh = dH[k]
                let dc = (dC?[k] ?? 0) + dh * o * (1 - tc * tc)   // through h = o ⊙ tanh(c)
                dRow[ii] = dc * g * i * (1 - i)                    // ∂c/∂i = g
                dRow[fi] = dc * cPrev[k] * f * (1 - f)             // ∂c/∂f = cPrev
                dRow[gi] = dc * i * (1 - g * g)                    // ∂c/∂g = i
                dRow[oi] = dh * tc * o * (1 - o)                   // ∂h/∂o = tanh(c)
                dCPrev[k] = dc * f
            }
        }
    }
}
