import Foundation
import QuillTestSupport
import Testing

/// `quill ngram train|eval`, and an n-gram model mixed into suggestions (`--mix`).
@Suite struct NGramCommandTests {
    @Test func trainEvaluateAndMix() throws {
        let cli = try PredictCommandTests.trained()
        let corpus = try cli.write("corpus.txt", TrainCommandTests.corpus)
        let train = try cli.run("ngram", "train", "--corpus", corpus, "--vocabulary", "v", "--order", "3",
                                "--name", "g")
        expectSuccess(train)
        #expect(train.stdout.contains("saved n-gram model 'g': order 3, modified Kneser-Ney"), "\(train.stdout)")
        let eval = try cli.run("ngram", "eval", "--model", "g", "--text", corpus, "--format", "json")
        expectSuccess(eval)
        let report = try jsonObject(try #require(eval.stdoutLines.first))
        let perplexity = try #require(report["perplexity"] as? Double)
        #expect(perplexity > 1 && perplexity < 50, "a 3-gram on its own training text: \(perplexity)")
        #expect(try cli.run("models", "list").stdout.contains("kn-ngram"))
        let plain = try cli.run("ngram", "train", "--corpus", corpus, "--vocabulary", "v", "--order", "5",
                                "--smoothing", "plain", "--name", "g5")
        expectSuccess(plain)
        #expect(plain.stdout.contains("saved n-gram model 'g5': order 5, plain Kneser-Ney"), "\(plain.stdout)")
        expectFailure(try cli.run("ngram", "train", "--corpus", corpus, "--vocabulary", "v", "--smoothing", "katz",
                                  "--name", "h"), status: 64, mentioning: ["--smoothing"])

        let text = try cli.write("t.txt", "The boats came in at dusk and the lanterns were lit on the water.\n")
        let mixed = try cli.run("eval-autocomplete", "--model", "m", "--mix", "g", "--text", text, "--format", "json")
        expectSuccess(mixed)
        let ksr = try jsonObject(try #require(mixed.stdoutLines.first))
        #expect(ksr["mix"] as? String == "g" && (ksr["ksr"] as? Double ?? -1) > 0)
        let complete = try cli.run(["complete", "--model", "m", "--mix", "g", "--mix-weight", "0.5"], stdin: "The har\n")
        expectSuccess(complete)
        #expect(complete.stdout.contains("harbour"))

        let predict = try cli.run(["predict", "--model", "m", "--task", "next", "--mix", "g"], stdin: "The boats\n")
        expectSuccess(predict)
        #expect(predict.stdout.contains("\"suggestions\""))

        // Errors name the problem and the fix.
        expectFailure(try cli.run("eval-autocomplete", "--model", "m", "--mix", "m", "--text", text), status: 1,
                      mentioning: ["not an n-gram model", "quill ngram train"])
        expectFailure(try cli.run("eval", "--model", "g", "--text", text), status: 1,
                      mentioning: ["'g' is an n-gram model", "quill ngram eval", "--mix g"])
        expectFailure(try cli.run("complete", "--model", "m", "--mix", "g", "--mix-weight", "1"), status: 64,
                      mentioning: ["--mix-weight"])
        expectFailure(try cli.run("ngram", "train", "--corpus", corpus, "--vocabulary", "v", "--order", "9",
                                  "--name", "h"), status: 64, mentioning: ["--order"])
        let other = try cli.write("other.txt", "zebras graze\nzebras run\n")
        expectSuccess(try cli.run("vocab", "build", "--corpus", other, "--name", "w"))
        expectSuccess(try cli.run("ngram", "train", "--corpus", other, "--vocabulary", "w", "--name", "z"))
        expectFailure(try cli.run("eval-autocomplete", "--model", "m", "--mix", "z", "--text", text), status: 1,
                      mentioning: ["uses vocabulary 'w'", "--vocabulary v"])
    }
}
