import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import QuillTestSupport
import Testing

/// `quill runs compare` (table, JSON Lines, `--plot`) and `quill runs plot` over the runs `quill train` records.
@Suite struct RunsCompareCommandTests {
    /// Whether `svg` parses as XML, and how many series (`class="series"`) it draws.
    static func series(in svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))",
                sourceLocation: sourceLocation)
        #expect(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), sourceLocation: sourceLocation)
        return svg.components(separatedBy: "class=\"series\"").count - 1
    }

    @Test func comparesRunsAsATableAndAsJSONLines() throws {
        let cli = try RunsCommandTests.twoRuns()
        let text = try cli.run("runs", "compare")
        expectSuccess(text)
        #expect(text.stdoutLines.count == 3, "\(text.stdout)")
        for column in ["ID", "NAME", "MODEL", "KIND", "PARAMETERS", "BEST VALID PPL", "TEST PPL", "TRAIN TIME",
                       "TOK/S"] {
            #expect(text.stdoutLines[0].contains(column), "header lacks \(column): \(text.stdoutLines[0])")
        }
        let first = text.stdoutLines[1].split(separator: " ").map(String.init)
        #expect(first.starts(with: ["#1", "m", "m", "lstm-lm"]) && first.contains("—"), "no test metric: \(first)")
        #expect(text.stdoutLines[2].hasPrefix("#2") && text.stdoutLines[2].contains(" s "))

        let jsonl = try cli.run("runs", "compare", "--format", "jsonl")
        expectSuccess(jsonl)
        let rows = try jsonl.stdoutLines.map { try jsonObject($0) }
        #expect(rows.map { $0["id"] as? Int } == [1, 2])
        #expect(rows.map { $0["kind"] as? String } == ["lstm-lm", "lstm-lm"])
        #expect(rows.map { $0["family"] as? String } == ["recurrentLanguageModel", "recurrentLanguageModel"])
        #expect(rows.allSatisfy { ($0["parameters"] as? Int ?? 0) > 0 && $0["testPerplexity"] is NSNull })
        #expect(rows.allSatisfy {
            ($0["trainingSeconds"] as? Double ?? -1) >= 0 && ($0["tokensPerSecond"] as? Double ?? 0) > 0
        })
        #expect(rows[0]["bestValidEpoch"] as? Int != nil && rows[1]["bestValidPerplexity"] is NSNull)
        // The best validation perplexity is the one `runs list` reports.
        let list = try cli.run("runs", "list", "--format", "jsonl").stdoutLines.map { try jsonObject($0) }
        #expect(rows[0]["bestValidPerplexity"] as? Double == list[0]["bestValidPerplexity"] as? Double)

        // Chosen runs, in the order given.
        let some = try cli.run("runs", "compare", "2", "#1", "--format", "jsonl")
        #expect(try some.stdoutLines.map { try jsonObject($0)["id"] as? Int } == [2, 1])
    }

    /// `quill eval --record-test` writes the perplexity as the test metric of the model's run, which the comparison
    /// then shows; a model without a run (the n-gram's) is refused with the reason.
    @Test func evalRecordsTheTestPerplexityTheComparisonShows() throws {
        let cli = try RunsCommandTests.twoRuns()
        let test = try cli.write("test.txt", EvalCommandTests.valid)
        let eval = try cli.run("eval", "--model", "m", "--text", test, "--record-test", "--format", "json")
        expectSuccess(eval)
        let perplexity = try #require(try jsonObject(eval.stdout)["perplexity"] as? Double)
        let rows = try cli.run("runs", "compare", "--format", "jsonl").stdoutLines.map { try jsonObject($0) }
        let recorded = try #require(rows[0]["testPerplexity"] as? Double)
        #expect(abs(recorded - perplexity) < 1e-9 * perplexity && rows[1]["testPerplexity"] is NSNull)
        expectFailure(try cli.run("eval", "--model", "m", "--text", test, "--record-test", "--precision", "bfloat16"),
                      status: 64, mentioning: ["--record-test"])
    }

    @Test func plotsTheComparisonAndRefusesToReplaceAFileWithoutForce() throws {
        let cli = try RunsCommandTests.twoRuns()
        let plot = cli.directory.file("runs.svg").path
        let result = try cli.run("runs", "compare", "--plot", plot)
        expectSuccess(result)
        #expect(result.stderr.contains("wrote \(plot): 1 of 2 runs drawn"), "\(result.stderr)")
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(Self.series(in: svg) == 1, "run #2 has no validation")
        #expect(svg.contains(">#1 m</text>") && svg.contains(">#2 n (no validation)</text>"))

        expectFailure(try cli.run("runs", "compare", "--plot", plot), status: 1,
                      mentioning: ["--plot \(plot) exists", "--force"])
        try Data("keep".utf8).write(to: URL(fileURLWithPath: plot))
        let refused = try cli.run("runs", "compare", "1", "--plot", plot)
        #expect(refused.stdout.isEmpty, "nothing printed before the refusal")
        #expect(try String(contentsOfFile: plot, encoding: .utf8) == "keep")
        expectSuccess(try cli.run("runs", "compare", "1", "--plot", plot, "--force"))
        #expect(Self.series(in: try String(contentsOfFile: plot, encoding: .utf8)) == 1)

        expectFailure(try cli.run("runs", "compare", "--plot", "no-such-folder/runs.svg"), status: 1,
                      mentioning: ["the folder no-such-folder does not exist"])
        expectFailure(try cli.run("runs", "compare", "--plot", "-"), status: 64)
    }

    @Test func plotsOneRunsCurves() throws {
        let cli = try RunsCommandTests.twoRuns()
        let result = try cli.run("runs", "plot", "1", "--output", "curves.svg")
        expectSuccess(result)
        let svg = try String(contentsOfFile: cli.directory.file("curves.svg").path, encoding: .utf8)
        #expect(Self.series(in: svg) == 2, "train and valid")
        #expect(svg.contains("Run #1 m — model m (lstm-lm)") && svg.contains(">epoch</text>"))
        #expect(svg.contains(">perplexity (log scale)</text>"))

        expectFailure(try cli.run("runs", "plot", "1", "--output", "curves.svg"), status: 1,
                      mentioning: ["--output curves.svg exists", "--force"])
        expectSuccess(try cli.run("runs", "plot", "#1", "--output", "curves.svg", "--force", "--x-axis", "time"))
        #expect(try String(contentsOfFile: cli.directory.file("curves.svg").path, encoding: .utf8)
            .contains(">training time (s)</text>"))

        let noValid = try cli.run("runs", "plot", "2", "--x-axis", "step")  // standard output by default
        expectSuccess(noValid)
        #expect(Self.series(in: noValid.stdout) == 1 && noValid.stdout.contains("valid (no validation)"))
        expectFailure(try cli.run("runs", "plot", "1", "--x-axis", "hours"), status: 64)
    }

    @Test func unknownRunsAreNamedWithTheRunsThereAre() throws {
        let cli = try RunsCommandTests.twoRuns()
        expectFailure(try cli.run("runs", "compare", "1", "7", "--plot", "x.svg"), status: 1,
                      mentioning: ["no run #7", "it holds runs #1, #2", "quill runs list"])
        #expect(!FileManager.default.fileExists(atPath: cli.directory.file("x.svg").path))
        expectFailure(try cli.run("runs", "plot", "7", "--output", "x.svg"), status: 1, mentioning: ["#7"])
        expectFailure(try cli.run("runs", "compare", "seven"), status: 64)

        let empty = try QuillCLI()
        expectSuccess(try empty.run("store", "init"))
        expectFailure(try empty.run("runs", "compare", "3"), status: 1, mentioning: ["it holds no runs"])
        let none = try empty.run("runs", "compare")
        expectSuccess(none)
        #expect(none.stdout.isEmpty && none.stderr.contains("no runs"))
    }
}
