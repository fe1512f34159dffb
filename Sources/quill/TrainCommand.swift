import ArgumentParser
import Foundation
import Quill

/// The recurrent cell, as `--cell` spells it.
enum CellOption: String, ExpressibleByArgument, CaseIterable {
    case lstm, gru, rnn

    var kind: CellKind {
        switch self {
        case .lstm: .lstm
        case .gru: .gru
        case .rnn: .rnnTanh
        }
    }
}

extension LanguageModelTraining.Optimizer: ExpressibleByArgument {}

/// `quill train`: trains a language model on a corpus and saves it in the store.
struct TrainCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a recurrent language model on a corpus and save it in the store.",
        discussion: """
            Encodes the corpus with a stored vocabulary (build one first with `quill vocab build`), trains by \
            truncated backpropagation through time (--batch parallel streams, windows of --bptt steps), and after \
            each epoch prints one line on standard error (train loss and perplexity, validation perplexity with \
            --valid, tokens/s, seconds) and writes a checkpoint. The run, its metrics and checkpoints and the \
            final model are recorded in the store; the last line on standard output summarises the run.

            Examples:
              quill vocab build --corpus corpora/default/train.txt --name default
              quill train --corpus corpora/default/train.txt --valid corpora/default/valid.txt \\
                --vocabulary default --name tiny --hidden 128 --epochs 2
              quill generate --model tiny --prompt "The harbour"
            """)

    @Option(help: ArgumentHelp("The training corpus, a UTF-8 text file.", valueName: "file"))
    var corpus: String

    @Option(help: ArgumentHelp("A validation text file: its perplexity is measured after each epoch.",
                               valueName: "file"))
    var valid: String?

    @Option(help: "The stored vocabulary to encode the corpus with.")
    var vocabulary: String

    @Option(help: "The name to save the model under.")
    var name: String

    @Option(help: "The recurrent cell.")
    var cell: CellOption = .lstm

    @Option(help: "Stacked recurrent layers.")
    var layers = 1

    @Option(help: "Hidden (and embedding) size.")
    var hidden = 128

    @Option(help: "BPTT window: steps per window.")
    var bptt = 20

    @Option(help: "Parallel streams per window.")
    var batch = 20

    @Option(help: "Passes over the corpus.")
    var epochs = 1

    @Option(help: "sgd or adam.")
    var optimizer: LanguageModelTraining.Optimizer = .adam

    @Option(help: "Learning rate. (default: 20 for sgd, 0.003 for adam)")
    var lr: Float?

    @Option(help: "Clip the global gradient norm to this; 0 for no clipping.")
    var clip: Float = 5

    @Option(help: "Seed of the parameter initialisation.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Train at most this many windows per epoch (a smoke run).", valueName: "n"))
    var maxWindows: Int?

    @Flag(help: "Replace a model of the same name.")
    var replace = false

    @Option(help: ArgumentHelp("Continue this run (its number, as printed at the end of `quill train`) from its "
        + "latest checkpoint; give the run's options again (--epochs may grow).", valueName: "run"))
    var resume: Int64?

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if name.isEmpty { throw ValidationError("--name must not be empty") }
        for (option, value) in [("--layers", layers), ("--hidden", hidden), ("--bptt", bptt), ("--batch", batch),
                                ("--epochs", epochs)] where value < 1 {
            throw ValidationError("\(option) must be at least 1 (got \(value))")
        }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive (got \(lr))") }
        if clip < 0 { throw ValidationError("--clip must be 0 (no clipping) or positive (got \(clip))") }
        if let maxWindows, maxWindows < 1 { throw ValidationError("--max-windows must be at least 1") }
    }

    func run(store: Store) throws {
        var training = LanguageModelTraining(corpus: corpus, vocabulary: vocabulary, name: name)
        training.valid = valid
        training.cell = cell.kind
        training.layers = layers
        training.hidden = hidden
        training.steps = bptt
        training.batch = batch
        training.epochs = epochs
        training.optimizer = optimizer
        training.learningRate = lr
        training.clip = clip > 0 ? clip : nil
        training.seed = seed
        training.maxWindowsPerEpoch = maxWindows
        training.replace = replace
        training.resume = resume
        let bar = ProgressBar(label: "training")
        defer { bar.finish() }  // erased on errors too, so the message starts clean
        let result = try training.run(in: store, progress: { progress in
            bar.update(progress)
        }, epochEnd: { report in
            bar.finish()
            var line = "epoch \(report.epoch)/\(epochs): train loss " + String(format: "%.3f", report.trainLoss)
                + ", perplexity " + String(format: "%.1f", report.trainPerplexity)
            if let validPerplexity = report.validPerplexity {
                line += ", valid perplexity " + String(format: "%.1f", validPerplexity)
            }
            line += String(format: ", %.0f tokens/s, %.1f s", report.tokensPerSecond, report.seconds)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        })
        guard let last = result.epochs.last else {
            print("model '\(name)': run #\(result.runID) had already trained \(epochs) epoch(s); saved")
            return
        }
        var summary = "model '\(name)': \(cell.rawValue) \(layers)×\(hidden), \(result.parameterCount) parameters; "
            + "\(result.trainTokens) training tokens (" + String(format: "%.2f%%", result.unknownRate * 100)
            + " unknown), \(result.epochs.count) epoch\(result.epochs.count == 1 ? "" : "s"); train perplexity "
            + String(format: "%.1f", last.trainPerplexity)
        if let validPerplexity = last.validPerplexity {
            summary += ", valid " + String(format: "%.1f", validPerplexity)
        }
        summary += "; run #\(result.runID); " + String(format: "%.1f s", result.seconds)
        print(summary)
    }
}
