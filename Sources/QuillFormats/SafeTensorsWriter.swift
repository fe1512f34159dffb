import Foundation

/// Writes F32 tensors in the safetensors format that ``SafeTensors`` reads (and Hugging Face's `safetensors`,
/// PyTorch's `safetensors.torch.load_file`, …).
///
/// Layout, as the reference implementation writes it: an 8-byte little-endian header length `N`; `N` bytes of JSON,
/// `{"__metadata__": {..}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..}`, padded with
/// spaces so the data starts 8-byte aligned; then the data, little-endian, tensors one after the other **in name
/// order** with no gaps (offsets relative to the first data byte).
///
///     var writer = SafeTensorsWriter(metadata: ["format": "pt"])
///     try writer.add("decoder.bias", shape: [37], values: bias)
///     try writer.write(to: URL(fileURLWithPath: "model.safetensors"))
public struct SafeTensorsWriter: Sendable {
    /// The `__metadata__` strings (left out of the header when empty).
    public var metadata: [String: String]
    private var tensors: [String: (shape: [Int], values: [Float])] = [:]

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The names added so far, sorted (the order of the data).
    public var names: [String] { tensors.keys.sorted() }

    /// Adds a tensor of `values` in row-major order.
    /// - Throws: ``SafeTensorsError/invalidEntry(file:tensor:reason:)`` for an empty or repeated name, the reserved
    ///   name `__metadata__`, a negative dimension, or a value count that is not the product of the shape.
    public mutating func add(_ name: String, shape: [Int], values: [Float]) throws {
        func invalid(_ reason: String) -> SafeTensorsError {
            .invalidEntry(file: "<writer>", tensor: name, reason: reason)
        }
        guard !name.isEmpty, name != "__metadata__" else { throw invalid("reserved or empty name") }
        guard tensors[name] == nil else { throw invalid("added twice") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw invalid("shape \(shape) has a negative dimension") }
        guard shape.reduce(1, *) == values.count else {
            throw invalid("shape \(shape) holds \(shape.reduce(1, *)) values, \(values.count) given")
        }
        tensors[name] = (shape, values)
    }

    /// The header's JSON (sorted keys, no padding).
    func headerJSON() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let end = offset + 4 * tensor.values.count
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, end]] as [String: Any]
            offset = end
        }
        return try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// The whole file.
    public func bytes() throws -> [UInt8] {
        var header = [UInt8](try headerJSON())
        while header.count % 8 != 0 { header.append(0x20) }  // data 8-byte aligned, as safetensors pads
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + 4 * tensors.values.reduce(0) { $0 + $1.values.count })
        let length = UInt64(header.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        bytes += header
        for name in names {
            for value in tensors[name]!.values {
                let bits = value.bitPattern  // bit-exact: -0, NaN payloads and subnormals are kept
                bytes.append(UInt8(truncatingIfNeeded: bits))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return bytes
    }

    /// Writes the file atomically (to a temporary name beside it, then renamed).
    /// - Throws: ``SafeTensorsError/unwritable(file:reason:)`` when it cannot be written.
    public func write(to url: URL) throws {
        let data = Data(try bytes())
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
