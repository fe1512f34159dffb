import ArgumentParser
import Quill

/// `quill vocab import`: a vocabulary text file into the store.
struct VocabImportCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read a vocabulary text file (as written by `quill vocab export`) into the store.",
        discussion: """
            The name defaults to the file's `# name:` header. A `# fingerprint:` header is checked against the \
            tokens, so an edited file is refused until that line is removed. Creates the store if there is none.

            Examples:
              quill vocab import vocab/ptb-word.txt
              quill vocab import vocab/ptb-word.txt --name ptb --replace
            """)
    static var openMode: Store.OpenMode { .create }

    @Argument(help: ArgumentHelp("A vocabulary file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(help: "The name to save it under. (default: the file's `# name:` header)")
    var name: String?

    @Flag(help: "Replace a vocabulary of the same name (without it, an existing name is an error).")
    var replace = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        try validateName(name)
    }

    func run(store: Store) throws {
        let (name, vocabulary) = try store.importVocabulary(file: file, name: name, replace: replace)
        print("imported vocabulary '\(shown(name))': \(vocabulary.count) entries, "
            + "fingerprint \(vocabulary.fingerprint.prefix(12))")
    }
}
