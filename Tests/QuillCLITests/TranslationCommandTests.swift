import Foundation
import QuillTestSupport
import Testing

/// `quill translation train | eval | attention`, `quill translate`, and the autoencoder's commands on a toy task
/// (lower-case words to upper-case ones) with a tiny model: the commands' contracts, not translation quality.
@Suite struct TranslationCommandTests {
    static let words = ["ab", "cd", "ef", "gh", "ij", "kl"]

    /// `count` aligned lines: random words, and the same words upper-cased.
    static func pairs(_ count: Int, seed: Int) -> (source: String, target: String) {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ n: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(n))
        }
        var source = "", target = ""
        for _ in 0..<count {
            let line = (0..<(2 + next(3))).map { _ in words[next(words.count)] }
            source += line.joined(separator: " ") + "\n"
            target += line.map { $0.uppercased() }.joined(separator: " ") + "\n"
        }
        return (source, target)
    }

    static func trained() throws -> QuillCLI {
        let cli = try QuillCLI()
        let train = pairs(64, seed: 1), valid = pairs(8, seed: 2)
        try cli.write("train.lc", train.source)
        try cli.write("train.uc", train.target)
        try cli.write("valid.lc", valid.source)
        try cli.write("valid.uc", valid.target)
        let result = try cli.run(["translation", "train", "--source", "train.lc", "--target", "train.uc",
                                  "--valid-source", "valid.lc", "--valid-target", "valid.uc", "--name", "up",
                                  "--preset", "tiny", "--embedding", "16", "--hidden", "32", "--batch", "16",
                                  "--epochs", "2", "--dropout", "0"])
        expectSuccess(result)
        #expect(result.stdout.contains("model 'up'") && result.stdout.contains("64 training pairs"))
        #expect(result.stderr.contains("epoch 2/2"))
        return cli
    }

    @Test func trainTranslateEvaluateAndDraw() throws {
        let cli = try Self.trained()
        // Text: one line per input line (n-best: K lines each), in order.
        let text = try cli.run(["translate", "--model", "up", "--beam", "3", "--nbest", "2"], stdin: "ab cd\nef\n")
        expectSuccess(text)
        #expect(text.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 5)
        let reduced = try cli.run(["translate", "--model", "up", "--precision", "bfloat16"], stdin: "ab cd\nef\n")
        expectSuccess(reduced)
        #expect(reduced.stdout.split(separator: "\n").count == 2)
        let jsonl = try cli.run(["translate", "--model", "up", "--format", "jsonl", "--attention", "valid.lc"])
        expectSuccess(jsonl)
        let objects = try jsonl.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 8 && objects.map { $0["line"] as? Int } == Array(1...8))
        let first = try #require((objects[0]["translations"] as? [[String: Any]])?.first)
        #expect(first["text"] is String && first["logProbability"] is Double && first["attention"] is [[Double]])

        let eval = try cli.run(["translation", "eval", "--model", "up", "--source", "valid.lc",
                                "--reference", "valid.uc", "--beam", "2", "--hypotheses", "hyp.uc"])
        expectSuccess(eval)
        let scores = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for key in ["bleu", "chrf", "chrfpp", "precisions", "bp", "sys_len", "ref_len", "signature", "beam"] {
            #expect(scores[key] != nil, "no \(key)")
        }
        // The written hypotheses score the same through `quill translation score`.
        let rescored = try cli.run(["translation", "score", "--reference", "valid.uc", "hyp.uc"])
        expectSuccess(rescored)
        let again = try #require(try JSONSerialization.jsonObject(with: Data(rescored.stdout.utf8)) as? [String: Any])
        #expect(again["bleu"] as? Double == scores["bleu"] as? Double)

        let picture = try cli.run(["translation", "attention", "--model", "up", "ab cd ef", "--output", "a.svg"])
        expectSuccess(picture)
        let svg = try String(contentsOf: cli.directory.file("a.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg") && svg.contains("<rect"))
    }

    @Test func aFinishedRunIsNotResumed() throws {
        let cli = try Self.trained()
        expectFailure(try cli.run(["translation", "train", "--resume", "1", "--epochs", "3"]),
                      mentioning: ["run #1 has finished"])
    }

    /// BPE vocabularies on both sides: a word never seen still translates (byte fallback, no `<unk>`).
    @Test func bpeVocabularies() throws {
        let cli = try QuillCLI()
        let train = Self.pairs(48, seed: 5)
        try cli.write("train.lc", train.source)
        try cli.write("train.uc", train.target)
        expectSuccess(try cli.run(["translation", "train", "--source", "train.lc", "--target", "train.uc",
                                   "--name", "bpe", "--level", "bpe", "--merges", "20", "--embedding", "8",
                                   "--hidden", "16", "--layers", "1", "--epochs", "1", "--batch", "16"]))
        let show = try cli.run(["vocab", "show", "bpe.source"])
        expectSuccess(show)
        #expect(show.stdout.contains("bpe"))
        let out = try cli.run(["translate", "--model", "bpe", "--format", "jsonl"], stdin: "ab zq€ cd\n")
        expectSuccess(out)
        #expect(!out.stdout.contains("<unk>") && out.stdout.contains("<0xE2>"))
    }

    @Test func badInputGetsClearErrors() throws {
        let cli = try QuillCLI()
        try cli.write("a.txt", "one\ntwo\nthree\n")
        try cli.write("b.txt", "eins\nzwei\n")
        expectFailure(try cli.run(["translation", "train", "--source", "a.txt", "--target", "b.txt", "--name", "x"]),
                      mentioning: ["b.txt", "a.txt"])
        expectFailure(try cli.run(["translation", "train", "--source", "a.txt", "--target", "a.txt", "--name", "x",
                                   "--hidden", "31"]), mentioning: ["--hidden"])
        expectFailure(try cli.run(["translate", "--model", "nothing"]), mentioning: ["nothing"])
        // TSV pairs: a line without exactly one TAB is named; --tsv does not mix with the aligned files' options.
        try cli.write("pairs.tsv", "AB\tab\nCD cd\n")
        expectFailure(try cli.run(["translation", "train", "--tsv", "pairs.tsv", "--name", "x"]),
                      mentioning: ["pairs.tsv:2", "TAB"])
        expectFailure(try cli.run(["translation", "train", "--tsv", "pairs.tsv", "--source", "a.txt", "--name", "x"]),
                      mentioning: ["--tsv", "--source"])
        expectFailure(try cli.run(["translation", "train", "--source", "a.txt", "--target", "a.txt",
                                   "--valid-tsv", "pairs.tsv", "--name", "x"]), mentioning: ["--valid-tsv"])
    }

    /// `--tsv` with `--tsv-columns target-source` trains from `target<TAB>source` lines, validated on `--valid-tsv`.
    @Test func trainFromATSVFile() throws {
        let cli = try QuillCLI()
        let train = Self.pairs(32, seed: 3), valid = Self.pairs(4, seed: 4)
        func tsv(_ pairs: (source: String, target: String)) -> String {
            zip(pairs.target.split(separator: "\n"), pairs.source.split(separator: "\n"))
                .map { "\($0)\t\($1)\n" }.joined()
        }
        try cli.write("train.tsv", tsv(train))
        try cli.write("valid.tsv", tsv(valid))
        let result = try cli.run(["translation", "train", "--tsv", "train.tsv", "--valid-tsv", "valid.tsv",
                                  "--tsv-columns", "target-source", "--name", "up", "--preset", "tiny",
                                  "--embedding", "8", "--hidden", "8", "--epochs", "1"])
        expectSuccess(result)
        #expect(result.stdout.contains("32 training pairs"))
        let shown = try cli.run(["models", "show", "up"])
        expectSuccess(shown)
        #expect(shown.stdout.contains("up.source") && shown.stdout.contains("up.target"))
        let words = try cli.run(["vocab", "show", "up.source"])
        #expect(words.stdout.contains("ab") && !words.stdout.contains("AB"))
    }

    @Test func autoencoderEmbedsAndScoresLines() throws {
        let cli = try QuillCLI()
        try cli.write("lines.txt", Self.pairs(64, seed: 3).source)
        let trained = try cli.run(["autoencoder", "train", "--corpus", "lines.txt", "--name", "ae", "--hidden", "16",
                                   "--embedding", "8", "--epochs", "2", "--batch", "16"])
        expectSuccess(trained)
        let embedded = try cli.run(["embed", "--model", "ae"], stdin: "ab cd\nef gh ij\n")
        expectSuccess(embedded)
        let vectors = try embedded.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(vectors.count == 2 && (vectors[0]["vector"] as? [Double])?.count == 16)
        let scored = try cli.run(["anomaly", "--model", "ae", "--top", "1"], stdin: "ab cd\nzz yy xx ww\n")
        expectSuccess(scored)
        #expect(scored.stdout.split(separator: "\n").count == 1 && scored.stdout.contains("\"score\""))
    }
}
