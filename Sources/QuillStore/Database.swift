import CSQLite
import Foundation

/// One connection to a SQLite file, turning every failing C call into a ``StoreError`` that names the SQL and the file.
///
/// Internal: ``Store`` is the public face. The connection is opened in SQLite's multi-thread mode
/// (`SQLITE_OPEN_NOMUTEX`), so it must be used from one thread at a time, which is why neither this class nor
/// ``Store`` is `Sendable`.
final class Database {
    /// The path given to `sqlite3_open_v2`, repeated in every error.
    let path: String
    let handle: OpaquePointer

    /// Opens the file (read-only, read-write, or creating it); nothing is read from it yet.
    ///
    /// - Parameter immutable: Read-only, open the file as SQLite's `immutable=1` URI: no locks, no `-shm`, no
    ///   `-wal` (for a store in a directory nobody can write to; see ``Store/init(path:mode:)``).
    init(path: String, mode: Store.OpenMode, immutable: Bool = false) throws {
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var name = path
        if immutable {
            precondition(mode == .readOnly, "only a read-only connection can treat the file as immutable")
            flags |= SQLITE_OPEN_URI
            let absolute = URL(fileURLWithPath: path).path
                .replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "?", with: "%3f")
                .replacingOccurrences(of: "#", with: "%23")
            name = "file:\(absolute)?immutable=1"
        }
        var db: OpaquePointer?
        let code = sqlite3_open_v2(name, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            // Even a failed open usually allocates a handle that carries the message; it must still be closed.
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(db)
            throw StoreError.sqliteFailure(code: code, message: message, sql: nil, path: path)
        }
        self.path = path
        self.handle = db
        // Extended codes tell SQLITE_CONSTRAINT_FOREIGNKEY from SQLITE_CONSTRAINT_UNIQUE in errors.
        sqlite3_extended_result_codes(db, 1)
        // A store may come from anywhere: nothing in it may make this connection touch another file.
        let hardened = csqlite_harden(db)
        guard hardened == SQLITE_OK else { throw failure(hardened, sql: nil) }
    }

    deinit {
        // `close_v2` defers the close until the last statement is finalized; statements hold a strong reference to
        // their database anyway, so by now there are none.
        sqlite3_close_v2(handle)
    }

    /// The error for a result code, with SQLite's message for this connection.
    func failure(_ code: Int32, sql: String?) -> StoreError {
        .sqliteFailure(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql, path: path)
    }

    /// Compiles one SQL statement.
    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK else { throw failure(code, sql: sql) }
        guard let statement else {
            throw StoreError.sqlite(code: SQLITE_MISUSE, message: "no SQL statement in the text", sql: sql, path: path)
        }
        return Statement(database: self, handle: statement, sql: sql)
    }

    /// Runs one statement with arguments bound to its `?` parameters, ignoring any rows.
    func execute(_ sql: String, _ arguments: any SQLConvertible...) throws {
        try prepare(sql).run(arguments)
    }

    /// Runs every statement of a script (e.g. a migration), in order; an error names the statement that failed.
    func executeScript(_ script: String) throws {
        try script.withCString { start in
            var next: UnsafePointer<CChar>? = start
            while let current = next, current.pointee != 0 {
                var statement: OpaquePointer?
                let code = sqlite3_prepare_v2(handle, current, -1, &statement, &next)
                guard code == SQLITE_OK else { throw failure(code, sql: String(cString: current)) }
                guard let statement else { continue }  // only whitespace or a comment was left
                defer { sqlite3_finalize(statement) }
                var step: Int32
                repeat { step = sqlite3_step(statement) } while step == SQLITE_ROW
                guard step == SQLITE_DONE else { throw failure(step, sql: String(cString: sqlite3_sql(statement))) }
            }
        }
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ arguments: any SQLConvertible..., row: (Statement) throws -> T) throws -> [T] {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// Runs a query and maps its first row, if any.
    func queryFirst<T>(_ sql: String, _ arguments: any SQLConvertible..., row: (Statement) throws -> T) throws -> T? {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        return try statement.step() ? row(statement) : nil
    }

    /// The integer in the first column of the first row (`PRAGMA user_version`, `SELECT count(*) …`).
    func scalarInt(_ sql: String, _ arguments: any SQLConvertible...) throws -> Int64 {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        guard try statement.step() else {
            throw StoreError.sqlite(code: SQLITE_MISUSE, message: "the query returned no row", sql: sql, path: path)
        }
        return statement.int64(0)
    }

    /// The text in the first column of the first row (`PRAGMA journal_mode`).
    func scalarText(_ sql: String) throws -> String {
        let statement = try prepare(sql)
        guard try statement.step() else {
            throw StoreError.sqlite(code: SQLITE_MISUSE, message: "the query returned no row", sql: sql, path: path)
        }
        return statement.string(0)
    }

    /// The rowid of the last row inserted by this connection.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The number of rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether a transaction is open on this connection.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// How a transaction starts.
    enum TransactionKind: String {
        /// Takes the write lock at once, so a second writer waits (up to the busy timeout) at `BEGIN` rather than
        /// failing halfway through: for every transaction that writes.
        case immediate = "BEGIN IMMEDIATE"
        /// Takes no lock until the first read: for several reads that must see one snapshot.
        case deferred = "BEGIN DEFERRED"
    }

    /// Runs `body`, which only reads, in one snapshot (`BEGIN DEFERRED`), then ends it with `ROLLBACK`: there is
    /// nothing to commit, and ending it cannot fail the reads (on a damaged file even `COMMIT` of a read can report
    /// the damage again). Inside another transaction `body` simply joins it.
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        if isInTransaction { return try body() }
        try executeScript(TransactionKind.deferred.rawValue)
        defer { if isInTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) } }
        return try body()
    }

    /// Runs `body` in a transaction: `BEGIN IMMEDIATE`, then `COMMIT`, or `ROLLBACK` if anything throws.
    ///
    /// Called inside another transaction, `body` simply joins it: the outer one commits or rolls back everything.
    func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if isInTransaction { return try body() }
        try executeScript(kind.rawValue)
        do {
            let result = try body()
            try executeScript("COMMIT")
            return result
        } catch {
            // A failed COMMIT may already have ended the transaction; rolling back twice would be an error of its own.
            if isInTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }
}

