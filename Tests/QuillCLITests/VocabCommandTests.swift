import Foundation
import QuillTestSupport
import Testing

/// `quill vocab build|list|show|export|import|delete`.
struct VocabCommandTests {
    /// A CLI whose store holds the vocabulary `small`, built from ``smallCorpus``.
    private func cliWithSmallVocabulary() throws -> (QuillCLI, corpus: String) {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        let build = try cli.run("vocab", "build", "--corpus", corpus, "--name", "small")
        expectSuccess(build)
        return (cli, corpus)
    }

    /// The records `vocab list --format jsonl` gives, by name.
    private func records(_ cli: QuillCLI) throws -> [String: [String: Any]] {
        let result = try cli.run("vocab", "list", "--format", "jsonl")
        expectSuccess(result)
        var records: [String: [String: Any]] = [:]
        for line in result.stdoutLines {
            let object = try jsonObject(line)
            records[try #require(object["name"] as? String)] = object
        }
        return records
    }

    @Test func buildPrintsASummaryAndCreatesTheStore() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        #expect(!FileManager.default.fileExists(atPath: cli.storePath))
        let result = try cli.run("vocab", "build", "--corpus", corpus, "--name", "small", "--min-count", "2")
        expectSuccess(result)
        #expect(FileManager.default.fileExists(atPath: cli.storePath))
        #expect(result.stdoutLines.count == 1)
        let summary = result.stdout
        for fragment in ["'small'", "entries", "tokens counted", "distinct", "%", "fingerprint", " s"] {
            #expect(summary.contains(fragment), "summary lacks \(fragment): \(summary)")
        }
        // No progress bar: standard error is not a terminal.
        #expect(result.stderr.isEmpty)
    }

