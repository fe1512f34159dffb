import ArgumentParser

/// `quill translation`: the group of commands about translation.
struct TranslationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translation",
        abstract: "Translation: train a model, evaluate it, draw its attention, and score any system as sacreBLEU does.",
        discussion: """
            Translating itself is `quill translate`.

            Examples:
              quill translation train --source train.de --target train.en --valid-source val.de \\
                --valid-target val.en --name de-en --preset multi30k
              quill translation eval --model de-en --source test.de --reference test.en --beam 5
              quill translation attention --model de-en "Ein Hund rennt." --output attention.svg
              quill translation score --reference newstest.de output.de
              my-translator < test.en | quill translation score --reference test.de
              quill translation score --reference test.de --tokenize intl --lowercase output.de
            """,
        subcommands: [TranslationTrainCommand.self, TranslationEvalCommand.self, TranslationAttentionCommand.self,
                      TranslationScoreCommand.self])
}
