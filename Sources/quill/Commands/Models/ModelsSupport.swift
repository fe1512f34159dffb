import ArgumentParser
import Quill

extension TensorNaming: ExpressibleByArgument {}

/// `--modules embed,rnn,out`: the PyTorch submodule names.
extension PyTorchModules: ExpressibleByArgument {
    public init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && !$0.contains(".") }) else { return nil }
        self.init(embedding: parts[0], rnn: parts[1], decoder: parts[2])
    }

    public var defaultValueDescription: String { [embedding, rnn, decoder].joined(separator: ",") }
}

extension Store {
    /// The model of this name, or an error that names the store and the closest names it holds.
    func modelForCLI(named name: String, storePath: String) throws -> ModelRecord {
        do {
            return try model(named: name)
        } catch let error as StoreError {
            guard case .notFound(kind: "model", name: name, _) = error else { throw error }
            let message = error.description.replacingOccurrences(of: "in the store", with: "in \(storePath)")
            throw CLIError(message + "; `quill models list` shows the models")
        }
    }
}
