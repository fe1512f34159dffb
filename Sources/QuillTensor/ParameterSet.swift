/// A problem building or loading a ``ParameterSet``.
public enum ParameterSetError: Error, Equatable, CustomStringConvertible {
    /// Two parameters with the same name.
    case duplicateName(String)
    /// A name that is empty or has an empty dotted component (`rnn..weight`).
    case invalidName(String)
    /// A negative extent.
    case invalidShape(name: String, shape: [Int])

    public var description: String {
        switch self {
        case .duplicateName(let name): "duplicate parameter name '\(name)'"
        case .invalidName(let name): "invalid parameter name '\(name)'"
        case .invalidShape(let name, let shape): "invalid shape \(shape) for parameter '\(name)'"
        }
    }
}

/// All parameters of a model in one flat 64-byte aligned buffer, each tensor a named view; gradients in a twin
/// buffer of the same layout.
///
/// So an optimizer step is one loop over ``values`` and ``gradients``, zeroing gradients is one memset, and a
/// checkpoint is a few blobs. Each tensor starts on a 64-byte boundary (a multiple of 16 floats); the padding between
/// tensors holds zeros in both buffers, so whole-buffer loops (optimizers, clipping) leave it at zero.
public final class ParameterSet: @unchecked Sendable {
    /// One named tensor of the set.
    public struct Entry: Equatable, Sendable {
        /// The dotted key, e.g. `rnn.0.weightIH`: the checkpoint's name.
        public let name: String
        /// The extents, row-major.
        public let shape: [Int]
        /// The index of the first element in the flat buffers (a multiple of 16).
        public let offset: Int
        /// The number of elements.
        public let count: Int
    }

    /// Floats per 64-byte slot: every tensor starts at a multiple of this.
    public static let slotAlignment = AlignedBuffer.alignment / MemoryLayout<Float>.stride

    /// The tensors, in insertion order.
    public let entries: [Entry]
    /// All parameter values, padding included.
    public let values: AlignedBuffer
    /// All gradients, same layout as ``values``.
    public let gradients: AlignedBuffer
    private let index: [String: Int]

    /// Lays out `layout` (names and shapes, in order) in one zeroed buffer.
    /// - Throws: ``ParameterSetError`` for a duplicate or empty name or a negative extent.
    public init(_ layout: [(name: String, shape: [Int])]) throws {
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var offset = 0
        for (name, shape) in layout {
            let components = name.split(separator: ".", omittingEmptySubsequences: false)
            guard !name.isEmpty, !components.contains(where: \.isEmpty) else { throw ParameterSetError.invalidName(name) }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw ParameterSetError.invalidShape(name: name, shape: shape) }
            guard index[name] == nil else { throw ParameterSetError.duplicateName(name) }
            let count = shape.reduce(1, *)
            index[name] = entries.count
            entries.append(Entry(name: name, shape: shape, offset: offset, count: count))
            let slot = ParameterSet.slotAlignment
            offset += (count + slot - 1) / slot * slot
        }
        self.entries = entries
        self.index = index
        values = AlignedBuffer(count: offset)
        gradients = AlignedBuffer(count: offset)
    }

    /// The names, in insertion order.
    public var names: [String] { entries.map(\.name) }

    /// The number of scalars in the flat buffers, padding included.
    public var flatCount: Int { values.count }

    /// The number of parameters (scalars), padding excluded.
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    /// The entry named `name`, or nil.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The value tensor named `name` (a view into ``values``), or nil.
    public func value(_ name: String) -> Tensor? {
        entry(name).map { Tensor(storage: values, offset: $0.offset, shape: $0.shape) }
    }

    /// The gradient tensor named `name` (a view into ``gradients``), or nil.
    public func gradient(_ name: String) -> Tensor? {
        entry(name).map { Tensor(storage: gradients, offset: $0.offset, shape: $0.shape) }
    }

    /// Sets every gradient to zero (one memset).
    public func zeroGradients() { gradients.zero() }
}
