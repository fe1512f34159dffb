@testable import QuillNN
import QuillTensor
import Testing

/// Mixed-precision training (`LanguageModel.precision = .bfloat16`): bfloat16 operands in every product of the
/// recurrent layers and the decoder, float32 everywhere else.
@Suite struct BFloat16TrainingTests {
    /// A model whose products span several kernel items and tails: `V` 300 (the decoder) or 40 (`V < T·B`: the first
    /// layer projects the embedding table instead of the gathered rows).
    static func model(_ kind: CellKind, vocabulary: Int, precision: Precision) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: vocabulary, embedding: 48, hidden: 56, layers: 2))
        var rng = RNG(seed: 5)
        model.parameters.initialize(.uniform(scale: 0.3), rng: &rng)
        model.precision = precision
        return model
    }

    static let (T, B) = (12, 9)

    /// Loss, gradients and the initial states' gradients of one window.
    static func gradients(_ model: LanguageModel, pool: ThreadPool) -> (loss: Double, gradients: [Float]) {
        let V = model.configuration.vocabulary
        var rng = RNG(seed: 9)
        let ids = (0..<((T + 1) * B)).map { _ in Int32(rng.next() % UInt64(V)) }
        let h0 = (0..<(2 * B * 56)).map { _ in rng.uniform(-0.5, 0.5) }
        let loss = model.forward(inputs: Array(ids[..<(T * B)]), targets: Array(ids[B...]), steps: T, batch: B,
                                 h0: h0, c0: model.configuration.kind.hasCellState ? h0 : nil, pool: pool)
        model.parameters.zeroGradients()
        model.backward(pool: pool)
        return (loss, Array(model.parameters.gradients.buffer) + model.dInitialHidden + model.dInitialCell)
    }

    /// The same bits for 1, 2 and 3 threads: every product is split over items by the shape alone.
    @Test(arguments: CellKind.allCases, [300, 40])
    func isBitIdenticalForEveryThreadCount(kind: CellKind, vocabulary: Int) throws {
        let model = try Self.model(kind, vocabulary: vocabulary, precision: .bfloat16)
        let one = Self.gradients(model, pool: ThreadPool(threads: 1))
        for threads in [2, 3] {
            let other = Self.gradients(model, pool: ThreadPool(threads: threads))
            #expect(other.loss.bitPattern == one.loss.bitPattern, "\(kind) V \(vocabulary) threads \(threads)")
            #expect(other.gradients.map(\.bitPattern) == one.gradients.map(\.bitPattern),
                    "\(kind) V \(vocabulary) threads \(threads)")
        }
    }

    /// Against float32: the loss within 1e-3 of itself and every parameter's gradient within 5 % in L2 norm.
    ///
    /// The bound. Each operand rounds to 8 significant bits (unit roundoff 2⁻⁸ ≈ 0.4 %), so a product moves by up to
    /// 0.8 % and a sum of many by less (the roundings are independent); the backward pass chains three products per
    /// step through 12 steps and 2 layers, and the tanh RNN, with no gate to damp it, amplifies most. Measured here
    /// (worst tensor): LSTM 0.53 %, GRU 0.49 %, tanh RNN 2.3 %. 5 % leaves room without admitting a wrong product (a
    /// missing term or a transposed operand moves a gradient by tens of %).
    @Test(arguments: CellKind.allCases, [300, 40])
    func gradientsMatchFloat32(kind: CellKind, vocabulary: Int) throws {
        let pool = ThreadPool(threads: 2)
        let reference = try Self.model(kind, vocabulary: vocabulary, precision: .float32)
        let mixed = try Self.model(kind, vocabulary: vocabulary, precision: .bfloat16)
        let f = Self.gradients(reference, pool: pool), b = Self.gradients(mixed, pool: pool)
        #expect(abs(b.loss - f.loss) <= 1e-3 * f.loss, "\(kind) loss \(b.loss) vs \(f.loss)")
        var worst = 0.0
        for entry in reference.parameters.entries {
            let name = entry.name, range = entry.offset..<(entry.offset + entry.count)
            var difference = 0.0, norm = 0.0
            for i in range {
                let x = Double(f.gradients[i]), y = Double(b.gradients[i])
                difference += (x - y) * (x - y)
                norm += x * x
            }
            let relative = (difference / max(norm, 1e-30)).squareRoot()
            worst = max(worst, relative)
            #expect(relative <= 0.05, "\(kind) V \(vocabulary) \(name): relative L2 difference \(relative)")
        }
        print("bfloat16 vs float32 gradients, \(kind) V \(vocabulary): worst relative L2 difference \(worst)")
    }
}
