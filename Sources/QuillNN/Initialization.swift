import QuillTensor

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
