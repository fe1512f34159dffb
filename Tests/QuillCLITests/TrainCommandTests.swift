import Foundation
import QuillTestSupport
import Testing

/// `quill train`, `quill generate` and `quill models list` on a tiny corpus with tiny sizes.
@Suite struct TrainCommandTests {
    static let corpus = String(repeating: """
        The boats came in at dusk and the lanterns were lit on the water.
        Ada walked down to the harbour with her aunt.
        The lighthouse keeper mended the rail on the gallery.

        """, count: 8)

    /// A CLI directory whose store holds the vocabulary `v` of ``corpus``.
    static func prepared() throws -> (QuillCLI, corpus: String) {
        let cli = try QuillCLI()
        let corpus = try cli.write("train.txt", TrainCommandTests.corpus)
        expectSuccess(try cli.run("vocab", "build", "--corpus", corpus, "--name", "v"))
        return (cli, corpus)
    }

    static let tinySizes = ["--hidden", "8", "--batch", "2", "--bptt", "5", "--seed", "3"]

    /// `train` has no `--lossy`: its invalid-UTF-8 error names the place and a fix it can apply, not the flag.
    @Test func invalidUTF8InTheCorpusHintsAtAFixTrainHas() throws {
        let (cli, _) = try Self.prepared()
        var bad = Data("The boats came in.\nAda walked\n".utf8)
        bad.append(contentsOf: [0x41, 0xFF, 0x0A])
        let corpus = try cli.write("bad.txt", bad)
        let result = try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m"] + Self.tinySizes)
        expectFailure(result, status: 1, mentioning: ["bad.txt:3:2: invalid UTF-8 at byte offset 31",
                                                      "this command has no --lossy", "iconv -c"])
        #expect(!result.stderr.contains("pass --lossy"), "\(result.stderr)")
    }

