import CQuillKernels
import Foundation

/// One time step of a GRU after its two projections, in PyTorch's formulation (Cho et al. 2014), fused in one pass.
///
/// Letters: `B` batch, `H` hidden; rows of `3H` hold the blocks `r, z, n` in PyTorch's order (``Gate``, defined
/// once in `quill_gru.h`). `gx[B][3H] = x·Wᵢₕᵀ + bᵢₕ` and `gh[B][3H] = h·Wₕₕᵀ + bₕₕ` come separately because `r`
/// multiplies only the hidden part of `n`:
///
///     r = σ(xr + hr)   z = σ(xz + hz)   n = tanh(xn + r ⊙ hn)   h' = (1 − z) ⊙ n + z ⊙ h
///
/// Forward overwrites `gx` with the activations `r, z, n`; backward needs them, `gh` and `hPrev`.
public enum GRUCell {
    /// The gate blocks of a row of `[B][3H]`, in PyTorch's order.
    public enum Gate: Int, CaseIterable, Sendable {
        case reset, update, new

        /// The block index, from the single definition in `quill_gru.h`.
        public var block: Int {
            switch self {
            case .reset: Int(QUILL_GRU_GATE_R)
            case .update: Int(QUILL_GRU_GATE_Z)
            case .new: Int(QUILL_GRU_GATE_N)
            }
        }
    }

    /// Forward step.
    /// - Parameters:
    ///   - gx: `[B][3H]` the input projection on entry, the activations `r, z, n` on exit.
    ///   - gh: `[B][3H]` the hidden projection (read; keep it for backward).
    ///   - hPrev: `[B][H]` the previous hidden state.
    ///   - h: `[B][H]` receives the new hidden state.
    /// No buffer may overlap another.
    public static func forward(gx: UnsafeMutablePointer<Float>, gh: UnsafePointer<Float>,
                               hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                               batch: Int, hidden: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: batch, chunk: ChunkedLoops.rows(width: 3 * hidden), pool: pool) { r in
            let b = r.lowerBound
            quill_gru_forward(gx + b * 3 * hidden, gh + b * 3 * hidden, hPrev + b * hidden, h + b * hidden,
                              Int64(r.count), Int64(hidden))
        }
    }

    /// Backward step: writes (does not accumulate) `dGx`, `dGh` and `dHPrev`.
    /// - Parameters:
    ///   - gx: `[B][3H]` the activations left by forward; `gh`: `[B][3H]` the hidden projection; `hPrev`: `[B][H]`.
    ///   - dH: `[B][H]` the total gradient of the new hidden state.
    ///   - dGx: `[B][3H]` receives the gradient of the input projection.
    ///   - dGh: `[B][3H]` receives the gradient of the hidden projection.
    ///   - dHPrev: `[B][H]` receives `dH ⊙ z`, the direct path only; add `dGh·Wₕₕ` (GEMM) for the full gradient.
    /// No buffer may overlap another.
    public static func backward(gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                                dH: UnsafePointer<Float>, dGx: UnsafeMutablePointer<Float>,
                                dGh: UnsafeMutablePointer<Float>, dHPrev: UnsafeMutablePointer<Float>,
                                batch: Int, hidden: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: batch, chunk: ChunkedLoops.rows(width: 3 * hidden), pool: pool) { r in
            let b = r.lowerBound
            quill_gru_backward(gx + b * 3 * hidden, gh + b * 3 * hidden, hPrev + b * hidden, dH + b * hidden,
                               dGx + b * 3 * hidden, dGh + b * 3 * hidden, dHPrev + b * hidden,
                               Int64(r.count), Int64(hidden))
        }
    }

    /// Reference of ``forward(gx:gh:hPrev:h:batch:hidden:pool:)``.
    public static func forwardReference(gx: UnsafeMutablePointer<Float>, gh: UnsafePointer<Float>,
                                        hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                        batch: Int, hidden: Int) {
        func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
        for b in 0..<batch {
            let x = gx + b * 3 * hidden, hp = gh + b * 3 * hidden
            for j in 0..<hidden {
                let ri = Gate.reset.block * hidden + j, zi = Gate.update.block * hidden + j
                let ni = Gate.new.block * hidden + j
                let r = sigmoid(x[ri] + hp[ri])
                let z = sigmoid(x[zi] + hp[zi])
                let n = tanh(x[ni] + r * hp[ni])
                x[ri] = r; x[zi] = z; x[ni] = n
                h[b * hidden + j] = (1 - z) * n + z * hPrev[b * hidden + j]
            }
        }
    }

    /// Reference of ``backward(gx:gh:hPrev:dH:dGx:dGh:dHPrev:batch:hidden:pool:)``.
    public static func backwardReference(gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
                                         hPrev: UnsafePointer<Float>, dH: UnsafePointer<Float>,
                                         dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                                         dHPrev: UnsafeMutablePointer<Float>, batch: Int, hidden: Int) {
        for b in 0..<batch {
            let a = gx + b * 3 * hidden, hp = gh + b * 3 * hidden
            let dx = dGx + b * 3 * hidden, dhp = dGh + b * 3 * hidden
            for j in 0..<hidden {
                let ri = Gate.reset.block * hidden + j, zi = Gate.update.block * hidden + j
                let ni = Gate.new.block * hidden + j
                let r = a[ri], z = a[zi], n = a[ni], k = b * hidden + j
                let d = dH[k]
                let dPreN = d * (1 - z) * (1 - n * n)              // through n = tanh(xn + r ⊙ hn)
                let dPreZ = d * (hPrev[k] - n) * z * (1 - z)        // ∂h'/∂z = h − n
                let dPreR = dPreN * hp[ni] * r * (1 - r)            // ∂(xn + r ⊙ hn)/∂r = hn
                dx[ri] = dPreR; dhp[ri] = dPreR
                dx[zi] = dPreZ; dhp[zi] = dPreZ
                dx[ni] = dPreN; dhp[ni] = dPreN * r
                dHPrev[k] = d * z
            }
        }
    }
}
