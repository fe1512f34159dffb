import CSQLite
import Foundation

/// Errors of the store. Each names what failed (the file, the SQL, the record) and says what to do.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A SQLite call failed: its extended result code, SQLite's message, the SQL being run (if any) and the file.
    case sqlite(code: Int32, message: String, sql: String?, path: String)
    /// `Store(path:create: false)` found no file.
    case storeNotFound(path: String)
    /// The file is not a SQLite database, or belongs to another application; Quill writes nothing into it.
    case notAQuillStore(path: String, reason: String)
    /// The store was written by a newer Quill (its schema version is above the latest this code knows).
    case newerSchema(path: String, found: Int, supported: Int)
    /// A pragma Quill relies on answered something else (e.g. `journal_mode=WAL` answered `delete`).
    case pragmaRefused(path: String, pragma: String, expected: String, answer: String)
    /// The store contradicts itself (e.g. a vocabulary's tokens no longer match its fingerprint).
    case corrupt(path: String, reason: String)
    /// A record's bytes no longer give the checksum stored with them (`record` names it: "tensor 'decoder.bias' of
    /// model 'ptb-lstm'", "vocabulary 'ptb'"): the file was damaged after the record was written.
    case checksumMismatch(path: String, record: String, stored: UInt32, computed: UInt32)
    /// The store cannot be written (or, with a `-wal` file but no `-shm`, read) because its directory is not
    /// writable: SQLite creates the `-wal` and `-shm` files beside the store.
    case directoryNotWritable(path: String, directory: String)
    /// The file exists but is empty (0 bytes), and the command opening it does not create stores.
    case emptyStore(path: String)
    /// No record of this kind (`vocabulary`, `model`, `run`) has this name (runs are named `#id`). `closest` lists
    /// the names of that kind the store holds nearest to it (all when few; empty when it holds none; nil when not
    /// looked up), so the message can say what to type instead.
    case notFound(kind: String, name: String, closest: [String]? = nil)
    /// A record of this kind already has this name, and replacing it was not asked for.
    case alreadyExists(kind: String, name: String)
    /// The record is still referenced, e.g. a vocabulary by models; `users` describes each (`model 'ptb-lstm'`).
    case inUse(kind: String, name: String, users: [String])
    /// A tensor cannot be stored as given (empty name, negative dimension, value count not matching the shape).
    case invalidTensor(name: String, reason: String)
    /// A name that breaks ``StoreName``'s rule (a line break, an escape code, only whitespace, too long).
    case invalidName(kind: String, name: String, reason: String)
    /// Any other record cannot be stored as given (an empty name, malformed JSON, an empty token).
    case invalidRecord(kind: String, name: String, reason: String)

    public var description: String {
        switch self {
        case let .sqlite(code, message, sql, path):
            var text = "\(path): SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message)"
            if let sql { text += "\n  while running: \(sql.trimmingWhitespace)" }
            if let hint = StoreError.hint(forSQLiteCode: code) { text += "\n  \(hint)" }
            return text
        case let .storeNotFound(path):
            return "\(path): no such store; check the path or open another store"
        case let .notAQuillStore(path, reason):
            return "\(path) is not a Quill store: \(reason); Quill leaves it untouched, open another store"
        case let .newerSchema(path, found, supported):
            return "\(path) has schema version \(found), but this quill knows versions up to \(supported); "
                + "use a newer quill (the file was left untouched)"
        case let .pragmaRefused(path, pragma, expected, answer):
            var text = "\(path): PRAGMA \(pragma) answered '\(answer)', expected '\(expected)'"
            if pragma.hasPrefix("journal_mode") {
                text += "; WAL needs a local file system with shared memory (not a network share): "
                    + "move the store to a local disk"
            }
            return text
        case let .corrupt(path, reason):
            return "\(path) is inconsistent: \(reason); restore the file from a backup, or delete and recreate "
                + "the damaged record"
        case let .checksumMismatch(path, record, stored, computed):
            return "\(path): \(record) is damaged: its checksum is \(hex32(stored)), but its bytes give "
                + "\(hex32(computed)); check the whole store to list every damaged record, then retrain or re-import "
                + "what is damaged (or restore the file from a backup)"
        case let .directoryNotWritable(path, directory):
            return "\(path): its directory \(directory) is not writable, but SQLite must create the store's -wal and "
                + "-shm files there to write to it (and to read it while only a -wal file is left); make the "
                + "directory writable (chmod u+w \(directory)) or move the store to a writable directory"
        case let .emptyStore(path):
            return "\(path) is an empty file, not a store yet; it was left untouched: create the store first, or "
                + "open another store"
        case let .notFound(kind, name, closest):
            // Runs are known by number (`#3`), the rest by name.
            var text = "no \(kind) " + (name.hasPrefix("#") ? name : "named '\(StoreName.escaped(name))'")
                + " in the store"
            guard let closest else { return text + "; check the name" }
            let plural = kind.hasSuffix("y") ? kind.dropLast() + "ies" : kind + "s"
            if closest.isEmpty { return text + "; it holds no \(plural)" }
            text += closest.count < 5 ? "; it holds " : "; the closest it holds: "
            return text + closest.map { "'\(StoreName.escaped($0))'" }.joined(separator: ", ")
        case let .alreadyExists(kind, name):
            return "a \(kind) named '\(StoreName.escaped(name))' already exists in the store; choose another name or "
                + "ask to replace it"
        case let .inUse(kind, name, users):
            let list = StoreName.escaped(users.joined(separator: ", "))
            return "\(kind) '\(StoreName.escaped(name))' is in use by \(list); delete "
                + "\(users.count == 1 ? "it" : "them") first, or save under another name"
        case let .invalidTensor(name, reason):
            return "tensor '\(name)': \(reason)"
        case let .invalidName(kind, name, reason):
            let shown = StoreName.escaped(name)
            return "invalid \(kind) name '\(shown.count > 60 ? shown.prefix(40) + "…" : shown)': \(reason); "
                + StoreName.rule
        case let .invalidRecord(kind, name, reason):
            return "\(kind) '\(StoreName.escaped(name))': \(reason)"
        }
    }

    /// The error for a failed SQLite call: ``directoryNotWritable(path:directory:)`` when the code says SQLite
    /// could not open or write a file and the store's directory exists but is not writable (SQLite creates the
    /// `-wal`, `-shm` and journal files there), else ``sqlite(code:message:sql:path:)``.
    ///
    /// - Parameter isWritable: Whether an existing directory is writable; tests pass their own (root writes
    ///   everywhere). A missing directory counts as writable: that failure is not about permissions.
    static func sqliteFailure(code: Int32, message: String, sql: String?, path: String,
                              isWritable: (String) -> Bool = { access($0, F_OK) != 0 || access($0, W_OK) == 0 })
        -> StoreError
    {
        let primary = code & 0xFF
        if path != ":memory:", !path.isEmpty,
           primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM
            || primary == SQLITE_IOERR
        {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if !isWritable(directory) { return .directoryNotWritable(path: path, directory: directory) }
        }
        return .sqlite(code: code, message: message, sql: sql, path: path)
    }

    /// What to do about the result codes a user can act on.
    private static func hint(forSQLiteCode code: Int32) -> String? {
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "another process is writing to the store; wait for it to finish, or open another store"
        case SQLITE_CANTOPEN:
            return "check that the directory exists and is writable"
        case SQLITE_READONLY, SQLITE_PERM:
            return "the store is read-only here; check the file's permissions"
        case SQLITE_FULL:
            return "the disk is full; free some space and retry"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return "the file is damaged; restore it from a backup"
        default:
            return nil
        }
    }
}

/// Eight hex digits: `0xE3069283` (a checksum), `0x5155494C` (an application id).
func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

extension String {
    /// The text without leading and trailing spaces and newlines (SQL literals in the source are indented).
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
