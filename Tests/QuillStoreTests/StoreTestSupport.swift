import Foundation
import QuillText
import Testing
@testable import QuillStore

/// Where a test's store lives: the store tests run against both.
enum StoreLocation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case file

    var testDescription: String { rawValue }
}

/// A unique path under the temporary directory, for a store or any other file.
struct TemporaryPath {
    let path: String

    init(extension ext: String = "sqlite") {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("quill-store-test-\(UUID().uuidString).\(ext)").path
    }

    /// Deletes the file and the files SQLite keeps beside it.
    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The file's bytes, to check a refused file was left untouched.
    func contents() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
}

/// Runs `body` with a fresh temporary path, removed afterwards.
func withTemporaryPath<R>(extension ext: String = "sqlite", _ body: (TemporaryPath) throws -> R) rethrows -> R {
    let temporary = TemporaryPath(extension: ext)
    defer { temporary.remove() }
    return try body(temporary)
}

/// Runs `body` with a new, empty store at `location`; a file is removed afterwards.
func withStore<R>(_ location: StoreLocation, _ body: (Store) throws -> R) throws -> R {
    switch location {
    case .memory:
        return try body(Store(path: ":memory:"))
    case .file:
        return try withTemporaryPath { temporary in try body(Store(path: temporary.path)) }
    }
}

/// A small vocabulary: the specials, then `tokens` with decreasing counts.
func makeVocabulary(_ tokens: [String] = ["the", "cat", "sat", "."],
                    settings: TokenizerSettings = TokenizerSettings()) -> Vocabulary {
    Vocabulary(settings: settings, tokens: Vocabulary.specialTokens + tokens,
               counts: [0, 0, 0, 0] + tokens.indices.map { tokens.count - $0 })
}

/// A tensor of the given shape filled with 0, 0.5, 1, …
func makeTensor(_ name: String, _ shape: [Int]) -> StoredTensor {
    let count = shape.reduce(1, *)
    return StoredTensor(name: name, shape: shape, values: (0..<count).map { Float($0) * 0.5 })
}

/// Saves a vocabulary `v` and a model `m` with two tensors; returns the model's id.
@discardableResult
func saveSampleModel(in store: Store, name: String = "m", vocabulary: String = "v") throws -> Int64 {
    if try !store.vocabularies().contains(where: { $0.name == vocabulary }) {
        try store.saveVocabulary(makeVocabulary(), name: vocabulary)
    }
    return try store.saveModel(
        name: name, kind: "lstm-lm", hyperparametersJSON: #"{"hidden":4,"layers":1}"#, vocabulary: vocabulary,
        tensors: [makeTensor("rnn.0.weightIH", [16, 8]), makeTensor("decoder.bias", [8])])
}

/// The number of rows of a table, read with raw SQL.
func rowCount(_ table: String, in store: Store, where condition: String = "1") throws -> Int {
    Int(try store.database.scalarInt("SELECT count(*) FROM \(table) WHERE \(condition)"))
}

/// Expects two tensors to hold the same bits (not just equal floats: -0.0 ≠ 0.0, NaN payloads count).
func expectBitExact(_ actual: StoredTensor, _ expected: StoredTensor,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.name == expected.name, sourceLocation: sourceLocation)
    #expect(actual.shape == expected.shape, sourceLocation: sourceLocation)
    #expect(actual.values.count == expected.values.count, sourceLocation: sourceLocation)
    let firstDifference = zip(actual.values, expected.values).enumerated()
        .first { $0.element.0.bitPattern != $0.element.1.bitPattern }?.offset
    #expect(firstDifference == nil, "first differing value at index \(firstDifference ?? -1)",
            sourceLocation: sourceLocation)
}

/// The SQLite result code of an error, if it is one.
func sqliteCode(_ error: (any Error)?) -> Int32? {
    if case let .sqlite(code, _, _, _)? = error as? StoreError { return code }
    return nil
}

/// Flips one byte of a tensor's stored data in place (as a damaged disk would), through SQL with a bound BLOB.
func flipByte(ofTensor name: String, in store: Store, at offset: Int = 0) throws {
    let id = try #require(try store.database.queryFirst("SELECT id FROM tensors WHERE name = ?", name) { $0.int64(0) })
    var bytes = try #require(try store.database.queryFirst("SELECT data FROM tensors WHERE id = ?", id) { row in
        row.withBlob(0) { [UInt8]($0) }
    })
    bytes[offset] ^= 0x5A
    let update = try store.database.prepare("UPDATE tensors SET data = ? WHERE id = ?")
    try bytes.withUnsafeBytes { raw in
        try update.bind(blob: raw, at: 1)
        try update.bind(id, at: 2)
        while try update.step() {}
        update.clearBindings()
    }
}
