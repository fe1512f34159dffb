import CQuillKernels

/// Inverted dropout with an explicit mask (Srivastava et al. 2014): kept values are scaled by `1/(1−p)` during
/// training so that evaluation needs no scaling.
///
/// The mask holds `0` or `1/(1−p)` per element, drawn from an ``RNG`` (so a run is reproducible from its seed);
/// forward is `y = x ⊙ mask` and backward `dx = dy ⊙ mask`.
public enum Dropout {
    /// Fills `mask[count]` with `0` (probability `p`) or `1/(1−p)`. `p = 1` gives all zeros.
    public static func makeMask(_ mask: UnsafeMutablePointer<Float>, count: Int, probability p: Float,
                                rng: inout RNG) {
        precondition(p >= 0 && p <= 1, "dropout probability \(p) outside [0, 1]")
        let keep: Float = p < 1 ? 1 / (1 - p) : 0
        for i in 0..<count { mask[i] = rng.uniform() < p ? 0 : keep }
    }

    /// `y = x ⊙ mask` (any of the buffers may be the same).
    public static func forward(_ x: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_multiply(x + r.lowerBound, mask + r.lowerBound, y + r.lowerBound, Int64(r.count))
        }
    }

    /// `dInput = dOutput ⊙ mask` (written).
    public static func backward(dOutput: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                                dInput: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .shared) {
        forward(dOutput, mask: mask, dInput, count: count, pool: pool)
    }

    /// Reference of ``forward(_:mask:_:count:pool:)`` (and of backward, the same product).
    public static func forwardReference(_ x: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                                        _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i] * mask[i] }
    }
}
