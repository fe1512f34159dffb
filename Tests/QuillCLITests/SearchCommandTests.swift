import Foundation
import QuillTestSupport
import Testing

/// `quill search` on the tiny corpus: the table, JSON Lines, the best model saved, a second start refused.
@Suite struct SearchCommandTests {
    @Test func searchesSavesTheBestAndRefusesToStartTwice() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let valid = try cli.write("valid.txt", EvalCommandTests.valid)
        let space = try cli.write("space.json", """
            {"cells": ["lstm", "gcnn"], "hidden": [8], "layers": [1], "widths": [2], "ngramOrders": [2],
             "trials": 2, "reduction": 2, "maxEpochs": 2, "bptt": [5], "batch": [2]}
            """)
        let arguments = ["search", "--corpus", corpus, "--valid", valid, "--space", space, "--budget", "5",
                         "--name", "best"]
        let search = try cli.run(arguments + ["--format", "jsonl"])
        expectSuccess(search)
        let lines = try search.stdoutLines.map { try jsonObject($0) }
        #expect(lines.count == 4, "three trials and the result: \(search.stdout)")
        let result = try #require(lines.last)
        let best = try #require(result["best"] as? [String: Any])
        #expect(result["name"] as? String == "best" && best["model"] is String)
        #expect(search.stderr.contains("rung 1: best.trial-1"), "\(search.stderr)")
        let list = try cli.run("models", "list")
        #expect(list.stdoutLines.contains { $0.hasPrefix("best ") }, "\(list.stdout)")
        expectFailure(try cli.run(arguments), status: 1, mentioning: ["--resume", "--replace"])
        let resumed = try cli.run(arguments + ["--resume"])
        expectSuccess(resumed)
        #expect(resumed.stdout.contains("saved as 'best'"), "\(resumed.stdout)")
        expectFailure(try cli.run(arguments + ["--space", try cli.write("bad.json", #"{"hiden": [8]}"#), "--replace"]),
                      status: 1, mentioning: ["unknown key 'hiden'"])
    }
}

/// `quill search --jobs 2`: trials train in two processes at once and end exactly as in one process.
@Suite struct ParallelSearchTests {
    @Test func twoProcessesFindWhatOneFinds() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let valid = try cli.write("valid.txt", EvalCommandTests.valid)
        let space = try cli.write("space.json", """
            {"cells": ["lstm", "gru"], "hidden": [8], "layers": [1], "ngramOrders": [],
             "trials": 4, "reduction": 2, "maxEpochs": 2, "bptt": [5], "batch": [2]}
            """)
        func search(_ name: String, jobs: Int) throws -> [[String: Any]] {
            let result = try cli.run("search", "--corpus", corpus, "--valid", valid, "--space", space, "--budget", "5",
                                     "--name", name, "--jobs", String(jobs), "--format", "jsonl")
            expectSuccess(result)
            return try result.stdoutLines.dropLast().map { try jsonObject($0) }
        }
        func outcome(_ trials: [[String: Any]]) -> [String] {
            trials.map { trial in
                let model = (trial["model"] as? String ?? "").split(separator: ".").last.map(String.init) ?? ""
                return "\(model) \(trial["epochs"] ?? "-") \(trial["validPerplexity"] ?? "-")"
            }
        }
        let one = try search("one", jobs: 1)
        let two = try search("two", jobs: 2)
        #expect(one.count == 4)
        #expect(outcome(two) == outcome(one))
        #expect(outcome(one).filter { $0.contains(" 2 ") }.count == 2, "two trials reach the second rung: \(one)")
        // The promoted model's test perplexity goes into its trial's run.
        let recorded = try cli.run("eval", "--model", "two", "--text", valid, "--record-test")
        expectSuccess(recorded)
        #expect(recorded.stdout.contains("as the test perplexity of run #"), "\(recorded.stdout)")
        // Each trial is its own run, written by its own process into the one store.
        let runs = try cli.run("runs", "list")
        #expect(runs.stdoutLines.filter { $0.contains("two.trial-") }.count >= 4, "\(runs.stdout)")
    }
}
