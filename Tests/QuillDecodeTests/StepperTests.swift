import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// A stepper's log-probabilities are the model's, one token at a time, for one stream or many at once.
@Suite struct StepperTests {
    static func model(_ kind: CellKind, vocabulary: Int = 23, seed: UInt64 = 5) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: vocabulary, embedding: 7, hidden: 9, layers: 2))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.4), rng: &rng)
        model.isTraining = false
        return model
    }

    @Test(arguments: [CellKind.lstm, .gru, .rnnTanh])
    func stepsEqualAWholeWindow(kind: CellKind) throws {
        let model = try Self.model(kind)
        let ids: [Int32] = [4, 9, 1, 22, 7, 7, 13]
        _ = model.forward(inputs: ids, targets: ids, steps: ids.count, batch: 1)
        let logits = Array(model.logits)
        let stepper = try Stepper(model: model)
        var state = stepper.initialState()
        for (t, id) in ids.enumerated() {
            let logProbabilities = stepper.step(token: id, state: &state)
            let row = Array(logits[(t * 23)..<((t + 1) * 23)])
            let top = row.max()!
            let logSum = Double(top) + log(row.map { exp(Double($0 - top)) }.reduce(0, +))
            for v in 0..<23 {
                #expect(abs(Double(logProbabilities[v]) - (Double(row[v]) - logSum)) < 1e-5)
            }
        }
    }

    @Test func manyStreamsAtOnceEqualEachAlone() throws {
        let model = try Self.model(.lstm)
        let stepper = try Stepper(model: model)
        var alone = [stepper.initialState(), stepper.initialState(), stepper.initialState()]
        _ = stepper.step(token: 3, state: &alone[1])
        _ = stepper.step(token: 8, state: &alone[2])
        _ = stepper.step(token: 9, state: &alone[2])
        var together = alone
        let tokens: [Int32] = [5, 6, 17]
        var batched: [Float] = []
        stepper.step(tokens: tokens, states: &together, logProbabilities: &batched)
        for i in 0..<3 {
            let single = stepper.step(token: tokens[i], state: &alone[i])
            #expect(zip(single, batched[(i * 23)..<((i + 1) * 23)]).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect(zip(alone[i].hidden, together[i].hidden).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }
}
