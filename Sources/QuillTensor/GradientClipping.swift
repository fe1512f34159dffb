import CQuillKernels

/// Clipping by the global L2 norm of all gradients, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// Elements per chunk of the norm: partial sums of squares per chunk (in `Double`), added in chunk order, so the
    /// norm is the same for every thread count.
    static let chunk = 65_536

    /// The L2 norm of `gradients`.
    public static func globalNorm(_ gradients: UnsafeBufferPointer<Float>, pool: ThreadPool = .shared) -> Float {
        let n = gradients.count
        let chunks = (n + chunk - 1) / chunk
        var partials = [Double](repeating: 0, count: chunks)
        guard let base = gradients.baseAddress else { return 0 }
        partials.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            ChunkedLoops.forEach(count: n, chunk: chunk, pool: pool) { r in
                partial[r.lowerBound / chunk] = quill_sum_squares(base + r.lowerBound, Int64(r.count))
            }
        }
        return Float(partials.reduce(0, +).squareRoot())
    }

    /// Scales `gradients` by `maxNorm / (norm + 1e-6)` when that is below 1 (PyTorch's formula).
    /// - Returns: the norm before clipping (infinite or NaN if a gradient is; the gradients are then left as they are).
    @discardableResult
    public static func clipGlobalNorm(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float,
                                      pool: ThreadPool = .shared) -> Float {
        let norm = globalNorm(UnsafeBufferPointer(gradients), pool: pool)
        guard norm.isFinite else { return norm }
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1, let base = gradients.baseAddress {
            ChunkedLoops.forEach(count: gradients.count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
                quill_scale(base + r.lowerBound, coefficient, Int64(r.count))
            }
        }
        return norm
    }

    /// Clips the gradient buffer of `parameters` (see ``clipGlobalNorm(_:maxNorm:pool:)``).
    @discardableResult
    public static func clipGlobalNorm(_ parameters: ParameterSet, maxNorm: Float, pool: ThreadPool = .shared) -> Float {
        clipGlobalNorm(parameters.gradients.buffer, maxNorm: maxNorm, pool: pool)
    }

    /// Reference of ``globalNorm(_:pool:)``: squares summed in `Double`, in order.
    public static func globalNormReference(_ gradients: UnsafeBufferPointer<Float>) -> Float {
        Float(gradients.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}
