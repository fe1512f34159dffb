import ArgumentParser
import Quill

/// `quill models delete`: removes a model and its weights from the store.
struct ModelsDeleteCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a model and its weights from the store.",
        discussion: """
            The runs that trained it keep their history (options, metrics, checkpoints) and show no model \
            afterwards; its vocabulary stays. Export it first to keep a copy of the weights.

            Example:
              quill models export old --safetensors old.safetensors && quill models delete old
            """)
    static var openMode: Store.OpenMode { .readWrite }

    @Argument(help: "The model's name.")
    var name: String

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let record = try store.modelForCLI(named: name, storePath: self.store.resolvedPath)
        let runs = try store.runs().filter { $0.modelID == record.id }.map { "#\($0.id)" }
        try store.deleteModel(named: name)
        var message = "deleted model '\(shown(name))'"
        if runs.count == 1 {
            message += "; run \(runs[0]) keeps its history (metrics, checkpoints) without a model"
        } else if runs.count > 1 {
            message += "; runs \(runs.joined(separator: ", ")) keep their history (metrics, checkpoints) "
                + "without a model"
        }
        print(message)
    }
}
