import Foundation
import QuillTestSupport
import Testing

/// `quill predict` and `quill eval-autocomplete` on a tiny trained model.
@Suite struct PredictCommandTests {
    static func trained() throws -> QuillCLI {
        let (cli, corpus) = try TrainCommandTests.prepared()
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--max-windows",
                                   "5"] + TrainCommandTests.tinySizes))
        return cli
    }

    @Test func oneRecordPerLineInOrderWithErrorsAndEmptyLines() throws {
        let cli = try Self.trained()
        var input = Data("The boats came\n\nAda walked down to the har\n".utf8)
        input.append(contentsOf: [0x41, 0xFF, 0x0A])  // "A\xFF": not UTF-8
        input.append(contentsOf: Array("The lighthouse\n".utf8))
        let file = try cli.write("in.txt", input)
        let result = try cli.run("predict", "--model", "m", "--task", "complete", "--input", file, "--top-k", "2")
        #expect(result.status == 1, "invalid lines make the exit status 1")
        #expect(result.stderr.contains("1 line was not valid UTF-8"))
        let records = try result.stdoutLines.map { try jsonObject($0) }
        #expect(records.map { $0["line"] as? Int } == [1, 2, 3, 4, 5])
        #expect(records[1]["empty"] as? Bool == true)
        #expect((records[3]["error"] as? String)?.contains("in.txt:4: not valid UTF-8 at byte 1") == true)
        #expect(records[2]["prefix"] as? String == " har")
        let suggestions = try #require(records[2]["suggestions"] as? [[String: Any]])
        #expect(suggestions.first?["token"] as? String == " harbour" && suggestions.first?["completion"] as? String
            == "bour")
        #expect((records[4]["suggestions"] as? [[String: Any]])?.map { $0["token"] as? String } == [" lighthouse"])
    }

    /// Scoring keeps the constant memory its help promises: the peak for an 8 MB line is about that for a 2 MB one,
    /// whose start is scored and marked truncated.
    @Test(.enabled(if: QuillCLI.time != nil, "needs /usr/bin/time to measure peak memory"))
    func scoringALongLineTakesConstantMemory() throws {
        let cli = try Self.trained()
        func line(megabytes: Int) -> Data {
            let sentence = "The boats came in at dusk and the lanterns were lit on the water. "
            return Data((String(repeating: sentence, count: megabytes << 20 / sentence.utf8.count) + "\n").utf8)
        }
        let arguments = ["predict", "--model", "m", "--task", "score"]
        let (small, smallPeak) = try cli.runMeasuringMemory(arguments, stdin: line(megabytes: 2))
        let (large, largePeak) = try cli.runMeasuringMemory(arguments, stdin: line(megabytes: 8))
        expectSuccess(small)
        expectSuccess(large)
        #expect(largePeak - smallPeak < 3 << 20, "6 MB more input took \(largePeak - smallPeak) bytes more memory")
        let record = try jsonObject(try #require(large.stdoutLines.first))
        #expect(record["tokens"] as? Int == 512 && record["truncated"] as? Bool == true, "\(record)")
        #expect(large.stdoutLines.first == small.stdoutLines.first, "both score the same first 512 tokens")
        // The part of the line not held is still checked as UTF-8: an error record, and exit status 1.
        var bad = line(megabytes: 2) + Data("The boats\n".utf8)
        bad[1_500_001] = 0xC3
        let invalid = try cli.runMeasuringMemory(arguments, stdin: bad).0
        #expect(invalid.status == 1 && invalid.stdoutLines.count == 2, "\(invalid.stderr)")
        #expect(try jsonObject(invalid.stdoutLines[0])["error"] as? String
            == "standard input:1: not valid UTF-8 at byte 1500001 of the line; fix or drop the line, or convert the "
            + "file (e.g. with iconv)")
        #expect(try cli.run("predict", "--help").stdout.contains("Memory stays constant"))
    }

    /// `generate` refuses a prompt that is not UTF-8, naming the option and the byte, as it refuses a file.
    @Test func aPromptThatIsNotUTF8IsRefused() throws {
        let cli = try Self.trained()
        let result = try cli.runInShell("generate --model m --prompt \"$(printf 'The caf\\351')\"")
        expectFailure(result, status: 1, mentioning: ["the value of --prompt is not valid UTF-8 at byte 7", "iconv"])
        #expect(result.stdout.isEmpty)
        let inline = try cli.runInShell("generate --model m \"--prompt=$(printf '\\377')\"")
        expectFailure(inline, status: 1, mentioning: ["the value of --prompt is not valid UTF-8 at byte 0"])
        expectSuccess(try cli.run("generate", "--model", "m", "--prompt", "The café"))
    }

    @Test func scoresGoToAFileAndGenerationIsSeeded() throws {
        let cli = try Self.trained()
        let output = cli.directory.file("scores.jsonl").path
        expectSuccess(try cli.run(["predict", "--model", "m", "--task", "score", "--output", output],
                                  stdin: "The boats came in.\nAda walked.\n"))
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try jsonObject(String($0)) }
        #expect(records.count == 2 && records.allSatisfy { ($0["logProbability"] as? Double ?? 0) < 0 })
        #expect(records.allSatisfy { ($0["perplexity"] as? Double ?? 0) > 1 })
        let a = try cli.run(["predict", "--model", "m", "--task", "generate", "--temperature", "0.9", "--seed", "4"],
                            stdin: "The boats\nAda\n")
        let b = try cli.run(["predict", "--model", "m", "--task", "generate", "--temperature", "0.9", "--seed", "4",
                             "--batch-lines", "1"], stdin: "The boats\nAda\n")
        expectSuccess(a)
        #expect(a.stdout == b.stdout, "a line's sample does not depend on its batch")
    }

    @Test func keystrokeSavingsOfAWordModel() throws {
        let cli = try Self.trained()
        let text = try cli.write("t.txt", "The boats came in at dusk and the lanterns were lit on the water.\n")
        let result = try cli.run("eval-autocomplete", "--model", "m", "--text", text, "--suggestions", "3",
                                 "--format", "json")
        expectSuccess(result)
        let object = try jsonObject(try #require(result.stdoutLines.first))
        let ksr = try #require(object["ksr"] as? Double)
        #expect(ksr > 0 && ksr < 100 && object["kn"] as? Int == 66)
        // The library's AutocompleteEvaluation: camelCase keys, the mixture left out when there is none.
        #expect(object["documentCache"] as? Bool == true && object["repeatSuggestions"] as? Bool == false)
        #expect(object["mix"] == nil && object["top1Accuracy"] is Double && object["top1"] is Int)
        expectFailure(try cli.run("eval-autocomplete", "--model", "m", "--text", text, "--suggestions", "0"),
                      status: 64, mentioning: ["--suggestions"])
    }

    @Test func temperatureZeroIsGreedyAndABeamIsAskedForByItsWidth() throws {
        let cli = try Self.trained()
        let input = "The boats\nAda walked\n"
        func generate(_ options: [String]) throws -> String {
            let result = try cli.run(["predict", "--model", "m", "--task", "generate"] + options, stdin: input)
            expectSuccess(result)
            return result.stdout
        }
        let byDefault = try generate([])
        #expect(try generate(["--temperature", "0"]) == byDefault)
        #expect(try generate(["--temperature", "0", "--beam", "1"]) == byDefault)
        let beam = try generate(["--beam", "4"])
        #expect(try generate(["--temperature", "0", "--beam", "4"]) == beam)
        expectFailure(try cli.run(["predict", "--model", "m", "--task", "generate", "--top-p", "2"], stdin: input),
                      status: 64, mentioning: ["--top-p"])
        let greedy = try cli.run("generate", "--model", "m", "--prompt", "The boats", "--temperature", "0",
                                 "--format", "jsonl")
        expectSuccess(greedy)
        let object = try jsonObject(try #require(greedy.stdoutLines.first))
        #expect(object["prompt"] as? String == "The boats" && object["text"] is String && object["generated"] is Int)
        let text = try cli.run("generate", "--model", "m", "--prompt", "The boats", "--temperature", "0")
        #expect(text.stdout == "The boats" + (object["text"] as? String ?? "?") + "\n")
    }
}
