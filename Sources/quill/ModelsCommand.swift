import ArgumentParser

/// `quill models`: the group of commands about stored models.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Inspect the models in the store.",
        discussion: """
            Example:
              quill models list
            """,
        subcommands: [ModelsListCommand.self])
}
