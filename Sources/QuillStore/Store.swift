import CSQLite
import Foundation
import QuillText

/// One SQLite file holding vocabularies, models and their tensors, training runs, checkpoints and metrics.
///
/// Opening checks that the file is a Quill store (`PRAGMA application_id` is "QUIL"), refuses a schema newer than
/// this code, turns on foreign keys and WAL, and applies any missing migrations. A brand-new or empty file becomes a
/// store only in ``OpenMode/create``; ``OpenMode/readOnly`` writes nothing. See `docs/store.md` for the schema.
///
/// A `Store` is one SQLite connection. Use it from one thread at a time (it is deliberately not `Sendable`); other
/// processes may open the same file meanwhile, and WAL lets them read while one writes.
public final class Store {
    /// `PRAGMA application_id` of every Quill store: "QUIL" in ASCII.
    public static let applicationID: Int32 = Schema.applicationID

    /// The latest schema version this code knows (the version of its last migration).
    public static let currentSchemaVersion: Int = Schema.migrations.last?.version ?? 0

    /// The path the store was opened with (`:memory:` for an in-memory store).
    public let path: String

    let database: Database

    /// How a store is opened.
    public enum OpenMode: Sendable, Equatable {
        /// For commands that only read: the file is opened with `SQLITE_OPEN_READONLY`, nothing is written (not
        /// even `journal_mode`), and a missing or empty file is refused. A store older than this code is migrated
        /// first, through a writing connection, then read.
        case readOnly
        /// For commands that change an existing store: a missing or empty file is refused.
        case readWrite
        /// For commands that may create the store: a missing or empty (0-byte) file becomes a new store.
        case create
    }

    /// The mode the store was opened in.
    public let mode: OpenMode

    /// Opens the store at `path`, creating it if needed.
    ///
    /// - Parameters:
    ///   - path: A file path, or `:memory:` for a store that lives as long as this object.
    ///   - create: Whether to create the store if the file is missing or empty (``OpenMode/create``); else
    ///     ``OpenMode/readWrite``.
    /// - Throws: See ``init(path:mode:)``.
    public convenience init(path: String, create: Bool = true) throws {
        try self.init(path: path, mode: create ? .create : .readWrite, migrations: Schema.migrations)
    }

    /// Opens the store at `path` in a mode.
    ///
    /// - Throws: ``StoreError/storeNotFound(path:)`` if the file is missing and `mode` is not ``OpenMode/create``;
    ///   ``StoreError/emptyStore(path:)`` for an empty file in those modes (left untouched);
    ///   ``StoreError/notAQuillStore(path:reason:)`` for a file that is not SQLite or belongs to another application;
    ///   ``StoreError/newerSchema(path:found:supported:)`` for a store written by a newer Quill;
    ///   ``StoreError/pragmaRefused(path:pragma:expected:answer:)`` if WAL or foreign keys cannot be turned on;
    ///   ``StoreError/directoryNotWritable(path:directory:)`` when writing fails because of the directory.
    public convenience init(path: String, mode: OpenMode) throws {
        try self.init(path: path, mode: mode, migrations: Schema.migrations)
    }

    /// Opens the store, applying only the given migrations: tests use a prefix of ``Schema/migrations`` to make an
    /// old store, or an extra migration to check that adding one is enough.
    convenience init(path: String, create: Bool, migrations: [Migration]) throws {
        try self.init(path: path, mode: create ? .create : .readWrite, migrations: migrations)
    }

