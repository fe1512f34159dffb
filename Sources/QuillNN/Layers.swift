import QuillTensor

// Letters: `T` steps, `B` batch, `N = T·B` rows, `V` vocabulary, `D` input width, `H` hidden, `O` outputs.
// Layout: row-major, time-major sequences `[T][B][…]`. Every backward ADDS into its parameter gradients (`+=`, in the
// twin gradient buffer of the model's ``ParameterSet``) and WRITES the gradient of its input.

/// A parameter layout: names and shapes, in order, as ``ParameterSet/init(_:)`` takes it.
public typealias ParameterLayout = [(name: String, shape: [Int])]

/// A problem wiring layers to a ``ParameterSet`` or loading parameters into one.
public enum LayerError: Error, Equatable, CustomStringConvertible {
    /// The set has no tensor of that name.
    case missingParameter(String)
    /// The set's (or the checkpoint's) tensor has another shape.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A checkpoint tensor that no parameter takes.
    case unusedTensor(String)
    /// A model configuration that cannot be built (the message says why).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .missingParameter(name): return "missing parameter '\(name)'"
        case let .shapeMismatch(name, expected, actual):
            return "parameter '\(name)': expected shape \(expected), got \(actual)"
        case let .unusedTensor(name): return "unused tensor '\(name)'"
        case let .invalidConfiguration(message): return "invalid configuration: \(message)"
        }
    }
}

extension ParameterSet {
    /// The value and gradient views of `name`, checked against `shape`.
    func views(_ name: String, _ shape: [Int]) throws -> (value: Tensor, gradient: Tensor) {
        guard let value = value(name), let gradient = gradient(name) else { throw LayerError.missingParameter(name) }
        guard value.shape == shape else { throw LayerError.shapeMismatch(name: name, expected: shape, actual: value.shape) }
        return (value, gradient)
    }

    /// Copies every parameter from `file`, where parameter `name` is stored as `fileName(name)`.
    /// - Parameter allowUnused: accept tensors of `file` that no parameter takes (inputs, gradients, …).
    /// - Throws: ``LayerError`` for a missing tensor, a shape mismatch or (unless allowed) an unused tensor;
    ///   ``SafeTensorsError`` for an unreadable one.
    public func load(from file: SafeTensors, fileName: (String) -> String = { $0 }, allowUnused: Bool = false) throws {
        var used = Set<String>()
        for entry in entries {
            let key = fileName(entry.name)
            guard let info = file.tensors[key] else { throw LayerError.missingParameter(key) }
            guard info.shape == entry.shape else {
                throw LayerError.shapeMismatch(name: key, expected: entry.shape, actual: info.shape)
            }
            let scalars = try file.floats(key)
            let view = value(entry.name)!
            for i in 0..<scalars.count { view.base[i] = scalars[i] }
            used.insert(key)
        }
        if !allowUnused, let extra = file.names.first(where: { !used.contains($0) }) {
            throw LayerError.unusedTensor(extra)
        }
    }
}

/// How parameters start: the schemes of the literature recipes.
public enum Initialization: Equatable, Sendable {
    /// Every parameter, biases included, uniform in `[−scale, scale)` (Zaremba et al. 2014: 0.1 small, 0.05 medium).
    case uniform(scale: Float)
    /// Matrices `[rows][columns]` uniform in `±√(6 / (rows + columns))` (Glorot & Bengio 2010, PyTorch's
    /// `xavier_uniform_`); vectors (biases) zero.
    case xavier
}

extension ParameterSet {
    /// Sets every parameter by `scheme`, drawing from `rng` in the order of ``entries`` (reproducible from a seed).
    public func initialize(_ scheme: Initialization, rng: inout RNG) {
        for entry in entries {
            let view = value(entry.name)!
            switch scheme {
            case let .uniform(scale):
                rng.fillUniform(view, low: -scale, high: scale)
            case .xavier where entry.shape.count >= 2:
                let fanOut = entry.shape[0], fanIn = entry.count / fanOut
                let bound = (6 / Float(fanIn + fanOut)).squareRoot()
                rng.fillUniform(view, low: -bound, high: bound)
            case .xavier:
                view.buffer.update(repeating: 0)
            }
        }
    }
}

