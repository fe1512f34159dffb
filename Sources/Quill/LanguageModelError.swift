import Foundation

/// Errors of the language-model workflows: saving, training and sampling a ``LanguageModel`` in a store (loading one
/// throws ``StoredModelError`` and ``ParameterLoadError``).
public enum LanguageModelError: Error, Equatable, CustomStringConvertible {
    /// A checkpoint's optimizer state does not fit the model (the parameters themselves are checked by
    /// ``ParameterSet/load(shapes:source:key:allowUnexpected:values:)``, which throws ``ParameterLoadError``).
    case tensorMismatch(model: String, missing: [String], unexpected: [String], misshapen: [String])
    /// A checkpoint records another vocabulary than the run's (a stored model's vocabulary is checked by
    /// ``Store/checkedModel(named:family:vocabulary:)``, which throws ``StoredModelError``).
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
