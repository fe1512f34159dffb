import QuillTensor

// Letters: `N` rows (samples) of a batch, `D` inputs, `Hₖ` the width of hidden layer `k`, `O` outputs.
// Layout: row-major `[N][width]`; weights as PyTorch's `nn.Linear`: `layers.<k>.weight` `[out][in]`, `.bias` `[out]`.

/// A feed-forward network (multilayer perceptron): weighted sums and a bias per layer, a non-linearity between
/// layers, and a loss on the last layer's output — the mean squared error for regression, or softmax cross-entropy
/// over `O` classes.
///
/// `forward` keeps each layer's output (after its non-linearity) for `backward`, which adds into the gradients
/// (`+=`, as every layer here). Nothing recurrent: it trains through the same ``ParameterSet``, optimizers and
/// training loop as the language model.
public final class FeedForward {
    /// The non-linearity between layers (none after the last).
    public enum Activation: String, Codable, Sendable, CaseIterable {
        case sigmoid, relu, tanh
    }

    /// The loss on the last layer's output.
    public enum Loss: String, Codable, Sendable, CaseIterable {
        /// `(1/(N·O)) Σ (y − t)²` against real targets `[N][O]` (PyTorch's `nn.MSELoss()`).
        case meanSquaredError
        /// The mean over rows of `−log softmax(y)[class]` against class ids `[N]` (PyTorch's `nn.CrossEntropyLoss()`).
        case softmaxCrossEntropy
    }

    /// What a batch is measured against.
    public enum Targets {
        /// `[N][O]` values, for ``Loss/meanSquaredError``.
        case values([Float])
        /// `[N]` class ids in `0..<O`, for ``Loss/softmaxCrossEntropy``.
        case classes([Int32])
    }

    public struct Configuration: Equatable, Sendable {
        /// `[D, H₁, …, O]`: the input width, the hidden widths, the output width.
        public var sizes: [Int]
        public var activation: Activation
        public var loss: Loss

        public init(sizes: [Int], activation: Activation = .sigmoid, loss: Loss = .meanSquaredError) {
            self.sizes = sizes
            self.activation = activation
            self.loss = loss
        }

        /// `layers.<k>.weight` `[sizes[k+1]][sizes[k]]` and `layers.<k>.bias` for each layer.
        public var layout: ParameterLayout {
            (0..<(sizes.count - 1)).flatMap { k in
                Dense.layout(prefix: "layers.\(k)", inputs: sizes[k], outputs: sizes[k + 1])
            }
        }
    }

    public let configuration: Configuration
    public let parameters: ParameterSet
    public let layers: [Dense]

    /// `outputs[0]` the input `[N][D]`, `outputs[k]` layer `k`'s output after its non-linearity (the last: raw).
    private var outputs: [[Float]] = []
    /// The gradient of the loss with respect to the last output, from the last `forward`.
    private var dOutput: [Float] = []
    private var rows = 0

    /// - Throws: ``LayerError`` when the sizes give no layer or a width below 1.
    public init(_ configuration: Configuration) throws {
        guard configuration.sizes.count >= 2, configuration.sizes.allSatisfy({ $0 >= 1 }) else {
            throw LayerError.invalidConfiguration("a feed-forward network needs an input and an output width, each at "
                + "least 1 (got \(configuration.sizes))")
        }
        self.configuration = configuration
        let parameters = try ParameterSet(configuration.layout)
        let sizes = configuration.sizes
        layers = try (0..<(sizes.count - 1)).map { k in
            try Dense(parameters, prefix: "layers.\(k)", inputs: sizes[k], outputs: sizes[k + 1])
        }
        self.parameters = parameters
    }

    /// The last layer's output for `input` `[N][D]` (predictions, or logits with the cross-entropy loss).
    public func predict(_ input: [Float], rows: Int, pool: ThreadPool = .shared) -> [Float] {
        run(input, rows: rows, pool: pool)
        return outputs[layers.count]
    }

    /// The loss of a batch, keeping what ``backward(pool:)`` needs.
    /// - Parameters:
    ///   - input: `[N][D]`.
    ///   - targets: values `[N][O]` for the mean squared error, class ids `[N]` for the cross-entropy.
    /// - Returns: the mean loss (per row for the cross-entropy, per element for the squared error).
    public func forward(_ input: [Float], rows: Int, targets: Targets, pool: ThreadPool = .shared) -> Double {
        run(input, rows: rows, pool: pool)
        let output = outputs[layers.count], width = configuration.sizes.last!
        dOutput = [Float](repeating: 0, count: rows * width)
        switch (configuration.loss, targets) {
        case (.meanSquaredError, .values(let values)):
            precondition(values.count == rows * width, "targets must be [N][O]")
            return MeanSquaredError.compute(output: output, target: values, count: rows * width, dOutput: &dOutput)
        case (.softmaxCrossEntropy, .classes(let classes)):
            precondition(classes.count == rows, "class ids must be [N]")
            return SoftmaxCrossEntropy.compute(logits: output, targets: classes, rows: rows, vocabulary: width,
                                               dLogits: &dOutput, pool: pool).loss
        default:
            preconditionFailure("\(configuration.loss) needs \(configuration.loss == .meanSquaredError ? "values" : "classes")")
        }
    }

    /// Adds the gradient of the last ``forward(_:rows:targets:pool:)``'s loss into `parameters.gradients`.
    public func backward(pool: ThreadPool = .shared) {
        var d = dOutput
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let input = outputs[k]
            var dInput = k > 0 ? [Float](repeating: 0, count: rows * configuration.sizes[k]) : []
            dInput.withUnsafeMutableBufferPointer { dIn in
                layers[k].backward(input: input, dOutput: d, rows: rows, dInput: k > 0 ? dIn.baseAddress : nil,
                                   pool: pool)
            }
            guard k > 0 else { break }
            // Through layer k − 1's non-linearity, from its output.
            var dPre = [Float](repeating: 0, count: dInput.count)
            let n = dInput.count
            switch configuration.activation {
            case .sigmoid: Sigmoid.backward(output: input, dOutput: dInput, dInput: &dPre, count: n, pool: pool)
            case .relu: ReLU.backward(output: input, dOutput: dInput, dInput: &dPre, count: n, pool: pool)
            case .tanh: Tanh.backward(output: input, dOutput: dInput, dInput: &dPre, count: n, pool: pool)
            }
            d = dPre
        }
    }

    private func run(_ input: [Float], rows: Int, pool: ThreadPool) {
        let sizes = configuration.sizes
        precondition(input.count == rows * sizes[0], "input must be [N][D]")
        self.rows = rows
        outputs = [input]
        for (k, layer) in layers.enumerated() {
            var z = [Float](repeating: 0, count: rows * sizes[k + 1])
            z.withUnsafeMutableBufferPointer { layer.forward(outputs[k], rows: rows, output: $0.baseAddress!, pool: pool) }
            if k < layers.count - 1 {
                var y = [Float](repeating: 0, count: z.count)
                switch configuration.activation {
                case .sigmoid: Sigmoid.forward(z, &y, count: z.count, pool: pool)
                case .relu: ReLU.forward(z, &y, count: z.count, pool: pool)
                case .tanh: Tanh.forward(z, &y, count: z.count, pool: pool)
                }
                z = y
            }
            outputs.append(z)
        }
    }
}
