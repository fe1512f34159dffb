import ArgumentParser
import Quill

/// `quill store init`: creates an empty store, or brings an existing one up to date.
struct StoreInitCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty store, or apply missing migrations to an existing one.",
        discussion: """
            Commands that add to the store (vocab build, vocab import) create it as needed; the others expect it \
            to exist. A file that is not a Quill store is refused and left untouched.

            Example:
              quill store init --store runs/quill.sqlite
            """)
    static var openMode: Store.OpenMode { .create }

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        print("store \(store.path): schema version \(try store.schemaVersion())")
    }
}
