import Foundation

/// A named Float32 tensor as the store keeps it: a dotted name (`rnn.0.weightIH`), a shape, and the values in
/// row-major order.
///
/// In the `tensors` table the values are one BLOB of little-endian IEEE-754 binary32, 4 bytes per value, written and
/// read bit for bit: -0.0, NaN payloads, subnormals and infinities come back unchanged.
public struct StoredTensor: Equatable, Sendable {
    /// A stable dotted key, unique within its model or checkpoint.
    public var name: String
    /// Dimensions, outermost first; `[]` is a scalar (one value).
    public var shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// Bitwise equality: the same name, shape and value bit patterns, so a tensor holding NaN equals itself and
    /// `0.0` differs from `-0.0`. This is "would be stored as the same bytes".
    public static func == (a: StoredTensor, b: StoredTensor) -> Bool {
        a.name == b.name && a.shape == b.shape && a.values.count == b.values.count
            && a.values.withUnsafeBytes { x in b.values.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    /// The number of values a shape holds, or `nil` with a negative dimension or an `Int` overflow.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Checks the tensor can be stored.
    func validate() throws {
        guard !name.isEmpty else { throw StoreError.invalidTensor(name: name, reason: "the name is empty") }
        guard let count = StoredTensor.elementCount(of: shape) else {
            throw StoreError.invalidTensor(
                name: name, reason: "shape \(shape) has a negative dimension or more values than an Int counts")
        }
        guard count == values.count else {
            throw StoreError.invalidTensor(
                name: name, reason: "shape \(shape) holds \(count) values, but \(values.count) were given")
        }
    }
}

/// Float32 ↔ little-endian bytes.
enum TensorEncoding {
    /// The shape as a JSON array of integers: `[2,3]`.
    static func shapeJSON(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    static func shape(fromJSON json: String) -> [Int]? {
        try? JSONDecoder().decode([Int].self, from: Data(json.utf8))
    }

    /// Lends the values as little-endian bytes. On little-endian machines (all Swift targets today) these are the
    /// array's own bytes, not a copy.
    static func withLittleEndianBytes<R>(of values: [Float], _ body: (UnsafeRawBufferPointer) throws -> R)
        rethrows -> R
    {
        #if _endian(little)
        return try values.withUnsafeBytes(body)
        #else
        return try values.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
        #endif
    }

    /// Decodes little-endian bytes (a multiple of 4) into values, bit for bit.
    static func values(fromLittleEndian bytes: UnsafeRawBufferPointer) -> [Float] {
        let count = bytes.count / 4
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            // A byte copy, never a float load and store, so signalling NaNs keep their payload.
            if count > 0 {
                let whole = UnsafeRawBufferPointer(rebasing: bytes[..<(4 * count)])
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: whole)
            }
            #else
            for i in 0..<count {
                let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                buffer[i] = Float(bitPattern: bits)
            }
            #endif
            initialized = count
        }
    }
}

/// Whom a tensor row belongs to: exactly one model or one checkpoint (a CHECK in the schema).
enum TensorOwner {
    case model(Int64)
    case checkpoint(Int64)
}

extension Store {
    /// Inserts tensors with one reused statement, binding each tensor's values without copying them.
    ///
    /// Each tensor is validated just before its row is written, so a bad one fails the enclosing transaction.
    func insertTensors(_ tensors: [StoredTensor], owner: TensorOwner) throws {
        let insert = try database.prepare("""
            INSERT INTO tensors(model_id, checkpoint_id, name, dtype, shape_json, element_count, data, checksum)
            VALUES (?, ?, ?, 'f32', ?, ?, ?, ?)
            """)
        var names = Set<String>()
        let crashPoint: String
        switch owner {
        case .model: crashPoint = "model-tensors"
        case .checkpoint: crashPoint = "checkpoint-tensors"
        }
        for (i, tensor) in tensors.enumerated() {
            if i == tensors.count / 2 { CrashPoint.reach(crashPoint) }
            try tensor.validate()
            guard names.insert(tensor.name).inserted else {
                throw StoreError.invalidTensor(name: tensor.name, reason: "the name appears twice in one save")
            }
            switch owner {
            case let .model(id): try insert.bind([id, SQLValue.null])
            case let .checkpoint(id): try insert.bind([SQLValue.null, id])
            }
            try insert.bind(tensor.name, at: 3)
            try insert.bind(TensorEncoding.shapeJSON(tensor.shape), at: 4)
            try insert.bind(Int64(tensor.values.count), at: 5)
            try TensorEncoding.withLittleEndianBytes(of: tensor.values) { bytes in
                defer {
                    insert.reset()
                    insert.clearBindings()  // the blob binding points into `values`, valid only here
                }
                try insert.bind(blob: bytes, at: 6)
                try insert.bind(Int64(StoredChecksum.tensor(bytes)), at: 7)
                while try insert.step() {}
            }
        }
    }

    /// The tensors of one owner, by name, each checked against its shape.
    func loadTensors(_ owner: TensorOwner) throws -> [StoredTensor] {
        let (column, id): (String, Int64) = switch owner {
        case let .model(id): ("model_id", id)
        case let .checkpoint(id): ("checkpoint_id", id)
        }
        return try database.query(
            """
            SELECT name, dtype, shape_json, element_count, data, checksum FROM tensors WHERE \(column) = ?
            ORDER BY name
            """, id
        ) { row in
            let name = row.string(0)
            let dtype = row.string(1)
            guard dtype == "f32" else {
                throw StoreError.corrupt(path: path, reason: "tensor '\(name)' has dtype '\(dtype)', not f32")
            }
            guard let shape = TensorEncoding.shape(fromJSON: row.string(2)),
                  let count = StoredTensor.elementCount(of: shape),
                  count == row.int(3)
            else {
                throw StoreError.corrupt(path: path, reason: "tensor '\(name)' has shape \(row.string(2)), "
                    + "which does not hold its \(row.int(3)) values")
            }
            let values = try row.withBlob(4) { bytes in
                // NULL for a tensor written before schema version 4: loaded unverified.
                if let stored = row.optionalInt64(5).map({ UInt32(truncatingIfNeeded: $0) }) {
                    let computed = StoredChecksum.tensor(bytes)
                    guard computed == stored else {
                        throw StoreError.checksumMismatch(
                            path: path, record: try describe(tensor: name, of: owner), stored: stored,
                            computed: computed)
                    }
                }
                return TensorEncoding.values(fromLittleEndian: bytes)
            }
            guard values.count == count else {  // the schema's CHECK on length(data) makes this unreachable
                throw StoreError.corrupt(path: path, reason: "tensor '\(name)' has \(values.count) values, "
                    + "its shape \(shape) needs \(count)")
            }
            return StoredTensor(name: name, shape: shape, values: values)
        }
    }

    /// "tensor 'decoder.bias' of model 'ptb-lstm'", "tensor 'x' of checkpoint step 1000 of run #3": for errors.
    func describe(tensor name: String, of owner: TensorOwner) throws -> String {
        switch owner {
        case let .model(id):
            let model = try database.queryFirst("SELECT name FROM models WHERE id = ?", id) { $0.string(0) }
            return "tensor '\(name)' of model '\(model ?? "#\(id)")'"
        case let .checkpoint(id):
            let place = try database.queryFirst("SELECT run_id, step FROM checkpoints WHERE id = ?", id) {
                "checkpoint step \($0.int(1)) of run #\($0.int64(0))"
            }
            return "tensor '\(name)' of \(place ?? "checkpoint #\(id)")"
        }
    }
}
