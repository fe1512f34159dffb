import Foundation
import QuillFormats
import QuillNN
import QuillTensor
import QuillTestSupport
import Testing

/// ``BidirectionalLayer`` against PyTorch's own numbers (`Tests/Fixtures/pytorch-bi{lstm,gru}.safetensors`, written by
/// `Tests/Fixtures/make_fixtures.py`): one bidirectional `nn.LSTM` / `nn.GRU` layer over a padded batch of unsorted
/// lengths, packed with `pack_padded_sequence(…, enforce_sorted=False)` and unpacked with `pad_packed_sequence`, with
/// random `h0`/`c0`, random values in the padding, and a loss that weights the padded outputs and the final states.
/// Outputs, final states, the loss and every gradient (parameters, input, `h0`, `c0`) must match.
@Suite struct BidirectionalParityTests {
    static let cells: [(file: String, kind: CellKind)] = [
        ("pytorch-bilstm.safetensors", .lstm), ("pytorch-bigru.safetensors", .gru),
    ]

    @Test(arguments: 0..<cells.count)
    func bidirectionalLayerMatchesPyTorch(cellIndex: Int) throws {
        let (name, kind) = Self.cells[cellIndex]
        let file = try SafeTensors(contentsOf: try TestSupport.fixture(name))
        let inputShape = try file.shape("input"), stateShape = try file.shape("h0")
        let (T, B, D, H) = (inputShape[0], inputShape[1], inputShape[2], stateShape[2])
        let outputShape = try file.shape("output")
        #expect(stateShape == [2, B, H] && outputShape == [T, B, 2 * H])

        // The fixture holds the layer as PyTorch's `rnn` submodule: `rnn.weight_ih_l0`, `rnn.weight_ih_l0_reverse`, …
        let parameters = try ParameterSet(BidirectionalLayer.layout(prefix: "rnn", index: 0, kind: kind,
                                                                    inputSize: D, hiddenSize: H))
        let pytorchName = PyTorchModules().pytorchName
        try parameters.load(from: file, fileName: pytorchName, allowUnused: true)
        let layer = try BidirectionalLayer(parameters, prefix: "rnn", index: 0, kind: kind, inputSize: D,
                                           hiddenSize: H)

        let input = try file.floats("input"), lengths = try file.int32s("lengths")
        let h0 = try file.floats("h0"), c0 = kind.hasCellState ? try file.floats("c0") : nil
        lengths.withUnsafeBufferPointer {
            layer.forward(input, steps: T, batch: B, lengths: $0.baseAddress, h0: h0, c0: c0)
        }
        let S = 2 * B * H
        let output = Array(UnsafeBufferPointer(start: layer.output, count: T * B * 2 * H))
        let hT = Array(UnsafeBufferPointer(start: layer.finalHidden, count: S))
        let cT = Array(UnsafeBufferPointer(start: layer.finalCell, count: kind.hasCellState ? S : 0))

        // loss = Σ loss.output ⊙ output + Σ loss.hT ⊙ hT (+ Σ loss.cT ⊙ cT), the fixture's.
        let wOutput = try file.floats("loss.output"), wHidden = try file.floats("loss.hT")
        let wCell = kind.hasCellState ? try file.floats("loss.cT") : nil
        var loss = zip(wOutput, output).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        loss += zip(wHidden, hT).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        if let wCell { loss += zip(wCell, cT).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

        var forward = MatchReport()
        forward.merge(expectMatch(output, try file.floats("output"), "\(name) output"))
        forward.merge(expectMatch(hT, try file.floats("hT"), "\(name) hT"))
        if kind.hasCellState { forward.merge(expectMatch(cT, try file.floats("cT"), "\(name) cT")) }
        forward.merge(expectMatch([Float(loss)], try file.floats("loss"), "\(name) loss"))

        // dLoss/dOutput is the output weighting (the layer ignores it past each row's length), dLoss/dhT is loss.hT.
        parameters.zeroGradients()
        var dInput = [Float](repeating: .nan, count: T * B * D)  // every entry must be written, padding with zero
        layer.backward(dOutput: wOutput, dFinalHidden: wHidden, dFinalCell: wCell, dInput: &dInput)
        var backward = MatchReport()
        for entry in parameters.entries {
            backward.merge(expectMatch(parameters.gradient(entry.name)!.scalars,
                                       try file.floats("grad." + pytorchName(entry.name)),
                                       "\(name) grad of \(entry.name)"))
        }
        backward.merge(expectMatch(dInput, try file.floats("grad.input"), "\(name) grad.input"))
        backward.merge(expectMatch(Array(UnsafeBufferPointer(start: layer.dInitialHidden, count: S)),
                                   try file.floats("grad.h0"), "\(name) grad.h0"))
        if kind.hasCellState {
            backward.merge(expectMatch(Array(UnsafeBufferPointer(start: layer.dInitialCell, count: S)),
                                       try file.floats("grad.c0"), "\(name) grad.c0"))
        }
        print("parity \(name): forward \(forward); backward \(backward)")

        // A second backward adds the same parameter gradients again (backward accumulates).
        let once = parameters.gradients.buffer.map { $0 }
        layer.backward(dOutput: wOutput, dFinalHidden: wHidden, dFinalCell: wCell, dInput: &dInput)
        let twice = parameters.gradients.buffer.map { $0 }
        expectMatch(twice, once.map { 2 * $0 }, "\(name) accumulated gradients", tolerance: 1e-6)
    }
}
