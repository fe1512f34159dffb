import Foundation
import QuillText
import Testing
@testable import QuillStore

@Suite("Opening a store")
struct OpeningTests {
    @Test("journal_mode answers wal for a file, memory for :memory:", arguments: StoreLocation.allCases)
    func journalMode(location: StoreLocation) throws {
        try withStore(location) { store throws in
            #expect(try store.info().journalMode == (location == .file ? "wal" : "memory"))
        }
    }

    @Test("foreign keys are on", arguments: StoreLocation.allCases)
    func foreignKeysAreOn(location: StoreLocation) throws {
        try withStore(location) { store throws in
            #expect(try store.database.scalarInt("PRAGMA foreign_keys") == 1)
            #expect(try store.database.scalarInt("PRAGMA busy_timeout") == 5_000)
        }
    }

    @Test("a file is a store again when reopened, with what was saved")
    func reopen() throws {
        try withTemporaryPath { temporary in
            try Store(path: temporary.path).saveVocabulary(makeVocabulary(), name: "v")
            let store = try Store(path: temporary.path, create: false)
            #expect(try store.vocabulary(named: "v") == makeVocabulary())
        }
    }

    @Test("an empty (0-byte) file becomes a store when creating")
    func emptyFileBecomesAStore() throws {
        try withTemporaryPath { temporary in
            #expect(FileManager.default.createFile(atPath: temporary.path, contents: Data()))
            let store = try Store(path: temporary.path, create: true)
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
        }
    }

