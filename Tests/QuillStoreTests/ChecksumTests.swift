import CQuillKernels
import Foundation
import QuillTestSupport
import Testing
@testable import QuillStore

/// CRC32C itself: the standard's check values, on both paths (the SSE4.2 instruction and the portable table).
@Suite struct CRC32CTests {
    /// RFC 3720 (iSCSI) B.4 and the usual check value.
    static let vectors: [(name: String, bytes: [UInt8], crc: UInt32)] = [
        ("empty", [], 0),
        ("123456789", Array("123456789".utf8), 0xE306_9283),
        ("32 zeros", [UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ("32 ones", [UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ("0 ..< 32", (0..<32).map { UInt8($0) }, 0x46DD_794E),
        ("31 ... 0", (0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
    ]

    @Test(arguments: [Int32(0), 1])
    func knownVectors(path: Int32) {
        for vector in Self.vectors {
            let crc = vector.bytes.withUnsafeBytes { quill_crc32c_on_path(path, 0, $0.baseAddress, $0.count) }
            #expect(crc == vector.crc, "\(vector.name) on path \(path)")
        }
        #expect(CRC32C.checksum("123456789") == 0xE306_9283)
    }

    @Test func pathsAgreeAtEveryLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<1_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for count in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 991 - start] {
                    let base = raw.baseAddress! + start
                    #expect(quill_crc32c_on_path(0, 0, base, count) == quill_crc32c_on_path(1, 0, base, count))
                    #expect(quill_crc32c_on_path(0, 0, base, count) == quill_crc32c(0, base, count))
                }
            }
        }
    }

    @Test func continuingEqualsTheWhole() {
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        text.withUnsafeBytes { raw in
            var crc = CRC32C()
            crc.update(UnsafeRawBufferPointer(rebasing: raw[..<10]))
            crc.update(UnsafeRawBufferPointer(rebasing: raw[10...]))
            #expect(crc.value == CRC32C.checksum(raw))
            #expect(crc.value == 0x2262_0404)
        }
    }
}

/// Every tensor and vocabulary carries a checksum, verified on load; damage is an error naming the record.
@Suite struct StoredChecksumTests {
    @Test(arguments: StoreLocation.allCases)
    func savedRowsCarryTheirChecksums(location: StoreLocation) throws {
        try withStore(location) { store throws in
            try saveSampleModel(in: store)
            let run = try store.createRun(name: "r", configJSON: "{}")
            try store.saveCheckpoint(run: run, step: 5, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [3])])
            #expect(try rowCount("tensors", in: store, where: "checksum IS NULL") == 0)
            #expect(try rowCount("vocabularies", in: store, where: "checksum IS NULL") == 0)
            // The stored value is the CRC32C of the data column, as any client can recompute it.
            let tensor = makeTensor("decoder.bias", [8])
            let stored = try store.database.scalarInt("SELECT checksum FROM tensors WHERE name = 'decoder.bias'")
            #expect(stored == Int64(tensor.values.withUnsafeBytes { CRC32C.checksum($0) }))
        }
    }

