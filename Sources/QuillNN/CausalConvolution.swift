import QuillTensor

// Letters and conventions: see ParameterLayout.swift; `k` is the kernel width.

/// A causal convolution over time: `y[t] = b + Σⱼ Wⱼ · x[t − (k − 1) + j]` for taps `j = 0…k−1`, so step `t` sees
/// itself and the `k − 1` steps before it, never a later one. PyTorch's `nn.Conv1d(D, O, k)` on an input padded on
/// the left by `k − 1` steps.
///
/// The padding is the caller's: the input is `[k − 1 + T][B][D]`, the `k − 1` steps before the window (zeros at a
/// stream's start, the previous window's last inputs after), then the window. That is what makes windows in a row
/// compute exactly what one long sequence would. In this time-major layout the rows of tap `j` are the input shifted
/// by `j` steps, so the convolution is `k` GEMMs on views of the input, with no copy (no im2col).
///
/// Parameters `<prefix>.weight` `[k][O][D]` (PyTorch's `[O][D][k]` with the tap first, so that each tap is one
/// `[O][D]` matrix) and `<prefix>.bias` `[O]`. Caches nothing: backward takes the input again.
public final class CausalConvolution {
    public let inputs: Int, outputs: Int, width: Int
    public let weight: Tensor, dWeight: Tensor, bias: Tensor, dBias: Tensor
    /// The arithmetic of the products (forward and backward); float32 by default.
    public var precision = Precision.float32

    /// `<prefix>.weight` `[k][O][D]`, `<prefix>.bias` `[O]`.
    public static func layout(prefix: String, inputs: Int, outputs: Int, width: Int) -> ParameterLayout {
        [("\(prefix).weight", [width, outputs, inputs]), ("\(prefix).bias", [outputs])]
    }

    /// Binds to `<prefix>.weight` and `<prefix>.bias` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, inputs: Int, outputs: Int, width: Int) throws {
        precondition(width >= 1, "a convolution needs a width of at least 1")
        self.inputs = inputs
        self.outputs = outputs
        self.width = width
        (weight, dWeight) = try parameters.views("\(prefix).weight", [width, outputs, inputs])
        (bias, dBias) = try parameters.views("\(prefix).bias", [outputs])
    }

    /// `output[T][B][O]` (written) from `padded` `[k − 1 + T][B][D]`.
    public func forward(_ padded: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        output: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let D = inputs, O = outputs
        for j in 0..<width {
            gemm(transposeB: true, m: T * B, n: O, k: D, a: padded + j * B * D, lda: D, b: weight.base + j * O * D,
                 ldb: D, beta: j == 0 ? 0 : 1, c: output, ldc: O, bias: j == width - 1 ? bias.base : nil,
                 pool: pool, precision: precision)
        }
    }

    /// `dWⱼ += dOutputᵀ · xⱼ`, `db += Σ dOutput`, and `dPadded` `[k − 1 + T][B][D]` (written) when asked for: the
    /// gradient of every padded input, the padding's included.
    public func backward(padded: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, steps T: Int, batch B: Int,
                         dPadded: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared) {
        let D = inputs, O = outputs, N = T * B
        for j in 0..<width {
            gemm(transposeA: true, m: O, n: D, k: N, a: dOutput, lda: O, b: padded + j * B * D, ldb: D, beta: 1,
                 c: dWeight.base + j * O * D, ldc: D, pool: pool, precision: precision)
        }
        Bias.accumulateColumnSums(of: dOutput, rows: N, columns: O, into: dBias.base, pool: pool)
        guard let dPadded else { return }
        dPadded.update(repeating: 0, count: (width - 1 + T) * B * D)
        for j in 0..<width {
            gemm(m: N, n: D, k: O, a: dOutput, lda: O, b: weight.base + j * O * D, ldb: D, beta: 1,
                 c: dPadded + j * B * D, ldc: D, pool: pool, precision: precision)
        }
    }
}
