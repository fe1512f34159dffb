import Foundation

/// Errors of the language-model workflows: saving, loading, training and sampling a ``LanguageModel`` in a store.
public enum LanguageModelError: Error, Equatable, CustomStringConvertible {
    /// The stored hyperparameters do not describe a language model this build can rebuild.
    case invalidHyperparameters(model: String, reason: String)
    /// The stored tensors do not fit the model the hyperparameters describe.
    case tensorMismatch(model: String, missing: [String], unexpected: [String], misshapen: [String])
    /// The vocabulary offered is not the one the model was trained with.
    case vocabularyMismatch(model: String, expected: String, found: String)
    /// The model's output size differs from its vocabulary's size.
    case vocabularySizeMismatch(model: String, modelSize: Int, vocabularySize: Int)
    /// A training option out of range.
    case invalidOption(String)
    /// The training loss or gradient became NaN or infinite; the run stopped, keeping its last checkpoint (epoch and
    /// step, if it has one).
    case divergence(run: Int64, epoch: Int, step: Int, checkpoint: CheckpointPlace?)
    /// Training was asked to stop (Ctrl-C, SIGTERM): a checkpoint was written at `place`.
    case interrupted(run: Int64, place: CheckpointPlace)

    public var description: String {
        switch self {
        case let .invalidHyperparameters(model, reason):
            return "model '\(model)': its hyperparameters do not describe a recurrent language model: \(reason)"
        case let .tensorMismatch(model, missing, unexpected, misshapen):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing " + missing.joined(separator: ", ")) }
            if !unexpected.isEmpty { parts.append("unexpected " + unexpected.joined(separator: ", ")) }
            if !misshapen.isEmpty { parts.append("wrong shape " + misshapen.joined(separator: "; ")) }
            return "model '\(model)': its stored tensors do not fit its configuration: " + parts.joined(separator: "; ")
        case let .vocabularyMismatch(model, expected, found):
            return "model '\(model)' was trained with the vocabulary of fingerprint \(expected.prefix(12)), but the "
                + "vocabulary given has fingerprint \(found.prefix(12)); token ids would not mean the same tokens — "
                + "use the vocabulary the model was trained with"
        case let .vocabularySizeMismatch(model, modelSize, vocabularySize):
            return "model '\(model)' predicts \(modelSize) tokens but its vocabulary has \(vocabularySize) entries"
        case let .invalidOption(message):
            return message
        case let .divergence(run, epoch, step, checkpoint):
            let kept = checkpoint.map { "its last good checkpoint (\($0)) is kept: continue with `quill train --resume "
                + "\(run) --lr <lower rate>`" } ?? "it had no checkpoint yet: start again with a lower --lr"
            return "the training loss became NaN or infinite in epoch \(epoch) at step \(step); run #\(run) stopped "
                + "and \(kept) (or clip the gradient harder with --clip)"
        case let .interrupted(run, place):
            return "training stopped; run #\(run) checkpointed at \(place): continue with `quill train --resume \(run)`"
        }
    }
}

/// The shape of a stored language model, as its hyperparameters JSON records it.
public struct LanguageModelHyperparameters: Codable, Equatable, Sendable {
    /// Format of this record.
    public var format = 1
    /// `lstm`, `gru` or `rnnTanh` (``CellKind``'s raw values).
    public var cell: String
    public var vocabulary: Int
    public var embedding: Int
    public var hidden: Int
    public var layers: Int
    public var tiedEmbeddings: Bool
    /// Free-form notes (how it was trained); not needed to rebuild the model.
    public var training: [String: String]?

    public init(_ configuration: LanguageModel.Configuration, training: [String: String]? = nil) {
        cell = configuration.kind.rawValue
        vocabulary = configuration.vocabulary
        embedding = configuration.embedding
        hidden = configuration.hidden
        layers = configuration.layers
        tiedEmbeddings = configuration.tiedEmbeddings
        self.training = training
    }

