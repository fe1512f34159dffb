import Foundation

/// A problem reading (or writing) a safetensors file; every case names the file and, where one is at fault, the tensor.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The file could not be written.
    case unwritable(file: String, reason: String)
    /// Fewer than 8 bytes, or a header length that runs past the end of the file.
    case truncatedHeader(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not a JSON object of the expected form.
    case invalidHeader(file: String, reason: String)
    /// An entry of the header is malformed (missing or ill-typed `dtype`, `shape` or `data_offsets`).
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A `dtype` this reader does not know.
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// `data_offsets` reach past the end of the data (a truncated file).
    case dataOutOfBounds(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// The byte range does not hold `shape`'s element count of `dtype`.
    case sizeMismatch(file: String, tensor: String, expectedBytes: Int, actualBytes: Int)
    /// No tensor of that name.
    case missingTensor(file: String, tensor: String)
    /// The tensor's dtype cannot be read as the requested element type.
    case wrongDType(file: String, tensor: String, dtype: String, requested: String)
    /// An integer that does not fit the requested type.
    case valueOutOfRange(file: String, tensor: String, index: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .unwritable(file, reason): return "\(file): cannot write: \(reason)"
        case let .truncatedHeader(file, length, size):
            return "\(file): truncated: header of \(length) bytes announced, file has \(size) bytes"
        case let .invalidHeader(file, reason): return "\(file): invalid header: \(reason)"
        case let .invalidEntry(file, tensor, reason): return "\(file): tensor '\(tensor)': \(reason)"
        case let .unsupportedDType(file, tensor, dtype): return "\(file): tensor '\(tensor)': unsupported dtype \(dtype)"
        case let .dataOutOfBounds(file, tensor, begin, end, size):
            return "\(file): tensor '\(tensor)': data_offsets [\(begin), \(end)] outside the \(size) data bytes "
                + "(truncated file?)"
        case let .sizeMismatch(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)': shape and dtype need \(expected) bytes, data_offsets span \(actual)"
        case let .missingTensor(file, tensor): return "\(file): no tensor '\(tensor)'"
        case let .wrongDType(file, tensor, dtype, requested):
            return "\(file): tensor '\(tensor)' is \(dtype), cannot be read as \(requested)"
        case let .valueOutOfRange(file, tensor, index):
            return "\(file): tensor '\(tensor)': element \(index) out of range"
        }
    }
}

