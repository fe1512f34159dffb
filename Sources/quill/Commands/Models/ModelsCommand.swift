import ArgumentParser

/// `quill models`: the group of commands about stored models.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Inspect, delete, export and import the models in the store.",
        discussion: """
            Examples:
              quill models list
              quill models show tiny
              quill models export tiny --safetensors tiny.safetensors
              quill models import --safetensors tiny.safetensors --name tiny-copy --vocabulary default
              quill models delete tiny-copy
            """,
        subcommands: [ModelsListCommand.self, ModelsShowCommand.self, ModelsDeleteCommand.self,
                      ModelsExportCommand.self, ModelsImportCommand.self])
}
