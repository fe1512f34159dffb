import Foundation

/// The families of models a store holds, each recognised by its record's ``ModelRecord/kind``.
///
/// A new kind of model adds a case here, and ``Store/checkedModel(named:family:vocabulary:)`` checks it as it checks
/// the others.
public enum ModelFamily: String, Sendable, CaseIterable, CustomStringConvertible {
    /// ``LanguageModel``: kinds `lstm-lm`, `gru-lm`, `rnnTanh-lm` (``LanguageModelHyperparameters/kind(of:)``).
    case recurrentLanguageModel
    /// ``KneserNeyModel``: kind `kn-ngram` (``Store/ngramKind``).
    case ngram
    /// ``EncoderDecoder`` between a source and a target vocabulary: kind `seq2seq` (``Store/translationKind``).
    case translation
    /// ``GatedConvolutionalLanguageModel``: kind `gcnn-lm` (``ConvolutionalModelHyperparameters/kind``).
    case convolutionalLanguageModel

    /// The family of a stored kind; nil for a kind this build does not know.
    public init?(kind: String) {
        if kind == Store.ngramKind {
            self = .ngram
        } else if kind == Store.translationKind {
            self = .translation
        } else if kind == ConvolutionalModelHyperparameters.kind {
            self = .convolutionalLanguageModel
        } else if CellKind.allCases.contains(where: { LanguageModelHyperparameters.kind(of: $0) == kind }) {
            self = .recurrentLanguageModel
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .recurrentLanguageModel: return "a recurrent language model"
        case .ngram: return "an n-gram model"
        case .translation: return "a translation model"
        case .convolutionalLanguageModel: return "a gated convolutional language model"
        }
    }
}

/// Why a stored model cannot be used as asked: the errors of the one check of a model's kind and vocabulary, and of
/// a record that does not describe a model of its family.
public enum StoredModelError: Error, Equatable, CustomStringConvertible {
    /// The model is not of the family asked for; `found` is nil for a kind this build does not know.
    case wrongFamily(model: String, kind: String, found: ModelFamily?, expected: ModelFamily)
    /// The vocabulary offered is not the one the model was trained with: token ids would not mean the same tokens.
    /// `modelVocabulary` is the name of the model's stored vocabulary; `given` the name of a stored vocabulary with
    /// the offered fingerprint, if there is one.
    case vocabularyMismatch(model: String, modelVocabulary: String, expected: String, given: String?, found: String)
    /// The stored hyperparameters or tensors do not describe a model of the family that this build can rebuild.
    case invalidRecord(model: String, family: ModelFamily, reason: String)

    public var description: String {
        switch self {
        case let .wrongFamily(model, kind, found, expected):
            return "model '\(model)' is \(found?.description ?? "of a kind this build does not know") (kind \(kind)), "
                + "not \(expected)"
        case let .vocabularyMismatch(model, modelVocabulary, expected, given, found):
            let offered = given.map { "'\($0)' (fingerprint \(found.prefix(12)))" } ?? "of fingerprint \(found.prefix(12))"
            return "model '\(model)' uses vocabulary '\(modelVocabulary)' (fingerprint \(expected.prefix(12))), but the "
                + "vocabulary given is \(offered); token ids would not mean the same tokens — use models and "
                + "vocabularies that share one vocabulary"
        case let .invalidRecord(model, family, reason):
            return "model '\(model)': its stored record does not describe \(family) this build can rebuild: \(reason)"
        }
    }
}

extension ModelRecord {
    /// The hyperparameters JSON decoded as `T`.
    /// - Throws: ``StoredModelError/invalidRecord(model:family:reason:)``.
    func decodeHyperparameters<T: Decodable>(family: ModelFamily) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(hyperparametersJSON.utf8))
        } catch {
            throw StoredModelError.invalidRecord(model: name, family: family, reason: "\(error)")
        }
    }
}

extension Store {
    /// The one check before a stored model is used: that it is of `family`, and that `vocabulary` (when given) is
    /// the one it was trained with, by fingerprint. Every kind of model is loaded through it.
    /// - Returns: the model's record and its vocabulary: `vocabulary` when given, else the stored one it names.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``StoredModelError/wrongFamily(model:kind:found:expected:)``,
    ///   ``StoredModelError/vocabularyMismatch(model:modelVocabulary:expected:given:found:)``.
    public func checkedModel(named name: String, family: ModelFamily, vocabulary: Vocabulary? = nil) throws
        -> (record: ModelRecord, vocabulary: Vocabulary) {
        let record = try model(named: name)
        let found = ModelFamily(kind: record.kind)
        guard found == family else {
            throw StoredModelError.wrongFamily(model: name, kind: record.kind, found: found, expected: family)
        }
        let vocabulary = try vocabulary ?? self.vocabulary(id: record.vocabularyID)
        guard vocabulary.fingerprint == record.vocabularyFingerprint else {
            let given = try vocabularies().first { $0.fingerprint == vocabulary.fingerprint }?.name
            throw StoredModelError.vocabularyMismatch(model: name, modelVocabulary: record.vocabularyName,
                                                      expected: record.vocabularyFingerprint, given: given,
                                                      found: vocabulary.fingerprint)
        }
        return (record, vocabulary)
    }
}
