import CQuillKernels
import Foundation
import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// SIMD paths of the C kernels this CPU runs: portable, AVX2+FMA, AVX-512 on x86-64 (as in SIMDPathTests).
let simdPaths: [Int32] = {
    #if arch(x86_64)
    return Array(0...max(0, min(2, quill_cpu_path())))
    #else
    return [-1]
    #endif
}()

func randomFloats(_ count: Int, seed: UInt64, low: Float = -1, high: Float = 1) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in rng.uniform(low, high) }
}

/// A small model with weights U(±scale).
func makeModel(_ kind: CellKind, vocabulary: Int = 23, embedding: Int = 7, hidden: Int = 9, layers: Int = 2,
               tied: Bool = false, scale: Float = 0.4, seed: UInt64 = 5) throws -> LanguageModel {
    let model = try LanguageModel(.init(kind: kind, vocabulary: vocabulary, embedding: tied ? hidden : embedding,
                                        hidden: hidden, layers: layers, tiedEmbeddings: tied))
    var rng = RNG(seed: seed)
    model.parameters.initialize(.uniform(scale: scale), rng: &rng)
    model.isTraining = false
    return model
}

/// The model's log-probabilities `[T][V]` over one window of one stream (the oracle of the stepper).
func windowLogProbabilities(_ model: LanguageModel, _ ids: [Int32]) -> [[Double]] {
    let V = model.configuration.vocabulary
    _ = model.forward(inputs: ids, targets: ids, steps: ids.count, batch: 1)
    let logits = Array(model.logits)
    return (0..<ids.count).map { t in
        let row = logits[(t * V)..<((t + 1) * V)].map(Double.init)
        let top = row.max()!
        let logSum = top + log(row.map { exp($0 - top) }.reduce(0, +))
        return row.map { $0 - logSum }
    }
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
