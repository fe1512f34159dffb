import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// The scorer's sums equal the sums of the stepper's per-token log-probabilities: ragged sequences, more sequences
/// than a batch, sequences longer than a window (state carried), empty and one-token sequences, small decoder tiles.
@Suite struct ScorerTests {
    static func sequences(vocabulary V: Int) -> [[Int32]] {
        let lengths = [12, 1, 0, 30, 7, 2, 19, 12, 5]
        return lengths.enumerated().map { i, n in (0..<n).map { Int32(($0 * 11 + i * 7 + 1) % V) } }
    }

    static func stepperSums(_ model: LanguageModel, _ sequences: [[Int32]]) throws -> [Scorer.Score] {
        let stepper = try Stepper(model: model)
        return sequences.map { s in
            var state = stepper.initialState()
            var total = 0.0
            for t in 0..<max(0, s.count - 1) {
                total += Double(stepper.step(token: s[t], state: &state)[Int(s[t + 1])])
            }
            return Scorer.Score(logProbability: total, tokens: max(0, s.count - 1))
        }
    }

    @Test(arguments: CellKind.allCases)
    func sumsEqualTheStepper(kind: CellKind) throws {
        let model = try makeModel(kind, vocabulary: 101, embedding: 13, hidden: 17, layers: 2)
        let sequences = Self.sequences(vocabulary: 101)
        let expected = try Self.stepperSums(model, sequences)
        for (batch, window, rows, columns) in [(64, 35, 128, 512), (4, 5, 3, 16), (3, 1, 1, 100), (9, 8, 7, 101)] {
            let scorer = Scorer(model: model, batch: batch, window: window)
            scorer.decoderRows = rows
            scorer.decoderColumns = columns
            let got = scorer.score(sequences)
            #expect(got.map(\.tokens) == expected.map(\.tokens))
            for (g, e) in zip(got, expected) {
                #expect(abs(g.logProbability - e.logProbability) <= 1e-4 * max(1, abs(e.logProbability)),
                        "\(kind) batch \(batch) window \(window) tile \(rows)×\(columns): \(g) vs \(e)")
            }
        }
    }

    @Test func tiedEmbeddingsAndThreadCounts() throws {
        let model = try makeModel(.lstm, vocabulary: 300, hidden: 24, layers: 1, tied: true, scale: 0.3)
        let sequences = Self.sequences(vocabulary: 300)
        let expected = try Self.stepperSums(model, sequences)
        var reference: [Scorer.Score]?
        for threads in 1...3 {
            let scorer = Scorer(model: model, batch: 5, window: 6, pool: ThreadPool(threads: threads))
            scorer.decoderRows = 4
            scorer.decoderColumns = 64
            let got = scorer.score(sequences)
            for (g, e) in zip(got, expected) {
                #expect(abs(g.logProbability - e.logProbability) <= 1e-4 * max(1, abs(e.logProbability)))
            }
            if let reference { #expect(got == reference, "\(threads) threads give the same bits") }
            reference = got
        }
    }
}
