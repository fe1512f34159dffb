import ArgumentParser
import Foundation
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
        version: QuillVersion.current,
        subcommands: [TokenizeCommand.self, VocabCommand.self, TrainCommand.self, EvalCommand.self,
                      EvalAutocompleteCommand.self, GenerateCommand.self, PredictCommand.self, CompleteCommand.self,
                      NGramCommand.self, ModelsCommand.self, RunsCommand.self, StoreCommand.self,
                      TranslationCommand.self, TranslateCommand.self, AutoencoderCommand.self, EmbedCommand.self,
                      AnomalyCommand.self, SearchCommand.self, ServeCommand.self])

    /// Every error, from argument parsing or from a failing run, is printed as `quill: error: <message>`.
    /// Runtime errors (`TextError`, `StoreError`, `QuillError`) are thrown as they are: ArgumentParser prints their
    /// `description` behind this prefix and exits with code 1; `ValidationError`s exit with 64 and the usage.
    static var _errorPrefix: String { "quill: error: " }

    /// Parses and runs the subcommand as ArgumentParser does, appending the CLI's hint to a known library error
    /// (``ErrorHints``).
    static func main() {
        var command: (any ParsableCommand)?
        do {
            if let invalid = invalidArgument() { throw invalid }
            command = try parseAsRoot()
            try command!.run()
        } catch {
            let error = ErrorHints.withHint(error, in: command)
            guard let group = Job.group else { exit(withError: error) }
            // In an MPI job: every rank says what stopped it, and a rank's error of its own ends the job.
            let code = exitCode(for: error).rawValue
            if !(error is ExitCode) {
                FileHandle.standardError.write(Data(((group.rank == 0 ? "" : "rank \(group.rank): ")
                    + fullMessage(for: error) + "\n").utf8))
            }
            Job.exitAfter(error, agreed: Job.everyRankStopped, code: code)
        }
    }

    /// An error naming the first argument that is not UTF-8 (its option and the byte offset), or nil. Swift reads
    /// such an argument with U+FFFD in place of the bad bytes, so without this check a `--prompt` of Latin-1 text
    /// would be continued silently rather than refused as every file of text is.
    static func invalidArgument() -> CLIError? {
        let argv = CommandLine.unsafeArgv
        for i in 1..<Int(CommandLine.argc) {
            guard let argument = argv[i] else { continue }
            let bytes = UnsafeRawBufferPointer(start: argument, count: strlen(argument))
            guard var offset = firstInvalidUTF8Offset(bytes) else { continue }
            let previous = String(decoding: UnsafeRawBufferPointer(start: argv[i - 1], count: strlen(argv[i - 1]!)),
                                  as: UTF8.self)
            let name: String
            if bytes.starts(with: "--".utf8), let equals = bytes.firstIndex(of: UInt8(ascii: "=")), equals < offset {
                name = "the value of " + String(decoding: bytes[..<equals], as: UTF8.self)  // --prompt=…
                offset -= equals + 1
            } else {
                name = i > 1 && previous.hasPrefix("-") ? "the value of \(previous)" : "argument \(i)"
            }
            return CLIError("\(name) is not valid UTF-8 at byte \(offset); pass UTF-8 text (convert it, e.g. with "
                + "`iconv -f LATIN1 -t UTF-8`)")
        }
        return nil
    }
}