    init(path: String, mode: OpenMode, migrations: [Migration]) throws {
        precondition(migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
                     "migration versions count up from 1 without gaps")
        let isMemory = path == ":memory:"
        let mode = isMemory ? .create : mode  // an in-memory database is always new
        if !isMemory, mode != .create, !FileManager.default.fileExists(atPath: path) {
            throw StoreError.storeNotFound(path: path)
        }
        // Identify the file before writing anything, so that a foreign or newer file is left byte-for-byte untouched.
        let supported = migrations.last?.version ?? 0
        var database = try Database(path: path, mode: mode)
        let isNew: Bool, version: Int
        do {
            try Store.setBusyTimeout(database)
            (isNew, version) = try Store.checkIdentity(of: database, supporting: supported)
        } catch StoreError.directoryNotWritable where mode == .readOnly && !Store.hasWriteAheadLog(path) {
            // SQLite reads a WAL database through its -shm file, which it must create when it is missing: in a
            // directory nobody can write to, it cannot. With no -wal file there is no pending commit to read and no
            // writer (a writer needs both files), so the file as it is on disk is the whole store: read it as
            // immutable (no locks, no side files).
            database = try Database(path: path, mode: .readOnly, immutable: true)
            try Store.setBusyTimeout(database)
            (isNew, version) = try Store.checkIdentity(of: database, supporting: supported)
        }
        self.path = path
        self.mode = mode
        self.database = database
        // Only a command that creates stores may turn an empty file into one.
        if isNew, mode != .create { throw StoreError.emptyStore(path: path) }

        try database.executeScript("PRAGMA foreign_keys = ON")
        let foreignKeys = try database.scalarInt("PRAGMA foreign_keys")
        guard foreignKeys == 1 else {
            throw StoreError.pragmaRefused(path: path, pragma: "foreign_keys = ON", expected: "1",
                                           answer: String(foreignKeys))
        }

        if mode == .readOnly {
            // A reader writes nothing: an old store is migrated by a short-lived writing connection, whose changes
            // this connection sees at its next statement.
            if version < supported { _ = try Store(path: path, mode: .readWrite, migrations: migrations) }
            return
        }
        // WAL: readers do not block the writer, and a commit is one append to the log. In-memory databases have no
        // log file and keep answering `memory`.
        let journalMode = try database.scalarText("PRAGMA journal_mode = WAL").lowercased()
        let expectedMode = isMemory ? "memory" : "wal"
        guard journalMode == expectedMode else {
            throw StoreError.pragmaRefused(path: path, pragma: "journal_mode = WAL", expected: expectedMode,
                                           answer: journalMode)
        }

        if isNew {
            try database.transaction {
                try database.executeScript("PRAGMA application_id = \(Schema.applicationID)")
                try database.executeScript(Schema.migrationsTable)
            }
        }
        try migrate(to: migrations)
    }

    /// The releases of Quill that created this store or upgraded its schema, oldest first (empty for a store made
    /// before schema version 5: the release that upgrades it is the first recorded).
    public func quillVersions() throws -> [StoreWriter] {
        let exists = try database.scalarInt(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'quill_versions'")
        guard exists > 0 else { return [] }
        return try database.query("SELECT version, recorded_at FROM quill_versions ORDER BY recorded_at, version") {
            StoreWriter(version: $0.string(0), recordedAt: $0.string(1))
        }
    }

    /// A second process waits up to 5 s for the write lock instead of failing at once with SQLITE_BUSY.
    private static func setBusyTimeout(_ database: Database) throws {
        try database.executeScript("PRAGMA busy_timeout = 5000")
    }

    /// Whether the store has a non-empty `-wal` file beside it (commits not yet folded into the main file).
    private static func hasWriteAheadLog(_ path: String) -> Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int
        return (size ?? 0) > 0
    }

    /// Checks that the file is a Quill store this code can open, reading only.
    ///
    /// - Returns: Whether the file is a new (empty) database, to be made into a store, and its schema version.
    private static func checkIdentity(of database: Database, supporting supported: Int) throws
        -> (isNew: Bool, version: Int)
    {
        let path = database.path
        let applicationID: Int32
        let objects: [String]
        do {
            // The first read of the file: SQLite checks its header here.
            applicationID = Int32(truncatingIfNeeded: try database.scalarInt("PRAGMA application_id"))
            objects = try database.query("SELECT name FROM sqlite_schema ORDER BY name") { $0.string(0) }
        } catch let StoreError.sqlite(code, _, _, _) where code & 0xFF == SQLITE_NOTADB {
            throw StoreError.notAQuillStore(path: path, reason: "it is not a SQLite database")
        }

        guard applicationID == Schema.applicationID else {
            if applicationID != 0 {
                throw StoreError.notAQuillStore(
                    path: path,
                    reason: "it is a SQLite database of another application (application_id "
                        + "\(hex32(UInt32(bitPattern: applicationID))), a Quill store has "
                        + "\(hex32(UInt32(bitPattern: Schema.applicationID))) \"QUIL\")")
            }
            if !objects.isEmpty {
                let shown = objects.prefix(5).joined(separator: ", ") + (objects.count > 5 ? ", …" : "")
                throw StoreError.notAQuillStore(
                    path: path, reason: "it is a SQLite database of another application (it holds \(shown))")
            }
            return (true, 0)
        }

        var found = Int(try database.scalarInt("PRAGMA user_version"))
        if objects.contains("schema_migrations") {
            found = max(found, Int(try database.scalarInt("SELECT ifnull(max(version), 0) FROM schema_migrations")))
        }
        guard found <= supported else {
            throw StoreError.newerSchema(path: path, found: found, supported: supported)
        }
        return (false, found)
    }