    /// Found by fuzz/ (fuzz-store): a damaged page listed migration 0 twice, and reading the list trapped.
    @Test("a store that lists a migration twice is corrupt, an error rather than a crash")
    func migrationListedTwice() throws {
        try withTemporaryPath { temporary in
            try Database(path: temporary.path, mode: .create).executeScript("""
                PRAGMA application_id = \(Schema.applicationID);
                CREATE TABLE schema_migrations (version INTEGER, name TEXT, applied_at TEXT);
                INSERT INTO schema_migrations VALUES (1, 'initial', 'then'), (1, 'initial', 'then');
                """)
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path, create: false) }
            #expect(error == .corrupt(path: temporary.path, reason: "migration 1 is recorded twice"))
        }
    }

    @Test("create: false on a missing file is a clear not-found error")
    func missingFile() throws {
        let temporary = TemporaryPath()
        let error = #expect(throws: StoreError.self) { try Store(path: temporary.path, create: false) }
        #expect(error == .storeNotFound(path: temporary.path))
        #expect(error?.description.contains(temporary.path) == true)
        #expect(!FileManager.default.fileExists(atPath: temporary.path))
    }

    @Test("a missing directory is a SQLite error that names the file")
    func missingDirectory() throws {
        let path = TemporaryPath().path + "/missing/quill.sqlite"
        let error = #expect(throws: StoreError.self) { try Store(path: path) }
        #expect(sqliteCode(error) == 14)  // SQLITE_CANTOPEN
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("directory exists") == true)
    }

    @Test("a SQLite file of another application is refused and left untouched")
    func foreignSQLiteFile() throws {
        try withTemporaryPath { temporary in
            do {
                let foreign = try Database(path: temporary.path, mode: .create)
                try foreign.executeScript("CREATE TABLE birds(name TEXT); INSERT INTO birds VALUES ('wren')")
            }
            let before = try temporary.contents()
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path) }
            guard case let .notAQuillStore(path, reason)? = error else {
                Issue.record("expected notAQuillStore, got \(String(describing: error))")
                return
            }
            #expect(path == temporary.path)
            #expect(reason.contains("birds"))
            #expect(error?.description.contains("open another store") == true)
            #expect(try temporary.contents() == before)
        }
    }

    @Test("an empty SQLite file with another application_id is refused")
    func foreignApplicationID() throws {
        try withTemporaryPath { temporary in
            do {
                let foreign = try Database(path: temporary.path, mode: .create)
                try foreign.executeScript("PRAGMA application_id = 1234")
            }
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path) }
            guard case let .notAQuillStore(_, reason)? = error else {
                Issue.record("expected notAQuillStore, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("0x000004D2") && reason.contains("0x5155494C"))
        }
    }

    @Test("a text file is refused as not a SQLite database, and left untouched")
    func textFile() throws {
        try withTemporaryPath(extension: "txt") { temporary in
            let text = Data(String(repeating: "the cat sat on the mat.\n", count: 100).utf8)
            try text.write(to: URL(fileURLWithPath: temporary.path))
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path) }
            #expect(error == .notAQuillStore(path: temporary.path, reason: "it is not a SQLite database"))
            #expect(try temporary.contents() == text)
        }
    }

    enum NewerMark: String, CaseIterable, CustomTestStringConvertible {
        case userVersion
        case migrationRow
        var testDescription: String { rawValue }
    }

    @Test("a newer schema is refused and the file left untouched", arguments: NewerMark.allCases)
    func newerSchema(mark: NewerMark) throws {
        let newer = Store.currentSchemaVersion + 1
        try withTemporaryPath { temporary in
            do {
                let store = try Store(path: temporary.path)
                switch mark {
                case .userVersion:
                    try store.database.executeScript("PRAGMA user_version = \(newer)")
                case .migrationRow:
                    try store.database.execute(
                        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, 'from-the-future', '')",
                        newer)
                }
            }
            let before = try temporary.contents()
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path) }
            #expect(error == .newerSchema(path: temporary.path, found: newer, supported: Store.currentSchemaVersion))
            #expect(error?.description.contains("use a newer quill") == true)
            #expect(try temporary.contents() == before)
        }
    }

    @Test("info counts what the store holds", arguments: StoreLocation.allCases)
    func info(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let modelID = try saveSampleModel(in: store)
            let run = try store.createRun(name: "r", modelID: modelID, configJSON: "{}")
            try store.saveCheckpoint(run: run, step: 1, epoch: 0, stateJSON: "{}", tensors: [makeTensor("w", [3])])
            let info = try store.info()
            #expect(info.path == store.path)
            #expect(info.schemaVersion == Store.currentSchemaVersion)
            #expect(info.migrations.map(\.name) == ["create-core-tables", "record-run-owner",
                                                   "subword-merges-and-translation-vocabularies",
                                                   "tensor-and-vocabulary-checksums", "record-quill-versions"])
            // The release that created the store, recorded once.
            #expect(info.writers.map(\.version) == [QuillVersion.current])
            #expect(info.sqliteVersion.hasPrefix("3."))
            #expect(info.fileBytes > 0)
            #expect(info.vocabularies == 1 && info.models == 1 && info.runs == 1 && info.checkpoints == 1)
            #expect(info.tensors == 3)
            #expect(info.tensorBytes == 4 * (16 * 8 + 8 + 3))
        }
    }
}

@Suite("Two connections to one file")
struct SharingTests {
    @Test("a reader sees the last commit while a writer holds its transaction open (WAL)")
    func readerDuringWrite() throws {
        try withTemporaryPath { temporary in
            let writer = try Store(path: temporary.path)
            let reader = try Store(path: temporary.path, create: false)
            try writer.saveVocabulary(makeVocabulary(), name: "before")

            try writer.database.executeScript("BEGIN IMMEDIATE")
            try writer.database.execute("""
                INSERT INTO vocabularies(name, level, settings_json, fingerprint, size, checksum)
                VALUES ('during', 'word', ?, 'x', 4, 0)
                """, TokenizerSettings().canonicalJSON)
            #expect(try reader.vocabularies().map(\.name) == ["before"])  // not blocked, not dirty
            try writer.database.executeScript("COMMIT")
            #expect(try reader.vocabularies().map(\.name) == ["before", "during"])
        }
    }
}
