import Foundation
import QuillTestSupport
import QuillText
import Testing
@testable import QuillStore

/// A store made by the release before migration 3 (`Tests/Fixtures/store-schema-v2.sqlite`, made by the `quill` of
/// commit fdf3353; Tests/Fixtures/README.md has the commands) opens with today's code, migrates to the latest
/// version, and keeps everything it held.
@Suite struct StoreFixtureMigrationTests {
    /// Everything the fixture holds, read through the store's API.
    struct Snapshot {
        var vocabulary: Vocabulary
        var model: ModelRecord
        var modelTensors: [StoredTensor]
        var runs: [RunRecord]
        var checkpoints: [CheckpointRecord]
        var checkpointTensors: [StoredTensor]
        var metrics: [MetricRow]

        init(_ store: Store) throws {
            vocabulary = try store.vocabulary(named: "tiny-words")
            model = try store.model(named: "tiny-lstm")
            modelTensors = try store.tensors(ofModel: model.id)
            runs = try store.runs()
            checkpoints = try store.checkpoints(run: runs[0].id)
            checkpointTensors = try store.latestCheckpoint(run: runs[0].id)?.1 ?? []
            metrics = try store.metrics(run: runs[0].id)
        }
    }

    /// Every row of every table, each column as SQL's `quote()` gives it (BLOBs in hex): `table → rows`. With
    /// `columns`, only those columns (a migrated table may have gained some).
    static func dump(_ store: Store, columns: [String: [String]]? = nil) throws -> [String: [String]] {
        let tables = try store.database.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name"
        ) { $0.string(0) }
        var rows: [String: [String]] = [:]
        for table in tables {
            guard let names = try columns?[table] ?? (columns == nil ? columnNames(table, store) : nil) else { continue }
            let select = names.map { "quote(\($0))" }.joined(separator: " || '|' || ")
            rows[table] = try store.database.query("SELECT \(select) FROM \(table) ORDER BY 1") { $0.string(0) }
        }
        return rows
    }

    static func columnNames(_ table: String, _ store: Store) throws -> [String] {
        try store.database.query("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid") { $0.string(0) }
    }

    /// A copy of the fixture in a temporary file (opening migrates a store and switches it to WAL: never in place).
    func withCopy<R>(of name: String = "store-schema-v2.sqlite", _ body: (TemporaryPath) throws -> R) throws -> R {
        let fixture = try TestSupport.fixture(name)
        return try withTemporaryPath { temporary in
            try FileManager.default.copyItem(atPath: fixture.path, toPath: temporary.path)
            return try body(temporary)
        }
    }

    @Test func aVersion2StoreMigratesToTheLatestAndKeepsEverything() throws {
        // As the old release sees it: the same file opened with only its two migrations, every row of every table.
        let (before, columns) = try withCopy { copy in
            let old = try Store(path: copy.path, create: false, migrations: Array(Schema.migrations.prefix(2)))
            #expect(try old.schemaVersion() == 2)
            let rows = try Self.dump(old)
            return (rows, try Dictionary(uniqueKeysWithValues: rows.keys.map { ($0, try Self.columnNames($0, old)) }))
        }
        #expect(before["vocabulary_tokens"]?.count == 462 && before["tensors"]?.count == 25)
        try withCopy { copy in
            let store = try Store(path: copy.path, create: false)
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
            #expect(try store.appliedMigrations().map(\.name)
                    == ["create-core-tables", "record-run-owner", "subword-merges-and-translation-vocabularies",
                        "tensor-and-vocabulary-checksums", "record-quill-versions"])
            #expect(try store.database.scalarInt("PRAGMA user_version") == Int64(Store.currentSchemaVersion))
            // Made before versions were recorded: the release that upgraded it is the first on record.
            #expect(try store.quillVersions().map(\.version) == [QuillVersion.current])
            #expect(try Self.dump(store, columns: columns) == before)
            #expect(try Self.columnNames("models", store).last == "target_vocabulary_fingerprint")
            #expect(try rowCount("vocabulary_merges", in: store) == 0)

            // The same, read through today's API.
            let after = try Snapshot(store)

            // What the fixture is known to hold (Tests/Fixtures/README.md).
            #expect(after.vocabulary.count == 462 && after.vocabulary.settings.level == .word)
            #expect(after.vocabulary.fingerprint.hasPrefix("74d407a4fdf3") && after.vocabulary.merges.isEmpty)
            #expect(after.model.kind == "lstm-lm" && after.model.vocabularyFingerprint == after.vocabulary.fingerprint)
            #expect(after.model.targetVocabularyFingerprint == nil)
            #expect(after.modelTensors.reduce(0) { $0 + $1.values.count } == 4_318)
            #expect(after.runs.count == 1 && after.runs[0].status == .finished)
            #expect(after.checkpoints.map(\.step) == [62, 124])
            #expect(after.metrics.count == 4)
            #expect(try rowCount("tensors", in: store) == 25)
            #expect(try store.database.query("PRAGMA integrity_check") { $0.string(0) } == ["ok"])
            #expect(try store.database.query("PRAGMA foreign_key_check") { $0.string(0) }.isEmpty)

            // Rows written before migration 4 have no checksum: they load (above) and check as unverified.
            #expect(try rowCount("tensors", in: store, where: "checksum IS NULL") == 25)
            let report = try store.check()
            #expect(report.isSound && report.verified == 0 && report.unverified == 26)

            // The migrated store takes a BPE vocabulary, with its checksum, and a reopen applies nothing more.
            try store.saveVocabulary(SubwordMergeTests.bpeVocabulary(), name: "bpe")
            #expect(try rowCount("vocabularies", in: store, where: "name = 'bpe' AND checksum IS NOT NULL") == 1)
            #expect(try store.vocabulary(named: "bpe").merges == SubwordMergeTests.bpeVocabulary().merges)
            #expect(try Store(path: copy.path, create: false).appliedMigrations().count == Schema.migrations.count)
        }
    }

    /// A store made by the release before migration 4 (`Tests/Fixtures/store-schema-v3.sqlite`, the `quill` of commit
    /// 7885ce5): a BPE vocabulary with its merges and a model trained on it, all without checksums. It migrates to
    /// the latest version, every row is kept, everything loads unverified, and `check()` finds it sound.
    @Test func aVersion3StoreMigratesAndLoadsWithoutChecksums() throws {
        let (before, columns) = try withCopy(of: "store-schema-v3.sqlite") { copy in
            let old = try Store(path: copy.path, create: false, migrations: Array(Schema.migrations.prefix(3)))
            #expect(try old.schemaVersion() == 3)
            let rows = try Self.dump(old)
            return (rows, try Dictionary(uniqueKeysWithValues: rows.keys.map { ($0, try Self.columnNames($0, old)) }))
        }
        #expect(before["vocabulary_merges"]?.count == 50 && before["tensors"]?.count == 25)
        try withCopy(of: "store-schema-v3.sqlite") { copy in
            // A command that only reads migrates the old store first, then reads.
            let store = try Store(path: copy.path, mode: .readOnly)
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
            #expect(try Self.dump(store, columns: columns) == before)
            #expect(try rowCount("tensors", in: store, where: "checksum IS NULL") == 25)
            #expect(try rowCount("vocabularies", in: store, where: "checksum IS NULL") == 1)

            let vocabulary = try store.vocabulary(named: "tiny-bpe")
            #expect(vocabulary.count == 366 && vocabulary.settings.level == .bpe && vocabulary.merges.count == 50)
            #expect(vocabulary.fingerprint.hasPrefix("71755b5bfea4"))
            let model = try store.model(named: "tiny-bpe-lstm")
            #expect(try store.tensors(ofModel: model.id).reduce(0) { $0 + $1.values.count } == 3_454)
            let run = try #require(try store.runs().first)
            #expect(try store.checkpoints(run: run.id).map(\.step) == [173, 346])
            #expect(try store.latestCheckpoint(run: run.id)?.1.isEmpty == false)
            let report = try store.check()
            #expect(report.isSound && report.verified == 0 && report.unverified == 26)
        }
    }
}
