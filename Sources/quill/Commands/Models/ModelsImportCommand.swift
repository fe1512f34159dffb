import ArgumentParser
import Foundation
import Quill

/// `quill models import`: a language model from a safetensors file into the store.
struct ModelsImportCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read a language model's weights from a safetensors file into the store.",
        discussion: """
            Reads files written by `quill models export`, whose metadata gives the hyperparameters and the \
            vocabulary's fingerprint (the vocabulary named must have it), and PyTorch state_dicts of an \
            nn.Embedding → nn.LSTM / nn.GRU / nn.RNN(tanh) → nn.Linear model saved with safetensors: the cell, \
            sizes and layers are read from the shapes; --modules names the submodules when they are not \
            embedding, rnn, decoder. The tensors must be exactly the model's parameters (F32 or F64).

            Examples:
              quill models import --safetensors tiny.safetensors --name tiny-copy --vocabulary default
              quill models import --safetensors torch-lm.safetensors --name torch-lm --vocabulary ptb \\
                --modules embed,rnn,out
            """)
    static var openMode: Store.OpenMode { .readWrite }

    @Option(help: ArgumentHelp("The safetensors file.", valueName: "file"))
    var safetensors: String

    @Option(help: "The name to save the model under.")
    var name: String

    @Option(help: "The stored vocabulary the model's token ids belong to.",
            completion: StoreNameCompletion.vocabularies)
    var vocabulary: String

    @Option(help: ArgumentHelp("The PyTorch submodule names, embedding,rnn,decoder. (default: as the file's "
        + "metadata records, else embedding,rnn,decoder)", valueName: "e,r,d"))
    var modules: PyTorchModules?

    @Flag(help: "Replace a model of the same name.")
    var replace = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        try validateName(name)
    }

    func run(store: Store) throws {
        // A run in progress owns its model's name (it would refuse to overwrite the import, and stop).
        if let live = try store.liveRuns(named: name).first, let owner = live.owner {
            throw CLIError("run #\(live.id) (\(owner)) is training a model named '\(name)'; import under another "
                + "--name, or wait for the run to end")
        }
        let imported = try store.importLanguageModel(from: URL(fileURLWithPath: safetensors), name: name,
                                                     vocabulary: vocabulary, modules: modules, replace: replace)
        let c = imported.configuration
        print("imported model '\(shown(name))' from \(safetensors) (\(imported.naming.rawValue) names): "
            + "\(c.kind.rawValue) \(c.layers)×\(c.hidden), embedding \(c.embedding)"
            + (c.tiedEmbeddings ? ", tied, " : ", ")
            + "\(imported.parameters) parameters, vocabulary '\(vocabulary)'")
    }
}
