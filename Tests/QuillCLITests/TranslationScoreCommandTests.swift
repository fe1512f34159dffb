import Foundation
import QuillTestSupport
import Testing

/// `quill translation score` on pairs from `Tests/Fixtures/sacrebleu-multi30k-val.json`, against sacreBLEU's figures.
@Suite struct TranslationScoreCommandTests {
    /// The fixture: `pairs` (with `lang`, `hyp`, `ref`, sentence figures) and `corpus.<subset>` blocks.
    static func fixture() throws -> [String: Any] {
        let data = try Data(contentsOf: TestSupport.fixture("sacrebleu-multi30k-val.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Writes the pairs of one language as a hypothesis file and a reference file, one segment per line.
    static func files(_ cli: QuillCLI, lang: String, fixture: [String: Any]) throws -> (hyp: String, ref: String) {
        let pairs = try #require(fixture["pairs"] as? [[String: Any]]).filter { $0["lang"] as? String == lang }
        #expect(pairs.count == 100)
        let hyps = pairs.map { ($0["hyp"] as? String ?? "") + "\n" }.joined()
        let refs = pairs.map { ($0["ref"] as? String ?? "") + "\n" }.joined()
        return (try cli.write("\(lang).hyp", hyps), try cli.write("\(lang).ref", refs))
    }

    static func corpus(_ fixture: [String: Any], _ subset: String, _ block: String) throws -> [String: Any] {
        let corpus = try #require(fixture["corpus"] as? [String: [String: Any]])
        return try #require(corpus[subset]?[block] as? [String: Any])
    }

    static func expectClose(_ actual: Any?, _ expected: Any?, _ key: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a = actual as? Double, let e = expected as? Double else {
            Issue.record("\(key): \(String(describing: actual)) vs \(String(describing: expected))",
                         sourceLocation: sourceLocation)
            return
        }
        #expect(abs(a - e) < 1e-9, "\(key): \(a) ≠ sacreBLEU's \(e)", sourceLocation: sourceLocation)
    }

    @Test func germanFromStandardInputMatchesSacreBLEU() throws {
        let cli = try QuillCLI()
        let fixture = try Self.fixture()
        let (hyp, ref) = try Self.files(cli, lang: "de", fixture: fixture)
        let result = try cli.run(["translation", "score", "--reference", ref],
                                 stdin: try String(contentsOfFile: hyp, encoding: .utf8))
        expectSuccess(result)
        #expect(result.stdoutLines.count == 1)
        let json = try jsonObject(try #require(result.stdoutLines.first))
        let bleu = try Self.corpus(fixture, "de", "bleu")
        Self.expectClose(json["bleu"], bleu["score"], "bleu")
        Self.expectClose(json["bp"], bleu["bp"], "bp")
        Self.expectClose(json["ratio"], bleu["ratio"], "ratio")
        let precisions = try #require(json["precisions"] as? [Double])
        let expectedPrecisions = try #require(bleu["precisions"] as? [Double])
        for (p, e) in zip(precisions, expectedPrecisions) { Self.expectClose(p, e, "precision") }
        #expect(json["sys_len"] as? Int == bleu["sys_len"] as? Int)
        #expect(json["ref_len"] as? Int == bleu["ref_len"] as? Int)
        #expect(json["counts"] as? [Int] == bleu["counts"] as? [Int])
        let chrf = try Self.corpus(fixture, "de", "chrf")
        let chrfpp = try Self.corpus(fixture, "de", "chrfpp")
        Self.expectClose(json["chrf"], chrf["score"], "chrf")
        Self.expectClose(json["chrfpp"], chrfpp["score"], "chrfpp")
        let signature = try #require(json["signature"] as? [String: String])
        #expect(signature["bleu"] == bleu["signature"] as? String)
        #expect(signature["chrf"] == chrf["signature"] as? String)
        #expect(signature["chrfpp"] == chrfpp["signature"] as? String)
        let lines = try #require(json["score_lines"] as? [String: String])
        #expect(lines["bleu"] == bleu["line"] as? String)
        #expect(lines["chrfpp"] == chrfpp["line"] as? String)
        #expect(json["segments"] as? Int == 100)
    }

    @Test(arguments: [(["--tokenize", "intl"], "bleu_intl"), (["--lowercase"], "bleu_lc"), ([], "bleu")])
    func englishFileWithOptionsMatchesSacreBLEU(_ options: [String], _ block: String) throws {
        let cli = try QuillCLI()
        let fixture = try Self.fixture()
        let (hyp, ref) = try Self.files(cli, lang: "en", fixture: fixture)
        let result = try cli.run(["translation", "score", "--reference", ref, hyp] + options)
        expectSuccess(result)
        let json = try jsonObject(try #require(result.stdoutLines.first))
        let bleu = try Self.corpus(fixture, "en", block)
        Self.expectClose(json["bleu"], bleu["score"], block)
        #expect(json["sys_len"] as? Int == bleu["sys_len"] as? Int)
        #expect(json["ref_len"] as? Int == bleu["ref_len"] as? Int)
        #expect((json["signature"] as? [String: String])?["bleu"] == bleu["signature"] as? String)
        // --tokenize and --lowercase leave chrF alone, as in sacreBLEU.
        Self.expectClose(json["chrf"], try Self.corpus(fixture, "en", "chrf")["score"], "chrf")
    }

    @Test func sentenceLevelMatchesSacreBLEUPerPair() throws {
        let cli = try QuillCLI()
        let fixture = try Self.fixture()
        let (hyp, ref) = try Self.files(cli, lang: "en", fixture: fixture)
        let result = try cli.run("translation", "score", "--reference", ref, "--sentence-level", hyp)
        expectSuccess(result)
        let pairs = try #require(fixture["pairs"] as? [[String: Any]]).filter { $0["lang"] as? String == "en" }
        let lines = try result.stdoutLines.map { try jsonObject($0) }
        #expect(lines.count == pairs.count + 1)
        for (line, pair) in zip(lines, pairs) {
            for key in ["bleu", "chrf", "chrfpp"] { Self.expectClose(line[key], pair[key], "\(key) of \(line)") }
            #expect(line["counts"] as? [Int] == pair["counts"] as? [Int])
            #expect(line["sys_len"] as? Int == pair["sys_len"] as? Int)
        }
        let signatures = try #require(lines.last?["signature"] as? [String: String])
        #expect(signatures == fixture["sentence_signatures"] as? [String: String])
    }

    @Test func errorsNameTheFileAndLine() throws {
        let cli = try QuillCLI()
        let ref = try cli.write("ref.txt", "A dog runs.\nA cat sleeps.\n")
        let short = try cli.write("short.txt", "A dog runs.\n")
        expectFailure(try cli.run("translation", "score", "--reference", ref, short), status: 1,
                      mentioning: ["short.txt has 1 line(s)", "line 2 of \(ref)"])
        let bad = try cli.write("bad.txt", Data("A dog runs.\nA c\u{FF}t".utf8.map { $0 } + [0xFF, 0x0A]))
        expectFailure(try cli.run("translation", "score", "--reference", ref, bad), status: 1,
                      mentioning: ["bad.txt:2:", "invalid UTF-8"])
        let emptyLine = try cli.write("empty.txt", "A dog runs.\n \n")
        expectFailure(try cli.run(["translation", "score", "--reference", emptyLine], stdin: "a\nb\n"), status: 1,
                      mentioning: ["empty.txt:2:", "empty"])
        expectFailure(try cli.run("translation", "score", "--reference", ref, "--tokenize", "zh"), status: 64)
    }
}
