import ArgumentParser
import Foundation
import Quill

/// `quill models export`: a stored model's weights as a safetensors file.
struct ModelsExportCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model's weights to a safetensors file (F32), with its hyperparameters as metadata.",
        discussion: """
            Tensors are named as in a PyTorch state_dict of a module with submodules embedding (nn.Embedding), \
            rnn (nn.LSTM / nn.GRU / nn.RNN) and decoder (nn.Linear): embedding.weight, rnn.weight_ih_l0, \
            rnn.bias_hh_l0, decoder.weight, …, with the same layouts, so `load_state_dict` takes the file as it is \
            (--modules renames the submodules; --names quill keeps Quill's keys). The __metadata__ holds the kind, \
            the hyperparameters JSON, and the vocabulary's name, size and fingerprint; `quill models import` reads \
            the file back bit for bit.

            Examples:
              quill models export tiny --safetensors tiny.safetensors
              quill models export tiny --safetensors tiny.safetensors --modules embed,rnn,out
            """)

    @Argument(help: "The model's name.")
    var name: String

    @Option(help: ArgumentHelp("The file to write.", valueName: "file"))
    var safetensors: String

    @Flag(help: "Replace the --safetensors file if it exists (without it, an existing file is an error).")
    var force = false

    @Option(help: "pytorch: state_dict names; quill: Quill's parameter keys.")
    var names: TensorNaming = .pytorch

    @Option(help: ArgumentHelp("The PyTorch submodule names, embedding,rnn,decoder.", valueName: "e,r,d"))
    var modules = PyTorchModules()

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        _ = try store.modelForCLI(named: name, storePath: self.store.resolvedPath)
        try checkOutputFile(safetensors, option: "--safetensors", force: force)
        let export = try store.exportModel(named: name, to: URL(fileURLWithPath: safetensors), naming: names,
                                           modules: modules)
        print("exported model '\(shown(name))' to \(safetensors): \(export.tensors.count) tensors, "
            + "\(export.parameters) parameters, \(formatBytes(export.bytes))")
    }
}
