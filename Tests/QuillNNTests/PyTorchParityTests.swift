import Foundation
import QuillFormats
@testable import QuillNN
import QuillTensor
import QuillTestSupport
import Testing

/// Forward and backward against PyTorch's own numbers (`Tests/Fixtures`, committed, written by
/// `Tests/Fixtures/make_fixtures.py`): weights, inputs and initial states in, logits, loss, final states and every
/// gradient out.
@Suite struct PyTorchParityTests {
    static let cells: [(file: String, kind: CellKind)] = [
        ("pytorch-lstm-lm.safetensors", .lstm), ("pytorch-gru-lm.safetensors", .gru),
        ("pytorch-rnn_tanh-lm.safetensors", .rnnTanh),
    ]

    /// The fixtures' submodules are `embed`, `rnn`, `out`.
    static func pytorchName(_ name: String) -> String {
        PyTorchModules(embedding: "embed", rnn: "rnn", decoder: "out").pytorchName(name)
    }

    /// Both ways into the first layer: embedded rows gathered, and through the embedding table (see
    /// `LanguageModel.projectsTokens`).
    @Test(arguments: 0..<cells.count, [false, true])
    func languageModelMatchesPyTorch(cellIndex: Int, throughTable: Bool) throws {
        let (name, kind) = Self.cells[cellIndex]
        let file = try SafeTensors(contentsOf: try TestSupport.fixture(name))
        let shape = try file.shape("h0"), logitsShape = try file.shape("logits")
        let (L, B, H, T, V) = (shape[0], shape[1], shape[2], logitsShape[0], logitsShape[2])
        let E = try file.shape("embed.weight")[1]
        let model = try LanguageModel(.init(kind: kind, vocabulary: V, embedding: E, hidden: H, layers: L))
        model.projectsTokens = throughTable
        try model.parameters.load(from: file, fileName: Self.pytorchName, allowUnused: true)

        let h0 = try file.floats("h0"), c0 = kind.hasCellState ? try file.floats("c0") : nil
        let loss = model.forward(inputs: try file.int32s("input"), targets: try file.int32s("target"), steps: T,
                                 batch: B, h0: h0, c0: c0)
        var forward = MatchReport()
        forward.merge(expectMatch([Float(loss)], try file.floats("loss"), "\(name) loss"))
        forward.merge(expectMatch(Array(model.logits), try file.floats("logits"), "\(name) logits"))
        forward.merge(expectMatch(model.finalHidden, try file.floats("hT"), "\(name) hT"))
        if kind.hasCellState { forward.merge(expectMatch(model.finalCell, try file.floats("cT"), "\(name) cT")) }

        model.parameters.zeroGradients()
        model.backward()
        var backward = MatchReport()
        for entry in model.parameters.entries {
            let expected = try file.floats("grad." + Self.pytorchName(entry.name))
            backward.merge(expectMatch(model.parameters.gradient(entry.name)!.scalars, expected,
                                       "\(name) grad of \(entry.name)"))
        }
        backward.merge(expectMatch(model.dInitialHidden, try file.floats("grad.h0"), "\(name) grad.h0"))
        if kind.hasCellState {
            backward.merge(expectMatch(model.dInitialCell, try file.floats("grad.c0"), "\(name) grad.c0"))
        }
        print("parity \(name): forward \(forward); backward \(backward)")

        // A second backward adds the same gradients again (backward accumulates).
        let once = model.parameters.gradients.buffer.map { $0 }
        model.backward()
        let twice = model.parameters.gradients.buffer.map { $0 }
        expectMatch(twice, once.map { 2 * $0 }, "\(name) accumulated gradients", tolerance: 1e-6)
    }

    @Test func denseNetworkMatchesPyTorch() throws {
        let file = try SafeTensors(contentsOf: try TestSupport.fixture("pytorch-dense-mse.safetensors"))
        let network = try FeedForwardFixture(file: file)
        let input = try file.floats("input"), target = try file.floats("target")
        let rows = try file.shape("input")[0]
        network.parameters.zeroGradients()
        let (loss, output) = network.lossAndGradients(input: input, target: target, rows: rows)
        var forward = MatchReport(), backward = MatchReport()
        forward.merge(expectMatch([Float(loss)], try file.floats("loss"), "dense loss"))
        forward.merge(expectMatch(output, try file.floats("output"), "dense output"))
        for entry in network.parameters.entries {
            backward.merge(expectMatch(network.parameters.gradient(entry.name)!.scalars,
                                       try file.floats("grad." + entry.name), "dense grad of \(entry.name)"))
        }
        print("parity pytorch-dense-mse: forward \(forward); backward \(backward)")
    }

