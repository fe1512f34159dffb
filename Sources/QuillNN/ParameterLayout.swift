import QuillTensor

// Letters: `T` steps, `B` batch, `N = T·B` rows, `V` vocabulary, `D` input width, `H` hidden, `O` outputs.
// Layout: row-major, time-major sequences `[T][B][…]`. Every backward ADDS into its parameter gradients (`+=`, in the
// twin gradient buffer of the model's ``ParameterSet``) and WRITES the gradient of its input.

/// A parameter layout: names and shapes, in order, as ``ParameterSet/init(_:)`` takes it.
public typealias ParameterLayout = [(name: String, shape: [Int])]

extension ParameterSet {
    /// The value and gradient views of `name`, checked against `shape`.
    func views(_ name: String, _ shape: [Int]) throws -> (value: Tensor, gradient: Tensor) {
        guard let value = value(name), let gradient = gradient(name) else { throw LayerError.missingParameter(name) }
        guard value.shape == shape else { throw LayerError.shapeMismatch(name: name, expected: shape, actual: value.shape) }
        return (value, gradient)
    }
}
