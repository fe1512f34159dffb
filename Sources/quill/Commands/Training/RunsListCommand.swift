import ArgumentParser
import Foundation
import Quill

/// `quill runs list`: the training runs in the store.
struct RunsListCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the training runs: number, name, status, start, epochs done, best validation perplexity, "
            + "model.",
        discussion: """
            MODEL is '-' for a run whose model was not saved (failed or interrupted) or has been deleted.

            Examples:
              quill runs list
              quill runs list --format jsonl
            """)

    @Option(help: "text: a table; jsonl: one JSON object per run.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let summaries = try store.runs().map { try RunSummary($0, store: store) }
        switch format {
        case .text:
            if summaries.isEmpty { note("no runs in \(self.store.resolvedPath)"); return }
            let rows = [["ID", "NAME", "STATUS", "STARTED", "EPOCHS", "BEST VALID PPL", "MODEL"]] + summaries.map {
                ["#\($0.run.id)", shown($0.run.name), $0.run.status.rawValue, displayTime($0.run.startedAt),
                 String($0.epochsDone), formatted($0.bestValid?.perplexity, "%.2f"), $0.modelName.map(shown) ?? "-"]
            }
            print(table(rows, rightAligned: [0, 4, 5]))
        case .jsonl:
            for summary in summaries { print(try jsonLine(try summary.jsonRecord())) }
        }
    }
}
