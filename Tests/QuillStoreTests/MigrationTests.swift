import Foundation
import Testing
@testable import QuillStore
import QuillTestSupport

@Suite("Migrations")
struct MigrationTests {
    static let tables = ["checkpoints", "metrics", "models", "quill_versions", "runs", "schema_migrations", "tensors",
                         "vocabularies", "vocabulary_merges", "vocabulary_tokens"]

    @Test("a fresh store has every migration, recorded and in user_version", arguments: StoreLocation.allCases)
    func freshStoreHasAllMigrations(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let applied = try store.appliedMigrations()
            #expect(applied.map(\.version) == Schema.migrations.map(\.version))
            #expect(applied.map(\.name) == Schema.migrations.map(\.name))
            #expect(applied.first?.name == "create-core-tables")
            #expect(applied.allSatisfy { $0.appliedAt.hasSuffix("Z") && $0.appliedAt.contains("T") })
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
            #expect(try store.database.scalarInt("PRAGMA user_version") == Int64(Store.currentSchemaVersion))
            #expect(try store.database.scalarInt("PRAGMA application_id") == 0x5155_494C)
            let tables = try store.database.query(
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.string(0) }
            #expect(tables == MigrationTests.tables)
        }
    }

    @Test("reopening a current store applies nothing again")
    func reopeningIsANoOp() throws {
        try withTemporaryPath { temporary in
            let first = try Store(path: temporary.path).appliedMigrations()
            let second = try Store(path: temporary.path).appliedMigrations()
            #expect(first == second)
        }
    }

    @Test("a store left at version 0 is migrated by the next open")
    func versionZeroStoreIsMigrated() throws {
        try withTemporaryPath { temporary in
            do {
                let old = try Store(path: temporary.path, create: true, migrations: [])
                #expect(try old.schemaVersion() == 0)
                #expect(try rowCount("sqlite_schema", in: old, where: "name = 'vocabularies'") == 0)
            }
            let store = try Store(path: temporary.path)
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
            try saveSampleModel(in: store)
            #expect(try store.models().map(\.name) == ["m"])
        }
    }

    @Test("adding a migration is one entry: an older store gets it on open, keeping its data")
    func addedMigrationIsApplied() throws {
        let addNotes = Migration(version: Schema.migrations.count + 1, name: "add-run-notes",
                                 sql: "ALTER TABLE runs ADD COLUMN notes TEXT; CREATE INDEX runs_by_name ON runs(name)")
        try withTemporaryPath { temporary in
            let runID = try Store(path: temporary.path).createRun(name: "r", configJSON: "{}")

            let newer = try Store(path: temporary.path, create: false, migrations: Schema.migrations + [addNotes])
            #expect(try newer.appliedMigrations().map(\.name) == Schema.migrations.map(\.name) + ["add-run-notes"])
            #expect(try newer.database.scalarInt("PRAGMA user_version") == Int64(addNotes.version))
            #expect(try rowCount("pragma_table_info('runs')", in: newer, where: "name = 'notes'") == 1)
            #expect(try newer.run(id: runID).name == "r")
        }
    }

    @Test("a migration recorded under another name is refused")
    func renamedMigrationIsRefused() throws {
        try withTemporaryPath { temporary in
            try Store(path: temporary.path).database.execute(
                "UPDATE schema_migrations SET name = 'something-else' WHERE version = 1")
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path) }
            guard case let .corrupt(path, reason)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(path == temporary.path)
            #expect(reason.contains("something-else") && reason.contains("create-core-tables"))
        }
    }
}

/// `quill_versions`: the release that creates a store is recorded once; opening it again, even for writing, writes
/// nothing; a store upgraded from before the table records the upgrading release.
@Suite struct QuillVersionRecordTests {
    @Test func theVersionHasTheFormOfARelease() {
        let parts = QuillVersion.current.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(QuillVersion.current)")
    }

    @Test func creationIsRecordedAndAnOpenWritesNothing() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("s.sqlite").path
            _ = try Store(path: path, mode: .create)
            let recorded = try Store(path: path, mode: .readOnly).quillVersions()
            #expect(recorded.map(\.version) == [QuillVersion.current])
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = try Store(path: path, mode: .readWrite)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            #expect(try Store(path: path, mode: .readOnly).quillVersions() == recorded)
        }
    }
}
