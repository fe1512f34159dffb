import Foundation

/// Errors of the language-model workflows: saving, training and sampling a ``LanguageModel`` in a store (loading one
/// throws ``StoredModelError`` and ``ParameterLoadError``; a training run that cannot start or go on throws
/// ``TrainingRunError``).
public enum LanguageModelError: Error, Equatable, CustomStringConvertible {
    /// A checkpoint records another vocabulary than the run's (a stored model's vocabulary is checked by
    /// ``Store/checkedModel(named:family:vocabulary:)``, which throws ``StoredModelError``).
    case vocabularyMismatch(model: String, expected: String, found: String)
    /// The model's output size differs from its vocabulary's size.
    case vocabularySizeMismatch(model: String, modelSize: Int, vocabularySize: Int)
    /// A training option out of range.
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .vocabularyMismatch(model, expected, found):
            return "model '\(model)' was trained with the vocabulary of fingerprint \(expected.prefix(12)), but the "
                + "vocabulary given has fingerprint \(found.prefix(12)); token ids would not mean the same tokens — "
                + "use the vocabulary the model was trained with"
        case let .vocabularySizeMismatch(model, modelSize, vocabularySize):
            return "model '\(model)' predicts \(modelSize) tokens but its vocabulary has \(vocabularySize) entries"
        case let .invalidOption(message):
            return message
        }
    }
}