    @Test func listShowsEachVocabulary() throws {
        let (cli, corpus) = try cliWithSmallVocabulary()
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "chars", "--level", "character"))
        let table = try cli.run("vocab", "list")
        expectSuccess(table)
        #expect(table.stdoutLines.count == 3)
        #expect(table.stdoutLines[0].hasPrefix("NAME"))
        #expect(table.stdoutLines[1].hasPrefix("chars") && table.stdoutLines[1].contains("character"))
        #expect(table.stdoutLines[2].hasPrefix("small") && table.stdoutLines[2].contains("word"))

        let records = try records(cli)
        #expect(Set(records.keys) == ["small", "chars"])
        let small = try #require(records["small"])
        #expect((small["fingerprint"] as? String)?.count == 64)
        #expect((small["settings"] as? [String: Any])?["level"] as? String == "word")
        #expect(small["size"] as? Int ?? 0 > 4)
    }

    @Test func showGivesSettingsAndTopTokens() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let text = try cli.run("vocab", "show", "small", "--limit", "3")
        expectSuccess(text)
        for fragment in ["small", "word", "nfc", "fingerprint:", "top 3 tokens", "\\sthe"] {
            #expect(text.stdout.contains(fragment), "show lacks \(fragment): \(text.stdout)")
        }
        let json = try jsonObject(try cli.run("vocab", "show", "small", "--limit", "3", "--format", "jsonl").stdout)
        let top = try #require(json["top"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect(top.first?["token"] as? String == " the")
        #expect(top.first?["id"] as? Int == 4)
    }

    @Test func exportDeleteImportKeepsTheFingerprint() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let fingerprint = try #require(try records(cli)["small"]?["fingerprint"] as? String)

        let export = try cli.run("vocab", "export", "small")
        expectSuccess(export)
        #expect(export.stdout.hasPrefix("# quill-vocabulary 1\n# name: small\n"))
        #expect(export.stdout.contains("# fingerprint: \(fingerprint)"))
        let file = try cli.write("small.txt", export.stdout)
        let exportToFile = try cli.run("vocab", "export", "small", "--output", "copy.txt")
        expectSuccess(exportToFile)
        #expect(try String(contentsOf: cli.directory.file("copy.txt"), encoding: .utf8) == export.stdout)

        expectSuccess(try cli.run("vocab", "delete", "small"))
        #expect(try records(cli).isEmpty)
        let imported = try cli.run("vocab", "import", file)
        expectSuccess(imported)
        #expect(imported.stdout.contains("'small'"))
        #expect(try records(cli)["small"]?["fingerprint"] as? String == fingerprint)

        expectSuccess(try cli.run("vocab", "import", file, "--name", "renamed"))
        #expect(try records(cli)["renamed"]?["fingerprint"] as? String == fingerprint)
    }

    @Test func buildingTwiceNeedsReplace() throws {
        let (cli, corpus) = try cliWithSmallVocabulary()
        let again = try cli.run("vocab", "build", "--corpus", corpus, "--name", "small", "--level", "character")
        expectFailure(again, status: 1, mentioning: ["'small'", "already exists", "--replace"])
        #expect((try records(cli)["small"]?["settings"] as? [String: Any])?["level"] as? String == "word")

        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "small", "--level", "character",
                                  "--replace"))
        #expect((try records(cli)["small"]?["settings"] as? [String: Any])?["level"] as? String == "character")
    }

    @Test func importingOverAnExistingNameNeedsReplace() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let file = try cli.write("small.txt", try cli.run("vocab", "export", "small").stdout)
        expectFailure(try cli.run("vocab", "import", file), status: 1, mentioning: ["'small'", "--replace"])
        expectSuccess(try cli.run("vocab", "import", file, "--replace"))
    }

    @Test func importWithoutANameNeedsDashDashName() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let text = try cli.run("vocab", "export", "small").stdout
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("# name:") }.joined(separator: "\n")
        let file = try cli.write("unnamed.txt", text)
        expectFailure(try cli.run("vocab", "import", file), status: 1, mentioning: ["unnamed.txt", "--name"])
        expectSuccess(try cli.run("vocab", "import", file, "--name", "named"))
    }

    @Test func importRefusesAnEditedFile() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let text = try cli.run("vocab", "export", "small").stdout.replacingOccurrences(of: "\\sthe\n", with: "\\sTHE\n")
        let file = try cli.write("edited.txt", text)
        expectFailure(try cli.run("vocab", "import", file, "--name", "edited"), status: 1,
                      mentioning: ["edited.txt", "fingerprint"])
    }

    @Test func missingCorpusIsAClearError() throws {
        let cli = try QuillCLI()
        let result = try cli.run("vocab", "build", "--corpus", "missing.txt", "--name", "m")
        expectFailure(result, status: 1, mentioning: ["missing.txt", "cannot read", "No such file"])
    }

    @Test func emptyCorpusIsAClearError() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("empty.txt", "")
        expectFailure(try cli.run("vocab", "build", "--corpus", corpus, "--name", "e"), status: 1,
                      mentioning: ["empty.txt", "no tokens"])
    }

    @Test func invalidUTF8CorpusNamesLineAndOffsetUnlessLossy() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("latin1.txt", Data(Array("ok\nnaïve\ncaf".utf8) + [0xE9] + Array("\n".utf8)))
        let strict = try cli.run("vocab", "build", "--corpus", corpus, "--name", "latin")
        expectFailure(strict, status: 1, mentioning: ["latin1.txt:3:4", "byte offset 13", "--lossy"])
        #expect(try records(cli).isEmpty)

        let lossy = try cli.run("vocab", "build", "--corpus", corpus, "--name", "latin", "--lossy")
        expectSuccess(lossy)
        #expect(lossy.stderr.contains("replaced 1 invalid UTF-8"))
        #expect(try records(cli)["latin"] != nil)
    }

    @Test(arguments: [["--min-count", "0"], ["--max-size", "4"], ["--name", ""]])
    func badBuildArgumentsAreUsageErrors(_ arguments: [String]) throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        let base = ["vocab", "build", "--corpus", corpus] + (arguments.first == "--name" ? [] : ["--name", "x"])
        expectFailure(try cli.run(base + arguments), status: 64, mentioning: [arguments[0]])
    }

    @Test func maxSizeAndMinCountCut() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "cut", "--max-size", "6"))
        #expect(try records(cli)["cut"]?["size"] as? Int == 6)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "frequent", "--min-count", "3"))
        let show = try jsonObject(try cli.run("vocab", "show", "frequent", "--format", "jsonl").stdout)
        let counts = (show["top"] as? [[String: Any]] ?? []).compactMap { $0["count"] as? Int }
        #expect(!counts.isEmpty && counts.allSatisfy { $0 >= 3 })
    }

    @Test(arguments: [["show", "nope"], ["export", "nope"], ["delete", "nope"]])
    func unknownVocabularyIsNamed(_ arguments: [String]) throws {
        let (cli, _) = try cliWithSmallVocabulary()
        expectFailure(try cli.run(["vocab"] + arguments), status: 1, mentioning: ["no vocabulary named 'nope'"])
    }

    @Test func exportOfAnUnknownNameLeavesTheOutputFileAlone() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        let path = try cli.write("keep.txt", "precious\n")
        expectFailure(try cli.run("vocab", "export", "nope", "--output", path), status: 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
    }

    @Test func exportNamesAMissingFolderAndKeepsAnExistingFileWithoutForce() throws {
        let (cli, _) = try cliWithSmallVocabulary()
        expectFailure(try cli.run("vocab", "export", "small", "--output", "no/such/v.txt"), status: 1,
                      mentioning: ["--output no/such/v.txt", "the folder no/such does not exist", "mkdir -p no/such"])
        let path = try cli.write("keep.txt", "precious\n")
        expectFailure(try cli.run("vocab", "export", "small", "--output", path), status: 1,
                      mentioning: ["exists", "--force"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
        expectSuccess(try cli.run("vocab", "export", "small", "--output", path, "--force"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("# quill-vocabulary 1"))
    }

    @Test(.enabled(if: TestSupport.sharedCorpora != nil, "../shared/corpora is absent"))
    func buildOnPennTreebank() throws {
        let corpus = try #require(TestSupport.sharedCorpora).appendingPathComponent("ptb/ptb.valid.txt").path
        let cli = try QuillCLI()
        let result = try cli.run("vocab", "build", "--corpus", corpus, "--name", "ptb", "--level", "whitespace")
        expectSuccess(result)
        #expect(result.stdout.contains("100.00%"))
        let size = try #require(try records(cli)["ptb"]?["size"] as? Int)
        #expect(size > 5_000 && size <= 10_004)  // PTB's vocabulary is 10k words, <unk> among them
    }
}
