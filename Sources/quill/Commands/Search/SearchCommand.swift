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
            it stopped, exactly, and counts the time already spent against the budget. With --jobs N, N trials \
            train at once, each in a process of its own, with the same results as one at a time.

            The search space is a JSON object, every key optional (defaults in brackets): cells [lstm, gru, gcnn], \
            ngramOrders [3, 5], layers [1, 2], hidden [128, 256], widths [3, 4], dropout [0, 0.25, 0.5], \
            tie [true], schedule plateau, learningRate {"min": 0.001, "max": 0.01} (log-uniform), optimizers \
            [adam], bptt [20, 35], batch [20], trials 9, reduction 3, minEpochs 1, maxEpochs 9, seed 1. See \
            docs/search.md.

            Examples:
              quill search --corpus ptb.train.txt --valid ptb.valid.txt --budget 60 --name ptb-best --jobs 2
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

    @Option(help: "Use this stored vocabulary instead of building one from the corpus.",
            completion: StoreNameCompletion.vocabularies)
    var vocabulary: String?

    @Flag(help: "Continue the search of this name whose trials are in the store.")
    var resume = false

    @Flag(help: "Start the search of this name again (its old runs stay as history).")
    var replace = false

    @Option(parsing: .number, help: ArgumentHelp("Trials trained at once, each in its own process with its share "
        + "of the threads (QUILL_THREADS, else the cores).", valueName: "n"))
    var jobs = 1

    @Option(help: "text: a table of the trials; jsonl: one JSON object per trial, then the result.")
    var format: TableFormat = .text

    /// The work of one process that `--jobs` starts: train this trial, then exit.
    @OptionGroup(visibility: .private)
    var worker: WorkerOptions

    @OptionGroup
    var store: StoreOptions

    enum TableFormat: String, ExpressibleByArgument, CaseIterable { case text, jsonl }

    func validate() throws {
        try validateName(name)
        try NumberRange.positive(budget, "--budget")
        if resume && replace { throw ValidationError("give --resume or --replace, not both") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs))") }
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
        if let trial = worker.workerTrial { return try runWorker(search, trial: trial, store: store) }
        if jobs > 1 { search.processes = trialProcesses() }
        #if canImport(QuillMPI)
        // Under mpirun: one trial per rank at a time (SearchRanks).
        let ranks = SearchRanks()
        if let ranks {
            if Job.isFollower { return try ranks.follow(search, store: store) }
            search.processes = ranks.trialProcesses(local: trialProcesses(jobs: ranks.world.size))
        }
        defer {
            if let ranks {
                ranks.end()
                Job.everyRankStopped = true  // the others are ending normally: no abort, whatever rank 0's error
            }
        }
        #endif
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
        } catch SearchError.interrupted(let name) {
            FileHandle.standardError.write(Data(("quill: search '\(name)' stopped, its trials checkpointed; "
                + "continue with `\(resumeCommand(0))`\n").utf8))
            throw StopSignals.exitCode(for: StopSignals.requested ?? SIGINT)
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

/// The options of a process that `quill search --jobs` starts for one trial (hidden from `--help`).
struct WorkerOptions: ParsableArguments {
    @Option(help: .private) var workerTrial: String?
    @Option(help: .private) var workerEpochs: Int?
    @Option(help: .private) var workerRun: Int64?
    @Option(help: .private) var workerDeadline: Double?
}

extension SearchCommand {
    /// `--jobs N`: each trial of a rung trains in a `quill search` process of its own (these options plus the
    /// worker's), with its share of the threads (1/N, or more when fewer trials are left); its standard error goes
    /// to a log shown when it fails.
    func trialProcesses(jobs: Int? = nil) -> TrialProcesses {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let environment = ProcessInfo.processInfo.environment
        let threads = Int(environment["QUILL_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        var arguments = ["search", "--corpus", corpus, "--valid", valid, "--budget", String(budget), "--name", name]
        if let space { arguments += ["--space", space] }
        if let vocabulary { arguments += ["--vocabulary", vocabulary] }
        if let path = store.path { arguments += ["--store", path] }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("quill-search-\(getpid())")
        return TrialProcesses(jobs: jobs ?? self.jobs) { [arguments] request in
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            var worker = arguments + ["--worker-trial", request.trial, "--worker-epochs", String(request.epochs),
                                      "--worker-deadline", String(request.deadline.timeIntervalSince1970)]
            if let run = request.run { worker += ["--worker-run", String(run)] }
            return try TrialChildProcess(executable: executable, arguments: worker, trial: request.trial,
                                         threads: max(1, threads / request.parallel), log: logs.appendingPathComponent(
                                             request.trial + ".log"))
        }
    }

    /// One trial in this process, for a parent `quill search --jobs`. The parent passes a stop on as SIGTERM, once;
    /// SIGINT is ignored, so a Ctrl-C that reached this process too (when it shares the terminal's process group)
    /// cannot count as a second signal that quits without a checkpoint. The deadline, or the parent gone, stops the
    /// trial too.
    func runWorker(_ search: HyperparameterSearch, trial: String, store: Store) throws {
        guard let epochs = worker.workerEpochs, let deadline = worker.workerDeadline else {
            throw ValidationError("--worker-trial needs --worker-epochs and --worker-deadline")
        }
        let parent = getppid()
        try train(epochs: epochs) { progress, _, shouldStop in
            signal(SIGINT, SIG_IGN)
            try search.train(trial: trial, to: epochs, continuing: worker.workerRun, in: store, progress: progress,
                             shouldStop: {
                shouldStop() || Date().timeIntervalSince1970 >= deadline || getppid() != parent
            })
        }
    }
}

/// A `quill search` worker process (see ``SearchCommand/trialProcesses()``).
final class TrialChildProcess: TrialProcess {
    private let process = Process()
    private let trial: String
    private let log: URL

    init(executable: String, arguments: [String], trial: String, threads: Int, log: URL) throws {
        self.trial = trial
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Without the MPI job's variables: a trial started by rank 0 of `mpirun … quill search` is a process alone.
        process.environment = ProcessInfo.processInfo.environment
            .filter { key, _ in !["OMPI_", "PMIX_", "OPAL_"].contains { key.hasPrefix($0) } }
            .merging(["QUILL_THREADS": String(threads)]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = output
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func stop() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }

    /// Success, or a stop (the deadline or a signal: 130, 143); anything else is the trial's failure, told by the
    /// last lines of its log.
    func finish() throws {
        process.waitUntilExit()
        let status = process.terminationStatus
        if process.terminationReason == .exit, [0, 128 + SIGINT, 128 + SIGTERM].contains(status) {
            try? FileManager.default.removeItem(at: log)  // the directory goes with its last log
            if (try? FileManager.default.contentsOfDirectory(atPath: log.deletingLastPathComponent().path))?
                .isEmpty == true { try? FileManager.default.removeItem(at: log.deletingLastPathComponent()) }
            return
        }
        let said = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
            .split(separator: "\n").suffix(3).joined(separator: " / ")
        throw SearchError.trialFailed(trial: trial, detail: (process.terminationReason == .exit
            ? "exit status \(status)" : "killed by signal \(status)") + (said.isEmpty ? "" : ": \(said)")
            + " (log: \(log.path))")
    }
}
