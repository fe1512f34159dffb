import ArgumentParser
import Foundation
import Quill

/// What the commands that train a model share: the progress bar and epoch lines on standard error, Ctrl-C and
/// SIGTERM (a checkpoint, then the stop), and the hints for the errors of a run.
protocol TrainingRunCommand {
    /// The command that trains (and resumes) this family's runs, e.g. `quill train`.
    static var resumePath: String { get }
    var store: StoreOptions { get }
    /// How to use the stored vocabulary `name` instead of building another.
    func useVocabularyHint(_ name: String) -> String
    /// The command that continues `run` (`quill train --resume RUN` by default).
    func resumeCommand(_ run: Int64) -> String
}

extension TrainingRunCommand {
    typealias Progress = (TrainingProgress) -> Void
    typealias EpochEnd = (EpochReport) throws -> Void

    /// Runs `train` with a progress bar, a summary line per epoch and the stop signals installed (from the start:
    /// a stop while the vocabulary is built or the text encoded ends before the run is created). An interrupted
    /// run exits with the signal's code after saying how to resume; any other run error gets its hint.
    func train<Result>(epochs: Int, _ train: (@escaping Progress, @escaping EpochEnd, @escaping () -> Bool) throws
                       -> Result) throws -> Result {
        StopSignals.install()
        let bar = ProgressBar(label: "training")
        defer { bar.finish() }  // erased on errors too, so the message starts clean
        var announced = Job.isFollower, windowsDone = false  // in an MPI job, rank 0 alone reports
        do {
            return try train({ progress in
                windowsDone = true
                if !Job.isFollower { bar.update(progress) }
            }, { report in
                bar.finish()
                if !Job.isFollower {
                    FileHandle.standardError.write(Data((summary(of: report, epochs: epochs) + "\n").utf8))
                }
            }, {
                guard StopSignals.requested != nil else { return false }
                if !announced {
                    announced = true
                    bar.finish()
                    FileHandle.standardError.write(Data(("quill: stopping" + (windowsDone ? ": writing a checkpoint"
                        : "") + " (press Ctrl-C again to quit at once)\n").utf8))
                }
                return true
            })
        } catch let error as TrainingRunError {
            bar.finish()
            switch error {
            case .interrupted, .stoppedBeforeStart, .diverged, .otherRankFailed: Job.everyRankStopped = true
            default: break
            }
            if Job.isFollower, case .interrupted = error { throw StopSignals.exitCode(for: StopSignals.requested ?? SIGINT) }
            switch error {
            case .interrupted, .stoppedBeforeStart: break
            default: throw CLIError(message(for: error))
            }
            FileHandle.standardError.write(Data("quill: \(message(for: error))\n".utf8))
            throw StopSignals.exitCode(for: StopSignals.requested ?? SIGINT)
        }
    }

    /// Opens the store, creating it for a new run only: resuming a run of a store that does not exist is an error,
    /// not an empty new store.
    func openStore(resuming resume: Int64?) throws -> Store {
        if resume != nil, !FileManager.default.fileExists(atPath: store.resolvedPath) {
            throw CLIError("\(store.resolvedPath): no such store, so no run to resume; pass the store the run was "
                + "trained in with --store (or QUILL_STORE)")
        }
        return try Job.openStore(store, resume == nil ? .create : .readWrite)
    }

    /// `quill train --resume RUN`, with the `--store` this command was given.
    func resumeCommand(_ run: Int64) -> String {
        "\(Self.resumePath) --resume \(run)" + (store.path.map { " --store " + shellQuoted($0) } ?? "")
    }

    func shellQuoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The library's error followed by what to type (`<message>; <hint>`, as ``ErrorHints``), with the `--store`
    /// this command was given where the hint is a command to run again.
    func message(for error: TrainingRunError) -> String {
        hint(for: error).map { "\(error); \($0)" } ?? error.description
    }

    func hint(for error: TrainingRunError) -> String? {
        switch error {
        case let .diverged(run, _, _, checkpoint):
            return (checkpoint == nil ? "start again with a lower --lr"
                : "continue with `\(resumeCommand(run)) --lr <lower rate>`") + " (or clip the gradient harder with --clip)"
        case let .interrupted(run, _):
            return "continue with `\(resumeCommand(run))`"
        case let .failed(run, _):
            return "once that is fixed, continue with `\(resumeCommand(run))`"
        case let .optionsDiffer(_, _, resumable):
            return "only " + resumable.map { "--" + Self.optionName($0) }.joined(separator: ", ")
                + " may change when resuming"
        case .nameInUse:
            return "train under another --name"
        case let .vocabularyLevel(name, _, _):
            return "build a vocabulary at that level with `quill vocab build`, or leave out --level to use '\(name)'"
        case let .vocabularyDiffers(name, _):
            return useVocabularyHint(name) + ", or pass --replace"
        case .tooLarge:
            return "lower --hidden, --layers, --embedding, --bptt or --batch"
        case let .modelTaken(_, run):
            return "rename or delete that model and `\(resumeCommand(run))`, or train under another --name"
        case let .busy(run, _):
            return "wait for it to end, or stop it (Ctrl-C in its terminal, or kill) and then `\(resumeCommand(run))`"
        case .finished, .notResumable, .stoppedBeforeStart, .otherRankFailed:
            return nil
        }
    }

    /// The command-line spelling of a configuration key (`learningRate` → `lr`, `timeBudget` → `time-budget`).
    static func optionName(_ key: String) -> String {
        if key == "learningRate" { return "lr" }
        return key.reduce(into: "") { name, c in
            if c.isUppercase { name += "-" + c.lowercased() } else { name.append(c) }
        }
    }

    /// `epoch 2/6: lr 0.003, train loss 4.123, perplexity 61.8, valid perplexity 70.2 (best), 9000 tokens/s, 12.0 s`.
    func summary(of report: EpochReport, epochs: Int) -> String {
        var line = "epoch \(report.epoch)/\(epochs): lr " + String(format: "%g", report.learningRate)
            + ", train loss " + String(format: "%.3f", report.trainLoss)
            + ", perplexity " + String(format: "%.1f", report.trainPerplexity)
        if let validPerplexity = report.validPerplexity {
            line += ", valid perplexity " + String(format: "%.1f", validPerplexity) + (report.isBest ? " (best)" : "")
        }
        return line + String(format: ", %.0f tokens/s, %.1f s", report.tokensPerSecond, report.seconds)
    }
}
