import ArgumentParser

/// `quill runs`: the group of commands about training runs.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Inspect the training runs recorded in the store.",
        discussion: """
            Every `quill train` records a run: its options, status, metrics per epoch and checkpoints. Runs are \
            numbered (#1, #2, …); a run keeps its history when its model is deleted.

            Examples:
              quill runs list
              quill runs show 3
              quill runs compare --plot runs.svg
              quill runs plot 3 --output run3.svg
            """,
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsCompareCommand.self, RunsPlotCommand.self])
}
