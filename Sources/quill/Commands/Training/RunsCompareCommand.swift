import ArgumentParser
import Foundation
import Quill

/// `quill runs compare`: runs side by side, and optionally a chart of their validation perplexity.
struct RunsCompareCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare training runs: model, kind, parameters, best valid and test perplexity, time, tokens/s.",
        discussion: """
            With no RUN, every run in the store. TEST PPL is the run's last recorded test metric, — when it has \
            none; TRAIN TIME is the run's wall-clock time (training and validation, across resumes); TOK/S the mean \
            training speed over its epochs. With --format jsonl each line is one run, every key present (null when \
            missing).

            --plot writes an SVG chart of validation perplexity against training time, one line per run (a log \
            scale when the perplexities span more than 4×); runs without validation metrics are listed in its \
            legend, not drawn. Open it in a browser.

            Examples:
              quill runs compare
              quill runs compare 1 3 --plot runs.svg
              quill runs compare --format jsonl
            """)

    @Argument(help: ArgumentHelp("Runs to compare, by number as `quill runs list` shows them (3 or #3); none: all.",
                                 valueName: "run"))
    var runs: [RunNumber] = []

    @Option(help: "text: a table; jsonl: one JSON object per run.")
    var format: ReportFormat = .text

    @Option(help: ArgumentHelp("Also write an SVG chart of validation perplexity against training time to this file.",
                               valueName: "file"))
    var plot: String?

    @Flag(help: "Replace the --plot file if it exists (without it, an existing file is an error).")
    var force = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if plot == "-" { throw ValidationError("--plot needs a file name (the table goes to standard output)") }
    }

    func run(store: Store) throws {
        let histories = try store.runHistories(runs.map(\.id))
        if let plot { try checkOutputFile(plot, option: "--plot", force: force) }
        let rows = histories.map(\.comparison)
        switch format {
        case .text:
            if rows.isEmpty {
                note("no runs in \(self.store.resolvedPath)")
            } else {
                print(table(Self.tableRows(rows), rightAligned: [0, 4, 5, 6, 7, 8]))
            }
        case .jsonl:
            for row in rows { print(try jsonLine(row)) }
        }
        if let plot {
            let chart = RunComparisonChart(runs: histories)
            let out = try OutputBuffer(path: plot)
            try out.write(chart.svg())
            try out.flush()
            let runs = "\(histories.count) run" + (histories.count == 1 ? "" : "s")
            note("wrote \(plot): \(chart.drawnRunCount) of \(runs) drawn")
        }
    }

    /// The header and one row per run; a missing figure is —.
    static func tableRows(_ rows: [RunComparison]) -> [[String]] {
        func figure(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "—" }
        return [["ID", "NAME", "MODEL", "KIND", "PARAMETERS", "BEST VALID PPL", "TEST PPL", "TRAIN TIME", "TOK/S"]]
            + rows.map { row in
                ["#\(row.id)", shown(row.name), row.model.map(shown) ?? "—", row.kind.map(shown) ?? "—",
                 row.parameters.map(String.init) ?? "—", figure(row.bestValidPerplexity, "%.2f"),
                 figure(row.testPerplexity, "%.2f"), row.trainingSeconds.map(duration) ?? "—",
                 figure(row.tokensPerSecond, "%.0f")]
            }
    }

    /// `42.1 s`, `12.5 min`, `3.2 h`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7200 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }
}
