import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// One `InferenceWeights` shared by many sessions stepping at once gives each session what it gets alone.
@Suite struct InferenceWeightsTests {
    /// Results of concurrent sessions, one slot each.
    final class Results: @unchecked Sendable {  // each slot is written by one iteration, read after all finish
        var slots: [[UInt32]]
        init(count: Int) { slots = Array(repeating: [], count: count) }
    }

    static func run(_ stepper: Stepper, _ ids: [Int32]) -> [UInt32] {
        var state = stepper.initialState()
        return ids.flatMap { stepper.step(token: $0, state: &state).map(\.bitPattern) }
            + state.hidden.map(\.bitPattern) + state.cell.map(\.bitPattern)
    }

    @Test(arguments: CellKind.allCases, Stepper.steppingPrecisions)
    func concurrentSessionsEqualSoloRuns(kind: CellKind, precision: Stepper.Precision) throws {
        let model = try makeModel(kind)
        let weights = try InferenceWeights(model: model, precision: precision)
        var rng = RNG(seed: 3)
        let sequences: [[Int32]] = (0..<8).map { _ in (0..<9).map { _ in Int32(rng.uniform(0, 22.99)) } }
        let solo = try sequences.map { Self.run(try Stepper(model: model, precision: precision), $0) }
        let results = Results(count: sequences.count)
        DispatchQueue.concurrentPerform(iterations: sequences.count) { i in
            results.slots[i] = Self.run(Stepper(weights: weights), sequences[i])
        }
        for i in sequences.indices { #expect(results.slots[i] == solo[i], "\(kind) \(precision) session \(i)") }
        #expect(Stepper(weights: weights).weightBytes == weights.weightBytes)
    }

    @Test func bfloat16IsRefused() throws {
        #expect(throws: Stepper.UnsupportedPrecision.self) {
            _ = try InferenceWeights(model: try makeModel(.lstm), precision: .bfloat16)
        }
    }
}
