import ArgumentParser
import Foundation
import Quill

extension RunCurvesChart.XAxis: ExpressibleByArgument {}

/// `quill runs plot`: one run's training curves as an SVG chart.
struct RunsPlotCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's training curves, train and valid perplexity by epoch, step or time, as SVG.",
        discussion: """
            By epoch each split shows its epoch's summary; by step or time also the rows logged at checkpoints \
            inside an epoch (the epoch's mean loss so far). Open the file in a browser.

            Examples:
              quill runs plot 3 --output run3.svg
              quill runs plot '#3' --x-axis time --output run3-time.svg --force
            """)

    @Argument(help: ArgumentHelp("The run's number, as `quill runs list` shows it (3 or #3).", valueName: "run"))
    var run: RunNumber

    @Option(name: [.short, .long], help: ArgumentHelp("Where to write the SVG: a file, or - for standard output.",
                                                      valueName: "file"))
    var output = "-"

    @Option(help: "What the x axis counts: epoch, step or time (wall-clock training time).")
    var xAxis: RunCurvesChart.XAxis = .epoch

    @Flag(help: "Replace the --output file if it exists (without it, an existing file is an error).")
    var force = false

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let history = try store.runHistory(id: run.id)  // before opening the output: a bad number leaves it alone
        try checkOutputFile(output, option: "--output", force: force)
        let out = try OutputBuffer(path: output)
        try out.write(RunCurvesChart(run: history, xAxis: xAxis).svg())
        try out.flush()
        if output != "-" { note("wrote \(output): the training curves of run #\(history.id) \(shown(history.name))") }
    }
}
