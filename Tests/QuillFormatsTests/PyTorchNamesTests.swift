import QuillFormats
import Testing

/// The one table from Quill's parameter keys to PyTorch's state_dict names.
@Suite struct PyTorchNamesTests {
    @Test(arguments: [
        ("rnn.1.weightHH", "rnn.weight_hh_l1"), ("rnn.0.biasIH", "rnn.bias_ih_l0"),
        ("rnn.0.weightIH", "rnn.weight_ih_l0"), ("rnn.12.biasHH", "rnn.bias_hh_l12"),
        ("rnn.1.reverse.weightIH", "rnn.weight_ih_l1_reverse"), ("rnn.0.reverse.biasHH", "rnn.bias_hh_l0_reverse"),
        ("embedding.weight", "embedding.weight"), ("decoder.weight", "decoder.weight"),
        ("decoder.bias", "decoder.bias"),
        // Keys the table does not know stay as they are.
        ("rnn.0.gamma", "rnn.0.gamma"), ("rnn.x.weightIH", "rnn.x.weightIH"), ("rnn.0.forward.weightIH",
                                                                                "rnn.0.forward.weightIH"),
        ("attention.weight", "attention.weight"), ("rnn", "rnn"),
    ])
    func defaultModules(quill: String, pytorch: String) {
        #expect(PyTorchModules().pytorchName(quill) == pytorch)
        #expect(PyTorchModules().fileName(quill, naming: .pytorch) == pytorch)
        #expect(PyTorchModules().fileName(quill, naming: .quill) == quill)
    }

    @Test func renamedModules() {
        let modules = PyTorchModules(embedding: "embed", rnn: "lstm", decoder: "out")
        #expect(modules.pytorchName("embedding.weight") == "embed.weight")
        #expect(modules.pytorchName("rnn.1.weightHH") == "lstm.weight_hh_l1")
        #expect(modules.pytorchName("rnn.1.reverse.weightHH") == "lstm.weight_hh_l1_reverse")
        #expect(modules.pytorchName("decoder.bias") == "out.bias")
        #expect(PyTorchModules(embedding: "encoder").pytorchName("embedding.weight") == "encoder.weight")
    }
}
