import Foundation

/// Errors of moving a model between the store and a safetensors file; each names the file.
public enum ModelTransferError: Error, Equatable, CustomStringConvertible {
    /// The file's tensors do not say what model they are, and the file has no hyperparameters.
    case unknownLayout(file: String, reason: String)
    /// The file records the fingerprint of another vocabulary than the one given.
    case vocabularyMismatch(file: String, vocabulary: String, expected: String, found: String)
    /// A `__metadata__` entry Quill wrote cannot be read back.
    case invalidMetadata(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownLayout(file, reason):
            return "\(file): cannot tell which language model the tensors describe: \(reason); a file needs Quill's "
                + "hyperparameters in its metadata (as an export writes them), or PyTorch's names under the "
                + "submodule names given (by default embedding, rnn, decoder)"
        case let .vocabularyMismatch(file, vocabulary, expected, found):
            return "\(file): the model was trained with the vocabulary of fingerprint \(expected.prefix(12)), but "
                + "vocabulary '\(vocabulary)' has fingerprint \(found.prefix(12)); token ids would not mean the same "
                + "tokens — import the model's own vocabulary into the store first and name it"
        case let .invalidMetadata(file, key, reason):
            return "\(file): __metadata__ '\(key)': \(reason)"
        }
    }
}

/// What ``Store/exportModel(named:to:naming:modules:)`` wrote.
public struct ModelExport: Sendable, Equatable {
    public var file: String
    /// Tensor names in the file, sorted (the order of the data).
    public var tensors: [String]
    public var parameters: Int
    public var bytes: Int
}

/// What ``Store/importLanguageModel(from:name:vocabulary:modules:replace:)`` saved.
public struct ModelImport: Sendable, Equatable {
    public var id: Int64
    public var configuration: LanguageModel.Configuration
    /// How the file named its tensors.
    public var naming: TensorNaming
    public var parameters: Int
}

/// The `__metadata__` keys Quill writes (besides `format: pt`, the key PyTorch's loader expects).
public enum ModelExportMetadata {
    public static let kind = "kind"
    /// The model's hyperparameters JSON, as stored (``LanguageModelHyperparameters`` for a language model).
    public static let hyperparameters = "hyperparameters"
    public static let vocabulary = "vocabulary"
    public static let vocabularyFingerprint = "vocabulary_fingerprint"
    public static let vocabularySize = "vocabulary_size"
    /// ``TensorNaming``'s raw value.
    public static let naming = "tensor_naming"
    /// `embedding,rnn,decoder`: the PyTorch submodule names used.
    public static let modules = "pytorch_modules"
}

