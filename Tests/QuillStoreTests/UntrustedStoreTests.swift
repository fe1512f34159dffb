import Foundation
import Testing
@testable import QuillStore

/// A store file may come from anywhere. Nothing in it, and no SQL that reaches Quill's connection, can make Quill
/// write to another file; and Quill itself builds no SQL from strings (every value is a bound parameter).
@Suite("An untrusted store file")
struct UntrustedStoreTests {
    @Test("ATTACH and VACUUM INTO, the SQL ways to write another file, are refused")
    func noOtherFile() throws {
        try withTemporaryPath { path in
            let store = try Store(path: path.path)
            let other = path.path + ".other"
            #expect(throws: StoreError.self) { try store.database.execute("ATTACH DATABASE ? AS other", other) }
            #expect(throws: StoreError.self) { try store.database.execute("SELECT load_extension(?)", other) }
            #expect(!FileManager.default.fileExists(atPath: other))
            // VACUUM INTO writes through an attached copy, so it fails too.
            #expect(throws: StoreError.self) { try store.database.execute("VACUUM INTO ?", other) }
            #expect(!FileManager.default.fileExists(atPath: other))
        }
    }

    @Test("a trigger planted in the file cannot load code, and the save it hooks fails whole")
    func plantedTrigger() throws {
        try withTemporaryPath { path in
            let evil = path.path + ".so"
            do {
                let store = try Store(path: path.path)
                try store.saveVocabulary(makeVocabulary(["a"]), name: "first")
            }
            // Another program adds a trigger to the file (as any sqlite3 client could).
            let raw = try Database(path: path.path, mode: .readWrite)
            try raw.executeScript("""
                CREATE TRIGGER planted AFTER INSERT ON vocabularies
                BEGIN SELECT load_extension('\(evil)'); END;
                """)
            let store = try Store(path: path.path, create: false)
            #expect(throws: StoreError.self) { try store.saveVocabulary(makeVocabulary(["b"]), name: "second") }
            #expect(try store.vocabularies().map(\.name) == ["first"])
            #expect(!FileManager.default.fileExists(atPath: evil))
        }
    }

    /// Every SQL string in the sources passed to the database is a literal; the only interpolations are of SQL
    /// fragments that are themselves literals in the code (listed here, each with where its value comes from). A new
    /// interpolation fails this test: bind the value with `?` instead.
    @Test("the sources build no SQL from values")
    func boundParameters() throws {
        let allowed: Set<String> = [
            "Schema.now",            // a constant SQL expression
            "Schema.applicationID",  // a constant integer
            "migration.version",     // an integer of the compiled-in migrations
            "condition", "order",    // private helpers' literal WHERE / ORDER BY fragments (callers checked below)
            "newestFirst ? \"DESC\" : \"ASC\"",
            "column",                // `model_id` or `checkpoint_id`, chosen by a switch
            "table",                 // names from a literal list of the schema's tables
        ]
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let calls = try NSRegularExpression(pattern:
            #"(?:database|db)\.(?:execute|executeScript|prepare|query|queryFirst|scalarInt|scalarText)\(\s*(?:"""((?s:.*?))"""|"((?:[^"\\]|\\.)*)")"#)
        let interpolation = try NSRegularExpression(pattern: #"\\\(((?:[^()]|\([^()]*\))*)\)"#)
        let helperCalls = try NSRegularExpression(pattern: #"Records\(where: (?!")"#)
        var found: [String] = [], checked = 0
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let all = NSRange(text.startIndex..., in: text)
            for match in calls.matches(in: text, range: all) {
                checked += 1
                let body = [1, 2].compactMap { Range(match.range(at: $0), in: text).map { String(text[$0]) } }.first!
                for i in interpolation.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
                    let expression = String(body[Range(i.range(at: 1), in: body)!])
                    if !allowed.contains(expression) { found.append("\(file): \\(\(expression))") }
                }
            }
            for match in helperCalls.matches(in: text, range: all) {
                found.append("\(file): a WHERE fragment that is not a literal at offset \(match.range.location)")
            }
        }
        #expect(checked > 50, "the scan found too few SQL calls: has the database API changed?")
        #expect(found.isEmpty, "SQL built from values: \(found)")
    }
}
