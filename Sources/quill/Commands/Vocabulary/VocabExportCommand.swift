import ArgumentParser
import Quill

/// `quill vocab export`: a stored vocabulary as a text file.
struct VocabExportCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a vocabulary as a text file (the format of vocab/*.txt), to import elsewhere.",
        discussion: """
            The file starts with `# key: value` header lines (name, tokenizer settings, size, fingerprint), then \
            one line per token: id, count and the escaped token, separated by tabs. `quill vocab import` reads it \
            back, checking the fingerprint.

            Examples:
              quill vocab export ptb-word --output vocab/ptb-word.txt
              quill vocab export ptb-word | head
            """)

    @Argument(help: "The vocabulary's name.")
    var name: String

    @Option(name: [.short, .long], help: ArgumentHelp("Where to write: a file, or - for standard output.",
                                                      valueName: "file"))
    var output = "-"

    @Flag(help: "Replace the --output file if it exists (without it, an existing file is an error).")
    var force = false

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let text = try store.exportVocabulary(named: name)  // before opening the output: a bad name leaves it alone
        try checkOutputFile(output, option: "--output", force: force)
        let out = try OutputBuffer(path: output)
        try out.write(text)
        try out.flush()
        if output != "-" { print("exported vocabulary '\(shown(name))' to \(output)") }
    }
}
