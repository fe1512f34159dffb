import Foundation
import QuillTestSupport
import Testing

/// `quill tokenize`.
struct TokenizeCommandTests {
    @Test func wordLevelFromStandardInput() throws {
        let result = try QuillCLI().run("tokenize", stdin: "Hello, world\n")
        expectSuccess(result)
        #expect(result.stdoutLines == ["Hello", ",", "\\sworld", "\\n"])
    }

    @Test func dashReadsStandardInputAndFileReadsTheFile() throws {
        let cli = try QuillCLI()
        let path = try cli.write("text.txt", "Don't panic, café!\n")
        let fromFile = try cli.run("tokenize", path)
        let fromStdin = try cli.run("tokenize", "-", stdin: "Don't panic, café!\n")
        expectSuccess(fromFile)
        #expect(fromFile.stdoutLines == ["Don't", "\\spanic", ",", "\\scafé", "!", "\\n"])
        #expect(fromStdin.stdout == fromFile.stdout)
    }

    /// Text with every kind of whitespace the escaping handles, a backslash, and non-Latin scripts (already NFC).
    static let tricky = "  Tabs\tand  spaces \\ back\\slash\r\nCR LF, NBSP\u{A0}here, 東京 👍🏽 e\u{301}\u{2028}end \n\n"

    @Test(arguments: ["word", "whitespace", "character"])
    func unescapedTokensConcatenateToTheInput(level: String) throws {
        let result = try QuillCLI().run(["tokenize", "--level", level, "--normalization", "none"], stdin: Self.tricky)
        expectSuccess(result)
        let tokens = result.stdoutLines.map(unescapeToken)
        #expect(!tokens.contains(nil), "a line is not a valid escaped token")
        #expect(tokens.compactMap { $0 }.joined() == Self.tricky)
        // One token per line: escaping keeps line breaks and spaces out of the lines.
        #expect(result.stdoutLines.allSatisfy { !$0.contains(" ") && !$0.contains("\r") && !$0.isEmpty })
    }

    @Test func jsonLinesGiveOneObjectPerInputLine() throws {
        let input = "Hello, world\n\n\"Quoted\" \\ tab\there\nno final break"
        let result = try QuillCLI().run(["tokenize", "--format", "jsonl", "--normalization", "none"], stdin: input)
        expectSuccess(result)
        let objects = try result.stdoutLines.map { try jsonObject($0) }
        #expect(objects.count == 4)
        #expect(objects.map { $0["line"] as? Int } == [1, 2, 3, 4])
        let lines = objects.map { ($0["tokens"] as? [String]) ?? [] }
        #expect(lines[0] == ["Hello", ",", " world", "\n"])
        #expect(lines[1] == ["\n"])
        #expect(lines.flatMap { $0 }.joined() == input)
    }

    @Test func normalizationAndCaseFoldingApply() throws {
        let result = try QuillCLI().run(["tokenize", "--normalization", "nfkc", "--case-fold"], stdin: "Ｑuill ﬁne")
        expectSuccess(result)
        #expect(result.stdoutLines == ["quill", "\\sfine"])
    }

    @Test func idsInAVocabulary() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "small"))
        let show = try cli.run("vocab", "show", "small", "--format", "jsonl")
        let top = try #require(try jsonObject(show.stdout)["top"] as? [[String: Any]])
        let idOfThe = try #require(top.first { $0["token"] as? String == " the" }?["id"] as? Int)

        let result = try cli.run("tokenize", "--ids", "--vocabulary", "small", stdin: "the the zebra\n")
        expectSuccess(result)
        let ids = result.stdoutLines.compactMap { Int($0) }
        #expect(ids.count == result.stdoutLines.count, "not all lines are ids: \(result.stdout)")
        #expect(ids.count == 4)  // "the", " the", " zebra", "\n"
        #expect(ids[1] == idOfThe)
        #expect(ids[2] == 0, "an unknown token is <unk>, id 0")

        let json = try cli.run("tokenize", "--ids", "--vocabulary", "small", "--format", "jsonl", stdin: "the the\n")
        expectSuccess(json)
        #expect(try jsonObject(json.stdout)["ids"] as? [Int] == Array(ids[..<2]) + [ids[3]])
    }

    @Test func optionsContradictingTheVocabularyAreRefused() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("corpus.txt", smallCorpus)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "small"))
        expectFailure(try cli.run("tokenize", "--ids", "--vocabulary", "small", "--level", "character", stdin: "x"),
                      status: 64, mentioning: ["'small'", "--level character"])
        // Options that agree with the vocabulary are fine.
        expectSuccess(try cli.run("tokenize", "--ids", "--vocabulary", "small", "--level", "word", stdin: "x"))
    }

    @Test func idsNeedAVocabulary() throws {
        expectFailure(try QuillCLI().run("tokenize", "--ids", stdin: "x"), status: 64, mentioning: ["--vocabulary"])
    }

    @Test func unknownVocabulary() throws {
        let cli = try QuillCLI()
        expectSuccess(try cli.run("store", "init"))
        expectFailure(try cli.run("tokenize", "--vocabulary", "nope", stdin: "x"), status: 1, mentioning: ["'nope'"])
    }

    @Test func invalidUTF8NamesLineAndOffset() throws {
        let cli = try QuillCLI()
        // "good line\nbad \xFF byte\n": the bad byte is on line 2, column 5, at byte offset 14.
        let path = try cli.write("bad.txt", Data(Array("good line\nbad ".utf8) + [0xFF] + Array(" byte\n".utf8)))
        let result = try cli.run("tokenize", path)
        expectFailure(result, status: 1, mentioning: ["bad.txt:2:5", "byte offset 14", "--lossy"])

        let lossy = try cli.run("tokenize", "--lossy", path)
        expectSuccess(lossy)
        #expect(lossy.stdoutLines.contains("\\s\u{FFFD}"))
        #expect(lossy.stderr.contains("replaced 1 invalid UTF-8"))
    }

    @Test func invalidUTF8OnStandardInput() throws {
        let cli = try QuillCLI()
        let result = try cli.run(["tokenize"], stdin: nil)
        expectSuccess(result)  // empty input: no tokens
        #expect(result.stdout.isEmpty)
        let bad = try TestSupport.run(cli.binary, ["tokenize"], stdin: Data([0x61, 0x0A, 0x62, 0xC3, 0x28]),
                                      environment: ["QUILL_STORE": cli.storePath])
        expectFailure(bad, status: 1, mentioning: ["<stdin>:2:", "byte offset 3", "pass --lossy to do so"])
    }

    @Test func missingFile() throws {
        expectFailure(try QuillCLI().run("tokenize", "missing.txt"), status: 1,
                      mentioning: ["missing.txt", "No such file"])
    }

    @Test func bigInputStreams() throws {
        // 4 MB through the tokenizer: more than one reader chunk, and well over one output buffer.
        let line = "The quick brown fox jumps over the lazy dog, again and again.\n"
        let text = String(repeating: line, count: 4_000_000 / line.utf8.count)
        let result = try QuillCLI().run(["tokenize", "--level", "whitespace"], stdin: text)
        expectSuccess(result)
        let tokens = result.stdoutLines
        #expect(tokens.count == text.utf8.count / line.utf8.count * 13)
        #expect(tokens.compactMap(unescapeToken).joined() == text)
    }
}
