import Foundation
import QuillTestSupport
import Testing

/// `quill store init|info` and how every command finds and checks the store.
struct StoreCommandTests {
    @Test func infoOfAFreshStoreShowsTheSchemaVersion() throws {
        let cli = try QuillCLI()
        let created = try cli.run("store", "init")
        expectSuccess(created)
        #expect(created.stdout.contains("schema version"))

        let text = try cli.run("store", "info")
        expectSuccess(text)
        for fragment in ["path:", cli.storePath, "schema version:", "migrations:", "journal mode:", "wal", "SQLite:",
                         "ICU:", "file size:", "vocabularies:"] {
            #expect(text.stdout.contains(fragment), "info lacks \(fragment): \(text.stdout)")
        }

        let json = try jsonObject(try cli.run("store", "info", "--format", "jsonl").stdout)
        let version = try #require(json["schemaVersion"] as? Int)
        #expect(version >= 1)
        #expect(version == json["supportedSchemaVersion"] as? Int)
        #expect(text.stdout.contains("schema version:  \(version)"))
        #expect((json["migrations"] as? [Any])?.count == version)
        #expect(json["journalMode"] as? String == "wal")
        #expect((json["icuVersion"] as? String)?.isEmpty == false)
        #expect(json["vocabularies"] as? Int == 0)
    }

    @Test func infoCountsVocabularies() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "small"))
        let json = try jsonObject(try cli.run("store", "info", "--format", "jsonl").stdout)
        #expect(json["vocabularies"] as? Int == 1)
    }

    @Test(arguments: [["store", "info"], ["vocab", "list"], ["vocab", "build", "--corpus", "-", "--name", "x"]])
    func aForeignFileIsNotAQuillStore(_ arguments: [String]) throws {
        let cli = try QuillCLI()
        let foreign = try cli.write("notes.txt", "shopping list: milk, eggs\n")
        let result = try cli.run(arguments + ["--store", foreign], stdin: "some text\n")
        expectFailure(result, status: 1, mentioning: ["notes.txt", "is not a Quill store", "--store PATH or QUILL_STORE"])
        #expect(try String(contentsOfFile: foreign, encoding: .utf8) == "shopping list: milk, eggs\n")
    }

    @Test(arguments: [["store", "info"], ["vocab", "list"], ["vocab", "show", "x"]])
    func readingCommandsDoNotCreateAStore(_ arguments: [String]) throws {
        let cli = try QuillCLI()
        expectFailure(try cli.run(arguments), status: 1, mentioning: ["no such store", "quill store init"])
        #expect(!FileManager.default.fileExists(atPath: cli.storePath))
    }

    @Test func storeOptionOverridesTheEnvironment() throws {
        let cli = try QuillCLI()
        let other = cli.directory.file("other.sqlite").path
        expectSuccess(try cli.run("store", "init", "--store", other))
        #expect(FileManager.default.fileExists(atPath: other))
        #expect(!FileManager.default.fileExists(atPath: cli.storePath))
        let info = try cli.run("store", "info", "--store", other)
        expectSuccess(info)
        #expect(info.stdout.contains(other))
    }

    @Test func defaultStoreIsInTheWorkingDirectory() throws {
        let cli = try QuillCLI()
        let result = try cli.run(["store", "init"], environment: ["QUILL_STORE": ""])
        expectSuccess(result)
        #expect(FileManager.default.fileExists(atPath: cli.directory.file("quill.sqlite").path))
    }
}
