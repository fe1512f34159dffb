import Foundation
import QuillFormats
import QuillNN
import QuillTensor
import QuillTestSupport
import Testing

/// ``EncoderDecoder`` against PyTorch's own numbers (`Tests/Fixtures/pytorch-seq2seq{,-ls}.safetensors`, written by
/// `Tests/Fixtures/make_fixtures.py` with the model of `../shared/bench/pytorch_seq2seq.py`): a padded batch of three
/// pairs (source lengths 4, 6, 2; targets 3, 5, 1 plus the end), two layers without and one layer with label
/// smoothing 0.1. The memory, the logits and attention weights at every real target step, the loss and every
/// parameter's gradient must match.
///
/// PyTorch pads with id 0 (a real embedding row, which its `padding_idx` keeps out of the gradient) and runs the
/// decoder over the padding; Quill pads with −1 (a zero vector). The two differ only at padded target steps, which
/// count for nothing: those are not compared.
@Suite struct EncoderDecoderParityTests {
    @Test(arguments: ["pytorch-seq2seq.safetensors", "pytorch-seq2seq-ls.safetensors"])
    func encoderDecoderMatchesPyTorch(name: String) throws {
        let file = try SafeTensors(contentsOf: try TestSupport.fixture(name))
        let config = try #require(try JSONSerialization.jsonObject(
            with: Data((file.metadata["config"] ?? "{}").utf8)) as? [String: Any])
        let smoothing = Float(config["label_smoothing"] as? Double ?? 0), pad = Int32(config["pad"] as? Int ?? 0)
        let memoryShape = try file.shape("memory"), logitsShape = try file.shape("logits")
        let (B, S, H) = (memoryShape[0], memoryShape[1], memoryShape[2]), (T, V) = (logitsShape[0], logitsShape[2])
        let E = try file.shape("encoder.embed.weight")[1], sourceVocabulary = try file.shape("encoder.embed.weight")[0]
        let layers = config["layers"] as? Int ?? 0
        let model = try EncoderDecoder(.init(sourceVocabulary: sourceVocabulary, targetVocabulary: V, embedding: E,
                                             hidden: H, layers: layers))
        model.labelSmoothing = smoothing
        try model.parameters.load(from: file, fileName: PyTorchNames.encoderDecoderName, allowUnused: true)

        func unpadded(_ key: String) throws -> [Int32] { try file.int32s(key).map { $0 == pad ? -1 : $0 } }
        let targets = try unpadded("tgt_out")
        let loss = model.forward(source: try unpadded("src"), sourceLengths: try file.int32s("src_len"),
                                 decoderInputs: try unpadded("tgt_in"), targets: targets, sourceSteps: S,
                                 targetSteps: T, batch: B)
        var forward = MatchReport()
        forward.merge(expectMatch([Float(loss)], try file.floats("loss"), "\(name) loss"))
        // memory: PyTorch's [B][S][H], Quill's [S][B][H].
        let expectedMemory = try file.floats("memory")
        let memory = (0..<(B * S * H)).map { i in
            let (b, s, k) = (i / (S * H), i / H % S, i % H)
            return model.memory[(s * B + b) * H + k]
        }
        forward.merge(expectMatch(memory, expectedMemory, "\(name) memory"))
        let expectedLogits = try file.floats("logits"), expectedAttention = try file.floats("attention")
        var logits: [Float] = [], wantedLogits: [Float] = [], weights: [Float] = [], wantedWeights: [Float] = []
        for t in 0..<T {
            let alpha = model.attentionWeights(step: t)
            for b in 0..<B where targets[t * B + b] >= 0 {
                logits += model.logits[((t * B + b) * V)..<((t * B + b + 1) * V)]
                wantedLogits += expectedLogits[((t * B + b) * V)..<((t * B + b + 1) * V)]
                weights += alpha[(b * S)..<((b + 1) * S)]
                wantedWeights += expectedAttention[((t * B + b) * S)..<((t * B + b + 1) * S)]
            }
        }
        forward.merge(expectMatch(logits, wantedLogits, "\(name) logits"))
        forward.merge(expectMatch(weights, wantedWeights, "\(name) attention"))

        model.parameters.zeroGradients()
        model.backward()
        var backward = MatchReport()
        for entry in model.parameters.entries {
            backward.merge(expectMatch(model.parameters.gradient(entry.name)!.scalars,
                                       try file.floats("grad." + PyTorchNames.encoderDecoderName(entry.name)),
                                       "\(name) grad of \(entry.name)"))
        }
        print("parity \(name): forward \(forward); backward \(backward)")
    }
}