/// A growable scratch buffer, reallocated only when a larger size is asked for.
struct Scratch {
    private(set) var buffer = AlignedBuffer(count: 0)
    /// A pointer to at least `count` floats (contents kept only while the size does not grow).
    mutating func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = AlignedBuffer(count: count) }
        return buffer.base
    }
}

/// A lookup table of learned vectors: `output[n] = weight[ids[n]]`.
///
/// Parameter `<prefix>.weight` `[V][D]` (PyTorch's `nn.Embedding.weight`). A negative id (padding) reads a zero row and
/// receives no gradient. Caches nothing: backward takes the ids again.
public final class Embedding {
    public let vocabulary: Int, dimension: Int
    public let weight: Tensor, dWeight: Tensor

    /// `<prefix>.weight` `[V][D]`.
    public static func layout(prefix: String, vocabulary: Int, dimension: Int) -> ParameterLayout {
        [("\(prefix).weight", [vocabulary, dimension])]
    }

    /// Binds to `<prefix>.weight` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, vocabulary: Int, dimension: Int) throws {
        self.vocabulary = vocabulary
        self.dimension = dimension
        (weight, dWeight) = try parameters.views("\(prefix).weight", [vocabulary, dimension])
    }

    /// Gathers `output[N][D]` (written) for `ids[N]`.
    public func forward(ids: UnsafePointer<Int32>, count: Int, output: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .shared) {
        EmbeddingLookup.gather(table: weight.base, vocabulary: vocabulary, dimension: dimension, ids: ids,
                               count: count, output: output, pool: pool)
    }

    /// `dWeight[ids[n]] += dOutput[n]`.
    public func backward(ids: UnsafePointer<Int32>, count: Int, dOutput: UnsafePointer<Float>,
                         pool: ThreadPool = .shared) {
        EmbeddingLookup.scatterAdd(dOutput: dOutput, ids: ids, count: count, dTable: dWeight.base,
                                   vocabulary: vocabulary, dimension: dimension, pool: pool)
    }
}

/// An affine map `y = x·Wᵀ + b` over rows, PyTorch's `nn.Linear`.
///
/// Parameters `<prefix>.weight` `[O][D]` (PyTorch's `[out, in]`) and `<prefix>.bias` `[O]`. Caches nothing: backward
/// takes the input again (the caller owns it).
public final class Dense {
    public let inputs: Int, outputs: Int
    public let weight: Tensor, dWeight: Tensor, bias: Tensor, dBias: Tensor

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
             c: output, ldc: outputs, bias: bias.base, pool: pool)
    }

    /// `dW += dOutputᵀ·input`, `db += Σₙ dOutput[n]`, and `dInput = dOutput·W` (written) when asked for.
    public func backward(input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, rows: Int,
                         dInput: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared) {
        gemm(transposeA: true, m: outputs, n: inputs, k: rows, a: dOutput, lda: outputs, b: input, ldb: inputs,
             beta: 1, c: dWeight.base, ldc: inputs, pool: pool)
        Bias.accumulateColumnSums(of: dOutput, rows: rows, columns: outputs, into: dBias.base, pool: pool)
        if let dInput {
            gemm(m: rows, n: inputs, k: outputs, a: dOutput, lda: outputs, b: weight.base, ldb: inputs,
                 c: dInput, ldc: inputs, pool: pool)
        }
    }
}

/// The mean squared error `L = (1/(N·D)) Σ (y − t)²`, PyTorch's `nn.MSELoss()` (mean reduction).
public enum MeanSquaredError {
    /// The loss (summed in Double) and, when `dOutput` is given, `dOutput = 2(y − t)/(N·D)` (written).
    /// - Parameters: `output`, `target`, `dOutput`: `count = N·D` floats.
    public static func compute(output: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
                               dOutput: UnsafeMutablePointer<Float>?) -> Double {
        guard count > 0 else { return 0 }
        var sum = 0.0
        let scale = 2 / Float(count)
        for i in 0..<count {
            let d = output[i] - target[i]
            sum += Double(d) * Double(d)
            dOutput?[i] = scale * d
        }
        return sum / Double(count)
    }
}