    /// The configuration to rebuild the model with.
    /// - Throws: ``LanguageModelError/invalidHyperparameters(model:reason:)``.
    public func configuration(model: String) throws -> LanguageModel.Configuration {
        guard let kind = CellKind(rawValue: cell) else {
            throw LanguageModelError.invalidHyperparameters(
                model: model, reason: "unknown cell '\(cell)' (known: "
                    + CellKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard vocabulary > 0, embedding > 0, hidden > 0, layers > 0 else {
            throw LanguageModelError.invalidHyperparameters(
                model: model, reason: "sizes must be positive (vocabulary \(vocabulary), embedding \(embedding), "
                    + "hidden \(hidden), layers \(layers))")
        }
        return LanguageModel.Configuration(kind: kind, vocabulary: vocabulary, embedding: embedding, hidden: hidden,
                                           layers: layers, tiedEmbeddings: tiedEmbeddings)
    }

    /// Sorted keys, no whitespace.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The store's `kind` for a model of this cell: `lstm-lm`, `gru-lm`, `rnnTanh-lm`.
    public static func kind(of cell: CellKind) -> String { "\(cell.rawValue)-lm" }
}

extension ParameterSet {
    /// Every parameter as a ``StoredTensor`` under its dotted name, in layout order.
    public var storedTensors: [StoredTensor] {
        entries.map { entry in StoredTensor(name: entry.name, shape: entry.shape, values: value(entry.name)!.scalars) }
    }

    /// Copies stored tensors into the parameters, after checking that they are exactly the parameters: no missing,
    /// no unexpected, no mis-shaped tensor.
    /// - Throws: ``LanguageModelError/tensorMismatch(model:missing:unexpected:misshapen:)`` naming each, and then
    ///   nothing is copied.
    public func load(_ tensors: [StoredTensor], model: String) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let missing = names.filter { byName[$0] == nil }
        let unexpected = tensors.map(\.name).filter { entry($0) == nil }.sorted()
        let misshapen = entries.compactMap { entry -> String? in
            guard let stored = byName[entry.name], stored.shape != entry.shape else { return nil }
            return "\(entry.name) is \(stored.shape), expected \(entry.shape)"
        }
        guard missing.isEmpty, unexpected.isEmpty, misshapen.isEmpty else {
            throw LanguageModelError.tensorMismatch(model: model, missing: missing, unexpected: unexpected,
                                                    misshapen: misshapen)
        }
        for entry in entries {
            let destination = value(entry.name)!.buffer
            byName[entry.name]!.values.withUnsafeBufferPointer { source in
                _ = destination.update(fromContentsOf: source)
            }
        }
    }
}

extension Store {
    /// Saves a language model's parameters under `name`, with hyperparameters from which
    /// ``loadLanguageModel(named:vocabulary:)`` rebuilds it.
    /// - Parameters:
    ///   - vocabulary: the stored vocabulary the model was trained with; its fingerprint is recorded.
    ///   - training: notes on how it was trained, kept in the hyperparameters.
    ///   - replace: overwrite a model of the same name.
    /// - Returns: the model's id.
    /// - Throws: ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``, ``StoreError``.
    @discardableResult
    public func saveLanguageModel(_ model: LanguageModel, name: String, vocabulary: String,
                                  training: [String: String]? = nil, replace: Bool = false) throws -> Int64 {
        let stored = try self.vocabulary(named: vocabulary)
        guard stored.count == model.configuration.vocabulary else {
            throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: model.configuration.vocabulary,
                                                            vocabularySize: stored.count)
        }
        let hyperparameters = LanguageModelHyperparameters(model.configuration, training: training)
        return try saveModel(name: name, kind: LanguageModelHyperparameters.kind(of: model.configuration.kind),
                             hyperparametersJSON: try hyperparameters.jsonString(), vocabulary: vocabulary,
                             tensors: model.parameters.storedTensors, replace: replace)
    }

    /// Rebuilds a stored language model and its vocabulary.
    ///
    /// The vocabulary is the stored one the model names, or `vocabulary` when given; either way its fingerprint must
    /// be the one recorded when the model was saved.
    /// - Returns: the model in evaluation mode, and its vocabulary.
    /// - Throws: ``StoreError/notFound(kind:name:)``; ``LanguageModelError`` for hyperparameters that do not describe
    ///   a language model, tensors that do not fit them, or another vocabulary.
    public func loadLanguageModel(named name: String, vocabulary: Vocabulary? = nil)
        throws -> (model: LanguageModel, vocabulary: Vocabulary) {
        let record = try model(named: name)
        guard record.kind != Self.ngramKind else {
            throw LanguageModelError.invalidOption("model '\(name)' is an n-gram model, not a recurrent one: measure it "
                + "with `quill ngram eval`, or mix it into a recurrent model's suggestions with --mix \(name)")
        }
        let hyperparameters: LanguageModelHyperparameters
        do {
            hyperparameters = try JSONDecoder().decode(LanguageModelHyperparameters.self,
                                                       from: Data(record.hyperparametersJSON.utf8))
        } catch {
            throw LanguageModelError.invalidHyperparameters(model: name, reason: "\(error)")
        }
        let configuration = try hyperparameters.configuration(model: name)
        let vocabulary = try vocabulary ?? self.vocabulary(id: record.vocabularyID)
        guard vocabulary.fingerprint == record.vocabularyFingerprint else {
            throw LanguageModelError.vocabularyMismatch(model: name, expected: record.vocabularyFingerprint,
                                                        found: vocabulary.fingerprint)
        }
        guard vocabulary.count == configuration.vocabulary else {
            throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: configuration.vocabulary,
                                                            vocabularySize: vocabulary.count)
        }
        let model: LanguageModel
        do {
            model = try LanguageModel(configuration)
        } catch {
            throw LanguageModelError.invalidHyperparameters(model: name, reason: "\(error)")
        }
        try model.parameters.load(try tensors(ofModel: record.id), model: name)
        model.isTraining = false
        return (model, vocabulary)
    }
}
