import Testing
@testable import QuillStore

@Suite("Tensors")
struct TensorTests {
    /// Values whose bits a careless encoding would change.
    static let awkwardValues: [Float] = [
        0, -0.0, 1, -1, .pi, .infinity, -.infinity,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Float(bitPattern: 0x0040_0001),  // subnormals
        .nan, -.nan, Float(bitPattern: 0x7FC1_2345),  // quiet NaNs, one with a payload
        Float(bitPattern: 0x7FA0_0001), Float(bitPattern: 0xFF80_0001),  // signalling NaNs
    ]

    @Test("values round-trip bit for bit", arguments: StoreLocation.allCases)
    func bitExactRoundTrip(location: StoreLocation) throws {
        var random = SystemRandomNumberGenerator()
        let randomBits = (0..<1_000).map { _ in Float(bitPattern: random.next()) }
        let tensor = StoredTensor(name: "awkward", shape: [2, 509],
                                  values: TensorTests.awkwardValues + randomBits)
        try withStore(location) { store throws in
            try store.saveVocabulary(makeVocabulary(), name: "v")
            let id = try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                         tensors: [tensor])
            let loaded = try store.tensors(ofModel: id)
            #expect(loaded.count == 1)
            expectBitExact(loaded[0], tensor)
            #expect(loaded == [tensor])  // `==` is bitwise, so NaNs compare equal to themselves
        }
    }

    @Test("the BLOB is little-endian Float32, shape JSON an array")
    func encoding() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                            tensors: [StoredTensor(name: "w", shape: [1, 3], values: [1, -2, 0x1p-149])])
        let row = try store.database.queryFirst(
            "SELECT hex(data), shape_json, dtype, element_count FROM tensors") {
            [$0.string(0), $0.string(1), $0.string(2), $0.string(3)]
        }
        #expect(row == ["0000803F000000C001000000", "[1,3]", "f32", "3"])
    }

    @Test("a 1M-value tensor round-trips", arguments: StoreLocation.allCases)
    func largeTensor(location: StoreLocation) throws {
        let count = 1 << 20
        let values = (0..<count).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0 &* 2_654_435_761)) }
        let tensor = StoredTensor(name: "embedding.weight", shape: [1_024, 1_024], values: values)
        try withStore(location) { store throws in
            try store.saveVocabulary(makeVocabulary(), name: "v")
            let id = try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                         tensors: [tensor])
            let loaded = try store.tensors(ofModel: id)
            #expect(loaded.count == 1)
            expectBitExact(loaded[0], tensor)
            #expect(try store.info().tensorBytes == Int64(4 * count))
        }
    }

    @Test("scalars and empty tensors round-trip")
    func scalarAndEmpty() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        let tensors = [StoredTensor(name: "a.scalar", shape: [], values: [42]),
                       StoredTensor(name: "b.empty", shape: [0, 3], values: [])]
        let id = try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                     tensors: tensors)
        #expect(try store.tensors(ofModel: id) == tensors)
    }

    @Test("tensors come back by name")
    func orderedByName() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        let names = ["rnn.1.weightHH", "decoder.weight", "embedding.weight", "rnn.0.weightIH"]
        let id = try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                     tensors: names.map { makeTensor($0, [2]) })
        #expect(try store.tensors(ofModel: id).map(\.name) == names.sorted())
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        let tensor: StoredTensor
        let reason: String
        var testDescription: String { "\(tensor.name) \(tensor.shape) ×\(tensor.values.count)" }
    }

    static let invalid = [
        Invalid(tensor: StoredTensor(name: "short", shape: [2, 3], values: [1, 2, 3, 4, 5]),
                reason: "shape [2, 3] holds 6 values, but 5 were given"),
        Invalid(tensor: StoredTensor(name: "long", shape: [2], values: [1, 2, 3]),
                reason: "shape [2] holds 2 values, but 3 were given"),
        Invalid(tensor: StoredTensor(name: "scalar", shape: [], values: []),
                reason: "shape [] holds 1 values, but 0 were given"),
        Invalid(tensor: StoredTensor(name: "negative", shape: [-1, -2], values: [1, 2]),
                reason: "shape [-1, -2] has a negative dimension or more values than an Int counts"),
        Invalid(tensor: StoredTensor(name: "huge", shape: [1 << 40, 1 << 40], values: []),
                reason: "shape [1099511627776, 1099511627776] has a negative dimension "
                    + "or more values than an Int counts"),
        Invalid(tensor: StoredTensor(name: "", shape: [1], values: [1]), reason: "the name is empty"),
    ]

    @Test("a tensor whose values do not match its shape is refused", arguments: invalid)
    func invalidTensorRefused(_ invalid: Invalid) throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        let error = #expect(throws: StoreError.self) {
            try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                tensors: [makeTensor("ok", [2]), invalid.tensor])
        }
        #expect(error == .invalidTensor(name: invalid.tensor.name, reason: invalid.reason))
        #expect(try rowCount("models", in: store) == 0)
        #expect(try rowCount("tensors", in: store) == 0)
    }

    @Test("two tensors of one name in one save are refused")
    func duplicateNames() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        let error = #expect(throws: StoreError.self) {
            try store.saveModel(name: "m", kind: "test", hyperparametersJSON: "{}", vocabulary: "v",
                                tensors: [makeTensor("w", [2]), makeTensor("w", [3])])
        }
        #expect(error == .invalidTensor(name: "w", reason: "the name appears twice in one save"))
    }

    @Test("the schema refuses a BLOB whose length does not match element_count, or a tensor with two owners")
    func schemaChecks() throws {
        let store = try Store(path: ":memory:")
        let modelID = try saveSampleModel(in: store)
        let wrongLength = #expect(throws: StoreError.self) {
            try store.database.execute("""
                INSERT INTO tensors(model_id, name, dtype, shape_json, element_count, data, checksum)
                VALUES (?, 'x', 'f32', '[2]', 2, x'00000000', 0)
                """, modelID)
        }
        #expect(sqliteCode(wrongLength) == 275)  // SQLITE_CONSTRAINT_CHECK
        let noOwner = #expect(throws: StoreError.self) {
            try store.database.execute("""
                INSERT INTO tensors(name, dtype, shape_json, element_count, data, checksum)
                VALUES ('x', 'f32', '[1]', 1, x'00000000', 0)
                """)
        }
        #expect(sqliteCode(noOwner) == 275)
        let float16 = #expect(throws: StoreError.self) {
            try store.database.execute("""
                INSERT INTO tensors(model_id, name, dtype, shape_json, element_count, data, checksum)
                VALUES (?, 'x', 'f16', '[1]', 1, x'00000000', 0)
                """, modelID)
        }
        #expect(sqliteCode(float16) == 275)
    }

    @Test("a stored shape that does not match the data is reported as corruption")
    func corruptShape() throws {
        let store = try Store(path: ":memory:")
        let modelID = try saveSampleModel(in: store)
        try store.database.execute("UPDATE tensors SET shape_json = '[3, 3]' WHERE name = 'decoder.bias'")
        let error = #expect(throws: StoreError.self) { try store.tensors(ofModel: modelID) }
        guard case let .corrupt(_, reason)? = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("decoder.bias"))
    }
}
