import ArgumentParser

/// `quill store`: the group of commands about the store file itself.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Create a store, inspect it (schema version, migrations, SQLite and ICU versions, contents) "
            + "or check it for damage.",
        discussion: """
            The store is one SQLite file (WAL mode) holding vocabularies, models, runs and checkpoints. It is \
            --store PATH, else $QUILL_STORE, else quill.sqlite in the working directory.

            Example:
              quill store init --store runs/quill.sqlite && quill store info --store runs/quill.sqlite
            """,
        subcommands: [StoreInitCommand.self, StoreInfoCommand.self, StoreCheckCommand.self])
}
