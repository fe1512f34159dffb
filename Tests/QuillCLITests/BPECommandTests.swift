import Foundation
import QuillTestSupport
import Testing

/// `--level bpe --merges N` through the built binary: vocab build (one file or two), tokenize, export/import, train.
struct BPECommandTests {
    static let english = "the lower newest widest lowest\nthe newer wider slowest\n"
    static let french = "le plus nouveau, la plus large\nle plus lent\n"

    @Test func buildTokenizeExportAndImportKeepTheMerges() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("en.txt", Self.english)
        let build = try cli.run("vocab", "build", "--corpus", corpus, "--name", "en", "--level", "bpe", "--merges", "10")
        expectSuccess(build)
        #expect(build.stdout.contains("10 merges learned"), "\(build.stdout)")

        // An unseen character falls back to bytes; the tokens concatenate to the text.
        let tokens = try cli.run(["tokenize", "--vocabulary", "en", "-"], stdin: "lowest é\n")
        expectSuccess(tokens)
        #expect(tokens.stdoutLines.contains("<0xC3>") && tokens.stdoutLines.contains("<0xA9>"), "\(tokens.stdout)")
        let ids = try cli.run(["tokenize", "--vocabulary", "en", "--ids", "-"], stdin: "lowest é\n")
        #expect(!ids.stdoutLines.contains("0"))

        let exported = try cli.run("vocab", "export", "en")
        expectSuccess(exported)
        #expect(exported.stdout.contains("\nmerge\t"))
        let file = try cli.write("en.vocab", exported.stdout)
        expectSuccess(try cli.run("vocab", "import", file, "--name", "en-copy"))
        let shown = try cli.run("vocab", "show", "en-copy")
        #expect(shown.stdout.contains("bpe (10 merges)"), "\(shown.stdout)")

        // A contradicting --merges is refused, naming the vocabulary's.
        expectFailure(try cli.run(["tokenize", "--vocabulary", "en", "--merges", "5", "-"], stdin: "x\n"),
                      mentioning: ["--merges 5", "10"])
    }

    @Test func aJointVocabularyCountsBothFiles() throws {
        let cli = try QuillCLI()
        let en = try cli.write("en.txt", Self.english)
        let fr = try cli.write("fr.txt", Self.french)
        expectSuccess(try cli.run("vocab", "build", "--corpus", en, "--corpus", fr, "--name", "joint",
                                  "--level", "bpe", "--merges", "30"))
        let tokens = try cli.run(["tokenize", "--vocabulary", "joint", "-"], stdin: "plus lowest\n")
        #expect(!tokens.stdout.contains("<0x"), "both languages' characters are in: \(tokens.stdout)")
    }

    @Test func mergesNeedTheBPELevel() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("en.txt", Self.english)
        expectFailure(try cli.run("vocab", "build", "--corpus", corpus, "--name", "w", "--level", "word",
                                  "--merges", "5"), mentioning: ["--merges", "bpe"])
        expectFailure(try cli.run("vocab", "build", "--corpus", corpus, "--name", "w", "--level", "bpe",
                                  "--max-size", "100"), mentioning: ["--max-size", "--merges"])
    }

    @Test func trainBuildsABPEVocabularyFromTheCorpus() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("en.txt", String(repeating: Self.english, count: 20))
        let train = try cli.run("train", "--corpus", corpus, "--name", "m", "--level", "bpe", "--merges", "15",
                                "--hidden", "8", "--batch", "2", "--bptt", "4", "--epochs", "1")
        expectSuccess(train)
        let shown = try cli.run("vocab", "show", "m")
        #expect(shown.stdout.contains("bpe (15 merges)"), "\(shown.stdout)")
        let generated = try cli.run("generate", "--model", "m", "--prompt", "the", "--max-tokens", "5")
        expectSuccess(generated)
    }
}
