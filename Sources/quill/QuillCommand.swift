import ArgumentParser
import Quill

/// The `quill` command: the root of the command tree; each subcommand lives in its own file.
@main
struct QuillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quill",
        abstract: "Quill: model text as sequences — tokenize text, build vocabularies, keep them in a store.",
        discussion: """
            Vocabularies (and later models) live in one SQLite file, the store: --store PATH, else the \
            QUILL_STORE environment variable, else quill.sqlite in the working directory.

            Examples:
              echo "Don't panic, café!" | quill tokenize
              quill vocab build --corpus train.txt --name ptb-word --min-count 2
              quill vocab list
              quill tokenize --ids --vocabulary ptb-word valid.txt
              quill train --corpus train.txt --valid valid.txt --vocabulary ptb-word --name tiny
              quill eval --model tiny --text test.txt
              quill runs list
              quill translation score --reference test.de output.de
            """,
        subcommands: [TokenizeCommand.self, VocabCommand.self, TrainCommand.self, EvalCommand.self,
                      EvalAutocompleteCommand.self, GenerateCommand.self, PredictCommand.self, CompleteCommand.self,
                      NGramCommand.self, ModelsCommand.self, RunsCommand.self, StoreCommand.self,
                      TranslationCommand.self, TranslateCommand.self, AutoencoderCommand.self, EmbedCommand.self,
                      AnomalyCommand.self])

    /// Every error, from argument parsing or from a failing run, is printed as `quill: error: <message>`.
    /// Runtime errors (`TextError`, `StoreError`, `QuillError`) are thrown as they are: ArgumentParser prints their
    /// `description` behind this prefix and exits with code 1; `ValidationError`s exit with 64 and the usage.
    static var _errorPrefix: String { "quill: error: " }

    /// Parses and runs the subcommand as ArgumentParser does, appending the CLI's hint to a known library error
    /// (``ErrorHints``).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: ErrorHints.withHint(error))
        }
    }
}
