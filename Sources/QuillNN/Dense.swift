import QuillTensor

// Letters and conventions: see ParameterLayout.swift.

/// An affine map `y = x·Wᵀ + b` over rows, PyTorch's `nn.Linear`.
///
/// Parameters `<prefix>.weight` `[O][D]` (PyTorch's `[out, in]`) and `<prefix>.bias` `[O]`. Caches nothing: backward
/// takes the input again (the caller owns it).
public final class Dense {
    public let inputs: Int, outputs: Int
    public let weight: Tensor, dWeight: Tensor, bias: Tensor, dBias: Tensor
    /// The arithmetic of the three products (forward, and the two of backward); float32 by default.
    public var precision = Precision.float32

    /// `<prefix>.weight` `[O][D]`, `<prefix>.bias` `[O]`.
    public static func layout(prefix: String, inputs: Int, outputs: Int) -> ParameterLayout {
        [("\(prefix).weight", [outputs, inputs]), ("\(prefix).bias", [outputs])]
    }

    /// Binds to `<prefix>.weight` and `<prefix>.bias` in `parameters`.
    public convenience init(_ parameters: ParameterSet, prefix: String, inputs: Int, outputs: Int) throws {
        try self.init(parameters, weight: "\(prefix).weight", bias: "\(prefix).bias", inputs: inputs,
                      outputs: outputs)
    }

    /// Binds to the tensors named `weight` `[O][D]` and `bias` `[O]` in `parameters`; the weight may be shared with
    /// another layer (tied embeddings), whose backward then adds into the same gradient.
    public init(_ parameters: ParameterSet, weight weightName: String, bias biasName: String, inputs: Int,
                outputs: Int) throws {
        self.inputs = inputs
        self.outputs = outputs
        (weight, dWeight) = try parameters.views(weightName, [outputs, inputs])
        (bias, dBias) = try parameters.views(biasName, [outputs])
    }

    /// `output[N][O] = input[N][D]·Wᵀ + b` (written).
    public func forward(_ input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .shared) {
        gemm(transposeB: true, m: rows, n: outputs, k: inputs, a: input, lda: inputs, b: weight.base, ldb: inputs,
             c: output, ldc: outputs, bias: bias.base, pool: pool, precision: precision)
    }

    /// `dW += dOutputᵀ·input`, `db += Σₙ dOutput[n]`, and `dInput = dOutput·W` (written) when asked for.
    public func backward(input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, rows: Int,
                         dInput: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared) {
        gemm(transposeA: true, m: outputs, n: inputs, k: rows, a: dOutput, lda: outputs, b: input, ldb: inputs,
             beta: 1, c: dWeight.base, ldc: inputs, pool: pool, precision: precision)
        Bias.accumulateColumnSums(of: dOutput, rows: rows, columns: outputs, into: dBias.base, pool: pool)
        if let dInput {
            gemm(m: rows, n: inputs, k: outputs, a: dOutput, lda: outputs, b: weight.base, ldb: inputs,
                 c: dInput, ldc: inputs, pool: pool, precision: precision)
        }
    }
}
