import ArgumentParser
import Foundation
import Quill

/// `quill search`: successive halving over models and hyperparameters under a time budget; the best is saved.
struct SearchCommand: StoreBackedCommand, TrainingRunCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search models and hyperparameters on validation perplexity within a time budget.",
        discussion: """
            Draws --space's neural trials (cell, layers, sizes, dropout, learning rate, optimizer, bptt, batch), \
            trains each for minEpochs, keeps the best 1/η by validation perplexity, trains those η times as many \
            epochs (their runs continued), and so on up to maxEpochs: successive halving. Kneser-Ney n-gram models \
            of the space's orders are compared on the same validation text. The best model is saved as --name.

            Every trial is a run in the store (NAME.trial-i, with its metrics; `quill runs compare` shows them), \
            n-gram models are NAME.kn<order>, and the vocabulary is built once as NAME. Ctrl-C (or the budget) \
            checkpoints the trial in training; `quill search` with the same options and --resume continues where \
            it stopped, exactly, and counts the time already spent against the budget.

            The search space is a JSON object, every key optional (defaults in brackets): cells [lstm, gru, gcnn], \
            ngramOrders [3, 5], layers [1, 2], hidden [128, 256], widths [3, 4], dropout [0, 0.25, 0.5], \
            learningRate {"min": 0.001, "max": 0.01} (log-uniform), optimizers [adam], bptt [20, 35], batch [20], \
            trials 9, reduction 3, minEpochs 1, maxEpochs 9, seed 1. See docs/search.md.

            Examples:
              quill search --corpus ptb.train.txt --valid ptb.valid.txt --budget 60 --name ptb-best
              quill search --corpus train.txt --valid valid.txt --space space.json --budget 10 --name best --resume
            """)

    static let resumePath = "quill search"
    static var openMode: Store.OpenMode { .create }

    @Option(help: ArgumentHelp("The training corpus, a UTF-8 text file.", valueName: "file"))
    var corpus: String

    @Option(help: ArgumentHelp("The validation text the trials are ranked on.", valueName: "file"))
    var valid: String

    @Option(help: ArgumentHelp("The search space, a JSON file (default: the space above).", valueName: "file"))
    var space: String?

    @Option(parsing: .number, help: ArgumentHelp("Wall-clock minutes for the whole search.", valueName: "minutes"))
    var budget: Double

    @Option(help: "The name the best model is saved under (and the prefix of the trials).")
    var name: String

    @Option(help: "Use this stored vocabulary instead of building one from the corpus.")
    var vocabulary: String?

    @Flag(help: "Continue the search of this name whose trials are in the store.")
    var resume = false

    @Flag(help: "Start the search of this name again (its old runs stay as history).")
    var replace = false

    @Option(help: "text: a table of the trials; jsonl: one JSON object per trial, then the result.")
    var format: TableFormat = .text

    @OptionGroup
    var store: StoreOptions

    enum TableFormat: String, ExpressibleByArgument, CaseIterable { case text, jsonl }

    func validate() throws {
        try validateName(name)
        try NumberRange.positive(budget, "--budget")
        if resume && replace { throw ValidationError("give --resume or --replace, not both") }
    }

    func useVocabularyHint(_ name: String) -> String { "pass --vocabulary \(name)" }

    /// A search continues as a whole: the same command with --resume.
    func resumeCommand(_ run: Int64) -> String {
        let arguments = Array(CommandLine.arguments.dropFirst()).filter { $0 != "--resume" && $0 != "--replace" }
        return (["quill"] + arguments + ["--resume"]).map(shellQuoted).joined(separator: " ")
    }

    func run(store: Store) throws {
        var search = HyperparameterSearch(corpus: corpus, valid: valid,
                                          space: try space.map(SearchSpace.read) ?? SearchSpace(),
                                          budgetMinutes: budget, name: name)
        search.vocabulary = vocabulary
        search.resume = resume
        search.replace = replace
        let result: SearchResult
        do {
            result = try train(epochs: 0) { progress, _, shouldStop in
                try search.run(in: store, events: { event in
                    let line: String
                    switch event {
                    case let .trialStarted(trial, rung, epochs):
                        line = "rung \(rung + 1): \(trial.model) (\(trial.family) \(trial.settings)) to \(epochs) "
                            + "epoch\(epochs == 1 ? "" : "s")"
                    case let .trialEnded(trial):
                        line = "  \(trial.model): valid perplexity "
                            + (trial.validPerplexity.map { String(format: "%.2f", $0) } ?? "-")
                            + String(format: " after %d epoch%@, %.0f s", trial.epochs, trial.epochs == 1 ? "" : "s",
                                     trial.seconds)
                    case let .rungEnded(rung, kept):
                        line = "rung \(rung + 1) done: \(kept.joined(separator: ", ")) continue"
                    }
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }, progress: progress, shouldStop: shouldStop)
            }
        } catch let error as SearchError {
            throw CLIError(error.description.replacingOccurrences(
                of: "resume it with the same settings, or start again with replace",
                with: "continue it with --resume (same options), or start again with --replace"))
        }
        switch format {
        case .text:
            var rows = [["MODEL", "FAMILY", "EPOCHS", "VALID PPL", "SECONDS", "SETTINGS"]]
            for trial in result.trials.sorted(by: { ($0.validPerplexity ?? .infinity) < ($1.validPerplexity ?? .infinity) }) {
                rows.append([trial.model, trial.family, trial.family == "ngram" ? "-" : "\(trial.epochs)",
                             trial.validPerplexity.map { String(format: "%.2f", $0) } ?? "-",
                             String(format: "%.0f", trial.seconds), trial.settings])
            }
            print(table(rows))
            if let best = result.best {
                print("best: \(best.model) (\(best.family)), valid perplexity "
                      + String(format: "%.2f", best.validPerplexity ?? .nan) + ", saved as '\(name)'"
                      + (result.budgetExhausted ? "; the budget ran out before the last rung" : ""))
            } else {
                print("no trial finished an epoch within the budget; nothing saved")
            }
        case .jsonl:
            for trial in result.trials { print(try jsonLine(trial)) }
            print(try jsonLine(result))
        }
    }
}
