extension ParameterSet {
    /// Every parameter as a ``StoredTensor`` under its dotted name, in layout order.
    public var storedTensors: [StoredTensor] {
        entries.map { entry in StoredTensor(name: entry.name, shape: entry.shape, values: value(entry.name)!.scalars) }
    }

    /// Copies stored tensors (a stored model's, a checkpoint's) into the parameters, through the one checked load:
    /// they must be exactly the parameters, under Quill's keys.
    /// - Parameter model: the name of the model (or run) they belong to, for the error: `model '<model>'`.
    /// - Throws: ``ParameterLoadError`` naming every missing, unexpected and misshapen tensor; then nothing is
    ///   copied.
    public func load(_ tensors: [StoredTensor], model: String) throws {
        try load(tensors, source: "model '\(model)'")
    }

    /// Copies stored tensors into the parameters, as ``load(_:model:)``; `source` names them in the error.
    public func load(_ tensors: [StoredTensor], source: String) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        try load(shapes: byName.mapValues(\.shape), source: source) { byName[$0]!.values }
    }
}
