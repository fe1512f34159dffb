import Foundation

/// Why a training run could not start, resume or go on. The messages name no command-line options: a front end adds
/// its own hints (the CLI's `quill train` does).
public enum TrainingRunError: Error, Equatable, CustomStringConvertible {
    /// The run finished; there is nothing to resume.
    case finished(run: Int64)
    /// The run cannot be resumed by this build (e.g. not a language-model training).
    case notResumable(run: Int64, reason: String)
    /// A resume asked for options that differ from the run's, other than `resumable` ones.
    case optionsDiffer(run: Int64, changes: [OptionChange], resumable: [String])
    /// Another live process is training the run.
    case busy(run: Int64, owner: RunOwner)
    /// Another live process is training a model of this name.
    case nameInUse(name: String, run: Int64, owner: RunOwner)
    /// A model of the run's name was saved by someone else while the run trained; it is not replaced.
    case modelTaken(name: String, run: Int64)
    /// The stored vocabulary named is at another token level than asked.
    case vocabularyLevel(name: String, stored: TokenLevel, asked: TokenLevel)
    /// A stored vocabulary of the model's name differs from the one built from the corpus.
    case vocabularyDiffers(name: String, corpus: String)
    /// The configuration needs more memory than the machine has.
    case tooLarge(bytes: Double, available: Double)
    /// The loss or gradient became NaN or infinite (or the perplexity infinite); the run is marked failed, its last
    /// good checkpoint (if any) kept.
    case diverged(run: Int64, epoch: Int, step: Int, checkpoint: CheckpointPlace?)
    /// Training was asked to stop: a checkpoint was written at `place` and the run marked interrupted.
    case interrupted(run: Int64, place: CheckpointPlace)
    /// The run stopped on another error (a full disk, an unreadable file…), described by `reason`; its last
    /// checkpoint is kept, so it resumes once the cause is fixed.
    case failed(run: Int64, reason: String)
    /// Training was asked to stop before its run started (while the vocabulary was built or the text encoded), so
    /// nothing was stored: no run, no vocabulary.
    case stoppedBeforeStart
    /// In a data-parallel job, `ranks` other processes could not start the run (each says why on its own); this one
    /// stops with them, and a run rank 0 had created is marked failed.
    case otherRankFailed(ranks: Int)

    /// An option whose value differs between a run and its resume.
    public struct OptionChange: Equatable, Sendable {
        public var name: String
        public var saved: String?
        public var now: String?
    }

    public var description: String {
        switch self {
        case let .finished(run):
            return "run #\(run) has finished; there is nothing to resume (more epochs than it trained continue it)"
        case let .notResumable(run, reason):
            return "run #\(run) cannot be resumed: \(reason); start a new run"
        case let .optionsDiffer(run, changes, resumable):
            return "run #\(run) was started with other options: "
                + changes.map { "\($0.name) \($0.saved ?? "unset") (now \($0.now ?? "unset"))" }
                .joined(separator: ", ") + "; resume with the run's options (only " + resumable.joined(separator: ", ")
                + " may change)"
        case let .busy(run, owner):
            return "run #\(run) is being trained by \(owner); wait for it to end or stop it first"
        case let .nameInUse(name, run, owner):
            return "run #\(run) (\(owner)) is training a model named '\(name)'; choose another name"
        case let .modelTaken(name, run):
            return "a model named '\(name)' was saved by someone else while run #\(run) trained it; the run stopped "
                + "without replacing it"
        case let .vocabularyLevel(name, stored, asked):
            return "vocabulary '\(name)' is at the \(stored) level, but the \(asked) level was asked for"
        case let .vocabularyDiffers(name, corpus):
            return "a vocabulary named '\(name)' exists and differs from the one built from \(corpus)"
        case let .tooLarge(bytes, available):
            return "this configuration needs about \(Self.format(bytes)) of memory to train, more than the "
                + "\(Self.format(available)) of this machine"
        case let .diverged(run, epoch, step, checkpoint):
            return "the training loss became NaN or infinite (or its perplexity infinite) in epoch \(epoch) at step "
                + "\(step); run #\(run) stopped, "
                + (checkpoint.map { "its last good checkpoint (\($0)) is kept" } ?? "it had no checkpoint yet")
        case let .interrupted(run, place):
            return "training stopped; run #\(run) checkpointed at \(place)"
        case let .failed(run, reason):
            return "\(reason); run #\(run) stopped, its last checkpoint is kept"
        case .stoppedBeforeStart:
            return "training stopped before its run started (while building the vocabulary or encoding the text); "
                + "nothing was stored"
        case let .otherRankFailed(ranks):
            return "\(ranks) other process\(ranks == 1 ? "" : "es") of the job could not start the run (\(ranks == 1 ? "its" : "their") "
                + "own message says why); nothing was trained"
        }
    }

    /// `1.5 GB`, `3.2 TB`, `4.0e+21 bytes` for the absurd.
    public static func format(_ bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB"]
        var value = bytes, unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if value >= 1000 { return String(format: "%.1e bytes", bytes) }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