    /// `--precision bfloat16` trains in mixed precision: the run records it, a resume keeps it (and refuses another),
    /// the model evaluates like any other; int8, an inference format, is refused with the reason.
    @Test func bfloat16TrainingIsRecordedAndResumed() throws {
        let (cli, corpus) = try Self.prepared()
        let valid = try cli.write("valid.txt", "Ada walked down to the water.\nThe boats came in.\n")
        let train = try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                 "--epochs", "1", "--precision", "bfloat16"] + Self.tinySizes)
        expectSuccess(train)
        let show = try cli.run("runs", "show", "1", "--format", "jsonl")
        expectSuccess(show)
        #expect(show.stdout.contains("\"precision\":\"bfloat16\""), "\(show.stdout)")
        expectFailure(try cli.run("train", "--resume", "1", "--epochs", "2", "--precision", "float32"), status: 1,
                      mentioning: ["precision"])
        expectSuccess(try cli.run("train", "--resume", "1", "--epochs", "2"))
        let eval = try cli.run("eval", "--model", "m", "--text", valid, "--format", "json")
        expectSuccess(eval)
        #expect(eval.stdout.contains("\"perplexity\""), "\(eval.stdout)")
        expectFailure(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "q", "--precision",
                                   "int8"] + Self.tinySizes), status: 1, mentioning: ["int8 is an inference format"])
    }

    /// `--cell gcnn` trains a gated convolutional model (`--width` steps per convolution), stores it as `gcnn-lm`,
    /// `eval` measures it and the stepping commands run it; `--width` without gcnn says what is wrong.
    @Test func aGatedConvolutionalModelTrainsAndEvaluates() throws {
        let (cli, corpus) = try Self.prepared()
        let valid = try cli.write("valid.txt", "Ada walked down to the water.\nThe boats came in.\n")
        let train = try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "g",
                                 "--epochs", "2", "--cell", "gcnn", "--layers", "2", "--width", "3"] + Self.tinySizes)
        expectSuccess(train)
        #expect(train.stdout.hasPrefix("model 'g': gcnn 2×8"), "\(train.stdout)")
        let list = try cli.run("models", "list")
        #expect(list.stdout.contains("gcnn-lm"), "\(list.stdout)")
        let eval = try cli.run("eval", "--model", "g", "--text", valid, "--format", "json")
        expectSuccess(eval)
        #expect(eval.stdout.contains("\"perplexity\""), "\(eval.stdout)")
        expectFailure(try cli.run("eval", "--model", "g", "--text", valid, "--precision", "bfloat16"), status: 1,
                      mentioning: ["gated convolutional model does not run bfloat16"])
        expectFailure(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "w", "--width", "3"]
                                  + Self.tinySizes), status: 1, mentioning: ["kernel width", "gcnn"])
        // It steps one token at a time like the recurrent models: generation, prediction and completion.
        let generate = try cli.run("generate", "--model", "g", "--prompt", "The boats", "--temperature", "0",
                                   "--max-tokens", "4")
        expectSuccess(generate)
        #expect(generate.stdout.hasPrefix("The boats"), "\(generate.stdout)")
        let predict = try cli.run("predict", "--model", "g", "--task", "score", stdin: "The boats came in.\nAda\n")
        expectSuccess(predict)
        #expect(predict.stdoutLines.count == 2, "\(predict.stdout)")
        let complete = try cli.run("complete", "--model", "g", stdin: "The boats ca\n")
        expectSuccess(complete)
        #expect(!complete.stdout.isEmpty)
        expectFailure(try cli.run("translate", "--model", "g"), status: 1, mentioning: ["gated convolutional"])
    }

    @Test func trainThenGenerateThenList() throws {
        let (cli, corpus) = try Self.prepared()
        let valid = try cli.write("valid.txt", "Ada walked down to the water.\nThe boats came in.\n")
        let train = try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                 "--epochs", "2", "--cell", "gru"] + Self.tinySizes)
        expectSuccess(train)
        #expect(train.stderr.contains("epoch 1/2: lr 0.003, train loss"), "stderr: \(train.stderr)")
        #expect(train.stderr.contains("epoch 2/2") && train.stderr.contains("valid perplexity"))
        #expect(train.stdoutLines.count == 1 && train.stdout.hasPrefix("model 'm': gru 1×8"), "\(train.stdout)")

        let generate = try cli.run("generate", "--model", "m", "--prompt", "The boats", "--temperature", "0",
                                   "--max-tokens", "5")
        expectSuccess(generate)
        #expect(generate.stdoutLines.count == 1 && generate.stdout.hasPrefix("The boats"), "\(generate.stdout)")
        let again = try cli.run("generate", "--model", "m", "--prompt", "The boats", "--temperature", "0",
                                "--max-tokens", "5")
        #expect(again.stdout == generate.stdout, "greedy generation is deterministic")
        let sampled = try cli.run("generate", "--model", "m", "--prompt", "Ada", "--seed", "4")
        expectSuccess(sampled)
        #expect(sampled.stdout.hasPrefix("Ada"))

        let list = try cli.run("models", "list")
        expectSuccess(list)
        #expect(list.stdoutLines.count == 2 && list.stdoutLines[1].hasPrefix("m "), "\(list.stdout)")
        #expect(list.stdout.contains("gru-lm") && list.stdout.contains(" v "))
        let jsonl = try cli.run("models", "list", "--format", "jsonl")
        let object = try jsonObject(try #require(jsonl.stdoutLines.first))
        #expect(object["name"] as? String == "m")
        #expect((object["parameters"] as? Int ?? 0) > 0)
    }

    @Test func aCharacterModelWithItsOwnVocabularyFromAPreset() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("train.txt", TrainCommandTests.corpus)
        // The char-shakespeare recipe at a tiny size: a character-level vocabulary is built and stored as 'bard'.
        let train = try cli.run("train", "--preset", "char-shakespeare", "--corpus", corpus, "--name", "bard",
                                "--hidden", "16", "--layers", "1", "--bptt", "20", "--batch", "4", "--epochs", "1",
                                "--max-windows", "5")
        expectSuccess(train)
        #expect(train.stdout.contains("vocabulary 'bard'"), "\(train.stdout)")
        let vocabulary = try cli.run("vocab", "list")
        #expect(vocabulary.stdout.contains("bard") && vocabulary.stdout.contains("character"), "\(vocabulary.stdout)")
        let generate = try cli.run("generate", "--model", "bard", "--prompt", "The b", "--max-tokens", "3",
                                   "--temperature", "0")
        expectSuccess(generate)
        #expect(generate.stdout.hasPrefix("The b"))
        expectFailure(try cli.run("train", "--preset", "nope", "--corpus", corpus, "--name", "x"), status: 64,
                      mentioning: ["--preset", "ptb-small"])
        expectFailure(try cli.run("train", "--corpus", corpus, "--name", "t", "--tie", "--embedding", "8",
                                  "--hidden", "16"), status: 1, mentioning: ["tied embeddings"])
    }

    /// `--time-budget`: once the minutes have passed, the epoch in progress is validated and is the last; a
    /// resumed run may be given a larger budget.
    @Test func aTimeBudgetEndsTheRun() throws {
        let (cli, corpus) = try Self.prepared()
        let valid = try cli.write("valid.txt", EvalCommandTests.valid)
        let budget = try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                  "--epochs", "1000", "--time-budget", "0.0001"] + Self.tinySizes)
        expectSuccess(budget)
        #expect(budget.stderr.contains("epoch 1/1000") && !budget.stderr.contains("epoch 2/1000"), "\(budget.stderr)")
        #expect(budget.stderr.contains("the time budget of 0.0001 minutes is spent"), "\(budget.stderr)")
        let runs = try cli.run("runs", "list", "--format", "jsonl").stdoutLines.map { try jsonObject($0) }
        #expect(runs.first?["epochsDone"] as? Int == 1 && runs.first?["bestValidPerplexity"] is Double)
        expectFailure(try cli.run(["train", "--corpus", corpus, "--name", "x", "--time-budget", "0"]), status: 64,
                      mentioning: ["--time-budget"])
    }

    @Test func existingNameNeedsReplace() throws {
        let (cli, corpus) = try Self.prepared()
        let arguments = ["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--max-windows", "2"]
            + Self.tinySizes
        expectSuccess(try cli.run(arguments))
        expectFailure(try cli.run(arguments), status: 1, mentioning: ["model named 'm' already exists", "--replace"])
        expectSuccess(try cli.run(arguments + ["--replace"]))
    }

    @Test func errorsAndExitCodes() throws {
        let (cli, corpus) = try Self.prepared()
        expectFailure(try cli.run("train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--epochs", "0"),
                      status: 64, mentioning: ["--epochs"])
        expectFailure(try cli.run("train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--cell", "xyz"),
                      status: 64, mentioning: ["--cell"])
        expectFailure(try cli.run("train", "--corpus", corpus, "--vocabulary", "nope", "--name", "m"), status: 1,
                      mentioning: ["nope"])
        expectFailure(try cli.run("generate", "--model", "missing", "--prompt", "x"), status: 1,
                      mentioning: ["missing"])
        expectFailure(try cli.run("generate", "--model", "m", "--prompt", "x", "--temperature", "-1"), status: 64,
                      mentioning: ["--temperature"])
        let empty = try cli.run("models", "list")
        expectSuccess(empty)
        #expect(empty.stdout.isEmpty && empty.stderr.contains("no models"))
    }

    // MARK: Defects of issue 12, item 6

    @Test func resumingWithoutAStoreCreatesNone() throws {
        let cli = try QuillCLI()
        let missing = cli.directory.file("missing.sqlite").path
        expectFailure(try cli.run("train", "--resume", "1", "--store", missing), status: 1,
                      mentioning: ["no such store", "--store"])
        expectFailure(try cli.run("train", "--resume", "1"), status: 1, mentioning: ["no such store"])
        #expect(!FileManager.default.fileExists(atPath: missing) && !FileManager.default.fileExists(atPath: cli.storePath))
    }

    @Test func anInfinitePerplexityFailsTheRunAndSavesNoModel() throws {
        let (cli, corpus) = try Self.prepared()
        let valid = try cli.write("valid.txt", "Ada walked down to the water.\nThe boats came in.\n")
        let result = try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                  "--lr", "1e9"] + Self.tinySizes)
        expectFailure(result, status: 1, mentioning: ["NaN or infinite", "--lr"])
        #expect(try cli.run("models", "list").stderr.contains("no models"))
        #expect(try cli.run("runs", "list").stdout.contains("failed"))
    }

    @Test func aDivergingRunsHintNamesItsStore() throws {
        let cli = try QuillCLI()
        let corpus = try cli.write("train.txt", Self.corpus)
        let store = cli.directory.file("my store.sqlite").path
        let result = try cli.run(["train", "--corpus", corpus, "--name", "m", "--optimizer", "sgd", "--lr", "1e38",
                                  "--clip", "0", "--checkpoint-every", "1", "--store", store] + Self.tinySizes)
        expectFailure(result, status: 1, mentioning: ["quill train --resume 1 --store '\(store)' --lr"])
    }

    @Test(arguments: [["--hidden", "100000000"], ["--bptt", "100000000"], ["--layers", "100000"]])
    func sizesBeyondTheMachinesMemoryAreRefused(_ size: [String]) throws {
        let (cli, corpus) = try Self.prepared()
        let result = try cli.run(["train", "--corpus", corpus, "--name", "m", "--max-windows", "1"] + size)
        expectFailure(result, status: 1, mentioning: ["of memory", size[0]])
        #expect(try cli.run("runs", "list").stdout.isEmpty)  // nothing was stored
        expectFailure(try cli.run("vocab", "show", "m"), status: 1)
    }

    @Test func aFailedStartLeavesNothingThatBlocksTheRetry() throws {
        let (cli, corpus) = try Self.prepared()
        let one = try cli.write("one.txt", "word\n")
        expectFailure(try cli.run("train", "--corpus", one, "--name", "m"), status: 1, mentioning: ["token"])
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--name", "m", "--max-windows", "2"] + Self.tinySizes))
    }

    @Test func aStoppedRunsHintNamesItsStore() throws {
        let (cli, corpus) = try Self.prepared()
        let store = cli.directory.file("elsewhere.sqlite").path
        let stopped = try TrainStopTests.runAndSignal(
            cli, ["train", "--corpus", corpus, "--name", "m", "--epochs", "1000", "--store", store] + Self.tinySizes,
            after: "epoch 1/1000", signal: SIGINT)
        #expect(stopped.status == 130 && stopped.stderr.contains("quill train --resume 1 --store \(store)"),
                "stderr: \(stopped.stderr)")
    }

    /// A run killed without a chance to record it is listed as interrupted (its process is gone) and resumes; while
    /// it trained, its name and its resume belonged to it.
    @Test func aKilledRunIsInterruptedAndOwnedItsNameWhileAlive() throws {
        let (cli, corpus) = try Self.prepared()
        let arguments = ["train", "--corpus", corpus, "--vocabulary", "v", "--epochs", "1000",
                         "--checkpoint-every", "5"] + Self.tinySizes
        let killed = try TrainStopTests.runAndSignal(cli, arguments + ["--name", "m"], after: "epoch 1/1000",
                                                     signal: SIGKILL, whileRunning: {
            expectFailure(try cli.run(arguments + ["--name", "m", "--replace"]), status: 1,
                          mentioning: ["is training a model named 'm'", "--name"])
            expectFailure(try cli.run("train", "--resume", "1"), status: 1, mentioning: ["run #1 is being trained"])
            expectFailure(try cli.run("models", "import", "--safetensors", "any.safetensors", "--name", "m",
                                      "--vocabulary", "v", "--replace"),
                          status: 1, mentioning: ["is training a model named 'm'"])
            #expect(try cli.run("runs", "list").stdout.contains("running"))
        })
        #expect(killed.status == SIGKILL)
        let list = try cli.run("runs", "list")
        #expect(list.stdout.contains("interrupted") && !list.stdout.contains("running"), "\(list.stdout)")
        #expect(list.stdout.contains("  m\n"), "the run names the model it saved: \(list.stdout)")
        let show = try cli.run("runs", "show", "1")
        #expect(show.stdout.contains("interrupted (its process is gone)") && show.stdout.contains("process:"),
                "\(show.stdout)")
        expectSuccess(try cli.run("train", "--resume", "1", "--epochs", "2"))
    }

    struct Help: Sendable, CustomTestStringConvertible {
        let command: [String]
        let mentions: [String]
        var testDescription: String { (["quill"] + command).joined(separator: " ") }
    }

    @Test(arguments: [
        Help(command: ["train"], mentions: ["--corpus", "--valid", "--vocabulary", "--name", "--cell", "--layers",
                                            "--hidden", "--bptt", "--batch", "--epochs", "--lr", "--optimizer",
                                            "--clip", "--seed", "--replace", "--store", "--preset", "ptb-small",
                                            "char-shakespeare", "--level", "--dropout", "--tie", "--schedule",
                                            "--momentum", "--weight-decay", "--loss", "--patience", "--resume",
                                            "--checkpoint-every", "--checkpoint-minutes", "Ctrl-C"]),
        Help(command: ["generate"], mentions: ["--model", "--prompt", "--max-tokens", "--temperature", "--seed"]),
        Help(command: ["models"], mentions: ["list"]),
        Help(command: ["models", "list"], mentions: ["--format", "--store"]),
        Help(command: [], mentions: ["train", "generate", "models"]),
    ])
    func helpNamesOptions(_ c: Help) throws {
        let result = try QuillCLI().run(c.command + ["--help"])
        expectSuccess(result)
        #expect(result.stdout.contains("Example"))
        for mention in c.mentions { #expect(result.stdout.contains(mention), "help lacks \(mention)") }
    }
}
