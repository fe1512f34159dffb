import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// The fast stepper against the model's own forward pass: every cell kind, 1 and 2 layers, tied and untied
/// embeddings, odd sizes (H 9, V 23; H 20 and E 5, neither a multiple of 16), any thread count, GEMV and GEMM.
@Suite struct StepperFastPathTests {
    struct Shape: CustomStringConvertible, Sendable {
        var kind: CellKind, layers: Int, tied: Bool, vocabulary: Int, embedding: Int, hidden: Int
        var description: String {
            "\(kind) L\(layers) \(tied ? "tied" : "untied") V\(vocabulary) E\(embedding) H\(hidden)"
        }
    }

    static let shapes: [Shape] = CellKind.allCases.flatMap { kind in
        [Shape(kind: kind, layers: 1, tied: false, vocabulary: 23, embedding: 7, hidden: 9),
         Shape(kind: kind, layers: 2, tied: false, vocabulary: 23, embedding: 7, hidden: 9),
         Shape(kind: kind, layers: 2, tied: true, vocabulary: 23, embedding: 9, hidden: 9),
         Shape(kind: kind, layers: 2, tied: false, vocabulary: 37, embedding: 5, hidden: 20),
         Shape(kind: kind, layers: 1, tied: true, vocabulary: 41, embedding: 33, hidden: 33)]
    }

    static func model(_ s: Shape) throws -> LanguageModel {
        try makeModel(s.kind, vocabulary: s.vocabulary, embedding: s.embedding, hidden: s.hidden, layers: s.layers,
                      tied: s.tied)
    }

    static func ids(_ s: Shape) -> [Int32] {
        (0..<9).map { Int32(($0 * 7 + 3) % s.vocabulary) }
    }

    @Test(arguments: shapes)
    func stepsEqualTheModelsForward(shape: Shape) throws {
        let model = try Self.model(shape)
        let ids = Self.ids(shape)
        let expected = windowLogProbabilities(model, ids)
        let stepper = try Stepper(model: model)
        var state = stepper.initialState()
        for (t, id) in ids.enumerated() {
            let got = stepper.step(token: id, state: &state)
            for v in 0..<shape.vocabulary {
                #expect(abs(Double(got[v]) - expected[t][v]) < 2e-5, "\(shape) t \(t) v \(v)")
            }
        }
        #expect(zip(state.hidden, model.finalHidden).allSatisfy { abs($0 - $1) < 1e-5 }, "final hidden state")
        if shape.kind == .lstm {
            #expect(zip(state.cell, model.finalCell).allSatisfy { abs($0 - $1) < 1e-5 }, "final cell state")
        }
    }

    /// 1, 2, 3 and 4 threads give the same bits, single stream and many (GEMV and GEMM), both precisions; on a
    /// model large enough that rows are spread over the pool.
    @Test(arguments: CellKind.allCases)
    func bitIdenticalForAnyThreadCount(kind: CellKind) throws {
        let model = try makeModel(kind, vocabulary: 301, embedding: 40, hidden: 70, layers: 2, scale: 0.2)
        for precision in Stepper.steppingPrecisions {
            var reference: [UInt32]?
            for threads in 1...4 {
                let stepper = try Stepper(model: model, precision: precision, pool: ThreadPool(threads: threads))
                var one = stepper.initialState()
                var outputs: [Float] = []
                for id: Int32 in [5, 300, 0, 17] { outputs += stepper.step(token: id, state: &one) }
                var many = [Stepper.State](repeating: stepper.initialState(), count: 11)
                var batch: [Float] = []
                for round in 0..<4 {
                    stepper.gemmThreshold = round % 2 == 0 ? 64 : 8  // GEMV, then GEMM (float32)
                    stepper.step(tokens: (0..<11).map { Int32(($0 * 13 + round * 5) % 301) }, states: &many,
                                 logProbabilities: &batch)
                    outputs += batch
                }
                outputs += one.hidden + one.cell + many.flatMap { $0.hidden + $0.cell }
                if let reference {
                    #expect(bits(outputs) == reference, "\(kind) \(precision) \(threads) threads")
                } else {
                    reference = bits(outputs)
                }
            }
        }
    }

    /// Many streams through GEMM equal the same streams through GEMV (within rounding).
    @Test(arguments: CellKind.allCases)
    func gemmAndGEMVAgree(kind: CellKind) throws {
        let model = try makeModel(kind, vocabulary: 57, embedding: 19, hidden: 21, layers: 2)
        let stepper = try Stepper(model: model)
        let tokens: [Int32] = (0..<10).map { Int32($0 * 5 % 57) }
        var viaGEMM = [Stepper.State](repeating: stepper.initialState(), count: 10), viaGEMV = viaGEMM
        var a: [Float] = [], b: [Float] = []
        for _ in 0..<3 {
            stepper.gemmThreshold = 8
            stepper.step(tokens: tokens, states: &viaGEMM, logProbabilities: &a)
            stepper.gemmThreshold = .max
            stepper.step(tokens: tokens, states: &viaGEMV, logProbabilities: &b)
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }, "\(kind)")
        }
        #expect(zip(viaGEMM.flatMap(\.hidden), viaGEMV.flatMap(\.hidden)).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// int8 weights stay close to float32: bounded error of the log-probabilities after several steps.
    @Test(arguments: CellKind.allCases)
    func int8IsCloseToFloat32(kind: CellKind) throws {
        let model = try makeModel(kind, vocabulary: 200, embedding: 32, hidden: 48, layers: 2, scale: 0.15)
        let exact = try Stepper(model: model), quantized = try Stepper(model: model, precision: .int8)
        #expect(quantized.weightBytes * 3 < exact.weightBytes)
        var s1 = exact.initialState(), s2 = quantized.initialState()
        for t in 0..<20 {
            let id = Int32(t * 37 % 200)
            let a = exact.step(token: id, state: &s1), b = quantized.step(token: id, state: &s2)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst < 0.02, "\(kind) step \(t): max |Δ log p| \(worst)")
        }
    }

    /// The weights are copied: changing the model afterwards does not change the stepper.
    @Test func weightsAreCopiedAtConstruction() throws {
        let model = try makeModel(.lstm)
        let stepper = try Stepper(model: model)
        var s1 = stepper.initialState(), s2 = s1
        let before = stepper.step(token: 3, state: &s1)
        model.rnn.layers[0].weightHH.base[0] += 1
        model.decoder.bias.base[0] += 1
        #expect(stepper.step(token: 3, state: &s2) == before)
    }

    @Test func intoABufferEqualsTheArrayAPI() throws {
        let model = try makeModel(.gru)
        let stepper = try Stepper(model: model)
        var s1 = stepper.initialState(), s2 = s1
        var buffer = [Float](repeating: 0, count: 23)
        for id: Int32 in [1, 2, 22] {
            let a = stepper.step(token: id, state: &s1)
            buffer.withUnsafeMutableBufferPointer { stepper.step(token: id, state: &s2, into: $0) }
            #expect(a == buffer)
        }
    }
}
