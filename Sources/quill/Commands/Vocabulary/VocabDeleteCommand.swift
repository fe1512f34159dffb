import ArgumentParser
import Quill

/// `quill vocab delete`: removes a vocabulary from the store.
struct VocabDeleteCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a vocabulary from the store.",
        discussion: """
            Export it first to keep a copy: it can be imported again with the same fingerprint.

            Example:
              quill vocab export old --output old.txt && quill vocab delete old
            """)
    static var openMode: Store.OpenMode { .readWrite }

    @Argument(help: "The vocabulary's name.")
    var name: String

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        try store.deleteVocabulary(named: name)
        print("deleted vocabulary '\(shown(name))'")
    }
}
