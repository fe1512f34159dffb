import Foundation
import QuillTestSupport
import Testing

/// Values of options: negative numbers without `=`, `nan` and `inf`, and the spellings of `--level`.
@Suite struct OptionValueTests {
    /// A negative value after a space reaches the option's range check (not ArgumentParser's "unknown option").
    @Test(arguments: [
        (["train", "--corpus", "c.txt", "--name", "m", "--dropout", "-0.1"], "--dropout must be in [0, 1) (got -0.1)"),
        (["train", "--corpus", "c.txt", "--name", "m", "--hidden", "-3"], "--hidden must be at least 1 (got -3)"),
        (["train", "--corpus", "c.txt", "--name", "m", "--clip", "-1"], "--clip must be 0 (no clipping) or a finite"),
        (["translation", "train", "--tsv", "p.tsv", "--name", "t", "--label-smoothing", "-0.5"],
         "--label-smoothing must be in [0, 1) (got -0.5)"),
        (["vocab", "build", "--corpus", "c.txt", "--name", "v", "--min-count", "-2"], "--min-count must be at least 1"),
        (["generate", "--model", "m", "--prompt", "a", "--temperature", "-1"],
         "--temperature must be 0 or a finite positive number"),
        (["translate", "--model", "m", "--length-penalty", "-1"], "--length-penalty must be in [0, 5] (got -1.0)"),
    ])
    func negativeNumbersReachTheRangeCheck(arguments: [String], message: String) throws {
        expectFailure(try QuillCLI().run(arguments), status: 64, mentioning: [message])
    }

    /// `nan` and `inf` parse as numbers; every floating-point option refuses them by name.
    @Test(arguments: [
        (["train", "--lr", "inf"], "--lr must be a finite positive number (got inf)"),
        (["train", "--lr", "nan"], "--lr must be a finite positive number (got nan)"),
        (["train", "--init-scale", "inf"], "--init-scale must be a finite positive number"),
        (["train", "--checkpoint-minutes", "inf"], "--checkpoint-minutes must be a finite positive number"),
        (["train", "--weight-decay", "inf"], "--weight-decay must be 0 or a finite positive number"),
        (["train", "--clip", "nan"], "--clip must be 0 (no clipping) or a finite positive number (got nan)"),
        (["train", "--momentum", "nan"], "--momentum must be in [0, 1) (got nan)"),
        (["train", "--decay", "inf"], "--decay must be in (0, 1] (got inf)"),
        (["translation", "train", "--lr", "inf"], "--lr must be a finite positive number (got inf)"),
        (["translation", "train", "--time-budget", "inf"], "--time-budget must be a finite positive number"),
        (["autoencoder", "train", "--lr", "-inf"], "--lr must be a finite positive number (got -inf)"),
        (["generate", "--model", "m", "--prompt", "a", "--temperature", "inf"],
         "--temperature must be 0 or a finite positive number"),
        (["complete", "--model", "m", "--mix", "n", "--mix-weight", "nan"], "--mix-weight must be in (0, 1)"),
    ])
    func nanAndInfinityAreRefusedByName(arguments: [String], message: String) throws {
        let extra: [String] = switch arguments[0] {
        case "train": ["--corpus", "c.txt", "--name", "m"]
        case "translation": ["--tsv", "p.tsv", "--name", "t"]
        case "autoencoder": ["--corpus", "c.txt", "--name", "a"]
        default: []
        }
        expectFailure(try QuillCLI().run(arguments + extra), status: 64, mentioning: [message])
    }

    /// `char` and `character` name the same level in every command that takes `--level`.
    @Test func charAndCharacterAreTheSameLevelEverywhere() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("c.txt", "abba cab\n")
        let tokens = try cli.run("tokenize", "--level", "char", corpus)
        expectSuccess(tokens)
        #expect(tokens.stdout == (try cli.run("tokenize", "--level", "character", corpus)).stdout)
        #expect(tokens.stdoutLines.prefix(4) == ["a", "b", "b", "a"])
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "c", "--level", "char"))
        let show = try cli.run("vocab", "show", "c", "--format", "jsonl")
        let shown = try jsonObject(try #require(show.stdoutLines.first))
        #expect((shown["settings"] as? [String: Any])?["level"] as? String == "character")
        // A stored character vocabulary agrees with either spelling.
        expectSuccess(try cli.run("tokenize", "--vocabulary", "c", "--level", "char", corpus))
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--name", "m", "--level", "char", "--max-windows", "1",
                                   "--hidden", "4", "--batch", "1", "--bptt", "2"]))
        let help = try cli.run("vocab", "build", "--help")
        #expect(help.stdout.contains("character or char"), "\(help.stdout)")
    }
}