extension Store {
    /// Writes a stored model's tensors to a safetensors file (F32, little-endian, sorted by name), with its kind,
    /// hyperparameters, vocabulary name, size and fingerprint in `__metadata__`.
    ///
    /// A tied model has no `decoder.weight` (the decoder is the embedding table): the file has none either, as
    /// safetensors cannot hold one tensor under two names.
    /// - Parameters:
    ///   - naming: PyTorch state_dict names (the default) or Quill's keys.
    ///   - modules: the PyTorch submodule names.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``, ``SafeTensorsError`` when the file cannot be written.
    @discardableResult
    public func exportModel(named name: String, to url: URL, naming: TensorNaming = .pytorch,
                            modules: PyTorchModules = PyTorchModules()) throws -> ModelExport {
        let record = try model(named: name)
        let vocabulary = try vocabularies().first { $0.id == record.vocabularyID }
        var metadata = [
            "format": "pt",
            ModelExportMetadata.kind: record.kind,
            ModelExportMetadata.hyperparameters: record.hyperparametersJSON,
            ModelExportMetadata.vocabulary: record.vocabularyName,
            ModelExportMetadata.vocabularyFingerprint: record.vocabularyFingerprint,
            ModelExportMetadata.naming: naming.rawValue,
        ]
        if let vocabulary { metadata[ModelExportMetadata.vocabularySize] = String(vocabulary.size) }
        // A translation model's PyTorch names are those of the peer's module (`PyTorchNames.encoderDecoderName`).
        let isTranslation = ModelFamily(kind: record.kind) == .translation
        if let target = record.targetVocabularyName { metadata["quill.targetVocabulary"] = target }
        let fileName: (String) -> String = isTranslation
            ? { naming == .pytorch ? PyTorchNames.encoderDecoderName($0) : $0 }
            : { modules.fileName($0, naming: naming) }
        if naming == .pytorch && !isTranslation {
            metadata[ModelExportMetadata.modules] = [modules.embedding, modules.rnn, modules.decoder]
                .joined(separator: ",")
        }
        var writer = SafeTensorsWriter(metadata: metadata)
        var parameters = 0
        for tensor in try tensors(ofModel: record.id) {
            try writer.add(fileName(tensor.name), shape: tensor.shape, values: tensor.values)
            parameters += tensor.values.count
        }
        let bytes = try writer.bytes()
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError.unwritable(file: url.path, reason: error.localizedDescription)
        }
        return ModelExport(file: url.path, tensors: writer.names, parameters: parameters, bytes: bytes.count)
    }

    /// Reads a language model from a safetensors file and saves it under `name` with a stored vocabulary.
    ///
    /// The configuration comes from the file's `hyperparameters` metadata (files written by
    /// ``exportModel(named:to:naming:modules:)``), else from the tensors' names and shapes: `V, E` from the
    /// embedding, `H` and the cell from `weight_hh_l0` (`4H` rows: LSTM, `3H`: GRU, `H`: tanh RNN), the layers
    /// from the `weight_hh_l<k>` present, tied when there is no decoder weight. Names may be PyTorch's (under
    /// `modules`, or those the file records) or Quill's. The tensors must be exactly the model's parameters, F32 (or
    /// F64, rounded).
    /// - Parameters:
    ///   - vocabulary: the stored vocabulary to attach; when the file records a vocabulary fingerprint, it must be
    ///     this vocabulary's.
    ///   - replace: overwrite a model of the same name.
    /// - Throws: ``ModelTransferError``, ``SafeTensorsError``, ``ParameterLoadError`` (tensors that are not exactly
    ///   the model's parameters), ``StoredModelError`` (hyperparameters that describe no model),
    ///   ``LanguageModelError`` (a vocabulary of another size), ``StoreError`` (unknown vocabulary, existing name
    ///   without `replace`).
    @discardableResult
    public func importLanguageModel(from url: URL, name: String, vocabulary vocabularyName: String,
                                    modules: PyTorchModules? = nil, replace: Bool = false) throws -> ModelImport {
        try StoreName.validate(name, kind: "model")  // before the file is read
        let file = try SafeTensors(contentsOf: url)
        let path = url.path
        let vocabulary = try self.vocabulary(named: vocabularyName)
        if let expected = file.metadata[ModelExportMetadata.vocabularyFingerprint],
           expected != vocabulary.fingerprint {
            throw ModelTransferError.vocabularyMismatch(file: path, vocabulary: vocabularyName, expected: expected,
                                                        found: vocabulary.fingerprint)
        }
        if !replace, try models().contains(where: { $0.name == name }) {
            throw StoreError.alreadyExists(kind: "model", name: name)
        }
        let modules = try modules ?? Self.recordedModules(file) ?? PyTorchModules()
        let naming: TensorNaming
        if let recorded = file.metadata[ModelExportMetadata.naming] {
            guard let value = TensorNaming(rawValue: recorded) else {
                throw ModelTransferError.invalidMetadata(file: path, key: ModelExportMetadata.naming,
                                                         reason: "'\(recorded)' is neither pytorch nor quill")
            }
            naming = value
        } else {
            naming = file.tensors["rnn.0.weightHH"] != nil ? .quill : .pytorch
        }

        var training: [String: String] = [:]
        let configuration: LanguageModel.Configuration
        if let json = file.metadata[ModelExportMetadata.hyperparameters] {
            let hyperparameters: LanguageModelHyperparameters
            do {
                hyperparameters = try JSONDecoder().decode(LanguageModelHyperparameters.self, from: Data(json.utf8))
            } catch {
                throw ModelTransferError.invalidMetadata(
                    file: path, key: ModelExportMetadata.hyperparameters,
                    reason: "not the hyperparameters of a language model (\(error))")
            }
            configuration = try hyperparameters.configuration(model: name)
            training = hyperparameters.training ?? [:]
        } else {
            configuration = try Self.inferConfiguration(file, naming: naming, modules: modules)
        }
        training["importedFrom"] = path

        let model = try LanguageModel(configuration, model: name)
        try model.parameters.load(shapes: file.tensors.mapValues(\.shape), source: path,
                                  key: { modules.fileName($0, naming: naming) }, values: file.floats)
        model.isTraining = false
        let id = try saveLanguageModel(model, name: name, vocabulary: vocabularyName, training: training,
                                       replace: replace)
        return ModelImport(id: id, configuration: configuration, naming: naming,
                           parameters: model.parameters.parameterCount)
    }

    private static func recordedModules(_ file: SafeTensors) throws -> PyTorchModules? {
        guard let text = file.metadata[ModelExportMetadata.modules] else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ModelTransferError.invalidMetadata(file: file.source, key: ModelExportMetadata.modules,
                                                     reason: "'\(text)' is not three names embedding,rnn,decoder")
        }
        return PyTorchModules(embedding: parts[0], rnn: parts[1], decoder: parts[2])
    }

    /// The configuration the tensors' names and shapes imply.
    static func inferConfiguration(_ file: SafeTensors, naming: TensorNaming,
                                   modules: PyTorchModules) throws -> LanguageModel.Configuration {
        func key(_ name: String) -> String { modules.fileName(name, naming: naming) }
        func fail(_ reason: String) -> ModelTransferError { .unknownLayout(file: file.source, reason: reason) }
        let embeddingKey = key("embedding.weight")
        guard let embedding = file.tensors[embeddingKey], embedding.shape.count == 2 else {
            throw fail("no 2-D tensor '\(embeddingKey)' (the embedding table [V, E])")
        }
        var layers = 0
        while file.tensors[key("rnn.\(layers).weightHH")] != nil { layers += 1 }
        let hhKey = key("rnn.0.weightHH")
        guard layers > 0, let hh = file.tensors[hhKey], hh.shape.count == 2, hh.shape[1] > 0 else {
            throw fail("no 2-D tensor '\(hhKey)' (the first recurrent layer's hidden weights [G, H])")
        }
        let hidden = hh.shape[1]
        let kind: CellKind
        switch hh.shape[0] / hidden {
        case 4 where hh.shape[0] % hidden == 0: kind = .lstm
        case 3 where hh.shape[0] % hidden == 0: kind = .gru
        case 1 where hh.shape[0] % hidden == 0: kind = .rnnTanh
        default: throw fail("'\(hhKey)' is \(hh.shape): \(hh.shape[0]) rows are not 4, 3 or 1 times H = \(hidden)")
        }
        return LanguageModel.Configuration(kind: kind, vocabulary: embedding.shape[0], embedding: embedding.shape[1],
                                           hidden: hidden, layers: layers,
                                           tiedEmbeddings: file.tensors[key("decoder.weight")] == nil)
    }
}
