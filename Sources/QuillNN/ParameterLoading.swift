import QuillTensor

/// Why named tensors cannot be loaded into a ``ParameterSet``: every missing, unexpected and misshapen tensor at once,
/// so one attempt shows the whole difference between a file (or a stored model, or a checkpoint) and the model.
///
/// Names are the source's own (`rnn.weight_ih_l0` for a PyTorch file, `rnn.0.weightIH` for a stored model).
public struct ParameterLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor whose name fits a parameter but whose shape does not.
    public struct Misshapen: Equatable, Sendable, CustomStringConvertible {
        public var name: String
        public var expected: [Int]
        public var actual: [Int]

        public init(name: String, expected: [Int], actual: [Int]) {
            self.name = name
            self.expected = expected
            self.actual = actual
        }

        public var description: String { "\(name) is \(actual), expected \(expected)" }
    }

    /// What the tensors came from, as errors name it: `model 'tiny'`, a file's path, `checkpoint of run #3`.
    public var source: String
    /// Parameters the source lacks, in the model's layout order.
    public var missing: [String]
    /// Tensors of the source that no parameter takes, sorted.
    public var unexpected: [String]
    /// Tensors of a parameter's name with another shape, in layout order.
    public var misshapen: [Misshapen]

    public init(source: String, missing: [String] = [], unexpected: [String] = [], misshapen: [Misshapen] = []) {
        self.source = source
        self.missing = missing
        self.unexpected = unexpected
        self.misshapen = misshapen
    }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected " + unexpected.joined(separator: ", ")) }
        if !misshapen.isEmpty { parts.append("wrong shape " + misshapen.map(\.description).joined(separator: "; ")) }
        return "\(source): the tensors do not fit the model's parameters: " + parts.joined(separator: "; ")
    }
}

extension ParameterSet {
    /// Copies named tensors into the parameters after checking that they are exactly the parameters: the one checked
    /// load behind stored models, safetensors files and checkpoints.
    ///
    /// Nothing is copied unless every check passes and every tensor was read.
    /// - Parameters:
    ///   - shapes: every tensor the source offers, by its name in the source.
    ///   - source: names the source in the error (`model 'tiny'`, a file's path).
    ///   - key: the source's name of a parameter (the identity for Quill's own keys; PyTorch's names for a file of
    ///     a PyTorch state_dict).
    ///   - allowUnexpected: accept tensors no parameter takes (a fixture that also holds inputs and gradients).
    ///   - values: reads a tensor by its name in the source: `shapes[name]`'s element count of values, row-major.
    /// - Throws: ``ParameterLoadError`` listing every missing, unexpected and misshapen tensor; what `values` throws.
    public func load(shapes: [String: [Int]], source: String, key: (String) -> String = { $0 },
                     allowUnexpected: Bool = false, values: (String) throws -> [Float]) throws {
        let keys = entries.map { key($0.name) }
        var error = ParameterLoadError(source: source)
        for (entry, key) in zip(entries, keys) {
            guard let shape = shapes[key] else { error.missing.append(key); continue }
            if shape != entry.shape { error.misshapen.append(.init(name: key, expected: entry.shape, actual: shape)) }
        }
        if !allowUnexpected {
            let taken = Set(keys)
            error.unexpected = shapes.keys.filter { !taken.contains($0) }.sorted()
        }
        guard error.missing.isEmpty, error.unexpected.isEmpty, error.misshapen.isEmpty else { throw error }
        let read = try keys.map(values)
        for (entry, scalars) in zip(entries, read) {
            precondition(scalars.count == entry.count, "\(source): \(key(entry.name)) read \(scalars.count) values, "
                + "its shape \(entry.shape) holds \(entry.count)")
            let destination = value(entry.name)!.buffer
            scalars.withUnsafeBufferPointer { _ = destination.update(fromContentsOf: $0) }
        }
    }
}