    /// One checked load: every unused, missing and misshapen tensor is named in one error.
    @Test func loadingChecksNamesAndShapes() throws {
        let path = try TestSupport.fixture("pytorch-gru-lm.safetensors")
        let file = try SafeTensors(contentsOf: path)
        let model = try LanguageModel(.init(kind: .gru, vocabulary: 37, embedding: 16, hidden: 16, layers: 2))
        // The fixture also holds inputs and gradients: unexpected unless allowed.
        do {
            try model.parameters.load(from: file, fileName: Self.pytorchName)
            Issue.record("the inputs and gradients were taken")
        } catch let error as ParameterLoadError {
            #expect(error.source == path.path && error.missing.isEmpty && error.misshapen.isEmpty)
            #expect(error.unexpected == file.names.filter { !$0.hasPrefix("embed.") && !$0.hasPrefix("rnn.")
                && !$0.hasPrefix("out.") })
        }
        // Quill's own names are not in a PyTorch file: every parameter is missing.
        #expect(throws: ParameterLoadError(source: path.path, missing: model.parameters.names)) {
            try model.parameters.load(from: file, allowUnused: true)
        }
        // An LSTM's gates are 4H rows, the GRU's 3H: every recurrent weight and bias is misshapen, and nothing is
        // copied.
        let lstm = try LanguageModel(.init(kind: .lstm, vocabulary: 37, embedding: 16, hidden: 16, layers: 2))
        do {
            try lstm.parameters.load(from: file, fileName: Self.pytorchName, allowUnused: true)
            Issue.record("a GRU's weights were loaded into an LSTM")
        } catch let error as ParameterLoadError {
            #expect(error.missing.isEmpty && error.unexpected.isEmpty)
            #expect(error.misshapen.count == 8)
            #expect(error.misshapen.first == .init(name: "rnn.weight_ih_l0", expected: [64, 16], actual: [48, 16]))
            #expect("\(error)".contains("wrong shape rnn.weight_ih_l0 is [48, 16], expected [64, 16]"))
        }
        #expect(lstm.parameters.values.buffer.allSatisfy { $0 == 0 })
    }
}

/// PyTorch's `nn.Sequential(Linear(4,6), Sigmoid(), Linear(6,6), ReLU(), Linear(6,3))` with MSE, from Quill layers.
final class FeedForwardFixture {
    let parameters: ParameterSet
    let layers: [Dense]

    init(sizes: [Int] = [4, 6, 6, 3]) throws {
        let prefixes = ["net.0", "net.2", "net.4"]
        let parameters = try ParameterSet((0..<3).flatMap {
            Dense.layout(prefix: prefixes[$0], inputs: sizes[$0], outputs: sizes[$0 + 1])
        })
        layers = try (0..<3).map {
            try Dense(parameters, prefix: prefixes[$0], inputs: sizes[$0], outputs: sizes[$0 + 1])
        }
        self.parameters = parameters
    }

    convenience init(file: SafeTensors) throws {
        try self.init()
        try parameters.load(from: file, allowUnused: true)
    }

    /// The MSE loss and the output; ADDS the parameter gradients.
    func lossAndGradients(input: [Float], target: [Float], rows: Int) -> (Double, [Float]) {
        let n = rows
        var z1 = [Float](repeating: 0, count: n * 6), a1 = z1, z2 = z1, a2 = z1
        var out = [Float](repeating: 0, count: n * 3), dOut = out
        layers[0].forward(input, rows: n, output: &z1)
        Sigmoid.forward(z1, &a1, count: a1.count)
        layers[1].forward(a1, rows: n, output: &z2)
        ReLU.forward(z2, &a2, count: a2.count)
        layers[2].forward(a2, rows: n, output: &out)
        let loss = MeanSquaredError.compute(output: out, target: target, count: out.count, dOutput: &dOut)
        var dA2 = [Float](repeating: 0, count: n * 6), dZ2 = dA2, dA1 = dA2, dZ1 = dA2
        var dInput = [Float](repeating: 0, count: input.count)
        layers[2].backward(input: a2, dOutput: dOut, rows: n, dInput: &dA2)
        ReLU.backward(output: a2, dOutput: dA2, dInput: &dZ2, count: dZ2.count)
        layers[1].backward(input: a1, dOutput: dZ2, rows: n, dInput: &dA1)
        Sigmoid.backward(output: a1, dOutput: dA1, dInput: &dZ1, count: dZ1.count)
        layers[0].backward(input: input, dOutput: dZ1, rows: n, dInput: &dInput)
        return (loss, out)
    }
}
