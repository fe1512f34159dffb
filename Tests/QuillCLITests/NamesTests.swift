import Foundation
import QuillTestSupport
import Testing

/// Names of vocabularies, models and runs: one rule on every `--name`, escaped when a store's names are printed, and
/// the closest names in a not-found error.
@Suite struct NamesTests {
    static let badNames: [(name: String, problem: String)] = [
        ("two\nlines", "control character \\u{A}"),
        ("red\u{1B}[31mtext", "control character \\u{1B}"),
        ("   ", "only whitespace"),
        (" padded", "whitespace at either end"),
        (String(repeating: "n", count: 5_000), "5000 characters, more than 200"),
    ]

    @Test(arguments: badNames)
    func everyNameOptionRefusesABadName(name: String, problem: String) throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let commands: [[String]] = [
            ["vocab", "build", "--corpus", corpus],
            ["vocab", "import", "vocab.txt"],
            ["train", "--corpus", corpus, "--vocabulary", "v", "--max-windows", "1"] + TrainCommandTests.tinySizes,
            ["ngram", "train", "--corpus", corpus, "--vocabulary", "v"],
            ["models", "import", "--safetensors", "m.safetensors", "--vocabulary", "v"],
            ["translation", "train", "--source", corpus, "--target", corpus],
            ["autoencoder", "train", "--corpus", corpus],
        ]
        for command in commands {
            let result = try cli.run(command + ["--name", name])
            expectFailure(result, status: 64, mentioning: ["--name", problem, "1–200 characters"])
            #expect(!result.stderr.contains("\u{1B}") && result.stderr.count < 1_500, "\(command): \(result.stderr)")
        }
        let runs = try cli.run("runs", "list")
        #expect(runs.stdout.isEmpty, "a refused name started a run: \(runs.stdout)")
        #expect(try cli.run("vocab", "list").stdoutLines.count == 2)  // the header and `v`
    }

    @Test func aVocabularyFileWithABadNameIsRefusedByTheStore() throws {
        let (cli, _) = try TrainCommandTests.prepared()
        let exported = try cli.run("vocab", "export", "v")
        let file = try cli.write("bad.txt", exported.stdout.replacingOccurrences(of: "# name: v\n",
                                                                                with: "# name: bad\u{1B}[2Jname\n"))
        let result = try cli.run("vocab", "import", file)
        expectFailure(result, status: 1, mentioning: ["invalid vocabulary name 'bad\\u{1B}[2Jname'",
                                                      "1–200 characters"])
        #expect(!result.stderr.contains("\u{1B}"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"),
                   "renames records with the sqlite3 tool, as another program writing the store would"))
    func namesFromAForeignStoreAreEscapedWhenPrinted() throws {
        let cli = try ModelsCommandTests.trained()
        let evil = "ev\u{1B}[31mil\u{1B}]0;pwned\u{7}\nline"
        let quoted = "'" + evil.replacingOccurrences(of: "'", with: "''") + "'"
        let sql = "UPDATE vocabularies SET name = \(quoted); UPDATE models SET name = \(quoted); "
            + "UPDATE runs SET name = \(quoted);"
        let update = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [cli.storePath, sql])
        #expect(update.succeeded, "\(update.stderr)")
        let escaped = "ev\\u{1B}[31mil\\u{1B}]0;pwned\\u{7}\\u{A}line"
        for command in [["vocab", "list"], ["vocab", "show", evil], ["models", "list"], ["models", "show", evil],
                        ["runs", "list"], ["runs", "show", "1"], ["runs", "compare"], ["runs", "plot", "1"]] {
            let result = try cli.run(command)
            expectSuccess(result)
            #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\u{7}"), "\(command)")
            #expect(result.stdout.contains(escaped), "\(command): \(result.stdout)")
        }
        // And in an error that lists the store's names.
        let missing = try cli.run("vocab", "show", "nope")
        expectFailure(missing, status: 1, mentioning: ["it holds '\(escaped)'"])
        #expect(!missing.stderr.contains("\u{1B}"))
    }

    @Test func notFoundListsTheClosestNames() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let names = ["ptb-word", "ptb-char", "wiki-bpe", "wiki-word", "shakespeare", "tiny-model"]
        for name in names { expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", name)) }
        let show = try cli.run("vocab", "show", "ptb-wrd")
        expectFailure(show, status: 1, mentioning: ["no vocabulary named 'ptb-wrd'", "the closest it holds: 'ptb-word'",
                                                    "quill vocab list"])
        #expect(!show.stderr.contains("shakespeare"), "\(show.stderr)")
        // With few models, all of them.
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "tiny",
                                   "--max-windows", "1"] + TrainCommandTests.tinySizes))
        expectFailure(try cli.run("models", "show", "tiy"), status: 1,
                      mentioning: ["no model named 'tiy'", "it holds 'tiny'", "quill models list"])
        expectFailure(try cli.run("eval", "--model", "tiy", "--text", corpus), status: 1,
                      mentioning: ["no model named 'tiy'", "it holds 'tiny'"])
        expectFailure(try cli.run("runs", "show", "7"), status: 1,
                      mentioning: ["no run #7", "it holds '#1'", "quill runs list"])
        // No store info pointer left: the names are in the message.
        #expect(!show.stderr.contains("store's info"))
    }
}