    @Test(arguments: StoreLocation.allCases)
    func aFlippedByteInAModelTensorIsAnError(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let id = try saveSampleModel(in: store)
            try flipByte(ofTensor: "rnn.0.weightIH", in: store, at: 17)
            let error = #expect(throws: StoreError.self) { try store.tensors(ofModel: id) }
            guard case let .checksumMismatch(path, record, stored, computed)? = error else {
                Issue.record("\(String(describing: error))"); return
            }
            #expect(path == store.path && stored != computed)
            #expect(record == "tensor 'rnn.0.weightIH' of model 'm'")
            #expect(error!.description.contains("is damaged") && error!.description.contains("retrain or re-import"))
        }
    }

    @Test func aFlippedByteInACheckpointTensorIsAnError() throws {
        let store = try Store(path: ":memory:")
        let run = try store.createRun(name: "r", configJSON: "{}")
        try store.saveCheckpoint(run: run, step: 40, epoch: 1, stateJSON: "{}", tensors: [makeTensor("adam.m", [4])])
        try flipByte(ofTensor: "adam.m", in: store, at: 3)
        let error = #expect(throws: StoreError.self) { try store.latestCheckpoint(run: run) }
        guard case let .checksumMismatch(_, record, _, _)? = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(record == "tensor 'adam.m' of checkpoint step 40 of run #\(run)")
    }

    /// Counts are not part of the fingerprint (they do not change token ids), so before the checksum a damaged
    /// count loaded silently.
    @Test func aDamagedVocabularyIsAnError() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        try store.database.execute("UPDATE vocabulary_tokens SET count = count + 1 WHERE token_id = 5")
        let error = #expect(throws: StoreError.self) { try store.vocabulary(named: "v") }
        guard case let .checksumMismatch(_, record, _, _)? = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(record == "vocabulary 'v'")
    }

    /// Found by the store fuzzer (scripts/fuzz.sh store): a negative count crashed the checksum ("Negative value is
    /// not representable") instead of being reported. The fuzzer's input, as it was, and the same damage made by hand.
    @Test func aNegativeCountIsDamageNotACrash() throws {
        let fixture = try TestSupport.fixture("fuzz-store-negative-count.sqlite")
        try withTemporaryPath { copy in
            try FileManager.default.copyItem(atPath: fixture.path, toPath: copy.path)
            #expect(throws: StoreError.self) {
                let store = try Store(path: copy.path, create: false)
                for record in try store.vocabularies() { _ = try store.vocabulary(id: record.id) }
            }
        }
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        // The table's CHECK refuses it; damage on disk is not checked.
        try store.database.execute("PRAGMA ignore_check_constraints = ON")
        try store.database.execute("UPDATE vocabulary_tokens SET count = -3 WHERE token_id = 5")
        let error = #expect(throws: StoreError.self) { try store.vocabulary(named: "v") }
        #expect(error?.description.contains("negative count") == true, "\(String(describing: error))")
    }

    @Test func replacingAVocabularyRewritesItsChecksum() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        try store.saveVocabulary(makeVocabulary(["a", "b"]), name: "v", replace: true)
        #expect(try store.vocabulary(named: "v") == makeVocabulary(["a", "b"]))
    }

    /// Rows written before migration 4 have NULL and load unverified; the schema refuses new rows without one.
    @Test func rowsWithoutAChecksumLoadAndNewOnesNeedOne() throws {
        let store = try Store(path: ":memory:")
        let id = try saveSampleModel(in: store)
        try store.database.execute("UPDATE tensors SET checksum = NULL")
        try store.database.execute("UPDATE vocabularies SET checksum = NULL")
        #expect(try store.tensors(ofModel: id).count == 2)
        #expect(try store.vocabulary(named: "v") == makeVocabulary())
        let report = try store.check()
        #expect(report.isSound && report.verified == 0 && report.unverified == 3)

        let error = #expect(throws: StoreError.self) {
            try store.database.execute("""
                INSERT INTO tensors(model_id, name, shape_json, element_count, data) VALUES (?, 'x', '[]', 0, x'')
                """, id)
        }
        #expect(error?.description.contains("needs its checksum") == true)
    }

    @Test func checkNamesEveryDamagedRecord() throws {
        let store = try Store(path: ":memory:")
        try saveSampleModel(in: store)
        let run = try store.createRun(name: "r", configJSON: "{}")
        try store.saveCheckpoint(run: run, step: 7, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [3])])
        let sound = try store.check()
        #expect(sound.isSound && sound.integrity == ["ok"] && sound.verified == 4 && sound.unverified == 0)

        try flipByte(ofTensor: "decoder.bias", in: store)
        try flipByte(ofTensor: "w", in: store, at: 11)
        try store.database.execute("UPDATE vocabulary_tokens SET count = 99 WHERE token_id = 4")
        let report = try store.check()
        #expect(!report.isSound)
        #expect(report.damage.map(\.kind) == ["vocabulary", "model", "checkpoint"])
        #expect(report.damage.map(\.owner) == ["v", "m", "run #\(run) step 7"])
        #expect(report.damage.map(\.tensor) == [nil, "decoder.bias", "w"])
        #expect(report.damage.allSatisfy { $0.problem.contains("checksum") })
    }
}

/// Damage below the records: a page of the file overwritten. SQLite notices it only on the pages it walks.
@Suite struct DamagedPageTests {
    /// A file store holding vocabulary `v` of 3000 tokens, with 32 bytes in the middle of one of its
    /// `vocabulary_tokens` leaf pages (not the last) overwritten; `nil` where SQLite has no `dbstat` table.
    static func withDamagedVocabularyPage(_ body: (TemporaryPath) throws -> Void) throws {
        try withTemporaryPath { temporary in
            let page: Int64?, pageSize: Int64
            do {
                let store = try Store(path: temporary.path)
                try store.saveVocabulary(makeVocabulary((0..<3000).map { "token\($0)" }), name: "v")
                pageSize = try store.database.scalarInt("PRAGMA page_size")
                page = try? store.database.queryFirst("""
                    SELECT pageno FROM dbstat WHERE name = 'vocabulary_tokens' AND pagetype = 'leaf'
                    ORDER BY pageno LIMIT 1 OFFSET 1
                    """) { $0.int64(0) }
            }
            guard let page else { return }
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: temporary.path))
            try file.seek(toOffset: UInt64((page - 1) * pageSize + pageSize / 2))
            try file.write(contentsOf: Data([UInt8](repeating: 0xDE, count: 32)))
            try file.close()
            try body(temporary)
        }
    }

    @Test func aVocabularyIsNotWrittenIntoDamagedTables() throws {
        try Self.withDamagedVocabularyPage { temporary in
            let store = try Store(path: temporary.path)
            let error = #expect(throws: StoreError.self) { try store.saveVocabulary(makeVocabulary(), name: "w") }
            guard case let .corrupt(path, reason)? = error else {
                Issue.record("\(String(describing: error))"); return
            }
            #expect(path == temporary.path && reason.contains("table vocabulary_tokens is damaged"))
            #expect(try store.vocabularyID(named: "w") == nil)
        }
    }

    @Test func checkReportsTheDamagedFileWithoutThrowing() throws {
        try Self.withDamagedVocabularyPage { temporary in
            let report = try Store(path: temporary.path, mode: .readOnly).check()
            #expect(!report.isSound && report.integrity != ["ok"])
            #expect(report.damage.contains { $0.kind == "file" })
            #expect(report.damage.contains { $0.kind == "vocabulary" && $0.owner == "v" })
        }
    }
}