/// A safetensors file read into memory: named tensors with dtype and shape, and the `__metadata__` strings.
///
/// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length `N`, `N` bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, then the raw
/// little-endian data; offsets are relative to the first data byte. Every entry is checked when the file is opened,
/// so a truncated or corrupt file fails at once, naming the file and the tensor.
public struct SafeTensors: Sendable {
    /// An element type of the format.
    public enum DType: String, Sendable, CaseIterable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .F64, .I64, .U64: return 8
            case .F32, .I32, .U32: return 4
            case .F16, .BF16, .I16, .U16: return 2
            case .I8, .U8, .BOOL: return 1
            }
        }
    }

    /// One tensor's header entry.
    public struct Info: Equatable, Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// The byte range in the data section.
        public let range: Range<Int>
        /// The number of elements, the product of `shape` (1 for a scalar `[]`).
        public var count: Int { shape.reduce(1, *) }
    }

    /// The file name (or a description of the source) used in errors.
    public let source: String
    /// The tensors, by name.
    public let tensors: [String: Info]
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// The data section.
    private let data: [UInt8]

    /// The tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Reads and checks the file at `url`.
    /// - Throws: ``SafeTensorsError``.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw SafeTensorsError.unreadable(file: url.path, reason: "\(error.localizedDescription)")
        }
        try self.init(bytes: [UInt8](bytes), source: url.path)
    }

    /// Parses and checks a whole file held in `bytes`; `source` names it in errors.
    /// - Throws: ``SafeTensorsError``.
    public init(bytes: [UInt8], source: String) throws {
        self.source = source
        guard bytes.count >= 8 else {
            throw SafeTensorsError.truncatedHeader(file: source, headerLength: 0, fileSize: bytes.count)
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError.truncatedHeader(file: source, headerLength: length, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw SafeTensorsError.invalidHeader(file: source, reason: "not JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(file: source, reason: "not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var tensors: [String: Info] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let object = value as? [String: Any] else {
                    throw SafeTensorsError.invalidHeader(file: source, reason: "__metadata__ is not an object")
                }
                for (key, item) in object {
                    guard let string = item as? String else {
                        throw SafeTensorsError.invalidHeader(file: source, reason: "__metadata__.\(key) is not a string")
                    }
                    metadata[key] = string
                }
                continue
            }
            tensors[name] = try Self.parseEntry(name: name, value: value, source: source)
        }
        // Bounds in data order, so a truncated file names the first tensor that runs past the end.
        for info in tensors.values.sorted(by: { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) })
        where info.range.upperBound > dataSize {
            throw SafeTensorsError.dataOutOfBounds(file: source, tensor: info.name, begin: info.range.lowerBound,
                                                   end: info.range.upperBound, dataSize: dataSize)
        }
        self.tensors = tensors
        self.metadata = metadata
        self.data = Array(bytes[headerEnd...])
    }

    private static func parseEntry(name: String, value: Any, source: String) throws -> Info {
        func invalid(_ reason: String) -> SafeTensorsError {
            .invalidEntry(file: source, tensor: name, reason: reason)
        }
        guard let entry = value as? [String: Any] else { throw invalid("entry is not an object") }
        guard let dtypeName = entry["dtype"] as? String else { throw invalid("missing dtype") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafeTensorsError.unsupportedDType(file: source, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = entry["shape"] as? [Any] else { throw invalid("missing shape") }
        let shape = try shapeValues.map { item -> Int in
            guard let n = integer(item), n >= 0 else { throw invalid("shape \(shapeValues) is not non-negative integers") }
            return n
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
              let begin = integer(offsets[0]), let end = integer(offsets[1])
        else { throw invalid("data_offsets is not two integers") }
        guard begin >= 0, begin <= end else { throw invalid("data_offsets [\(begin), \(end)] are reversed") }
        let (elements, overflow1) = shape.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        let (expected, overflow2) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow1, !overflow2, expected == end - begin else {
            throw SafeTensorsError.sizeMismatch(file: source, tensor: name, expectedBytes: expected,
                                                actualBytes: end - begin)
        }
        return Info(name: name, dtype: dtype, shape: shape, range: begin..<end)
    }

    /// A JSON number as an exact integer.
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let d = number.doubleValue
        guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return number.intValue
    }

    /// The entry named `name`.
    /// - Throws: ``SafeTensorsError/missingTensor(file:tensor:)``.
    public func info(_ name: String) throws -> Info {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(file: source, tensor: name) }
        return info
    }

    /// The shape of `name`.
    public func shape(_ name: String) throws -> [Int] { try info(name).shape }

    /// The elements of `name` as `Float`: F32 as stored, F64 rounded.
    /// - Throws: ``SafeTensorsError`` for a missing tensor or another dtype.
    public func floats(_ name: String) throws -> [Float] {
        let info = try info(name)
        switch info.dtype {
        case .F32: return read(info, as: UInt32.self).map { Float(bitPattern: $0) }
        case .F64: return read(info, as: UInt64.self).map { Float(Double(bitPattern: $0)) }
        default: throw SafeTensorsError.wrongDType(file: source, tensor: name, dtype: info.dtype.rawValue,
                                                   requested: "Float")
        }
    }

    /// The elements of `name` as `Double`: F64 as stored, F32 widened.
    public func doubles(_ name: String) throws -> [Double] {
        let info = try info(name)
        switch info.dtype {
        case .F64: return read(info, as: UInt64.self).map { Double(bitPattern: $0) }
        case .F32: return read(info, as: UInt32.self).map { Double(Float(bitPattern: $0)) }
        default: throw SafeTensorsError.wrongDType(file: source, tensor: name, dtype: info.dtype.rawValue,
                                                   requested: "Double")
        }
    }

    /// The elements of `name` as `Int64`: I64 as stored; I32, I16, I8 and unsigned types up to U32 widened.
    public func int64s(_ name: String) throws -> [Int64] {
        let info = try info(name)
        switch info.dtype {
        case .I64: return read(info, as: UInt64.self).map { Int64(bitPattern: $0) }
        case .I32: return read(info, as: UInt32.self).map { Int64(Int32(bitPattern: $0)) }
        case .I16: return read(info, as: UInt16.self).map { Int64(Int16(bitPattern: $0)) }
        case .I8: return read(info, as: UInt8.self).map { Int64(Int8(bitPattern: $0)) }
        case .U32: return read(info, as: UInt32.self).map { Int64($0) }
        case .U16: return read(info, as: UInt16.self).map { Int64($0) }
        case .U8, .BOOL: return read(info, as: UInt8.self).map { Int64($0) }
        default: throw SafeTensorsError.wrongDType(file: source, tensor: name, dtype: info.dtype.rawValue,
                                                   requested: "Int64")
        }
    }

    /// The elements of `name` as `Int32` (token ids): any integer dtype whose values fit.
    /// - Throws: ``SafeTensorsError/valueOutOfRange(file:tensor:index:)`` for a value that does not fit.
    public func int32s(_ name: String) throws -> [Int32] {
        try int64s(name).enumerated().map { index, value in
            guard let narrow = Int32(exactly: value) else {
                throw SafeTensorsError.valueOutOfRange(file: source, tensor: name, index: index)
            }
            return narrow
        }
    }

    /// The raw elements of `info` as little-endian integers of `T`'s width.
    private func read<T: FixedWidthInteger>(_ info: Info, as _: T.Type) -> [T] {
        let count = info.count
        return data.withUnsafeBytes { raw in
            (0..<count).map { i in
                T(littleEndian: raw.loadUnaligned(fromByteOffset: info.range.lowerBound + i * MemoryLayout<T>.size,
                                                  as: T.self))
            }
        }
    }
}
