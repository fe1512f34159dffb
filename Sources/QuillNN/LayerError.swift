/// A problem wiring layers to a ``ParameterSet`` (loading tensors into one throws ``ParameterLoadError``).
public enum LayerError: Error, Equatable, CustomStringConvertible {
    /// The set has no tensor of that name.
    case missingParameter(String)
    /// The set's tensor has another shape than the layer needs.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A model configuration that cannot be built (the message says why).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .missingParameter(name): return "missing parameter '\(name)'"
        case let .shapeMismatch(name, expected, actual):
            return "parameter '\(name)': expected shape \(expected), got \(actual)"
        case let .invalidConfiguration(message): return "invalid configuration: \(message)"
        }
    }
}
