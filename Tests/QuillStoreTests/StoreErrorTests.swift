import Testing
@testable import QuillStore

@Suite("Error descriptions")
struct StoreErrorTests {
    static let cases: [(StoreError, [String])] = [
        (.sqlite(code: 5, message: "database is locked", sql: "BEGIN IMMEDIATE", path: "q.sqlite"),
         ["q.sqlite", "database is locked", "BEGIN IMMEDIATE", "another process"]),
        (.storeNotFound(path: "q.sqlite"), ["q.sqlite", "another store"]),
        (.notAQuillStore(path: "q.sqlite", reason: "it is not a SQLite database"),
         ["q.sqlite", "not a SQLite database", "another store"]),
        (.newerSchema(path: "q.sqlite", found: 3, supported: 1), ["q.sqlite", "3", "1", "use a newer quill"]),
        (.pragmaRefused(path: "q.sqlite", pragma: "journal_mode = WAL", expected: "wal", answer: "delete"),
         ["q.sqlite", "'delete'", "local disk"]),
        (.corrupt(path: "q.sqlite", reason: "vocabulary 'v': token id 5 is missing"), ["q.sqlite", "token id 5"]),
        (.notFound(kind: "model", name: "ptb"), ["model", "'ptb'"]),
        (.alreadyExists(kind: "vocabulary", name: "v"), ["vocabulary", "'v'", "replace"]),
        (.inUse(kind: "vocabulary", name: "v", users: ["model 'm'"]), ["'v'", "in use by model 'm'", "delete it"]),
        (.invalidTensor(name: "w", reason: "shape [2] holds 2 values, but 3 were given"), ["'w'", "3 were given"]),
        (.checksumMismatch(path: "q.sqlite", record: "tensor 'w' of model 'm'", stored: 0xE306_9283, computed: 1),
         ["q.sqlite", "tensor 'w' of model 'm' is damaged", "0xE3069283", "0x00000001", "retrain or re-import",
          "backup"]),
        (.directoryNotWritable(path: "/srv/q.sqlite", directory: "/srv"),
         ["/srv/q.sqlite", "directory /srv is not writable", "-wal and -shm", "chmod u+w /srv"]),
        (.emptyStore(path: "q.sqlite"), ["q.sqlite", "empty file", "left untouched", "create the store first"]),
    ]

    @Test("each description names what failed and what to do", arguments: cases)
    func description(error: StoreError, fragments: [String]) {
        for fragment in fragments {
            #expect(error.description.contains(fragment), "\(error.description) lacks \(fragment)")
        }
    }
}
