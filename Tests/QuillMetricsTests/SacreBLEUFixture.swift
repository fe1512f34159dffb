import Foundation
import QuillTestSupport
import Testing

/// `Tests/Fixtures/sacrebleu-multi30k-val.json`: sacreBLEU 2.6.0's own scores and tokenizations for 200 Multi30k val
/// pairs (see `Tests/Fixtures/README.md` and `../shared/fixtures/README.md` for every key).
struct SacreBLEUFixture: Decodable, Sendable {
    struct Pair: Decodable, Sendable, CustomTestStringConvertible {
        let id: Int
        let lang: String
        let kind: String
        let ops: String
        let hyp: String
        let ref: String
        let bleu: Double
        let counts: [Int]
        let totals: [Int]
        let sysLen: Int
        let refLen: Int
        let chrf: Double
        let chrfpp: Double

        private enum CodingKeys: String, CodingKey {
            case id, lang, kind, ops, hyp, ref, bleu, counts, totals, sysLen = "sys_len", refLen = "ref_len", chrf
            case chrfpp
        }

        var testDescription: String { "pair \(id) (\(lang), \(ops))" }
    }

    struct Tokenized: Decodable, Sendable, CustomTestStringConvertible {
        let id: Int
        let hyp13a: String
        let ref13a: String
        let hypIntl: String
        let refIntl: String

        private enum CodingKeys: String, CodingKey {
            case id, hyp13a = "hyp_13a", ref13a = "ref_13a", hypIntl = "hyp_intl", refIntl = "ref_intl"
        }

        var testDescription: String { "tokenized \(id)" }
    }

    struct BLEUBlock: Decodable, Sendable {
        let score: Double
        let precisions: [Double]
        let counts: [Int]
        let totals: [Int]
        let bp: Double
        let sysLen: Int
        let refLen: Int
        let ratio: Double
        let signature: String
        let line: String

        private enum CodingKeys: String, CodingKey {
            case score, precisions, counts, totals, bp, sysLen = "sys_len", refLen = "ref_len", ratio, signature, line
        }
    }

    struct CHRFBlock: Decodable, Sendable {
        let score: Double
        let stats: [Int]
        let signature: String
        let line: String
    }

    struct Corpus: Decodable, Sendable {
        let bleu: BLEUBlock
        let bleuIntl: BLEUBlock
        let bleuLc: BLEUBlock
        let chrf: CHRFBlock
        let chrfpp: CHRFBlock

        private enum CodingKeys: String, CodingKey {
            case bleu, bleuIntl = "bleu_intl", bleuLc = "bleu_lc", chrf, chrfpp
        }
    }

    let sacrebleu: String
    let sentenceSignatures: [String: String]
    let corpus: [String: Corpus]
    let pairs: [Pair]
    let tokenized: [Tokenized]

    private enum CodingKeys: String, CodingKey {
        case sacrebleu, sentenceSignatures = "sentence_signatures", corpus, pairs, tokenized
    }

    /// The subsets of `corpus`: `all`, `en`, `de`.
    static let subsets = ["all", "en", "de"]

    /// The pairs of a subset, in order.
    func pairs(in subset: String) -> [Pair] {
        subset == "all" ? pairs : pairs.filter { $0.lang == subset }
    }

    /// Loaded once; a missing or malformed file fails every test that uses it.
    static let shared: Result<SacreBLEUFixture, any Error> = Result {
        try JSONDecoder().decode(SacreBLEUFixture.self,
                                  from: Data(contentsOf: TestSupport.fixture("sacrebleu-multi30k-val.json")))
    }

    static func load() throws -> SacreBLEUFixture { try shared.get() }

    /// The pairs (or an empty list when the file cannot be read; ``load()`` then fails the count test).
    static var pairArguments: [Pair] { (try? shared.get().pairs) ?? [] }
    static var tokenizedArguments: [Tokenized] { (try? shared.get().tokenized) ?? [] }
}

/// Python's string equality: scalar by scalar (Swift's `==` would equate NFC and NFD spellings).
func sameScalars(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.elementsEqual(b.unicodeScalars)
}

/// The tolerance for figures: sacreBLEU's doubles are reproduced to rounding (the brief asks for 0.01).
let figureTolerance = 1e-9

func expectClose(_ actual: Double, _ expected: Double, _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(actual - expected) <= figureTolerance, "\(what()): \(actual) ≠ sacreBLEU's \(expected)",
            sourceLocation: sourceLocation)
}

func expectClose(_ actual: [Double], _ expected: [Double], _ what: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what()): \(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        expectClose(a, e, what(), sourceLocation: sourceLocation)
    }
}
