import Foundation
import QuillTestSupport
import Testing
@testable import quill

/// `quill eval` on tiny models of ``TrainCommandTests/corpus``.
@Suite struct EvalCommandTests {
    static let valid = "Ada walked down to the water.\nThe boats came in at dusk.\nThe keeper mended the rail.\n"

    /// A CLI directory with vocabulary `v` and a model `m` trained for one epoch with validation on ``valid``
    /// (run #1, batch 2, bptt 5).
    static func trained() throws -> (QuillCLI, valid: String) {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let valid = try cli.write("valid.txt", Self.valid)
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                   "--max-windows", "20"] + TrainCommandTests.tinySizes))
        return (cli, valid)
    }

    /// `--mix NGRAM`: both models and the mixture; `--mix-weight` or `--tune-on`; option clashes refused.
    @Test func mixesAnNGramModel() throws {
        let (cli, valid) = try Self.trained()
        let corpus = try cli.write("corpus.txt", TrainCommandTests.corpus)
        expectSuccess(try cli.run("ngram", "train", "--corpus", corpus, "--vocabulary", "v", "--order", "3",
                                  "--name", "kn3"))
        let text = try cli.run("eval", "--model", "m", "--text", valid, "--mix", "kn3", "--mix-weight", "0.25")
        expectSuccess(text)
        #expect(text.stdout.contains("α = 0.250 (given)") && text.stdout.contains("mixture:"), "\(text.stdout)")
        let tuned = try cli.run("eval", "--model", "m", "--text", valid, "--mix", "kn3", "--tune-on", valid,
                                "--format", "json")
        expectSuccess(tuned)
        let object = try jsonObject(try #require(tuned.stdoutLines.first))
        #expect(object["tunedOn"] as? String == valid && (object["weight"] as? Double ?? 0) > 0)
        let plain = try jsonObject(try #require(try cli.run("eval", "--model", "m", "--text", valid, "--format",
                                                           "json").stdoutLines.first))
        let mixedAlone = try #require(object["modelPerplexity"] as? Double)
        #expect(abs(mixedAlone / (plain["perplexity"] as? Double ?? 0) - 1) < 1e-5)
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--mix-weight", "0.2"), status: 64,
                      mentioning: ["go with --mix"])
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--mix", "kn3", "--mix-weight", "0.2",
                                  "--tune-on", valid), status: 64, mentioning: ["not both"])
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--mix", "nope"), status: 1,
                      mentioning: ["nope"])
    }

    @Test func reproducesTheRunsValidationLoss() throws {
        let (cli, valid) = try Self.trained()
        // The run measured validation with its batch (2) and window (5): the same setting gives the same number.
        let run = try cli.run("runs", "show", "1", "--format", "jsonl")
        expectSuccess(run)
        let validRow = try #require(try run.stdoutLines.dropFirst().map { try jsonObject($0) }
            .first { $0["split"] as? String == "valid" })
        let eval = try cli.run("eval", "--model", "m", "--text", valid, "--batch", "2", "--bptt", "5",
                               "--format", "json")
        expectSuccess(eval)
        let object = try jsonObject(try #require(eval.stdoutLines.first))
        #expect(eval.stdoutLines.count == 1)
        #expect(object["loss"] as? Double == validRow["loss"] as? Double, "eval \(object), run \(validRow)")
        #expect(object["level"] as? String == "word" && object["model"] as? String == "m")
        let loss = try #require(object["loss"] as? Double)
        #expect(abs((object["perplexity"] as? Double ?? 0) - exp(loss)) < 1e-9 * exp(loss))
        #expect(abs((object["bitsPerToken"] as? Double ?? 0) - loss / log(2)) < 1e-12)
        let tokens = try #require(object["tokens"] as? Int)
        let characters = try #require(object["characters"] as? Int)
        #expect(characters == Self.valid.count)
        let bitsPerCharacter = loss * Double(tokens) / (log(2) * Double(characters))
        #expect(abs((object["bitsPerCharacter"] as? Double ?? 0) - bitsPerCharacter) < 1e-12)
        #expect(object["targets"] as? Int == 2 * (tokens / 2 - 1))
    }

    @Test func defaultsToTheExactSequentialPerplexity() throws {
        let (cli, valid) = try Self.trained()
        let text = try cli.run("eval", "--model", "m", "--text", valid)
        expectSuccess(text)
        for label in ["model:", "(word level)", "tokens (", "% unknown)", "characters", "loss:", "nats/token",
                      "perplexity:", "bits per token:", "bits per character:", "batch 1, bptt 35"] {
            #expect(text.stdout.contains(label), "output lacks \(label): \(text.stdout)")
        }
        let json = try jsonObject(try #require(try cli.run("eval", "--model", "m", "--text", valid, "--format",
                                                           "json").stdoutLines.first))
        let tokens = try #require(json["tokens"] as? Int)
        #expect(json["targets"] as? Int == tokens - 1)  // every token but the first is predicted
        // The window only sets how many steps run at once.
        let windowed = try jsonObject(try #require(try cli.run("eval", "--model", "m", "--text", valid, "--bptt", "3",
                                                               "--format", "json").stdoutLines.first))
        let a = try #require(json["loss"] as? Double), b = try #require(windowed["loss"] as? Double)
        #expect(abs(a - b) < 1e-6 * a)
    }

    /// Each command lists and takes only the formats its engine runs.
    @Test func precisionsPerEngine() throws {
        let (cli, valid) = try Self.trained()
        let f32 = try jsonObject(try #require(try cli.run("eval", "--model", "m", "--text", valid, "--format", "json")
            .stdoutLines.first))
        for precision in ["bfloat16", "int8"] {
            let reduced = try cli.run("eval", "--model", "m", "--text", valid, "--precision", precision, "--format",
                                      "json")
            expectSuccess(reduced)
            let line = try #require(reduced.stdoutLines.first)
            let loss = try #require(try jsonObject(line)["loss"] as? Double)
            #expect(abs(loss - (f32["loss"] as? Double ?? 0)) < 0.01 * loss, "\(precision)")
        }
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--precision", "float16"), status: 64,
                      mentioning: ["--precision"])
        for command in ["complete", "predict"] {
            expectFailure(try cli.run(command, "--model", "m", "--precision", "bfloat16"), status: 64,
                          mentioning: ["--precision"])
            #expect(!(try cli.run(command, "--help").stdout.contains("bfloat16")))
        }
    }

    @Test func characterModelsReportBitsPerCharacter() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "chars", "--level", "character"))
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "chars", "--name", "c",
                                   "--max-windows", "3"] + TrainCommandTests.tinySizes))
        let valid = try cli.write("valid.txt", Self.valid)
        let text = try cli.run("eval", "--model", "c", "--text", valid)
        expectSuccess(text)
        #expect(text.stdout.contains("(character level)") && text.stdout.contains("bits per character:"))
        #expect(!text.stdout.contains("bits per token"), "\(text.stdout)")
        let json = try jsonObject(try #require(try cli.run("eval", "--model", "c", "--text", valid, "--format",
                                                           "json").stdoutLines.first))
        #expect(json["tokens"] as? Int == Self.valid.count && json["characters"] as? Int == Self.valid.count)
        #expect(json["bitsPerCharacter"] as? Double == json["bitsPerToken"] as? Double)
    }

    @Test func errorsNameTheFileAndTheFix() throws {
        let (cli, valid) = try Self.trained()
        expectFailure(try cli.run("eval", "--model", "m", "--text", "nope.txt"), status: 1,
                      mentioning: ["nope.txt", "cannot read"])
        let bad = try cli.write("bad.txt", Data("The boats came in.\nAda \u{FF}walked".utf8) + Data([0xFF, 0x0A]))
        expectFailure(try cli.run("eval", "--model", "m", "--text", bad), status: 1,
                      mentioning: ["bad.txt:2:", "invalid UTF-8", "--lossy"])
        let lossy = try cli.run("eval", "--model", "m", "--text", bad, "--lossy")
        expectSuccess(lossy)
        #expect(lossy.stdout.contains("replaced:"), "\(lossy.stdout)")
        let one = try cli.write("one.txt", "boats")
        expectFailure(try cli.run("eval", "--model", "m", "--text", one), status: 1,
                      mentioning: ["one.txt", "1 token", "at least 2"])
        let three = try cli.write("three.txt", "The boats came")
        expectFailure(try cli.run("eval", "--model", "m", "--text", three, "--batch", "2"), status: 1,
                      mentioning: ["3 tokens", "smaller batch"])
        let empty = try cli.write("empty.txt", "")
        expectFailure(try cli.run("eval", "--model", "m", "--text", empty), status: 1, mentioning: ["empty.txt"])
        expectFailure(try cli.run("eval", "--model", "missing", "--text", valid), status: 1, mentioning: ["missing"])
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--batch", "0"), status: 64,
                      mentioning: ["--batch"])
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--bptt", "0"), status: 64,
                      mentioning: ["--bptt"])
        expectFailure(try cli.run("eval", "--model", "m", "--text", valid, "--format", "jsonl"), status: 64)
    }

    @Test func helpNamesOptions() throws {
        let result = try QuillCLI().run("eval", "--help")
        expectSuccess(result)
        for option in ["--model", "--text", "--batch", "--bptt", "--lossy", "--format", "--store", "Example"] {
            #expect(result.stdout.contains(option), "help lacks \(option)")
        }
    }
}

extension EvalCommandTests {
    @Test func refusesStandardInput() throws {
        let (cli, _) = try Self.trained()
        expectFailure(try cli.run(["eval", "--model", "m", "--text", "-"], stdin: Self.valid), status: 1,
                      mentioning: ["standard input", "file"])
    }
}

/// The evaluation's progress line (drawn only on a terminal, so tested directly).
@Suite struct EvalProgressTests {
    @Test func rendersWindowsAndETA() {
        #expect(EvalCommand.render(done: 30, of: 120, elapsed: 3)
            == "evaluating [#####···············] 30/120 windows  ETA 0:09")
        #expect(EvalCommand.render(done: 0, of: 10, elapsed: 0).hasSuffix("0/10 windows  ETA --:--"))
    }
}
