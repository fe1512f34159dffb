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

/// Stepping without the decoder, then decoding the state, gives the bits the full step gives: for every recurrence
/// kind and the gated convolutional model, float32 and int8, one stream or several.
@Suite struct AdvanceThenDecodeTests {
    static func models() throws -> [any StreamLanguageModel] {
        try [CellKind.lstm, .gru, .rnnTanh].map { try StepperTests.model($0) }
            + [try ConvolutionalStepperTests.model(embedding: 6, width: 3)]
    }

    @Test(arguments: Stepper.steppingPrecisions)
    func advancingThenDecodingIsStepping(precision: Stepper.Precision) throws {
        for model in try Self.models() {
            let stepper = try Stepper(model: model, precision: precision)
            let tokens: [[Int32]] = [[4, 9, 1], [2, 2, 7], [11, 3, 5]]
            var stepped = [Stepper.State](repeating: stepper.initialState(), count: 3), advanced = stepped
            var full: [Float] = [], decoded: [Float] = []
            for position in 0..<3 {
                let column = tokens.map { $0[position] }
                stepper.step(tokens: column, states: &stepped, logProbabilities: &full)
                stepper.advance(tokens: column, states: &advanced)
            }
            stepper.distributions(after: advanced, logProbabilities: &decoded)
            #expect(stepped == advanced, "\(type(of: model)) \(precision)")
            #expect(full.map(\.bitPattern) == decoded.map(\.bitPattern), "\(type(of: model)) \(precision)")
        }
    }
}

/// The stepper runs a gated convolutional model too: its state is the window of past block inputs.
@Suite struct ConvolutionalStepperTests {
    static let V = 19

    static func model(embedding: Int, width: Int) throws -> GatedConvolutionalLanguageModel {
        let model = try GatedConvolutionalLanguageModel(.init(vocabulary: V, embedding: embedding, channels: 6,
                                                              blocks: 3, width: width))
        var rng = RNG(seed: 9)
        model.parameters.initialize(.uniform(scale: 0.4), rng: &rng)
        model.isTraining = false
        return model
    }

    static func logSoftmax(_ row: [Float]) -> [Double] {
        let top = Double(row.max()!)
        let logSum = top + log(row.map { exp(Double($0) - top) }.reduce(0, +))
        return row.map { Double($0) - logSum }
    }

    /// Token by token, one stream or 70 at once (the GEMM path), float32 or int8, the stepper gives the model's own
    /// next-token distributions over a whole window; the state's last `C` floats are the top block's output.
    @Test(arguments: [(6, 3), (5, 4), (6, 1)])
    func stepsEqualAWholeWindow(embedding: Int, width: Int) throws {
        let model = try Self.model(embedding: embedding, width: width)
        let ids: [Int32] = [4, 9, 1, 18, 7, 7, 13, 2, 0, 11]
        _ = model.forward(inputs: ids, targets: ids, steps: ids.count, batch: 1)
        let logits = Array(model.logits)
        let stepper = try Stepper(model: model)
        #expect(stepper.configuration == nil && stepper.outputWidth == 6)
        var state = stepper.initialState()
        var many = [Stepper.State](repeating: stepper.initialState(), count: 70)
        var batched: [Float] = []
        let int8 = try Stepper(model: model, precision: .int8)
        var quantized = int8.initialState()
        for (t, id) in ids.enumerated() {
            let expected = Self.logSoftmax(Array(logits[(t * Self.V)..<((t + 1) * Self.V)]))
            let single = stepper.step(token: id, state: &state)
            stepper.step(tokens: [Int32](repeating: id, count: 70), states: &many, logProbabilities: &batched)
            let approximate = int8.step(token: id, state: &quantized)
            for v in 0..<Self.V {
                #expect(abs(Double(single[v]) - expected[v]) < 1e-5, "step \(t), token \(v)")
                #expect(abs(Double(batched[69 * Self.V + v]) - expected[v]) < 1e-4, "GEMM step \(t), token \(v)")
                #expect(abs(Double(approximate[v]) - expected[v]) < 0.05, "int8 step \(t), token \(v)")
            }
        }
        #expect(state.hidden.count == model.configuration.contextPerStream + 6)
    }
}
