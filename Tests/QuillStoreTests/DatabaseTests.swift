import Testing
@testable import QuillStore

@Suite("Database wrapper")
struct DatabaseTests {
    @Test("a failing statement's error names the SQL, the file, SQLite's message and code")
    func errorNamesTheSQL() throws {
        let database = try Database(path: ":memory:", mode: .create)
        let error = #expect(throws: StoreError.self) { try database.executeScript("SELEC 1") }
        guard case let .sqlite(code, message, sql, path)? = error else {
            Issue.record("expected a SQLite error, got \(String(describing: error))")
            return
        }
        #expect(code == 1)  // SQLITE_ERROR
        #expect(message.contains("syntax error"))
        #expect(sql == "SELEC 1")
        #expect(path == ":memory:")
        #expect(error?.description.contains("SELEC 1") == true)
    }

    @Test("a constraint failure carries the extended result code")
    func extendedCodes() throws {
        let database = try Database(path: ":memory:", mode: .create)
        try database.executeScript("CREATE TABLE t(x INTEGER NOT NULL UNIQUE)")
        try database.execute("INSERT INTO t VALUES (?)", 1)
        let error = #expect(throws: StoreError.self) { try database.execute("INSERT INTO t VALUES (?)", 1) }
        #expect(sqliteCode(error) == 2067)  // SQLITE_CONSTRAINT_UNIQUE
    }

    @Test("a transaction commits, or rolls back everything when its body throws")
    func transactionRollsBack() throws {
        struct Stop: Error {}
        let database = try Database(path: ":memory:", mode: .create)
        try database.executeScript("CREATE TABLE t(x INTEGER)")
        try database.transaction { try database.execute("INSERT INTO t VALUES (1)") }
        #expect(throws: Stop.self) {
            try database.transaction {
                try database.execute("INSERT INTO t VALUES (2)")
                try database.transaction { try database.execute("INSERT INTO t VALUES (3)") }  // joins the outer one
                throw Stop()
            }
        }
        #expect(!database.isInTransaction)
        #expect(try database.query("SELECT x FROM t ORDER BY x") { $0.int(0) } == [1])
    }

    @Test("text round-trips byte for byte, empty and with NUL; NULL stays NULL",
          arguments: ["", "a\0b", "é 🐈‍⬛\n\t"])
    func textRoundTrip(text: String) throws {
        let database = try Database(path: ":memory:", mode: .create)
        let row = try database.queryFirst("SELECT ?, typeof(?1), ?2", text, Optional<String>.none) {
            ($0.string(0), $0.string(1), $0.optionalString(2))
        }
        #expect(row?.0 == text)
        #expect(row?.1 == "text")
        #expect(row?.2 == nil)
    }

    @Test("an empty blob binds as an empty blob, not NULL")
    func emptyBlob() throws {
        let database = try Database(path: ":memory:", mode: .create)
        let statement = try database.prepare("SELECT typeof(?), length(?1)")
        try [UInt8]().withUnsafeBytes { try statement.bind(blob: $0, at: 1) }
        #expect(try statement.step())
        #expect(statement.string(0) == "blob")
        #expect(statement.int(1) == 0)
    }
}
