import QuillNN
import QuillTensor

extension ParameterSet {
    /// Copies every parameter from `file`, where parameter `name` is stored as `fileName(name)`, through the one
    /// checked load (``ParameterSet/load(shapes:source:key:allowUnexpected:values:)``).
    /// - Parameter allowUnused: accept tensors of `file` that no parameter takes (inputs, gradients, …).
    /// - Throws: ``ParameterLoadError`` naming every missing, unused and misshapen tensor; ``SafeTensorsError`` for
    ///   one that cannot be read as floats.
    public func load(from file: SafeTensors, fileName: (String) -> String = { $0 }, allowUnused: Bool = false) throws {
        try load(shapes: file.tensors.mapValues(\.shape), source: file.source, key: fileName,
                 allowUnexpected: allowUnused, values: file.floats)
    }
}
