import ArgumentParser

/// `quill translation`: the group of commands about translation.
struct TranslationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translation",
        abstract: "Translation: score a system's output with BLEU, chrF and chrF++ exactly as sacreBLEU does.",
        discussion: """
            Examples:
              quill translation score --reference newstest.de output.de
              my-translator < test.en | quill translation score --reference test.de
              quill translation score --reference test.de --tokenize intl --lowercase output.de
            """,
        subcommands: [TranslationScoreCommand.self])
}
