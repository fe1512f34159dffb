import Foundation
import QuillTestSupport
import Testing
@testable import QuillStore

/// Damage is found and named (`quill store check`, and every load), commands that read never create a store, and a
/// store in a read-only directory still reads.
@Suite struct StoreIntegrityCommandTests {
    /// Flips one byte of the first (by name) tensor of model `m`, as a damaged disk would; returns the tensor's name.
    static func damageModelTensor(in storePath: String) throws -> String {
        let store = try Store(path: storePath, create: false)
        let (id, name) = try #require(try store.database.queryFirst("""
            SELECT t.id, t.name FROM tensors t JOIN models m ON m.id = t.model_id WHERE m.name = 'm'
            ORDER BY t.name LIMIT 1
            """) { ($0.int64(0), $0.string(1)) })
        var bytes = try #require(try store.database.queryFirst("SELECT data FROM tensors WHERE id = ?", id) {
            $0.withBlob(0) { [UInt8]($0) }
        })
        bytes[5] ^= 0xFF
        let update = try store.database.prepare("UPDATE tensors SET data = ? WHERE id = ?")
        try bytes.withUnsafeBytes { raw in
            try update.bind(blob: raw, at: 1)
            try update.bind(id, at: 2)
            while try update.step() {}
            update.clearBindings()
        }
        return name
    }

    @Test func checkFindsAFlippedByteInAModelTensorAndEvalRefusesIt() throws {
        let cli = try ModelsCommandTests.trained()
        let sound = try cli.run("store", "check")
        expectSuccess(sound)
        #expect(sound.stdout.contains("ok (PRAGMA integrity_check)") && sound.stdout.contains("0 failed"))

        let tensor = try Self.damageModelTensor(in: cli.storePath)
        let text = try cli.write("text.txt", "Ada walked down to the water.\n")
        expectFailure(try cli.run("eval", "--model", "m", "--text", text), status: 1,
                      mentioning: ["tensor '\(tensor)' of model 'm' is damaged", "quill store check"])

        let check = try cli.run("store", "check")
        #expect(check.status == 1)
        #expect(check.stdout.contains("1 failed"))
        let row = try #require(check.stdoutLines.first { $0.hasPrefix("model") })
        #expect(row.contains(" m ") && row.contains(tensor) && row.contains("checksum"))

        let json = try jsonObject(try #require(try cli.run("store", "check", "--format", "jsonl").stdoutLines.first))
        #expect(json["sound"] as? Bool == false)
        let damage = try #require(json["damage"] as? [[String: Any]])
        #expect(damage.count == 1 && damage[0]["kind"] as? String == "model" && damage[0]["owner"] as? String == "m")
        #expect(damage[0]["tensor"] as? String == tensor)
    }

    @Test func checkFindsADamagedVocabulary() throws {
        let (cli, _) = try TrainCommandTests.prepared()
        try Store(path: cli.storePath, create: false).database.execute(
            "UPDATE vocabulary_tokens SET count = count + 1 WHERE token_id = 6")
        expectFailure(try cli.run("vocab", "export", "v"), status: 1,
                      mentioning: ["vocabulary 'v' is damaged", "quill store check"])
        let check = try cli.run("store", "check")
        #expect(check.status == 1)
        #expect(check.stdoutLines.contains { $0.hasPrefix("vocabulary") && $0.contains(" v ") })
    }

    /// The defect as reported: a damaged `vocabulary_tokens` page (not on the path an insert walks) let
    /// `vocab build` write into the file and succeed.
    @Test func vocabBuildRefusesAStoreWithADamagedVocabularyPage() throws {
        let cli = try QuillCLI()
        let words = (0..<3000).map { "word\($0)" }.joined(separator: " ") + "\n"
        let corpus = try cli.write("many.txt", words)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "many"))
        let page: Int64?, pageSize: Int64
        do {
            let store = try Store(path: cli.storePath, mode: .readOnly)
            pageSize = try store.database.scalarInt("PRAGMA page_size")
            page = try? store.database.queryFirst("""
                SELECT pageno FROM dbstat WHERE name = 'vocabulary_tokens' AND pagetype = 'leaf'
                ORDER BY pageno LIMIT 1 OFFSET 1
                """) { $0.int64(0) }
        }
        guard let page else { return }  // no dbstat table in this SQLite
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: cli.storePath))
        try file.seek(toOffset: UInt64((page - 1) * pageSize + pageSize / 2))
        try file.write(contentsOf: Data([UInt8](repeating: 0xDE, count: 32)))
        try file.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: cli.storePath))

        let small = try cli.write("small.txt", smallCorpus)
        expectFailure(try cli.run("vocab", "build", "--corpus", small, "--name", "small"), status: 1,
                      mentioning: ["table vocabulary_tokens is damaged", "nothing was written", "quill store check"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: cli.storePath)) == before)
        let check = try cli.run("store", "check")
        #expect(check.status == 1 && check.stdout.contains("damaged (PRAGMA integrity_check)"))
    }

    @Test(arguments: [["models", "list"], ["vocab", "list"], ["runs", "list"], ["store", "info"],
                      ["store", "check"], ["models", "delete", "m"]])
    func aCommandThatDoesNotCreateLeavesAnEmptyFileEmpty(_ arguments: [String]) throws {
        let cli = try QuillCLI()
        try cli.write("test.sqlite", Data())
        expectFailure(try cli.run(arguments), status: 1, mentioning: ["is an empty file", "quill store init"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: cli.storePath)).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: cli.storePath + "-wal"))
    }

    @Test func storeInitMakesAnEmptyFileAStore() throws {
        let cli = try QuillCLI()
        try cli.write("test.sqlite", Data())
        expectSuccess(try cli.run("store", "init"))
        expectSuccess(try cli.run("models", "list"))
    }

    /// Root writes through permission bits but not into an immutable directory (`chattr +i`); where that cannot be
    /// made, the test does nothing (OpenModeTests covers the error by injection).
    @Test func aStoreInAReadOnlyDirectoryReadsAndNamesTheDirectoryOnWrite() throws {
        let cli = try ModelsCommandTests.trained()
        let text = try cli.write("text.txt", "Ada walked down to the water.\n")
        let directory = cli.directory.url.path
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory)
        let immutable = geteuid() == 0 ? chattr("+i", directory) : true
        defer {
            if geteuid() == 0 { _ = chattr("-i", directory) }
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        }
        guard immutable, !FileManager.default.createFile(atPath: directory + "/probe", contents: nil) else { return }

        for arguments in [["models", "list"], ["models", "show", "m"], ["vocab", "list"], ["runs", "list"],
                          ["store", "info"], ["store", "check"]] {
            expectSuccess(try cli.run(arguments))
        }
        expectSuccess(try cli.run("eval", "--model", "m", "--text", text))
        expectFailure(try cli.run("models", "delete", "m"), status: 1,
                      mentioning: ["directory \(directory) is not writable", "chmod u+w \(directory)"])
    }

    private func chattr(_ flag: String, _ path: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
