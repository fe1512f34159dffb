import ArgumentParser

/// `quill vocab`: the group of vocabulary commands.
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Build, list, show, export, import and delete vocabularies in the store.",
        discussion: """
            A vocabulary maps tokens to ids: the specials <unk> <bos> <eos> <pad> (ids 0–3), then the tokens of a \
            corpus by count, most frequent first. It records the tokenizer settings it was built with, and its \
            fingerprint (SHA-256 of settings and tokens) tells vocabularies apart.

            Example:
              quill vocab build --corpus train.txt --name ptb-word --min-count 2
              quill vocab show ptb-word --limit 10
            """,
        subcommands: [VocabBuildCommand.self, VocabListCommand.self, VocabShowCommand.self, VocabExportCommand.self,
                      VocabImportCommand.self, VocabDeleteCommand.self])
}
