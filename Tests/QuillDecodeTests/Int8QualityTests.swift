import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// int8 weights keep the perplexity of a (briefly) trained model within 1 % of float32.
@Suite struct Int8QualityTests {
    /// Text from a sparse random Markov chain: each token has 3 likely successors, so a trained model is sharp.
    static func corpus(_ count: Int, vocabulary V: Int, seed: UInt64) -> [Int32] {
        var table = RNG(seed: 99), rng = RNG(seed: seed)
        let successors = (0..<V).map { _ in (0..<3).map { _ in Int32(table.next() % UInt64(V)) } }
        var ids: [Int32] = [0]
        while ids.count < count {
            let u = rng.uniform()
            ids.append(u < 0.1 ? Int32(rng.next() % UInt64(V)) : successors[Int(ids.last!)][Int(u * 3) % 3])
        }
        return ids
    }

    static func perplexity(_ stepper: Stepper, _ ids: [Int32]) -> Double {
        var state = stepper.initialState()
        var total = 0.0
        for t in 0..<(ids.count - 1) { total -= Double(stepper.step(token: ids[t], state: &state)[Int(ids[t + 1])]) }
        return exp(total / Double(ids.count - 1))
    }

    @Test(arguments: CellKind.allCases)
    func perplexityWithinOnePercent(kind: CellKind) throws {
        let (V, H, B, T) = (60, 48, 8, 12)
        let model = try makeModel(kind, vocabulary: V, embedding: H, hidden: H, layers: 2, scale: 0.1)
        model.isTraining = true
        let train = Self.corpus(B * T * 40 + 1, vocabulary: V, seed: 1)
        let adam = Adam(for: model.parameters, learningRate: 0.01)
        for epoch in 0..<3 {
            for w in 0..<40 {
                // B streams of T steps each, cut from consecutive stretches of the text.
                var inputs = [Int32](repeating: 0, count: B * T), targets = inputs
                for b in 0..<B {
                    for t in 0..<T {
                        let i = (b * 40 + w) * T + t
                        inputs[t * B + b] = train[i]
                        targets[t * B + b] = train[i + 1]
                    }
                }
                model.parameters.zeroGradients()
                _ = model.forward(inputs: inputs, targets: targets, steps: T, batch: B)
                model.backward()
                _ = GradientClipping.clipGlobalNorm(model.parameters, maxNorm: 5)
                adam.update(model.parameters)
            }
            _ = epoch
        }
        model.isTraining = false
        let valid = Self.corpus(600, vocabulary: V, seed: 2)
        let exact = Self.perplexity(try Stepper(model: model), valid)
        let quantized = Self.perplexity(try Stepper(model: model, precision: .int8), valid)
        print("int8-quality \(kind): float32 ppl \(exact), int8 ppl \(quantized)")
        #expect(exact < Double(V) / 3, "\(kind): the model learned something (ppl \(exact))")
        #expect(abs(quantized / exact - 1) < 0.01, "\(kind): float32 ppl \(exact), int8 ppl \(quantized)")
    }
}
