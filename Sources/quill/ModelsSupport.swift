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
    /// The model of this name, or an error that says how to find the names.
    func modelForCLI(named name: String, storePath: String) throws -> ModelRecord {
        do {
            return try model(named: name)
        } catch StoreError.notFound(kind: "model", name: name) {
            throw CLIError("no model named '\(name)' in \(storePath); `quill models list` shows the models")
        }
    }
}

/// An error of the library that the CLI can follow with what to type: the library says what is wrong and the fix in
/// its own terms; the hint names the commands and flags.
protocol CommandLineHinted: Error, CustomStringConvertible {
    /// What to type to fix it, or nil.
    var commandLineHint: String? { get }
}

extension CommandLineHinted {
    /// The library's message, then the hint.
    var messageWithHint: String { commandLineHint.map { "\(description); \($0)" } ?? description }
}

extension StoredModelError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case let .wrongFamily(model, _, .ngram?, .recurrentLanguageModel):
            return "measure it with `quill ngram eval`, or mix it into a recurrent model's suggestions with --mix \(model)"
        case .wrongFamily(_, _, _, .ngram):
            return "train an n-gram model with `quill ngram train`"
        case .wrongFamily:
            return "`quill models list` shows each model's kind"
        case let .vocabularyMismatch(_, _, _, given?, _):
            return "train the model again with --vocabulary \(given)"
        case .vocabularyMismatch, .invalidRecord:
            return nil
        }
    }
}

extension ModelTransferError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .unknownLayout:
            return "name a PyTorch model's submodules with --modules (e.g. --modules embed,rnn,out)"
        case .vocabularyMismatch:
            return "import it with `quill vocab import` and name it with --vocabulary"
        case .invalidMetadata:
            return nil
        }
    }
}

extension NGramTrainingError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .orderOutOfRange: return "choose --order 1…\(KneserNeyModel.maximumOrder)"
        case .vocabularyTooLarge: return "build a smaller vocabulary with `quill vocab build --max-size`"
        }
    }
}