    /// Applies the migrations not yet recorded, each in its own transaction, and sets `PRAGMA user_version`.
    private func migrate(to migrations: [Migration]) throws {
        // A damaged file can list a version twice (its primary key is not checked on reading): an error, not a trap.
        var applied: [Int: String] = [:]
        for migration in try appliedMigrations() {
            guard applied.updateValue(migration.name, forKey: migration.version) == nil else {
                throw StoreError.corrupt(path: path, reason: "migration \(migration.version) is recorded twice")
            }
        }
        // From the migration that creates `quill_versions` on (absent from the older prefixes tests open with).
        let versionsTable = migrations.first { $0.name == Schema.quillVersionsMigration }?.version
        for migration in migrations {
            if let name = applied[migration.version] {
                guard name == migration.name else { throw mismatch(migration, recordedAs: name) }
                continue
            }
            try database.transaction {
                // Another process may have applied it since we looked: the write lock is ours now, so look again.
                if let name = try database.queryFirst(
                    "SELECT name FROM schema_migrations WHERE version = ?", migration.version, row: { $0.string(0) })
                {
                    guard name == migration.name else { throw mismatch(migration, recordedAs: name) }
                    return
                }
                try database.executeScript(migration.sql)
                try database.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, \(Schema.now))",
                    migration.version, migration.name)
                try database.executeScript("PRAGMA user_version = \(migration.version)")
                // The release that creates or upgrades the store, in the same transaction as the migration.
                if let since = versionsTable, migration.version >= since {
                    try database.execute(
                        "INSERT OR IGNORE INTO quill_versions(version, recorded_at) VALUES (?, \(Schema.now))",
                        QuillVersion.current)
                }
            }
        }
    }

    private func mismatch(_ migration: Migration, recordedAs name: String) -> StoreError {
        .corrupt(path: path, reason: "migration \(migration.version) is recorded as '\(name)', "
            + "but this quill knows it as '\(migration.name)'")
    }

    // MARK: Information

    /// The migrations applied to this store, by version.
    public func appliedMigrations() throws -> [AppliedMigration] {
        try database.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
            AppliedMigration(version: $0.int(0), name: $0.string(1), appliedAt: $0.string(2))
        }
    }

    /// The store's schema version: the latest migration applied.
    public func schemaVersion() throws -> Int {
        Int(try database.scalarInt("SELECT ifnull(max(version), 0) FROM schema_migrations"))
    }

    /// What the store holds, for `quill store info`.
    public func info() throws -> StoreInfo {
        let count = { (table: String) in Int(try self.database.scalarInt("SELECT count(*) FROM \(table)")) }
        let migrations = try appliedMigrations()
        return StoreInfo(
            path: path,
            schemaVersion: migrations.last?.version ?? 0,
            migrations: migrations,
            journalMode: try database.scalarText("PRAGMA journal_mode"),
            sqliteVersion: String(cString: sqlite3_libversion()),
            fileBytes: try database.scalarInt("PRAGMA page_count") * database.scalarInt("PRAGMA page_size"),
            vocabularies: try count("vocabularies"),
            models: try count("models"),
            runs: try count("runs"),
            checkpoints: try count("checkpoints"),
            tensors: try count("tensors"),
            tensorBytes: try database.scalarInt("SELECT ifnull(sum(length(data)), 0) FROM tensors"),
            writers: try quillVersions())
    }
}

/// A release of Quill that created a store or upgraded its schema (a row of `quill_versions`).
public struct StoreWriter: Codable, Sendable, Equatable {
    public var version: String
    /// ISO-8601 UTC: when it first did.
    public var recordedAt: String
}

/// One row of `schema_migrations`.
public struct AppliedMigration: Codable, Sendable, Equatable {
    public var version: Int
    public var name: String
    /// ISO-8601 UTC.
    public var appliedAt: String
}

/// A summary of a store, from ``Store/info()``.
public struct StoreInfo: Codable, Sendable, Equatable {
    public var path: String
    public var schemaVersion: Int
    public var migrations: [AppliedMigration]
    /// `wal` for a file, `memory` for `:memory:`.
    public var journalMode: String
    /// The version of the SQLite library in use, e.g. `3.40.1`.
    public var sqliteVersion: String
    /// The size of the database (`page_count × page_size`), not counting a WAL file not yet checkpointed into it.
    public var fileBytes: Int64
    public var vocabularies: Int
    public var models: Int
    public var runs: Int
    public var checkpoints: Int
    /// Tensors of models and of checkpoints.
    public var tensors: Int
    /// Bytes of tensor data (4 per value).
    public var tensorBytes: Int64
    /// The releases of Quill that created the store or upgraded its schema, oldest first.
    public var writers: [StoreWriter]
}

