/// How the tensors of a model are named in a file.
public enum TensorNaming: String, Codable, Sendable, CaseIterable {
    /// PyTorch's state_dict names (`embedding.weight`, `rnn.weight_ih_l0`, `decoder.bias`), for a module whose
    /// submodules are named as ``PyTorchModules`` says: `load_state_dict` takes the file as it is.
    case pytorch
    /// Quill's dotted parameter keys (`rnn.0.weightIH`), as the store holds them.
    case quill
}

/// The submodule names of a PyTorch language model, whose state_dict keys start with them (`embed.weight`,
/// `rnn.weight_hh_l1`, `out.bias` for the fixtures' `embed`, `rnn`, `out`).
public struct PyTorchModules: Codable, Equatable, Sendable {
    public var embedding: String
    public var rnn: String
    public var decoder: String

    public init(embedding: String = "embedding", rnn: String = "rnn", decoder: String = "decoder") {
        self.embedding = embedding
        self.rnn = rnn
        self.decoder = decoder
    }

    /// PyTorch's state_dict name of a Quill parameter key (e.g. `rnn.1.weightHH` → `rnn.weight_hh_l1`,
    /// `decoder.bias` → `out.bias` with `decoder: "out"`); a key the table does not know is kept as it is.
    public func pytorchName(_ name: String) -> String {
        PyTorchNames.pytorchName(name, modules: [("embedding", embedding), ("rnn", rnn), ("decoder", decoder)])
    }

    /// The file name of a Quill parameter under `naming`.
    public func fileName(_ name: String, naming: TensorNaming) -> String {
        naming == .quill ? name : pytorchName(name)
    }
}

/// The one table from Quill's parameter keys to PyTorch's state_dict names.
///
/// A key is `<module>.<rest>`. The module is renamed (Quill's `embedding`, `rnn`, `decoder` to the PyTorch model's
/// submodule names). Under a recurrent module, `<l>.<parameter>` becomes `<stem>_l<l>` (`0.weightIH` →
/// `weight_ih_l0`), as `nn.LSTM`, `nn.GRU` and `nn.RNN` name theirs; the reverse direction of a bidirectional layer,
/// `<l>.<direction>.<parameter>`, takes the direction's suffix (`1.reverse.biasHH` → `bias_hh_l1_reverse`). Any
/// other rest is kept (`embedding.weight` → `<embedding>.weight`, as `nn.Embedding` and `nn.Linear` name theirs).
public enum PyTorchNames {
    /// Quill's recurrent parameters and PyTorch's stems (`nn.RNNBase`'s `weight_ih_l{k}{suffix}`, …).
    public static let recurrentParameters: [String: String] = [
        "weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh",
    ]
    /// Directions of a bidirectional layer, as Quill's key part and PyTorch's suffix.
    public static let directions: [String: String] = ["reverse": "_reverse"]
    /// Quill's modules whose parameters are a stack of recurrent layers.
    public static let recurrentModules: Set<String> = ["rnn"]

    /// PyTorch's name of `name`, with Quill's modules renamed by `modules` (`(quill, pytorch)` pairs); a key the
    /// table does not know is kept as it is.
    public static func pytorchName(_ name: String, modules: [(quill: String, pytorch: String)]) -> String {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let module = modules.first(where: { $0.quill == parts[0] }) else { return name }
        if recurrentModules.contains(module.quill) {
            guard let rest = recurrentName(parts.dropFirst()) else { return name }
            return "\(module.pytorch).\(rest)"
        }
        parts[0] = module.pytorch
        return parts.joined(separator: ".")
    }

    /// `<l>.<parameter>` → `<stem>_l<l>`, `<l>.<direction>.<parameter>` → `<stem>_l<l><suffix>`; nil for another form.
    static func recurrentName(_ parts: ArraySlice<String>) -> String? {
        guard let first = parts.first, let layer = Int(first), layer >= 0, let parameter = parts.last,
              let stem = recurrentParameters[parameter] else { return nil }
        switch parts.count {
        case 2: return "\(stem)_l\(layer)"
        case 3:
            guard let suffix = directions[parts[parts.startIndex + 1]] else { return nil }
            return "\(stem)_l\(layer)\(suffix)"
        default: return nil
        }
    }

    /// PyTorch's state_dict name of a parameter of `QuillNN.EncoderDecoder`, for the module of
    /// `../shared/bench/pytorch_seq2seq.py` (OpenNMT-py's layout: `encoder.embed`, `encoder.rnn` a bidirectional
    /// `nn.LSTM`, `decoder.embed`, `decoder.cells.<l>` `nn.LSTMCell`s, `decoder.attn_in`, `decoder.attn_out`,
    /// `generator`): `encoder.1.reverse.weightIH` → `encoder.rnn.weight_ih_l1_reverse`, `decoder.0.biasHH` →
    /// `decoder.cells.0.bias_hh`, `attention.inWeight` → `decoder.attn_in.weight`. Other keys are kept.
    public static func encoderDecoderName(_ name: String) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "sourceEmbedding": return "encoder.embed." + parts.dropFirst().joined(separator: ".")
        case "targetEmbedding": return "decoder.embed." + parts.dropFirst().joined(separator: ".")
        case "encoder": return recurrentName(parts.dropFirst()).map { "encoder.rnn." + $0 } ?? name
        case "decoder":
            guard parts.count == 3, let stem = recurrentParameters[parts[2]] else { return name }
            return "decoder.cells.\(parts[1]).\(stem)"
        case "attention":
            let linear = ["inWeight": "attn_in", "outWeight": "attn_out"]
            guard parts.count == 2, let module = linear[parts[1]] else { return name }
            return "decoder.\(module).weight"
        default: return name
        }
    }
}
