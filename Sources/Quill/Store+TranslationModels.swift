import Foundation

/// The shape of a stored encoder-decoder, as its hyperparameters JSON records it.
public struct EncoderDecoderHyperparameters: StoredHyperparameters, Equatable, Sendable {
    /// Format of this record.
    public var format = 1
    public var sourceVocabulary: Int
    public var targetVocabulary: Int
    public var embedding: Int
    public var hidden: Int
    public var layers: Int
    /// Whether the decoder attends (absent in a record: it does).
    public var attention: Bool?
    /// Free-form notes (how it was trained); not needed to rebuild the model.
    public var training: [String: String]?

    public init(_ configuration: EncoderDecoder.Configuration, training: [String: String]? = nil) {
        sourceVocabulary = configuration.sourceVocabulary
        targetVocabulary = configuration.targetVocabulary
        embedding = configuration.embedding
        hidden = configuration.hidden
        layers = configuration.layers
        attention = configuration.attention
        self.training = training
    }

    public var configuration: EncoderDecoder.Configuration {
        .init(sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary, embedding: embedding,
              hidden: hidden, layers: layers, attention: attention ?? true)
    }
}

/// A stored translation model with its two vocabularies, ready to translate.
public struct TranslationModel {
    public let name: String
    public let model: EncoderDecoder
    public let source: Vocabulary
    public let target: Vocabulary
    /// The training notes recorded with the model.
    public let training: [String: String]
}

extension Store {
    /// The store's `kind` of an ``EncoderDecoder`` translating between two vocabularies.
    public static let translationKind = "seq2seq"

    /// Saves a translation model under `name`, recording its source vocabulary (`vocabulary_id`) and target
    /// vocabulary (`target_vocabulary_id`), both by name; the same name twice is a joint vocabulary.
    /// - Returns: the model's id.
    /// - Throws: ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``, ``StoreError``.
    @discardableResult
    public func saveTranslationModel(_ model: EncoderDecoder, name: String, sourceVocabulary: String,
                                     targetVocabulary: String, training: [String: String]? = nil,
                                     replace: Bool = false) throws -> Int64 {
        let c = model.configuration
        for (vocabulary, size) in [(sourceVocabulary, c.sourceVocabulary), (targetVocabulary, c.targetVocabulary)] {
            let stored = try self.vocabulary(named: vocabulary)
            guard stored.count == size else {
                throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: size,
                                                                vocabularySize: stored.count)
            }
        }
        let hyperparameters = EncoderDecoderHyperparameters(c, training: training)
        return try saveModel(name: name, kind: Self.translationKind, hyperparametersJSON: try hyperparameters.jsonString(),
                             vocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                             tensors: model.parameters.storedTensors, replace: replace)
    }

    /// Rebuilds a stored translation model and its vocabularies, checked by ``checkedModel(named:family:vocabulary:)``.
    /// - Returns: the model in evaluation mode, with its vocabularies.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``StoredModelError`` for a model of another family or a record
    ///   that does not describe an encoder-decoder; ``ParameterLoadError`` for tensors that do not fit.
    public func loadTranslationModel(named name: String) throws -> TranslationModel {
        let (record, source) = try checkedModel(named: name, family: .translation)
        let hyperparameters: EncoderDecoderHyperparameters = try record.decodeHyperparameters(family: .translation)
        guard let targetID = record.targetVocabularyID else {
            throw StoredModelError.invalidRecord(model: name, family: .translation, reason: "it has no target vocabulary")
        }
        let target = try vocabulary(id: targetID)
        // The target side gets the check `checkedModel` gives the source: ids must mean the tokens they meant.
        if let expected = record.targetVocabularyFingerprint, expected != target.fingerprint {
            throw StoredModelError.vocabularyMismatch(model: name, modelVocabulary: record.targetVocabularyName ?? "",
                                                      expected: expected, given: nil, found: target.fingerprint)
        }
        let c = hyperparameters.configuration
        guard source.count == c.sourceVocabulary, target.count == c.targetVocabulary else {
            throw StoredModelError.invalidRecord(
                model: name, family: .translation, reason: "its vocabularies have \(source.count) and "
                    + "\(target.count) entries, the model \(c.sourceVocabulary) and \(c.targetVocabulary)")
        }
        let model: EncoderDecoder
        do { model = try EncoderDecoder(c) } catch {
            throw StoredModelError.invalidRecord(model: name, family: .translation, reason: "\(error)")
        }
        try model.parameters.load(try tensors(ofModel: record.id), model: name)
        model.isTraining = false
        return TranslationModel(name: name, model: model, source: source, target: target,
                                training: hyperparameters.training ?? [:])
    }
}
