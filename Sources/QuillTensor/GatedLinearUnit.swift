import CQuillKernels
import Foundation

/// The gated linear unit of Dauphin et al. (2017), PyTorch's `F.glu(z, dim=-1)`: each row `z = [a | b]` of `2C`
/// floats gives `y = a ⊙ σ(b)`, a linear path the gate `σ(b)` opens or closes.
///
/// Rows are handled one at a time (a fixed split), so the result does not depend on the thread count.
public enum GatedLinearUnit {
    /// Writes `y[N][C] = a ⊙ σ(b)` and the gates `s[N][C] = σ(b)`, which backward takes.
    public static func forward(_ z: UnsafePointer<Float>, rows: Int, channels C: Int,
                               gates s: UnsafeMutablePointer<Float>, output y: UnsafeMutablePointer<Float>,
                               pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: rows, chunk: max(1, ChunkedLoops.elementsPerChunk / max(1, 2 * C)), pool: pool) {
            for r in $0 {
                let a = z + r * 2 * C, gate = s + r * C, out = y + r * C
                quill_sigmoid_forward(a + C, gate, Int64(C))
                for c in 0..<C { out[c] = a[c] * gate[c] }
            }
        }
    }

    /// Writes `dz[N][2C]`: `da = dy ⊙ s` and `db = dy ⊙ a ⊙ s ⊙ (1 − s)`, from the forward's `z` and gates `s`.
    public static func backward(_ z: UnsafePointer<Float>, gates s: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>,
                                rows: Int, channels C: Int, dInput dz: UnsafeMutablePointer<Float>,
                                pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: rows, chunk: max(1, ChunkedLoops.elementsPerChunk / max(1, 2 * C)), pool: pool) {
            for r in $0 {
                let a = z + r * 2 * C, gate = s + r * C, d = dy + r * C, da = dz + r * 2 * C
                for c in 0..<C {
                    let g = gate[c]
                    da[c] = d[c] * g
                    da[C + c] = d[c] * a[c] * g * (1 - g)
                }
            }
        }
    }

    /// Reference of ``forward(_:rows:channels:gates:output:pool:)`` in `Double` through the standard library.
    public static func forwardReference(_ z: UnsafePointer<Float>, rows: Int, channels C: Int,
                                        output y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for c in 0..<C {
                let a = Double(z[r * 2 * C + c]), b = Double(z[r * 2 * C + C + c])
                y[r * C + c] = Float(a / (1 + exp(-b)))
            }
        }
    }
}
