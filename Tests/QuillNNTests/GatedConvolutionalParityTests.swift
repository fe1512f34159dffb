import QuillFormats
import QuillNN
import QuillTensor
import QuillTestSupport
import Testing

/// The gated convolutional LM against PyTorch (`Tests/Fixtures/pytorch-gcnn-lm.safetensors`, written by
/// `make_fixtures.py gcnn-lm`: `nn.Conv1d` on a given left context, `F.glu`, residual sums): logits, loss, the context
/// the next window starts from, every parameter gradient and the context's gradient.
@Suite struct GatedConvolutionalParityTests {
    @Test func matchesPyTorch() throws {
        let file = try SafeTensors(contentsOf: try TestSupport.fixture("pytorch-gcnn-lm.safetensors"))
        let logitsShape = try file.shape("logits"), conv0 = try file.shape("convs.0.weight")
        let (T, B, V) = (logitsShape[0], logitsShape[1], logitsShape[2])
        let (E, C, k) = (conv0[1], conv0[0] / 2, conv0[2])
        let L = (0...).first { !file.names.contains("convs.\($0).weight") }!
        let configuration = GatedConvolutionalLanguageModel.Configuration(vocabulary: V, embedding: E, channels: C,
                                                                          blocks: L, width: k)
        let model = try GatedConvolutionalLanguageModel(configuration)
        // PyTorch's conv weight is [2C][D][k]; Quill's [k][2C][D].
        func quillOrder(_ torch: [Float], outputs O: Int, inputs D: Int) -> [Float] {
            var result = [Float](repeating: 0, count: torch.count)
            for o in 0..<O { for d in 0..<D { for j in 0..<k { result[(j * O + o) * D + d] = torch[(o * D + d) * k + j] } } }
            return result
        }
        func set(_ name: String, _ values: [Float]) {
            let tensor = model.parameters.value(name)!
            #expect(tensor.count == values.count, "\(name)")
            for (i, v) in values.enumerated() { tensor.base[i] = v }
        }
        set("embedding.weight", try file.floats("embed.weight"))
        set("decoder.weight", try file.floats("out.weight"))
        set("decoder.bias", try file.floats("out.bias"))
        for l in 0..<L {
            let D = configuration.inputs(ofBlock: l)
            set("blocks.\(l).weight", quillOrder(try file.floats("convs.\(l).weight"), outputs: 2 * C, inputs: D))
            set("blocks.\(l).bias", try file.floats("convs.\(l).bias"))
        }
        // Per-block [k−1][B][D] contexts → Quill's [B][context] state (per stream, block by block).
        func state(_ prefix: String) throws -> [Float] {
            var result: [Float] = []
            let blocks = try (0..<L).map { try file.floats("\(prefix).\($0)") }
            for b in 0..<B {
                for l in 0..<L {
                    let D = configuration.inputs(ofBlock: l)
                    for t in 0..<(k - 1) { result += blocks[l][((t * B + b) * D)..<((t * B + b) * D + D)] }
                }
            }
            return result
        }
        let loss = model.forward(inputs: try file.int32s("input"), targets: try file.int32s("target"), steps: T,
                                 batch: B, context: try state("context"))
        var forward = MatchReport()
        forward.merge(expectMatch([Float(loss)], try file.floats("loss"), "loss"))
        forward.merge(expectMatch(Array(model.logits), try file.floats("logits"), "logits"))
        forward.merge(expectMatch(model.finalContext, try state("contextT"), "final context"))
        model.parameters.zeroGradients()
        model.backward()
        var backward = MatchReport()
        backward.merge(expectMatch(model.parameters.gradient("embedding.weight")!.scalars,
                                   try file.floats("grad.embed.weight"), "grad embedding"))
        backward.merge(expectMatch(model.parameters.gradient("decoder.weight")!.scalars,
                                   try file.floats("grad.out.weight"), "grad decoder.weight"))
        backward.merge(expectMatch(model.parameters.gradient("decoder.bias")!.scalars,
                                   try file.floats("grad.out.bias"), "grad decoder.bias"))
        for l in 0..<L {
            let D = configuration.inputs(ofBlock: l)
            backward.merge(expectMatch(model.parameters.gradient("blocks.\(l).weight")!.scalars,
                                       quillOrder(try file.floats("grad.convs.\(l).weight"), outputs: 2 * C, inputs: D),
                                       "grad blocks.\(l).weight"))
            backward.merge(expectMatch(model.parameters.gradient("blocks.\(l).bias")!.scalars,
                                       try file.floats("grad.convs.\(l).bias"), "grad blocks.\(l).bias"))
        }
        backward.merge(expectMatch(model.dInitialContext, try state("grad.context"), "grad context"))
        print("parity gcnn-lm: forward \(forward); backward \(backward)")
    }
}
