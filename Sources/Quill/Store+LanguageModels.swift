import Foundation

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
    public func saveLanguageModel(_ model: any StreamLanguageModel, name: String, vocabulary: String,
                                  training: [String: String]? = nil, replace: Bool = false) throws -> Int64 {
        let stored = try self.vocabulary(named: vocabulary)
        guard stored.count == model.vocabularySize else {
            throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: model.vocabularySize,
                                                            vocabularySize: stored.count)
        }
        let kind: String, json: String
        switch model {
        case let model as LanguageModel:
            kind = LanguageModelHyperparameters.kind(of: model.configuration.kind)
            json = try LanguageModelHyperparameters(model.configuration, training: training).jsonString()
        case let model as GatedConvolutionalLanguageModel:
            kind = ConvolutionalModelHyperparameters.kind
            json = try ConvolutionalModelHyperparameters(model.configuration, training: training).jsonString()
        default:
            preconditionFailure("no stored form for \(type(of: model))")
        }
        return try saveModel(name: name, kind: kind, hyperparametersJSON: json, vocabulary: vocabulary,
                             tensors: model.parameters.storedTensors, replace: replace)
    }

    /// Rebuilds a stored language model and its vocabulary.
    ///
    /// The vocabulary is the stored one the model names, or `vocabulary` when given; either way its fingerprint must
    /// be the one recorded when the model was saved (``checkedModel(named:family:vocabulary:)`` checks both the kind
    /// and the vocabulary).
    /// - Returns: the model in evaluation mode, and its vocabulary.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``StoredModelError`` for a model of another family, a record
    ///   that does not describe a language model, or another vocabulary; ``ParameterLoadError`` for tensors that do
    ///   not fit the model; ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``.
    public func loadLanguageModel(named name: String, vocabulary: Vocabulary? = nil)
        throws -> (model: LanguageModel, vocabulary: Vocabulary) {
        let (record, vocabulary) = try checkedModel(named: name, family: .recurrentLanguageModel,
                                                    vocabulary: vocabulary)
        let hyperparameters: LanguageModelHyperparameters = try record.decodeHyperparameters(family: .recurrentLanguageModel)
        let configuration = try hyperparameters.configuration(model: name)
        guard vocabulary.count == configuration.vocabulary else {
            throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: configuration.vocabulary,
                                                            vocabularySize: vocabulary.count)
        }
        let model = try LanguageModel(configuration, model: name)
        try model.parameters.load(try tensors(ofModel: record.id), model: name)
        model.isTraining = false
        return (model, vocabulary)
    }
}

extension Store {
    /// Rebuilds a stored gated convolutional language model and its vocabulary, checked as
    /// ``loadLanguageModel(named:vocabulary:)`` checks a recurrent one.
    /// - Returns: the model in evaluation mode, and its vocabulary.
    public func loadConvolutionalLanguageModel(named name: String, vocabulary: Vocabulary? = nil)
        throws -> (model: GatedConvolutionalLanguageModel, vocabulary: Vocabulary) {
        let family = ModelFamily.convolutionalLanguageModel
        let (record, vocabulary) = try checkedModel(named: name, family: family, vocabulary: vocabulary)
        let hyperparameters: ConvolutionalModelHyperparameters = try record.decodeHyperparameters(family: family)
        let configuration = hyperparameters.configuration
        guard vocabulary.count == configuration.vocabulary else {
            throw LanguageModelError.vocabularySizeMismatch(model: name, modelSize: configuration.vocabulary,
                                                            vocabularySize: vocabulary.count)
        }
        let model: GatedConvolutionalLanguageModel
        do {
            model = try GatedConvolutionalLanguageModel(configuration)
        } catch {
            throw StoredModelError.invalidRecord(model: name, family: family, reason: "\(error)")
        }
        try model.parameters.load(try tensors(ofModel: record.id), model: name)
        model.isTraining = false
        return (model, vocabulary)
    }

    /// Rebuilds a stored language model of either kind, recurrent or convolutional (what evaluation takes).
    public func loadStreamLanguageModel(named name: String, vocabulary: Vocabulary? = nil)
        throws -> (model: any StreamLanguageModel, vocabulary: Vocabulary) {
        if ModelFamily(kind: try model(named: name).kind) == .convolutionalLanguageModel {
            let (model, vocabulary) = try loadConvolutionalLanguageModel(named: name, vocabulary: vocabulary)
            return (model, vocabulary)
        }
        let (model, vocabulary) = try loadLanguageModel(named: name, vocabulary: vocabulary)
        return (model, vocabulary)
    }
}

extension LanguageModel {
    /// A model of a stored `configuration`, for the model named `model`.
    /// - Throws: ``StoredModelError/invalidRecord(model:family:reason:)`` for one that cannot be built.
    convenience init(_ configuration: Configuration, model: String) throws {
        do {
            try self.init(configuration)
        } catch {
            throw StoredModelError.invalidRecord(model: model, family: .recurrentLanguageModel, reason: "\(error)")
        }
    }
}