/// A compiled statement. Parameters are 1-based (as in SQLite), columns 0-based.
final class Statement {
    let database: Database
    let handle: OpaquePointer
    let sql: String

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw database.failure(code, sql: sql) }
    }

    // MARK: Binding

    func bind(_ value: Int64, at index: Int32) throws { try check(sqlite3_bind_int64(handle, index, value)) }

    func bind(_ value: Double, at index: Int32) throws { try check(sqlite3_bind_double(handle, index, value)) }

    /// Binds text; SQLite copies it (`SQLITE_TRANSIENT`), so the string need not outlive the call.
    func bind(_ value: String, at index: Int32) throws {
        var value = value
        let code = value.withUTF8 { utf8 in
            // A nil pointer would bind NULL, not the empty string.
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                return sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text64(handle, index, $0, sqlite3_uint64(utf8.count), csqlite_transient(),
                                    UInt8(SQLITE_UTF8))
            }
        }
        try check(code)
    }

    /// Binds bytes **without copying them** (`SQLITE_STATIC`).
    ///
    /// The bytes must stay valid until the statement has been stepped and then reset with ``clearBindings()``:
    /// SQLite reads them during `step`, and a later `step` without rebinding would read them again.
    func bind(blob: UnsafeRawBufferPointer, at index: Int32) throws {
        // A nil pointer would bind NULL; a zero-length blob is a real (empty) value.
        guard let base = blob.baseAddress, !blob.isEmpty else {
            return try check(sqlite3_bind_zeroblob(handle, index, 0))
        }
        try check(sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(blob.count), nil))
    }

    func bindNull(at index: Int32) throws { try check(sqlite3_bind_null(handle, index)) }

    func bind(_ value: SQLValue, at index: Int32) throws {
        switch value {
        case let .integer(v): try bind(v, at: index)
        case let .real(v): try bind(v, at: index)
        case let .text(v): try bind(v, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds values to parameters 1, 2, …
    func bind(_ values: [any SQLConvertible]) throws {
        for (i, value) in values.enumerated() { try bind(value.sqlValue, at: Int32(i + 1)) }
    }

    /// Forgets every binding (so no parameter still points at bytes bound with ``bind(blob:at:)``).
    func clearBindings() { sqlite3_clear_bindings(handle) }

    // MARK: Stepping

    /// Advances to the next row: `true` if there is one, `false` when the statement is done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw database.failure(code, sql: sql)
        }
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    ///
    /// `sqlite3_reset` repeats the error of a failed step, which ``step()`` has already thrown, so it is ignored here.
    func reset() { sqlite3_reset(handle) }

    /// Binds `arguments`, steps until done and resets: one reusable INSERT, UPDATE or DELETE.
    func run(_ arguments: [any SQLConvertible] = []) throws {
        defer { reset() }
        try bind(arguments)
        while try step() {}
    }

    // MARK: Columns

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    /// Text read by its byte length, so a NUL inside the text survives.
    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeRawBufferPointer(start: text, count: count), as: UTF8.self)
    }

    func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }

    /// Lends the bytes of a BLOB column; they are valid only inside `body` (until the next step).
    func withBlob<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let bytes = sqlite3_column_blob(handle, column)  // before `column_bytes`, as SQLite's docs advise
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
    }
}

/// A value SQLite stores. BLOBs are bound separately, with ``Statement/bind(blob:at:)``, so that they are not copied.
enum SQLValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}

/// A Swift value that binds as a SQL value.
protocol SQLConvertible {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLConvertible {
    var sqlValue: SQLValue { self }
}

extension Int64: SQLConvertible {
    var sqlValue: SQLValue { .integer(self) }
}

extension Int: SQLConvertible {
    var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Double: SQLConvertible {
    /// SQLite has no NaN: it stores a bound NaN as NULL.
    var sqlValue: SQLValue { .real(self) }
}

extension String: SQLConvertible {
    var sqlValue: SQLValue { .text(self) }
}

extension Optional: SQLConvertible where Wrapped: SQLConvertible {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
