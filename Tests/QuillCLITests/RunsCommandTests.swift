import Foundation
import QuillTestSupport
import Testing

/// `quill runs list` and `quill runs show` over the runs `quill train` records.
@Suite struct RunsCommandTests {
    /// Run #1: model `m`, 2 epochs with validation; run #2: model `n`, 1 epoch of 2 windows, no validation.
    static func twoRuns() throws -> QuillCLI {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let valid = try cli.write("valid.txt", EvalCommandTests.valid)
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--name", "m",
                                   "--epochs", "2", "--max-windows", "10"] + TrainCommandTests.tinySizes))
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "n",
                                   "--max-windows", "2"] + TrainCommandTests.tinySizes))
        return cli
    }

    @Test func listsRunsWithTheirBestValidation() throws {
        let cli = try Self.twoRuns()
        let jsonl = try cli.run("runs", "list", "--format", "jsonl")
        expectSuccess(jsonl)
        let runs = try jsonl.stdoutLines.map { try jsonObject($0) }
        #expect(runs.map { $0["id"] as? Int } == [1, 2])
        #expect(runs.map { $0["model"] as? String } == ["m", "n"])
        #expect(runs.map { $0["epochsDone"] as? Int } == [2, 1])
        #expect(runs.map { $0["status"] as? String } == ["finished", "finished"])
        #expect((runs[0]["config"] as? [String: Any])?["hidden"] as? Int == 8)
        #expect(runs[1]["bestValidPerplexity"] is NSNull)

        // The best is the lowest validation perplexity among the run's epochs.
        let show = try cli.run("runs", "show", "1", "--format", "jsonl")
        let valid = try show.stdoutLines.dropFirst().map { try jsonObject($0) }
            .filter { $0["split"] as? String == "valid" }.compactMap { $0["perplexity"] as? Double }
        #expect(valid.count == 2)
        let best = try #require(runs[0]["bestValidPerplexity"] as? Double)
        #expect(best == valid.min())

        let text = try cli.run("runs", "list")
        expectSuccess(text)
        #expect(text.stdoutLines.count == 3, "\(text.stdout)")
        #expect(text.stdoutLines[0].contains("BEST VALID PPL") && text.stdoutLines[0].contains("EPOCHS"))
        let first = text.stdoutLines[1].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(first.first == "#1" && first.contains("finished") && first.contains(String(format: "%.2f", best)))
        #expect(first.last == "m")
        #expect(text.stdoutLines[2].hasPrefix("#2") && text.stdoutLines[2].contains(" - "))
    }

    @Test func showsConfigCheckpointsAndMetrics() throws {
        let cli = try Self.twoRuns()
        let text = try cli.run("runs", "show", "#1")
        expectSuccess(text)
        for fragment in ["run:", "#1 m", "status:", "finished", "model:", "epochs done:", "best valid ppl:",
                         "config:", "  hidden", "  vocabulary", "checkpoints:", "STEP", "metrics:", "TRAIN LOSS",
                         "VALID PPL", "TOK/S", "WALL S"] {
            #expect(text.stdout.contains(fragment), "output lacks \(fragment): \(text.stdout)")
        }
        let metrics = text.stdoutLines.drop { !$0.hasPrefix("metrics:") }.dropFirst(2)
        #expect(metrics.count == 2, "one row per epoch: \(text.stdout)")
        #expect(metrics.first?.split(separator: " ").first == "1" && metrics.last?.split(separator: " ").first == "2")

        let jsonl = try cli.run("runs", "show", "1", "--format", "jsonl")
        let records = try jsonl.stdoutLines.map { try jsonObject($0) }
        #expect(records.first?["record"] as? String == "run")
        #expect((records.first?["checkpoints"] as? [[String: Any]])?.map { $0["epoch"] as? Int } == [1, 2])
        let rows = records.dropFirst()
        #expect(rows.count == 4 && rows.allSatisfy { $0["record"] as? String == "metric" })
        #expect(rows.map { $0["split"] as? String } == ["train", "valid", "train", "valid"])
        #expect(rows.map { $0["epoch"] as? Int } == [1, 1, 2, 2])
        #expect(rows.allSatisfy { ($0["perplexity"] as? Double ?? 0) > 1 && ($0["wallSeconds"] as? Double ?? -1) >= 0 })
    }

    @Test func runsKeepTheirHistoryWhenTheModelIsDeleted() throws {
        let cli = try Self.twoRuns()
        let before = try cli.run("runs", "show", "1", "--format", "jsonl").stdoutLines.dropFirst()
        expectSuccess(try cli.run("models", "delete", "m"))
        let list = try cli.run("runs", "list")
        expectSuccess(list)
        #expect(list.stdoutLines[1].hasSuffix(" -"), "\(list.stdout)")
        let show = try cli.run("runs", "show", "1")
        expectSuccess(show)
        #expect(show.stdout.contains("- (deleted)"))
        let after = try cli.run("runs", "show", "1", "--format", "jsonl")
        #expect(Array(after.stdoutLines.dropFirst()) == Array(before), "metrics unchanged")
        #expect(try jsonObject(after.stdoutLines[0])["model"] is NSNull)
    }

    @Test func errors() throws {
        let cli = try QuillCLI()
        expectSuccess(try cli.run("store", "init"))
        let empty = try cli.run("runs", "list")
        expectSuccess(empty)
        #expect(empty.stdout.isEmpty && empty.stderr.contains("no runs"))
        expectFailure(try cli.run("runs", "show", "7"), status: 1, mentioning: ["#7"])
        expectFailure(try cli.run("runs", "show", "seven"), status: 64)
        expectFailure(try cli.run("runs", "show", "0"), status: 64)
    }

    @Test(arguments: [["runs"], ["runs", "list"], ["runs", "show"], ["runs", "compare"], ["runs", "plot"]])
    func helpNamesOptions(_ command: [String]) throws {
        let result = try QuillCLI().run(command + ["--help"])
        expectSuccess(result)
        #expect(result.stdout.contains("Example"))
        let mentions = command.count == 1 ? ["list", "show", "compare", "plot"]
            : command.last == "plot" ? ["--output", "--x-axis", "--force", "--store"]
            : command.last == "compare" ? ["--format", "--plot", "--force", "--store"] : ["--format", "--store"]
        for mention in mentions { #expect(result.stdout.contains(mention), "help lacks \(mention)") }
    }
}
