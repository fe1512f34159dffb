import QuillTestSupport
import Testing

/// `--help` of every command exits 0 and names the command's options and an example.
struct HelpTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let command: [String]
        let mentions: [String]
        var testDescription: String { (["quill"] + command).joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(command: [], mentions: ["tokenize", "vocab", "store", "QUILL_STORE"]),
        Case(command: ["tokenize"], mentions: ["--format", "lines", "jsonl", "--ids", "--vocabulary", "--level",
                                               "--normalization", "--case-fold", "--locale", "--lossy", "--store",
                                               "\\n line feed"]),
        Case(command: ["vocab"], mentions: ["build", "list", "show", "export", "import", "delete"]),
        Case(command: ["vocab", "build"], mentions: ["--corpus", "--name", "--level", "--normalization",
                                                     "--case-fold", "--locale", "--min-count", "--max-size",
                                                     "--replace", "--lossy", "--store", "--merges", "bpe"]),
        Case(command: ["vocab", "list"], mentions: ["--format", "--store"]),
        Case(command: ["vocab", "show"], mentions: ["<name>", "--limit", "--format", "--store"]),
        Case(command: ["vocab", "export"], mentions: ["<name>", "--output", "--store"]),
        Case(command: ["vocab", "import"], mentions: ["<file>", "--name", "--replace", "--store"]),
        Case(command: ["vocab", "delete"], mentions: ["<name>", "--store"]),
        Case(command: ["store"], mentions: ["info", "init"]),
        Case(command: ["store", "info"], mentions: ["--format", "--store"]),
        Case(command: ["store", "init"], mentions: ["--store"]),
        Case(command: ["translation"], mentions: ["score"]),
        Case(command: ["translation", "score"], mentions: ["--reference", "<hyp>", "--tokenize", "13a", "intl",
                                                           "--lowercase", "--chrf-lowercase", "--lossy", "sys_len",
                                                           "signature"]),
    ]

    @Test(arguments: cases)
    func helpExitsZeroAndNamesOptions(_ c: Case) throws {
        let result = try QuillCLI().run(c.command + ["--help"])
        expectSuccess(result)
        #expect(result.stdout.contains("OVERVIEW:"))
        #expect(result.stdout.contains("Example"), "no example in the discussion")
        for mention in c.mentions {
            #expect(result.stdout.contains(mention), "help lacks \(mention)")
        }
    }

    @Test func unknownOptionIsAUsageError() throws {
        let result = try QuillCLI().run("tokenize", "--frobnicate")
        expectFailure(result, status: 64, mentioning: ["--frobnicate"])
    }
}
